"""`bulletin parse` on the sample: table, JSON Lines and the summary line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BULLETIN = Path(sys.executable).parent / "bulletin"
pytestmark = pytest.mark.subprocess


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BULLETIN), *args], capture_output=True, text=True, timeout=120)


def test_table_and_summary(sample_dir):
    out = run("parse", str(sample_dir))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].split() == ["类型", "日期", "期号", "单位", "标题"]
    assert "我区发展“采摘经济”激发乡村振兴新活力" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "共 5 个文件，38 条（工作动态 29，简讯 7，专题报道 2），失败 0 个文件"


def test_json_lines(sample_dir):
    out = run("parse", str(sample_dir), "--json")
    assert out.returncode == 0
    items = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(items) == 38
    assert set(items[0]) >= {"id", "kind", "title", "text", "units", "series", "issue", "date", "source"}
    assert "38 条" in out.stderr  # the summary stays off stdout so the JSON is clean


def test_help_is_fast_and_chinese():
    out = run("--help")
    assert out.returncode == 0 and "parse" in out.stdout and "检索" in out.stdout


def test_search_similar_stats_json(sample_index):
    index = str(sample_index.index.path)
    out = run("--index", index, "search", "融资", "--mode", "keyword", "--json", "--limit", "2")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["total"] == 3 and len(result["results"]) == 2 and result["results"][0]["text"]
    filtered = json.loads(run("--index", index, "search", "服务", "--mode", "keyword", "--unit", "区司法局",
                              "--from", "2024-01-01", "--to", "2024-12-31", "--json").stdout)
    assert filtered["total"] >= 1 and all("区司法局" in r["units"] for r in filtered["results"])
    first = result["results"][0]["id"]
    similar = json.loads(run("--index", index, "similar", first, "--other-units", "--json").stdout)
    assert similar["results"] and first not in [r["id"] for r in similar["results"]]
    stats = json.loads(run("--index", index, "stats", "--json").stdout)
    assert stats["items"] == 38


def test_search_errors_are_one_line(sample_index, tmp_path):
    index = str(sample_index.index.path)
    for args, message in [
        (("search", ""), "查询为空"),
        (("search", "融资", "--from", "昨天"), "日期格式应为 YYYY-MM-DD"),
        # the CLI accepts exactly what the API accepts (it once took 2024年12月31日 and from > to)
        (("search", "融资", "--to", "2024年12月31日"), "日期格式应为 YYYY-MM-DD"),
        (("search", "融资", "--from", "2024-06-01", "--to", "2024-01-01"), "起始日期晚于截止日期"),
        (("search", "融资", "--limit", "0"), "不能小于 1"),
        (("similar", "ffffffffffffffff", "--limit", "0"), "limit"),
        (("similar",), "二者选一"),
        (("similar", "ffffffffffffffff"), "没有 ID"),
    ]:
        out = run("--index", index, *args)
        assert out.returncode != 0 and message in out.stderr and "Traceback" not in out.stderr, (args, out.stderr)
    missing = run("--index", str(tmp_path / "none"), "search", "融资")
    assert missing.returncode == 1 and "bulletin index" in missing.stderr
