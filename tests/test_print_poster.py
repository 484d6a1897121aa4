"""The A3 poster reads from 2 m: title and key points measured in the PDF, pictograms or badges."""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from types import SimpleNamespace

import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest
from conftest import TODAY

from builder.cjk import emphasise_figures
from builder.diagnostics import Diagnostics
from builder.model import Project
from builder.project import load_project
from builder.renderers.printing import check_pictograms, plan_jobs, render_job, trainer_only

MM = 72 / 25.4
CAP_HEIGHT = 0.73  # Noto Sans CJK: cap height per em, the measure of legibility
HAN = re.compile(r"[\u4e00-\u9fff]")
RULES = "\npictograms:\n  血压: cuff\n  药: pill\n"


def load(root: Path) -> Project:
    diagnostics = Diagnostics()
    project = load_project(root, diagnostics, today=TODAY)
    assert project is not None, [str(d) for d in diagnostics.errors]
    return project


@pytest.fixture
def with_rules(project: Path) -> Path:
    """The fixture project with two pictogram rules: two of its three points get a pictogram."""
    config = project / "site_config.yml"
    config.write_text(config.read_text(encoding="utf-8") + RULES, encoding="utf-8")
    return project


def job(project: Project, kind: str, slug: str = "hypertension-basics"):
    return next(job for job in plan_jobs(project) if job.kind == kind and f"/{slug}/" in job.path)


