"""Unreadable files give one clear error line each; the rest of the batch goes through."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.ingest import ingest

from .inputs import write_docx

BULLETIN = Path(sys.executable).parent / "bulletin"


@pytest.fixture
def batch(tmp_path, sample_dir):
    good = sample_dir / "003_130ae1c1cc3f7681.txt"
    shutil.copy(good, tmp_path / "good.txt")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_bytes(b"  \n\n \n")
    (tmp_path / "junk.txt").write_bytes(os.urandom(4096) + b"\x00\x00")
    (tmp_path / "undecodable.txt").write_bytes(b"\xff\xfe\xfd\x80\x81 bad \xc3\x28 \xa0\xa1\xff" * 20)
    (tmp_path / "latin1.txt").write_bytes(bytes(range(0x80, 0x100)) * 8)
    docx = write_docx(good.read_text(encoding="utf-8"), tmp_path / "full.docx").read_bytes()
    (tmp_path / "truncated.docx").write_bytes(docx[: len(docx) // 2])
    (tmp_path / "full.docx").unlink()
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)  # a drawing, no text: what a scanned page gives
    pdf.output(str(tmp_path / "scan.pdf"))
    (tmp_path / "corrupt.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(2000))
    return tmp_path


EXPECTED_REASONS = {
    "empty.txt": "文件为空",
    "blank.md": "文件为空",
    "junk.txt": "二进制文件",
    "undecodable.txt": "无法识别编码",  # starts with a UTF-16 BOM by chance: still refused
    "latin1.txt": "无法识别编码",
    "truncated.docx": ".docx",
    "scan.pdf": "没有文本层",
    "corrupt.pdf": "PDF",
}


@pytest.mark.subprocess
def test_errors_named_and_batch_intact(batch):
    report = ingest([batch], 50 * 1024 * 1024, 40)
    errors = {Path(f.path).name: f.error for f in report.failed}
    assert set(errors) == set(EXPECTED_REASONS)
    for name, reason in EXPECTED_REASONS.items():
        assert reason in errors[name], (name, errors[name])
    assert len(report.items) == 9


@pytest.mark.subprocess
def test_cli_exit_status_and_stderr(batch):
    out = subprocess.run([str(BULLETIN), "parse", str(batch)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("错误：")]
    assert len(lines) == len(EXPECTED_REASONS)
    assert all(str(batch) in ln for ln in lines)
    assert "Traceback" not in out.stderr
    assert "失败 8 个文件" in out.stdout and "共 9 个文件，9 条" in out.stdout


@pytest.mark.subprocess
def test_missing_path(tmp_path):
    out = subprocess.run([str(BULLETIN), "parse", str(tmp_path / "nope.txt")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "文件不存在" in out.stderr


def test_oversized_file_refused(tmp_path, sample_dir):
    big = tmp_path / "big.txt"
    big.write_bytes((sample_dir / "000_edfc72c731b145e7.txt").read_bytes() * 200)
    report = ingest([big], 1024 * 1024, 40)
    assert "文件过大" in report.failed[0].error
