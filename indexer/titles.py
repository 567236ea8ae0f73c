"""Titles derived from an item's text when it has none (briefs, records, web items, chronicle entries).

The title should say what the item is about: the first clause with a subject and a verb
("金雀山街道工委组织人员代表到辖区内社区调研垃圾分类工作"), not the time phrase, news lead,
byline, purpose clause ("为进一步加强…") or scene-setting that opens most Chinese news items.
Clauses are told apart with jieba's part-of-speech tags; following clauses are added while
the title stays within the length limit, as before. Never a line break, never empty.
"""
from __future__ import annotations

import re
import threading
from functools import lru_cache

from .textclean import strip_markup
from .timephrases import is_byline_line, is_time_phrase, strip_leading_time, strip_news_lead

_SENTENCE_MARKS = "。！？!?"
# Clause breaks outside quotes and brackets (a comma inside “节能降碳，绿色发展” does not split).
_CLAUSE_MARKS = "，；：,;:"
_OPEN = "“‘《（(【「『"
_CLOSE = "”’》）)】」』"
# Sentences looked at for a clause with a subject and a verb before falling back to the first.
SENTENCES_SEARCHED = 3
# A subject: a noun, a name, a place, an organisation, a pronoun (我区, 该乡) or an abbreviation.
_SUBJECT_TAGS = ("n", "r", "j", "s")
_VERB_TAGS = ("v", "i", "l")
_NOT_SUBJECT_START = ("p", "c", "d", "u", "v", "i", "l", "ad", "an")
# Clauses that frame the news rather than state it: 记者近日从市商务局获悉 / 笔者…了解到.
_REPORTING_FRAME = re.compile(r"^(?:记者|笔者|我们)?.{0,24}(?:获悉|了解到|得知|获知|看到)$")
_WHITESPACE = re.compile(r"\s+")
# Openings that say why, how or where, not what: 为进一步…, 根据…, 在…之际, 随着…, 针对….
_ADVERBIAL_OPENING = re.compile(
    r"^(?:为了|为|按照|根据|依据|围绕|结合|针对|随着|在|经过|通过|对照|遵照|本着|自|从|截至|截止|当|鉴于|由于|基于|面对|作为)"
)
# 一是 / （一） / 一、 / 1、 / 1. at the start of an item's text.
_ENUMERATOR = re.compile(r"^(?:[一二三四五六七八九十]+是|[（(][一二三四五六七八九十\d]+[）)]|[一二三四五六七八九十]+、|\d+[、.．](?!\d))\s*")
_MARKS = "△▲□■●◆★☆·"

_pos_lock = threading.Lock()


def derive_title(text: str, max_chars: int) -> str:
    """A title for an item that has none, at most max_chars characters.

    Sentence by sentence (the first three): the first clause with a subject and a verb; else
    the first clause that is not a time phrase, an adverbial opening (为…/根据…/在…) or a
    reporting frame; a quotation (“…”) is passed over. Failing all, the first clause that is
    not a time phrase.
    """
    sentences = _opening_sentences(text)
    if not any(_marked_clauses(s) for s in sentences):
        return _fit(_WHITESPACE.sub(" ", strip_markup(text)).strip(_MARKS + " ") or text.strip(), max_chars)
    for sentence in sentences[:SENTENCES_SEARCHED]:
        if sentence[0] in _OPEN and len(sentences) > 1:
            continue  # a quotation opens many reports; what happened follows it
        marked = _marked_clauses(sentence)
        clauses = [c for c, _ in marked]
        for n, clause in enumerate(clauses):
            statement = _as_statement(clause)
            if statement is not None:
                return _extend(statement, marked[n:], max_chars)
        for n, clause in _plain_clauses(clauses):
            return _extend(clause, marked[n:], max_chars)
    marked = next(m for m in map(_marked_clauses, sentences) if m)
    start = next((n for n, (c, _) in enumerate(marked) if not is_time_phrase(c)), 0)
    return _extend(marked[start][0], marked[start:], max_chars)


def _opening_sentences(text: str) -> list[str]:
    """The opening sentences: bylines, date lines, news leads and enumerators removed, whitespace folded."""
    lines = [ln.strip() for ln in strip_markup(text).split("\n") if ln.strip()]
    while len(lines) > 1 and (is_byline_line(lines[0]) or is_time_phrase(lines[0])):
        lines.pop(0)
    paragraph = strip_news_lead(lines[0].lstrip(_MARKS + " ")) if lines else ""
    paragraph = _ENUMERATOR.sub("", _WHITESPACE.sub(" ", paragraph).strip())
    sentences = [s.strip().rstrip("。！？!?…").strip() for s in _split_outside_quotes(paragraph, _SENTENCE_MARKS)]
    return [s for s in sentences if s.strip(_CLOSE + " ")]


