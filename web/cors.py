"""CORS for /api/: scripts on the origins listed in web.cors_origins may call the API; no one else.

flask-cors answers preflight requests (OPTIONS with Access-Control-Request-Method) and adds
Access-Control-Allow-Origin only when the request's Origin is listed. `Vary: Origin` goes on
every API response whenever CORS is on, so a shared cache never hands one origin's answer
(with or without the allow header) to another.
"""
from __future__ import annotations

from flask import Flask, Response, request
from flask_cors import CORS

API_PATHS = r"/api/*"
METHODS = ["GET", "POST", "OPTIONS"]
ALLOW_HEADERS = ["Content-Type", "Authorization"]
PREFLIGHT_CACHE_SECONDS = 600  # how long a browser may reuse a preflight answer


def enable_cors(app: Flask, origins: tuple[str, ...]) -> None:
    if not origins:
        return  # the default: same-origin only, no CORS headers at all
    CORS(app, resources={API_PATHS: {"origins": list(origins)}}, methods=METHODS, allow_headers=ALLOW_HEADERS,
         max_age=PREFLIGHT_CACHE_SECONDS, supports_credentials=False, vary_header=True)

    @app.after_request
    def _vary(response: Response) -> Response:
        if request.path.startswith("/api/"):
            response.vary.add("Origin")
        return response
