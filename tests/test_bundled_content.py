"""The repository's own content: valid, and as complete as the product promises."""

from __future__ import annotations

import datetime as dt

from conftest import REPO

from builder.diagnostics import Diagnostics
from builder.project import load_project

SEED_AUDIENCES = {"0~6岁儿童家长", "青少年", "妇女/孕产妇", "老年人", "残疾人", "农民工", "建筑工人", "工业企业工人", "环卫工人", "新就业形态劳动者", "教师", "医疗卫生人员"}  # fmt: skip


def load():
    diagnostics = Diagnostics()
    project = load_project(REPO, diagnostics, today=dt.date(2026, 12, 1))
    return project, diagnostics


def test_bundled_content_has_no_errors_or_warnings():
    project, diagnostics = load()
    assert [str(d) for d in diagnostics.sorted()] == []
    assert project is not None


def test_bundled_content_covers_what_the_product_promises():
    project, _ = load()
    assert set(project.config.audiences.labels()) >= SEED_AUDIENCES
    training = [lesson for lesson in project.lessons if lesson.competencies and lesson.level]
    residents = [lesson for lesson in project.lessons if not lesson.competencies]
    assert len(project.lessons) >= 12 and len(training) >= 4 and len(residents) >= 8
    topics = {topic.label for lesson in residents for topic in lesson.topics}
    assert topics >= {"慢性病防治", "职业健康", "传染病防控", "伤害预防", "妇幼健康", "心理健康"}
    assert len(project.quizzes) >= 3 and len(project.campaigns) >= 2
    for lesson in project.lessons:
        assert 800 <= sum("\u4e00" <= ch <= "\u9fff" for ch in lesson.body) <= 2500, lesson.slug
        assert lesson.reviewed_by and "示例" in lesson.reviewed_by  # role placeholders, never names


def bundled_copy(tmp_path):
    """The bundled project's sources (config, content, media, templates) in a writable folder."""
    import shutil

    root = tmp_path / "bundled"
    root.mkdir()
    shutil.copy(REPO / "site_config.yml", root / "site_config.yml")
    for folder in ("content", "media", "templates"):
        shutil.copytree(REPO / folder, root / folder)
    return root


def quality_lines(root) -> list[str]:
    from builder.quality import check_quality

    diagnostics = Diagnostics()
    project = load_project(root, diagnostics, today=dt.date(2026, 12, 1))
    assert project is not None, [str(d) for d in diagnostics.items]
    return [str(finding) for finding in check_quality(project).findings()]


def test_bundled_lessons_pass_every_quality_rule_and_cite_registered_current_sources(tmp_path):
    assert quality_lines(bundled_copy(tmp_path)) == []


def test_a_bundled_lesson_citing_the_2018_hypertension_guideline_is_warned_at_that_line(tmp_path):
    root = bundled_copy(tmp_path)
    lesson = root / "content" / "lessons" / "hypertension-basics.md"
    text = lesson.read_text(encoding="utf-8")
    current = "中国高血压防治指南修订委员会等《中国高血压防治指南（2024年修订版）》（2024年）"
    assert current in text
    lesson.write_text(text.replace(current, current.replace("2024", "2018")), encoding="utf-8")
    line = next(n for n, t in enumerate(text.split("\n"), start=1) if current in t)
    assert quality_lines(root) == [
        f"content/lessons/hypertension-basics.md:{line}: 警告：《中国高血压防治指南（2018年修订版）》已被"
        "《中国高血压防治指南（2024年修订版）》（2024年）取代：请按新版核对内容，再改引用 [source-superseded]"
    ]


def test_a_wrong_figure_in_a_bundled_lesson_is_flagged(tmp_path):
    root = bundled_copy(tmp_path)
    lesson = root / "content" / "lessons" / "cpr-basics.md"
    text = lesson.read_text(encoding="utf-8")
    assert "按下5～6厘米" in text
    lesson.write_text(text.replace("按下5～6厘米", "按下3～4厘米"), encoding="utf-8")
    line = next(n for n, t in enumerate(text.split("\n"), start=1) if "按下5～6厘米" in t)
    found = quality_lines(root)
    assert len(found) == 2 and all(f.startswith(f"content/lessons/cpr-basics.md:{line}: ") for f in found)
    assert all("[claim-figure]" in f and "胸外按压的深度" in f for f in found)


def test_every_bundled_lesson_has_a_drawn_picture_with_a_description():
    project, _ = load()
    for lesson in project.lessons:
        pictures = [
            image
            for image in lesson.images
            if image.path.startswith("media/") and image.path.endswith(".svg")
        ]
        assert pictures, f"{lesson.slug} has no drawn picture"
        for image in pictures:
            svg = (REPO / image.path).read_text(encoding="utf-8")
            assert 'role="img"' in svg and "aria-label=" in svg and "<title>" in svg, image.path
            assert "<image" not in svg and "href=" not in svg, image.path  # drawn shapes, nothing embedded
        alts = [line for line in lesson.body.split("\n") if line.startswith("![") and ".svg)" in line]
        assert all(len(line.split("](")[0]) > 8 for line in alts), lesson.slug
