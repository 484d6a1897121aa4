"""The pictures of a post: a colour per topic, pictograms as pixels, the cover and the thumbnail.

Covers of different lessons must look different in a feed, so each topic gets its own
hue turned from the brand colour and each lesson in a topic its own shade and pattern;
white text keeps a 4.5:1 contrast on all of them.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from builder import pdf
from builder.brand import brand_rgb, contrast_ratio
from builder.content import pictogram_names
from builder.model import Lesson, Project, SiteConfig
from builder.pictograms import focal_pictogram as _focal_pictogram
from builder.pictograms import pictogram_svg as _shared_pictogram_svg
from builder.titles import TitleLayout, fit_title, load_font, title_tokens

COVER_SIZE = (900, 383)  # 2.35:1, the cover of a post in chats and timelines
THUMB_SIZE = (500, 500)  # 1:1, the cover when a post is shared or listed second
# -- pictures: topic colours, pictograms, cover and thumbnail --------------------------

KEYPOINT_ICON_PX = 48  # drawn at 24 CSS px in the article, twice that for sharp phones


def _hls(hue: float, lightness: float, saturation: float) -> tuple[int, int, int]:
    return tuple(round(channel * 255) for channel in colorsys.hls_to_rgb(hue % 1, lightness, saturation))  # type: ignore[return-value]


@dataclass(frozen=True)
class TopicPalette:
    """A lesson's colours: its topic's hue (the brand colour turned round the wheel), its own shade."""

    base: tuple[int, int, int]  # backgrounds under white text (contrast ≥ 4.5:1)
    deep: tuple[int, int, int]  # the far end of the background's gradient
    tint: tuple[int, int, int]  # the disc behind the pictogram, light panels
    soft: tuple[int, int, int]  # rings on the background
    ink: tuple[int, int, int]  # text on the base colour


URGENT_RED = (192, 38, 38)  # the safety marker on cards: red reads as "emergency" whatever the topic
URGENT_TINT = (253, 236, 236)


@dataclass(frozen=True)
class LessonArt:
    """What a lesson's pictures are drawn from, with the two facts about other lessons they
    depend on, so a worker draws them without the whole project (the pictograms and photos
    it reads are files under ``root``)."""

    root: Path
    config: SiteConfig
    lesson: Lesson
    rank: tuple[int, int]  # its place among the lessons of its first topic, and how many there are
    words: tuple[str, ...]  # the project's terms (builder.search_terms.user_dictionary): never cut inside

    @classmethod
    def of(
        cls,
        project: Project,
        lesson: Lesson,
        words: tuple[str, ...],
        ranks: dict[str, tuple[int, int]] | None = None,
    ) -> LessonArt:
        """``words``: ``tuple(user_dictionary(project))``, and ``ranks``: :func:`topic_ranks`,
        each made once for all of a build's lessons (each reads every lesson)."""
        rank = ranks[lesson.slug] if ranks is not None else topic_rank(project, lesson)
        return cls(project.root, project.config, lesson, rank, words)


def lesson_motif(config: SiteConfig, lesson: Lesson) -> int:
    """Which topic the lesson shows: its first topic's place among the project's topics."""
    terms = config.topics.terms
    topic = lesson.topics[0] if lesson.topics else None
    return terms.index(topic) if topic in terms else 0


def topic_rank(project: Project, lesson: Lesson) -> tuple[int, int]:
    """The lesson's place among the lessons of its first topic (by slug), and how many there are."""
    return topic_ranks(project).get(lesson.slug, (0, 1))


def topic_ranks(project: Project) -> dict[str, tuple[int, int]]:
    """Every lesson's :func:`topic_rank`, by slug, in one pass over the lessons."""
    by_motif: dict[int, list[str]] = {}
    for lesson in project.lessons:
        by_motif.setdefault(lesson_motif(project.config, lesson), []).append(lesson.slug)
    ranks: dict[str, tuple[int, int]] = {}
    for slugs in by_motif.values():
        for index, slug in enumerate(sorted(slugs)):
            ranks.setdefault(slug, (index, len(slugs)))
    return ranks


