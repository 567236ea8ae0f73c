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

import math
from dataclasses import dataclass

import numpy as np

from .analysis import Unit
from .snapshot import Snapshot, TermHits

RUN_PARTIAL = 0.9  # a run of characters with only some of its bigrams: credit of the best one, scaled


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

    def hits(self, term: str) -> TermHits:
        found = self._hits.get(term)
        if found is None:
            found = self._hits[term] = self.snapshot.term(term)
        return found

    def idf(self, term: str) -> float:
        """BM25's IDF, counted as if the archive held at least relevance.idf_reference_items
        items: items that do not contain a word then leave its weight alone, so adding
        unrelated items to an archive below that size changes no query's keyword evidence."""
        df = self.hits(term).df
        return math.log(1.0 + (self.reference - df + 0.5) / (df + 0.5))


def part_evidence(units: list[Unit], table: TermTable) -> KeywordEvidence:
    n = table.size
    coverage = np.zeros(n, dtype=np.float32)
    title = np.zeros(n, dtype=np.float32)
    bm25 = np.zeros(n, dtype=np.float32)
    total = 0.0
    for unit in units:
        weight = _unit(unit, table, coverage, title, bm25)
        total += weight
    if total > 0:
        coverage /= total
        title /= total
        bm25 /= total
    return KeywordEvidence(coverage, title, bm25, total)


def _credit_into(target: np.ndarray, rows: np.ndarray, value: float) -> None:
    """target[rows] = max(target[rows], value); rows are unique within one posting list."""
    if len(rows):
        target[rows] = np.maximum(target[rows], value)


def _unit(unit: Unit, table: TermTable, coverage: np.ndarray, title: np.ndarray, bm25: np.ndarray) -> float:
    """Add one unit's weighted credit and BM25F into the part's arrays; returns its weight."""
    n = table.size
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
            _credit_into(credit, hits.rows, RUN_PARTIAL * idf / weight)
            _credit_into(tcredit, hits.title_rows, RUN_PARTIAL * idf / weight)
            bm25[hits.rows] += idf * hits.weights
        credit[every] = 1.0
        tcredit[tevery] = 1.0
        coverage += weight * credit
        title += weight * tcredit
        return weight
    whole = table.hits(unit.text)
    subs = [s for s in unit.parts if s != unit.text]
    sub_idf = {s: table.idf(s) for s in subs}
    weight = table.idf(unit.text) if whole.df > 0 or not subs else max(sub_idf.values())
    credit = np.zeros(n, dtype=np.float32)
    tcredit = np.zeros(n, dtype=np.float32)
    sub_bm = np.zeros(n, dtype=np.float32)
    for sub in subs:
        hits = table.hits(sub)
        share = min(1.0, sub_idf[sub] / weight) if weight > 0 else 0.0
        _credit_into(credit, hits.rows, share)
        _credit_into(tcredit, hits.title_rows, share)
        sub_bm[hits.rows] += share * sub_idf[sub] * hits.weights
    credit[whole.rows] = 1.0
    tcredit[whole.title_rows] = 1.0
    unit_bm = sub_bm
    unit_bm[whole.rows] = table.idf(unit.text) * whole.weights
    coverage += weight * credit
    title += weight * tcredit
    bm25 += unit_bm
    return weight
