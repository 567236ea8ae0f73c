"""Read one source file into a Document: bulletin text, or table records.

Every format ends up either as plain text (paragraphs separated by blank lines,
bold runs as **…**, headings as ###) for the bulletin parser, or as a list of
records for the record reader. Failures raise SourceError with a reason.
Text, .docx and records are read here; the formats that need heavier tools
(.doc/.wps, .ofd, web pages, PDF and scans) in indexer/readers/.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any, Callable

from .decode import DecodeError, decode_text
from .document import Document, SourceError
from .readers import office, ofd, scans, webpage

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
RECORD_SUFFIXES = {".jsonl", ".ndjson", ".csv"}
WORD97_SUFFIXES = {".doc", ".wps"}
WEB_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
MHTML_SUFFIXES = {".mht", ".mhtml"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}
# A bulletin's .docx unpacks to a few MB; zip bombs unpack to gigabytes.
DOCX_MAX_UNPACKED = 200 * 1024 * 1024
DOCX_MAX_ENTRIES = 2000


def read_document(path: Path, max_bytes: int) -> Document:
    """Read a file of any supported kind; unknown suffixes are tried as text."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(f"无法读取：{exc.strerror}") from exc
    if size > max_bytes:
        raise SourceError(f"文件过大（{size} 字节，上限 {max_bytes}）")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"无法读取：{exc.strerror}") from exc
    if not data.strip():
        raise SourceError("文件为空")
    reader = READERS.get(path.suffix.lower(), _read_text)
    return reader(str(path), data)


def _read_text(path: str, data: bytes) -> Document:
    text, encoding = _decode(data)
    if not text.strip():
        raise SourceError("文件为空")
    return Document(path, text=text, encoding=encoding)


def _decode(data: bytes) -> tuple[str, str]:
    try:
        return decode_text(data)
    except DecodeError as exc:
        raise SourceError(str(exc)) from exc


def read_docx_bytes(path: str, data: bytes) -> Document:
    import docx  # lazy: python-docx pulls lxml
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    _check_zip(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SourceError(f"不是有效的 .docx 文件（{type(exc).__name__}）") from exc
    except Exception as exc:  # lxml raises its own XML errors on damaged parts
        raise SourceError(f".docx 文件已损坏（{type(exc).__name__}）") from exc
    paragraphs: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = [cell.text.strip() for cell in row.cells]
                line = " ".join(dict.fromkeys(c for c in cells if c))  # merged cells repeat
                if line:
                    paragraphs.append(line)
        else:
            paragraphs.append(_docx_paragraph(block))
    text = "\n\n".join(p for p in paragraphs if p.strip())
    if not text.strip():
        raise SourceError(".docx 中没有文字")
    return Document(path, text=text, encoding="docx")


def _check_zip(data: bytes) -> None:
    """Refuse a .docx whose parts would unpack to far more than a bulletin (a zip bomb)
    before anything is decompressed: the sizes come from the zip's directory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            entries = len(archive.infolist())
    except zipfile.BadZipFile as exc:
        raise SourceError(f"不是有效的 .docx 文件（{exc}）") from exc
    if unpacked > DOCX_MAX_UNPACKED or entries > DOCX_MAX_ENTRIES:
        raise SourceError(f".docx 解压后过大（{unpacked // (1024 * 1024)} MB，{entries} 个部件），疑似压缩炸弹，已拒绝")


def _docx_paragraph(paragraph: Any) -> str:
    """Keep bold runs and heading styles as markdown so the parser sees titles."""
    style = (paragraph.style.name or "") if paragraph.style is not None else ""
    if style.lower().startswith("heading") or style.startswith("标题"):
        return "### " + paragraph.text.strip()
    out: list[str] = []
    bold_open = False
    for run in paragraph.runs:
        text = run.text
        if not text:
            continue
        is_bold = bool(run.bold) and bool(text.strip())
        if is_bold != bold_open:
            out.append("**")
            bold_open = is_bold
        out.append(text)
    if bold_open:
        out.append("**")
    return "".join(out)


def _read_jsonl(path: str, data: bytes) -> Document:
    text, encoding = _decode(data)
    records: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceError(f"第 {number} 行不是有效的 JSON（{exc.msg}）") from exc
        if not isinstance(record, dict):
            raise SourceError(f"第 {number} 行不是 JSON 对象")
        record["_row"] = number
        records.append(record)
    if not records:
        raise SourceError("没有记录")
    return Document(path, records=records, encoding=encoding)


def _read_csv(path: str, data: bytes) -> Document:
    text, encoding = _decode(data)
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise SourceError(f"CSV 格式错误（{exc}）") from exc
    if not rows:
        raise SourceError("没有记录")
    records = []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        record: dict[str, Any] = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        record["_row"] = number
        records.append(record)
    return Document(path, records=records, encoding=encoding)


READERS: dict[str, Callable[[str, bytes], Document]] = {
    **{suffix: _read_text for suffix in TEXT_SUFFIXES},
    ".docx": read_docx_bytes,
    ".pdf": scans.read_pdf,
    ".jsonl": _read_jsonl,
    ".ndjson": _read_jsonl,
    ".csv": _read_csv,
    **{suffix: office.read_word97 for suffix in WORD97_SUFFIXES},
    ".ofd": ofd.read_ofd,
    **{suffix: webpage.read_html for suffix in WEB_SUFFIXES},
    **{suffix: webpage.read_mhtml for suffix in MHTML_SUFFIXES},
    **{suffix: scans.read_image for suffix in IMAGE_SUFFIXES},
}
SUPPORTED_SUFFIXES = set(READERS)
