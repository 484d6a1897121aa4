"""Group messages keep every safety line; `kepu check` asks for one where the body has an emergency."""

from __future__ import annotations

from pathlib import Path

from conftest import TODAY

from builder import safety
from builder.diagnostics import Diagnostics
from builder.model import KeyPoint
from builder.pipeline import build, check
from builder.project import load_project

LESSON = "content/lessons/chest-pain.md"
EIGHT_POINTS = """\
---
title: 胸痛别硬扛
summary: 测试用：八条要点，最后一条是打120。
audiences: [老年人]
topics: [慢性病防治]
key_points:
{points}
---

## 正文

胸痛的时候先停下来休息。
"""


def eight_points(long: bool) -> str:
    filler = "，" + "按时吃药定期复查" * 12 if long else ""
    points = [f"  - 第{n}条日常要点{filler}" for n in "一二三四五六七"]
    points.append("  - 胸痛超过15分钟不缓解，马上打120")
    return "\n".join(points)


def group_of(project: Path, out: Path, slug: str = "chest-pain") -> str:
    build(project, out, only=["posts"], today=TODAY)
    return (out / f"posts/lessons/{slug}/group.txt").read_text(encoding="utf-8")


def test_eight_points_keep_the_120_line(project: Path, tmp_path: Path):
    (project / LESSON).write_text(EIGHT_POINTS.format(points=eight_points(long=False)), encoding="utf-8")
    text = group_of(project, tmp_path / "out")
    assert len(text) <= 500
    assert "• ⚠️ 胸痛超过15分钟不缓解，马上打120\n" in text
    assert text.count("\n• ") == 5  # four everyday points and the safety line
    assert "另有 3 条要点，见全文。" in text


def test_long_points_are_dropped_not_the_120_line(project: Path, tmp_path: Path):
    (project / LESSON).write_text(EIGHT_POINTS.format(points=eight_points(long=True)), encoding="utf-8")
    text = group_of(project, tmp_path / "out")
    assert len(text) <= 500
    assert "马上打120" in text and not text.endswith("…\n")
    assert text.count("\n• ") < 5  # the other points made room


def test_a_body_safety_line_joins_when_no_point_is_urgent(project: Path, tmp_path: Path):
    body = "## 什么时候打120\n\n| 情况 | 做法 |\n|---|---|\n| 低于120 | 观察 |\n\n胸口压着疼、出冷汗，**立即拨打120**。\n"
    points = "\n".join(f"  - 第{n}条日常要点" for n in "一二三四")
    (project / LESSON).write_text(
        EIGHT_POINTS.format(points=points).replace("胸痛的时候先停下来休息。\n", body), encoding="utf-8"
    )
    text = group_of(project, tmp_path / "out")
    # The heading and the table row mention 120 too; the instruction is the sentence.
    assert text.count("\n• ") == 5 and "• ⚠️ 胸口压着疼、出冷汗，立即拨打120。\n" in text
    warnings = [str(w) for w in check(project, today=TODAY).warnings]
    assert any(
        w.startswith(f"{LESSON}:6: 警告：正文第 ") and "要点里却没有急救提示" in w for w in warnings
    ), warnings


def test_no_warning_when_a_point_is_urgent_or_the_body_has_no_emergency(project: Path):
    (project / LESSON).write_text(EIGHT_POINTS.format(points=eight_points(long=False)), encoding="utf-8")
    assert not [str(w) for w in check(project, today=TODAY).warnings if "急救提示" in str(w)]


def test_numbers_are_phone_numbers_only_on_their_own():
    pattern = safety.red_flag_pattern(("120", "急救"))
    assert pattern is not None
    for text in ("马上打120", "拨打120或110", "120还没到时"):
        assert pattern.search(text), text
    for text in ("血压120/80", "每分钟100～120次", "低于120 mmHg", "1200元"):
        assert not pattern.search(text), text


def test_choose_group_points_keeps_every_urgent_point_in_order():
    points = [KeyPoint(f"要点{n}", n, None, n in (2, 7)) for n in range(1, 9)]
    selection = safety.choose_group_points(points, None, lambda s: len(s.points) <= 3)
    assert [p.text for p in selection.points] == ["要点1", "要点2", "要点7"]
    assert selection.more == 5
    nothing_fits = safety.choose_group_points(points, None, lambda s: False)
    assert [p.text for p in nothing_fits.points] == ["要点2", "要点7"]


def test_bundled_lessons_keep_their_safety_points(bundled_posts: Path):
    from conftest import REPO

    project = load_project(REPO, Diagnostics(), today=None)
    assert project is not None
    out = bundled_posts
    for lesson in project.lessons:
        text = (out / f"posts/lessons/{lesson.slug}/group.txt").read_text(encoding="utf-8")
        assert len(text) <= 500, lesson.slug
        for point in lesson.points:
            if point.urgent:
                assert point.text in text, (lesson.slug, point.text)
