"""The draft check finds text reuse: marks from shingle overlap, not from cosine.

Precision/recall on fixed (seeded) pairs built from the development set, with the real model
over a real index of the sample bulletins plus all 435 dev items (bench/reuse_pairs.py,
bench/draft_check.py; the README reports the full run)."""
from __future__ import annotations

import html
import re

import pytest

from tests.inputs import indexed_items

from bench.draft_check import dev_rows, evaluate
from bench.reuse_pairs import build_pairs, load_dev, reword, sentences
from search.reuse import NEAR, PARTIAL, ReuseRule, compare, excerpt, fold, mark_spans

PER_KIND = 32  # source items drawn (seeded) for the engine run: about 150 drafts
ISSUE_TITLE = "区先进制造业开发区着力破解企业融资难题"


@pytest.fixture(scope="module")
def dev_engine(dev_index, engine):
    from search.engine import SearchEngine

    dev = SearchEngine(dev_index, embedder=engine.embedder)
    yield dev
    dev.close()


@pytest.fixture(scope="module")
def dev():
    return load_dev()


@pytest.mark.slow
def test_precision_and_recall_on_fixed_pairs(dev_engine, dev):
    items, topic = dev
    pairs = build_pairs(items, topic, per_kind=PER_KIND)
    report = evaluate(dev_engine, pairs)
    kinds = report["kinds"]
    assert set(kinds) == {"exact", "format", "reworded", "rewritten", "paragraph", "same_topic", "unrelated"}
    for name in ("exact", "format", "reworded", "rewritten"):  # copies: always 几乎相同
        assert kinds[name]["pairs"] >= 10 if name == "rewritten" else kinds[name]["pairs"] >= PER_KIND - 2
        assert kinds[name]["recall"] == 1.0, (name, kinds[name])
    assert kinds["paragraph"]["recall"] == 1.0, kinds["paragraph"]  # a reused paragraph: 部分重复 ...
    assert NEAR not in kinds["paragraph"]["engine"]  # ... never 几乎相同
    for name in ("same_topic", "unrelated"):  # neighbours: never marked, by the engine or by the rule alone
        assert kinds[name]["engine"] == {"None": kinds[name]["pairs"]}, (name, kinds[name])
        assert kinds[name]["pair"] == {"None": kinds[name]["pairs"]}, (name, kinds[name])
    assert report["precision"] == {NEAR: 1.0, PARTIAL: 1.0}, report["marks"]
    assert report["marks"][NEAR]["correct"] == sum(kinds[k]["pairs"] for k in ("exact", "format", "reworded", "rewritten"))
    assert report["marks"][PARTIAL]["correct"] == kinds["paragraph"]["pairs"]


@pytest.mark.slow
def test_rule_alone_on_every_pair(dev_engine, dev):
    """All 435 items and every same-topic pair, the rule applied to draft and indexed item directly."""
    items, topic = dev
    rows = dev_rows(dev_engine)
    rule = ReuseRule.from_settings(dev_engine.settings.search)
    wrong = []
    pairs = build_pairs(items, topic)
    texts = {row: fold(dev_engine.snapshot.item(row).text) for row in rows.values()}
    for pair in pairs:
        label = compare(fold(pair.draft), texts[rows[pair.target]]).label(rule)
        if label != pair.expect:
            wrong.append((pair.kind, pair.target, label))
    assert len(pairs) > 5000 and wrong == []


def test_the_issue_example(engine):
    """The body of 区先进制造业开发区着力破解企业融资难题 scored cosine 0.9694 and was not marked."""
    item = next(i for i in indexed_items(engine) if i.title == ISSUE_TITLE)
    pasted = engine.similar_text(item.text)["results"][0]
    assert pasted["id"] == item.id and pasted["near_duplicate"] and pasted["reuse"] == NEAR
    assert pasted["overlap"] == 1.0 and pasted["item_overlap"] == 1.0
    parts = sentences(item.text)
    changed = [n for n, s in enumerate(parts) if reword(s) != s][:2]
    reworded = "".join(reword(s) if n in changed else s for n, s in enumerate(parts))
    assert len(changed) == 2 and reworded != item.text
    first = engine.similar_text(reworded)["results"][0]
    assert first["id"] == item.id and first["near_duplicate"] and 0.7 <= first["overlap"] < 1.0
    others = engine.similar_text(item.text, limit=20)["results"][1:]
    assert not any(r["reuse"] for r in others) and others[0]["label"]  # close in meaning, not copies


