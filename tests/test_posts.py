"""The posts renderer: WeChat-safe articles, draft API fields, covers, group text, calendars."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import shutil
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import FIXTURE, REPO, TODAY
from icalendar import Calendar
from lxml import html as lxml_html
from PIL import Image

from builder import cjk, post_pictures, titles
from builder.diagnostics import Diagnostics
from builder.pipeline import build
from builder.project import load_project
from builder.renderers import posts
from builder.templates import make_environment
from builder.wechat import enforce_wechat_rules, wechat_body
from builder.wechat_css import clean_style, parse_styles

SHANGHAI = dt.timezone(dt.timedelta(hours=8))

# A lesson that exercises everything the WeChat editor breaks.
TRICKY_LESSON = """\
---
title: 一个很长很长的标题：用来检查公众号文章标题超过三十二个字时会不会被截断和提醒
summary: 测试用的课程，包含外链、嵌套列表、表格、图片和代码。
audiences: [老年人]
topics: [慢性病防治]
key_points:
  - 第一个要点：外链要变成编号引用
  - 第二个要点：列表不能嵌套在列表项里
  - 第三个要点：表格要能横向滚动
reviewed_by: 测试医师
reviewed_on: 2026-03-01
cover: media/photo.jpg
---

## 链接

先看[国家卫健委](http://www.nhc.gov.cn/)，再看[中国疾控中心](https://www.chinacdc.cn/ "疾控中心")，
又一次[国家卫健委](http://www.nhc.gov.cn/)，还有[公众号文章](https://mp.weixin.qq.com/s/abc)、
[站内链接](../quizzes/x.md)和 <https://example.org/bare>。

## 列表

- 外层一

    第二段文字

    - 内层一
    - 内层二
        1. 最里层

- 外层二

段落

1. 第一步
2. 第二步

![血压计示意](../../media/bp.png)

| 类别 | 数值 |
|:---|---:|
| 正常 | 120/80 |

```
def f():
    return 1
```

!!! tip "小提示"
    admonition 的正文

脚注在这里[^1]。

[^1]: 脚注内容。

<script>alert(1)</script>
<p class="x" id="y" style="color: var(--c); position: absolute; font-weight: bold !important; margin: 0">原始 HTML</p>
"""


def _photo(dest: Path) -> None:
    image = Image.new("RGB", (1200, 800), (180, 200, 220))
    for x in range(0, 1200, 60):
        image.paste((60 + x % 150, 120, 160), (x, 400, x + 40, 800))
    image.save(dest, quality=85)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture project plus the tricky lesson, built with only the posts renderer."""
    root = tmp_path_factory.mktemp("posts") / "project"
    shutil.copytree(FIXTURE, root)
    (root / "content/lessons/tricky.md").write_text(TRICKY_LESSON, encoding="utf-8")
    _photo(root / "media/photo.jpg")
    build(root, only=["posts"], today=TODAY)
    return root / "public"


@pytest.fixture
def bundled(bundled_posts: Path) -> Path:
    """The repository's own content, built with only the posts renderer (once per session)."""
    return bundled_posts


def manifest(out: Path) -> list[dict]:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))["artifacts"]


def of_kind(out: Path, kind: str) -> list[Path]:
    return [out / entry["path"] for entry in manifest(out) if entry["kind"] == kind]


# -- the article rules ------------------------------------------------------------------


