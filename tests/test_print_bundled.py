"""The issue's acceptance, on every bundled lesson: what a reader and a print shop see.

The bundled print documents are built once (the lessons' flyers, prescriptions and
posters with their press versions) and read back as text lines (``pdftotext``) and
with pikepdf: no line of one Chinese character, none starting with 。，、; big titles
broken between words; press PDFs with a CMYK output intent, no RGB, 3 mm bleed and
crop marks; poster titles with a cap height of 25 mm and more; a pictogram or a
numbered badge beside every key point.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import subprocess
from pathlib import Path

import pikepdf
import pytest
from conftest import REPO
from test_print_poster import CAP_HEIGHT, han_sizes
from test_print_press import colour_problems, operations

from builder.diagnostics import Diagnostics
from builder.model import Project
from builder.parallel import parallel_map
from builder.project import load_project
from builder.renderers.printing import PrintJob, plan_jobs, render_job, trainer_only
from builder.titles import title_tokens

TODAY = dt.date(2026, 12, 1)
MM = 72 / 25.4
HAN = re.compile(r"[\u3400-\u9fff]")
PUNCTUATION = "。，、；：？！）」》”’…—·,.;:?!)]"
READ_KINDS = ("flyer.pdf", "poster.pdf", "prescription.pdf", "press/flyer.pdf", "press/poster.pdf")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundled() -> Project:
    diagnostics = Diagnostics()
    project = load_project(REPO, diagnostics, today=TODAY)
    assert project is not None, [str(d) for d in diagnostics.errors]
    return project


@pytest.fixture(scope="module")
def jobs(bundled: Project) -> list[PrintJob]:
    """Every print job of the bundled content, planned once (a plan lays out every document's HTML)."""
    return list(plan_jobs(bundled))


@pytest.fixture(scope="module")
def printed(jobs: list[PrintJob], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lessons' flyers, prescriptions and posters with their press versions, rendered
    as the build renders them (quizzes, campaigns and PNGs left out: they are not asked about)."""
    out = tmp_path_factory.mktemp("bundled-print")
    lesson_jobs = [
        dataclasses.replace(job, png_path=None)
        for job in jobs
        if job.kind in ("flyer-pdf", "poster-pdf", "prescription-pdf")
    ]
    for job, rendered in zip(lesson_jobs, parallel_map(render_job, lesson_jobs, 2), strict=True):
        for path, data in ((job.path, rendered.pdf), (job.press_path, rendered.press)):
            if path and data:
                (out / path).parent.mkdir(parents=True, exist_ok=True)
                (out / path).write_bytes(data)
    return out / "print" / "lessons"


def text_lines(pdf: Path) -> list[str]:
    """The PDF's text as a reader sees it, line by line (pdftotext's reading order)."""
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True
    ).stdout
    return [line.strip() for line in text.decode("utf-8").splitlines() if line.strip()]


def lesson_pdfs(printed: Path, bundled: Project) -> list[Path]:
    found = [printed / lesson.slug / kind for lesson in bundled.lessons for kind in READ_KINDS]
    return [path for path in found if path.exists()]


def test_every_lesson_has_its_documents(printed: Path, bundled: Project):
    for lesson in bundled.lessons:
        kinds = (
            READ_KINDS if not trainer_only(lesson) else ("flyer.pdf", "prescription.pdf", "press/flyer.pdf")
        )
        for kind in kinds:
            assert (printed / lesson.slug / kind).is_file(), (lesson.slug, kind)


def test_no_line_is_one_chinese_character_or_starts_with_closing_punctuation(printed: Path, bundled: Project):
    bad = []
    for pdf in lesson_pdfs(printed, bundled):
        lines = text_lines(pdf)
        # The prescription's date blank "＿＿年＿＿月＿＿日" reads as three words of a form, not a widow.
        blanks = {
            i + k for i in range(len(lines)) if lines[i : i + 3] == ["年", "月", "日"] for k in range(3)
        }
        for index, line in enumerate(lines):
            core = line.strip(PUNCTUATION + " ")
            if len(core) == 1 and HAN.match(core) and index not in blanks:
                bad.append(f"{pdf.relative_to(printed)}: one character: {line}")
            if line[0] in "。，、；：？！）」》":
                bad.append(f"{pdf.relative_to(printed)}: starts with punctuation: {line}")
    assert bad == []


def title_lines(lines: list[str], title: str) -> list[str] | None:
    """The consecutive text lines that spell ``title`` (spaces aside), or None."""
    wanted = title.replace(" ", "")
    for start in range(len(lines)):
        joined = ""
        for end in range(start, min(start + 6, len(lines))):
            joined += lines[end].replace(" ", "")
            if joined == wanted:
                return lines[start : end + 1]
            if not wanted.startswith(joined):
                break
    return None


def test_big_titles_break_between_words_into_even_lines(printed: Path, bundled: Project):
    glossary = bundled.config.glossary
    checked = 0
    for lesson in bundled.lessons:
        for kind, title in (("poster.pdf", lesson.short_title or lesson.title), ("flyer.pdf", lesson.title)):
            pdf = printed / lesson.slug / kind
            if not pdf.exists():
                continue
            lines = title_lines(text_lines(pdf), title)
            assert lines is not None, (pdf, title)
            # Every break falls where a word ends (the same words the widow rule keeps whole).
            assert breaks_inside_words(lines, title, glossary) == [], (pdf.relative_to(printed), lines)
            # Even lines: none shorter than a third of the longest, and never one character.
            lengths = [len(line.replace(" ", "")) for line in lines]
            assert min(lengths) >= 2 and min(lengths) * 3 >= max(lengths), (pdf.relative_to(printed), lines)
            checked += 1
    assert checked >= 2 * len(bundled.lessons) - 10


def breaks_inside_words(lines: list[str], title: str, glossary: tuple[str, ...] = ()) -> list[str]:
    """The line ends of a broken title that fall inside a word, as "前/后"."""
    text = title.replace(" ", "")
    ends, position = set(), 0
    for token in title_tokens(text, glossary):
        position += len(token)
        ends.add(position)
    inside, position = [], 0
    for line in lines[:-1]:
        position += len(line.replace(" ", ""))
        if position not in ends:
            inside.append(f"{text[:position][-3:]}/{text[position:][:3]}")
    return inside


def test_the_word_break_detector_is_not_blind():
    # How WeasyPrint broke the poster title before: inside 辅食.
    assert breaks_inside_words(["母乳喂养与辅", "食添加"], "母乳喂养与辅食添加") == ["养与辅/食添加"]
    assert breaks_inside_words(["母乳喂养", "与辅食添加"], "母乳喂养与辅食添加") == []


def test_press_pdfs_are_cmyk_pdfx_with_an_embedded_profile_bleed_and_crop_marks(
    printed: Path, bundled: Project
):
    presses = sorted(printed.glob("*/press/*.pdf"))
    assert len(presses) >= len(bundled.lessons) + sum(not trainer_only(lesson) for lesson in bundled.lessons)
    for path in presses:
        pdf = pikepdf.open(io.BytesIO(path.read_bytes()))
        intent = pdf.Root.OutputIntents[0]
        assert intent.S == "/GTS_PDFX" and int(intent.DestOutputProfile.N) == 4, path
        assert str(pdf.docinfo["/GTS_PDFXVersion"]) == "PDF/X-1a:2003"
        for page in pdf.pages:
            bleed, trim = ([float(v) for v in page[box]] for box in ("/BleedBox", "/TrimBox"))
            assert all((bleed[i] - trim[i]) * (-1 if i < 2 else 1) >= 3 * MM - 0.01 for i in range(4)), path
            assert colour_problems(page, page.Resources, set()) == [], path
            assert [1.0, 1.0, 1.0, 1.0] in [
                ops for ops, op in operations(page, page.Resources) if op == "K"
            ], path


def test_poster_titles_have_a_cap_height_of_25_mm(printed: Path, bundled: Project):
    for lesson in bundled.lessons:
        pdf = printed / lesson.slug / "poster.pdf"
        if trainer_only(lesson):
            assert not pdf.exists(), lesson.slug
            continue
        lines = title_lines(text_lines(pdf), lesson.short_title or lesson.title)
        assert lines is not None, lesson.slug
        # The title's lines as the page's text has them (an audience chip may repeat the first line).
        ink, size = han_sizes(pdf.read_bytes(), "\r\n".join(lines))
        assert size * CAP_HEIGHT / MM >= 25 and ink >= 25, (lesson.slug, size, ink)


def test_each_key_point_on_poster_and_flyer_has_its_pictogram_or_badge(bundled: Project, jobs: list[PrintJob]):
    lessons = {lesson.source: lesson for lesson in bundled.lessons}
    for job in jobs:
        if job.kind not in ("poster-pdf", "flyer-pdf"):
            continue
        lesson = lessons[job.source]
        html = job.html_by_scale[0]
        marks = re.findall(
            r'<span class="mark (?:picto" data-icon="([a-z-]+)"|num" data-badge="(\d+)")', html
        )
        assert len(marks) == len(lesson.points), job.path
        for (icon, badge), point in zip(marks, sorted(lesson.points, key=lambda p: not p.urgent)
                                        if job.kind == "poster-pdf" else lesson.points, strict=True):  # fmt: skip
            assert icon == (point.icon or "") and (badge != "") == (point.icon is None), (
                job.path,
                point.text,
            )


def test_quiz_sheet_takes_as_few_pages_as_its_questions_need(bundled: Project, jobs: list[PrintJob]):
    from builder import pdf as engine

    job = next(
        job for job in jobs if job.kind == "quiz-pdf" and "/hypertension-quiz/" in job.path
    )
    quiz = next(quiz for quiz in bundled.quizzes if quiz.slug == "hypertension-quiz")
    # At the normal size the last question would sit alone on a second page ...
    assert engine.page_count(engine.lay_out(job.html_by_scale[0], job.root)) == 2
    rendered = render_job(job)
    # ... so the sheet is set a little tighter, on one page, with every question and option on it.
    assert rendered.page_count == 1 and rendered.scale < 1
    text = "".join(engine_text(rendered.pdf).split())
    for question in quiz.questions:
        assert "".join(question.options[-1].text.split()) in text
    # A quiz that needs two pages at any size keeps the normal size.
    longer = next(
        job
        for job in jobs
        if job.kind == "quiz-pdf" and "/occupational-health-quiz/" in job.path
    )
    assert render_job(dataclasses.replace(longer)).scale == 1.0


def engine_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
