"""Lecture slides (课件): per lesson a 16:9 deck as an editable ``.pptx`` and as a PDF.

:mod:`.deck` plans the slides and breaks their lines; :func:`layout` places each
slide's pieces on the 960 × 540 pt page once, and two writers draw the same
boxes — python-pptx for PowerPoint and WPS (text boxes with explicit line breaks,
the speaker notes from the body), the shared PDF engine for the PDF (absolutely
placed blocks in ``templates/fieldkit/slides.html``).

Same input, same bytes: python-pptx stamps the zip members with the clock and
the core properties with "now", so the deck's dates are fixed and the zip is
written again with fixed member times.
"""

from __future__ import annotations

import importlib.metadata
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from builder import pdf
from builder.brand import brand_palette, brand_rgb
from builder.diagnostics import Diagnostics
from builder.model import Lesson, Project
from builder.outputs import slides_path
from builder.pictograms import pictogram_data_uri, pictogram_svg
from builder.print_templates import shared_inputs
from builder.qr import qr_svg_data_uri
from builder.renderers.base import RenderContext, Renderer
from builder.renderers.fieldkit.common import (
    TEMPLATES,
    KeyedUnit,
    Planned,
    environment,
    job_key,
    lesson_units,
    pdf_artifacts,
    render_keyed,
    templates_key,
)
from builder.renderers.fieldkit.deck import ICON_PT, MARGIN_PT, MAX_LINES, SLIDE_PT, Block, Slide, plan_deck
from builder.writer import Artifact

KINDS = ("slides-pptx", "slides-pdf")
FONT = "Noto Sans CJK SC"
LINE_SPACING = 1.2
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
PICTURE_PX = 480


@dataclass(frozen=True)
class Box:
    """One piece of a slide on the page, in pt from its top left."""

    x: float
    y: float
    w: float
    h: float
    block: Block | None = None  # text
    image: str | None = None  # "icon" or "qr"
    fill: str | None = None  # a plain rectangle's colour
    colour: str = "#1d2521"  # the text's


@dataclass(frozen=True)
class SlidesJob:
    pptx_path: str
    pdf_path: str
    source: str
    audiences: tuple[str, ...]
    title: str
    author: str
    slides: tuple[Slide, ...]
    boxes: tuple[tuple[Box, ...], ...]
    icons: tuple[str | None, ...]  # each slide's pictogram as SVG markup (brand-tinted)
    qr_url: str
    html: str  # the PDF version
    brand: str
    root: str = ""


@dataclass(frozen=True)
class RenderedSlides:
    pptx: bytes
    pdf: bytes
    pages: int
    messages: tuple[str, ...]


def text_height(block: Block) -> float:
    return len(block.lines) * block.size * LINE_SPACING


def layout(slide: Slide, brand: str, dark: str, tint: str) -> tuple[Box, ...]:
    """Where each piece of ``slide`` goes; the .pptx and the PDF both draw exactly these boxes."""
    width, height = SLIDE_PT
    boxes = [Box(0, 0, width, 16, fill=brand), Box(0, height - 8, width, 8, fill=tint)]
    if slide.kind == "title":
        boxes.append(Box(0, 16, 24, height - 24, fill=brand))
        y = 150.0
        boxes.append(
            Box(MARGIN_PT, y, width - 2 * MARGIN_PT, text_height(slide.title), slide.title, colour=dark)
        )
        y += text_height(slide.title) + 28
    else:
        y = 44.0
        boxes.append(
            Box(MARGIN_PT, y, width - 2 * MARGIN_PT, text_height(slide.title), slide.title, colour=dark)
        )
        y += text_height(slide.title) + 24
    left = MARGIN_PT
    if slide.kind in ("point", "closing"):
        # The picture and its text stand side by side, centred in the room under the title.
        text = sum(text_height(block) + 14 for block in slide.blocks) - 14
        y += max(0.0, (height - 8 - y - max(ICON_PT, text)) / 2 - 10)
        top = y + max(0.0, (text - ICON_PT) / 2)
        boxes.append(Box(MARGIN_PT, top, ICON_PT, ICON_PT, image="icon" if slide.kind == "point" else "qr"))
        left = MARGIN_PT + ICON_PT + 40
        y += max(0.0, (ICON_PT - text) / 2)
    for block in slide.blocks:
        boxes.append(Box(left, y, width - left - MARGIN_PT, text_height(block), block))
        y += text_height(block) + 14
    return tuple(boxes)


