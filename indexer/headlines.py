"""Numbered headline lists without bodies (1、… 9、): one brief per line.

Government sites and bulletin covers list items as "1、幸福街道召开……" with no text below;
each line is all there is of that item, so it becomes a brief whose title and text are the
headline. A list whose headlines come back later as titles of full items is a table of
contents (本期要目) and gives nothing of its own.
"""
from __future__ import annotations

import re

from search.item import Item, Source

from .textclean import SENTENCE_END, Line, has_cjk, strip_markup

HEADLINE_RE = re.compile(r"^(?P<number>\d{1,3})\s*[、.．)）]\s*(?P<title>\S.*)$")
# A list is at least this many numbered lines, most of the page's lines.
MIN_HEADLINES = 3
MIN_SHARE = 0.6
HEADLINE_MAX_CHARS = 80
CONTENTS_HEADING_RE = re.compile(r"^(?:本期)?(?:要目|目录|导读|提要|内容提要)$")


def headline_lines(lines: list[Line]) -> list[tuple[Line, str]]:
    """The numbered headline lines (numbered 1, 2, 3 … in order) with their titles."""
    out: list[tuple[Line, str]] = []
    for line in lines:
        match = HEADLINE_RE.match(strip_markup(line.text))
        if not match:
            continue
        title = match.group("title").strip()
        if int(match.group("number")) != len(out) + 1 or not _is_headline(title):
            continue
        out.append((line, title))
    return out


def is_headline_list(lines: list[Line]) -> bool:
    found = headline_lines(lines)
    return len(found) >= MIN_HEADLINES and len(found) >= MIN_SHARE * len(lines)


def parse_headlines(lines: list[Line], path: str, **metadata) -> list[Item]:
    """One brief per headline; metadata (series, issue, date, issuer) from a bulletin header."""
    return [
        Item(kind="brief", title=title, text=title, source=Source(file=path, position=0, line=line.number), **metadata)
        for line, title in headline_lines(drop_table_of_contents(lines))
    ]


def drop_table_of_contents(lines: list[Line]) -> list[Line]:
    """Lines without a table of contents: headlines whose items follow in full, and their 本期要目 heading."""
    found = headline_lines(lines)
    numbered = {line.number for line, _ in found}
    later = [strip_markup(line.text) for line in lines if line.number not in numbered]
    contents = {line.number for line, title in found if any(text.startswith(title) for text in later)}
    if not contents:
        return lines
    first = next(n for n, line in enumerate(lines) if line.number in contents)
    if first > 0 and CONTENTS_HEADING_RE.match(strip_markup(lines[first - 1].text)):
        contents.add(lines[first - 1].number)
    return [line for line in lines if line.number not in contents]


def _is_headline(title: str) -> bool:
    return len(title) <= HEADLINE_MAX_CHARS and has_cjk(title) and title[-1] not in SENTENCE_END.replace("”", "").replace("》", "")
