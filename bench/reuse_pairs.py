"""Fixed (seeded) draft/item pairs for measuring the draft check's reuse marks.

Built from the development set (../shared/eval/dev: real items from other local governments,
a copy of ../shared/eval/dev; third-party text used for measurement only). Kinds:

  exact       the body pasted unchanged                                        -> 几乎相同
  format      the same with punctuation widths, spaces and line breaks changed -> 几乎相同
  reworded    two sentences reworded (synonyms from a small table, first clause
              moved to the end)                                                -> 几乎相同
  rewritten   two sentences replaced by new ones, where the two are at most a
              fifth of the item                                                -> 几乎相同
  paragraph   two or more consecutive sentences (a quarter to half of the item)
              inside a new text                                                -> 部分重复, not 几乎相同
  same_topic  another item on the same topic (the topic query judged both 2)   -> no mark
  unrelated   an item on another topic                                         -> no mark

"New text" comes from FILLER, sentences written for this file (not in any index), so the
only reuse in a draft is the one the kind puts there.
"""
from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEV_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "dev"  # not shipped: third-party text
TOPIC_QUERIES = 32  # the first 32 queries of qrels.json are the dev set's topics
SEED = 11
KINDS = ("exact", "format", "reworded", "rewritten", "paragraph", "same_topic", "unrelated")
REWRITE_MAX_SHARE = 0.2  # "rewritten": the two replaced sentences are at most this share of the item
PARAGRAPH_SHARE = (0.25, 0.5)  # "paragraph": the reused run of sentences is this share of the item

# Rewording table: word -> a synonym a writer might use instead (applied once, longest first).
SYNONYMS = {
    "开展": "举办", "进一步": "持续", "积极": "主动", "加强": "强化", "提升": "提高", "推进": "推动",
    "有效": "切实", "全面": "全方位", "通过": "借助", "确保": "保证", "及时": "第一时间", "目前": "当前",
    "近日": "日前", "同时": "与此同时", "深入": "扎实", "重点": "着重", "居民": "群众", "群众": "居民",
    "组织": "安排", "不断": "持续", "累计": "总计", "截至目前": "到目前为止", "了解": "掌握", "要求": "强调",
    "召开": "举行", "宣传": "宣讲", "解决": "化解", "帮助": "协助", "实现": "达成", "进行": "开展",
    "检查": "排查", "发放": "分发", "参加": "参与", "各类": "各种", "增强": "增进", "为了": "为",
    "工作": "事务", "企业": "市场主体", "社区": "小区", "活动": "行动", "全体": "所有", "相关": "有关",
}
_SYNONYM = re.compile("|".join(sorted(map(re.escape, SYNONYMS), key=len, reverse=True)))

FILLER = [
    "本周三上午，街道召开专题会议，听取各社区近期重点任务进展情况汇报。",
    "会上，分管负责同志逐项点评，要求各责任科室对照清单抓好落实。",
    "下一步，我们将持续总结经验做法，推动各项举措落地见效。",
    "据统计，今年以来全街道共收集意见建议一百二十余条，均已分类交办。",
    "此次活动得到辖区单位的大力支持，参与人员纷纷表示收获颇丰。",
    "针对发现的短板弱项，街道建立问题台账，明确整改时限和责任人。",
    "与会人员围绕如何进一步提升服务质效展开热烈讨论，提出了不少可行建议。",
    "下阶段将把这项做法在全区范围内推广，形成可复制的经验。",
    "街道党工委书记带队深入一线，实地察看项目推进情况并现场协调解决难题。",
    "各社区结合自身实际，制定了切实可行的实施方案和时间表。",
    "截至上月底，相关台账已全部建立，群众满意度明显提高。",
    "活动现场气氛热烈，志愿者们耐心细致地为来访群众答疑解惑。",
]

_SENTENCE = re.compile(r"[^。！？!?；;\n]+(?:[。！？!?；;]+[”’\"]?|\n|$)")


@dataclass(frozen=True)
class Pair:
    kind: str
    draft: str
    target: str  # dev id of the item the check is asked about
    source: str  # dev id the draft was made from (its own indexed copy is a true mark)
    expect: str | None  # "near", "partial" or None


