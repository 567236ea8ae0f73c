"""config.toml, the Settings dataclasses and README stay in step."""
from __future__ import annotations

import tomllib
from dataclasses import fields

import pytest

from search.config import PROJECT_ROOT, SECTIONS, ConfigError, load_settings


def test_every_setting_declared_documented_and_commented():
    path = PROJECT_ROOT / "config.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert set(raw) == set(SECTIONS)
    lines = path.read_text(encoding="utf-8").splitlines()
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for section, cls in SECTIONS.items():
        assert set(raw[section]) == {f.name for f in fields(cls)}, section
        for key in raw[section]:
            n = next(i for i, ln in enumerate(lines) if ln.startswith(f"{key} ="))
            assert lines[n - 1].startswith("#"), f"{section}.{key} has no comment above it"
            assert f"`{section}.{key}`" in readme, f"README does not mention {section}.{key}"


def test_paths_resolve_relative_to_the_file(tmp_path):
    cfg = tmp_path / "my.toml"
    cfg.write_text('[index]\npath = "ix"\n[search]\nrrf_k = 10\n', encoding="utf-8")
    settings = load_settings(cfg)
    assert settings.index.path == tmp_path / "ix" and settings.search.rrf_k == 10
    assert settings.search.default_limit == 20  # defaults fill the rest
    assert settings.embedding.cache_dir == tmp_path / "var" / "models"  # default paths: next to the config
    assert settings.analysis.user_dict == PROJECT_ROOT / "search" / "data" / "userdict.txt"  # shipped files


@pytest.mark.parametrize("body, message", [
    ("[nosuch]\n", "未知的节"),
    ("[search]\nrrf_kk = 1\n", "未知的设置"),
    ("[search]\nrrf_k = \"sixty\"\n", "类型错误"),
    ("[web]\nallow_upload = 1\n", "true 或 false"),
    ("[search\n", "格式错误"),
    ("[search]\nfusion = \"sum\"\n", "可选 rrf, weighted"),
    ("[embedding]\nprecision = \"fp8\"\n", "可选 auto, fp32, bf16"),
    ("[search]\nfusion = \"sum\"\n[web]\nport = 1\n", "可选 rrf, weighted"),  # checked in any section, not only the last
    ("[web]\ncors_origins = \"https://oa.example.gov.cn\"\n", "类型错误"),
    ("[web]\ncors_origins = [\"https://oa.example.gov.cn/\"]\n", "不是来源"),
    ("[web]\ncors_origins = [\"oa.example.gov.cn\"]\n", "不是来源"),
])
def test_bad_config_is_a_clear_error(tmp_path, body, message):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert message in str(err.value)


def test_cors_origins_and_an_empty_file(tmp_path):
    cfg = tmp_path / "cors.toml"
    cfg.write_text('[web]\ncors_origins = ["https://oa.example.gov.cn", "http://10.0.0.5:8080"]\n', encoding="utf-8")
    assert load_settings(cfg).web.cors_origins == ("https://oa.example.gov.cn", "http://10.0.0.5:8080")
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    assert load_settings(empty).web.cors_origins == ()  # every default, no error
