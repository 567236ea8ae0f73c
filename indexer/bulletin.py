"""Text of one file -> Items: split at bulletin headers, then measures, briefs and articles.

The rules follow what extraction from PDF/Word leaves behind (see design.md, "The material"):
titles in **bold**, as ### headings or before the first space; units in trailing
parentheses; sentences cut by page breaks; footers that are metadata, not text.
Text without a bulletin header is, in this order, a chronicle (大事记), a yearbook entry
(【…】 sections), a numbered headline list, or feature articles and news reports.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from search.item import Item, Source

from .articles import parse_articles
from .chronicle import is_chronicle, parse_chronicle
from .header import Header, find_header, is_footer, is_rule
from .headlines import drop_table_of_contents, is_headline_list, parse_headlines
from .textclean import (
    Line,
    ends_sentence,
    has_cjk,
    is_prose,
    join_broken,
    normalize,
    split_lines,
    strip_markup,
)
from .titles import derive_title
from .yearbook import is_yearbook, parse_yearbook

BRIEF_MARKS = ("△", "▲")
BOLD_TITLE_RE = re.compile(r"^\*\*(?P<title>[^*]+?)\*\*\s*(?P<body>.*)$")
HEADING_RE = re.compile(r"^#{1,6}\s*(?P<title>.+)$")
# A title before the first space (ASCII or ideographic) or glued to 一是.
PLAIN_TITLE_RE = re.compile(r"^(?P<title>[^\s　]+?)(?:[ 　]+|(?=一是))(?P<body>\S.*)$")
QUOTED_RE = re.compile(r"“[^”]*”|《[^》]*》")
ENUM_START_RE = re.compile(r"^[一二三四五六七八九十]+是")
UNIT_TAIL_RE = re.compile(r"[（(](?P<units>[^（）()]{2,120})[）)]\s*$")
UNIT_SPLIT_RE = re.compile(r"[、，,；;]")
# Titles are phrases of a few characters up to a long sentence-like headline.
TITLE_MIN_CHARS = 6
TITLE_MAX_CHARS = 60
# A single reporting unit name (区先进制造业开发区, 市生态环境局上街分局) is short.
UNIT_MAX_CHARS = 30


@dataclass
class _Draft:
    kind: str
    title: str
    paragraphs: list[str]
    line: int
    units: tuple[str, ...] = ()
    closed: bool = False  # the trailing unit has been seen: nothing more belongs to it

    @property
    def body(self) -> str:
        return self.paragraphs[-1] if self.paragraphs else ""

    def is_open(self) -> bool:
        """A body that stops mid-sentence was cut by a page break."""
        return bool(self.paragraphs) and not ends_sentence(self.body)

    def extend(self, text: str) -> None:
        self.paragraphs[-1] = join_broken(self.paragraphs[-1], text)

    def add_paragraph(self, text: str) -> None:
        self.paragraphs.append(text)


def parse_text(text: str, path: str, brief_title_max_chars: int, page_title: str | None = None) -> list[Item]:
    """All items of one file, in order; several bulletins and articles may share a file.

    page_title: the text is one saved web page of that title; without a bulletin header or
    another layout it is one article.
    """
    lines = split_lines(normalize(text))
    items: list[Item] = []
    for header, segment in _segments(lines):
        if header is None:
            items.extend(_parse_headerless(segment, path, brief_title_max_chars, page_title))
        else:
            items.extend(_parse_bulletin(header, segment, path, brief_title_max_chars))
    return [_with_position(item, n) for n, item in enumerate(items, start=1)]


def _parse_headerless(lines: list[Line], path: str, title_max: int, page_title: str | None) -> list[Item]:
    if is_chronicle(lines):
        return parse_chronicle(lines, path, title_max)
    if is_yearbook(lines):
        return parse_yearbook(lines, path)
    if is_headline_list(lines):
        return parse_headlines(lines, path)
    return parse_articles(lines, path, title_max, single_title=page_title)


def _with_position(item: Item, position: int) -> Item:
    assert item.source is not None
    source = Source(file=item.source.file, position=position, line=item.source.line)
    return Item(**{**item.__dict__, "source": source})


def _segments(lines: list[Line]) -> list[tuple[Header | None, list[Line]]]:
    """Split at each header; text before the first header (or without one) is articles."""
    headers: list[Header] = []
    index = 0
    while index < len(lines):
        header = find_header(lines, index)
        if header is not None and (not headers or header.start >= headers[-1].end):
            headers.append(header)
            index = header.end
        else:
            index += 1
    segments: list[tuple[Header | None, list[Line]]] = []
    first = headers[0].start if headers else len(lines)
    if first > 0:
        segments.append((None, lines[:first]))
    for n, header in enumerate(headers):
        stop = headers[n + 1].start if n + 1 < len(headers) else len(lines)
        segments.append((header, lines[header.end : stop]))
    return segments


def _parse_bulletin(header: Header, lines: list[Line], path: str, title_max: int) -> list[Item]:
    drafts: list[_Draft] = []
    body_lines = drop_table_of_contents(_until_footer(lines))
    if is_headline_list(body_lines):
        return parse_headlines(body_lines, path, series=header.series, issue=header.issue, date=header.date,
                               issuer=header.issuer)
    index = 0
    while index < len(body_lines):
        line = body_lines[index]
        text = line.text
        index += 1
        if is_rule(text):
            continue
        if text in BRIEF_MARKS and index < len(body_lines):
            text = f"{text} {body_lines[index].text}"  # a lone △ (PDF line wrap) starts the next line
            index += 1
        current = drafts[-1] if drafts else None
        if current is not None and not current.closed and _is_unit_line(text):
            current.extend(text)  # （区公安局） wrapped onto a line of its own
            _close_if_unit(current)
            continue
        if current is not None and current.is_open() and not _is_structural_start(text):
            current.extend(text)
            _close_if_unit(current)
            continue
        started = _start_item(text, line.number, title_max)
        if started is None and index < len(body_lines) and _is_title_line(text) and is_prose(body_lines[index].text):
            # A title on its own line (### heading or bold line), body in the next paragraph.
            started = _Draft("measure", strip_markup(text), [], line.number)
            started.add_paragraph(body_lines[index].text)
            index += 1
        if started is not None:
            drafts.append(started)
            _close_if_unit(started)
        elif current is not None and not current.closed and current.kind == "measure":
            current.add_paragraph(text)  # 二是… in a paragraph of its own
            _close_if_unit(current)
        else:
            draft = _Draft("measure", "", [text], line.number)
            drafts.append(draft)
            _close_if_unit(draft)
    items = (_finish(d, header, path, title_max) for d in drafts)
    return [item for item in items if item.text.strip()]  # a draft of markup only (**, ###) has no text


def _is_unit_line(text: str) -> bool:
    return bool(UNIT_TAIL_RE.fullmatch(text.strip()) and _trailing_units(text))


def _until_footer(lines: list[Line]) -> list[Line]:
    for n, line in enumerate(lines):
        if is_footer(line.text):
            return lines[:n]
    return lines


def _is_structural_start(text: str) -> bool:
    """Lines that can never continue a cut sentence."""
    if text.startswith(BRIEF_MARKS) or HEADING_RE.match(text):
        return True
    bold = BOLD_TITLE_RE.match(text)
    return bool(bold and _is_title(bold.group("title")))


def _is_title(text: str) -> bool:
    """A headline: short, Chinese, no sentence punctuation outside its quotes (“抢、拼、实”)."""
    text = strip_markup(text)
    return (
        TITLE_MIN_CHARS <= len(text) <= TITLE_MAX_CHARS
        and has_cjk(text)
        and not is_prose(QUOTED_RE.sub("", text))
        and not ENUM_START_RE.match(text)
    )


def _is_title_line(text: str) -> bool:
    heading = HEADING_RE.match(text)
    if heading:
        return True
    bold = BOLD_TITLE_RE.match(text)
    if bold and not bold.group("body"):
        return _is_title(bold.group("title"))
    return _is_title(text) and not re.search(r"[ 　]", text.strip())


def _start_item(text: str, number: int, title_max: int) -> _Draft | None:
    """A new item if the line begins one: △ brief, **bold** title, ### heading, or plain title."""
    if text.startswith(BRIEF_MARKS):
        body = text.lstrip("".join(BRIEF_MARKS)).strip()
        return _Draft("brief", "", [body], number)
    if HEADING_RE.match(text):
        return None  # a heading alone: taken as a title line with the next paragraph
    bold = BOLD_TITLE_RE.match(text)
    if bold and _is_title(bold.group("title")) and bold.group("body"):
        return _Draft("measure", bold.group("title").strip(), [bold.group("body").strip()], number)
    plain = PLAIN_TITLE_RE.match(text)
    if plain and _is_title(plain.group("title")):
        return _Draft("measure", plain.group("title").strip(), [plain.group("body").strip()], number)
    return None


def _close_if_unit(draft: _Draft) -> None:
    units = _trailing_units(strip_markup(draft.body))
    if units:
        draft.units = units
        draft.closed = True
        draft.paragraphs[-1] = UNIT_TAIL_RE.sub("", draft.paragraphs[-1]).rstrip()


def _trailing_units(text: str) -> tuple[str, ...]:
    match = UNIT_TAIL_RE.search(text)
    if not match:
        return ()
    parts = [p.strip() for p in UNIT_SPLIT_RE.split(match.group("units"))]
    if not parts or any(not p or len(p) > UNIT_MAX_CHARS or is_prose(p) or not has_cjk(p) for p in parts):
        return ()
    return tuple(parts)


def _finish(draft: _Draft, header: Header, path: str, title_max: int) -> Item:
    text = "\n".join(strip_markup(p) for p in draft.paragraphs if p.strip())
    title = strip_markup(draft.title) or derive_title(text, title_max)
    return Item(
        kind=draft.kind,  # type: ignore[arg-type]
        title=title,
        text=text,
        units=draft.units,
        series=header.series,
        issue=header.issue,
        date=header.date,
        issuer=header.issuer,
        source=Source(file=path, position=0, line=draft.line),
    )
