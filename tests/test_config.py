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

    def check(section: str, cls: type, values: dict) -> None:
        assert set(values) == {f.name for f in fields(cls)}, section
        header = next(i for i, ln in enumerate(lines) if ln.strip() == f"[{section}]")
        for f in fields(cls):
            if isinstance(values[f.name], dict):  # a nested table such as [relevance.hybrid]
                n = next(i for i, ln in enumerate(lines) if ln.strip() == f"[{section}.{f.name}]")
                assert lines[n - 1].startswith("#"), f"[{section}.{f.name}] has no comment above it"
                assert f"`{section}.{f.name}`" in readme, f"README does not mention {section}.{f.name}"
                if isinstance(f.default_factory(), dict):  # a free table of names such as [units.aliases]
                    assert all(isinstance(v, str) for v in values[f.name].values()), f"{section}.{f.name}"
                    continue
                check(f"{section}.{f.name}", f.default_factory().__class__, values[f.name])
                continue
            n = next(i for i, ln in enumerate(lines) if i > header and ln.startswith(f"{f.name} ="))
            assert lines[n - 1].startswith("#"), f"{section}.{f.name} has no comment above it"
            nested = section.count(".")
            # keys of nested model tables are described once, as features, in README
            assert f"`{section}.{f.name}`" in readme or (nested and f"`{f.name}`" in readme), \
                f"README does not mention {section}.{f.name}"

    for section, cls in SECTIONS.items():
        check(section, cls, raw[section])


def test_shipped_defaults_equal_config_toml():
    """A config file that leaves a section out gets the same behaviour as the shipped one."""
    from dataclasses import asdict

    from search.config import Settings

    shipped, defaults = load_settings(PROJECT_ROOT / "config.toml"), Settings()
    for section in ("relevance", "search", "embedding", "index", "parser", "units"):
        ours, theirs = asdict(getattr(shipped, section)), asdict(getattr(defaults, section))
        for key in ours:
            if not hasattr(theirs[key], "parts"):  # paths resolve differently; compare the rest
                assert ours[key] == theirs[key] or str(theirs[key]) in str(ours[key]), (section, key)


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
    ("[search]\nfusion = \"sum\"\n", "可选 calibrated, rrf, weighted"),
    ("[embedding]\nvector_dtype = \"int4\"\n", "可选 float32, float16, int8"),
    ("[embedding]\npassage_dtype = \"float16\"\n", "可选 float32, int16"),
    ("[relevance.hybrid]\ncoverage = \"a lot\"\n", "类型错误"),
    ("[relevance.fancy]\nx = 1\n", "未知的设置"),
    ("[embedding]\nprecision = \"fp8\"\n", "可选 auto, fp32, bf16"),
    ("[search]\nfusion = \"sum\"\n[web]\nport = 1\n", "可选 calibrated, rrf, weighted"),  # any section, not only the last
    ("[watch]\nfolders = \"inbox\"\n", "路径字符串的列表"),
    ("[search]\nquery_threads = 0\n", "query_threads 应大于 0"),
    ("[web]\nmalloc_arenas = -1\n", "malloc_arenas 不能小于 0"),
    ("[embedding]\nquery_runtime = \"tensorrt\"\n", "可选 onnx, torch"),
    ("[web]\ncors_origins = \"https://oa.example.gov.cn\"\n", "类型错误"),
    ("[web]\ncors_origins = [\"https://oa.example.gov.cn/\"]\n", "不是来源"),
    ("[web]\ncors_origins = [\"oa.example.gov.cn\"]\n", "不是来源"),
    ("[units.aliases]\n\"区域管局\" = 3\n", "非空的名称字符串"),
    ("[units.aliases]\n\"区域管局\" = \" \"\n", "非空的名称字符串"),
    ("[units]\naliases = \"区城管局\"\n", "对照表"),
    ("[units.aliases]\n\"城管\" = \"区域管局\"\n\"区域管局\" = \"区城管局\"\n", "本身也是别名"),
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


def test_unit_aliases_extend_and_replace_the_shipped_table(tmp_path):
    """An office's own [units.aliases] is the whole table (names trimmed); leaving it out keeps the shipped one."""
    from search.config import UNIT_ALIASES

    cfg = tmp_path / "units.toml"
    cfg.write_text('[units.aliases]\n" 城管局 " = "区城管局"\n"区域管局" = "区城管局"\n', encoding="utf-8")
    assert load_settings(cfg).units.aliases == {"城管局": "区城管局", "区域管局": "区城管局"}
    other = tmp_path / "other.toml"
    other.write_text("[search]\nrrf_k = 10\n", encoding="utf-8")
    assert load_settings(other).units.aliases == UNIT_ALIASES == load_settings(PROJECT_ROOT / "config.toml").units.aliases
