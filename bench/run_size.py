"""One corpus size, measured in its own process (so peak RSS is this size's): python -m bench.run_size N DIR.

Stages, each logged to stderr with the time and this process's memory:
  corpus      N synthetic items as .jsonl files of 5,000 (bench/corpus.py)
  embedding   the real model on a slice (items/s); the index itself gets ComposedEmbedder vectors
  build       bulletin's builder: parse, (composed) embedding, keyword indexing, write; per-stage seconds
  in-process  latency per mode and of similar items, SearchEngine opened on the index
  peers       bm25s and tantivy on the same index terms, exact numpy kNN on the same vectors
  api         `bulletin serve`: start-up (process start to first answered /api/search), latency per
              mode over HTTP, the server's memory after warm-up and at its peak
  increment   100 new items in a new .jsonl added to the built index (real model): seconds, and
              whether the existing segments' files were rewritten (inode and mtime compared)

Environment: BENCH_EMBED_SAMPLE (items for the real-model rate, 400), BENCH_REPEAT (passes over
the 50 queries, 3), BENCH_VECTOR_DTYPE and BENCH_PASSAGE_DTYPE (embedding.vector_dtype and
passage_dtype for this run; default config.toml's), BENCH_REUSE=1 (keep the built index as a
hard-linked copy with its build figures, and start from them next time instead of building
again: index files are never changed in place, so the copy costs no space; passages stored in
another type than the configured one are re-encoded first), BENCH_BUILD_ONLY=1 (stop after the
build), BENCH_DERIVE_FROM=DIR (with BENCH_VECTOR_DTYPE: start from DIR's kept float32 index with
every segment's vectors re-encoded in that type — what a build with it writes, without building
again; the build figures are DIR's).
The last line of stdout is the result as JSON.
"""
from __future__ import annotations

import dataclasses
import gc
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from indexer.build import build
from indexer.ingest import find_files, ingest, parse_file
from search.analysis import analyse_all
from search.config import PROJECT_ROOT, load_settings
from search.embedding import Embedder
from search.engine import SearchEngine
from search.filters import Filters
from search.passages import split_items
from search.query import parse_query
from search.segment import decode_vectors
from search.semantic import limit_blas_threads
from search.store import read_manifest, read_segments

from .corpus import ComposedEmbedder, records, sentences, write_corpus
from .peers import BM25sPeer, NumpyKnnPeer, TantivyPeer, timed
from .queries import QUERIES
from .server import free_port

MODES = ("keyword", "semantic", "hybrid")
API_MODES = ("keyword", "hybrid", "semantic")
LIMIT = 20
INCREMENT = 100  # items added by the incremental run
STARTUP_LIMIT_S = 600
T0 = time.perf_counter()
LOADS: list[float] = []  # 1-minute load average at each logged step (the machine is shared)


def log(message: str) -> None:
    LOADS.append(os.getloadavg()[0])
    print(f"[{time.perf_counter() - T0:7.1f} s, rss {memory()['rss_mb']:,.0f} MB] {message}", file=sys.stderr, flush=True)


