"""A real browser (Debian's headless Chromium) drives the running app like a writer would."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.browser import ARTIFACTS, make_driver, needs_chromium
from tests.inputs import indexed_items

pytestmark = [needs_chromium, pytest.mark.browser]


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
    assert len(similar) >= 3 and similar[0].find_element(By.CSS_SELECTOR, ".sim-label").text in ("很相似", "相似", "相关")
    assert "%" not in similar[0].text and similar[0].find_elements(By.CSS_SELECTOR, ".shared mark")
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
        # Chromium reserves the file's name with an empty placeholder and writes into a
        # .crdownload file, renamed over it when complete: wait for that.
        present = list(browser.downloads.iterdir())
        files = [p for p in present if p.suffix == ".csv" and p.stat().st_size > 0]
        if files and not any(p.suffix == ".crdownload" for p in present):
            break
        time.sleep(0.2)
    assert files, "CSV download did not arrive"
    data = files[0].read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and "区先进制造业开发区着力破解企业融资难题" in data.decode("utf-8-sig")


def test_near_duplicate_draft_is_marked(browser, live_server, engine):
    """A pasted item with two sentences reworded is marked 几乎相同, the shared text highlighted in
    the draft and in the item, on a desktop window and on a 390-pixel-wide phone."""
    from selenium.webdriver.common.by import By

    from bench.reuse_pairs import reword, sentences

    ARTIFACTS.mkdir(exist_ok=True)
    item = next(i for i in indexed_items(engine) if i.title == "区先进制造业开发区着力破解企业融资难题")
    parts = sentences(item.text)
    changed = [n for n, s in enumerate(parts) if reword(s) != s][:2]
    draft = "".join(reword(s) if n in changed else s for n, s in enumerate(parts))
    try:
        for name, (width, height) in {"desktop": (1280, 1200), "phone": (390, 844)}.items():
            browser.set_window_size(width, height)
            browser.get(live_server + "/draft")
            browser.find_element(By.NAME, "text").send_keys(draft)
            browser.find_element(By.CSS_SELECTOR, "form.draft button").click()
            marked = browser.find_element(By.CSS_SELECTOR, "#draft-results li.near-dup")
            assert "几乎相同" in marked.text and item.title in marked.text
            assert "几乎相同" in browser.find_element(By.ID, "reuse-summary").text
            assert "70%" in browser.find_element(By.ID, "reuse-rule").text
            draft_marks = browser.find_elements(By.CSS_SELECTOR, "#draft-marked mark")
            side_draft = marked.find_element(By.CSS_SELECTOR, ".side-draft")
            side_item = marked.find_element(By.CSS_SELECTOR, ".side-item")
            draft_side_marks = side_draft.find_elements(By.TAG_NAME, "mark")
            item_side_marks = side_item.find_elements(By.TAG_NAME, "mark")
            assert draft_marks and draft_side_marks and item_side_marks
            assert all(m.value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "transparent")
                       for m in draft_side_marks + item_side_marks)
            shared = "".join(m.text for m in item_side_marks)
            kept = next(s for n, s in enumerate(parts) if n not in changed)
            assert len(shared) > 0.6 * len(item.text) and kept.strip("。")[:12] in shared
            assert "".join(m.text for m in draft_side_marks) != draft  # reworded words stay unmarked
            left, right = side_draft.rect, side_item.rect
            if name == "desktop":  # side by side
                assert abs(left["y"] - right["y"]) < 2 and right["x"] > left["x"] + left["width"] - 1
            else:  # stacked, nothing wider than the screen
                assert abs(left["x"] - right["x"]) < 2 and right["y"] >= left["y"] + left["height"] - 1
                assert browser.execute_script("return document.documentElement.scrollWidth") <= width
            browser.execute_script("arguments[0].scrollIntoView()", browser.find_element(By.ID, "reuse-summary"))
            browser.save_screenshot(str(ARTIFACTS / f"draft-{name}.png"))
            browser.execute_script("arguments[0].scrollIntoView()", marked)
            browser.save_screenshot(str(ARTIFACTS / f"draft-{name}-compare.png"))
    finally:
        browser.set_window_size(1280, 1200)


def test_script_in_query_never_runs(browser, live_server):
    from selenium.webdriver.common.by import By

    browser.get(live_server + '/search?q=<script>alert(1)</script><img src=x onerror=alert(2)>融资')
    time.sleep(0.5)
    assert no_alert(browser)
    assert "<script>alert(1)</script>" in browser.find_element(By.NAME, "q").get_attribute("value")
    assert not browser.find_elements(By.CSS_SELECTOR, "main img")
