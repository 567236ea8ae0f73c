"""python -m bench [--sizes 1000,10000,100000]      python -m bench --sizes 1000000 --no-quality

Runs every corpus size in its own process (bench/run_size.py, so each peak RSS is that size's),
then writes bench/results/<date>.json, a Markdown table (printed and saved) and PNG plots.
Sizes already in that day's results and not run again are kept, so the million-item run (an
hour or more) can be its own invocation. Quality (run_eval.py over the sample corpus, three
modes) goes into the same report.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from search.config import PROJECT_ROOT

from .report import markdown, plots
from .server import running_server

RESULTS = PROJECT_ROOT / "bench" / "results"
# Issue 10's targets, each at the sizes it is set for (no sizes: every size).
TARGETS = [
    {"measure": "server RSS after warm-up", "key": "server_rss_mb", "max": 1024, "unit": " MB", "sizes": [100_000]},
    {"measure": "server RSS after warm-up", "key": "server_rss_mb", "max": 6144, "unit": " MB", "sizes": [1_000_000]},
    {"measure": "start-up to first answer", "key": "startup_s", "max": 15, "unit": " s", "sizes": [1_000_000]},
    {"measure": "start-up to first hybrid answer (model loaded)", "key": "startup_hybrid_s", "max": 15, "unit": " s",
     "sizes": [1_000_000]},
    {"measure": "API keyword p95", "key": "latency_ms.api_keyword.p95", "max": 50, "unit": " ms", "sizes": [1_000_000]},
    {"measure": "API hybrid p95", "key": "latency_ms.api_hybrid.p95", "max": 100, "unit": " ms", "sizes": [1_000_000]},
    {"measure": "API hybrid p95 (issue 9: within 20 % of the 30.4 ms committed before)", "key": "latency_ms.api_hybrid.p95",
     "max": 36.5, "unit": " ms", "sizes": [50_000]},
    {"measure": "add 100 items", "key": "increment.seconds", "max": 60, "unit": " s", "sizes": [1_000_000]},
    {"measure": "add 100 items rewrites old vectors or weights", "key": "increment.vectors_or_weights_rewritten", "equals": False},
    {"measure": "keyword indexing (no embedding)", "key": "throughput_items_per_s.keyword_index", "min": 1500, "unit": " items/s"},
    {"measure": "keyword p50 / bm25s p50 (whole search)", "key": "ratios.keyword_vs_bm25s_p50", "max": 1.5,
     "sizes": [100_000, 1_000_000]},
    {"measure": "keyword p50 / bm25s p50 (ranking only)", "key": "ratios.keyword_rank_vs_bm25s_p50", "max": 1.5,
     "sizes": [100_000, 1_000_000]},
    {"measure": "semantic p50 / numpy kNN p50 (whole search)", "key": "ratios.semantic_vs_numpy_knn_p50", "max": 1.5,
     "sizes": [100_000, 1_000_000]},
    {"measure": "semantic p50 / numpy kNN p50 (ranking only)", "key": "ratios.semantic_rank_vs_numpy_knn_p50", "max": 1.5,
     "sizes": [100_000, 1_000_000]},
]


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    mem = 0
    try:
        mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
    except (OSError, StopIteration):
        pass
    import numpy
    import torch

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem / 1024 / 1024, 1), "python": platform.python_version(),
            "torch": torch.__version__, "numpy": numpy.__version__, "platform": platform.platform()}


def quality(workdir: Path) -> dict:
    """run_eval.py through the HTTP API against a fresh index of the sample corpus."""
    index = workdir / "quality-index"
    bulletin = Path(sys.executable).parent / "bulletin"
    subprocess.run([str(bulletin), "--index", str(index), "index", "--rebuild", str(PROJECT_ROOT / "data" / "sample")],
                   check=True, capture_output=True)
    script = PROJECT_ROOT / "tests" / "data" / "run_eval.py"
    with running_server(index, PROJECT_ROOT / "config.toml") as (_proc, base):
        out = subprocess.run([sys.executable, str(script), "--url", base, "--qrels", str(script.with_name("seed_qrels.json"))],
                             check=True, capture_output=True, text=True)
    result = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] in ("keyword", "semantic", "hybrid"):
            result[parts[0]] = {k: float(v) for k, v in (p.split("=") for p in parts[1:] if "=" in p)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--budget-min", type=float, default=0,
                        help="skip the remaining sizes once this many minutes have gone (0: run them all)")
    parser.add_argument("--workdir", default=str(PROJECT_ROOT / "var" / "bench"))
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--tag", default="", help="results kept under SIZE-TAG (e.g. int8: a run with another vector type)")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    today = dt.date.today().isoformat()
    previous = RESULTS / f"{today}.json"
    earlier = json.loads(previous.read_text(encoding="utf-8")) if previous.exists() else {}
    started = time.time()
    sizes: dict[str, dict] = {}
    for size in (int(s) for s in args.sizes.split(",")):
        elapsed = (time.time() - started) / 60
        if sizes and args.budget_min and elapsed > args.budget_min:
            print(f"skip {size}: {elapsed:.1f} min spent of the {args.budget_min} min budget", file=sys.stderr)
            continue
        print(f"== {size} items", file=sys.stderr)
        t0 = time.time()
        key = f"{size}-{args.tag}" if args.tag else str(size)
        out = subprocess.run([sys.executable, "-m", "bench.run_size", str(size), str(workdir / key)],
                             stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)  # progress goes to stderr
        if out.returncode != 0:
            sys.exit(f"size {size} failed (exit {out.returncode})")
        sizes[key] = json.loads(out.stdout.strip().splitlines()[-1])
        sizes[key]["wall_seconds"] = round(time.time() - t0, 1)
    kept = {n: s for n, s in earlier.get("sizes", {}).items() if n not in sizes}
    merged = dict(sorted({**kept, **sizes}.items(), key=lambda kv: (int(kv[0].partition("-")[0]), kv[0])))
    report = {"date": today, "machine": machine(), "targets": TARGETS, "sizes": merged,
              "quality": earlier.get("quality", {}) if args.no_quality else quality(workdir),
              "notes": ("Vectors of synthetic items are composed from their sentences' real vectors "
                        "(bench/corpus.py, ComposedEmbedder); embedding throughput is measured with the real "
                        "model on a slice of each corpus, and the 100 items of the incremental run are embedded "
                        "with the real model.")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{today}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    table = markdown(report)
    (RESULTS / f"{today}.md").write_text(table, encoding="utf-8")
    plots(report, RESULTS, today)
    print(table)

if __name__ == "__main__":
    main()
