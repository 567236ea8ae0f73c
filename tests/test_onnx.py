"""The model on onnxruntime (search/onnx_export.py, search/onnx_encoder.py): the vectors of the
torch model in a process that never imports torch, from an export made once, checked, and made
again when the model changes or the export is damaged."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from search.config import PROJECT_ROOT
from search.embedding import Embedder, resolve_model
from search.onnx_export import CJK, MARKER, ROWS, TOLERANCE, ensure_exported, reading_order
from search.unigram import QueryTokenizer

LONG_QUERY = "区司法局为企业提供法律咨询服务，矿山街道组织志愿者开展环境卫生整治。" * 30  # beyond one window
QUERIES = ["社区网格化管理", "帮助中小企业解决融资难", "xyzzy 12345 ＡＢＣ", "短", LONG_QUERY]
PASSAGES = [("关于网格化管理", "区委办公室召开全区网格化管理工作推进会，部署下一阶段重点任务。" * 40),
            ("融资", "区金融办组织银企对接会，帮助中小企业解决融资难问题。"), ("", "短")]
CLOSE = 1e-5  # unit vectors from onnxruntime and torch at fp32 differ by about 1e-7


@pytest.fixture(scope="module")
def fp32(settings):
    """The torch model at fp32: what the export must reproduce."""
    return Embedder(replace(settings.embedding, precision="fp32", query_runtime="torch"), PROJECT_ROOT)


def _linked_model(settings, folder: Path, edit: dict[str, dict] | None = None) -> Path:
    """A model folder of links to the default model's files, with some JSON files rewritten."""
    source = Path(resolve_model(settings.embedding, PROJECT_ROOT))
    folder.mkdir()
    for path in source.iterdir():
        (folder / path.name).symlink_to(path, target_is_directory=path.is_dir())
    for name, changes in (edit or {}).items():
        parent = (folder / name).parent
        if parent.is_symlink():  # a linked sub-folder becomes a folder of links, so the source stays untouched
            parent.unlink()
            parent.mkdir()
            for path in (source / name).parent.iterdir():
                (parent / path.name).symlink_to(path)
        config = json.loads((source / name).read_text(encoding="utf-8"))
        (folder / name).unlink()
        (folder / name).write_text(json.dumps(dict(config, **changes)), encoding="utf-8")
    return folder


def test_reading_order_puts_chinese_then_ascii_first_and_keeps_special_rows():
    pieces = ["<s>", "<pad>", "abc", "中", "é", "▁国", "▁x", "</s>"]
    order = reading_order(pieces, rows=9, fixed={0, 1, 7})
    assert order.tolist() == [0, 1, 3, 5, 2, 6, 4, 7, 8]  # 8: a row past the vocabulary, last


