"""Display boards: a 展板 (900 × 1200 mm) and an X展架 (600 × 1600 mm) per lesson shown on a board.

Which lessons: those a campaign schedules on the board channel (宣传栏, id ``board``)
— a 五进 event's 展板 or a health room's quarterly board — so the campaign plan is
where an editor says which boards to print. Each board comes twice, like the poster:

* ``board-pdf`` / ``xbanner-pdf`` — vector, RGB, trim size, for proofs and screens;
* ``board-press-pdf`` / ``xbanner-press-pdf`` — the print shop's: CMYK, PDF/X-1a,
  3.53 mm bleed with the background run out, crop marks (:func:`builder.pdf.press_html`).

Boards are fitted to one page (the key points shrink by steps to a floor that still
reads from 3 m); a raster picture (the lesson's ``cover``) must have at least
100 dpi at the size it is printed, or it is left out and reported with its path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from builder import pdf
from builder.cache import ArtifactCache
from builder.content import pictogram_names
from builder.diagnostics import Diagnostics
from builder.model import Lesson, Project
from builder.outputs import board_path
from builder.pictograms import focal_pictogram
from builder.qr import qr_svg_data_uri
from builder.renderers.base import RenderContext, Renderer, Unit
from builder.renderers.fieldkit.common import (
    PdfJob,
    environment,
    glued,
    job_key,
    lay_out_fitted,
    media_uri,
    pdf_artifacts,
    render_jobs,
    templates_key,
)
from builder.writer import Artifact

BOARD_CHANNEL = "board"  # the channel id whose activities get boards
MIN_DPI = 100
# Few points get larger type (the board looks filled); many shrink to the floor (0.66 × point_pt).
TYPE_STEPS = (1.45, 1.3, 1.15, 1.0, 0.88, 0.76, 0.66)
RUN_OUT_MM = 4.0  # past the press version's 3.53 mm bleed, short of its crop marks


@dataclass(frozen=True)
class BoardFormat:
    kind: str
    press_kind: str
    label: str
    width_mm: float
    height_mm: float
    title_pt: float
    title_chars: int  # full-width characters a title line holds
    point_pt: float  # the floor is point_pt × the last type step
    text_pt: float
    qr_mm: float
    side_mm: float


FORMATS = (
    BoardFormat("board-pdf", "board-press-pdf", "展板", 900, 1200, 230, 9, 96, 56, 150, 60),
    BoardFormat("xbanner-pdf", "xbanner-press-pdf", "X展架", 600, 1600, 170, 8, 78, 46, 130, 45),
)
KINDS = tuple(kind for fmt in FORMATS for kind in (fmt.kind, fmt.press_kind))
PRESS_KIND = {fmt.kind: fmt.press_kind for fmt in FORMATS}
LABEL = {fmt.kind: fmt.label for fmt in FORMATS}


@dataclass(frozen=True)
class BoardJob:
    document: PdfJob
    press_path: str
    line: int


@dataclass(frozen=True)
class RenderedBoard:
    pdf: bytes
    press: bytes
    pages: int
    step: float
    messages: tuple[str, ...]


def board_lessons(project: Project) -> list[Lesson]:
    """The lessons a campaign shows on the board channel, once each, in the project's order."""
    shown = {
        lesson.slug
        for campaign in project.campaigns
        for activity in campaign.activities
        if activity.channel.id == BOARD_CHANNEL
        for lesson in activity.lessons
    }
    return [lesson for lesson in project.lessons if lesson.slug in shown]


def raster_problems(project: Project, lesson: Lesson) -> list[tuple[int, str]]:
    """(line, message) for a cover picture under 100 dpi at the width a board prints it."""
    if not lesson.cover or media_uri(project, lesson.cover) is None:
        return []
    path = project.root / lesson.cover
    if path.suffix.lower() == ".svg":
        return []
    from PIL import Image

    try:
        with Image.open(path) as image:
            width_px = image.width
    except OSError:
        return []
    found = []
    for fmt in FORMATS:
        width_in = (fmt.width_mm - 2 * fmt.side_mm) / 25.4
        dpi = width_px / width_in
        if dpi < MIN_DPI:
            found.append(
                (
                    lesson.lines.get("cover", 0),
                    f"图片 {lesson.cover} 印在 {fmt.width_mm:g}×{fmt.height_mm:g} 毫米{fmt.label}上只有 {dpi:.0f} dpi"
                    f"（至少 {MIN_DPI} dpi）：请换一张至少 {round(MIN_DPI * width_in)} 像素宽的图片",
                )
            )
    return found


