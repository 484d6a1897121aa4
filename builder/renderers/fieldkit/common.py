"""What the field kit's outputs share: their Jinja world, Markdown bodies, the PDF job and its artifacts.

Handbooks, pocket cards and slides are laid out by the shared engine
(:mod:`builder.pdf`) from templates under ``templates/fieldkit/`` — a project may
override them file by file in its own ``templates/fieldkit/``. This module gives
those templates the brand shades, pictograms, QR codes and sanitised Markdown
they render with, the picklable job a worker process turns into PDF bytes, and
the last step of every unit (:func:`render_jobs`, :func:`pdf_artifacts`: its files
as artifacts, the engine's warnings reported). It is not a renderer itself: the
renderer modules beside it import it, never each other.
"""

from __future__ import annotations

import dataclasses
import functools
import html as html_escape
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import jinja2
from markupsafe import Markup

from builder import pdf
from builder.brand import brand_palette
from builder.cache import fingerprint, templates_digest
from builder.cjk import emphasise_figures, keep_clauses_together
from builder.diagnostics import Diagnostics
from builder.model import Lesson, MediaRef, Project
from builder.pictograms import pictogram_data_uri
from builder.print_templates import markdown_html, media_uri, subject_media
from builder.renderers.base import RenderContext, Unit
from builder.templates import make_environment
from builder.widows import keep_last_words
from builder.writer import Artifact

Job = TypeVar("Job")
Rendered = TypeVar("Rendered")

TEMPLATES = "fieldkit"
LANG = "zh-CN"
# Bump when a renderer's output changes for the same HTML (a cache key part).
FIELDKIT_VERSION = 1


def environment(project: Project) -> jinja2.Environment:
    """The templates' environment: autoescaped, with the brand, pictograms and CJK filters."""
    env = make_environment(project, autoescape=True)
    env.globals.update(lang=LANG, brand=brand_palette(project.config.brand_color))
    env.globals["logo"] = media_uri(project, project.config.logo)
    env.filters["figures"] = emphasise_figures
    env.filters["clauses"] = keep_clauses_together
    # A pictogram name → a tinted data: URI, or None (the template shows a numbered badge).
    env.filters["pictogram"] = lambda name, colour: pictogram_data_uri(project.root, name, colour)
    return env


def markdown_body(
    text: str, project: Project, images: Sequence[MediaRef], glossary: tuple[str, ...]
) -> Markup:
    """A body as printable HTML (:func:`builder.print_templates.markdown_html`: the site's
    Markdown, the raw-HTML policy, resolved images only, links as text), the last word of
    each block keeping its line."""
    return Markup(keep_last_words(str(markdown_html(text, project, images)), glossary))


def glued(text: str, glossary: tuple[str, ...], figures: bool = False) -> Markup:
    """Plain text (escaped) whose last word keeps its line, for a key point or a title.

    With ``figures``, its key figures (5克, 140/90) are marked up too, for large type.
    """
    inner = emphasise_figures(text) if figures else html_escape.escape(text)
    html = keep_last_words(f"<p>{inner}</p>", glossary)
    return Markup(html[3:-4])


# -- the job a worker runs ---------------------------------------------------------


@dataclass(frozen=True)
class PdfJob:
    """One laid-out document: plain picklable data, no environment, no project object."""

    kind: str
    path: str  # in the output folder
    source: str  # in the project
    audiences: tuple[str, ...]
    html: tuple[str, ...]  # the document at each type step, largest first
    title: str
    root: str = ""  # the project folder the engine reads files from; never part of a key


@dataclass(frozen=True)
class LaidOut:
    pdf: bytes
    pages: int
    step: int  # which of the job's type steps was used
    messages: tuple[str, ...]  # the engine's warnings


def job_key(renderer: str, job: object, documents: Sequence[str], root: str, templates: str) -> str:
    """A unit's key: the job without the project folder, the files it links, the templates, the engine."""
    has_root = dataclasses.is_dataclass(job) and any(f.name == "root" for f in dataclasses.fields(job))
    relocatable = dataclasses.replace(job, root="") if has_root else job  # type: ignore[type-var]
    files = pdf.linked_files(documents, root)
    return fingerprint(renderer, FIELDKIT_VERSION, relocatable, files, templates, pdf.engine_version())


