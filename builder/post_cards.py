"""Image posts (图片消息 / 小绿书): 1080×1440 cards and the newspic draft fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

import segno
from PIL import Image, ImageDraw, ImageFont

from builder.model import KeyPoint, SiteConfig
from builder.outputs import (
    post_card_path,
)
from builder.post_pictures import (
    LessonArt,
    _backdrop,
    _blend,
    _draw_lines,
    _save_jpeg,
    backdrop_pattern,
    draw_banded_card,
    draw_centred_line,
    draw_emblem,
    pictogram_image,
    topic_palette,
)
from builder.safety import GroupSelection, _shorten, choose_group_points, lesson_points
from builder.titles import fit_title, load_font, title_tokens

if TYPE_CHECKING:
    from builder.renderers.posts import Post


# -- image posts (图片消息 / 小绿书): cards and newspic fields ---------------------------

CARD_SIZE = (1080, 1440)  # 3:4, what image feeds (小绿书, 小红书) show uncropped
NEWSPIC_IMAGES_MAX = 20  # draft/add: "图片数量最多为20张，首张图片即为封面图"
# The API documents no length for an image post's plain text: 1,000 characters is a
# conservative limit of Kepu's own (a phone screen or two), not a documented one.
NEWSPIC_TEXT_MAX = 1000
CARD_INK = (26, 26, 26)
CARD_GREY = (102, 102, 102)
URGENT_INK = (166, 27, 27)


def _centred_text(
    draw: ImageDraw.ImageDraw, y: float, text: str, font: ImageFont.FreeTypeFont, fill: tuple[int, int, int]
) -> None:
    draw_centred_line(draw, CARD_SIZE[0], y, text, font, fill, margin=60)


def _number_badge(
    draw: ImageDraw.ImageDraw,
    centre: tuple[float, float],
    radius: float,
    number: int,
    fill: tuple[int, int, int],
) -> None:
    cx, cy = centre
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=fill)
    font = load_font("bold", round(radius * 1.1))
    text = str(number)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text((cx - (left + right) / 2, cy - (top + bottom) / 2), text, font=font, fill=(255, 255, 255))


def _qr(draw: ImageDraw.ImageDraw, url: str, box: tuple[int, int, int]) -> None:
    """The lesson's address as a QR code, black on white, ``box`` = (left, top, size)."""
    left, top, size = box
    matrix = segno.make(url, error="m", micro=False).matrix
    modules = len(matrix) + 8  # the standard's 4-module quiet zone on each side
    step = size / modules
    draw.rounded_rectangle((left, top, left + size, top + size), radius=round(step * 2), fill=(255, 255, 255))
    for row, cells in enumerate(matrix):
        for column, cell in enumerate(cells):
            if cell:
                x, y = left + (column + 4) * step, top + (row + 4) * step
                draw.rectangle((round(x), round(y), round(x + step) - 1, round(y + step) - 1), fill=(0, 0, 0))


def draw_title_card(art: LessonArt, post: Post, count: int) -> bytes:
    lesson = post.lesson
    width = CARD_SIZE[0]
    palette = topic_palette(art)
    canvas = Image.new("RGB", CARD_SIZE, palette.base)
    _backdrop(canvas, palette, lesson.slug, backdrop_pattern(art))
    draw = ImageDraw.Draw(canvas)
    soft_ink = _blend(palette.ink, palette.base, 0.25)
    _centred_text(draw, 110, art.config.name, load_font("regular", 40), soft_ink)
    draw_emblem(canvas, art, (width / 2, 480), 230, palette)
    tokens = title_tokens(post.title, art.words)
    layout = fit_title(tokens, width - 160, 420, range(112, 63, -4), 4)
    _draw_lines(draw, layout, (80, 760, width - 80, 1180), palette.ink)
    _centred_text(draw, 1300, f"{count} 条要点 · 向左滑动查看", load_font("regular", 38), soft_ink)
    return _save_jpeg(canvas, 88)