def test_passages_point_at_the_same_text_on_both_sides(engine):
    item = next(i for i in indexed_items(engine) if i.title == ISSUE_TITLE)
    parts = sentences(item.text)
    opening, closing = "本周三上午，街道召开专题会议，听取各社区近期重点任务进展情况汇报。", "下一步，我们将持续总结经验做法。"
    draft = f"{opening}\n{''.join(parts[1:3])}\n{closing}"
    result = next(r for r in engine.similar_text(draft)["results"] if r["id"] == item.id)
    assert result["reuse"] == PARTIAL and not result["near_duplicate"]
    d_spans, i_spans = result["passages"]["draft"], result["passages"]["item"]
    assert d_spans and i_spans
    same = lambda a, b: fold(a).codes.tolist() == fold(b).codes.tolist()  # noqa: E731
    assert same("".join(draft[s:e] for s, e in d_spans), "".join(item.text[s:e] for s, e in i_spans))
    assert "本周三上午" not in "".join(draft[s:e] for s, e in d_spans)
    assert "<mark>" in result["snippet"] and "<mark>" in result["draft_snippet"]


def test_unrelated_draft_has_no_marks(engine):
    draft = "今年以来，我区扎实推进老旧小区改造，共完成外墙保温、管网更新等项目十二个，惠及居民三千余户。"
    res = engine.similar_text(draft)
    assert not any(r["reuse"] or r["near_duplicate"] for r in res["results"])
    assert "<mark>" not in res["marked_text"]


def test_highlights_are_escaped():
    text = "<script>alert(1)</script>一段相同的文字在这里出现了很多次 & “引号”"
    marked = mark_spans(text, [(25, 45)], 0, len(text))
    assert "<script>" not in marked and "&lt;script&gt;" in marked
    assert re.fullmatch(r"[^<>]*<mark>[^<>]*</mark>[^<>]*", marked)
    assert html.unescape(marked.replace("<mark>", "").replace("</mark>", "")) == text
    assert excerpt(text, []) == ""


def test_folding_keeps_offsets():
    text = "Ａ，ｂ 1２。\n融资"
    folded = fold(text)
    assert "".join(map(chr, folded.codes)) == "ab12融资"
    assert [text[o] for o in folded.offsets] == ["Ａ", "ｂ", "1", "２", "融", "资"]


def test_similar_api_reports_overlap(client, engine):
    from tests.test_web_api import validate
    from web.openapi import openapi_document

    item = next(i for i in indexed_items(engine) if i.title == ISSUE_TITLE)
    r = client.post("/api/similar", json={"text": item.text, "limit": 5})
    validate(openapi_document(engine.settings), r, "SimilarResponse")
    data = r.get_json()
    top = data["results"][0]
    assert top["id"] == item.id and top["reuse"] == "near" and top["overlap"] == 1.0
    assert sum(e - s for s, e in top["passages"]["item"]) >= 0.95 * len(item.text)
    assert data["marked_text"].count("<mark>") >= 1
    by_id = client.get(f"/api/items/{item.id}/similar?limit=3")
    validate(openapi_document(engine.settings), by_id, "SimilarResponse")