def backdrop_pattern(art: LessonArt) -> int:
    """Rings, bands or dots: by the lesson's rank in its topic, offset by the topic so the first
    lessons of neighbouring topics differ too."""
    return art.rank[0] + lesson_motif(art.config, art.lesson)


def topic_palette(art: LessonArt) -> TopicPalette:
    """Deterministic colours: each topic a hue step from the brand colour, each lesson its own shade.

    Topics sit evenly round the colour wheel starting at the brand colour, so the
    first topic keeps the brand's own hue. The lessons of one topic spread over a
    band of that hue, in three shades, so in a feed they look
    related but never alike; the pattern behind follows the same cycle.
    """
    red, green, blue = (channel / 255 for channel in brand_rgb(art.config.brand_color))
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    steps = max(len(art.config.topics.terms), 1)
    rank, count = art.rank
    band = 0.5 / steps  # half the way to the next topic's hue: neighbours stay a half step apart
    shift = (rank / (count - 1) - 0.5) * band if count > 1 else 0.0
    hue = hue + lesson_motif(art.config, art.lesson) / steps + shift
    saturation = min(max(saturation, 0.45), 0.75)
    lightness = min(lightness, 0.45) - (0.0, 0.1, 0.05)[rank % 3]
    base = _hls(hue, lightness, saturation)
    # Yellow and cyan need to go darker before white text reads on them.
    while contrast_ratio(base, (255, 255, 255)) < 4.5 and lightness > 0.1:
        lightness -= 0.02
        base = _hls(hue, lightness, saturation)
    return TopicPalette(
        base=base,
        deep=_hls(hue + 0.02, max(lightness - 0.1, 0.08), saturation),
        tint=_hls(hue, 0.93, min(saturation, 0.6)),
        soft=_hls(hue, min(lightness + 0.08, 0.6), saturation),
        ink=(255, 255, 255),
    )


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def pictogram_image(
    root: Path, name: str | None, px: int, colour: tuple[int, int, int]
) -> Image.Image | None:
    """The shared pictogram ``name`` drawn in ``colour``, ``px`` square, or None (the caller's fallback)."""
    if _shared_pictogram_svg is None or not name:
        return None
    svg = _shared_pictogram_svg(root, name, _hex(colour))
    image = pdf.rasterise_svg(svg.encode("utf-8"), px) if svg else None
    return image.copy() if image is not None else None


def lesson_pictogram(art: LessonArt) -> str | None:
    """The one pictogram for the whole lesson (the poster's choice), else its first point's."""
    lesson = art.lesson
    if _focal_pictogram is not None:
        return _focal_pictogram(lesson, art.config.pictograms, pictogram_names(art.root))
    return next((point.icon for point in lesson.points if point.icon), None)


