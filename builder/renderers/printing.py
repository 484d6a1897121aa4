"""Printable materials: flyers, prescriptions, posters, quiz sheets and campaign print packs.

Every document is a Jinja2 HTML template under ``templates/print/`` laid out by
WeasyPrint into a vector PDF with embedded CJK font subsets, so text stays
selectable and searchable.

One-page formats (flyer, prescription, poster, event flyer) are *fitted*: laid out
at full type size and, when they spill onto a second page, at smaller type steps
down to a floor that stays readable. Below the floor the document flows onto
another page — nothing is ever clipped — and a warning names what spilled over.
:func:`check_print_fit` runs the same measurement for ``kepu check``.
"""

from __future__ import annotations

import colorsys
import dataclasses
import datetime as dt
import html as html_escape
import importlib.metadata
import io
import logging
import mimetypes
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

import markdown
from markupsafe import Markup

from builder.cache import ArtifactCache, fingerprint, templates_digest
from builder.content import resolve_media
from builder.diagnostics import Diagnostic, Diagnostics, Severity
from builder.model import Activity, Campaign, Project, Question, QuestionKind, Quiz, Term
from builder.parallel import parallel_map
from builder.paths import inside
from builder.qr import qr_svg_data_uri
from builder.renderers.base import RenderContext, Renderer, RenderError
from builder.sanitize import UnsafeSvgError, clean_html, clean_svg, is_allowed_link
from builder.templates import default_templates_dir, make_environment
from builder.writer import Artifact

if TYPE_CHECKING:
    import jinja2
    from weasyprint import Document

# Trim sizes in millimetres, portrait.
PAGE_SIZES_MM = {"A3": (297.0, 420.0), "A4": (210.0, 297.0), "A5": (148.0, 210.0)}
FLYER_PNG_WIDTH = 1080  # px: WeChat shows images up to this width without downscaling
PDF_LANG = "zh-CN"
PRINT_RENDERER_VERSION = 2  # bump when this module's output changes for the same HTML
# Documents name files by a fixed origin that never resolves (RFC 2606 .invalid), not
# by file:// URLs: WeasyPrint names embedded images by their URL, so the same project
# gives the same PDF bytes wherever it is checked out, and no absolute path reaches a
# PDF or a cache key. Only ProjectFiles turns these URLs into bytes.
VIRTUAL_ORIGIN = "https://kepu.invalid"
PROJECT_BASE = f"{VIRTUAL_ORIGIN}/project/"  # the content project's own files
KEPU_BASE = f"{VIRTUAL_ORIGIN}/kepu/"  # Kepu's bundled templates folder
PROJECT_URL = re.compile(re.escape(PROJECT_BASE) + r"([^\"')\s<>]+)")


@dataclass(frozen=True)
class PrintFormat:
    kind: str  # manifest kind
    template: str
    page: str  # key of PAGE_SIZES_MM
    label: str  # what editors call it, for messages
    # Type-size steps for one-page formats, largest first: the largest that fits
    # one page wins; the last is the smallest type still readable at the
    # format's viewing distance. A single step means the document simply flows
    # onto as many pages as it needs.
    type_scales: tuple[float, ...] = (1.0,)

    @property
    def one_page(self) -> bool:
        return len(self.type_scales) > 1


