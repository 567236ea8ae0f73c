"""The engine: keyword, semantic and hybrid search over one index snapshot.

Everything runs over the snapshot's rows as numpy arrays: filters are a mask applied before
ranking, facets count the whole match set, and only the page being shown is read back from
whoosh (the index of record). The pieces live in their own modules: query syntax
(query.py), keyword and semantic evidence (keyword.py, semantic.py), the evidence model
(relevance.py), the fusion options (fusion.py), filters and facets (filters.py), snippets
(snippets.py), similar items (similar.py).
"""
from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Callable, MutableMapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from . import listing, relevance, semantic, snippets
from .analysis import fingerprint, get_analyzer
from .config import Settings
from .embedding import Embedder
from .filters import Filters, facets
from .fusion import ranked_rows, rrf, weighted
from .item import Item
from .parallel import Splitter
from .keyword import TermTable, part_evidence
from .query import Part, ParsedQuery, QueryError, checked_page, parse_query
from .segment import NO_DATE, Segment, code_date
from .similar import Similar
from .snapshot import Snapshot
from .store import IndexUnavailable, read_manifest
from .suggest import SHIPPED_DICT, Suggester, dictionary_words
from .units import UnitAliases

MODES = ("hybrid", "keyword", "semantic")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def _no_meaning(rows: int) -> relevance.SemanticEvidence:
    """Semantic evidence of a part that carries none (every cosine at the bottom)."""
    empty = np.full(rows, -1.0, dtype=np.float32)
    return relevance.SemanticEvidence(empty, empty, 0.0)
SORTS = ("relevance", "newest", "oldest")
NEVER = np.float32(-1e9)  # log-odds of an item excluded outright (phrase absent, excluded word present)


