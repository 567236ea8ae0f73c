"""Split an item into passages: runs of whole sentences of about `max_chars` characters.

Each passage gets its own vector. The item's vector is their length-weighted mean (as good
as embedding the whole text on the development set, at the same cost), the best passage
lets one section about 网格 count in a long article about several things, and it is the
snippet shown when no query word occurs in the text.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_SENTENCE_END = re.compile(r"[。！？；!?…]+[”’」』）)]*|\n+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace-only pieces dropped."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if text[start:end].strip():
            spans.append((start, end))
        start = end
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def passage_spans(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Whole sentences grouped up to max_chars; a longer sentence is a passage of its own."""
    spans: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        if spans and end - spans[-1][0] <= max_chars:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans or [(0, len(text))]


def passage_texts(title: str, text: str, max_chars: int) -> tuple[list[str], list[tuple[int, int]]]:
    """The texts to embed for one item and their spans in `text`. The title leads the first
    passage: titles say what an item is about."""
    spans = passage_spans(text, max_chars)
    texts = [text[a:b].strip() for a, b in spans]
    if title and title.strip():
        texts[0] = f"{title.strip()}\n{texts[0]}"
    return texts, spans


@dataclass
class PassageBatch:
    """The passages of a batch of items: texts to embed, their spans in each item's text, and
    indptr (passages indptr[n]:indptr[n+1] belong to item n; every item has at least one)."""

    texts: list[str]
    spans: np.ndarray  # (passages, 2) int32
    indptr: np.ndarray  # (items + 1,) int64


def split_items(items: Sequence[tuple[str, str]], max_chars: int) -> PassageBatch:
    texts: list[str] = []
    spans: list[tuple[int, int]] = []
    indptr = [0]
    for title, text in items:
        ptexts, pspans = passage_texts(title, text, max_chars)
        texts += ptexts
        spans += pspans
        indptr.append(len(texts))
    return PassageBatch(texts, np.asarray(spans, dtype=np.int32).reshape(-1, 2), np.asarray(indptr, dtype=np.int64))
