"""The print renderer: real PDFs rendered from the fixture project and read back with pypdf."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest
from conftest import TODAY
from PIL import Image

from builder.cjk import keep_clauses_together
from builder.diagnostics import Diagnostics
from builder.model import Project
from builder.pipeline import build
from builder.project import load_project
from builder.qr import qr_svg
from builder.renderers import RenderContext
from builder.renderers.printing import (
    FORMATS,
    PrintJob,
    check_print_fit,
    plan_jobs,
    render,
    render_job,
)

MM = 72 / 25.4
PAGE_POINTS = {"A3": (842, 1191), "A4": (595, 842), "A5": (420, 595)}
CLOSING_PUNCTUATION = "。，、；：？！）」》"

# 60 characters: the longest title the issue asks a flyer to survive.
LONG_TITLE = "社区居民高血压糖尿病等慢性病长期规范管理与家庭自我监测及健康生活方式综合指导手册第一版（适用于社区卫生服务中心和服务站）"
# 8 key points of 40 characters each, every one different so a lost one is noticed.
LONG_POINTS = [
    f"第{n}条：坚持每天定时测量血压和血糖并如实记录，复诊时把记录本带给家庭医生看一看好"
    for n in "一二三四五六七八"
]


def load(root: Path) -> Project:
    diagnostics = Diagnostics()
    project = load_project(root, diagnostics, today=TODAY)
    assert project is not None, [str(d) for d in diagnostics.errors]
    return project


def job_for(project: Project, kind: str, path_part: str = "") -> PrintJob:
    return next(job for job in plan_jobs(project) if job.kind == kind and path_part in job.path)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def squashed(text: str) -> str:
    """Text without whitespace: line breaks inside a wrapped point must not hide it."""
    return re.sub(r"\s+", "", text)


def lesson_markdown(title: str, points: list[str], extra: str = "") -> str:
    items = "\n".join(f"  - {point}" for point in points)
    return (
        f"---\ntitle: {title}\nsummary: 用来检验印刷品排版的课程。\naudiences: [老年人]\n"
        f"topics: [慢性病防治]\nkey_points:\n{items}\nreviewed_by: 测试医师\nreviewed_on: 2026-10-01\n{extra}"
        "---\n\n正文。\n"
    )


def embedded_font_names(reader: pypdf.PdfReader) -> list[tuple[str, bool]]:
    """(font name, has an embedded font program) for every font the pages use."""
    fonts = []
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor", {})
                embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
                fonts.append((str(descendant.get_object()["/BaseFont"]), embedded))
    return fonts


@pytest.fixture
def add_lesson(project: Path, write: Callable[[str, str], Path]) -> Callable[..., str]:
    def _add(slug: str, title: str, points: list[str], extra: str = "") -> str:
        write(f"content/lessons/{slug}.md", lesson_markdown(title, points, extra))
        return slug

    return _add


@pytest.mark.parametrize(
    ("kind", "path_part", "title"),
    [
        ("flyer-pdf", "hypertension-basics", "认识高血压"),
        ("prescription-pdf", "hypertension-basics", "认识高血压"),
        ("poster-pdf", "hypertension-basics", "认识高血压"),
        ("quiz-pdf", "hypertension-quiz", "高血压知识自测"),
        ("answer-key-pdf", "hypertension-quiz", "高血压知识自测"),
        ("plan-pdf", "dust-month", "2026年工地职业健康宣传月"),
        ("event-flyer-pdf", "events/1-", "工地健康大讲堂：粉尘与尘肺病"),
        ("signin-pdf", "events/1-", "工地健康大讲堂：粉尘与尘肺病"),
    ],
)
def test_every_kind_has_its_page_size_title_text_metadata_and_embedded_fonts(
    project: Path, kind: str, path_part: str, title: str
):
    rendered = render_job(job_for(load(project), kind, path_part))
    reader = pypdf.PdfReader(io.BytesIO(rendered.pdf))

    width, height = PAGE_POINTS[FORMATS[kind].page]
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (width, height)
    assert title in squashed(pdf_text(rendered.pdf))
    assert reader.metadata.title == title
    assert reader.metadata.author == "示例社区卫生服务中心"
    assert reader.trailer["/Root"]["/Lang"] == "zh-CN"
    assert not reader.metadata.get("/CreationDate") and not reader.metadata.get("/ModDate")
    fonts = embedded_font_names(reader)
    assert fonts and all(embedded for _, embedded in fonts), fonts
    assert any("Noto" in name and "CJK" in name for name, _ in fonts), fonts
    # A subset, not the whole 16 MB CJK font: subset names carry a 6-letter tag.
    assert all(re.match(r"^/[A-Z]{6}\+", name) for name, _ in fonts), fonts


def test_long_title_and_eight_long_key_points_are_all_in_flyer_and_prescription(project: Path, add_lesson):
    assert len(LONG_TITLE) == 60 and all(len(point) == 40 for point in LONG_POINTS)
    add_lesson("long-lesson", LONG_TITLE, LONG_POINTS)
    loaded = load(project)

    for kind in ("flyer-pdf", "prescription-pdf"):
        rendered = render_job(job_for(loaded, kind, "long-lesson/"))
        text = squashed(pdf_text(rendered.pdf))
        assert LONG_TITLE in text, kind
        for point in LONG_POINTS:
            assert point in text, (kind, point)


def test_lines_never_start_with_closing_punctuation(project: Path, add_lesson):
    # Points of different lengths put every mark at many positions along a line,
    # so some are bound to fall right where a line would break.
    pattern = "注意：少盐（每天5克）、少油，多走路！好吗？记住「三减三健」；《指南》说。"
    points = [("健" * shift + pattern)[:40] for shift in range(8)]
    add_lesson("punctuation", "标点：检验（避头尾）、断行！", points)
    loaded = load(project)

    for kind in ("flyer-pdf", "prescription-pdf", "poster-pdf"):
        text = pdf_text(render_job(job_for(loaded, kind, "punctuation/")).pdf)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        assert len(lines) > 10, kind
        offenders = [line for line in lines if line[0] in CLOSING_PUNCTUATION]
        assert not offenders, (kind, offenders)


def test_a_prescription_that_cannot_fit_warns_with_path_and_what_spilled_and_loses_nothing(
    project: Path, add_lesson
):
    too_long = [f"第{n}条" + "饮食清淡少盐少油，" * 9 for n in "一二三四五六七八"]
    add_lesson("overfull", "内容太多的课程", too_long)
    loaded = load(project)

    diagnostics = Diagnostics()
    problems = check_print_fit(loaded, diagnostics)
    assert problems == diagnostics.warnings
    prescription = [w for w in problems if w.path.endswith("overfull.md") and "A5 健康教育处方" in w.message]
    assert prescription, [w.message for w in problems]
    warning = prescription[0]
    assert warning.line == 6  # the key_points: line
    assert "仍排不下一页" in warning.message and "要点" in warning.message
    assert not any(w.path.endswith("hypertension-basics.md") for w in problems)

    rendered = render_job(job_for(loaded, "prescription-pdf", "overfull/"))
    assert rendered.page_count > 1  # flowed onto another page instead of clipping
    text = squashed(pdf_text(rendered.pdf))
    assert all(squashed(point) in text for point in too_long)


def test_bleed_gives_bleed_and_trim_boxes_and_the_png_stays_trimmed(project: Path):
    config = project / "site_config.yml"
    config.write_text(
        config.read_text(encoding="utf-8") + "print:\n  bleed: 3mm\n  crop_marks: false\n", encoding="utf-8"
    )
    rendered = render_job(job_for(load(project), "flyer-pdf", "flu-vaccine"))
    page = pypdf.PdfReader(io.BytesIO(rendered.pdf)).pages[0]

    bleed = 3 * MM
    assert float(page.mediabox.width) == pytest.approx(210 * MM + 2 * bleed, abs=0.5)
    assert float(page.mediabox.height) == pytest.approx(297 * MM + 2 * bleed, abs=0.5)
    assert float(page.trimbox.width) == pytest.approx(210 * MM, abs=0.5)
    assert float(page.trimbox.height) == pytest.approx(297 * MM, abs=0.5)
    assert float(page.bleedbox.width) == pytest.approx(210 * MM + 2 * bleed, abs=0.5)

    png = Image.open(io.BytesIO(rendered.png))
    assert png.width == 1080
    assert png.height == pytest.approx(1080 * 297 / 210, abs=2)


def test_flyer_png_is_1080_wide_and_shows_the_brand_band(project: Path):
    rendered = render_job(job_for(load(project), "flyer-pdf", "flu-vaccine"))
    png = Image.open(io.BytesIO(rendered.png)).convert("RGB")
    assert png.width == 1080 and png.height == pytest.approx(1080 * 297 / 210, abs=2)
    assert png.getpixel((1075, 5)) == (0x1F, 0x7A, 0x4D)  # brand colour to the trim edge


def test_cover_image_is_placed_on_the_flyer(project: Path, add_lesson):
    add_lesson("with-cover", "有封面的课程", LONG_POINTS[:3], extra="cover: media/bp.png\n")
    rendered = render_job(job_for(load(project), "flyer-pdf", "with-cover/"))
    assert len(pypdf.PdfReader(io.BytesIO(rendered.pdf)).pages[0].images) == 1


def test_project_templates_override_the_bundled_print_templates(project: Path, write, tmp_path: Path):
    write(
        "templates/print/prescription.html",
        """
        {% extends "print/_base.html" %}
        {% set base_pt = 12 %}
        {% block title %}{{ lesson.title }}{% endblock %}
        {% block style %}p { colour: red; }{% endblock %}
        {% block body %}<p>本中心专用处方：{{ lesson.title }}</p>{% endblock %}
        """,
    )
    loaded = load(project)
    rendered = render_job(job_for(loaded, "prescription-pdf", "flu-vaccine"))
    assert "本中心专用处方：流感与疫苗接种" in squashed(pdf_text(rendered.pdf))

    # The typo in the override is reported once, not once per lesson.
    loaded.lessons, loaded.quizzes, loaded.campaigns = loaded.lessons[:2], [], []
    ctx = RenderContext(tmp_path, Diagnostics(), jobs=1)
    list(render(loaded, ctx))
    typo_warnings = [d for d in ctx.diagnostics.warnings if "colour" in d.message]
    assert len(typo_warnings) == 1, typo_warnings
    assert "prescription.pdf：排版引擎提示" in typo_warnings[0].message


def test_build_lists_every_kind_and_parallel_output_equals_serial_bytes(project: Path, tmp_path: Path):
    (project / "content/lessons/flu-vaccine.md").unlink()  # two lessons are enough, and faster
    out = tmp_path / "public"
    result = build(project, out, only=["print"], jobs=2, today=TODAY)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    kinds_by_source: dict[str, set[str]] = {}
    for entry in manifest["artifacts"]:
        kinds_by_source.setdefault(entry["source"], set()).add(entry["kind"])
    lesson_kinds = {
        "flyer-pdf",
        "flyer-png",
        "prescription-pdf",
        "poster-pdf",
        "poster-press-pdf",
        "flyer-press-pdf",
    }
    for slug in ("hypertension-basics", "dust-pneumoconiosis"):
        assert kinds_by_source[f"content/lessons/{slug}.md"] == lesson_kinds
    assert kinds_by_source["content/quizzes/hypertension-quiz.md"] == {"quiz-pdf", "answer-key-pdf"}
    assert kinds_by_source["content/campaigns/dust-month.md"] == {"plan-pdf", "event-flyer-pdf", "signin-pdf"}
    # Only the activity with a time and a place gets a flyer and a sign-in sheet.
    assert (out / "print/campaigns/dust-month/events/1-signin.pdf").is_file()
    assert not (out / "print/campaigns/dust-month/events/2-signin.pdf").exists()
    assert not result.diagnostics.warnings

    # Rendered again, serially in this process: the same bytes at the same paths.
    loaded = load(project)
    flyer = render_job(job_for(loaded, "flyer-pdf", "hypertension-basics"))
    assert (out / "print/lessons/hypertension-basics/flyer.pdf").read_bytes() == flyer.pdf
    assert (out / "print/lessons/hypertension-basics/flyer.png").read_bytes() == flyer.png
    assert (out / "print/lessons/hypertension-basics/press/flyer.pdf").read_bytes() == flyer.press
    plan = render_job(job_for(loaded, "plan-pdf"))
    assert (out / "print/campaigns/dust-month/plan.pdf").read_bytes() == plan.pdf


def test_render_warns_through_the_diagnostics_of_the_build(project: Path, add_lesson, tmp_path: Path):
    add_lesson(
        "overfull", "内容太多的课程", [f"第{n}条" + "饮食清淡少盐少油，" * 9 for n in "一二三四五六七八"]
    )
    loaded = load(project)
    loaded.lessons = [lesson for lesson in loaded.lessons if lesson.slug == "overfull"]
    loaded.quizzes, loaded.campaigns = [], []
    ctx = RenderContext(tmp_path, Diagnostics(), jobs=1)
    artifacts = list(render(loaded, ctx))
    assert {a.kind for a in artifacts} == {
        "flyer-pdf", "flyer-png", "prescription-pdf", "poster-pdf", "poster-press-pdf", "flyer-press-pdf"
    }  # fmt: skip
    assert all(a.path.startswith("print/lessons/overfull/") for a in artifacts)
    assert any("A5 健康教育处方" in d.message for d in ctx.diagnostics.warnings)


def test_qr_svg_scales_with_css():
    svg = qr_svg("https://health.example.org/lessons/flu-vaccine/")
    assert svg.startswith("<svg") and "viewBox" in svg and "width=" not in svg.split(">")[0]


def test_title_clauses_are_kept_together_and_escaped():
    html = str(keep_clauses_together("认识高血压：量得准，管得住<b>"))
    assert html == (
        '<span class="clause">认识高血压：</span><span class="clause">量得准，</span>'
        '<span class="clause">管得住&lt;b&gt;</span>'
    )
    # A clause longer than a line holds at the title's size stays breakable.
    assert str(keep_clauses_together("流感与疫苗接种", line_chars=6.5)) == "流感与疫苗接种"
    assert "clause" in str(keep_clauses_together("流感与疫苗接种", line_chars=7.2))


def test_images_in_a_campaign_body_are_printed_in_the_plan(project: Path):
    def image_count() -> int:
        reader = pypdf.PdfReader(io.BytesIO(render_job(job_for(load(project), "plan-pdf")).pdf))
        return len({image.name for page in reader.pages for image in page.images})

    assert image_count() == 0  # the fixture has no logo
    campaign = project / "content/campaigns/dust-month.md"
    campaign.write_text(
        campaign.read_text(encoding="utf-8") + "\n![血压计](../../media/bp.png)\n", encoding="utf-8"
    )
    assert image_count() == 1


def test_check_reuses_the_fit_verdicts_of_the_last_build(project: Path, add_lesson, monkeypatch):
    """After a build, `kepu check` lays out only the documents whose inputs changed since."""
    import builder.renderers.printing as printing
    from builder.pipeline import check

    too_long = [f"第{n}条" + "饮食清淡少盐少油，" * 9 for n in "一二三四五六七八"]
    add_lesson("overfull", "内容太多的课程", too_long)
    lesson = project / "content" / "lessons" / "overfull.md"
    build(project, only=["print"], today=TODAY, jobs=1)
    built_warnings = [str(w) for w in check(project, today=TODAY, use_cache=False).warnings]
    assert any("overfull.md" in w and "仍排不下一页" in w for w in built_warnings)

    laid_out: list[str] = []
    real_measure = printing.measure_job

    def counting_measure(job: PrintJob):
        laid_out.append(job.path)
        return real_measure(job)

    monkeypatch.setattr(printing, "measure_job", counting_measure)
    assert [str(w) for w in check(project, today=TODAY).warnings] == built_warnings
    assert laid_out == []  # every verdict came from the build cache

    lesson.write_text(lesson.read_text(encoding="utf-8").replace("第一条", "第1条"), encoding="utf-8")
    after_edit = [str(w) for w in check(project, today=TODAY).warnings]
    assert laid_out and all("/overfull/" in path for path in laid_out)  # only the edited lesson's documents
    assert any("overfull.md" in w and "仍排不下一页" in w for w in after_edit)
    assert [str(w) for w in check(project, today=TODAY, use_cache=False).warnings] == after_edit


def test_printed_markdown_shows_the_images_the_loader_resolved(project: Path):
    """Images come from the model (MediaRef), not from resolving the written path again."""
    from builder.model import MediaRef
    from builder.pdf import project_url
    from builder.print_templates import markdown_html

    loaded = load(project)
    text = "![血压](pic.png)\n\n![未解析](missing.png)"
    html = str(markdown_html(text, loaded, [MediaRef("pic.png", "media/bp.png", 1)]))
    assert f'src="{project_url("media/bp.png")}"' in html
    assert "missing.png" not in html  # the loader did not resolve it: left out
    # A resolved path that is no longer a file inside the project is left out too.
    gone = str(markdown_html(text, loaded, [MediaRef("pic.png", "../outside.png", 1)]))
    assert "<img" not in gone


def test_only_the_pdf_engine_imports_weasyprint():
    """Every paper output goes through builder/pdf.py (typing-only imports aside)."""
    import ast

    from conftest import REPO

    offenders = []
    for path in sorted((REPO / "builder").rglob("*.py")):
        if path.name == "pdf.py" and path.parent.name == "builder":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {
            id(node)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for node in ast.walk(block)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name.split(".")[0] == "weasyprint" for name in names):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offenders == []


def test_every_question_on_the_sheets_has_its_kind_badge_once(project: Path):
    loaded = load(project)
    quiz = loaded.quizzes[0]
    for kind in ("quiz-pdf", "answer-key-pdf"):
        html = job_for(loaded, kind, quiz.slug).html_by_scale[0]
        badges = re.findall(r'<span class="kind">(单选|多选|判断)</span>', html)
        assert len(badges) == len(quiz.questions), kind
        assert "（多选）<span" not in html and "（单选）<span" not in html