def memory(pid: int | str = "self") -> dict[str, float]:
    """VmRSS (now), VmHWM (peak) and the resident anonymous and file-backed parts, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()

    def field(name: str) -> float:
        found = re.search(rf"^{name}:\s+(\d+)", status, re.M)
        return round(int(found.group(1)) / 1024, 1) if found else 0.0

    return {"rss_mb": field("VmRSS"), "hwm_mb": field("VmHWM"), "anon_mb": field("RssAnon"), "file_mb": field("RssFile")}


def percentiles(samples: list[float]) -> dict[str, float]:
    a = np.asarray(samples)
    return {"p50": round(float(np.percentile(a, 50)), 2), "p95": round(float(np.percentile(a, 95)), 2),
            "p99": round(float(np.percentile(a, 99)), 2), "n": len(samples)}


def dir_size(path: Path) -> int:
    """Bytes under path, each file once (generations share files by hard links)."""
    seen: set[int] = set()
    total = 0
    for p in path.rglob("*"):
        if p.is_file():
            st = p.stat()
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_size
    return total


def bench_config(workdir: Path) -> Path:
    """config.toml, or a copy with BENCH_VECTOR_DTYPE / BENCH_PASSAGE_DTYPE (paths made absolute:
    the copy lives elsewhere)."""
    dtypes = {name: os.environ[var] for name, var in (("vector_dtype", "BENCH_VECTOR_DTYPE"),
                                                       ("passage_dtype", "BENCH_PASSAGE_DTYPE")) if os.environ.get(var)}
    source = PROJECT_ROOT / "config.toml"
    if not dtypes:
        return source
    text = source.read_text(encoding="utf-8")
    for name, dtype in dtypes.items():
        text = re.sub(rf'^{name} = ".*"$', f'{name} = "{dtype}"', text, flags=re.M)
    text = re.sub(r'^cache_dir = "(.*)"$', lambda m: f'cache_dir = "{(PROJECT_ROOT / m.group(1)).resolve()}"', text, flags=re.M)
    path = workdir / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- stages
def real_embedding_rate(real: Embedder, corpus: Path, settings, sample: int) -> tuple[float, int]:
    items = parse_file(corpus / "part-0000.jsonl", settings.max_file_bytes, settings.parser.brief_title_max_chars).items[:sample]
    chars = settings.embedding.passage_chars
    real.embed_items(split_items([(i.title, i.text) for i in items[:16]], chars))  # model load and warm-up
    batch = split_items([(i.title, i.text) for i in items], chars)
    start = time.perf_counter()
    real.embed_items(batch)
    return len(items) / (time.perf_counter() - start), len(items)


def in_process(engine: SearchEngine, repeat: int) -> dict[str, dict]:
    for q in QUERIES:  # warm-up: query vectors cached, pages of the maps read once
        for mode in MODES:
            engine.search(q, mode=mode, limit=LIMIT)
    latency = {}
    for mode in MODES:
        samples = [x for _ in range(repeat) for q in QUERIES
                   for x in timed(lambda q=q, mode=mode: engine.search(q, mode=mode, limit=LIMIT), 1)]
        latency[mode] = percentiles(samples)
        log(f"in-process {mode}: {latency[mode]}")
    # The ranking alone — the first page's rows in order, as the peers return their top 20 —
    # without facets, stored fields and snippets.
    for mode in MODES:
        samples = [x for _ in range(repeat) for q in QUERIES for x in timed(lambda q=q, mode=mode: rank(engine, q, mode), 1)]
        latency[f"{mode}_rank"] = percentiles(samples)
        log(f"in-process {mode} ranking only: {latency[f'{mode}_rank']}")
    # The peers run on one thread; the ratios compare our search on one thread too
    # (search.query_threads = 1), the tables above show it as served (both cores).
    as_served = engine.settings
    engine.settings = dataclasses.replace(as_served, search=dataclasses.replace(as_served.search, query_threads=1))
    try:
        for mode in ("keyword", "semantic"):
            latency[f"{mode}_one_thread"] = percentiles(
                [x for _ in range(repeat) for q in QUERIES for x in timed(lambda q=q, mode=mode: engine.search(q, mode=mode, limit=LIMIT), 1)])
            latency[f"{mode}_rank_one_thread"] = percentiles(
                [x for _ in range(repeat) for q in QUERIES for x in timed(lambda q=q, mode=mode: rank(engine, q, mode), 1)])
            log(f"in-process {mode} on one thread: {latency[f'{mode}_one_thread']}, "
                f"ranking only: {latency[f'{mode}_rank_one_thread']}")
    finally:
        engine.settings = as_served
    snap = engine.snapshot
    live = snap.live_rows
    rows = np.random.default_rng(3).choice(live, size=min(50, len(live)), replace=False)
    ids = [snap.item_id(int(r)) for r in rows]
    engine.similar(ids[0], limit=10)
    latency["similar"] = percentiles([x for i in ids for x in timed(lambda i=i: engine.similar(i, limit=10), 1)])
    log(f"in-process similar: {latency['similar']}")
    return latency


def rank(engine: SearchEngine, q: str, mode: str) -> np.ndarray:
    parsed = parse_query(q, engine.analyzer, engine.settings.search.max_query_chars)
    return engine._rank(parsed, mode, Filters().mask(engine.snapshot), LIMIT)[0]


def peer_tokens(corpus: Path, settings, analyzer) -> tuple[list[np.ndarray], dict[str, int]]:
    """Every item's index terms (title's and text's, as the engine indexes them) as arrays of
    term ids, in a worker process; and the vocabulary. Items are read from the corpus files as
    the builder reads them."""
    vocab: dict[str, int] = {}
    docs: list[np.ndarray] = []
    files = sorted(find_files([corpus]))
    group = 10  # files per analysis pass (50,000 items)
    for n in range(0, len(files), group):
        items = [i for f in files[n : n + group]
                 for i in parse_file(f, settings.max_file_bytes, settings.parser.brief_title_max_chars).items]
        terms = analyse_all([t for i in items for t in (i.title, i.text)], analyzer)
        for _ in items:
            tokens = next(terms) + next(terms)
            docs.append(np.fromiter((vocab.setdefault(t, len(vocab)) for t in tokens), dtype=np.int32, count=len(tokens)))
        log(f"peer tokens: {len(docs):,} items, {len(vocab):,} terms")
    return docs, vocab


def peers(engine: SearchEngine, corpus: Path, settings, real: Embedder, workdir: Path, repeat: int) -> dict[str, dict]:
    analyzer = engine.analyzer
    docs, vocab = peer_tokens(corpus, settings, analyzer)
    query_tokens = {q: [t for unit in analyzer.query_units(q) for t in unit.terms] for q in QUERIES}
    out: dict[str, dict] = {}

    start = time.perf_counter()
    bm25 = BM25sPeer(docs, vocab)
    log(f"bm25s index: {time.perf_counter() - start:.1f} s")
    for q in QUERIES:
        bm25.search(query_tokens[q])
    out["bm25s"] = percentiles([x for _ in range(repeat) for q in QUERIES for x in timed(lambda q=q: bm25.search(query_tokens[q]), 1)])
    del bm25
    gc.collect()

    tantivy_dir = workdir / "tantivy"
    shutil.rmtree(tantivy_dir, ignore_errors=True)
    tantivy_dir.mkdir()
    start = time.perf_counter()
    tantivy = TantivyPeer(docs, vocab, str(tantivy_dir))
    log(f"tantivy index: {time.perf_counter() - start:.1f} s")
    del docs
    gc.collect()
    for q in QUERIES:
        tantivy.search(query_tokens[q])
    out["tantivy"] = percentiles([x for _ in range(repeat) for q in QUERIES for x in timed(lambda q=q: tantivy.search(query_tokens[q]), 1)])
    del tantivy
    gc.collect()
    shutil.rmtree(tantivy_dir, ignore_errors=True)

    snap = engine.snapshot
    live = np.flatnonzero(snap.live)
    vectors = np.concatenate([decode_vectors(seg.vectors) for seg in snap.segments])[live] if len(live) else \
        np.zeros((0, engine.manifest.dim), np.float32)
    knn = NumpyKnnPeer(vectors)
    del vectors
    qvecs = {q: real.embed_query(q) for q in QUERIES}
    for q in QUERIES:
        knn.search(qvecs[q])
    out["numpy_knn"] = percentiles([x for _ in range(repeat) for q in QUERIES for x in timed(lambda q=q: knn.search(qvecs[q]), 1)])
    del knn
    gc.collect()
    for name, value in out.items():
        log(f"peer {name}: {value}")
    return out


def api(index_dir: Path, config: Path, repeat: int) -> dict:
    """Start `bulletin serve`; start-up is process start to the first answered /api/search."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bulletin = Path(sys.executable).parent / "bulletin"
    started = time.perf_counter()
    proc = subprocess.Popen([str(bulletin), "--config", str(config), "--index", str(index_dir), "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ask(q: str, mode: str) -> None:
        url = base + "/api/search?" + urllib.parse.urlencode({"q": q, "mode": mode, "limit": LIMIT})
        with urllib.request.urlopen(url, timeout=120) as r:
            r.read()

    try:
        while True:
            try:
                ask(QUERIES[0], "keyword")
                break
            except OSError:
                if time.perf_counter() - started > STARTUP_LIMIT_S or proc.poll() is not None:
                    raise RuntimeError("bulletin serve did not start")
                time.sleep(0.05)
        startup = time.perf_counter() - started
        at_start = memory(proc.pid)
        ask(QUERIES[1], "hybrid")  # the default mode: waits for the model if it is still loading
        startup_hybrid = time.perf_counter() - started
        log(f"api: first answer after {startup:.2f} s, first hybrid answer after {startup_hybrid:.2f} s")
        for mode in API_MODES:  # warm-up: query vectors cached, pages of the maps read once
            for q in QUERIES:
                ask(q, mode)
        warm = memory(proc.pid)
        out: dict = {"startup_s": round(startup, 2), "startup_hybrid_s": round(startup_hybrid, 2),
                     "server_memory_at_first_answer": at_start,
                     "server_memory_after_warm_up": warm, "latency": {}}
        for mode in API_MODES:
            samples = [t for _ in range(repeat) for q in QUERIES for t in timed(lambda q=q, mode=mode: ask(q, mode), 1)]
            out["latency"][f"api_{mode}"] = percentiles(samples)
            log(f"api {mode}: {out['latency'][f'api_{mode}']}")
        out["server_memory_end"] = memory(proc.pid)
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def segment_files(index_dir: Path) -> dict[str, tuple[int, int, int]]:
    """seg-*/file -> (inode, mtime ns, size) in the current generation."""
    gen = index_dir / json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))["generation"]
    out = {}
    for path in sorted(gen.glob("seg-*/*")):
        st = path.stat()
        out[f"{path.parent.name}/{path.name}"] = (st.st_ino, st.st_mtime_ns, st.st_size)
    return out


