"""Keyword evidence for one query part: how much of it an item contains, in its text and title.

Each unit of the part (search/analysis.py) counts by its IDF: rare words decide, common ones
barely matter. A unit is present in an item through the word itself (credit 1) or through
its sub-words, each worth its IDF relative to the word's: 志愿 carries most of 志愿服务, 服务
almost none of it, so an item that merely says 服务 does not satisfy 志愿服务. A run of
characters (a word missing from the dictionary) is present when all its bigrams are, and
partly when some are.

  coverage = Σ weight(unit) × credit(unit) / Σ weight(unit)     in [0, 1]
  title    = the same over the title only
  bm25     = Σ BM25F of the unit's terms / Σ weight(unit)         (the part's own scale;
             a sub-word's BM25F counts by its share, so 服务 adds little to 志愿服务)

All three are dense arrays over the snapshot's rows, built from posting lists.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .analysis import Unit
from .parallel import POSTING_ROWS, SERIAL, Splitter
from .snapshot import Snapshot, TermHits

RUN_PARTIAL = 0.9  # a run of characters with only some of its bigrams: credit of the best one, scaled
MIN_UNIT_CREDIT = 0.5  # keyword evidence needs one word present, or sub-words carrying at least half of one
GATHER_COST = 4  # a row reached through a posting list costs about as much as this many rows of a pass
# over every row (measured at 1M rows: words whose postings list 1.3M rows were slower added that way)
DENSE_WORD_SHARE = 0.3  # a whole word in at least this share of the rows is added through dense arrays
# (measured at 1M rows: 3.4 against 4.7 ms for a word in 87 % of them, even at 30 %)


@dataclass
class KeywordEvidence:
    coverage: np.ndarray  # float32, rows
    title: np.ndarray  # float32, rows
    bm25: np.ndarray  # float32, rows
    weight: float  # the part's total unit weight (Σ IDF)


class TermTable:
    """Term lookups for one query, cached (a term may appear in several units and parts)."""

    def __init__(self, snapshot: Snapshot, reference_items: int = 0) -> None:
        self.snapshot = snapshot
        self.size = snapshot.size
        self.reference = max(snapshot.size, reference_items)
        self._hits: dict[str, TermHits] = {}
        self._df: dict[str, int] = {}

    def hits(self, term: str) -> TermHits:
        found = self._hits.get(term)
        if found is None:
            found = self._hits[term] = self.snapshot.term(term)
        return found

    def df(self, term: str) -> int:
        """Document frequency, without reading the postings unless they are already at hand."""
        found = self._hits.get(term)
        if found is not None:
            return found.df
        df = self._df.get(term)
        if df is None:
            df = self._df[term] = self.snapshot.df(term)
        return df

    def dfs(self, terms: Sequence[str]) -> list[int]:
        """`df` of several terms, those not yet known looked up together (Snapshot.dfs)."""
        missing = [t for t in dict.fromkeys(terms) if t not in self._hits and t not in self._df]
        if missing:
            self._df.update(zip(missing, (int(d) for d in self.snapshot.dfs(missing))))
        return [self.df(t) for t in terms]

    def idf(self, term: str) -> float:
        """BM25's IDF, counted as if the archive held at least relevance.idf_reference_items
        items: items that do not contain a word then leave its weight alone, so adding
        unrelated items to an archive below that size changes no query's keyword evidence."""
        df = self.df(term)
        return math.log(1.0 + (self.reference - df + 0.5) / (df + 0.5))

    def window(self, lo: int, hi: int) -> "TermWindow":
        return TermWindow(self, lo, hi)


