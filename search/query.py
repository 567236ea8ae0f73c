"""Parse a user's query into alternatives of parts, the way people know from web search.

- Words separated by spaces (or `+`, `AND`) narrow: every part must be satisfied.
- `或`, `OR` or `|` between parts widens: any alternative will do.
- "quoted phrases" (straight or Chinese quotes) must occur as written.
- `-word` or `-"phrase"` excludes items containing it, whatever the alternative.

Inside one part (an unspaced run such as 帮助中小企业解决贷款难) the words are weighed by
IDF (search/keyword.py), so a sentence never becomes an AND of every sub-word.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .analysis import Analyzer, Unit, highlight_terms

# A token: optional minus, then a quoted phrase (closing quote optional) or a bare word.
_TOKEN = re.compile(r'(-?)(?:"([^"]*)"?|“([^”]*)”?|([^\s"“|+＋]+))|(\|)|[+＋]')
OR_WORDS = frozenset({"或", "OR", "|"})
AND_WORDS = frozenset({"AND", "+", "＋"})


class QueryError(ValueError):
    pass



def checked_page(cfg: Any, limit: int | None, offset: int, sort: str, sorts: tuple[str, ...]) -> int:
    """The page size to use (cfg.default_limit when none is given); one set of checks and messages
    for every paged listing (search results, a unit's items)."""
    limit = cfg.default_limit if limit is None else limit
    if limit < 1 or limit > cfg.max_limit:
        raise QueryError(f"limit 应在 1 到 {cfg.max_limit} 之间")
    if offset < 0:
        raise QueryError("offset 不能小于 0")
    if sort not in sorts:
        raise QueryError(f"未知的排序“{sort[:20]}”，可选：{'、'.join(sorts)}")
    return limit

@dataclass
class Part:
    """One thing every match must satisfy: words (weighed by IDF) or an exact phrase."""

    text: str
    units: list[Unit]
    phrase: str | None = None  # exact wording (whitespace removed) when quoted


@dataclass
class ParsedQuery:
    raw: str
    alternatives: list[list[Part]] = field(default_factory=list)  # OR of ANDs
    excluded: list[Part] = field(default_factory=list)

    @property
    def parts(self) -> list[Part]:
        return [p for alt in self.alternatives for p in alt]

    @property
    def terms(self) -> set[str]:
        """What snippets mark: the positive words (never a lone character of a longer query)."""
        out: set[str] = set()
        for part in self.parts:
            out |= highlight_terms(part.units)
            if part.phrase:
                out.add(part.phrase)
        return out

    @property
    def semantic_text(self) -> str:
        """The text embedded for the whole query (operators and exclusions left out)."""
        return " ".join(p.text for p in self.parts)

    @property
    def empty(self) -> bool:
        return not self.alternatives


def parse_query(raw: str, analyzer: Analyzer, max_chars: int) -> ParsedQuery:
    text = (raw or "").strip()
    if not text:
        raise QueryError("查询为空，请输入要检索的词语")
    if len(text) > max_chars:
        raise QueryError(f"查询过长（{len(text)} 字），上限 {max_chars} 字；整段文字请用“草稿查重”")
    parsed = ParsedQuery(raw=text)
    current: list[Part] = []
    for match in _TOKEN.finditer(text):
        negative, straight, chinese, word, bar = match.groups()
        if bar or (word in OR_WORDS and not negative):
            if current:
                parsed.alternatives.append(current)
            current = []
            continue
        if word in AND_WORDS and not negative:
            continue
        phrase = straight if straight is not None else chinese
        content = phrase if phrase is not None else word
        if not content or not content.strip():
            continue
        units = analyzer.query_units(content)
        if not units:
            continue  # only stop words or punctuation
        part = Part(content.strip(), units, "".join(content.split()) if phrase is not None else None)
        if negative:
            parsed.excluded.append(part)
        else:
            current.append(part)
    if current:
        parsed.alternatives.append(current)
    return parsed
