"""Character-level clean-up shared by the parsers: punctuation, markup, sentence shape."""
from __future__ import annotations

import re
from dataclasses import dataclass

# Characters that make a neighbouring half-width mark "Chinese punctuation".
_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff5e\u2018-\u201d"
_HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "!": "！", "?": "？"}
_HALF_NEXT_TO_CJK = re.compile(rf"(?<=[{_CJK}])[,;:()!?]|[,;:()!?](?=[{_CJK}])")
# A full stop after a Chinese character that ends a sentence (not a decimal point).
_HALF_STOP = re.compile(rf"(?<=[{_CJK}])\.(?=[{_CJK}]|\s|$)", re.M)
_BOLD = re.compile(r"\*\*")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

# Marks after which a sentence (or an item) is complete; a paragraph ending otherwise was cut.
SENTENCE_END = "。！？；…”’」』）》】!?"
# Punctuation found inside prose; titles, headings and captions carry none of it.
PROSE_MARKS = re.compile(r"[，。；！？、：]")
CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


@dataclass(frozen=True)
class Line:
    """One non-empty line with its 1-based line number and the blank lines above it."""

    text: str
    number: int
    gap: int


def normalize(text: str) -> str:
    """Unify newlines and spaces, and turn half-width punctuation in Chinese text full-width."""
    text = text.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\t", " ").replace("\f", "\n").replace("\v", "\n")
    text = _HALF_NEXT_TO_CJK.sub(lambda m: _HALF_TO_FULL[m.group(0)], text)
    return _HALF_STOP.sub("。", text)


def split_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    gap = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if not stripped:
            gap += 1
            continue
        lines.append(Line(stripped, number, gap))
        gap = 0
    return lines


def strip_markup(text: str) -> str:
    """Drop markdown bold markers and heading hashes; keep the wording."""
    text = _BOLD.sub("", text)
    return re.sub(r"^\s*#{1,6}\s*", "", text).strip()


def is_prose(text: str) -> bool:
    return bool(PROSE_MARKS.search(strip_markup(text)))


def ends_sentence(text: str) -> bool:
    text = strip_markup(text)
    return bool(text) and text[-1] in SENTENCE_END


def join_broken(left: str, right: str) -> str:
    """Rejoin a sentence cut by a page break: no space, except between two Latin words."""
    if left and right and left[-1].isascii() and left[-1].isalnum() and right[0].isascii() and right[0].isalnum():
        return f"{left} {right}"
    return left + right


def ascii_digits(text: str) -> str:
    return text.translate(_FULLWIDTH_DIGITS)


def has_cjk(text: str) -> bool:
    return bool(CJK_CHAR.search(text))


# A line this much shorter than the longest line of its block ended its paragraph (the rest were
# wrapped at the page's width).
SHORT_LINE_SHARE = 0.8


def rejoin_wrapped(lines: list[str]) -> list[str]:
    """Paragraphs from hard-wrapped lines (yearbooks, chronicles, OCR): a line continues the
    one above unless that one ended a sentence well short of the block's width."""
    width = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    previous = ""
    for line in lines:
        ended = ends_sentence(previous) and len(previous) < SHORT_LINE_SHARE * width
        if paragraphs and not ended:
            paragraphs[-1] = join_broken(paragraphs[-1], line)
        else:
            paragraphs.append(line)
        previous = line
    return paragraphs
