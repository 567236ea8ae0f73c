"""python -m bench.draft_check [--per-kind N] [--index DIR]

Precision and recall of the draft check's marks (几乎相同 / 部分重复) on the fixed pairs of
bench/reuse_pairs.py, over one real index of the sample bulletins plus the whole development
set (real model), and the time the server takes for a 2,000-character draft.
Writes bench/results/draft-check-<date>.json and .md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from search.config import PROJECT_ROOT, Settings, load_settings
from search.reuse import NEAR, PARTIAL, ReuseRule, compare, fold

from .reuse_pairs import DEV_DIR, KINDS, Pair, build_pairs, load_dev

RESULTS = PROJECT_ROOT / "bench" / "results"
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
DRAFT_CHARS = 2000  # the timed draft's length
TIMED_DRAFTS = 20


def save_report(stem_name: str, report: dict[str, Any], text: str) -> None:
    """bench/results/<stem>.json and .md, and the Markdown on stdout."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / stem_name
    stem.with_suffix(".json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    stem.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    print(text)


def build_index(settings: Settings, folder: Path, embedder: Any = None) -> Settings:
    """The sample bulletins and the dev items in one index (incremental: reused when up to date)."""
    from indexer.build import build

    indexed = settings.with_index(folder)
    build([SAMPLE_DIR, DEV_DIR / "items.jsonl"], indexed, embedder=embedder)
    return indexed


def dev_rows(engine: Any) -> dict[str, int]:
    """Dev id -> engine row, through the record number each dev item was read from."""
    items, _ = load_dev()
    out = {}
    for row, item in engine.snapshot.iter_items():
        if item.source and Path(item.source.file).name == "items.jsonl":
            out[items[item.source.position - 1]["id"]] = row
    return out


def evaluate(engine: Any, pairs: Sequence[Pair], limit: int | None = None) -> dict[str, Any]:
    """Run every distinct draft through the engine's draft check and score the marks.

    Per kind: how often the pair's target got each label (engine: in the returned results;
    pair: the rule applied to draft and target directly, whether or not the target was a
    candidate). Over all drafts: every mark on an item the draft was not made from is a false
    positive (the fillers are new text), so precision counts marks on the source item only.
    """
    rows = dev_rows(engine)
    limit = limit or engine.settings.search.max_limit
    rule = ReuseRule.from_settings(engine.settings.search)
    labels: dict[str, dict[int, str]] = {}
    for draft in dict.fromkeys(p.draft for p in pairs):
        results = engine.similar_text(draft, limit=limit)["results"]
        labels[draft] = {engine.snapshot.row_of_id(r["id"]): r["reuse"] for r in results if r["reuse"]}
    kinds: dict[str, dict[str, Any]] = {}
    marks = {NEAR: Counter(), PARTIAL: Counter()}
    source_of = {p.draft: p.source for p in pairs}
    for draft, found in labels.items():
        for row, label in found.items():
            marks[label]["correct" if row == rows[source_of[draft]] else "wrong"] += 1
    for pair in pairs:
        kind = kinds.setdefault(pair.kind, {"pairs": 0, "expect": pair.expect, "engine": Counter(), "pair": Counter()})
        kind["pairs"] += 1
        target = rows[pair.target]
        kind["engine"][str(labels[pair.draft].get(target))] += 1
        overlap = compare(fold(pair.draft), fold(engine.snapshot.item(target).text))
        kind["pair"][str(overlap.label(rule))] += 1
    kinds = {name: kinds[name] for name in KINDS if name in kinds}
    for kind in kinds.values():
        expect = str(kind["expect"])
        kind["recall"] = kind["engine"][expect] / kind["pairs"]  # for negatives: share left unmarked
        kind["pair_recall"] = kind["pair"][expect] / kind["pairs"]
        kind["engine"], kind["pair"] = dict(kind["engine"]), dict(kind["pair"])
    precision = {label: (c["correct"] / (c["correct"] + c["wrong"]) if c["correct"] + c["wrong"] else 1.0)
                 for label, c in marks.items()}
    return {"kinds": kinds, "precision": precision, "marks": {k: dict(v) for k, v in marks.items()},
            "drafts": len(labels)}


def timed_drafts(count: int = TIMED_DRAFTS, chars: int = DRAFT_CHARS) -> list[str]:
    """2,000-character drafts: runs of consecutive dev items, the first of each pasted whole."""
    items, _ = load_dev()
    drafts = []
    for n in range(count):
        text, k = "", n * 7
        while len(text) < chars:
            text += items[k % len(items)]["text"] + "\n"
            k += 1
        drafts.append(text[:chars])
    return drafts


class _Precomputed:
    """An embedder that answers from vectors computed beforehand: times the draft check without the model."""

    def __init__(self, real: Any, texts: Sequence[str], passage_chars: int) -> None:
        from search.passages import split_items

        self.name = real.name
        batches = [split_items([("", t)], passage_chars) for t in texts]
        self.vectors = {tuple(b.texts): real.embed_items(b) for b in batches}

    def embed_items(self, batch: Any, progress: Any = None) -> Any:
        return self.vectors[tuple(batch.texts)]


from search.passages import split_items  # noqa: E402


def time_in_process(engine: Any, drafts: Sequence[str]) -> dict[str, float]:
    """Median milliseconds per draft: the model's embedding of the draft, and the rest of
    similar_text (cosines, candidates, rare words, exact comparison, results) with the vector given."""
    from search.engine import SearchEngine

    embed = []
    for draft in [*drafts, *drafts]:  # the first round warms the model up (as the server's first requests would)
        t0 = time.perf_counter()
        engine.embedder.embed_items(split_items([("", draft.strip())], engine.settings.embedding.passage_chars))
        embed.append(time.perf_counter() - t0)
    given = SearchEngine(engine.settings, embedder=_Precomputed(engine.embedder, [d.strip() for d in drafts],
                                                                  engine.settings.embedding.passage_chars))
    check = []
    for draft in [drafts[0], *drafts]:  # the first call builds the folding table once per process
        t0 = time.perf_counter()
        given.similar_text(draft)
        check.append(time.perf_counter() - t0)
    given.close()
    ms = lambda xs: round(statistics.median(xs) * 1000, 1)  # noqa: E731
    return {"embedding_ms": ms(embed[len(drafts):]), "draft_check_without_embedding_ms": ms(check[1:])}


def time_over_http(index: Path, config: Path, drafts: Sequence[str]) -> dict[str, float]:
    """Median milliseconds for POST /api/similar and POST /draft on a real `bulletin serve`."""
    from urllib.parse import urlencode

    from .server import running_server

    out: dict[str, list[float]] = defaultdict(list)
    with running_server(index, config) as (_proc, base):
        for n, draft in enumerate(drafts):
            api = urllib.request.Request(base + "/api/similar", data=json.dumps({"text": draft}).encode(),
                                         headers={"Content-Type": "application/json"})
            page = urllib.request.Request(base + "/draft", data=urlencode({"text": draft}).encode())
            for name, request in (("api_similar_ms", api), ("draft_page_ms", page)):
                t0 = time.perf_counter()
                with urllib.request.urlopen(request, timeout=120) as response:
                    response.read()
                if n:  # the first round warms the server up
                    out[name].append(time.perf_counter() - t0)
    return {name: round(statistics.median(xs) * 1000, 1) for name, xs in out.items()}


def markdown(report: dict[str, Any]) -> str:
    expect_names = {"near": "几乎相同", "partial": "部分重复", "None": "no mark"}
    lines = ["| pairs | n | expected | marked as expected (engine) | labels (engine) | rule on the pair alone |",
             "|---|---|---|---|---|---|"]
    for name, k in report["evaluation"]["kinds"].items():
        lines.append(f"| {name} | {k['pairs']} | {expect_names[str(k['expect'])]} | {k['recall']:.3f} | "
                     f"{', '.join(f'{expect_names[a]} {b}' for a, b in sorted(k['engine'].items()))} | {k['pair_recall']:.3f} |")
    ev = report["evaluation"]
    lines.append("")
    lines.append(f"Precision over {ev['drafts']} drafts: 几乎相同 {ev['precision']['near']:.3f} "
                 f"({ev['marks']['near']}), 部分重复 {ev['precision']['partial']:.3f} ({ev['marks']['partial']}).")
    lines.append("")
    lines.append(f"Timing (median ms of {TIMED_DRAFTS} drafts of {DRAFT_CHARS:,} characters, {report['items_indexed']} items): "
                 + ", ".join(f"{k} {v}" for k, v in report["timing"].items()))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=None, help="source items per kind (default: all 435)")
    parser.add_argument("--index", type=Path, default=PROJECT_ROOT / "var" / "bench-draft-check")
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "config.toml")
    args = parser.parse_args()
    from search.engine import SearchEngine

    settings = build_index(load_settings(args.config), args.index)
    engine = SearchEngine(settings)
    items, topic = load_dev()
    pairs = build_pairs(items, topic, per_kind=args.per_kind)
    drafts = timed_drafts()  # timed first, in a fresh process
    timing = {**time_in_process(engine, drafts), **time_over_http(args.index, args.config, drafts)}
    started = time.time()
    evaluation = evaluate(engine, pairs)
    report = {"date": dt.date.today().isoformat(), "items_indexed": engine.snapshot.count, "pairs": len(pairs),
              "evaluation": evaluation, "timing": timing, "evaluation_seconds": round(time.time() - started)}
    save_report(f"draft-check-{report['date']}", report, markdown(report))


if __name__ == "__main__":
    main()