# Short content gets larger type (easier for older readers, and the page looks
# filled); long content shrinks to the floor. 1.0 is each template's normal size.
ONE_PAGE_STEPS = (1.6, 1.5, 1.4, 1.34, 1.28, 1.22, 1.16, 1.1, 1.05, 1.0, 0.96, 0.92, 0.88)
FORMATS = {
    fmt.kind: fmt
    for fmt in (
        # Held in the hand: key points stay ≥ 10.5 pt (base 15 pt).
        PrintFormat(
            "flyer-pdf", "print/flyer.html", "A4", "A4 宣传单", (*ONE_PAGE_STEPS, 0.84, 0.8, 0.75, 0.7)
        ),
        # Read at arm's length, often by older patients: advice stays ≥ 10 pt (base 12 pt).
        PrintFormat(
            "prescription-pdf", "print/prescription.html", "A5", "A5 健康教育处方", (*ONE_PAGE_STEPS, 0.84)
        ),
        # Read from 2 m on a bulletin board: key points stay ≥ 20 pt (base 26 pt).
        PrintFormat("poster-pdf", "print/poster.html", "A3", "A3 宣传栏海报", (*ONE_PAGE_STEPS, 0.84, 0.78)),
        PrintFormat(
            "event-flyer-pdf",
            "print/event-flyer.html",
            "A4",
            "A4 活动海报",
            (*ONE_PAGE_STEPS, 0.84, 0.8, 0.76, 0.72),
        ),
        PrintFormat("quiz-pdf", "print/quiz.html", "A4", "测验题卷"),
        PrintFormat("answer-key-pdf", "print/answer-key.html", "A4", "测验答案"),
        PrintFormat("plan-pdf", "print/plan.html", "A4", "活动方案"),
        PrintFormat("signin-pdf", "print/signin.html", "A4", "签到表"),
    )
}
FLYER_PNG_KIND = "flyer-png"
KINDS = (*FORMATS, FLYER_PNG_KIND)
# Prefix of the ids that one-page templates give to the blocks worth naming
# when they spill over, e.g. id="fit-要点3" → "要点3".
FIT_ID_PREFIX = "fit-"


@dataclass(frozen=True)
class PrintJob:
    """One PDF to render: everything a worker process needs, as plain picklable data."""

    kind: str
    path: str  # in the output folder
    source: str  # in the project
    line: int  # where a "does not fit" warning points
    audiences: tuple[str, ...]
    html_by_scale: tuple[str, ...]  # the document at each type step, largest first
    base_url: str  # PROJECT_BASE: relative URLs in a document name project files
    png_path: str | None = None  # also rasterise page 1 for sending to groups
    root: str = ""  # the project folder ProjectFiles reads from; never part of a cache key

    @property
    def format(self) -> PrintFormat:
        return FORMATS[self.kind]


@dataclass(frozen=True)
class PlannedPrint:
    """A document as planned: enough to find it in the cache or check its fit.

    Rendering the template at every type step is most of the cost of planning,
    so a plan holds only the largest and the smallest step; the others are
    rendered only for a document that is laid out again.
    """

    job: PrintJob  # html_by_scale: the largest and the smallest step only
    every_step: Callable[[], tuple[str, ...]]
    key: str  # the cache key: the job, its linked files, the print templates, the engine

    def full_job(self) -> PrintJob:
        return dataclasses.replace(self.job, html_by_scale=self.every_step())


@dataclass(frozen=True)
class RenderedPrint:
    pdf: bytes
    page_count: int
    scale: float
    spilled: tuple[str, ...]  # fit labels of blocks pushed past page 1 (one-page formats)
    png: bytes | None = None
    engine_messages: tuple[str, ...] = ()  # WeasyPrint's warnings, e.g. a bad CSS rule in a template


@dataclass(frozen=True)
class FitProblem:
    """A one-page format that does not fit on one page even at its smallest type."""

    kind: str
    source: str
    line: int
    page_count: int
    spilled: tuple[str, ...]

    @property
    def message(self) -> str:
        what = "、".join(self.spilled) if self.spilled else "页末的内容"
        return (
            f"{self.opening(self.kind)}仍排不下一页，"
            f"排成了 {self.page_count} 页（排到后面的：{what}）。"
            "请精简标题、摘要或要点，或减少要点条数"
        )

    def warning(self) -> Diagnostic:
        return Diagnostic(self.source, self.line, self.message, Severity.WARNING)

    @staticmethod
    def opening(kind: str) -> str:
        fmt = FORMATS[kind]
        return f"{fmt.label}把字号缩小到 {round(fmt.type_scales[-1] * 100)}% "

    @classmethod
    def describes(cls, kind: str, warning: Diagnostic) -> bool:
        """Whether ``warning`` is the fit warning of a ``kind`` document (not, say, an engine message)."""
        return warning.message.startswith(cls.opening(kind) + "仍排不下一页")


