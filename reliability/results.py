"""Where the soak, chaos and fuzz runs put their figures: one JSON per day under
reliability/results/ (each run fills its own section), a Markdown summary beside it, plots.

Every run also records the machine and how busy it was (load averages sampled during the run):
the figures come from a shared 2-core machine, not a quiet one.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "reliability" / "results"
WORK = ROOT / "var" / "reliability"  # built indexes and scratch folders (not committed)


def today() -> str:
    return dt.date.today().isoformat()


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text()).group(1).strip()
    except (OSError, AttributeError):
        pass
    memory_gb = None
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory_gb = round(kb / 1024 / 1024, 1)
    except (OSError, AttributeError):
        pass
    return {"host": platform.node(), "cpu": cpu, "cores": os.cpu_count(), "memory_gb": memory_gb,
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version()}


class LoadSampler:
    """Samples the 1-minute load average every `every` seconds while the run goes on: how much
    else was running beside it (2 cores: a load of 6 means three runnable processes per core)."""

    def __init__(self, every: float = 30.0) -> None:
        self.every, self.samples = every, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(self.every)

    def __enter__(self) -> "LoadSampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def summary(self) -> dict[str, float]:
        s = self.samples or [os.getloadavg()[0]]
        return {"min": round(min(s), 2), "mean": round(sum(s) / len(s), 2), "max": round(max(s), 2)}


def code_state() -> dict[str, Any]:
    """The commit the run used, and tracked files that differed from it (others commit on the same
    working tree while these long runs go on)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout
    return {"commit": git("rev-parse", "--short", "HEAD").strip(),
            "uncommitted": [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()]}


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024


