"""JSON API: the same engine and the same result JSON as `bulletin search --json`."""
from __future__ import annotations

import hmac
import json
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from search.params import as_multi, parse_listing_request, parse_search_request, parse_suggest_request
from search.query import QueryError
from search.service import ServiceUnavailable

from . import error_response, service_of
from .openapi import openapi_document

api = Blueprint("api", __name__)
ITEM_ID = re.compile(r"^[0-9a-f]{16}$")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _settings():
    return current_app.config["BULLETIN_SETTINGS"]


def _engine():
    return service_of(current_app).engine


@api.errorhandler(QueryError)
def _bad_query(exc: QueryError) -> Any:
    return error_response(400, "bad_request", str(exc))


@api.errorhandler(ServiceUnavailable)
def _unavailable(exc: ServiceUnavailable) -> Any:
    return error_response(503, "index_unavailable", str(exc))


@api.get("/search")
def search() -> Any:
    req = parse_search_request(request.args, _settings().search.max_limit, aliases=_engine().unit_aliases)
    return jsonify(_engine().search(req.q, mode=req.mode, filters=req.filters, limit=req.limit, offset=req.offset,
                                    sort=req.sort))


@api.get("/suggest")
def suggest() -> Any:
    """Search-as-you-type: titles and dictionary words containing the part being typed."""
    s = _settings().search
    q, limit = parse_suggest_request(request.args, s.suggest_limit, s.max_limit, s.max_query_chars)
    return jsonify({"query": q, "suggestions": _engine().suggest(q, limit)})


def _item_or_404(item_id: str):
    item = _engine().get(item_id) if ITEM_ID.match(item_id) else None
    if item is None:
        return None, error_response(404, "not_found", f"没有 ID 为 {item_id[:40]} 的条目")
    return item, None


def item_json(item) -> dict[str, Any]:
    data = item.to_dict()
    if data.get("source"):
        data["source"]["file"] = Path(data["source"]["file"]).name  # no server paths in answers
    return data


@api.get("/items/<path:item_id>")
def item(item_id: str) -> Any:
    found, error = _item_or_404(item_id)
    return error or jsonify(item_json(found))


@api.get("/items/<path:item_id>/similar")
def item_similar(item_id: str) -> Any:
    found, error = _item_or_404(item_id)
    if error:
        return error
    args = request.args
    other = (args.get("other_units") or "").lower() in ("1", "true", "yes", "on")
    limit = _limit(args.get("limit"))
    return jsonify(_engine().similar(found.id, other_units=other, limit=limit))


@api.post("/similar")
def similar_text() -> Any:
    data = as_multi(_json_object()) if request.is_json else request.form
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise QueryError("缺少 text（要比较的一段文字）")
    if len(text) > _settings().search.max_query_chars * 20:
        raise QueryError(f"文字过长，上限 {_settings().search.max_query_chars * 20} 字")
    if not text.isascii() and _LONE_SURROGATE.search(text):  # JSON "\ud800" decodes to text no encoder accepts
        raise QueryError("文字含有无效字符（不成对的 UTF-16 代理码位）")
    return jsonify(_engine().similar_text(text, limit=_limit(data.get("limit"))))


def _json_object() -> dict[str, Any]:
    """The body as a JSON object; malformed or absurdly nested JSON is a 400, not a 500."""
    try:
        body = json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, RecursionError):
        raise QueryError("请求体不是有效的 JSON") from None
    if not isinstance(body, dict):
        raise QueryError('请求体应为 JSON 对象，如 {"text": "……"}')
    return body


def _limit(raw: Any) -> int | None:
    if raw in (None, ""):
        return None
    if not re.fullmatch(r"\d{1,6}", str(raw)) or int(raw) < 1:
        raise QueryError("参数 limit 应为正整数")
    return int(raw)


@api.get("/units")
def units() -> Any:
    return jsonify({"units": _engine().unit_counts()})


@api.get("/units/<path:name>")
def unit_items(name: str) -> Any:
    """A unit's items by date (the unit page's data); any spelling of the unit, or 无单位."""
    req = parse_listing_request(request.args, _settings().search.max_limit)
    found = _engine().unit_items(name, limit=req.limit, offset=req.offset, sort=req.sort)
    if not found["total"]:
        return error_response(404, "not_found", f"索引中没有单位“{name[:40]}”的条目")
    return jsonify(found)


@api.get("/stats")
def stats() -> Any:
    return jsonify(_engine().stats())


@api.get("/health")
def health() -> Any:
    service = service_of(current_app)
    service.refresh()
    try:
        engine = service.engine
    except ServiceUnavailable as exc:
        response = jsonify({"status": "error", "error": {"code": "index_unavailable", "message": str(exc)}})
        response.status_code = 503
        return response
    if service.error:  # a newer index failed to open: still serving the last good one
        return jsonify({"status": "degraded", "items": engine.snapshot.count, "generation": engine.manifest.generation,
                        "error": {"code": "index_unavailable", "message": service.error}})
    return jsonify({"status": "ok", "items": engine.snapshot.count, "generation": engine.manifest.generation})


@api.get("/openapi.json")
def openapi() -> Any:
    return jsonify(openapi_document(_settings(), server_url=request.host_url.rstrip("/")))


@api.post("/index")
def upload() -> Any:
    """Index an uploaded bulletin file: off unless web.allow_upload; needs the admin token."""
    settings = _settings()
    if not settings.web.allow_upload:
        return error_response(403, "forbidden", "网页上传已关闭（config.toml 中 web.allow_upload = false）")
    token = current_app.config.get("ADMIN_TOKEN") or ""
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() or request.headers.get("X-Admin-Token", "")
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        return error_response(401, "unauthorized", "管理令牌缺失或错误")
    from .upload import index_upload

    request.max_content_length = settings.web.max_upload_mb * 1024 * 1024
    return index_upload(request, settings, service_of(current_app))
