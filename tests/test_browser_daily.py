"""Daily use in a real browser (issue 11), on a 1280-wide desktop and a 390x844 phone.

The app is reached by an intranet host name over plain http (Chromium maps *.intranet to
127.0.0.1), as offices do: that is not a secure context, so the clipboard API is missing.
Screenshots and a PDF go to tests/artifacts/.
"""
from __future__ import annotations

import base64
import http.server
import io
import threading
import time
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from .inputs import indexed_items

from tests.browser import ARTIFACTS, make_driver, needs_chromium

pytestmark = [needs_chromium, pytest.mark.browser]
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = make_driver(tmp_path_factory, "--host-resolver-rules=MAP *.intranet 127.0.0.1")
    yield driver
    driver.quit()


@pytest.fixture
def desktop(browser):
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    yield browser
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


@pytest.fixture
def phone(browser):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


@pytest.fixture(scope="module")
def site(live_server) -> str:
    """The live server by an intranet host name: plain http, not localhost, so not a secure context."""
    return live_server.replace("127.0.0.1", "bulletin.intranet")


def wait(driver, condition, timeout: float = 10):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def by(css: str):
    from selenium.webdriver.common.by import By

    return By.CSS_SELECTOR, css


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def query_of(driver) -> str:
    return parse_qs(urlsplit(driver.current_url).query).get("q", [""])[0]


# What is on the screen at an element's centre is that element (or inside it): seen, not just in the DOM.
SEEN = """const r = arguments[0].getBoundingClientRect();
return r.width > 0 && arguments[0].contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2));"""


# ------------------------------------------------------------------ copying
def test_copy_works_over_plain_http_by_host_name(desktop, site, engine):
    from selenium.webdriver.common.keys import Keys

    item = next(i for i in indexed_items(engine) if len(i.text) > 200)
    desktop.get(f"{site}/items/{item.id}")
    assert desktop.execute_script("return [window.isSecureContext, typeof navigator.clipboard]") == [False, "undefined"]
    control = desktop.find_element(*by("[data-copy]"))
    assert control.is_displayed() and control.text == "复制全文"
    desktop.execute_script("""window.copied = null; document.addEventListener("copy", () => {
        const a = document.activeElement; window.copied = a.value.substring(a.selectionStart, a.selectionEnd); });""")
    control.click()
    status = desktop.find_element(*by("#copy-status"))
    wait(desktop, lambda d: status.text)
    full = desktop.find_element(*by("#copy-source")).get_attribute("value")
    assert status.text == "已复制全文" and desktop.execute_script("return window.copied") == full
    assert full.startswith(item.title) and item.text.split("\n")[0] in full
    shot(desktop, "copy-intranet")
    # The copy really reached the clipboard: paste it into the search box.
    desktop.get(f"{site}/")
    box = desktop.find_element(*by("input[name=q]"))
    box.clear()
    box.send_keys(Keys.CONTROL, "v")
    assert box.get_attribute("value").startswith(item.title)
    # A browser that refuses execCommand too: the text is left selected with a visible hint.
    desktop.get(f"{site}/items/{item.id}")
    desktop.execute_script("document.execCommand = () => false;")
    desktop.find_element(*by("[data-copy]")).click()
    status = desktop.find_element(*by("#copy-status"))
    wait(desktop, lambda d: status.text)
    assert "已选中全文，请按 Ctrl+C 复制" in status.text and status.is_displayed()
    selected = desktop.execute_script("const t = document.getElementById('copy-source'); "
                                      "return [document.activeElement === t, t.selectionStart, t.selectionEnd, t.value.length];")
    assert selected == [True, 0, len(full), len(full)]
    shot(desktop, "copy-hint")