def assert_wechat_safe(page: Path, key_points: list[str], closing: bool = True) -> None:
    """The acceptance rules of issue 5 for one post.html."""
    text = page.read_text(encoding="utf-8")
    tree = lxml_html.fromstring(text)
    assert not tree.xpath("//style|//script|//link|//iframe"), page
    assert not tree.xpath("//*[@class or @id]"), page
    for forbidden in ("var(", "!important"):
        assert forbidden not in text, (page, forbidden)
    assert not re.search(r"position\s*:", text), page
    for anchor in tree.xpath("//a[@href]"):
        assert urlsplit(anchor.get("href")).hostname == "mp.weixin.qq.com", (page, anchor.get("href"))
    assert not tree.xpath("//li//p | //li//ul | //li//ol"), page
    for image in tree.xpath("//img"):
        assert "max-width:100%" in image.get("style", ""), page
    for table in tree.xpath("//table"):
        wrapper = table.getparent()
        assert wrapper.tag == "section" and "overflow-x:auto" in wrapper.get("style", ""), page
    # [n] markers in the text match the numbered reference list at the end.
    markers = {
        int(n) for n in re.findall(r"\[(\d+)\]", "".join(s.text_content() for s in tree.xpath("//sup")))
    }
    references = tree.xpath("//p[starts-with(normalize-space(.), '[')]")
    listed = {int(re.match(r"\[(\d+)\]", p.text_content().strip()).group(1)) for p in references}
    assert markers == listed, (page, markers, listed)
    assert sorted(listed) == list(range(1, len(listed) + 1)), page
    body_text = tree.text_content()
    for point in key_points:
        assert point in body_text, (page, point)
    if closing:
        assert "审核" in body_text and "来源" in body_text, page


def test_every_bundled_post_is_wechat_safe(bundled: Path):
    project = load_project(REPO, Diagnostics(), today=None)
    assert project is not None
    pages = of_kind(bundled, "post-html")
    assert len(pages) == len(project.lessons) > 0
    for lesson in project.lessons:
        assert_wechat_safe(bundled / f"posts/lessons/{lesson.slug}/post.html", lesson.key_points)


def test_every_bundled_post_json_fits_the_draft_api(bundled: Path):
    for path in of_kind(bundled, "post-json"):
        fields = json.loads(path.read_text(encoding="utf-8"))
        assert 0 < len(fields["title"]) <= 32, path
        assert len(fields["author"]) <= 16, path
        assert len(fields["digest"]) <= 128, path
        assert 0 < len(fields["content"]) < 20_000, path
        assert len(fields["content"].encode("utf-8")) < 1_000_000, path
        assert fields["content_source_url"].startswith("https://health.example.org/lessons/"), path
        assert fields["need_open_comment"] in (0, 1)
        assert fields["article_type"] == "news"
        # Every article closes with the 关注 line, and those with neighbours with 往期推荐.
        assert "关注「社区健康科普课堂」" in fields["content"], path
        assert "往期推荐" in fields["content"], path


def test_every_bundled_group_text_fits(bundled: Path):
    for path in of_kind(bundled, "group-text"):
        text = path.read_text(encoding="utf-8")
        assert len(text) <= 500, path
        assert 3 <= text.count("\n• ") <= 5, path  # the safety lines among them (tests/test_group_text.py)
        assert "https://health.example.org/lessons/" in text, path


def test_every_bundled_campaign_calendar_parses(bundled: Path):
    project = load_project(REPO, Diagnostics(), today=None)
    assert project is not None
    for campaign in project.campaigns:
        data = (bundled / f"posts/campaigns/{campaign.slug}/calendar.ics").read_bytes()
        calendar = Calendar.from_ical(data)
        events = calendar.walk("VEVENT")
        firsts = [
            activity for activity in campaign.activities if activity.occurrence <= 1
        ]  # a series is one RRULE event
        assert len(events) == len(firsts) > 0
        by_summary = {str(event["SUMMARY"]): event for event in events}
        for activity in firsts:
            event = by_summary[activity.title]
            start = event.decoded("DTSTART")
            if activity.time:
                hours, minutes = map(int, activity.time[:5].split(":"))
                assert start.utcoffset() == dt.timedelta(hours=8)
                assert (start.date(), start.hour, start.minute) == (activity.date, hours, minutes)
            else:
                assert start == activity.date and not isinstance(start, dt.datetime)


def test_tricky_post_passes_the_rules(built: Path):
    assert_wechat_safe(
        built / "posts/lessons/tricky/post.html",
        ["第一个要点：外链要变成编号引用", "第二个要点：列表不能嵌套在列表项里"],
    )


