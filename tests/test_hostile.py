"""Hostile and malformed input: property-based tests on the parser and the query side, and
raw HTTP against the real waitress server. Nothing escapes as an exception or a traceback."""
from __future__ import annotations

import http.client
import io
import json
import re
import shutil
import sys
import time
import urllib.parse
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from indexer.bulletin import parse_text
from indexer.decode import DecodeError, decode_text
from indexer.sources import SourceError, read_document
from search.query import QueryError, parse_query

BULLETIN = Path(sys.executable).parent / "bulletin"
FAST = hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# Text that looks like bulletins: Chinese, markup, parentheses, quotes, the markers the parser keys on.
PIECES = st.sampled_from(["上街信息", "第 37 期", "2024 年 6 月 28 日", "**", "###", "△", "（", "）", "(", ")", "“", "”",
                          "一是", "。", "，", "、", "\n", "\n\n", "\n\n\n\n", " ", "　", "本期送：", "记者 王", "文/图",
                          "区司法局", "融资", "---", "\x00", "\x1b", "\ufeff", "\u202e", "🙂", "&<>\"'"])
BULLETIN_TEXT = st.lists(st.one_of(PIECES, st.text(max_size=30)), max_size=80).map("".join)


@FAST
@given(BULLETIN_TEXT)
def test_parser_never_raises(text):
    for item in parse_text(text, "fuzz.txt", 40):
        assert re.fullmatch(r"[0-9a-f]{16}", item.id)
        assert item.text.strip() and item.kind in ("measure", "brief", "article")
        assert item.date is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", item.date)


@FAST
@given(st.text(max_size=2000))
def test_parser_on_any_unicode(text):
    parse_text(text, "fuzz.txt", 40)


@pytest.mark.parametrize("text", [
    "融" * 1_000_000,  # one huge line
    "（" * 20_000 + "区司法局" + "）" * 20_000,  # deep brackets
    "“" * 20_000 + "”" * 20_000,
    "**" * 30_000,
    "\n" * 200_000,
    "上街信息\n第 1 期\n" * 5_000,  # many empty headers
    "".join(chr(c) for c in range(1, 32)) * 1_000,
])
def test_parser_on_extreme_inputs(text):
    start = time.perf_counter()
    parse_text(text, "extreme.txt", 40)
    assert time.perf_counter() - start < 30


@FAST
@given(st.binary(max_size=4000))
def test_decoder_returns_text_or_a_clear_error(data):
    try:
        text, encoding = decode_text(data)
        assert isinstance(text, str) and encoding
    except DecodeError as exc:
        assert str(exc)


@FAST
@given(st.binary(max_size=3000), st.sampled_from([".txt", ".md", ".docx", ".pdf", ".jsonl", ".csv", ".bin", ".doc", ".wps", ".ofd",
                                                    ".html", ".mht", ".png", ".tif"]))
