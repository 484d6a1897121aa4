"""Pocket cards: the 90 × 54 mm card and the A4 sheet of ten, built from the fixture project and read back."""

# The kit's session fixtures come from test_fieldkit; pytest passes them by parameter name.
# ruff: noqa: F811

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdf
import pypdfium2
import pytest
from conftest import TODAY
from test_fieldkit import font_programs, kit_built, kit_project, page_texts, squashed  # noqa: F401

from builder.diagnostics import Diagnostics
from builder.model import KeyPoint
from builder.pipeline import build
from builder.project import load_project
from builder.renderers.fieldkit.cards import card_points

MM = 72 / 25.4
CLOSING = "。，、；：？！）」》"


@pytest.fixture
def built(kit_built: Path) -> Path:
    return kit_built


def test_a_card_keeps_every_safety_instruction_then_the_first_points():
    points = [KeyPoint(f"第{n}条", n) for n in range(5)]
    assert [p.text for p in card_points(points)] == ["第0条", "第1条", "第2条"]
    points[4] = KeyPoint("胸痛马上打120", 4, urgent=True)
    assert [p.text for p in card_points(points)] == ["第0条", "第1条", "胸痛马上打120"]


def test_the_card_is_two_sided_90_by_54_mm_with_title_points_qr_and_contact(kit_project: Path, built: Path):
    model = load_project(kit_project, Diagnostics(), today=TODAY)
    assert model is not None
    for lesson in model.lessons:
        data = (built / f"cards/lessons/{lesson.slug}/card.pdf").read_bytes()
        reader = pypdf.PdfReader(io.BytesIO(data))
        assert len(reader.pages) == 2, lesson.slug
        for page in reader.pages:
            assert (round(float(page.mediabox[2]) / MM), round(float(page.mediabox[3]) / MM)) == (90, 54)
        assert all(embedded for _, embedded in font_programs(reader))
        front, back = (squashed(text) for text in page_texts(data))
        assert squashed(lesson.short_title or lesson.title) in front
        for point in card_points(lesson.points):
            assert squashed(point.text) in front, point.text
        assert "扫码看全文" in back and squashed(model.config.contact) in back
        assert 5_000 < len(data) < 500_000
        for text in page_texts(data):
            for line in (line.strip() for line in text.splitlines()):
                assert line[:1] not in CLOSING, line
                assert not re.fullmatch(r"[\u4e00-\u9fff][。，、；：？！]?", line), (lesson.slug, line)


def test_the_sheet_holds_ten_cards_a_side_with_cut_marks_in_the_margins(built: Path):
    data = (built / "cards/lessons/hypertension-basics/sheet.pdf").read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    assert (round(float(reader.pages[0].mediabox[2])), round(float(reader.pages[0].mediabox[3]))) == (
        595,
        842,
    )
    front, back = page_texts(data)
    assert squashed(front).count("认识高血压") == 10
    assert squashed(back).count("扫码看全文") == 10
    # Look at the paper: dark marks on the cut lines in the top margin, white paper between them.
    document = pypdfium2.PdfDocument(data)
    try:
        image = document[0].render(scale=150 / 72).to_pil().convert("L")
    finally:
        document.close()
    px = 150 / 25.4

    def dark(x_mm: float, y_mm: float) -> bool:
        # A 0.2 mm line is anti-aliased over two pixels: clearly darker than the paper.
        return min(image.getpixel((round(x_mm * px) + dx, round(y_mm * px))) for dx in range(-3, 4)) < 200

    for x in (15, 105, 195):  # the card edges: 15 mm in, 90 mm apart
        assert dark(x, 7) and dark(x, 290), x
    for y in (13.5, 13.5 + 54 * 5):
        assert min(image.getpixel((round(7 * px), round(y * px) + dy)) for dy in range(-3, 4)) < 200, y
    assert not dark(60, 7) and not dark(150, 7)  # no mark mid-card


def test_a_long_card_shrinks_and_loses_nothing(project: Path, write, tmp_path: Path):
    points = "\n".join(
        f"  - 第{n}条：坚持每天定时测量血压并如实记录，复诊时把记录本带给家庭医生看" for n in "一二三四"
    )
    write(
        "content/lessons/long-card.md",
        "---\ntitle: 社区居民高血压长期规范管理与家庭自我监测综合指导\nsummary: 测试卡片排版。\n"
        f"audiences: [老年人]\ntopics: [慢性病防治]\nkey_points:\n{points}\n"
        "reviewed_by: 示例社区卫生服务中心 全科医师\nreviewed_on: 2026-10-01\n---\n\n正文。\n",
    )
    result = build(project, out_dir=tmp_path / "out", only=["cards"], today=TODAY)
    data = (tmp_path / "out/cards/lessons/long-card/card.pdf").read_bytes()
    pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
    front = squashed(page_texts(data)[0])
    warnings = [str(d) for d in result.diagnostics.items if "long-card" in d.path]
    assert (pages == 2 and not warnings) or (
        pages > 2 and warnings and warnings[0].startswith("content/lessons/long-card.md:7: ")
    )
    for n in "一二三":
        assert f"第{n}条" in front
