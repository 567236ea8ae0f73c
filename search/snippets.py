"""Snippets: the passage(s) of an item that explain why it was found, HTML-escaped.

Where the query's words occur, the windows with the most of them, the words in <mark>
(found by string search on a same-length normalised copy, not by re-running jieba: cheap,
and 网格 lights up in 网格员 too). Where none occurs — an item found by meaning — the
passage whose vector is closest to the query's (search/passages.py), so the reader sees the
sentences that made it relevant rather than the item's first lines.
"""
from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence

import numpy as np

# One-to-one character mapping, so offsets in the copy are offsets in the text.
_NORMALISE = {**{c: c + 32 for c in range(ord("A"), ord("Z") + 1)},
              **{c: c - 0xFEE0 for c in range(0xFF10, 0xFF5B)},
              **{c: c - 0xFEE0 + 32 for c in range(0xFF21, 0xFF3B)}}


@functools.lru_cache(maxsize=1024)
def term_pattern(terms: frozenset[str]) -> re.Pattern[str] | None:
    """Longest alternatives first, so 融资难题 wins over 融资 at the same place."""
    words = sorted((t for t in terms if t), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words))) if words else None


def matches(text: str, terms: set[str]) -> list[tuple[int, int]]:
    pattern = term_pattern(frozenset(terms)) if terms else None
    if pattern is None:
        return []
    return [(m.start(), m.end()) for m in pattern.finditer(text.translate(_NORMALISE))]


def marked(text: str, spans: Sequence[tuple[int, int]], left: int, right: int) -> str:
    """text[left:right], escaped, with the spans inside it wrapped in <mark>."""
    out, pos = [], left
    for s, e in spans:
        if s >= left and e <= right and s >= pos:
            out.append(html.escape(text[pos:s]))
            out.append(f"<mark>{html.escape(text[s:e])}</mark>")
            pos = e
    out.append(html.escape(text[pos:right]))
    return ("…" if left > 0 else "") + "".join(out) + ("…" if right < len(text) else "")


def lexical(text: str, terms: set[str], width: int, passages: int) -> str | None:
    """The best windows around the query's words, or None when no word occurs."""
    found = matches(text, terms)
    if not found:
        return None
    windows: list[tuple[int, int]] = []
    for start, _end in found:  # greedy: windows starting a little before a match, best first
        left = max(0, start - width // 4)
        count = sum(1 for s, e in found if s >= left and e <= left + width)
        windows.append((count, left))
    chosen: list[int] = []
    for _count, left in sorted(windows, key=lambda w: (-w[0], w[1])):
        if all(abs(left - c) >= width for c in chosen):
            chosen.append(left)
        if len(chosen) >= passages:
            break
    return " ".join(marked(text, found, left, min(len(text), left + width)) for left in sorted(chosen))


def by_meaning(text: str, spans: np.ndarray, vectors: np.ndarray, query: np.ndarray, width: int) -> str:
    """The passage closest to the query vector, trimmed to width (at a sentence end if possible)."""
    if len(spans) == 0:
        return leading(text, width)
    best = int(np.argmax(vectors @ query))
    return passage(text, (int(spans[best][0]), int(spans[best][1])), set(), width)


def passage(text: str, span: tuple[int, int], terms: set[str], width: int) -> str:
    """One passage of a text, trimmed to width (at a sentence end if possible), the terms in <mark>."""
    left, right = span
    while left < right and text[left].isspace():
        left += 1
    if right - left > width:
        cut = max(text.rfind(mark, left, left + width) for mark in "。！？；")
        right = cut + 1 if cut > left + width // 2 else left + width
    return marked(text, matches(text, terms), left, right)


def leading(text: str, width: int) -> str:
    return html.escape(text[:width]) + ("…" if len(text) > width else "")
