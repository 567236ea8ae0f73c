"""OFD files (built here as GB/T 33190 XML) and saved web pages (composed here in a government
site's shape) parse to the items their text holds."""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from indexer.ingest import ingest, parse_file

from .inputs import bulletin_html, write_ofd

MAX = 50 * 1024 * 1024


def content(items):
    return [(i.kind, i.title, i.text, i.units, i.issue, i.date, i.series, i.reporters) for i in items]


def test_ofd_of_every_sample(tmp_path, sample_dir):
    for source in sorted(sample_dir.glob("*.txt")):
        path = write_ofd(source.read_text(encoding="utf-8"), tmp_path / (source.stem + ".ofd"))
        result = parse_file(path, MAX, 40)
        assert result.error is None, result.error
        assert content(result.items) == content(parse_file(source, MAX, 40).items), source.name


def test_ofd_template_page_is_read_first(tmp_path, sample_dir):
    """The red masthead often sits in a template page: it comes before the page's own text."""
    path = write_ofd((sample_dir / "003_130ae1c1cc3f7681.txt").read_text(encoding="utf-8"), tmp_path / "t.ofd")
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    page = parts["Doc_0/Pages/Page_0/Content.xml"].decode("utf-8")
    head = page.partition("<ofd:Content>")[0]
    rest = page.partition("<ofd:Layer")[2]
    objects = rest.split("<ofd:TextObject")
    masthead = "".join("<ofd:TextObject" + o.split("</ofd:TextObject>")[0] + "</ofd:TextObject>" for o in objects[1:5])
    parts["Doc_0/Pages/Page_0/Content.xml"] = page.replace(masthead, "").replace(
        "<ofd:Content>", '<ofd:Template TemplateID="900"/><ofd:Content>').encode("utf-8")
    parts["Doc_0/Tpls/Tpl_0/Content.xml"] = (head + "<ofd:Content><ofd:Layer ID=\"901\">" + masthead +
                                             "</ofd:Layer></ofd:Content></ofd:Page>").encode("utf-8")
    parts["Doc_0/Document.xml"] = parts["Doc_0/Document.xml"].replace(
        b"</ofd:CommonData>", b'<ofd:TemplatePage ID="900" BaseLoc="Tpls/Tpl_0/Content.xml"/></ofd:CommonData>')
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    items = parse_file(path, MAX, 40).items
    assert len(items) == 9 and {(i.series, i.issue, i.date) for i in items} == {("上街信息", 45, "2024-08-09")}


def test_broken_ofd_files_fail_alone(tmp_path, sample_dir):
    good = write_ofd((sample_dir / "000_edfc72c731b145e7.txt").read_text(encoding="utf-8"), tmp_path / "good.ofd")
    data = good.read_bytes()
    (tmp_path / "truncated.ofd").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.ofd").write_bytes(os.urandom(3000))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OFD.xml", "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'><ofd:DocBody>")
    (tmp_path / "bad-xml.ofd").write_bytes(buffer.getvalue())
    report = ingest([tmp_path], MAX, 40)
    errors = {Path(f.path).name: f.error for f in report.failed}
    assert set(errors) == {"truncated.ofd", "junk.ofd", "bad-xml.ofd"}
    assert all(".ofd" in e for e in errors.values()), errors
    assert len(report.items) == 9


