"""Fit the evidence models' weights ([relevance.*] in config.toml) on judged queries.

    python -m bench.calibrate --set var/eval-dev:../shared/eval/dev/qrels.json --set var/sample:../shared/eval/seed_qrels.json

For every query and every indexed item the engine's own features are computed
(search/relevance.py); a logistic regression per mode (L2-regularised, grade-2 items
weighted double, a few numpy/scipy lines) predicts "judged relevant". It prints
leave-one-query-out figures (each query scored by weights fitted without it: what to expect
on queries not seen) and the config block to paste. Calibrate mechanisms on a whole judged
set, never on single queries; check the result on a set kept apart.
"""
from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from search.config import ModelWeights, load_settings
from search.engine import SearchEngine
from search.relevance import FEATURES, logit

MODE_FEATURES = {
    "hybrid": FEATURES,
    "keyword": ("coverage", "exact", "title", "bm25"),
    "semantic": ("semantic", "passage", "gap", "generic"),
}
L2 = 1.0  # L2 penalty ½·L2·|w|² against the summed log-loss (scikit-learn's C = 1)
LOSS_SCALE = 1000.0  # both terms divided by this: the same optimum, better conditioned
GRADE2_WEIGHT = 3.0


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def judged_rows(engine: SearchEngine, qrels: dict) -> tuple[list[dict], np.ndarray]:
    """Each query's judgments as {row: grade}; a key judges the item whose text contains it."""
    snap = engine.snapshot
    rows = np.flatnonzero(snap.live)
    blobs = {int(r): flat(snap.item(int(r)).title) + flat(snap.item(int(r)).text) for r in rows}
    row_of_key = {}
    for key, fragment in qrels["items"].items():
        fragment = flat(fragment)
        row_of_key[key] = [r for r, blob in blobs.items() if fragment in blob]
    judged = []
    for q in qrels["queries"]:
        grades: dict[int, int] = {}
        for key, grade in q["judgments"].items():
            for r in row_of_key.get(key, []):
                grades[r] = max(grades.get(r, 0), grade)
        judged.append(grades)
    return judged, rows


def query_features(engine: SearchEngine, query: str, mode: str) -> tuple[list[np.ndarray], list]:
    """Per part of the query: a (rows, features) matrix; and the query's structure."""
    from search.query import parse_query

    parsed = parse_query(query, engine.analyzer, engine.settings.search.max_query_chars)
    evidence = engine._evidence(parsed, "hybrid")
    mats = {}
    for part, ev in evidence:
        feats = ev.features()
        mats[id(part)] = np.stack([feats[f] for f in FEATURES], axis=1)
    return mats, parsed


def combined(mats: dict, parsed, weights: np.ndarray, bias: float, idx: list[int]) -> np.ndarray:
    """Log-odds with the engine's AND (min) / OR (max) rules."""
    total = None
    for alternative in parsed.alternatives:
        odds = None
        for part in alternative:
            o = mats[id(part)][:, idx] @ weights + bias
            odds = o if odds is None else np.minimum(odds, o)
        total = odds if total is None else np.maximum(total, odds)
    return total


def fit(data: list, idx: list[int]) -> tuple[np.ndarray, float]:
    """Weights minimising the weighted logistic loss of the combined log-odds."""
    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        total, grad = 0.0, np.zeros_like(theta)
        for mats, parsed, y, sw in data:
            # gradient through min/max: the part that decides each row
            z = combined(mats, parsed, w, b, idx)
            p = 1 / (1 + np.exp(-np.clip(z, -60, 60)))
            total += float(-(sw * (y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))).sum())
            dz = sw * (p - y)
            x = _deciding_features(mats, parsed, w, b, idx)
            grad[:-1] += x.T @ dz
            grad[-1] += dz.sum()
        total += L2 * float(w @ w) / 2
        grad[:-1] += L2 * w
        return total / LOSS_SCALE, grad / LOSS_SCALE

    theta = np.zeros(len(idx) + 1)
    result = minimize(loss, theta, jac=True, method="L-BFGS-B")
    return result.x[:-1], float(result.x[-1])


def _deciding_features(mats: dict, parsed, w: np.ndarray, b: float, idx: list[int]) -> np.ndarray:
    best_odds, best_x = None, None
    for alternative in parsed.alternatives:
        odds, x = None, None
        for part in alternative:
            m = mats[id(part)][:, idx]
            o = m @ w + b
            if odds is None:
                odds, x = o, m.copy()
            else:
                lower = o < odds
                odds = np.where(lower, o, odds)
                x[lower] = m[lower]
        if best_odds is None:
            best_odds, best_x = odds, x
        else:
            higher = odds > best_odds
            best_odds = np.where(higher, odds, best_odds)
            best_x[higher] = x[higher]
    return best_x


