"""Time phrases and news leads: words that open a Chinese news item without saying what happened.

Shared by derived titles (skip them), the chronicle parser (entries start with a day) and
news reports (leads and bylines are metadata). Kept as patterns, with the shapes they
cover written out, so a new shape is one alternative more.
"""
from __future__ import annotations

import re

_NUM = r"[0-9０-９〇零一二三四五六七八九十两]"
# 2024年 / 12月 / 12月份 / 30日 / 30号 / 2024年6月28日 / 1-9月 / 13日—14日
_DATE_ATOM = (
    rf"{_NUM}{{2,4}}\s*年(?:度)?|{_NUM}{{1,3}}\s*[-—–~至到]\s*{_NUM}{{1,3}}\s*[月日号]"
    rf"|{_NUM}{{1,3}}\s*月份?|{_NUM}{{1,3}}\s*[日号]"
)
# 上午 / 下午4时许 / 晚24时 / 一早
_DAY_PART = r"凌晨|清晨|一早|一大早|早上|早晨|上午|中午|午后|下午|傍晚|晚上|晚间|夜间|深夜|当晚|当天|当日|次日|同日"
_HOUR = rf"{_NUM}{{1,2}}\s*[时点](?:{_NUM}{{1,2}}分)?(?:许|左右)?"
_RELATIVE = (
    r"近日|近期|日前|目前|当前|眼下|此前|最近|连日来|连日以来|近年来|近年以来|近些年|这些天|这几天|前不久|不久前"
    r"|今年|去年|前年|明年|本年|全年|今天|今日|昨天|昨日|前天|本周|上周|本月|上月|是月|当月|月内|上旬|中旬|下旬|同期|即日"
    r"|年初|年中|年底|年末|岁末|年尾|月初|月中|月底|月末|季度|第[一二三四1-4]季度|[一二三四1-4]季度|上半年|下半年|前[一二三四五六七八九十\d]+个?月"
    r"|春节|元旦|国庆|五一|十一|中秋|端午|清明|重阳|春季|夏季|秋季|冬季|春天|夏天|秋天|冬天|入夏|入冬|入秋|开春|节前|节后|假期|暑期|寒假|暑假|汛期"
)
_TIME_ATOM = rf"(?:{_DATE_ATOM}|{_HOUR}|{_RELATIVE}|{_DAY_PART})"
_TIME_PREFIX = r"(?:截至|截止|至|到|从|自|于|在|当|每逢|临近|进入|随着)?"
_TIME_SUFFIX = r"(?:以来|期间|前后|前夕|之际|起|左右|许|之前|之后|以前|以后|来|前|后|时|中|里|底|初|末|份|的|早|晚|夜)?"
_TIME_UNIT = rf"{_TIME_PREFIX}\s*{_TIME_ATOM}(?:\s*{_TIME_SUFFIX})"
TIME_PHRASE_RE = re.compile(rf"^(?:{_TIME_UNIT}[\s、—\-~至到和及与]*)+$")
# What makes an opening time phrase a day rather than part of a name.
_DAY_WORD = re.compile(r"[月日号时]|季度|半年|以来|期间|年初|年底|年末|近期|目前|当前|眼下|此前|最近|连日|前不久|不久前|" + _DAY_PART)
# An occasion that only says when: 中秋佳节临近 / 植树节到来之际 / 新年将至.
OCCASION_RE = re.compile(r"^[^，。；]{1,16}(?:临近|来临|将至|将近|到来之际|来临之际|之际|前夕)$")
# A time phrase glued to the front of a clause: "2017年6月16日巩昌镇……召开……".
LEADING_TIME_RE = re.compile(rf"^(?:{_TIME_UNIT}[\s、—\-~至到]*)+")

