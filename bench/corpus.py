"""A synthetic corpus recombined from the sample items' sentences, deterministic with a seed.

Items keep realistic lengths (about 250-600 characters), with varied units, dates, issues
and kinds, so that common words sit in a large share of items as in real bulletins.
"""
from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from search.item import Item

if TYPE_CHECKING:
    from search.embedding import Embedder

MIN_CHARS, MAX_CHARS = 250, 600
YEARS = (2021, 2022, 2023, 2024)


def sentences(items: Sequence[Item]) -> list[str]:
    out: list[str] = []
    for item in items:
        out += [s for s in re.split(r"(?<=[。！？])", item.text.replace("\n", "")) if len(s) >= 8]
    return list(dict.fromkeys(out))


def records(items: Sequence[Item], count: int, seed: int = 7) -> Iterator[dict]:
    rng = random.Random(seed)
    pool = sentences(items)
    units = sorted({u for i in items for u in i.units})
    for n in range(count):
        target = rng.randint(MIN_CHARS, MAX_CHARS)
        body = ""
        while len(body) < target:
            body += rng.choice(pool)
        kind_mark = "△ " if rng.random() < 0.15 else ""
        yield {
            "title": f"{rng.choice(units)}{rng.choice(pool)[:14].rstrip('，。；')}（{n}）",
            "text": kind_mark + body,
            "unit": "、".join(rng.sample(units, rng.choice((1, 1, 1, 2)))),
            "date": f"{rng.choice(YEARS)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "issue": str(rng.randint(1, 60)),
            "series": "上街信息",
        }


def write_corpus(items: Sequence[Item], count: int, folder: Path, seed: int = 7, per_file: int = 5000) -> Path:
    """The corpus as a folder of .jsonl files of per_file items (one 50k-item file would be
    larger than index.max_file_mb, and real collections come as many files anyway)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jsonl"):
        old.unlink()
    rows = records(items, count, seed)
    for n in range(0, count, per_file):
        with (folder / f"part-{n // per_file:04d}.jsonl").open("w", encoding="utf-8") as fh:
            for _ in range(min(per_file, count - n)):
                fh.write(json.dumps(next(rows), ensure_ascii=False) + "\n")
    return folder


def write_jsonl(items: Sequence[Item], count: int, path: Path, seed: int = 7) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for record in records(items, count, seed):
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


class ComposedEmbedder:
    """Vectors for a large synthetic corpus without hours of embedding: a passage found whole in
    the pool gets its own real vector; otherwise each passage's vector is the
    normalised mean of its sentences' real vectors (every sentence comes from the sample and is
    embedded once with the real model). Benchmark-only; latency does not depend on the values,
    and the similarity structure stays realistic. Real embedding speed is measured separately."""

    def __init__(self, real: Embedder, pool: list[str]) -> None:
        self.real, self.name = real, real.name
        self.table = dict(zip(pool, real.embed_passages(pool)))
        self.cache: dict[str, np.ndarray] = {}  # real vectors of passages holding no whole pool sentence

    @property
    def dim(self) -> int:
        return self.real.dim

    def embed_items(self, batch, progress=None):
        """Passage vectors composed from sentence vectors; items are their passages' mean."""
        from search.embedding import ItemVectors

        passages = self.embed_passages(batch.texts, progress)
        sums = np.add.reduceat(passages, batch.indptr[:-1], axis=0) if len(batch.texts) else \
            np.zeros((0, self.dim), np.float32)
        items = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        return ItemVectors(items.astype(np.float32), passages, batch.indptr, batch.spans)

    def embed_passages(self, texts, progress=None) -> np.ndarray:
        """Passages made of whole pool sentences are composed; the rare passage holding none
        (a fragment cut at a semicolon) gets a real vector, all such passages in one batch, cached."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for n, text in enumerate(texts):
            body = text.split("\n", 1)[-1]
            whole = self.table.get(body)
            if whole is not None:  # a passage embedded as it is
                out[n] = whole
                continue
            parts = [self.table[s] for s in re.split(r"(?<=[。！？])", body.lstrip("△ ")) if s in self.table]
            if parts:
                out[n] = np.mean(parts, axis=0)
            else:
                missing.setdefault(text, []).append(n)
        new = [t for t in missing if t not in self.cache]
        if new:
            self.cache.update(zip(new, self.real.embed_passages(new)))
        for text, rows in missing.items():
            out[rows] = self.cache[text]
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        if progress:
            progress(len(texts))
        return out
