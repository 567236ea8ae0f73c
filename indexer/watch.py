"""A watched folder: new, changed and deleted files are indexed within seconds.

watchdog reports file events (inotify on Linux); they are collected, and once the folders
have been quiet for `watch.debounce_seconds` one indexing run takes everything that piled
up — a burst of 500 copied files is one run, not 500. A file is read only when its size and
modification time have stayed the same for `watch.settle_seconds` (a file still being
copied is left for the next round). Each run is an ordinary `build()` under the index lock,
so a watcher killed at any moment leaves the index as crash-safe as `bulletin index` does;
on start it first indexes the folders whole, which also catches what changed while it was
not running (deleted files included).
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from search.config import Settings
from search.embedding import Embedder

from .build import BuildReport, build
from .sources import SUPPORTED_SUFFIXES

# However busy the folders stay, files wait at most this long for their indexing run.
MAX_BATCH_WAIT_SECONDS = 60.0
# How often the loop looks at what has piled up.
TICK_SECONDS = 0.2
# Names that are never bulletins: Office lock files, downloads and copies in progress.
TEMPORARY_PREFIXES = (".", "~$", "~")
TEMPORARY_SUFFIXES = (".part", ".tmp", ".crdownload", ".download", ".swp")


@dataclass
class _Pending:
    changed: dict[Path, tuple[int, int] | None] = field(default_factory=dict)  # path -> (size, mtime) last seen
    gone: set[Path] = field(default_factory=set)
    first: float | None = None
    last: float = 0.0


class FolderWatcher:
    """Watch folders and keep the index in step; `run()` blocks until `stop()`."""

    def __init__(self, folders: Sequence[str | Path], settings: Settings, embedder: Embedder | None = None,
                 on_report: Callable[[BuildReport], None] = lambda report: None,
                 on_error: Callable[[Exception], None] = lambda exc: None) -> None:
        self.folders = [Path(f).resolve() for f in folders]
        missing = [str(f) for f in self.folders if not f.is_dir()]
        if missing:
            raise FileNotFoundError(f"不是文件夹：{'、'.join(missing)}")
        self.settings = settings
        self.embedder = embedder
        self.on_report = on_report
        self.on_error = on_error
        self._pending = _Pending()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.runs = 0  # indexing runs done (the tests count them)
        self.failures = 0  # failed runs in a row: each doubles the wait before the next try
        self._hold_until = 0.0

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        from watchdog.observers import Observer

        observer = Observer()
        handler = _Handler(self)
        for folder in self.folders:
            observer.schedule(handler, str(folder), recursive=True)
        observer.start()  # events from here on are kept; the first run below reads the rest
        try:
            self._index(list(self.folders), forget=list(self.folders))
            while not self._stop.wait(TICK_SECONDS):
                batch = self._take_batch()
                if batch is not None:
                    self._index(*batch)
        finally:
            observer.stop()
            observer.join()

    def note(self, path: Path, gone: bool = False) -> None:
        """Record an event (called from watchdog's thread)."""
        if self._hidden(path) or (not gone and path.is_file() and not _wanted(path)):
            return
        state = None if gone else _state(path)
        now = time.monotonic()
        with self._lock:
            pending = self._pending
            if gone:
                pending.gone.add(path)
                pending.changed.pop(path, None)
            else:
                pending.changed[path] = state
                pending.gone.discard(path)
            pending.first = pending.first or now
            pending.last = now

    def _hidden(self, path: Path) -> bool:
        """Inside a hidden folder of a watched folder (.git, .Trash): never indexed."""
        for folder in self.folders:
            if folder in path.parents:
                return any(part.startswith(".") for part in path.relative_to(folder).parts[:-1])
        return False

    def _take_batch(self) -> tuple[list[Path], list[Path]] | None:
        """The settled files and the deleted ones, once the folders have been quiet long enough."""
        watch = self.settings.watch
        now = time.monotonic()
        if now < self._hold_until:  # backing off after a failed run
            return None
        with self._lock:
            pending = self._pending
            if pending.first is None:
                return None
            quiet = now - pending.last >= watch.debounce_seconds
            overdue = now - pending.first >= MAX_BATCH_WAIT_SECONDS
            if not (quiet or overdue):
                return None
            ready: list[Path] = []
            for path, seen in list(pending.changed.items()):
                state = _state(path)
                if state is None:
                    del pending.changed[path]
                    pending.gone.add(path)
                elif state == seen and time.time() - state[1] / 1e9 >= watch.settle_seconds:
                    ready.append(path)
                    del pending.changed[path]
                else:
                    pending.changed[path] = state  # still being written: look again next round
            gone = sorted(pending.gone)
            pending.gone.clear()
            if pending.changed:
                pending.first, pending.last = now, now
            else:
                pending.first = None
        if not ready and not gone:
            return None
        return ready, gone

    def _index(self, paths: list[Path], forget: list[Path]) -> None:
        existing = [p for p in paths if p.exists()]
        try:
            report = build(existing, self.settings, embedder=self._embedder(), forget=forget)
        except Exception as exc:  # the watcher goes on and tries these files again, later each time
            self.failures += 1
            watch = self.settings.watch
            wait = min(watch.retry_max_seconds, watch.debounce_seconds * 2 ** self.failures)
            self._hold_until = time.monotonic() + wait
            self.on_error(exc)
            for path in existing:
                self.note(path)
            for path in forget:
                if not path.exists():
                    self.note(path, gone=True)
            return
        self.runs += 1
        self.failures = 0
        self.on_report(report)

    def _embedder(self) -> Embedder:
        if self.embedder is None:
            self.embedder = Embedder(self.settings.embedding, self.settings.base_dir)
        return self.embedder


class _Handler:
    """watchdog's callbacks, reduced to 'this path changed' and 'this path is gone'."""

    def __init__(self, watcher: FolderWatcher) -> None:
        self.watcher = watcher

    def dispatch(self, event) -> None:
        kind = event.event_type
        source = Path(os.fsdecode(event.src_path))
        if kind in ("opened", "closed_no_write"):
            return
        if kind == "moved":
            self.watcher.note(source, gone=True)
            self.watcher.note(Path(os.fsdecode(event.dest_path)))
        elif kind == "deleted":
            self.watcher.note(source, gone=True)
        elif not event.is_directory or kind == "created":
            self.watcher.note(source)


def _wanted(path: Path) -> bool:
    name = path.name
    return (path.suffix.lower() in SUPPORTED_SUFFIXES and not name.startswith(TEMPORARY_PREFIXES)
            and not name.lower().endswith(TEMPORARY_SUFFIXES))


def _state(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns
