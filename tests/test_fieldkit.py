"""Handbooks: the A5 booklet and its saddle-stitch imposition, built from the fixture project and read back.

Also the field kit's shared fixtures: the fixture project with a handbook, a health room and a
board activity added, built once per session with all five field-kit renderers (the other
test_fieldkit_* modules import them), and the one rebuild test that holds every kit kind to
the same bytes and to its cache.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pypdf
import pypdfium2
import pytest
from conftest import FIXTURE, REPO, TODAY

from builder.pipeline import ContentError, build
from builder.renderers.fieldkit.impose import saddle_order

A5 = (420, 595)  # points, rounded
CLOSING = "。，、；：？！）」》"
HANDBOOK = """
---
title: 测试健康手册
subtitle: 给职工朋友的健康读本
edition: 2026年版
audiences: [老年人]
lessons:
  - hypertension-basics
  - dust-pneumoconiosis
quizzes: [hypertension-quiz]
---

这是一本用来检验手册排版的小册子，请按章节顺序阅读。
"""


def squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def page_texts(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def half_texts(pdf: bytes) -> list[tuple[str, str]]:
    """The text of the left and the right half of every page (pdfium reads form XObjects too)."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        halves = []
        for page in document:
            width, height = page.get_size()
            text = page.get_textpage()
            halves.append(
                (
                    text.get_text_bounded(0, 0, width / 2, height),
                    text.get_text_bounded(width / 2, 0, width, height),
                )
            )
        return halves
    finally:
        document.close()


def font_programs(reader: pypdf.PdfReader) -> list[tuple[str, bool]]:
    fonts = []
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor", {})
                embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
                fonts.append((str(font["/BaseFont"]), embedded))
    return fonts


KIT = ("handbooks", "slides", "cards", "boards", "rooms")
ROOM = """---
name: 测试社区卫生服务站 健康小屋
address: 测试路1号
contact: 咨询电话 000-00000000
hours:
  周一: "08:00-11:30, 14:00-17:00"
  周二: "08:00-11:30"
  周三: "09:00-10:30"
  周日: 休息
services: [自助测量血压, 测量身高体重]
rules:
  - 测血压前先静坐5分钟
  - 结果异常请到诊室找医生
quarters:
  1: [hypertension-basics]
  3: [flu-vaccine, dust-pneumoconiosis]
---

健康小屋简介。
"""
BOARD_ACTIVITY = """  - title: 工地宣传栏：尘肺病展板
    date: 2026-05-12
    channel: 宣传栏
    lessons: [dust-pneumoconiosis, hypertension-basics]
"""


def add_kit_content(root: Path) -> Path:
    """The fixture project plus a handbook, a health room and a board activity."""
    (root / "content/handbooks").mkdir(parents=True, exist_ok=True)
    (root / "content/handbooks/test-book.md").write_text(HANDBOOK.lstrip("\n"), encoding="utf-8")
    (root / "content/rooms").mkdir(parents=True, exist_ok=True)
    (root / "content/rooms/test-room.md").write_text(ROOM, encoding="utf-8")
    campaign = root / "content/campaigns/dust-month.md"
    head, _, body = campaign.read_text(encoding="utf-8").partition("\n---\n")
    campaign.write_text(head + "\n" + BOARD_ACTIVITY + "---\n" + body, encoding="utf-8")
    return root


# One kit project and one build per test process, whichever test_fieldkit_* module asks first:
# a session fixture imported into several modules would be set up once per module.
_KIT: dict[str, Path] = {}


@pytest.fixture
def kit_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if "project" not in _KIT:
        root = tmp_path_factory.mktemp("kit") / "project"
        shutil.copytree(FIXTURE, root)
        _KIT["project"] = add_kit_content(root)
    return _KIT["project"]


@pytest.fixture
def kit_built(kit_project: Path) -> Path:
    """Every field-kit output of the kit project, built once (cache beside it, for the rebuild test)."""
    if "public" not in _KIT:
        out = kit_project.parent / "public"
        build(kit_project, out_dir=out, only=list(KIT), today=TODAY, cache_dir=kit_project.parent / "cache")
        _KIT["public"] = out
    return _KIT["public"]


@pytest.fixture
def built(kit_built: Path) -> Path:
    return kit_built


@pytest.fixture
def handbook_project(kit_project: Path) -> Path:
    return kit_project


