"""HTML pages. Each view asks search/ for data and picks a template; nothing else."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, render_template, request, send_file, url_for
from werkzeug.datastructures import MultiDict

from search.export import to_csv, to_docx
from search.item import KIND_LABELS
from search.likeness import SIMILAR_LEVELS
from search.params import (
    LISTING_SORTS,
    MODE_LABELS,
    SORT_LABELS,
    SearchRequest,
    parse_listing_request,
    parse_search_request,
)
from search.query import QueryError
from search.service import ServiceUnavailable

from . import error_response, service_of
from .charts import time_chart
from .hints import OTHER_MODES, fewer_words
from .sources import source_path

pages = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/static")
ITEM_ID = re.compile(r"^[0-9a-f]{16}$")
PAGE_LINKS = 9  # page numbers shown around the current page


@pages.app_context_processor
def _labels() -> dict[str, Any]:
    return {"KIND_LABELS": KIND_LABELS, "MODE_LABELS": MODE_LABELS, "SIMILAR_LEVELS": SIMILAR_LEVELS}


@pages.errorhandler(QueryError)
def _bad_query(exc: QueryError) -> Any:
    return error_response(400, "bad_request", str(exc))


@pages.errorhandler(ServiceUnavailable)
def _unavailable(exc: ServiceUnavailable) -> Any:
    return error_response(503, "index_unavailable", f"索引暂不可用：{exc}")


def _settings():
    return current_app.config["BULLETIN_SETTINGS"]


def _engine():
    return service_of(current_app).engine


def _paged_args() -> MultiDict:
    """The page's own arguments: `page` instead of offset; the API's names otherwise."""
    args = MultiDict(request.args)
    limit = _settings().search.default_limit
    page = args.get("page", "1")
    if not re.fullmatch(r"\d{1,6}", page) or int(page) < 1:
        raise QueryError("页码应为正整数")
    args.setlist("offset", [str((int(page) - 1) * limit)])
    args.setlist("limit", [str(limit)])
    return args


def _request_with_page() -> SearchRequest:
    return parse_search_request(_paged_args(), _settings().search.max_limit, require_query=False,
                                aliases=_engine().unit_aliases)


def _pager(total: int, offset: int, limit: int) -> dict[str, Any]:
    """The current page, the number of pages and the page numbers shown around the current one."""
    page = offset // limit + 1
    pages_total = (total + limit - 1) // limit
    first = max(1, min(page - PAGE_LINKS // 2, pages_total - PAGE_LINKS + 1))
    return {"page": page, "pages_total": pages_total,
            "page_numbers": range(first, min(pages_total, first + PAGE_LINKS - 1) + 1)}


@pages.get("/")
@pages.get("/search")
def search() -> Any:
    req = _request_with_page()
    engine = _engine()
    max_chars = _settings().search.max_query_chars
    too_long = req.too_long(max_chars)  # a pasted paragraph: offered to the draft check, text kept
    result = None
    if req.q.strip() and not too_long:
        result = engine.search(req.q, mode=req.mode, filters=req.filters, limit=req.limit, offset=req.offset,
                               sort=req.sort)
    limit = req.limit or _settings().search.default_limit

    def url(**changes: Any) -> str:
        return url_for("pages.search") + "?" + urlencode(req.query_args(**changes))

    return render_template(
        "search.html",
        req=req,
        result=result,
        mode=req.mode or _settings().search.default_mode,
        **_pager(result["total"] if result else 0, req.offset, limit),
        url=url,
        sorts=SORT_LABELS,
        export=lambda fmt: url_for(f"pages.export_{fmt}") + "?" + urlencode(req.query_args()),
        stats=engine.stats() if not result else None,
        active_filters=req.describe(),
        chart=time_chart(result["facets"], req.year, req.month, url) if result else None,
        fewer=fewer_words(req.q) if result and not result["total"] else [],
        other_modes=OTHER_MODES[result["mode"]] if result else (),
        too_long=too_long,
        max_chars=max_chars,
    )


@pages.get("/items/<path:item_id>")
def item(item_id: str) -> Any:
    engine = _engine()
    found = engine.get(item_id) if ITEM_ID.match(item_id) else None
    if found is None:
        return error_response(404, "not_found", "没有这个条目，它可能已从索引中删除。")
    similar = engine.similar(found.id, other_units=bool(found.units), limit=_settings().search.similar_limit,
                             labelled_only=True)
    return render_template("item.html", item=found, similar=similar["results"], other_units=bool(found.units),
                           has_source_file=source_path(engine, found) is not None)


@pages.get("/items/<path:item_id>/source")
def item_source(item_id: str) -> Any:
    """The file the item was read from, as indexed (only files the index lists are ever sent)."""
    engine = _engine()
    found = engine.get(item_id) if ITEM_ID.match(item_id) else None
    path = source_path(engine, found) if found else None
    if path is None:
        return error_response(404, "not_found", "这个条目的原始文件已不在服务器上。")
    return send_file(path, as_attachment=True, download_name=path.name)


@pages.get("/units/<path:name>")
def unit(name: str) -> Any:
    """A unit's items by date, without a query; another spelling of the unit redirects to its name."""
    args = _paged_args()
    req = parse_listing_request(args, _settings().search.max_limit)
    found = _engine().unit_items(name, limit=req.limit, offset=req.offset, sort=req.sort)
    if not found["total"]:
        return error_response(404, "not_found", f"索引中没有单位“{name[:40]}”的条目。")
    if found["unit"] != name:
        return redirect(url_for("pages.unit", name=found["unit"], **request.args.to_dict()))

    def url(**changes: Any) -> str:
        query = {"sort": None if req.sort == LISTING_SORTS[0] else req.sort, **changes}
        return url_for("pages.unit", name=found["unit"]) + _query_string(query)

    return render_template("unit.html", listing=found, url=url, sorts={s: SORT_LABELS[s] for s in LISTING_SORTS},
                           **_pager(found["total"], req.offset, req.limit or _settings().search.default_limit))