def plan_job(project: Project, lesson: Lesson) -> SlidesJob:
    config = project.config
    palette = brand_palette(config.brand_color)
    url = config.url + lesson.site_path
    slides = tuple(plan_deck(lesson, url, (config.organization, config.contact)))
    boxes = tuple(layout(slide, palette.color, palette.dark, palette.tint) for slide in slides)
    icons = tuple(pictogram_svg(project.root, slide.icon, palette.dark) for slide in slides)
    env = environment(project)
    pictures = [pictogram_data_uri(project.root, slide.icon, palette.dark) for slide in slides]
    html = env.get_template("fieldkit/slides.html").render(
        lesson=lesson,
        slides=list(zip(slides, boxes, pictures, strict=True)),
        qr=qr_svg_data_uri(url),
        width=SLIDE_PT[0],
        height=SLIDE_PT[1],
        spacing=LINE_SPACING,
    )
    return SlidesJob(
        pptx_path=slides_path(lesson.slug, "slides-pptx"),
        pdf_path=slides_path(lesson.slug, "slides-pdf"),
        source=lesson.source,
        audiences=tuple(term.label for term in lesson.audiences),
        title=lesson.title,
        author=config.organization,
        slides=slides,
        boxes=boxes,
        icons=icons,
        qr_url=url,
        html=html,
        brand=palette.color,
        root=str(project.root.resolve()),
    )


# -- writing the .pptx -------------------------------------------------------------


def _png(image: object) -> io.BytesIO:
    output = io.BytesIO()
    image.save(output, format="PNG")  # type: ignore[attr-defined]
    output.seek(0)
    return output


def qr_png(url: str, dark: str) -> io.BytesIO:
    import segno

    output = io.BytesIO()
    segno.make(url, error="m", micro=False).save(output, kind="png", scale=12, border=2, dark=dark)
    output.seek(0)
    return output


def write_pptx(job: SlidesJob) -> bytes:
    import datetime as dt

    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.enum.shapes import MSO_SHAPE
    from pptx.enum.text import MSO_AUTO_SIZE
    from pptx.oxml.ns import qn
    from pptx.util import Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = Pt(SLIDE_PT[0]), Pt(SLIDE_PT[1])
    blank = deck.slide_layouts[6]
    qr = qr_png(job.qr_url, "#000000").getvalue()
    for slide, boxes, icon in zip(job.slides, job.boxes, job.icons, strict=True):
        page = deck.slides.add_slide(blank)
        for box in boxes:
            where = (Pt(box.x), Pt(box.y), Pt(box.w), Pt(box.h))
            if box.fill:
                shape = page.shapes.add_shape(MSO_SHAPE.RECTANGLE, *where)
                shape.fill.solid()
                shape.fill.fore_color.rgb = RGBColor(*brand_rgb(box.fill))
                shape.line.fill.background()
                shape.shadow.inherit = False
            elif box.image == "qr":
                page.shapes.add_picture(io.BytesIO(qr), *where)
            elif box.image == "icon":
                picture = pdf.rasterise_svg(icon.encode("utf-8"), PICTURE_PX) if icon else None
                if picture is not None:
                    page.shapes.add_picture(_png(picture), *where)
            elif box.block is not None:
                frame = page.shapes.add_textbox(*where).text_frame
                frame.word_wrap = True
                frame.auto_size = MSO_AUTO_SIZE.NONE
                frame.margin_left = frame.margin_right = frame.margin_top = frame.margin_bottom = 0
                paragraph = frame.paragraphs[0]
                paragraph.text = "\v".join(box.block.lines)  # \v: a line break inside the paragraph
                paragraph.line_spacing = LINE_SPACING
                for run in paragraph.runs:
                    run.font.size = Pt(box.block.size)
                    run.font.bold = box.block.bold
                    run.font.name = FONT
                    run.font.color.rgb = RGBColor(*brand_rgb(box.colour))
                    properties = run._r.get_or_add_rPr()
                    east_asian = properties.find(qn("a:ea"))
                    if east_asian is None:
                        east_asian = properties.makeelement(qn("a:ea"), {})
                        properties.append(east_asian)
                    east_asian.set("typeface", FONT)
        page.notes_slide.notes_text_frame.text = slide.notes
    stamp = dt.datetime(1980, 1, 1)
    properties = deck.core_properties
    properties.title, properties.author, properties.last_modified_by = job.title, job.author, "Kepu"
    properties.created = properties.modified = properties.last_printed = stamp
    properties.revision = 1
    output = io.BytesIO()
    deck.save(output)
    return fixed_zip(output.getvalue())


