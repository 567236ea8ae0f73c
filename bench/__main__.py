"""python -m bench [--sizes 1000,10000,50000,100000] [--budget-min 30]

Runs every corpus size in its own process (so each peak RSS is that size's), then writes
bench/results/<date>.json, a Markdown table (printed and saved) and PNG plots.
Quality (run_eval.py over the sample corpus, three modes) goes into the same report.
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
TARGETS = {"api_keyword_p95_ms": 60, "api_hybrid_p95_ms": 100, "keyword_index_items_per_s": 500,
           "embedding_items_per_s": 25, "peak_rss_mb": 2048}


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
    parser.add_argument("--sizes", default="1000,10000,50000,100000")
    parser.add_argument("--budget-min", type=float, default=30, help="skip sizes once this much time has gone (the 100k run is optional)")
    parser.add_argument("--workdir", default=str(PROJECT_ROOT / "var" / "bench"))
    parser.add_argument("--no-quality", action="store_true")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    sizes: dict[str, dict] = {}
    for size in (int(s) for s in args.sizes.split(",")):
        elapsed = (time.time() - started) / 60
        if sizes and elapsed > args.budget_min * (0.4 if size >= 100_000 else 1):
            print(f"skip {size}: {elapsed:.1f} min spent of the {args.budget_min} min budget", file=sys.stderr)
            continue
        print(f"== {size} items", file=sys.stderr)
        t0 = time.time()
        out = subprocess.run([sys.executable, "-m", "bench.run_size", str(size), str(workdir / str(size))],
                             capture_output=True, text=True, cwd=PROJECT_ROOT)
        if out.returncode != 0:
            sys.exit(f"size {size} failed:\n{out.stderr[-3000:]}")
        sizes[str(size)] = json.loads(out.stdout.strip().splitlines()[-1])
        sizes[str(size)]["wall_seconds"] = round(time.time() - t0, 1)
    today = dt.date.today().isoformat()
    report = {"date": today, "machine": machine(), "targets": TARGETS, "sizes": sizes,
              "quality": {} if args.no_quality else quality(workdir),
              "notes": ("Vectors of synthetic items are the normalised mean of their sentences' real vectors "
                        "(bench/run_size.py, ComposedEmbedder); embedding throughput is measured with the real "
                        "model on a slice of each corpus.")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{today}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    table = markdown(report)
    (RESULTS / f"{today}.md").write_text(table, encoding="utf-8")
    plots(report, RESULTS, today)
    print(table)


if __name__ == "__main__":
    main()
