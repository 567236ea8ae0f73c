"""Items like a given item, or like a paragraph of a draft: nearest by item vector once the
background every bulletin shares is removed (search/likeness.py), each with a plain label
(很相似 / 相似 / 相关) and the passage the two have most in common; copies of the text found by
character shingles (search/reuse.py) are marked and listed first, their snippet the shared text.

Candidates for the text comparison: the items nearest by vector and the best on the text's
rarest words (BM25F), so a copy is found even outside the vector top. "Other units" removes
every item sharing a reporting unit with the source, through the unit columns (one
vectorised pass, not a loop over items); units are stored under one name each (search/units.py),
so two spellings of one unit do not count as two units.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import reuse, snippets
from .keyword import TermTable
from .likeness import Labels, best_pair, centred_cosines, centred_exact
from .passages import split_items
from .parallel import Splitter
from .query import QueryError
from .semantic import TwoStage

if TYPE_CHECKING:
    from .engine import SearchEngine

# The source of a comparison: its text, its passages' vectors and their spans in that text.
Passages = tuple[str, np.ndarray, np.ndarray]
MIN_SHARED_WORD = 2  # single characters shared by two texts say nothing about what they share


class Similar:
    def __init__(self, engine: "SearchEngine") -> None:
        self.engine = engine

    def _limit(self, limit: int | None) -> int:
        cfg = self.engine.settings.search
        limit = cfg.similar_limit if limit is None else limit
        if limit < 1 or limit > cfg.max_limit:
            raise QueryError(f"limit 应在 1 到 {cfg.max_limit} 之间")
        return limit

    def by_id(self, item_id: str, other_units: bool = False, limit: int | None = None,
              labelled_only: bool = False) -> dict[str, Any]:
        """labelled_only: leave out items below the 相关 threshold (the item page shows only those)."""
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
        source = snap.item(row).text
        results, _check = self._nearest(vector, mask, limit, source, (source, *snap.passages_of(row)))
        if labelled_only:
            results = [r for r in results if r["label"]]
        return {"id": item_id, "other_units": other_units, "results": results}

    def by_text(self, text: str, limit: int | None = None) -> dict[str, Any]:
        """Items like a draft. Offsets in the results' passages refer to the text as given."""
        if not (text or "").strip():
            raise QueryError("文本为空")
        limit = self._limit(limit)
        engine = self.engine
        batch = split_items([("", text.strip())], engine.settings.embedding.passage_chars)
        vectors = engine.embedder.embed_items(batch)
        passages = (text.strip(), vectors.passages[vectors.indptr[0]:vectors.indptr[1]], vectors.spans)
        results, check = self._nearest(vectors.items[0], engine.snapshot.live.copy(), limit, text, passages)
        return {"text": text.strip()[:200], "marked_text": check.marked_draft(), "results": results}

    def _nearest(self, vector: np.ndarray, mask: np.ndarray, limit: int, text: str,
                 source: Passages) -> tuple[list[dict[str, Any]], reuse.DraftCheck]:
        engine = self.engine
        snap = engine.snapshot
        cfg = engine.settings.search
        cos, exact = centred_cosines(snap, vector, TwoStage.from_settings(engine.settings),
                                     Splitter.from_settings(engine.settings))
        table = TermTable(snap, engine.settings.relevance.idf_reference_items)
        words = reuse.rare_words((w for w, _s, _e in engine.analyzer.words(text) if w), table.dfs)
        keyword = np.zeros(snap.size, dtype=np.float32)
        for word in words:
            hits = table.hits(word)
            keyword[hits.rows] += table.idf(word) * hits.weights
        # Two-staged, only the rows scored exactly compete by meaning (`exact`).
        rows = reuse.candidates(cos, keyword, mask, max(cfg.reuse_candidates, limit), exact)
        if exact is not None:  # rows found by their words carry exact scores and labels too
            cos[rows] = centred_exact(snap, vector, rows)
        check = reuse.DraftCheck(text, rows, lambda r: snap.item(r).text, reuse.ReuseRule.from_settings(cfg))
        by_cosine = rows[np.lexsort((rows, -cos[rows]))]  # the candidates hold the cosine top `limit`
        labels = Labels.from_settings(engine.settings.similar)
        results = []
        for r in check.ordered(by_cosine, limit):
            result = engine._result(int(r), float(cos[r]), None, None)
            result["label"] = labels.label(float(cos[r]))
            result["snippet"] = self._shared(int(r), result["text"], source)
            results.append(check.annotate(result, int(r)))  # a marked copy shows the shared text instead
        return results, check

    def _shared(self, row: int, text: str, source: Passages) -> str:
        """The passage of this item closest to one of the source's (HTML-safe), the words the two
        passages have in common marked."""
        engine = self.engine
        source_text, source_vectors, source_spans = source
        vectors, spans = engine.snapshot.passages_of(row)
        if not len(spans) or not len(source_spans):
            return snippets.leading(text, engine.settings.search.snippet_chars)
        i, j = best_pair(source_vectors, vectors, engine.snapshot.background.mean)
        mine = self._words(text[int(spans[j][0]):int(spans[j][1])])
        theirs = self._words(source_text[int(source_spans[i][0]):int(source_spans[i][1])])
        return snippets.passage(text, (int(spans[j][0]), int(spans[j][1])), mine & theirs,
                                engine.settings.search.snippet_chars)

    def _words(self, text: str) -> set[str]:
        """Words worth marking: indexed words of two characters or more (no single 难 or 小)."""
        return {w for w, _s, _e in self.engine.analyzer.words(text) if w and len(w) >= MIN_SHARED_WORD}