def test_without_javascript_copy_filters_and_help_still_work(phone, site, engine):
    phone.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    phone.get(f"{site}/items/{indexed_items(engine)[0].id}")
    phone.find_element(*by("[data-copy]")).click()  # a link to the text: the browser opens its <details>
    assert phone.find_element(*by("#copy-source")).is_displayed()
    phone.get(f"{site}/search?q=服务")
    assert not phone.find_element(*by("#facet-units")).is_displayed()
    phone.find_element(*by("#filters > summary")).click()
    assert phone.find_element(*by("#facet-units")).is_displayed()
    phone.find_element(*by("#syntax-help > summary")).click()
    assert phone.find_element(*by(".help-body")).is_displayed()
    assert phone.find_element(*by("#time-chart")).is_displayed()  # the chart is drawn by the server
    phone.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    phone.get(f"{site}/search?q=服务")  # desktop without JavaScript: the panel is shown beside the results
    assert phone.execute_script(SEEN, phone.find_element(*by("#facet-units a"))) and not phone.find_element(*by("#filters > summary")).is_displayed()


# ------------------------------------------------------------------ layout
LINES = """const range = document.createRange(); range.selectNodeContents(arguments[0]);
return new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size;"""


def _one_line(driver, css: str) -> bool:
    """Every element's text sits on one line (the browser broke no word of it across lines)."""
    return all(driver.execute_script(LINES, e) == 1 for e in driver.find_elements(*by(css)))


def test_phone_results_first_filters_behind_a_button(phone, site):
    phone.get(f"{site}/search?q=服务")
    first = phone.find_element(*by(".hit"))
    assert phone.execute_script("return arguments[0].getBoundingClientRect().top", first) < PHONE["height"]
    assert phone.execute_script("return document.documentElement.scrollWidth") <= PHONE["width"]  # nothing sideways
    assert _one_line(phone, ".brand") and _one_line(phone, ".top nav a")
    brand = phone.find_element(*by(".brand"))
    line = phone.execute_script("return parseFloat(getComputedStyle(arguments[0]).lineHeight) || 0", brand)
    assert brand.text == "工作信息检索" and (not line or brand.size["height"] < 1.5 * line)
    assert [a.text for a in phone.find_elements(*by(".top nav a"))] == ["检索", "查重", "概况"]
    summary = phone.find_element(*by("#filters > summary"))
    assert summary.is_displayed() and not phone.find_element(*by("#facet-units")).is_displayed()
    shot(phone, "phone-search")
    summary.click()
    assert phone.find_element(*by("#facet-units")).is_displayed()
    shot(phone, "phone-filters-open")
    phone.find_element(*by(".hit .title")).click()
    assert _one_line(phone, ".brand") and phone.find_element(*by("#item-text")).is_displayed()
    shot(phone, "phone-item")


def test_desktop_keeps_filters_beside_the_results(desktop, site):
    desktop.get(f"{site}/search?q=服务")
    assert desktop.find_element(*by("#facet-units")).is_displayed()
    assert not desktop.find_element(*by("#filters > summary")).is_displayed()
    facets = desktop.find_element(*by("#facet-units")).location
    results = desktop.find_element(*by(".results")).location
    assert facets["x"] < results["x"]  # a column on the left
    assert [a.text for a in desktop.find_elements(*by(".top nav a"))] == ["检索", "草稿查重", "索引概况"]
    shot(desktop, "desktop-search")


# ------------------------------------------------------------------ print
def test_print_layout_of_item_and_issue(desktop, site, engine):
    item = next(i for i in indexed_items(engine) if i.issue is not None)
    desktop.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    desktop.get(f"{site}/items/{item.id}")
    for hidden in (".top nav", ".actions", "#similar", ".foot", "[data-copy]"):
        assert not desktop.find_element(*by(hidden)).is_displayed(), hidden
    for shown in ("h1", "#item-text", "#source", ".meta"):
        assert desktop.find_element(*by(shown)).is_displayed(), shown
    assert desktop.execute_script("return getComputedStyle(document.body).fontSize") == "16px"  # 12pt
    pdf = base64.b64decode(desktop.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})["data"])
    (ARTIFACTS / "item-print.pdf").write_bytes(pdf)
    import pypdf

    printed = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert item.title in printed and "来源：" in printed and item.text.split("\n")[0][:20] in printed
    assert not any(w in printed for w in ("复制全文", "相似做法", "草稿查重", "查看这一期全部条目"))
    desktop.get(f"{site}/issue?series={item.series}&issue={item.issue}&date={item.date}")
    assert not desktop.find_element(*by(".top nav")).is_displayed()
    assert all(s.is_displayed() for s in desktop.find_elements(*by(".issue-item")))
    shot(desktop, "issue-print")


