"""大事记 (chronicle) pages: month headings and one dated entry per day.

Shape (government sites and yearbooks):

    幸福街道2023年大事记          <- the year comes from the heading
    1月    (or a bare "1" on its own line, or 一月)
    1日 幸福街道召开……。          <- one entry per "N日" line or paragraph
    5日—6日 ……                   <- a range is dated by its first day
    是月 / 上旬 / 中旬 / 下旬 ……   <- dated by the month's 1st / 11th / 21st

Each entry becomes a brief dated YYYY-MM-DD (no date when the page names no year); its text
is the entry as printed, lines wrapped inside an entry rejoined.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from search.item import Item, Source

from .header import cn_number
from .textclean import Line, ascii_digits, rejoin_wrapped, strip_markup
from .titles import derive_title

_NUM = r"[0-9０-９一二三四五六七八九十]"
MONTH_RE = re.compile(rf"^(?:(?P<year>\d{{4}})\s*年\s*)?(?P<month>{_NUM}{{1,2}})\s*(?:月(?:份)?)?$")
DAY_ENTRY_RE = re.compile(rf"^(?P<day>{_NUM}{{1,3}})\s*日(?:\s*[—–\-~～至到]\s*{_NUM}{{1,3}}\s*日)?(?:[\s　，,、：:]|(?=[\u4e00-\u9fff“《]))")
PERIOD_ENTRY_RE = re.compile(r"^(?P<period>是月|当月|本月|月内|月初|上旬|中旬|下旬|月底|月末)(?:[\s　，,、：:]|(?=[\u4e00-\u9fff“《]))")
PERIOD_DAY = {"是月": 1, "当月": 1, "本月": 1, "月内": 1, "月初": 1, "上旬": 1, "中旬": 11, "下旬": 21, "月底": 28, "月末": 28}
YEAR_RE = re.compile(r"(\d{4})\s*年")
# A page is a chronicle when at least this many lines open an entry and they are most of its lines.
MIN_ENTRIES = 3
MIN_ENTRY_SHARE = 0.5


@dataclass
class _Entry:
    month: int | None
    day: int
    line: int
    lines: list[str] = field(default_factory=list)


def is_chronicle(lines: list[Line]) -> bool:
    texts = [strip_markup(line.text) for line in lines]
    entries = sum(1 for t in texts if _opens_entry(t))
    months = sum(1 for t in texts if _month(t) is not None)
    body = [t for t in texts if _month(t) is None]
    return months >= 1 and entries >= MIN_ENTRIES and entries >= MIN_ENTRY_SHARE * max(1, len(body) - 1)


def parse_chronicle(lines: list[Line], path: str, title_max: int) -> list[Item]:
    year: int | None = None
    month: int | None = None
    entries: list[_Entry] = []
    for line in lines:
        text = strip_markup(line.text)
        heading = _month(text)
        if heading is not None:
            heading_year, month = heading
            year = heading_year or year
            continue
        opened = _entry_day(text)
        if opened is not None:
            entries.append(_Entry(month, opened, line.number, [text]))
        elif entries:
            entries[-1].lines.append(text)  # a wrapped line or a further paragraph of the entry
        elif year is None:
            found = YEAR_RE.search(ascii_digits(text))  # the page heading: 幸福街道2023年大事记
            year = int(found.group(1)) if found else None
    return [_item(entry, year, path, title_max) for entry in entries]


def _opens_entry(text: str) -> bool:
    return _entry_day(text) is not None


def _entry_day(text: str) -> int | None:
    text = ascii_digits(text)
    day = DAY_ENTRY_RE.match(text)
    if day:
        number = cn_number(day.group("day"))
        return number if number and 1 <= number <= 31 else None
    period = PERIOD_ENTRY_RE.match(text)
    return PERIOD_DAY[period.group("period")] if period else None


def _month(text: str) -> tuple[int | None, int] | None:
    """(year or None, month) for a month heading line: 7月 / 7 / 七月 / 2023年7月."""
    match = MONTH_RE.match(ascii_digits(text.strip()))
    if not match:
        return None
    month = cn_number(match.group("month"))
    if month is None or not 1 <= month <= 12:
        return None
    return (int(match.group("year")) if match.group("year") else None), month


def _item(entry: _Entry, year: int | None, path: str, title_max: int) -> Item:
    text = "\n".join(rejoin_wrapped(entry.lines))
    return Item(
        kind="brief",
        title=derive_title(text, title_max),
        text=text,
        date=_date(year, entry.month, entry.day),
        source=Source(file=path, position=0, line=entry.line),
    )


def _date(year: int | None, month: int | None, day: int) -> str | None:
    if year is None or month is None:
        return None
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:  # 31日 in a 30-day month: a misprint; keep the month
        return dt.date(year, month, 1).isoformat()
