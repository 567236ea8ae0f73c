"""Incremental indexing and crash safety, with real processes and the real model."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from indexer.build import build, describe
from search.engine import SearchEngine

from .synthetic import write_jsonl

BULLETIN = Path(sys.executable).parent / "bulletin"


@pytest.fixture
def corpus(tmp_path, sample_dir):
    folder = tmp_path / "corpus"
    shutil.copytree(sample_dir, folder)
    return folder


def test_incremental(tmp_path, corpus, settings):
    cfg = settings.with_index(tmp_path / "ix")
    first = build([corpus], cfg)
    assert (first.added, first.updated, first.unchanged, first.total) == (38, 0, 0, 38)
    again = build([corpus], cfg)
    assert not again.changed and again.unchanged == 38 and again.generation == first.generation
    assert "没有变化" in describe(again)

    bulletin = corpus / "003_130ae1c1cc3f7681.txt"
    bulletin.write_text(bulletin.read_text(encoding="utf-8").replace("累计招募**48**家", "累计招募**50**家"), encoding="utf-8")
    edited = build([corpus], cfg)
    assert (edited.added, edited.updated, edited.unchanged, edited.removed, edited.total) == (0, 1, 37, 0, 38)

    extra = corpus / "new.txt"
    extra.write_text("上街信息\n\n第 46 期\n\n2024 年 8 月 20 日\n\n**区城管局推行垃圾分类积分制** 一是设立积分兑换点。二是开展入户宣传。（区城管局）\n",
                     encoding="utf-8")
    added = build([extra], cfg)  # naming one file leaves the others' items alone
    assert (added.added, added.unchanged, added.total) == (1, 38, 39)

    engine = SearchEngine(cfg)
    assert engine.stats()["items"] == 39
    hits = engine.search("拥军企业", mode="keyword")["results"]
    assert any("累计招募50家" in r["text"] for r in hits) and not any("累计招募48家" in r["text"] for r in hits)
    assert engine.search('"垃圾分类"', mode="keyword")["total"] == 1
    assert engine.search("垃圾分类", mode="keyword")["results"][0]["title"] == "区城管局推行垃圾分类积分制"
    assert len(list((tmp_path / "ix").glob("gen-*"))) <= 2


def test_failed_file_keeps_its_items(tmp_path, corpus, settings):
    cfg = settings.with_index(tmp_path / "ix")
    build([corpus], cfg)
    (corpus / "000_edfc72c731b145e7.txt").write_bytes(b"\x00\x01binary now")
    report = build([corpus], cfg)
    assert len(report.failed) == 1 and report.total == 38 and not report.changed


@pytest.mark.subprocess
def test_cli_index_twice_says_nothing_changed(tmp_path, corpus):
    args = [str(BULLETIN), "--index", str(tmp_path / "ix"), "index", str(corpus)]
    first = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    assert "新增 38" in first.stdout and "解析" in first.stderr and "向量" in first.stderr  # progress bars
    second = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert "索引已是最新" in second.stdout and "新增 0" in second.stdout


@pytest.mark.slow
@pytest.mark.subprocess
def test_killing_the_indexer_leaves_a_searchable_index(tmp_path, sample_index, settings, sample_items):
    """SIGKILL at moments spread over a real `bulletin index` run (start-up, embedding, writing);
    every named stage is killed in test_faults.py, a thousand random moments in `make chaos`."""
    shutil.copytree(sample_index.index.path, tmp_path / "ix")  # the session's sample index: not embedded again
    cfg = settings.with_index(tmp_path / "ix")
    extra = write_jsonl(sample_items, 60, tmp_path / "extra.jsonl")
    args = [str(BULLETIN), "--index", str(tmp_path / "ix"), "index", str(extra)]
    outcomes = []
    for delay in (0.5, 4.0, 6.0, 7.5, 9.0):
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        engine = SearchEngine(cfg)
        count = engine.stats()["items"]
        assert count in (38, 98), (delay, count)
        assert engine.search("融资", mode="keyword")["total"] >= 2
        engine.close()
        outcomes.append(count)
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    engine = SearchEngine(cfg)
    assert engine.stats()["items"] == 98
    last_title = json.loads(extra.read_text(encoding="utf-8").splitlines()[-1])["title"]
    assert engine.search(f'"{last_title}"', mode="keyword")["results"][0]["title"] == last_title
    assert 38 in outcomes  # at least one kill landed before the commit point


def test_unit_aliases_reach_indexed_items_on_the_next_run(tmp_path, sample_index, sample_dir, engine):
    """Items are indexed under canonical unit names; editing [units.aliases] reaches indexed items
    on the next run of any folder, rewriting only those items and copying their vectors."""
    from dataclasses import replace

    from search.filters import Filters
    from search.units import UnitAliases

    shutil.copytree(sample_index.index.path, tmp_path / "ix")
    shipped = sample_index.with_index(tmp_path / "ix")
    assert shipped.units.aliases == {"先进制造业开发区": "区先进制造业开发区", "区域管局": "区城管局"}
    before = SearchEngine(shipped, embedder=engine.embedder)
    units = before.unit_counts()
    assert units["区先进制造业开发区"] == 3 and units["区城管局"] == 2
    assert "先进制造业开发区" not in units and "区域管局" not in units
    changed_ids = [r["id"] for u in ("区先进制造业开发区", "区城管局") for r in before.unit_items(u)["results"]]
    vectors = {i: before.snapshot.vectors_of(np.array([before.snapshot.row_of_id(i)])) for i in changed_ids}
    before.close()

    # Without the table, reading the sample again gives back the printed names (4 items rewritten).
    printed = replace(shipped, units=replace(shipped.units, aliases={}))
    report = build([sample_dir], printed, embedder=engine.embedder)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 4, 0, 34)
    plain = SearchEngine(printed, embedder=engine.embedder)
    assert plain.unit_counts()["先进制造业开发区"] == 2 and plain.unit_counts()["区域管局"] == 2
    plain.close()
    stale = SearchEngine(shipped, embedder=engine.embedder)  # an index older than the table: filters still find them
    assert Filters(units=("区城管局",), aliases=stale.unit_aliases).mask(stale.snapshot).sum() == 2
    assert stale.unit_items("区域管局")["total"] == 2 and stale.unit_items("区城管局")["total"] == 2
    stale.close()

    # An office adds an alias and indexes an unrelated file: every stored variant is renamed.
    office = replace(shipped, units=replace(shipped.units, aliases={**shipped.units.aliases, "团区委": "共青团上街区委"}))
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"title": "区妇联开展家庭教育讲座", "text": "一是邀请专家授课。二是发放学习资料。",
                                 "unit": "区妇联", "date": "2024-09-03"}, ensure_ascii=False), encoding="utf-8")
    report = build([extra], office, embedder=engine.embedder)
    assert (report.added, report.updated, report.removed) == (1, 6, 0) and report.total == 39
    after = SearchEngine(office, embedder=engine.embedder)
    units = after.unit_counts()
    assert units["区先进制造业开发区"] == 3 and units["区城管局"] == 2 and units["共青团上街区委"] == 2
    assert not {"先进制造业开发区", "区域管局", "团区委"} & set(units)
    for item_id, vector in vectors.items():  # copied, not recomputed
        assert np.array_equal(after.snapshot.vectors_of(np.array([after.snapshot.row_of_id(item_id)])), vector)
    assert Filters(units=("团区委",), aliases=after.unit_aliases).mask(after.snapshot).sum() == 2
    assert after.unit_items("团区委")["unit"] == "共青团上街区委" and after.unit_items("团区委")["spellings"] == ["团区委"]
    assert UnitAliases(office.units.aliases).apply(["团区委", "共青团上街区委", "区域管局"]) == ("共青团上街区委", "区城管局")
    after.close()
