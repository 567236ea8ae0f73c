"""A unit's items without a query: the unit page (/units/<name>) and GET /api/units/<name>.

A writer asks "what has 区妇联 reported?" rather than a word inside its items, so the listing
is the unit filter alone (every spelling of the unit, search/units.py), ordered by date.
无单位 lists the items without a reporting unit.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .filters import NO_UNIT, Filters
from .query import checked_page
from .segment import NO_DATE, code_date
from .units import SORTS, by_date

if TYPE_CHECKING:
    from .engine import SearchEngine

LISTING_SCORE = 0.0  # results carry the search result's fields; without a query there is no score


def unit_items(engine: "SearchEngine", name: str, limit: int | None, offset: int, sort: str) -> dict[str, Any]:
    cfg = engine.settings.search
    limit = checked_page(cfg, limit, offset, sort, SORTS)
    aliases = engine.unit_aliases
    unit = NO_UNIT if name.strip() == NO_UNIT else aliases.canonical(name)
    snap = engine.snapshot
    rows = np.flatnonzero(Filters(units=(unit,), aliases=aliases).mask(snap))
    dates = snap.date[rows]
    dated = dates[dates != NO_DATE]
    rows = by_date(rows, dates, sort)
    return {
        "unit": unit,
        "spellings": list(aliases.spellings(unit)[1:]),
        "total": int(len(rows)),
        "offset": offset,
        "limit": limit,
        "sort": sort,
        "date_from": code_date(int(dated.min())) if len(dated) else None,
        "date_to": code_date(int(dated.max())) if len(dated) else None,
        "results": [engine._result(int(r), LISTING_SCORE, None, None) for r in rows[offset : offset + limit]],
    }
