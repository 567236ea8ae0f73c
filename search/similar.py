"""Items like a given item, or like a paragraph of a draft: nearest by item vector.

"Other units" removes every item sharing a reporting unit with the source, through the
unit columns (one vectorised pass, not a loop over items).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .passages import split_items
from .query import QueryError
from .semantic import item_cosines

if TYPE_CHECKING:
    from .engine import SearchEngine


class Similar:
    def __init__(self, engine: "SearchEngine") -> None:
        self.engine = engine

    def _limit(self, limit: int | None) -> int:
        cfg = self.engine.settings.search
        limit = cfg.similar_limit if limit is None else limit
        if limit < 1 or limit > cfg.max_limit:
            raise QueryError(f"limit 应在 1 到 {cfg.max_limit} 之间")
        return limit

    def by_id(self, item_id: str, other_units: bool = False, limit: int | None = None) -> dict[str, Any]:
        snap = self.engine.snapshot
        limit = self._limit(limit)
        row = snap.row_of_id(item_id)
        if row is None:
            raise KeyError(item_id)
        mask = snap.live.copy()
        mask[row] = False
        if other_units:
            a, b = snap.unit_indptr[row], snap.unit_indptr[row + 1]
            mine = snap.unit_codes[a:b]
            if len(mine):
                mask[snap.unit_rows[np.isin(snap.unit_codes, mine)]] = False
        vector = snap.vectors_of(np.array([row]))[0]
        return self._nearest(vector, mask, limit, {"id": item_id, "other_units": other_units})

    def by_text(self, text: str, limit: int | None = None) -> dict[str, Any]:
        text = (text or "").strip()
        if not text:
            raise QueryError("文本为空")
        limit = self._limit(limit)
        engine = self.engine
        batch = split_items([("", text)], engine.settings.embedding.passage_chars)
        vector = engine.embedder.embed_items(batch).items[0]
        return self._nearest(vector, engine.snapshot.live.copy(), limit, {"text": text[:200]})

    def _nearest(self, vector: np.ndarray, mask: np.ndarray, limit: int, about: dict[str, Any]) -> dict[str, Any]:
        engine = self.engine
        cos = item_cosines(engine.snapshot, vector[None, :])[:, 0]
        candidates = np.flatnonzero(mask)
        if len(candidates) > limit:
            candidates = candidates[np.argpartition(-cos[candidates], limit - 1)[:limit]]
        order = candidates[np.lexsort((candidates, -cos[candidates]))]
        results = []
        for row in order:
            result = engine._result(int(row), float(cos[row]), None, None)
            result["near_duplicate"] = bool(cos[row] >= engine.settings.search.near_duplicate)
            results.append(result)
        return {**about, "results": results}