class TermWindow:
    """Rows lo..hi of a TermTable, numbered from lo: postings cut to them; document frequencies,
    and so IDF, stay the archive's (a row's evidence does not depend on where the rows are cut).
    The table's lookups must be made before windows are used from several threads."""

    def __init__(self, table: TermTable, lo: int, hi: int) -> None:
        self.table = table
        self.lo, self.hi = lo, hi
        self.size = hi - lo
        self._hits: dict[str, TermHits] = {}

    def hits(self, term: str) -> TermHits:
        found = self._hits.get(term)
        if found is None:
            whole = self.table.hits(term)
            a, b = np.searchsorted(whole.rows, [self.lo, self.hi])
            ta, tb = np.searchsorted(whole.title_rows, [self.lo, self.hi])
            found = self._hits[term] = TermHits(whole.rows[a:b] - self.lo, whole.weights[a:b],
                                                whole.title_rows[ta:tb] - self.lo, whole.df)
        return found

    def idf(self, term: str) -> float:
        return self.table.idf(term)


def part_evidence(units: list[Unit], table: TermTable, sparse: bool = True, split: Splitter = SERIAL) -> KeywordEvidence:
    """The part's evidence. Words weigh by their IDF (TermTable.idf: counted against an archive of
    at least relevance.idf_reference_items items, so items unrelated to the part never move it),
    for coverage and BM25F alike. Each span of rows of `split` is filled on its own (each row's
    evidence is its own)."""
    n = table.size
    coverage = np.zeros(n, dtype=np.float32)
    title = np.zeros(n, dtype=np.float32)
    bm25 = np.zeros(n, dtype=np.float32)
    spans = split.spans(n, POSTING_ROWS)
    if len(spans) == 1:
        weight = _fill(units, table, sparse, coverage, title, bm25)
        return KeywordEvidence(coverage, title, bm25, weight)
    for unit in units:  # looked up once, here, before the spans cut them
        for term in dict.fromkeys([unit.text, *unit.parts]):
            table.hits(term)
    weights = split.run([lambda lo=lo, hi=hi: _fill(units, table.window(lo, hi), sparse, coverage[lo:hi],
                                                    title[lo:hi], bm25[lo:hi]) for lo, hi in spans])
    return KeywordEvidence(coverage, title, bm25, weights[0])


def _fill(units: list[Unit], table: TermTable | TermWindow, sparse: bool, coverage: np.ndarray, title: np.ndarray,
          bm25: np.ndarray) -> float:
    """Fill the part's arrays (zeros, the table's rows); returns the part's total unit weight."""
    best = np.zeros(table.size, dtype=np.float32)  # the best credit of any unit
    weights = sum((_unit(unit, table, coverage, title, bm25, best, sparse) for unit in units), 0.0)
    # Only generic sub-words (服务 for 志愿服务): no keyword evidence. A product with the mask, not
    # a masked assignment (several times slower over a million rows); the values are >= 0.
    keep = best >= MIN_UNIT_CREDIT
    for values in (coverage, title, bm25):
        np.multiply(values, keep, out=values)
    if weights > 0:
        for values in (coverage, title, bm25):
            values /= weights
    return weights


def _credit_into(target: np.ndarray, rows: np.ndarray, value: float) -> None:
    """target[rows] = max(target[rows], value); rows are unique within one posting list."""
    if len(rows):
        target[rows] = np.maximum(target[rows], value)


