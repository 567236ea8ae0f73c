"""Pages and API details a daily user meets (issue 11): messages, long queries, empty results,
exports, local times, source links, the year chart, CORS, the OpenAPI document and the README client."""
from __future__ import annotations

from urllib.parse import quote

import datetime as dt
import html
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import replace

import pytest

from .inputs import indexed_items
from markupsafe import escape

from search.config import PROJECT_ROOT
from search.service import SearchService
from web import create_app
from web.charts import time_chart


def page(client, path: str, **kw) -> str:
    return client.get(path, **kw).get_data(as_text=True)


# ------------------------------------------------------------------ parameter messages
@pytest.mark.parametrize("query, message", [
    ("offset=-1", "参数 offset 不能小于 0"),
    ("limit=0", "参数 limit 不能小于 1"),
    ("limit=101", "参数 limit 不能大于 100"),
    ("limit=abc", "参数 limit 应为整数，而不是“abc”"),
    ("issue=-3", "参数 issue 不能小于 0"),
    ("mode=fuzzy", "未知的检索模式“fuzzy”，可选：hybrid、keyword、semantic"),
    ("kind=poem", "未知的类型“poem”，可选：measure、brief、article"),
    ("from=2024-13-01", "参数 from 不是有效日期：“2024-13-01”"),
    ("to=yesterday", "参数 to 的日期格式应为 YYYY-MM-DD，而不是“yesterday”"),
    ("year=24", "参数 year 应为四位年份或“无日期”，而不是“24”"),
    ("month=2024-13", "参数 month 应为 YYYY-MM（如 2024-06），而不是“2024-13”"),
    ("from=" + "9" * 40, "而不是“" + "9" * 20 + "…”"),
])
def test_parameter_errors_are_well_formed_chinese(client, query, message):
    r = client.get("/api/search?q=融资&" + query)
    text = r.get_json()["error"]["message"]
    assert r.status_code == 400 and (text == message or text.endswith(message))
    assert "'" not in text and "以上 之间" not in text  # no Python reprs, no garbled ranges
    if not query.startswith(("offset", "limit")):  # the page uses page=, not offset/limit
        shown = page(client, "/search?q=融资&" + query)
        assert html.escape(message, quote=False) in shown


def test_similar_limit_message(client, engine):
    r = client.get(f"/api/items/{indexed_items(engine)[0].id}/similar?limit=0")
    assert r.status_code == 400 and r.get_json()["error"]["message"] == "参数 limit 应为正整数"


def test_month_filter(client):
    data = client.get("/api/search?q=服务&month=2024-06&limit=50").get_json()
    assert data["total"] and all(r["date"].startswith("2024-06") for r in data["results"])
    shown = page(client, "/search?q=服务&month=2024-06")
    assert "已筛选：2024年6月" in shown and 'name="month" value="2024-06"' in shown


# ------------------------------------------------------------------ long query -> draft check
def test_a_paragraph_over_the_limit_is_offered_to_the_draft_check(client, settings):
    text = ("组织召开政银企座谈会，邀请银行走进企业，一对一开展融资服务，帮助中小微企业解决贷款难题。" * 20)[:600]
    assert len(text) > settings.search.max_query_chars
    r = client.get("/search", query_string={"q": text})
    shown = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="too-long"' in shown and "Traceback" not in shown
    assert f'name="q" id="q" value="{text}"' in shown  # the text stays in the box
    assert f'<input type="hidden" name="text" value="{text}">' in shown and 'action="/draft"' in shown
    draft = client.post("/draft", data={"text": text}).get_data(as_text=True)
    assert text in draft and 'id="draft-results"' in draft
    api = client.get("/api/search", query_string={"q": text})
    assert api.status_code == 400 and "查询过长" in api.get_json()["error"]["message"]


# ------------------------------------------------------------------ empty results
def _empty_block(shown: str) -> str:
    return shown[shown.index('id="empty"'):shown.index('class="hits"')]


