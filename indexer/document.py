"""What a reader gives the parser: text (or table records) and what the file says about itself."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SourceError(Exception):
    """A file that cannot be read; the message names the reason in Chinese."""


@dataclass
class Document:
    path: str
    text: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    encoding: str | None = None  # or the reader: docx, pdf, pdf+ocr, ofd, html, ocr, doc (LibreOffice)
    # What a saved web page names about itself; items take them when their text has none.
    title: str | None = None
    date: str | None = None  # YYYY-MM-DD
    url: str | None = None
    unit: str | None = None  # the unit the page names (来源：…)
