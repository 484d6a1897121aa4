"""Printable materials: flyers, prescriptions, posters, quiz sheets and campaign print packs.

Every document is a Jinja2 HTML template under ``templates/print/`` laid out by
the shared PDF engine (:mod:`builder.pdf`, WeasyPrint) into a vector PDF with
embedded CJK font subsets, so text stays selectable and searchable. Where each
file goes is :mod:`builder.outputs`; this module plans, fits and keeps them.

One-page formats (flyer, prescription, poster, event flyer) are *fitted*: laid out
at full type size and, when they spill onto a second page, at smaller type steps
down to a floor that stays readable. Below the floor the document flows onto
another page — nothing is ever clipped — and a warning names what spilled over.
:func:`check_print_fit` runs the same measurement for ``kepu check``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from builder import pdf
from builder.cache import ArtifactCache, fingerprint, templates_digest
from builder.calendar import campaign_timeline
from builder.colour import press_profile_digest
from builder.content import pictogram_names
from builder.diagnostics import Diagnostic, Diagnostics, Severity
from builder.model import Lesson, PrintOptions, Project, Term
from builder.outputs import (
    PRESS_KINDS,
    campaign_print_path,
    event_print_path,
    lesson_print_path,
    quiz_print_path,
)
from builder.parallel import parallel_map
from builder.pdf import PROJECT_BASE
from builder.pictograms import focal_pictogram
from builder.print_templates import (
    markdown_html,
    media_uri,
    option_letters,
    print_environment,
    shared_inputs,
    subject_media,
    without_data_uris,
)
from builder.qr import qr_svg_data_uri
from builder.renderers.base import RenderContext, Renderer, Unit
from builder.widows import keep_last_words
from builder.writer import Artifact

if TYPE_CHECKING:
    from weasyprint import Document

# Trim sizes in millimetres, portrait.
PAGE_SIZES_MM = {"A3": (297.0, 420.0), "A4": (210.0, 297.0), "A5": (148.0, 210.0)}
FLYER_PNG_WIDTH = 1080  # px: WeChat shows images up to this width without downscaling
PRINT_RENDERER_VERSION = 4  # bump when this module's output changes for the same HTML
# Lessons only for these audiences (ids) train the project's own staff: they get a
# flyer and a prescription-style handout for the training pack, not a public poster.
# site_config.yml's print: trainer_audiences: sets them for a project.
TRAINER_AUDIENCES = frozenset(PrintOptions.trainer_audiences)


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
    # Multi-page formats with several steps: the largest step that needs no more pages
    # than the smallest does, so a sheet is never a page of white for two questions.
    fewest_pages: bool = False

    @property
    def one_page(self) -> bool:
        return len(self.type_scales) > 1 and not self.fewest_pages


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
        # Filled in by hand at a table: questions stay ≥ 9.5 pt, options ≥ 9 pt (小五号).
        PrintFormat(
            "quiz-pdf", "print/quiz.html", "A4", "测验题卷", (1.0, 0.95, 0.9, 0.86), fewest_pages=True
        ),
        PrintFormat("answer-key-pdf", "print/answer-key.html", "A4", "测验答案"),
        PrintFormat("plan-pdf", "print/plan.html", "A4", "活动方案"),
        PrintFormat("signin-pdf", "print/signin.html", "A4", "签到表"),
    )
}
FLYER_PNG_KIND = "flyer-png"
# The print shop's version of a format (CMYK, PDF/X, bleed, crop marks): kind of the
# office PDF → kind of the press PDF, written by the same job.
PRESS_OF = dict(zip(("poster-pdf", "flyer-pdf"), PRESS_KINDS, strict=True))
KINDS = (*FORMATS, FLYER_PNG_KIND, *PRESS_KINDS)
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
    press_path: str | None = None  # also write the print shop's version (same type step)

    @property
    def format(self) -> PrintFormat:
        return FORMATS[self.kind]


@dataclass(frozen=True)
class PlannedPrint:
    """A document as planned, its HTML rendered: what a worker lays out.

    Rendering the template at every type step is most of the cost of planning,
    so a plan holds only the largest and the smallest step; the others are
    rendered only for a document that is laid out again.
    """

    job: PrintJob  # html_by_scale: the largest and the smallest step only
    every_step: Callable[[], tuple[str, ...]]
    job_key: str  # a digest of the HTML, its linked files, the print templates, the engine

    def full_job(self) -> PrintJob:
        return dataclasses.replace(self.job, html_by_scale=self.every_step())


@dataclass(frozen=True)
class PrintUnit:
    """A document before it is planned: where it goes, its cache key, and how to plan it.

    The key is made from what the document is made from (the lesson, quiz or campaign,
    the config, the templates, pictograms, media files, fonts and the engine), not from
    its HTML, so a cached build never renders a template: at 1,000 lessons that was
    27 s of a build that rendered nothing. ``tests/test_print_keys.py`` holds it to the
    HTML's own digest: whatever changes that changes this key too.
    """

    kind: str
    path: str
    source: str
    line: int  # where a "does not fit" warning points
    audiences: tuple[str, ...]
    png_path: str | None
    press_path: str | None
    key: str
    plan: Callable[[], PlannedPrint]

    @property
    def format(self) -> PrintFormat:
        return FORMATS[self.kind]


@dataclass(frozen=True)
class RenderedPrint:
    pdf: bytes
    page_count: int
    scale: float
    spilled: tuple[str, ...]  # fit labels of blocks pushed past page 1 (one-page formats)
    png: bytes | None = None
    engine_messages: tuple[str, ...] = ()  # WeasyPrint's warnings, e.g. a bad CSS rule in a template
    press: bytes | None = None  # the print shop's version, when the job asks for one


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
    units = [Unit(item.key, item, item.source, item.path) for item in plan(project)]
    reported: set[str] = set()  # a bad rule in a shared template would otherwise repeat per document

    def finish(unit: Unit[PrintUnit], rendered: RenderedPrint, diagnostics: Diagnostics) -> list[Artifact]:
        job = unit.plan
        if job.format.one_page and rendered.page_count > 1:
            problem = FitProblem(job.kind, job.source, job.line, rendered.page_count, rendered.spilled)
            diagnostics.items.append(problem.warning())
        for message in rendered.engine_messages:
            if message not in reported:
                reported.add(message)
                diagnostics.warning(job.source, 0, f"{job.path}：排版引擎提示：{message}")
        artifacts = [Artifact(job.kind, job.path, job.source, job.audiences, data=rendered.pdf)]
        if job.png_path and rendered.png is not None:
            artifacts.append(
                Artifact(FLYER_PNG_KIND, job.png_path, job.source, job.audiences, data=rendered.png)
            )
        if job.press_path and rendered.press is not None:
            artifacts.append(
                Artifact(PRESS_OF[job.kind], job.press_path, job.source, job.audiences, data=rendered.press)
            )
        return artifacts

    # render_job is looked up here, not bound at import, so a test can stand in for it.
    yield from ctx.render_units(units, lambda unit: unit.plan().full_job(), render_job, finish)


def print_job_key(job: PrintJob, templates: str) -> str:
    # Not the cache key (PrintUnit.key is): the check that the cache key misses nothing.
    """The document at its largest and smallest type step, the bytes of the files it links, the
    print templates (which make the steps in between), the engine's version and the press profile.

    The project folder is left out (documents name files by project-relative URLs),
    so a checkout anywhere has the same keys."""
    files = pdf.linked_files(job.html_by_scale, job.root)
    weasyprint = pdf.engine_version()
    relocatable = dataclasses.replace(job, root="")
    # The press version's colours come from the system's CMYK profile: another profile, other bytes.
    profile = press_profile_digest() if job.press_path else ""
    return fingerprint("print", PRINT_RENDERER_VERSION, relocatable, files, templates, weasyprint, profile)


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
    one_page = [item for item in plan(project) if item.format.one_page]
    known = [cached_fit_warnings(item, cache) for item in one_page]
    smallest = [
        dataclasses.replace(job, html_by_scale=job.html_by_scale[-1:], png_path=None)
        for item, warnings in zip(one_page, known, strict=True)
        if warnings is None
        for job in [item.plan().job]
    ]
    measured = iter(parallel_map(measure_job, smallest, jobs))
    found: list[Diagnostic] = []
    for job, warnings in zip(one_page, known, strict=True):
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


def cached_fit_warnings(unit: PrintUnit, cache: ArtifactCache | None) -> list[Diagnostic] | None:
    """The fit warning the build gave this document (or none), if the cache holds it; None if not."""
    warnings = cache.warnings("print", unit.key) if cache else None
    if warnings is None:
        return None
    return [warning for warning in warnings if FitProblem.describes(unit.kind, warning)]


# -- planning: content → HTML documents -----------------------------------------


def plan_jobs(project: Project) -> Iterator[PrintJob]:
    """Every PDF the print renderer produces, in a stable order, ready to render."""
    return (unit.plan().full_job() for unit in plan(project))


def plan(project: Project) -> Iterator[PrintUnit]:
    """Every PDF the print renderer produces, in a stable order, keyed but not yet planned."""
    env = print_environment(project)
    root = str(project.root.resolve())
    config = project.config
    templates = templates_digest(project.root, "print")
    shared = shared_inputs(project, "print")

    def job(
        kind: str,
        path: str,
        source: str,
        line: int,
        audiences: Sequence[Term],
        subject: Subject,
        png_path: str | None = None,
        press_path: str | None = None,
    ) -> PrintUnit:
        fmt = FORMATS[kind]
        labels = tuple(t.label for t in audiences)
        profile = press_profile_digest() if press_path else ""
        key = fingerprint(
            "print", PRINT_RENDERER_VERSION, kind, path, source, line, labels, png_path, press_path,
            subject.key, shared, profile,
        )  # fmt: skip

        def planned() -> PlannedPrint:
            template = env.get_template(fmt.template)
            width_mm, height_mm = PAGE_SIZES_MM[fmt.page]
            page = {"size": fmt.page, "width_mm": width_mm, "height_mm": height_mm}
            context = subject.context()

            def step(scale: float) -> str:
                html = template.render(page=page, scale=scale, type_steps=len(fmt.type_scales), **context)
                return without_data_uris(html, lambda text: keep_last_words(text, config.glossary))

            scales = fmt.type_scales
            ends = tuple(step(scale) for scale in dict.fromkeys((scales[0], scales[-1])))
            job = PrintJob(kind, path, source, line, labels, ends, PROJECT_BASE, png_path, root, press_path)
            return PlannedPrint(job, lambda: tuple(step(scale) for scale in scales), print_job_key(job, templates))

        return PrintUnit(kind, path, source, line, labels, png_path, press_path, key, planned)

    names = pictogram_names(project.root)
    for lesson in project.lessons:
        slug = lesson.slug
        url = config.url + lesson.site_path
        subject = Subject.of(
            {"lesson": lesson, "url": url, "cover": media_uri(project, lesson.cover),
             "focal_icon": focal_pictogram(lesson, config.pictograms, names)},
            lesson, root, lambda url=url: {"qr": qr_svg_data_uri(url)},
        )  # fmt: skip
        line = lesson.lines.get("key_points", 0)
        audiences = lesson.audiences
        png_path = lesson_print_path(slug, FLYER_PNG_KIND)
        trainer = trainer_only(lesson, frozenset(config.print.trainer_audiences))
        kinds = ["flyer-pdf", "prescription-pdf"] + ([] if trainer else ["poster-pdf"])
        for kind in kinds:
            press = lesson_print_path(slug, PRESS_OF[kind]) if kind in PRESS_OF else None
            yield job(kind, lesson_print_path(slug, kind), lesson.source, line, audiences, subject,
                      png_path=png_path if kind == "flyer-pdf" else None, press_path=press)  # fmt: skip

    for quiz in project.quizzes:
        context = {"quiz": quiz, "letters": option_letters(quiz), "url": config.url + quiz.site_path}
        subject = Subject.of(context, quiz, root)
        for kind in ("quiz-pdf", "answer-key-pdf"):
            yield job(kind, quiz_print_path(quiz.slug, kind), quiz.source, 1, quiz.audiences, subject)

    for campaign in project.campaigns:
        campaign_url = config.url + campaign.site_path
        subject = Subject.of(
            {"campaign": campaign}, campaign, root,
            lambda campaign=campaign: {
                "timeline": campaign_timeline(campaign),
                "body": markdown_html(campaign.body, project, campaign.images),
            },
        )  # fmt: skip
        path = campaign_print_path(campaign.slug, "plan-pdf")
        yield job("plan-pdf", path, campaign.source, 1, campaign.audiences, subject)
        for number, activity in enumerate(campaign.activities, start=1):
            if not (activity.time and activity.place):
                continue  # online posts and videos need no flyer or sign-in sheet
            audiences = activity.audiences or campaign.audiences
            context = {"campaign": campaign, "activity": activity, "event_audiences": audiences, "url": campaign_url}
            subject = Subject.of(context, campaign, root, lambda url=campaign_url: {"qr": qr_svg_data_uri(url)})
            for kind in ("event-flyer-pdf", "signin-pdf"):
                path = event_print_path(campaign.slug, number, kind)
                yield job(kind, path, campaign.source, activity.line, audiences, subject)


@dataclass(frozen=True)
class Subject:
    """What a document shows: the template context, keyed once for all of its documents.

    ``derived`` adds what is worked out from the context (a QR code, a body as HTML),
    only when a document is planned: a QR code alone is 15 ms.
    """

    key: str
    values: dict[str, Any]
    derived: Callable[[], dict[str, Any]]

    @classmethod
    def of(
        cls,
        values: dict[str, Any],
        owner: object,
        root: str,
        derived: Callable[[], dict[str, Any]] = dict,
    ) -> Subject:
        # Each value at the top of the key: nested in another value, a lesson would count
        # only as a link (its slug, title and summary; builder.cache._plain). ``owner``'s
        # files (images, cover) count by their bytes.
        key = fingerprint(*(values[name] for name in sorted(values)), subject_media(owner, root))
        return cls(key, values, derived)

    def context(self) -> dict[str, Any]:
        return {**self.values, **self.derived()}


def trainer_only(lesson: Lesson, trainer_audiences: frozenset[str] = TRAINER_AUDIENCES) -> bool:
    """Whether a lesson is only for the project's own trainers (no public poster for it)."""
    return bool(lesson.audiences) and all(term.id in trainer_audiences for term in lesson.audiences)


