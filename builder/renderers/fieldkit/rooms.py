"""The health-room kit (健康小屋): the notices and forms a room puts up and fills in.

A room (``content/rooms/<slug>.md``, loaded by :mod:`builder.kits`) becomes

* ``room-hours-pdf`` — the A4 opening-hours notice, every weekday, and the services;
* ``room-rules-pdf`` — the A4 rules notice (使用须知);
* ``room-register-pdf`` — the monthly usage register, A4 landscape, to fill in by hand
  (date, name, unit, service used, signature);
* ``room-prescriptions-pdf`` — per quarter the A5 health-education prescriptions of
  the lessons the room picked for it (the rules replace them each quarter).

The loader has already warned about an open day under 3 hours (the rule it cites).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from builder import pdf
from builder.diagnostics import Diagnostics
from builder.kits import WEEKDAYS
from builder.model import HealthRoom, Project
from builder.outputs import room_path
from builder.qr import qr_svg_data_uri
from builder.renderers.base import RenderContext, Renderer, Unit
from builder.renderers.fieldkit.common import (
    PdfJob,
    environment,
    glued,
    job_key,
    lay_out_fitted,
    pdf_artifacts,
    render_jobs,
    templates_key,
)
from builder.writer import Artifact

KINDS = ("room-hours-pdf", "room-rules-pdf", "room-register-pdf", "room-prescriptions-pdf")
NOTICE_STEPS = (1.2, 1.1, 1.0, 0.9, 0.8)  # a short notice takes larger type; a long one shrinks
REGISTER_ROWS = 16  # at 9.2 mm a row, one A4 landscape page
REGISTER_COLUMNS = (("日期", 12), ("姓名", 14), ("单位或住址", 25), ("使用服务", 26), ("签名", 18))


def plan_jobs(project: Project, room: HealthRoom) -> Iterator[PdfJob]:
    env = environment(project)
    glossary = project.config.glossary
    root = str(project.root.resolve())

    def job(kind: str, template: str, steps: tuple[float, ...], number: int = 0, **context: object) -> PdfJob:
        html = tuple(env.get_template(template).render(room=room, scale=step, **context) for step in steps)
        title = f"{room.name} {kind}"
        return PdfJob(kind, room_path(room.slug, kind, number), room.source, (), html, title, root)

    days = [
        {"name": f"周{WEEKDAYS[day.weekday]}", "spans": [f"{start}–{end}" for start, end in day.spans]}
        for day in room.hours
    ]
    yield job("room-hours-pdf", "fieldkit/room-hours.html", NOTICE_STEPS, days=days)
    rules = [glued(rule, glossary) for rule in room.rules]
    yield job("room-rules-pdf", "fieldkit/room-rules.html", NOTICE_STEPS, rules=rules)
    yield job("room-register-pdf", "fieldkit/room-register.html", (1.0,), rows=REGISTER_ROWS,
              columns=REGISTER_COLUMNS)  # fmt: skip
    for quarter, lessons in room.quarters.items():
        if not lessons:
            continue
        items = [
            {
                "lesson": lesson,
                "title": glued(lesson.title, glossary),
                "points": [
                    {"html": glued(point.text, glossary), "icon": point.icon} for point in lesson.points
                ],
                "qr": qr_svg_data_uri(project.config.url + lesson.site_path),
            }
            for lesson in lessons
        ]
        yield job("room-prescriptions-pdf", "fieldkit/room-prescriptions.html", (1.0,), quarter, quarter=quarter,
                  items=items)  # fmt: skip


def render_notice(job: PdfJob) -> tuple[bytes, int, tuple[str, ...]]:
    """A notice at the largest step that fits one page (a prescription set: as many pages as lessons)."""
    document, _step, messages = lay_out_fitted(job, pages=1)
    return pdf.write_pdf(document, title=job.title), pdf.page_count(document), messages  # type: ignore[arg-type]


def finish_notice(
    job: PdfJob, rendered: tuple[bytes, int, tuple[str, ...]], diagnostics: Diagnostics
) -> list[Artifact]:
    """The notice or form; a one-page notice that spilled is reported."""
    data, pages, messages = rendered
    if job.kind in ("room-hours-pdf", "room-rules-pdf") and pages > 1:
        diagnostics.warning(job.source, 0, f"{job.path}：字号缩到最小仍排不下一页（{pages} 页）：请精简条目")
    files = [(job.kind, job.path, data)]
    return pdf_artifacts(diagnostics, job.source, job.audiences, messages, job.path, files)


def render(project: Project, ctx: RenderContext) -> Iterator[Artifact]:
    templates = templates_key(project)
    units = [
        Unit(
            job_key("rooms", dataclasses.replace(job, root=""), job.html, job.root, templates),
            job,
            room.source,
            job.path,
        )
        for room in project.rooms
        for job in plan_jobs(project, room)
    ]

    yield from render_jobs(ctx, units, render_notice, finish_notice)


RENDERER = Renderer(
    name="rooms",
    label="健康小屋（开放时间、使用须知、登记表、季度处方）",
    kinds=KINDS,
    render=render,
    preload=("weasyprint",),
)