def test_empty_page_suggests_what_could_find_more(client):
    hybrid = _empty_block(page(client, "/search?q=xyzzy qwfp"))
    assert "mode=" not in hybrid  # hybrid already includes keyword and meaning matches
    assert "去掉 xyzzy" in hybrid and "去掉 qwfp" in hybrid and "q=qwfp" in hybrid
    keyword = _empty_block(page(client, "/search?q=xyzzy&mode=keyword"))
    assert "mode=hybrid" in keyword and "mode=semantic" in keyword and "综合检索" in keyword and "语义检索" in keyword
    assert "去掉 " not in keyword  # one word: nothing to drop
    semantic = _empty_block(page(client, "/search?q=xyzzy&mode=semantic"))
    assert "mode=hybrid" in semantic and "mode=keyword" in semantic and "mode=semantic" not in semantic
    filtered = _empty_block(page(client, "/search?q=xyzzy&unit=区司法局"))
    assert "去掉筛选条件" in filtered


# ------------------------------------------------------------------ exports, times
def test_word_export_names_mode_and_filters_in_chinese(client):
    import docx

    r = client.get("/export.docx?q=服务&mode=keyword&year=2024&kind=measure")
    paragraphs = [p.text for p in docx.Document(io.BytesIO(r.data)).paragraphs]
    assert "检索模式：关键词检索；筛选条件：2024年、工作动态" in paragraphs
    assert not any(w in " ".join(paragraphs[:3]) for w in ("keyword", "hybrid", "measure"))
    plain = [p.text for p in docx.Document(io.BytesIO(client.get("/export.docx?q=服务").data)).paragraphs]
    assert "检索模式：综合检索；筛选条件：无" in plain


def test_about_shows_local_time_in_chinese(client, engine):
    shown = page(client, "/about")
    local = dt.datetime.fromisoformat(engine.manifest.updated).astimezone()
    expected = f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    assert f'<dd id="updated">{expected}</dd>' in shown and engine.manifest.updated not in shown


# ------------------------------------------------------------------ item sources
def test_item_links_to_its_source_file(client, engine, sample_dir):
    item = next(i for i in indexed_items(engine) if i.source and i.source.line)
    shown = page(client, f"/items/{item.id}")
    name = os.path.basename(item.source.file)
    assert f'href="/items/{item.id}/source" class="source-file" download>{name}</a>' in shown
    assert str(sample_dir) not in shown  # no server folders on the page
    r = client.get(f"/items/{item.id}/source")
    assert r.status_code == 200 and r.data == (sample_dir / name).read_bytes()
    assert name in r.headers["Content-Disposition"] and r.headers["Content-Disposition"].startswith("attachment")
    assert client.get("/items/ffffffffffffffff/source").status_code == 404
    assert client.get("/items/..%2F..%2Fconfig.toml/source").status_code == 404


