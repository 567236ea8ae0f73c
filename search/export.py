"""A result set as a file people open in Excel or Word."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from .item import KIND_LABELS
from .params import MODE_LABELS

CSV_COLUMNS = ("标题", "单位", "日期", "刊物", "期号", "类型", "正文", "ID")


def to_csv(result: dict[str, Any]) -> bytes:
    """UTF-8 with BOM: Excel on Windows reads it as UTF-8 only with the BOM."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for r in result["results"]:
        writer.writerow([
            r["title"], "、".join(r["units"]), r["date"] or "", r["series"] or "",
            "" if r["issue"] is None else r["issue"], KIND_LABELS.get(r["kind"], r["kind"]), r["text"], r["id"],
        ])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def to_docx(result: dict[str, Any], filters: Sequence[str] = ()) -> bytes:
    """A Word list of the results; the heading says what was searched, how, and with which filters."""
    import docx  # lazy: python-docx pulls lxml
    from docx.shared import Pt

    document = docx.Document()
    document.add_heading(f"检索结果：{result['query']}", level=1)
    mode = MODE_LABELS.get(result["mode"], result["mode"])
    document.add_paragraph(f"检索模式：{mode}检索；筛选条件：{'、'.join(filters) if filters else '无'}")
    document.add_paragraph(f"共 {result['total']} 条，导出 {len(result['results'])} 条")
    for n, r in enumerate(result["results"], start=1):
        document.add_heading(f"{n}. {r['title']}", level=2)
        meta = [x for x in ("、".join(r["units"]), r["date"] or "", f"{r['series'] or ''}第{r['issue']}期" if r["issue"] else "") if x]
        info = document.add_paragraph("　".join(meta))
        for run in info.runs:
            run.font.size = Pt(9)
        for para in r["text"].split("\n"):
            document.add_paragraph(para)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
