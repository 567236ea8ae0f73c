"""Search-as-you-type: ranking of the suggester, the engine's titles, and /api/suggest."""
from __future__ import annotations

import pytest

from search.suggest import SHIPPED_DICT, Suggester, dictionary_words

TITLES = ["区司法局开展法律服务进企业活动", "矿山街道“社会组织+网格”织密服务群众“心网”", "网格员培训会召开",
          "网格员培训会召开", "区人社局推动社保服务下沉", "ＡＩ赋能政务服务"]
DATES = ["2023-05-01", "2024-06-17", "2022-01-01", "2024-09-01", None, "2024-01-01"]


@pytest.fixture(scope="module")
def suggester():
    return Suggester(TITLES, ["网格员", "网格化", "微网格", "专属网格", "法律服务"], dates=DATES)


def texts(found):
    return [s["text"] for s in found]


def test_prefix_before_infix_words_before_titles(suggester):
    found = suggester.suggest("网格", 10)
    assert texts(found) == ["网格化", "网格员", "网格员培训会召开", "微网格", "专属网格",
                            "矿山街道“社会组织+网格”织密服务群众“心网”"]
    assert [s["kind"] for s in found] == ["word", "word", "title", "word", "word", "title"]


def test_a_word_inside_a_title_is_found(suggester):
    assert "区司法局开展法律服务进企业活动" in texts(suggester.suggest("法律", 10))
    assert texts(suggester.suggest("心网", 10)) == ["矿山街道“社会组织+网格”织密服务群众“心网”"]


def test_titles_newest_first_and_once(suggester):
    assert texts(suggester.suggest("服务", 10)) == [
        "法律服务", "矿山街道“社会组织+网格”织密服务群众“心网”", "ＡＩ赋能政务服务", "区司法局开展法律服务进企业活动",
        "区人社局推动社保服务下沉"]  # the undated title last
    assert texts(suggester.suggest("培训", 10)) == ["网格员培训会召开"]  # two issues, one suggestion


def test_limit_blank_and_exact(suggester):
    assert len(suggester.suggest("服务", 2)) == 2
    assert suggester.suggest("", 5) == [] and suggester.suggest("   ", 5) == []
    assert suggester.suggest("量子计算", 5) == []
    assert "网格员" not in texts(suggester.suggest("网格员", 5))  # what was typed is not suggested back


def test_full_width_and_case_fold(suggester):
    assert texts(suggester.suggest("ai", 5)) == ["ＡＩ赋能政务服务"]
    assert texts(suggester.suggest("ＡＩ", 5)) == ["ＡＩ赋能政务服务"]


def test_completes_the_last_part_and_keeps_operators(suggester):
    assert texts(suggester.suggest("融资 网格", 2)) == ["融资 网格化", "融资 网格员"]
    assert texts(suggester.suggest("-网格", 1)) == ["-网格化"]
    assert texts(suggester.suggest('"网格', 1)) == ['"网格化"']
    assert texts(suggester.suggest("“网格", 1)) == ["“网格化”"]
    assert suggester.suggest("融资 ", 5) == []  # a new word has not started yet


def test_dictionary_words_read_the_shipped_file(tmp_path):
    extra = tmp_path / "more.txt"
    extra.write_text("# comment\n数字乡村 20 n\n\n网格员 5\n", encoding="utf-8")
    words = dictionary_words(SHIPPED_DICT, extra, tmp_path / "missing.txt")
    assert {"政银企", "网格员", "数字乡村"} <= set(words) and words.count("网格员") == 1


def test_engine_suggests_sample_titles(engine):
    found = engine.suggest("融资", 8)
    assert "区先进制造业开发区着力破解企业融资难题" in texts(found)
    assert all("融资" in s["text"] for s in found)


def test_api_suggest(client):
    from tests.test_web_api import validate
    from web.openapi import openapi_document

    spec = openapi_document(client.application.config["BULLETIN_SETTINGS"])
    r = client.get("/api/suggest", query_string={"q": "网格", "limit": 3})
    assert r.status_code == 200
    validate(spec, r, "SuggestResponse")
    assert r.get_json()["query"] == "网格" and len(r.get_json()["suggestions"]) == 3
    default = client.get("/api/suggest", query_string={"q": "服务"}).get_json()["suggestions"]
    assert len(default) == client.application.config["BULLETIN_SETTINGS"].search.suggest_limit
    assert client.get("/api/suggest", query_string={"q": ""}).get_json()["suggestions"] == []
    for query, message in [({}, "缺少参数 q"), ({"q": "网", "limit": 0}, "参数 limit 不能小于 1"),
                           ({"q": "网", "limit": "x"}, "参数 limit 应为整数"), ({"q": "网" * 501}, "参数 q 过长")]:
        bad = client.get("/api/suggest", query_string=query)
        assert bad.status_code == 400 and message in bad.get_json()["error"]["message"]
        validate(spec, bad, "Error")


@pytest.mark.slow
def test_suggestions_once_the_first_generation_is_gone(tmp_path, settings, engine):
    """A server keeps its open segments across generations, and the generation a segment was first
    opened in is deleted two indexing runs later: titles are read from the current one (make soak
    found /api/suggest answering 500 after the third run)."""
    import json

    from indexer.build import build
    from search.service import SearchService

    cfg = settings.with_index(tmp_path / "ix")

    def add(n: int) -> None:
        path = tmp_path / f"f{n}.jsonl"
        path.write_text(json.dumps({"title": f"区司法局融资服务专场{n}", "text": f"一是开展融资服务第{n}场。", "unit": "区司法局",
                                    "date": f"2024-01-0{n + 1}"}, ensure_ascii=False) + "\n", encoding="utf-8")
        build([path], cfg, embedder=engine.embedder)

    add(0)
    service = SearchService(cfg, embedder=engine.embedder)  # opens generation 1's segment
    add(1)
    add(2)
    assert not (tmp_path / "ix" / "gen-000001").exists()
    assert texts(service.engine.suggest("融资服务专场", 10)) == [f"区司法局融资服务专场{n}" for n in (2, 1, 0)]
