"""The canvas a slide is painted on: fonts, fitted type, shapes, shadows, the caption and footer.

A :class:`Painter` records the box of everything it draws (:class:`Drawn`), so tests
can hold every element against the platform's UI zones.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from builder.cjk import wrap
from builder.fonts import load_font
from builder.renderers.video.job import LessonVideoJob
from builder.renderers.video.style import RGBA, Palette, mix
from builder.renderers.video.wording import figure_runs, run_offsets, word_tokens
from builder.titles import SMALLER_TEXT, layout_title

SUPERSAMPLE = 4  # Pillow draws shapes without anti-aliasing: draw large, then reduce
Box = tuple[float, float, float, float]
# What a drawn element is, for the safe-area checks: "decor" (backgrounds, glows,
# shadows) may run under the platform's UI; everything else is content.
Role = Literal["text", "shape", "logo", "qr", "picture", "caption", "caption-text", "decor"]

# A key figure — a number with its unit (5克, 35岁), a ratio (140/90), a bound (≥140) or a
# number of three digits and more (120) — is what a viewer should carry away, so a key


@dataclass(frozen=True)
class Drawn:
    role: Role
    box: Box
    text: str = ""  # the line, for type


@dataclass
class TextBlock:
    lines: list[str]
    font: ImageFont.FreeTypeFont
    line_height: int

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)

    @property
    def width(self) -> int:
        return math.ceil(max((self.font.getlength(line) for line in self.lines), default=0))


class Painter:
    """Draws one slide onto an RGB canvas with the style's palette, fonts and layout."""

    def __init__(self, job: LessonVideoJob, orientation: str, palette: Palette, logo: Image.Image | None):
        self.job = job
        self.layout = job.style.layouts[orientation]
        self.orientation = orientation
        self.landscape = orientation == "landscape"
        self.width, self.height = (int(v) for v in self.layout["size"])
        self.palette = palette
        self.logo = logo
        self.margin = int(self.layout["margin"])
        self.image = Image.new("RGB", (self.width, self.height), palette["background"][:3])
        self.draw = ImageDraw.Draw(self.image)
        self.drawn: list[Drawn] = []  # every element's box, so tests can hold it against the profile
        self.cover: Image.Image | None = None  # the title card before its caption
        self.bar: tuple[tuple[int, int, int, int], Image.Image] | None = None  # see moving_bar
        # The platform's UI zones (style.yml profiles:) bound where content may go:
        # below the top strip, above the bottom strip, left of the button column.
        safe = job.style.safe_area(orientation)
        gap = 24
        self.safe_top = math.ceil(safe.top * self.height)
        self.safe_bottom = math.floor((1 - safe.bottom) * self.height)
        self.right_from = safe.right_from * self.height
        self.content_left = max(self.margin, math.ceil(safe.left * self.width) + gap)
        self.content_right = min(self.width - self.margin, math.floor((1 - safe.right) * self.width) - gap)
        self.centre = (self.content_left + self.content_right) / 2
        self.content_width = self.content_right - self.content_left
        band_top, band_bottom = safe.caption_band
        self.caption_band = (math.ceil(band_top * self.height), math.floor(band_bottom * self.height))

    # Primitives -------------------------------------------------------------------

    def font(self, weight: str, size: int) -> ImageFont.FreeTypeFont:
        path, index = self.job.fonts[weight]
        return load_font(path, index, size)

    def fit_text(
        self,
        text: str,
        weight: str,
        size: int,
        min_size: int,
        width: float,
        max_lines: int,
        leading: float = 1.4,
        max_height: float | None = None,
    ) -> TextBlock:
        """``text`` broken between words at the best size from ``size`` down to ``min_size``.

        Breaks fall only between jieba words (with the project's terms, as on the post
        covers) that are also break points of builder.cjk — "传播健康知识" never becomes
        "传播健" / "康知识", nor "140/90 mmHg" "mmH" / "g". Among the layouts that fit
        ``max_lines`` (and ``max_height``), builder.titles' costs pick even lines, breaks
        after a clause or colon and no lonely last character, paying for a smaller size.
        """
        tokens = word_tokens(text, self.job.title_words)
        sizes = [*range(size, min_size, -4), min_size]
        best: tuple[float, TextBlock] | None = None
        for candidate in sizes:
            font = self.font(weight, candidate)
            line_height = round(candidate * leading)
            lines = max_lines if max_height is None else min(max_lines, int(max_height // line_height))
            layout = layout_title(tokens, font, width, lines) if lines > 0 else None
            if layout is None:
                continue
            cost = layout[0] + SMALLER_TEXT * (size - candidate) / size
            if best is None or cost < best[0]:
                best = (cost, TextBlock(layout[1], font, line_height))
        if best is not None:
            return best[1]
        # Even the smallest size has a word wider than the line: the greedy breaker,
        # which cuts only that word.
        font = self.font(weight, min_size)
        return TextBlock(wrap(text, width, font.getlength), font, round(min_size * leading))

    def fit_title(self, text: str, size: int, min_size: int, width: float, max_lines: int) -> TextBlock:
        return self.fit_text(text, "bold", size, min_size, width, max_lines, leading=1.28)

    def write(
        self,
        block: TextBlock,
        x: float,
        top: float,
        fill: RGBA,
        align: Literal["left", "center"] = "left",
        role: Role = "text",
        figures: RGBA | None = None,
        visible: int | None = None,
        marker: RGBA | None = None,
    ) -> None:
        """Draw ``block`` with its first line box at ``top``; ``x`` is the left edge or the centre.

        With ``figures`` (left-aligned text), key figures are drawn in that colour, on a
        ``marker`` highlight if one is given. With ``visible``, only the block's first
        ``visible`` characters (spaces not counted) are drawn, where the whole block
        would put them: a key point builds in phrase by phrase without a line moving.
        """
        size = block.font.size
        budget = visible
        for number, full_line in enumerate(block.lines):
            line = full_line
            if budget is not None:
                line = _first_characters(full_line, budget)
                budget -= sum(1 for c in line if not c.isspace())
                if not line.strip():
                    break
            # CJK glyphs fill the ideographic em box, whose centre is 0.38 em above the
            # baseline: putting that centre in the middle of the line box centres the type.
            baseline = top + number * block.line_height + block.line_height / 2 + 0.38 * size
            if figures is None or align != "left":
                self.text((x, baseline), line, block.font, fill, "ms" if align == "center" else "ls", role)
                continue
            # Run by run along the baseline: getlength of the text before a run is where it starts.
            for start, (run, figure) in zip(run_offsets(line), figure_runs(line), strict=True):
                at = (x + block.font.getlength(start), baseline)
                if figure and marker is not None:
                    # A highlighter stroke under the lower part of the figure, as a reader marks it.
                    left, right = (
                        at[0] - 0.08 * size,
                        at[0] + block.font.getlength(run.rstrip()) + 0.08 * size,
                    )
                    self.shape(
                        (left, baseline - 0.38 * size, right, baseline + 0.12 * size),
                        marker,
                        radius=0.12 * size,
                    )
                self.text(at, run, block.font, figures if figure else fill, "ls", role)

    def fork(self) -> Painter:
        """A copy of this canvas to draw on further (one phrase of a slide); the boxes drawn so far come too."""
        other = copy.copy(self)
        other.image = self.image.copy()
        other.draw = ImageDraw.Draw(other.image)
        other.drawn = list(self.drawn)
        return other

    def moving_bar(self, box: Box, empty: RGBA, full: RGBA, radius: float) -> None:
        """A bar that fills from left to right while the slide shows (encode.Strip): drawn
        empty here; its full look is kept in ``self.bar`` for the encoder."""
        left, top, right, bottom = box
        self.shape(box, empty, radius=radius)
        saved = self.image
        self.image = saved.copy()
        self.shape(box, full, radius=radius)
        # Even edges, one pixel outside the anti-aliased shape: chroma comes in 2×2 pixels.
        even = (
            math.floor(left / 2) * 2 - 2,
            math.floor(top / 2) * 2 - 2,
            math.ceil(right / 2) * 2 + 2,
            math.ceil(bottom / 2) * 2 + 2,
        )
        self.bar = (even, self.image.crop(even))
        self.image = saved

    def text(
        self,
        at: tuple[float, float],
        line: str,
        font: ImageFont.FreeTypeFont,
        fill: RGBA,
        anchor: str,
        role: Role = "text",
    ) -> None:
        """One line of type, its ink box recorded."""
        if line.strip():
            self.drawn.append(Drawn(role, self.draw.textbbox(at, line, font=font, anchor=anchor), line))
        self.draw.text(at, line, font=font, fill=fill[:3], anchor=anchor)

    def shape(
        self,
        box: tuple[float, float, float, float],
        colour: RGBA,
        radius: float = 0,
        ellipse: bool = False,
        supersample: int = SUPERSAMPLE,
        role: Role = "shape",
    ) -> None:
        """An anti-aliased (rounded) rectangle or ellipse, translucent when ``colour`` has alpha."""
        left, top, right, bottom = (round(v) for v in box)
        width, height = right - left, bottom - top
        if width <= 0 or height <= 0:
            return
        self.drawn.append(Drawn(role, (left, top, right, bottom)))
        mask = Image.new("L", (width * supersample, height * supersample), 0)
        outline = (0, 0, width * supersample - 1, height * supersample - 1)
        pen = ImageDraw.Draw(mask)
        if ellipse:
            pen.ellipse(outline, fill=colour[3])
        else:
            pen.rounded_rectangle(outline, radius=radius * supersample, fill=colour[3])
        self.image.paste(colour[:3], (left, top), mask.reduce(supersample) if supersample > 1 else mask)

    def shadow(
        self, box: tuple[float, float, float, float], radius: float, blur: int = 22, drop: int = 12
    ) -> None:
        """A soft shadow under a card, so it lifts off the background."""
        left, top, right, bottom = (round(v) for v in box)
        pad = blur * 2
        self.drawn.append(Drawn("decor", (left - pad, top - pad + drop, right + pad, bottom + pad + drop)))
        mask = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
        ImageDraw.Draw(mask).rounded_rectangle(
            (pad, pad, pad + right - left, pad + bottom - top), radius=radius, fill=self.palette["shadow"][3]
        )
        mask = mask.filter(ImageFilter.GaussianBlur(blur))
        self.image.paste(self.palette["shadow"][:3], (left - pad, top - pad + drop), mask)

    def gradient_background(self) -> None:
        """Brand colour fading to its darker shade downwards, for the title and closing cards."""
        ramp = Image.linear_gradient("L").resize((self.width, self.height), Image.Resampling.BILINEAR)
        top = Image.new("RGB", self.image.size, self.palette.brand[:3])
        bottom = Image.new("RGB", self.image.size, self.palette.brand_dark[:3])
        self.image.paste(Image.composite(bottom, top, ramp))
        # Two large, faint circles give the flat colour some depth. At this opacity
        # a coarser edge does not show, and a 4× mask of a circle this big would be
        # tens of megapixels.
        glow = (255, 255, 255, 20)
        big = self.width * 0.9
        self.shape(
            (self.width - big * 0.55, -big * 0.45, self.width + big * 0.45, big * 0.55),
            glow,
            ellipse=True,
            supersample=2,
            role="decor",
        )
        small = self.width * 0.6
        self.shape(
            (-small * 0.4, self.height - small * 0.7, small * 0.6, self.height + small * 0.3),
            glow,
            ellipse=True,
            supersample=2,
            role="decor",
        )

    def logo_tile(self, x: float, y: float, size: int) -> None:
        """The logo on a white rounded tile, so a logo in the brand colour still stands out."""
        if self.logo is None or size <= 0:
            return
        border = max(6, size // 16)
        self.shape(
            (x - border, y - border, x + size + border, y + size + border),
            (255, 255, 255, 255),
            radius=size * 0.24,
        )
        scaled = self.logo.resize((size, size), Image.Resampling.LANCZOS)
        self.image.paste(scaled, (round(x), round(y)), scaled)
        self.drawn.append(Drawn("logo", (round(x), round(y), round(x) + size, round(y) + size)))

    # Parts shared by several slides -------------------------------------------------

    def caption_block(self, text: str) -> TextBlock:
        layout = self.layout
        return self.fit_text(
            text,
            "bold",
            int(layout["caption_size"]),
            int(layout["caption_min_size"]),
            min(int(layout["caption_width"]), self.content_width) - 2 * self.caption_padding() * 1.4,
            int(layout["caption_max_lines"]),
            leading=1.42,
        )

    def caption_padding(self) -> int:
        return round(int(self.layout["caption_size"]) * 0.55)

    def caption_bottom(self) -> int:
        """Bottom edge of the caption box: just inside the bottom of the profile's caption band."""
        return self.caption_band[1] - 12

    def caption_top(self) -> int:
        """Top of the area kept for captions, the same on every slide so nothing jumps."""
        lines = int(self.layout["caption_max_lines"])
        line_height = round(int(self.layout["caption_size"]) * 1.42)
        return self.caption_bottom() - lines * line_height - 2 * self.caption_padding()

    def caption(self, text: str) -> None:
        """The burned-in caption: white bold type on a translucent dark box, centred."""
        block = self.caption_block(text)
        pad = self.caption_padding()
        bottom = self.caption_bottom()
        top = bottom - block.height - 2 * pad
        half = block.width / 2 + pad * 1.4
        centre = self.centre
        self.shape(
            (centre - half, top, centre + half, bottom),
            self.palette["caption_box"],
            radius=pad,
            role="caption",
        )
        self.write(
            block, centre, top + pad, self.palette["caption_text"], align="center", role="caption-text"
        )

    def footer(self, on_brand: bool) -> None:
        """Site and organisation between the captions and the platform's bottom strip, if there is room."""
        room = self.safe_bottom - self.caption_bottom()
        if room < 100:
            return
        colour = mix(self.palette["on_brand"], self.palette.brand, 0.3) if on_brand else self.palette["muted"]
        font = self.font("regular", int(self.layout["footer_size"]))
        text = f"{self.job.site_name} · {self.job.organization}"
        block = TextBlock(wrap(text, self.content_width, font.getlength)[:1], font, round(font.size * 1.4))
        self.write(block, self.centre, self.safe_bottom - room / 2 - block.height / 2, colour, align="center")


def _first_characters(line: str, count: int) -> str:
    """The start of ``line`` holding ``count`` characters that are not spaces."""
    seen = 0
    for index, character in enumerate(line):
        if not character.isspace():
            if seen == count:
                return line[:index]
            seen += 1
    return line
