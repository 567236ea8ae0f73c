"""Feature articles and news reports (newspaper style, no bulletin header): one item per article.

An article is a title line, prose with section headings, photo captions and a
reporter credit (记者 … 通讯员 … 文/图). Captions and credits are not text; the
reporters' names are kept as metadata. A credit line ends an article.

News reports add a metadata line under the title (来源：幸福街道办事处 发布时间：2024-05-10),
a lead before the first paragraph (本报讯（记者 张明 通讯员 李华）) and an editor's credit
((责任编辑：王五)): 来源 names the unit, the time dates the item, the lead's names are
reporters, and none of it is text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from search.item import Item, Source

from .header import parse_date
from .textclean import Line, ends_sentence, is_prose, join_broken, strip_markup
from .timephrases import split_news_lead
from .titles import derive_title

CREDIT_RE = re.compile(
    r"^(本报|特约)?(记者|通讯员|实习生|摄影|摄|文/图|文／图|文|图)[\s：:]"
    r"|^(本报|特约)?(记者|通讯员)[^，。；！？：:]{2,30}$"  # names glued to the role: OCR drops the space
)
CREDIT_ROLES = re.compile(r"(本报|特约|全媒体|融媒体|见习|实习)?(记者|通讯员|实习生|摄影|文/图|文／图|摄)")
# Credits glued to the end of the last paragraph (single line break in the source).
TRAILING_CREDIT_RE = re.compile(r"(?P<credit>(本报)?记者[\s　]+\S.*(文/图|文／图|摄))$")
CAPTION_MARK_RE = re.compile(r"^(图为|图：|图:|▲|（图|\(图|图片)")
HEADING_SPACE_RE = re.compile(r"\S[ 　]+\S")
# A photo caption sits below a removed picture: two or more blank lines above it.
CAPTION_GAP = 2
# Titles, headings and captions are short lines; longer ones are prose without punctuation.
SHORT_LINE_CHARS = 60
# 来源：幸福街道办事处  发布时间：2024-05-10 09:30  作者：张明  浏览次数：120
META_FIELD_RE = re.compile(r"(来源|信息来源|发布单位|发布时间|发布日期|时间|日期|作者|编辑|浏览次数|点击数|阅读数|字号)\s*[：:]\s*")
# Marks that are never part of a unit's name (OCR leaves stray quotes beside them).
UNIT_STRAY_MARKS = "“”‘’\"'：:，,。.·|｜"
EDITOR_RE = re.compile(r"^[（(【\[]?\s*(责任编辑|编辑|审核|审校|校对|初审|终审|复审)\s*[：:][^（）()]*[）)】\]]?$")


@dataclass
class _Article:
    title: str
    line: int
    paragraphs: list[str] = field(default_factory=list)
    reporters: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    date: str | None = None
    closed: bool = False


def parse_articles(lines: list[Line], path: str, title_max: int, single_title: str | None = None) -> list[Item]:
    """Articles in order; with single_title (a saved web page) everything is one article of that title."""
    articles: list[_Article] = [_Article(title=single_title, line=lines[0].number if lines else 0)] if single_title else []
    for n, line in enumerate(lines):
        text = strip_markup(line.text)
        following = strip_markup(lines[n + 1].text) if n + 1 < len(lines) else ""
        current = articles[-1] if articles else None
        if EDITOR_RE.match(text):
            continue
        if current is not None and not current.paragraphs and _read_metadata(current, text):
            continue
        if single_title and current is not None:
            current.closed = False  # a page holds one article: credits and short lines do not end it
            if not current.paragraphs and text == single_title:
                continue  # the page repeats its title above the text
        trailing = TRAILING_CREDIT_RE.search(text)
        if trailing and not CREDIT_RE.match(text):
            text = text[: trailing.start()].strip()
        if CREDIT_RE.match(text):
            if current is not None:
                current.reporters.extend(_names(text))
                current.closed = True
            continue
        if current is None or current.closed:
            if _is_short(text) or _is_news_title(text, following):
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


def _read_metadata(article: _Article, text: str) -> bool:
    """Take 来源/发布时间/作者 from a metadata line above the text; True if the line was one."""
    fields = list(META_FIELD_RE.finditer(text))
    if not fields or fields[0].start() != 0:
        return False
    for n, field_match in enumerate(fields):
        end = fields[n + 1].start() if n + 1 < len(fields) else len(text)
        value = text[field_match.end() : end].strip()
        name = field_match.group(1)
        if name in ("来源", "信息来源", "发布单位") and value:
            units = (u.strip(UNIT_STRAY_MARKS) for u in re.split(r"[、，,；;\s]+", value))
            article.units.extend(u for u in units if u)
        elif name in ("发布时间", "发布日期", "时间", "日期"):
            article.date = parse_date(value) or article.date
        elif name == "作者" and value:
            article.reporters.extend(_names(value))
    return True


def _add_body_line(article: _Article, text: str, line: Line, following: str) -> None:
    if not article.paragraphs:
        lead, text = split_news_lead(text)  # 本报讯（记者 张明 通讯员 李华）
        for byline in re.findall(r"[（(【\[]([^（）()【】\[\]]*)[）)】\]]", lead):
            article.reporters.extend(n for n in _names(byline) if not n.endswith(("讯", "电", "报道")))
    if not text.strip():
        return  # a line of markup only (** or ###), or a lead with nothing after it: no text
    if article.paragraphs and is_prose(article.paragraphs[-1]) and not ends_sentence(article.paragraphs[-1]):
        article.paragraphs[-1] = join_broken(article.paragraphs[-1], text)  # page break
    elif _is_short(text) and _is_caption(text, line.gap, following):
        return
    else:
        article.paragraphs.append(text)


def _is_news_title(text: str, following: str) -> bool:
    """A news headline may hold ：or ，(幸福街道：“小积分”撬动…); the metadata line or the lead
    below it tells it from prose."""
    return (
        len(text) <= SHORT_LINE_CHARS
        and not re.search(r"[。；！？]", text)
        and bool(META_FIELD_RE.match(following) or split_news_lead(following)[0])
    )


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
        units=tuple(dict.fromkeys(article.units)),
        date=article.date,
        source=Source(file=path, position=0, line=article.line),
    )
