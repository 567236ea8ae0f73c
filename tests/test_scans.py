"""Scanned bulletins: pages printed from the sample text as images, read back by OCR (tesseract,
chi_sim), parse to the same items as the text within the OCR error measured here."""
from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import pytest

from indexer.ingest import ingest, parse_file
from indexer.sources import read_document
from indexer.textclean import normalize

from .inputs import CJK_FONT, parse_without_tools, printed_text, render_pages, write_pdf, write_scanned_pdf

pytestmark = [
    pytest.mark.slow,
    pytest.mark.subprocess,
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="make system-deps installs tesseract-ocr-chi-sim"),
    pytest.mark.skipif(not CJK_FONT.exists(), reason="make test installs fonts-wqy-microhei"),
]
MAX = 50 * 1024 * 1024
# Measured on these pages (bench/readers.py): 99.4 % of characters right, 99.25 % the worst bulletin. The bounds leave
# room for a slower or different machine's tesseract build, not for a broken reader.
MIN_CHAR_ACCURACY = 0.97
MAX_ITEM_TEXT_ERROR = 0.06
MAX_TITLE_ERROR = 0.12


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", normalize(text)).replace("*", "")


def error_rate(got: str, want: str) -> float:
    from rapidfuzz.distance import Levenshtein

    got, want = squeeze(got), squeeze(want)
    return Levenshtein.distance(got, want) / max(1, len(want))


def assert_same_items(got, want):
    """Same items, metadata exact; titles and texts within the OCR error (spaces do not count)."""
    assert len(got) == len(want), ([i.title for i in got], [i.title for i in want])
    for g, w in zip(got, want):
        assert (g.kind, g.units, g.issue, g.date, g.series) == (w.kind, w.units, w.issue, w.date, w.series), (g.title, w.title)
        # a derived title may take one clause more when the OCR text lost its spaces
        assert error_rate(squeeze(g.title)[: len(squeeze(w.title))], w.title) <= MAX_TITLE_ERROR, (g.title, w.title)
        assert error_rate(g.text, w.text) <= MAX_ITEM_TEXT_ERROR, (w.title, error_rate(g.text, w.text))


def test_scanned_pdf(tmp_path, sample_dir):
    source = sample_dir / "000_edfc72c731b145e7.txt"
    text = source.read_text(encoding="utf-8")
    path = write_scanned_pdf(render_pages(text), tmp_path / "scan.pdf")
    document = read_document(path, MAX)
    assert document.encoding == "pdf（OCR）"
    assert 1 - error_rate(document.text, printed_text(text)) >= MIN_CHAR_ACCURACY
    assert_same_items(parse_file(path, MAX, 40).items, parse_file(source, MAX, 40).items)


def test_multi_page_tiff(tmp_path, sample_dir):
    source = sample_dir / "002_2394bc59f5f8de19.txt"
    first, *rest = render_pages(source.read_text(encoding="utf-8"))
    path = tmp_path / "scan.tif"
    first.save(path, save_all=True, append_images=rest, compression="tiff_deflate", dpi=(200, 200))
    assert_same_items(parse_file(path, MAX, 40).items, parse_file(source, MAX, 40).items)


def test_png_and_jpg_pages(tmp_path):
    text = (Path(__file__).parent / "data" / "layouts" / "masthead.txt").read_text(encoding="utf-8")
    [page] = render_pages(text)
    page.save(tmp_path / "page.png", dpi=(200, 200))
    page.save(tmp_path / "page.jpg", quality=85, dpi=(200, 200))
    want = parse_file(Path(__file__).parent / "data" / "layouts" / "masthead.txt", MAX, 40).items
    for name in ("page.png", "page.jpg"):
        assert_same_items(parse_file(tmp_path / name, MAX, 40).items, want)


def test_mixed_pdf_ocrs_only_the_scanned_pages(tmp_path, sample_dir):
    from pypdf import PdfReader, PdfWriter

    typed = sample_dir / "001_e28acd27cb44be7e.txt"
    scanned = Path(__file__).parent / "data" / "layouts" / "news.txt"  # one page
    text_pdf = write_pdf(typed.read_text(encoding="utf-8"), tmp_path / "typed.pdf")
    scan_pdf = write_scanned_pdf(render_pages(scanned.read_text(encoding="utf-8")), tmp_path / "scanned.pdf")
    writer = PdfWriter()
    for part in (scan_pdf, text_pdf):  # scanned articles first, then a typed bulletin
        for page in PdfReader(part).pages:
            writer.add_page(page)
    path = tmp_path / "mixed.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    assert read_document(path, MAX).encoding == "pdf+ocr"
    items = parse_file(path, MAX, 40).items
    scanned_items = parse_file(scanned, MAX, 40).items
    assert_same_items(items[: len(scanned_items)], scanned_items)
    # the typed pages come from their text layer, exactly (OCR loses the spaces in "15 家企业")
    typed_items = parse_file(text_pdf, MAX, 40).items
    assert [(i.id, i.text) for i in items[len(scanned_items):]] == [(i.id, i.text) for i in typed_items]


def test_broken_scans_fail_alone(tmp_path, sample_dir):
    from pypdf import PdfWriter

    shutil.copy(sample_dir / "003_130ae1c1cc3f7681.txt", tmp_path / "good.txt")
    [page] = render_pages("幸福社区开展义诊活动。")
    buffer = io.BytesIO()
    page.save(buffer, format="PNG")
    (tmp_path / "truncated.png").write_bytes(buffer.getvalue()[:2000])
    (tmp_path / "junk.jpg").write_bytes(os.urandom(3000))
    writer = PdfWriter(clone_from=write_pdf("幸福社区开展义诊活动。", tmp_path / "plain.pdf"))
    writer.encrypt(user_password="secret", owner_password="owner")
    with (tmp_path / "password.pdf").open("wb") as fh:
        writer.write(fh)
    (tmp_path / "plain.pdf").unlink()
    from PIL import Image

    Image.new("L", (800, 1000), 255).save(tmp_path / "blank.png")
    report = ingest([tmp_path], MAX, 40)
    errors = {Path(f.path).name: f.error for f in report.failed}
    assert set(errors) == {"truncated.png", "junk.jpg", "password.pdf", "blank.png"}
    assert "损坏" in errors["truncated.png"] and "损坏" in errors["junk.jpg"]
    assert "密码" in errors["password.pdf"] and "没有识别出文字" in errors["blank.png"]
    assert len(report.items) == 9


def test_missing_tesseract_is_one_clear_line(tmp_path, sample_dir):
    [page] = render_pages("幸福社区开展义诊活动。")
    page.save(tmp_path / "a.png")
    shutil.copy(sample_dir / "000_edfc72c731b145e7.txt", tmp_path / "b.txt")
    errors, stdout, status = parse_without_tools(tmp_path)
    assert len(errors) == 1 and "a.png" in errors[0] and "tesseract-ocr" in errors[0]
    assert "共 2 个文件，9 条" in stdout and status == 1