def han_sizes(pdf: bytes, text: str) -> tuple[float, float]:
    """Median ink height (mm, pypdfium2 char boxes) and font size (pt) of the Han characters of ``text``."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        textpage = page.get_textpage()
        chars = [textpage.get_text_range(index, 1) for index in range(textpage.count_chars())]
        start = "".join(chars).find(text)
        assert start >= 0, text
        heights, sizes = [], []
        for index in range(start, start + len(text)):
            if HAN.match(chars[index]):
                _, bottom, _, top = textpage.get_charbox(index)
                heights.append((top - bottom) / MM)
                sizes.append(pdfium_c.FPDFText_GetFontSize(textpage.raw, index))
        return statistics.median(heights), statistics.median(sizes)
    finally:
        document.close()


def test_poster_title_and_big_points_are_large_enough_to_read_from_two_metres(with_rules: Path, write):
    write(
        "content/lessons/long-title.md",
        "---\ntitle: 老年人防跌倒：家里改一改，身体练一练\nsummary: 检验长标题。\naudiences: [老年人]\n"
        "topics: [慢性病防治]\nkey_points:\n  - 卫生间装扶手、铺防滑垫，晚上开小夜灯\n"
        "  - 起床做到三个半分钟，起身动作要慢\n  - 穿合脚防滑的鞋，不穿拖鞋外出和上下楼\n"
        "  - 常练平衡和腿部力量，太极拳、扶椅站立都可以\n  - 跌倒后别急着爬起来，先判断有没有受伤\n"
        "  - 怀疑骨折、撞到头或叫不醒，立即打120\n"
        "reviewed_by: 测试医师\nreviewed_on: 2026-10-01\n---\n\n正文。\n",
    )
    project = load(with_rules)
    for slug, title, big in (
        ("hypertension-basics", "认识高血压", "高血压早期"),
        ("long-title", "老年人防跌倒", "怀疑骨折"),
    ):
        rendered = render_job(job(project, "poster-pdf", slug))
        assert rendered.page_count == 1, slug
        ink, size = han_sizes(rendered.pdf, title)
        assert size >= 90 and size * CAP_HEIGHT / MM >= 25, (slug, size)
        assert ink >= 25, (slug, ink)  # the glyphs themselves, not only the font size
        ink, size = han_sizes(rendered.pdf, big)
        assert size * CAP_HEIGHT / MM >= 10 and ink >= 10, (slug, size, ink)


def test_each_key_point_on_poster_and_flyer_has_its_pictogram_or_a_badge(with_rules: Path):
    project = load(with_rules)
    lesson = next(lesson for lesson in project.lessons if lesson.slug == "hypertension-basics")
    assert [point.icon for point in lesson.points] == ["cuff", "cuff", "pill"]
    for kind in ("poster-pdf", "flyer-pdf"):
        html = job(project, kind).html_by_scale[0]
        marks = re.findall(r'<span class="mark (picto" data-icon="([a-z-]+)"|num" data-badge="(\d+)")', html)
        assert len(marks) == len(lesson.points), kind
        assert sorted(icon for _, icon, _ in marks if icon) == ["cuff", "cuff", "pill"], kind
        # The pictogram is the cleaned SVG, tinted: no currentColor left, no script.
        for uri in re.findall(r'class="mark picto"[^>]*><img src="([^"]+)"', html):
            assert uri.startswith("data:image/svg+xml") and "currentColor" not in uri and "script" not in uri


def test_a_point_without_pictogram_gets_a_numbered_badge_and_a_check_warning(project: Path):
    loaded = load(project)  # no pictograms: rules in the plain fixture
    html = job(loaded, "flyer-pdf").html_by_scale[0]
    assert re.findall(r'data-badge="(\d+)"', html) == ["1", "2", "3"]
    diagnostics = Diagnostics()
    warnings = check_pictograms(loaded, diagnostics)
    lesson = next(lesson for lesson in loaded.lessons if lesson.slug == "hypertension-basics")
    lines = [warning.line for warning in warnings if warning.path == lesson.source]
    assert lines == [point.line for point in lesson.points] and all(
        "没有配图标" in w.message for w in warnings
    )


def test_poster_has_a_focal_pictogram_urgent_points_first_and_a_large_qr(with_rules: Path, write):
    write(
        "content/lessons/urgent-last.md",
        "---\ntitle: 血压很高怎么办\nsummary: 检验急症要点排在前面。\naudiences: [老年人]\n"
        "topics: [慢性病防治]\nkey_points:\n  - 每天按时吃药\n  - 少吃咸菜和酱料\n  - 每周量两次血压\n"
        "  - {text: 胸痛、说话不清，马上打急救电话, urgent: true}\n"
        "reviewed_by: 测试医师\nreviewed_on: 2026-10-01\n---\n\n正文。\n",
    )
    html = job(load(with_rules), "poster-pdf", "urgent-last").html_by_scale[0]
    assert re.search(r'<div class="focal" data-icon="cuff">', html)
    big = html[html.index('<ol class="points big">') : html.index('<ol class="points small">')]
    assert big.count("<li") == 3 and re.search(r'<li id="fit-要点1" class="urgent">', big)
    assert "胸痛" in big.split("</li>")[0]
    qr = re.search(r"\.footer \.qr \{ width: (\d+)mm; height: (\d+)mm", html)
    assert qr and 35 <= int(qr.group(1)) <= 50 and qr.group(1) == qr.group(2)
    assert "手机扫一扫" in html


def test_key_figures_are_marked_for_the_brand_colour():
    assert (
        str(emphasise_figures("每人每天吃盐不超过5克")) == '每人每天吃盐不超过<span class="figure">5克</span>'
    )
    marked = str(emphasise_figures("收缩压≥140或舒张压≥90 mmHg，打120，140/90"))
    assert re.findall(r'<span class="figure">([^<]+)</span>', marked) == ["≥140", "≥90 mmHg", "120", "140/90"]
    assert "figure" not in str(emphasise_figures("2型糖尿病、KN95口罩、84消毒液"))
    assert str(emphasise_figures("<b>5克")) == '&lt;b&gt;<span class="figure">5克</span>'


def test_trainer_only_lessons_get_no_public_poster(project: Path):
    trainer = SimpleNamespace(audiences=[SimpleNamespace(id="health-assistants")])
    mixed = SimpleNamespace(
        audiences=[SimpleNamespace(id="health-assistants"), SimpleNamespace(id="elderly")]
    )
    assert trainer_only(trainer) and not trainer_only(mixed)
    assert not trainer_only(SimpleNamespace(audiences=[]))
    assert trainer_only(mixed, frozenset({"health-assistants", "elderly"}))  # configurable


def test_which_audiences_are_trainers_is_configured(project: Path):
    config = project / "site_config.yml"
    base = config.read_text(encoding="utf-8")
    config.write_text(base + "\nprint:\n  trainer_audiences: [老年人, 慢性病患者]\n", encoding="utf-8")
    loaded = load(project)
    assert loaded.config.print.trainer_audiences == ("elderly", "chronic-patients")
    posters = {job.path for job in plan_jobs(loaded) if job.kind == "poster-pdf"}
    assert "print/lessons/hypertension-basics/poster.pdf" not in posters  # 老年人, 慢性病患者 only
    assert any(job.kind == "flyer-pdf" and "/hypertension-basics/" in job.path for job in plan_jobs(loaded))
    # An audience that does not exist is a content mistake at its line.
    config.write_text(base + "\nprint:\n  trainer_audiences:\n    - 外星人\n", encoding="utf-8")
    diagnostics = Diagnostics()
    assert load_project(project, diagnostics, today=TODAY) is None
    lines = base.count("\n") + 4
    assert [(d.line, "外星人" in d.message) for d in diagnostics.errors] == [(lines, True)]