def test_draft_page_states_the_rule_and_marks_both_sides(client, engine):
    item = next(i for i in indexed_items(engine) if i.title == ISSUE_TITLE)
    page = client.post("/draft", data={"text": item.text}).get_data(as_text=True)
    assert "几乎相同" in page and 'class="near-dup"' in page
    assert "相同的文字占草稿的 70% 以上，同时占该条目的 70% 以上" in page
    assert page.count('class="side side-draft"') >= 1 and "<mark>" in page.split('id="draft-marked"')[1]
    assert "相似度达到" not in page  # the old cosine rule is gone


@pytest.mark.subprocess
def test_cli_similar_text_shows_the_mark(sample_index, engine):
    import subprocess
    import sys
    from pathlib import Path

    item = next(i for i in indexed_items(engine) if i.title == ISSUE_TITLE)
    out = subprocess.run([str(Path(sys.executable).parent / "bulletin"), "--index", str(sample_index.index.path),
                          "similar", "--text", item.text, "--limit", "3"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:2] == ["重复", "相似度"]
    assert "几乎相同 100%" in lines[2] and item.id in lines[2]


def test_lone_surrogate_is_a_400(client):
    r = client.post("/api/similar", data=b'{"text": "\\ud800\\u878d\\u8d44\\u96be\\u9898"}', content_type="application/json")
    assert r.status_code == 400 and "无效字符" in r.get_json()["error"]["message"]


@pytest.mark.slow
def test_similar_labels_are_the_thresholds_measured_on_the_dev_set(dev_engine, settings):
    """config.toml [similar] holds what `python -m bench.similar_labels` measures: on the dev pairs,
    the centred cosine separates same-topic from different-topic pairs far better than the raw one,
    and each label's threshold gives its share of same-topic pairs."""
    import json

    import numpy as np

    from bench.reuse_pairs import DEV_DIR
    from bench.similar_labels import PRECISION, judged_rows, measure, topic_pairs

    qrels = json.loads((DEV_DIR / "qrels.json").read_text(encoding="utf-8"))
    same, different = topic_pairs(qrels, judged_rows(dev_engine, qrels))
    assert len(same) > 1500 and len(different) > 50000
    snap = dev_engine.snapshot
    measured = measure(snap.vectors_of(np.arange(snap.size)), snap.background.mean, same, different)
    assert measured["centred"]["auc"] >= 0.98 and measured["raw"]["auc"] <= measured["centred"]["auc"] - 0.03
    labels = measured["centred"]["labels"]
    cfg = settings.similar
    shipped = {"很相似": cfg.very_similar, "相似": cfg.similar, "相关": cfg.related}
    for label, found in labels.items():
        assert found["threshold"] == pytest.approx(shipped[label], abs=0.005), (label, found)
        assert found["precision"] >= PRECISION[label] - 0.01 and found["recall"] >= 0.6, (label, found)


def test_candidates_are_the_best_rows_by_meaning_and_by_words_ties_by_row():
    """Against a sort of every row: the n best cosines (among the rows scored exactly, when a
    scan was two-staged) and the n best positive keyword scores, within the mask."""
    import numpy as np

    from search import reuse

    rng = np.random.default_rng(11)
    rows = 5000
    cosines = rng.integers(0, 40, rows).astype(np.float32) / 40  # many ties
    keyword = np.where(rng.random(rows) < 0.3, rng.integers(0, 25, rows), 0).astype(np.float32)
    mask = rng.random(rows) < 0.8
    scored = np.sort(rng.choice(rows, 700, replace=False))

    def best(order_rows: np.ndarray, scores: np.ndarray, n: int) -> set[int]:
        order_rows = order_rows[mask[order_rows]]
        return set(order_rows[np.lexsort((order_rows, -scores[order_rows]))][:n].tolist())

    every, listed = np.arange(rows), np.flatnonzero(keyword > 0)
    for n in (1, 7, 50, 4000):
        assert set(reuse.candidates(cosines, keyword, mask, n).tolist()) == \
            best(every, cosines, n) | best(listed, keyword, n), n
        assert set(reuse.candidates(cosines, keyword, mask, n, scored).tolist()) == \
            best(scored, cosines, n) | best(listed, keyword, n), n