@pytest.fixture(scope="module")
def records_client(tmp_path_factory, settings, engine):
    from indexer.build import build

    folder = tmp_path_factory.mktemp("records")
    rows = [{"title": "区城管局网格化巡查", "text": "一是划分网格。二是定时巡查。", "unit": "区城管局", "date": "2024-09-01",
             "url": "https://www.example.gov.cn/xxgk/2024/0901.html?a=1&b=\"2\""},
            {"title": "区司法局法律服务进企业", "text": "一是开展法律体检。二是提供合规咨询。", "unit": "区司法局", "date": "2024-09-02",
             "url": "javascript:alert(1)"}]
    (folder / "rows.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    cfg = settings.with_index(folder / "ix")
    build([folder / "rows.jsonl"], cfg, embedder=engine.embedder)
    return create_app(cfg, SearchService(cfg, embedder=engine.embedder)).test_client()


def test_item_links_to_the_original_url_safely(records_client):
    from web import service_of

    ids = {i.title: i.id for i in indexed_items(service_of(records_client.application).engine)}
    shown = page(records_client, f"/items/{ids['区城管局网格化巡查']}")
    url = str(escape('https://www.example.gov.cn/xxgk/2024/0901.html?a=1&b="2"'))  # as Jinja escapes it
    assert f'<a href="{url}" class="source-url" rel="noopener noreferrer">{url}</a>' in shown
    assert "（第 1 行）" in shown
    hostile = page(records_client, f"/items/{ids['区司法局法律服务进企业']}")
    assert 'href="javascript:' not in hostile and '<span class="source-url">javascript:alert(1)</span>' in hostile


# ------------------------------------------------------------------ year / month chart
def test_chart_of_years_fills_gaps_and_links_each_year():
    chart = time_chart({"years": {"2024": 9, "2021": 3}}, None, None, lambda **kw: json.dumps(kw, sort_keys=True))
    assert [b.label for b in chart.bars] == ["2021", "2022", "2023", "2024"]
    assert [b.count for b in chart.bars] == [3, 0, 0, 9] and chart.bars[1].href is None
    assert json.loads(chart.bars[3].href) == {"year": "2024", "month": None, "from": None, "to": None}
    assert chart.bars[3].height == max(b.height for b in chart.bars) and chart.bars[0].name == "2021年：3 条"
    assert time_chart({"years": {"2024": 9}}, None, None, str) is None  # one bar says nothing
    assert time_chart({"years": {"2024": 9, "2023": 1}}, "2024", None, str) is None  # a year chosen, no months yet


def test_chart_of_months_when_one_year_is_chosen():
    facets = {"years": {"2024": 5}, "months": {"2024-06": 3, "2024-08": 2}}
    chart = time_chart(facets, "2024", "2024-06", lambda **kw: json.dumps(kw, sort_keys=True))
    assert [b.label for b in chart.bars] == [f"{m}月" for m in range(1, 13)]
    june, august = chart.bars[5], chart.bars[7]
    assert june.selected and json.loads(june.href) == {"month": None, "year": "2024"}  # click again: the whole year
    assert json.loads(august.href) == {"month": "2024-08", "year": "2024"} and august.name == "2024年8月：2 条"
    assert sum(b.href is not None for b in chart.bars) == 2


def test_chart_on_the_results_page(client, app, engine):
    result = engine.search("服务")
    shown = page(client, "/search?q=服务")
    chart = shown[shown.index('id="time-chart"'):shown.index("</figure>")]
    for year, n in result["facets"]["years"].items():
        name = f"{year}年" if year.isdigit() else year  # 无日期: the undated items, so the bars add up
        assert f'aria-label="{name}：{n} 条"' in chart and f"year={quote(year)}" in chart
    # months (when the engine's facets carry them) render through the same macro
    with app.test_request_context("/search?q=服务&year=2024"):
        from flask import render_template_string

        months = time_chart({"years": {"2024": 5}, "months": {"2024-06": 3, "2024-08": 2}}, "2024", None,
                            lambda **kw: "/search?" + "&".join(f"{k}={v}" for k, v in kw.items() if v))
        svg = render_template_string('{% from "macros.html" import time_chart %}{{ time_chart(c) }}', c=months)
    assert svg.count('<a class="bar') == 2 and 'href="/search?month=2024-08&amp;year=2024"' in svg and "12月" in svg


# ------------------------------------------------------------------ help text
def test_help_describes_the_query_syntax(client):
    shown = page(client, "/")
    helptext = shown[shown.index('id="syntax-help"'):shown.index("</details>", shown.index('id="syntax-help"'))]
    for part in ("每个都要满足", "任一即可", "<code>或</code>", "<code>OR</code>", "<code>|</code>", "完整短语", "排除"):
        assert part in helptext
    assert "空格分隔表示“或”" not in shown


# ------------------------------------------------------------------ CORS
@pytest.fixture(scope="module")
def cors_client(sample_index, service):
    cfg = replace(sample_index, web=replace(sample_index.web, cors_origins=("https://oa.example.gov.cn",)))
    return create_app(cfg, service).test_client()


def test_cors_preflight_only_for_listed_origins(cors_client, client):
    ok = cors_client.options("/api/similar", headers={"Origin": "https://oa.example.gov.cn",
                                                      "Access-Control-Request-Method": "POST",
                                                      "Access-Control-Request-Headers": "content-type"})
    assert ok.status_code == 200
    assert ok.headers["Access-Control-Allow-Origin"] == "https://oa.example.gov.cn"
    assert "POST" in ok.headers["Access-Control-Allow-Methods"] and "content-type" in ok.headers["Access-Control-Allow-Headers"].lower()
    assert int(ok.headers["Access-Control-Max-Age"]) > 0 and "Origin" in ok.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in ok.headers
    simple = cors_client.get("/api/search?q=融资", headers={"Origin": "https://oa.example.gov.cn"})
    assert simple.headers["Access-Control-Allow-Origin"] == "https://oa.example.gov.cn" and "Origin" in simple.headers["Vary"]
    error = cors_client.get("/api/search?q=", headers={"Origin": "https://oa.example.gov.cn"})
    assert error.status_code == 400 and error.headers["Access-Control-Allow-Origin"] == "https://oa.example.gov.cn"
    other = cors_client.options("/api/search", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in other.headers and "Origin" in other.headers["Vary"]
    assert "Access-Control-Allow-Origin" not in cors_client.get("/search?q=融资", headers={"Origin": "https://oa.example.gov.cn"}).headers
    default = client.options("/api/search", headers={"Origin": "https://oa.example.gov.cn", "Access-Control-Request-Method": "GET"})
    assert not any(h.startswith("Access-Control-") for h in default.headers.keys())  # none configured: no CORS at all


# ------------------------------------------------------------------ OpenAPI
def test_openapi_has_operation_ids_servers_and_is_valid(client):
    from openapi_spec_validator import validate

    spec = client.get("/api/openapi.json", base_url="http://search.intranet:8000").get_json()
    assert spec["servers"] == [{"url": "http://search.intranet:8000", "description": "本服务"}]
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids)) == sum(len(p) for p in spec["paths"].values())
    assert "/api/suggest" in spec["paths"] and "任一即可" in spec["paths"]["/api/search"]["get"]["description"]
    validate(spec)


