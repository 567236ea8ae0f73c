"""Exact expectations on the five sample bulletins (data/sample)."""
from __future__ import annotations

import re
from collections import Counter

from indexer.bulletin import parse_text

EXPECTED = {
    "000_edfc72c731b145e7.txt": [
        ("measure", "区先进制造业开发区着力破解企业融资难题", ["区先进制造业开发区"], 37, "2024-06-28"),
        ("measure", "我区探索建立矛盾纠纷“五色图”化解机制", ["中心路街道"], 37, "2024-06-28"),
        ("measure", "工业路街道“三个聚焦”为项目建设提速", ["工业路街道"], 37, "2024-06-28"),
        ("measure", "区教育局激活优秀传统文化教育生命力", ["区教育局"], 37, "2024-06-28"),
        ("measure", "区司法局打造为企服务法律工作站", ["区司法局"], 37, "2024-06-28"),
        ("measure", "区人社局推动人社公共服务下沉基层", ["区人社局"], 37, "2024-06-28"),
        ("measure", "区自然资源局强化土地要素支撑助力项目落地", ["区自然资源局"], 37, "2024-06-28"),
        ("measure", "区域管局优化便民服务设置西瓜临时销售点", ["区域管局"], 37, "2024-06-28"),
        ("brief", "上街区2024年大学生“引力计划”政务实践已正式启动", ["团区委"], 37, "2024-06-28"),
    ],
    "001_e28acd27cb44be7e.txt": [
        ("measure", "我区多部门联动筑牢未成年人保护防线", [], 35, "2024-06-17"),
        ("measure", "区委宣传部创新打造文明实践“三个模式”", ["区委宣传部"], 35, "2024-06-17"),
        ("measure", "先进制造业开发区优化服务激发企业创新活力", ["先进制造业开发区"], 35, "2024-06-17"),
        ("measure", "工业路街道多措并举改善街区风貌", ["工业路街道"], 35, "2024-06-17"),
        ("measure", "矿山街道“社会组织+网格”织密服务群众“心网”", ["矿山街道"], 35, "2024-06-17"),
        ("measure", "区总工会深入推进集体协商“要约行动”", ["区总工会"], 35, "2024-06-17"),
        ("measure", "团区委聚焦青少年需求为成长发展赋能", ["团区委"], 35, "2024-06-17"),
        ("measure", "区税务局规范涉税专业服务机构管理", ["区税务局"], 35, "2024-06-17"),
        ("brief", "工信部火炬中心发布了2022年度国家级科技企业孵化器评价结果的通知", ["区科技局"], 35, "2024-06-17"),
        ("brief", "我区电诈发案数量同比下降34.94%，经济损失同比下降54.99%", ["区公安局"], 35, "2024-06-17"),
    ],
    "002_2394bc59f5f8de19.txt": [
        ("measure", "济源路街道“无主管”楼院治理服务再升级", ["济源路街道"], 35, "2023-06-01"),
        ("measure", "新安路街道“抢、拼、实”集聚发展新活力", ["新安路街道"], 35, "2023-06-01"),
        ("measure", "区督查局多举措推动民生实事落地见效", ["区督查局"], 35, "2023-06-01"),
        ("measure", "区委老干部局搭建多种平台引导老干部发挥作用", ["区委老干部局"], 35, "2023-06-01"),
        ("measure", "区农委多措并举全力护航“三夏”生产", ["区农委"], 35, "2023-06-01"),
        ("measure", "市生态环境局上街分局“三聚焦”持续优化营商环境", ["市生态环境局上街分局"], 35, "2023-06-01"),
        ("brief", "区统计局着力推动首次入库“四上”企业奖励工作", ["区统计局"], 35, "2023-06-01"),
        ("brief", "区检察院举办“检爱同行，共护花开”主题开放日活动", ["区检察院"], 35, "2023-06-01"),
    ],
    "003_130ae1c1cc3f7681.txt": [
        ("measure", "区先进制造业开发区加速推进重点项目建设", ["先进制造业开发区"], 45, "2024-08-09"),
        ("measure", "我区发展“采摘经济”激发乡村振兴新活力", ["峡窝镇", "区自然资源局"], 45, "2024-08-09"),
        ("measure", "我区开展“网格+”占道经营治理工作", ["中心路街道", "区域管局"], 45, "2024-08-09"),
        ("measure", "我区深化政企合作推动产业转型升级", ["工业路街道", "区工信商务局"], 45, "2024-08-09"),
        ("measure", "区委编办积极做好机构编制“三个管理”", ["区委编办"], 45, "2024-08-09"),
        ("measure", "区财政局扎实做好困难学生补助资金发放工作", ["区财政局"], 45, "2024-08-09"),
        ("measure", "区退役军人事务局积极开展“拥军企业（门店）”招募工作", ["区退役军人事务局"], 45, "2024-08-09"),
        ("brief", "中心路街道办事处1名工作人员代表我区参加郑州市第一届社区工作者（网格员）职业能…", ["区委社工部"], 45, "2024-08-09"),
        ("brief", "上街区人民政府与郑州经贸学院签订《郑州经贸学院上街校区项目协议书》", ["区教育局"], 45, "2024-08-09"),
    ],
    "004_c400de4c9ee8a0a3.txt": [
        ("article", "上街区工业路街道 筑巢引凤兴产业 招商引资促发展", [], None, None),
        ("article", "上街区中心路街道 聚焦“五星”创建 解锁治理“新秘籍”", [], None, None),
    ],
}