# -- renderer ------------------------------------------------------------------


def render(project: Project, ctx: RenderContext) -> Iterator[Artifact]:
    planned = list(plan(project))
    jobs = [item.job for item in planned]
    keys = [item.key for item in planned]
    reused = [ctx.reuse(key) for key in keys]
    ctx.progress.start(len(jobs))
    to_render = [
        item.full_job() for item, artifacts in zip(planned, reused, strict=True) if artifacts is None
    ]
    results = iter(parallel_map(render_job, to_render, ctx.jobs))
    reported: set[str] = set()  # a bad rule in a shared template would otherwise repeat per document
    for job, key, cached in zip(jobs, keys, reused, strict=True):
        ctx.progress.advance()
        if cached is not None:
            yield from cached
            continue
        try:
            rendered = next(results)
        except Exception as error:  # the pool has finished or cancelled the rest; the build stops cleanly
            raise RenderError(job.source, job.path, error) from error
        warnings = []
        if job.format.one_page and rendered.page_count > 1:
            warnings.append(
                FitProblem(job.kind, job.source, job.line, rendered.page_count, rendered.spilled).warning()
            )
        for message in rendered.engine_messages:
            if message not in reported:
                reported.add(message)
                text = f"{job.path}：排版引擎提示：{message}"
                warnings.append(Diagnostic(job.source, 0, text, Severity.WARNING))
        ctx.diagnostics.items.extend(warnings)
        artifacts = [Artifact(job.kind, job.path, job.source, job.audiences, data=rendered.pdf)]
        if job.png_path and rendered.png is not None:
            artifacts.append(
                Artifact(FLYER_PNG_KIND, job.png_path, job.source, job.audiences, data=rendered.png)
            )
        ctx.keep(key, artifacts, warnings)
        yield from artifacts


def print_job_key(job: PrintJob, templates: str) -> str:
    """The document at its largest and smallest type step, the bytes of the files it links, the
    print templates (which make the steps in between) and the engine's version.

    The project folder is left out (documents name files by project-relative URLs),
    so a checkout anywhere has the same keys."""
    root = Path(job.root)
    linked = sorted({unquote(rel) for html in job.html_by_scale for rel in PROJECT_URL.findall(html)})
    # Each file by its bytes (a Path is keyed by its digest), only when it is one ProjectFiles serves.
    files = [(rel, root / rel if ProjectFiles.allows(root, rel) else None) for rel in linked]
    weasyprint = importlib.metadata.version("weasyprint")
    relocatable = dataclasses.replace(job, root="")
    return fingerprint("print", PRINT_RENDERER_VERSION, relocatable, files, templates, weasyprint)


def check_print_fit(
    project: Project, diagnostics: Diagnostics, jobs: int = 1, cache: ArtifactCache | None = None
) -> list[Diagnostic]:
    """Warn about every one-page format that cannot fit on one page, without writing any PDF.

    For ``kepu check``: each flyer, prescription, poster and event flyer is laid out
    once, at its smallest type step (if that does not fit, no step does). The
    warnings are the ones ``kepu build`` gives. A document the build cache holds
    with the same inputs is not laid out again: the build's verdict is reused.
    Returns the warnings.
    """
    one_page = [item for item in plan(project) if item.job.format.one_page]
    known = [cached_fit_warnings(item, cache) for item in one_page]
    smallest = [
        dataclasses.replace(item.job, html_by_scale=item.job.html_by_scale[-1:], png_path=None)
        for item, warnings in zip(one_page, known, strict=True)
        if warnings is None
    ]
    measured = iter(parallel_map(measure_job, smallest, jobs))
    found: list[Diagnostic] = []
    for job, warnings in zip((item.job for item in one_page), known, strict=True):
        if warnings is None:
            page_count, spilled = next(measured)
            warnings = (
                [FitProblem(job.kind, job.source, job.line, page_count, spilled).warning()]
                if page_count > 1
                else []
            )
        found.extend(warnings)
    diagnostics.items.extend(found)
    return found