def draw_motif(
    draw: ImageDraw.ImageDraw, motif: int, box: tuple[float, float, float, float], fill: tuple[int, int, int]
) -> None:
    """A simple shape per topic (by its place in the config) when there is no pictogram."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0

    def p(u: float, v: float) -> tuple[float, float]:
        return (x0 + u * w, y0 + v * h)

    kind = motif % 9
    if kind == 0:  # heart: chronic disease, the heart and vessels
        draw.ellipse((*p(0.05, 0.12), *p(0.53, 0.6)), fill=fill)
        draw.ellipse((*p(0.47, 0.12), *p(0.95, 0.6)), fill=fill)
        draw.polygon([p(0.08, 0.45), p(0.92, 0.45), p(0.5, 0.92)], fill=fill)
    elif kind == 1:  # safety helmet: work
        draw.pieslice((*p(0.12, 0.2), *p(0.88, 0.96)), 180, 360, fill=fill)
        draw.rounded_rectangle((*p(0.02, 0.56), *p(0.98, 0.7)), radius=w * 0.05, fill=fill)
    elif kind == 2:  # shield: infections kept out
        draw.polygon(
            [p(0.5, 0.05), p(0.9, 0.2), p(0.85, 0.6), p(0.5, 0.95), p(0.15, 0.6), p(0.1, 0.2)], fill=fill
        )
    elif kind == 3:  # cross: first aid, injuries
        draw.rectangle((*p(0.36, 0.08), *p(0.64, 0.92)), fill=fill)
        draw.rectangle((*p(0.08, 0.36), *p(0.92, 0.64)), fill=fill)
    elif kind == 4:  # drop: mothers and children
        draw.ellipse((*p(0.18, 0.36), *p(0.82, 0.96)), fill=fill)
        draw.polygon([p(0.5, 0.03), p(0.8, 0.55), p(0.2, 0.55)], fill=fill)
    elif kind == 5:  # sun: mood and rest
        draw.ellipse((*p(0.28, 0.28), *p(0.72, 0.72)), fill=fill)
        for step in range(8):
            angle = math.pi * step / 4
            cx, cy = 0.5 + 0.38 * math.cos(angle), 0.5 + 0.38 * math.sin(angle)
            draw.ellipse((*p(cx - 0.07, cy - 0.07), *p(cx + 0.07, cy + 0.07)), fill=fill)
    elif kind == 6:  # apple: food and exercise
        draw.ellipse((*p(0.1, 0.28), *p(0.56, 0.95)), fill=fill)
        draw.ellipse((*p(0.44, 0.28), *p(0.9, 0.95)), fill=fill)
        draw.polygon([p(0.5, 0.3), p(0.72, 0.05), p(0.8, 0.12), p(0.56, 0.32)], fill=fill)
    elif kind == 7:  # open book: health literacy
        draw.polygon([p(0.04, 0.2), p(0.47, 0.3), p(0.47, 0.9), p(0.04, 0.8)], fill=fill)
        draw.polygon([p(0.53, 0.3), p(0.96, 0.2), p(0.96, 0.8), p(0.53, 0.9)], fill=fill)
    else:  # speech bubble: talking with residents, training
        draw.rounded_rectangle((*p(0.04, 0.12), *p(0.96, 0.72)), radius=w * 0.16, fill=fill)
        draw.polygon([p(0.22, 0.66), p(0.46, 0.66), p(0.18, 0.92)], fill=fill)


def draw_emblem(
    canvas: Image.Image,
    art: LessonArt,
    centre: tuple[float, float],
    radius: float,
    palette: TopicPalette,
) -> None:
    """A light disc with the lesson's pictogram, or its topic's shape when it has none."""
    draw = ImageDraw.Draw(canvas)
    cx, cy = centre
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=palette.tint)
    inner = round(radius * 1.2)
    picture = pictogram_image(art.root, lesson_pictogram(art), inner, palette.base)
    if picture is not None:
        canvas.paste(picture, (round(cx - inner / 2), round(cy - inner / 2)), picture)
    else:
        half = radius * 0.55
        draw_motif(
            draw,
            lesson_motif(art.config, art.lesson),
            (cx - half, cy - half, cx + half, cy + half),
            palette.base,
        )


def _backdrop(canvas: Image.Image, palette: TopicPalette, seed: str, pattern: int = 0) -> None:
    """The base colour fading to the deep one, under rings, stripes or dots (by the lesson's rank
    in its topic), placed by its slug."""
    width, height = canvas.size
    gradient = Image.linear_gradient("L").resize((width, height))
    canvas.paste(Image.new("RGB", canvas.size, palette.deep), (0, 0), gradient)
    draw = ImageDraw.Draw(canvas)
    digest = hashlib.sha256(seed.encode()).digest()
    short = min(width, height)
    stroke = max(6, short // 30)
    if pattern % 3 == 0:  # two rings
        for index in range(2):
            radius = round(short * (0.35 + digest[3 + index] / 255 * 0.4))
            cx = round(width * (0.15 + digest[5 + index] / 255 * 0.7))
            cy = round(height * (digest[7 + index] / 255))
            draw.ellipse(
                (cx - radius, cy - radius, cx + radius, cy + radius), outline=palette.soft, width=stroke
            )
    elif pattern % 3 == 1:  # diagonal bands
        gap = round(short * (0.22 + digest[3] / 255 * 0.1))
        for x in range(-height, width + height, gap):
            draw.line((x, height, x + height, 0), fill=palette.soft, width=stroke * 2)
    else:  # a field of dots
        gap = round(short * (0.12 + digest[3] / 255 * 0.04))
        dot = max(4, gap // 6)
        for row, y in enumerate(range(gap // 2, height, gap)):
            for x in range(gap // 2 + (gap // 2 if row % 2 else 0), width, gap):
                draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=palette.soft)


def _save_jpeg(canvas: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    # No EXIF, no timestamps: the same inputs give the same bytes.
    canvas.save(buffer, "JPEG", quality=quality, optimize=True, subsampling=0)
    return buffer.getvalue()


def _cover_crop(src: Path, size: tuple[int, int]) -> Image.Image | None:
    try:
        with Image.open(src) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return ImageOps.fit(image, size, Image.Resampling.LANCZOS, centering=(0.5, 0.4))


def _fits(layout: TitleLayout, width: float, height: float) -> bool:
    return (
        all(layout.font.getlength(line) <= width + 0.5 for line in layout.lines)
        and len(layout.lines) * layout.line_height <= height
    )


def draw_cover(art: LessonArt, title: str, cover_image: Path | None) -> bytes:
    """900×383: the title on the lesson's topic colour, with its pictogram or its own photo."""
    width, height = COVER_SIZE
    palette = topic_palette(art)
    canvas = Image.new("RGB", COVER_SIZE, palette.base)
    _backdrop(canvas, palette, art.lesson.slug, backdrop_pattern(art))
    draw = ImageDraw.Draw(canvas)
    photo = _cover_crop(cover_image, (round(width * 0.42), height)) if cover_image else None
    if photo is not None:
        x0 = width - photo.width
        canvas.paste(photo, (x0, 0))
        # Fade the photo into the background so its edge does not cut the picture.
        fade = 90
        mask = Image.linear_gradient("L").rotate(90, expand=True).resize((fade, height))
        canvas.paste(Image.new("RGB", (fade, height), palette.base), (x0, 0), ImageOps.invert(mask))
        right = x0
    else:
        radius = height * 0.34
        draw_emblem(canvas, art, (width - height * 0.52, height / 2), radius, palette)
        right = round(width - height * 0.95)

    margin = round(height * 0.12)
    label_font = load_font("regular", round(height * 0.058))
    label_height = round(label_font.size * 1.6)
    usable_width = right - 2 * margin
    usable_height = height - 2 * margin - 2 * label_height
    sizes = range(round(height * 0.15), round(height * 0.055) - 1, -2)
    layout = fit_title(title_tokens(title, art.words), usable_width, usable_height, sizes, 3)
    block_height = label_height + len(layout.lines) * layout.line_height
    y = (height - block_height) // 2
    soft_ink = _blend(palette.ink, palette.base, 0.25)
    draw.text((margin, y), art.config.name, font=label_font, fill=soft_ink)
    y += label_height
    for line in layout.lines:
        draw.text(
            (margin, y + (layout.line_height - layout.font.size) / 2 - layout.font.size * 0.12),
            line,
            font=layout.font,
            fill=palette.ink,
        )
        y += layout.line_height
    bar_y = y + round(layout.line_height * 0.25)
    draw.rectangle((margin, bar_y, margin + 48, bar_y + 5), fill=soft_ink)
    return _save_jpeg(canvas)


