"""Loading and validating campaign plans from ``content/campaigns/``.

A campaign is read after every lesson, so its activities' ``lessons:`` lists
resolve against the lessons found; every mistake names the line of its key.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from builder.campaign_checks import check_cadence, check_health_days, check_rotation, read_cadence
from builder.content import (
    SUMMARY_MAX,
    SourceFile,
    body_images,
    read_terms,
    resolve_lessons,
    text_html_warning,
)
from builder.diagnostics import Diagnostics
from builder.evaluation import parse_target
from builder.model import Activity, Campaign, Goal, Lesson, Phase, Quiz, SiteConfig
from builder.recurrence import (
    MAX_OCCURRENCES,
    Recurrence,
    RecurrenceError,
    normalise_every,
    occurrences,
    parse_on,
)
from builder.schema import FieldReader, describe
from builder.tips import read_tips, tip_day_clashes
from builder.yamlpos import YamlMap

CAMPAIGN_KEYS = (
    "title", "summary", "audiences", "start", "end", "organizer", "goals", "phases", "activities",
    "cadence", "quiz",
)  # fmt: skip
ACTIVITY_KEYS = (
    "title", "date", "time", "place", "channel", "lessons", "audiences", "description", "repeat", "tips",
)  # fmt: skip
REPEAT_KEYS = ("every", "until", "count", "on", "lessons")
GOAL_KEYS = ("indicator", "target", "measure", "channel")
MEASURES = {
    "attendance": "签到（attendance.csv）",
    "quiz": "前后测问卷（quiz-before / quiz-after）",
    "survey": "满意度（survey.csv）",
    "reach": "转发覆盖（reach.csv）",
    "count": "举办场次（attendance.csv 的行数）",
}
MAX_CAMPAIGN_OCCURRENCES = 2000  # every activity of one plan, all repeats expanded

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


def read_goal(goal: FieldReader, config: SiteConfig) -> Goal | None:
    goal.check_keys(GOAL_KEYS)
    indicator, target = goal.text("indicator"), goal.text("target")
    measure = goal.text("measure", required=False)
    if measure is not None and measure not in MEASURES:
        options = "；".join(f"{key}（{label}）" for key, label in MEASURES.items())
        goal.error("measure", f"不认识的测量方式 '{measure}'，可选：{options}")
        measure = None
    channel_name = goal.text("channel", required=False)
    channel = config.channels.find(channel_name) if channel_name else None
    if channel_name and channel is None:
        goal.error("channel", f"未知的渠道 '{channel_name}'（可选：{'、'.join(config.channels.labels())}）")
    if channel_name and measure not in ("attendance", "count"):
        goal.error("channel", "只有 measure: attendance 或 count 的目标可以限定渠道")
    if indicator and target and measure:
        problem = parse_target(target, measure)[1]
        if problem:
            goal.error("target", problem)
    if not (indicator and target):
        return None
    return Goal(indicator, target, measure, channel, goal.line())


def yaml_on_key(value: YamlMap) -> YamlMap:
    """``repeat:`` with its ``on:`` key back: YAML 1.1 reads an unquoted ``on`` as the boolean true."""
    if "True" not in value or "on" in value:
        return value
    fixed = YamlMap({("on" if key == "True" else key): item for key, item in value.items()})
    fixed.line = value.line
    fixed.key_lines = {("on" if key == "True" else key): line for key, line in value.key_lines.items()}
    return fixed


def read_repeat(item: FieldReader, start: dt.date) -> tuple[Recurrence | None, dict[str, int]]:
    """The ``repeat:`` of an activity starting on ``start``, and the lines of its keys."""
    value = item.data.get("repeat")
    if value is None:
        return None, {}
    if not isinstance(value, YamlMap):
        item.error(
            "repeat",
            f"'repeat' 应是键值对，如 {{every: month, until: 2026-12-31, on: 第三个周三}}，这里是{describe(value)}",
        )
        return None, {}
    r = FieldReader(yaml_on_key(value), item.path, item.diagnostics, item.where)
    r.check_keys(REPEAT_KEYS)
    lines = {key: r.line(key) for key in REPEAT_KEYS} | {"": r.line()}
    every_value = r.raw("every", required=True)
    until = r.date("until", required=False)
    count = r.integer("count", required=False, minimum=1)
    on = r.text("on", required=False)
    if every_value is None:
        return None, lines
    try:
        every = normalise_every(every_value)
        fields = parse_on(every, on, start)
    except RecurrenceError as error:
        r.error("on" if "on:" in str(error) else "every", str(error))
        return None, lines
    if count is not None and count > MAX_OCCURRENCES:
        r.error("count", f"重复 {count} 次太多了，一项活动最多重复 {MAX_OCCURRENCES} 次")
        return None, lines
    if until is not None and count is not None:
        r.error("count", "until 和 count 只写一个：写到哪天结束，或一共几次")
        return None, lines
    if until is not None and until < start:
        r.error("until", f"重复到 {until}，早于第一次的日期 {start}")
        return None, lines
    return Recurrence(every=every, start=start, until=until, count=count, on=on, **fields), lines  # type: ignore[arg-type]


def expand(
    item: FieldReader,
    base: Activity,
    rule: Recurrence,
    lines: dict[str, int],
    rotation: list[tuple[Lesson, int]],
    span: tuple[dt.date, dt.date],
) -> list[Activity]:
    """One Activity per date of ``rule``; dates outside the campaign and runaway rules are errors."""
    if rule.until is None and rule.count is None:
        rule = replace(rule, until=span[1])  # a repeat runs to the campaign's end
    if rule.until is not None and rule.until > span[1]:
        item.diagnostics.error(
            item.path, lines["until"],
            item._prefix(f"重复到 {rule.until}，超出了活动时间（{span[0]} 至 {span[1]}）：until 最晚写 {span[1]}"),
        )  # fmt: skip
        return []
    try:
        dates = occurrences(rule)
    except RecurrenceError as error:
        item.diagnostics.error(item.path, lines["count" if rule.count else "until"], item._prefix(str(error)))
        return []
    if not dates:
        item.diagnostics.error(
            item.path, lines[""], item._prefix(f"按这条重复规则（{rule.describe()}）一次也排不上")
        )
        return []
    outside = [day for day in dates if not span[0] <= day <= span[1]]
    if outside:
        item.diagnostics.error(
            item.path, lines["until"] if rule.until else lines["count"],
            item._prefix(f"重复的第 {dates.index(outside[0]) + 1} 次（{outside[0]}）不在活动时间（{span[0]} 至 {span[1]}）之内"
                         + (f"，共 {len(outside)} 次在外面" if len(outside) > 1 else "")),
        )  # fmt: skip
        return []
    result = []
    for number, day in enumerate(dates, start=1):
        lessons = list(base.lessons)
        if rotation:
            turn = rotation[(number - 1) % len(rotation)][0]
            lessons = [*lessons, turn] if turn not in lessons else lessons
        result.append(replace(base, date=day, lessons=lessons, repeat=rule, occurrence=number))
    return result


def read_rotation(item: FieldReader, lessons: dict[str, Lesson]) -> list[tuple[Lesson, int]]:
    """``repeat: {lessons: [...]}``: one lesson per occurrence in turn, duplicates kept (they are checked)."""
    repeat = item.data.get("repeat")
    if not isinstance(repeat, YamlMap) or "lessons" not in repeat:
        return []
    r = FieldReader(yaml_on_key(repeat), item.path, item.diagnostics, item.where)
    found = []
    for slug, line in r.text_items("lessons", required=False, max_items=MAX_OCCURRENCES):
        lesson = lessons.get(slug)
        if lesson is None:
            r.diagnostics.error(
                r.path,
                line,
                r._prefix(f"轮换的课程里找不到 '{slug}'（课程名就是 content/lessons/ 下的文件名）"),
            )
        else:
            found.append((lesson, line))
    return found


def load_campaign(
    src: SourceFile,
    config: SiteConfig,
    lessons: dict[str, Lesson],
    diagnostics: Diagnostics,
    quizzes: dict[str, Quiz] | None = None,
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
    quiz_slug = r.text("quiz", required=False)
    quiz = (quizzes or {}).get(quiz_slug) if quiz_slug else None
    if quiz_slug and quiz is None:
        r.error("quiz", f"找不到测验 '{quiz_slug}'（测验名就是 content/quizzes/ 下的文件名，不带 .md）")

    goals = []
    for index, goal in enumerate(r.mapping_items("goals", required=True), start=1):
        goal.where = f"目标 {index}"
        read = read_goal(goal, config)
        if read:
            goals.append(read)
            if read.measure == "quiz" and not quiz_slug:
                goal.error("measure", "用测验衡量的目标需要在活动计划里写 quiz: 测验名（前后测用哪份测验）")

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

    activities: list[Activity] = []
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
        rule, repeat_lines = read_repeat(item, a_date) if a_date else (None, {})
        rotation = read_rotation(item, lessons)
        tips = read_tips(item, a_date, end, config.red_flags) if a_date else []
        if not (a_title and a_date and channel):
            continue
        activity = Activity(
            title=a_title,
            date=a_date,
            channel=channel,
            line=item.line(),
            time=time,
            place=place,
            description=description,
            audiences=a_audiences or audiences,
            lessons=a_lessons,
            tips=tips,
        )
        if rule is None:
            activities.append(activity)
        elif start and end:
            series = expand(item, activity, rule, repeat_lines, rotation, (start, end))
            check_rotation(item, series, rotation)
            activities.extend(series)
        if len(activities) > MAX_CAMPAIGN_OCCURRENCES:
            item.error("repeat", f"这份计划展开后超过 {MAX_CAMPAIGN_OCCURRENCES} 次活动：请拆成几份计划")
            break
    activities.sort(key=lambda a: (a.date, a.time or "", a.line))
    tip_day_clashes(src.path, activities, diagnostics)
    cadence = read_cadence(r, config)
    if not (title and summary and audiences and start and end and organizer):
        return None
    campaign = Campaign(
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
        cadence=cadence,
        quiz=quiz,
    )
    check_cadence(campaign, diagnostics)
    check_health_days(campaign, diagnostics, r.line("activities"))
    return campaign