def _query_string(args: dict[str, Any]) -> str:
    query = urlencode({k: v for k, v in args.items() if v not in (None, "")})
    return "?" + query if query else ""


@pages.get("/issue")
def issue() -> Any:
    number = request.args.get("issue", "")
    if not re.fullmatch(r"\d{1,6}", number):
        raise QueryError("期号应为整数")
    series = request.args.get("series") or None
    date = request.args.get("date") or None
    items = _engine().issue_items(series, int(number), date)
    if not items:
        return error_response(404, "not_found", "索引中没有这一期。")
    return render_template("issue.html", items=items, series=series, number=int(number), date=date or items[0].date)


@pages.route("/draft", methods=["GET", "POST"])
def draft() -> Any:
    text = request.form.get("text", "") if request.method == "POST" else ""
    check = None
    if request.method == "POST":
        if not text.strip():
            raise QueryError("请粘贴一段草稿文字")
        check = _engine().similar_text(text, limit=_settings().search.similar_limit)
    return render_template("draft.html", text=text, check=check, rule=_settings().search)


@pages.get("/about")
def about() -> Any:
    return render_template("about.html", stats=_engine().stats(), settings=_settings())


def _export(fmt: str) -> Response:
    req = parse_search_request(request.args, _settings().search.max_limit, aliases=_engine().unit_aliases)
    result = _engine().export(req.q, req.mode, req.filters, _settings().web.max_export, sort=req.sort)
    if fmt == "csv":
        body, mime = to_csv(result), "text/csv"
    else:
        body = to_docx(result, req.describe())
        mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    response = Response(body, mimetype=mime)
    name = f"检索结果-{req.q[:20]}.{fmt}"
    from urllib.parse import quote

    response.headers["Content-Disposition"] = f"attachment; filename=results.{fmt}; filename*=UTF-8''{quote(name)}"
    return response


@pages.get("/export.csv")
def export_csv() -> Response:
    return _export("csv")


@pages.get("/export.docx")
def export_docx() -> Response:
    return _export("docx")