def cached_fit_warnings(planned: PlannedPrint, cache: ArtifactCache | None) -> list[Diagnostic] | None:
    """The fit warning the build gave this document (or none), if the cache holds it; None if not."""
    warnings = cache.warnings("print", planned.key) if cache else None
    if warnings is None:
        return None
    return [warning for warning in warnings if FitProblem.describes(planned.job.kind, warning)]


# -- planning: content → HTML documents -----------------------------------------


def plan_jobs(project: Project) -> Iterator[PrintJob]:
    """Every PDF the print renderer produces, in a stable order, ready to render."""
    return (planned.full_job() for planned in plan(project))


def plan(project: Project) -> Iterator[PlannedPrint]:
    """Every PDF the print renderer produces, in a stable order."""
    env = print_environment(project)
    root = str(project.root.resolve())
    config = project.config
    templates = templates_digest(project.root, "print")

    def job(
        kind: str,
        path: str,
        source: str,
        line: int,
        audiences: Sequence[Term],
        png_path: str | None = None,
        **context: Any,
    ) -> PlannedPrint:
        fmt = FORMATS[kind]
        template = env.get_template(fmt.template)
        width_mm, height_mm = PAGE_SIZES_MM[fmt.page]
        page = {"size": fmt.page, "width_mm": width_mm, "height_mm": height_mm}

        def step(scale: float) -> str:
            return template.render(page=page, scale=scale, type_steps=len(fmt.type_scales), **context)

        scales = fmt.type_scales
        ends = tuple(step(scale) for scale in dict.fromkeys((scales[0], scales[-1])))
        labels = tuple(t.label for t in audiences)
        job = PrintJob(kind, path, source, line, labels, ends, PROJECT_BASE, png_path, root)
        return PlannedPrint(
            job, lambda: tuple(step(scale) for scale in scales), print_job_key(job, templates)
        )

    for lesson in project.lessons:
        folder = f"print/lessons/{lesson.slug}"
        context = {
            "lesson": lesson,
            "url": config.url + lesson.site_path,
            "qr": qr_svg_data_uri(config.url + lesson.site_path),
            "cover": media_uri(project, lesson.cover),
        }
        line = lesson.lines.get("key_points", 0)
        audiences = lesson.audiences
        yield job("flyer-pdf", f"{folder}/flyer.pdf", lesson.source, line, audiences,
                  png_path=f"{folder}/flyer.png", **context)  # fmt: skip
        yield job("prescription-pdf", f"{folder}/prescription.pdf", lesson.source, line, audiences, **context)
        yield job("poster-pdf", f"{folder}/poster.pdf", lesson.source, line, audiences, **context)

    for quiz in project.quizzes:
        folder = f"print/quizzes/{quiz.slug}"
        context = {"quiz": quiz, "letters": option_letters(quiz), "url": config.url + quiz.site_path}
        yield job("quiz-pdf", f"{folder}/quiz.pdf", quiz.source, 1, quiz.audiences, **context)
        yield job("answer-key-pdf", f"{folder}/answer-key.pdf", quiz.source, 1, quiz.audiences, **context)

    for campaign in project.campaigns:
        folder = f"print/campaigns/{campaign.slug}"
        campaign_url = config.url + campaign.site_path
        yield job(
            "plan-pdf", f"{folder}/plan.pdf", campaign.source, 1, campaign.audiences,
            campaign=campaign, timeline=campaign_timeline(campaign),
            body=markdown_html(campaign.body, project, campaign.source),
        )  # fmt: skip
        for number, activity in enumerate(campaign.activities, start=1):
            if not (activity.time and activity.place):
                continue  # online posts and videos need no flyer or sign-in sheet
            audiences = activity.audiences or campaign.audiences
            context = {
                "campaign": campaign,
                "activity": activity,
                "event_audiences": audiences,
                "url": campaign_url,
                "qr": qr_svg_data_uri(campaign_url),
            }
            events = f"{folder}/events/{number}"
            yield job("event-flyer-pdf", f"{events}-flyer.pdf", campaign.source, activity.line, audiences,
                      **context)  # fmt: skip
            yield job("signin-pdf", f"{events}-signin.pdf", campaign.source, activity.line, audiences,
                      **context)  # fmt: skip


