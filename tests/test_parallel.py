"""A large archive's query uses both cores (search/parallel.py): its passes over every row are
split into row spans done side by side. Splitting must change nothing but the time — the same
results, scores, totals and facets bit for bit — and a pool kept busy by other requests must
never hold a query up. Real model and index (the development items, in several segments)."""
from __future__ import annotations

import dataclasses
import threading

import pytest

from search import parallel, segment
from search.engine import SearchEngine
from search.parallel import Splitter

QUERIES = ["社区网格化管理", "帮助中小企业解决融资难", "垃圾分类 宣传", "融资 或 网格", "\"老旧小区\" 改造"]


@pytest.mark.parametrize("rows", [0, 1, 1023, 1024, 1025, 999_999, 1_000_000])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_spans_cover_every_row_once_in_order(rows, threads):
    for align in (None, lambda b: b // 100 * 100, lambda b: 0):
        spans = Splitter(threads).spans(rows, 1024, align)
        assert spans[0][0] == 0 and spans[-1][1] == rows
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:])) and all(lo < hi for lo, hi in spans[1:])
        if align is None:
            assert len(spans) == (threads if rows >= 1024 else 1), spans
    assert len(Splitter(2, threshold_scale=0.0).spans(5, 1024)) == 2


def test_a_busy_pool_never_holds_a_query_up():
    """Every pool thread is stuck in another request's work: the shares handed to the pool are
    taken back and done by the asking thread."""
    release = threading.Event()
    pool = parallel._pool(1)
    blocker = pool.submit(release.wait)
    done: list[list[int]] = []
    asking = threading.Thread(target=lambda: done.append(Splitter(2).run([lambda: 1, lambda: 2])))
    asking.start()
    asking.join(timeout=10)
    release.set()
    blocker.result(timeout=10)
    assert done == [[1, 2]]


@pytest.fixture(scope="module")
def split_index(tmp_path_factory, settings, sample_dir, engine):
    """The sample and development items in segments of 150 items (one run writes four)."""
    from indexer.build import build
    from search.config import PROJECT_ROOT

    cfg = dataclasses.replace(settings, index=dataclasses.replace(settings.index, segment_items=150))
    cfg = cfg.with_index(tmp_path_factory.mktemp("split-index") / "ix")
    items = PROJECT_ROOT.parent / "shared" / "eval" / "dev" / "items.jsonl"
    report = build([sample_dir, items], cfg, embedder=engine.embedder)
    assert report.total == 473 and not report.failed
    return cfg


def engine_with(cfg, embedder, threads: int, sketch: bool) -> SearchEngine:
    search = dataclasses.replace(cfg.search, query_threads=threads)
    rel = dataclasses.replace(cfg.relevance, sketch_min_rows=0, sketch_candidates=60) if sketch else cfg.relevance
    return SearchEngine(dataclasses.replace(cfg, search=search, relevance=rel), embedder=embedder)


@pytest.mark.slow
@pytest.mark.parametrize("sketch", [False, True], ids=["full scan", "two-staged"])
def test_split_queries_answer_bit_for_bit_as_unsplit_ones(split_index, engine, monkeypatch, sketch):
    """Spans small enough that every pass splits, inside segments too (a scan block of 16 rows)."""
    monkeypatch.setattr(parallel.Splitter, "from_settings", classmethod(lambda cls, s: cls(s.search.query_threads, 0.0)))
    monkeypatch.setattr(segment, "SCAN_CHUNK", 16)
    one = engine_with(split_index, engine.embedder, 1, sketch)
    two = engine_with(split_index, engine.embedder, 2, sketch)
    assert len(one.snapshot.segments) == 4
    answered = 0
    for q in QUERIES:
        for mode in ("keyword", "semantic", "hybrid"):
            a, b = one.search(q, mode=mode, limit=30), two.search(q, mode=mode, limit=30)
            assert a["results"] == b["results"], (q, mode)
            assert (a["total"], a["facets"]) == (b["total"], b["facets"]), (q, mode)
            answered += a["total"] > 0
    assert answered >= 13
    snap = one.snapshot
    for row in range(0, snap.size, snap.size // 8):
        item_id = snap.item_id(row)
        assert one.similar(item_id) == two.similar(item_id), item_id
    one.close()
    two.close()


@pytest.mark.slow
def test_document_frequencies_looked_up_together_equal_one_by_one(split_index, engine):
    """Snapshot.dfs (a draft's words, all segments searched once) against df and the postings."""
    cfg = split_index
    eng = SearchEngine(cfg, embedder=engine.embedder)
    snap = eng.snapshot
    assert len(snap.segments) == 4
    words = [w for w, _s, _e in eng.analyzer.words(snap.item(5).text + snap.item(400).text) if w]
    words += ["并不存在的词语组合", "x"]
    counted = snap.dfs(words)
    assert counted.tolist() == [snap.df(w) for w in words] == [len(snap.term(w).rows) for w in words]
    assert counted[-2] == 0 and counted.max() > 1
    eng.close()


@pytest.mark.parametrize("kind", ["spread", "tied", "sample low"])
def test_first_rows_from_a_sampled_bound_equal_a_full_sort(kind):
    """first_rows partitions only the keys below a bound read off a sample: the rows are those
    of a full sort by (key, row), ties included, also when the bound is too low to hold them."""
    import numpy as np

    from search.fusion import first_rows

    rng = np.random.default_rng(3)
    n = 200_000
    rows = np.sort(rng.choice(3 * n, n, replace=False))
    keys = {"spread": rng.random(n), "tied": rng.integers(0, 30, n) / 7}[kind] if kind != "sample low" else \
        np.where(np.arange(n) % 64 == 0, -1.0, rng.random(n))  # the sampled keys are the smallest
    keys = keys.astype(np.float32)
    order = rows[np.lexsort((rows, keys))]
    for count in (1, 20, 2000, 20_000, 24_999):
        assert sorted(first_rows(rows, keys, count).tolist()) == sorted(order[:count].tolist()), (kind, count)
