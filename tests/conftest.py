"""Shared fixtures: the sample bulletins, settings, and parsed items (built once per session)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from indexer.ingest import ingest
from search.config import PROJECT_ROOT, Settings, load_settings

SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
FAST = os.environ.get("BULLETIN_TEST_FAST") == "1"  # `make test-fast`: no processes, no browser


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """In the fast suite a test that starts a process fails at once, naming the marker it lacks,
    so the split between `make test-fast` and `make test` cannot silently rot. (Collection may
    still probe for tools, e.g. `python3 -c "import uno"` to decide a skip.)"""
    if not FAST:
        yield
        return
    real_init = subprocess.Popen.__init__

    def refuse(self, args, *rest, **kwargs):  # noqa: ANN001
        raise RuntimeError(f"make test-fast starts no processes ({args!r}): mark this test "
                           "@pytest.mark.subprocess (or browser)")

    subprocess.Popen.__init__ = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        subprocess.Popen.__init__ = real_init  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(PROJECT_ROOT / "config.toml")


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def sample_report(settings):
    return ingest([SAMPLE_DIR], settings.max_file_bytes, settings.parser.brief_title_max_chars)


@pytest.fixture(scope="session")
def sample_items(sample_report):
    return sample_report.items


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory, settings):
    """The sample bulletins indexed once, with the real default model."""
    from indexer.build import build

    index_settings = settings.with_index(tmp_path_factory.mktemp("index"))
    report = build([SAMPLE_DIR], index_settings)
    assert report.added == 38
    return index_settings


@pytest.fixture(scope="session")
def engine(sample_index):
    from search.engine import SearchEngine

    engine = SearchEngine(sample_index)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def qrels():
    import json
    import re

    data = json.loads((Path(__file__).parent / "data" / "seed_qrels.json").read_text(encoding="utf-8"))  # copy of shared/eval
    data["keys"] = {k: re.sub(r"\s+", "", v) for k, v in data["items"].items()}
    return data


@pytest.fixture(scope="session")
def service(sample_index, engine):
    from search.service import SearchService

    return SearchService(sample_index, embedder=engine.embedder)


@pytest.fixture(scope="session")
def app(sample_index, service):
    from web import create_app

    return create_app(sample_index, service)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(app):
    """The app behind a real waitress server on a free loopback port."""
    import threading
    import time
    import urllib.request

    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    port = server.socket.getsockname()[1]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(50):
        try:
            urllib.request.urlopen(url + "/api/health", timeout=2)
            break
        except OSError:
            time.sleep(0.1)
    yield url
    server.close()


@pytest.fixture(scope="session")
def dev_index(tmp_path_factory, settings, sample_dir, engine) -> Settings:
    """The sample bulletins and the 435 development items (../shared/eval/dev), embedded once per
    session with the real model and shared by the relevance and draft-check tests (read-only:
    a test that adds items copies it first)."""
    from indexer.build import build

    items = PROJECT_ROOT.parent / "shared" / "eval" / "dev" / "items.jsonl"
    if not items.exists():
        pytest.fail(f"the development set is missing: {items} (the evaluation material beside the project)")
    cfg = settings.with_index(tmp_path_factory.mktemp("dev-index") / "ix")
    report = build([sample_dir, items], cfg, embedder=engine.embedder)
    assert report.total == 473 and not report.failed
    return cfg

