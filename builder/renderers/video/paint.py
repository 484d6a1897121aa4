"""Drawing the slides with Pillow: the title card, the key points, the closing card and captions."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import segno
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from builder.cjk import wrap, wrap_at_clauses, wrap_balanced
from builder.fonts import load_font
from builder.renderers.video.job import LessonVideoJob, Slide
from builder.renderers.video.style import RGBA, Palette, mix

QR_ERROR_CORRECTION = "m"  # as on the printed flyers: survives a glare on a screen
QR_QUIET_ZONE = 4  # modules, as the QR standard asks

SUPERSAMPLE = 4  # Pillow draws shapes without anti-aliasing: draw large, then reduce


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
        clause_shrink: float = 0.84,
    ) -> TextBlock:
        """Wrap ``text`` at the largest size from ``size`` down to ``min_size`` that fits ``max_lines``.

        Lines that end where a clause ends read best, so a slightly smaller size
        (down to ``clause_shrink`` × ``size``) that allows them, with no more lines
        than the full size needs, wins over the full size breaking mid-phrase.
        """
        sizes = [*range(size, min_size, -4), min_size]

        def block(lines: list[str], font: ImageFont.FreeTypeFont) -> TextBlock:
            return TextBlock(lines, font, round(font.size * leading))

        full_size_lines = len(wrap_balanced(text, width, self.font(weight, size).getlength))
        for candidate in sizes:
            if candidate < size * clause_shrink:
                break
            font = self.font(weight, candidate)
            clauses = wrap_at_clauses(text, width, font.getlength)
            if clauses is not None and len(clauses) <= min(max_lines, full_size_lines):
                return block(clauses, font)
        for candidate in sizes:
            font = self.font(weight, candidate)
            lines = wrap_balanced(text, width, font.getlength)
            if len(lines) <= max_lines or candidate == min_size:
                return block(lines, font)
        raise AssertionError("unreachable: the last size always returns")

    def write(
        self,
        block: TextBlock,
        x: float,
        top: float,
        fill: RGBA,
        align: Literal["left", "center"] = "left",
    ) -> None:
        """Draw ``block`` with its first line box at ``top``; ``x`` is the left edge or the centre."""
        size = block.font.size
        for number, line in enumerate(block.lines):
            # CJK glyphs fill the ideographic em box, whose centre is 0.38 em above the
            # baseline: putting that centre in the middle of the line box centres the type.
            baseline = top + number * block.line_height + block.line_height / 2 + 0.38 * size
            anchor = "ms" if align == "center" else "ls"
            self.draw.text((x, baseline), line, font=block.font, fill=fill[:3], anchor=anchor)

    def shape(
        self,
        box: tuple[float, float, float, float],
        colour: RGBA,
        radius: float = 0,
        ellipse: bool = False,
        supersample: int = SUPERSAMPLE,
    ) -> None:
        """An anti-aliased (rounded) rectangle or ellipse, translucent when ``colour`` has alpha."""
        left, top, right, bottom = (round(v) for v in box)
        width, height = right - left, bottom - top
        if width <= 0 or height <= 0:
            return
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
        )
        small = self.width * 0.6
        self.shape(
            (-small * 0.4, self.height - small * 0.7, small * 0.6, self.height + small * 0.3),
            glow,
            ellipse=True,
            supersample=2,
        )

    def logo_tile(self, x: float, y: float, size: int) -> None:
        """The logo on a white rounded tile, so a logo in the brand colour still stands out."""
        if self.logo is None:
            return
        border = max(6, size // 16)
        self.shape(
            (x - border, y - border, x + size + border, y + size + border),
            (255, 255, 255, 255),
            radius=size * 0.24,
        )
        scaled = self.logo.resize((size, size), Image.Resampling.LANCZOS)
        self.image.paste(scaled, (round(x), round(y)), scaled)

    # Parts shared by several slides -------------------------------------------------

    def caption_block(self, text: str) -> TextBlock:
        layout = self.layout
        return self.fit_text(
            text,
            "bold",
            int(layout["caption_size"]),
            int(layout["caption_min_size"]),
            int(layout["caption_width"]) - 2 * self.caption_padding(),
            int(layout["caption_max_lines"]),
            leading=1.42,
        )

    def caption_padding(self) -> int:
        return round(int(self.layout["caption_size"]) * 0.55)

    def caption_top(self) -> int:
        """Top of the area kept for captions, the same on every slide so nothing jumps."""
        lines = int(self.layout["caption_max_lines"])
        line_height = round(int(self.layout["caption_size"]) * 1.42)
        return int(self.layout["caption_bottom"]) - lines * line_height - 2 * self.caption_padding()

    def caption(self, text: str) -> None:
        """The burned-in caption: white bold type on a translucent dark box, centred."""
        block = self.caption_block(text)
        pad = self.caption_padding()
        bottom = int(self.layout["caption_bottom"])
        top = bottom - block.height - 2 * pad
        half = block.width / 2 + pad * 1.4
        centre = self.width / 2
        self.shape((centre - half, top, centre + half, bottom), self.palette["caption_box"], radius=pad)
        self.write(block, centre, top + pad, self.palette["caption_text"], align="center")

    def footer(self, on_brand: bool) -> None:
        """Site and organisation under the captions, where phones show their own buttons."""
        room = self.height - int(self.layout["caption_bottom"])
        if room < 120:
            return
        colour = mix(self.palette["on_brand"], self.palette.brand, 0.3) if on_brand else self.palette["muted"]
        font = self.font("regular", int(self.layout["footer_size"]))
        text = f"{self.job.site_name} · {self.job.organization}"
        block = TextBlock(
            wrap(text, self.width - 2 * self.margin, font.getlength)[:1], font, round(font.size * 1.4)
        )
        self.write(block, self.width / 2, self.height - room / 2 - block.height / 2, colour, align="center")

    # Slides -----------------------------------------------------------------------

    def title_card(self) -> None:
        """Logo, organisation, kicker, title and audiences on the brand colour."""
        self.gradient_background()
        layout, palette = self.layout, self.palette
        on_brand = palette["on_brand"]
        region_top, region_bottom = self.margin * 1.5, self.caption_top() - self.margin * 0.5
        logo_size = int(layout["title_logo_size"]) if self.logo is not None else 0

        if self.landscape:
            # Logo and organisation on the left, the words on the right.
            left_width = logo_size + self.margin
            text_left = self.margin + left_width + self.margin
            text_width = self.width - text_left - self.margin
            parts = self._title_parts(text_width, align="left")
            total = sum(height for height, _ in parts)
            top = region_top + (region_bottom - region_top - total) / 2
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
            centre = self.margin + left_width / 2
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
                self.width - 2 * self.margin,
                2,
            )
            parts = [
                (
                    logo_size + 36 if logo_size else 0,
                    lambda x, y: self.logo_tile(x - logo_size / 2, y, logo_size),
                ),
                (org.height + 60, lambda x, y: self.write(org, x, y, on_brand, align="center")),
                *self._title_parts(self.width - 2 * self.margin, align="center"),
            ]
            total = sum(height for height, _ in parts)
            top = region_top + (region_bottom - region_top - total) / 2
            for height, draw_part in parts:
                draw_part(self.width / 2, top)
                top += height
        self.footer(on_brand=True)

    def _title_parts(
        self, width: float, align: Literal["left", "center"]
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

        title = self.fit_text(
            self.job.title,
            "bold",
            int(layout["title_size"]),
            int(layout["title_min_size"]),
            width,
            int(layout["title_max_lines"]),
            leading=1.28,
        )
        parts: list[tuple[float, Callable[[float, float], None]]] = [
            (kicker_height + 44, draw_kicker),
            (title.height + 36, lambda x, y: self.write(title, x, y, palette["on_brand"], align=align)),
        ]
        if self.job.summary:
            summary = self.fit_text(
                self.job.summary,
                "regular",
                int(layout["summary_size"]),
                int(layout["summary_size"]) - 8,
                width * 0.94,
                int(layout["summary_max_lines"]),
                leading=1.5,
            )
            soft = mix(palette["on_brand"], palette.brand, 0.16)
            parts.append((summary.height + 44, lambda x, y: self.write(summary, x, y, soft, align=align)))
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

        widest_card = min(
            int(layout.get("card_width", self.width - 2 * self.margin)), self.width - 2 * self.margin
        )
        padding, bar, gap = int(layout["card_padding"]), 12, 24
        text = self.fit_text(
            slide.caption,
            "bold",
            int(layout["point_size"]),
            int(layout["point_min_size"]),
            widest_card - 2 * padding - bar - gap,
            int(layout["point_max_lines"]),
            leading=1.42,
        )
        card_width = widest_card
        if layout.get("card_hug", False):
            # On a wide frame the card hugs a short point instead of leaving a white
            # field beside it; its left edge (and the number above) stays put, so
            # a crossfade between two points does not show two cards.
            card_width = max(widest_card * 0.6, min(widest_card, text.width + 2 * padding + bar + gap))
        number_font = self.font("bold", int(layout["number_size"]))
        label_font = self.font("bold", int(layout["number_label_size"]))
        number_height = round(number_font.size * 1.05)
        card_height = text.height + 2 * padding
        region_top = header + int(layout["progress_height"]) + 40
        region_bottom = self.caption_top() - 40
        top = region_top + (region_bottom - region_top - number_height - 36 - card_height) / 2
        left = (self.width - widest_card) / 2

        # "01 / 06  要点": the big number tells at a glance how far along the video is.
        number = f"{slide.number:02d}"
        baseline = top + number_height * 0.86
        self.draw.text((left, baseline), number, font=number_font, fill=palette.brand[:3], anchor="ls")
        after = left + number_font.getlength(number) + 18
        label = f"/ {count:02d}  {self.job.style.text['point_label']}"
        self.draw.text((after, baseline), label, font=label_font, fill=palette["muted"][:3], anchor="ls")

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
        self.write(text, left + padding + bar + gap, card_top + padding, palette["ink"])
        self.footer(on_brand=False)

    def _header(self, height: int) -> None:
        layout, on_brand = self.layout, self.palette["on_brand"]
        logo_size = int(layout["logo_size"]) if self.logo is not None else 0
        # On phones the top of the frame sits under the status bar: the header's
        # content is centred below ``header_safe_top``.
        safe_top = int(layout.get("header_safe_top", 0))
        top = safe_top + (height - safe_top - logo_size) / 2
        text_left = self.margin + (logo_size + 28 if logo_size else 0)
        text_width = self.width - text_left - self.margin
        title_font = self.font("bold", int(layout["header_title_size"]))
        org_font = self.font("regular", int(layout["header_org_size"]))
        title = _ellipsize(self.job.header_title, text_width, title_font)
        org = _ellipsize(self.job.organization, text_width, org_font)
        title_block = TextBlock([title], title_font, round(title_font.size * 1.3))
        org_block = TextBlock([org], org_font, round(org_font.size * 1.4))
        text_height = title_block.height + org_block.height
        if logo_size:
            self.logo_tile(self.margin, top, logo_size)
        text_top = safe_top + (height - safe_top - text_height) / 2
        self.write(title_block, text_left, text_top, on_brand)
        self.write(
            org_block, text_left, text_top + title_block.height, mix(on_brand, self.palette.brand, 0.2)
        )

    def _progress(self, header: int, current: int, count: int) -> None:
        """Story-style segments under the header: one per key point, filled up to this one."""
        thickness, gap = int(self.layout["progress_height"]), 10
        top = header + 24
        width = (self.width - 2 * self.margin - gap * (count - 1)) / count
        done, todo = self.palette.brand, mix(self.palette.brand, (255, 255, 255), 0.72)
        for index in range(count):
            left = self.margin + index * (width + gap)
            self.shape(
                (left, top, left + width, top + thickness),
                done if index < current else todo,
                radius=thickness / 2,
            )

    def closing_card(self, qr: Image.Image) -> None:
        """The QR code to the lesson page on a white card, with who made the video and how to reach them."""
        self.gradient_background()
        layout, palette = self.layout, self.palette
        on_brand, soft = palette["on_brand"], mix(palette["on_brand"], palette.brand, 0.2)
        heading = self.fit_text(
            self.job.style.text["closing_heading"],
            "bold",
            int(layout["closing_heading_size"]),
            48,
            self.width - 2 * self.margin,
            1,
        )
        org = self.fit_text(
            self.job.organization,
            "bold",
            int(layout["closing_org_size"]),
            32,
            self.width - 2 * self.margin,
            2,
        )
        contact = self.fit_text(
            self.job.contact,
            "regular",
            int(layout["closing_contact_size"]),
            28,
            self.width - 2 * self.margin,
            2,
        )
        hint_font = self.font("regular", round(int(layout["closing_title_size"]) * 0.75))
        hint = TextBlock([self.job.style.text["closing_hint"]], hint_font, round(hint_font.size * 1.5))
        pad = 44
        card_width = qr.width + 2 * pad
        region_top, region_bottom = self.margin, self.caption_top() - self.margin * 0.5

        if self.landscape:
            text_left = self.margin * 2 + card_width + self.margin
            text_width = self.width - text_left - self.margin
            title = self.fit_text(
                self.job.title, "bold", int(layout["closing_title_size"]), 32, text_width, 2
            )
            card_height = qr.height + 2 * pad
            column = heading.height + 24 + title.height + hint.height + 56 + org.height + contact.height
            card_top = region_top + (region_bottom - region_top - card_height) / 2
            self._qr_card(qr, self.margin * 2, card_top, pad, card_height)
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
            title = self.fit_text(self.job.title, "bold", int(layout["closing_title_size"]), 32, qr.width, 2)
            card_height = qr.height + pad + title.height + hint.height + pad
            total = heading.height + 40 + card_height + 56 + org.height + contact.height
            top = region_top + (region_bottom - region_top - total) / 2
            centre = self.width / 2
            self.write(heading, centre, top, on_brand, align="center")
            card_top = top + heading.height + 40
            self._qr_card(qr, centre - card_width / 2, card_top, pad, card_height)
            self.write(title, centre, card_top + pad + qr.height, palette["ink"], align="center")
            self.write(
                hint, centre, card_top + pad + qr.height + title.height, palette["muted"], align="center"
            )
            top = card_top + card_height + 56
            self.write(org, centre, top, on_brand, align="center")
            self.write(contact, centre, top + org.height, soft, align="center")
        self.footer(on_brand=True)

    def _qr_card(self, qr: Image.Image, left: float, top: float, pad: int, height: float) -> None:
        box = (left, top, left + qr.width + 2 * pad, top + height)
        self.shadow(box, 36, blur=26, drop=16)
        self.shape(box, self.palette["card"], radius=36)
        self.image.paste(qr, (round(left + pad), round(top + pad)))


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


def draw_slides(
    job: LessonVideoJob, slides: Sequence[Slide], orientation: str
) -> tuple[list[Image.Image], Image.Image]:
    """Every distinct picture of the video, with captions; and the title card without one (the cover)."""
    palette = Palette(job.style.colors, job.brand_color)
    logo = Image.open(job.logo).convert("RGBA") if job.logo else None
    count = sum(1 for slide in slides if slide.kind == "point")
    stills: list[Image.Image] = []
    cover: Image.Image | None = None
    for slide in slides:
        painter = Painter(job, orientation, palette, logo)
        if slide.kind == "title":
            painter.title_card()
            cover = painter.image.copy()
        elif slide.kind == "point":
            painter.point_slide(slide, count)
        else:
            size = int(painter.layout["qr_size"])
            painter.closing_card(qr_image(job.page_url, size, mix(palette.brand_dark, (0, 0, 0), 0.4)))
        painter.caption(slide.caption)
        stills.append(painter.image)
    assert cover is not None
    return stills, cover