def print_environment(project: Project) -> jinja2.Environment:
    env = make_environment(project, autoescape=True)
    config = project.config
    env.globals.update(
        lang=PDF_LANG,
        bleed_mm=config.print.bleed_mm,
        crop_marks=config.print.crop_marks,
        brand=brand_palette(config.brand_color),
        logo=media_uri(project, config.logo),
        QuestionKind=QuestionKind,
    )
    env.filters["weekday"] = chinese_weekday
    env.filters["markdown"] = lambda text, source="": markdown_html(text, project, source)
    env.filters["title_size"] = title_size
    env.filters["clauses"] = keep_clauses_together
    env.filters["kind_label"] = question_kind_label
    env.filters["css_string"] = css_string
    return env


def css_string(text: object) -> Markup:
    """``text`` as a quoted CSS string, for ``content:`` in a template's ``<style>``.

    HTML escaping is wrong inside ``<style>`` (it would print "&amp;"), and a quote,
    backslash, newline or "</style>" from the config must not end the string or
    the style sheet. Every such character becomes a CSS escape.
    """
    escaped = re.sub(r'[\\"\n\r\f<>&\']', lambda m: f"\\{ord(m.group(0)):x} ", str(text))
    return Markup(f'"{escaped}"')


def project_url(rel_path: str) -> str:
    """The URL a document uses for a project file (project-relative, forward slashes)."""
    return PROJECT_BASE + quote(rel_path, safe="/")


def media_uri(project: Project, rel_path: str | None) -> str | None:
    """A project file's URL for a document, or None when it is not a file inside the project.

    The loader has checked the path already; this is checked again because a PDF
    must never show a file from outside the project whatever reached the model.
    """
    if not rel_path or Path(rel_path).is_absolute() or re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:", rel_path):
        return None
    root = project.root.resolve()
    candidate = root / rel_path
    if not inside(root, candidate) or not candidate.resolve().is_file():
        return None
    return project_url(candidate.resolve().relative_to(root).as_posix())


# After the sanitiser every attribute value is double-quoted with '"' escaped (">" is
# not), so a tag is "<name" then unquoted characters other than ">" or quoted values.
# Bounded, so a page of unclosed "<img" is not scanned to its end from every one.
TAG_BODY = r'(?:[^>"]|"[^"]{0,2000}"){0,2000}+'
IMG_TAG = re.compile(rf"<img\b{TAG_BODY}>")
IMG_SRC = re.compile(r'\ssrc="([^"]*)"')
LINK = re.compile(rf"<a\b({TAG_BODY})>(.{{0,20000}}?)</a>", re.DOTALL)
HREF = re.compile(r'\shref="([^"]*)"')


def markdown_html(text: str, project: Project, source: str) -> Markup:
    """Markdown body → HTML through the raw-HTML policy, image paths resolved as the loader does.

    An image that does not resolve to a project file is left out; a link to
    another page of the site is kept as its text (a printed sheet cannot follow it).
    """
    html = clean_html(markdown.markdown(text, extensions=["tables", "sane_lists"], output_format="html"))

    def image(match: re.Match[str]) -> str:
        tag = match.group(0)
        found = IMG_SRC.search(tag)
        written = html_escape.unescape(found.group(1)) if found else ""
        # Validation already reported bad paths; here an unresolvable image is simply left out.
        ref = (
            resolve_media(project.root, source or ".", written, 0, Diagnostics())
            if source and written
            else None
        )
        uri = media_uri(project, ref.path) if ref else None
        if found is None or uri is None:
            return ""
        return tag[: found.start(1)] + html_escape.escape(uri) + tag[found.end(1) :]

    return Markup(unwrap_local_links(IMG_TAG.sub(image, html)))


