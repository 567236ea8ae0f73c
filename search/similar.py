"""Items like a given item, or like a paragraph of a draft: nearest by item vector, with copies
of the text found by character shingles (search/reuse.py), marked and listed first.

Candidates for the text comparison: the items nearest by vector and the best on the text's
rarest words (BM25F), so a copy is found even outside the vector top. "Other units" removes
every item sharing a reporting unit with the source, through the unit columns (one
vectorised pass, not a loop over items).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import reuse
from .keyword import TermTable
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
        results, _check = self._nearest(vector, mask, limit, snap.item(row).text)
        return {"id": item_id, "other_units": other_units, "results": results}

    def by_text(self, text: str, limit: int | None = None) -> dict[str, Any]:
        """Items like a draft. Offsets in the results' passages refer to the text as given."""
        if not (text or "").strip():
            raise QueryError("文本为空")
        limit = self._limit(limit)
        engine = self.engine
        batch = split_items([("", text.strip())], engine.settings.embedding.passage_chars)
        vector = engine.embedder.embed_items(batch).items[0]
        results, check = self._nearest(vector, engine.snapshot.live.copy(), limit, text)
        return {"text": text.strip()[:200], "marked_text": check.marked_draft(), "results": results}

    def _nearest(self, vector: np.ndarray, mask: np.ndarray, limit: int,
                 text: str) -> tuple[list[dict[str, Any]], reuse.DraftCheck]:
        engine = self.engine
        snap = engine.snapshot
        cfg = engine.settings.search
        cos = item_cosines(snap, vector[None, :])[:, 0]
        table = TermTable(snap, engine.settings.relevance.idf_reference_items)
        words = reuse.rare_words((w for w, _s, _e in engine.analyzer.words(text) if w), lambda t: table.hits(t).df)
        keyword = np.zeros(snap.size, dtype=np.float32)
        for word in words:
            hits = table.hits(word)
            keyword[hits.rows] += table.idf(word) * hits.weights
        rows = reuse.candidates(cos, keyword, mask, max(cfg.reuse_candidates, limit))
        check = reuse.DraftCheck(text, rows, lambda r: snap.item(r).text, reuse.ReuseRule.from_settings(cfg))
        by_cosine = rows[np.lexsort((rows, -cos[rows]))]  # the candidates hold the cosine top `limit`
        results = [check.annotate(engine._result(int(r), float(cos[r]), None, None), int(r))
                   for r in check.ordered(by_cosine, limit)]
        return results, check
