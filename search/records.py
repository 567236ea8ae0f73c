"""The index of record: every item stored in whoosh, the only module that touches whoosh.

whoosh keeps each item's fields (title, text, units, source …) and indexes the fields that
are looked up directly: the unique id (updates and deletes), units, series, issue, date
and kind (unit and issue pages). Ranking does not run through whoosh: the segments
(search/segment.py) hold the term weights and vectors derived from these records, so
they can be rebuilt from them.

whoosh segments mirror the engine's segments one to one: each indexing run commits one
whoosh segment with the run's new items (never merging on its own), and a merge of engine
segments merges the same whoosh segments in the same order. A row of engine segment k is
therefore document number `offset(k) + row` in whoosh, and showing a result costs one
stored-fields read.
"""
from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, Schema
from whoosh.codec.whoosh3 import W3PerDocReader
from whoosh.filedb.structfile import BufferFile
from whoosh.reading import SegmentReader

from .item import Item

WRITER_MB = 256  # whoosh's in-memory buffer per writer
WHOOSH_DIR = "whoosh"


# whoosh opens every file inside a memory-mapped segment as a BufferFile, whose constructor
# copies the whole file into a BytesIO — for the stored-fields column, about 60 MB of process
# memory per 100,000 items (1.2 GB at a million), though reading a document only slices the
# mapped buffer (BufferFile.get). Here the stream is made only when something reads the file
# as a stream, and it reads the mapped buffer in place: opening a reader reads each term
# index's header and directory through the stream, and a BytesIO copied the whole term index
# for that (86 MB of process memory at a million items, most of it the unique ids).
class _MappedStream(io.RawIOBase):
    """A read-only stream over a buffer that copies only the bytes read."""

    def __init__(self, buf: Any) -> None:
        super().__init__()
        self._view = memoryview(buf).cast("B")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        end = min(self._pos + len(target), len(self._view))
        count = max(0, end - self._pos)
        target[:count] = self._view[self._pos : self._pos + count]
        self._pos += count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            self._view.release()  # lets whoosh close its memory map
        super().close()


def _buffer_init(self: BufferFile, buf: Any, name: str | None = None, onclose: Any = None) -> None:
    self._buf = buf
    self._name = name
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


def _buffer_stream(self: BufferFile) -> io.RawIOBase:
    stream = self.__dict__.get("_stream")
    if stream is None:
        stream = self.__dict__["_stream"] = _MappedStream(self._buf)
    return stream


def _buffer_set_stream(self: BufferFile, stream: Any) -> None:
    self.__dict__["_stream"] = stream


def _buffer_close(self: BufferFile) -> None:
    if self.is_closed:
        raise Exception("This file is already closed")
    if self.onclose:
        self.onclose(self)
    stream = self.__dict__.get("_stream")
    if stream is not None:
        stream.close()
    self.is_closed = True


BufferFile.__init__ = _buffer_init  # type: ignore[method-assign]
BufferFile.file = property(_buffer_stream, _buffer_set_stream)  # type: ignore[assignment]
BufferFile.close = _buffer_close  # type: ignore[method-assign]


# While writing, whoosh asks for each posting's field length (codec/base.py add_postings), and
# for fields without lengths (id, kind, units, series, issue, date) its per-document reader
# stats the missing length column's file every time: 13 stat calls per item, a quarter of the
# records writer's time. A segment's files never change once written, so the answer is kept.
_has_column = W3PerDocReader.has_column


def _remembered_has_column(self: W3PerDocReader, fieldname: str) -> bool:
    known = self.__dict__.setdefault("_known_columns", {})
    if fieldname not in known:
        known[fieldname] = _has_column(self, fieldname)
    return known[fieldname]


W3PerDocReader.has_column = _remembered_has_column  # type: ignore[method-assign]


def schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        kind=ID(stored=True),
        title=STORED,
        text=STORED,
        units=KEYWORD(stored=True, commas=True, scorable=False),
        series=ID(stored=True),
        issue=NUMERIC(stored=True, signed=False, bits=32),
        date=ID(stored=True),
        issuer=STORED,
        reporters=STORED,
        source=STORED,
    )