def test_readers_return_a_document_or_a_clear_error(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fuzz") / ("f" + suffix)
    path.write_bytes(data)
    try:
        read_document(path, 10 * 1024 * 1024)
    except SourceError as exc:
        assert str(exc)


def test_mixed_encodings_in_one_file(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes("上街信息 第 1 期".encode("utf-8") + "区司法局融资".encode("gb18030") + "（区城管局）".encode("utf-16"))
    with pytest.raises(SourceError):
        read_document(path, 10 * 1024 * 1024)


QUERY_TEXT = st.lists(st.one_of(st.sampled_from(['"', "“", "”", "-", "--", "(", ")", "（", "）", " ", "融资", "网格", "\x00",
                                                 "\u200b", "<script>", "&", "*", "?", "OR", "AND", "NOT"]),
                                st.text(max_size=10)), max_size=60).map("".join)


@FAST
@given(QUERY_TEXT)
def test_query_parsing_never_raises_unexpectedly(engine, text):
    try:
        parsed = parse_query(text, engine.analyzer, 500)
        assert isinstance(parsed.alternatives, list) and all(alt for alt in parsed.alternatives)
    except QueryError as exc:
        assert str(exc)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(QUERY_TEXT, st.sampled_from(["keyword", "hybrid", "semantic"]))
def test_search_never_raises_unexpectedly(engine, text, mode):
    try:
        result = engine.search(text, mode=mode, limit=5)
        assert result["total"] >= len(result["results"])
        for r in result["results"]:
            assert "<script>" not in r["snippet"]
    except QueryError as exc:
        assert str(exc)


# ---------------------------------------------------------------- raw HTTP against waitress
def raw(url: str, method: str = "GET", path: str = "/", body: bytes | None = None, headers: dict | None = None,
        timeout: float = 60) -> tuple[int, bytes, dict]:
    parsed = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    conn.putrequest(method, path, skip_accept_encoding=True)
    for key, value in (headers or {}).items():
        conn.putheader(key, value)
    if body is not None and "Content-Length" not in (headers or {}):
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    if body:
        try:
            conn.send(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data, dict(response.getheaders())


@pytest.mark.parametrize("path, statuses", [
    ("/api/search?q=" + "融" * 20_000, {400}),
    ("/api/search?q=" + "a" * 200_000, {400, 414, 431}),
    ("/api/search?q=融资&limit=1e30", {400}),
    ("/api/search?q=融资&limit=99999999999999999999", {400}),
    ("/api/search?q=融资&offset=NaN", {400}),
    ("/api/search?q=%00%00融资", {200}),
    ("/api/search?q=%ff%fe", {200, 400}),
    ("/api/search?q=融资&from=2024-02-30", {400}),
    ("/api/search?q=融资&mode=%3Cscript%3E", {400}),
    ("/api/search?q=融资&units=" + "区,".join(["x"] * 5000), {200}),
    ("/api/items/..%2F..%2Fetc%2Fpasswd", {404}),
    ("/api/items/%2e%2e/%2e%2e/config.toml", {404}),
    ("/static/../config.toml", {404}),
    ("/static/..%2F..%2Fconfig.toml", {404}),
    ("/items/<script>alert(1)</script>", {404}),
    ("/issue?issue=../../etc", {400}),
])
def test_malformed_requests(live_server, path, statuses):
    status, body, headers = raw(live_server, path=urllib.parse.quote(path, safe="/?=&%:,"))
    assert status in statuses, (path[:80], status, body[:200])
    assert b"Traceback" not in body and b"root:" not in body and b"[index]" not in body
    if path.startswith("/api/") and status != 414 and status != 431:
        json.loads(body)


def test_oversized_and_malformed_bodies(live_server):
    status, body, _ = raw(live_server, "POST", "/api/similar", b'{"text": "' + "融".encode() * 200_000 + b'"}',
                          {"Content-Type": "application/json"})
    assert status == 413 and json.loads(body)["error"]["code"] == "payload_too_large"
    status, body, _ = raw(live_server, "POST", "/api/similar", b'{"text": [1, {"a": [[[[[[[[[]]]]]]]]]}]}',
                          {"Content-Type": "application/json"})
    assert status == 400
    status, body, _ = raw(live_server, "POST", "/api/similar", b"[" * 100_000, {"Content-Type": "application/json"})
    assert status in (400, 413) and b"Traceback" not in body


def _zip_bomb() -> bytes:
    """A .docx whose one part unpacks to 1 GiB of zeros (about 1 MB on the wire)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            chunk = b"\0" * (1 << 20)
            for _ in range(1024):
                part.write(chunk)
    return out.getvalue()


@pytest.fixture(scope="module")
def upload_server(tmp_path_factory, sample_index, settings):
    """A real `bulletin serve` with uploads on, over a copy of the sample index."""
    from bench.server import running_server

    folder = tmp_path_factory.mktemp("upload")
    shutil.copytree(sample_index.index.path, folder / "ix")
    config = folder / "config.toml"
    config.write_text(f'[index]\npath = "ix"\n[embedding]\ncache_dir = "{settings.embedding.cache_dir}"\n'
                      '[web]\nallow_upload = true\nadmin_token = "hostile-test-token"\nmax_upload_mb = 5\n', encoding="utf-8")
    with running_server(folder / "ix", config) as (proc, base):
        yield proc, base, folder / "ix"


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "----bulletin-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _rss_mb(pid: int) -> float:
    return int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024


def test_upload_limits_on_a_real_server(upload_server):
    proc, base, index = upload_server
    token = {"Authorization": "Bearer hostile-test-token"}
    items = lambda: json.loads(raw(base, path="/api/stats")[1])["items"]  # noqa: E731
    before = items()

    body, ctype = _multipart("bomb.docx", _zip_bomb())
    rss_before = _rss_mb(proc.pid)
    status, data, _ = raw(base, "POST", "/api/index", body, {**token, "Content-Type": ctype})
    assert status == 400 and "压缩炸弹" in json.loads(data)["error"]["message"]
    assert _rss_mb(proc.pid) - rss_before < 300  # never unpacked

    # A 1 GB upload is refused from its Content-Length, before the body is read.
    start = time.perf_counter()
    status, data, _ = raw(base, "POST", "/api/index", b"x" * 1024,
                          {**token, "Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(1 << 30)}, timeout=30)
    assert status == 413 and time.perf_counter() - start < 10

    body, ctype = _multipart("../../../etc/cron.d/evil.txt", b"\x00\x01\x02binary")
    status, data, _ = raw(base, "POST", "/api/index", body, {**token, "Content-Type": ctype})
    assert status == 400
    body, ctype = _multipart("x.txt", "上街信息\n第 1 期\n2024 年 1 月 1 日\n**标题测试条目名称** 正文。".encode())
    assert raw(base, "POST", "/api/index", body, {"Authorization": "Bearer forged", "Content-Type": ctype})[0] == 401
    assert raw(base, "POST", "/api/index", body, {"Content-Type": ctype})[0] == 401
    assert items() == before
    uploads = index / "uploads"
    assert not uploads.exists() or not any(p.suffix != ".part" and p.stat().st_size for p in uploads.iterdir())
    assert not Path("/etc/cron.d/evil.txt").exists()
