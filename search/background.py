"""How close a typical bulletin text is to a query: the background of the semantic evidence.

e5 gives every bulletin a high cosine to every query (0.81-0.85 on average), and how high
depends on the query: a long question sits closer to everything than a two-character topic.
An absolute cosine threshold therefore means different things for different queries, and a
threshold relative to the corpus (its mean or spread) keeps a fixed share of any corpus, so
"every item about X" would grow with the archive. The reference used instead is fixed: a
background corpus of composed, typical local-government work texts shipped with the project
(search/data/background.txt, about 120 everyday topics). For a query q and an item d:

  semantic = cos(q, d) - q·m      (m: the background's mean vector)
  generic  = d·m - mean over the background of b·m
             (catch-all texts such as long multi-topic articles sit close to everything)

Both depend on the model and this file only, never on what is indexed, so adding unrelated
items cannot move a query's threshold. The statistics are computed once per model and file
(about half a minute) and cached beside the model.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .embedding import Embedder
from .passages import split_items


@dataclass(frozen=True)
class Background:
    mean: np.ndarray  # (dim,) float32: mean of the background items' unit vectors
    generic_offset: float  # mean over the background items of v·mean
    fingerprint: str

    def to_dict(self) -> dict:
        return {"mean": [float(x) for x in self.mean], "generic_offset": self.generic_offset,
                "fingerprint": self.fingerprint}

    @classmethod
    def from_dict(cls, data: dict) -> "Background":
        return cls(np.asarray(data["mean"], dtype=np.float32), float(data["generic_offset"]), data["fingerprint"])


def background_texts(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]


def fingerprint(path: Path, model: str) -> str:
    digest = hashlib.sha1(path.read_bytes() + b"\x00" + model.encode("utf-8")).hexdigest()
    return digest[:16]


def compute(texts: list[str], embedder: Embedder, passage_chars: int, fp: str) -> Background:
    vectors = embedder.embed_items(split_items([("", t) for t in texts], passage_chars)).items
    mean = vectors.mean(axis=0).astype(np.float32)
    return Background(mean, float((vectors @ mean).mean()), fp)


def load_background(path: Path, embedder: Embedder, cache_dir: Path, passage_chars: int) -> Background:
    """The background of this file under this model, computed on first use and cached."""
    fp = fingerprint(path, f"{embedder.name}|{passage_chars}")
    cache = cache_dir / f"background-{fp}.json"
    if cache.exists():
        try:
            return Background.from_dict(json.loads(cache.read_text(encoding="utf-8")))
        except (ValueError, KeyError):
            pass  # a damaged cache is recomputed
    background = compute(background_texts(path), embedder, passage_chars, fp)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}")
    tmp.write_text(json.dumps(background.to_dict()), encoding="utf-8")
    tmp.replace(cache)
    return background