class SearchEngine:
    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 segment_cache: MutableMapping[str, Segment] | None = None) -> None:
        self.settings = settings
        index_dir = Path(settings.index.path)
        manifest = read_manifest(index_dir)
        if manifest is None:
            raise IndexUnavailable(f"索引 {index_dir} 不存在；请先运行 bulletin index 数据文件夹")
        self.embedder = embedder or Embedder(settings.embedding, settings.base_dir, lean=True)
        if manifest.model != self.embedder.name:
            raise IndexUnavailable(
                f"索引由模型 {manifest.model!r} 生成，而当前配置的是 {self.embedder.name!r}；"
                "请用 bulletin index --rebuild 重建索引"
            )
        analysis = settings.analysis
        if manifest.analysis and manifest.analysis != fingerprint(analysis.user_dict, analysis.stop_words):
            raise IndexUnavailable(
                "索引建立后词典或停用词表（analysis.user_dict / analysis.stop_words）已改变，检索会与索引切分不一致；"
                "请用 bulletin index --rebuild 重建索引"
            )
        self.manifest = manifest
        self.snapshot = Snapshot(index_dir, manifest, segment_cache)
        weakref.finalize(self, self.snapshot.close)  # whoosh's files close when the engine goes
        self.analyzer = get_analyzer(analysis.user_dict, analysis.stop_words)
        self.similar_items = Similar(self)
        self.unit_aliases = UnitAliases(settings.units.aliases)

    # ---------------------------------------------------------------- search
    def search(self, q: str, mode: str | None = None, filters: Filters | None = None,
               limit: int | None = None, offset: int = 0, sort: str = "relevance") -> dict[str, Any]:
        cfg = self.settings.search
        mode = self._mode(mode)
        limit = checked_page(cfg, limit, offset, sort, SORTS)
        filters = replace(filters or Filters(), aliases=self.unit_aliases)  # any spelling of a unit finds it
        parsed = parse_query(q, self.analyzer, cfg.max_query_chars)
        # Ranked by relevance, only the rows up to this page are put in order.
        top = offset + limit if sort == "relevance" else None
        rows, score_of, match = self._rank(parsed, mode, filters.mask(self.snapshot), top)
        rows = self._sorted(rows, score_of, sort)
        page = rows[offset : offset + limit]
        query_vector = self._snippet_vector(parsed, mode)
        return {
            "query": parsed.raw,
            "mode": mode,
            "total": int(np.count_nonzero(match)),
            "offset": offset,
            "limit": limit,
            "results": [self._result(int(r), float(s), parsed, query_vector) for r, s in zip(page, score_of(page))],
            "facets": facets(self.snapshot, match, filters.month[:4] if filters.month else filters.year, self._split()),
        }

    def export(self, q: str, mode: str | None, filters: Filters | None, max_items: int,
               sort: str = "relevance") -> dict[str, Any]:
        """Every result of a search (not one page), capped at max_items, for CSV/Word export."""
        mode = self._mode(mode)
        filters = replace(filters or Filters(), aliases=self.unit_aliases)
        parsed = parse_query(q, self.analyzer, self.settings.search.max_query_chars)
        rows, score_of, _match = self._rank(parsed, mode, filters.mask(self.snapshot))
        rows = self._sorted(rows, score_of, sort)[:max_items]
        query_vector = self._snippet_vector(parsed, mode)
        results = [self._result(int(r), float(s), parsed, query_vector) for r, s in zip(rows, score_of(rows))]
        return {"query": parsed.raw, "mode": mode, "total": int(len(rows)), "results": results,
                "filters": filters.describe()}

    def _split(self) -> Splitter:
        return Splitter.from_settings(self.settings)

    def _mode(self, mode: str | None) -> str:
        mode = mode or self.settings.search.default_mode
        if mode not in MODES:
            raise QueryError(f"未知的检索模式 {mode!r}，可选：{', '.join(MODES)}")
        return mode

    def _sorted(self, rows: np.ndarray, score_of: Callable[[np.ndarray], np.ndarray], sort: str) -> np.ndarray:
        if sort == "relevance" or not len(rows):
            return rows
        dates = self.snapshot.date[rows].astype(np.int64)
        undated = dates == NO_DATE
        key = -dates if sort == "newest" else dates
        return rows[np.lexsort((rows, -score_of(rows), key, undated))]  # undated last

    # --------------------------------------------------------------- ranking
    def _rank(self, parsed: ParsedQuery, mode: str, mask: np.ndarray,
              top: int | None = None) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray], np.ndarray]:
        """(matching rows best first — only the first `top` of them when given —, the scores of
        given rows, the match mask). Scores are computed for the rows asked for only (the shown
        page, or a date-sorted match set), not for every row."""
        snap = self.snapshot
        if parsed.empty or snap.size == 0:
            return np.zeros(0, dtype=np.int64), lambda rows: np.zeros(len(rows), np.float32), np.zeros(snap.size, dtype=bool)
        excluded = self._excluded(parsed)
        if excluded is not None:
            mask = mask & ~excluded
        rel = self.settings.relevance
        threshold = relevance.logit(rel.match_probability)
        fusion = self.settings.search.fusion if mode == "hybrid" else "calibrated"
        evidence = self._evidence(parsed, mode)
        if fusion == "calibrated":
            min_coverage = rel.keyword_min_coverage if mode == "keyword" else 0.0
            odds = self._combine(parsed, evidence, getattr(rel, mode), min_coverage)
            match = mask & (odds >= threshold)
            return ranked_rows(np.flatnonzero(match), odds, top, self._split()), \
                lambda rows: relevance.probability(odds[rows]), match
        kw = self._combine(parsed, evidence, rel.keyword)
        sem = self._combine(parsed, evidence, rel.semantic)
        match = mask & ((kw >= threshold) | (sem >= threshold))
        candidates = np.flatnonzero(match)
        cfg = self.settings.search
        fused = rrf(kw, sem, candidates, cfg.rrf_k, cfg.rrf_depth) if fusion == "rrf" else \
            weighted(kw, sem, candidates, cfg.semantic_ratio)
        return ranked_rows(candidates, fused, top, self._split()), lambda rows: fused[rows].astype(np.float32), match

    def _evidence(self, parsed: ParsedQuery, mode: str) -> list[tuple[Part, relevance.PartEvidence]]:
        """Each part's features over all rows (keyword ones unless semantic mode, semantic ones
        unless keyword mode; the options of hybrid fusion need both).

        Semantic evidence takes two passes (pseudo-relevance feedback, Rocchio): the query
        vectors are moved towards the mean of the best `relevance.feedback_items` items of a
        first pass (those at least `feedback_min_probability` likely), and the plausible
        matches of that pass are scored again. Items described in other words than the
        query's find each other through the best matches; a query nothing matches well gets
        no feedback, so noise is not amplified."""
        snap = self.snapshot
        rel = self.settings.relevance
        parts = parsed.parts
        keyword_side = mode != "semantic"
        semantic_side = mode != "keyword"
        table = TermTable(snap, rel.idf_reference_items)
        split = self._split()
        kws = [part_evidence(p.units, table, split=split) if keyword_side or p.phrase else None for p in parts]
        phrases = {j: self._phrase_mask(p, table) for j, p in enumerate(parts) if p.phrase}
        sem: list[relevance.SemanticEvidence | None] = [None] * len(parts)
        if semantic_side:
            queries = np.stack([self.embedder.embed_query(p.text) for p in parts])
            item_cos = semantic.item_cosines(snap, queries, semantic.TwoStage.from_settings(self.settings), split)
            best = semantic.best_passages(snap, queries, item_cos, rel.passage_candidates, rel.scan_long_items, split)
            # One contiguous array per part: a column of a (rows, parts) array is strided, and
            # every later pass over it ran several times slower (two-part queries).
            sem = [relevance.SemanticEvidence(np.ascontiguousarray(item_cos[:, j]), np.ascontiguousarray(best[:, j]),
                                              float(queries[j] @ snap.background.mean))
                   for j in range(len(parts))]
            for j, part in enumerate(parts):
                if not self._meaningful(part, table):
                    sem[j] = _no_meaning(snap.size)
        evidence = self._features(parts, kws, sem, phrases, keyword_side)
        if not semantic_side or rel.feedback_items <= 0:
            return evidence
        first = self._combine(parsed, evidence, getattr(rel, mode) if mode != "hybrid" or
                              self.settings.search.fusion == "calibrated" else rel.semantic)
        live = snap.live_rows
        if not len(live):
            return evidence
        best_first = ranked_rows(live, first, max(rel.feedback_items, rel.feedback_candidates), split)  # not a sort of every row
        top = best_first[: rel.feedback_items]
        top = top[first[top] >= relevance.logit(rel.feedback_min_probability)]
        if not len(top):  # no confident first matches: feedback would only amplify noise
            return evidence
        centroid = snap.vectors_of(np.sort(top)).mean(axis=0)
        moved = queries + rel.feedback_weight * centroid
        moved /= np.linalg.norm(moved, axis=1, keepdims=True)
        plausible = first >= relevance.logit(rel.match_probability) - rel.feedback_margin
        plausible[best_first[: rel.feedback_candidates]] = True
        rows = np.flatnonzero(plausible & snap.live)
        if len(rows) > rel.feedback_max_rows:  # the best of them by the first pass
            rows = np.sort(best_first[: rel.feedback_max_rows] if rel.feedback_max_rows <= len(best_first)
                           else ranked_rows(rows, first, rel.feedback_max_rows))
        items, passages = semantic.rescore(snap, moved, rows, rel.passage_candidates, split)
        for j in range(len(parts)):
            if not self._meaningful(parts[j], table):
                continue
            # Rows not scored again keep their first pass. The rows scored again are measured
            # against the moved query's background cosine; shifted onto the query's own, both
            # kinds stand on the same scale, and the first pass's arrays are updated in place
            # (no pass over every row).
            own = float(queries[j] @ snap.background.mean)
            shift = own - float(moved[j] @ snap.background.mean)
            item_j, best_j = sem[j].item, sem[j].passage
            item_j[rows] = items[:, j] + shift
            best_j[rows] = passages[:, j] + shift
            sem[j] = relevance.SemanticEvidence(item_j, best_j, own)
        return self._features(parts, kws, sem, phrases, keyword_side)

    @staticmethod
    def _meaningful(part: Part, table: TermTable) -> bool:
        """Whether the model's reading of a part can be trusted: it has Chinese characters, or
        the archive uses one of its words. A string such as xyzzy or 12345678 that no item
        contains gets no semantic matches (e5 places such noise as close to texts as a topic)."""
        return has_cjk(part.text) or any(table.df(t) for unit in part.units for t in unit.terms)

    def _features(self, parts: list[Part], kws: list, sem: list, phrases: dict[int, np.ndarray],
                  keyword_side: bool) -> list[tuple[Part, relevance.PartEvidence]]:
        snap = self.snapshot
        return [(part, relevance.PartEvidence(kws[j] if keyword_side else None, sem[j], snap.generic, snap.live,
                                              phrases.get(j)))
                for j, part in enumerate(parts)]

    def _combine(self, parsed: ParsedQuery, evidence: list[tuple[Part, relevance.PartEvidence]],
                 weights: Any, min_coverage: float = 0.0) -> np.ndarray:
        """Parts of an alternative must all hold (minimum); alternatives widen (maximum). A part
        whose words are less present than min_coverage does not hold at all (keyword mode)."""
        n = self.snapshot.size
        split = self._split()
        by_part = {}
        for part, ev in evidence:
            odds = ev.log_odds(weights, split)
            if ev.phrase is not None:
                odds[~ev.phrase] = NEVER
            if min_coverage > 0 and ev.keyword is not None:
                odds[ev.keyword.coverage < min_coverage] = NEVER
            by_part[id(part)] = odds
        # A part's array is read, never written: an alternative of one part is that array, and a
        # single alternative is the result (no copies, no passes over every row).
        alternatives = []
        for alternative in parsed.alternatives:
            odds = by_part[id(alternative[0])]
            for part in alternative[1:]:
                odds = np.minimum(odds, by_part[id(part)])
            alternatives.append(odds)
        if len(alternatives) <= 1:
            return alternatives[0] if alternatives else np.full(n, NEVER, dtype=np.float32)
        total = np.maximum(alternatives[0], alternatives[1])
        for odds in alternatives[2:]:
            np.maximum(total, odds, out=total)
        return total

    def _phrase_mask(self, part: Part, table: TermTable) -> np.ndarray:
        """Rows containing the phrase as written: rows with all its words, then checked on the
        stored text (up to search.max_phrase_checks rows; beyond, all words present is enough)."""
        rows = self._rows_with_all(part, table)
        candidates = np.flatnonzero(rows)
        if len(candidates) <= self.settings.search.max_phrase_checks:
            for row in candidates:
                seg, k, local = self.snapshot.locate(int(row))
                if part.phrase not in "".join(self.snapshot.records.text(k, local).split()):
                    rows[row] = False
        return rows

    def _rows_with_all(self, part: Part, table: TermTable) -> np.ndarray:
        rows = np.ones(self.snapshot.size, dtype=bool)
        for unit in part.units:
            for term in (unit.parts if unit.kind == "run" else (unit.text,)):
                present = np.zeros(self.snapshot.size, dtype=bool)
                present[table.hits(term).rows] = True
                rows &= present
        return rows

    def _excluded(self, parsed: ParsedQuery) -> np.ndarray | None:
        """Rows holding an excluded part (None: the query excludes nothing)."""
        if not parsed.excluded:
            return None
        out = np.zeros(self.snapshot.size, dtype=bool)
        table = TermTable(self.snapshot, self.settings.relevance.idf_reference_items)
        for part in parsed.excluded:
            out |= self._phrase_mask(part, table) if part.phrase else self._rows_with_all(part, table)
        return out

    # --------------------------------------------------------------- results
    def _snippet_vector(self, parsed: ParsedQuery, mode: str) -> np.ndarray | None:
        if mode == "keyword" or parsed.empty:
            return None
        return self.embedder.embed_query(parsed.parts[0].text if len(parsed.parts) == 1 else parsed.semantic_text)

    def _result(self, row: int, score: float, parsed: ParsedQuery | None, query_vector: np.ndarray | None) -> dict[str, Any]:
        item = self.snapshot.item(row)
        return {
            "id": item.id,
            "title": item.title,
            "text": item.text,
            "snippet": self.snippet_of(row, item, parsed.terms if parsed else set(), query_vector),
            "units": list(item.units),
            "date": item.date,
            "issue": item.issue,
            "series": item.series,
            "kind": item.kind,
            "score": round(score, 6),
        }

    def snippet_of(self, row: int, item: Item, terms: set[str], query_vector: np.ndarray | None) -> str:
        cfg = self.settings.search
        found = snippets.lexical(item.text, terms, cfg.snippet_chars, cfg.snippet_passages)
        if found is not None:
            return found
        if query_vector is not None:
            vectors, spans = self.snapshot.passages_of(row)
            return snippets.by_meaning(item.text, spans, vectors, query_vector, cfg.snippet_chars * cfg.snippet_passages)
        return snippets.leading(item.text, cfg.snippet_chars)

    def snippet(self, text: str, terms: set[str]) -> str:
        """The lexical snippet of any text (HTML-safe)."""
        cfg = self.settings.search
        return snippets.lexical(text, terms, cfg.snippet_chars, cfg.snippet_passages) or snippets.leading(text, cfg.snippet_chars)

    # ----------------------------------------------------------------- items
    def get(self, item_id: str) -> Item | None:
        row = self.snapshot.row_of_id(item_id)
        return None if row is None else self.snapshot.item(row)

    def similar(self, item_id: str, other_units: bool = False, limit: int | None = None,
                labelled_only: bool = False) -> dict[str, Any]:
        return self.similar_items.by_id(item_id, other_units, limit, labelled_only)

    def similar_text(self, text: str, limit: int | None = None) -> dict[str, Any]:
        return self.similar_items.by_text(text, limit)

    def issue_items(self, series: str | None, issue: int, date: str | None) -> list[Item]:
        """One bulletin issue's items in the order they were printed (a whoosh lookup)."""
        snap = self.snapshot
        rows = np.flatnonzero(snap.live & (snap.issue == issue))
        items = [snap.item(int(r)) for r in rows]
        items = [i for i in items if i.series == series and (date is None or i.date == date)]
        return sorted(items, key=lambda i: (i.source.file if i.source else "", i.source.position if i.source else 0))

    def unit_items(self, name: str, limit: int | None = None, offset: int = 0, sort: str = "newest") -> dict[str, Any]:
        """A unit's items by date, no query (search/listing.py); any spelling of the unit."""
        return listing.unit_items(self, name, limit, offset, sort)

    def unit_counts(self) -> dict[str, int]:
        return facets(self.snapshot, self.snapshot.live)["units"]

    def stats(self) -> dict[str, Any]:
        snap = self.snapshot
        dated = snap.date[snap.live & (snap.date != NO_DATE)]
        counts = facets(snap, snap.live)

        return {
            "items": snap.count,
            "kinds": counts["kinds"],
            "units": counts["units"],
            "date_from": code_date(int(dated.min())) if len(dated) else None,
            "date_to": code_date(int(dated.max())) if len(dated) else None,
            "model": self.manifest.model,
            "dim": self.manifest.dim,
            "updated": self.manifest.updated,
            "generation": self.manifest.generation,
            "segments": len(snap.segments),
            "files": self.manifest.files,
        }

    # ---------------------------------------------------------- suggestions
    @functools.cached_property
    def suggester(self) -> Suggester:
        """Built on first use from the titles column and the dictionary (search/suggest.py)."""
        titles, dates = self.snapshot.titles_and_dates()
        return Suggester(titles, dictionary_words(SHIPPED_DICT, self.settings.analysis.user_dict), dates=dates)

    def suggest(self, q: str, limit: int) -> list[dict[str, str]]:
        return self.suggester.suggest(q, limit)

    def close(self) -> None:
        self.snapshot.close()

    @property
    def ids(self) -> list[str]:
        """Ids of the live items (reads every segment's id column: for tools and tests)."""
        return [self.snapshot.item_id(int(r)) for r in np.flatnonzero(self.snapshot.live)]
