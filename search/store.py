"""The on-disk index: a manifest naming the current generation folder.

index/
  manifest.json          schema version, model, vector type, item count, current generation,
                         dictionary fingerprints
  gen-000007/
    whoosh/              the items (index of record), search/records.py
    seg-000003/ …        segments: term weights, vectors, metadata columns (search/segment.py)
    segments.json        the segments in order, with their tombstone files
    del-seg-000003.npy   deleted rows of a segment (bit-packed), when it has any
    files.json           which source file gave which item ids
    background.json      the embedding model's background statistics (search/background.py)

A writer builds a new generation beside the current one, hard-linking every file that does
not change (whoosh segments, unchanged engine segments), and then replaces manifest.json
atomically; a crash at any moment leaves the previous generation, still named by the
manifest, complete and searchable.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA_VERSION = 2
MANIFEST = "manifest.json"
SEGMENTS = "segments.json"
FILES = "files.json"
BACKGROUND = "background.json"


class IndexUnavailable(RuntimeError):
    """The index is missing, damaged or was made with another model or dictionary."""


@dataclass
class Manifest:
    generation: str
    model: str
    dim: int
    count: int
    updated: str
    schema_version: int = SCHEMA_VERSION
    analysis: dict[str, str] = field(default_factory=dict)
    vector_dtype: str = "float32"
    files: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SegmentEntry:
    name: str
    rows: int
    deleted: str | None = None  # file of deleted rows in the generation folder
    dead: int = 0  # how many rows are deleted

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def read_manifest(index_dir: Path) -> Manifest | None:
    path = index_dir / MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise IndexUnavailable(f"索引清单 {path} 已损坏：{exc}；请用 bulletin index --rebuild 重建") from exc
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        version = data.get("schema_version") if isinstance(data, dict) else "?"
        raise IndexUnavailable(f"索引格式版本 {version} 与程序（{SCHEMA_VERSION}）不符，请用 bulletin index --rebuild 重建")
    try:
        return Manifest(**data)
    except TypeError as exc:
        raise IndexUnavailable(f"索引清单 {path} 已损坏：{exc}；请用 bulletin index --rebuild 重建") from exc


def read_segments(gen: Path) -> list[SegmentEntry]:
    try:
        return [SegmentEntry(**s) for s in json.loads((gen / SEGMENTS).read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError) as exc:
        raise IndexUnavailable(f"索引 {gen.name} 不完整或已损坏（{exc}）；请用 bulletin index --rebuild 重建") from exc


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if default is not None:
            return default
        raise


def write_json_atomic(path: Path, data: Any, before_replace: Callable[[], None] | None = None) -> None:
    """Write to a temporary file, fsync, rename over the target, fsync the folder."""
    fd, tmp = tempfile.mkstemp(prefix="." + path.name, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, ensure_ascii=False))  # one C-encoded string: json.dump encodes in Python
            fh.flush()
            os.fsync(fh.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save_deleted(path: Path, deleted: np.ndarray) -> None:
    with path.open("wb") as fh:
        np.save(fh, np.packbits(deleted.astype(bool)))
        fh.flush()
        os.fsync(fh.fileno())


def load_deleted(path: Path, rows: int) -> np.ndarray:
    return np.unpackbits(np.load(path))[:rows].astype(bool)