def load_dev(folder: Path = DEV_DIR) -> tuple[list[dict], dict[str, str]]:
    """The dev items, and each item's topic (the topic query that judged it 2)."""
    items = [json.loads(line) for line in (folder / "items.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    qrels = json.loads((folder / "qrels.json").read_text(encoding="utf-8"))
    topic: dict[str, str] = {}
    for query in qrels["queries"][:TOPIC_QUERIES]:
        for item_id, grade in query["judgments"].items():
            if grade == 2:
                topic.setdefault(item_id, query["query"])
    return items, topic


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.findall(text) if s.strip()]


def reword(sentence: str) -> str:
    """Synonyms swapped in, and the first clause moved to the end: what an editor does to a sentence."""
    body = _SYNONYM.sub(lambda m: SYNONYMS[m.group(0)], sentence)
    end = re.search(r"[。！？!?；;]*[”’\"]?\s*$", body)
    core, stop = body[: end.start()], body[end.start():]
    clauses = re.split(r"[，,]", core)
    if len(clauses) >= 2 and all(c.strip() for c in clauses):
        core = "，".join(clauses[1:] + clauses[:1])
    return core + stop


def reformat(text: str, rng: random.Random) -> str:
    """Same words, different typing: punctuation widths swapped, spaces and line breaks inserted."""
    swap = str.maketrans({"，": ",", ",": "，", "：": ":", ":": "：", "；": ";", ";": "；", "（": "(", "(": "（",
                          "）": ")", ")": "）", "“": '"', "”": '"', "！": "!", "？": "?"})
    out = text.translate(swap).replace("。", "。 ")
    wrapped, line = [], 0
    for ch in out:  # re-wrapped lines, as text copied out of a PDF
        wrapped.append(ch)
        line += 1
        if line >= rng.randint(28, 40) and ch not in "\n":
            wrapped.append("\n")
            line = 0
    return "  " + "".join(wrapped).replace("\n\n", "\n \n") + "\n"


def _two_indices(candidates: list[int], rng: random.Random) -> list[int] | None:
    return sorted(rng.sample(candidates, 2)) if len(candidates) >= 2 else None


def build_pairs(items: list[dict], topic: dict[str, str], per_kind: int | None = None, seed: int = SEED) -> list[Pair]:
    """All pairs (or per_kind sources per kind, chosen with the seed), in a fixed order."""
    rng = random.Random(seed)
    chosen = list(items) if per_kind is None else rng.sample(items, min(per_kind, len(items)))
    by_topic: dict[str, list[str]] = {}
    for item in items:
        if item["id"] in topic:
            by_topic.setdefault(topic[item["id"]], []).append(item["id"])
    topics_of = {i["id"]: topic.get(i["id"]) for i in items}
    pairs: list[Pair] = []
    for item in chosen:
        pairs += list(_pairs_for(item, items, by_topic, topics_of, random.Random(f"{seed}-{item['id']}")))
    return pairs


def _pairs_for(item: dict, items: list[dict], by_topic: dict[str, list[str]], topics_of: dict[str, str | None],
               rng: random.Random) -> Iterator[Pair]:
    iid, body = item["id"], item["text"]
    yield Pair("exact", body, iid, iid, "near")
    yield Pair("format", reformat(body, rng), iid, iid, "near")
    parts = sentences(body)
    changeable = [n for n, s in enumerate(parts) if reword(s) != s and len(s) >= 8]
    picked = _two_indices(changeable, rng)
    if picked:
        yield Pair("reworded", "".join(reword(s) if n in picked else s for n, s in enumerate(parts)), iid, iid, "near")
    picked = _two_indices([n for n, s in enumerate(parts) if len(s) >= 8], rng)
    if picked and sum(len(parts[n]) for n in picked) <= REWRITE_MAX_SHARE * len(body):
        new = iter(rng.sample(FILLER, 2))
        yield Pair("rewritten", "".join(next(new) if n in picked else s for n, s in enumerate(parts)), iid, iid, "near")
    paragraph = _paragraph(parts, rng)
    if paragraph:
        before, after = rng.sample(FILLER, 2), rng.sample(FILLER, 2)
        yield Pair("paragraph", "".join(before) + "\n" + paragraph + "\n" + "".join(after), iid, iid, "partial")
    mine = topics_of.get(iid)
    if mine:
        for other in by_topic[mine]:
            if other != iid:
                yield Pair("same_topic", body, other, iid, None)
    unrelated = [i["id"] for i in items if i["id"] != iid and (mine is None or topics_of.get(i["id"]) != mine)]
    for other in rng.sample(unrelated, 3):
        yield Pair("unrelated", body, other, iid, None)


def _paragraph(parts: list[str], rng: random.Random) -> str | None:
    """Two or more consecutive sentences making a quarter to half of the item (None if no run fits)."""
    total = sum(len(p) for p in parts)
    low, high = PARAGRAPH_SHARE
    runs = [(a, b) for a in range(len(parts)) for b in range(a + 2, len(parts) + 1)
            if low * total <= sum(len(p) for p in parts[a:b]) <= high * total]
    if not runs:
        return None
    a, b = rng.choice(runs)
    return "".join(parts[a:b]).strip()
