"""Paths -> items and per-file errors. One bad file never stops the batch."""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from search.item import Item
from search.units import UnitAliases

from .bulletin import parse_text
from .records import RecordError, record_to_item
from .document import Document
from .sources import SUPPORTED_SUFFIXES, SourceError, read_document


@dataclass
class FileResult:
    path: str
    items: list[Item] = field(default_factory=list)
    error: str | None = None  # the file failed as a whole
    warnings: list[str] = field(default_factory=list)  # rows that were skipped


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    duplicates: int = 0  # items seen before under the same id (same content in two files)

    @property
    def items(self) -> list[Item]:
        seen: set[str] = set()
        out: list[Item] = []
        for result in self.files:
            for item in result.items:
                if item.id not in seen:
                    seen.add(item.id)
                    out.append(item)
        return out

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.error]


def find_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, and supported files found recursively in folders (sorted, stable)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    candidate = Path(root) / name
                    if not name.startswith(".") and candidate.suffix.lower() in SUPPORTED_SUFFIXES:
                        yield candidate
        else:
            yield path


def parse_file(path: Path, max_bytes: int, title_max: int, aliases: UnitAliases | None = None) -> FileResult:
    """The items of one file; with aliases, their units under canonical names (as they are indexed)."""
    result = FileResult(str(path))
    if not path.exists():
        result.error = "文件不存在"
        return result
    try:
        document = read_document(path, max_bytes)
    except SourceError as exc:
        result.error = str(exc)
        return result
    if document.text is not None:
        items = parse_text(document.text, str(path), title_max, page_title=document.title)
        result.items = [with_page_metadata(item, document) for item in items]
    else:
        for record in document.records:
            try:
                result.items.append(record_to_item(record, str(path), title_max))
            except RecordError as exc:
                result.warnings.append(str(exc))
        if not result.items:
            result.error = "没有可用的记录：" + "；".join(result.warnings[:3])
    if not result.items and not result.error:
        result.error = "没有找到任何条目"
    if aliases:
        result.items = [aliases.item(item) for item in result.items]
    return result


def with_page_metadata(item: Item, document: Document) -> Item:
    """What a saved web page says about itself, for its items: the address always; the date and
    the unit (来源) when the text gave none. The id follows the date, as for any item."""
    if document.url is None and document.date is None and document.unit is None:
        return item
    assert item.source is not None
    fields = {k: v for k, v in item.__dict__.items() if k != "id"}
    fields["source"] = replace(item.source, url=document.url or item.source.url)
    fields["date"] = item.date or document.date
    if document.unit and not item.units and item.title == document.title:
        fields["units"] = (document.unit,)
    return Item(**fields)


def ingest(paths: Iterable[str | Path], max_bytes: int, title_max: int,
           aliases: UnitAliases | None = None) -> IngestReport:
    report = IngestReport()
    seen: set[str] = set()
    for path in find_files(paths):
        result = parse_file(path, max_bytes, title_max, aliases)
        for item in result.items:
            if item.id in seen:
                report.duplicates += 1
            seen.add(item.id)
        report.files.append(result)
    return report
