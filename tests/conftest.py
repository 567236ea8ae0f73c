"""Shared fixtures: the sample bulletins, settings, and parsed items (built once per session)."""
from __future__ import annotations

from pathlib import Path

import pytest

from indexer.ingest import ingest
from search.config import PROJECT_ROOT, Settings, load_settings

SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"


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