def by_file(items):
    grouped: dict[str, list] = {}
    for item in items:
        grouped.setdefault(item.source.file.rsplit("/", 1)[-1], []).append(item)
    return grouped


def test_counts(sample_items):
    assert len(sample_items) == 38
    assert Counter(i.kind for i in sample_items) == {"measure": 29, "brief": 7, "article": 2}
    assert {f: len(v) for f, v in by_file(sample_items).items()} == {f: len(v) for f, v in EXPECTED.items()}
    assert [len(v) for v in EXPECTED.values()] == [9, 10, 8, 9, 2]


def test_every_item_metadata(sample_items):
    got = {f: [(i.kind, i.title, list(i.units), i.issue, i.date) for i in v] for f, v in by_file(sample_items).items()}
    assert got == EXPECTED


def test_series_issuer_and_positions(sample_items):
    for item in sample_items:
        if item.kind == "article":
            assert item.series is None and item.issuer is None
        else:
            assert item.series == "上街信息"
            assert item.issuer == "中共上街区委办公室"
    for items in by_file(sample_items).values():
        assert [i.source.position for i in items] == list(range(1, len(items) + 1))


def test_issue_examples(sample_items):
    titles = {i.title: i for i in sample_items}
    caizhai = titles["我区发展“采摘经济”激发乡村振兴新活力"]
    assert (caizhai.units, caizhai.issue, caizhai.date) == (("峡窝镇", "区自然资源局"), 45, "2024-08-09")
    sthj = titles["市生态环境局上街分局“三聚焦”持续优化营商环境"]
    assert sthj.text.startswith("一是对全区重点项目建立")
    assert sthj.text.endswith("已累计帮助 140 余家企业提标治理。")
    assert sthj.units == ("市生态环境局上街分局",)
    assert titles["我区多部门联动筑牢未成年人保护防线"].units == ()


