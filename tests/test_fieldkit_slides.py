"""Lecture slides: the .pptx opened with python-pptx and its PDF read back, from the fixture project."""

# The kit's session fixtures come from test_fieldkit; pytest passes them by parameter name.
# ruff: noqa: F811

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdf
import pytest
from conftest import TODAY
from pptx import Presentation
from pptx.util import Pt
from test_fieldkit import font_programs, kit_built, kit_project, page_texts, squashed  # noqa: F401

from builder.diagnostics import Diagnostics
from builder.fonts import cjk_face, load_font
from builder.pipeline import build
from builder.project import load_project

CLOSING = "。，、；：？！）」》"


@pytest.fixture
def built(kit_built: Path) -> Path:
    return kit_built


def deck_lines(shape) -> list[str]:  # type: ignore[no-untyped-def]
    return [line for paragraph in shape.text_frame.paragraphs for line in paragraph.text.split("\v")]


def test_the_deck_opens_with_a_slide_per_point_a_quiz_a_closing_slide_and_notes(
    kit_project: Path, built: Path
):
    lesson = load_project(kit_project, Diagnostics(), today=TODAY).lesson("hypertension-basics")  # type: ignore[union-attr]
    deck = Presentation(str(built / "slides/lessons/hypertension-basics/slides.pptx"))
    assert (deck.slide_width, deck.slide_height) == (Pt(960), Pt(540))  # 16:9
    slides = list(deck.slides)
    texts = ["".join("".join(deck_lines(s)) for s in slide.shapes if s.has_text_frame) for slide in slides]
    assert squashed(lesson.title) in squashed(texts[0])
    for number, point in enumerate(lesson.key_points, start=1):
        assert f"要点{number}/{len(lesson.key_points)}" in squashed(texts[number])
        assert squashed(point) in squashed(texts[number])
    sections = [line[3:].strip() for line in lesson.body.splitlines() if line.startswith("## ")]
    shown = [heading for heading in sections if any(squashed(heading) in squashed(text) for text in texts)]
    assert shown, (sections, texts)
    quiz = [index for index, text in enumerate(texts) if text.startswith("想一想")]
    assert len(quiz) == 1 and "答案：" in slides[quiz[0]].notes_slide.notes_text_frame.text
    assert "扫码看全文" in texts[-1] and any(
        shape.shape_type == 13 for shape in slides[-1].shapes
    )  # the QR picture
    # Every slide has speaker notes; a section's notes hold the whole section.
    notes = [slide.notes_slide.notes_text_frame.text for slide in slides]
    assert all(note.strip() for note in notes)
    assert len(slides) == 1 + len(lesson.key_points) + len(shown) + 1 + 1
    # The PDF has the same slides.
    pdf = (built / "slides/lessons/hypertension-basics/slides.pdf").read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == len(slides)
    assert all((round(float(p.mediabox[2])), round(float(p.mediabox[3]))) == (960, 540) for p in reader.pages)
    assert all(embedded for _, embedded in font_programs(reader))
    for pdf_text, text in zip(page_texts(pdf), texts, strict=True):
        assert squashed(text) in squashed(pdf_text) or squashed(pdf_text) == squashed(text), (pdf_text, text)


def test_text_is_28pt_or_more_at_most_6_lines_and_fits_its_box(built: Path):
    fonts = {weight: load_font(*cjk_face(weight), 100) for weight in ("regular", "bold")}
    for path in sorted((built / "slides/lessons").glob("*/slides.pptx")):
        for number, slide in enumerate(Presentation(str(path)).slides, start=1):
            lines = 0
            for shape in slide.shapes:
                if not shape.has_text_frame or not shape.text_frame.text:
                    continue
                for paragraph in shape.text_frame.paragraphs:
                    for run in paragraph.runs:
                        assert run.font.size is not None and run.font.size.pt >= 28, (path, number, run.text)
                    size = paragraph.runs[0].font.size.pt
                    font = fonts["bold" if paragraph.runs[0].font.bold else "regular"]
                    for line in paragraph.text.split("\v"):
                        lines += 1
                        width = font.getlength(line) / 100 * size
                        assert width <= shape.width / 12700 + 1, (path, number, line)  # EMU → pt
                        assert line[:1] not in CLOSING, (path, number, line)
                        assert not re.fullmatch(r"[\u4e00-\u9fff][。，、；：？！]?", line), (
                            path,
                            number,
                            line,
                        )
            assert lines <= 6, (path, number, lines)


def test_markup_in_a_key_point_is_shown_as_text(project: Path, write, tmp_path: Path):
    source = (project / "content/lessons/flu-vaccine.md").read_text(encoding="utf-8")
    first = re.search(r"key_points:\n  - (.*)\n", source)
    assert first
    write(
        "content/lessons/flu-vaccine.md",
        source.replace(first.group(0), 'key_points:\n  - "<script>alert(1)</script>每年接种流感疫苗"\n'),
    )
    out = tmp_path / "out"
    build(project, out_dir=out, only=["slides"], today=TODAY)
    deck = Presentation(str(out / "slides/lessons/flu-vaccine/slides.pptx"))
    text = "".join(shape.text_frame.text for shape in deck.slides[1].shapes if shape.has_text_frame)
    assert "<script>alert(1)</script>" in squashed(text)
    assert "<script>" in squashed(page_texts((out / "slides/lessons/flu-vaccine/slides.pdf").read_bytes())[1])
