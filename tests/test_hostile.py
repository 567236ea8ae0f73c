"""Hostile and malformed input: property-based tests on the parser and the query side, and
raw HTTP against the real waitress server. Nothing escapes as an exception or a traceback."""
from __future__ import annotations

import collections
import datetime as dt
import functools
import http.client
import io
import json
import os
import re
import shutil
import sys
import time
import urllib.parse
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from bench.queries import QUERIES
from indexer.bulletin import parse_text
from indexer.decode import DecodeError, decode_text
from indexer.sources import SourceError, read_document
from search.query import QueryError, parse_query

BULLETIN = Path(sys.executable).parent / "bulletin"
# CI runs ~150 inputs per property. `make fuzz` (python -m reliability.fuzz) sets HYPOTHESIS_PROFILE=long:
# HYPOTHESIS_EXAMPLES inputs per property (100,000 by default), no example database, no time limits.
LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
LONG_EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "100000"))
hsettings.register_profile("long", max_examples=LONG_EXAMPLES, deadline=None, database=None,
                           suppress_health_check=list(HealthCheck))
if LONG:
    hsettings.load_profile("long")


def _examples(ci: int, long: int = LONG_EXAMPLES) -> hsettings:
    return hsettings(max_examples=long if LONG else ci, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


FAST = _examples(150)
EXAMPLES: collections.Counter[str] = collections.Counter()  # inputs each property was called with (read by reliability/fuzz.py)


def counted(test):
    """Count the inputs hypothesis feeds a property (under @given, so once per generated example)."""
    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        EXAMPLES[test.__name__] += 1
        return test(*args, **kwargs)
    return wrapper

# Text that looks like bulletins: Chinese, markup, parentheses, quotes, the markers the parser keys on.
PIECES = st.sampled_from(["上街信息", "第 37 期", "2024 年 6 月 28 日", "**", "###", "△", "（", "）", "(", ")", "“", "”",
                          "一是", "。", "，", "、", "\n", "\n\n", "\n\n\n\n", " ", "　", "本期送：", "记者 王", "文/图",
                          "区司法局", "融资", "---", "\x00", "\x1b", "\ufeff", "\u202e", "🙂", "&<>\"'"])
BULLETIN_TEXT = st.lists(st.one_of(PIECES, st.text(max_size=30)), max_size=80).map("".join)


@FAST
@given(BULLETIN_TEXT)
@counted
def test_parser_never_raises(text):
    for item in parse_text(text, "fuzz.txt", 40):
        assert re.fullmatch(r"[0-9a-f]{16}", item.id)
        assert item.text.strip() and item.kind in ("measure", "brief", "article")
        assert item.date is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", item.date)


@FAST
@given(st.text(max_size=2000))
@counted
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
@counted
def test_decoder_returns_text_or_a_clear_error(data):
    try:
        text, encoding = decode_text(data)
        assert isinstance(text, str) and encoding
    except DecodeError as exc:
        assert str(exc)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@FAST
@given(st.binary(max_size=3000), st.sampled_from([".txt", ".md", ".docx", ".pdf", ".jsonl", ".csv", ".bin", ".doc", ".wps", ".ofd",
                                                    ".html", ".mht", ".png", ".tif"]))
@counted
def test_readers_return_a_document_or_a_clear_error(fuzz_dir, data, suffix):
    path = fuzz_dir / ("f" + suffix)  # one folder for all inputs: 100,000 temporary folders would be slow to number
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
@counted
def test_query_parsing_never_raises_unexpectedly(engine, text):
    try:
        parsed = parse_query(text, engine.analyzer, 500)
        assert isinstance(parsed.alternatives, list) and all(alt for alt in parsed.alternatives)
    except QueryError as exc:
        assert str(exc)


@_examples(60, long=max(1, LONG_EXAMPLES // 100))  # each input embeds a query of up to 600 characters: ~0.5 s
@given(QUERY_TEXT, st.sampled_from(["keyword", "hybrid", "semantic"]))
@counted
def test_search_never_raises_unexpectedly(engine, text, mode):
    try:
        result = engine.search(text, mode=mode, limit=5)
        assert result["total"] >= len(result["results"])
        for r in result["results"]:
            assert "<script>" not in r["snippet"]
    except QueryError as exc:
        assert str(exc)


# Every query parameter of the search, suggest, similar, issue and export URLs, with valid, edge and
# arbitrary values (repeated and unknown names too): a 400 with a JSON error or a page, never a 5xx,
# and every JSON 200 valid against the OpenAPI document.
HTTP_PATHS = ("/api/search", "/api/search", "/api/suggest", "/api/items/{id}/similar", "/api/items/{id}", "/search",
              "/export.csv", "/issue", "/api/units", "/api/units/{unit}", "/units/{unit}", "/api/stats")
HTTP_UNITS = st.one_of(st.sampled_from(["区司法局", "区城管局", "区域管局", "先进制造业开发区", "无单位", "无日期", "%2e%2e", "a/b"]),
                       st.text(min_size=1, max_size=20).filter(lambda u: "/" not in u and "?" not in u and "#" not in u))
HTTP_NAMES = ("q", "mode", "units", "unit", "from", "to", "year", "month", "kind", "series", "issue", "limit", "offset",
              "sort", "page", "other_units", "date", "x")
HTTP_VALUES = st.one_of(
    QUERY_TEXT,
    st.sampled_from(["hybrid", "keyword", "semantic", "measure", "brief", "article", "newest", "oldest", "relevance",
                     "2024", "2024-06", "2024-13", "2024-06-28", "2024-02-30", "0000-00-00", "无日期", "无单位", "区司法局",
                     "上街信息", "0", "1", "-1", "20", "100", "101", "999999999", "1e3", "NaN", " 5 ", "true", "", "%00"]),
    st.integers(-10**12, 10**12).map(str),
    st.text(max_size=40),
)
DATES = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31)).map(str)
PLAUSIBLE = {  # mostly valid values, so that most requests get past validation into the engine
    "mode": st.sampled_from(["hybrid", "keyword", "semantic"]), "units": st.sampled_from(["区司法局", "区城管局,区财政局", "无单位"]),
    "from": DATES, "to": DATES, "year": st.sampled_from(["2023", "2024", "无日期"]),
    "month": st.sampled_from(["2024-06", "2023-12", "2024-01"]), "kind": st.sampled_from(["measure", "brief", "article"]),
    "sort": st.sampled_from(["relevance", "newest", "oldest"]), "limit": st.integers(1, 100).map(str),
    "offset": st.integers(0, 200).map(str), "page": st.integers(1, 20).map(str), "series": st.just("上街信息"),
    "issue": st.integers(0, 60).map(str), "other_units": st.sampled_from(["1", "0", "true"]),
}
PLAUSIBLE_PARAMS = st.fixed_dictionaries({"q": st.one_of(*[st.sampled_from(QUERIES)] * 7, QUERY_TEXT)},  # known queries' vectors are cached
                                         optional={k: st.one_of(*[v] * 9, HTTP_VALUES) for k, v in PLAUSIBLE.items()}).map(lambda d: list(d.items()))
HTTP_PARAMS = st.one_of(PLAUSIBLE_PARAMS, PLAUSIBLE_PARAMS, PLAUSIBLE_PARAMS,
                        st.lists(st.tuples(st.sampled_from(HTTP_NAMES), HTTP_VALUES), max_size=8))  # or anything at all
HTTP_SCHEMAS = {"/api/search": "SearchResponse", "/api/suggest": "SuggestResponse", "/api/items/{id}/similar": "SimilarResponse",
                "/api/items/{id}": "Item", "/api/units": "Units", "/api/units/{unit}": "UnitItems", "/api/stats": "Stats"}


@pytest.fixture(scope="module")
def api_validators(app):
    import jsonschema
    from referencing import Registry, Resource

    from web.openapi import openapi_document

    spec = openapi_document(app.config["BULLETIN_SETTINGS"])
    registry = Registry().with_resource("urn:api", Resource.from_contents({**spec, "$schema": "https://json-schema.org/draft/2020-12/schema"}))
    return {name: jsonschema.Draft202012Validator({"$ref": f"urn:api#/components/schemas/{name}"}, registry=registry)
            for name in set(HTTP_SCHEMAS.values()) | {"Error"}}


@FAST
@given(st.sampled_from(HTTP_PATHS), HTTP_PARAMS, st.sampled_from(["", "0123456789abcdef", "zz", "%2e%2e"]), HTTP_UNITS)
@counted
def test_http_parameters_never_give_5xx(app, engine, api_validators, path, params, item_id, unit):
    real_id = engine.search("融资", mode="keyword", limit=1)["results"][0]["id"]
    url = path.replace("{id}", item_id or real_id).replace("{unit}", urllib.parse.quote(unit))
    response = app.test_client().get(url, query_string=params)
    assert response.status_code < 500, (url, params, response.status_code, response.get_data()[:300])
    body = response.get_data()
    assert b"Traceback" not in body
    if path.startswith("/api/") and not 300 <= response.status_code < 400:  # an alias redirects to its unit
        data = json.loads(body)
        if response.status_code == 200:
            api_validators[HTTP_SCHEMAS[path]].validate(data)
        else:
            api_validators["Error"].validate(data)


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


@pytest.mark.subprocess
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
