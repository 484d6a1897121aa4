"""Daily tips (``tips:`` of a campaign activity): one short group message and one square card a day.

An activity such as "微信群 21天血压自测打卡" lists its tips; the first goes out on the
activity's date, the next the day after, and so on. Each becomes the plain text an
organiser pastes into the residents' group that day and a 1080×1080 card drawn with
the posts' picture craft (topic colours, pictograms, word-boundary title breaking).
A tip with a red-flag word (120, 胸痛 …) is a safety line: it is never shortened and its
card is drawn in red, as key points are everywhere else.
"""

from __future__ import annotations

import datetime as dt
import re

from builder.brand import brand_rgb, contrast_ratio
from builder.diagnostics import Diagnostics
from builder.model import Activity, Campaign, Project, Tip
from builder.post_pictures import (
    URGENT_RED,
    LessonArt,
    TopicPalette,
    _blend,
    _draw_lines,
    _save_jpeg,
    draw_banded_card,
    draw_centred_line,
    draw_emblem,
    topic_palette,
)
from builder.safety import _shorten, red_flag_pattern
from builder.sanitize import RAW_TAG
from builder.schema import FieldReader, describe
from builder.sources import SOURCES_FILE, Registry, claim_findings
from builder.titles import TitleLayout, fit_title, load_font, title_tokens
from builder.yamlpos import YamlMap

TIP_MAX = 60  # characters: a tip is read at a glance, and fits its card at 48 px or more
TIP_SOURCE_MAX = 60
TIPS_MAX = 366  # one a day for a year; a longer list is split into several activities
TIP_KEYS = ("text", "source")
CARD_SIZE = (1080, 1080)  # square: what a group chat shows uncropped
CARD_TITLE_MIN = 48  # px: the tip's words never drop below this
CARD_MARGIN = 80
CARD_INK = (26, 26, 26)
CARD_GREY = (96, 96, 96)
URGENT_INK = (166, 27, 27)
WEEKDAYS = "一二三四五六日"
WHITESPACE = re.compile(r"\s+")


def read_tips(
    item: FieldReader, start: dt.date | None, end: dt.date | None, red_flags: tuple[str, ...]
) -> list[Tip]:
    """The ``tips:`` of an activity starting on ``start``, one a day to the campaign's ``end``.

    Every mistake is reported at its tip's line, all in one pass; a list over
    :data:`TIPS_MAX` is one error at the key (never ten thousand messages).
    """
    if "tips" not in item.data:
        return []
    if "repeat" in item.data:
        item.error(
            "tips", "有 tips 的活动每天自动发一条，不要再写 repeat：删掉 repeat，或把提示放到另一项活动里"
        )
        return []
    value = item.data.get("tips")
    if not isinstance(value, list) or not value:
        item.error("tips", f"'tips' 应是一条条提示的列表（每行“- 一句话”），这里是{describe(value)}")
        return []
    if len(value) > TIPS_MAX:
        item.error(
            "tips",
            f"有 {len(value)} 条提示，一项活动最多 {TIPS_MAX} 条（一天一条、一年为限）：请拆成几项活动",
        )
        return []
    pattern = red_flag_pattern(red_flags)
    tips: list[Tip] = []
    seen: dict[str, int] = {}
    for day, (entry, line) in enumerate(item.items("tips", required=False), start=1):
        where = f"第 {day} 条提示"
        text, source, source_line = _tip_fields(item, entry, line, where)
        if text is None:
            continue
        if not text:
            item.diagnostics.error(item.path, line, item._prefix(f"{where}是空的：写一句话，或删掉这一行"))
            continue
        if len(text) > TIP_MAX:
            item.diagnostics.error(
                item.path, line,
                item._prefix(f"{where}有 {len(text)} 个字（“{_shorten(text, 20)}”），最多 {TIP_MAX} 个字：写短些，或拆成两天"),
            )  # fmt: skip
            continue
        if source is not None and len(source) > TIP_SOURCE_MAX:
            item.diagnostics.error(
                item.path,
                source_line,
                item._prefix(f"{where}的来源有 {len(source)} 个字，最多 {TIP_SOURCE_MAX} 个字"),
            )
            continue
        for what, written, at in (("", text, line), ("的来源", source, source_line)):
            if written and RAW_TAG.search(written):  # shown as typed, on the card and in the group
                item.diagnostics.warning(
                    item.path,
                    at,
                    item._prefix(f"{where}{what}里的 HTML 不会生效，会按原样显示成文字：这里只写纯文字"),
                )
        if text in seen:
            item.diagnostics.warning(
                item.path, line, item._prefix(f"{where}和第 {seen[text]} 条一样：群里会连发两遍")
            )
        seen.setdefault(text, day)
        if start is None:
            continue
        date = start + dt.timedelta(days=day - 1)
        if end is not None and date > end:
            item.diagnostics.error(
                item.path, line,
                item._prefix(f"提示比天数多：{where}要在 {date} 发，已过了活动结束日 {end}"
                             f"（从 {start} 起只有 {(end - start).days + 1} 天，共写了 {len(value)} 条）"),
            )  # fmt: skip
            break
        urgent = bool(pattern and pattern.search(text))
        tips.append(Tip(text, date, day, line, source, urgent))
    return tips