@pytest.mark.subprocess
def test_a_lean_process_embeds_without_torch(settings, fp32, tmp_path):
    """A server's embedder in a fresh process: queries (one in windows), items and passages, token
    counts and the model's sizes as the torch model gives them, and torch never imported."""
    script = f"""
import json, sys
import numpy as np
from search.config import PROJECT_ROOT, load_settings
from search.embedding import Embedder
from search.passages import split_items
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_onnx import QUERIES, PASSAGES
e = Embedder(load_settings().embedding, PROJECT_ROOT, lean=True)
queries = np.stack([e.embed_query(q) for q in QUERIES])
items = e.embed_items(split_items(PASSAGES, 200))
np.savez({str(tmp_path / "onnx.npz")!r}, queries=queries, items=items.items, passages=items.passages)
print(json.dumps({{"torch": "torch" in sys.modules, "onnx": e._encoder() is not None, "dim": e.dim, "window": e.window,
                  "counts": e.token_counts([t for _, t in PASSAGES], "passage: ")}}))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["onnx"] and not report["torch"], report
    assert (report["dim"], report["window"]) == (fp32.dim, fp32.window)
    assert report["counts"] == fp32.token_counts([t for _, t in PASSAGES], "passage: ")
    assert len(fp32.query_tokenizer.encode("query: " + LONG_QUERY)) > fp32.window
    got = np.load(tmp_path / "onnx.npz")
    from search.passages import split_items

    want = fp32.embed_items(split_items(PASSAGES, 200))
    assert np.abs(got["queries"] - np.stack([fp32.embed_query(q) for q in QUERIES])).max() < CLOSE
    assert np.abs(got["items"] - want.items).max() < CLOSE
    assert np.abs(got["passages"] - want.passages).max() < CLOSE


@pytest.mark.subprocess
def test_export_is_checked_and_reads_chinese_rows_from_the_front(settings):
    model = Path(resolve_model(settings.embedding, PROJECT_ROOT))
    folder = ensure_exported(model, settings.embedding.cache_dir)
    assert folder is not None
    info = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    assert info["supported"] and info["max_error"] <= TOLERANCE and info["pooling"] == "mean"
    rows = np.load(folder / ROWS)
    assert np.array_equal(np.sort(rows), np.arange(len(rows)))  # a permutation
    light = QueryTokenizer.load(model / "tokenizer.json")
    for special in (*light.head, *light.tail, light.pad_id, light.unk_id):
        assert rows[special] == special
    pieces = json.loads((model / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    chinese = sum(1 for piece, _ in pieces if CJK.search(piece))
    ids = light.encode("区委办公室召开全区网格化管理推进会，帮助中小企业解决融资难、担保难问题")
    hanzi = [t for t in ids if CJK.search(pieces[t][0])]
    assert len(hanzi) > 10 and max(rows[hanzi]) < chinese + 4  # right after the four special tokens
    assert max(rows[ids]) < len(rows) / 10  # with "▁" and punctuation: the first tenth of the file


@pytest.mark.subprocess
@pytest.mark.slow
def test_exports_are_made_again_when_damaged_or_when_the_model_changes(settings, tmp_path):
    model = _linked_model(settings, tmp_path / "e5", {"config.json": {}})
    cache = tmp_path / "cache"
    embedding = replace(settings.embedding, model=str(model), cache_dir=cache)

    def exports() -> list[Path]:
        return sorted(p for p in (cache / "onnx").iterdir() if not p.name.startswith("."))

    first = Embedder(embedding, PROJECT_ROOT, lean=True)
    vector = first.embed_query("融资")
    assert first._encoder() is not None and len(exports()) == 1
    made = exports()[0]
    (made / "model.onnx").write_bytes(b"not a model")  # damaged: removed, exported again
    again = Embedder(embedding, PROJECT_ROOT, lean=True)
    assert np.array_equal(again.embed_query("融资"), vector) and again._encoder() is not None
    assert exports() == [made] and (made / "model.onnx").stat().st_size > 1_000_000
    stat = (model / "config.json").stat()
    os.utime(model / "config.json", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the model changed
    changed = Embedder(embedding, PROJECT_ROOT, lean=True)
    assert np.array_equal(changed.embed_query("融资"), vector) and changed._encoder() is not None
    assert len(exports()) == 1 and exports() != [made]  # the old export is gone


@pytest.mark.subprocess
@pytest.mark.parametrize("edit, reason", [
    ({"sentence_bert_config.json": {"do_lower_case": True}}, "分词器"),
    ({"1_Pooling/config.json": {"pooling_mode": "max"}}, "池化"),
], ids=["lowercasing tokenizer", "max pooling"])
def test_a_model_onnx_cannot_reproduce_stays_on_torch(settings, tmp_path, monkeypatch, edit, reason):
    """The child refuses the model and records why; later processes do not try again."""
    model = _linked_model(settings, tmp_path / "e5-changed", edit)
    embedding = replace(settings.embedding, model=str(model), cache_dir=tmp_path / "cache")
    lean = Embedder(embedding, PROJECT_ROOT, lean=True)
    assert lean._encoder() is None
    marker = next((tmp_path / "cache" / "onnx").glob("e5-changed-*")) / MARKER
    info = json.loads(marker.read_text(encoding="utf-8"))
    assert not info["supported"] and reason in info["reason"]

    def refuse(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(subprocess, "run", refuse)
    assert ensure_exported(model, tmp_path / "cache") is None
