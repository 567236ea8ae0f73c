"""Text reuse between a draft and past items: exact overlap of character shingles.

e5 cosine cannot tell a copy from a neighbour (a pasted item scores 0.969, unrelated bulletin
items ~0.94), so the draft check compares the texts themselves. Both are folded (letters and
digits only, half-width, lower case, with a map back to the original offsets) and cut into
overlapping SHINGLE_CHARS-character shingles. Equal shingles at the same relative shift in the
two texts chain into common substrings (seeds). On each side, seeds at most GAP_CHARS apart merge
into one passage (a reworded word or a moved clause does not cut a copied paragraph in two);
passages shorter than MIN_PASSAGE_CHARS (stock phrases such as 垃圾分类工作) are dropped.

  几乎相同 (near):    passages cover at least `near_duplicate` of the draft AND of the item
  部分重复 (partial): otherwise, one exact common substring of `reuse_passage_chars` or more

Only candidates are compared: the items nearest by vector plus the items scoring highest on
the draft's rarest words (a copy has them all), so a copy is found even when it falls outside
the vector top N, and the work per request does not grow with the corpus beyond the scoring
the engine already does. Exact comparison of a hundred candidates takes milliseconds; MinHash
(datasketch) would only estimate Jaccard of whole sets and cannot say where the overlap is.
"""
from __future__ import annotations

import functools
import html
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .fusion import first_rows

NEAR = "near"  # 几乎相同
PARTIAL = "partial"  # 部分重复
SHINGLE_CHARS = 5  # shortest common substring that counts (2-4 characters are single words)
GAP_CHARS = 8  # seeds this close on one side belong to one passage (edited words, moved clauses)
MIN_PASSAGE_CHARS = 12  # shorter passages are stock phrases that unrelated items share
MAX_REPEATS = 8  # a shingle more frequent in one draft (融融融融融…) is noise and would pair with each copy in an item
RARE_WORDS = 24  # the draft's rarest words scored to find keyword candidates
_HASH_BASE = np.uint64(1_000_003)  # polynomial shingle hash, wrapping at 2**64
_CONTEXT_CHARS = 24  # characters of context kept around a passage in an excerpt
_EXCERPT_CHARS = 600  # longest excerpt of one side; further passages are left out


@functools.cache
def _fold_table() -> tuple[np.ndarray, np.ndarray]:
    """Per BMP code point: its folded form (NFKC, lower case) and whether it is kept (letter or digit)."""
    target = np.arange(0x10000, dtype=np.uint32)
    keep = np.zeros(0x10000, dtype=bool)
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        folded = unicodedata.normalize("NFKC", chr(code)).lower()
        if len(folded) != 1:  # expands (㈠ → (一)) or vanishes: judge the character itself
            folded = chr(code)
        target[code] = ord(folded)
        keep[code] = folded.isalnum()
    return target, keep


@dataclass(frozen=True)
class Folded:
    """A text reduced to letters and digits, with each kept character's offset in the original."""

    codes: np.ndarray  # uint32 code points
    offsets: np.ndarray  # offsets[i]: where codes[i] stands in the original text

    def __len__(self) -> int:
        return len(self.codes)

    @functools.cached_property
    def shingles(self) -> np.ndarray:
        """Hash of the SHINGLE_CHARS characters starting at each position."""
        n = len(self.codes) - SHINGLE_CHARS + 1
        if n <= 0:
            return np.zeros(0, dtype=np.uint64)
        codes = self.codes.astype(np.uint64)
        h = codes[:n].copy()
        for j in range(1, SHINGLE_CHARS):
            h = h * _HASH_BASE + codes[j : j + n]
        return h

    @functools.cached_property
    def sorted_shingles(self) -> tuple[np.ndarray, np.ndarray]:
        """(positions in hash order, hashes in order), shingles repeated more than MAX_REPEATS
        times left out: a draft is sorted once for all its candidates."""
        order = np.argsort(self.shingles, kind="stable")
        ordered = self.shingles[order]
        _values, counts = np.unique(ordered, return_counts=True)
        common = np.repeat(counts > MAX_REPEATS, counts)
        return order[~common], ordered[~common]


def fold(text: str) -> Folded:
    """Drop whitespace and punctuation, full-width to half-width, lower case; keep the offsets."""
    raw = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)  # lone surrogates can arrive in JSON
    target, keep_bmp = _fold_table()
    bmp = raw < 0x10000
    idx = np.where(bmp, raw, 0)
    keep = np.where(bmp, keep_bmp[idx], False)
    codes = np.where(bmp, target[idx], raw)
    for n in np.flatnonzero(~bmp):  # rare: CJK extension B and beyond
        keep[n] = chr(int(raw[n])).isalnum()
    offsets = np.flatnonzero(keep)
    return Folded(codes[offsets], offsets)


