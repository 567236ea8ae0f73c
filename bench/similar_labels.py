"""python -m bench.similar_labels [--index DIR]

Calibrates the plain labels of similar items (很相似 / 相似 / 相关, config.toml [similar]) on the
development set (../shared/eval/dev: 40 judged queries over the sample bulletins and 435 real
items from other governments), with the real model, over one index of both.

Pairs: "same topic" = two items both judged 2 (about the query) for the same query;
"different topics" = two items each judged 2 for some query, with no query judging both at
any grade. For the centred cosine (search/likeness.py) and, for comparison, the raw cosine:
AUC, and for each label the lowest score at which at least PRECISION[label] of the pairs
scoring that high are on the same topic, with its recall and false-positive rate.
Writes bench/results/similar-labels-<date>.json and .md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from search.config import PROJECT_ROOT, load_settings
from search.likeness import RELATED, SIMILAR, VERY_SIMILAR, centre

from .draft_check import build_index, save_report
from .reuse_pairs import DEV_DIR

RESULTS = PROJECT_ROOT / "bench" / "results"
# Share of pairs at or above a label's threshold that must be on the same topic.
PRECISION = {VERY_SIMILAR: 0.95, SIMILAR: 0.8, RELATED: 0.5}
DECIMALS = 3  # thresholds are rounded up to this many decimals (never below the measured point)


def judged_rows(engine: Any, qrels: dict) -> dict[str, int]:
    """Judged item key -> row: the item whose title + text contains the key's fragment (as run_eval.py matches)."""
    flat = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    keys = {k: flat(v) for k, v in qrels["items"].items()}
    out: dict[str, int] = {}
    for row, item in engine.snapshot.iter_items():
        blob = flat(item.title) + flat(item.text)
        for key, fragment in keys.items():
            if key not in out and fragment in blob:
                out[key] = row
    return out


def topic_pairs(qrels: dict, rows: dict[str, int]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(same-topic pairs, different-topic pairs) of rows, as described above."""
    about: dict[int, set[str]] = {}
    judged: dict[str, set[int]] = {}
    for n, query in enumerate(qrels["queries"]):
        for key, grade in query["judgments"].items():
            if key not in rows:
                continue
            judged.setdefault(key, set()).add(n)
            if grade == 2:
                about.setdefault(n, set()).add(key)
    same = {tuple(sorted((rows[a], rows[b]))) for keys in about.values() for a, b in itertools.combinations(keys, 2)
            if rows[a] != rows[b]}
    on_topic = sorted({k for keys in about.values() for k in keys})
    different = {tuple(sorted((rows[a], rows[b]))) for a, b in itertools.combinations(on_topic, 2)
                 if not judged[a] & judged[b] and rows[a] != rows[b]}
    return sorted(same), sorted(different - same)


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a same-topic pair scores above a different-topic pair (ties count half)."""
    scores = np.concatenate([positive, negative])
    ranks = np.empty(len(scores))
    order = np.argsort(scores, kind="stable")
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # average ranks of ties
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    return float((ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2) / (len(positive) * len(negative)))


def threshold(positive: np.ndarray, negative: np.ndarray, precision: float) -> dict[str, float]:
    """The lowest score at which the pairs scoring at least that much reach the precision."""
    scores = np.concatenate([positive, negative])
    same = np.concatenate([np.ones(len(positive)), np.zeros(len(negative))])
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(same[order])
    share = hits / np.arange(1, len(scores) + 1)
    reached = np.flatnonzero(share >= precision)
    cut = float(scores[order][reached[-1]]) if len(reached) else float(scores.max())
    cut = float(np.ceil(cut * 10**DECIMALS) / 10**DECIMALS)
    tp, fp = int((positive >= cut).sum()), int((negative >= cut).sum())
    return {"threshold": cut, "precision": round(tp / max(tp + fp, 1), 4), "recall": round(tp / len(positive), 4),
            "false_positive_rate": round(fp / len(negative), 5)}


def measure(vectors: np.ndarray, mean: np.ndarray, same: list, different: list) -> dict[str, Any]:
    """AUC and label thresholds of the raw and the centred cosine over the pairs."""
    out: dict[str, Any] = {}
    for name, v in (("raw", vectors), ("centred", centre(vectors, mean))):
        pair_score = lambda pairs: np.array([float(v[a] @ v[b]) for a, b in pairs])  # noqa: E731,B023
        positive, negative = pair_score(same), pair_score(different)
        out[name] = {"auc": round(auc(positive, negative), 4),
                     "same_topic_percentiles": dict(zip(("p10", "p50", "p90"), np.percentile(positive, [10, 50, 90]).round(3).tolist())),
                     "different_percentiles": dict(zip(("p50", "p90", "p99"), np.percentile(negative, [50, 90, 99]).round(3).tolist())),
                     "labels": {label: threshold(positive, negative, p) for label, p in PRECISION.items()}}
    return out


def markdown(report: dict[str, Any]) -> str:
    lines = [f"Pairs: {report['same_topic_pairs']} same topic, {report['different_topic_pairs']} different topics "
             f"({report['items_indexed']} items indexed).", "",
             "| score | AUC | label | threshold | precision | recall | false positives |", "|---|---|---|---|---|---|---|"]
    for name, m in report["scores"].items():
        for label, t in m["labels"].items():
            lines.append(f"| {name} | {m['auc']:.3f} | {label} (≥ {PRECISION[label]:.0%} same topic) | {t['threshold']:.3f} | "
                         f"{t['precision']:.3f} | {t['recall']:.3f} | {t['false_positive_rate']:.4f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=PROJECT_ROOT / "var" / "bench-draft-check",
                        help="index of the sample and the dev items (built or updated here; shared with bench.draft_check)")
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "config.toml")
    args = parser.parse_args()
    from search.engine import SearchEngine

    engine = SearchEngine(build_index(load_settings(args.config), args.index))
    qrels = json.loads((DEV_DIR / "qrels.json").read_text(encoding="utf-8"))
    same, different = topic_pairs(qrels, judged_rows(engine, qrels))
    vectors = engine.snapshot.vectors_of(np.arange(engine.snapshot.size))
    report = {"date": dt.date.today().isoformat(), "items_indexed": engine.snapshot.count,
              "same_topic_pairs": len(same), "different_topic_pairs": len(different),
              "scores": measure(vectors, engine.snapshot.background.mean, same, different)}
    save_report(f"similar-labels-{report['date']}", report, markdown(report))


if __name__ == "__main__":
    main()
