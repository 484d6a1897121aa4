"""Drawing the slides with Pillow: the title card, the key points, the closing card and captions."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import segno
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from builder.cjk import break_units, wrap
from builder.fonts import load_font
from builder.renderers.video.job import LessonVideoJob, Slide
from builder.renderers.video.style import RGBA, Palette, mix
from builder.titles import SMALLER_TEXT, layout_title, title_tokens

_HAN = re.compile(r"[\u3400-\u9fff]")
QR_ERROR_CORRECTION = "m"  # as on the printed flyers: survives a glare on a screen
QR_QUIET_ZONE = 4  # modules, as the QR standard asks

SUPERSAMPLE = 4  # Pillow draws shapes without anti-aliasing: draw large, then reduce
Box = tuple[float, float, float, float]
# What a drawn element is, for the safe-area checks: "decor" (backgrounds, glows,
# shadows) may run under the platform's UI; everything else is content.
Role = Literal["text", "shape", "logo", "qr", "caption", "caption-text", "decor"]

# A key figure — a number with its unit (5克, 35岁), a ratio (140/90), a bound (≥140) or a
# number of three digits and more (120) — is what a viewer should carry away, so a key
# point draws it in the brand colour. The rule of print's figures; a bare small number
# ("2型", "84消毒液") and one inside a Latin word ("KN95") stay as they are.
FIGURE = re.compile(
    r"(?<![A-Za-z0-9.])(?P<sign>[≥≤＞＜]\s?)?\d+(?:\.\d+)?(?:\s?[~～/\-]\s?\d+(?:\.\d+)?)*"
    r"(?P<unit>\s?(?:mmHg|mmol/L|毫克|千克|公斤|克|毫升|升|分钟|小时|秒|天|周|个月|月|岁|次|分贝|厘米|米|℃|%|‰))?"
    r"(?![A-Za-z0-9])"
)


def figure_runs(line: str) -> list[tuple[str, bool]]:
    """``line`` cut into (text, is a key figure) runs, in order."""
    runs: list[tuple[str, bool]] = []
    last = 0
    for match in FIGURE.finditer(line):
        figure = match.group(0)
        if not (
            match.group("unit") or match.group("sign") or "/" in figure or len(re.sub(r"\D", "", figure)) >= 3
        ):
            continue
        if match.start() > last:
            runs.append((line[last : match.start()], False))
        runs.append((figure, True))
        last = match.end()
    if last < len(line):
        runs.append((line[last:], False))
    return runs


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
        self.landscape = orientation == "landscape"
        self.width, self.height = (int(v) for v in self.layout["size"])
        self.palette = palette
        self.logo = logo
        self.margin = int(self.layout["margin"])
        self.image = Image.new("RGB", (self.width, self.height), palette["background"][:3])
        self.draw = ImageDraw.Draw(self.image)
        self.drawn: list[Drawn] = []  # every element's box, so tests can hold it against the profile
        self.cover: Image.Image | None = None  # the title card before its caption
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
    ) -> None:
        """Draw ``block`` with its first line box at ``top``; ``x`` is the left edge or the centre.

        With ``figures`` (left-aligned text), key figures are drawn in that colour.
        """
        size = block.font.size
        for number, line in enumerate(block.lines):
            # CJK glyphs fill the ideographic em box, whose centre is 0.38 em above the
            # baseline: putting that centre in the middle of the line box centres the type.
            baseline = top + number * block.line_height + block.line_height / 2 + 0.38 * size
            if figures is None or align != "left":
                self.text((x, baseline), line, block.font, fill, "ms" if align == "center" else "ls", role)
                continue
            # Run by run along the baseline: getlength of the text before a run is where it starts.
            for start, (run, figure) in zip(_run_offsets(line), figure_runs(line), strict=True):
                at = (x + block.font.getlength(start), baseline)
                self.text(at, run, block.font, figures if figure else fill, "ls", role)

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

    # Slides -----------------------------------------------------------------------

    def title_card(self) -> None:
        """Logo, organisation, kicker, title and audiences on the brand colour."""
        self.gradient_background()
        layout, palette = self.layout, self.palette
        on_brand = palette["on_brand"]
        region_top = max(self.margin * 1.5, self.safe_top + self.margin * 0.5)
        region_bottom = self.caption_top() - self.margin * 0.5
        logo_size = int(layout["title_logo_size"]) if self.logo is not None else 0

        if self.landscape:
            # Logo and organisation on the left, the words on the right.
            left_width = logo_size + self.margin
            text_left = self.content_left + left_width + self.margin
            text_width = self.content_right - text_left
            parts = self._title_parts(text_width, align="left")
            if sum(height for height, _ in parts) > region_bottom - region_top:
                parts = self._title_parts(text_width, align="left", summary=False)
            total = sum(height for height, _ in parts)
            top = max(region_top, region_top + (region_bottom - region_top - total) / 2)
            org = self.fit_text(
                self.job.organization,
                "regular",
                int(layout["title_org_size"]),
                28,
                left_width + self.margin,
                2,
            )
            column = logo_size + 30 + org.height
            column_top = region_top + (region_bottom - region_top - column) / 2
            centre = self.content_left + left_width / 2
            self.logo_tile(centre - logo_size / 2, column_top, logo_size)
            self.write(org, centre, column_top + logo_size + 30, on_brand, align="center")
            for height, draw_part in parts:
                draw_part(text_left, top)
                top += height
        else:
            org = self.fit_text(
                self.job.organization,
                "regular",
                int(layout["title_org_size"]),
                28,
                self.content_width,
                2,
            )

            def column(logo: int, summary: bool) -> list[tuple[float, Callable[[float, float], None]]]:
                return [
                    (logo + 36 if logo else 0, lambda x, y: self.logo_tile(x - logo / 2, y, logo)),
                    (org.height + 60, lambda x, y: self.write(org, x, y, on_brand, align="center")),
                    *self._title_parts(self.content_width, align="center", summary=summary),
                ]

            # A long title, summary and many audiences between the top zone and the
            # captions: a smaller logo first, then no summary (it is on the page), then no logo.
            for logo, summary in (
                (logo_size, True),
                (round(logo_size * 0.6), True),
                (round(logo_size * 0.6), False),
            ):
                parts = column(logo, summary)
                if sum(height for height, _ in parts) <= region_bottom - region_top:
                    break
            else:
                parts = column(0, False)
            total = sum(height for height, _ in parts)
            top = max(region_top, region_top + (region_bottom - region_top - total) / 2)
            for height, draw_part in parts:
                draw_part(self.centre, top)
                top += height
        self.footer(on_brand=True)

    def _title_parts(
        self, width: float, align: Literal["left", "center"], summary: bool = True
    ) -> list[tuple[float, Callable[[float, float], None]]]:
        """Kicker label, title and audience chips as (height, draw at x, top) pieces."""
        layout, palette = self.layout, self.palette
        kicker_font = self.font("bold", int(layout["kicker_size"]))
        kicker_text = self.job.style.text["kicker"]
        kicker_pad = round(kicker_font.size * 0.6)
        kicker_height = round(kicker_font.size * 1.7)
        kicker_width = kicker_font.getlength(kicker_text) + 2 * kicker_pad

        def draw_kicker(x: float, y: float) -> None:
            left = x - kicker_width / 2 if align == "center" else x
            self.shape(
                (left, y, left + kicker_width, y + kicker_height), palette["accent"], radius=kicker_height / 2
            )
            block = TextBlock([kicker_text], kicker_font, kicker_height)
            self.write(block, left + kicker_width / 2, y, palette["accent_ink"], align="center")

        title = self.fit_title(
            self.job.title,
            int(layout["title_size"]),
            int(layout["title_min_size"]),
            width,
            int(layout["title_max_lines"]),
        )
        parts: list[tuple[float, Callable[[float, float], None]]] = [
            (kicker_height + 44, draw_kicker),
            (title.height + 36, lambda x, y: self.write(title, x, y, palette["on_brand"], align=align)),
        ]
        if self.job.summary and summary:
            summary_block = self.fit_text(
                self.job.summary,
                "regular",
                int(layout["summary_size"]),
                int(layout["summary_size"]) - 8,
                width * 0.94,
                int(layout["summary_max_lines"]),
                leading=1.5,
            )
            soft = mix(palette["on_brand"], palette.brand, 0.16)
            parts.append(
                (summary_block.height + 44, lambda x, y: self.write(summary_block, x, y, soft, align=align))
            )
        if self.job.audiences:
            rows = self._chip_rows(width)
            chip_height = round(int(layout["chip_size"]) * 1.8)
            parts.append((len(rows) * (chip_height + 18), lambda x, y: self._draw_chips(rows, x, y, align)))
        return parts

    def _chip_rows(self, width: float) -> list[list[str]]:
        """Audience labels, preceded by "适合", split into rows that fit ``width``."""
        font = self.font("bold", int(self.layout["chip_size"]))
        gap, pad = 16, round(font.size * 0.7)
        labels = [self.job.style.text["audiences_label"], *self.job.audiences]
        rows: list[list[str]] = [[]]
        used = 0.0
        for label in labels:
            chip = font.getlength(label) + 2 * pad
            if rows[-1] and used + gap + chip > width:
                rows.append([])
                used = 0.0
            used += (gap if rows[-1] else 0) + chip
            rows[-1].append(label)
        return rows

    def _draw_chips(self, rows: list[list[str]], x: float, y: float, align: str) -> None:
        font = self.font("bold", int(self.layout["chip_size"]))
        gap, pad = 16, round(font.size * 0.7)
        chip_height = round(font.size * 1.8)
        first = True  # the "适合" word leads the first row as plain text; each audience is a pill
        for row in rows:
            widths = [font.getlength(label) + 2 * pad for label in row]
            left = x - (sum(widths) + gap * (len(row) - 1)) / 2 if align == "center" else x
            for label, chip_width in zip(row, widths, strict=True):
                if not first:
                    self.shape(
                        (left, y, left + chip_width, y + chip_height),
                        (255, 255, 255, 46),
                        radius=chip_height / 2,
                    )
                block = TextBlock([label], font, chip_height)
                self.write(block, left + chip_width / 2, y, self.palette["on_brand"], align="center")
                left += chip_width + gap
                first = False
            y += chip_height + 18

    def point_slide(self, slide: Slide, count: int) -> None:
        """A key point: header with logo and lesson, progress, big number, the point on a card."""
        layout, palette = self.layout, self.palette
        header = int(layout["header_height"])
        self.draw.rectangle((0, 0, self.width, header), fill=palette.brand[:3])
        self._header(header)
        self._progress(header, slide.number, count)

        widest_card = min(int(layout.get("card_width", self.content_width)), self.content_width)
        padding, bar, gap = int(layout["card_padding"]), 12, 24
        number_font = self.font("bold", int(layout["number_size"]))
        label_font = self.font("bold", int(layout["number_label_size"]))
        number_height = round(number_font.size * 1.05)
        region_top = header + int(layout["progress_height"]) + 40
        region_bottom = self.caption_top() - 40
        text = self.fit_text(
            slide.caption,
            "bold",
            int(layout["point_size"]),
            int(layout["point_min_size"]),
            widest_card - 2 * padding - bar - gap,
            int(layout["point_max_lines"]),
            leading=1.42,
            # The card stays above the captions: a long point gets smaller type.
            max_height=region_bottom - region_top - number_height - 36 - 2 * padding,
        )
        card_width = widest_card
        if layout.get("card_hug", False):
            # On a wide frame the card hugs a short point instead of leaving a white
            # field beside it; its left edge (and the number above) stays put, so
            # a crossfade between two points does not show two cards.
            card_width = max(widest_card * 0.6, min(widest_card, text.width + 2 * padding + bar + gap))
        card_height = text.height + 2 * padding
        top = region_top + (region_bottom - region_top - number_height - 36 - card_height) / 2
        left = self.content_left

        # "01 / 06  要点": the big number tells at a glance how far along the video is.
        number = f"{slide.number:02d}"
        baseline = top + number_height * 0.86
        self.text((left, baseline), number, number_font, palette.brand, "ls")
        after = left + number_font.getlength(number) + 18
        label = f"/ {count:02d}  {self.job.style.text['point_label']}"
        self.text((after, baseline), label, label_font, palette["muted"], "ls")

        card_top = top + number_height + 36
        box = (left, card_top, left + card_width, card_top + card_height)
        radius = int(layout["card_radius"])
        self.shadow(box, radius)
        self.shape(box, palette["card"], radius=radius)
        self.shape(
            (left + padding, card_top + padding, left + padding + bar, card_top + card_height - padding),
            palette.brand,
            radius=bar / 2,
        )
        self.write(
            text, left + padding + bar + gap, card_top + padding, palette["ink"], figures=palette.brand
        )
        self.footer(on_brand=False)

    def _header(self, height: int) -> None:
        layout, on_brand = self.layout, self.palette["on_brand"]
        logo_size = int(layout["logo_size"]) if self.logo is not None else 0
        # On phones the top of the frame sits under the status bar and the tabs: the
        # header's content is centred below the profile's top zone.
        safe_top = self.safe_top
        top = safe_top + (height - safe_top - logo_size) / 2
        text_left = self.content_left + (logo_size + 28 if logo_size else 0)
        # Above the button column the header may use the full width.
        right = self.width - self.margin if height <= self.right_from else self.content_right
        text_width = right - text_left
        title_font = self.font("bold", int(layout["header_title_size"]))
        org_font = self.font("regular", int(layout["header_org_size"]))
        title = _ellipsize(self.job.header_title, text_width, title_font)
        org = _ellipsize(self.job.organization, text_width, org_font)
        title_block = TextBlock([title], title_font, round(title_font.size * 1.3))
        org_block = TextBlock([org], org_font, round(org_font.size * 1.4))
        text_height = title_block.height + org_block.height
        if logo_size:
            self.logo_tile(self.content_left, top, logo_size)
        text_top = safe_top + (height - safe_top - text_height) / 2
        self.write(title_block, text_left, text_top, on_brand)
        self.write(
            org_block, text_left, text_top + title_block.height, mix(on_brand, self.palette.brand, 0.2)
        )

    def _progress(self, header: int, current: int, count: int) -> None:
        """Story-style segments under the header: one per key point, filled up to this one."""
        thickness, gap = int(self.layout["progress_height"]), 10
        top = header + 24
        # Above the button column (top quarter) the bar spans the width; below it, the content's.
        right = self.width - self.margin if top + thickness <= self.right_from else self.content_right
        width = (right - self.content_left - gap * (count - 1)) / count
        done, todo = self.palette.brand, mix(self.palette.brand, (255, 255, 255), 0.72)
        for index in range(count):
            left = self.content_left + index * (width + gap)
            self.shape(
                (left, top, left + width, top + thickness),
                done if index < current else todo,
                radius=thickness / 2,
            )

    def closing_card(self) -> None:
        """The QR code to the lesson page on a white card, with who made the video and how to reach them."""
        self.gradient_background()
        layout, palette = self.layout, self.palette
        on_brand, soft = palette["on_brand"], mix(palette["on_brand"], palette.brand, 0.2)
        heading = self.fit_text(
            self.job.style.text["closing_heading"],
            "bold",
            int(layout["closing_heading_size"]),
            48,
            self.content_width,
            1,
        )
        org = self.fit_text(
            self.job.organization,
            "bold",
            int(layout["closing_org_size"]),
            32,
            self.content_width,
            2,
        )
        contact = self.fit_text(
            self.job.contact,
            "regular",
            int(layout["closing_contact_size"]),
            28,
            self.content_width,
            2,
        )
        hint_font = self.font("regular", round(int(layout["closing_title_size"]) * 0.75))
        hint = TextBlock([self.job.style.text["closing_hint"]], hint_font, round(hint_font.size * 1.5))
        pad = 44
        region_top = max(self.margin, self.safe_top + self.margin * 0.5)
        region_bottom = self.caption_top() - self.margin * 0.5
        dark = mix(palette.brand_dark, (0, 0, 0), 0.4)

        if self.landscape:
            qr = qr_image(self.job.page_url, int(layout["qr_size"]), dark)
            card_width = qr.width + 2 * pad
            text_left = self.content_left + self.margin + card_width + self.margin
            text_width = self.content_right - text_left
            title = self.fit_title(self.job.title, int(layout["closing_title_size"]), 32, text_width, 2)
            card_height = qr.height + 2 * pad
            column = heading.height + 24 + title.height + hint.height + 56 + org.height + contact.height
            card_top = region_top + (region_bottom - region_top - card_height) / 2
            self._qr_card(qr, self.content_left + self.margin, card_top, pad, card_height)
            top = region_top + (region_bottom - region_top - column) / 2
            for block, colour, gap in (
                (heading, on_brand, 24),
                (title, on_brand, 0),
                (hint, soft, 56),
                (org, on_brand, 0),
                (contact, soft, 0),
            ):
                self.write(block, text_left, top, colour)
                top += block.height + gap
        else:
            # The QR code takes what the safe area leaves after the words, up to qr_size.
            largest = int(layout["qr_size"])
            title = self.fit_title(self.job.title, int(layout["closing_title_size"]), 32, largest, 2)
            words = (
                heading.height + 40 + 2 * pad + title.height + hint.height + 48 + org.height + contact.height
            )
            qr = qr_image(self.job.page_url, min(largest, round(region_bottom - region_top - words)), dark)
            card_width = qr.width + 2 * pad
            card_height = qr.height + pad + title.height + hint.height + pad
            total = heading.height + 40 + card_height + 48 + org.height + contact.height
            top = region_top + (region_bottom - region_top - total) / 2
            centre = self.centre
            self.write(heading, centre, top, on_brand, align="center")
            card_top = top + heading.height + 40
            self._qr_card(qr, centre - card_width / 2, card_top, pad, card_height)
            self.write(title, centre, card_top + pad + qr.height, palette["ink"], align="center")
            self.write(
                hint, centre, card_top + pad + qr.height + title.height, palette["muted"], align="center"
            )
            top = card_top + card_height + 48
            self.write(org, centre, top, on_brand, align="center")
            self.write(contact, centre, top + org.height, soft, align="center")
        self.footer(on_brand=True)

    def _qr_card(self, qr: Image.Image, left: float, top: float, pad: int, height: float) -> None:
        box = (left, top, left + qr.width + 2 * pad, top + height)
        self.shadow(box, 36, blur=26, drop=16)
        self.shape(box, self.palette["card"], radius=36)
        self.image.paste(qr, (round(left + pad), round(top + pad)))
        self.drawn.append(
            Drawn(
                "qr",
                (
                    round(left + pad),
                    round(top + pad),
                    round(left + pad) + qr.width,
                    round(top + pad) + qr.height,
                ),
            )
        )


def _run_offsets(line: str) -> list[str]:
    """The text before each run of ``figure_runs(line)``."""
    offsets, before = [], ""
    for run, _ in figure_runs(line):
        offsets.append(before)
        before += run
    return offsets


def word_tokens(text: str, words: tuple[str, ...] = ()) -> list[str]:
    """``text`` cut where a line may break: between jieba words (builder.titles) that are
    also between builder.cjk's units (a number stays with its unit, punctuation with
    its word), and never between a number and the Chinese unit after it ("5克", "35岁")."""
    text = text.strip()
    unit_ends, position = set(), 0
    for unit in break_units(text):
        position += len(unit)
        unit_ends.add(position)
    tokens, start, position = [], 0, 0
    for token in title_tokens(text, words):
        position += len(token)
        after_number = text[position - 1 : position].isdigit() and bool(
            _HAN.match(text[position : position + 1])
        )
        if (position in unit_ends and not after_number) or position == len(text):
            tokens.append(text[start:position])
            start = position
    return tokens


def _ellipsize(text: str, width: float, font: ImageFont.FreeTypeFont) -> str:
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def qr_image(url: str, size: int, dark: RGBA) -> Image.Image:
    """The QR code as a crisp picture: whole pixels per module, at most ``size`` wide."""
    code = segno.make(url, error=QR_ERROR_CORRECTION, micro=False)
    rows = [
        bytes(0 if dark_module else 255 for dark_module in row)
        for row in code.matrix_iter(border=QR_QUIET_ZONE)
    ]
    modules = len(rows)
    grid = Image.frombytes("L", (modules, modules), b"".join(rows))
    scale = max(1, size // modules)
    mask = grid.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)
    picture = Image.new("RGB", mask.size, dark[:3])
    picture.paste((255, 255, 255), (0, 0), mask)
    return picture


def paint_slides(job: LessonVideoJob, slides: Sequence[Slide], orientation: str) -> list[Painter]:
    """Every slide painted, with its caption; each painter keeps its picture and the boxes drawn."""
    palette = Palette(job.style.colors, job.brand_color)
    logo = Image.open(job.logo).convert("RGBA") if job.logo else None
    count = sum(1 for slide in slides if slide.kind == "point")
    painters: list[Painter] = []
    for slide in slides:
        painter = Painter(job, orientation, palette, logo)
        if slide.kind == "title":
            painter.title_card()
            painter.cover = painter.image.copy()
        elif slide.kind == "point":
            painter.point_slide(slide, count)
        else:
            painter.closing_card()
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