def test_page_breaks_rejoined(sample_items):
    text = "\n".join(i.title + "\n" + i.text for i in sample_items)
    for joined in [
        "低风险颜色类别",
        "拓宽学生美育、德育实践平台",
        "一是科学编制土地储备",
        "三是开展环境整治提升",
        "一是立足民生实事",
        "至目前，我区承办的省市区民生实事",
        "四是全力服务保障",
        "引导新型农业经营主体发展",
        "因地制宜打造产业改造升级示范样板",
        "确保惠及有需求的学生",
        "依托中关村e谷国家级企业创新孵化器",
        "组建专业招商团队",
        "定期开展招商引资专题培训，提高街道机关干部",
        "实施招商引资项目专班服务机制",
        "经过一个多月的紧张施工",
        "对楼栋内独居老人",
        "变“一事跑多窗”为“一窗办多事”",
        "完成线上年审",
    ]:
        assert joined in text, joined
    for item in sample_items:
        for para in item.text.split("\n"):
            assert para.strip() == para and para, (item.title, para)


def test_markup_dropped(sample_items):
    czj = next(i for i in sample_items if i.title.startswith("区财政局"))
    assert "拨付各学段资助资金38.34万元，惠及困难学生745人次，减免110名困难儿童保教费共计5.5万元" in czj.text
    for item in sample_items:
        assert "**" not in item.text + item.title
        assert not re.search(r"^#", item.text + item.title, re.M)
        assert not item.text.startswith("△")


def test_no_footer_caption_or_credit_in_text(sample_items):
    forbidden = ["本期送", "责任编辑", "区县处级领导", "峡窝镇、各街道办事处", "---", "记者", "通讯员", "文/图",
                 "郑州长城科工贸有限公司实验仪器生产线", "工作人员记录居民对社区治理的意见建议",
                 "中共上街区委办公室", "第 37 期"]
    for item in sample_items:
        for word in forbidden:
            assert word not in item.text, (item.title, word)


def test_articles(sample_items):
    articles = [i for i in sample_items if i.kind == "article"]
    assert [a.reporters for a in articles] == [("谢鹏飞", "刘鹏", "李萌"), ("谢鹏飞", "杨丹")]
    first, second = articles
    assert first.text.startswith("“下一阶段，我们要进一步强化")
    assert first.text.endswith("协调办理相关手续6份。")
    for heading in ["筑巢引凤 招商育企全面发力", "丰富方式 着力提升招商实效", "打牢基础 着力营造招商氛围", "优化环境 着力狠抓项目服务"]:
        assert heading in first.text.split("\n")
    for heading in ["多元共治 “小社区”构建“大格局”", "强化自治 “小楼院”解决“大问题”"]:
        assert heading in second.text.split("\n")
    assert second.text.endswith("让群众幸福生活不断“加码”。")


def test_ids_stable_and_content_derived(sample_dir, settings):
    path = sample_dir / "000_edfc72c731b145e7.txt"
    text = path.read_text(encoding="utf-8")
    first = parse_text(text, "a.txt", settings.parser.brief_title_max_chars)
    again = parse_text(text, "elsewhere/b.txt", settings.parser.brief_title_max_chars)
    assert [i.id for i in first] == [i.id for i in again]
    assert len({i.id for i in first}) == len(first)
    edited = parse_text(text.replace("9000 余万元", "9001 余万元"), "a.txt", 40)
    assert edited[0].id != first[0].id and [i.id for i in edited[1:]] == [i.id for i in first[1:]]


def test_several_bulletins_in_one_file(sample_dir, settings):
    texts = [p.read_text(encoding="utf-8") for p in sorted(sample_dir.glob("*.txt"))]
    combined = "\n\n".join(texts[:4])
    items = parse_text(combined, "all.txt", settings.parser.brief_title_max_chars)
    assert len(items) == 9 + 10 + 8 + 9
    assert [i.issue for i in items] == [37] * 9 + [35] * 10 + [35] * 8 + [45] * 9


def test_identical_item_in_two_files_is_one(tmp_path, sample_dir, settings):
    from indexer.ingest import ingest

    source = sample_dir / "003_130ae1c1cc3f7681.txt"
    (tmp_path / "a.txt").write_bytes(source.read_bytes())
    (tmp_path / "b.txt").write_bytes(source.read_bytes())
    report = ingest([tmp_path], settings.max_file_bytes, 40)
    assert len(report.items) == 9 and report.duplicates == 9
