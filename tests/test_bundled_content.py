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