def test_external_links_become_numbered_references(built: Path):
    content = json.loads((built / "posts/lessons/tricky/post.json").read_text(encoding="utf-8"))["content"]
    tree = lxml_html.fromstring(content)
    text = tree.text_content()
    # The same URL twice gets the same number; a link title names the reference.
    assert "国家卫健委[1]" in text and "中国疾控中心[2]" in text and text.count("[1]") == 3
    assert "[1] 国家卫健委：http://www.nhc.gov.cn/" in text
    assert "[2] 疾控中心：https://www.chinacdc.cn/" in text
    assert "[3]" not in text  # bare URLs and relative links get no reference
    assert [a.get("href") for a in tree.xpath("//a")] == ["https://mp.weixin.qq.com/s/abc"]
    assert "站内链接" in text and "https://example.org/bare" in text
    # The source's line break between Chinese characters does not become a space.
    assert "[2]，又一次" in text


def test_lists_are_flattened_with_literal_bullets(built: Path):
    content = json.loads((built / "posts/lessons/tricky/post.json").read_text(encoding="utf-8"))["content"]
    tree = lxml_html.fromstring(content)
    items = [" ".join(li.text_content().split()) for li in tree.xpath("//li")]
    assert items[:7] == [
        "• 外层一第二段文字",
        "◦ 内层一",
        "◦ 内层二",
        "1. 最里层",
        "• 外层二",
        "1. 第一步",
        "2. 第二步",
    ]
    nested = tree.xpath("//li")[1]
    assert "margin-left:1.2em" in nested.get("style") and nested.getparent().tag == "ul"
    assert all(li.getparent().tag in ("ul", "ol") for li in tree.xpath("//li"))


def test_body_images_tables_code_and_raw_html(built: Path):
    folder = built / "posts/lessons/tricky"
    fields = json.loads((folder / "post.json").read_text(encoding="utf-8"))
    tree = lxml_html.fromstring(fields["content"])
    # The cover opens the article; the fixture has no pictograms, so the points keep their numbers.
    banner, image = tree.xpath("//img")
    assert banner.get("src") == "cover.jpg" and banner.getparent().tag == "figure"
    assert image.get("src") == "images/bp.png" and image.getparent().tag == "figure"
    assert tree.xpath("//figcaption")[0].text_content() == "血压计示意"
    assert fields["kepu"]["images"] == [
        {"src": "cover.jpg", "path": "posts/lessons/tricky/cover.jpg"},
        {"src": "images/bp.png", "path": "posts/lessons/tricky/images/bp.png"},
    ]
    assert (folder / "images/bp.png").read_bytes() == (FIXTURE / "media/bp.png").read_bytes()
    cells = tree.xpath("//td")
    assert "text-align:right" in cells[1].get("style")
    # Code keeps its indentation as no-break spaces and line breaks as <br>.
    [code] = tree.xpath("//pre/code")
    assert code.xpath("br") and "\u00a0\u00a0\u00a0\u00a0return 1" in code.text_content()
    title = next(p for p in tree.xpath("//p") if p.text_content() == "小提示")
    assert "font-weight:bold" in title.get("style") and "admonition 的正文" in tree.text_content()
    # Footnotes are 注1 …, so they are never mistaken for the [n] link references.
    assert "脚注在这里注1。" in tree.text_content() and "注1：脚注内容。" in tree.text_content()
    assert "alert(1)" not in fields["content"]
    raw = next(p for p in tree.xpath("//p") if p.text_content() == "原始 HTML")
    assert raw.get("style") == "margin:0"


