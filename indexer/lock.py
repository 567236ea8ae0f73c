"""One indexer at a time per index folder.

The lock is an advisory lock (fcntl.flock) on index/.indexer.lock: the operating system
drops it when the holder dies, so a crashed indexer never leaves a stale lock behind; the
file itself may stay and means nothing. Windows has no flock: there the lock is skipped.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = ".indexer.lock"
WAIT_NOTICE_SECONDS = 2.0


class IndexBusy(RuntimeError):
    pass


@contextlib.contextmanager
def index_lock(index_dir: Path, timeout: float) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise IndexBusy(f"另一个索引进程正在更新 {index_dir}，等待 {timeout:.0f} 秒后仍未结束") from None
                if not told and time.monotonic() > deadline - timeout + WAIT_NOTICE_SECONDS:
                    print(f"另一个索引进程正在更新 {index_dir}，等待中……", file=sys.stderr)
                    told = True
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)  # closing releases the lock
