"""The health-room kit: loading content/rooms/*.md and the notices, register and quarterly prescriptions."""

# The kit's session fixtures come from test_fieldkit; pytest passes them by parameter name.
# ruff: noqa: F811

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
from conftest import REPO, TODAY
from test_fieldkit import font_programs, kit_built, kit_project, page_texts, squashed  # noqa: F401

from builder.diagnostics import Diagnostics
from builder.pipeline import ContentError, build
from builder.project import load_project

MM = 72 / 25.4


@pytest.fixture
def room_project(kit_project: Path) -> Path:
    return kit_project


def test_an_open_day_under_3_hours_is_a_warning_citing_the_rule(room_project: Path):
    diagnostics = Diagnostics()
    model = load_project(room_project, diagnostics, today=TODAY)
    assert model is not None
    (room,) = model.rooms
    assert [day.minutes for day in room.hours] == [390, 210, 90, 0, 0, 0, 0]
    warnings = [str(d) for d in diagnostics.warnings if d.path == "content/rooms/test-room.md"]
    assert warnings == [
        "content/rooms/test-room.md:8: 警告：周三只开放 1.5 小时：健康小屋管理规定要求每日开放不少于3小时"
    ]
    assert [lesson.slug for lesson in room.quarters[3]] == ["flu-vaccine", "dust-pneumoconiosis"]


def test_bad_hours_unknown_lessons_and_huge_lists_are_errors_at_their_lines(project: Path, write):
    many = "\n".join(f"  - 规则{n}" for n in range(300))
    write(
        "content/rooms/bad.md",
        "---\nname: 坏小屋\naddress: 某路\ncontact: 电话\nhours:\n  周八: 08:00-12:00\n  周一: 25:00-26:00\n"
        f"services: [测血压]\nrules:\n{many}\nquarters:\n  5: [hypertension-basics]\n  2: [no-such-lesson]\n---\n",
    )
    with pytest.raises(ContentError) as raised:
        build(project, out_dir=project.parent / "out", only=["rooms"], today=TODAY)
    errors = [str(d) for d in raised.value.diagnostics.errors if d.path == "content/rooms/bad.md"]
    assert any(e.startswith("content/rooms/bad.md:6: ") and "周八" in e for e in errors), errors
    assert any(e.startswith("content/rooms/bad.md:7: ") and "25:00-26:00" in e for e in errors), errors
    assert any("最多 20 项" in e for e in errors), errors
    assert any(e.startswith("content/rooms/bad.md:311: ") and "5" in e for e in errors), errors
    assert any(e.startswith("content/rooms/bad.md:312: ") and "no-such-lesson" in e for e in errors), errors


def test_the_notices_register_and_prescriptions_are_built_and_read_back(room_project: Path, kit_built: Path):
    out = kit_built
    folder = out / "rooms/test-room"
    assert sorted(p.name for p in folder.iterdir()) == [
        "hours.pdf", "prescriptions-q1.pdf", "prescriptions-q3.pdf", "register.pdf", "rules.pdf",
    ]  # fmt: skip
    for name, pages, size in (("hours.pdf", 1, (210, 297)), ("rules.pdf", 1, (210, 297)),
                              ("register.pdf", 1, (297, 210)), ("prescriptions-q3.pdf", 2, (148, 210))):  # fmt: skip
        data = (folder / name).read_bytes()
        reader = pypdf.PdfReader(io.BytesIO(data))
        assert len(reader.pages) == pages, name
        box = reader.pages[0].mediabox
        assert (round(float(box[2]) / MM), round(float(box[3]) / MM)) == size, name
        assert all(embedded for _, embedded in font_programs(reader)), name
        assert 5_000 < len(data) < 1_000_000
    hours = squashed(page_texts((folder / "hours.pdf").read_bytes())[0])
    assert "开放时间" in hours and "周一08:00–11:3014:00–17:00" in hours and "周四休息" in hours
    assert "自助测量血压" in hours
    rules = squashed(page_texts((folder / "rules.pdf").read_bytes())[0])
    assert "使用须知" in rules and "测血压前先静坐5分钟" in rules
    register = squashed(page_texts((folder / "register.pdf").read_bytes())[0])
    for column in ("日期", "姓名", "单位或住址", "使用服务", "签名"):
        assert column in register
    prescriptions = [squashed(text) for text in page_texts((folder / "prescriptions-q3.pdf").read_bytes())]
    assert "健康教育处方" in prescriptions[0] and "第3季度" in prescriptions[0]
    model = load_project(room_project, Diagnostics(), today=TODAY)
    assert model is not None
    for page, lesson in zip(prescriptions, model.rooms[0].quarters[3], strict=True):
        for point in lesson.key_points:
            assert squashed(point) in page, point
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    for kind in ("room-hours-pdf", "room-rules-pdf", "room-register-pdf", "room-prescriptions-pdf"):
        assert f'"{kind}"' in manifest


def test_the_bundled_health_room_loads_without_warnings():
    diagnostics = Diagnostics()
    model = load_project(REPO, diagnostics, today=TODAY)
    assert model is not None
    (room,) = model.rooms
    assert room.name == "示例社区卫生服务中心 健康小屋" and set(room.quarters) == {1, 2, 3, 4}
    assert all(day.minutes >= 180 for day in room.hours if day.spans)
    assert not [d for d in diagnostics.items if d.path.startswith("content/rooms/")]
