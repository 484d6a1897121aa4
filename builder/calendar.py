"""A campaign in time: its posting calendar (iCalendar), its schedule (CSV) and the
timeline its printed plan draws.

Shared by the posts renderer (calendar.ics, schedule.csv), the print renderer (the
plan's timeline) and ``kepu publish wechat`` (which activities are posts). Not a
renderer: it makes bytes and numbers, the renderers decide where they go.
Everything here is reproducible: no clock, no random ids.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneStandard

from builder.labels import short_weekday
from builder.model import Activity, Campaign, Project
from builder.outputs import (
    CAMPAIGN_TIPS,
    board_path,
    campaign_tip_path,
    lesson_post_path,
    lesson_print_path,
    lesson_video_path,
    pocket_card_path,
    slides_path,
)

TIMEZONE = "Asia/Shanghai"
WECHAT_CHANNEL = ("wechat", "公众号")  # id or label of the channel that gets posts
# Which artifact an activity of a channel uses (by channel id or label), first match
# wins; any other channel (义诊, 讲座 …) hands out the printed flyer.
CHANNEL_MATERIAL = (
    (frozenset(WECHAT_CHANNEL), lambda slug: lesson_post_path(slug, "post-html")),
    (frozenset({"group", "微信群"}), lambda slug: lesson_post_path(slug, "group-text")),
    (frozenset({"video", "短视频"}), lambda slug: lesson_video_path(slug, "video")),
    # A board is read from metres away: the 展板 made for it, never an A4 flyer pinned up.
    (frozenset({"board", "宣传栏"}), lambda slug: board_path(slug, "board-pdf")),
    # A free clinic is one conversation after another: a card to take home, not a flyer to skim.
    (frozenset({"clinic", "义诊"}), lambda slug: pocket_card_path(slug, "pocket-card-pdf")),
    # A training session is taught from the deck; its flyer is for the participants.
    (frozenset({"training", "培训"}), lambda slug: slides_path(slug, "slides-pptx")),
)


def is_wechat_channel(activity: Activity) -> bool:
    return activity.channel.id in WECHAT_CHANNEL or activity.channel.label in WECHAT_CHANNEL


def recommended_material(activity: Activity, lesson_slug: str) -> str:
    """Which artifact an activity of this channel uses, by channel id or label."""
    channel = {activity.channel.id, activity.channel.label}
    for names, path in CHANNEL_MATERIAL:
        if channel & names:
            return path(lesson_slug)
    return lesson_print_path(lesson_slug, "flyer-pdf")


# -- iCalendar -----------------------------------------------------------------------


def activity_times(activity: Activity) -> tuple[dt.datetime, dt.datetime | None] | None:
    """Start and end (or None) in Asia/Shanghai, or None for an all-day activity."""
    if not activity.time:
        return None
    zone = ZoneInfo(TIMEZONE)
    start_text, _, end_text = activity.time.partition("-")

    def at(text: str) -> dt.datetime:
        hours, minutes = (int(part) for part in text.split(":"))
        return dt.datetime.combine(activity.date, dt.time(hours, minutes), tzinfo=zone)

    return at(start_text), (at(end_text) if end_text else None)


def _shanghai_timezone() -> Timezone:
    """VTIMEZONE for Asia/Shanghai: UTC+8 all year (no daylight saving since 1991)."""
    zone = Timezone()
    zone.add("tzid", TIMEZONE)
    standard = TimezoneStandard()
    standard.add("dtstart", dt.datetime(1970, 1, 1))
    standard.add("tzoffsetfrom", dt.timedelta(hours=8))
    standard.add("tzoffsetto", dt.timedelta(hours=8))
    standard.add("tzname", "CST")
    zone.add_component(standard)
    return zone


def campaign_calendar(project: Project, campaign: Campaign) -> bytes:
    """RFC 5545 calendar: one event per activity (one with an RRULE per recurring one), timed in Asia/Shanghai or all-day."""
    config = project.config
    host = urlsplit(config.url).hostname or "kepu"
    calendar = Calendar()
    calendar.add("prodid", "-//Kepu//posts renderer//ZH-CN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", campaign.title)
    calendar.add("x-wr-timezone", TIMEZONE)
    calendar.add_component(_shanghai_timezone())
    # DTSTAMP must be a UTC time; the campaign's first day keeps the file reproducible.
    stamp = dt.datetime.combine(campaign.start, dt.time(0, 0), tzinfo=dt.UTC)
    for activity in campaign.activities:
        if activity.occurrence > 1:
            continue  # the first date of a series carries the RRULE for all of them
        event = Event()
        digest = hashlib.sha256(f"{activity.date}|{activity.title}".encode()).hexdigest()[:16]
        event.add("uid", f"{campaign.slug}-{activity.date:%Y%m%d}-{digest}@{host}")
        event.add("dtstamp", stamp)
        event.add("summary", activity.title)
        times = activity_times(activity)
        if times is None:
            event.add("dtstart", activity.date)
            event.add("dtend", activity.date + dt.timedelta(days=1))
        else:
            start, end = times
            event.add("dtstart", start)
            if end is not None:
                event.add("dtend", end)
        if activity.repeat is not None:
            event.add("rrule", _series_rule(campaign, activity, times))
        if activity.place:
            event.add("location", activity.place)
        event.add("categories", [activity.channel.label])
        event.add("description", _activity_description(project, campaign, activity))
        if activity.lessons:
            event.add("url", config.url + activity.lessons[0].site_path)
        calendar.add_component(event)
    return calendar.to_ical()


def series_of(campaign: Campaign, first: Activity) -> list[Activity]:
    """Every occurrence of the recurring activity whose first occurrence is ``first``."""
    return [a for a in campaign.activities if a.repeat == first.repeat and a.line == first.line]


def _series_rule(
    campaign: Campaign, first: Activity, times: tuple[dt.datetime, dt.datetime | None] | None
) -> dict[str, object]:
    """The RRULE of a series, ending on its last start (UTC for a timed event, as RFC 5545 wants)."""
    assert first.repeat is not None
    last = series_of(campaign, first)[-1]
    if times is None:
        return first.repeat.rrule(last.date)
    last_times = activity_times(last)
    assert last_times is not None
    return first.repeat.rrule(last_times[0].astimezone(dt.UTC))


def _activity_description(project: Project, campaign: Campaign, activity: Activity) -> str:
    lines = []
    if activity.description:
        lines.append(activity.description)
    lines.append(f"渠道：{activity.channel.label}")
    if activity.audiences:
        lines.append("对象：" + "、".join(term.label for term in activity.audiences))
    series = series_of(campaign, activity) if activity.repeat else [activity]
    if activity.repeat is not None:
        rule = activity.repeat.describe()
        lines.append(f"重复：{rule}" + ("" if activity.repeat.count else f"，共 {len(series)} 次"))
    lessons = {lesson.slug: lesson for occurrence in series for lesson in occurrence.lessons}
    for lesson in lessons.values():
        lines.append(f"课程：《{lesson.title}》 {project.config.url}{lesson.site_path}")
    lines.append(f"活动：{campaign.title}（{campaign.organizer}）")
    return "\n".join(lines)


# -- the schedule spreadsheet --------------------------------------------------------

SCHEDULE_COLUMNS = (
    "日期", "星期", "时间", "渠道", "活动", "地点", "课程", "课程标题", "推荐素材",
    "公众号文章", "草稿数据", "封面", "群消息", "群消息配图",
    "传单PDF（print 输出，按约定路径）", "短视频（video 输出，按约定路径）",
)  # fmt: skip
# The artifact columns after 推荐素材: posts, then the print flyer and the video.
SCHEDULE_POSTS = ("post-html", "post-json", "post-cover", "group-text", "post-thumb")
# A cell Excel or WPS would read as a formula (=HYPERLINK(…) from a campaign file runs
# when the schedule is opened). OWASP's advice: prefix such a cell with a quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(cell: str) -> str:
    """``cell`` as text a spreadsheet shows, never evaluates."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def campaign_schedule(project: Project, campaign: Campaign) -> bytes:
    """The posting calendar as CSV (UTF-8 with BOM, so Excel and WPS show the Chinese).

    One row per activity and lesson. Post paths are produced by the posts renderer;
    the flyer and video paths are those of the print and video renderers, which
    exist only when those outputs are built too (the headers say so).
    """
    rows: list[list[str]] = []
    for activity in campaign.activities:
        common = [
            activity.date.isoformat(),
            short_weekday(activity.date),
            activity.time or "全天",
            activity.channel.label,
            activity.title,
            activity.place or "",
        ]
        if not activity.lessons:
            rows.append([*common, "", "", "", *[""] * 7])
        for lesson in activity.lessons:
            rows.append(
                [
                    *common,
                    lesson.slug,
                    lesson.title,
                    recommended_material(activity, lesson.slug),
                    *(lesson_post_path(lesson.slug, kind) for kind in SCHEDULE_POSTS),
                    lesson_print_path(lesson.slug, "flyer-pdf"),
                    lesson_video_path(lesson.slug, "video"),
                ]
            )
        # A tip series is a message a day: each day is a row, so whoever posts sees that day's text and card.
        for tip in activity.tips:
            text, card = (campaign_tip_path(campaign.slug, tip.date.isoformat(), kind) for kind in CAMPAIGN_TIPS)
            rows.append(
                [
                    tip.date.isoformat(), short_weekday(tip.date), "全天", activity.channel.label,
                    f"{activity.title}·第{tip.day}天", activity.place or "", "", "", text,
                    "", "", "", text, card, "", "",
                ]
            )  # fmt: skip
    rows.sort(key=lambda row: row[0])  # by date; stable, so one day keeps the plan's order
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([spreadsheet_text(cell) for cell in row] for row in [list(SCHEDULE_COLUMNS), *rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# -- the printed plan's timeline -----------------------------------------------------


@dataclass(frozen=True)
class TimelineBar:
    name: str
    start: dt.date
    end: dt.date
    days: int
    left_pct: float
    width_pct: float


@dataclass(frozen=True)
class TimelineMark:
    activity: Activity
    left_pct: float


@dataclass(frozen=True)
class CampaignTimeline:
    bars: list[TimelineBar]
    marks: list[TimelineMark]
    months: list[tuple[str, float]]  # label and left %


def campaign_timeline(campaign: Campaign) -> CampaignTimeline:
    """Phase bars and activity marks positioned in percent of the campaign's span."""
    span = (campaign.end - campaign.start).days + 1

    def pct(day: dt.date) -> float:
        return round(100 * (day - campaign.start).days / span, 2)

    bars = [
        TimelineBar(
            phase.name,
            phase.start,
            phase.end,
            (phase.end - phase.start).days + 1,
            pct(phase.start),
            round(100 * ((phase.end - phase.start).days + 1) / span, 2),
        )
        for phase in campaign.phases
    ]
    marks = [
        TimelineMark(activity, pct(activity.date) + round(50 / span, 2)) for activity in campaign.activities
    ]
    starts = [campaign.start]
    while (next_month := (starts[-1].replace(day=1) + dt.timedelta(days=32)).replace(day=1)) <= campaign.end:
        starts.append(next_month)
    every = -(-len(starts) // 12)  # more than 12 labels would run into each other
    months = [(f"{day.month}月{day.day}日", pct(day)) for day in starts[::every]]
    return CampaignTimeline(bars, marks, months)
