"""Export a sentence-transformers model to ONNX once, so that processes which embed only queries
and the odd draft (a server, a search command) run it on onnxruntime and never import torch.

Why: torch, transformers and sentence-transformers cost a server about 390 MB of anonymous
memory before any weight is read; onnxruntime runs the same graph in about a third of that,
with the same vectors (to about 1e-6) and twice as fast on one query.

The word-embedding matrix (250,037 × 384 floats for multilingual-e5, 384 MB) is most of the
weights and a query reads a dozen of its rows. It is written to its own file, which onnxruntime
maps instead of reading, and its rows are reordered so that the pieces of Chinese text come
first, then ASCII, then every other script: the rows a Chinese query reads lie in the first
few tens of megabytes instead of pages spread over the whole file. `rows.npy` maps a token id
to its row; special tokens (the padding id among them, which XLM-RoBERTa's positions depend
on) keep theirs. Every export is checked against the torch model before it is kept.

The export runs in a child process (`python -m search.onnx_export MODEL FOLDER`), into a
folder named after the model files' sizes and times, written whole or not at all.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

EXPORT_VERSION = 1
MARKER = "export.json"
GRAPH = "model.onnx"
EMBEDDINGS = "embeddings.bin"
ROWS = "rows.npy"
POOLINGS = ("mean", "cls")  # what OnnxEncoder pools; other poolings stay on torch
OPSET = 17
# An export is kept only if its pooled vectors match the torch model's this closely on the probes.
TOLERANCE = 1e-4
PROBES = ("query: 帮助中小企业解决融资难问题", "passage: 区委办公室召开全区网格化管理工作推进会，部署下一阶段重点任务。",
          "2026年1-10月 GDP 同比增长5.2%，ＡＢＣ abc", "短")
UNSUPPORTED_EXIT = 3  # the child's exit code when the model cannot be exported (recorded, not retried)
CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

log = logging.getLogger(__name__)


class UnsupportedModel(Exception):
    """The model has a part OnnxEncoder does not reproduce; it stays on torch."""


def source_fingerprint(model_dir: Path) -> str:
    """Names, sizes and modification times of the model's files: a changed model gets a new export."""
    digest = hashlib.sha1(f"v{EXPORT_VERSION}".encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(model_dir)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def export_folder(model_dir: Path, cache_dir: Path) -> Path:
    return cache_dir / "onnx" / f"{model_dir.name}-{source_fingerprint(model_dir)}"


def ensure_exported(model_dir: Path, cache_dir: Path) -> Path | None:
    """The export's folder, exporting it first in a child process; None (and a warning) when the
    model cannot be exported or the export failed, so the caller stays on torch."""
    folder = export_folder(model_dir, cache_dir)
    marker = folder / MARKER
    if not marker.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        log.warning("正在把向量模型导出为 ONNX（每个模型一次，约半分钟）：%s", folder)
        try:
            done = subprocess.run([sys.executable, "-m", "search.onnx_export", str(model_dir), str(folder)],
                                  capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
            failure = done.stderr.strip()[-2000:] if done.returncode not in (0, UNSUPPORTED_EXIT) else ""
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:  # no process could be started
            failure = str(exc)
        if failure or not marker.exists():
            log.warning("ONNX 导出失败，查询改用 torch 运行模型：%s", failure)
            return None
        for old in folder.parent.glob(f"{model_dir.name}-*"):  # exports of earlier versions of the files
            if old != folder and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
    info = json.loads(marker.read_text(encoding="utf-8"))
    if not info.get("supported"):
        log.warning("此向量模型不能用 ONNX 运行（%s），查询改用 torch。", info.get("reason"))
        return None
    return folder


def reading_order(pieces: list[str], rows: int, fixed: set[int]) -> np.ndarray:
    """order[r] = the token id whose vector goes to row r: Chinese pieces first, then ASCII, then the
    rest, each in id order (SentencePiece ids follow frequency); fixed ids keep their rows."""
    def group(token: int) -> int:
        if token >= len(pieces):
            return 3  # rows past the tokenizer's vocabulary: never read
        piece = pieces[token]
        return 0 if CJK.search(piece) else 1 if piece.replace("▁", "").isascii() else 2

    movable = [t for t in range(rows) if t not in fixed]
    order = np.arange(rows, dtype=np.int64)
    order[movable] = sorted(movable, key=lambda t: (group(t), t))
    return order


def export(model_dir: Path, folder: Path) -> None:
    """Runs in the child: export, check against torch, then move the folder into place."""
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    work.chmod(0o755)  # readable by a server running as another user, as the model folder is
    try:
        try:
            info = _export_into(model_dir, work)
        except UnsupportedModel as exc:
            work.joinpath(MARKER).write_text(json.dumps({"supported": False, "reason": str(exc)}, ensure_ascii=False),
                                             encoding="utf-8")
            _move(work, folder)
            raise
        work.joinpath(MARKER).write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
        _move(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _move(work: Path, folder: Path) -> None:
    """Put the finished export in place; another process that finished first wins."""
    try:
        os.replace(work, folder)
    except OSError:
        if not (folder / MARKER).exists():
            raise


def _export_into(model_dir: Path, work: Path) -> dict[str, Any]:
    import warnings

    import onnx
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling

    from .embedding import agrees
    from .onnx_encoder import OnnxEncoder, padded
    from .unigram import QueryTokenizer

    warnings.filterwarnings("ignore")  # the tracer's notes on Python conditions are expected
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    modules = list(model)
    pooling = modules[1] if len(modules) > 1 else None
    kinds = [type(m).__name__ for m in modules]
    if (len(modules) not in (2, 3) or kinds[0] != "Transformer" or not isinstance(pooling, Pooling)
            or (len(modules) == 3 and not isinstance(modules[2], Normalize))):
        raise UnsupportedModel(f"模块组成为 {kinds}")
    if pooling.pooling_mode not in POOLINGS or not pooling.include_prompt:
        raise UnsupportedModel(f"池化方式为 {pooling.pooling_mode}")
    light = QueryTokenizer.load(model_dir / "tokenizer.json")
    if light is None or not agrees(light, model.tokenizer):
        raise UnsupportedModel("分词器不是 search/unigram.py 能复现的 Unigram 分词器")
    encoded = [light.head + light.encode(p) + light.tail for p in PROBES]
    ids, mask = padded(encoded, light.pad_id)
    with torch.inference_mode():
        expected = model[1](model[0]({"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}))
        expected = expected["sentence_embedding"].float().numpy()

    network = model[0].auto_model.eval()
    weight = network.get_input_embeddings().weight
    vocab = model.tokenizer.get_vocab()
    pieces = [""] * len(vocab)
    for piece, token in vocab.items():
        if token < len(pieces):
            pieces[token] = piece
    fixed = set(model.tokenizer.all_special_ids) | {light.pad_id, *light.head, *light.tail}
    order = reading_order(pieces, weight.shape[0], fixed)
    with torch.no_grad():
        weight.copy_(weight[torch.from_numpy(order)].clone())
    rows = np.empty_like(order)
    rows[order] = np.arange(len(order))

    class Hidden(torch.nn.Module):  # the transformer's last hidden state from ids and mask, nothing else
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    inline = work / "inline.onnx"
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(Hidden(network), (torch.from_numpy(rows[ids]), torch.from_numpy(mask)), str(inline),
                      dynamo=False, input_names=["input_ids", "attention_mask"], output_names=["hidden"],
                      opset_version=OPSET, dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes})
    graph = onnx.load(str(inline))
    onnx.save_model(graph, str(work / GRAPH), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=EMBEDDINGS, size_threshold=weight.numel() * weight.element_size())
    inline.unlink()
    np.save(work / ROWS, rows)
    info = {"supported": True, "export_version": EXPORT_VERSION, "source": str(model_dir),
            "dim": int(model.get_embedding_dimension()), "max_seq_length": int(model.max_seq_length),
            "pooling": pooling.pooling_mode, "pad_id": int(light.pad_id)}

    got = OnnxEncoder(work, info).pooled(encoded)
    error = float(np.abs(got - expected).max())
    if not error <= TOLERANCE:
        raise RuntimeError(f"ONNX 模型与 torch 模型的输出相差 {error:.2e}，超过 {TOLERANCE}")
    return info | {"max_error": error}


def main(argv: list[str]) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    model_dir, folder = Path(argv[0]), Path(argv[1])
    try:
        export(model_dir, folder)
    except UnsupportedModel as exc:
        print(f"不支持：{exc}", file=sys.stderr)
        return UNSUPPORTED_EXIT
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
