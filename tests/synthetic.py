"""Synthetic items recombined from the sample's sentences (deterministic with a seed)."""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

from search.item import Item

UNITS = ["区司法局", "区人社局", "中心路街道", "工业路街道", "矿山街道", "区教育局", "区财政局", "峡窝镇"]


def sentences(items: list[Item]) -> list[str]:
    out = []
    for item in items:
        out += [s for s in re.split(r"(?<=。)", item.text.replace("\n", "")) if len(s) > 8]
    return out


def records(items: list[Item], count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    pool = sentences(items)
    rows = []
    for n in range(count):
        body = "".join(rng.sample(pool, rng.randint(3, 6)))
        rows.append({
            "title": f"合成条目{n:05d}" + rng.choice(pool)[:12],
            "text": body,
            "unit": rng.choice(UNITS),
            "date": f"{rng.choice([2022, 2023, 2024])}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "issue": str(rng.randint(1, 60)),
            "series": "上街信息",
        })
    return rows


def write_jsonl(items: list[Item], count: int, path: Path, seed: int = 7) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records(items, count, seed)) + "\n", encoding="utf-8")
    return path
