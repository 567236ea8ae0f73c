"""OCR of scanned pages (Simplified Chinese) with tesseract and Debian's chi_sim data.

Why tesseract: measured on bulletin pages printed from the sample text (bench/readers.py),
tesseract 5 with chi_sim read 99.4 % of characters right, on clean and on degraded pages, at
0.6 pages/s (two single-threaded pages at a time on 2 cores); rapidocr-onnxruntime (PP-OCRv4,
models in the wheel) read 99.8 % but managed 0.07 pages/s. For an archive of thousands of
pages the eight times faster engine wins.

tesseract gives word boxes; layout.py turns them into lines and paragraphs. Bold is found
from the ink: a word whose strokes are much thicker than the page's usual stroke is bold,
so a bold title at the start of a paragraph becomes **title** as in a .docx. Pages run in
parallel, one tesseract (single-threaded) per core.
"""
from __future__ import annotations

import csv
import io
import os
import re
import statistics
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from ..document import SourceError
from . import require_tool, run_tool, settings
from .layout import Piece, given_lines, paragraphs

if TYPE_CHECKING:
    from PIL.Image import Image

LANGUAGE = "chi_sim"
# Page segmentation 4: one column of text of varying sizes, what a bulletin page is. The fully
# automatic mode (3) finds columns too, but dropped short footer lines (送：/发：) of test pages.
PAGE_SEGMENTATION = "4"
# A word whose stroke is this many times the page's median stroke is bold.
BOLD_STROKE_RATIO = 1.45
# ... and a word right after a bold one stays bold down to this ratio.
BOLD_CONTINUE_RATIO = 1.2
# Resolution assumed for an image that does not state one.
DEFAULT_IMAGE_DPI = 300
# Marks tesseract's chi_sim reads for △ at the start of a brief.
BRIEF_MARK_MISREADS = re.compile(r"^(?:\*\*)?[\^∆Δ](?=\s*(?:\*\*)?[\u4e00-\u9fff0-9])", re.M)
# A unit at a paragraph's end whose opening parenthesis was misread (【矿山街道) or lost.
UNIT_OPENING_MISREAD = re.compile(r"(?<=[。！？”])\s*[【〔\[]?\s*([^（()）。，\n]{2,40})[)）]$", re.M)
# A full stop chi_sim reads as a Latin o at the end of a line.
FULL_STOP_MISREAD = re.compile(r"(?<=[\u4e00-\u9fff0-9）”])[oO](?=\s*$)", re.M)
# Angle brackets chi_sim reads for the full-width parentheses of units; bulletins never use 〈〉.
LOOKALIKES = str.maketrans({"〈": "（", "〉": "）"})
_CJK = re.compile(r"[\u4e00-\u9fff]")
OPENING_MARKS = "“‘（(《「"
CLOSING_MARKS = "”’）)》」"


def ocr_pages(images: list[Image], dpi: int | None = None) -> list[str]:
    """Text of each page image, paragraphs separated by blank lines."""
    if not images:
        return []
    tesseract = require_tool("tesseract", "tesseract-ocr 和 tesseract-ocr-chi-sim")
    workers = min(len(images), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda image: _ocr_page(tesseract, image, dpi), images))


def _ocr_page(tesseract: str, image: Image, dpi: int | None) -> str:
    gray = image.convert("L")
    buffer = io.BytesIO()
    gray.save(buffer, format="PNG")
    resolution = dpi or _image_dpi(image)
    status, out, err = run_tool(
        [tesseract, "stdin", "stdout", "-l", LANGUAGE, "--psm", PAGE_SEGMENTATION, "--dpi", str(resolution), "tsv"],
        settings().ocr_timeout_seconds, "文字识别（OCR）", stdin=buffer.getvalue(), env={"OMP_THREAD_LIMIT": "1"},
    )
    if status != 0:
        message = err.decode("utf-8", "replace")
        if "Failed loading language" in message or "Error opening data file" in message:
            raise SourceError("缺少简体中文识别数据：请安装 Debian 软件包 tesseract-ocr-chi-sim（以 root 运行 make system-deps）")
        raise SourceError(f"文字识别（OCR）失败：{message.strip().splitlines()[-1][:120] if message.strip() else status}")
    words = _words(out.decode("utf-8", "replace"))
    text = paragraphs(given_lines(_mark_bold(words, gray), 0))
    text = FULL_STOP_MISREAD.sub("。", text.translate(LOOKALIKES))
    text = UNIT_OPENING_MISREAD.sub(r"（\1）", text)
    return BRIEF_MARK_MISREADS.sub("△", text)


