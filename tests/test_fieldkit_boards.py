"""Display boards: 展板 and X展架 of the lessons a campaign shows on the board channel, read back."""

# The kit's session fixtures come from test_fieldkit; pytest passes them by parameter name.
# ruff: noqa: F811

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pypdf
import pytest
from conftest import TODAY
from PIL import Image
from test_fieldkit import add_kit_content, font_programs, kit_built, kit_project, page_texts, squashed  # noqa: F401

from builder.diagnostics import Diagnostics
from builder.pipeline import build
from builder.project import load_project
from builder.renderers.fieldkit.boards import RENDERER

MM = 72 / 25.4


@pytest.fixture
def board_project(project: Path) -> Path:
    return add_kit_content(project)


def test_only_board_channel_lessons_get_boards_of_the_right_size_with_all_points(
    kit_project: Path, kit_built: Path
):
    out = kit_built
    assert sorted(p.name for p in (out / "boards/lessons").iterdir()) == [
        "dust-pneumoconiosis",
        "hypertension-basics",
    ]
    model = load_project(kit_project, Diagnostics(), today=TODAY)
    assert model is not None
    lesson = model.lesson("hypertension-basics")
    assert lesson is not None
    for name, size in (("board.pdf", (900, 1200)), ("xbanner.pdf", (600, 1600))):
        data = (out / "boards/lessons/hypertension-basics" / name).read_bytes()
        reader = pypdf.PdfReader(io.BytesIO(data))
        assert len(reader.pages) == 1, name
        box = reader.pages[0].mediabox
        assert (round(float(box[2]) / MM), round(float(box[3]) / MM)) == size
        assert all(embedded for _, embedded in font_programs(reader))
        text = squashed(page_texts(data)[0])
        assert squashed(lesson.title) in text
        for point in lesson.key_points:
            assert squashed(point) in text, point
        assert 20_000 < len(data) < 3_000_000
        # Large type: the key points are set at ≥ 50 pt (a Han character ≥ 17 mm high).
        document = pikepdf.open(io.BytesIO(data))
        sizes = [
            float(operands[1])
            for operands, operator in pikepdf.parse_content_stream(document.pages[0])
            if operator == pikepdf.Operator("Tf")
        ]
        assert max(sizes) >= 150 and sorted(sizes)[len(sizes) // 2] >= 20, sizes


def test_press_versions_are_pdf_x_with_bleed_and_trim_boxes(kit_built: Path):
    out = kit_built
    for name, size in (("board.pdf", (900, 1200)), ("xbanner.pdf", (600, 1600))):
        with pikepdf.open(out / "boards/lessons/dust-pneumoconiosis/press" / name) as document:
            assert "/OutputIntents" in document.Root
            page = document.pages[0]
            trim = [float(v) for v in page.TrimBox]
            bleed = [float(v) for v in page.BleedBox]
            assert (round((trim[2] - trim[0]) / MM), round((trim[3] - trim[1]) / MM)) == size
            assert round((trim[0] - bleed[0]) / MM, 1) == pytest.approx(3.5, abs=0.1)


def test_a_low_resolution_picture_is_an_error_with_its_path_and_line(board_project: Path, tmp_path: Path):
    Image.new("RGB", (800, 600), "#88aa88").save(board_project / "media/small.png")
    lesson = board_project / "content/lessons/hypertension-basics.md"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(text.replace("\ntitle:", "\ncover: media/small.png\ntitle:", 1), encoding="utf-8")
    model = load_project(board_project, Diagnostics(), today=TODAY)
    assert model is not None
    checked = Diagnostics()
    RENDERER.check(model, checked, None, 1)  # what kepu check runs for this output  # type: ignore[misc]
    assert any("media/small.png" in str(e) and "dpi" in str(e) for e in checked.errors), checked.items
    result = build(board_project, out_dir=tmp_path / "out", only=["boards"], today=TODAY)
    errors = [str(d) for d in result.diagnostics.errors]
    assert any(
        e.startswith("content/lessons/hypertension-basics.md:2: ") and "media/small.png" in e and "dpi" in e
        for e in errors
    ), errors
    # Left out of the board rather than printed blurred: no image in the PDF.
    board = pypdf.PdfReader(tmp_path / "out/boards/lessons/hypertension-basics/board.pdf")
    assert len(board.pages[0].images) == 0
