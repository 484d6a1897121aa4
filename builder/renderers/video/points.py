"""A key-point slide: the header with logo and lesson, the progress segments, the number and the card."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from builder.renderers.video.canvas import Drawn, Painter, TextBlock
from builder.renderers.video.job import Slide
from builder.renderers.video.style import mix
from builder.renderers.video.wording import ellipsize


@dataclass(frozen=True)
class PointWords:
    """Where a key point's words go on its card: drawn phrase by phrase onto forks of the slide."""

    block: TextBlock
    left: float
    top: float

    def draw(self, painter: Painter, visible: int | None) -> None:
        palette = painter.palette
        marker = mix(palette["accent"], (255, 255, 255), 0.55)
        painter.write(
            self.block,
            self.left,
            self.top,
            palette["ink"],
            figures=palette.brand,
            visible=visible,
            marker=marker,
        )


def point_slide(painter: Painter, slide: Slide, count: int, pictogram: Image.Image | None) -> PointWords:
    """A key point without its words: header with logo and lesson, progress, big number,
    its pictogram and the empty card; the words go on with :meth:`PointWords.draw`."""
    layout, palette = painter.layout, painter.palette
    header = int(layout["header_height"])
    painter.draw.rectangle((0, 0, painter.width, header), fill=palette.brand[:3])
    draw_header(painter, header)
    draw_progress(painter, header, slide.number, count)

    widest_card = min(int(layout.get("card_width", painter.content_width)), painter.content_width)
    padding, bar, gap = int(layout["card_padding"]), 12, 24
    number_font = painter.font("bold", int(layout["number_size"]))
    label_font = painter.font("bold", int(layout["number_label_size"]))
    number_height = round(number_font.size * 1.05)
    region_top = header + int(layout["progress_height"]) + 40
    region_bottom = painter.caption_top() - 40
    text = painter.fit_text(
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
    left = painter.content_left

    # "01 / 06  要点": the big number tells at a glance how far along the video is.
    number = f"{slide.number:02d}"
    baseline = top + number_height * 0.86
    painter.text((left, baseline), number, number_font, palette.brand, "ls")
    after = left + number_font.getlength(number) + 18
    label = f"/ {count:02d}  {painter.job.style.text['point_label']}"
    painter.text((after, baseline), label, label_font, palette["muted"], "ls")
    if pictogram is not None:
        # The point's pictogram on a white disc at the end of the number's row, where the
        # widest card ends: the same place on every key point, so it never jumps.
        size = number_height
        disc_left = left + widest_card - size
        painter.shape((disc_left, top, disc_left + size, top + size), palette["card"], ellipse=True)
        inner = round(size * 0.64)
        picture = pictogram.resize((inner, inner), Image.Resampling.LANCZOS)
        at = (round(disc_left + (size - inner) / 2), round(top + (size - inner) / 2))
        painter.image.paste(picture, at, picture)
        painter.drawn.append(Drawn("picture", (at[0], at[1], at[0] + inner, at[1] + inner)))

    card_top = top + number_height + 36
    box = (left, card_top, left + card_width, card_top + card_height)
    radius = int(layout["card_radius"])
    painter.shadow(box, radius)
    painter.shape(box, palette["card"], radius=radius)
    painter.shape(
        (left + padding, card_top + padding, left + padding + bar, card_top + card_height - padding),
        palette.brand,
        radius=bar / 2,
    )
    painter.footer(on_brand=False)
    return PointWords(text, left + padding + bar + gap, card_top + padding)


def draw_header(painter: Painter, height: int) -> None:
    layout, on_brand = painter.layout, painter.palette["on_brand"]
    logo_size = int(layout["logo_size"]) if painter.logo is not None else 0
    # On phones the top of the frame sits under the status bar and the tabs: the
    # header's content is centred below the profile's top zone.
    safe_top = painter.safe_top
    top = safe_top + (height - safe_top - logo_size) / 2
    text_left = painter.content_left + (logo_size + 28 if logo_size else 0)
    # Above the button column the header may use the full width.
    right = painter.width - painter.margin if height <= painter.right_from else painter.content_right
    text_width = right - text_left
    title_font = painter.font("bold", int(layout["header_title_size"]))
    org_font = painter.font("regular", int(layout["header_org_size"]))
    title = ellipsize(painter.job.header_title, text_width, title_font)
    org = ellipsize(painter.job.organization, text_width, org_font)
    title_block = TextBlock([title], title_font, round(title_font.size * 1.3))
    org_block = TextBlock([org], org_font, round(org_font.size * 1.4))
    text_height = title_block.height + org_block.height
    if logo_size:
        painter.logo_tile(painter.content_left, top, logo_size)
    text_top = safe_top + (height - safe_top - text_height) / 2
    painter.write(title_block, text_left, text_top, on_brand)
    painter.write(
        org_block, text_left, text_top + title_block.height, mix(on_brand, painter.palette.brand, 0.2)
    )


def draw_progress(painter: Painter, header: int, current: int, count: int) -> None:
    """Story-style segments under the header: one per key point, those before this one
    filled, and this one filling while it shows (a moving bar)."""
    thickness, gap = int(painter.layout["progress_height"]), 10
    top = header + 24
    # Above the button column (top quarter) the bar spans the width; below it, the content's.
    right = painter.width - painter.margin if top + thickness <= painter.right_from else painter.content_right
    width = (right - painter.content_left - gap * (count - 1)) / count
    done, todo = painter.palette.brand, mix(painter.palette.brand, (255, 255, 255), 0.72)
    for index in range(count):
        left = painter.content_left + index * (width + gap)
        segment = (left, top, left + width, top + thickness)
        if index == current - 1:
            painter.moving_bar(segment, todo, done, radius=thickness / 2)
        else:
            painter.shape(segment, done if index < current else todo, radius=thickness / 2)
