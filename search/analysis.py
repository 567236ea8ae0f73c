"""Text analysis with jieba, one code path for indexing, querying and highlighting.

jieba runs through rjieba (the jieba-rs binding: the same dictionary and algorithm, about
15 times faster) with HMM off on both sides: HMM guesses new words from context, so the
same string could split one way in a document and another in a query.

Indexing emits, for every text:
- jieba's precise words (stop words and punctuation dropped, Latin lowercased);
- their in-dictionary 2- and 3-character sub-words (what cut_for_search adds), so 融资
  matches 融资难题;
- the character bigrams of every run of single-character words. A word missing from the
  dictionary falls apart into characters (文旅 -> 文/旅, 河长制 -> 河/长/制); its bigrams
  (文旅, 河长 + 长制) let it match as a word at both ends. Only runs of single characters
  produce bigrams, so 人文旅游 (人文/旅游) never matches 文旅.

A query keeps the word structure: each word becomes a Unit (the word and its sub-words,
a run of characters and its bigrams, or a lone character), weighed by IDF when matching.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import rjieba

_KEEP = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_CHAR = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]$")
_FULLWIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF5B)})
SUB_WORD_SIZES = (2, 3)  # sub-word lengths, as jieba's cut_for_search


@dataclass(frozen=True)
class Unit:
    """One word of a query and the terms that can stand for it in a document.

    kind "word": `text` itself, or its in-dictionary `parts` (sub-words);
    kind "run": a run of single characters, matched by its bigrams (`parts`, all wanted);
    kind "char": one character on its own.
    """

    text: str
    kind: str
    parts: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        return self.parts if self.kind == "run" else (self.text, *self.parts)


@dataclass
class Analyzed:
    """The index terms of one text (with repeats, for term frequencies)."""

    terms: list[str] = field(default_factory=list)


class Analyzer:
    """jieba with the project's dictionary and stop words; build once per process."""

    def __init__(self, user_dict: Path | None, stop_words: Path | None) -> None:
        self._jieba = rjieba.Jieba()
        if user_dict is not None:
            for line in user_dict.read_text(encoding="utf-8").splitlines():
                parts = line.split()
                if not parts or line.startswith("#"):
                    continue
                freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                tag = parts[2] if len(parts) > 2 else (parts[1] if len(parts) > 1 and not parts[1].isdigit() else None)
                self._jieba.add_word(parts[0], freq, tag)
        self.stop_words: frozenset[str] = frozenset()
        if stop_words is not None:
            words = stop_words.read_text(encoding="utf-8").splitlines()
            self.stop_words = frozenset(w.strip() for w in words if w.strip() and not w.startswith("#"))
        self.user_dict = user_dict
        self.stop_words_path = stop_words
        self._sub_cache: dict[str, tuple[str, ...]] = {}

    def _keep(self, word: str) -> str | None:
        word = word.strip().translate(_FULLWIDTH).lower()
        if not word or not _KEEP.search(word) or word in self.stop_words:
            return None
        return word

    def words(self, text: str) -> list[tuple[str | None, int, int]]:
        """Precise-mode words with character spans; None where a stop word or punctuation was
        (it separates runs of single characters)."""
        return [(self._keep(w), start, end) for w, start, end in self._jieba.tokenize(text, "default", False)]

    def sub_words(self, word: str) -> tuple[str, ...]:
        """In-dictionary 2- and 3-character pieces of a longer word, as cut_for_search finds them."""
        cached = self._sub_cache.get(word)
        if cached is not None:
            return cached
        subs: list[str] = []
        for n in SUB_WORD_SIZES:
            if len(word) > n:
                for i in range(len(word) - n + 1):
                    gram = word[i : i + n]
                    if gram not in self.stop_words and self._jieba.has_word(gram):
                        subs.append(gram)
        found = tuple(dict.fromkeys(subs))
        if len(self._sub_cache) < 500_000:
            self._sub_cache[word] = found
        return found

    def index_terms(self, text: str) -> list[str]:
        """Every index term of a text, repeats kept (term frequency)."""
        terms: list[str] = []
        run: list[str] = []
        for word, _start, _end in self.words(text):
            if word is not None and _CJK_CHAR.match(word):
                run.append(word)
                terms.append(word)
                continue
            if len(run) > 1:
                terms += [run[i] + run[i + 1] for i in range(len(run) - 1)]
            run.clear()
            if word is not None:
                terms.append(word)
                terms += self.sub_words(word)
        if len(run) > 1:
            terms += [run[i] + run[i + 1] for i in range(len(run) - 1)]
        return terms

    def query_units(self, text: str) -> list[Unit]:
        """The units of one query part, in order, duplicates dropped."""
        units: list[Unit] = []
        run: list[str] = []

        def flush() -> None:
            if len(run) > 1:
                units.append(Unit("".join(run), "run", tuple(run[i] + run[i + 1] for i in range(len(run) - 1))))
            elif run:
                units.append(Unit(run[0], "char"))
            run.clear()

        for word, _start, _end in self.words(text):
            if word is not None and _CJK_CHAR.match(word):
                run.append(word)
                continue
            flush()
            if word is not None:
                units.append(Unit(word, "word", self.sub_words(word)))
        flush()
        return list({u.text: u for u in units}.values())


