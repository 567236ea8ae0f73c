"""Passage vectors stored as int16 (embedding.passage_dtype): the answers of float32 at half the
bytes; each segment keeps the type it was written with, new and merged segments take the
configured one, so changing the setting needs no rebuild."""
from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from indexer.build import build
from search.engine import SearchEngine
from search.segment import INT16_SCALE, Segment
from search.store import read_manifest, read_segments

from .synthetic import write_jsonl

HALF_STEP = 0.5 / INT16_SCALE + 1e-7  # rounding to the nearest step, plus float32's own rounding
MODES = ("semantic", "hybrid")


def with_passages(settings, dtype: str, index: Path, merge_factor: int | None = None):
    cfg = replace(settings, embedding=replace(settings.embedding, passage_dtype=dtype))
    if merge_factor:
        cfg = replace(cfg, index=replace(cfg.index, merge_factor=merge_factor))
    return cfg.with_index(index)


def segments(index: Path) -> list[Segment]:
    gen = index / read_manifest(index).generation
    return [Segment(gen / entry.name) for entry in read_segments(gen)]


@pytest.fixture(scope="module")
def pair(tmp_path_factory, settings, sample_dir, engine):
    """The sample indexed twice with the same embedder, passages as float32 and as int16."""
    root = tmp_path_factory.mktemp("passage-types")
    built = {}
    for dtype in ("float32", "int16"):
        cfg = with_passages(settings, dtype, root / dtype)
        assert build([sample_dir], cfg, embedder=engine.embedder).added == 38
        built[dtype] = cfg
    return built


def test_int16_passages_are_float32_rounded_at_half_the_size(pair):
    (wide,), (narrow,) = segments(Path(pair["float32"].index.path)), segments(Path(pair["int16"].index.path))
    assert wide.passages.dtype == np.float32 and narrow.passages.dtype == np.int16
    assert narrow.meta["passage_dtype"] == "int16" and wide.meta["passage_dtype"] == "float32"
    assert np.abs(narrow.passages / np.float32(INT16_SCALE) - wide.passages).max() <= HALF_STEP
    np.testing.assert_array_equal(narrow.vectors, wide.vectors)  # item vectors keep vector_dtype
    size = {s: os.path.getsize(s.folder / "passages.npy") for s in (wide, narrow)}
    assert size[narrow] < 0.51 * size[wide]


def test_int16_passages_give_the_same_answers(pair, qrels, engine):
    engines = {dtype: SearchEngine(cfg, embedder=engine.embedder) for dtype, cfg in pair.items()}
    try:
        for query in (q["query"] for q in qrels["queries"]):
            for mode in MODES:
                wide, narrow = (engines[d].search(query, mode=mode, limit=10) for d in ("float32", "int16"))
                assert [r["id"] for r in narrow["results"]] == [r["id"] for r in wide["results"]], (query, mode)
                assert narrow["total"] == wide["total"], (query, mode)
                scores = np.array([[r["score"] for r in x["results"]] for x in (wide, narrow)])
                assert np.abs(scores[0] - scores[1]).max(initial=0) < 1e-3, (query, mode)
                # snippets by meaning read the passages too
                assert [r["snippet"] for r in narrow["results"]] == [r["snippet"] for r in wide["results"]], (query, mode)
    finally:
        for e in engines.values():
            e.close()


def test_segments_keep_their_type_and_merges_take_the_configured_one(tmp_path, pair, sample_items, engine, settings):
    index = tmp_path / "ix"
    shutil.copytree(pair["float32"].index.path, index)
    (old,) = segments(index)
    old_inode = os.stat(old.folder / "passages.npy").st_ino
    extra = write_jsonl(sample_items, 6, tmp_path / "extra.jsonl", seed=3)

    added = build([extra], with_passages(settings, "int16", index), embedder=engine.embedder)
    assert added.added == 6
    kept, new = segments(index)
    assert kept.passages.dtype == np.float32 and new.passages.dtype == np.int16
    assert os.stat(kept.folder / "passages.npy").st_ino == old_inode  # not rewritten
    mixed = SearchEngine(with_passages(settings, "int16", index), embedder=engine.embedder)
    try:
        found = {r["id"].encode() for r in mixed.search("网格化管理", mode="semantic", limit=50)["results"]}
    finally:
        mixed.close()
    assert found & set(kept.ids.tolist()) and found & set(new.ids.tolist())  # both types read

    # 40 more items make a segment at the float32 one's size level (32-63 rows): the two merge
    more = write_jsonl(sample_items, 40, tmp_path / "more.jsonl", seed=4)
    merged_run = build([more], with_passages(settings, "int16", index, merge_factor=2), embedder=engine.embedder)
    assert merged_run.added == 40 and merged_run.merged == 2
    by_rows = {s.rows: s for s in segments(index)}
    assert sorted(by_rows) == [6, 38 + 40]
    merged = by_rows[78]
    assert merged.passages.dtype == np.int16 and merged.meta["passage_dtype"] == "int16"
    where = {bytes(i): n for n, i in enumerate(merged.ids)}
    for local, item_id in enumerate(kept.ids):
        a, b = kept.passage_rows(local)
        c, d = merged.passage_rows(where[bytes(item_id)])
        assert np.abs(merged.passages[c:d] / np.float32(INT16_SCALE) - kept.passages[a:b]).max() <= HALF_STEP
