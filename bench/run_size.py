"""One corpus size, measured in its own process (so peak RSS is this size's): python -m bench.run_size N DIR."""
from __future__ import annotations

import json
import os
import re
import resource
import shutil
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from indexer.build import build, embed_text
from indexer.ingest import ingest
from search.config import PROJECT_ROOT, load_settings
from search.embedding import Embedder
from search.engine import SearchEngine

from .corpus import ComposedEmbedder, write_corpus
from .peers import BM25sPeer, NumpyKnnPeer, TantivyPeer, timed
from .queries import QUERIES
from .server import running_server

MODES = ("keyword", "semantic", "hybrid")
API_MODES = ("keyword", "hybrid", "semantic")
LIMIT = 20


def percentiles(samples: list[float]) -> dict[str, float]:
    a = np.asarray(samples)
    return {"p50": round(float(np.percentile(a, 50)), 2), "p95": round(float(np.percentile(a, 95)), 2),
            "p99": round(float(np.percentile(a, 99)), 2), "n": len(samples)}


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def api_latencies(index_dir: Path, config: Path, repeat: int) -> tuple[dict, float]:
    with running_server(index_dir, config) as (server, base):
        out = {}
        for mode in API_MODES:
            def ask(q: str) -> None:
                url = base + "/api/search?" + urllib.parse.urlencode({"q": q, "mode": mode, "limit": LIMIT})
                with urllib.request.urlopen(url, timeout=60) as r:
                    r.read()
            for q in QUERIES:  # warm-up: query vectors cached, searcher warm
                ask(q)
            samples = [t for _ in range(repeat) for q in QUERIES for t in timed(lambda q=q: ask(q), 1)]
            out[f"api_{mode}"] = percentiles(samples)
        status = Path(f"/proc/{server.pid}/status").read_text()
        hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
        return out, round(hwm, 1)


def main() -> None:
    size, workdir = int(sys.argv[1]), Path(sys.argv[2])
    embed_sample = int(os.environ.get("BENCH_EMBED_SAMPLE", "400"))
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    workdir.mkdir(parents=True, exist_ok=True)
    settings = load_settings(PROJECT_ROOT / "config.toml").with_index(workdir / "ix")
    shutil.rmtree(workdir / "ix", ignore_errors=True)
    sample = ingest([PROJECT_ROOT / "data" / "sample"], settings.max_file_bytes, 40).items
    corpus = write_corpus(sample, size, workdir / "corpus")
    real = Embedder(settings.embedding, PROJECT_ROOT)

    # Real embedding speed, on a slice of this corpus.
    texts = [embed_text(i) for i in ingest([corpus / "part-0000.jsonl"], settings.max_file_bytes, 40).items[:embed_sample]]
    real.embed_passages(texts[:16])  # model load and warm-up
    start = time.perf_counter()
    real.embed_passages(texts)
    embedding_rate = len(texts) / (time.perf_counter() - start)

    from .corpus import sentences

    composed = ComposedEmbedder(real, sentences(sample))
    report = build([corpus], settings, embedder=composed)  # type: ignore[arg-type]
    if report.failed or report.total != size:
        raise SystemExit(f"indexing failed: {[(f.path, f.error) for f in report.failed]}, {report.total} of {size} items")
    t = report.timings
    throughput = {"parse": round(size / t["parse"], 1), "keyword_index": round(size / t["keyword_index"], 1),
                  "embedding": round(embedding_rate, 2)}

    engine = SearchEngine(settings, embedder=real)
    for q in QUERIES:
        for mode in MODES:
            engine.search(q, mode=mode, limit=LIMIT)
    latency = {mode: percentiles([x for _ in range(repeat) for q in QUERIES
                                  for x in timed(lambda q=q, mode=mode: engine.search(q, mode=mode, limit=LIMIT), 1)])
               for mode in MODES}
    rng = np.random.default_rng(3)
    ids = [engine.ids[i] for i in rng.integers(0, len(engine.ids), 50)]
    latency["similar"] = percentiles([x for i in ids for x in timed(lambda i=i: engine.similar(i, limit=10), 1)])

    analyzer = engine.analyzer
    docs_tokens = [[tok.text for tok in analyzer.index_tokens(i.title + "\n" + i.text)] for i in engine.items]
    query_tokens = {q: [w for unit in analyzer.query_units(q) for w in unit] for q in QUERIES}
    bm25 = BM25sPeer(docs_tokens)
    tantivy_dir = workdir / "tantivy"
    shutil.rmtree(tantivy_dir, ignore_errors=True)
    tantivy_dir.mkdir()
    tantivy = TantivyPeer(docs_tokens, str(tantivy_dir))
    knn = NumpyKnnPeer(np.asarray(engine.vectors))
    qvecs = {q: real.embed_query(q) for q in QUERIES}
    peers = {
        "bm25s": percentiles([x for _ in range(repeat) for q in QUERIES for x in timed(lambda q=q: bm25.search(query_tokens[q]), 1)]),
        "tantivy": percentiles([x for _ in range(repeat) for q in QUERIES for x in timed(lambda q=q: tantivy.search(query_tokens[q]), 1)]),
        "numpy_knn": percentiles([x for _ in range(repeat) for q in QUERIES for x in timed(lambda q=q: knn.search(qvecs[q]), 1)]),
    }
    engine.close()

    api, server_rss = api_latencies(settings.index.path, PROJECT_ROOT / "config.toml", repeat)
    latency.update(api)
    result = {
        "items": size,
        "throughput_items_per_s": throughput,
        "index_seconds": {k: round(v, 2) for k, v in t.items()},
        "index_size_mb": round(dir_size(Path(settings.index.path)) / 1e6, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "server_peak_rss_mb": server_rss,
        "latency_ms": latency,
        "peers": peers,
        "ratios": {
            "keyword_vs_bm25s_p50": round(latency["keyword"]["p50"] / peers["bm25s"]["p50"], 1),
            "keyword_vs_tantivy_p50": round(latency["keyword"]["p50"] / peers["tantivy"]["p50"], 1),
            "semantic_vs_numpy_knn_p50": round(latency["semantic"]["p50"] / peers["numpy_knn"]["p50"], 1),
        },
        "embedding_sample": len(texts),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