def highlight_terms(units: Sequence[Unit]) -> set[str]:
    """What a snippet marks: words, their sub-words and run bigrams; a lone character only when
    the query is nothing but that character (else 难 in 困难 and 小 in 小区 light up)."""
    terms: set[str] = set()
    for unit in units:
        if unit.kind == "char":
            if len(units) == 1:
                terms.add(unit.text)
            continue
        terms.update(unit.terms)
        if unit.kind == "run":
            terms.add(unit.text)
    return terms


_lock = threading.Lock()
_cache: dict[tuple[str, str], Analyzer] = {}


def get_analyzer(user_dict: Path | None, stop_words: Path | None) -> Analyzer:
    """One Analyzer per dictionary per process (loading the dictionary costs about a second)."""
    key = (str(user_dict), str(stop_words))
    with _lock:
        if key not in _cache:
            _cache[key] = Analyzer(user_dict, stop_words)
        return _cache[key]


# ----------------------------------------------------------- background analysis
# Indexing analyses every title and text once. For large runs a worker process does it
# ahead of the writer (whoosh, in the main process), so the two stages use both cores.
PIPELINE_MIN_ITEMS = 2000  # below this, a worker's start-up (loading the dictionary) costs more than it saves
PIPELINE_CHUNK = 500  # texts per message to and from the worker
PIPELINE_WORKERS = 1  # rjieba is fast: one worker keeps ahead of the writer; the writer has the other core
PIPELINE_AHEAD = 8  # chunks analysed ahead

_worker: Analyzer | None = None
_SEP = "\x1f"  # term lists travel between processes as one joined string (cheap to pickle)


def _init_worker(user_dict: Path | None, stop_words: Path | None) -> None:
    global _worker
    _worker = Analyzer(user_dict, stop_words)


def _analyse_chunk(texts: list[str]) -> list[str]:
    assert _worker is not None
    return [_SEP.join(_worker.index_terms(text)) for text in texts]


def analyse_all(texts: list[str], analyzer: Analyzer) -> Iterator[list[str]]:
    """The index terms of each text, in order; computed in a worker process for large inputs."""
    if len(texts) < PIPELINE_MIN_ITEMS:
        for text in texts:
            yield analyzer.index_terms(text)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    chunks = [texts[i : i + PIPELINE_CHUNK] for i in range(0, len(texts), PIPELINE_CHUNK)]
    with ProcessPoolExecutor(PIPELINE_WORKERS, mp_context=multiprocessing.get_context(method), initializer=_init_worker,
                             initargs=(analyzer.user_dict, analyzer.stop_words_path)) as pool:
        pending = [pool.submit(_analyse_chunk, c) for c in chunks[:PIPELINE_AHEAD]]
        for n in range(len(chunks)):
            result = pending[n].result()
            if n + PIPELINE_AHEAD < len(chunks):
                pending.append(pool.submit(_analyse_chunk, chunks[n + PIPELINE_AHEAD]))
            pending[n] = None  # type: ignore[call-overload]
            for joined in result:
                yield joined.split(_SEP) if joined else []


def fingerprint(user_dict: Path | None, stop_words: Path | None) -> dict[str, str]:
    """Hashes of the dictionary and stop-word files an index was analysed with: a query analysed
    with other files would split differently and silently miss matches."""
    import hashlib

    out = {}
    for name, path in (("user_dict", user_dict), ("stop_words", stop_words)):
        out[name] = hashlib.sha1(path.read_bytes()).hexdigest()[:12] if path is not None and path.exists() else "-"
    return out
