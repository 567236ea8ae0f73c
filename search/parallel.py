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


MIN_SPLIT_ROWS = 1024  # fewer rows are done whole: handing a share to the pool costs ~50 µs


@dataclass(frozen=True)
class Splitter:
    """Passes over rows split into `threads` ranges (one: done whole)."""

    threads: int = 1

    @classmethod
    def for_archive(cls, settings, rows: int) -> "Splitter":  # noqa: ANN001 (search.config.Settings)
        """search.query_threads from search.parallel_min_rows rows on; below, a query is short
        enough that one core serves it and the other stays free for the next request."""
        cfg = settings.search
        return cls(cfg.query_threads if rows >= cfg.parallel_min_rows else 1)

    def spans(self, rows: int, align: Callable[[int], int] | None = None) -> list[tuple[int, int]]:
        """Contiguous (lo, hi) ranges covering range(rows), in order; `align` moves each inner
        bound (down, to where a split leaves the results bit for bit the same)."""
        parts = self.threads if self.threads > 1 and rows >= MIN_SPLIT_ROWS else 1
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

    def over_rows(self, rows: int, work: Callable[[int, int], T], align: Callable[[int], int] | None = None) -> list[T]:
        """work(lo, hi) for each span of range(rows), results in row order."""
        return self.run([lambda lo=lo, hi=hi: work(lo, hi) for lo, hi in self.spans(rows, align)])


SERIAL = Splitter()