# -- rendering: HTML → PDF (runs in worker processes) ---------------------------


def render_job(job: PrintJob) -> RenderedPrint:
    with pdf.engine_messages() as messages:
        scale_index, document = lay_out_fitted(job)
        data = pdf.write_pdf(document)
        # The press version keeps the type step the office one was fitted at: one more
        # layout, not another search (its page box differs only outside the trim).
        press = render_press(job.html_by_scale[scale_index], job) if job.press_path else None
    spilled = spilled_labels(document) if job.format.one_page else ()
    png = pdf.rasterise(data, FLYER_PNG_WIDTH) if job.png_path else None
    scale = job.format.type_scales[scale_index]
    pages = pdf.page_count(document)
    return RenderedPrint(data, pages, scale, spilled, png, tuple(dict.fromkeys(messages)), press)


def render_press(html: str, job: PrintJob) -> bytes:
    """The print shop's PDF of a document: CMYK, PDF/X-1a, bleed and crop marks."""
    return pdf.write_press_pdf(pdf.lay_out(pdf.press_html(html, job.root), job.root))


def measure_job(job: PrintJob) -> tuple[int, tuple[str, ...]]:
    """Page count and spilled blocks of the job's last (smallest) variant, without writing a PDF."""
    document = lay_out(job.html_by_scale[-1], job)
    return pdf.page_count(document), spilled_labels(document)


