"""Search-as-you-type: dictionary words and item titles that contain what has been typed.

Chinese writers type a word that may sit anywhere in a title (网格 in
矿山街道“社会组织+网格”织密服务群众“心网”), so matching is by substring, not only by
prefix. Each kind of candidate is kept as one newline-joined string in rank order:
`str.find` runs in C, so the first few matches in rank order cost one scan of a few
megabytes at most at 100k titles, and a frequent prefix stops after a few hits.

Ranking: words that start with the typed text, then titles that start with it, then
words and titles that contain it elsewhere. Words are ranked shortest first; titles
newest first (undated last), so the same title from two issues appears once.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from pathlib import Path

SHIPPED_DICT = Path(__file__).parent / "data" / "userdict.txt"
_OPERATORS = re.compile(r'^[-"“]*')  # exclusion and opening quotes stay in front of the completion

# One-to-one character mapping (offsets in the folded copy are offsets in the original):
# Latin lower case, full-width letters and digits to half-width, line breaks to spaces.
_FOLD = {**{c: c + 32 for c in range(ord("A"), ord("Z") + 1)},
         **{c + 0xFEE0: c for c in range(ord("0"), ord("9") + 1)},
         **{c + 0xFEE0: c for c in range(ord("a"), ord("z") + 1)},
         **{c + 0xFEE0: c + 32 for c in range(ord("A"), ord("Z") + 1)},
         ord("\n"): " ", ord("\r"): " "}
_NEEDS_FOLD = re.compile("[A-Z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\n\r]")


def fold(text: str) -> str:
    return text.translate(_FOLD) if _NEEDS_FOLD.search(text) else text  # translate is slow; most titles need none


class _Table:
    """Candidates of one kind in rank order, searchable by prefix and by substring."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.entries: list[str] = []
        folded: list[str] = []
        seen: set[str] = set()
        for entry in entries:
            entry = " ".join(entry.split())
            key = fold(entry)
            if entry and key not in seen:
                seen.add(key)
                self.entries.append(entry)
                folded.append(key)
        self.starts: list[int] = []
        offset = 1
        for key in folded:
            self.starts.append(offset)
            offset += len(key) + 1
        self.blob = "\n" + "\n".join(folded) + "\n"

    def _entry_at(self, pos: int) -> int:
        return bisect_right(self.starts, pos) - 1

    def prefixed(self, q: str, limit: int, taken: set[int]) -> list[int]:
        """Entries that start with q (and are longer than q), in rank order."""
        out: list[int] = []
        needle, pos = "\n" + q, 0
        while len(out) < limit:
            pos = self.blob.find(needle, pos)
            if pos < 0:
                break
            n = self._entry_at(pos + 1)
            if n not in taken and len(self.entries[n]) > len(q):
                out.append(n)
                taken.add(n)
            pos += len(needle)
        return out

    def containing(self, q: str, limit: int, taken: set[int]) -> list[int]:
        """Entries that contain q after their first character, in rank order."""
        out: list[int] = []
        pos = 0
        while len(out) < limit:
            pos = self.blob.find(q, pos)
            if pos < 0:
                break
            n = self._entry_at(pos)
            if n not in taken and len(self.entries[n]) > len(q):
                out.append(n)
                taken.add(n)
            pos = self.starts[n + 1] if n + 1 < len(self.starts) else len(self.blob)  # next entry
        return out


class Suggester:
    """Built once per index generation from its titles (and their dates) and the dictionary."""

    def __init__(self, titles: Sequence[str], words: Iterable[str] = (), dates: Sequence[str | None] | None = None) -> None:
        order = range(len(titles))
        if dates is not None:  # newest first, undated last; stable otherwise
            order = sorted(order, key=lambda n: dates[n] or "", reverse=True)  # type: ignore[assignment]
        self.titles = _Table(titles[n] for n in order)
        self.words = _Table(sorted(set(words), key=lambda w: (len(w), w)))

    def suggest(self, q: str, limit: int) -> list[dict[str, str]]:
        """Up to `limit` completions of the part being typed (the last one), as {"text", "kind"}:
        `text` is the whole query with that part completed, `kind` "word" or "title"."""
        parts = q.split()
        if not parts or limit < 1 or q[-1].isspace():
            return []
        head = "".join(p + " " for p in parts[:-1])
        operators = _OPERATORS.match(parts[-1]).group(0)  # type: ignore[union-attr]
        key = fold(parts[-1][len(operators):])
        if not key:
            return []
        close = "”" if "“" in operators else '"' if '"' in operators else ""
        taken: dict[str, set[int]] = {"word": set(), "title": set()}
        tables = (("word", self.words), ("title", self.titles))
        found: list[tuple[str, int]] = []
        for search in ("prefixed", "containing"):
            for kind, table in tables:
                room = limit - len(found)
                if room <= 0:
                    break
                found += [(kind, n) for n in getattr(table, search)(key, room, taken[kind])]
        return [{"text": head + operators + (self.words if kind == "word" else self.titles).entries[n] + close, "kind": kind}
                for kind, n in found]


def dictionary_words(*paths: Path | None) -> list[str]:
    """The words of jieba user dictionaries (first field of each line); missing files are skipped."""
    words: dict[str, None] = {}
    for path in paths:
        if path is None or not Path(path).is_file():
            continue
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            fields = line.split()
            if fields and not fields[0].startswith("#"):
                words[fields[0]] = None
    return list(words)