THUMB_TITLE_MIN = 48  # px on 500×500: readable when WeChat shows the square at a quarter size


THUMB_MARGIN = 40


def thumb_layout(words: tuple[str, ...], title: str) -> tuple[int, TitleLayout] | None:
    """The emblem's radius and the title's layout on the thumbnail; None: the emblem alone.

    The emblem shrinks (then goes) before the title drops below 48 px.
    """
    width, height = THUMB_SIZE
    tokens = title_tokens(title, words)
    sizes = range(76, THUMB_TITLE_MIN - 1, -2)
    for radius in (90, 64, 0):
        room = height - _thumb_title_top(radius) - THUMB_MARGIN
        layout = fit_title(tokens, width - 2 * THUMB_MARGIN, room, sizes, 5)
        if _fits(layout, width - 2 * THUMB_MARGIN, room) and layout.font.size >= THUMB_TITLE_MIN:
            return radius, layout
    return None


def _thumb_title_top(radius: int) -> int:
    return THUMB_MARGIN + 2 * radius + (24 if radius else 0)


def draw_thumb(art: LessonArt, title: str) -> bytes:
    """500×500: the pictogram above the title at 48 px or more; the pictogram alone if the title cannot be."""
    width, height = THUMB_SIZE
    palette = topic_palette(art)
    canvas = Image.new("RGB", THUMB_SIZE, palette.base)
    _backdrop(canvas, palette, art.lesson.slug, backdrop_pattern(art))
    draw = ImageDraw.Draw(canvas)
    chosen = thumb_layout(art.words, title)
    if chosen is None:
        draw_emblem(canvas, art, (width / 2, height / 2), width * 0.3, palette)
        return _save_jpeg(canvas)
    radius, layout = chosen
    if radius:
        draw_emblem(canvas, art, (width / 2, THUMB_MARGIN + radius), radius, palette)
    top = _thumb_title_top(radius)
    _draw_lines(draw, layout, (THUMB_MARGIN, top, width - THUMB_MARGIN, height - THUMB_MARGIN), palette.ink)
    return _save_jpeg(canvas)


