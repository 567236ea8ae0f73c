"""The engine as a long-lived service (web server): opened once, reopened when the index changes.

A new index generation becomes visible with one atomic rename of manifest.json; the
service notices the new manifest on the next request and swaps engines, so a search
sees either the old or the new state, never a mix. If the index is missing or
damaged the service keeps the reason for the health endpoint instead of crashing.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from .config import Settings
from .embedding import Embedder, EmbeddingError
from .engine import SearchEngine
from .segment import Segment
from .semantic import limit_blas_threads
from .store import MANIFEST, IndexUnavailable


class ServiceUnavailable(RuntimeError):
    pass


class SearchService:
    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or Embedder(settings.embedding, settings.base_dir, lean=True)
        limit_blas_threads(1)  # one core per request (search/semantic.py)
        self._lock = threading.Lock()
        self._engine: SearchEngine | None = None
        self._segments: dict[str, Segment] = {}  # open segments, reused by the next generation
        self._stamp: tuple[int, int] | None = None
        self.error: str | None = None
        self.refresh()

    def _manifest_stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(Path(self.settings.index.path) / MANIFEST)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_ino)

    def refresh(self) -> None:
        """Open the index again if its manifest changed. One thread loads; the others keep
        answering from the current engine meanwhile instead of queueing behind the load."""
        stamp = self._manifest_stamp()
        if stamp == self._stamp and (self._engine is not None or self.error is not None):
            return
        if not self._lock.acquire(blocking=self._engine is None):
            return
        try:
            if stamp == self._stamp and (self._engine is not None or self.error is not None):
                return
            try:
                engine = SearchEngine(self.settings, embedder=self.embedder, segment_cache=self._segments)
            except (IndexUnavailable, EmbeddingError, OSError, ValueError) as exc:
                self.error, self._stamp = str(exc), stamp
                return  # keep serving the last good engine, if any; health reports the error
            current = {seg.name for seg in engine.snapshot.segments}
            for name in [n for n in self._segments if n not in current]:
                del self._segments[name]  # merged away: its maps close when the last reader lets go
            # The old engine is dropped here; requests still using it keep it alive until they
            # finish, then its whoosh searcher closes (SearchEngine's finaliser).
            self._engine, self.error, self._stamp = engine, None, stamp
        finally:
            self._lock.release()

    @property
    def engine(self) -> SearchEngine:
        self.refresh()
        if self._engine is None:
            raise ServiceUnavailable(self.error or "索引不可用")
        return self._engine

    def warm_up(self) -> None:
        """Load the model now rather than on the first semantic query, in the background: it
        takes longer than opening even a million-item index (imports, weights, a first pass),
        and keyword searches need none of it. A semantic or hybrid search that comes before it
        is ready waits for the load to finish (the embedder loads once, under a lock)."""
        if self._engine is not None:
            threading.Thread(target=self._warm_up, name="warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        try:
            self.embedder.embed_query("预热")
        except Exception:  # noqa: BLE001 - the first semantic query reports the same error to its caller
            pass
