"""Key points carry their pictogram and whether they are a safety line (红旗), decided once at load."""

from __future__ import annotations

from pathlib import Path

from builder.diagnostics import Diagnostics
from builder.project import load_project
from tests.conftest import TODAY
from tests.test_validation import GOOD_LESSON

LESSON = "content/lessons/new-lesson.md"
POINTS = """\
key_points:
  - 每天吃盐不超过5克
  - {text: 血压很高又胸痛，马上打120, icon: heart}
  - {text: 坚持服药, urgent: true}
  - {text: 别等到急诊才想起量血压, urgent: false}
"""


def write_lesson(project: Path, points: str) -> None:
    text = GOOD_LESSON.replace("key_points:\n  - 第一条\n  - 第二条\n  - 第三条\n", points)
    (project / LESSON).write_text(text, encoding="utf-8")
    (project / "templates" / "pictograms").mkdir(parents=True, exist_ok=True)
    for name in ("salt", "heart"):
        (project / "templates" / "pictograms" / f"{name}.svg").write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><circle cx="12" cy="12" r="9"/></svg>',
            encoding="utf-8",
        )
    config = (project / "site_config.yml").read_text(encoding="utf-8")
    (project / "site_config.yml").write_text(config + "pictograms:\n  盐: salt\n  血压: heart\n", encoding="utf-8")


def load(project: Path):
    diagnostics = Diagnostics()
    loaded = load_project(project, diagnostics, TODAY)
    return loaded, [str(d) for d in diagnostics.sorted()]


def test_points_get_their_pictogram_and_urgency(project: Path):
    write_lesson(project, POINTS)
    loaded, problems = load(project)
    assert problems == []
    lesson = loaded.lesson("new-lesson")
    assert [(p.text, p.icon, p.urgent) for p in lesson.points] == [
        ("每天吃盐不超过5克", "salt", False),  # keyword rule
        ("血压很高又胸痛，马上打120", "heart", True),  # its own icon; 120 makes it a safety line
        ("坚持服药", None, True),  # marked by the editor
        ("别等到急诊才想起量血压", "heart", False),  # 急诊 is a red-flag word, but the editor says no
    ]
    assert lesson.key_points == [p.text for p in lesson.points]
    assert [p.line for p in lesson.points] == [7, 8, 9, 10]


def test_an_unknown_icon_and_a_bad_urgent_are_errors_at_their_line(project: Path):
    write_lesson(project, POINTS.replace("icon: heart", "icon: hart").replace("urgent: true", "urgent: 是的"))
    _, problems = load(project)
    assert f"{LESSON}:8: 要点：没有叫 'hart' 的图标，是不是 'heart'？" in problems
    assert f"{LESSON}:9: 要点：'urgent' 应写 true 或 false，这里是 '是的'" in problems


def test_an_unknown_key_in_a_point_is_an_error(project: Path):
    write_lesson(project, POINTS.replace("icon: heart", "icno: heart"))
    _, problems = load(project)
    assert any(p.startswith(f"{LESSON}:8: 要点：未知的键 'icno'，是不是想写 'icon'？") for p in problems), problems
