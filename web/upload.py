"""Indexing an uploaded file (opt-in, token-protected): the one place web/ reaches indexer/."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import jsonify
from werkzeug.utils import secure_filename

from indexer.build import build
from indexer.sources import SUPPORTED_SUFFIXES
from search.config import Settings
from search.service import SearchService

from . import error_response

UPLOADS = "uploads"


def index_upload(request: Any, settings: Settings, service: SearchService) -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return error_response(400, "bad_request", "缺少上传文件（表单字段 file）")
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return error_response(415, "unsupported_media_type", f"不支持的文件类型 {suffix or '（无扩展名）'}；可上传 {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    data = upload.read()
    digest = hashlib.sha1(data).hexdigest()[:12]
    name = secure_filename(upload.filename) or f"upload{suffix}"
    if not name.lower().endswith(suffix):
        name += suffix
    folder = Path(settings.index.path) / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{digest}-{name}"
    tmp = target.with_name("." + target.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(target)
    report = build([target], settings, embedder=service.embedder)
    if report.failed:
        target.unlink(missing_ok=True)
        return error_response(400, "unreadable_file", f"文件无法解析：{report.failed[0].error}")
    service.refresh()
    return jsonify({"file": upload.filename, "added": report.added, "updated": report.updated,
                    "unchanged": report.unchanged, "total": report.total})
