"""The index of record (whoosh) as the server opens it: term indexes read in place, not copied."""
from __future__ import annotations

import io
import mmap
import pickle
import tracemalloc

from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import FileStorage

from search import records
from search.item import Item


def test_mapped_stream_reads_as_a_bytes_stream_does(tmp_path):
    data = pickle.dumps({"字段": list(range(50))}) + b"line one\nline two\n" + bytes(range(256)) * 8
    path = tmp_path / "blob"
    path.write_bytes(b"HEAD" + data + b"TAIL")
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        view = memoryview(mapped)[4 : 4 + len(data)]  # a slice of a map, as whoosh hands out
        ours, reference = records._MappedStream(view), io.BytesIO(data)
        assert pickle.load(ours) == pickle.load(reference)
        assert ours.tell() == reference.tell()
        assert ours.readline() == reference.readline() == b"line one\n"
        for offset, whence in ((5, io.SEEK_CUR), (-7, io.SEEK_END), (3, io.SEEK_SET), (len(data) + 9, io.SEEK_SET)):
            assert ours.seek(offset, whence) == reference.seek(offset, whence)
            assert ours.read(11) == reference.read(11)
        ours.seek(100)
        reference.seek(100)
        assert ours.read() == reference.read()
        assert ours.read(4) == reference.read(4) == b""
        ours.close()
        view.release()
    # Closing the map would raise BufferError if the stream still held a view of it.


def _items(count: int) -> list[Item]:
    return [Item(kind="measure", title=f"第{n}条工作动态", text=f"街道推进第{n}项重点工作，服务群众。",
                 units=(f"第{n % 40}社区",), series="上街信息", issue=n % 300 + 1, date="2024-05-01")
            for n in range(count)]


def test_opening_the_records_does_not_copy_their_term_indexes(tmp_path):
    """Opening a reader reads each whoosh term index's header and directory as a stream; the
    stream used to be a copy of the whole file (86 MB of a server's memory at a million items)."""
    folder = tmp_path / "whoosh"
    records.create(folder)
    writer = records.RecordWriter(folder)
    items = _items(6000)
    writer.add(items)
    writer.commit()
    storage = FileStorage(str(folder))
    term_bytes = 0
    for name in storage.list():
        if name.endswith(".seg"):
            compound = CompoundStorage(storage.open_file(name), use_mmap=False)
            term_bytes += sum(compound.file_length(f) for f in compound.list() if f.endswith(".trm"))
            compound.close()
    assert term_bytes > 200_000, term_bytes  # enough to see a copy

    records.RecordReader(folder).close()  # whoosh imports some modules on the first open
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        reader = records.RecordReader(folder)
        assert reader.docnums("id", items[1234].id) == [1234]
        assert reader.item(0, 4321) == items[4321]
        held = tracemalloc.get_traced_memory()[0] - before
        reader.close()
    finally:
        tracemalloc.stop()
    assert held < term_bytes / 2, (held, term_bytes)