def increment(settings, sample, real: Embedder, workdir: Path) -> dict:
    """Add INCREMENT new items (a new file) to the built index, as `bulletin index NEWFILE` does."""
    folder = workdir / "increment"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    path = folder / "new-items.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for n, record in enumerate(records(sample, INCREMENT, seed=2024)):
            record["title"] = f"新增条目{n}：{record['title']}"
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    real.embed_query("预热")  # the model is loaded, as in a running server's watcher
    before = segment_files(Path(settings.index.path))
    start = time.perf_counter()
    report = build([path], settings, embedder=real)
    seconds = time.perf_counter() - start
    after = segment_files(Path(settings.index.path))
    kept = [name for name in before if name in after]
    rewritten = [name for name in kept if before[name][:2] != after[name][:2]]
    result = {
        "items_added": report.added, "seconds": round(seconds, 2),
        "timings": {k: round(v, 2) for k, v in report.timings.items()},
        "segments_before": len({n.split("/")[0] for n in before}), "segments_after": len({n.split("/")[0] for n in after}),
        "segments_merged": report.merged,
        "existing_segment_files": len(before), "kept_unchanged": len(kept) - len(rewritten),
        "rewritten": rewritten, "dropped_by_merge": len(before) - len(kept),
        "vectors_or_weights_rewritten": any(n.endswith(("/vectors.npy", "/passages.npy", "/post_w.npy")) for n in rewritten),
    }
    log(f"increment: {result}")
    return result


