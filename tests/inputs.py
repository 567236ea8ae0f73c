"""Build other file formats from the sample bulletins, with real libraries, for the reader tests."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from search.item import Item

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")  # Debian fonts-wqy-microhei
BOLD = re.compile(r"\*\*(.+?)\*\*")
_FULL_TO_HALF = str.maketrans({"，": ",", "；": ";", "：": ":", "（": "(", "）": ")", "！": "!", "？": "?"})


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def write_docx(text: str, path: Path) -> Path:
    """Paragraphs as docx paragraphs; **bold** as bold runs; ### as a heading; a table for the footer."""
    import docx

    document = docx.Document()
    for para in paragraphs(text):
        if para.startswith("#"):
            document.add_heading(para.lstrip("# "), level=3 if para.startswith("###") else 1)
            continue
        paragraph = document.add_paragraph()
        pos = 0
        for match in BOLD.finditer(para):
            if match.start() > pos:
                paragraph.add_run(para[pos : match.start()])
            paragraph.add_run(match.group(1)).bold = True
            pos = match.end()
        if pos < len(para):
            paragraph.add_run(para[pos:])
    document.save(str(path))
    return path


def write_pdf(text: str, path: Path) -> Path:
    """A text-layer PDF in a CJK font; markdown markers dropped as a PDF has none."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font("cjk", fname=str(CJK_FONT), collection_font_number=0)
    pdf.set_font("cjk", size=11)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    for para in paragraphs(text):
        clean = BOLD.sub(r"\1", para).lstrip("# ").strip()
        pdf.multi_cell(0, 6, clean)
        pdf.ln(6)
    pdf.output(str(path))
    return path


def write_records(items: list[Item], path: Path) -> Path:
    rows = [
        {
            "title": i.title,
            "text": ("△ " if i.kind == "brief" else "") + i.text,
            "unit": "、".join(i.units),
            "date": i.date or "",
            "issue": "" if i.issue is None else str(i.issue),
            "series": i.series or "",
            "url": f"https://example.invalid/{i.id}",
            "ignored_column": "x",
        }
        for i in items
    ]
    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def half_width(text: str) -> str:
    return text.translate(_FULL_TO_HALF)


# OFD pages as GB/T 33190 lays them out: A4 in millimetres, 12 pt text.
OFD_NS = "http://www.ofdspec.org/2016"
OFD_PAGE = (210.0, 297.0)
OFD_MARGIN = 25.0
OFD_SIZE = 4.2333  # 12 pt in mm
OFD_LINE = 7.5


def write_ofd(text: str, path: Path) -> Path:
    """An OFD (zip of XML) holding the text: each paragraph's first line indented two characters,
    lines wrapped at the page width, **bold** runs as TextObjects of Weight 700."""
    import zipfile
    from xml.sax.saxutils import escape

    per_line = int((OFD_PAGE[0] - 2 * OFD_MARGIN) // OFD_SIZE)
    pages: list[list[str]] = [[]]
    y = OFD_MARGIN
    object_id = 10
    for para in paragraphs(text):
        runs = _bold_runs(para.lstrip("# ") if para.startswith("#") else para)
        if para.startswith("#"):
            runs = [(t, True) for t, _ in runs]
        chars = [(c, bold) for t, bold in runs for c in t]
        column = 2
        while chars:
            if y + OFD_LINE > OFD_PAGE[1] - OFD_MARGIN:
                pages.append([])
                y = OFD_MARGIN
            line, chars = chars[: per_line - column], chars[per_line - column:]
            x = OFD_MARGIN + column * OFD_SIZE
            for run_text, bold in _group(line):
                object_id += 1
                width = len(run_text) * OFD_SIZE
                pages[-1].append(
                    f'<ofd:TextObject ID="{object_id}" Boundary="{x:.3f} {y:.3f} {width:.3f} {OFD_LINE:.3f}" Font="1" '
                    f'Size="{OFD_SIZE}" Weight="{700 if bold else 400}"><ofd:TextCode X="0" Y="{OFD_SIZE:.3f}" '
                    f'DeltaX="g {len(run_text) - 1} {OFD_SIZE}">{escape(run_text)}</ofd:TextCode></ofd:TextObject>'
                    if len(run_text) > 1 else
                    f'<ofd:TextObject ID="{object_id}" Boundary="{x:.3f} {y:.3f} {width:.3f} {OFD_LINE:.3f}" Font="1" '
                    f'Size="{OFD_SIZE}" Weight="{700 if bold else 400}"><ofd:TextCode X="0" Y="{OFD_SIZE:.3f}">'
                    f'{escape(run_text)}</ofd:TextCode></ofd:TextObject>'
                )
                x += width
            y += OFD_LINE
            column = 0
        y += OFD_LINE * 0.5
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OFD.xml", f'{head}<ofd:OFD xmlns:ofd="{OFD_NS}" DocType="OFD" Version="1.0"><ofd:DocBody>'
                         f'<ofd:DocInfo><ofd:DocID>0C1D4F7159954EEEDE517F7285E84DC4</ofd:DocID><ofd:Creator>tests</ofd:Creator>'
                         f'</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>')
        page_refs = "".join(f'<ofd:Page ID="{100 + n}" BaseLoc="Pages/Page_{n}/Content.xml"/>' for n in range(len(pages)))
        archive.writestr("Doc_0/Document.xml", f'{head}<ofd:Document xmlns:ofd="{OFD_NS}"><ofd:CommonData>'
                         f'<ofd:MaxUnitID>{object_id}</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 {OFD_PAGE[0]} {OFD_PAGE[1]}'
                         f'</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>'
                         f'<ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>')
        archive.writestr("Doc_0/PublicRes.xml", f'{head}<ofd:Res xmlns:ofd="{OFD_NS}" BaseLoc="Res"><ofd:Fonts>'
                         f'<ofd:Font ID="1" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>')
        for n, objects in enumerate(pages):
            archive.writestr(f"Doc_0/Pages/Page_{n}/Content.xml",
                             f'{head}<ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content><ofd:Layer ID="{2 + n}">{"".join(objects)}'
                             f'</ofd:Layer></ofd:Content></ofd:Page>')
    return path


def _bold_runs(para: str) -> list[tuple[str, bool]]:
    runs: list[tuple[str, bool]] = []
    pos = 0
    for match in BOLD.finditer(para):
        if match.start() > pos:
            runs.append((para[pos : match.start()], False))
        runs.append((match.group(1), True))
        pos = match.end()
    if pos < len(para):
        runs.append((para[pos:], False))
    return runs


def _group(chars: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for char, bold in chars:
        if out and out[-1][1] == bold:
            out[-1] = (out[-1][0] + char, bold)
        else:
            out.append((char, bold))
    return out


# Scanned pages: A4 at 200 dpi, 12 pt text, margins 0.9 in, as a printed bulletin.
SCAN_DPI = 200
SCAN_POINTS = 12
_SHORT_HEADING = re.compile(r"^[^，。；：、！？]{2,40}$")


def printed_runs(para: str, titles: set[str]) -> list[tuple[str, bool]]:
    """A paragraph as it is printed: bold titles and headings (a .txt extraction lost the bold
    of titles written before a space, and of headings on their own line). titles: the item
    titles the parser finds in the text."""
    if para.startswith("#"):
        return [(para.lstrip("# ").strip(), True)]
    if "**" in para:
        return _bold_runs(para)
    title = next((t for t in titles if para.startswith(t + " ")), None)
    if title:
        return [(title, True), (para[len(title):], False)]
    if _SHORT_HEADING.match(para) and (" " in para or para in titles):
        return [(para, True)]  # an article's title or a section heading such as 筑巢引凤 招商育企全面发力
    return [(para, False)]


def _titles(text: str) -> set[str]:
    from indexer.bulletin import parse_text

    return {item.title for item in parse_text(text, "print", 60)}


def render_pages(text: str, dpi: int = SCAN_DPI, points: int = SCAN_POINTS) -> list:
    """The text printed on A4 pages as grey images (PIL), paragraphs indented two characters."""
    from PIL import Image, ImageDraw, ImageFont

    size = round(points * dpi / 72)
    width, height = round(8.27 * dpi), round(11.69 * dpi)
    margin = round(0.9 * dpi)
    line_height = round(size * 1.7)
    font = ImageFont.truetype(str(CJK_FONT), size)
    pages: list = []
    y = 0
    draw = None

    def new_page():
        nonlocal y, draw
        pages.append(Image.new("L", (width, height), 255))
        draw = ImageDraw.Draw(pages[-1])
        y = margin

    new_page()
    titles = _titles(text)
    for para in paragraphs(text):
        if re.fullmatch(r"[-—_=*·]{3,}", para):
            continue  # a rule, not text
        x = margin + 2 * size
        for char, bold in ((c, b) for run, b in printed_runs(para, titles) for c in run):
            advance = font.getlength(char)
            if x + advance > width - margin:
                x, y = margin, y + line_height
                if y + line_height > height - margin:
                    new_page()
            draw.text((x, y), char, font=font, fill=0, stroke_width=1 if bold else 0, stroke_fill=0)
            x += advance
        y += round(line_height * 1.6)
        if y + line_height > height - margin:
            new_page()
    return pages


def printed_text(text: str) -> str:
    """What render_pages prints, without markup: the reference for OCR accuracy."""
    titles = _titles(text)
    return "\n".join("".join(run for run, _ in printed_runs(p, titles)) for p in paragraphs(text)
                     if not re.fullmatch(r"[-—_=*·]{3,}", p))


def write_scanned_pdf(pages: list, path: Path, dpi: int = SCAN_DPI) -> Path:
    """Page images as a PDF without a text layer (what a scanner gives)."""
    first, *rest = [p.convert("L") for p in pages]
    first.save(path, "PDF", resolution=dpi, save_all=True, append_images=rest)
    return path


def libreoffice_save(sources: list[Path], suffix: str, outdir: Path) -> list[Path]:
    """Save documents in another format with LibreOffice (one headless run for all of them)."""
    import subprocess
    import tempfile

    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bulletin-test-lo-") as profile:
        subprocess.run(["soffice", f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
                        "--convert-to", suffix.lstrip("."), "--outdir", str(outdir), *map(str, sources)],
                       check=True, capture_output=True, timeout=300)
    return [outdir / (s.stem + suffix) for s in sources]


SAVE_WITH_PASSWORD = Path(__file__).parent / "tools" / "save_with_password.py"
SYSTEM_PYTHON = Path("/usr/bin/python3")  # Debian's, with python3-uno


def save_doc_with_password(source: Path, target: Path, password: str = "secret") -> Path:
    """A real password-protected Word 97 file, saved by LibreOffice through UNO."""
    import subprocess

    subprocess.run([str(SYSTEM_PYTHON), str(SAVE_WITH_PASSWORD), str(source), str(target), password],
                   check=True, capture_output=True, timeout=120)
    return target


def bulletin_html(text: str) -> str:
    """A bulletin published as a web page: paragraphs as <p>, bold as <strong>, a menu and a footer."""
    strong = r"<strong>\1</strong>"
    body = "".join("<p>" + BOLD.sub(strong, p.lstrip("# ")) + "</p>" for p in paragraphs(text))
    return (f'<html><head><meta charset="utf-8"><title>上街信息</title>'
            f'<link rel="canonical" href="https://www.shangjie.gov.cn/sjxx/37.html"></head><body>'
            f'<nav><a href="/">首页</a> <a href="/sjxx">上街信息</a></nav><div id="content">{body}</div>'
            f'<footer>版权所有 上街区人民政府</footer></body></html>')


def parse_without_tools(folder: Path) -> tuple[list[str], str, int]:
    """`bulletin parse FOLDER` with a PATH holding only the venv (no soffice, no tesseract):
    the error lines, stdout and the exit status."""
    import os
    import subprocess
    import sys

    bulletin = Path(sys.executable).parent / "bulletin"
    env = {**os.environ, "PATH": str(bulletin.parent)}
    out = subprocess.run([str(bulletin), "parse", str(folder)], capture_output=True, text=True, env=env, timeout=120)
    return [line for line in out.stderr.splitlines() if line.startswith("错误：")], out.stdout, out.returncode


def stop_process(process, sig: int) -> None:
    """Send sig, wait up to 30 s, then kill."""
    import subprocess

    process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def indexed_items(engine) -> list:
    """Every live item of an engine's index, read from its records (tests only: the engine
    itself never holds all items in memory)."""
    return [item for _row, item in engine.snapshot.iter_items()]
