"""Loading and validating campaign plans from ``content/campaigns/``.

A campaign is read after every lesson, so its activities' ``lessons:`` lists
resolve against the lessons found; every mistake names the line of its key.
"""

from __future__ import annotations

import datetime as dt
import re

from builder.content import (
    SUMMARY_MAX,
    SourceFile,
    body_images,
    read_terms,
    resolve_lessons,
    text_html_warning,
)
from builder.diagnostics import Diagnostics
from builder.model import Activity, Campaign, Goal, Lesson, Phase, SiteConfig
from builder.schema import FieldReader

CAMPAIGN_KEYS = (
    "title", "summary", "audiences", "start", "end", "organizer", "goals", "phases", "activities",
)  # fmt: skip
ACTIVITY_KEYS = ("title", "date", "time", "place", "channel", "lessons", "audiences", "description")

TIME_RANGE = re.compile(r"^(\d{1,2}):(\d{2})(?:\s*[-–~至]\s*(\d{1,2}):(\d{2}))?$")


def read_time(reader: FieldReader) -> str | None:
    value = reader.raw("time", required=False)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 14:00 as the base-60 number 840.
        value = f"{value // 60:02d}:{value % 60:02d}"
    match = TIME_RANGE.match(str(value).strip())
    if not match:
        reader.error("time", f'时间 \'{value}\' 应写成 "14:00-15:30" 或 "14:00"（加引号）')
        return None
    hours = [int(h) for h in match.group(1, 3) if h is not None]
    minutes = [int(m) for m in match.group(2, 4) if m is not None]
    if any(h > 23 for h in hours) or any(m > 59 for m in minutes):
        reader.error("time", f"时间 '{value}' 不存在")
        return None
    if len(hours) == 2 and (hours[1], minutes[1]) <= (hours[0], minutes[0]):
        reader.error("time", f"时间 '{value}' 的结束早于开始")
        return None
    start = f"{hours[0]:02d}:{minutes[0]:02d}"
    return f"{start}-{hours[1]:02d}:{minutes[1]:02d}" if len(hours) == 2 else start


def _within(day: dt.date | None, start: dt.date | None, end: dt.date | None) -> bool:
    return day is None or start is None or end is None or start <= day <= end


def load_campaign(
    src: SourceFile, config: SiteConfig, lessons: dict[str, Lesson], diagnostics: Diagnostics
) -> Campaign | None:
    r = FieldReader(src.front, src.path, diagnostics)
    r.check_keys(CAMPAIGN_KEYS)
    title = r.text("title")
    summary = r.text("summary", max_len=SUMMARY_MAX)
    audiences = read_terms(r, "audiences", config.audiences, required=True)
    start, end = r.date("start"), r.date("end")
    if start and end and end < start:
        r.error("end", f"结束日期 {end} 早于开始日期 {start}")
    organizer = r.text("organizer")
    for key, value in (("title", title), ("summary", summary), ("organizer", organizer)):
        text_html_warning(r, key, value)
    span = f"（{start} 至 {end}）"

    goals = []
    for index, goal in enumerate(r.mapping_items("goals", required=True), start=1):
        goal.where = f"目标 {index}"
        goal.check_keys(("indicator", "target"))
        indicator, target = goal.text("indicator"), goal.text("target")
        if indicator and target:
            goals.append(Goal(indicator, target))

    phases: list[Phase] = []
    for index, phase in enumerate(r.mapping_items("phases", required=False), start=1):
        phase.where = f"阶段 {index}"
        phase.check_keys(("name", "start", "end"))
        name, p_start, p_end = phase.text("name"), phase.date("start"), phase.date("end")
        if not (name and p_start and p_end):
            continue
        if p_end < p_start:
            phase.error("end", f"阶段「{name}」的结束日期 {p_end} 早于开始日期 {p_start}")
            continue
        if not (_within(p_start, start, end) and _within(p_end, start, end)):
            phase.error(None, f"阶段「{name}」（{p_start} 至 {p_end}）超出了活动时间{span}")
        if phases and p_start <= phases[-1].end:
            phase.error(
                "start",
                f"阶段「{name}」从 {p_start} 开始，和上一阶段「{phases[-1].name}」"
                f"（到 {phases[-1].end}）重叠或顺序颠倒",
            )
        phases.append(Phase(name, p_start, p_end))

    activities = []
    for index, item in enumerate(r.mapping_items("activities", required=True), start=1):
        item.where = f"活动 {index}"
        item.check_keys(ACTIVITY_KEYS)
        a_title, a_date = item.text("title"), item.date("date")
        if a_date and not _within(a_date, start, end):
            item.error("date", f"日期 {a_date} 不在活动时间{span}之内")
        channel_name = item.text("channel")
        channel = config.channels.find(channel_name) if channel_name else None
        if channel_name and channel is None:
            item.error(
                "channel", f"未知的渠道 '{channel_name}'（可选：{'、'.join(config.channels.labels())}）"
            )
        time = read_time(item)
        place = item.text("place", required=False)
        description = item.text("description", required=False)
        a_audiences = read_terms(item, "audiences", config.audiences, required=False)
        a_lessons = resolve_lessons(item, "lessons", lessons)
        if a_title and a_date and channel:
            activities.append(
                Activity(
                    title=a_title,
                    date=a_date,
                    channel=channel,
                    line=item.line(),
                    time=time,
                    place=place,
                    description=description,
                    audiences=a_audiences or audiences,
                    lessons=a_lessons,
                )
            )
    activities.sort(key=lambda a: (a.date, a.time or "", a.line))
    if not (title and summary and audiences and start and end and organizer):
        return None
    return Campaign(
        slug=src.slug,
        source=src.path,
        title=title,
        summary=summary,
        audiences=audiences,
        start=start,
        end=end,
        organizer=organizer,
        goals=goals,
        phases=phases,
        activities=activities,
        body=src.body,
        body_line=src.body_line,
        images=body_images(src.root, src, diagnostics) if src.root else [],
    )
