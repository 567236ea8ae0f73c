"""Word 97-2003 (.doc) and WPS (.wps) files, saved by LibreOffice from the sample bulletins, parse
to the same items as the text; broken and password-protected ones give one clear error each."""
from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from indexer.ingest import ingest, parse_file

from .inputs import SYSTEM_PYTHON, libreoffice_save, parse_without_tools, save_doc_with_password, write_docx

pytestmark = [
    pytest.mark.slow,
    pytest.mark.subprocess,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="make system-deps installs libreoffice-writer-nogui"),
]
MAX = 50 * 1024 * 1024


def content(items):
    return [(i.kind, i.title, i.text, i.units, i.issue, i.date, i.series, i.issuer) for i in items]


@pytest.fixture(scope="module")
def docs(tmp_path_factory, sample_dir):
    """The sample bulletins as .docx (python-docx), then saved as .doc by LibreOffice."""
    folder = tmp_path_factory.mktemp("office")
    sources = [write_docx(p.read_text(encoding="utf-8"), folder / (p.stem + ".docx")) for p in sorted(sample_dir.glob("*.txt"))]
    return libreoffice_save(sources, ".doc", folder / "doc")


def test_doc_files_in_parallel_parse_like_the_text(docs, sample_dir):
    """Two conversions at a time: each in its own LibreOffice profile, none collides."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda p: parse_file(p, MAX, 40), docs))
    for path, result in zip(docs, results):
        assert result.error is None, (path.name, result.error)
        original = parse_file(sample_dir / (path.stem + ".txt"), MAX, 40)
        assert content(result.items) == content(original.items), path.name


def test_wps_file(docs, sample_dir, tmp_path):
    wps = tmp_path / "简报.wps"  # WPS Writer files are the same OLE2 Word format
    shutil.copy(docs[1], wps)
    result = parse_file(wps, MAX, 40)
    assert result.error is None, result.error
    assert content(result.items) == content(parse_file(sample_dir / (docs[1].stem + ".txt"), MAX, 40).items)


def has_uno() -> bool:
    return SYSTEM_PYTHON.exists() and subprocess.run([str(SYSTEM_PYTHON), "-c", "import uno"], capture_output=True).returncode == 0


@pytest.mark.skipif(not has_uno(), reason="make test installs python3-uno")
def test_broken_and_protected_files_fail_alone(docs, sample_dir, tmp_path):
    shutil.copy(sample_dir / "003_130ae1c1cc3f7681.txt", tmp_path / "good.txt")
    data = docs[0].read_bytes()
    (tmp_path / "truncated.doc").write_bytes(data[: len(data) // 3])
    (tmp_path / "junk.wps").write_bytes(os.urandom(5000))
    source = docs[0].parent.parent / (docs[0].stem + ".docx")
    save_doc_with_password(source, tmp_path / "password.doc")
    shutil.copy(tmp_path / "password.doc", tmp_path / "password.wps")
    report = ingest([tmp_path], MAX, 40)
    errors = {Path(f.path).name: f.error for f in report.failed}
    assert set(errors) == {"truncated.doc", "junk.wps", "password.doc", "password.wps"}
    assert "密码" in errors["password.doc"] and "密码" in errors["password.wps"]
    assert "不是有效的 .wps 文件" in errors["junk.wps"]
    assert "损坏" in errors["truncated.doc"]
    assert len(report.items) == 9


def test_web_page_saved_as_doc_is_read_as_a_page(tmp_path):
    page = tmp_path / "page.doc"
    page.write_text("<html><head><title>社区开展义诊活动</title></head><body><article><h1>社区开展义诊活动</h1>"
                    "<p>近日，幸福社区联合区医院开展义诊活动，为辖区居民免费测量血压、血糖，服务居民200余人次。</p>"
                    "<p>活动现场，医生们耐心解答居民的健康问题，并发放健康宣传资料300余份。</p></article></body></html>",
                    encoding="utf-8")
    [item] = parse_file(page, MAX, 40).items
    assert item.title == "社区开展义诊活动" and item.text.startswith("近日，幸福社区")


def test_missing_libreoffice_is_one_clear_line(docs, sample_dir, tmp_path):
    shutil.copy(docs[0], tmp_path / "a.doc")
    shutil.copy(sample_dir / "000_edfc72c731b145e7.txt", tmp_path / "b.txt")
    errors, stdout, status = parse_without_tools(tmp_path)
    assert len(errors) == 1 and "a.doc" in errors[0] and "libreoffice-writer-nogui" in errors[0]
    assert "共 2 个文件，9 条" in stdout and status == 1
