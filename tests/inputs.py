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
