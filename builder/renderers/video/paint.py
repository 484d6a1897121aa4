"""Painting a lesson's slides: each slide on its own canvas, with its caption.

The crafts live beside this module: ``canvas`` (type, shapes, caption), ``cards``
(title and closing cards), ``points`` (key-point slides) and ``wording`` (line
breaks and key figures).
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from builder.renderers.video.canvas import Painter
from builder.renderers.video.cards import closing_card, title_card
from builder.renderers.video.job import LessonVideoJob, Slide
from builder.renderers.video.points import point_slide
from builder.renderers.video.style import Palette


def paint_slides(job: LessonVideoJob, slides: Sequence[Slide], orientation: str) -> list[Painter]:
    """Every slide painted, with its caption; each painter keeps its picture and the boxes drawn."""
    palette = Palette(job.style.colors, job.brand_color)
    logo = Image.open(job.logo).convert("RGBA") if job.logo else None
    count = sum(1 for slide in slides if slide.kind == "point")
    painters: list[Painter] = []
    for slide in slides:
        painter = Painter(job, orientation, palette, logo)
        if slide.kind == "title":
            title_card(painter)
            painter.cover = painter.image.copy()
        elif slide.kind == "point":
            point_slide(painter, slide, count)
        else:
            closing_card(painter)
        painter.caption(slide.caption)
        painters.append(painter)
    return painters


def draw_slides(
    job: LessonVideoJob, slides: Sequence[Slide], orientation: str
) -> tuple[list[Image.Image], Image.Image]:
    """Every distinct picture of the video, with captions; and the title card without one (the cover)."""
    painters = paint_slides(job, slides, orientation)
    covers = [painter.cover for painter in painters if painter.cover is not None]
    return [painter.image for painter in painters], covers[0]
