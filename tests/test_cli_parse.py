"""`bulletin parse` on the sample: table, JSON Lines and the summary line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BULLETIN = Path(sys.executable).parent / "bulletin"


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