def draw_point_card(art: LessonArt, post: Post, point: KeyPoint, number: int, count: int) -> bytes:
    """One key point: its pictogram (or number), the words large; a safety line in red with a label."""
    width = CARD_SIZE[0]
    palette = topic_palette(art)
    band_font = load_font("bold", 52)
    # The safety label, with its warning sign where the face has one.
    urgent = "⚠ 紧急情况" if band_font.getbbox("⚠")[2] > 0 else "紧急情况"
    canvas, draw, accent = draw_banded_card(
        CARD_SIZE,
        palette,
        point.urgent,
        170,
        80,
        (f"要点 {number}/{count}", band_font),
        (urgent, band_font) if point.urgent else None,
    )
    picture = pictogram_image(art.root, point.icon, 300, accent)
    centre = (width / 2, 480)
    if picture is not None:
        draw.ellipse(
            (centre[0] - 210, centre[1] - 210, centre[0] + 210, centre[1] + 210), fill=(255, 255, 255)
        )
        canvas.paste(picture, (round(centre[0] - 150), round(centre[1] - 150)), picture)
    else:
        _number_badge(draw, centre, 170, number, accent)
    tokens = title_tokens(point.text, art.words)
    layout = fit_title(tokens, width - 160, 560, range(88, 51, -4), 6)
    _draw_lines(draw, layout, (80, 730, width - 80, 1290), URGENT_INK if point.urgent else CARD_INK)
    small = load_font("regular", 34)
    _centred_text(draw, 1350, f"{post.title} · {art.config.organization}", small, CARD_GREY)
    return _save_jpeg(canvas, 88)


def draw_closing_card(art: LessonArt, post: Post) -> bytes:
    """Who tells you this, who checked it, and where the whole lesson is (a QR code to the page)."""
    lesson = post.lesson
    width = CARD_SIZE[0]
    palette = topic_palette(art)
    canvas = Image.new("RGB", CARD_SIZE, palette.base)
    _backdrop(canvas, palette, lesson.slug + "/closing", backdrop_pattern(art) + 1)
    draw = ImageDraw.Draw(canvas)
    soft_ink = _blend(palette.ink, palette.base, 0.2)
    _centred_text(draw, 150, "扫码看完整课程", load_font("bold", 72), palette.ink)
    _qr(draw, post.url, (width // 2 - 230, 290, 460))
    y = 820
    _centred_text(draw, y, art.config.organization, load_font("bold", 56), palette.ink)
    lines = [art.config.contact] if art.config.contact else []
    if lesson.reviewed_by:
        lines.append(f"审核：{lesson.reviewed_by}")
    lines.append("本内容仅供健康科普，不能代替医生面诊")
    regular = load_font("regular", 38)
    for offset, line in enumerate(lines):
        _centred_text(draw, y + 110 + offset * 64, line, regular, soft_ink)
    _centred_text(draw, 1330, art.config.name, load_font("regular", 36), soft_ink)
    return _save_jpeg(canvas, 88)


def card_points(post: Post, red_flags: tuple[str, ...]) -> list[KeyPoint]:
    """The key points that get a card: all of them (at most 8), so 1 + 8 + 1 ≤ 20 images."""
    return lesson_points(post.lesson, red_flags)[: NEWSPIC_IMAGES_MAX - 2]


def draw_cards(art: LessonArt, post: Post) -> list[bytes]:
    points = card_points(post, art.config.red_flags)
    cards = [draw_title_card(art, post, len(points))]
    cards += [
        draw_point_card(art, post, point, number, len(points)) for number, point in enumerate(points, 1)
    ]
    cards.append(draw_closing_card(art, post))
    return cards


def newspic_text(config: SiteConfig, post: Post) -> str:
    """The image post's plain text: summary, the points (safety lines marked, always kept), the link."""
    lesson = post.lesson

    def render_text(selection: GroupSelection, summary: str = lesson.summary) -> str:
        lines = [summary, ""]
        lines += [
            f"{number}. {'⚠️ ' if point.urgent else ''}{point.text}"
            for number, point in enumerate(selection.points, 1)
        ]
        if selection.more:
            lines.append(f"另有 {selection.more} 条要点，见完整课程。")
        lines += ["", f"完整课程：{post.url}", f"—— {config.organization}"]
        return "\n".join(lines)

    points = lesson_points(lesson, config.red_flags)
    selection = choose_group_points(
        points, None, lambda candidate: len(render_text(candidate)) <= NEWSPIC_TEXT_MAX, most=len(points)
    )
    text = render_text(selection)
    if len(text) > NEWSPIC_TEXT_MAX:  # a summary far too long: it is cut, never a safety line
        room = max(len(lesson.summary) - (len(text) - NEWSPIC_TEXT_MAX), 1)
        text = render_text(selection, _shorten(lesson.summary, room))
    return text


def newspic_fields(config: SiteConfig, post: Post, card_count: int) -> dict[str, object]:
    """draft/add's image-post article, less the permanent media ids only ``kepu publish`` has."""
    slug = post.lesson.slug
    return {
        "article_type": "newspic",
        "title": post.title,
        "content": newspic_text(config, post),
        "need_open_comment": int(config.posts.open_comment),
        "only_fans_can_comment": 0,
        # Filled on upload, in this order: the first card is the post's cover.
        "image_info": {"image_list": []},
        "kepu": {
            "lesson": slug,
            "source": post.lesson.source,
            "images": [post_card_path(slug, number) for number in range(1, card_count + 1)],
        },
    }