def _tip_fields(
    item: FieldReader, entry: object, line: int, where: str
) -> tuple[str | None, str | None, int]:
    """(text, source, the source's line) of one list item: a line of text or ``{text:, source:}``."""
    if isinstance(entry, YamlMap):
        reader = FieldReader(entry, item.path, item.diagnostics, item.where)
        reader.check_keys(TIP_KEYS)
        text = reader.text("text")
        source = reader.text("source", required=False)
        return (WHITESPACE.sub(" ", text) if text is not None else None), source, reader.line("source")
    if isinstance(entry, dict | list | bool | dt.date) or entry is None:
        message = (
            "是空的：写一句话，或删掉这一行" if entry is None else f"应是一句话，这里是{describe(entry)}"
        )
        item.diagnostics.error(item.path, line, item._prefix(f"{where}{message}"))
        return None, None, line
    return WHITESPACE.sub(" ", str(entry)).strip(), None, line


def tip_day_clashes(campaign_path: str, activities: list[Activity], diagnostics: Diagnostics) -> None:
    """One message a day: two activities whose tips fall on the same day are an error at the second."""
    taken: dict[dt.date, tuple[int, str]] = {}
    for number, activity in enumerate(activities):
        for tip in activity.tips:
            owner, other = taken.setdefault(tip.date, (number, activity.title))
            if owner != number:
                diagnostics.error(
                    campaign_path, tip.line,
                    f"活动「{activity.title}」第 {tip.day} 条提示和「{other}」的提示都在 {tip.date}："
                    "每天只发一条群消息，请错开日期",
                )  # fmt: skip
                return


def tip_source_warnings(project: Project, diagnostics: Diagnostics) -> None:
    """For ``kepu check``: figures the registry's claims contradict, and sources it does not know or has replaced."""
    registry = project.sources or Registry()
    for campaign in project.campaigns:
        tips = [tip for activity in tip_activities(campaign) for tip in activity.tips]
        for finding in claim_findings(registry, [(tip.line, tip.text) for tip in tips]):
            diagnostics.warning(campaign.source, finding.line, finding.message)
        for tip in tips:
            if not (registry.present and tip.source):
                continue
            cited = registry.cited_in(f"《{tip.source}》")
            if not cited:
                diagnostics.warning(
                    campaign.source, tip.line,
                    f"第 {tip.day} 条提示的来源「{tip.source}」没有在 {SOURCES_FILE} 里登记：写登记表里的书名",
                )  # fmt: skip
            elif registry.current(cited[0]) is not cited[0]:
                current = registry.current(cited[0])
                diagnostics.warning(
                    campaign.source, tip.line,
                    f"第 {tip.day} 条提示引用的《{cited[0].title}》已被《{current.title}》取代：请按新版核对",
                )  # fmt: skip


# -- what is published ---------------------------------------------------------------


def tip_activities(campaign: Campaign) -> list[Activity]:
    return [activity for activity in campaign.activities if activity.tips]


def tip_message(project: Project, campaign: Campaign, activity: Activity, tip: Tip, limit: int) -> str:
    """The day's group message, within ``limit`` characters: the tip itself is never the part cut."""
    head = f"【{activity.title} · 第 {tip.day} 天】{_weekday_date(tip.date)}"
    body = f"⚠️ {tip.text}" if tip.urgent else tip.text
    source = f"（来源：{tip.source}）" if tip.source else ""
    foot = f"—— {campaign.organizer}"
    for parts in ((head, body, source, foot), (head, body, source), (head, body), (body,)):
        text = "\n".join(part for part in parts if part) + "\n"
        if len(text) <= limit:
            return text
    return body + "\n"  # the load-time limit (TIP_MAX) keeps a tip far under any group limit


