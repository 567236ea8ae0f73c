"""A semantic query's work is one pass over the item vectors plus a bounded gather, whatever the
archive's size: passages are checked for the best candidates only, and the feedback pass scores
at most `relevance.feedback_max_rows` rows again. Real model and index (the development items)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from search import semantic
from search.engine import SearchEngine

pytestmark = pytest.mark.slow

QUERIES = ["社区网格化管理", "帮助中小企业解决融资难", "垃圾分类 宣传"]


def with_relevance(settings, **changes):
    return dataclasses.replace(settings, relevance=dataclasses.replace(settings.relevance, **changes))


@pytest.fixture
def scanned(monkeypatch):
    """Rows passed through the cosine scan, counted per call."""
    counts: list[int] = []
    real = semantic.scan

    def counting(vectors, queries):
        counts.append(len(vectors))
        return real(vectors, queries)

    monkeypatch.setattr(semantic, "scan", counting)
    return counts


def test_a_query_scans_every_item_once_and_gathers_a_bounded_number_of_passages(dev_index, engine, scanned):
    candidates, cap = 10, 30
    cfg = with_relevance(dev_index, passage_candidates=candidates, feedback_candidates=candidates,
                         feedback_max_rows=cap, feedback_margin=1000.0)  # every row is plausible: the cap binds
    e = SearchEngine(cfg, embedder=engine.embedder)
    snap = e.snapshot
    counts = np.concatenate([np.asarray(s.passage_count) for s in snap.segments])
    most = np.sort(counts)[::-1]
    for q in QUERIES:
        parts = len(q.split())
        scanned.clear()
        e.search(q, mode="semantic", limit=10)
        bound = snap.size + int(most[: candidates * parts].sum()) + cap + int(most[:cap].sum())
        assert snap.size <= sum(scanned) <= bound, (q, sum(scanned), bound)
    e.close()


def test_rows_beyond_the_feedback_cap_keep_their_first_pass_evidence(dev_index, engine):
    """A cap smaller than the plausible rows changes which rows are scored again, not whether the
    best matches are found: the first results stay, and no row loses all its evidence."""
    full = SearchEngine(dev_index, embedder=engine.embedder)
    capped = SearchEngine(with_relevance(dev_index, feedback_candidates=20, feedback_max_rows=20), embedder=engine.embedder)
    for q in QUERIES:
        a = [r["id"] for r in full.search(q, mode="semantic", limit=5)["results"]]
        b = [r["id"] for r in capped.search(q, mode="semantic", limit=5)["results"]]
        assert len(set(a) & set(b)) >= 4, (q, a, b)
        assert capped.search(q, mode="semantic", limit=1)["total"] >= 1
    full.close()
    capped.close()


def test_scan_long_items_checks_every_long_items_passages(dev_index, engine):
    e = SearchEngine(dev_index, embedder=engine.embedder)
    snap = e.snapshot
    query = e.embedder.embed_query("社区网格化管理")[None, :]
    item_cos = semantic.item_cosines(snap, query)
    lean = semantic.best_passages(snap, query, item_cos, candidates=1, scan_long=False)
    every = semantic.best_passages(snap, query, item_cos, candidates=1, scan_long=True)
    long_rows = np.concatenate([snap.bases[k] + np.asarray(s.long_owner) for k, s in enumerate(snap.segments)])
    assert len(long_rows)
    changed = np.flatnonzero(lean[:, 0] != every[:, 0])
    assert len(changed) and set(changed) <= set(long_rows) | {int(np.argmax(item_cos[:, 0]))}
    e.close()


def test_rows_whose_passages_were_not_read_never_outrank_those_read(dev_index, engine):
    """An item vector sits closer to a query than its passages do; an unread row left at its item
    cosine would beat every row whose passages were read."""
    e = SearchEngine(dev_index, embedder=engine.embedder)
    snap = e.snapshot
    query = e.embedder.embed_query("社区网格化管理")[None, :]
    item_cos = semantic.item_cosines(snap, query)
    best = semantic.best_passages(snap, query, item_cos, candidates=20)[:, 0]
    read = np.argsort(-item_cos[:, 0], kind="stable")[:20]
    unread = np.setdiff1d(np.arange(snap.size), read)
    assert best[unread].max() <= best[read].min()
    assert (best[unread] <= item_cos[unread, 0]).all()
    e.close()