def fixed_zip(data: bytes) -> bytes:
    """The same zip with every member's time fixed, in the same order: same deck, same bytes."""
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(output, "w") as target:
        for member in source.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(member.filename))
    return output.getvalue()


def render_slides(job: SlidesJob) -> RenderedSlides:
    with pdf.engine_messages() as messages:
        document = pdf.lay_out(job.html, job.root)
        data = pdf.write_pdf(document, title=job.title, lang="zh-CN")
    return RenderedSlides(write_pptx(job), data, pdf.page_count(document), tuple(dict.fromkeys(messages)))


def finish_slides(job: SlidesJob, rendered: RenderedSlides, diagnostics: Diagnostics) -> list[Artifact]:
    """The .pptx and the PDF; a slide over the line limit, or a PDF with a page too many, is reported."""
    for number, slide in enumerate(job.slides, start=1):
        if slide.line_count > MAX_LINES:  # the planner condenses; a very long title can still overflow
            diagnostics.warning(
                job.source,
                0,
                f"{job.pptx_path}：第 {number} 页有 {slide.line_count} 行，超过 {MAX_LINES} 行",
            )
    if rendered.pages != len(job.slides):
        diagnostics.warning(
            job.source, 0, f"{job.pdf_path}：排出了 {rendered.pages} 页，应为 {len(job.slides)} 页"
        )
    files = [("slides-pptx", job.pptx_path, rendered.pptx), ("slides-pdf", job.pdf_path, rendered.pdf)]
    return pdf_artifacts(diagnostics, job.source, job.audiences, rendered.messages, job.pdf_path, files)


def plan(project: Project) -> Iterator[KeyedUnit[SlidesJob]]:
    """Every lesson's deck, keyed by its inputs; laid out only when the cache misses."""
    templates = templates_key(project)

    def planned(lesson: Lesson) -> Planned[SlidesJob]:
        job = plan_job(project, lesson)
        return Planned(job, job_key("slides", job, (job.html,), job.root, templates))

    # python-pptx writes the deck: another version, other bytes.
    shared = shared_inputs(project, TEMPLATES, importlib.metadata.version("python-pptx"))
    return lesson_units(project, "slides", shared, lambda lesson: slides_path(lesson.slug, "slides-pptx"), planned)


def render(project: Project, ctx: RenderContext) -> Iterator[Artifact]:
    yield from render_keyed(ctx, list(plan(project)), render_slides, finish_slides)


RENDERER = Renderer(
    name="slides",
    label="讲座课件（PPTX 与 PDF）",
    kinds=KINDS,
    render=render,
    preload=("weasyprint", "pptx"),
)
