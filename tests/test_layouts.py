"""Layouts common on government sites and in yearbooks, from text composed in their shape (tests/data/layouts)."""
from __future__ import annotations

from pathlib import Path

import pytest

from indexer.bulletin import parse_text
from indexer.ingest import parse_file

LAYOUTS = Path(__file__).parent / "data" / "layouts"
MAX = 50 * 1024 * 1024


def parse(name: str):
    result = parse_file(LAYOUTS / name, MAX, 40)
    assert result.error is None, result.error
    return result.items


def test_masthead_other_than_shangjie():
    items = parse("masthead.txt")
    assert [(i.kind, i.title, i.units) for i in items] == [
        ("measure", "幸福社区推动老旧小区加装电梯", ("幸福社区",)),
        ("measure", "光明社区“积分超市”激发居民参与热情", ("光明社区",)),
        ("measure", "街道多措并举做好春季防火工作", ()),
    ]
    for item in items:
        assert (item.series, item.issue, item.date) == ("社区动态", 3, "2024-03-15")
        assert item.issuer == "中共幸福街道工作委员会、幸福街道办事处"
        assert item.text.startswith("针对")
        assert "送：" not in item.text and "各社区党组织" not in item.text
    assert items[1].text.split("\n")[1:] == [
        "一是明确积分规则，参加环境整治、邻里帮扶等志愿服务可获得积分。",
        "二是丰富兑换内容，积分可兑换生活用品和便民服务。",
        "三是定期公示积分排名，评选“最美志愿者”。今年以来，参与居民达600余人次。",
    ]


def test_chronicle_with_month_headings():
    items = parse("chronicle.txt")
    assert [(i.kind, i.date, i.title) for i in items] == [
        ("brief", "2023-01-01", "幸福街道召开2023年工作会议，部署全年重点工作"),
        ("brief", "2023-01-05", "街道组织开展春节前安全生产大检查，排查整改隐患32处"),
        ("brief", "2023-01-01", "街道完成辖区8个社区居民委员会换届选举工作"),
        ("brief", "2023-02-13", "幸福街道被评为全市“平安建设先进集体”"),
        ("brief", "2023-02-20", "街道启动“春风行动”，为辖区企业招聘员工200余人"),
        ("brief", "2023-03-08", "街道妇联举办“巾帼心向党”主题读书分享会，60余名妇女代表参加"),
    ]
    assert items[1].text == "5日—6日 街道组织开展春节前安全生产大检查，排查整改隐患32处。"


def test_chronicle_with_bare_month_numbers():
    items = parse("chronicle_yearbook.txt")
    assert [(i.date, i.title) for i in items] == [
        ("2022-01-03", "光明镇召开经济工作会议，表彰2021年度先进集体和先进个人"),
        ("2022-01-15", "镇人民代表大会第二次会议召开，选举产生新一届镇人民政府领导班子"),
        ("2022-02-08", "光明镇启动农村人居环境整治“百日攻坚”行动"),
        ("2022-02-01", "全镇完成春季植树造林1200亩"),
    ]


def test_chronicle_entry_paragraphs_and_wraps():
    text = ("区政府大事记\n\n2024年7月\n\n2日 区政府召开常务会议，研究部署防汛工作，要求各镇街\n"
            "落实值班值守制度。\n\n上旬 全区开展汛前隐患排查。\n\n下旬 区应急管理局组织防汛演练。\n")
    items = parse_text(text, "c.txt", 40)
    assert [(i.date, i.text) for i in items] == [
        ("2024-07-02", "2日 区政府召开常务会议，研究部署防汛工作，要求各镇街落实值班值守制度。"),
        ("2024-07-01", "上旬 全区开展汛前隐患排查。"),
        ("2024-07-21", "下旬 区应急管理局组织防汛演练。"),
    ]


