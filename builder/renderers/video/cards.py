"""The title card (logo, kicker, title, summary, audiences) and the closing card (QR code, who made it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import segno
from PIL import Image

from builder.renderers.video.canvas import Drawn, Painter, TextBlock
from builder.renderers.video.job import Slide
from builder.renderers.video.style import RGBA, mix

QR_ERROR_CORRECTION = "m"  # as on the printed flyers: survives a glare on a screen
QR_QUIET_ZONE = 4  # modules, as the QR standard asks


def title_card(painter: Painter) -> None:
    """Logo, organisation, kicker, title and audiences on the brand colour."""
    painter.gradient_background()
    layout, palette = painter.layout, painter.palette
    on_brand = palette["on_brand"]
    region_top = max(painter.margin * 1.5, painter.safe_top + painter.margin * 0.5)
    region_bottom = painter.caption_top() - painter.margin * 0.5
    logo_size = int(layout["title_logo_size"]) if painter.logo is not None else 0

    if painter.landscape:
        # Logo and organisation on the left, the words on the right.
        left_width = logo_size + painter.margin
        text_left = painter.content_left + left_width + painter.margin
        text_width = painter.content_right - text_left
        parts = title_parts(painter, text_width, align="left")
        if sum(height for height, _ in parts) > region_bottom - region_top:
            parts = title_parts(painter, text_width, align="left", summary=False)
        total = sum(height for height, _ in parts)
        top = max(region_top, region_top + (region_bottom - region_top - total) / 2)
        org = painter.fit_text(
            painter.job.organization,
            "regular",
            int(layout["title_org_size"]),
            28,
            left_width + painter.margin,
            2,
        )
        column = logo_size + 30 + org.height
        column_top = region_top + (region_bottom - region_top - column) / 2
        centre = painter.content_left + left_width / 2
        painter.logo_tile(centre - logo_size / 2, column_top, logo_size)
        painter.write(org, centre, column_top + logo_size + 30, on_brand, align="center")
        for height, draw_part in parts:
            draw_part(text_left, top)
            top += height
    else:
        org = painter.fit_text(
            painter.job.organization,
            "regular",
            int(layout["title_org_size"]),
            28,
            painter.content_width,
            2,
        )

        def column(logo: int, summary: bool) -> list[tuple[float, Callable[[float, float], None]]]:
            return [
                (logo + 36 if logo else 0, lambda x, y: painter.logo_tile(x - logo / 2, y, logo)),
                (org.height + 60, lambda x, y: painter.write(org, x, y, on_brand, align="center")),
                *title_parts(painter, painter.content_width, align="center", summary=summary),
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
            draw_part(painter.centre, top)
            top += height
    time_bar(painter)
    painter.footer(on_brand=True)


def title_parts(
    painter: Painter, width: float, align: Literal["left", "center"], summary: bool = True
) -> list[tuple[float, Callable[[float, float], None]]]:
    """Kicker label, title and audience chips as (height, draw at x, top) pieces."""
    layout, palette = painter.layout, painter.palette
    kicker_font = painter.font("bold", int(layout["kicker_size"]))
    kicker_text = painter.job.style.text["kicker"]
    kicker_pad = round(kicker_font.size * 0.6)
    kicker_height = round(kicker_font.size * 1.7)
    kicker_width = kicker_font.getlength(kicker_text) + 2 * kicker_pad

    def draw_kicker(x: float, y: float) -> None:
        left = x - kicker_width / 2 if align == "center" else x
        painter.shape(
            (left, y, left + kicker_width, y + kicker_height), palette["accent"], radius=kicker_height / 2
        )
        block = TextBlock([kicker_text], kicker_font, kicker_height)
        painter.write(block, left + kicker_width / 2, y, palette["accent_ink"], align="center")

    title = painter.fit_title(
        painter.job.title,
        int(layout["title_size"]),
        int(layout["title_min_size"]),
        width,
        int(layout["title_max_lines"]),
    )
    parts: list[tuple[float, Callable[[float, float], None]]] = [
        (kicker_height + 44, draw_kicker),
        (title.height + 36, lambda x, y: painter.write(title, x, y, palette["on_brand"], align=align)),
    ]
    if painter.job.summary and summary:
        summary_block = painter.fit_text(
            painter.job.summary,
            "regular",
            int(layout["summary_size"]),
            int(layout["summary_size"]) - 8,
            width * 0.94,
            int(layout["summary_max_lines"]),
            leading=1.5,
        )
        soft = mix(palette["on_brand"], palette.brand, 0.16)
        parts.append(
            (summary_block.height + 44, lambda x, y: painter.write(summary_block, x, y, soft, align=align))
        )
    if painter.job.audiences:
        rows = chip_rows(painter, width)
        chip_height = round(int(layout["chip_size"]) * 1.8)
        parts.append((len(rows) * (chip_height + 18), lambda x, y: draw_chips(painter, rows, x, y, align)))
    return parts


def chip_rows(painter: Painter, width: float) -> list[list[str]]:
    """Audience labels, preceded by "适合", split into rows that fit ``width``."""
    font = painter.font("bold", int(painter.layout["chip_size"]))
    gap, pad = 16, round(font.size * 0.7)
    labels = [painter.job.style.text["audiences_label"], *painter.job.audiences]
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


def draw_chips(painter: Painter, rows: list[list[str]], x: float, y: float, align: str) -> None:
    font = painter.font("bold", int(painter.layout["chip_size"]))
    gap, pad = 16, round(font.size * 0.7)
    chip_height = round(font.size * 1.8)
    first = True  # the "适合" word leads the first row as plain text; each audience is a pill
    for row in rows:
        widths = [font.getlength(label) + 2 * pad for label in row]
        left = x - (sum(widths) + gap * (len(row) - 1)) / 2 if align == "center" else x
        for label, chip_width in zip(row, widths, strict=True):
            if not first:
                painter.shape(
                    (left, y, left + chip_width, y + chip_height),
                    (255, 255, 255, 46),
                    radius=chip_height / 2,
                )
            block = TextBlock([label], font, chip_height)
            painter.write(block, left + chip_width / 2, y, painter.palette["on_brand"], align="center")
            left += chip_width + gap
            first = False
        y += chip_height + 18


def hook_card(painter: Painter, slide: Slide) -> None:
    """The first 1–2 s: the lesson's most striking number, big, with the phrase it stands in
    (or the question the lesson answers), so a viewer scrolling past stops."""
    painter.gradient_background()
    layout, palette = painter.layout, painter.palette
    label_font = painter.font("bold", int(layout["kicker_size"]))
    label_text = painter.job.style.text["hook_label"]
    label_height = round(label_font.size * 1.7)
    label_width = label_font.getlength(label_text) + 2 * round(label_font.size * 0.6)
    figure = (
        painter.fit_text(
            slide.figure, "bold", int(layout["hook_figure_size"]), 96, painter.content_width, 1, leading=1.2
        )
        if slide.figure
        else None
    )
    words = painter.fit_text(
        slide.caption,
        "bold",
        int(layout["hook_size"]),
        int(layout["hook_min_size"]),
        painter.content_width,
        3,
        leading=1.36,
    )
    gap = 48
    total = label_height + gap + (figure.height + gap // 2 if figure else 0) + words.height
    region_top = max(painter.margin * 1.5, painter.safe_top + painter.margin * 0.5)
    region_bottom = painter.caption_top() - painter.margin * 0.5
    top = max(region_top, region_top + (region_bottom - region_top - total) / 2)
    centre = painter.centre
    painter.shape(
        (centre - label_width / 2, top, centre + label_width / 2, top + label_height),
        palette["accent"],
        radius=label_height / 2,
    )
    painter.write(
        TextBlock([label_text], label_font, label_height), centre, top, palette["accent_ink"], align="center"
    )
    top += label_height + gap
    if figure is not None:
        painter.write(figure, centre, top, palette["accent"], align="center")
        top += figure.height + gap // 2
    painter.write(words, centre, top, palette["on_brand"], align="center")
    time_bar(painter)


def time_bar(painter: Painter) -> None:
    """A short bar between the card's words and the captions that fills while the card
    shows: how long until the next one (a moving bar, see Painter.moving_bar)."""
    width = painter.content_width * 0.3
    middle = painter.caption_top() - painter.margin * 0.25
    thickness = 8
    painter.moving_bar(
        (
            painter.centre - width / 2,
            middle - thickness / 2,
            painter.centre + width / 2,
            middle + thickness / 2,
        ),
        (255, 255, 255, 64),
        painter.palette["accent"],
        radius=thickness / 2,
    )


def closing_card(painter: Painter) -> None:
    """Where to read the whole lesson — the QR code to its page on a white card, or, where the
    platform frowns on off-site codes, the name to search for — and who made the video."""
    painter.gradient_background()
    layout, palette = painter.layout, painter.palette
    on_brand, soft = palette["on_brand"], mix(palette["on_brand"], palette.brand, 0.2)
    with_qr = painter.job.closing_qr(painter.orientation)
    text = painter.job.style.text
    heading_key = "closing_heading" if with_qr else "closing_heading_no_qr"
    # (words, weight, the style's size, the smallest size, lines) of each block, fitted in this order.
    blocks = (
        (text[heading_key], "bold", "closing_heading_size", 48, 1),
        (painter.job.organization, "bold", "closing_org_size", 32, 2),
        (painter.job.contact, "regular", "closing_contact_size", 28, 2),
    )
    heading, org, contact = (
        painter.fit_text(words, weight, int(layout[size]), smallest, painter.content_width, lines)
        for words, weight, size, smallest, lines in blocks
    )
    hint_font = painter.font("regular", round(int(layout["closing_title_size"]) * 0.75))
    hint = TextBlock(
        [text["closing_hint" if with_qr else "closing_hint_no_qr"]], hint_font, round(hint_font.size * 1.5)
    )
    pad = 44
    region_top = max(painter.margin, painter.safe_top + painter.margin * 0.5)
    region_bottom = painter.caption_top() - painter.margin * 0.5
    dark = mix(palette.brand_dark, (0, 0, 0), 0.4)

    if not with_qr:
        search_card(painter, heading, hint, org, contact, region_top, region_bottom)
    elif painter.landscape:
        qr = qr_image(painter.job.page_url, int(layout["qr_size"]), dark)
        card_width = qr.width + 2 * pad
        text_left = painter.content_left + painter.margin + card_width + painter.margin
        text_width = painter.content_right - text_left
        title = painter.fit_title(painter.job.title, int(layout["closing_title_size"]), 32, text_width, 2)
        card_height = qr.height + 2 * pad
        column = heading.height + 24 + title.height + hint.height + 56 + org.height + contact.height
        card_top = region_top + (region_bottom - region_top - card_height) / 2
        qr_card(painter, qr, painter.content_left + painter.margin, card_top, pad, card_height)
        top = region_top + (region_bottom - region_top - column) / 2
        for block, colour, gap in (
            (heading, on_brand, 24),
            (title, on_brand, 0),
            (hint, soft, 56),
            (org, on_brand, 0),
            (contact, soft, 0),
        ):
            painter.write(block, text_left, top, colour)
            top += block.height + gap
    else:
        # The QR code takes what the safe area leaves after the words, up to qr_size.
        largest = int(layout["qr_size"])
        title = painter.fit_title(painter.job.title, int(layout["closing_title_size"]), 32, largest, 2)
        words = heading.height + 40 + 2 * pad + title.height + hint.height + 48 + org.height + contact.height
        qr = qr_image(painter.job.page_url, min(largest, round(region_bottom - region_top - words)), dark)
        card_width = qr.width + 2 * pad
        card_height = qr.height + pad + title.height + hint.height + pad
        total = heading.height + 40 + card_height + 48 + org.height + contact.height
        top = region_top + (region_bottom - region_top - total) / 2
        centre = painter.centre
        painter.write(heading, centre, top, on_brand, align="center")
        card_top = top + heading.height + 40
        qr_card(painter, qr, centre - card_width / 2, card_top, pad, card_height)
        painter.write(title, centre, card_top + pad + qr.height, palette["ink"], align="center")
        painter.write(
            hint, centre, card_top + pad + qr.height + title.height, palette["muted"], align="center"
        )
        top = card_top + card_height + 48
        painter.write(org, centre, top, on_brand, align="center")
        painter.write(contact, centre, top + org.height, soft, align="center")
    time_bar(painter)
    painter.footer(on_brand=True)


def search_card(
    painter: Painter,
    heading: TextBlock,
    hint: TextBlock,
    org: TextBlock,
    contact: TextBlock,
    region_top: float,
    region_bottom: float,
) -> None:
    """The closing card without a QR code: the site's name to search for, big, on a white card."""
    layout, palette = painter.layout, painter.palette
    pad = 56
    inner = painter.content_width - 2 * pad
    site = painter.fit_title(painter.job.site_name, int(layout["closing_site_size"]), 44, inner, 2)
    title = painter.fit_title(f"《{painter.job.title}》", int(layout["closing_title_size"]), 32, inner, 2)
    card_width = min(painter.content_width, max(site.width, title.width, hint.width) + 2 * pad)
    card_height = pad + site.height + 20 + title.height + hint.height + pad
    total = heading.height + 40 + card_height + 48 + org.height + contact.height
    top = region_top + (region_bottom - region_top - total) / 2
    centre = painter.centre
    on_brand, soft = palette["on_brand"], mix(palette["on_brand"], palette.brand, 0.2)
    painter.write(heading, centre, top, on_brand, align="center")
    card_top = top + heading.height + 40
    box = (centre - card_width / 2, card_top, centre + card_width / 2, card_top + card_height)
    painter.shadow(box, 36, blur=26, drop=16)
    painter.shape(box, palette["card"], radius=36)
    y = card_top + pad
    painter.write(site, centre, y, palette.brand_dark, align="center")
    y += site.height + 20
    painter.write(title, centre, y, palette["ink"], align="center")
    painter.write(hint, centre, y + title.height, palette["muted"], align="center")
    top = card_top + card_height + 48
    painter.write(org, centre, top, on_brand, align="center")
    painter.write(contact, centre, top + org.height, soft, align="center")


def qr_card(painter: Painter, qr: Image.Image, left: float, top: float, pad: int, height: float) -> None:
    box = (left, top, left + qr.width + 2 * pad, top + height)
    painter.shadow(box, 36, blur=26, drop=16)
    painter.shape(box, painter.palette["card"], radius=36)
    painter.image.paste(qr, (round(left + pad), round(top + pad)))
    painter.drawn.append(
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