def lay_out_fitted(job: PrintJob) -> tuple[int, Document]:
    """The largest type step that fits on one page, or the smallest step when none does.

    Steps run largest first, so "fits" is false then true along them: a binary
    search finds the first step that fits in a few layouts, and only that one
    is written as PDF (layout is cheap next to writing). A ``fewest_pages`` format
    "fits" in as few pages as its smallest step needs.
    """
    variants = job.html_by_scale
    laid_out: dict[int, Document] = {}
    pages = 1
    if job.format.fewest_pages:
        laid_out[len(variants) - 1] = lay_out(variants[-1], job)
        pages = pdf.page_count(laid_out[len(variants) - 1])

    def fits(index: int) -> bool:
        laid_out[index] = lay_out(variants[index], job)
        return pdf.page_count(laid_out[index]) <= pages

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
    return pdf.lay_out(html, job.root)


def spilled_labels(document: Document) -> tuple[str, ...]:
    """Fit labels of the blocks that start after page 1 (from the ids the templates give them)."""
    return pdf.anchors_after_first_page(document, FIT_ID_PREFIX)


def check(project: Project, diagnostics: Diagnostics, cache: ArtifactCache | None, jobs: int) -> None:
    """For ``kepu check``: key points without a pictogram, one-page documents that would not fit."""
    check_pictograms(project, diagnostics)
    check_print_fit(project, diagnostics, jobs=jobs, cache=cache)


def check_pictograms(project: Project, diagnostics: Diagnostics) -> list[Diagnostic]:
    """A warning at the line of every key point that has no pictogram (it gets a numbered badge)."""
    found = [
        Diagnostic(
            lesson.source,
            point.line,
            f"要点“{point.text[:20]}”没有配图标，海报和宣传单上只显示序号。"
            "可以在要点里写 icon: 图标名，或在 site_config.yml 的 pictograms: 里加一个它含有的关键词",
            Severity.WARNING,
        )
        for lesson in project.lessons
        for point in lesson.points
        if point.icon is None
    ]
    diagnostics.items.extend(found)
    return found


RENDERER = Renderer(
    name="print",
    label="印刷品",
    kinds=KINDS,
    render=render,
    check=check,
    preload=("weasyprint", "pypdfium2", "PIL.Image", "segno"),
)