def _replace_array(folder: Path, name: str, array: np.ndarray) -> None:
    """Write folder/name.npy anew: the old file may be a hard link another copy keeps."""
    (folder / f"{name}.npy").unlink()
    np.save(folder / f"{name}.npy", array)


def _rewrite_meta(path: Path, **changes: str) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    path.unlink()  # a hard link: the other copy keeps its file
    path.write_text(json.dumps(data | changes, ensure_ascii=False), encoding="utf-8")


def _segment_folders(root: Path) -> list[Path]:
    gen = root / read_manifest(root).generation
    return [gen / entry.name for entry in read_segments(gen)]


def derive(source: Path, workdir: Path, dtype: str) -> None:
    """workdir/ix-built from source/ix-built, vectors re-encoded as `dtype` and their sketches fitted
    again on the re-encoded values (other files hard-linked)."""
    from search.segment import encode_vectors, write_sketch

    target = workdir / "ix-built"
    subprocess.run(["cp", "-al", str(source / "ix-built"), str(target)], check=True)
    for folder in _segment_folders(target):
        encoded = encode_vectors(decode_vectors(np.load(folder / "vectors.npy", mmap_mode="r")), dtype)
        _replace_array(folder, "vectors", encoded)
        if (folder / "sketch.npy").exists():
            write_sketch(folder, encoded, np.load(folder / "sketch_basis.npy").shape[1])
        _rewrite_meta(folder / "meta.json", vector_dtype=dtype)
    _rewrite_meta(target / "manifest.json", vector_dtype=dtype)
    built = json.loads((source / "build.json").read_text(encoding="utf-8"))
    built["derived_from"] = f"{source.name}, vectors re-encoded as {dtype}"
    built["index_mb"] = round(dir_size(target) / 1e6, 1)
    (workdir / "build.json").write_text(json.dumps(built, ensure_ascii=False), encoding="utf-8")
    shutil.copytree(source / "corpus", workdir / "corpus", copy_function=os.link, dirs_exist_ok=True)
    log(f"derived {target} from {source} ({dtype}, {built['index_mb']} MB)")


