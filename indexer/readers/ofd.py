"""OFD (GB/T 33190-2016, the national layout format of official documents): text in reading order.

An OFD file is a zip of XML: OFD.xml names the document (DocBody/DocRoot), the document
lists its pages (Pages/Page BaseLoc), and each page's Content.xml holds TextObjects with a
Boundary (x y w h, mm), a Font, a Weight and TextCode runs positioned inside the boundary.
Templates a page uses (the red masthead is often one) are read first. The runs are laid out
into lines and paragraphs by position (layout.py); bold runs (Weight >= 700, or a bold
font) are kept as **…** for the parser.

Read directly with lxml rather than a package: the format is a published standard with a few
elements to follow, and the one Python package for it (easyofd) pulls PyMuPDF, reportlab and
more to render pages, which reading text does not need.
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field

from ..document import Document, SourceError
from .layout import Piece, lines_of, paragraphs

BOLD_WEIGHT = 700
# An OFD of bulletins unpacks to a few MB; more is a zip bomb.
MAX_UNPACKED = 200 * 1024 * 1024
MAX_ENTRIES = 20000
_NUMBERS = re.compile(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?")


@dataclass
class _Fonts:
    bold: set[str] = field(default_factory=set)


def read_ofd(path: str, data: bytes) -> Document:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise SourceError(f"不是有效的 .ofd 文件（{exc}）") from exc
    with archive:
        _check_size(archive)
        try:
            text = _read(archive)
        except SourceError:
            raise
        except (KeyError, ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
            raise SourceError(f".ofd 文件已损坏（{type(exc).__name__}）") from exc
    if not text.strip():
        raise SourceError(".ofd 中没有文字（可能是扫描件），请先做文字识别（OCR）")
    return Document(path, text=text, encoding="ofd")


def _check_size(archive: zipfile.ZipFile) -> None:
    infos = archive.infolist()
    unpacked = sum(info.file_size for info in infos)
    if unpacked > MAX_UNPACKED or len(infos) > MAX_ENTRIES:
        raise SourceError(f".ofd 解压后过大（{unpacked // (1024 * 1024)} MB，{len(infos)} 个部件），疑似压缩炸弹，已拒绝")
    if any(info.flag_bits & 0x1 for info in infos):
        raise SourceError("文件设有密码，无法读取；请去掉密码后再导入")


def _read(archive: zipfile.ZipFile) -> str:
    root = _xml(archive, "OFD.xml")
    doc_root = _text(_child(_child(root, "DocBody"), "DocRoot"))
    document_path = _resolve("", doc_root)
    document = _xml(archive, document_path)
    base = posixpath.dirname(document_path)
    fonts = _Fonts()
    common = _child(document, "CommonData")
    templates: dict[str, str] = {}
    if common is not None:
        for res_name in ("PublicRes", "DocumentRes"):
            for res in _children(common, res_name):
                _read_fonts(archive, _resolve(base, _text(res)), fonts)
        for template in _children(common, "TemplatePage"):
            templates[template.get("ID", "")] = _resolve(base, template.get("BaseLoc", ""))
    lines = []
    pages = _child(document, "Pages")
    for number, page in enumerate(_children(pages, "Page") if pages is not None else []):
        page_path = _resolve(base, page.get("BaseLoc", ""))
        content = _xml(archive, page_path)
        pieces: list[Piece] = []
        for template in _children(content, "Template"):
            template_path = templates.get(template.get("TemplateID", ""))
            if template_path:
                pieces += _pieces(_xml(archive, template_path), fonts)
        pieces += _pieces(content, fonts)
        lines += lines_of(pieces, number)
    return paragraphs(lines)


def _pieces(page, fonts: _Fonts) -> list[Piece]:
    out: list[Piece] = []
    for element in page.iter():
        if _local(element.tag) != "TextObject":
            continue
        box = _floats(element.get("Boundary", "0 0 0 0"))
        size = _floats(element.get("Size", "0"))[0] if element.get("Size") else 0.0
        bold = (int(float(element.get("Weight", "400"))) >= BOLD_WEIGHT or element.get("Font", "") in fonts.bold
                or element.get("Bold", "false") == "true")
        for code in element:
            if _local(code.tag) != "TextCode" or not (code.text or "").strip():
                continue
            text = code.text.strip("\r\n")
            x = box[0] + float(code.get("X", "0"))
            baseline = box[1] + float(code.get("Y", "0"))
            advances = _advances(code.get("DeltaX", ""), len(text), size)
            height = size or box[3] or 1.0
            out.append(Piece(text, x, baseline - height, x + sum(advances) + height, baseline, bold))
    return out


def _advances(delta: str, count: int, size: float) -> list[float]:
    """DeltaX: glyph advances, with 'g N v' meaning N times v (GB/T 33190 §11.3)."""
    tokens = delta.split()
    out: list[float] = []
    n = 0
    while n < len(tokens):
        if tokens[n] == "g" and n + 2 < len(tokens):
            out += [float(tokens[n + 2])] * int(float(tokens[n + 1]))
            n += 3
        else:
            out.append(float(tokens[n]))
            n += 1
    return out[: max(0, count - 1)] if out else [size] * max(0, count - 1)


def _read_fonts(archive: zipfile.ZipFile, path: str, fonts: _Fonts) -> None:
    if path not in archive.namelist():
        return
    for element in _xml(archive, path).iter():
        if _local(element.tag) == "Font" and (element.get("Bold") == "true" or "bold" in element.get("FontName", "").lower()
                                              or "黑体" in element.get("FontName", "")):
            fonts.bold.add(element.get("ID", ""))


def _xml(archive: zipfile.ZipFile, name: str):
    from lxml import etree  # lazy: only OFD reading needs it here

    try:
        raw = archive.read(name)
    except KeyError:
        raise SourceError(f".ofd 文件不完整：缺少 {name}") from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise SourceError(f".ofd 文件已损坏：{name} 不是有效的 XML") from exc


def _resolve(base: str, location: str) -> str:
    location = location.strip()
    if location.startswith("/"):
        return posixpath.normpath(location.lstrip("/"))
    return posixpath.normpath(posixpath.join(base, location))


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element, name: str) -> list:
    return [c for c in element if _local(c.tag) == name] if element is not None else []


def _child(element, name: str):
    found = _children(element, name)
    return found[0] if found else None


def _text(element) -> str:
    if element is None or not (element.text or "").strip():
        raise SourceError(".ofd 文件不完整：缺少文档入口")
    return element.text.strip()


def _floats(text: str) -> list[float]:
    return [float(n) for n in _NUMBERS.findall(text)] or [0.0]
