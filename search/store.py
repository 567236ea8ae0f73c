"""The on-disk index: a manifest naming the current generation folder.

index/
  manifest.json        schema version, model, dimension, item count, current generation
  gen-000007/          whoosh files, vectors.npy (rows = ids.json order), ids.json, files.json

A writer builds a new generation beside the current one and then replaces
manifest.json atomically; a crash at any moment leaves the previous generation,
still named by the manifest, complete and searchable.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.npy"
IDS = "ids.json"
FILES = "files.json"


class IndexUnavailable(RuntimeError):
    """The index is missing, damaged or was made with another model."""


@dataclass
class Manifest:
    generation: str
    model: str
    dim: int
    count: int
    updated: str
    schema_version: int = SCHEMA_VERSION
    analysis: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def read_manifest(index_dir: Path) -> Manifest | None:
    path = index_dir / MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(**data)
    except (ValueError, TypeError) as exc:
        raise IndexUnavailable(f"索引清单 {path} 已损坏：{exc}；请用 bulletin index --rebuild 重建") from exc
    if manifest.schema_version != SCHEMA_VERSION:
        raise IndexUnavailable(f"索引格式版本 {manifest.schema_version} 与程序（{SCHEMA_VERSION}）不符，请用 --rebuild 重建")
    return manifest


def write_json_atomic(path: Path, data: Any, before_replace: Callable[[], None] | None = None) -> None:
    """Write to a temporary file, fsync, rename over the target, fsync the folder."""
    fd, tmp = tempfile.mkstemp(prefix="." + path.name, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
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


def save_vectors(path: Path, vectors: np.ndarray) -> None:
    with path.open("wb") as fh:
        np.save(fh, np.ascontiguousarray(vectors, dtype=np.float32))
        fh.flush()
        os.fsync(fh.fileno())


def load_generation(index_dir: Path, manifest: Manifest) -> tuple[Path, list[str], np.ndarray, dict[str, Any]]:
    gen = index_dir / manifest.generation
    try:
        ids = json.loads((gen / IDS).read_text(encoding="utf-8"))
        files = json.loads((gen / FILES).read_text(encoding="utf-8"))
        vectors = np.load(gen / VECTORS, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise IndexUnavailable(f"索引 {gen} 不完整或已损坏（{exc}）；请用 bulletin index --rebuild 重建") from exc
    if vectors.shape != (len(ids), manifest.dim) or len(ids) != manifest.count:
        raise IndexUnavailable(f"索引 {gen} 的向量与条目数不一致；请用 bulletin index --rebuild 重建")
    return gen, ids, vectors, files
