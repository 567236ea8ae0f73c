"""Soak: the real server (`bulletin serve`, waitress) on loopback over a 100k-item index, many
concurrent clients for minutes, while `bulletin index` adds and deletes items every minute.

    python -m reliability.soak [--clients 50] [--seconds 600] [--items 100000] [--out FILE]

The index is built once from a synthetic corpus (bench/corpus.py; vectors composed from the
sample's real sentence vectors, so 100k items take minutes, not hours) and cached under
var/reliability/soak/; each run serves a hard-linked copy of it (indexing never modifies a
file in place). Every minute a `bulletin index` subprocess (the real model) indexes a folder
where a new file arrives and existing files are rewritten with items deleted and replaced
(a file that vanishes keeps its items under `bulletin index`, by design).

Clients mix every endpoint and mode: search (keyword, semantic, hybrid; unit, year, month,
date, kind, series and issue filters; every sort; paging), suggest, items, similar items,
POST similar, units and a unit's items, stats, health, the HTML pages (search, item, unit,
issue, draft GET and POST, about) and the CSV and Word exports. Checked: no 5xx, no failed
request (any status other than 200 is a failure: every request is valid), every JSON body
valid against the OpenAPI document the server publishes, and every probe search's total (and
every stats count) equal to the old or the new state's, the states being computed
independently in this process after each indexing run. Reported: requests/s, latency
p50/p95/p99 and server RSS (VmRSS) per minute, with a plot.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .corpus import Corpus, config_copy
from .results import RESULTS, ROOT, WORK, LoadSampler, code_state, record, rss_mb, today

BULLETIN = Path(sys.executable).parent / "bulletin"
SEED = 31
PROBES = ("融资", "网格", "招商引资", "营商环境")
REQUEST_TIMEOUT = 300
# Operation weights: searches dominate, as in use; every endpoint appears every minute.
OPERATIONS = {
    "search": 30, "probe": 8, "suggest": 10, "item": 6, "similar": 4, "similar_text": 2, "units": 2, "unit_items": 3,
    "stats": 3, "health": 2, "page_search": 6, "page_item": 4, "page_unit": 2, "page_issue": 2, "page_draft": 1,
    "page_draft_post": 1, "page_about": 1, "page_home": 1, "export_csv": 1, "export_docx": 1, "openapi": 1,
}
SCHEMAS = {"search": "SearchResponse", "probe": "SearchResponse", "suggest": "SuggestResponse", "item": "Item",
           "similar": "SimilarResponse", "similar_text": "SimilarResponse", "units": "Units", "unit_items": "UnitItems",
           "stats": "Stats", "health": "Health"}


# --------------------------------------------------------------------- the index
def sample_items(settings):
    from indexer.ingest import ingest

    return ingest([ROOT / "data" / "sample"], settings.max_file_bytes, settings.parser.brief_title_max_chars).items


def cached_index(items: int, config: Path) -> Path:
    """The built index for `items` synthetic items, built in a child process on first use."""
    from search.store import SCHEMA_VERSION

    folder = WORK / "soak" / f"index-{items}-seed{SEED}-schema{SCHEMA_VERSION}"
    if not (folder / "ready.json").exists():
        print(f"[soak] building the {items:,}-item index once under {folder} (vectors composed from real sentence vectors)", flush=True)
        started = time.time()
        run = subprocess.run([sys.executable, "-m", "reliability.soak", "--build-index", str(folder), "--items", str(items),
                              "--config", str(config)], cwd=ROOT)
        if run.returncode:
            raise SystemExit("building the soak index failed")
        print(f"[soak] index built in {time.time() - started:.0f} s", flush=True)
    return folder


def build_index(folder: Path, items: int, config: Path) -> None:
    from bench.corpus import ComposedEmbedder, sentences, write_corpus
    from indexer.build import build
    from search.config import load_settings
    from search.embedding import Embedder

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    settings = load_settings(config).with_index(folder / "ix")
    sample = sample_items(settings)
    corpus = write_corpus(sample, items, folder / "base", seed=SEED)
    composed = ComposedEmbedder(Embedder(settings.embedding, ROOT), sentences(sample))
    started = time.time()
    report = build([corpus], settings, embedder=composed)  # type: ignore[arg-type]
    if report.failed or report.total != items:
        raise SystemExit(f"indexing failed: {[(f.path, f.error) for f in report.failed]}, {report.total} of {items}")
    (folder / "ready.json").write_text(json.dumps({"items": items, "seed": SEED, "seconds": round(time.time() - started, 1),
                                                   "timings": report.timings}), encoding="utf-8")


def link_copy(source: Path, target: Path) -> None:
    """A copy sharing every file's inode (the indexer writes new files, never into old ones)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, copy_function=os.link)


