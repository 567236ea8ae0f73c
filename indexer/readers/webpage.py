"""Pages saved from a website (.html/.htm, and .mht/.mhtml single-file saves).

trafilatura finds the main text and drops navigation, breadcrumbs, share bars, related-article
lists and footers; it keeps bold runs (as **…**), which the bulletin parser reads as titles.
htmldate finds the publication date (the original one, not "updated"). The page's own title,
its address (the browser's "saved from url" note, the canonical link or og:url) and the unit
the page names (来源：…) travel with the text. ingest.py makes a page one item unless its text
is a bulletin or another layout the parser knows.
"""
from __future__ import annotations

import email
import email.policy
import re

from ..decode import DecodeError, decode_text
from ..document import Document, SourceError

SAVED_FROM_RE = re.compile(rb"<!--\s*saved from url=\(\d+\)(\S+?)\s*-->", re.I)
CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.I)
SOURCE_RE = re.compile(r"(?:信息来源|来源|发布单位|发布机构)\s*[：:]\s*([^\s　|｜/]{2,30})")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# Main text shorter than this (in Chinese characters) is a menu or a list page, not an article.
MIN_TEXT_CHARS = 10
GB_NAMES = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936"}
# How far into the page's text the 来源 line may sit (it is near the title, never in the footer).
SOURCE_SEARCH_CHARS = 3000


def read_html(path: str, data: bytes) -> Document:
    text = _decode(data)
    url = _saved_from(data)
    return _extract(path, text, url, encoding="html")


def read_mhtml(path: str, data: bytes) -> Document:
    """A single-file save (MIME): the first text/html part, the address from its headers."""
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    url = message.get("Snapshot-Content-Location")
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True) or b""
            charset = part.get_content_charset()
            text = _decode(payload, charset)
            return _extract(path, text, url or part.get("Content-Location"), encoding="mhtml")
    raise SourceError("不是有效的网页存档（.mht 中没有网页）")


def _decode(data: bytes, charset: str | None = None) -> str:
    """The charset the page declares, else detection as for .txt (GBK pages are common)."""
    declared = charset or (lambda m: m.group(1).decode("ascii").lower() if m else None)(CHARSET_RE.search(data[:4096]))
    if declared:
        codec = "gb18030" if declared.lower() in GB_NAMES else declared
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return decode_text(data)[0]
    except DecodeError as exc:
        raise SourceError(str(exc)) from exc


def _saved_from(data: bytes) -> str | None:
    match = SAVED_FROM_RE.search(data[:4096])
    return match.group(1).decode("utf-8", "replace") if match else None


def _extract(path: str, html: str, url: str | None, encoding: str) -> Document:
    import lxml.html  # lazy: trafilatura and htmldate are loaded only for web pages
    import trafilatura
    from htmldate import find_date
    from lxml import etree

    if not html.strip():
        raise SourceError("文件为空")
    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise SourceError(f"不是有效的网页（{exc}）") from exc
    # A tree, never a string: given something that looks like an address, both libraries would fetch it.
    result = trafilatura.bare_extraction(tree, include_formatting=True, include_tables=True, with_metadata=True)
    data = result.as_dict() if result is not None and hasattr(result, "as_dict") else (result or {})
    text = (data.get("text") or "").strip()
    if len(_CJK.findall(text)) < MIN_TEXT_CHARS:
        raise SourceError("网页中没有找到正文")
    date = find_date(lxml.html.document_fromstring(html), original_date=True, extensive_search=True,
                     outputformat="%Y-%m-%d")
    unit = SOURCE_RE.search(tree.text_content()[:SOURCE_SEARCH_CHARS])
    return Document(path, text=text, encoding=encoding, title=(data.get("title") or "").strip() or None,
                    date=date or data.get("date"), url=url or data.get("url"), unit=unit.group(1) if unit else None)
