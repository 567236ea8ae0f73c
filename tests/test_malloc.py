"""search/malloc.py: the server's cap on glibc's arenas holds, counted by glibc itself."""
from __future__ import annotations

import subprocess
import sys

import pytest

from search.config import PROJECT_ROOT

# Six threads allocate; malloc_info lists one <heap> per arena (the main one included).
SCRIPT = """
import ctypes, sys, threading
from search.malloc import limit_arenas
applied = limit_arenas(int(sys.argv[1]))
together = threading.Barrier(6)
def work():
    keep = [bytearray(10_000) for _ in range(100)]  # malloc'd from this thread's arena
    together.wait()  # no thread ends (freeing its arena for the next) before all have allocated
threads = [threading.Thread(target=work) for _ in range(6)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL("libc.so.6")
libc.open_memstream.restype = ctypes.c_void_p
buf, size = ctypes.c_char_p(), ctypes.c_size_t()
stream = libc.open_memstream(ctypes.byref(buf), ctypes.byref(size))
libc.malloc_info(0, ctypes.c_void_p(stream))
libc.fclose(ctypes.c_void_p(stream))
print(applied, buf.value.decode().count("<heap nr="))
"""


@pytest.mark.subprocess
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc")
def test_arena_cap_holds_with_more_threads_than_arenas():
    def arenas(cap: int) -> tuple[str, int]:
        out = subprocess.run([sys.executable, "-c", SCRIPT, str(cap)], cwd=PROJECT_ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
        return out[0], int(out[1])

    assert arenas(2) == ("True", 2)
    applied, default = arenas(0)
    assert applied == "False" and default >= 4  # glibc's default: a new arena for each new thread