def match_passages(workdir: Path, dtype: str) -> None:
    """The kept index's passages re-encoded as `dtype` where a segment stores another type (an index
    kept from before embedding.passage_dtype changed): what a build with it writes."""
    from search.segment import encode_vectors

    target, changed = workdir / "ix-built", 0
    for folder in _segment_folders(target):
        stored = np.load(folder / "passages.npy", mmap_mode="r")
        if stored.dtype != np.dtype(dtype):
            _replace_array(folder, "passages", encode_vectors(decode_vectors(stored), dtype))
            _rewrite_meta(folder / "meta.json", passage_dtype=dtype)
            changed += 1
    if changed:
        saved = workdir / "build.json"
        built = json.loads(saved.read_text(encoding="utf-8"))
        built["derived_from"] = "; ".join(filter(None, [built.get("derived_from"), f"passages re-encoded as {dtype}"]))
        built["index_mb"] = round(dir_size(target) / 1e6, 1)
        saved.unlink()  # may be a hard link another copy of the workdir keeps
        saved.write_text(json.dumps(built, ensure_ascii=False), encoding="utf-8")
        log(f"passages of {changed} segments re-encoded as {dtype} ({built['index_mb']} MB)")


def build_index(size: int, workdir: Path, settings, sample, real: Embedder, embed_sample: int) -> dict:
    """Write the corpus, measure the real model on a slice, build the index with composed vectors."""
    corpus = write_corpus(sample, size, workdir / "corpus")
    log(f"corpus: {size:,} items")
    embedding_rate, embedded = real_embedding_rate(real, corpus, settings, embed_sample)
    log(f"real embedding: {embedding_rate:.1f} items/s on {embedded} items")
    composed = ComposedEmbedder(real, sentences(sample))
    report = build([corpus], settings, embedder=composed)  # type: ignore[arg-type]
    if report.failed or report.total != size:
        raise SystemExit(f"indexing failed: {[(f.path, f.error) for f in report.failed]}, {report.total} of {size} items")
    t = report.timings
    throughput = {"parse": round(size / t["parse"], 1), "keyword_index": round(size / t["keyword_index"], 1),
                  "embedding": round(embedding_rate, 2), "composed_vectors": round(size / t["embedding"], 1)}
    index_mb = round(dir_size(Path(settings.index.path)) / 1e6, 1)
    built = {"built": time.strftime("%Y-%m-%d %H:%M"), "seconds": {k: round(v, 2) for k, v in t.items()},
             "throughput": throughput, "index_mb": index_mb, "memory": memory(), "embedding_sample": embedded,
             "load_average": LOADS[:]}
    log(f"build: {throughput}, {index_mb} MB, seconds {built['seconds']}")
    return built