def record(section: str, data: dict[str, Any], out: Path | None = None) -> Path:
    """Merge one run's section into the day's JSON (or `out`) and rewrite the Markdown summary."""
    path = out or RESULTS / f"{today()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    report = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    report["date"] = report.get("date") or today()
    report["machine"] = machine()
    report[section] = {**data, "code": data.get("code") or code_state(), "finished": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    path.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    return path


def _ms(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [f"# Reliability runs {report['date']}", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, Python {m['python']}. "
             "Shared with other agents' test suites and benchmarks while these ran: the load averages below "
             "say how busy it was (on 2 cores a load of 2 is full).", ""]
    soak = report.get("soak")
    if soak:
        lat = soak["latency_ms"]
        lines += ["## Soak (`make soak`)", "",
                  f"`bulletin serve` (waitress) on loopback over {soak['index_items']:,} items, {soak['clients']} clients for "
                  f"{soak['seconds']:,.0f} s mixing {len(soak['by_operation'])} operations, with {soak['indexing_runs']} "
                  "incremental `bulletin index` runs (one a minute, or as soon as the previous one ended) adding and deleting items. "
                  f"Probe searches checked against the old or new state: {soak['probe_checks']:,}; stats counts: {soak['stats_checks']:,}.", "",
                  "| requests | requests/s | errors (5xx or failed) | invalid responses | bad probe totals | p50 / p95 / p99 ms | RSS first → last minute (MB) | load avg (mean / max) |",
                  "|---|---|---|---|---|---|---|---|",
                  f"| {soak['requests']:,} | {soak['requests_per_s']} | {soak['errors']} | {soak['invalid_responses']} | "
                  f"{soak['bad_probe_totals']} | {_ms(lat['p50'])} / {_ms(lat['p95'])} / {_ms(lat['p99'])} | "
                  f"{soak['rss_mb_per_minute'][0]:,.0f} → {soak['rss_mb_per_minute'][-1]:,.0f} | "
                  f"{soak['load_average']['mean']} / {soak['load_average']['max']} |", "",
                  "Per minute:", "", "| minute | requests | p50 ms | p95 ms | p99 ms | server RSS MB | index items |",
                  "|---|---|---|---|---|---|---|"]
        for row in soak["per_minute"]:
            lines.append(f"| {row['minute']} | {row['requests']:,} | {_ms(row['p50'])} | {_ms(row['p95'])} | {_ms(row['p99'])} | "
                         f"{row['rss_mb']:,.0f} | {row['items']:,} |")
        if soak.get("plot"):
            lines += ["", f"![latency and RSS per minute]({soak['plot']})"]
        lines += ["", "Per operation:", "", "| operation | requests | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|---|"]
        for op, row in soak["by_operation"].items():
            lines.append(f"| {op} | {row['requests']:,} | {_ms(row['p50'])} | {_ms(row['p95'])} | {_ms(row['p99'])} |")
        lines += ["", "Indexing runs (`bulletin index` on the changing folder, real model):", "",
                  "| start (s) | seconds | exit | new items | deleted | replaced | items after |", "|---|---|---|---|---|---|---|"]
        for run in soak["indexing"]:
            lines.append(f"| {run['start_s']:,.0f} | {run['seconds']:,.0f} | {run['exit']} | {run['new']} | {run['deleted']} | "
                         f"{run['replaced']} | {run['items_after']:,} |")
        if soak.get("notes"):
            lines += ["", soak["notes"]]
        lines.append("")
    chaos = report.get("chaos")
    if chaos:
        runners = chaos.get("kills_by_runner", {})
        lines += ["## Chaos (`make chaos`)", "",
                  "| SIGKILLed runs | real CLI + model / forked build() | at a named stage / at a random moment | bad states | lost items | stale items | unopenable | runs that failed | minutes | load avg (mean / max) |",
                  "|---|---|---|---|---|---|---|---|---|---|",
                  f"| {chaos['kills']:,} | {runners.get('cli', 0):,} / {runners.get('fork', 0):,} | {chaos['kills_at_stage']:,} / "
                  f"{chaos['kills_random']:,} | {chaos['bad_states']} | {chaos['lost_items']} | {chaos['stale_items']} | "
                  f"{chaos['unopenable']} | {chaos['failed_runs']} | {chaos['seconds'] / 60:,.0f} | {chaos['load_average']['mean']} / "
                  f"{chaos['load_average']['max']} |", "",
                  "Kills per stage: " + ", ".join(f"{k} {v}" for k, v in chaos["by_stage"].items()) + "; "
                  + "stage not reached (the run finished, e.g. no merge): "
                  + (", ".join(f"{k} {v}" for k, v in chaos["stage_not_reached"].items()) or "none") + ".", "",
                  f"Index states found after the runs (killed or not): old {chaos['old_states']}, new {chaos['new_states']}, "
                  f"anything else {chaos['bad_states']}; search totals that differed for the same state: {chaos['total_mismatch']}; "
                  f"runs that merged segments: {chaos['runs_with_merges']}; a successful run leaving more than two "
                  f"generations: {chaos['leftover_generations']}.", "",
                  "| fault mid-run | runs | failed cleanly (exit 1, message) | finished before the fault | finished anyway | failed otherwise | old state | new state | bad state | next run failed |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for fault in ("disk_full", "read_only"):
            for label, c in ((f"{fault} (forked)", chaos[fault]), (f"{fault} (CLI)", chaos[fault].get("cli", {}))):
                lines.append(f"| {label} | {c.get('runs', 0) - (c.get('cli', {}) or {}).get('runs', 0)} | {c.get('failed_cleanly', 0)} | "
                             f"{c.get('finished_before_fault', 0)} | {c.get('finished_anyway', 0)} | {c.get('failed_uncleanly', 0)} | "
                             f"{c.get('old_state', 0)} | {c.get('new_state', 0)} | {c.get('bad_state', 0)} | {c.get('failed_after_clearing', 0)} |")
        lines.append("")
        if chaos.get("notes"):
            lines += [chaos["notes"], ""]
    fuzz = report.get("fuzz")
    if fuzz:
        lines += ["## Fuzz (`make fuzz`)", "", "| property | inputs | failures | seconds |", "|---|---|---|---|"]
        for name, t in fuzz["tests"].items():
            lines.append(f"| {name} | {t['examples']:,} | {t['failures']} | {t['seconds']:,.0f} |")
        lines += ["", f"Total: {fuzz['examples']:,} generated inputs, {fuzz['failures']} failures "
                      f"(load avg mean {fuzz['load_average']['mean']}, max {fuzz['load_average']['max']}).", ""]
        if fuzz.get("notes"):
            lines += [fuzz["notes"], ""]
    return "\n".join(lines)


def wait_until(predicate, timeout: float, step: float = 0.2) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def note(section: str, text: str, path: Path | None = None) -> None:
    """Add a remark to a section of a day's results (what the figures alone do not say) and
    rewrite the Markdown: `python -m reliability.results SECTION "text" [FILE]`."""
    path = path or RESULTS / f"{today()}.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    report[section]["notes"] = text
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    path.with_suffix(".md").write_text(markdown(report), encoding="utf-8")


if __name__ == "__main__":
    import sys

    note(sys.argv[1], sys.argv[2], Path(sys.argv[3]) if len(sys.argv) > 3 else None)
