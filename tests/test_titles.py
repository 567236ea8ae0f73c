"""Derived titles say what the item is about: no time phrase, news lead, byline or line break.

Each example is composed here in the shape real news items take (not copied from any site).
"""
from __future__ import annotations

import pytest

from indexer.timephrases import is_time_phrase, strip_news_lead
from indexer.titles import derive_title

MAX = 40


@pytest.mark.parametrize("text, title", [
    # time phrases of every shape before the subject
    ("近日，幸福街道工委组织人员到辖区社区调研垃圾分类工作，了解各社区的进展情况。", "幸福街道工委组织人员到辖区社区调研垃圾分类工作，了解各社区的进展情况"),
    ("12月30日上午，光明社区召开居民议事会，商议加装电梯事宜。", "光明社区召开居民议事会，商议加装电梯事宜"),
    ("7日，区应急管理局开展防汛应急演练。", "区应急管理局开展防汛应急演练"),
    ("日前，区市场监管局约谈辖区三家燃气企业。", "区市场监管局约谈辖区三家燃气企业"),
    ("今年以来，东风街道累计化解矛盾纠纷120余件。", "东风街道累计化解矛盾纠纷120余件"),
    ("3月5日下午3时许，区消防救援大队走进幸福小学开展消防演练。", "区消防救援大队走进幸福小学开展消防演练"),
    ("2023年6月16日新华村股份经济合作社召开第一次分红大会。", "新华村股份经济合作社召开第一次分红大会"),
    ("连日来，城关镇组织干部入户走访独居老人。", "城关镇组织干部入户走访独居老人"),
    # news leads and bylines are metadata
    ("本报讯（记者 王明 通讯员 李华）8月23日，区税务局举办纳税人学堂。", "区税务局举办纳税人学堂"),
    ("滨江日报讯 （全媒体记者张晓 通讯员刘洋）近日，滨江区开展河道清淤行动。", "滨江区开展河道清淤行动"),
    ("新华社北京7月12日电（记者赵文）截至6月底，全国登记在册个体工商户达1.2亿户。", "全国登记在册个体工商户达1.2亿户"),
    ("据区融媒体中心消息，区图书馆新增自助借还设备10台。", "区图书馆新增自助借还设备10台"),
    ("□记者 陈亮 通讯员 赵敏\n本报讯 在很多老旧小区，电动车“充电难”一直困扰着居民。", "电动车“充电难”一直困扰着居民"),
    ("（记者 周伟）为推进老旧小区改造，区住建局召开专题推进会。", "区住建局召开专题推进会"),
    # purpose clauses and reporting frames are passed over for the clause that acts
    ("为进一步加强燃气安全监管，切实保障群众生命财产安全，近日，红星街道联合区市场监管局开展燃气安全检查。",
     "红星街道联合区市场监管局开展燃气安全检查"),
    ("记者近日从区商务局获悉，今年一季度我区外贸进出口总额同比增长12%。", "我区外贸进出口总额同比增长12%"),
    ("“以前垃圾堆在楼道里，现在干净多了。”说起小区的变化，居民老张连连称赞。今年以来，和平社区推行垃圾分类积分制。",
     "和平社区推行垃圾分类积分制"),
    # an enumerator and a date line above the text are not part of the title
    ("一是健全管理制度，明确社区、物业、业主三方责任。", "健全管理制度，明确社区、物业、业主三方责任"),
    ("12月14日\n副区长带队到棚户区改造现场调研征收进度。", "副区长带队到棚户区改造现场调研征收进度"),
    # a year or festival that is part of a name stays
    ("2024年社区邻里节正式启动，共有20支队伍报名参加。", "2024年社区邻里节正式启动，共有20支队伍报名参加"),
    ("中秋佳节临近，为丰富居民文化生活，幸福社区举办“我们的节日”主题活动。", "幸福社区举办“我们的节日”主题活动"),
])
def test_derived_title(text, title):
    assert derive_title(text, MAX) == title


@pytest.mark.parametrize("text", [
    "近日。",
    "7日上午，",
    "本报讯（记者 王明）日前",
    "今年",
    "△",
    "   \n  ",
])
def test_never_empty_and_never_a_line_break(text):
    title = derive_title(text + "\n第二行", MAX)
    assert title and "\n" not in title


def test_long_clause_cut_to_the_limit():
    text = "区先进制造业开发区联合区财政局区人社局区税务局区市场监管局等十余个部门召开重点企业服务专班工作推进会并部署下一阶段工作。"
    title = derive_title(text, MAX)
    assert len(title) == MAX and title.endswith("…")
    assert len(derive_title(text, 20)) == 20


def test_clauses_inside_quotes_stay_together():
    title = derive_title("全国节能宣传周主题是“节能降碳，绿色发展”，各社区广泛开展宣传。", MAX)
    assert title.startswith("全国节能宣传周主题是“节能降碳，绿色发展”")


@pytest.mark.parametrize("phrase", ["近日", "12月30日上午", "7日", "日前", "上午", "今年以来", "13日—14日", "截至6月底",
                                    "2020年6月29日至7月5日", "1-9月", "五一期间", "11月份", "当天"])
def test_time_phrases(phrase):
    assert is_time_phrase(phrase)


@pytest.mark.parametrize("clause", ["调研中", "金雀山街道", "上街区2024年大学生", "晚报讯", "中秋佳节"])
def test_not_time_phrases(clause):
    assert not is_time_phrase(clause)


@pytest.mark.parametrize("lead", ["本报讯（记者 王明）", "本报讯 ", "光明网讯（通讯员 李四）", "晨报讯 ", "【本报讯】",
                                  "（城南网讯）", "今日城南网消息 ", "新华社北京3月1日电（记者张三）", "城南晚报 本报讯 "])
def test_news_leads(lead):
    assert strip_news_lead(lead + "区文化馆开展送戏下乡活动。") == "区文化馆开展送戏下乡活动。"


def test_enumerator_in_parentheses_is_not_a_byline():
    assert strip_news_lead("（一）健全管理制度。") == "（一）健全管理制度。"
