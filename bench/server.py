"""Start `bulletin serve` on a free loopback port for end-to-end measurements."""
from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(index_dir: Path, config: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    port = free_port()
    bulletin = Path(sys.executable).parent / "bulletin"
    proc = subprocess.Popen([str(bulletin), "--config", str(config), "--index", str(index_dir), "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + STARTUP_SECONDS
        while True:
            try:
                urllib.request.urlopen(base + "/api/health", timeout=2)
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("bulletin serve did not start")
                time.sleep(0.2)
        yield proc, base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
