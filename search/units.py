"""Reporting units: one name per unit, and a unit's own listing.

Bulletins spell a unit several ways (先进制造业开发区 / 区先进制造业开发区) and OCR misreads
some (区域管局 for 区城管局). config.toml [units.aliases] maps each variant to the name it
stands for. The indexer stores items under the canonical name, so facets, unit pages and
"other units" count one unit; a filter matches every spelling, so an index built before an
alias was added still finds the unit's items under either name.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from .item import Item
from .segment import NO_DATE

SORTS = ("newest", "oldest")  # a unit page has no query: only date orders make sense


@dataclass(frozen=True)
class UnitAliases:
    """variant -> canonical name (config.toml [units.aliases])."""

    table: Mapping[str, str] = field(default_factory=dict)

    def canonical(self, name: str) -> str:
        name = name.strip()
        return self.table.get(name, name)

    def spellings(self, name: str) -> tuple[str, ...]:
        """The canonical name first, then every variant that stands for it."""
        canonical = self.canonical(name)
        return (canonical, *sorted(v for v, c in self.table.items() if c == canonical))

    def apply(self, units: Iterable[str]) -> tuple[str, ...]:
        """Units in their canonical names, each once, in order of first mention."""
        return tuple(dict.fromkeys(self.canonical(u) for u in units))

    def item(self, item: Item) -> Item:
        """The item with canonical unit names (the id does not depend on units, so it stays)."""
        units = self.apply(item.units)
        return item if units == item.units else replace(item, units=units)

    def __bool__(self) -> bool:
        return bool(self.table)


def by_date(rows: np.ndarray, dates: np.ndarray, sort: str) -> np.ndarray:
    """Rows newest (or oldest) first; undated rows last, in index order (the order they were read)."""
    dates = dates.astype(np.int64)
    key = -dates if sort == "newest" else dates
    return rows[np.lexsort((rows, key, dates == NO_DATE))]