# News leads: 本报讯（记者 X）, 广州日报讯 （全媒体记者…）, 新华社北京7月12日电（记者…）, 今日竹山网消息,
# 【本报讯】, （安徽网库讯）, 据甘肃工人报报道. A lead ends in 讯/电/消息 followed by a byline,
# a separator or the text; 本报讯 and its kin are recognised even glued to the text.
_BYLINE_PAREN = r"(?:\s*[（(【\[][^（）()【】\[\]\n]{0,60}[）)】\]])?"
_MEDIA = r"[\u4e00-\u9fff·A-Za-z0-9]{0,18}?"
NEWS_LEAD_RE = re.compile(
    rf"^\s*(?:[【\[（(]\s*)?(?:"
    rf"(?:[\u4e00-\u9fff·]{{2,12}}\s+)?(?:本报|本网|本台|本刊){_MEDIA}(?:讯|电)"  # 本报讯, 慈善公益报 本报讯, 本报临汾2月9日讯
    rf"|[\u4e00-\u9fff·]{{1,12}}(?:网|报|台|在线)(?=\s*[（(][\u4e00-\u9fff·\s]{{2,30}}[）)])"  # 新疆民生网（艾尔肯江·沙的克）
    rf"|{_MEDIA}(?:讯|专电|电|消息)(?=[\s（(【：:/]|$)"  # 广州日报讯 （, 新华社北京7月12日电（
    rf"|{_MEDIA}(?:讯|电)(?=[\s】）)])"  # 【本报讯】, （安徽网库讯）
    rf")(?:\s*[】\])）])?{_BYLINE_PAREN}[\s：:/]*"
)
REPORTED_BY_RE = re.compile(r"^\s*据[^，。；\s]{1,24}?(?:消息|报道)[，,\s：:]*")
# Credits: 记者 董莹 通讯员 厉艳, （记者 周伟）, 【通讯员 李丽娟 石梦瑶】, 齐鲁晚报记者夏侯凤超.
_ROLES = r"(?:全媒体记者|融媒体记者|见习记者|实习记者|特约记者|首席记者|记者|通讯员|实习生|摄影|摄像|编辑|报道员|文/图|文／图|图/文)"
BYLINE_LINE_RE = re.compile(
    rf"^\s*[□■▲△（(【\[]?\s*[\u4e00-\u9fff·]{{0,16}}?(?:{_ROLES}[\s/／：:]*[\u4e00-\u9fff·]{{2,5}}[\s、，,]*)+"
    rf"(?:摄影报道|摄影|报道|摄|文|图)?[）)】\]]?\s*$"
)
_BYLINE_PAREN_RE = re.compile(rf"^\s*[（(【\[]\s*[^（）()【】\[\]\n]{{0,40}}{_ROLES}[^（）()【】\[\]\n]{{0,40}}[）)】\]]\s*")
# A parenthesis at the very start holding only names: （郭恒 潘星宇 梁建山）; not an enumerator （一）.
_NAMES_PAREN_RE = re.compile(r"^\s*[（(]\s*[\u4e00-\u9fff·]{2,6}(?:[\s、，,]+[\u4e00-\u9fff·]{2,6})*\s*[）)]\s*")
_MAGAZINE_CREDIT_RE = re.compile(r"^\s*《[^》]{1,20}》[^/／\s]{0,6}[/／][^\s]{1,8}(?:\s*文?[/／][^\s]{1,8})*\s+")


def is_time_phrase(text: str) -> bool:
    """近日 / 12月30日上午 / 7日 / 今年以来 / 2020年6月29日至7月5日 / 截至6月底 …: nothing but when."""
    text = text.strip()
    return bool(text) and bool(TIME_PHRASE_RE.match(text) or OCCASION_RE.match(text))


def strip_leading_time(text: str) -> str:
    """'2017年6月16日巩昌镇…' -> '巩昌镇…': the clause without the day it opens with.

    A bare year or season stays: in 2024年秭归九畹溪漂流狂欢季 or 中秋佳节 it is part of the name.
    """
    match = LEADING_TIME_RE.match(text)
    if not match or not _DAY_WORD.search(match.group(0)):
        return text.strip()
    return text[match.end():].strip()


def strip_news_lead(text: str) -> str:
    """Drop news leads and bylines from the start of a text (repeatedly: 慈善公益报 本报讯 …)."""
    previous = None
    while previous != text:
        previous = text
        for pattern in (NEWS_LEAD_RE, REPORTED_BY_RE, _BYLINE_PAREN_RE, _NAMES_PAREN_RE, _MAGAZINE_CREDIT_RE):
            match = pattern.match(text)
            if match and match.end() < len(text):
                text = text[match.end():].lstrip()
    return text


def is_byline_line(line: str) -> bool:
    """A line that only credits people: '□记者 董莹 通讯员 厉艳', '齐鲁晚报记者夏侯凤超'."""
    return bool(BYLINE_LINE_RE.match(line)) and len(line.strip()) <= 60


def split_news_lead(text: str) -> tuple[str, str]:
    """(lead, rest): the news lead and bylines at the start of text, and the text after them."""
    rest = strip_news_lead(text)
    return text[: len(text) - len(rest)].strip(), rest
