"""Hostile content against the posts and print outputs (and the practice exam's PDFs).

Content and site_config.yml arrive through merge requests from many people. These
tests inject what an attacker run found — scripts, event handlers, ``javascript:``
links, frames, forms, outside fetches, CSS tricks, references to files outside the
project, spreadsheet formulas — and check that none of it survives into a post, the
editors' desk, a PDF or the schedule CSV. The renderer-level tests bypass the content
loader on purpose: the renderers must be safe on their own, whatever the loader lets by.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import re
import shutil
from pathlib import Path

import pypdf
import pytest
from conftest import FIXTURE, TODAY
from lxml import html as lxml_html
from PIL import Image

from builder import calendar
from builder.diagnostics import ContentError, Diagnostics
from builder.exam import assemble, write_exam
from builder.model import Project
from builder.pdf import ProjectFiles, project_url
from builder.pipeline import build
from builder.project import load_project
from builder.renderers import RenderContext, posts, printing

SECRET = "KEPU-OUTSIDE-SECRET-4242"
SECRET_PNG_SIZE = (37, 23)  # no image Kepu places has this size: seeing it in a PDF means a leak
EVIL = "fetch.evil.example"  # a host nothing may be fetched from

# Raw HTML and Markdown an attacker writes into a lesson body. Each line is one trick.
HOSTILE_BODY = f"""\
## 脚本<script>alert('heading')</script>

<script>alert("raw")</script>
<SCRIPT SRC=//{EVIL}/x.js></SCRIPT>

<p onclick="alert(1)" onmouseover=alert(2)>点击这里</p>

[小写](javascript:alert(1)) [大小写](JaVaScRiPt:alert(2)) [带空白](java	script:alert(3))

<a href="JAVASCRIPT:alert(4)">大写</a> <a href="jav&#x09;ascript:alert(5)">实体</a>
<a href="vbscript:msgbox(1)">vb</a> <a href="data:text/html,alert(6)">data</a>

<iframe src="https://{EVIL}/frame"></iframe>

<svg onload="alert(7)"><circle r="5"/></svg>

<form action="https://{EVIL}/f"><button formaction="javascript:alert(8)">提交</button><input type="submit" formaction="javascript:alert(9)"></form>

<details open ontoggle="alert(10)"><summary>展开</summary>内容</details>

<math><mi xlink:href="javascript:alert(11)">x</mi></math>

<object data="https://{EVIL}/o.swf"></object><embed src="https://{EVIL}/e.swf">

<noembed><p title="</noembed><svg onload=alert(12)>"></p></noembed>

<xmp><svg onload=alert(13)></xmp>

<!--><svg onload=alert(14)>-->

![引用式图片][outside]

[outside]: https://{EVIL}/by-reference.png

<picture><source srcset="//{EVIL}/p.png 2x"></picture>

<audio src="//{EVIL}/a.mp3" autoplay></audio>
<video poster="//{EVIL}/poster.png"><source src="//{EVIL}/v.mp4"></video>

