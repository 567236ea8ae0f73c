"""Parse a user's query: plain words, "quoted phrases" and -exclusions.

Space-separated parts are alternatives (融资 网格 = either); inside an unspaced part
the words need only mostly match (min_match_ratio), so a natural sentence such as
帮助中小企业解决贷款难 never becomes an AND of every sub-word.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .analysis import Analyzer

_PART = re.compile(r'(-?)(?:"([^"]*)"?|“([^”]*)”?|(\S+))')


class QueryError(ValueError):
    pass


@dataclass
class Group:
    units: list[tuple[str, ...]]
    min_match: int


@dataclass
class ParsedQuery:
    raw: str
    groups: list[Group] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    phrase_terms: list[list[str]] = field(default_factory=list)
    excluded: list[list[str]] = field(default_factory=list)
    semantic_text: str = ""

    @property
    def terms(self) -> set[str]:
        """Every positive term, for highlighting."""
        out = {alt for g in self.groups for unit in g.units for alt in unit}
        out.update(t for terms in self.phrase_terms for t in terms)
        return out

    @property
    def empty(self) -> bool:
        return not self.groups and not self.phrases


def parse_query(raw: str, analyzer: Analyzer, max_chars: int, min_match_ratio: float) -> ParsedQuery:
    text = (raw or "").strip()
    if not text:
        raise QueryError("查询为空，请输入要检索的词语")
    if len(text) > max_chars:
        raise QueryError(f"查询过长（{len(text)} 字），上限 {max_chars} 字")
    parsed = ParsedQuery(raw=text)
    positives: list[str] = []
    for match in _PART.finditer(text):
        negative = match.group(1) == "-"
        phrase = match.group(2) if match.group(2) is not None else match.group(3)
        word = phrase if phrase is not None else match.group(4)
        if not word or not word.strip():
            continue
        if negative:
            terms = [t for t, _s, _e in analyzer.words(word)]
            if terms:
                parsed.excluded.append(terms)
            continue
        positives.append(word)
        if phrase is not None:
            terms = [t for t, _s, _e in analyzer.words(phrase)]
            if terms:
                parsed.phrases.append("".join(phrase.split()))
                parsed.phrase_terms.append(terms)
            continue
        units = analyzer.query_units(word)
        if units:
            parsed.groups.append(Group(units, max(1, math.ceil(min_match_ratio * len(units)))))
    parsed.semantic_text = " ".join(positives)
    return parsed