def _image_dpi(image: Image) -> int:
    dpi = image.info.get("dpi")
    try:
        value = int(round(float(dpi[0]))) if dpi else 0
    except (TypeError, ValueError, IndexError):
        value = 0
    return value if 70 <= value <= 1200 else DEFAULT_IMAGE_DPI


def _words(tsv: str) -> list[tuple[tuple[int, int, int], Piece]]:
    """Recognised words with their (block, paragraph, line) and box, in tesseract's reading order."""
    out = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") != "5" or not (row.get("text") or "").strip():
            continue
        try:
            left, top, width, height = (int(row[k]) for k in ("left", "top", "width", "height"))
            key = (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
        except (KeyError, TypeError, ValueError):
            continue
        out.append((key, Piece(row["text"].strip(), left, top, left + width, top + height)))
    return out


def _mark_bold(words: list[tuple[tuple[int, int, int], Piece]], gray: Image) -> list[list[Piece]]:
    """tesseract's lines in reading order, each word bold where its strokes are thick."""
    import numpy as np

    pixels = np.asarray(gray)
    low, high = np.percentile(pixels, 2), np.percentile(pixels, 98)
    ink = pixels < (low + high) / 2
    strokes = [_stroke(ink, piece) for _, piece in words]
    body = [s for s, (_, piece) in zip(strokes, words) if s > 0 and _CJK.search(piece.text)]
    usual = statistics.median(body) if body else 0.0
    lines: dict[tuple[int, int, int], list[Piece]] = {}
    previous_bold = False
    for stroke, (key, piece) in zip(strokes, words):
        # hysteresis: a bold run goes on through words a little lighter (a quote mark in the box)
        threshold = BOLD_CONTINUE_RATIO if previous_bold and key in lines else BOLD_STROKE_RATIO
        bold = usual > 0 and stroke >= threshold * usual and bool(_CJK.search(piece.text))
        lines.setdefault(key, []).append(replace(piece, bold=bold))
        previous_bold = bold or (previous_bold and not _CJK.search(piece.text))
    return [_bold_punctuation(line) for line in lines.values()]


def _bold_punctuation(line: list[Piece]) -> list[Piece]:
    """Quotes, brackets and digits inside or closing a bold title are part of it: strokes of
    punctuation tell nothing, so a mark takes the weight of its neighbours."""
    out = list(line)
    for n, piece in enumerate(out):
        if _CJK.search(piece.text):
            continue
        before = n > 0 and out[n - 1].bold
        after = next((p.bold for p in out[n + 1 :] if _CJK.search(p.text)), False)
        closing = piece.text[-1:] in CLOSING_MARKS
        if before and (after or closing):
            out[n] = replace(piece, bold=True)
        elif after and piece.text[:1] in OPENING_MARKS and n == 0:
            out[n] = replace(piece, bold=True)
    return out


def _stroke(ink, piece: Piece) -> float:
    """Mean stroke width in a word's box: twice the ink area over its outline length."""
    box = ink[max(0, int(piece.y0) - 1) : int(piece.y1) + 1, max(0, int(piece.x0) - 1) : int(piece.x1) + 1]
    if box.shape[0] < 3 or box.shape[1] < 3:
        return 0.0
    inner = box[1:-1, 1:-1] & box[:-2, 1:-1] & box[2:, 1:-1] & box[1:-1, :-2] & box[1:-1, 2:]
    edge = int(box[1:-1, 1:-1].sum()) - int(inner.sum())
    return 2.0 * float(box.sum()) / edge if edge > 0 else 0.0
