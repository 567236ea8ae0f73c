"""Keyword, semantic and hybrid search over one index snapshot, with filters and facets.

Everything is computed over the whole corpus as numpy arrays (one row per item):
filters become a mask applied before ranking, facets count the whole match set,
and fusion works on ranks (RRF) or normalised scores, never raw BM25 plus cosine.
"""
from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from . import keyword, reuse
from .analysis import get_analyzer
from .bm25f import BM25FScorer, TermCounts
from .config import Settings
from .embedding import Embedder
from .item import KINDS, Item
from .query import ParsedQuery, QueryError, parse_query
from .store import IndexUnavailable, load_generation, read_manifest

MODES = ("hybrid", "keyword", "semantic")
MIN_MATCH_RATIO = 0.6  # share of an unspaced part's words a keyword match needs


@dataclass
class Filters:
    units: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    kind: str | None = None
    series: str | None = None
    issue: int | None = None


class SearchEngine:
    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        index_dir = Path(settings.index.path)
        manifest = read_manifest(index_dir)
        if manifest is None:
            raise IndexUnavailable(f"索引 {index_dir} 不存在；请先运行 bulletin index 数据文件夹")
        base = settings.source.parent if settings.source else Path.cwd()
        self.embedder = embedder or Embedder(settings.embedding, base)
        if manifest.model != self.embedder.name:
            raise IndexUnavailable(
                f"索引由模型 {manifest.model!r} 生成，而当前配置的是 {self.embedder.name!r}；"
                "请用 bulletin index --rebuild 重建索引"
            )
        self.manifest = manifest
        gen, self.ids, self.vectors, self.files = load_generation(index_dir, manifest)
        self.analyzer = get_analyzer(settings.analysis.user_dict, settings.analysis.stop_words)
        schema = keyword.make_schema(self.analyzer, settings.search.title_boost)
        self.row_of_id = {item_id: n for n, item_id in enumerate(self.ids)}
        self.keyword = keyword.KeywordSearcher(keyword.open_index(gen, schema), self.row_of_id)
        try:
            counts = TermCounts.load(gen)
        except (OSError, ValueError, KeyError) as exc:
            raise IndexUnavailable(f"索引 {gen} 缺少词频矩阵或已损坏（{exc}）；请用 bulletin index --rebuild 重建") from exc
        if counts.rows != len(self.ids):
            raise IndexUnavailable("词频矩阵与条目数不一致；请用 bulletin index --rebuild 重建")
        self.bm25f = BM25FScorer(counts, {"title": settings.search.title_boost, "text": 1.0})
        items: list[Item | None] = [None] * len(self.ids)
        for item in self.keyword.stored_items():
            row = self.row_of_id.get(item.id)
            if row is not None:
                items[row] = item
        if any(i is None for i in items):
            raise IndexUnavailable("索引中的条目与向量不一致；请用 bulletin index --rebuild 重建")
        self.items: list[Item] = items  # type: ignore[assignment]
        self.dates = np.array([i.date or "" for i in self.items])
        self._facet_tables()
        self.flat = ["".join((i.title + i.text).split()) for i in self.items]

    def _facet_tables(self) -> None:
        """Item metadata as arrays, so filters and facets over 100k matches are a few numpy calls."""
        self.unit_names = sorted({u for i in self.items for u in i.units})
        unit_col = {u: n for n, u in enumerate(self.unit_names)}
        indptr, indices = [0], []
        for item in self.items:
            indices += [unit_col[u] for u in dict.fromkeys(item.units)]
            indptr.append(len(indices))
        self.unit_matrix = sparse.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                                             shape=(len(self.items), len(self.unit_names)))
        self.year_names = sorted({i.date[:4] for i in self.items if i.date})
        year_code = {y: n for n, y in enumerate(self.year_names)}
        self.year_codes = np.array([year_code[i.date[:4]] if i.date else -1 for i in self.items], dtype=np.int32)
        self.kind_codes = np.array([KINDS.index(i.kind) for i in self.items], dtype=np.int32)
        self.series_arr = np.array([i.series or "" for i in self.items])
        self.issue_arr = np.array([-1 if i.issue is None else i.issue for i in self.items], dtype=np.int64)

    # ---------------------------------------------------------------- search
    def search(self, q: str, mode: str | None = None, filters: Filters | None = None,
               limit: int | None = None, offset: int = 0) -> dict[str, Any]:
        cfg = self.settings.search
        mode = mode or cfg.default_mode
        if mode not in MODES:
            raise QueryError(f"未知的检索模式 {mode!r}，可选：{', '.join(MODES)}")
        limit = cfg.default_limit if limit is None else limit
        if limit < 1 or limit > cfg.max_limit:
            raise QueryError(f"limit 应在 1 到 {cfg.max_limit} 之间")
        if offset < 0:
            raise QueryError("offset 不能为负数")
        parsed = parse_query(q, self.analyzer, cfg.max_query_chars, MIN_MATCH_RATIO)
        rows, scores = self._rank(parsed, mode, self._filter_mask(filters or Filters()))
        page = rows[offset : offset + limit]
        return {
            "query": parsed.raw,
            "mode": mode,
            "total": int(len(rows)),
            "offset": offset,
            "limit": limit,
            "results": [self._result(r, float(scores[n]), parsed) for n, r in enumerate(page, start=offset)],
            "facets": self._facets(rows),
        }

    def export(self, q: str, mode: str | None, filters: Filters | None, max_items: int) -> dict[str, Any]:
        """Every result of a search (not one page), capped at max_items, for CSV/Word export."""
        cfg = self.settings.search
        mode = mode or cfg.default_mode
        if mode not in MODES:
            raise QueryError(f"未知的检索模式 {mode!r}，可选：{', '.join(MODES)}")
        parsed = parse_query(q, self.analyzer, cfg.max_query_chars, MIN_MATCH_RATIO)
        rows, scores = self._rank(parsed, mode, self._filter_mask(filters or Filters()))
        results = [self._result(int(r), float(scores[n]), parsed) for n, r in enumerate(rows[:max_items])]
        return {"query": parsed.raw, "mode": mode, "total": int(len(rows)), "results": results}

    def issue_items(self, series: str | None, issue: int, date: str | None) -> list[Item]:
        """One bulletin issue's items in the order they were printed."""
        items = [i for i in self.items if i.issue == issue and i.series == series and (date is None or i.date == date)]
        return sorted(items, key=lambda i: (i.source.file if i.source else "", i.source.position if i.source else 0))

    def unit_counts(self) -> dict[str, int]:
        return _ranked(self.unit_names, np.asarray(self.unit_matrix.sum(axis=0)).ravel().astype(np.int64))

    def _rank(self, parsed: ParsedQuery, mode: str, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.settings.search
        mask = mask & self._phrase_mask(parsed) & ~self._excluded_mask(parsed)
        if parsed.empty:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        if mode == "semantic":
            cos = self._cosines(parsed)
            return _sorted(self._semantic_matches(cos) & mask, cos)
        kw = self._keyword_scores(parsed)
        kw_match = (kw > 0) & mask
        if mode == "keyword":
            return _sorted(kw_match, kw)
        cos = self._cosines(parsed)
        sem_match = self._semantic_matches(cos) & mask
        matches = kw_match | sem_match
        if cfg.fusion == "weighted":
            kw_norm = kw / kw.max() if kw.max() > 0 else kw
            fused = (1 - cfg.semantic_ratio) * kw_norm + cfg.semantic_ratio * np.clip(cos, 0, 1)
        else:
            fused = _rrf(kw, kw_match, cfg.rrf_k) + _rrf(cos, mask, cfg.rrf_k)
        return _sorted(matches, fused)

    def _keyword_scores(self, parsed: ParsedQuery) -> np.ndarray:
        total = np.zeros(len(self.ids), dtype=np.float32)
        for group in parsed.groups:
            unit_scores = np.stack([self.bm25f.scores(unit) for unit in group.units])
            enough = (unit_scores > 0).sum(axis=0) >= group.min_match
            total += unit_scores.sum(axis=0) * enough
        for terms in parsed.phrase_terms:
            total += self.bm25f.scores(terms) * self._phrase_mask(parsed)
        return total

    def _phrase_mask(self, parsed: ParsedQuery) -> np.ndarray:
        mask = np.ones(len(self.ids), dtype=bool)
        for phrase, terms in zip(parsed.phrases, parsed.phrase_terms):
            candidates = self.bm25f.rows_with_all(terms)
            for row in np.flatnonzero(candidates):
                if phrase not in self.flat[row]:
                    candidates[row] = False
            mask &= candidates
        return mask

    def _excluded_mask(self, parsed: ParsedQuery) -> np.ndarray:
        mask = np.zeros(len(self.ids), dtype=bool)
        for terms in parsed.excluded:
            mask |= self.bm25f.rows_with_all(terms)
        return mask

    def _semantic_matches(self, cos: np.ndarray) -> np.ndarray:
        """Similar enough in absolute terms (calibrated for the model) and standing out from
        the rest of the corpus for this query: e5 gives every bulletin text a high cosine."""
        cfg = self.settings.search
        spread = float(cos.std()) if len(cos) > 1 else 0.0
        z = (cos - cos.mean()) / spread if spread > 0 else np.zeros_like(cos)
        return (cos >= cfg.semantic_threshold) & (z >= cfg.semantic_min_z)

    def _cosines(self, parsed: ParsedQuery) -> np.ndarray:
        if not parsed.semantic_text or len(self.ids) == 0:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.vectors @ self.embedder.embed_query(parsed.semantic_text))

    def _filter_mask(self, filters: Filters) -> np.ndarray:
        mask = np.ones(len(self.ids), dtype=bool)
        if filters.kind:
            if filters.kind not in KINDS:
                raise QueryError(f"未知的类型 {filters.kind!r}，可选：{', '.join(KINDS)}")
            mask &= self.kind_codes == KINDS.index(filters.kind)
        if filters.date_from:
            mask &= (self.dates >= filters.date_from) & (self.dates != "")
        if filters.date_to:
            mask &= (self.dates <= filters.date_to) & (self.dates != "")
        if filters.units:
            cols = [n for n, u in enumerate(self.unit_names) if u in set(filters.units)]
            hits = np.asarray(self.unit_matrix[:, cols].sum(axis=1)).ravel() if cols else np.zeros(len(self.items))
            mask &= hits > 0
        if filters.series:
            mask &= self.series_arr == filters.series
        if filters.issue is not None:
            mask &= self.issue_arr == filters.issue
        return mask

    def _facets(self, rows: np.ndarray) -> dict[str, dict[str, int]]:
        mask = np.zeros(len(self.items), dtype=np.float32)
        mask[rows] = 1.0
        unit_counts = np.asarray(self.unit_matrix.T @ mask).ravel().astype(np.int64)
        years = self.year_codes[rows]
        year_counts = np.bincount(years[years >= 0], minlength=len(self.year_names))
        kind_counts = np.bincount(self.kind_codes[rows], minlength=len(KINDS))
        return {
            "units": _ranked(self.unit_names, unit_counts),
            "years": {y: int(year_counts[n]) for n, y in sorted(enumerate(self.year_names), key=lambda t: t[1], reverse=True)
                      if year_counts[n]},
            "kinds": _ranked(list(KINDS), kind_counts),
        }

    def _result(self, row: int, score: float, parsed: ParsedQuery | None) -> dict[str, Any]:
        item = self.items[row]
        return {
            "id": item.id,
            "title": item.title,
            "text": item.text,
            "snippet": self.snippet(item.text, parsed.terms if parsed else set()),
            "units": list(item.units),
            "date": item.date,
            "issue": item.issue,
            "series": item.series,
            "kind": item.kind,
            "score": round(score, 6),
        }

    # --------------------------------------------------------------- snippet
    def snippet(self, text: str, terms: set[str]) -> str:
        """The best window(s) of the text, HTML-escaped, with the query's words in <mark>.

        Words are found by string search on a same-length normalised copy (full-width to
        half-width, A-Z lowered), not by re-running jieba: cheap, and 网格 lights up in 网格员 too.
        """
        cfg = self.settings.search
        merged: list[list[int]] = []
        pattern = _term_pattern(frozenset(terms)) if terms else None
        if pattern is not None:
            for match in pattern.finditer(text.translate(_SNIPPET_NORMALISE)):
                merged.append([match.start(), match.end()])
        width = cfg.snippet_chars
        if not merged:
            return html.escape(text[:width]) + ("…" if len(text) > width else "")
        windows: list[tuple[int, int]] = []
        for start, _end in merged:  # greedy: windows starting a little before a match, best first
            left = max(0, start - width // 4)
            count = sum(1 for s, e in merged if s >= left and e <= left + width)
            windows.append((count, left))
        chosen: list[int] = []
        for _count, left in sorted(windows, key=lambda w: (-w[0], w[1])):
            if all(abs(left - c) >= width for c in chosen):
                chosen.append(left)
            if len(chosen) >= cfg.snippet_passages:
                break
        parts = []
        for left in sorted(chosen):
            right = min(len(text), left + width)
            out, pos = [], left
            for s, e in merged:
                if s >= left and e <= right:
                    out.append(html.escape(text[pos:s]))
                    out.append(f"<mark>{html.escape(text[s:e])}</mark>")
                    pos = e
            out.append(html.escape(text[pos:right]))
            parts.append(("…" if left > 0 else "") + "".join(out) + ("…" if right < len(text) else ""))
        return " ".join(parts)

    # --------------------------------------------------------------- similar
    def get(self, item_id: str) -> Item | None:
        row = self.row_of_id.get(item_id)
        return None if row is None else self.items[row]

    def similar(self, item_id: str, other_units: bool = False, limit: int | None = None) -> dict[str, Any]:
        row = self.row_of_id.get(item_id)
        if row is None:
            raise KeyError(item_id)
        item = self.items[row]
        mask = np.ones(len(self.ids), dtype=bool)
        mask[row] = False
        if other_units and item.units:
            mine = set(item.units)
            mask &= np.array([not (mine & set(i.units)) for i in self.items], dtype=bool)
        results, _check = self._nearest(np.asarray(self.vectors[row]), mask, limit, item.text)
        return {"id": item_id, "other_units": other_units, "results": results}

    def similar_text(self, text: str, limit: int | None = None) -> dict[str, Any]:
        if not (text or "").strip():
            raise QueryError("文本为空")
        vector = self.embedder.embed_passages([text.strip()])[0]
        results, check = self._nearest(vector, np.ones(len(self.ids), dtype=bool), limit, text)
        return {"text": text.strip()[:200], "marked_text": check.marked_draft(), "results": results}

    def _nearest(self, vector: np.ndarray, mask: np.ndarray, limit: int | None,
                 text: str) -> tuple[list[dict[str, Any]], reuse.DraftCheck]:
        """Items nearest by vector, with copies of the text (search/reuse.py) found, marked and put first."""
        cfg = self.settings.search
        limit = limit or cfg.similar_limit
        if limit < 1 or limit > cfg.max_limit:
            raise QueryError(f"limit 应在 1 到 {cfg.max_limit} 之间")
        cos = np.asarray(self.vectors @ vector)
        words = reuse.rare_words((w for w, _s, _e in self.analyzer.words(text)), self.bm25f.doc_freq)
        rows = reuse.candidates(cos, self.bm25f.scores(words), mask, max(cfg.reuse_candidates, limit))
        check = reuse.DraftCheck(text, rows, lambda r: self.items[r].text, reuse.ReuseRule.from_settings(cfg))
        by_cosine = rows[np.lexsort((rows, -cos[rows]))]  # the candidates hold the cosine top `limit`
        results = [check.annotate(self._result(r, float(cos[r]), None), r) for r in check.ordered(by_cosine, limit)]
        return results, check

    def stats(self) -> dict[str, Any]:
        dates = sorted(d for d in self.dates if d)
        return {
            "items": len(self.ids),
            "kinds": _ranked(list(KINDS), np.bincount(self.kind_codes, minlength=len(KINDS))),
            "units": self.unit_counts(),
            "date_from": dates[0] if dates else None,
            "date_to": dates[-1] if dates else None,
            "model": self.manifest.model,
            "dim": self.manifest.dim,
            "updated": self.manifest.updated,
            "generation": self.manifest.generation,
            "files": len(self.files),
        }

    def close(self) -> None:
        self.keyword.close()


# One-to-one character mapping, so offsets in the copy are offsets in the text.
_SNIPPET_NORMALISE = {**{c: c + 32 for c in range(ord("A"), ord("Z") + 1)},
                      **{c: c - 0xFEE0 for c in range(0xFF10, 0xFF5B)},
                      **{c: c - 0xFEE0 + 32 for c in range(0xFF21, 0xFF3B)}}


@functools.lru_cache(maxsize=1024)
def _term_pattern(terms: frozenset[str]) -> re.Pattern[str] | None:
    """Longest alternatives first, so 融资难题 wins over 融资 at the same place."""
    words = sorted((t for t in terms if t), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words))) if words else None


def _ranked(names: list[str], counts: np.ndarray) -> dict[str, int]:
    """Non-zero counts, largest first (ties by name)."""
    order = sorted((n for n in range(len(names)) if counts[n]), key=lambda n: (-int(counts[n]), names[n]))
    return {names[n]: int(counts[n]) for n in order}


def _sorted(mask: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.flatnonzero(mask)
    order = np.lexsort((rows, -scores[rows]))  # score descending, then stable by row
    ranked = rows[order]
    return ranked, scores[ranked]


def _rrf(scores: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros(len(scores), dtype=np.float64)
    ranked, _ = _sorted(mask, scores)
    out[ranked] = 1.0 / (k + np.arange(1, len(ranked) + 1))
    return out