# ------------------------------------------------------------------ search page behaviour
def test_back_shows_the_query_of_the_page_shown(desktop, site):
    from selenium.webdriver.common.keys import Keys

    desktop.get(f"{site}/search?q=融资")
    box = desktop.find_element(*by("input[name=q]"))
    assert box.get_attribute("autocomplete") == "off"
    box.clear()
    box.send_keys("网格", Keys.ENTER)
    wait(desktop, lambda d: query_of(d) == "网格")
    desktop.back()
    wait(desktop, lambda d: query_of(d) == "融资")
    assert desktop.find_element(*by("input[name=q]")).get_attribute("value") == "融资"


def test_suggestions_by_keyboard(desktop, site):
    from selenium.webdriver.common.keys import Keys

    desktop.get(f"{site}/")
    box = desktop.find_element(*by("input[name=q]"))
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "false"
    box.send_keys("网格")
    wait(desktop, lambda d: d.find_element(*by("#suggestions")).is_displayed())
    options = desktop.find_elements(*by("#suggestions [role=option]"))
    assert len(options) >= 3 and all("网格" in o.get_attribute("data-value") for o in options)
    assert box.get_attribute("aria-expanded") == "true" and box.get_attribute("aria-controls") == "suggestions"
    shot(desktop, "suggestions")
    box.send_keys(Keys.ARROW_DOWN, Keys.ARROW_DOWN, Keys.ARROW_UP)
    assert box.get_attribute("aria-activedescendant") == "suggestion-0"
    assert options[0].get_attribute("aria-selected") == "true" and options[1].get_attribute("aria-selected") == "false"
    box.send_keys(Keys.ESCAPE)
    assert not desktop.find_element(*by("#suggestions")).is_displayed() and box.get_attribute("aria-expanded") == "false"
    box.send_keys(Keys.BACKSPACE, "格")  # typing again brings them back
    wait(desktop, lambda d: d.find_element(*by("#suggestions")).is_displayed())
    box.send_keys(Keys.ARROW_DOWN, Keys.ARROW_DOWN)
    chosen = desktop.find_element(*by("#suggestion-1")).get_attribute("data-value")
    box.send_keys(Keys.ENTER)
    wait(desktop, lambda d: query_of(d) == chosen)
    assert "共找到" in desktop.find_element(*by("#result-count")).text
    assert desktop.find_element(*by("input[name=q]")).get_attribute("value") == chosen
    # The mouse works too.
    box = desktop.find_element(*by("input[name=q]"))
    box.clear()
    box.send_keys("融资")
    wait(desktop, lambda d: d.find_element(*by("#suggestions")).is_displayed())
    option = desktop.find_element(*by("#suggestion-0"))
    picked = option.get_attribute("data-value")
    option.click()
    wait(desktop, lambda d: query_of(d) == picked)


def test_syntax_help_opens_and_closes_from_the_keyboard(desktop, site):
    from selenium.webdriver.common.keys import Keys

    desktop.get(f"{site}/")
    summary = desktop.find_element(*by("#syntax-help > summary"))
    summary.send_keys(Keys.ENTER)
    body = desktop.find_element(*by(".help-body"))
    assert body.is_displayed() and "每个都要满足" in body.text and "任一即可" in body.text
    shot(desktop, "syntax-help")
    summary.send_keys(Keys.ESCAPE)
    assert not body.is_displayed()
    assert desktop.execute_script("return document.activeElement") == summary