def main() -> None:
    size, workdir = int(sys.argv[1]), Path(sys.argv[2])
    limit_blas_threads(1)  # as `bulletin serve` does: the engine and the numpy peer alike
    embed_sample = int(os.environ.get("BENCH_EMBED_SAMPLE", "400"))
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    workdir.mkdir(parents=True, exist_ok=True)
    config = bench_config(workdir)
    settings = load_settings(config).with_index(workdir / "ix")
    index_dir = Path(settings.index.path)
    sample = ingest([PROJECT_ROOT / "data" / "sample"], settings.max_file_bytes, settings.parser.brief_title_max_chars).items
    real = Embedder(settings.embedding, PROJECT_ROOT)
    saved, built_copy = workdir / "build.json", workdir / "ix-built"
    shutil.rmtree(index_dir, ignore_errors=True)
    if os.environ.get("BENCH_DERIVE_FROM") and not built_copy.exists():
        derive(Path(os.environ["BENCH_DERIVE_FROM"]), workdir, settings.embedding.vector_dtype)
    if os.environ.get("BENCH_REUSE") and saved.exists() and built_copy.exists():
        match_passages(workdir, settings.embedding.passage_dtype)
        subprocess.run(["cp", "-al", str(built_copy), str(index_dir)], check=True)
        built = json.loads(saved.read_text(encoding="utf-8"))
        corpus = workdir / "corpus"
        log(f"reusing the index built {built['built']}")
    else:
        shutil.rmtree(built_copy, ignore_errors=True)
        built = build_index(size, workdir, settings, sample, real, embed_sample)
        if os.environ.get("BENCH_REUSE"):
            subprocess.run(["cp", "-al", str(index_dir), str(built_copy)], check=True)
            saved.write_text(json.dumps(built, ensure_ascii=False), encoding="utf-8")
        corpus = workdir / "corpus"
    if os.environ.get("BENCH_BUILD_ONLY"):
        print(json.dumps(built, ensure_ascii=False))
        return
    t, throughput, index_mb, build_memory = built["seconds"], built["throughput"], built["index_mb"], built["memory"]
    embedded = built["embedding_sample"]

    start = time.perf_counter()
    engine = SearchEngine(settings, embedder=real)
    open_s = time.perf_counter() - start
    latency = in_process(engine, repeat)
    engine_memory = memory()
    peer = peers(engine, corpus, settings, real, workdir, repeat)
    segments = len(engine.snapshot.segments)
    engine.close()
    del engine
    gc.collect()

    served = api(index_dir, config, repeat)
    latency.update(served["latency"])
    added = increment(settings, sample, real, workdir)
    warm = served["server_memory_after_warm_up"]
    result = {
        "items": size,
        "vector_dtype": settings.embedding.vector_dtype,
        "passage_dtype": settings.embedding.passage_dtype,
        "segments": segments,
        "throughput_items_per_s": throughput,
        "index_seconds": t,
        "derived_from": built.get("derived_from"),
        "index_size_mb": index_mb,
        "peak_rss_mb": max(round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), build_memory["hwm_mb"]),
        "build_memory": build_memory,
        "engine_open_s": round(open_s, 3),
        "engine_memory": engine_memory,
        "server_rss_mb": warm["rss_mb"],
        "server_peak_rss_mb": served["server_memory_end"]["hwm_mb"],
        "server_memory": {k: served[k] for k in ("server_memory_at_first_answer", "server_memory_after_warm_up", "server_memory_end")},
        "startup_s": served["startup_s"],
        "startup_hybrid_s": served["startup_hybrid_s"],
        "latency_ms": latency,
        "peers": peer,
        "ratios": {  # ours on one thread, as the peers run
            "keyword_vs_bm25s_p50": round(latency["keyword_one_thread"]["p50"] / peer["bm25s"]["p50"], 2),
            "keyword_vs_tantivy_p50": round(latency["keyword_one_thread"]["p50"] / peer["tantivy"]["p50"], 2),
            "semantic_vs_numpy_knn_p50": round(latency["semantic_one_thread"]["p50"] / peer["numpy_knn"]["p50"], 2),
            "keyword_rank_vs_bm25s_p50": round(latency["keyword_rank_one_thread"]["p50"] / peer["bm25s"]["p50"], 2),
            "keyword_rank_vs_tantivy_p50": round(latency["keyword_rank_one_thread"]["p50"] / peer["tantivy"]["p50"], 2),
            "semantic_rank_vs_numpy_knn_p50": round(latency["semantic_rank_one_thread"]["p50"] / peer["numpy_knn"]["p50"], 2),
        },
        "query_threads": settings.search.query_threads,
        "increment": added,
        "embedding_sample": embedded,
        "load_average": {"mean": round(float(np.mean(LOADS + built["load_average"])), 2),
                         "max": round(max(LOADS + built["load_average"]), 2)},
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