# ------------------------------------------------------------------ README's client example
def readme_client_example() -> str:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- api-client-example -->\s*```python\n(.*?)```", text, re.S)
    assert found, "README has no marked Python client example"
    return found.group(1)


@pytest.mark.subprocess
def test_readme_client_example_runs(live_server):
    code = readme_client_example()
    assert "requests" not in code  # standard library only
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "BULLETIN_URL": live_server},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "区先进制造业开发区着力破解企业融资难题" in out.stdout
    assert "相似：" in out.stdout and "提示：" in out.stdout
    assert "单位： 区先进制造业开发区 3 ['2024-08-09', '2024-06-28', '2024-06-17']" in out.stdout
    assert not re.search(r"相似：.*\d\.\d\d", out.stdout)  # labels, not raw scores


# ------------------------------------------------------------------ units: aliases, unit pages
def unit_links(shown: str) -> dict[str, str]:
    from urllib.parse import unquote

    return {html.unescape(name): unquote(href) for href, name in re.findall(r'<li><a href="(/units/[^"]+)">([^<]+)</a>', shown)}


def hit_titles(shown: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<a class="title" href="[^"]+">([^<]+)</a>', shown)]


def hit_dates(shown: str) -> list[str]:
    hits = shown[shown.index('class="hits"'):]
    return [re.search(r'class="date">([^<]+)<', h).group(1) if 'class="date"' in h else "" for h in hits.split('<li class="hit">')[1:]]


