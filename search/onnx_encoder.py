"""The embedding model's transformer on onnxruntime, from an export by search/onnx_export.py:
pooled vectors from token ids, as sentence-transformers' Transformer and Pooling modules give
them, in a process that never imports torch."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .onnx_export import GRAPH, MARKER, ROWS


class OnnxEncoder:
    def __init__(self, folder: Path, info: dict[str, Any] | None = None) -> None:
        import onnxruntime

        self.info = info if info is not None else json.loads((folder / MARKER).read_text(encoding="utf-8"))
        self.dim = int(self.info["dim"])
        self.max_seq_length = int(self.info["max_seq_length"])
        self.pooling = str(self.info["pooling"])
        self.pad_id = int(self.info["pad_id"])
        self.rows = np.load(folder / ROWS)  # token id -> row of the reordered embedding matrix
        options = onnxruntime.SessionOptions()
        # No arena: a server's few small runs would otherwise keep their largest buffers for good.
        options.enable_cpu_mem_arena = False
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy threads between queries
        self.session = onnxruntime.InferenceSession(str(folder / GRAPH), options, providers=["CPUExecutionProvider"])

    def pooled(self, encoded: list[list[int]]) -> np.ndarray:
        """Pooled vectors (before normalisation) of texts given as ids with their special tokens."""
        ids, mask = padded(encoded, self.pad_id)
        hidden = self.session.run(None, {"input_ids": self.rows[ids], "attention_mask": mask})[0]
        if self.pooling == "cls":
            return np.ascontiguousarray(hidden[:, 0], dtype=np.float32)
        weights = mask[:, :, None].astype(np.float32)
        return ((hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)).astype(np.float32)


def padded(encoded: list[list[int]], pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Ids padded on the right (as the tokenizer pads) and the attention mask, int64."""
    longest = max(len(e) for e in encoded)
    ids = np.full((len(encoded), longest), pad, dtype=np.int64)
    mask = np.zeros((len(encoded), longest), dtype=np.int64)
    for n, e in enumerate(encoded):
        ids[n, : len(e)] = e
        mask[n, : len(e)] = 1
    return ids, mask
