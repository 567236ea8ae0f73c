"""One segment of the index: what search needs of a batch of items, as memory-mapped .npy files.

whoosh holds the items themselves (the index of record, search/records.py). A segment holds
everything derived from them that a query touches, as flat arrays the operating system can
share between processes and page in on demand:

  ids.npy, id_order.npy            item ids (16 hex digits as bytes) and their sort order
  kind, date, issue, series        one value per row (codes into strings.json)
  unit_indptr, unit_codes          units per row (CSR, codes into strings.json)
  terms.npy                        64-bit hashes of the segment's index terms, sorted
  post_indptr, post_rows, post_w   per term: rows containing it and their saturated BM25F weight
  title_indptr, title_rows         per term: rows whose title contains it
  titles.txt                       one title per line (search-as-you-type reads them, not whoosh)
  vectors.npy                      one vector per row (the mean of its passages)
  passages.npy, passage_start,     one vector per passage (embedding.passage_dtype: float32, or
                                   int16 scaled by 32767); long items' passages come first, so
  passage_count, passage_spans     scanning them is one contiguous slice (long_passages in meta)
  sketch, sketch_mean,             every vector's first principal components (float32, fitted on
  sketch_basis                     the segment's own vectors): a quarter of the vectors' size, so
                                   a large archive's first pass reads that instead (semantic.py)

A segment is written once and never changed: an incremental run adds a segment and marks
deleted rows in the generation's tombstones; merges write a new segment from old ones.
Rows are in the order the items were added, which is also whoosh's document order in the
matching whoosh segment.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .item import KINDS, Item

META = "meta.json"
STRINGS = "strings.json"
TITLES = "titles.txt"
K1 = 1.2  # BM25 term-frequency saturation
B = 0.75  # BM25 length normalisation
FIELDS = ("title", "text")
VECTOR_DTYPES = ("float32", "float16", "int8")
PASSAGE_DTYPES = ("float32", "int16")
INT8_SCALE = 127.0  # int8 vectors store round(x * 127); components of unit vectors lie in [-1, 1]
INT16_SCALE = 32767.0  # int16 passages store round(x * 32767): within 1.6e-5 of each component
# Stored integer types and the factor their values were multiplied by.
SCALES: dict[np.dtype, float] = {np.dtype(np.int8): INT8_SCALE, np.dtype(np.int16): INT16_SCALE}
SKETCH_FIT_ROWS = 20_000  # rows (evenly spaced) a segment's principal directions are fitted on
SKETCH_BLOCK = 65_536  # rows projected at a time when a sketch is computed in memory
SCAN_CHUNK = 2048  # rows converted at a time when a stored type is not float32 (3 MB as float32); a
# query's passes split only at multiples of it within a segment (search/semantic.py _every_row)
PRODUCT_BYTES = 1 << 20  # rows multiplied at a time by several query vectors: about this much of them
NO_DATE = np.iinfo(np.int32).min
EPOCH = np.datetime64("1970-01-01", "D")


def term_hash(term: str) -> int:
    """A stable 64-bit key for a term (Python's hash() changes between processes)."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest(), "little", signed=False)


def date_code(date: str | None) -> int:
    if not date:
        return int(NO_DATE)
    return int((np.datetime64(date, "D") - EPOCH).astype(np.int64))


def code_date(code: int) -> str | None:
    return None if code == NO_DATE else str(EPOCH + np.timedelta64(int(code), "D"))


def encode_vectors(vectors: np.ndarray, dtype: str) -> np.ndarray:
    stored = np.dtype(dtype)
    if stored in SCALES:
        top = np.iinfo(stored).max
        return np.clip(np.rint(vectors * SCALES[stored]), -top, top).astype(stored)
    return np.ascontiguousarray(vectors, dtype=stored)


@dataclass(frozen=True)
class Sketch:
    """A segment's vectors in `dims` principal directions: v ≈ mean + basis (codes row). A query's
    cosine with a row is estimated as q·mean + (basisᵀq)·codes, unbiased, with an error of about
    0.003 at 96 of 384 dimensions (e5-small, README "Relevance")."""

    mean: np.ndarray  # (dim,) float32
    basis: np.ndarray  # (dim, dims) float32, orthonormal columns
    codes: np.ndarray  # (rows, dims) float32

    @classmethod
    def fit(cls, vectors: np.ndarray, dims: int) -> "Sketch":
        """Fitted on up to SKETCH_FIT_ROWS evenly spaced rows (deterministic: a rebuilt segment
        gets the same sketch); the codes of every row are projected a block at a time."""
        n = len(vectors)
        sample = decode_vectors(vectors[np.unique(np.linspace(0, n - 1, min(n, SKETCH_FIT_ROWS)).astype(np.int64))])
        mean = sample.mean(axis=0)
        centred = (sample - mean).astype(np.float64)
        _values, directions = np.linalg.eigh(centred.T @ centred)
        basis = np.ascontiguousarray(directions[:, ::-1][:, : min(dims, vectors.shape[1])], dtype=np.float32)
        codes = np.empty((n, basis.shape[1]), dtype=np.float32)
        for start in range(0, n, SKETCH_BLOCK):
            codes[start : start + SKETCH_BLOCK] = (decode_vectors(vectors[start : start + SKETCH_BLOCK]) - mean) @ basis
        return cls(mean.astype(np.float32), basis, codes)

    def estimate(self, queries: np.ndarray, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """(rows, k) estimated cosines of rows lo..hi with k unit query vectors."""
        projected = np.ascontiguousarray((queries @ self.basis).T, dtype=np.float32)
        out = product(self.codes[lo:hi], projected)
        out += (queries @ self.mean).astype(np.float32)
        return out


def _save(folder: Path, name: str, array: np.ndarray) -> None:
    with (folder / f"{name}.npy").open("wb") as fh:
        np.save(fh, np.ascontiguousarray(array))
        fh.flush()
        os.fsync(fh.fileno())


# ------------------------------------------------------------------ writing
@dataclass
class SegmentInput:
    """Everything a new segment is made of, rows in order."""

    items: list[Item]
    title_terms: list[list[str]]
    text_terms: list[list[str]]
    vectors: np.ndarray  # (rows, dim) float32, normalised
    passages: np.ndarray  # (passages, dim) float32, normalised
    passage_indptr: np.ndarray  # (rows + 1,) int64: passages of row n are indptr[n]:indptr[n+1]
    passage_spans: np.ndarray  # (passages, 2) int32
    avg_lengths: dict[str, float] | None = None  # BM25 average field lengths; None: this segment's own


def write_segment(folder: Path, data: SegmentInput, vector_dtype: str, passage_dtype: str, title_boost: float,
                  long_passages: int, sketch_dims: int = 0) -> dict[str, Any]:
    """Write a segment folder (fsynced); returns its meta. sketch_dims > 0 adds the sketch."""
    folder.mkdir(parents=True)
    n = len(data.items)
    ids = np.array([i.id.encode("ascii") for i in data.items], dtype="S16")
    _save(folder, "ids", ids)
    _save(folder, "id_order", np.argsort(ids, kind="stable").astype(np.int32))
    _save(folder, "kind", np.array([KINDS.index(i.kind) for i in data.items], dtype=np.int8))
    _save(folder, "date", np.array([date_code(i.date) for i in data.items], dtype=np.int32))
    _save(folder, "issue", np.array([-1 if i.issue is None else i.issue for i in data.items], dtype=np.int32))
    series = sorted({i.series for i in data.items if i.series})
    series_code = {s: n for n, s in enumerate(series)}
    _save(folder, "series", np.array([series_code[i.series] if i.series else -1 for i in data.items], dtype=np.int32))
    units = sorted({u for i in data.items for u in i.units})
    unit_code = {u: n for n, u in enumerate(units)}
    unit_codes = [unit_code[u] for i in data.items for u in dict.fromkeys(i.units)]
    _save(folder, "unit_indptr", np.cumsum([0] + [len(dict.fromkeys(i.units)) for i in data.items], dtype=np.int64))
    _save(folder, "unit_codes", np.array(unit_codes, dtype=np.int32))
    (folder / STRINGS).write_text(json.dumps({"series": series, "units": units}, ensure_ascii=False), encoding="utf-8")
    (folder / TITLES).write_text("".join(" ".join(i.title.split()) + "\n" for i in data.items), encoding="utf-8")

    lengths = _write_postings(folder, data, title_boost)

    stored = encode_vectors(data.vectors, vector_dtype)
    _save(folder, "vectors", stored)
    if sketch_dims > 0 and n:
        write_sketch(folder, stored, sketch_dims)
    counts = np.diff(data.passage_indptr).astype(np.int32)
    long_rows = counts >= long_passages
    order = np.concatenate([np.flatnonzero(long_rows), np.flatnonzero(~long_rows)])
    gather = np.concatenate([np.arange(data.passage_indptr[r], data.passage_indptr[r + 1]) for r in order]) \
        if n else np.zeros(0, dtype=np.int64)
    start = np.zeros(n, dtype=np.int64)
    start[order] = np.concatenate([[0], np.cumsum(counts[order])[:-1]]) if n else []
    n_long = int(counts[long_rows].sum())
    _save(folder, "passages", encode_vectors(data.passages[gather], passage_dtype))
    _save(folder, "passage_spans", data.passage_spans[gather].astype(np.int32))
    _save(folder, "passage_start", start)
    _save(folder, "passage_count", counts)
    _save(folder, "long_owner", np.repeat(np.flatnonzero(long_rows), counts[long_rows]).astype(np.int32))
    meta = {"rows": n, "dim": int(data.vectors.shape[1]) if n else 0, "vector_dtype": vector_dtype,
            "passage_dtype": passage_dtype, "lengths": lengths, "long_passages": n_long, "title_boost": title_boost}
    with (folder / META).open("w", encoding="utf-8") as fh:
        json.dump(meta, fh)
        fh.flush()
        os.fsync(fh.fileno())
    return meta


def write_sketch(folder: Path, stored: np.ndarray, dims: int) -> None:
    """The sketch of a segment's vectors as stored (the values a query reads)."""
    sketch = Sketch.fit(stored, dims)
    for name, array in (("sketch_mean", sketch.mean), ("sketch_basis", sketch.basis), ("sketch", sketch.codes)):
        if (folder / f"{name}.npy").exists():
            (folder / f"{name}.npy").unlink()  # may be a hard link shared with another index
        _save(folder, name, array)


def _write_postings(folder: Path, data: SegmentInput, title_boost: float) -> dict[str, float]:
    """BM25F (Robertson & Zaragoza): per field tf / ((1 - b) + b * len / avg_len), the title
    weighted by title_boost, summed, then saturated: w = tf' (k1 + 1) / (k1 + tf'). A query
    multiplies w by the term's IDF over all segments."""
    vocab: dict[str, int] = {}
    per_field: dict[str, tuple[list[int], list[int], list[int]]] = {}
    field_len: dict[str, np.ndarray] = {}
    for field, rows in (("title", data.title_terms), ("text", data.text_terms)):
        term_ids: list[int] = []
        row_ids: list[int] = []
        tfs: list[int] = []
        lens = np.zeros(len(rows), dtype=np.float64)
        for row, terms in enumerate(rows):
            lens[row] = len(terms)
            counts = Counter(terms)  # counted in C; first occurrences in order, as a dict would
            term_ids += [vocab.setdefault(t, len(vocab)) for t in counts]
            row_ids += [row] * len(counts)
            tfs += counts.values()
        per_field[field] = (term_ids, row_ids, tfs)
        field_len[field] = lens
    n = len(data.items)
    avg = data.avg_lengths or {f: float(field_len[f].mean()) if n else 1.0 for f in FIELDS}
    keys, weights, in_title = [], [], []
    for field in FIELDS:
        term_ids, row_ids, tfs = (np.asarray(x, dtype=np.int64) for x in per_field[field])
        norm = (1 - B) + B * field_len[field][row_ids] / max(avg[field], 1e-9)
        boost = title_boost if field == "title" else 1.0
        keys.append(term_ids * max(n, 1) + row_ids)
        weights.append(boost * tfs / norm)
        in_title.append(np.full(len(term_ids), field == "title"))
    key = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    order = np.argsort(key, kind="stable")
    key, weight, title = key[order], np.concatenate(weights)[order], np.concatenate(in_title)[order]
    uniq, first = np.unique(key, return_index=True)
    tf = np.add.reduceat(weight, first) if len(key) else np.zeros(0)
    has_title = np.logical_or.reduceat(title, first) if len(key) else np.zeros(0, bool)
    sat = tf * (K1 + 1) / (K1 + tf)
    term_of = uniq // max(n, 1)
    row_of = (uniq % max(n, 1)).astype(np.int32)
    # Columns ordered by term hash, so a query finds a term with one binary search.
    terms = list(vocab)
    hashes = np.array([term_hash(t) for t in terms], dtype=np.uint64)
    col_order = np.argsort(hashes, kind="stable")
    rank = np.empty(len(terms), dtype=np.int64)
    rank[col_order] = np.arange(len(terms))
    post_order = np.lexsort((row_of, rank[term_of]))
    col = rank[term_of][post_order]
    _save(folder, "terms", hashes[col_order])
    _save(folder, "post_indptr", np.searchsorted(col, np.arange(len(terms) + 1)).astype(np.int64))
    _save(folder, "post_rows", row_of[post_order])
    _save(folder, "post_w", sat[post_order].astype(np.float32))
    tmask = has_title[post_order]
    _save(folder, "title_indptr", np.searchsorted(col[tmask], np.arange(len(terms) + 1)).astype(np.int64))
    _save(folder, "title_rows", row_of[post_order][tmask])
    return {f: float(avg[f]) for f in FIELDS} | {f"{f}_total": float(field_len[f].sum()) for f in FIELDS}


# ------------------------------------------------------------------ reading
class Segment:
    """A segment opened read-only; arrays are memory-mapped (shared between processes)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = folder.name
        self.meta = json.loads((folder / META).read_text(encoding="utf-8"))
        strings = json.loads((folder / STRINGS).read_text(encoding="utf-8"))
        self.series_names: list[str] = strings["series"]
        self.unit_names: list[str] = strings["units"]
        self.rows: int = self.meta["rows"]
        load = self._load
        self.ids, self.id_order = load("ids"), load("id_order")
        self.kind, self.date, self.issue, self.series = load("kind"), load("date"), load("issue"), load("series")
        self.unit_indptr, self.unit_codes = load("unit_indptr"), load("unit_codes")
        self.terms, self.post_indptr = load("terms"), load("post_indptr")
        self.post_rows, self.post_w = load("post_rows"), load("post_w")
        self.title_indptr, self.title_rows = load("title_indptr"), load("title_rows")
        self.vectors, self.passages = load("vectors"), load("passages")
        self.passage_start, self.passage_count = load("passage_start"), load("passage_count")
        self.passage_spans, self.long_owner = load("passage_spans"), load("long_owner")
        self.vector_dtype: str = self.meta["vector_dtype"]
        # Mapped now, not on first use: a service keeps an open segment across generations, and
        # the folder it was opened from is deleted two runs later.
        self._sketch: Sketch | None = Sketch(load("sketch_mean"), load("sketch_basis"), load("sketch")) \
            if (folder / "sketch.npy").exists() else None
        if len(self.ids) != self.rows or len(self.vectors) != self.rows or len(self.post_indptr) != len(self.terms) + 1:
            raise ValueError(f"段 {folder.name} 的文件不一致")

    def _load(self, name: str) -> np.ndarray:
        array = np.load(self.folder / f"{name}.npy", mmap_mode="r")
        return array if array.size else np.load(self.folder / f"{name}.npy")  # empty files cannot be mapped

    def column(self, term: int) -> int:
        """The column of a term hash, or -1."""
        i = int(np.searchsorted(self.terms, np.uint64(term)))
        return i if i < len(self.terms) and int(self.terms[i]) == term else -1

    def postings(self, col: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.post_indptr[col], self.post_indptr[col + 1]
        return self.post_rows[a:b], self.post_w[a:b]

    def doc_count(self, col: int) -> int:
        """Rows holding the term of a column (its postings' length: nothing of them is read)."""
        return int(self.post_indptr[col + 1] - self.post_indptr[col])

    def title_postings(self, col: int) -> np.ndarray:
        return self.title_rows[self.title_indptr[col] : self.title_indptr[col + 1]]

    def row_of_id(self, item_id: str) -> int:
        key = item_id.encode("ascii", "replace")
        i = int(np.searchsorted(self.ids, key, sorter=self.id_order))
        if i < self.rows:
            row = int(self.id_order[i])
            if self.ids[row] == key:
                return row
        return -1

    def titles(self, folder: Path | None = None) -> list[str]:
        """Every row's title (read on first use: only search-as-you-type needs them all), from
        `folder`: the segment as linked into the generation being read. A service reuses an open
        segment across generations, and the one it was first opened in is deleted two runs later."""
        return ((folder or self.folder) / TITLES).read_text(encoding="utf-8").split("\n")[: self.rows]

    @functools.cached_property
    def long_runs(self) -> tuple[np.ndarray, np.ndarray]:
        """(first passage of each long row among the long passages, that row): long rows' passages
        come first, one contiguous run per row (computed once, not every query)."""
        owners = np.asarray(self.long_owner)
        if not len(owners):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        return starts, owners[starts].astype(np.int64)

    def sketch(self, dims: int) -> Sketch:
        """The stored sketch, or (a segment written without one) one computed in memory on first
        use with `dims` directions and kept while the segment is open."""
        if self._sketch is None:
            self._sketch = Sketch.fit(self.vectors, dims)
        return self._sketch

    def passage_rows(self, row: int) -> tuple[int, int]:
        start = int(self.passage_start[row])
        return start, start + int(self.passage_count[row])


def product(matrix: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """matrix @ columns in float32. One column is one BLAS matrix-vector product. For several,
    the matrix-matrix product packs the whole matrix first when there are so few columns: it
    took twice one column's time at 384 dimensions (1.7x for a sketch's 96), so the rows go in
    blocks of about PRODUCT_BYTES that stay in the CPU cache for every column (1.6x and 1.1x
    then). A block is a power of two rows dividing SCAN_CHUNK, counted from the first row: a
    matrix split at a multiple of SCAN_CHUNK gives the same values bit for bit."""
    if columns.shape[1] == 1 or len(matrix) <= SCAN_CHUNK:
        return np.asarray(matrix @ columns)
    rows = 1 << max(0, int(PRODUCT_BYTES // (4 * matrix.shape[1])).bit_length() - 1)
    rows = min(rows, SCAN_CHUNK)
    out = np.empty((len(matrix), columns.shape[1]), dtype=np.float32)
    for start in range(0, len(matrix), rows):
        np.matmul(matrix[start : start + rows], columns, out=out[start : start + rows])
    return out


def decode_vectors(array: np.ndarray) -> np.ndarray:
    """float32 copy of stored vectors (integer ones scaled back)."""
    if array.dtype in SCALES:
        return array.astype(np.float32) / SCALES[array.dtype]
    return np.asarray(array, dtype=np.float32)


def concat_unit_codes(segments: Sequence[Segment], unit_index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Units of all rows of all segments as one CSR with global unit codes."""
    indptrs, codes, offset = [np.zeros(1, dtype=np.int64)], [], 0
    for seg in segments:
        remap = np.array([unit_index[u] for u in seg.unit_names], dtype=np.int32)
        codes.append(remap[np.asarray(seg.unit_codes)] if len(seg.unit_codes) else np.zeros(0, np.int32))
        indptrs.append(np.asarray(seg.unit_indptr[1:]) + offset)
        offset += len(seg.unit_codes)
    return np.concatenate(indptrs), (np.concatenate(codes) if codes else np.zeros(0, np.int32))

