"""The one Item type that indexer/, search/ and web/ all share."""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Kind = Literal["measure", "brief", "article"]
KINDS: tuple[str, ...] = ("measure", "brief", "article")
KIND_LABELS: dict[str, str] = {"measure": "工作动态", "brief": "简讯", "article": "专题报道"}


@dataclass(frozen=True)
class Source:
    """Where an item came from; not part of its identity."""

    file: str
    position: int  # 1-based ordinal of the item in the file (or record number)
    line: int = 0  # 1-based line where the item starts; 0 when unknown (records)
    url: str | None = None  # source link given by a record, if any


@dataclass(frozen=True)
class Item:
    """One measure, brief or feature article.

    The id depends on content only, so re-ingesting a file reproduces the ids and
    the same item found in two files is stored once.
    """

    kind: Kind
    title: str
    text: str
    units: tuple[str, ...] = ()
    series: str | None = None
    issue: int | None = None
    date: str | None = None  # YYYY-MM-DD
    issuer: str | None = None
    reporters: tuple[str, ...] = ()
    source: Source | None = None
    id: str = field(default="")

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", item_id(self.series, self.issue, self.date, self.title, self.text))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["units"] = list(self.units)
        data["reporters"] = list(self.reporters)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Item":
        src = data.get("source")
        return cls(
            id=data.get("id", ""),
            kind=data["kind"],
            title=data["title"],
            text=data["text"],
            units=tuple(data.get("units") or ()),
            series=data.get("series"),
            issue=data.get("issue"),
            date=data.get("date"),
            issuer=data.get("issuer"),
            reporters=tuple(data.get("reporters") or ()),
            source=Source(**src) if src else None,
        )


def item_id(series: str | None, issue: int | None, date: str | None, title: str, text: str) -> str:
    """16 hex digits of SHA-1 over the identifying fields (whitespace-insensitive)."""
    parts = [series or "", str(issue or ""), date or "", "".join(title.split()), "".join(text.split())]
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]