def evaluate(data: list, judged: list[dict], params: list, threshold: float) -> dict[str, float]:
    """Mean nDCG@10, AboutR@20, SetAboutR, Size over queries (the engine's own metrics)."""
    rows = []
    for (mats, parsed, _y, _sw), grades, (w, b, idx) in zip(data, judged, params):
        z = combined(mats, parsed, w, b, idx)
        match = np.flatnonzero(z >= threshold)
        order = match[np.lexsort((match, -z[match]))]
        rows.append(_metrics(list(order), grades))
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def _metrics(order: list[int], grades: dict[int, int]) -> dict[str, float]:
    gains = [2 ** grades.get(r, 0) - 1 for r in order[:10]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted(grades.values(), reverse=True)[:10]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    about = {r for r, g in grades.items() if g >= 2}
    rel = {r for r, g in grades.items() if g >= 1}
    found = set(order)
    return {
        "nDCG@10": dcg / idcg if idcg else 0.0,
        "AboutR@20": len(about & set(order[:20])) / len(about) if about else 1.0,
        "SetAboutR": len(about & found) / len(about) if about else 1.0,
        "SetP": len(rel & found) / len(found) if found else 0.0,
        "Size": len(found) / len(rel) if rel else float(len(found)),
    }


def _report(mode: str, label: str, data: list, judged: list, origin: list, params: list, threshold: float) -> None:
    for spec in dict.fromkeys(origin):
        keep = [n for n, o in enumerate(origin) if o == spec]
        figures = evaluate([data[n] for n in keep], [judged[n] for n in keep], [params[n] for n in keep], threshold)
        name = Path(spec.split(":", 1)[1]).name
        print(f"{mode:9s} {label:9s} {name:16s} " + "  ".join(f"{k}={v:.3f}" for k, v in figures.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=None)
    ap.add_argument("--set", dest="sets", required=True, action="append",
                    help="INDEX:QRELS, an index holding the judged items and its judged queries (repeatable)")
    ap.add_argument("--loqo", action="store_true", help="also leave-one-query-out figures (slower)")
    ap.add_argument("--sweep", type=float, nargs="*", default=[], help="other match probabilities to report")
    ap.add_argument("--fixed", action="store_true", help="evaluate the configured weights, fit nothing")
    a = ap.parse_args()
    base = load_settings(a.config)
    threshold = logit(base.relevance.match_probability)
    data, judged, origin = [], [], []
    for spec in a.sets:
        index, path = spec.split(":", 1)
        engine = SearchEngine(base.with_index(index))
        qrels = json.loads(Path(path).read_text(encoding="utf-8"))
        grades_list, _rows = judged_rows(engine, qrels)
        for q, grades in zip(qrels["queries"], grades_list):
            origin.append(spec)
            mats, parsed = query_features(engine, q["query"], "hybrid")
            y = np.zeros(engine.snapshot.size)
            for r, g in grades.items():
                y[r] = 1.0
            sw = np.where(y > 0, 1.0, 1.0)
            for r, g in grades.items():
                if g >= 2:
                    sw[r] = GRADE2_WEIGHT
            sw = sw * engine.snapshot.live
            data.append((mats, parsed, y, sw))
            judged.append(grades)
    print(f"{len(data)} queries from {len(a.sets)} sets, match_probability {base.relevance.match_probability}")
    blocks = []
    for mode, names in MODE_FEATURES.items():
        idx = [FEATURES.index(f) for f in names]
        if a.fixed:
            weights = getattr(base.relevance, mode)
            w, b = np.array([getattr(weights, f) for f in names]), weights.intercept
        else:
            w, b = fit(data, idx)
        _report(mode, "configured" if a.fixed else "in-sample", data, judged, origin, [(w, b, idx)] * len(data), threshold)
        for p in a.sweep:
            _report(mode, f"p={p}", data, judged, origin, [(w, b, idx)] * len(data), logit(p))
        if a.loqo:
            params = []
            for n in range(len(data)):
                wn, bn = fit(data[:n] + data[n + 1 :], idx)
                params.append((wn, bn, idx))
            _report(mode, "LOQO", data, judged, origin, params, threshold)
        values = dict.fromkeys(f.name for f in ModelWeights.__dataclass_fields__.values())
        weights = {"intercept": round(b, 3), **{f: 0.0 for f in FEATURES}, **{f: round(float(x), 3) for f, x in zip(names, w)}}
        blocks.append(f"[relevance.{mode}]\n" + "\n".join(f"{k} = {weights[k]}" for k in values))
    print("\n\n".join(blocks))


if __name__ == "__main__":
    main()
