"""Which items are about a query, and in what order: one small evidence model per mode.

For every query part and item, eight features (all independent of how many items are
indexed, as far as IDF allows):

  coverage  IDF-weighted share of the part's words in the item (search/keyword.py)
  exact     1 when every word is there
  title     the same share, in the title only
  bm25      BM25F over the part's total word weight
  semantic  100 × (cosine of the item vector − the query's cosine to the background mean)
  passage   the same for the item's best passage
  gap       100 × (the item's cosine − the best item cosine for this query): how far below the
            best match it sits (more items unrelated to the query never move the best one)
  generic   100 × (how close the item is to typical bulletin text), search/background.py

combine into log-odds = intercept + Σ weight × feature, the probability that a writer
searching the part wants the item. The weights (config.toml [relevance.hybrid], .keyword,
.semantic; keyword mode uses only keyword features, semantic mode only semantic ones) are a
logistic regression fitted on judged queries (`python -m bench.calibrate`, on the
development set). A query's parts must all be satisfied (the smallest log-odds counts),
alternatives joined by 或 widen (the largest counts). An item is a match — in `total`, in
"every item about X" — when its probability reaches relevance.match_probability; matches
are ranked by it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .config import ModelWeights
from .keyword import KeywordEvidence
from .parallel import PASS_ROWS, SERIAL, Splitter

FEATURES = ("coverage", "exact", "title", "bm25", "semantic", "passage", "gap", "generic")
EXACT_COVERAGE = 0.999  # coverage at or above this counts as every word present
SEMANTIC_SCALE = 100.0  # cosine differences are hundredths: the weights stay readable


@dataclass
class SemanticEvidence:
    item: np.ndarray  # cosine of the item vector, rows
    passage: np.ndarray  # cosine of the best passage, rows
    background: float  # the query's cosine to the background mean


def logit(probability: float) -> float:
    p = min(max(probability, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


@dataclass
class PartEvidence:
    """One query part's evidence over every row. The features are linear in a few arrays (the
    semantic ones in the item and best-passage cosines), so log-odds are computed from those
    arrays with the weights folded together: about a third of the passes over every row that
    materialising the eight features takes (a pass costs about a millisecond per million rows)."""

    keyword: KeywordEvidence | None
    semantic: SemanticEvidence | None
    generic: np.ndarray
    live: np.ndarray
    phrase: np.ndarray | None = None  # rows holding the part's phrase as written, if it has one

    def best(self) -> float:
        """The best live item cosine (the reference of `gap`)."""
        assert self.semantic is not None
        return float(np.max(self.semantic.item, where=self.live, initial=-np.inf)) if self.live.any() else 0.0

    def features(self) -> dict[str, np.ndarray]:
        """The named features (calibration fits the weights on them)."""
        kw, sem = self.keyword, self.semantic
        out: dict[str, np.ndarray] = {}
        if kw is not None:
            out["coverage"] = kw.coverage
            out["exact"] = (kw.coverage >= EXACT_COVERAGE).astype(np.float32)
            out["title"] = kw.title
            out["bm25"] = kw.bm25
        if sem is not None:
            out["semantic"] = SEMANTIC_SCALE * (sem.item - sem.background)
            out["passage"] = SEMANTIC_SCALE * (sem.passage - sem.background)
            out["gap"] = SEMANTIC_SCALE * (sem.item - self.best())
            out["generic"] = SEMANTIC_SCALE * self.generic
        return out

    def log_odds(self, weights: ModelWeights, split: Splitter = SERIAL) -> np.ndarray:
        """intercept + Σ weight × feature, as `features` defines them (the rows split by `split`)."""
        kw, sem = self.keyword, self.semantic
        constant = weights.intercept
        terms: list[tuple[float, np.ndarray]] = []
        if kw is not None:
            terms += [(weights.coverage, kw.coverage), (weights.title, kw.title), (weights.bm25, kw.bm25)]
        if sem is not None:
            item_w = SEMANTIC_SCALE * (weights.semantic + weights.gap)
            passage_w = SEMANTIC_SCALE * weights.passage
            constant -= SEMANTIC_SCALE * ((weights.semantic + weights.passage) * sem.background
                                          + (weights.gap * self.best() if weights.gap else 0.0))
            terms += [(item_w, sem.item), (passage_w, sem.passage), (SEMANTIC_SCALE * weights.generic, self.generic)]
        out = np.empty(len(self.live), dtype=np.float32)

        def fill(lo: int, hi: int) -> None:
            part = out[lo:hi]
            part.fill(constant)
            scratch = np.empty_like(part)
            for w, values in terms:
                if w:
                    np.multiply(values[lo:hi], np.float32(w), out=scratch)
                    part += scratch
            if kw is not None and weights.exact:
                # Added as a product with the mask (+0 elsewhere), not with where=, which branches
                # row by row: 5.8 against 0.8 ms over a million rows when half of them qualify.
                np.multiply(kw.coverage[lo:hi] >= EXACT_COVERAGE, np.float32(weights.exact), out=scratch)
                part += scratch
        split.over_rows(len(out), PASS_ROWS, fill)
        return out


def probability(log_odds_values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(log_odds_values, -60, 60)))
