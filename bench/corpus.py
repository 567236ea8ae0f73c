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

from search.item import Item

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


def write_jsonl(items: Sequence[Item], count: int, path: Path, seed: int = 7) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for record in records(items, count, seed):
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
