"""Handbooks (手册): lessons bound into one A5 booklet, and its 2-up A4 version for stapling.

A handbook (``content/handbooks/<slug>.md``, loaded by :mod:`builder.kits`) becomes

* ``handbook-pdf`` — the A5 booklet: cover, 目录 with page numbers, 前言, one chapter
  per lesson (key points box with pictograms, body, QR to the lesson), quizzes and
  their answers, ruled notes pages padding it to a multiple of 4, a back cover;
* ``handbook-imposed-pdf`` — the same pages imposed for saddle stitching on an
  office printer (:mod:`.impose`): A4 landscape, duplex, flip on the short edge.

The booklet is laid out in two documents, the body and the tail (notes + back
cover), so the padding is known after one layout of the body, not a second one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from builder import pdf
from builder.diagnostics import Diagnostics
from builder.labels import QUESTION_KIND_LABELS, QUESTION_KIND_TAGS
from builder.model import Handbook, Project, QuestionKind, Quiz
from builder.outputs import handbook_path
from builder.qr import qr_svg_data_uri
from builder.renderers.base import RenderContext, Renderer, Unit
from builder.renderers.fieldkit.common import (
    environment,
    glued,
    job_key,
    markdown_body,
    pdf_artifacts,
    render_jobs,
    templates_key,
)
from builder.renderers.fieldkit.impose import impose_saddle
from builder.writer import Artifact

KINDS = ("handbook-pdf", "handbook-imposed-pdf")
NUMERALS = "一二三四五六七八九十"
MAX_COVER_ICONS = 6


@dataclass(frozen=True)
class HandbookJob:
    path: str
    imposed_path: str
    source: str
    audiences: tuple[str, ...]
    title: str
    body: str  # the HTML of everything up to the answers
    tails: tuple[str, ...]  # the tail with 0, 1, 2 and 3 notes pages
    root: str = ""


@dataclass(frozen=True)
class RenderedHandbook:
    booklet: bytes
    imposed: bytes
    pages: int
    notes: int  # notes pages added to reach a multiple of 4
    messages: tuple[str, ...]


def chapter_number(number: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十 (a handbook has at most 30 chapters)."""
    tens, units = divmod(number, 10)
    head = "" if tens == 0 else "十" if tens == 1 else NUMERALS[tens - 1] + "十"
    return head + (NUMERALS[units - 1] if units else "")


def quiz_context(quiz: Quiz, glossary: tuple[str, ...], project: Project) -> dict[str, Any]:
    questions = []
    for question in quiz.questions:
        letters = [
            "" if question.kind is QuestionKind.TRUE_FALSE else chr(ord("A") + index)
            for index in range(len(question.options))
        ]
        correct = [
            letter or option.text
            for letter, option in zip(letters, question.options, strict=True)
            if option.correct
        ]
        questions.append(
            {
                "number": question.number,
                "text": question.text.replace(QUESTION_KIND_TAGS[question.kind], ""),
                "kind": QUESTION_KIND_LABELS[question.kind],
                "options": [
                    {"letter": letter, "text": option.text}
                    for letter, option in zip(letters, question.options, strict=True)
                ],
                "answer": "、".join(correct),
                "explanation": markdown_body(question.explanation, project, quiz.images, glossary)
                if question.explanation
                else "",
            }
        )
    return {"quiz": quiz, "questions": questions}


def plan_job(project: Project, handbook: Handbook) -> HandbookJob:
    env = environment(project)
    config = project.config
    glossary = config.glossary
    chapters = []
    icons: list[str] = []
    for number, lesson in enumerate(handbook.lessons, start=1):
        url = config.url + lesson.site_path
        points = [{"html": glued(point.text, glossary), "icon": point.icon} for point in lesson.points]
        icons += [point.icon for point in lesson.points[:1] if point.icon]
        chapters.append(
            {
                "lesson": lesson,
                "number": chapter_number(number),
                "title": glued(lesson.title, glossary),
                "summary": glued(lesson.summary, glossary),
                "points": points,
                "body": markdown_body(lesson.body, project, lesson.images, glossary),
                "url": url,
                "qr": qr_svg_data_uri(url),
            }
        )
    palette = env.globals["brand"]
    cover_icons = [
        uri for uri in (env.filters["pictogram"](name, palette.dark) for name in dict.fromkeys(icons)) if uri
    ][:MAX_COVER_ICONS]
    context = {
        "handbook": handbook,
        "chapters": chapters,
        "quizzes": [quiz_context(quiz, glossary, project) for quiz in handbook.quizzes],
        "foreword": markdown_body(handbook.foreword, project, handbook.images, glossary),
        "audiences": [term.label for term in handbook.audiences],
        "cover_icons": cover_icons,
    }
    body = env.get_template("fieldkit/handbook.html").render(**context)
    tail = env.get_template("fieldkit/handbook-tail.html")
    tails = tuple(
        tail.render(handbook=handbook, notes=notes, qr=qr_svg_data_uri(config.url), url=config.url)
        for notes in range(4)
    )
    return HandbookJob(
        path=handbook_path(handbook.slug, "handbook-pdf"),
        imposed_path=handbook_path(handbook.slug, "handbook-imposed-pdf"),
        source=handbook.source,
        audiences=tuple(term.label for term in handbook.audiences),
        title=handbook.title,
        body=body,
        tails=tails,
        root=str(project.root.resolve()),
    )


def render_handbook(job: HandbookJob) -> RenderedHandbook:
    """Lay out the body, add the tail that makes a multiple of 4, write and impose it."""
    with pdf.engine_messages() as messages:
        body = pdf.lay_out(job.body, job.root)
        notes = -(pdf.page_count(body) + 1) % 4  # + 1: the back cover
        tail = pdf.lay_out(job.tails[notes], job.root)
        # One document from the pages of both: the body's metadata, links and anchors stay.
        booklet_document = body.copy([*body.pages, *tail.pages])
        booklet = pdf.write_pdf(booklet_document, title=job.title, lang="zh-CN")
    imposed = impose_saddle(booklet)
    pages = pdf.page_count(booklet_document)
    return RenderedHandbook(booklet, imposed, pages, notes, tuple(dict.fromkeys(messages)))


def finish_handbook(job: HandbookJob, rendered: RenderedHandbook, diagnostics: Diagnostics) -> list[Artifact]:
    """The booklet and its imposed version, with the engine's warnings."""
    files = [
        ("handbook-pdf", job.path, rendered.booklet),
        ("handbook-imposed-pdf", job.imposed_path, rendered.imposed),
    ]
    return pdf_artifacts(diagnostics, job.source, job.audiences, rendered.messages, job.path, files)


def render(project: Project, ctx: RenderContext) -> Iterator[Artifact]:
    templates = templates_key(project)
    units = []
    for handbook in project.handbooks:
        job = plan_job(project, handbook)
        key = job_key("handbooks", job, (job.body, *job.tails), job.root, templates)
        units.append(Unit(key, job, handbook.source, job.path))

    yield from render_jobs(ctx, units, render_handbook, finish_handbook)


RENDERER = Renderer(
    name="handbooks",
    label="手册（A5 小册子与骑马钉拼版）",
    kinds=KINDS,
    render=render,
    preload=("weasyprint", "pikepdf"),
)