GOV_PAGE = """<!DOCTYPE html>
<!-- saved from url=(0052)http://www.xingfu.gov.cn/gzdt/2024-05/10/art_1.html -->
<html lang="zh-CN"><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>幸福街道：“小积分”撬动垃圾分类“大文明”_工作动态_幸福街道办事处</title></head><body>
<div class="header"><ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk">政务公开</a></li>
<li><a href="/gzdt">工作动态</a></li><li><a href="/hdjl">互动交流</a></li></ul></div>
<div class="location">当前位置：<a href="/">首页</a> &gt; <a href="/gzdt">工作动态</a> &gt; 正文</div>
<div class="article"><h1>幸福街道：“小积分”撬动垃圾分类“大文明”</h1>
<div class="info">来源：幸福街道办事处 发布时间：2024-05-10 09:30 浏览次数：386 【字号：大 中 小】</div>
<div class="content">
<p>“以前垃圾随手一扔，现在都要分好类再投放。”说起小区的变化，居民王阿姨深有感触。</p>
<p>今年以来，幸福街道在辖区12个小区推行垃圾分类积分制，居民正确投放一次可获得1个积分，积分可在社区“绿色超市”兑换生活用品。</p>
<p>街道还组建了由党员、楼栋长组成的120人督导队伍，每天早晚在投放点值守，指导居民分类投放。</p>
<p>截至目前，参与居民达3200户，垃圾分类准确率提升至85%。</p>
</div><div class="share">分享到：微信 微博</div></div>
<div class="related"><h3>相关文章</h3><ul><li><a href="/a2">光明社区开展“邻里节”系列活动</a></li>
<li><a href="/a3">街道举办退役军人就业专场招聘会</a></li><li><a href="/a4">东风社区成立老年人助餐服务点</a></li></ul></div>
<div class="footer"><p>主办单位：幸福街道办事处 版权所有</p><p>地址：幸福路1号 备案号：豫ICP备00000000号</p></div>
</body></html>"""


@pytest.mark.parametrize("charset", ["utf-8", "gb2312"])
def test_government_page_is_one_item(tmp_path, charset):
    path = tmp_path / "art_1.html"
    path.write_bytes(GOV_PAGE.replace("{charset}", charset).encode("gb18030" if charset == "gb2312" else charset))
    [item] = parse_file(path, MAX, 40).items
    assert item.title == "幸福街道：“小积分”撬动垃圾分类“大文明”"
    assert item.date == "2024-05-10" and item.units == ("幸福街道办事处",)
    assert item.source.url == "http://www.xingfu.gov.cn/gzdt/2024-05/10/art_1.html"
    assert item.text.startswith("“以前垃圾随手一扔") and item.text.endswith("垃圾分类准确率提升至85%。")
    for boilerplate in ("首页", "当前位置", "相关文章", "邻里节", "版权所有", "备案号", "分享到", "浏览次数"):
        assert boilerplate not in item.text


def test_bulletin_page_goes_through_the_bulletin_parser(tmp_path, sample_dir):
    source = sample_dir / "000_edfc72c731b145e7.txt"
    path = tmp_path / "37.htm"
    path.write_text(bulletin_html(source.read_text(encoding="utf-8")), encoding="utf-8")
    items = parse_file(path, MAX, 40).items
    original = parse_file(source, MAX, 40).items
    assert [(i.kind, i.title, i.units, i.issue, i.date) for i in items] == \
        [(i.kind, i.title, i.units, i.issue, i.date) for i in original]
    assert {i.source.url for i in items} == {"https://www.shangjie.gov.cn/sjxx/37.html"}


def test_single_file_save(tmp_path):
    html = GOV_PAGE.replace("{charset}", "utf-8")
    mime = ("From: <Saved by Blink>\r\nSnapshot-Content-Location: http://www.xingfu.gov.cn/gzdt/art_1.html\r\n"
            "Subject: page\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; type=\"text/html\"; boundary=\"B\"\r\n\r\n"
            "--B\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: 8bit\r\n"
            "Content-Location: http://www.xingfu.gov.cn/gzdt/art_1.html\r\n\r\n" + html + "\r\n--B--\r\n")
    path = tmp_path / "page.mhtml"
    path.write_bytes(mime.encode("utf-8"))
    [item] = parse_file(path, MAX, 40).items
    assert item.source.url == "http://www.xingfu.gov.cn/gzdt/art_1.html" and item.date == "2024-05-10"


def test_broken_pages_fail_alone(tmp_path, sample_dir):
    (tmp_path / "good.html").write_text(GOV_PAGE.replace("{charset}", "utf-8"), encoding="utf-8")
    (tmp_path / "junk.html").write_bytes(os.urandom(2000) + b"\x00")
    (tmp_path / "empty-page.htm").write_text("<html><body><nav><a href='/'>首页</a></nav></body></html>", encoding="utf-8")
    report = ingest([tmp_path], MAX, 40)
    errors = {Path(f.path).name: f.error for f in report.failed}
    assert set(errors) == {"junk.html", "empty-page.htm"}
    assert "二进制" in errors["junk.html"] and "正文" in errors["empty-page.htm"]
    assert len(report.items) == 1
