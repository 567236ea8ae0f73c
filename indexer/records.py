"""Rows of a .csv or .jsonl file -> Items, one per row.

Columns: text (required), title (first sentence when empty), unit (split on 、 or ,),
date, issue, series, url; any other column is ignored.
"""
from __future__ import annotations

import re
from typing import Any

from search.item import Item, Source

from .bulletin import BRIEF_MARKS
from .header import cn_number, parse_date
from .textclean import normalize, strip_markup
from .titles import derive_title

UNIT_SEPARATORS = re.compile(r"[、，,；;|]")


class RecordError(ValueError):
    """A row that cannot become an item; the file's other rows still go through."""


def record_to_item(record: dict[str, Any], path: str, title_max: int) -> Item:
    row = record.get("_row", 0)
    raw_text = _field(record, "text")
    if not raw_text:
        raise RecordError(f"第 {row} 行缺少 text 列或内容为空")
    text = "\n".join(strip_markup(p) for p in normalize(raw_text).split("\n") if p.strip())
    kind = "brief" if text.startswith(BRIEF_MARKS) else "measure"
    text = text.lstrip("".join(BRIEF_MARKS)).strip()
    title = strip_markup(normalize(_field(record, "title"))) or derive_title(text, title_max)
    units = tuple(u.strip() for u in UNIT_SEPARATORS.split(normalize(_field(record, "unit", "units"))) if u.strip())
    date_text = _field(record, "date")
    date = parse_date(date_text) if date_text else None
    if date_text and date is None:
        raise RecordError(f"第 {row} 行日期无法识别：{date_text!r}")
    issue = _issue(_field(record, "issue"), row)
    return Item(
        kind=kind,  # type: ignore[arg-type]
        title=title,
        text=text,
        units=units,
        series=_field(record, "series") or None,
        issue=issue,
        date=date,
        source=Source(file=path, position=int(row), line=0, url=_field(record, "url") or None),
    )


def _field(record: dict[str, Any], *names: str) -> str:
    for name in names:
        value = record.get(name)
        if value is None:
            continue
        if isinstance(value, list):
            return "、".join(str(v) for v in value)
        return str(value).strip()
    return ""


def _issue(value: str, row: int) -> int | None:
    if not value:
        return None
    match = re.search(r"第?\s*([0-9〇零一二三四五六七八九十百]+)\s*期?", value)
    number = cn_number(match.group(1)) if match else None
    if number is None:
        raise RecordError(f"第 {row} 行期号无法识别：{value!r}")
    return number