def _blend(colour: tuple[int, int, int], other: tuple[int, int, int], amount: float) -> tuple[int, int, int]:
    return tuple(round(a + (b - a) * amount) for a, b in zip(colour, other, strict=True))  # type: ignore[return-value]


def draw_banded_card(
    size: tuple[int, int],
    palette: TopicPalette,
    urgent: bool,
    band_height: int,
    margin: int,
    left: tuple[str, ImageFont.FreeTypeFont],
    right: tuple[str, ImageFont.FreeTypeFont] | None = None,
) -> tuple[Image.Image, ImageDraw.ImageDraw, tuple[int, int, int]]:
    """A card (an image post's point, a daily tip) begun: the topic's tint, or the safety tint,
    under a band in its accent colour with a white label at its left and another at its right.

    Returns the canvas, its drawing and the accent (the topic's base colour, or safety red).
    """
    accent = URGENT_RED if urgent else palette.base
    canvas = Image.new("RGB", size, URGENT_TINT if urgent else palette.tint)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, size[0], band_height), fill=accent)
    middle = band_height / 2
    text, font = left
    draw.text((margin, middle - font.size * 0.62), text, font=font, fill=(255, 255, 255))
    if right is not None:
        text, font = right
        draw.text(
            (size[0] - margin - font.getlength(text), middle - font.size * 0.62),
            text,
            font=font,
            fill=(255, 255, 255),
        )
    return canvas, draw, accent


def draw_centred_line(
    draw: ImageDraw.ImageDraw,
    width: int,
    y: float,
    text: str,
    font: ImageFont.FreeTypeFont,
    fill: tuple[int, int, int],
    margin: int,
) -> None:
    """One line of small print centred on a card ``width`` wide, cut short with … to keep
    ``margin`` clear at each side (a long title or organiser's name never runs off the card)."""
    while font.getlength(text) > width - 2 * margin and len(text) > 2:
        text = text[:-2] + "…"
    draw.text(((width - font.getlength(text)) / 2, y), text, font=font, fill=fill)


def _draw_lines(
    draw: ImageDraw.ImageDraw,
    layout: TitleLayout,
    box: tuple[float, float, float, float],
    fill: tuple[int, int, int],
    centred: bool = True,
) -> None:
    left, top, right, bottom = box
    y = top + (bottom - top - len(layout.lines) * layout.line_height) / 2
    for line in layout.lines:
        visible = layout.font.getlength(line.rstrip("：，、；。"))
        x = left + (right - left - visible) / 2 if centred else left
        draw.text(
            (x, y + (layout.line_height - layout.font.size) / 2 - layout.font.size * 0.12),
            line,
            font=layout.font,
            fill=fill,
        )
        y += layout.line_height