def unwrap_local_links(html: str) -> str:
    """Sanitised HTML with links to pages or files replaced by their text.

    A printed sheet cannot follow them, and in a PDF they would point at the
    documents' virtual origin. Web links (http, https, mailto, tel) and anchors stay.
    """

    def link(match: re.Match[str]) -> str:
        found = HREF.search(match.group(1))
        href = html_escape.unescape(found.group(1)) if found else ""
        if not found or href.startswith("#") or (is_allowed_link(href) and urlsplit(href).scheme):
            return match.group(0)
        return match.group(2)

    return LINK.sub(link, html)


def option_letters(quiz: Quiz) -> dict[int, list[str]]:
    """Question number → the label of each option: A, B, C… (true/false options keep 对/错)."""
    return {
        question.number: [
            "" if question.kind is QuestionKind.TRUE_FALSE else chr(ord("A") + index)
            for index in range(len(question.options))
        ]
        for question in quiz.questions
    }


@dataclass(frozen=True)
class TimelineBar:
    name: str
    start: dt.date
    end: dt.date
    days: int
    left_pct: float
    width_pct: float


@dataclass(frozen=True)
class TimelineMark:
    activity: Activity
    left_pct: float


@dataclass(frozen=True)
class Timeline:
    bars: list[TimelineBar]
    marks: list[TimelineMark]
    months: list[tuple[str, float]]  # label and left %


