"""Feature articles (newspaper style, no bulletin header): one item per article.

An article is a title line, prose with section headings, photo captions and a
reporter credit (记者 … 通讯员 … 文/图). Captions and credits are not text; the
reporters' names are kept as metadata. A credit line ends an article.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from search.item import Item, Source

from .textclean import Line, ends_sentence, is_prose, join_broken, strip_markup
from .titles import derive_title

CREDIT_RE = re.compile(r"^(本报|特约)?(记者|通讯员|实习生|摄影|摄|文/图|文／图|文|图)[\s：:]")
CREDIT_ROLES = re.compile(r"(本报|特约)?(记者|通讯员|实习生|摄影|文/图|文／图|摄)")
# Credits glued to the end of the last paragraph (single line break in the source).
TRAILING_CREDIT_RE = re.compile(r"(?P<credit>(本报)?记者[\s　]+\S.*(文/图|文／图|摄))$")
CAPTION_MARK_RE = re.compile(r"^(图为|图：|图:|▲|（图|\(图|图片)")
HEADING_SPACE_RE = re.compile(r"\S[ 　]+\S")
# A photo caption sits below a removed picture: two or more blank lines above it.
CAPTION_GAP = 2
# Titles, headings and captions are short lines; longer ones are prose without punctuation.
SHORT_LINE_CHARS = 60


@dataclass
class _Article:
    title: str
    line: int
    paragraphs: list[str] = field(default_factory=list)
    reporters: list[str] = field(default_factory=list)
    closed: bool = False


def parse_articles(lines: list[Line], path: str, title_max: int) -> list[Item]:
    articles: list[_Article] = []
    for n, line in enumerate(lines):
        text = strip_markup(line.text)
        following = strip_markup(lines[n + 1].text) if n + 1 < len(lines) else ""
        current = articles[-1] if articles else None
        trailing = TRAILING_CREDIT_RE.search(text)
        if trailing and not CREDIT_RE.match(text):
            text = text[: trailing.start()].strip()
        if CREDIT_RE.match(text):
            if current is not None:
                current.reporters.extend(_names(text))
                current.closed = True
            continue
        if current is None or current.closed:
            if _is_short(text):
                articles.append(_Article(title=text, line=line.number))
                continue
            if current is None:
                current = _Article(title="", line=line.number)
                articles.append(current)
            else:
                current.closed = False
        _add_body_line(current, text, line, following)
        if trailing:
            current.reporters.extend(_names(trailing.group("credit")))
            current.closed = True
    return [_finish(a, path, title_max) for a in articles if a.paragraphs]


def _add_body_line(article: _Article, text: str, line: Line, following: str) -> None:
    if article.paragraphs and is_prose(article.paragraphs[-1]) and not ends_sentence(article.paragraphs[-1]):
        article.paragraphs[-1] = join_broken(article.paragraphs[-1], text)  # page break
    elif _is_short(text) and _is_caption(text, line.gap, following):
        return
    else:
        article.paragraphs.append(text)


def _is_short(text: str) -> bool:
    return len(text) <= SHORT_LINE_CHARS and not is_prose(text)


def _is_caption(text: str, gap: int, following: str) -> bool:
    """Captions: marked (图为…), below a removed picture, or an unspaced line just above a heading."""
    if CAPTION_MARK_RE.match(text) or gap >= CAPTION_GAP:
        return True
    return not HEADING_SPACE_RE.search(text) and bool(following) and _is_short(following)


def _names(credit: str) -> list[str]:
    return [n for n in CREDIT_ROLES.sub(" ", credit).replace("：", " ").replace(":", " ").split() if n]


def _finish(article: _Article, path: str, title_max: int) -> Item:
    text = "\n".join(article.paragraphs)
    return Item(
        kind="article",
        title=article.title or derive_title(text, title_max),
        text=text,
        reporters=tuple(dict.fromkeys(article.reporters)),
        source=Source(file=path, position=0, line=article.line),
    )
