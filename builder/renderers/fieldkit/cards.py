"""Pocket cards (口袋卡片 / 提示卡): a 90 × 54 mm two-sided card per lesson, and an A4 sheet of 10.

* ``pocket-card-pdf`` — the card: front (title and three key points with their
  pictograms), back (QR code to the lesson, the site, the organisation, contact);
* ``pocket-sheet-pdf`` — ten of them on A4 with cut marks, fronts on page 1 and
  backs on page 2 mirrored for a duplex office print.

Three points fit a card: the safety instructions first (a card never drops one),
then the lesson's own order. The card is *fitted* like a flyer: laid out at full
type size and, when a side spills, at smaller steps down to a floor (6.4 pt); a
card that still does not fit is kept and reported with its lesson's line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from builder import pdf
from builder.diagnostics import Diagnostics
from builder.model import KeyPoint, Lesson, Project
from builder.outputs import pocket_card_path
from builder.print_templates import shared_inputs
from builder.qr import qr_svg_data_uri
from builder.renderers.base import RenderContext, Renderer
from builder.renderers.fieldkit.common import (
    TEMPLATES,
    KeyedUnit,
    PdfJob,
    Planned,
    environment,
    glued,
    job_key,
    lay_out_fitted,
    lesson_units,
    pdf_artifacts,
    render_keyed,
    templates_key,
)
from builder.writer import Artifact

KINDS = ("pocket-card-pdf", "pocket-sheet-pdf")
TYPE_STEPS = (1.0, 0.94, 0.88, 0.82, 0.76, 0.7)  # 9.2 pt down to 6.4 pt: still read in the hand
POINTS_ON_A_CARD = 3


@dataclass(frozen=True)
class CardJob:
    card: PdfJob  # the card at each type step
    sheet: tuple[str, ...]  # the sheet of 10 at the same steps
    sheet_path: str
    line: int  # where a "does not fit" warning points (key_points)


@dataclass(frozen=True)
class RenderedCard:
    card: bytes
    sheet: bytes
    pages: int  # of the card: 2 when it fits
    sheet_pages: int
    step: float
    messages: tuple[str, ...]


def card_points(points: list[KeyPoint], count: int = POINTS_ON_A_CARD) -> list[KeyPoint]:
    """The points a card shows: every safety instruction, then the others, in the lesson's order."""
    urgent = [index for index, point in enumerate(points) if point.urgent]
    others = [index for index, point in enumerate(points) if not point.urgent]
    chosen = sorted(urgent + others[: max(0, count - len(urgent))])
    return [points[index] for index in chosen]


def plan_job(project: Project, lesson: Lesson) -> CardJob:
    env = environment(project)
    config = project.config
    url = config.url + lesson.site_path
    glossary = config.glossary
    card = {
        "lesson": lesson,
        "title": glued(lesson.short_title or lesson.title, glossary),
        "points": [
            {"html": glued(point.text, glossary), "icon": point.icon} for point in card_points(lesson.points)
        ],
        "qr": qr_svg_data_uri(url),
        "url": url,
    }
    card_template = env.get_template("fieldkit/card.html")
    sheet_template = env.get_template("fieldkit/sheet.html")
    audiences = tuple(term.label for term in lesson.audiences)
    return CardJob(
        card=PdfJob(
            kind="pocket-card-pdf",
            path=pocket_card_path(lesson.slug, "pocket-card-pdf"),
            source=lesson.source,
            audiences=audiences,
            html=tuple(card_template.render(card=card, step=step) for step in TYPE_STEPS),
            title=lesson.title,
            root=str(project.root.resolve()),
        ),
        sheet=tuple(sheet_template.render(card=card, step=step) for step in TYPE_STEPS),
        sheet_path=pocket_card_path(lesson.slug, "pocket-sheet-pdf"),
        line=lesson.lines.get("key_points", 0),
    )


def render_card(job: CardJob) -> RenderedCard:
    """The card at the largest step whose two sides fit two pages; the sheet at the same step."""
    document, step, messages = lay_out_fitted(job.card, pages=2)
    card = pdf.write_pdf(document, title=job.card.title)  # type: ignore[arg-type]
    with pdf.engine_messages() as more:
        sheet_document = pdf.lay_out(job.sheet[step], job.card.root)
        sheet = pdf.write_pdf(sheet_document, title=f"{job.card.title}（10张一页）")
    return RenderedCard(
        card,
        sheet,
        pdf.page_count(document),  # type: ignore[arg-type]
        pdf.page_count(sheet_document),
        TYPE_STEPS[step],
        tuple(dict.fromkeys([*messages, *more])),
    )


def finish_card(job: CardJob, rendered: RenderedCard, diagnostics: Diagnostics) -> list[Artifact]:
    """The card and its sheet; a card that did not fit even at the smallest step is reported at its key points."""
    card = job.card
    if rendered.pages > 2 or rendered.sheet_pages > 2:
        diagnostics.warning(
            card.source,
            job.line,
            f"口袋卡片把字号缩小到 {round(TYPE_STEPS[-1] * 100)}% 仍排不下一面（排成了 {rendered.pages} 页）："
            "请精简标题或前三条要点",
        )
    files = [
        ("pocket-card-pdf", card.path, rendered.card),
        ("pocket-sheet-pdf", job.sheet_path, rendered.sheet),
    ]
    return pdf_artifacts(diagnostics, card.source, card.audiences, rendered.messages, card.path, files)


def plan(project: Project) -> Iterator[KeyedUnit[CardJob]]:
    """Every lesson's card, keyed by its inputs; its HTML is rendered only when the cache misses."""
    templates = templates_key(project)

    def planned(lesson: Lesson) -> Planned[CardJob]:
        job = plan_job(project, lesson)
        # The project folder never enters a key: a checkout anywhere has the same keys.
        relocatable = dataclasses.replace(job, card=dataclasses.replace(job.card, root=""))
        documents = (*job.card.html, *job.sheet)
        return Planned(job, job_key("cards", relocatable, documents, job.card.root, templates))

    shared = shared_inputs(project, TEMPLATES)
    return lesson_units(project, "cards", shared, lambda lesson: pocket_card_path(lesson.slug, KINDS[0]), planned)


def render(project: Project, ctx: RenderContext) -> Iterator[Artifact]:
    yield from render_keyed(ctx, list(plan(project)), render_card, finish_card)


RENDERER = Renderer(
    name="cards",
    label="口袋卡片（90×54 毫米与 A4 十张一页）",
    kinds=KINDS,
    render=render,
    preload=("weasyprint",),
)