# ------------------------------------------------------------------- the clients
@dataclass
class Record:
    end: float
    op: str
    status: int
    seconds: float


class Clients:
    def __init__(self, base: str, validators: dict, ids: list[str], units: list[str], stop_at: float, seed: int) -> None:
        self.base, self.validators, self.ids, self.units = base, validators, ids, units
        self.stop_at, self.seed = stop_at, seed
        self.records: list[Record] = []
        self.failures: list[str] = []
        self.invalid: list[str] = []
        self.probes: list[tuple[float, float, str, int]] = []  # start, end, query, total
        self.counts: list[tuple[float, float, int]] = []  # start, end, stats items
        self.lock = threading.Lock()
        self.ops, self.weights = list(OPERATIONS), list(OPERATIONS.values())

    def request(self, path: str, data: bytes | None = None, ctype: str = "application/json") -> tuple[int, bytes, str]:
        req = urllib.request.Request(self.base + path, data=data, headers={"Content-Type": ctype} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT) as r:
                return r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as err:
            return err.code, err.read(), err.headers.get("Content-Type", "")

    def search_args(self, rng: random.Random) -> dict:
        from bench.queries import QUERIES

        args: dict = {"q": rng.choice(QUERIES), "mode": rng.choice(("keyword", "semantic", "hybrid"))}
        r = rng.random()
        if r < 0.15:
            args["units"] = rng.choice(self.units)
        elif r < 0.25:
            args["year"] = rng.choice(("2021", "2022", "2023", "2024"))
        elif r < 0.32:
            args["month"] = f"{rng.choice((2022, 2023, 2024))}-{rng.randint(1, 12):02d}"
        elif r < 0.40:
            args["from"], args["to"] = "2023-01-01", f"2024-{rng.randint(1, 12):02d}-28"
        elif r < 0.46:
            args["kind"] = rng.choice(("measure", "brief"))
        elif r < 0.50:
            args["series"], args["issue"] = "上街信息", str(rng.randint(1, 60))
        if rng.random() < 0.3:
            args["sort"] = rng.choice(("newest", "oldest"))
        if rng.random() < 0.2:
            args["offset"] = str(rng.choice((20, 40, 100)))
        if rng.random() < 0.2:
            args["limit"] = str(rng.choice((5, 10, 50)))
        return args

    def one(self, rng: random.Random) -> None:
        from bench.queries import QUERIES

        op = rng.choices(self.ops, self.weights)[0]
        q = urllib.parse.urlencode
        data, ctype, probe = None, "application/json", None
        if op == "search":
            path = "/api/search?" + q(self.search_args(rng))
        elif op == "probe":
            probe = rng.choice(PROBES)
            path = "/api/search?" + q({"q": probe, "mode": "keyword"})
        elif op == "suggest":
            word = rng.choice(QUERIES)
            path = "/api/suggest?" + q({"q": word[: rng.randint(1, min(4, len(word)))]})
        elif op == "item":
            path = f"/api/items/{rng.choice(self.ids)}"
        elif op == "similar":
            path = f"/api/items/{rng.choice(self.ids)}/similar" + ("?other_units=1" if rng.random() < 0.5 else "")
        elif op == "similar_text":
            path, data = "/api/similar", json.dumps({"text": "。".join(rng.sample(QUERIES, 3)) * 2}, ensure_ascii=False).encode()
        elif op == "units":
            path = "/api/units"
        elif op == "unit_items":
            path = f"/api/units/{urllib.parse.quote(rng.choice(self.units))}?" + q({"sort": rng.choice(("newest", "oldest")),
                                                                                     "offset": rng.choice((0, 0, 20))})
        elif op == "stats":
            path = "/api/stats"
        elif op == "health":
            path = "/api/health"
        elif op == "page_search":
            args = self.search_args(rng)
            args.pop("offset", None)
            args.pop("limit", None)
            path = "/search?" + q({**args, "page": rng.choice((1, 1, 2, 3))})
        elif op == "page_item":
            path = f"/items/{rng.choice(self.ids)}"
        elif op == "page_unit":
            path = f"/units/{urllib.parse.quote(rng.choice(self.units))}"
        elif op == "page_issue":
            path = "/issue?" + q({"issue": rng.randint(1, 60), "series": "上街信息"})
        elif op == "page_draft":
            path = "/draft"
        elif op == "page_draft_post":
            path, ctype = "/draft", "application/x-www-form-urlencoded"
            data = q({"text": "。".join(rng.sample(QUERIES, 4))}).encode()
        elif op == "page_about":
            path = "/about"
        elif op == "page_home":
            path = "/"
        elif op in ("export_csv", "export_docx"):  # narrowed by a unit and a year, as people export
            path = f"/export.{op[7:]}?" + q({"q": rng.choice(QUERIES[:25]), "mode": rng.choice(("keyword", "hybrid")),
                                             "units": rng.choice(self.units), "year": rng.choice(("2023", "2024"))})
        else:
            path = "/api/openapi.json"
        start = time.time()
        try:
            status, body, got_type = self.request(path, data, ctype)
        except Exception as exc:  # noqa: BLE001 - a failed request is a finding, recorded with its cause
            end = time.time()
            with self.lock:
                self.records.append(Record(end, op, 0, end - start))
                self.failures.append(f"{op} {path[:120]}: {type(exc).__name__}: {exc}")
            return
        end = time.time()
        with self.lock:
            self.records.append(Record(end, op, status, end - start))
        if status != 200:
            with self.lock:
                self.failures.append(f"{op} {path[:120]}: {status} {body[:200]!r}")
            return
        try:
            if op in SCHEMAS or op == "openapi":
                payload = json.loads(body)
                if op in SCHEMAS:
                    self.validators[SCHEMAS[op]].validate(payload)
                if op == "probe":
                    with self.lock:
                        self.probes.append((start, end, probe, payload["total"]))
                elif op == "stats":
                    with self.lock:
                        self.counts.append((start, end, payload["items"]))
            elif op.startswith("page"):
                assert got_type.startswith("text/html") and b"</html>" in body, f"{got_type} {len(body)} bytes"
            elif op == "export_csv":
                assert got_type.startswith("text/csv") and body, got_type
            elif op == "export_docx":
                assert "wordprocessingml" in got_type and body[:2] == b"PK", got_type
        except Exception as exc:  # noqa: BLE001
            with self.lock:
                self.invalid.append(f"{op} {path[:120]}: {type(exc).__name__}: {str(exc)[:300]}")

    def run(self, n: int) -> None:
        rng = random.Random(self.seed * 1000 + n)
        time.sleep(rng.uniform(0, 2))  # not all at once
        while time.time() < self.stop_at:
            self.one(rng)


