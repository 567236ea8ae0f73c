"""Every supported format, generated here from the sample text, parses to the same items."""
from __future__ import annotations

import pytest

from indexer.ingest import parse_file

from .inputs import CJK_FONT, half_width, write_docx, write_pdf, write_records

MAX = 50 * 1024 * 1024


def identity(items):
    return [(i.id, i.kind, i.title, i.units, i.issue, i.date, i.series) for i in items]


def content(items):
    return [(i.kind, i.title, i.text, i.units, i.issue, i.date, i.series) for i in items]


@pytest.fixture(scope="module")
def originals(sample_dir):
    return {p.name: (p.read_text(encoding="utf-8"), parse_file(p, MAX, 40).items) for p in sorted(sample_dir.glob("*.txt"))}


def test_gb18030_detected_by_content(tmp_path, originals):
    for name, (text, items) in originals.items():
        path = tmp_path / name  # still .txt: the encoding is found from the bytes
        path.write_bytes(text.encode("gb18030"))
        result = parse_file(path, MAX, 40)
        assert result.error is None
        assert identity(result.items) == identity(items), name


def test_utf8_bom_and_crlf(tmp_path, originals):
    text, items = originals["000_edfc72c731b145e7.txt"]
    path = tmp_path / "bom.md"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    assert identity(parse_file(path, MAX, 40).items) == identity(items)


def test_docx(tmp_path, originals):
    for name, (text, items) in originals.items():
        path = write_docx(text, tmp_path / (name + ".docx"))
        result = parse_file(path, MAX, 40)
        assert result.error is None, result.error
        assert content(result.items) == content(items), name


def test_docx_tables_are_read(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("上街信息")
    document.add_paragraph("第 50 期")
    document.add_paragraph("2024 年 9 月 1 日")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "区城管局推行垃圾分类积分制"
    table.rows[0].cells[1].text = "一是设立积分兑换点。二是开展入户宣传。（区城管局）"
    path = tmp_path / "table.docx"
    document.save(str(path))
    [item] = parse_file(path, MAX, 40).items
    assert (item.title, item.units, item.issue) == ("区城管局推行垃圾分类积分制", ("区城管局",), 50)


@pytest.mark.skipif(not CJK_FONT.exists(), reason="make test installs fonts-wqy-microhei")
def test_pdf_with_text_layer(tmp_path, originals):
    for name, (text, items) in originals.items():
        path = write_pdf(text, tmp_path / (name + ".pdf"))
        result = parse_file(path, MAX, 40)
        assert result.error is None, result.error
        assert identity(result.items) == identity(items), name


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_records(tmp_path, sample_items, suffix):
    measures = [i for i in sample_items if i.kind != "article"]
    path = write_records(measures, tmp_path / ("items" + suffix))
    result = parse_file(path, MAX, 40)
    assert result.error is None and not result.warnings
    assert identity(result.items) == identity(measures)
    assert result.items[0].source.url == f"https://example.invalid/{measures[0].id}"


def test_records_title_derived_and_bad_rows(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(
        '{"text": "近日，区城管局推行垃圾分类积分制，居民参与率明显提升。", "unit": "区城管局,中心路街道", "date": "2024/9/1"}\n'
        '{"title": "没有正文"}\n'
        '{"text": "日期写错了。", "date": "九月某日"}\n',
        encoding="utf-8",
    )
    result = parse_file(path, MAX, 40)
    [item] = result.items
    assert item.title == "区城管局推行垃圾分类积分制，居民参与率明显提升"  # time phrase 近日 skipped
    assert item.units == ("区城管局", "中心路街道") and item.date == "2024-09-01"
    assert len(result.warnings) == 2 and "第 2 行" in result.warnings[0] and "第 3 行" in result.warnings[1]


def test_half_width_punctuation(tmp_path, originals):
    for name, (text, items) in originals.items():
        path = tmp_path / name
        path.write_text(half_width(text), encoding="utf-8")
        assert content(parse_file(path, MAX, 40).items) == content(items), name