def test_about_links_each_unit_to_its_page(client, engine):
    shown = page(client, "/about")
    links = unit_links(shown)
    assert set(links) == set(engine.stats()["units"]) and links["无单位"] == "/units/无单位"
    assert "区先进制造业开发区" in links and "先进制造业开发区" not in links and "区域管局" not in links  # one name per unit
    assert "/search?q=" not in shown[shown.index('class="unit-list"'):]  # no longer a search for the unit's name
    for name, href in links.items():
        unit = page(client, href)
        total = engine.stats()["units"][name]
        assert f'<h1>{name}' in unit and f'共 <strong>{total}</strong> 条' in unit and len(hit_titles(unit)) == total, name


def test_unit_page_lists_items_by_date_without_a_query(client, engine):
    shown = page(client, "/units/区先进制造业开发区")
    assert hit_titles(shown) == ["区先进制造业开发区加速推进重点项目建设", "区先进制造业开发区着力破解企业融资难题",
                                 "先进制造业开发区优化服务激发企业创新活力"]  # printed as 先进制造业开发区 once
    assert hit_dates(shown) == ["2024-08-09", "2024-06-28", "2024-06-17"]
    assert "2024-06-17 至 2024-08-09" in shown and "也写作：先进制造业开发区" in shown
    assert '<strong aria-current="true">最新</strong>' in shown and "?sort=oldest" in shown
    oldest = page(client, "/units/区先进制造业开发区?sort=oldest")
    assert hit_dates(oldest) == ["2024-06-17", "2024-06-28", "2024-08-09"]
    assert 'name="unit" value="区先进制造业开发区"' in shown and 'action="/search"' in shown  # search within the unit
    alias = client.get("/units/先进制造业开发区?sort=oldest")
    assert alias.status_code == 302 and alias.headers["Location"] == f"/units/{quote('区先进制造业开发区')}?sort=oldest"
    none = page(client, "/units/无单位")
    assert len(hit_titles(none)) == engine.stats()["units"]["无单位"] and "没有署报送单位" in none
    assert hit_dates(none)[-1] == ""  # undated items last
    missing = client.get("/units/区气象局")
    assert missing.status_code == 404 and "索引中没有单位“区气象局”的条目" in missing.get_data(as_text=True)
    bad = client.get("/units/区城管局?sort=relevance")
    assert bad.status_code == 400 and "未知的排序“relevance”，可选：newest、oldest" in bad.get_data(as_text=True)


@pytest.fixture(scope="module")
def small_pages(sample_index, service):
    """The app with two results a page, to page through a unit."""
    cfg = replace(sample_index, search=replace(sample_index.search, default_limit=2))
    return create_app(cfg, service).test_client()


def test_unit_pages_are_paged_and_keep_the_order(small_pages):
    first = page(small_pages, "/units/区先进制造业开发区?sort=oldest")
    assert hit_dates(first) == ["2024-06-17", "2024-06-28"]
    nxt = re.search(r'<a href="([^"]+)" rel="next">下一页</a>', first).group(1)
    assert html.unescape(nxt).endswith("?sort=oldest&page=2")
    second = page(small_pages, html.unescape(nxt))
    assert hit_dates(second) == ["2024-08-09"] and 'start="3"' in second


def test_result_units_link_to_unit_pages_and_aliases_filter(client, engine):
    shown = page(client, "/search?q=西瓜&unit=区域管局")  # the OCR slip finds 区城管局
    assert "已筛选：区城管局" in shown and hit_titles(shown) == ["区域管局优化便民服务设置西瓜临时销售点"]
    facet = shown[shown.index('id="facet-units"'):shown.index("</ul>", shown.index('id="facet-units"'))]
    assert 'class="on"' in facet and "区城管局" in facet and "区域管局" not in facet
    assert f'href="/units/{quote("区城管局")}">区城管局</a>' in shown  # the hit's unit links to its page
    api = client.get("/api/search?q=西瓜&units=区域管局").get_json()
    assert api["total"] == 1 and api["results"][0]["units"] == ["区城管局"]


