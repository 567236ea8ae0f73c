"""Flask app factory: one SearchService per app, pages and JSON API as blueprints."""
from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from search.config import Settings, load_settings
from search.service import SearchService

SERVICE_KEY = "bulletin.service"
ADMIN_TOKEN_ENV = "BULLETIN_ADMIN_TOKEN"

# Scripts, styles and images only from this site; no inline code, no framing, no plugins.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def create_app(settings: Settings | None = None, service: SearchService | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.web.max_body_kb * 1024
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["BULLETIN_SETTINGS"] = settings
    app.config["ADMIN_TOKEN"] = os.environ.get(ADMIN_TOKEN_ENV) or settings.web.admin_token
    app.extensions[SERVICE_KEY] = service or SearchService(settings)

    from .api import api
    from .cors import enable_cors
    from .formatting import basename, local_time, web_url
    from .pages import pages

    app.register_blueprint(api, url_prefix="/api")
    app.register_blueprint(pages)
    app.add_template_filter(local_time)
    app.add_template_filter(basename)
    app.add_template_test(web_url)
    enable_cors(app, settings.web.cors_origins)

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        return error_response(exc.code or 500, _code(exc.code or 500), _message(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        app.logger.exception("unexpected error")
        return error_response(500, "internal_error", "服务器内部错误，请稍后再试；如果反复出现，请联系管理员。")

    return app


def service_of(app: Flask) -> SearchService:
    return app.extensions[SERVICE_KEY]


_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          413: "payload_too_large", 415: "unsupported_media_type", 500: "internal_error", 503: "unavailable"}
_MESSAGES = {404: "找不到这个页面或条目", 405: "不支持这种请求方法", 413: "请求内容过大",
             400: "请求参数有误", 401: "需要有效的管理令牌", 403: "不允许此操作"}


def _code(status: int) -> str:
    return _CODES.get(status, "error")


def _message(exc: HTTPException) -> str:
    status = exc.code or 500
    if status == 413:
        limit = request.max_content_length
        return f"请求内容过大（上限 {limit // 1024} KB）" if limit else _MESSAGES[413]
    return _MESSAGES.get(status, exc.description or "请求失败")


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json")


def error_response(status: int, code: str, message: str) -> Any:
    """JSON {"error": {"code", "message"}} for the API, a Chinese error page for people."""
    if wants_json():
        response = jsonify({"error": {"code": code, "message": message}})
        response.status_code = status
        return response
    return render_template("error.html", status=status, message=message), status
