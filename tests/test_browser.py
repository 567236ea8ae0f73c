"""A real browser (Debian's headless Chromium) drives the running app like a writer would."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.browser import ARTIFACTS, make_driver, needs_chromium

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = make_driver(tmp_path_factory)
    yield driver
    driver.quit()


def no_alert(driver) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def test_writer_workflow(browser, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(live_server + "/")
    box = browser.find_element(By.NAME, "q")
    box.send_keys("网格", Keys.ENTER)
    count = browser.find_element(By.ID, "result-count").text
    assert "共找到" in count
    hits = browser.find_elements(By.CSS_SELECTOR, ".hit .title")
    assert len(hits) >= 4
    assert browser.find_elements(By.CSS_SELECTOR, ".snippet mark")
    browser.save_screenshot(str(ARTIFACTS / "search.png"))

    browser.find_element(By.PARTIAL_LINK_TEXT, "矿山街道").click()
    assert "已筛选：矿山街道" in browser.find_element(By.CSS_SELECTOR, ".results .active").text
    hits = browser.find_elements(By.CSS_SELECTOR, ".hit .title")
    assert [h.text for h in hits] == ["矿山街道“社会组织+网格”织密服务群众“心网”"]

    hits[0].click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "矿山街道“社会组织+网格”织密服务群众“心网”"
    similar = browser.find_elements(By.CSS_SELECTOR, "#similar li")
    assert len(similar) >= 5 and "相似度" in similar[0].text
    assert "矿山街道" not in " ".join(s.find_element(By.CSS_SELECTOR, ".units").text for s in similar)
    browser.save_screenshot(str(ARTIFACTS / "item.png"))
    browser.find_element(By.LINK_TEXT, "查看这一期全部条目").click()
    assert "第35期" in browser.find_element(By.TAG_NAME, "h1").text

    browser.get(live_server + "/draft")
    draft = "组织召开政银企座谈会，邀请银行走进企业，一对一开展融资服务，帮助中小微企业解决贷款难题。"
    browser.find_element(By.NAME, "text").send_keys(draft)
    browser.find_element(By.CSS_SELECTOR, "form.draft button").click()
    first = browser.find_element(By.CSS_SELECTOR, "#draft-results li")
    assert "区先进制造业开发区着力破解企业融资难题" in first.text

    browser.get(live_server + "/search?q=融资")
    browser.find_element(By.ID, "export-csv").click()
    deadline = time.time() + 20
    files: list[Path] = []
    while time.time() < deadline:
        files = [p for p in browser.downloads.iterdir() if p.suffix == ".csv"]
        if files:
            break
        time.sleep(0.2)
    assert files, "CSV download did not arrive"
    data = files[0].read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and "区先进制造业开发区着力破解企业融资难题" in data.decode("utf-8-sig")


def test_near_duplicate_draft_is_marked(browser, live_server, engine):
    from selenium.webdriver.common.by import By

    item = engine.snapshot.item(3)
    browser.get(live_server + "/draft")
    browser.find_element(By.NAME, "text").send_keys(item.title + "。" + item.text)
    browser.find_element(By.CSS_SELECTOR, "form.draft button").click()
    marked = browser.find_element(By.CSS_SELECTOR, "#draft-results li.near-dup")
    assert "几乎相同" in marked.text and item.title in marked.text


def test_script_in_query_never_runs(browser, live_server):
    from selenium.webdriver.common.by import By

    browser.get(live_server + '/search?q=<script>alert(1)</script><img src=x onerror=alert(2)>融资')
    time.sleep(0.5)
    assert no_alert(browser)
    assert "<script>alert(1)</script>" in browser.find_element(By.NAME, "q").get_attribute("value")
    assert not browser.find_elements(By.CSS_SELECTOR, "main img")
