"""What glibc's allocator keeps of a long-running process's freed memory.

glibc hands each thread that meets contention its own arena (up to 8 per core) and keeps
freed blocks in every arena for reuse. A server's threads each free a query's arrays into
their own arena, so freed memory accumulates per thread. Both calls are no-ops where the C
library is not glibc."""
from __future__ import annotations

import ctypes

M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def limit_arenas(count: int) -> bool:
    """At most `count` arenas from now on (0: glibc's default); call before threads start."""
    libc = _glibc()
    return bool(count > 0 and libc is not None and libc.mallopt(M_ARENA_MAX, count) == 1)


def release_freed_memory() -> None:
    """Return freed heap pages to the system (malloc_trim)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