def test_long_title_is_cut_and_warned(built: Path, project: Path):
    fields = json.loads((built / "posts/lessons/tricky/post.json").read_text(encoding="utf-8"))
    assert len(fields["title"]) == 32 and fields["title"].endswith("…")

    lesson = project / "content/lessons/flu-vaccine.md"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(text.replace("title: 流感与疫苗接种", "title: " + "长" * 33), encoding="utf-8")
    loaded = load_project(project, Diagnostics(), today=TODAY)
    assert loaded is not None
    diagnostics = Diagnostics()
    posts.post_title_warnings(loaded, diagnostics)
    [warning] = diagnostics.warnings
    assert (warning.path, warning.line) == ("content/lessons/flu-vaccine.md", 2)
    assert "short_title" in warning.message and "33" in warning.message

    lesson.write_text(
        text.replace("title: 流感与疫苗接种", "title: " + "长" * 33 + "\nshort_title: 流感疫苗"),
        encoding="utf-8",
    )
    loaded = load_project(project, Diagnostics(), today=TODAY)
    diagnostics = Diagnostics()
    posts.post_title_warnings(loaded, diagnostics)
    assert diagnostics.warnings == []


def test_cover_and_thumb_images(built: Path):
    for slug in ("tricky", "flu-vaccine"):
        with Image.open(built / f"posts/lessons/{slug}/cover.jpg") as cover:
            assert (cover.format, cover.size) == ("JPEG", (900, 383))
            assert not cover.getexif()
        with Image.open(built / f"posts/lessons/{slug}/thumb.jpg") as thumb:
            assert thumb.format == "JPEG" and thumb.width == thumb.height
    # Without a photo the cover is its topic's colour (derived from the brand colour) at the top.
    with Image.open(built / "posts/lessons/flu-vaccine/cover.jpg") as cover:
        project = load_project(built.parent, Diagnostics(), today=TODAY)
        assert project is not None
        lesson = project.lesson("flu-vaccine")
        assert lesson is not None
        base = post_pictures.topic_palette(post_pictures.LessonArt.of(project, lesson, ())).base
        pixel = cover.convert("RGB").getpixel((3, 3))
        assert sum(abs(a - b) for a, b in zip(pixel, base, strict=True)) < 24, (pixel, base)


def test_group_text(built: Path, project: Path):
    text = (built / "posts/lessons/hypertension-basics/group.txt").read_text(encoding="utf-8")
    assert len(text) <= 500
    assert text.startswith("【认识高血压】\n")
    assert text.count("\n• ") == 3
    assert "https://health.example.org/lessons/hypertension-basics/" in text


def test_group_text_drops_key_points_to_stay_under_500(tmp_path: Path, project: Path):
    lesson = project / "content/lessons/flu-vaccine.md"
    points = "".join(f"  - 第{n}个很长的要点" + "内容" * 45 + "\n" for n in range(1, 7))
    text = re.sub(r"key_points:\n(  - .*\n)+", "key_points:\n" + points, lesson.read_text(encoding="utf-8"))
    lesson.write_text(text, encoding="utf-8")
    build(project, tmp_path / "out", only=["posts"], today=TODAY)
    message = (tmp_path / "out/posts/lessons/flu-vaccine/group.txt").read_text(encoding="utf-8")
    assert len(message) <= 500
    assert 3 <= message.count("• ") < 5


def test_campaign_calendar_times_and_all_day_events(built: Path):
    calendar = Calendar.from_ical((built / "posts/campaigns/dust-month/calendar.ics").read_bytes())
    [timezone] = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Asia/Shanghai"
    lecture, post = calendar.walk("VEVENT")
    assert lecture.decoded("DTSTART") == dt.datetime(2026, 5, 8, 14, 0, tzinfo=SHANGHAI)
    assert lecture.decoded("DTEND") == dt.datetime(2026, 5, 8, 15, 30, tzinfo=SHANGHAI)
    assert str(lecture["LOCATION"]) == "示例工地生活区会议室"
    assert "粉尘与尘肺病" in str(lecture["DESCRIPTION"])
    assert post.decoded("DTSTART") == dt.date(2026, 5, 10)
    assert post.decoded("DTEND") == dt.date(2026, 5, 11)
    assert str(post["URL"]) == "https://health.example.org/lessons/dust-pneumoconiosis/"
    raw = (built / "posts/campaigns/dust-month/calendar.ics").read_bytes()
    assert raw.count(b"DTSTAMP:20260425T000000Z") == 2  # from the content, not the clock
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))


