"""Text analysis with jieba, one code path for indexing, querying and highlighting.

Indexing emits jieba's precise words plus their in-dictionary 2- and 3-character
sub-words (what cut_for_search adds), the sub-words at their word's position, so
融资 matches 融资难题 and positions stay word positions (not character offsets).
HMM is off on both sides: it guesses new words from context, so the same string could
split one way in a document and another in a query.
Queries keep the word structure: each precise word becomes a unit whose
alternatives are the word and its sub-words. The same dictionary serves both.
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import jieba

_KEEP = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_FULLWIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF5B)})


class Token(NamedTuple):
    """A tuple: cheap to build by the hundred per item and to pickle between processes."""

    text: str
    pos: int  # word position (sub-words share their word's)
    start: int  # character offsets in the analysed text
    end: int
    sub: bool = False  # a sub-word of a longer word


class Analyzer:
    """jieba with the project's dictionary and stop words; build once per process."""

    def __init__(self, user_dict: Path | None, stop_words: Path | None) -> None:
        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        if user_dict is not None:
            self._jieba.load_userdict(str(user_dict))
        self.stop_words: frozenset[str] = frozenset()
        if stop_words is not None:
            words = stop_words.read_text(encoding="utf-8").splitlines()
            self.stop_words = frozenset(w.strip() for w in words if w.strip() and not w.startswith("#"))
        self.user_dict = user_dict
        self.stop_words_path = stop_words

    def _keep(self, word: str) -> str | None:
        word = word.strip().translate(_FULLWIDTH).lower()
        if not word or not _KEEP.search(word) or word in self.stop_words:
            return None
        return word

    def words(self, text: str) -> list[tuple[str, int, int]]:
        """Precise-mode words (normalised) with their character spans; punctuation and stop words dropped."""
        out = []
        for word, start, end in self._jieba.tokenize(text, mode="default", HMM=False):
            kept = self._keep(word)
            if kept is not None:
                out.append((kept, start, end))
        return out

    def sub_words(self, word: str) -> list[tuple[str, int]]:
        """In-dictionary 2- and 3-character pieces of a longer word, as cut_for_search finds them."""
        freq = self._jieba.FREQ
        subs: list[tuple[str, int]] = []
        for n in (2, 3):
            if len(word) > n:
                for i in range(len(word) - n + 1):
                    gram = word[i : i + n]
                    if freq.get(gram) and gram not in self.stop_words:
                        subs.append((gram, i))
        return subs

    def index_tokens(self, text: str) -> Iterator[Token]:
        for pos, (word, start, end) in enumerate(self.words(text)):
            for gram, offset in self.sub_words(word):
                yield Token(gram, pos, start + offset, start + offset + len(gram), sub=True)
            yield Token(word, pos, start, end)

    def query_units(self, text: str) -> list[tuple[str, ...]]:
        """One unit per precise word: (word, its sub-words...). Duplicates dropped."""
        units: list[tuple[str, ...]] = []
        seen: set[str] = set()
        for word, _start, _end in self.words(text):
            if word in seen:
                continue
            seen.add(word)
            units.append((word, *dict.fromkeys(g for g, _ in self.sub_words(word))))
        return units


_lock = threading.Lock()
_cache: dict[tuple[str, str], Analyzer] = {}


def get_analyzer(user_dict: Path | None, stop_words: Path | None) -> Analyzer:
    """One Analyzer per dictionary per process (jieba's start-up costs about a second)."""
    key = (str(user_dict), str(stop_words))
    with _lock:
        if key not in _cache:
            _cache[key] = Analyzer(user_dict, stop_words)
        return _cache[key]


# ----------------------------------------------------------- background analysis
# Indexing analyses every title and text once. A worker process does it ahead of the
# whoosh writer, so the two stages overlap on the machine's two cores.
PIPELINE_MIN_ITEMS = 300  # below this, a worker's start-up (loading jieba) costs more than it saves
PIPELINE_CHUNK = 100  # texts per message to and from a worker
PIPELINE_WORKERS = 2  # analysis is the slower stage: two workers share the cores with the writer
PIPELINE_AHEAD = 20  # chunks analysed ahead (about one whoosh commit batch: the worker keeps going while whoosh commits)

_worker: Analyzer | None = None


def _init_worker(user_dict: Path | None, stop_words: Path | None) -> None:
    global _worker
    _worker = Analyzer(user_dict, stop_words)


_SEP = "\x1f"  # token texts travel between processes as one joined string (cheap to pickle)


def _analyse_chunk(texts: list[str]) -> list[str]:
    assert _worker is not None
    return [_SEP.join(t.text for t in _worker.index_tokens(text)) for text in texts]


def analyse_all(texts: list[str], analyzer: Analyzer) -> Iterator[list[str]]:
    """The index terms of each text, in order; computed in a worker process for large inputs."""
    if len(texts) < PIPELINE_MIN_ITEMS:
        for text in texts:
            yield [t.text for t in analyzer.index_tokens(text)]
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