@dataclass(frozen=True)
class ReuseRule:
    """When shared text makes a mark (config.toml: search.near_duplicate, search.reuse_passage_chars)."""

    near_share: float
    passage_chars: int

    @classmethod
    def from_settings(cls, cfg: Any) -> "ReuseRule":
        return cls(cfg.near_duplicate, cfg.reuse_passage_chars)


@dataclass(frozen=True)
class Overlap:
    draft_share: float  # share of the draft's letters and digits inside passages shared with the item
    item_share: float  # share of the item's letters and digits inside passages shared with the draft
    longest: int  # longest exact common substring, in letters and digits
    draft_spans: list[tuple[int, int]]  # exactly shared text, as offsets in the draft
    item_spans: list[tuple[int, int]]  # ... and in the item's text

    def label(self, rule: ReuseRule) -> str | None:
        if min(self.draft_share, self.item_share) >= rule.near_share:
            return NEAR
        if self.longest >= rule.passage_chars:
            return PARTIAL
        return None


def _seeds(draft: Folded, item: Folded) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Common substrings as runs of equal shingles at a constant shift:
    (start in draft, start in item, length in characters), one row per maximal run."""
    empty = np.zeros(0, dtype=np.int64)
    order, ordered = draft.sorted_shingles
    item_h = item.shingles
    if len(ordered) == 0 or len(item_h) == 0:
        return empty, empty, empty
    lo = np.searchsorted(ordered, item_h, "left")
    counts = np.searchsorted(ordered, item_h, "right") - lo
    if not counts.any():
        return empty, empty, empty
    i_pos = np.repeat(np.arange(len(item_h)), counts)  # one row per equal (draft, item) shingle pair
    first = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    d_pos = order[np.arange(len(i_pos)) + first]
    shift = i_pos - d_pos
    by_shift = np.lexsort((d_pos, shift))
    d_pos, shift = d_pos[by_shift], shift[by_shift]
    new_run = np.ones(len(d_pos), dtype=bool)
    new_run[1:] = (shift[1:] != shift[:-1]) | (d_pos[1:] != d_pos[:-1] + 1)
    starts = np.flatnonzero(new_run)
    shingles = np.diff(np.append(starts, len(d_pos)))
    return d_pos[starts], d_pos[starts] + shift[starts], shingles + SHINGLE_CHARS - 1


def _passages(folded: Folded, starts: np.ndarray, lengths: np.ndarray) -> tuple[int, list[tuple[int, int]]]:
    """Seeds on one side merged across gaps of GAP_CHARS into passages; passages of
    MIN_PASSAGE_CHARS or more kept. Returns (characters inside them, their seeds as original offsets)."""
    if len(starts) == 0:
        return 0, []
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], starts[order] + lengths[order]
    reach = np.maximum.accumulate(e)
    new = np.ones(len(s), dtype=bool)
    new[1:] = s[1:] > reach[:-1] + GAP_CHARS
    group = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    p_start, p_end = s[first], np.maximum.reduceat(e, first)
    kept = (p_end - p_start) >= MIN_PASSAGE_CHARS
    inside = int((p_end - p_start)[kept].sum())
    spans = _union((int(a), int(b)) for a, b, g in zip(s, e, group) if kept[g])
    return inside, [(int(folded.offsets[a]), int(folded.offsets[b - 1]) + 1) for a, b in spans]


def compare(draft: Folded, item: Folded) -> Overlap:
    d_start, i_start, chars = _seeds(draft, item)
    d_inside, d_spans = _passages(draft, d_start, chars)
    i_inside, i_spans = _passages(item, i_start, chars)
    return Overlap(d_inside / len(draft) if len(draft) else 0.0, i_inside / len(item) if len(item) else 0.0,
                   int(chars.max(initial=0)), d_spans, i_spans)


# ------------------------------------------------------------------ candidates
def rare_words(words: Iterable[str], doc_freqs: Callable[[list[str]], Sequence[int]], n: int = RARE_WORDS) -> list[str]:
    """The draft's n rarest indexed words: cheap to score (short posting lists), and a copy has
    them all. doc_freqs: the document frequencies of a list of words (looked up together)."""
    distinct = list(dict.fromkeys(words))
    freq = dict(zip(distinct, doc_freqs(distinct)))
    return sorted((w for w, df in freq.items() if df > 0), key=lambda w: (freq[w], w))[:n]


def candidates(cosines: np.ndarray, keyword: np.ndarray, mask: np.ndarray, n: int,
               scored: np.ndarray | None = None) -> np.ndarray:
    """The n rows nearest by vector and the n best by keyword score (positive only), among mask,
    ties broken by row. `scored`: the rows whose cosines compete (sorted; None: every row) — a
    two-staged scan has exact cosines for its candidates only. Both are picked among their own
    rows: at a million rows, a pass and a partition over every row took 15 ms."""
    pool = np.flatnonzero(mask) if scored is None else scored[mask[scored]]
    listed = np.flatnonzero(keyword > 0)
    listed = listed[mask[listed]]
    near = first_rows(pool, -cosines[pool], min(n, len(pool)))
    found = first_rows(listed, -keyword[listed], min(n, len(listed)))
    return np.union1d(near, found)


# -------------------------------------------------------------------- the check
class DraftCheck:
    """A draft compared with its candidate items: marks, shares and highlighted passages per row."""

    def __init__(self, text: str, rows: Iterable[int], item_text: Callable[[int], str], rule: ReuseRule) -> None:
        self.text, self.rule = text, rule
        self.draft = fold(text)
        self.overlaps = {int(r): compare(self.draft, fold(item_text(int(r)))) for r in rows}

    def label(self, row: int) -> str | None:
        overlap = self.overlaps.get(row)
        return overlap.label(self.rule) if overlap else None

    def ordered(self, by_similarity: Sequence[int], limit: int) -> list[int]:
        """Near copies first, then partial reuse (each by share of the draft), then the rest by similarity."""
        marked = sorted((r for r in self.overlaps if self.label(r)),
                        key=lambda r: (self.label(r) != NEAR, -self.overlaps[r].draft_share, r))
        seen = set(marked)
        return (marked + [int(r) for r in by_similarity[: limit + len(marked)] if int(r) not in seen])[:limit]

    def annotate(self, result: dict[str, Any], row: int) -> dict[str, Any]:
        """The overlap fields of one result; its snippet shows the shared passages when it is marked."""
        overlap = self.overlaps.get(row) or compare(self.draft, fold(result["text"]))
        label = overlap.label(self.rule)
        result.update({
            "near_duplicate": label == NEAR,
            "reuse": label,
            "overlap": round(overlap.draft_share, 4),
            "item_overlap": round(overlap.item_share, 4),
            "passages": {"draft": [list(s) for s in overlap.draft_spans], "item": [list(s) for s in overlap.item_spans]},
        })
        if label:
            result["snippet"] = excerpt(result["text"], overlap.item_spans)
            result["draft_snippet"] = excerpt(self.text, overlap.draft_spans)
        return result

    def marked_draft(self) -> str:
        """The whole draft, escaped, with the passages found in marked items in <mark>."""
        spans = [s for row, o in self.overlaps.items() if self.label(row) for s in o.draft_spans]
        return mark_spans(self.text, spans, 0, len(self.text))


def _union(spans: Iterable[tuple[int, int]], gap: int = 0) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + gap:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def mark_spans(text: str, spans: Iterable[tuple[int, int]], left: int, right: int) -> str:
    """text[left:right], HTML-escaped, with the spans inside it wrapped in <mark>."""
    out, pos = [], left
    for start, end in _union(spans):
        start, end = max(start, pos), min(end, right)
        if start >= end:
            continue
        out.append(html.escape(text[pos:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        pos = end
    out.append(html.escape(text[pos:right]))
    return "".join(out)


def excerpt(text: str, spans: Sequence[tuple[int, int]], context: int = _CONTEXT_CHARS,
            max_chars: int = _EXCERPT_CHARS) -> str:
    """The shared passages with some context, escaped and marked; windows joined by …, at most
    max_chars. A text that short is shown whole."""
    if not spans:
        return ""
    if len(text) <= max_chars:
        return mark_spans(text, spans, 0, len(text))
    windows = _union(((max(0, s - context), min(len(text), e + context)) for s, e in spans), gap=context)
    parts, used, last = [], 0, 0
    for left, right in windows:
        right = min(right, left + max_chars - used)
        if right <= left:
            break
        parts.append(mark_spans(text, spans, left, right))
        used, last = used + right - left, right
    return ("…" if windows[0][0] > 0 else "") + "…".join(parts) + ("…" if last < len(text) else "")
