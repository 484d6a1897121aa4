"""Painting a lesson's slides: each slide on its own canvas, one picture per phrase, with its caption.

The crafts live beside this module: ``canvas`` (type, shapes, caption, moving bars),
``cards`` (hook, title and closing cards), ``points`` (key-point slides) and
``wording`` (line breaks, phrases and key figures).

A key point is painted once without its words; each of its phrases is then a fork
of that picture with the words so far and the phrase in the caption, so the card
builds up phrase by phrase while nothing else is drawn again.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from PIL import Image

from builder.renderers.video.canvas import Painter
from builder.renderers.video.cards import closing_card, hook_card, title_card
from builder.renderers.video.job import LessonVideoJob, Slide
from builder.renderers.video.points import point_slide
from builder.renderers.video.style import Palette
from builder.renderers.video.wording import caption_phrase

PICTOGRAM_PIXELS = 256  # rasterised once at this size, reduced to the slide's


def paint_slides(job: LessonVideoJob, slides: Sequence[Slide], orientation: str) -> list[list[Painter]]:
    """Every slide painted: for each, one painter per phrase (its picture and the boxes drawn)."""
    palette = Palette(job.style.colors, job.brand_color)
    logo = Image.open(job.logo).convert("RGBA") if job.logo else None
    count = sum(1 for slide in slides if slide.kind == "point")
    painted: list[list[Painter]] = []
    for slide in slides:
        painter = Painter(job, orientation, palette, logo)
        if slide.kind == "hook":
            hook_card(painter, slide)  # its words are on the card, large: no caption under them
            painted.append([painter])
        elif slide.kind == "title":
            title_card(painter)
            painter.cover = painter.image.copy()
            painter.caption(slide.caption)
            painted.append([painter])
        elif slide.kind == "point":
            icon = job.pictograms[slide.number - 1] if slide.number <= len(job.pictograms) else None
            words = point_slide(painter, slide, count, pictogram_image(icon))
            phrases: list[Painter] = []
            shown = 0
            for phrase in slide.beats:
                shown += sum(1 for character in phrase if not character.isspace())
                fork = painter.fork()
                words.draw(fork, shown)
                fork.caption(caption_phrase(phrase))
                phrases.append(fork)
            painted.append(phrases)
        else:
            closing_card(painter)
            painter.caption(job.closing_caption(orientation))
            painted.append([painter])
    return painted


@cache
def pictogram_image(svg: str | None) -> Image.Image | None:
    """A pictogram's markup (already in its colour) as an RGBA picture; None: none, or it does not draw."""
    if not svg:
        return None
    from builder.pdf import rasterise_svg  # WeasyPrint draws SVG; imported where a pictogram is drawn

    return rasterise_svg(svg.encode("utf-8"), PICTOGRAM_PIXELS)


def draw_slides(
    job: LessonVideoJob, slides: Sequence[Slide], orientation: str
) -> tuple[list[Image.Image], list[tuple[tuple[int, int, int, int], Image.Image] | None], Image.Image]:
    """Every still of the video (each phrase of each slide) with captions; the moving bar of
    each (its box and its full look, or None); and the title card without caption (the cover)."""
    painted = paint_slides(job, slides, orientation)
    stills = [painter.image for phrases in painted for painter in phrases]
    bars = [painter.bar for phrases in painted for painter in phrases]
    covers = [painter.cover for phrases in painted for painter in phrases if painter.cover is not None]
    return stills, bars, covers[0]