def test_schedule_csv(built: Path):
    data = (built / "posts/campaigns/dust-month/schedule.csv").read_bytes()
    assert data.startswith("\ufeff".encode())  # Excel and WPS need the BOM for Chinese
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [row["渠道"] for row in rows] == ["讲座", "公众号"]
    lecture, post = rows
    assert lecture["时间"] == "14:00-15:30" and post["时间"] == "全天"
    assert lecture["推荐素材"] == "print/lessons/dust-pneumoconiosis/flyer.pdf"
    assert post["推荐素材"] == post["公众号文章"] == "posts/lessons/dust-pneumoconiosis/post.html"
    assert (built / post["草稿数据"]).is_file() and (built / post["群消息"]).is_file()


def test_index_page_previews_every_post(built: Path):
    page = (built / "posts/index.html").read_text(encoding="utf-8")
    tree = lxml_html.fromstring(page)
    assert len(tree.xpath("//button[@data-copy='html']")) == 4
    assert not tree.xpath("//script[@src] | //link[@href]")  # no external script or stylesheet
    assert "认识高血压" in page and "calendar.ics" in page
    assert 'src="lessons/hypertension-basics/' in page
    assert 'src="lessons/tricky/images/bp.png"' in page


def test_manifest_kinds_paths_and_audiences(built: Path):
    entries = {entry["path"]: entry for entry in manifest(built)}
    folder = "posts/lessons/hypertension-basics"
    expected = {
        f"{folder}/post.html": "post-html",
        f"{folder}/post.json": "post-json",
        f"{folder}/cover.jpg": "post-cover",
        f"{folder}/thumb.jpg": "post-thumb",
        f"{folder}/group.txt": "group-text",
        "posts/index.html": "posts-index",
        "posts/campaigns/dust-month/calendar.ics": "calendar-ics",
        "posts/campaigns/dust-month/schedule.csv": "schedule-csv",
        "posts/lessons/tricky/images/bp.png": "post-image",
    }
    for path, kind in expected.items():
        assert entries[path]["kind"] == kind
    assert entries[f"{folder}/post.html"]["audiences"] == ["老年人", "慢性病患者"]
    assert entries[f"{folder}/post.html"]["source"] == "content/lessons/hypertension-basics.md"


def test_same_input_same_bytes(built: Path, tmp_path: Path):
    again = tmp_path / "again"
    build(built.parent, again, only=["posts"], today=TODAY)
    first = {e["path"]: e["sha256"] for e in manifest(built)}
    second = {e["path"]: e["sha256"] for e in manifest(again)}
    assert first == second
    cover = hashlib.sha256((again / "posts/lessons/tricky/cover.jpg").read_bytes()).hexdigest()
    assert cover == first["posts/lessons/tricky/cover.jpg"]


def test_project_template_override_cannot_break_the_rules(project: Path, tmp_path: Path):
    override = project / "templates/posts/article.html.j2"
    override.parent.mkdir(parents=True)
    override.write_text(
        textwrap.dedent("""\
            <style>p { color: red }</style>
            <section class="card" id="top" style="position: relative; color: var(--x); margin: 0">
            <a href="https://example.org/">外部链接</a>{{ body }}
            <script>alert(1)</script>
            </section>
        """),
        encoding="utf-8",
    )
    build(project, tmp_path / "out", only=["posts"], today=TODAY)
    page = tmp_path / "out/posts/lessons/flu-vaccine/post.html"
    assert_wechat_safe(page, [], closing=False)  # the override dropped the boxes; the rules still hold
    assert '<section style="margin:0">' in page.read_text(encoding="utf-8")