def plan_jobs(project: Project) -> Iterator[BoardJob]:
    env = environment(project)
    template = env.get_template("fieldkit/board.html")
    palette = env.globals["brand"]
    names = pictogram_names(project.root)
    root = str(project.root.resolve())
    for lesson in board_lessons(project):
        url = project.config.url + lesson.site_path
        focal_name = focal_pictogram(lesson, project.config.pictograms, names)
        cover = None if raster_problems(project, lesson) else media_uri(project, lesson.cover)
        points = {
            point.line: glued(point.text, project.config.glossary, figures=True) for point in lesson.points
        }
        for fmt in FORMATS:
            html = tuple(
                template.render(
                    lesson=lesson,
                    fmt=fmt,
                    scale=step,
                    focal=env.filters["pictogram"](focal_name, palette.color) if focal_name else None,
                    cover=cover,
                    qr=qr_svg_data_uri(url),
                    url=url,
                    run_out_mm=RUN_OUT_MM,
                    points=points,
                )
                for step in TYPE_STEPS
            )
            document = PdfJob(fmt.kind, board_path(lesson.slug, fmt.kind), lesson.source,
                              tuple(term.label for term in lesson.audiences), html, lesson.title, root)  # fmt: skip
            yield BoardJob(
                document, board_path(lesson.slug, fmt.press_kind), lesson.lines.get("key_points", 0)
            )


def render_board(job: BoardJob) -> RenderedBoard:
    """The board at the largest step that fits one page, and the press version at the same step."""
    document, step, messages = lay_out_fitted(job.document, pages=1)
    office = pdf.write_pdf(document, title=job.document.title)  # type: ignore[arg-type]
    html = job.document.html[step]
    press = pdf.write_press_pdf(pdf.lay_out(pdf.press_html(html, job.document.root), job.document.root))
    return RenderedBoard(office, press, pdf.page_count(document), TYPE_STEPS[step], messages)  # type: ignore[arg-type]


def finish_board(job: BoardJob, rendered: RenderedBoard, diagnostics: Diagnostics) -> list[Artifact]:
    """The board and its press version; a board that spilled even at the floor is reported at its key points."""
    document = job.document
    if rendered.pages > 1:
        diagnostics.warning(
            document.source,
            job.line,
            f"{LABEL[document.kind]}把要点字号缩小到 {round(TYPE_STEPS[-1] * 100)}% 仍排不下一页，"
            f"排成了 {rendered.pages} 页：请精简要点",
        )
    files = [
        (document.kind, document.path, rendered.pdf),
        (PRESS_KIND[document.kind], job.press_path, rendered.press),
    ]
    return pdf_artifacts(
        diagnostics, document.source, document.audiences, rendered.messages, document.path, files
    )


def render(project: Project, ctx: RenderContext) -> Iterator[Artifact]:
    for lesson in board_lessons(project):
        for line, message in raster_problems(project, lesson):
            ctx.diagnostics.error(lesson.source, line, message)
    templates = templates_key(project)
    units = []
    for job in plan_jobs(project):
        relocatable = dataclasses.replace(job, document=dataclasses.replace(job.document, root=""))
        key = job_key("boards", relocatable, job.document.html, job.document.root, templates)
        units.append(Unit(key, job, job.document.source, job.document.path))

    yield from render_jobs(ctx, units, render_board, finish_board)


def check(project: Project, diagnostics: Diagnostics, cache: ArtifactCache | None, jobs: int) -> None:
    """``kepu check``: a board's picture under 100 dpi, with its path, before anything is printed."""
    for lesson in board_lessons(project):
        for line, message in raster_problems(project, lesson):
            diagnostics.error(lesson.source, line, message)


RENDERER = Renderer(
    name="boards",
    label="展板与X展架（900×1200、600×1600 毫米）",
    kinds=KINDS,
    render=render,
    check=check,
    preload=("weasyprint",),
)