def templates_key(project: Project) -> str:
    return templates_digest(project.root, TEMPLATES)


@dataclass(frozen=True)
class Planned(Generic[Job]):
    job: Job
    job_key: str  # a digest of the planned documents: the judge of ``KeyedUnit.key`` in tests


@dataclass(frozen=True)
class KeyedUnit(Generic[Job]):
    """A lesson's unit before it is planned: where it goes, a key made from its inputs, and
    ``plan`` (called once at most: it remembers) for when the cache misses. A cached build
    renders no template and measures no text."""

    path: str
    source: str
    key: str
    plan: Callable[[], Planned[Job]]


def keyed_unit(path: str, source: str, key: str, plan: Callable[[], Planned[Job]]) -> KeyedUnit[Job]:
    return KeyedUnit(path, source, key, functools.cache(plan))


def lesson_units(
    project: Project,
    renderer: str,
    shared: str,
    path: Callable[[Lesson], str],
    plan: Callable[[Lesson], Planned[Job]],
) -> Iterator[KeyedUnit[Job]]:
    """One unit a lesson, keyed by the lesson, ``shared`` (:func:`print_templates.shared_inputs`)
    and the bytes of the files it names; ``plan(lesson)`` only when the cache misses."""
    root = str(project.root.resolve())
    for lesson in project.lessons:
        key = fingerprint(renderer, FIELDKIT_VERSION, lesson, shared, subject_media(lesson, root))
        yield keyed_unit(path(lesson), lesson.source, key, functools.partial(plan, lesson))


def render_keyed(
    ctx: RenderContext,
    units: Sequence[KeyedUnit[Job]],
    work: Callable[[Job], Rendered],
    finish: Callable[[Job, Rendered, Diagnostics], list[Artifact]],
) -> Iterator[Artifact]:
    """:meth:`RenderContext.render_units` for keyed units: planned only when not cached."""
    return ctx.render_units(
        [Unit(unit.key, unit, unit.source, unit.path) for unit in units],
        lambda unit: unit.plan().job,
        work,
        lambda unit, rendered, diagnostics: finish(unit.plan.plan().job, rendered, diagnostics),
    )


def lay_out_fitted(job: PdfJob, pages: int) -> tuple[object, int, tuple[str, ...]]:
    """The first type step of ``job`` that lays out in at most ``pages`` pages (else the last)."""
    with pdf.engine_messages() as messages:
        step = 0
        document = pdf.lay_out(job.html[0], job.root)
        while pdf.page_count(document) > pages and step + 1 < len(job.html):
            step += 1
            document = pdf.lay_out(job.html[step], job.root)
    return document, step, tuple(dict.fromkeys(messages))


def render_jobs(
    ctx: RenderContext,
    units: Sequence[Unit[Job]],
    work: Callable[[Job], Rendered],
    finish: Callable[[Job, Rendered, Diagnostics], list[Artifact]],
) -> Iterator[Artifact]:
    """:meth:`RenderContext.render_units` for units whose plan is already the worker's job
    (plain picklable data): ``work`` runs it, ``finish(job, rendered, diagnostics)`` keeps it."""
    return ctx.render_units(
        units,
        lambda job: job,
        work,
        lambda unit, rendered, diagnostics: finish(unit.plan, rendered, diagnostics),
    )


def pdf_artifacts(
    diagnostics: Diagnostics,
    source: str,
    audiences: tuple[str, ...],
    engine_messages: Sequence[str],
    reported_path: str,
    files: Sequence[tuple[str, str, bytes]],
) -> list[Artifact]:
    """A rendered unit's ``files`` (kind, path, bytes) as artifacts of ``source``, after the
    engine's warnings, each reported at ``reported_path`` (the document the engine laid out)."""
    for message in engine_messages:
        diagnostics.warning(source, 0, f"{reported_path}：排版引擎提示：{message}")
    return [Artifact(kind, path, source, audiences, data=data) for kind, path, data in files]