# ------------------------------------------------------------------- the indexer
@dataclass
class IndexRun:
    started: float
    ended: float = 0.0
    code: int | None = None
    new: int = 0
    deleted: int = 0
    replaced: int = 0
    output: str = ""
    items: int | None = None
    totals: dict | None = None


def state_of(settings) -> tuple[int, dict[str, int]]:
    """The index's item count and the probes' keyword totals, computed in this process."""
    from search.engine import SearchEngine

    engine = SearchEngine(settings)
    try:
        return engine.stats()["items"], {q: engine.search(q, mode="keyword", limit=1)["total"] for q in PROBES}
    finally:
        engine.close()


# -------------------------------------------------------------------- the report
def percentiles(seconds: list[float]) -> dict[str, float | None]:
    if not seconds:
        return {"p50": None, "p95": None, "p99": None}
    ms = np.array(seconds) * 1000
    return {p: round(float(np.percentile(ms, int(p[1:]))), 1) for p in ("p50", "p95", "p99")}


def plot(soak: dict, path: Path, title: str) -> None:
    """Latency percentiles and server RSS per minute (from the soak section of the results), the
    indexing runs shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_minute = soak["per_minute"]
    minutes = [row["minute"] + 0.5 for row in per_minute]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
    for key, style in (("p50", "-o"), ("p95", "-s"), ("p99", "-^")):
        ax1.plot(minutes, [row[key] for row in per_minute], style, label=key, markersize=4)
    ax1.set_ylabel("latency (ms)")
    ax1.set_ylim(bottom=0)
    ax1.legend(loc="upper left", ncol=3)
    ax1.grid(True, alpha=0.3)
    ax2.plot(minutes, [row["rss_mb"] for row in per_minute], "-o", color="tab:red", markersize=4, label="server RSS at the minute's end")
    ax2.plot(minutes, [row["rss_max_mb"] for row in per_minute], ":", color="tab:red", label="server RSS, minute's peak")
    ax2.set_ylabel("server RSS (MB)")
    ax2.set_xlabel("minute")
    ax2.grid(True, alpha=0.3)
    ax2.set_ylim(bottom=0)
    for run in soak["indexing"]:
        for ax in (ax1, ax2):
            ax.axvspan(run["start_s"] / 60, (run["start_s"] + run["seconds"]) / 60, color="0.88", zorder=0)
    ax2.legend(loc="lower right", title="grey: bulletin index runs")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--items", type=int, default=100_000, help="items in the served index")
    parser.add_argument("--index-every", type=float, default=60, help="seconds between indexing runs' starts")
    parser.add_argument("--out", type=Path, default=None, help="results JSON (default reliability/results/<date>.json)")
    parser.add_argument("--build-index", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    if args.build_index:
        build_index(args.build_index, args.items, args.config)
        return 0

    import jsonschema
    from referencing import Registry, Resource

    from bench.queries import QUERIES
    from bench.server import running_server
    from search.config import load_settings

    work = WORK / "soak"
    work.mkdir(parents=True, exist_ok=True)
    config = config_copy(load_settings(ROOT / "config.toml"), work)
    settings = load_settings(config)
    cache = cached_index(args.items, config)
    run_dir = work / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir()
    index = run_dir / "ix"
    link_copy(cache / "ix", index)
    cfg = settings.with_index(index)
    live = Corpus(run_dir / "live", settings, sample_items(settings), seed=SEED + 1, files=3)
    states = [state_of(cfg)]  # state 0: the cached index
    code = code_state()
    print(f"[soak] {states[0][0]:,} items; probes {states[0][1]}", flush=True)

    with running_server(index, config) as (server, base), LoadSampler() as load:
        def get_json(path: str):
            with urllib.request.urlopen(base + path, timeout=REQUEST_TIMEOUT) as r:
                return json.loads(r.read())

        spec = get_json("/api/openapi.json")
        from openapi_spec_validator import validate as validate_spec

        validate_spec(spec)
        registry = Registry().with_resource("urn:api", Resource.from_contents({**spec, "$schema": "https://json-schema.org/draft/2020-12/schema"}))
        validators = {name: jsonschema.Draft202012Validator({"$ref": f"urn:api#/components/schemas/{name}"}, registry=registry)
                      for name in set(SCHEMAS.values())}
        served = {q: get_json("/api/search?" + urllib.parse.urlencode({"q": q, "mode": "keyword"}))["total"] for q in PROBES}
        assert served == states[0][1], (served, states[0][1])  # the server and this process agree on the state
        units = [u for u, n in sorted(get_json("/api/units")["units"].items(), key=lambda kv: -kv[1])[:40]]
        ids = list(dict.fromkeys(r["id"] for query in QUERIES for r in get_json(
            "/api/search?" + urllib.parse.urlencode({"q": query, "mode": "keyword", "limit": 20}))["results"]))
        # ids of the cached corpus only: the indexing runs never delete them, so a 404 is a failure
        get_json("/api/search?" + urllib.parse.urlencode({"q": "融资", "mode": "semantic"}))  # the model loads before the clock starts
        print(f"[soak] server up at {base} (pid {server.pid}); {len(ids)} item ids, {len(units)} units; "
              f"{args.clients} clients for {args.seconds} s", flush=True)

        began = time.time()
        stop_at = began + args.seconds
        clients = Clients(base, validators, ids, units, stop_at, SEED)
        threads = [threading.Thread(target=clients.run, args=(n,), daemon=True) for n in range(args.clients)]
        for t in threads:
            t.start()

        rss: list[tuple[float, float]] = []
        runs: list[IndexRun] = []
        current: subprocess.Popen | None = None
        next_run = began + min(5.0, args.index_every / 4)
        last_report = began
        while time.time() < stop_at or current is not None:
            now = time.time()
            try:
                rss.append((now, rss_mb(server.pid)))
            except (OSError, AttributeError):
                pass
            if current is not None and current.poll() is not None:
                run = runs[-1]
                run.ended, run.code = time.time(), current.returncode
                run.output = (run_dir / "index.log").read_text(encoding="utf-8", errors="replace")[-600:]
                current = None
                run.items, run.totals = state_of(cfg)
                states.append((run.items, run.totals))
                print(f"[soak {run.ended - began:5.0f}s] indexing run {len(runs)}: exit {run.code} in {run.ended - run.started:.0f} s, "
                      f"+{run.new} -{run.deleted} ~{run.replaced} -> {run.items:,} items", flush=True)
            if current is None and now >= next_run and now < stop_at - 20:
                rng = live.rng
                new, deleted, replaced = live.churn(rng.randint(5, 15), rng.randint(2, 6), rng.randint(1, 3))
                runs.append(IndexRun(time.time(), new=new, deleted=deleted, replaced=replaced))
                with (run_dir / "index.log").open("w") as log:
                    current = subprocess.Popen([str(BULLETIN), "--config", str(config), "--index", str(index), "index",
                                                str(live.folder)], stdout=log, stderr=subprocess.STDOUT)
                next_run = max(next_run + args.index_every, time.time() + 5)
            if now - last_report >= 60:
                last_report = now
                with clients.lock:
                    done = len(clients.records)
                    bad = len(clients.failures) + len(clients.invalid)
                print(f"[soak {now - began:5.0f}s] {done:,} requests, {bad} failed or invalid, server RSS {rss[-1][1]:,.0f} MB, "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
            time.sleep(1.0)
        for t in threads:
            t.join(timeout=REQUEST_TIMEOUT + 10)
        ended = time.time()
        final = {q: get_json("/api/search?" + urllib.parse.urlencode({"q": q, "mode": "keyword"}))["total"] for q in PROBES}
        final_items = get_json("/api/stats")["items"]

    # ---- checks
    def allowed(end: float) -> list[int]:
        """States a request that ended at `end` may see: the last run started before it ended
        may or may not have committed; everything before it had."""
        n = sum(1 for r in runs if r.started <= end)
        return [n - 1, n] if n else [0]

    bad_probes, bad_counts = [], []
    for start, end, q, total in clients.probes:
        ok = {states[k][1][q] for k in allowed(end) if k < len(states)}
        if total not in ok:
            bad_probes.append(f"{q}: {total} not in {sorted(ok)} at {end - began:.1f}s")
    for start, end, items in clients.counts:
        ok = {states[k][0] for k in allowed(end) if k < len(states)}
        if items not in ok:
            bad_counts.append(f"stats items {items} not in {sorted(ok)} at {end - began:.1f}s")
    if final != states[-1][1] or final_items != states[-1][0]:
        bad_probes.append(f"final: server {final}, {final_items} items; expected {states[-1][1]}, {states[-1][0]}")

    records = clients.records
    elapsed = ended - began
    statuses = Counter(r.status for r in records)
    per_minute = []
    for minute in range(int(np.ceil(args.seconds / 60))):
        lo, hi = began + 60 * minute, began + 60 * (minute + 1)
        secs = [r.seconds for r in records if lo <= r.end < hi]
        in_minute = [m for t, m in rss if lo <= t < hi]
        items_then = [s for s, r in zip(states[1:], runs) if r.ended < hi]
        per_minute.append({"minute": minute, "requests": len(secs), **percentiles(secs),
                           "rss_mb": round(in_minute[-1], 1) if in_minute else None,
                           "rss_max_mb": round(max(in_minute), 1) if in_minute else None,
                           "items": (items_then[-1][0] if items_then else states[0][0])})
    by_op = defaultdict(list)
    for r in records:
        by_op[r.op].append(r.seconds)
    plot_name = f"{(args.out.stem if args.out else today())}-soak.png"
    plot_path = (args.out.parent if args.out else RESULTS) / plot_name
    plot_path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "clients": args.clients, "seconds": round(elapsed, 1), "index_items": states[0][0],
        "requests": len(records), "requests_per_s": round(len(records) / elapsed, 1),
        "errors": sum(1 for r in records if r.status >= 500 or r.status == 0),
        "errors_5xx": sum(1 for r in records if r.status >= 500), "failed_requests": len(clients.failures),
        "invalid_responses": len(clients.invalid), "bad_probe_totals": len(bad_probes), "bad_stats_counts": len(bad_counts),
        "probe_checks": len(clients.probes), "stats_checks": len(clients.counts),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "latency_ms": percentiles([r.seconds for r in records]),
        "per_minute": per_minute,
        "rss_mb_per_minute": [row["rss_mb"] for row in per_minute],
        "rss_mb": {"start": round(rss[0][1], 1) if rss else None, "end": round(rss[-1][1], 1) if rss else None,
                   "max": round(max(m for _, m in rss), 1) if rss else None},
        "by_operation": {op: {"requests": len(v), **percentiles(v)} for op, v in sorted(by_op.items())},
        "indexing_runs": len(runs),
        "indexing": [{"start_s": round(r.started - began, 1), "seconds": round(r.ended - r.started, 1), "exit": r.code,
                      "new": r.new, "deleted": r.deleted, "replaced": r.replaced, "items_after": r.items} for r in runs],
        "items_end": states[-1][0],
        "failures": clients.failures[:20], "invalid": clients.invalid[:20], "bad_probes": (bad_probes + bad_counts)[:20],
        "server_threads": 8, "plot": plot_name, "load_average": load.summary(), "code": code,
    }
    plot(data, plot_path, f"soak: {args.clients} clients, {states[0][0]:,} items, {len(runs)} indexing runs ({today()})")
    path = record("soak", data, args.out)
    print(json.dumps({k: v for k, v in data.items() if k not in ("per_minute", "indexing", "by_operation")}, ensure_ascii=False))
    print(f"soak: {len(records):,} requests, {data['errors']} errors, {data['invalid_responses']} invalid, "
          f"{len(bad_probes) + len(bad_counts)} bad totals -> {path}")
    failed_runs = [r for r in runs if r.code != 0]
    ok = not (data["errors"] or data["failed_requests"] or data["invalid_responses"] or bad_probes or bad_counts or failed_runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
