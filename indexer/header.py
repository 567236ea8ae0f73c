"""Bulletin headers and footers: series, issue, issuer, date; where a bulletin starts and ends."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .textclean import Line, ascii_digits, is_prose, strip_markup

_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"[0-9〇零○Ｏ一二三四五六七八九十百]+"
ISSUE_RE = re.compile(rf"第\s*({_NUM})\s*期")
DATE_RE = re.compile(rf"({_NUM})\s*年\s*({_NUM})\s*月\s*({_NUM})\s*日")
ISO_DATE_RE = re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})")
FOOTER_RE = re.compile(r"^(本期送|本期发|送[：:]|发[：:]|报[：:]|报送[：:]|抄送|抄报|责任编辑|编辑[：:]|签发|审核[：:]|校对|共印)")
RULE_RE = re.compile(r"^[-—_=*·]{3,}$")
# How far below the issue line the date and issuers may sit.
HEADER_LOOKAHEAD = 5
# The end of an issuing body's name.
ORGANISATION_RE = re.compile(r"(委员会|办公室|办事处|人民政府|政府|党委|党组|工委|委|局|部|院|厅|中心|街道|镇|乡|社区|总工会|团委|妇联|协会|公司)$")
# A series name is a short line such as 上街信息 or 工作简报.
SERIES_MAX_CHARS = 20


@dataclass
class Header:
    series: str | None
    issue: int | None
    issuer: str | None
    date: str | None
    start: int  # index of the first header line
    end: int  # index one past the last header line


def cn_number(text: str) -> int | None:
    """37, '三十七', '二〇二四' -> int; None when it is not a number."""
    text = ascii_digits(text.strip())
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _CN_DIGITS and ch not in "十百" for ch in text):
        return None
    if "十" not in text and "百" not in text:  # digit by digit: 二〇二四
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CN_DIGITS[ch]
    return total + current


def parse_date(text: str) -> str | None:
    """First date in text as YYYY-MM-DD, or None if absent or impossible."""
    text = ascii_digits(text)
    match = DATE_RE.search(text) or ISO_DATE_RE.search(text)
    if not match:
        return None
    parts = [cn_number(g) for g in match.groups()]
    if None in parts:
        return None
    year, month, day = parts  # type: ignore[misc]
    try:
        return dt.date(year, month, day).isoformat()  # type: ignore[arg-type]
    except ValueError:
        return None


def parse_issue(text: str) -> int | None:
    match = ISSUE_RE.search(ascii_digits(text))
    return cn_number(match.group(1)) if match else None


def is_footer(line: str) -> bool:
    return bool(FOOTER_RE.match(strip_markup(line)))


def is_rule(line: str) -> bool:
    return bool(RULE_RE.match(line.strip()))


def find_header(lines: list[Line], index: int) -> Header | None:
    """A header whose issue line is lines[index], or None.

    The series is the short line just above (# 上街信息) or the text before 第 N 期 on the
    same line; the date and the issuer sit within a few lines below.
    """
    text = strip_markup(lines[index].text)
    match = ISSUE_RE.search(ascii_digits(text))
    if not match or is_prose(text) or len(text) > 40:
        return None
    issue = cn_number(match.group(1))
    start = index
    series = text[: match.start()].strip() or None
    if series is None and index > 0:
        above = strip_markup(lines[index - 1].text)
        if above and len(above) <= SERIES_MAX_CHARS and not is_prose(above) and not is_rule(above):
            series, start = above, index - 1
    date = parse_date(text)
    issuers: list[str] = []
    end = index + 1
    for j in range(index + 1, min(index + 1 + HEADER_LOOKAHEAD, len(lines))):
        below = strip_markup(lines[j].text)
        if is_prose(below) or is_footer(below) or ISSUE_RE.search(below):
            break
        found = parse_date(below)
        if found and date is None and len(below) <= 30:
            date, end = found, j + 1
            break
        # Issuing bodies, one a line (中共幸福街道工作委员会 / 幸福街道办事处): a second one must
        # look like an organisation, so a title line under a header without a date stays a title.
        if len(below) <= 30 and not is_rule(below) and (not issuers or ORGANISATION_RE.search(below)):
            issuers.append(below)
            end = j + 1
        else:
            break
    issuer = "、".join(issuers) or None
    if date is None and issuer is None and series is None:
        return None
    return Header(series=_series_name(series), issue=issue, issuer=issuer, date=date, start=start, end=end)


def _series_name(series: str | None) -> str | None:
    """《社区动态》 简报 -> 社区动态: the name in book-title marks is the series."""
    if series is None:
        return None
    quoted = re.search(r"《([^》]{1,20})》", series)
    return quoted.group(1).strip() if quoted else series