<style>p {{ background: url(https://{EVIL}/style-tag.png) }}</style>

<p style="background:url(https://{EVIL}/inline.png)">内联样式</p>
<p style="background:u\\72l(https://{EVIL}/escaped.png)">转义</p>
<p style="background-image:image-set('https://{EVIL}/set.png' 1x)">image-set</p>
<p style="background-image:-webkit-image-set(url(//{EVIL}/webkit.png) 1x)">webkit</p>

属性列表的段落
{{: style="background:u\\72l(https://{EVIL}/attr-list.png)" onclick="alert(15)" }}

| 表头 |
| --- |
| 格子 |

<table><tr><td align="left;background:u\\72l(https://{EVIL}/align.png)">对齐</td></tr></table>

<a href="https://{EVIL}/link" style="background:url(https://{EVIL}/link-style.png)" onmouseover="alert(16)">外链</a>

<img src="../../media/bp.png" onerror="alert(17)" srcset="https://{EVIL}/srcset.png 2x" alt="血压计">
"""

# Only reachable when the loader is bypassed: the loader refuses these with a path:line error.
OUTSIDE_IMAGES = f"""
<img src=https://{EVIL}/unquoted.png>
<img src="https://{EVIL}/quoted.png">
![外部](https://{EVIL}/markdown.png)
"""

HOSTILE_TEXT = "<script>alert('field')</script><img src=x onerror=alert(18)><svg onload=alert(19)>"
HOSTILE_LINK = '<a href="javascript:alert(20)">链接</a><iframe src=//' + EVIL + "/f></iframe>"


def outside_files(folder: Path) -> tuple[Path, Path, Path]:
    """A text secret, a PNG secret and a CSS file, all outside the project."""
    folder.mkdir(parents=True, exist_ok=True)
    text = folder / "secret.txt"
    text.write_text(f"{SECRET}\nroot:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    png = folder / "secret.png"
    Image.new("RGB", SECRET_PNG_SIZE, (255, 0, 255)).save(png)
    css = folder / "secret.css"
    css.write_text(f'body::after {{ content: "{SECRET}" }}', encoding="utf-8")
    return text, png, css


def references_to(text: Path, png: Path, css: Path) -> str:
    """Every way an HTML fragment can make WeasyPrint read the outside files."""
    depth = "../" * 30
    return f"""
<p>附件<a rel="attachment" href="{text}">附件</a><a rel="attachment" href="{text.as_uri()}">附件2</a></p>
<link rel="attachment" href="{text.as_uri()}">
<link rel="stylesheet" href="{css.as_uri()}">
<img src="{png}" alt="绝对路径"><img src="{png.as_uri()}" alt="file"><img src="{depth}{str(png).lstrip("/")}" alt="上级">
<img src="file://localhost{png}" alt="localhost"><img src="FILE:{png}" alt="大写">
<object data="{text.as_uri()}"></object><embed src="{text.as_uri()}">
<p style="background: url({png.as_uri()})">背景</p>
<style>@import url("{css.as_uri()}"); @font-face {{ font-family: x; src: url({text.as_uri()}) }}</style>
<svg width="40" height="40"><image href="{png.as_uri()}" width="40" height="40"/></svg>
<svg width="40" height="40" xmlns:xlink="http://www.w3.org/1999/xlink"><image xlink:href="{png}" width="40" height="40"/></svg>
"""


def evil_svg(png: Path) -> bytes:
    """An SVG in media/ that points at the outside PNG three ways and runs a script."""
    return f"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="60" onload="alert(1)">
<script>alert(2)</script>
<rect width="100" height="60" fill="#1f7a4d"/>
<image href="{png.as_uri()}" width="37" height="23"/>
<image xlink:href="{png}" x="40" width="37" height="23"/>
<use href="{png.as_uri()}#x"/>
</svg>""".encode()


# -- helpers -------------------------------------------------------------------------


def load(root: Path) -> Project:
    diagnostics = Diagnostics()
    project = load_project(root, diagnostics, today=TODAY)
    assert project is not None, [str(d) for d in diagnostics.errors]
    return project


def render_outputs(project: Project, work: Path, *names: str) -> dict[str, bytes]:
    """Run renderers directly (no loader, no cache): output path → bytes."""
    renderers = {"posts": posts.render, "print": printing.render}
    outputs: dict[str, bytes] = {}
    for name in names:
        ctx = RenderContext(work / name, Diagnostics(), jobs=1, renderer=name)
        for artifact in renderers[name](project, ctx):
            outputs[artifact.path] = (
                artifact.data if artifact.data is not None else artifact.file.read_bytes()
            )
    return outputs


SAFE_ARTICLE_TAGS = frozenset(
    {
        "section", "p", "span", "strong", "b", "em", "i", "u", "s", "del", "ins", "mark", "sup", "sub",
        "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "table", "thead", "tbody",
        "tfoot", "tr", "th", "td", "caption", "figure", "figcaption", "img", "code", "pre", "blockquote",
        "a", "small", "q", "cite", "abbr", "kbd", "samp", "var", "time", "div",
    }
)  # fmt: skip
NEVER_TAGS = frozenset(
    {
        "script", "iframe", "object", "embed", "form", "svg", "math", "audio", "video", "source",
        "picture", "link", "base", "button", "input", "noembed", "xmp",
    }
)  # fmt: skip
FETCHING_ATTRIBUTES = ("src", "srcset", "poster", "data", "background", "action", "formaction", "href")
STYLE_FETCH = re.compile(r"url\s*\(|image-set|image\s*\(|expression|@import|\\|element\s*\(", re.IGNORECASE)


def html_problems(text: str, where: str, article_only: bool = False) -> list[str]:
    """Scripts, handlers, dangerous links, outside fetches and CSS fetches in an HTML file."""
    found = []
    # Raw scan first: an event handler inside any tag, whatever a parser makes of it.
    for match in re.finditer(r"<[a-zA-Z][^>]*?[\s\"'/]on[a-z]+\s*=", text):
        found.append(f"{where}: event handler in {match.group(0)[:80]!r}")
    root = (
        lxml_html.document_fromstring(text)
        if "<html" in text[:300]
        else lxml_html.fragment_fromstring(text, create_parent="div")
    )
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower()
        if article_only and tag not in SAFE_ARTICLE_TAGS:
            found.append(f"{where}: <{tag}>")
        # The editors' desk has Kepu's own copy script and buttons, outside the articles.
        kepu_own = not article_only and (
            (tag == "script" and "alert(" not in (element.text or ""))
            or (
                tag == "button" and set(element.attrib) <= {"class", "data-copy", "data-source", "data-value"}
            )
        )
        if tag in NEVER_TAGS and not kepu_own:
            found.append(f"{where}: <{tag}>")
        if tag == "style" and (article_only or EVIL in (element.text or "")):
            found.append(f"{where}: <style>")
        for name, value in element.attrib.items():
            lowered = name.lower()
            squashed = re.sub(r"[\x00-\x20]+", "", html.unescape(value)).lower()
            if lowered.startswith("on"):
                found.append(f"{where}: {name}= on <{tag}>")
            if lowered in FETCHING_ATTRIBUTES or lowered.endswith("href"):
                if squashed.startswith(("javascript:", "vbscript:", "data:text")):
                    found.append(f"{where}: {name}={value!r}")
                if lowered != "href" and (EVIL in squashed or squashed.startswith(("//", "http:", "https:"))):
                    found.append(f"{where}: outside fetch {name}={value!r}")
            if lowered == "style" and STYLE_FETCH.search(value):
                found.append(f"{where}: style={value!r}")
            if EVIL in value and lowered == "style":
                found.append(f"{where}: {EVIL} in a style")
    return found


def pdf_leaks(pdf: bytes, where: str, folder: Path) -> list[str]:
    """Any sign of the outside files in a PDF: text, streams, attachments, images, paths."""
    found = []
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    marker, path_bytes = SECRET.encode(), str(folder).encode()
    blobs = [pdf]
    # Every object the file's cross-reference tables and object streams name. Guessing numbers
    # past them instead costs seconds a PDF: pypdf scans the whole file for each missing one.
    numbers = set(reader.xref_objStm)
    for table in reader.xref.values():
        numbers |= set(table)
    for number in sorted(numbers):
        try:
            obj = reader.get_object(number)
        except Exception:
            continue
        if isinstance(obj, pypdf.generic.StreamObject):
            try:
                blobs.append(obj.get_data())
            except Exception:
                blobs.append(obj._data or b"")
    for blob in blobs:
        if marker in blob or b"root:x:0:0" in blob:
            found.append(f"{where}: secret bytes")
        if path_bytes in blob or b"file://" in blob:
            found.append(f"{where}: an absolute path or file:// URL")
    text = "\n".join(page.extract_text() for page in reader.pages)
    if SECRET in text:
        found.append(f"{where}: secret text")
    if reader.attachments:
        found.append(f"{where}: attachments {sorted(reader.attachments)}")
    for page in reader.pages:
        for image in page.images:
            if image.image is not None and image.image.size == SECRET_PNG_SIZE:
                found.append(f"{where}: the outside PNG")
    return found


def hostile_project(project: Path, outside: Path) -> Project:
    """The fixture project with hostile text in every field, loaded then tampered with.

    Tampering after loading reaches the renderers with what a loader might miss:
    outside image paths, symlinked media, an absolute logo.
    """
    text, png, css = outside_files(outside)
    (project / "media" / "evil.svg").write_bytes(evil_svg(png))
    (project / "media" / "link.png").symlink_to(png)
    loaded = load(project)
    references = references_to(text, png, css)
    config = dataclasses.replace(
        loaded.config,
        name="课堂" + HOSTILE_TEXT,
        organization="中心" + HOSTILE_LINK,
        contact="电话 <a href=javascript:alert(21)>000</a>",
        description=HOSTILE_TEXT,
        logo=str(png),
        posts=dataclasses.replace(loaded.config.posts, author="<svg onload=alert(22)>"),
    )
    loaded = dataclasses.replace(loaded, config=config)
    for number, lesson in enumerate(loaded.lessons):
        lesson.title = f"标题{number}" + HOSTILE_TEXT
        lesson.summary = "摘要" + HOSTILE_LINK
        lesson.key_points = [
            f"要点{HOSTILE_TEXT}",
            f'=HYPERLINK("https://{EVIL}","点我"){HOSTILE_LINK}',
            "[点我](javascript:alert(23))",
        ]
        lesson.reviewed_by = HOSTILE_TEXT
        lesson.body = HOSTILE_BODY + OUTSIDE_IMAGES + references
        lesson.cover = ("media/evil.svg", "media/link.png", str(png))[number % 3]
    for quiz in loaded.quizzes:
        quiz.title = "测验" + HOSTILE_TEXT
        for question in quiz.questions:
            question.text = HOSTILE_TEXT
            question.explanation = references + HOSTILE_BODY
    for campaign in loaded.campaigns:
        campaign.title = '=HYPERLINK("https://' + EVIL + '","活动")' + HOSTILE_TEXT
        campaign.summary = HOSTILE_LINK
        campaign.organizer = "@SUM(1+1)" + HOSTILE_TEXT
        campaign.body = HOSTILE_BODY + references
        for activity in campaign.activities:
            activity.title = '=HYPERLINK("https://' + EVIL + '","点我")'
            activity.place = "+cmd|' /C calc'!A0"
            activity.description = "-2+3" + HOSTILE_TEXT
    return loaded


# -- posts and the editors' desk ------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], Path, Path]:
    base = tmp_path_factory.mktemp("hostile")
    project = base / "project"
    shutil.copytree(FIXTURE, project)
    loaded = hostile_project(project, base / "outside")
    return render_outputs(loaded, base / "work", "posts", "print"), base / "outside", project


def test_posts_and_index_carry_no_script_handler_javascript_or_outside_fetch(hostile_outputs):
    outputs, _, _ = hostile_outputs
    problems = []
    checked = 0
    for path, data in outputs.items():
        if path.endswith("post.html"):
            page = data.decode()
            problems += html_problems(page, path)
            body = page.split("<body", 1)[1]
            problems += html_problems(body.split(">", 1)[1].rsplit("</body>", 1)[0], path, article_only=True)
            checked += 1
        elif path.endswith("post.json"):
            fields = json.loads(data)
            problems += html_problems(fields["content"], path + " content", article_only=True)
            for name in ("title", "author", "digest", "content_source_url"):
                assert "<" not in str(fields[name]) or name != "content_source_url"
            checked += 1
        elif path == "posts/index.html":
            index = data.decode()
            problems += html_problems(index, path)
            scripts = re.findall(r"<script\b", index, re.IGNORECASE)
            assert len(scripts) == 1, "only Kepu's own copy-button script"
            for article in lxml_html.document_fromstring(index).find_class("article"):
                fragment = lxml_html.tostring(article, encoding="unicode")
                problems += html_problems(fragment, path + " article", article_only=True)
            checked += 1
    assert checked >= 7
    assert problems == []


def test_hostile_fields_show_as_text_on_the_editors_desk(hostile_outputs):
    outputs, _, _ = hostile_outputs
    index = outputs["posts/index.html"].decode()
    # The attacker's markup is visible as text (escaped), never as markup.
    assert "&lt;script&gt;alert(&#39;field&#39;)&lt;/script&gt;" in index
    root = lxml_html.document_fromstring(index)
    groups = root.xpath("//pre[@class='group']")
    assert groups and all(len(pre) == 0 for pre in groups), "the group message is plain text in <pre>"
    assert any("<script>alert('field')</script>" in pre.text_content() for pre in groups)


def test_group_message_stays_plain_text(hostile_outputs):
    outputs, _, _ = hostile_outputs
    texts = [data.decode() for path, data in outputs.items() if path.endswith("group.txt")]
    assert texts
    for text in texts:
        # Plain text, exactly as written: no entity escaping, no markup added.
        assert "&lt;" not in text and "&amp;" not in text
        assert "<script>alert('field')</script>" in text


def test_wechat_css_filter_resists_escapes_and_image_functions():
    from builder.wechat_css import clean_style, join_styles

    for hostile in (
        f"background:url(https://{EVIL}/a.png)",
        f"background:u\\72l(https://{EVIL}/a.png)",
        f"background:U\\52L(https://{EVIL}/a.png)",
        f"background-image:image-set('https://{EVIL}/a.png' 1x)",
        f"background-image:-webkit-image-set('//{EVIL}/a.png' 1x)",
        f"background-image:image('//{EVIL}/a.png')",
        f"list-style:url(//{EVIL}/a.png)",
        f"border-image:url(//{EVIL}/a.png) 30",
        f"cursor:url(//{EVIL}/a.cur),auto",
        "width:expression(alert(1))",
        "behavior:url(x.htc)",
        "-moz-binding:url(x.xml#x)",
        "\\62 ackground:url(//fetch.evil.example/a.png)",
        f"background:/**/url(//{EVIL}/a.png)",
        f"background:ur\\l(//{EVIL}/a.png)",
        f"@import 'https://{EVIL}/x.css'",
    ):
        assert clean_style(hostile) == "", hostile
        assert join_styles("color:red", hostile) == "color:red", hostile
    # Kepu's own styles still pass.
    assert clean_style("background-color:rgba(31,122,77,0.07);color:#1f7a4d") == (
        "background-color:rgba(31,122,77,0.07);color:#1f7a4d"
    )


def test_posts_outputs_hold_no_absolute_path(hostile_outputs):
    outputs, outside, project = hostile_outputs
    for path, data in outputs.items():
        if path.startswith("posts/"):
            for needle in (str(project).encode(), str(outside).encode(), b"file://"):
                assert needle not in data, (path, needle)


# -- the schedule CSV -------------------------------------------------------------------


def test_schedule_cells_cannot_start_a_formula(hostile_outputs):
    outputs, _, _ = hostile_outputs
    schedules = [data for path, data in outputs.items() if path.endswith("schedule.csv")]
    assert schedules
    for data in schedules:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        cells = [cell for row in rows[1:] for cell in row]
        assert any("HYPERLINK" in cell for cell in cells)
        for cell in cells:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        assert "'=HYPERLINK(" in "".join(cells) and "'+cmd" in "".join(cells)
        # Dates stay dates.
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", row[0]) for row in rows[1:])


def test_schedule_keeps_ordinary_text(project: Path, tmp_path: Path):
    loaded = load(project)
    data = calendar.campaign_schedule(loaded, loaded.campaigns[0]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    assert rows[1][0] == "2026-05-08" and not rows[1][4].startswith("'")


# -- print -----------------------------------------------------------------------------


def test_pdfs_hold_nothing_of_outside_files(hostile_outputs):
    outputs, outside, _ = hostile_outputs
    pdfs = {path: data for path, data in outputs.items() if path.endswith(".pdf")}
    assert len(pdfs) >= 10
    leaks = [leak for path, data in pdfs.items() for leak in pdf_leaks(data, path, outside)]
    assert leaks == []
    pngs = [data for path, data in outputs.items() if path.endswith("flyer.png")]
    assert pngs


def test_pdf_text_keeps_hostile_fields_as_text(hostile_outputs):
    outputs, _, _ = hostile_outputs
    text = "\n".join(
        page.extract_text()
        for page in pypdf.PdfReader(io.BytesIO(outputs["print/campaigns/dust-month/plan.pdf"])).pages
    )
    squashed = re.sub(r"\s+", "", text)
    assert "<script>alert('field')</script>" in squashed  # a field is text, shown as written
    assert 'alert("raw")' not in squashed  # a script in the body is dropped with its content


def test_weasyprint_reads_only_project_files(tmp_path: Path, project: Path):
    """Whatever HTML reaches WeasyPrint (a project's own template, say), outside files stay out."""
    text, png, css = outside_files(tmp_path / "outside")
    loaded = load(project)
    job = next(job for job in printing.plan_jobs(loaded) if job.kind == "plan-pdf")
    hostile = job.html_by_scale[0].replace("</body>", references_to(text, png, css) + "</body>")
    hostile = hostile.replace("<head>", f'<head><base href="{tmp_path.as_uri()}/outside/">')
    rendered = printing.render_job(dataclasses.replace(job, html_by_scale=(hostile,)))
    assert pdf_leaks(rendered.pdf, job.path, tmp_path / "outside") == []
    assert any("secret" in message or "不允许" in message for message in rendered.engine_messages)


def test_media_svg_is_cleaned_before_weasyprint_reads_it(tmp_path: Path, project: Path):
    _, png, _ = outside_files(tmp_path / "outside")
    (project / "media" / "evil.svg").write_bytes(evil_svg(png))
    lesson = (project / "content/lessons/flu-vaccine.md").read_text(encoding="utf-8")
    (project / "content/lessons/flu-vaccine.md").write_text(
        lesson.replace("reviewed_by:", "cover: media/evil.svg\nreviewed_by:"), encoding="utf-8"
    )
    loaded = load(project)
    job = next(job for job in printing.plan_jobs(loaded) if job.kind == "flyer-pdf" and "flu" in job.path)
    rendered = printing.render_job(job)
    assert pdf_leaks(rendered.pdf, job.path, tmp_path / "outside") == []
    served, mime = ProjectFiles(str(project)).read(project_url("media/evil.svg"))
    assert mime == "image/svg+xml"
    assert b"script" not in served and b"onload" not in served and png.name.encode() not in served


def test_outside_references_in_content_are_errors_not_bytes(tmp_path: Path, project: Path):
    _, png, _ = outside_files(tmp_path / "outside")
    (project / "media" / "link.png").symlink_to(png)
    source = project / "content/lessons/flu-vaccine.md"
    lines = source.read_text(encoding="utf-8").rstrip("\n").split("\n")
    lines += ["", f"![绝对路径]({png})", "", f"![file]({png.as_uri()})", "", "![链接](../../media/link.png)"]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        build(project, only=["posts", "print"], today=TODAY)
    messages = [str(item) for item in raised.value.diagnostics.errors]
    assert any(message.startswith("content/lessons/flu-vaccine.md:") for message in messages), messages
    assert SECRET not in "\n".join(messages)
    public = project / "public"
    if public.exists():
        for file in public.rglob("*"):
            assert not file.is_file() or SECRET.encode() not in file.read_bytes()


def test_practice_exam_pdfs_read_no_outside_file(tmp_path: Path, project: Path, write):
    text, png, css = outside_files(tmp_path / "outside")
    questions = "\n".join(
        f"## {area}第{n}题\n<!-- competencies: {tag} -->\n- [x] 对\n- [ ] 错\n"
        for area, tag in {"职业道德": "1.1.1", "基础知识": "2.1.1"}.items()
        for n in range(3)
    )
    write(
        "content/quizzes/bank.md",
        "---\ntitle: 题库\naudiences: [老年人]\nlessons: [hypertension-basics]\nlevel: 三级\n---\n"
        + questions,
    )
    loaded = load(project)
    exam = assemble(loaded, "三级", 4, seed=1)
    assert exam.questions
    for item in exam.questions:
        item.question.explanation = references_to(text, png, css)
    written = write_exam(loaded, exam, tmp_path / "exam")
    for pdf in (path for path in written if path.suffix == ".pdf"):
        assert pdf_leaks(pdf.read_bytes(), pdf.name, tmp_path / "outside") == []
        assert str(project).encode() not in pdf.read_bytes()


# -- the same project anywhere gives the same bytes -----------------------------------------


# (Posts and print from two folders, with a cover and an SVG: tests/test_same_bytes.py.)


def test_print_cache_key_does_not_depend_on_the_folder(tmp_path: Path):
    keys = []
    for root in (tmp_path / "a" / "x", tmp_path / "bb" / "yy"):
        shutil.copytree(FIXTURE, root)
        keys.append([item.key for item in printing.plan(load(root))])
    assert keys[0] == keys[1]


def test_print_jobs_name_no_absolute_path(project: Path):
    for job in printing.plan_jobs(load(project)):
        for html_text in job.html_by_scale:
            assert str(project) not in html_text and "file:" not in html_text, job.path
        assert str(project) not in job.base_url


def test_config_text_in_page_margins_is_a_css_string(project: Path):
    loaded = load(project)
    organization = '甲&乙"中心\\</style><p>'
    loaded = dataclasses.replace(loaded, config=dataclasses.replace(loaded.config, organization=organization))
    job = next(job for job in printing.plan_jobs(loaded) if job.kind == "signin-pdf")
    assert "</style><p>" not in job.html_by_scale[0].split("</style>", 1)[0]
    text = "\n".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(printing.render_job(job).pdf)).pages
    )
    assert organization in text and "&amp;" not in text


def test_post_covers_and_images_read_no_outside_file(hostile_outputs):
    """A cover or body image named by absolute path or symlink leaves no pixel in a post."""
    outputs, _, _ = hostile_outputs
    pictures = [(path, data) for path, data in outputs.items() if path.endswith((".jpg", ".png"))]
    assert any(path.endswith("cover.jpg") for path, _ in pictures)
    for path, data in pictures:
        with Image.open(io.BytesIO(data)) as image:
            colours = image.convert("RGB").getcolors(1 << 20) or []
        magenta = sum(count for count, (r, g, b) in colours if r > 230 and g < 40 and b > 230)
        assert magenta == 0, path