# -- units ---------------------------------------------------------------------------


def test_clean_style_drops_what_wechat_cannot_keep():
    assert clean_style("color: var(--a); margin : 0 ;position:absolute; top: 1px") == "margin:0;top:1px"
    assert clean_style("font-weight: bold !important; background: url(x.png); color:#333") == "color:#333"
    assert clean_style("font-family: 'PingFang SC' , Arial") == "font-family:'PingFang SC',Arial"


def test_parse_styles_reads_roles_and_groups():
    styles = parse_styles("/* note { x: y } */ h1, h2 { color: #123456 } p { margin: 0 } p { color: #333 }")
    assert styles == {"h1": "color:#123456", "h2": "color:#123456", "p": "margin:0;color:#333"}


def test_wechat_body_drops_external_images_with_a_caption():
    body = wechat_body(
        '<p><img src="https://example.org/x.png" alt="外部图"></p><p>字<img src="media/a.png" alt=""></p>',
        {"img": "max-width:100%"},
        lambda src: None if src.startswith("http") else "images/a.png",
    )
    assert body.dropped_images == ["https://example.org/x.png"]
    assert "（图：外部图）" in body.html
    assert '<img src="images/a.png" alt="" style="max-width:100%">' in body.html


def test_ordered_list_start_and_deep_nesting():
    body = wechat_body(
        '<ol start="3"><li>三<ul><li>甲<ul><li>子</li></ul></li></ul></li><li>四</li></ol>', {}
    )
    assert body.html == (
        '<section><ol><li><span>3. </span>三</li><li style="margin-left:1.2em"><span>◦ </span>甲</li>'
        '<li style="margin-left:2.4em"><span>▪ </span>子</li><li><span>4. </span>四</li></ol></section>'
    )


def test_enforce_wechat_rules_keeps_wechat_links():
    html = '<p class="a"><a href="https://mp.weixin.qq.com/s/x" id="b">文章</a><a href="/x">站内</a></p>'
    assert enforce_wechat_rules(html) == '<p><a href="https://mp.weixin.qq.com/s/x">文章</a>站内</p>'


@pytest.mark.parametrize(
    "title",
    [
        "认识高血压：量得准，管得住",
        "0~6岁儿童预防接种：按时打，别漏打",
        "流感不是普通感冒：每年接种流感疫苗",
        "职工心理压力与睡眠：学会给自己“减压”",
        "有限空间作业：先通风、再检测、后作业",
        "（一）健康素养66条，《中国公民健康素养》解读",
    ],
)
def test_title_layout_follows_chinese_line_breaking(title: str):
    tokens = titles.title_tokens(title)
    for width, lines in ((410, 4), (300, 5), (200, 8)):
        layout = titles.fit_title(tokens, width, 1000, range(65, 26, -2), lines)
        assert "".join(layout.lines) == title.replace(" ", "")
        for number, line in enumerate(layout.lines):
            assert layout.font.getlength(line) <= width
            if number:
                assert line[0] not in cjk.NO_LINE_START, layout.lines
            if number < len(layout.lines) - 1:
                assert line[-1] not in cjk.NO_LINE_END, layout.lines
        assert len(layout.lines) == 1 or len(layout.lines[-1]) > 1  # no one-character last line


def test_colon_titles_break_after_the_colon():
    layout = titles.fit_title(
        titles.title_tokens("认识高血压：量得准，管得住"), 808, 221, range(57, 20, -2), 3
    )
    assert layout.lines == ["认识高血压：量得准，管得住"]
    layout = titles.fit_title(
        titles.title_tokens("粉尘与尘肺病：别让灰尘住进肺里"), 410, 340, range(65, 26, -2), 4
    )
    assert layout.lines == ["粉尘与尘肺病：", "别让灰尘住进肺里"]