# ------------------------------------------------------------------ sort selector
def test_sort_links_work_without_javascript_and_are_kept(client, engine):
    q = "企业 或 服务 或 群众"
    relevance = page(client, f"/search?q={q}&kind=measure")
    links = re.search(r'<p class="sort" id="sort">(.*?)</p>', relevance, re.S).group(1)
    assert '<strong aria-current="true">相关度</strong>' in links and ">最新</a>" in links and ">最早</a>" in links
    newest_url = html.unescape(re.search(r'<a href="([^"]+)" rel="nofollow">最新</a>', links).group(1))
    assert "kind=measure" in newest_url and "sort=newest" in newest_url  # filters kept
    newest = page(client, newest_url)
    dates = hit_dates(newest)
    assert dates == sorted(dates, reverse=True) or "" in dates and dates[:dates.index("")] == sorted(dates[:dates.index("")], reverse=True)
    assert '<strong aria-current="true">最新</strong>' in newest and '<input type="hidden" name="sort" value="newest">' in newest
    assert all("sort=newest" in html.unescape(h) for h in re.findall(r'href="(/search\?[^"]*page=\d[^"]*)"', newest))  # paging
    facet_links = re.findall(r'<ul class="facet" id="facet-years">(.*?)</ul>', newest, re.S)[0]
    assert facet_links.count("sort=newest") == facet_links.count("<a ")  # filters
    assert "sort=newest" in html.unescape(re.search(r'id="export-csv"', newest) and re.search(r'href="([^"]+)" id="export-csv"', newest).group(1))
    api = client.get("/api/search", query_string={"q": q, "kind": "measure", "sort": "oldest", "limit": 100}).get_json()
    dated = [r["date"] for r in api["results"] if r["date"]]
    assert dated == sorted(dated) and [r["date"] for r in api["results"]][len(dated):] == [None] * (api["total"] - len(dated))
    bad = client.get("/api/search?q=融资&sort=date").get_json()["error"]["message"]
    assert bad == "未知的排序“date”，可选：relevance、newest、oldest"


# ------------------------------------------------------------------ similar items: labels and shared passages
def test_similar_items_show_a_label_and_what_they_share(client, engine, settings):
    from search.likeness import Labels

    source = next(i for i in indexed_items(engine) if i.title == "区先进制造业开发区着力破解企业融资难题")
    shown = page(client, f"/items/{source.id}")
    block = shown[shown.index('id="similar"'):]
    labels = re.findall(r'<span class="sim-label sim-(\w+)"[^>]*>([^<]+)</span>', block)
    assert labels and all(word in ("很相似", "相似", "相关") for _level, word in labels)
    assert "相似度" not in block and not re.search(r'<span class="sim[^>]*>[^<]*%', block)  # no raw percentages
    assert 'class="snippet shared"' in block and "<mark>" in block
    assert "先进制造业开发区优化服务激发企业创新活力" not in block  # the same unit under another spelling
    data = client.get(f"/api/items/{source.id}/similar?limit=10").get_json()["results"]
    rule = Labels.from_settings(settings.similar)
    assert [r["label"] for r in data] == [rule.label(r["score"]) for r in data]
    assert data[0]["title"] == "先进制造业开发区优化服务激发企业创新活力" and data[0]["label"] == "很相似"
    assert [r["score"] for r in data] == sorted((r["score"] for r in data), reverse=True)
    assert any(r["label"] is None for r in engine.similar(source.id, limit=37)["results"])  # not everything is alike
    assert len(labels) == sum(1 for r in engine.similar(source.id, other_units=True, limit=settings.search.similar_limit)["results"] if r["label"])
    first = data[0]
    marked = re.findall(r"<mark>(.*?)</mark>", first["snippet"])
    assert marked and all(len(w) >= 2 and w in source.text for w in marked)  # words both passages use, no single characters
    plain = html.unescape(re.sub(r"</?mark>", "", first["snippet"])).strip("…")
    assert plain in first["text"] and len(plain) <= settings.search.snippet_chars
    draft = client.post("/draft", data={"text": "组织召开政银企座谈会，帮助中小微企业融资贷款。"}).get_data(as_text=True)
    assert "很相似" in draft and "相似度 " not in draft and 'class="snippet shared"' in draft