def test_a_pasted_paragraph_goes_to_the_draft_check(desktop, site, engine):
    item = max(indexed_items(engine), key=lambda i: len(i.text))
    text = (item.text.replace("\n", "") * 3)[:600]
    desktop.get(f"{site}/")
    box = desktop.find_element(*by("input[name=q]"))
    desktop.execute_script("arguments[0].value = arguments[1]; arguments[0].form.requestSubmit();", box, text)
    notice = desktop.find_element(*by("#too-long"))
    assert "超过检索上限" in notice.text
    assert desktop.find_element(*by("input[name=q]")).get_attribute("value") == text
    shot(desktop, "too-long")
    notice.find_element(*by("button")).click()
    wait(desktop, lambda d: urlsplit(d.current_url).path == "/draft")
    assert desktop.find_element(*by("textarea[name=text]")).get_attribute("value") == text
    assert item.title in desktop.find_element(*by("#draft-results")).text


def test_year_chart_filters_when_clicked(desktop, site, engine):
    years = engine.search("服务")["facets"]["years"]
    desktop.get(f"{site}/search?q=服务")
    chart = desktop.find_element(*by("#time-chart"))
    labels = [a.get_attribute("aria-label") for a in chart.find_elements(*by("a.bar"))]
    assert labels == [f"{y}年：{years[y]} 条" for y in sorted(y for y in years if y.isdigit())] + \
        ([f"无日期：{years['无日期']} 条"] if "无日期" in years else [])
    shot(desktop, "year-chart")
    chart.find_element(*by("a.bar")).click()
    first = sorted(years)[0]
    wait(desktop, lambda d: f"year={first}" in d.current_url)
    assert f"已筛选：{first}年" in desktop.find_element(*by(".active")).text
    assert desktop.find_element(*by("#result-count strong")).text == str(years[first])


