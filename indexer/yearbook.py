"""Yearbook (年鉴) entries: bracketed section heads, hard line-wraps inside sentences.

Shape:

    幸福街道                        <- the entry's subject: the unit the sections describe
    【综述】 幸福街道位于城区东部，……常住人口6.2万
    人。2023年，……                  <- wrapped mid-sentence by the page: rejoined
    【城市建设】 全年完成……
    （撰稿：张明）                   <- the writer's credit: metadata, not text

One item per bracketed section, titled "<subject> <head>" (the head alone when the page has
no subject line), the subject as its unit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from search.item import Item, Source

from .textclean import Line, is_prose, rejoin_wrapped, strip_markup

SECTION_RE = re.compile(r"^【(?P<head>[^【】]{1,20})】\s*(?P<body>.*)$")
CREDIT_RE = re.compile(r"^[（(]?\s*(?:撰稿|撰稿人|供稿|执笔|编写|审稿|责任编辑)\s*[：:][^）)]*[）)]?$")
# A yearbook page is one where at least this many lines open a bracketed section.
MIN_SECTIONS = 2
# The subject above the sections is a short line without sentence punctuation.
SUBJECT_MAX_CHARS = 24


@dataclass
class _Section:
    head: str
    subject: str | None
    line: int
    lines: list[str] = field(default_factory=list)


def is_yearbook(lines: list[Line]) -> bool:
    return sum(1 for line in lines if SECTION_RE.match(strip_markup(line.text))) >= MIN_SECTIONS


def parse_yearbook(lines: list[Line], path: str) -> list[Item]:
    subject: str | None = None
    sections: list[_Section] = []
    for n, line in enumerate(lines):
        text = strip_markup(line.text)
        if CREDIT_RE.match(text):
            continue
        section = SECTION_RE.match(text)
        if section:
            sections.append(_Section(section.group("head").strip(), subject, line.number))
            if section.group("body").strip():
                sections[-1].lines.append(section.group("body").strip())
        elif _is_subject(text, lines[n + 1 :]):
            subject = text
        elif sections:
            sections[-1].lines.append(text)
    return [_item(s, path) for s in sections if s.lines]


def _is_subject(text: str, following: list[Line]) -> bool:
    """A short line without punctuation right above a bracketed section names the entry's subject."""
    return (
        len(text) <= SUBJECT_MAX_CHARS
        and not is_prose(text)
        and bool(following)
        and bool(SECTION_RE.match(strip_markup(following[0].text)))
    )


def _item(section: _Section, path: str) -> Item:
    title = f"{section.subject} {section.head}" if section.subject else section.head
    return Item(
        kind="measure",
        title=title,
        text="\n".join(rejoin_wrapped(section.lines)),
        units=(section.subject,) if section.subject else (),
        source=Source(file=path, position=0, line=section.line),
    )