def item_fields(item: Item) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": item.id,
        "kind": item.kind,
        "title": item.title,
        "text": item.text,
        "units": ",".join(u.replace(",", "，") for u in item.units),
        "issuer": item.issuer,
        "reporters": list(item.reporters),
        "source": json.dumps(item.source.__dict__ if item.source else None, ensure_ascii=False),
    }
    if item.series:
        fields["series"] = item.series
    if item.issue is not None and item.issue >= 0:
        fields["issue"] = item.issue
    if item.date:
        fields["date"] = item.date
    return fields


def stored_to_item(stored: dict[str, Any]) -> Item:
    """The inverse of item_fields."""
    return Item.from_dict({
        **stored,
        "units": [u for u in (stored.get("units") or "").split(",") if u],
        "source": json.loads(stored["source"]) if stored.get("source") else None,
    })


def create(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    whoosh_index.create_in(str(folder), schema())


class RecordWriter:
    """Adds and deletes items in one whoosh commit, never merging on its own."""

    def __init__(self, folder: Path) -> None:
        self.ix = whoosh_index.open_dir(str(folder), schema=schema())
        self.writer = self.ix.writer(limitmb=WRITER_MB)

    def delete(self, item_ids: Iterable[str]) -> None:
        for item_id in item_ids:
            self.writer.delete_by_term("id", item_id)

    def add(self, items: Iterable[Item]) -> None:
        for item in items:
            self.writer.add_document(**item_fields(item))

    def commit(self) -> None:
        from whoosh.writing import NO_MERGE

        self.writer.commit(mergetype=NO_MERGE)
        self.ix.close()

    def merge(self, positions: Sequence[int]) -> None:
        """Merge the segments at these positions (in this order) into one new last segment."""
        chosen = set(positions)

        def policy(writer: Any, segments: list[Any]) -> list[Any]:
            for pos in positions:
                reader = SegmentReader(writer.storage, writer.schema, segments[pos])
                writer.add_reader(reader)
                reader.close()
            return [s for n, s in enumerate(segments) if n not in chosen]

        self.writer.commit(mergetype=policy)
        self.ix.close()

    def drop(self, positions: Sequence[int]) -> None:
        """Remove the segments at these positions (all their documents are deleted)."""
        chosen = set(positions)
        self.writer.commit(mergetype=lambda writer, segments: [s for n, s in enumerate(segments) if n not in chosen])
        self.ix.close()

    def cancel(self) -> None:
        self.writer.cancel()
        self.ix.close()


def segment_sizes(folder: Path) -> list[int]:
    """Documents per whoosh segment (deleted ones included), in order."""
    ix = whoosh_index.open_dir(str(folder), schema=schema())
    try:
        return [s.doc_count_all() for s in ix._segments()]
    finally:
        ix.close()


class RecordReader:
    """Read side: stored items by (segment, row), and the lookups whoosh answers directly."""

    def __init__(self, folder: Path) -> None:
        self.ix = whoosh_index.open_dir(str(folder), schema=schema())
        self.searcher = self.ix.searcher()
        reader = self.searcher.reader()
        readers = reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]
        self.offsets = [offset for _r, offset in readers]
        self.sizes = [r.doc_count_all() for r, _offset in readers]

    def item(self, segment: int, row: int) -> Item:
        return stored_to_item(self.searcher.stored_fields(self.offsets[segment] + row))

    def stored(self, segment: int, row: int) -> dict[str, Any]:
        return self.searcher.stored_fields(self.offsets[segment] + row)

    def text(self, segment: int, row: int) -> str:
        stored = self.searcher.stored_fields(self.offsets[segment] + row)
        return f"{stored.get('title', '')}{stored.get('text', '')}"

    def docnums(self, field: str, value: str) -> list[int]:
        """Live documents whose field holds the value (a term lookup)."""
        return [int(d) for d in self.searcher.docs_for_query(wq.Term(field, value))]

    def locate(self, docnum: int) -> tuple[int, int]:
        """(segment, row) of a whoosh document number."""
        import bisect

        seg = bisect.bisect_right(self.offsets, docnum) - 1
        return seg, docnum - self.offsets[seg]

    def all_items(self) -> Iterator[Item]:
        for _docnum, stored in self.searcher.reader().iter_docs():
            yield stored_to_item(stored)

    def close(self) -> None:
        self.searcher.close()
        self.ix.close()