def _unit(unit: Unit, table: TermTable | TermWindow, coverage: np.ndarray, title: np.ndarray,
          bm25: np.ndarray, best: np.ndarray, sparse: bool = True) -> float:
    """Add one unit's weighted credit and BM25F into the part's arrays; returns its weight (its
    IDF, or its best sub-word's or bigram's when the archive lacks it). With `sparse`, only the posting rows
    of the unit's words are touched: a whole word without sub-words (most query words) adds its
    postings directly; a word with sub-words builds its credit in scratch arrays and adds it
    on its posting rows, unless they are so many that the passes cost less (GATHER_COST).
    Without `sparse`, the arrays are combined over every row (several passes, which
    at a million rows cost more than the postings themselves): the reference the tests compare
    with. Runs of single characters always take the passes over every row."""
    n = table.size
    if sparse and unit.kind != "run" and all(s == unit.text for s in unit.parts):
        whole = table.hits(unit.text)
        weight = table.idf(unit.text)
        title[whole.title_rows] += weight
        if len(whole.rows) < DENSE_WORD_SHARE * n:
            coverage[whole.rows] += weight  # its credit is 1 where the word is, 0 elsewhere
            best[whole.rows] = 1.0  # the largest credit there is
            bm25[whole.rows] += weight * whole.weights
            return weight
        # In many rows (DENSE_WORD_SHARE): written once into dense arrays, then added over every
        # row (0 where the word is not), rather than read, added and written back row by row in
        # three arrays.
        present = np.zeros(n, dtype=bool)
        present[whole.rows] = True
        unit_bm = np.zeros(n, dtype=np.float32)
        unit_bm[whole.rows] = weight * whole.weights
        coverage += np.float32(weight) * present
        np.maximum(best, present, out=best)
        bm25 += unit_bm
        return weight
    if unit.kind == "run":
        grams = list(dict.fromkeys(unit.parts))
        idfs = [table.idf(g) for g in grams]
        weight = max(idfs)
        credit = np.zeros(n, dtype=np.float32)
        tcredit = np.zeros(n, dtype=np.float32)
        every = np.ones(n, dtype=bool)
        tevery = np.ones(n, dtype=bool)
        for gram, idf in zip(grams, idfs):
            hits = table.hits(gram)
            present = np.zeros(n, dtype=bool)
            present[hits.rows] = True
            every &= present
            tpresent = np.zeros(n, dtype=bool)
            tpresent[hits.title_rows] = True
            tevery &= tpresent
            share = RUN_PARTIAL * idf / weight if weight > 0 else 0.0
            _credit_into(credit, hits.rows, share)
            _credit_into(tcredit, hits.title_rows, share)
            bm25[hits.rows] += idf * hits.weights
        credit[every] = 1.0
        tcredit[tevery] = 1.0
        np.maximum(best, credit, out=best)
        coverage += weight * credit
        title += weight * tcredit
        return weight
    whole = table.hits(unit.text)
    subs = [s for s in unit.parts if s != unit.text]
    weight = table.idf(unit.text) if whole.df > 0 or not subs else max(table.idf(s) for s in subs)
    # A sub-word's share of its word: √(df(word) / df(sub-word)), about √P(word | sub-word), how
    # strongly the sub-word implies the word in this archive (志愿 → 志愿服务 often, 服务 rarely).
    # Document frequencies only: items holding neither leave it alone.
    word_df = whole.df if whole.df > 0 or not subs else max(table.hits(s).df for s in subs)
    credit = np.zeros(n, dtype=np.float32)
    tcredit = np.zeros(n, dtype=np.float32)
    unit_bm = np.zeros(n, dtype=np.float32)
    sub_hits = [(table.hits(sub), sub) for sub in subs]
    for hits, sub in sub_hits:
        share = min(1.0, math.sqrt((word_df + 0.5) / (hits.df + 0.5)))
        _credit_into(credit, hits.rows, share)
        _credit_into(tcredit, hits.title_rows, share)
        unit_bm[hits.rows] += share * table.idf(sub) * hits.weights
    credit[whole.rows] = 1.0
    tcredit[whole.title_rows] = 1.0
    unit_bm[whole.rows] = table.idf(unit.text) * whole.weights
    listed = len(whole.rows) + sum(len(h.rows) for h, _s in sub_hits)
    if sparse and listed * GATHER_COST < n:
        # Only the posting rows hold credit: add it there (a row listed twice gets the same
        # value twice, as the right side is read before the assignment), no pass over every row.
        rows = np.concatenate([whole.rows] + [h.rows for h, _s in sub_hits])
        title_rows = np.concatenate([whole.title_rows] + [h.title_rows for h, _s in sub_hits])
        best[rows] = np.maximum(best[rows], credit[rows])
        coverage[rows] = coverage[rows] + np.float32(weight) * credit[rows]
        bm25[rows] = bm25[rows] + unit_bm[rows]
        title[title_rows] = title[title_rows] + np.float32(weight) * tcredit[title_rows]
        return weight
    np.maximum(best, credit, out=best)
    coverage += weight * credit
    title += weight * tcredit
    bm25 += unit_bm
    return weight