def test_saddle_order_puts_the_outer_pages_on_sheet_one():
    assert saddle_order(8) == [(8, 1), (2, 7), (6, 3), (4, 5)]
    sides = saddle_order(40)
    assert sides[0] == (40, 1) and sides[1] == (2, 39) and sides[-1] == (20, 21)
    assert sorted(page for side in sides for page in side) == list(range(1, 41))
    with pytest.raises(ValueError):
        saddle_order(6)


def test_the_booklet_is_a5_a_multiple_of_4_with_a_toc_that_points_at_its_chapters(built: Path):
    data = (built / "handbooks/test-book/handbook.pdf").read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    assert pages % 4 == 0 and pages >= 8
    assert all(tuple(round(float(v)) for v in page.mediabox[2:]) == A5 for page in reader.pages)
    assert 30_000 < len(data) < 3_000_000
    fonts = font_programs(reader)
    assert fonts and all(embedded for _, embedded in fonts), fonts
    assert reader.metadata.title == "测试健康手册"

    texts = page_texts(data)
    everything = squashed("".join(texts))
    for needed in ("测试健康手册", "目录", "前言", "认识高血压", "自测题", "参考答案", "扫码阅读本课全文"):
        assert needed in everything, needed
    # 目录: "第一章 认识高血压 ……… 4" — that page opens chapter one.
    toc = next(text for text in texts if "目" in text and "录" in text and "第一章" in text)
    for chapter, title in (("第一章", "认识高血压"), ("第二章", "尘肺")):
        line = next(line for line in toc.splitlines() if chapter in line)
        number = int(re.findall(r"(\d+)\s*$", line.strip())[0])
        assert chapter in squashed(texts[number - 1]) and title in squashed(texts[number - 1]), (line, number)
    # The answers are the quiz's correct options: the fixture's question 1 is 140/90 mmHg (B).
    answers = next(text for text in texts if "参考答案" in text and "目" not in text)
    assert re.search(r"1\.\s*B", answers)


def test_every_key_point_of_every_chapter_is_in_its_box(built: Path, handbook_project: Path):
    from builder.diagnostics import Diagnostics
    from builder.project import load_project

    project = load_project(handbook_project, Diagnostics(), today=TODAY)
    assert project is not None
    text = squashed("".join(page_texts((built / "handbooks/test-book/handbook.pdf").read_bytes())))
    for lesson in project.handbooks[0].lessons:
        for point in lesson.key_points:
            assert squashed(point) in text, point


def test_imposed_sheets_hold_n_and_1_then_2_and_n_minus_1(built: Path):
    booklet = (built / "handbooks/test-book/handbook.pdf").read_bytes()
    imposed = (built / "handbooks/test-book/handbook-imposed.pdf").read_bytes()
    pages = page_texts(booklet)
    halves = half_texts(imposed)
    count = len(pages)
    assert len(halves) == count // 2
    reader = pypdf.PdfReader(io.BytesIO(imposed))
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (2 * A5[0] - 1, A5[1]) or round(width) == 2 * A5[0]
    for (left, right), (left_text, right_text) in zip(saddle_order(count), halves, strict=True):
        assert squashed(left_text) == squashed(pages[left - 1]), (left, right)
        assert squashed(right_text) == squashed(pages[right - 1]), (left, right)
    # Sheet 1's front: the back cover (page N) on the left, the cover (page 1) on the right.
    assert "免费发放" in halves[0][0] and "测试健康手册" in halves[0][1]
    assert all(embedded for _, embedded in font_programs(reader) or [("", True)])


def test_lines_keep_the_cjk_rules(built: Path):
    for text in page_texts((built / "handbooks/test-book/handbook.pdf").read_bytes()):
        for line in (line.strip() for line in text.splitlines()):
            assert line[:1] not in CLOSING, line
            if line not in ("对", "错"):  # a true/false question's options stand alone by design
                assert not re.fullmatch(r"[\u4e00-\u9fff][。，、；：？！”）]?", line), (
                    f"one character alone: {text}"
                )


