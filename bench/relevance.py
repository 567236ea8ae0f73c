"""Relevance of the engine on judged query sets, through its own search API, in one process.

    python -m bench.relevance --eval ../shared/eval/run_eval.py \
        --set var/eval-dev:../shared/eval/dev/qrels.json --set var/sample:../shared/eval/seed_qrels.json \
        [--variant fusion=rrf] [--variant fusion=weighted,semantic_ratio=0.3] ...

For each set and each variant (search.* or relevance.* settings overridden), the figures of
run_eval.py: nDCG@10, R@10, R@20, AboutR@20, MRR, and over each query's whole match set (paged
through `total`) SetP, SetAboutR, SetR, Size. Same metrics code as run_eval.py (imported from it),
same engine code as the JSON API, no HTTP: a few seconds per set and variant.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
from dataclasses import replace
from pathlib import Path

from search.config import load_settings
from search.engine import SearchEngine


def _load_run_eval(path: str):
    spec = importlib.util.spec_from_file_location("run_eval", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _variant(settings, spec: str):
    """name=value,name=value over [search] and [relevance] settings."""
    search, rel = {}, {}
    for pair in filter(None, spec.split(",")):
        key, value = pair.split("=", 1)
        target = search if hasattr(settings.search, key) else rel
        current = getattr(settings.search if target is search else settings.relevance, key)
        target[key] = type(current)(value) if not isinstance(current, str) else value
    return replace(settings, search=replace(settings.search, **search), relevance=replace(settings.relevance, **rel))


def evaluate(engine: SearchEngine, qrels: dict, run_eval, mode: str) -> dict[str, float]:
    keys = {k: run_eval.flat(v) for k, v in qrels["items"].items()}
    rows = []
    for q in qrels["queries"]:
        first = engine.search(q["query"], mode=mode, limit=20)
        ranked = run_eval.ranked_keys(first["results"], keys)
        j = q["judgments"]
        results, offset = list(first["results"]), 20
        while offset < first["total"]:
            page = engine.search(q["query"], mode=mode, limit=100, offset=offset)
            results += page["results"]
            offset += 100
        sets = run_eval.set_scores(results, keys, j)
        rows.append((run_eval.ndcg(ranked, j), run_eval.recall(ranked, j, 10), run_eval.recall(ranked, j, 20),
                     run_eval.recall(ranked, j, 20, 2), run_eval.mrr(ranked, j), *sets))
    names = ("nDCG@10", "R@10", "R@20", "AboutR@20", "MRR", "SetP", "SetAboutR", "SetR", "Size")
    return {n: sum(r[i] for r in rows) / len(rows) for i, n in enumerate(names)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=None)
    ap.add_argument("--eval", required=True, help="path of run_eval.py (its metrics are used)")
    ap.add_argument("--set", dest="sets", action="append", required=True, help="INDEX:QRELS (repeatable)")
    ap.add_argument("--variant", action="append", default=[""], help="settings to override, name=value,...")
    ap.add_argument("--modes", default="hybrid")
    ap.add_argument("--json", help="also write the figures here")
    a = ap.parse_args()
    run_eval = _load_run_eval(a.eval)
    base = load_settings(a.config)
    embedder = None
    out = []
    for spec in a.sets:
        index, qrels_path = spec.split(":", 1)
        qrels = json.loads(Path(qrels_path).read_text(encoding="utf-8"))
        for variant in a.variant:
            settings = _variant(base.with_index(index), variant)
            engine = SearchEngine(settings, embedder=embedder)
            embedder = engine.embedder
            for mode in a.modes.split(","):
                figures = evaluate(engine, qrels, run_eval, mode)
                out.append({"set": qrels_path, "index": index, "variant": variant or "default", "mode": mode, **figures})
                print(f"{Path(qrels_path).name:16s} {variant or 'default':34s} {mode:8s} "
                      + " ".join(f"{k}={v:.3f}" for k, v in figures.items()), flush=True)
            engine.close()
    if a.json:
        Path(a.json).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