def split_clauses(sentence: str) -> list[str]:
    """Split at ，；： outside quotes and brackets."""
    return [c for c, _ in _marked_clauses(sentence)]


def _marked_clauses(sentence: str) -> list[tuple[str, str]]:
    """Clauses with the mark that follows each (empty for the last)."""
    out = []
    for part in _split_outside_quotes(sentence, _CLAUSE_MARKS):
        mark = part[-1] if part and part[-1] in _CLAUSE_MARKS else ""
        clause = part[: len(part) - len(mark)].strip()
        if clause:
            out.append((clause, mark))
    return out


def _split_outside_quotes(text: str, marks: str, keep: bool = True) -> list[str]:
    """Split after (keep) or at each mark that is not inside quotes or brackets."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        if ch in marks and depth == 0:
            if keep:
                current.append(ch)
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _plain_clauses(clauses: list[str]) -> list[tuple[int, str]]:
    """Clauses that could stand as a title: not when, why, where-from or who-reported.

    An adverbial opening (为进一步加强…，切实保障…，) runs on through the clauses after it
    that have no subject of their own.
    """
    out: list[tuple[int, str]] = []
    in_adverbial = False
    for n, clause in enumerate(clauses):
        if _ADVERBIAL_OPENING.match(clause):
            in_adverbial = True
            continue
        if in_adverbial and not _starts_with_subject(clause):
            continue
        in_adverbial = False
        if not (is_time_phrase(clause) or clause[0] in _OPEN + _CLOSE or _REPORTING_FRAME.match(clause)):
            out.append((n, clause))
    return out


def _as_statement(clause: str) -> str | None:
    """The clause (without an opening date) if it has a subject and a verb, else None."""
    if is_time_phrase(clause) or clause[0] in _OPEN + _CLOSE or _REPORTING_FRAME.match(clause):
        return None
    for candidate in dict.fromkeys((strip_leading_time(clause), clause)):
        if candidate and candidate[0] not in _OPEN and _has_subject_and_verb(candidate):
            return candidate
    return None


@lru_cache(maxsize=4096)
def _content_tags(clause: str) -> tuple[str, ...]:
    """Part-of-speech tags of the clause's words, numbers, times and punctuation left out."""
    return tuple(flag for word, flag in _pos_tags(clause) if word.strip() and flag not in ("x", "m", "eng", "t", "q"))


def _starts_with_subject(clause: str) -> bool:
    """A noun phrase opens the clause: a subject tag comes before any verb, and the clause
    does not open with a preposition, conjunction, adverb or verb (names jieba does not know,
    such as 长西街道, split into characters of any tag, so the first word alone cannot tell)."""
    tags = _content_tags(clause)
    if not tags or tags[0].startswith(_NOT_SUBJECT_START):
        return False
    for flag in tags:
        if flag.startswith(_SUBJECT_TAGS):
            return True
        if flag.startswith(_VERB_TAGS):
            return False
    return False


def _has_subject_and_verb(clause: str) -> bool:
    tags = _content_tags(clause)
    return _starts_with_subject(clause) and any(flag.startswith(_VERB_TAGS) for flag in tags[1:])


def _pos_tags(text: str) -> list[tuple[str, str]]:
    tagger = _tagger()
    with _pos_lock:  # one tagger shared by the pipeline's threads
        return list(tagger.tag(text, hmm=False))


@lru_cache(maxsize=1)
def _tagger():
    """jieba's part-of-speech tagger (rjieba, the same dictionary and tags), loaded on first use."""
    import rjieba

    return rjieba.Jieba()


def _extend(first: str, marked: list[tuple[str, str]], max_chars: int) -> str:
    """The chosen clause (the first of marked, maybe without its opening date) plus the next
    ones, with their own marks, while they fit; a trailing time phrase is not added."""
    title, mark = first, marked[0][1]
    for clause, next_mark in marked[1:]:
        if is_time_phrase(clause) or len(title) + 1 + len(clause) > max_chars:
            break
        title = f"{title}{mark or '，'}{clause}"
        mark = next_mark
    return _fit(title, max_chars)


def _fit(title: str, max_chars: int) -> str:
    title = _WHITESPACE.sub(" ", title).strip()
    if len(title) > max_chars:
        title = title[: max_chars - 1] + "…"
    return title
