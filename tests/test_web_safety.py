"""Hostile text never executes; uploads are off by default and need the token when on."""
from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest

from indexer.build import build
from search.service import SearchService
from web import create_app

HOSTILE_TITLE = '<script>alert("title")</script>区城管局融资试点'
HOSTILE_TEXT = '一是<img src=x onerror="alert(1)">网格化管理。二是</textarea><script>alert(2)</script>融资对接。'


@pytest.fixture(scope="module")
def hostile_settings(tmp_path_factory, settings):
    folder = tmp_path_factory.mktemp("hostile")
    rows = [{"title": HOSTILE_TITLE, "text": HOSTILE_TEXT, "unit": "<b>区城管局</b>", "date": "2024-09-01"},
            {"title": "区司法局法律服务进企业", "text": "一是开展法律体检。二是提供融资合规咨询。", "unit": "区司法局", "date": "2024-09-02"}]
    (folder / "hostile.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    cfg = settings.with_index(folder / "ix")
    build([folder / "hostile.jsonl"], cfg)
    return cfg


@pytest.fixture(scope="module")
def hostile_client(hostile_settings, engine):
    return create_app(hostile_settings, SearchService(hostile_settings, embedder=engine.embedder)).test_client()


def test_stored_html_is_escaped_in_pages(hostile_client):
    page = hostile_client.get("/search?q=融资").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in page or "&lt;script&gt;alert(" in page
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>区城管局</b>" not in page
    item_id = hostile_client.get("/api/search?q=融资").get_json()["results"][0]["id"]
    item_page = hostile_client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "<script>alert" not in item_page and "</textarea><script>" not in item_page
    assert "&lt;/textarea&gt;&lt;script&gt;" in item_page


def test_query_html_is_escaped(hostile_client):
    page = hostile_client.get('/search?q=<script>alert("q")</script>融资').get_data(as_text=True)
    assert '<script>alert("q")' not in page and "&lt;script&gt;" in page
    data = hostile_client.get('/api/search?q=<script>alert("q")</script>融资').get_json()
    assert data["query"] == '<script>alert("q")</script>融资'  # JSON carries it as data, not markup


def test_json_snippets_are_escaped(hostile_client):
    results = hostile_client.get("/api/search?q=网格 融资").get_json()["results"]
    snippets = " ".join(r["snippet"] for r in results)
    assert "<script" not in snippets and "<img" not in snippets
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in snippets and "<mark>" in snippets


@pytest.fixture
def upload_settings(tmp_path, hostile_settings):
    ix = tmp_path / "ix"
    import shutil

    shutil.copytree(hostile_settings.index.path, ix)
    cfg = hostile_settings.with_index(ix)
    return replace(cfg, web=replace(cfg.web, allow_upload=True, admin_token="s3cret-token", max_upload_mb=1))


def _upload(client, name, data, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/index", data={"file": (io.BytesIO(data), name)}, headers=headers, content_type="multipart/form-data")


def test_upload_is_off_by_default(hostile_client, sample_dir):
    r = _upload(hostile_client, "a.txt", (sample_dir / "003_130ae1c1cc3f7681.txt").read_bytes(), token="anything")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"


def test_upload_needs_the_token(upload_settings, engine, sample_dir, monkeypatch):
    monkeypatch.delenv("BULLETIN_ADMIN_TOKEN", raising=False)
    service = SearchService(upload_settings, embedder=engine.embedder)
    client = create_app(upload_settings, service).test_client()
    bulletin = (sample_dir / "003_130ae1c1cc3f7681.txt").read_bytes()
    for token in (None, "wrong", "s3cret-token " * 2):
        r = _upload(client, "b.txt", bulletin, token)
        assert r.status_code == 401 and r.is_json
    assert client.get("/api/stats").get_json()["items"] == 2  # nothing indexed
    assert _upload(client, "evil.exe", b"MZ...", "s3cret-token").status_code == 415
    assert _upload(client, "junk.txt", b"\x00\x01\x02" * 100, "s3cret-token").status_code == 400
    too_big = _upload(client, "big.txt", b"a" * (2 * 1024 * 1024), "s3cret-token")
    assert too_big.status_code == 413
    assert client.get("/api/stats").get_json()["items"] == 2
    ok = _upload(client, "../../上街信息45.txt", bulletin, "s3cret-token")
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["added"] == 9
    assert client.get("/api/stats").get_json()["items"] == 11  # the service saw the new generation
    uploads = list((upload_settings.index.path / "uploads").iterdir())
    assert len(uploads) == 1 and ".." not in uploads[0].name


def test_health_reports_a_missing_index(tmp_path, settings, engine):
    cfg = settings.with_index(tmp_path / "none")
    client = create_app(cfg, SearchService(cfg, embedder=engine.embedder)).test_client()
    r = client.get("/api/health")
    assert r.status_code == 503 and r.get_json()["status"] == "error"
    page = client.get("/search?q=融资")
    assert page.status_code == 503 and "索引暂不可用" in page.get_data(as_text=True)
    assert client.get("/api/search?q=融资").get_json()["error"]["code"] == "index_unavailable"