def campaign_timeline(campaign: Campaign) -> Timeline:
    """Phase bars and activity marks positioned in percent of the campaign's span."""
    span = (campaign.end - campaign.start).days + 1

    def pct(day: dt.date) -> float:
        return round(100 * (day - campaign.start).days / span, 2)

    bars = [
        TimelineBar(
            phase.name,
            phase.start,
            phase.end,
            (phase.end - phase.start).days + 1,
            pct(phase.start),
            round(100 * ((phase.end - phase.start).days + 1) / span, 2),
        )
        for phase in campaign.phases
    ]
    marks = [
        TimelineMark(activity, pct(activity.date) + round(50 / span, 2)) for activity in campaign.activities
    ]
    starts = [campaign.start]
    while (next_month := (starts[-1].replace(day=1) + dt.timedelta(days=32)).replace(day=1)) <= campaign.end:
        starts.append(next_month)
    every = -(-len(starts) // 12)  # more than 12 labels would run into each other
    months = [(f"{day.month}月{day.day}日", pct(day)) for day in starts[::every]]
    return Timeline(bars, marks, months)


QUESTION_KIND_LABELS = {
    QuestionKind.SINGLE: "单选",
    QuestionKind.MULTIPLE: "多选",
    QuestionKind.TRUE_FALSE: "判断",
}


def question_kind_label(question: Question) -> str:
    """单选 / 多选 / 判断, or "" when the editor already wrote it into the question."""
    label = QUESTION_KIND_LABELS[question.kind]
    return "" if label in question.text else label


def chinese_weekday(day: dt.date) -> str:
    return "星期" + "一二三四五六日"[day.weekday()]


def title_size(title: str) -> str:
    """A CSS class by title length, so long titles take smaller type instead of more lines."""
    length = len(title)
    return "title-xl" if length > 40 else "title-l" if length > 24 else "title-m" if length > 14 else ""


CLAUSE_END = re.compile(r"(?<=[：，、；！？。:])")


def keep_clauses_together(text: str, line_chars: float = 10) -> Markup:
    """Big-type titles break between clauses, not inside them.

    "认识高血压：量得准，管得住" then breaks as "认识高血压：量得准，/ 管得住"
    rather than leaving "住" alone on the last line. Only clauses that surely fit
    on a line (``line_chars``: how many full-width characters a line holds at
    the title's size) are kept together, so a title never overflows the page.
    """
    pieces = [piece for piece in CLAUSE_END.split(text) if piece]
    return Markup("").join(
        Markup('<span class="clause">{}</span>').format(piece) if len(piece) <= int(line_chars) else piece
        for piece in pieces
    )


@dataclass(frozen=True)
class BrandPalette:
    color: str  # as configured
    dark: str  # headings and rules on white
    tint: str  # light background panels
    soft: str  # borders and timeline tracks


def brand_palette(color: str) -> BrandPalette:
    red, green, blue = (int(color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)

    def shade(new_lightness: float, new_saturation: float | None = None) -> str:
        rgb = colorsys.hls_to_rgb(
            hue, new_lightness, saturation if new_saturation is None else new_saturation
        )
        return "#" + "".join(f"{round(channel * 255):02x}" for channel in rgb)

    return BrandPalette(
        color=color,
        dark=shade(min(lightness, 0.28)),
        tint=shade(0.95, min(saturation, 0.45)),
        soft=shade(0.85, min(saturation, 0.4)),
    )


# -- rendering: HTML → PDF (runs in worker processes) ---------------------------


# -- reading files: the only way WeasyPrint gets bytes -----------------------------


class RefusedFile(ValueError):
    """A URL a document may not read: outside the project, hidden, or not a file."""


class ProjectFiles:
    """Serves a document's URLs: project files, Kepu's bundled templates, inline data.

    A project file is served only when its path, with every symlink followed, stays
    inside the project and no part of it is hidden (``.git``, ``.env``, the cache).
    SVG pictures pass :func:`clean_svg` first, so an ``<image href>`` inside one
    cannot name another file. Everything else — ``file://``, any host, a path
    outside — is refused; WeasyPrint then leaves the resource out and warns.
    """

    def __init__(self, root: str):
        self.folders = {PROJECT_BASE: Path(root).resolve(), KEPU_BASE: default_templates_dir().resolve()}

    def read(self, url: str) -> tuple[bytes, str]:
        """The bytes and media type behind ``url``; raises RefusedFile."""
        for base, folder in self.folders.items():
            if url.startswith(base):
                return self._read_file(folder, unquote(urlsplit(url).path[len(urlsplit(base).path) :]), url)
        raise RefusedFile(f"不允许读取项目以外的文件：{url[:120]}")

    @staticmethod
    def allows(folder: Path, rel: str) -> bool:
        """Whether ``rel`` names a file inside ``folder``, not hidden, not through a symlink out."""
        parts = rel.split("/")
        if not rel or "\x00" in rel or any(not part or part.startswith(".") for part in parts):
            return False
        path = folder.joinpath(*parts)
        return inside(folder, path) and path.resolve().is_file()

    def _read_file(self, folder: Path, rel: str, url: str) -> tuple[bytes, str]:
        if not self.allows(folder, rel):
            raise RefusedFile(f"不允许读取这个文件（在项目以外、是隐藏文件或不存在）：{url[:120]}")
        path = folder.joinpath(*rel.split("/")).resolve()
        data = path.read_bytes()
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        # Sniffed, not trusted by name: a picture that is markup is treated as an SVG.
        if mime == "image/svg+xml" or (mime != "text/css" and data.lstrip()[:1] == b"<"):
            try:
                return clean_svg(data), "image/svg+xml"
            except UnsafeSvgError as error:
                raise RefusedFile(f"{rel}：{error}") from None
        return data, mime


@cache
def project_fetcher(root: str) -> Any:
    """WeasyPrint's URL fetcher for one project: ProjectFiles plus ``data:`` URLs, no network."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    files = ProjectFiles(root)

    class ProjectFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url[:5].lower() == "data:":
                return super().fetch(url, headers)
            data, mime = files.read(url)
            return URLFetcherResponse(url, data, {"Content-Type": mime})

    return ProjectFetcher(allowed_protocols={"data"})


def render_job(job: PrintJob) -> RenderedPrint:
    with engine_messages() as messages:
        scale_index, document = lay_out_fitted(job)
        pdf = document.write_pdf()
    spilled = spilled_labels(document) if job.format.one_page else ()
    png = rasterise(pdf, FLYER_PNG_WIDTH) if job.png_path else None
    scale = job.format.type_scales[scale_index]
    return RenderedPrint(pdf, len(document.pages), scale, spilled, png, tuple(dict.fromkeys(messages)))


@contextmanager
def engine_messages() -> Iterator[list[str]]:
    """Collect WeasyPrint's warnings (an unknown CSS property, an image that failed to load).

    They become build warnings instead of stray lines on a worker's stderr.
    """
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("weasyprint")
    handler = Collect(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


def measure_job(job: PrintJob) -> tuple[int, tuple[str, ...]]:
    """Page count and spilled blocks of the job's last (smallest) variant, without writing a PDF."""
    document = lay_out(job.html_by_scale[-1], job)
    return len(document.pages), spilled_labels(document)


def lay_out_fitted(job: PrintJob) -> tuple[int, Document]:
    """The largest type step that fits on one page, or the smallest step when none does.

    Steps run largest first, so "fits" is false then true along them: a binary
    search finds the first step that fits in a few layouts, and only that one
    is written as PDF (layout is cheap next to writing).
    """
    variants = job.html_by_scale
    laid_out: dict[int, Document] = {}

    def fits(index: int) -> bool:
        laid_out[index] = lay_out(variants[index], job)
        return len(laid_out[index].pages) == 1

    low, high = 0, len(variants) - 1
    while low < high:
        middle = (low + high) // 2
        if fits(middle):
            high = middle
        else:
            low = middle + 1
    if low not in laid_out:
        fits(low)
    return low, laid_out[low]


def lay_out(html: str, job: PrintJob) -> Document:
    from weasyprint import HTML

    return HTML(string=html, base_url=PROJECT_BASE, url_fetcher=project_fetcher(job.root)).render(
        font_config=font_configuration()
    )


@cache
def font_configuration() -> Any:
    """One per process: reusing it keeps the fontconfig lookups of the CJK fonts warm."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def spilled_labels(document: Document) -> tuple[str, ...]:
    """Fit labels of the blocks that start after page 1 (from the ids the templates give them)."""
    labels: list[str] = []
    for page in document.pages[1:]:
        labels += [
            name.removeprefix(FIT_ID_PREFIX) for name in page.anchors if name.startswith(FIT_ID_PREFIX)
        ]
    return tuple(dict.fromkeys(labels))


def rasterise(pdf: bytes, width_px: int) -> bytes:
    """Every page of ``pdf``, trimmed of its bleed and stacked, as a PNG ``width_px`` wide."""
    import pypdfium2
    from PIL import Image

    document = pypdfium2.PdfDocument(pdf)
    try:
        images = []
        for page in document:
            left, bottom, right, top = page.get_trimbox()
            page.set_cropbox(left, bottom, right, top)
            image = page.render(scale=width_px / (right - left)).to_pil().convert("RGB")
            if image.width != width_px:  # rounding of the scale can leave it a pixel off
                image = image.resize((width_px, round(image.height * width_px / image.width)))
            images.append(image)
    finally:
        document.close()
    sheet = Image.new("RGB", (width_px, sum(image.height for image in images)), "white")
    offset = 0
    for image in images:
        sheet.paste(image, (0, offset))
        offset += image.height
    output = io.BytesIO()
    # optimize=True saves 2 % of the size for 4× the time
    sheet.save(output, format="PNG")
    return output.getvalue()


def check(project: Project, diagnostics: Diagnostics, cache: ArtifactCache | None, jobs: int) -> None:
    """For ``kepu check``: one-page documents that would not fit their page."""
    check_print_fit(project, diagnostics, jobs=jobs, cache=cache)


RENDERER = Renderer(
    name="print",
    label="印刷品",
    kinds=KINDS,
    render=render,
    check=check,
    preload=("weasyprint", "pypdfium2", "PIL.Image", "segno"),
)
