"""Named points in an indexing run where the fault tests kill the process.

With BULLETIN_KILL_AT=<point> in the environment the indexer sends itself SIGKILL on
reaching that point, so tests can prove a crash there leaves the previous index intact.
Without the variable this is one dictionary lookup per point.
"""
from __future__ import annotations

import os
import signal

KILL_ENV = "BULLETIN_KILL_AT"
POINTS = ("parsed", "embedded", "tombstones_written", "records_committed", "segment_written", "merged",
          "manifest_temp_written", "manifest_replaced")


def checkpoint(point: str) -> None:
    wanted = os.environ.get(KILL_ENV)
    if wanted and wanted not in POINTS:  # a test naming a point that does not exist would never kill
        raise ValueError(f"{KILL_ENV}={wanted}: unknown point; known: {', '.join(POINTS)}")
    if wanted == point:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
