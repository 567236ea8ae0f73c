"""Debian's headless Chromium for the browser tests: one set-up shared by every browser test module."""
from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).parent / "artifacts"  # screenshots and PDFs kept for people to look at

needs_chromium = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                    reason="make test installs Debian's chromium and chromium-driver")


def make_driver(tmp_path_factory, *extra_args: str):
    """A headless Chromium with its own profile and download folder (driver.downloads)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1200", "--lang=zh-CN",
                f"--user-data-dir={tmp_path_factory.mktemp('profile')}", *extra_args):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(5)
    driver.downloads = downloads
    ARTIFACTS.mkdir(exist_ok=True)
    return driver
