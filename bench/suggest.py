"""Search-as-you-type latency at scale: python -m bench.suggest [--items 100000] [--repeat 5]

Builds the suggester from synthetic titles (bench/corpus.py, seed 7, the same titles the
size benchmarks index) and the shipped dictionary, then times what a writer types: first
characters, two characters and whole words of the benchmark queries, substrings taken
from the middle of titles, and strings that match nothing (a full scan, the slowest case).
Writes bench/results/<date>-suggest.json and .md; the target is p95 under 30 ms at 100k.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import time

import numpy as np

from indexer.ingest import ingest
from search.config import PROJECT_ROOT
from search.suggest import SHIPPED_DICT, Suggester, dictionary_words

from .corpus import records
from .queries import QUERIES

RESULTS = PROJECT_ROOT / "bench" / "results"
TARGET_P95_MS = 30
LIMIT = 8
NO_MATCH = ["量子计算", "区块链金融", "航天发射", "深海探测", "冰雪运动", "人工智能大模型", "xyz", "碳中和交易所"]


def typed_strings(titles: list[str], seed: int = 11) -> dict[str, list[str]]:
    rng = random.Random(seed)
    infixes = []
    for title in rng.sample(titles, 100):
        start = rng.randint(1, max(1, len(title) - 3))
        infixes.append(title[start : start + rng.choice((2, 3, 4))])
    return {
        "first_char": sorted({q[0] for q in QUERIES}),
        "two_chars": sorted({q[:2] for q in QUERIES}),
        "whole_word": [q.split()[0] for q in QUERIES],
        "title_infix": infixes,
        "no_match": NO_MATCH,
    }


def percentiles(samples: list[float]) -> dict[str, float]:
    a = np.asarray(samples)
    return {"p50": round(float(np.percentile(a, 50)), 3), "p95": round(float(np.percentile(a, 95)), 3),
            "p99": round(float(np.percentile(a, 99)), 3), "max": round(float(a.max()), 3), "n": len(samples)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    sample = ingest([PROJECT_ROOT / "data" / "sample"], 50 * 1024 * 1024, 40).items
    rows = list(records(sample, args.items))
    titles, dates = [r["title"] for r in rows], [r["date"] for r in rows]
    words = dictionary_words(SHIPPED_DICT)
    start = time.perf_counter()
    suggester = Suggester(titles, words, dates=dates)
    build_ms = (time.perf_counter() - start) * 1000

    groups = typed_strings(titles)
    latency: dict[str, dict[str, float]] = {}
    every: list[float] = []
    returned: list[int] = []
    for name, strings in groups.items():
        samples = []
        for _ in range(args.repeat):
            for q in strings:
                t0 = time.perf_counter()
                found = suggester.suggest(q, LIMIT)
                samples.append((time.perf_counter() - t0) * 1000)
                returned.append(len(found))
        latency[name] = percentiles(samples)
        every += samples
    latency["all"] = percentiles(every)
    result = {
        "date": dt.date.today().isoformat(),
        "items": args.items,
        "dictionary_words": len(words),
        "distinct_titles": len(suggester.titles.entries),
        "title_chars": len(suggester.titles.blob),
        "build_ms": round(build_ms, 1),
        "limit": LIMIT,
        "mean_suggestions": round(float(np.mean(returned)), 2),
        "latency_ms": latency,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "target_p95_ms": TARGET_P95_MS,
        "target_met": latency["all"]["p95"] < TARGET_P95_MS,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"{result['date']}-suggest"
    stem.with_suffix(".json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    lines = [f"# Suggestions at {args.items:,} titles ({result['date']})", "",
             f"Build {result['build_ms']} ms ({result['distinct_titles']:,} distinct titles, {len(words)} dictionary words); "
             f"limit {LIMIT}; mean {result['mean_suggestions']} suggestions returned.", "",
             "| typed | n | p50 ms | p95 ms | p99 ms | max ms |", "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {v['n']} | {v['p50']} | {v['p95']} | {v['p99']} | {v['max']} |" for name, v in latency.items()]
    lines += ["", f"Target p95 < {TARGET_P95_MS} ms: {'met' if result['target_met'] else '**not met**'}."]
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