def test_every_bundled_article_reads_in_light_and_dark_mode(bundled: Path, browser):
    """The posts index previews each article as WeChat shows it in light mode, and each post's
    post-dark.html as its dark mode recolours it: every text ≥ 4.5:1 in both."""
    from test_posts_dark import CONTRAST_MIN, text_contrasts, too_faint

    page = browser.new_page(viewport={"width": 1000, "height": 900})
    try:
        page.goto((bundled / "posts/index.html").as_uri())
        articles = of_kind(bundled, "post-html")
        measured = text_contrasts(page, "div.article")
        assert len({item["root"] for item in measured}) == len(articles)
        dark_pages = of_kind(bundled, "post-dark-html")
        assert {path.parent for path in dark_pages} == {path.parent for path in articles}
        for path in dark_pages:
            page.goto(path.as_uri())
            dark = text_contrasts(page, "div.article.dark")
            assert len({item["root"] for item in dark}) == 1, path
            measured += dark
        assert not too_faint(measured), too_faint(measured)
        assert min(item["ratio"] for item in measured) >= CONTRAST_MIN
    finally:
        page.close()


# -- the 往期 / 关注 footer -------------------------------------------------------------

ALBUM = "https://mp.weixin.qq.com/mp/appmsgalbum?__biz=MzA5&action=getalbum&album_id=42"


def footer_post(project_dir: Path, lesson_slug: str) -> str:
    project = load_project(project_dir, Diagnostics(), TODAY)
    assert project is not None
    env = make_environment(project, autoescape=True)
    lesson = project.lesson(lesson_slug)
    assert lesson is not None
    job = posts.post_job(project, lesson, posts.Neighbours.of(project))
    return posts.build_post(job, env, posts.post_styles(project.config, env), Diagnostics()).content


def test_footer_recommends_lessons_of_the_topic_and_follows_config(project: Path):
    config = project / "site_config.yml"
    extra = f"posts:\n  follow: 关注「示例健康」，每周一节健康课\n  archive: {ALBUM}\n"
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    # Two more lessons on 慢性病防治: the one for the same readers (老年人) comes first.
    for slug, topics in (("flu-vaccine", "[传染病防控]"), ("dust-pneumoconiosis", "[职业健康]")):
        lesson = project / f"content/lessons/{slug}.md"
        text = lesson.read_text(encoding="utf-8")
        lesson.write_text(
            text.replace(f"topics: {topics}", f"topics: {topics[:-1]}, 慢性病防治]"), encoding="utf-8"
        )
    content = footer_post(project, "hypertension-basics")
    tree = lxml_html.fromstring(content)
    [footer] = tree.xpath("//section[p[normalize-space(.)='往期推荐']]")
    items = [p.text_content().strip() for p in footer.xpath("p[span]")]
    assert items == ["• 流感与疫苗接种", "• 粉尘与尘肺病"]  # never the article itself
    assert "关注「示例健康」，每周一节健康课" in footer.text_content()
    [link] = footer.xpath(".//a")
    assert link.get("href") == ALBUM and link.text_content().startswith(
        "查看往期"
    )  # a WeChat link stays a link


def test_footer_without_config_names_the_site_and_no_link(project: Path):
    content = footer_post(project, "flu-vaccine")
    assert "关注「测试健康课堂」，获取更多健康科普知识" in content  # the site name
    assert "往期文章：点击文章顶部的公众号名称" in content
    assert "往期推荐" not in content  # no other lesson on its topic
    assert ALBUM not in content


def test_footer_archive_must_be_a_wechat_link(project: Path, diagnose):
    config = project / "site_config.yml"
    lines = config.read_text(encoding="utf-8").splitlines()
    config.write_text(
        "\n".join([*lines, "posts:", "  archive: https://example.com/old-posts"]) + "\n", encoding="utf-8"
    )
    messages = [line for line in diagnose() if "archive" in line]
    assert len(messages) == 1 and messages[0].startswith(f"site_config.yml:{len(lines) + 2}:"), messages
    assert "https://mp.weixin.qq.com/" in messages[0] and "https://example.com/old-posts" in messages[0]