def test_yearbook_sections():
    items = parse("yearbook.txt")
    assert [(i.kind, i.title, i.units) for i in items] == [
        ("measure", "幸福街道 综述", ("幸福街道",)),
        ("measure", "幸福街道 城市建设", ("幸福街道",)),
        ("measure", "幸福街道 社会事业", ("幸福街道",)),
    ]
    overview, building, _ = items
    assert overview.text == (
        "幸福街道位于城区东部，面积12.5平方千米，辖8个社区，常住人口6.2万人。2023年，街道完成一般公共预算收入3.2亿元，"
        "同比增长6.5%；新引进项目12个，总投资8.6亿元，其中亿元以上项目3个。\n全年新增市场主体860户。"
    )
    assert building.text == "全年完成老旧小区改造5个，惠及居民1200户；新建口袋公园3处，新增停车泊位400个。推进背街小巷整治，改造道路2.3千米。"
    assert all("撰稿" not in i.text for i in items)


def test_numbered_headline_list():
    items = parse("headlines.txt")
    assert len(items) == 9 and {i.kind for i in items} == {"brief"}
    assert items[0].title == items[0].text == "幸福街道召开2024年度工作部署会"
    assert items[8].title == "街道召开河长制工作推进会"


def test_headline_list_in_a_bulletin_keeps_its_header():
    text = "工作简报\n\n第 12 期\n\n幸福街道办事处\n\n2024年4月2日\n\n1、街道召开安全生产工作会议\n2、社区开展义诊活动\n3、街道举办消防培训\n"
    items = parse_text(text, "h.txt", 40)
    assert [(i.kind, i.title, i.series, i.issue, i.date) for i in items] == [
        ("brief", "街道召开安全生产工作会议", "工作简报", 12, "2024-04-02"),
        ("brief", "社区开展义诊活动", "工作简报", 12, "2024-04-02"),
        ("brief", "街道举办消防培训", "工作简报", 12, "2024-04-02"),
    ]


def test_table_of_contents_is_not_items():
    text = ("工作简报\n\n第 13 期\n\n幸福街道办事处\n\n2024年4月9日\n\n本期要目\n1、街道召开安全生产工作会议\n2、社区开展义诊活动\n"
            "3、街道举办消防培训\n\n街道召开安全生产工作会议 4月8日，街道召开安全生产工作会议，部署节前安全检查。（街道应急办）\n\n"
            "社区开展义诊活动 幸福社区联合区医院开展义诊，服务居民200余人次。（幸福社区）\n\n"
            "街道举办消防培训 街道邀请消防救援站为辖区商户开展消防培训。（街道应急办）\n")
    items = parse_text(text, "toc.txt", 40)
    assert [i.title for i in items if i.kind == "brief"] == []
    assert [i.title for i in items] == ["街道召开安全生产工作会议", "社区开展义诊活动", "街道举办消防培训"]


def test_news_report_metadata_is_not_text():
    [item] = parse("news.txt")
    assert item.kind == "article"
    assert item.title == "幸福街道：“小积分”撬动垃圾分类“大文明”"
    assert item.units == ("幸福街道办事处",) and item.date == "2024-05-10"
    assert item.reporters == ("张明", "李华")
    assert item.text.startswith("“以前垃圾随手一扔")
    for word in ("本报讯", "来源", "发布时间", "责任编辑", "记者"):
        assert word not in item.text


@pytest.mark.parametrize("lead", ["本报讯（记者 张明 通讯员 李华）", "城南日报讯 （全媒体记者张明 通讯员李华）", "【本报讯】（张明 李华）"])
def test_news_leads_give_reporters(lead):
    text = f"社区开展义诊活动\n\n{lead}近日，幸福社区联合区医院开展义诊，服务居民200余人次。\n"
    [item] = parse_text(text, "n.txt", 40)
    assert item.text == "近日，幸福社区联合区医院开展义诊，服务居民200余人次。"
    assert item.reporters == ("张明", "李华")
