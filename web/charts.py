"""Hits per year (or per month of the chosen year) as bars above the results.

Only geometry and links are computed here; templates/macros.html draws the SVG, so every
label passes through Jinja's escaping. Horizontal positions are percentages (the chart
stretches to the column on a desktop or a phone without shrinking its text); heights are
pixels. Each bar links to the same search filtered to that year or month; gaps between
the first and last year (or the months of the chosen year) are drawn as empty slots, so
the time axis is honest.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from search.filters import NO_DATE

SLOT_PX = 60  # widest slot: two years do not fill a desktop column with fat bars
PLOT_HEIGHT = 56  # px of the tallest bar
TOP = 16  # px above the tallest bar, for its count
BOTTOM = 20  # px below the baseline, for the axis labels
BAR_SHARE = 0.62  # share of a slot the bar fills
MANY_YEARS = 8  # above this many slots, years are labelled ’24 instead of 2024
_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar: 2024 or 6月
    name: str  # the accessible name: 2024年：9 条
    count: int
    href: str | None  # None for an empty slot
    selected: bool
    x: float  # percent of the width: slot start, bar start, slot centre
    bar_x: float
    centre: float
    y: float  # px: top of the bar
    height: float


@dataclass(frozen=True)
class Chart:
    caption: str
    bars: list[Bar]
    slot: float  # percent
    bar_width: float  # percent
    width: int  # px at most (narrower screens shrink it; positions are percentages)
    height: int  # px, whole chart
    baseline: int  # px


def time_chart(facets: Mapping[str, Mapping[str, int]], year: str | None, month: str | None,
               link: Callable[..., str]) -> Chart | None:
    """The months of the chosen year when the facets have them, else the years; None when fewer than two slots."""
    months = {k: v for k, v in (facets.get("months") or {}).items() if _MONTH.match(k)}
    if year and months:
        slots = [(f"{year}-{m:02d}", f"{m}月", f"{year}年{m}月") for m in range(1, 13)]
        counts = {k: months.get(k, 0) for k, _, _ in slots}

        def href(key: str) -> str:
            return link(month=None if key == month else key, year=year)

        return _chart(f"{year}年各月条数", slots, counts, month, href)
    years = sorted(int(k) for k in facets.get("years", {}) if _YEAR.match(k))
    undated = int(facets.get("years", {}).get(NO_DATE, 0))
    if len(years) + bool(undated) < 2 or year:
        return None
    span = [str(y) for y in range(years[0], years[-1] + 1)] if years else []
    short = len(span) > MANY_YEARS
    slots = [(y, f"’{y[2:]}" if short else y, f"{y}年") for y in span]
    counts = {y: int(facets["years"].get(y, 0)) for y in span}
    if undated:  # the last slot: items without a date, so the bars add up to the total
        slots.append((NO_DATE, NO_DATE, NO_DATE))
        counts[NO_DATE] = undated

    def year_href(key: str) -> str:
        return link(year=key, month=None, **{"from": None, "to": None})

    return _chart("各年份条数", slots, counts, None, year_href)


def _chart(caption: str, slots: list[tuple[str, str, str]], counts: Mapping[str, int], selected: str | None,
           href: Callable[[str], str]) -> Chart:
    top = max(counts.values()) or 1
    slot = 100 / len(slots)
    bars = []
    for n, (key, label, spoken) in enumerate(slots):
        count = counts[key]
        height = round(PLOT_HEIGHT * count / top, 1) if count else 0.0
        bars.append(Bar(
            label=label, name=f"{spoken}：{count} 条", count=count, href=href(key) if count else None,
            selected=key == selected, x=round(slot * n, 3), bar_x=round(slot * (n + (1 - BAR_SHARE) / 2), 3),
            centre=round(slot * (n + 0.5), 3), y=TOP + PLOT_HEIGHT - height, height=height,
        ))
    return Chart(caption=caption, bars=bars, slot=round(slot, 3), bar_width=round(slot * BAR_SHARE, 3),
                 width=SLOT_PX * len(slots), height=TOP + PLOT_HEIGHT + BOTTOM, baseline=TOP + PLOT_HEIGHT)
