"""Load: 20 concurrent clients against the real waitress server for 20 s while an incremental
indexing run adds items. Zero 5xx, zero failed requests, every JSON valid against the OpenAPI
document, and searches see the old or the new index, never a mix. Figures go to
tests/artifacts/load.json (and the README)."""
from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from referencing import Registry, Resource

from bench.corpus import ComposedEmbedder, sentences, write_jsonl
from bench.queries import QUERIES
from bench.server import running_server
from indexer.build import build

BULLETIN = Path(sys.executable).parent / "bulletin"
BASE_ITEMS = 3000
ADDED_ITEMS = 20
CLIENTS = 20
DURATION_S = 20  # at least; the load goes on until a few seconds after the indexing run ends
AFTER_INDEXING_S = 5
HARD_STOP_S = 600  # only a guard against a hang: on a busy 2-core machine the run can take minutes
PROBES = ("融资", "网格", "招商引资")  # totals checked against the old and the new index
ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]


@pytest.fixture(scope="module")
def load_index(tmp_path_factory, settings, sample_items, engine):
    """A few thousand synthetic items; their vectors are composed from real sentence vectors
    (bench/corpus.py) so that building takes seconds, not minutes."""
    folder = tmp_path_factory.mktemp("load")
    corpus = write_jsonl(sample_items, BASE_ITEMS, folder / "base.jsonl", seed=21)
    cfg = settings.with_index(folder / "ix")
    build([corpus], cfg, embedder=ComposedEmbedder(engine.embedder, sentences(sample_items)))  # type: ignore[arg-type]
    extra = write_jsonl(sample_items, ADDED_ITEMS, folder / "extra.jsonl", seed=22)
    return cfg, extra


def get(base: str, path: str, data: bytes | None = None) -> tuple[int, bytes, float]:
    request = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"} if data else {})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.read(), time.perf_counter() - start
    except urllib.error.HTTPError as err:
        return err.code, err.read(), time.perf_counter() - start


def test_concurrent_clients_while_indexing(load_index, settings):
    cfg, extra = load_index
    with running_server(cfg.index.path, settings.source) as (_server, base):
        spec = json.loads(get(base, "/api/openapi.json")[1])
        registry = Registry().with_resource("urn:api", Resource.from_contents({**spec, "$schema": "https://json-schema.org/draft/2020-12/schema"}))
        validators = {name: jsonschema.Draft202012Validator({"$ref": f"urn:api#/components/schemas/{name}"}, registry=registry)
                      for name in ("SearchResponse", "Item", "SimilarResponse", "Stats", "Health")}
        old_totals = {q: json.loads(get(base, "/api/search?" + urllib.parse.urlencode({"q": q, "mode": "keyword"}))[1])["total"]
                      for q in PROBES}
        ids = [r["id"] for q in QUERIES[:10] for r in json.loads(get(base, "/api/search?" + urllib.parse.urlencode({"q": q}))[1])["results"]]

        records: list[tuple[str, int, float]] = []
        failures: list[str] = []
        seen_totals: dict[str, set[int]] = {q: set() for q in PROBES}
        seen_counts: set[int] = set()
        lock = threading.Lock()
        began = time.time()
        indexed_at: list[float] = []

        def running() -> bool:
            now = time.time()
            if now - began > HARD_STOP_S:
                return False
            return now - began < DURATION_S or not indexed_at or now - indexed_at[0] < AFTER_INDEXING_S

        def client(seed: int) -> None:
            rng = random.Random(seed)
            while running():
                op = rng.choice(("search", "search", "search", "probe", "item", "item_page", "similar", "similar_text", "stats"))
                try:
                    if op in ("search", "probe"):
                        q = rng.choice(PROBES) if op == "probe" else rng.choice(QUERIES)
                        mode = "keyword" if op == "probe" else rng.choice(("keyword", "semantic", "hybrid"))
                        status, body, secs = get(base, "/api/search?" + urllib.parse.urlencode({"q": q, "mode": mode}))
                        schema = "SearchResponse"
                    elif op == "item":
                        status, body, secs = get(base, f"/api/items/{rng.choice(ids)}")
                        schema = "Item"
                    elif op == "item_page":
                        status, body, secs = get(base, f"/items/{rng.choice(ids)}")
                        schema = None
                    elif op == "similar":
                        status, body, secs = get(base, f"/api/items/{rng.choice(ids)}/similar?other_units=1")
                        schema = "SimilarResponse"
                    elif op == "similar_text":
                        status, body, secs = get(base, "/api/similar", json.dumps({"text": rng.choice(QUERIES) * 3}).encode())
                        schema = "SimilarResponse"
                    else:
                        status, body, secs = get(base, "/api/stats")
                        schema = "Stats"
                    with lock:
                        records.append((op, status, secs))
                    if status >= 400:
                        failures.append(f"{op} {status} {body[:200]!r}")
                        continue
                    if schema:
                        data = json.loads(body)
                        validators[schema].validate(data)
                        with lock:
                            if op == "probe":
                                seen_totals[q].add(data["total"])
                            if op == "stats":
                                seen_counts.add(data["items"])
                except Exception as exc:  # a failed request is a test failure, recorded with its cause
                    failures.append(f"{op}: {type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        indexer = subprocess.Popen([str(BULLETIN), "--index", str(cfg.index.path), "index", str(extra)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started = time.time()
        for t in threads:
            t.start()
        out, err = indexer.communicate(timeout=HARD_STOP_S)
        indexed_at.append(time.time())
        for t in threads:
            t.join()
        elapsed = time.time() - started
        assert indexer.returncode == 0, err[-1000:]
        time.sleep(0.5)
        new_totals = {q: json.loads(get(base, "/api/search?" + urllib.parse.urlencode({"q": q, "mode": "keyword"}))[1])["total"]
                      for q in PROBES}
        final_count = json.loads(get(base, "/api/stats")[1])["items"]

    assert not failures, failures[:10]
    assert all(status < 500 for _, status, _ in records)
    assert final_count == BASE_ITEMS + ADDED_ITEMS
    assert seen_counts == {BASE_ITEMS, BASE_ITEMS + ADDED_ITEMS}  # both states served, nothing in between
    for q in PROBES:
        assert seen_totals[q] <= {old_totals[q], new_totals[q]}, (q, seen_totals[q], old_totals[q], new_totals[q])

    latencies = np.array([secs * 1000 for _, _, secs in records])
    summary = {
        "clients": CLIENTS, "seconds": round(elapsed, 1), "requests": len(records),
        "requests_per_s": round(len(records) / elapsed, 1),
        "latency_ms": {p: round(float(np.percentile(latencies, int(p[1:]))), 1) for p in ("p50", "p95", "p99")},
        "by_operation": {op: sum(1 for o, _, _ in records if o == op) for op in {o for o, _, _ in records}},
        "index_items": [BASE_ITEMS, BASE_ITEMS + ADDED_ITEMS], "states_seen": sorted(seen_counts),
        "indexing_seconds": round(indexed_at[0] - started, 1),
        "errors_5xx": 0, "failed_requests": 0,
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(summary, ensure_ascii=False))
