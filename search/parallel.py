"""Both cores for one query in a large archive.

A query's heavy passes (the vector scans, keyword evidence, log-odds) go over every row, and
each row's result depends on that row alone, so they split into row ranges done side by side.
numpy releases the GIL inside its loops, and the passes are memory-bound with room for a second
core: at a million rows, two threads scan the sketches in half the time of one.

Only the thread serving the request hands out work, and it does a share itself; a share the
pool has not started by the time that thread is free is taken back and done there (a cancelled
future). So a pool kept busy by other requests never makes a query wait longer than doing
everything alone would, and pool threads never wait on each other (no deadlock).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """One pool per size for the process (the server's request threads share it)."""
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rows")
        return pool


# The fewest rows a pass is split from, by what a row of it costs: below, handing a share to the
# pool (~50 µs, and the GIL between the threads' Python parts) costs more than the second core
# saves. Measured on the 2-core bench machine, ranking p50, one thread -> two.
VECTOR_ROWS = 20_000  # vector scans and gathers, 384 values a row (100,000 items: semantic 17.7 -> 11.6 ms)
PASS_ROWS = 200_000  # passes over a few arrays of a value per row (log-odds, facets, picking the first rows)
POSTING_ROWS = 500_000  # keyword evidence: every posting list is cut per span (split at 100,000 items
# keyword ranking went 1.62 -> 1.95 ms, at 50,000 0.84 -> 1.33; at a million 29.7 -> 19.5)


@dataclass(frozen=True)
class Splitter:
    """Passes over rows split into `threads` ranges (one: done whole)."""

    threads: int = 1
    threshold_scale: float = 1.0  # multiplies every pass's fewest rows (tests split every pass with 0)

    @classmethod
    def from_settings(cls, settings) -> "Splitter":  # noqa: ANN001 (search.config.Settings)
        return cls(settings.search.query_threads)

    def spans(self, rows: int, min_rows: int, align: Callable[[int], int] | None = None) -> list[tuple[int, int]]:
        """Contiguous (lo, hi) ranges covering range(rows), in order: one from `min_rows` rows
        on per thread; `align` moves each inner bound (down, to where a split leaves the results
        bit for bit the same)."""
        parts = self.threads if self.threads > 1 and rows >= max(min_rows * self.threshold_scale, 2) else 1
        bounds = [rows * k // parts for k in range(parts + 1)]
        if align is not None:
            bounds[1:-1] = [align(b) for b in bounds[1:-1]]
        return [(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if lo < hi] or [(0, rows)]

    def run(self, tasks: Sequence[Callable[[], T]]) -> list[T]:
        """The tasks' results in order: the first done here, the others in the pool unless it
        has not started them when this thread is free."""
        if len(tasks) <= 1 or self.threads <= 1:
            return [task() for task in tasks]
        pool = _pool(self.threads - 1)
        futures: list[Future[T]] = [pool.submit(task) for task in tasks[1:]]
        results = [tasks[0]()]
        for task, future in zip(tasks[1:], futures):
            results.append(task() if future.cancel() else future.result())
        return results

    def over_rows(self, rows: int, min_rows: int, work: Callable[[int, int], T],
                  align: Callable[[int], int] | None = None) -> list[T]:
        """work(lo, hi) for each span of range(rows), results in row order."""
        return self.run([lambda lo=lo, hi=hi: work(lo, hi) for lo, hi in self.spans(rows, min_rows, align)])


SERIAL = Splitter()
