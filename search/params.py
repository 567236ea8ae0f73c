"""Request parameters -> a validated search request, shared by the HTML pages and the JSON API
so the two can never disagree about what a URL means."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .engine import MODES, SORTS
from .filters import NO_DATE, Filters
from .item import KINDS
from .query import QueryError
from .units import SORTS as LISTING_SORTS
from .units import UnitAliases

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MODE_LABELS = {"hybrid": "综合", "keyword": "关键词", "semantic": "语义"}
SORT_LABELS = {"relevance": "相关度", "newest": "最新", "oldest": "最早"}


class MultiMapping(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list[str]: ...


@dataclass
class SearchRequest:
    q: str
    mode: str | None
    filters: Filters
    limit: int | None
    offset: int
    sort: str = "relevance"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def year(self) -> str | None:
        """The chosen year (that of the chosen month, if one is)."""
        return self.filters.month[:4] if self.filters.month else self.filters.year

    @property
    def month(self) -> str | None:
        return self.filters.month

    def query_args(self, **changes: Any) -> list[tuple[str, str]]:
        """URL arguments reproducing this request (for paging, facet links, exports)."""
        args: dict[str, Any] = {
            "q": self.q,
            "mode": self.mode,
            "unit": list(self.filters.units),
            "from": self.filters.date_from,
            "to": self.filters.date_to,
            "year": None if self.month else self.year,
            "month": self.month,
            "kind": self.filters.kind,
            "sort": None if self.sort == "relevance" else self.sort,
            "series": self.filters.series,
            "issue": self.filters.issue,
        }
        args.update(changes)
        out: list[tuple[str, str]] = []
        for key, value in args.items():
            for v in value if isinstance(value, (list, tuple)) else [value]:
                if v not in (None, ""):
                    out.append((key, str(v)))
        return out

    def describe(self) -> list[str]:
        """The active filters in words, for 已筛选：区司法局、2024年、简讯 and for exports."""
        return self.filters.describe()

    def too_long(self, max_chars: int) -> bool:
        """A query over the limit: on the page, a pasted paragraph to offer to the draft check."""
        return len(self.q.strip()) > max_chars


def _quoted(raw: str) -> str:
    """A bad value as the message shows it: cut short, in Chinese quotes."""
    return f"“{raw[:20]}{'…' if len(raw) > 20 else ''}”"


def _one(args: MultiMapping, name: str) -> str | None:
    value = args.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _int(args: MultiMapping, name: str, default: int | None, minimum: int, maximum: int | None = None) -> int | None:
    raw = _one(args, name)
    if raw is None:
        return default
    if not re.fullmatch(r"-?\d{1,9}", raw):
        raise QueryError(f"参数 {name} 应为整数，而不是{_quoted(raw)}")
    value = int(raw)
    if value < minimum:
        raise QueryError(f"参数 {name} 不能小于 {minimum}")
    if maximum is not None and value > maximum:
        raise QueryError(f"参数 {name} 不能大于 {maximum}")
    return value


def _date(args: MultiMapping, name: str) -> str | None:
    raw = _one(args, name)
    if raw is None:
        return None
    if not _ISO_DATE.match(raw):
        raise QueryError(f"参数 {name} 的日期格式应为 YYYY-MM-DD，而不是{_quoted(raw)}")
    import datetime as dt

    try:
        dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise QueryError(f"参数 {name} 不是有效日期：{_quoted(raw)}") from exc
    return raw


def _units(args: MultiMapping, names: Sequence[str]) -> tuple[str, ...]:
    units: list[str] = []
    for name in names:
        for value in args.getlist(name):
            units += [u.strip() for u in re.split(r"[,，、]", value) if u.strip()]
    return tuple(dict.fromkeys(units))


def parse_search_request(args: MultiMapping, max_limit: int, require_query: bool = True,
                         aliases: UnitAliases | None = None) -> SearchRequest:
    """aliases: unit names are taken in their canonical form ([units.aliases]), so a page marks
    the unit's facet as chosen and says 已筛选 with the name the index uses."""
    aliases = aliases or UnitAliases()
    q = args.get("q") or ""
    if require_query and not str(q).strip():
        raise QueryError("查询为空，请输入要检索的词语")
    mode = _one(args, "mode")
    if mode is not None and mode not in MODES:
        raise QueryError(f"未知的检索模式{_quoted(mode)}，可选：{'、'.join(MODES)}")
    kind = _one(args, "kind")
    if kind is not None and kind not in KINDS:
        raise QueryError(f"未知的类型{_quoted(kind)}，可选：{'、'.join(KINDS)}")
    year, month = _one(args, "year"), _one(args, "month")
    date_from, date_to = _date(args, "from"), _date(args, "to")
    if year is not None:
        if not _YEAR.match(year) and year != NO_DATE:
            raise QueryError(f"参数 year 应为四位年份或“{NO_DATE}”，而不是{_quoted(year)}")
        date_from = date_to = None
    if month is not None:
        if not _MONTH.match(month):
            raise QueryError(f"参数 month 应为 YYYY-MM（如 2024-06），而不是{_quoted(month)}")
        year, date_from, date_to = None, None, None  # the month is its own filter
    if date_from and date_to and date_from > date_to:
        raise QueryError("起始日期晚于截止日期")
    sort = _one(args, "sort") or "relevance"
    if sort not in SORTS:
        raise QueryError(f"未知的排序{_quoted(sort)}，可选：{'、'.join(SORTS)}")
    filters = Filters(
        units=aliases.apply(_units(args, ("units", "unit"))),
        date_from=date_from,
        date_to=date_to,
        kind=kind,
        series=_one(args, "series"),
        issue=_int(args, "issue", None, 0),
        year=year,
        month=month,
        aliases=aliases,
    )
    return SearchRequest(
        q=str(q),
        mode=mode,
        filters=filters,
        limit=_int(args, "limit", None, 1, max_limit),
        offset=_int(args, "offset", 0, 0) or 0,
        sort=sort,
    )


@dataclass
class ListingRequest:
    """A unit page's arguments: no query, only paging and a date order."""

    limit: int | None
    offset: int
    sort: str


def parse_listing_request(args: MultiMapping, max_limit: int) -> ListingRequest:
    sort = _one(args, "sort") or LISTING_SORTS[0]
    if sort not in LISTING_SORTS:
        raise QueryError(f"未知的排序{_quoted(sort)}，可选：{'、'.join(LISTING_SORTS)}")
    return ListingRequest(_int(args, "limit", None, 1, max_limit), _int(args, "offset", 0, 0) or 0, sort)


def as_multi(mapping: Mapping[str, Any]) -> MultiMapping:
    """Wrap a plain dict (JSON body) so it answers getlist like a query string."""

    class _Multi:
        def get(self, key: str, default: Any = None) -> Any:
            value = mapping.get(key, default)
            return value[0] if isinstance(value, list) and value else value

        def getlist(self, key: str) -> list[str]:
            value = mapping.get(key)
            if value is None:
                return []
            return [str(v) for v in value] if isinstance(value, list) else [str(value)]

    return _Multi()


def parse_suggest_request(args: MultiMapping, default_limit: int, max_limit: int, max_chars: int) -> tuple[str, int]:
    """(typed text, limit) for search-as-you-type; blank text is valid and suggests nothing."""
    q = args.get("q")
    if q is None:
        raise QueryError("缺少参数 q（已输入的文字）")
    if len(str(q)) > max_chars:
        raise QueryError(f"参数 q 过长（{len(str(q))} 字），上限 {max_chars} 字")
    return str(q), _int(args, "limit", default_limit, 1, max_limit) or default_limit