def _weekday_date(day: dt.date) -> str:
    return f"{day.month}月{day.day}日 周{WEEKDAYS[day.weekday()]}"


def tip_palette(project: Project, art: LessonArt | None) -> TopicPalette:
    """The colours of the activity's first lesson (its topic's hue), else the brand's own."""
    if art is not None:
        return topic_palette(art)
    base = brand_rgb(project.config.brand_color)
    while contrast_ratio(base, (255, 255, 255)) < 4.5:  # white text must read on it
        base = _blend(base, (0, 0, 0), 0.08)
    return TopicPalette(
        base=base,
        deep=_blend(base, (0, 0, 0), 0.25),
        tint=_blend(base, (255, 255, 255), 0.9),
        soft=_blend(base, (255, 255, 255), 0.2),
        ink=(255, 255, 255),
    )


def _keep_units(tokens: list[str]) -> list[str]:
    """A figure and its Latin unit stay on one line: "135/85 mmHg", never "135/85" / "mmHg"."""
    kept: list[str] = []
    for token in tokens:
        if (
            len(kept) >= 2
            and kept[-1] == " "
            and kept[-2][-1:].isdigit()
            and token[:1].isascii()
            and token[:1].isalpha()
        ):
            kept[-2:] = [kept[-2] + " " + token]
        else:
            kept.append(token)
    return kept


EMBLEM_TOP = 190
EMBLEM_RADIUS = 110


def tip_box(activity: Activity, tip: Tip) -> tuple[int, int, int, int]:
    """Where the tip's words go: below the emblem (when the activity has a lesson), above the footer."""
    width, height = CARD_SIZE
    top = EMBLEM_TOP + 2 * EMBLEM_RADIUS + 30 if activity.lessons else EMBLEM_TOP
    return CARD_MARGIN, top, width - CARD_MARGIN, height - (230 if tip.source else 160)


def tip_layout(words: tuple[str, ...], text: str, room: tuple[int, int]) -> TitleLayout:
    """The tip broken between words (never a 。，、 at a line start), as large as fits, 48 px at least.

    ``words``: the project's terms (``tuple(user_dictionary(project))``), never cut inside.
    """
    tokens = _keep_units(title_tokens(text, words))
    return fit_title(tokens, room[0], room[1], range(88, CARD_TITLE_MIN - 1, -4), 6)


def draw_tip_card(
    project: Project, campaign: Campaign, activity: Activity, tip: Tip, words: tuple[str, ...]
) -> bytes:
    """1080×1080: a band with the day and date, the lesson's emblem, the tip large, its source small."""
    width, height = CARD_SIZE
    art = LessonArt.of(project, activity.lessons[0], words) if activity.lessons else None
    palette = tip_palette(project, art)
    label = f"第 {tip.day} 天 · 急救提示" if tip.urgent else f"第 {tip.day} 天"
    canvas, draw, _accent = draw_banded_card(
        CARD_SIZE,
        palette,
        tip.urgent,
        150,
        CARD_MARGIN,
        (label, load_font("bold", 52)),
        (_weekday_date(tip.date), load_font("regular", 42)),
    )
    if art is not None:
        emblem_palette = TopicPalette(palette.base, palette.deep, (255, 255, 255), palette.soft, palette.ink)
        if tip.urgent:
            emblem_palette = TopicPalette(URGENT_RED, URGENT_RED, (255, 255, 255), URGENT_RED, palette.ink)
        draw_emblem(canvas, art, (width / 2, EMBLEM_TOP + EMBLEM_RADIUS), EMBLEM_RADIUS, emblem_palette)
    box = tip_box(activity, tip)
    layout = tip_layout(words, tip.text, (box[2] - box[0], box[3] - box[1]))
    _draw_lines(draw, layout, box, URGENT_INK if tip.urgent else CARD_INK)
    small = load_font("regular", 32)
    if tip.source:
        draw_centred_line(draw, width, height - 200, f"来源：{tip.source}", small, CARD_GREY, CARD_MARGIN)
    organised = f"{activity.title} · {campaign.organizer}"
    draw_centred_line(draw, width, height - 120, organised, small, CARD_GREY, CARD_MARGIN)
    return _save_jpeg(canvas, 90)
