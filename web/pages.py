"""HTML pages. Each view asks search/ for data and picks a template; nothing else."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from search.export import to_csv, to_docx
from search.item import KIND_LABELS
from search.params import SearchRequest, parse_search_request
from search.query import QueryError
from search.service import ServiceUnavailable

from . import error_response, service_of

pages = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/static")
MODE_LABELS = {"hybrid": "综合", "keyword": "关键词", "semantic": "语义"}
ITEM_ID = re.compile(r"^[0-9a-f]{16}$")
PAGE_LINKS = 9  # page numbers shown around the current page


@pages.app_context_processor
def _labels() -> dict[str, Any]:
    return {"KIND_LABELS": KIND_LABELS, "MODE_LABELS": MODE_LABELS}


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


def _request_with_page() -> SearchRequest:
    """The page's own arguments: `page` instead of offset; the API's names otherwise."""
    args = MultiDict(request.args)
    limit = _settings().search.default_limit
    page = args.get("page", "1")
    if not re.fullmatch(r"\d{1,6}", page) or int(page) < 1:
        raise QueryError("页码应为正整数")
    args.setlist("offset", [str((int(page) - 1) * limit)])
    args.setlist("limit", [str(limit)])
    return parse_search_request(args, _settings().search.max_limit, require_query=False)


@pages.get("/")
@pages.get("/search")
def search() -> Any:
    req = _request_with_page()
    engine = _engine()
    result = None
    if req.q.strip():
        result = engine.search(req.q, mode=req.mode, filters=req.filters, limit=req.limit, offset=req.offset)
    limit = req.limit or _settings().search.default_limit
    page = req.offset // limit + 1
    pages_total = (result["total"] + limit - 1) // limit if result else 0
    first = max(1, min(page - PAGE_LINKS // 2, pages_total - PAGE_LINKS + 1))
    return render_template(
        "search.html",
        req=req,
        result=result,
        mode=req.mode or _settings().search.default_mode,
        page=page,
        pages_total=pages_total,
        page_numbers=range(first, min(pages_total, first + PAGE_LINKS - 1) + 1),
        url=lambda **changes: url_for("pages.search") + "?" + urlencode(req.query_args(**changes)),
        export=lambda fmt: url_for(f"pages.export_{fmt}") + "?" + urlencode(req.query_args()),
        stats=engine.stats() if not result else None,
        active_filters=_describe(req),
    )


def _describe(req: SearchRequest) -> list[str]:
    """Human-readable filter list: 已筛选：区司法局、2024年、简讯."""
    f = req.filters
    out = list(f.units)
    if req.year:
        out.append(f"{req.year}年")
    elif f.date_from or f.date_to:
        out.append(f"{f.date_from or '…'} 至 {f.date_to or '…'}")
    if f.kind:
        out.append(KIND_LABELS[f.kind])
    if f.series:
        out.append(f.series)
    if f.issue is not None:
        out.append(f"第{f.issue}期")
    return out


@pages.get("/items/<path:item_id>")
def item(item_id: str) -> Any:
    engine = _engine()
    found = engine.get(item_id) if ITEM_ID.match(item_id) else None
    if found is None:
        return error_response(404, "not_found", "没有这个条目，它可能已从索引中删除。")
    similar = engine.similar(found.id, other_units=bool(found.units), limit=_settings().search.similar_limit)
    return render_template("item.html", item=found, similar=similar["results"], other_units=bool(found.units))


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
    req = parse_search_request(request.args, _settings().search.max_limit)
    result = _engine().export(req.q, req.mode, req.filters, _settings().web.max_export)
    if fmt == "csv":
        body, mime = to_csv(result), "text/csv"
    else:
        body, mime = to_docx(result), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
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