def test_every_kit_kind_is_rebuilt_byte_identical_and_reused_from_the_cache(
    kit_project: Path, kit_built: Path, tmp_path: Path
):
    def shas(out: Path) -> dict[str, str]:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        return {item["path"]: item["sha256"] for item in manifest["artifacts"]}

    kinds = {item["kind"] for item in json.loads((kit_built / "manifest.json").read_text())["artifacts"]}
    assert kinds == {
        "handbook-pdf", "handbook-imposed-pdf", "slides-pptx", "slides-pdf", "pocket-card-pdf",
        "pocket-sheet-pdf", "board-pdf", "xbanner-pdf", "board-press-pdf", "xbanner-press-pdf",
        "room-hours-pdf", "room-rules-pdf", "room-register-pdf", "room-prescriptions-pdf",
    }  # fmt: skip
    cache = kit_project.parent / "cache"
    again = build(kit_project, out_dir=tmp_path / "again", only=list(KIT), today=TODAY, cache_dir=cache)
    assert again.rendered == 0 and again.reused == len(shas(kit_built))  # every unit from the cache
    fresh = build(kit_project, out_dir=tmp_path / "fresh", only=list(KIT), today=TODAY, use_cache=False,
                  cache_dir=tmp_path / "cache")  # fmt: skip
    assert fresh.rendered == len(shas(kit_built))
    assert shas(tmp_path / "again") == shas(kit_built) == shas(tmp_path / "fresh")


# -- hostile and broken handbooks -------------------------------------------------------


def errors_of(project: Path) -> list[str]:
    with pytest.raises(ContentError) as raised:
        build(project, out_dir=project.parent / "out", only=["handbooks"], today=TODAY)
    return [str(d) for d in raised.value.diagnostics.errors]


def test_unknown_lessons_and_quizzes_are_reported_at_their_lines(project: Path, write):
    write(
        "content/handbooks/bad.md",
        "---\ntitle: 坏手册\nlessons:\n  - hypertension-basics\n  - hypertension-basic\n  - no-such-lesson\n"
        "quizzes: [nope]\n---\n前言。\n",
    )
    errors = errors_of(project)
    assert any(e.startswith("content/handbooks/bad.md:5: ") and "hypertension-basics" in e for e in errors), (
        errors
    )
    assert any(e.startswith("content/handbooks/bad.md:6: ") and "no-such-lesson" in e for e in errors), errors
    assert any(e.startswith("content/handbooks/bad.md:7: ") and "nope" in e for e in errors), errors


def test_an_empty_or_huge_handbook_is_an_error_with_its_line(project: Path, write):
    write("content/handbooks/empty.md", "---\ntitle: 空手册\nlessons: []\n---\n前言。\n")
    many = "\n".join("  - hypertension-basics" for _ in range(500))
    write("content/handbooks/huge.md", f"---\ntitle: 大手册\nlessons:\n{many}\n---\n前言。\n")
    errors = errors_of(project)
    assert any(e.startswith("content/handbooks/empty.md:3: ") and "至少要收录一课" in e for e in errors), (
        errors
    )
    huge = [e for e in errors if e.startswith("content/handbooks/huge.md:")]
    assert len(huge) == 1 and "最多 30 项" in huge[0], huge


def test_script_in_a_handbook_is_text_and_a_path_outside_is_refused(project: Path, write, tmp_path: Path):
    write(
        "content/handbooks/evil.md",
        "---\ntitle: <script>alert(1)</script>手册\nlessons: [hypertension-basics]\n---\n"
        "前言<script>alert(2)</script>。\n\n![x](../../../../etc/passwd)\n",
    )
    errors = errors_of(project)
    assert any(e.startswith("content/handbooks/evil.md:7: ") for e in errors), errors
    write(
        "content/handbooks/evil.md",
        "---\ntitle: <b>粗体</b>手册\nlessons: [hypertension-basics]\n---\n前言<script>alert(2)</script>。\n",
    )
    result = build(project, out_dir=tmp_path / "out", only=["handbooks"], today=TODAY)
    warnings = [str(d) for d in result.diagnostics.items]
    assert any(w.startswith("content/handbooks/evil.md:2: ") for w in warnings), warnings
    text = "".join(page_texts((tmp_path / "out/handbooks/evil/handbook.pdf").read_bytes()))
    assert "<b>粗体</b>手册" in text and "alert(2)" not in text


def test_the_bundled_handbook_loads_with_the_occupational_lessons():
    from builder.diagnostics import Diagnostics
    from builder.project import load_project

    diagnostics = Diagnostics()
    project = load_project(REPO, diagnostics, today=TODAY)
    assert project is not None, [str(d) for d in diagnostics.errors]
    (book,) = project.handbooks
    assert book.title == "职工健康手册" and len(book.lessons) >= 5
    assert {"noise-hearing", "dust-pneumoconiosis", "heat-stroke"} <= {lesson.slug for lesson in book.lessons}
    assert not [d for d in diagnostics.items if d.path.startswith("content/handbooks/")]
