"""How values read on a page (Jinja filters)."""
from __future__ import annotations

import datetime as dt
from pathlib import PurePath
from urllib.parse import urlsplit


def local_time(iso: str | None) -> str:
    """2026-11-21T19:58:26+00:00 -> 2026年11月21日 19:58 in the server's time zone (what the office sees)."""
    if not iso:
        return "—"
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    local = moment.astimezone() if moment.tzinfo else moment
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def basename(path: str) -> str:
    """A file's name without the server's folders (which pages never show)."""
    return PurePath(path.replace("\\", "/")).name


def web_url(value: object) -> bool:
    """Only http(s) addresses become links: a record's url column could hold javascript: or file:."""
    return isinstance(value, str) and urlsplit(value.strip()).scheme.lower() in ("http", "https") and "//" in value
