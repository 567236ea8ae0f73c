"""Positioned text (OFD glyph runs, OCR words) -> paragraphs the bulletin parser reads.

A page gives pieces of text with boxes. Pieces on one baseline form a line; a line starts a
new paragraph when it is indented or centred, when the line above stopped short of the right
margin, or when the gap above it is clearly wider than between the lines of a paragraph.
Bold pieces are wrapped in ** as the .docx reader does, so bold titles stay titles.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass

from ..textclean import join_broken

# Pieces whose vertical centres are closer than this share of their height sit on one line.
SAME_LINE = 0.5
# An indent (or centring) of more than this many characters starts a paragraph.
INDENT_CHARS = 1.2
# A line ending more than this many characters short of the right margin ended its paragraph.
SHORT_END_CHARS = 2.0
# A gap above a line this many times the usual gap between lines of a paragraph starts a new one.
PARAGRAPH_GAP = 1.6
# Pieces this far apart on a line (in character heights) are separate words or columns: a space.
WORD_GAP = 1.0


@dataclass(frozen=True)
class Piece:
    text: str
    x0: float
    y0: float  # top
    x1: float
    y1: float  # bottom
    bold: bool = False

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def centre(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass
class _Line:
    pieces: list[Piece]
    page: int

    @property
    def x0(self) -> float:
        return min(p.x0 for p in self.pieces)

    @property
    def x1(self) -> float:
        return max(p.x1 for p in self.pieces)

    @property
    def y0(self) -> float:
        return min(p.y0 for p in self.pieces)

    @property
    def y1(self) -> float:
        return max(p.y1 for p in self.pieces)

    def text(self, char: float) -> str:
        out: list[str] = []
        previous: Piece | None = None
        bold_open = False
        for piece in sorted(self.pieces, key=lambda p: p.x0):
            if previous is not None and piece.x0 - previous.x1 > WORD_GAP * char:
                out.append(" ")
            if piece.bold != bold_open:
                out.append("**")
                bold_open = piece.bold
            out.append(piece.text)
            previous = piece
        if bold_open:
            out.append("**")
        return "".join(out).replace("****", "")


def lines_of(pieces: list[Piece], page: int) -> list[_Line]:
    """Pieces grouped into lines, top to bottom."""
    pieces = sorted(pieces, key=lambda p: (p.centre, p.x0))
    lines: list[_Line] = []
    for piece in pieces:
        if not piece.text.strip():
            continue
        current = lines[-1] if lines else None
        if current is not None and abs(piece.centre - _centre(current)) <= SAME_LINE * max(piece.height, current.y1 - current.y0):
            current.pieces.append(piece)
        else:
            lines.append(_Line([piece], page))
    return lines


def given_lines(groups: list[list[Piece]], page: int) -> list[_Line]:
    """Lines an OCR engine found itself, in its reading order (it segments columns)."""
    return [_Line(group, page) for group in groups if group]


def _centre(line: _Line) -> float:
    return (line.y0 + line.y1) / 2


def paragraphs(lines: list[_Line]) -> str:
    """Text with a blank line between paragraphs (what a .txt bulletin looks like)."""
    if not lines:
        return ""
    char = statistics.median(p.height for line in lines for p in line.pieces)
    left = min(line.x0 for line in lines)
    right = max(line.x1 for line in lines)
    gaps = [b.y0 - a.y1 for a, b in zip(lines, lines[1:]) if a.page == b.page and b.y0 > a.y1]
    usual_gap = statistics.median(gaps) if gaps else char
    out: list[str] = []
    previous: _Line | None = None
    for line in lines:
        text = line.text(char)
        if previous is not None and not _starts_paragraph(line, previous, left, right, char, usual_gap):
            out[-1] = _join(out[-1], text)
        else:
            out.append(text)
        previous = line
    return "\n\n".join(out)


def _starts_paragraph(line: _Line, previous: _Line, left: float, right: float, char: float, usual_gap: float) -> bool:
    if line.x0 - left > INDENT_CHARS * char:
        return True
    if previous.x1 < right - SHORT_END_CHARS * char:
        return True
    if line.page == previous.page and line.y0 - previous.y1 > max(PARAGRAPH_GAP * usual_gap, usual_gap + 0.5 * char):
        return True
    return False


def _join(left: str, right: str) -> str:
    """A wrapped line joined to the one above; a bold run cut by the wrap stays one run."""
    if left.endswith("**") and right.startswith("**"):
        return left[:-2] + right[2:]
    if left[-1:].isdigit() and right[:1].isdigit():
        return left + right  # a number wrapped across lines
    return join_broken(left, right)