# ------------------------------------------------------------------ CORS from another site's page
@pytest.fixture(scope="module")
def other_site(tmp_path_factory):
    """A plain page on another origin (another port), like an office system that embeds the search."""
    folder = tmp_path_factory.mktemp("other-site")
    (folder / "index.html").write_text("<!doctype html><title>OA</title><p>OA</p>", encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture(scope="module")
def cors_api(sample_index, service, other_site):
    from waitress.server import create_server

    from web import create_app

    allowed = f"http://127.0.0.1:{other_site}"
    cfg = replace(sample_index, web=replace(sample_index.web, cors_origins=(allowed,)))
    server = create_server(create_app(cfg, service), host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=server.run, daemon=True).start()
    time.sleep(0.2)
    yield f"http://api.intranet:{server.socket.getsockname()[1]}"
    server.close()


FETCH = """const [url, done] = [arguments[0], arguments[arguments.length - 1]];
fetch(url + "/api/similar", {method: "POST", headers: {"Content-Type": "application/json"},
                              body: JSON.stringify({text: "政银企座谈会 融资", limit: 1})})
  .then(r => r.json()).then(d => done("ok:" + d.results[0].title), e => done("blocked:" + e.name));"""


def test_cors_lets_only_the_listed_origin_call_the_api(desktop, cors_api, other_site):
    desktop.set_script_timeout(20)
    desktop.get(f"http://127.0.0.1:{other_site}/")  # listed: the preflight (JSON POST) passes
    assert desktop.execute_async_script(FETCH, cors_api) == "ok:区先进制造业开发区着力破解企业融资难题"
    desktop.get(f"http://oa.intranet:{other_site}/")  # same page, an origin not listed
    assert desktop.execute_async_script(FETCH, cors_api) == "blocked:TypeError"


# ------------------------------------------------------------------ units, sort, similar labels
def test_unit_pages_from_the_about_page_without_javascript(phone, site, engine):
    """索引概况's unit links open the unit's page: its items by date, no query typed; 最早 reverses."""
    phone.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    phone.get(f"{site}/about")
    phone.find_element(*by('.unit-list a[href$="%E5%8C%BA%E5%85%88%E8%BF%9B%E5%88%B6%E9%80%A0%E4%B8%9A%E5%BC%80%E5%8F%91%E5%8C%BA"]')).click()
    assert phone.find_element(*by("h1")).text == "区先进制造业开发区"
    dates = [d.text for d in phone.find_elements(*by(".hit .date"))]
    assert dates == ["2024-08-09", "2024-06-28", "2024-06-17"] and "也写作：先进制造业开发区" in phone.page_source
    assert phone.execute_script("return document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, "phone-unit-page")
    phone.find_element(*by("#sort a")).click()  # 最早
    assert [d.text for d in phone.find_elements(*by(".hit .date"))] == ["2024-06-17", "2024-06-28", "2024-08-09"]
    phone.get(f"{site}/about")
    phone.find_element(*by('.unit-list a[href$="%E6%97%A0%E5%8D%95%E4%BD%8D"]')).click()  # 无单位
    assert phone.find_element(*by("h1")).text.startswith("无单位")
    assert len(phone.find_elements(*by(".hit"))) == engine.stats()["units"]["无单位"]


def test_sort_by_date_is_kept_across_filters_and_pages_without_javascript(desktop, site):
    desktop.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    desktop.get(f"{site}/search?q=企业 或 服务 或 群众")
    assert desktop.find_element(*by("#sort strong")).text == "相关度"
    desktop.find_element(*by("#sort")).find_element(*by('a[href*="sort=newest"]')).click()
    assert desktop.find_element(*by("#sort strong")).text == "最新"

    def dates() -> list[str]:
        return [d.text for d in desktop.find_elements(*by(".hit .date"))]

    first = dates()
    assert first == sorted(first, reverse=True)
    desktop.get(desktop.find_element(*by('#facet-years a[href*="year=2024"]')).get_attribute("href"))  # a filter keeps the order
    assert desktop.find_element(*by("#sort strong")).text == "最新" and dates() == sorted(dates(), reverse=True)
    desktop.get(f"{site}/search?q=企业 或 服务 或 群众&sort=newest")
    desktop.find_element(*by('.pager a[rel="next"]')).click()  # so does paging
    assert desktop.find_element(*by("#sort strong")).text == "最新" and "page=2" in desktop.current_url
    assert not dates() or max(dates()) <= min(first)
    desktop.find_element(*by("#q")).clear()
    desktop.find_element(*by("#q")).send_keys("网格")
    desktop.find_element(*by(".searchbox button[type=submit]")).click()  # and a new query
    wait(desktop, lambda d: parse_qs(urlsplit(d.current_url).query).get("q") == ["网格"])  # the new page, not the old one
    assert "sort=newest" in desktop.current_url and desktop.find_element(*by("#sort strong")).text == "最新"
    shot(desktop, "desktop-sort-newest")


def test_similar_items_show_plain_labels_and_shared_text(desktop, site, engine):
    item = next(i for i in indexed_items(engine) if i.title == "区先进制造业开发区着力破解企业融资难题")
    desktop.get(f"{site}/items/{item.id}")
    rows = desktop.find_elements(*by("#similar li"))
    assert rows
    for row in rows:
        assert row.find_element(*by(".sim-label")).text in ("很相似", "相似", "相关") and "%" not in row.find_element(*by(".sim-label")).text
        assert row.find_element(*by(".snippet.shared")).is_displayed()
    assert desktop.find_elements(*by("#similar .shared mark")) and desktop.find_element(*by("#similar-hint")).is_displayed()
    desktop.execute_script("arguments[0].scrollIntoView()", desktop.find_element(*by("#similar")))
    shot(desktop, "item-similar-labels")
