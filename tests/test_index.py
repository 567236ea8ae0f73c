"""Incremental indexing and crash safety, with real processes and the real model."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

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
def test_killing_the_indexer_leaves_a_searchable_index(tmp_path, corpus, settings, sample_items):
    cfg = settings.with_index(tmp_path / "ix")
    build([corpus], cfg)
    extra = write_jsonl(sample_items, 60, tmp_path / "extra.jsonl")
    args = [str(BULLETIN), "--index", str(tmp_path / "ix"), "index", str(extra)]
    outcomes = []
    for delay in (0.5, 3.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0):
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
