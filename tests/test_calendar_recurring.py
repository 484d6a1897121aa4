"""Recurring campaign activities: the rule an editor writes, the dates the plan shows,
the RRULE the calendar carries — and what happens when the rule is wrong or hostile.

The calendar's RRULE is expanded here with dateutil (not Kepu's own date arithmetic)
and must give exactly the dates of the schedule's rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from conftest import TODAY
from dateutil.rrule import rrulestr
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from builder.calendar import campaign_calendar, campaign_schedule
from builder.diagnostics import Diagnostics
from builder.model import Project
from builder.project import load_project

CAMPAIGN = "content/campaigns/dust-month.md"


def campaign_text(
    activities: str, extra: str = "", start: str = "2026-03-01", end: str = "2026-12-31"
) -> str:
    return f"""\
---
title: 2026年工地职业健康宣传年
summary: 在工地开展粉尘防护和尘肺病预防宣传。
audiences: [农民工, 建筑工人]
start: {start}
end: {end}
organizer: 示例区疾控中心
goals:
  - {{indicator: 职业健康知识知晓率, target: "≥85%"}}
{extra}activities:
{activities}---

## 指导思想

把防尘知识送到工地一线。
"""


LECTURE = """\
  - title: 工地健康大讲堂
    date: 2026-03-01
    time: "14:00-15:30"
    place: 示例工地生活区会议室
    channel: 讲座
    lessons: [dust-pneumoconiosis]
    repeat: {every: month, on: 第三个周三, until: 2026-12-31}
"""
POSTS = """\
  - title: 公众号推送：防尘口罩怎么戴
    date: 2026-03-02
    channel: 公众号
    lessons: [dust-pneumoconiosis]
    repeat: {every: week, on: 周三, until: 2026-05-31}
"""


def load(root: Path) -> tuple[Project | None, list[str]]:
    diagnostics = Diagnostics()
    project = load_project(root, diagnostics, today=TODAY)
    return project, [str(d) for d in diagnostics.sorted()]


def schedule_dates(project: Project, title: str) -> list[dt.date]:
    rows = list(csv.reader(io.StringIO(campaign_schedule(project, project.campaigns[0]).decode("utf-8-sig"))))
    return [dt.date.fromisoformat(row[0]) for row in rows[1:] if row[4] == title]


def rrule_dates(event) -> list[dt.date]:
    """The event's dates as dateutil expands its RRULE from its DTSTART (another implementation than Kepu's)."""
    start = event.decoded("DTSTART")
    rule = event["RRULE"].to_ical().decode()
    if not isinstance(start, dt.datetime):
        start = dt.datetime.combine(start, dt.time(0))
        return [day.date() for day in rrulestr(rule, dtstart=start)]
    return [day.date() for day in rrulestr(rule, dtstart=start)]


def test_monthly_and_weekly_repeats_are_one_rrule_event_each_and_a_row_per_date(project: Path, write):
    write(CAMPAIGN, campaign_text(LECTURE + POSTS))
    loaded, messages = load(project)
    assert loaded is not None and messages == []
    calendar = Calendar.from_ical(campaign_calendar(loaded, loaded.campaigns[0]))
    events = {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}
    assert len(calendar.walk("VEVENT")) == 2

    lecture = events["工地健康大讲堂"]
    assert lecture["RRULE"]["FREQ"] == ["MONTHLY"] and lecture["RRULE"]["BYDAY"] == ["3WE"]
    # Every third Wednesday of March to December 2026, as a wall calendar shows them.
    third_wednesdays = [dt.date(2026, 3, 18), dt.date(2026, 4, 15), dt.date(2026, 5, 20), dt.date(2026, 6, 17),
                        dt.date(2026, 7, 15), dt.date(2026, 8, 19), dt.date(2026, 9, 16), dt.date(2026, 10, 21),
                        dt.date(2026, 11, 18), dt.date(2026, 12, 16)]  # fmt: skip
    assert rrule_dates(lecture) == third_wednesdays == schedule_dates(loaded, "工地健康大讲堂")
    start = lecture.decoded("DTSTART")
    assert (start.hour, start.minute, start.utcoffset()) == (14, 0, dt.timedelta(hours=8))

    posts = events["公众号推送：防尘口罩怎么戴"]
    assert posts["RRULE"]["FREQ"] == ["WEEKLY"] and posts["RRULE"]["BYDAY"] == ["WE"]
    weekly = rrule_dates(posts)
    assert weekly == schedule_dates(loaded, "公众号推送：防尘口罩怎么戴")
    assert weekly[0] == dt.date(2026, 3, 4) and weekly[-1] == dt.date(2026, 5, 27) and len(weekly) == 13
    assert all(day.weekday() == 2 for day in weekly)
    assert "重复：每周三" in str(posts["DESCRIPTION"])


@pytest.mark.parametrize(
    ("repeat", "expected"),
    [
        ("{every: month, on: 每月15日, count: 3}", [dt.date(2026, 3, 15), dt.date(2026, 4, 15), dt.date(2026, 5, 15)]),
        ("{every: month, on: 最后一个周五, count: 2}", [dt.date(2026, 3, 27), dt.date(2026, 4, 24)]),
        ("{every: quarter, on: 10日, until: 2026-12-31}",
         [dt.date(2026, 3, 10), dt.date(2026, 6, 10), dt.date(2026, 9, 10), dt.date(2026, 12, 10)]),
        ("{every: month, on: 31日, until: 2026-07-31}",  # months without a 31st are skipped, as RFC 5545 does
         [dt.date(2026, 3, 31), dt.date(2026, 5, 31), dt.date(2026, 7, 31)]),
        ("{every: week, on: 周一、周四, count: 4}",
         [dt.date(2026, 3, 2), dt.date(2026, 3, 5), dt.date(2026, 3, 9), dt.date(2026, 3, 12)]),
        ("{every: day, count: 3}", [dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)]),
    ],
)  # fmt: skip
def test_every_kind_of_rule_gives_its_dates_in_the_schedule_and_the_rrule(
    project: Path, write, repeat, expected
):
    activity = f"""\
  - title: 宣传栏更新
    date: 2026-03-01
    channel: 宣传栏
    lessons: [dust-pneumoconiosis]
    repeat: {repeat}
"""
    write(CAMPAIGN, campaign_text(activity))
    loaded, messages = load(project)
    assert loaded is not None, messages
    assert schedule_dates(loaded, "宣传栏更新") == expected
    (event,) = Calendar.from_ical(campaign_calendar(loaded, loaded.campaigns[0])).walk("VEVENT")
    assert rrule_dates(event) == expected


def test_rotating_lessons_go_in_turn_and_a_lesson_back_too_soon_is_a_warning(project: Path, write):
    write("content/lessons/noise-hearing.md", (project / "content/lessons/dust-pneumoconiosis.md").read_text()
          .replace("粉尘与尘肺病", "噪声与听力保护"))  # fmt: skip
    activity = """\
  - title: 工地健康大讲堂
    date: 2026-03-01
    channel: 讲座
    repeat:
      every: month
      on: 第三个周三
      count: 4
      lessons: [dust-pneumoconiosis, noise-hearing]
"""
    write(CAMPAIGN, campaign_text(activity))
    loaded, messages = load(project)
    assert loaded is not None
    turns = [[lesson.slug for lesson in a.lessons] for a in loaded.campaigns[0].activities]
    assert turns == [["dust-pneumoconiosis"], ["noise-hearing"], ["dust-pneumoconiosis"], ["noise-hearing"]]
    lines = (project / CAMPAIGN).read_text().splitlines()
    line = next(
        i for i, text in enumerate(lines, start=1) if "lessons: [dust-pneumoconiosis, noise-hearing]" in text
    )
    assert any(
        m.startswith(f"{CAMPAIGN}:{line}: 警告：活动 1：轮换课程「粉尘与尘肺病」第 1 次") for m in messages
    ), messages


def test_a_cadence_rule_not_kept_and_a_counted_goal_out_of_reach_are_warnings_at_their_lines(
    project: Path, write
):
    extra = """\
  - {indicator: 讲座场次, target: "≥12场", measure: count, channel: 讲座}
cadence:
  - {channel: 公众号, per: month, at_least: 4}
  - {channel: 讲座, per: quarter, at_most: 2}
"""
    write(CAMPAIGN, campaign_text(LECTURE + POSTS, extra=extra))
    loaded, messages = load(project)
    assert loaded is not None
    text = (project / CAMPAIGN).read_text().splitlines()

    def line_of(fragment: str) -> int:
        return next(i for i, line in enumerate(text, start=1) if fragment in line)

    assert (
        f"{CAMPAIGN}:{line_of('≥12场')}: 警告：目标「讲座场次」要 ≥12场，计划里只排了 10 次「讲座」活动：按计划做完也达不到"
        in messages
    )
    posts = next(
        m
        for m in messages
        if m.startswith(f"{CAMPAIGN}:{line_of('per: month')}: 警告：节奏：「公众号」每月至少 4 次")
    )
    # Weekly posts run March to May: June has none (and every later month).
    assert "2026年6月只有 0 次（至少 4 次）" in posts and "等 7 个月" in posts
    assert any(
        m.startswith(f"{CAMPAIGN}:{line_of('at_most: 2')}: 警告：节奏：「讲座」每季度最多 2 次")
        for m in messages
    )


def test_at_most_a_quarter_is_checked_per_quarter(project: Path, write):
    extra = "cadence:\n  - {channel: 讲座, per: quarter, at_most: 2}\n"
    write(CAMPAIGN, campaign_text(LECTURE, extra=extra))
    _, messages = load(project)
    (warning,) = [m for m in messages if "节奏" in m]
    assert "「讲座」每季度最多 2 次，但2026年第2季度有 3 次（最多 2 次）" in warning


def test_a_health_day_of_the_plans_subject_without_an_activity_is_a_warning(project: Path, write):
    write(CAMPAIGN, campaign_text(LECTURE))
    _, messages = load(project)
    # 粉尘 and 尘肺 are the subject: the 职业病防治法宣传周 (4月25日至5月1日) has no activity within 3 days.
    assert any("2026年4月25日至5月1日是《职业病防治法》宣传周（国家卫生健康委" in m for m in messages), (
        messages
    )
    marked = (
        LECTURE
        + """\
  - title: 职业病防治法宣传周现场咨询
    date: 2026-04-27
    channel: 讲座
    lessons: [dust-pneumoconiosis]
"""
    )
    write(CAMPAIGN, campaign_text(marked))
    _, messages = load(project)
    assert not any("宣传周" in m for m in messages), messages


@pytest.mark.parametrize(
    ("repeat", "key", "message"),
    [
        (
            "{every: day, until: 9999-12-31}",
            "until",
            "重复到 9999-12-31，超出了活动时间（2026-03-01 至 2026-12-31）",
        ),
        ("{every: week, count: 100000}", "count", "重复 100000 次太多了，一项活动最多重复 366 次"),
        (
            "{every: week, count: 60}",
            "count",
            "重复的第 45 次（2027-01-03）不在活动时间（2026-03-01 至 2026-12-31）之内",
        ),
        ("{every: fortnight}", "every", "重复周期 every: 'fortnight' 不认识"),
        ("{every: month, on: 第九个周三}", "on", "on: '第九个周三' 看不懂"),
        ("{every: month, on: 32日}", "on", "on: '32日' 的日子不存在"),
        ("{every: day, on: 周三}", "on", "每天重复的活动不需要 on: '周三'"),
        ("{every: week, until: 2026-12-31, count: 3}", "count", "until 和 count 只写一个"),
        ("每月一次", "repeat", "'repeat' 应是键值对"),
        ("{every: month, untill: 2026-12-31}", "untill", "未知的键 'untill'，是不是想写 'until'？"),
    ],
)
def test_hostile_or_mistaken_repeats_are_one_clear_error_at_their_line(
    project: Path, write, repeat, key, message
):
    activity = f"""\
  - title: 宣传栏更新
    date: 2026-03-01
    channel: 宣传栏
    repeat: {repeat}
"""
    write(CAMPAIGN, campaign_text(activity))
    loaded, messages = load(project)
    line = next(
        i
        for i, text in enumerate((project / CAMPAIGN).read_text().splitlines(), start=1)
        if "repeat:" in text
    )
    assert any(m.startswith(f"{CAMPAIGN}:{line}: 活动 1：") and message in m for m in messages), messages
    assert loaded is None  # an error: nothing is built from a plan whose dates cannot be trusted


def test_many_occurrences_stay_bounded_in_time(project: Path, write):
    """A daily rule over the longest campaign the bound allows is expanded quickly, and no further."""
    import time

    activity = """\
  - title: 每日健康小提醒
    date: 2026-01-01
    channel: 微信群
    repeat: {every: day}
"""
    write(CAMPAIGN, campaign_text(activity, start="2026-01-01", end="2099-12-31"))
    started = time.perf_counter()
    loaded, messages = load(project)
    assert time.perf_counter() - started < 10
    assert loaded is None
    assert any("重复超过 366 次" in m for m in messages), messages


@settings(max_examples=300, deadline=None)
@given(
    every=st.sampled_from(["day", "week", "month", "quarter"]),
    start=st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 12, 31)),
    on=st.one_of(
        st.none(),
        st.builds(
            lambda n, d: f"第{n}个周{d}", st.sampled_from("一二三四五"), st.sampled_from("一二三四五六日")
        ),
        st.builds(lambda d: f"最后一个星期{d}", st.sampled_from("一二三四五六日")),
        st.builds(lambda d: f"每月{d}日", st.integers(1, 31)),
        st.builds(
            lambda a, b: f"周{a}、周{b}", st.sampled_from("一二三四五六日"), st.sampled_from("一二三四五六日")
        ),
    ),
    count=st.integers(1, 40),
)
def test_kepus_dates_are_the_dates_dateutil_expands_from_the_rrule(every, start, on, count):
    from icalendar.prop import vRecur

    from builder.recurrence import Recurrence, RecurrenceError, occurrences, parse_on

    try:
        rule = Recurrence(every=every, start=start, count=count, on=on, **parse_on(every, on, start))
    except RecurrenceError:
        assume(False)  # a rule that does not fit its period (周三 for every: month) is an editor's error
    dates = occurrences(rule)
    assert len(dates) == count and dates == sorted(set(dates)) and dates[0] >= start
    spec = vRecur(rule.rrule(dates[-1])).to_ical().decode()
    expanded = [day.date() for day in rrulestr(spec, dtstart=dt.datetime.combine(dates[0], dt.time(0)))]
    assert expanded == dates


def test_a_weekly_cadence_over_a_very_long_plan_is_checked_quickly(project: Path, write):
    import time

    activities = "".join(
        f"""\
  - title: 宣传栏更新{n}
    date: 2026-03-01
    channel: 宣传栏
    repeat: {{every: week, count: 300}}
"""
        for n in range(6)
    )
    extra = "cadence:\n  - {channel: 宣传栏, per: week, at_least: 1}\n"
    write(CAMPAIGN, campaign_text(activities, extra=extra, start="2026-01-01", end="2099-12-31"))
    started = time.perf_counter()
    loaded, messages = load(project)
    assert time.perf_counter() - started < 10
    assert loaded is not None and len(loaded.campaigns[0].activities) == 1800
    (warning,) = [m for m in messages if "节奏" in m]
    assert (
        "2026年第2周（1月5日起）只有 0 次" in warning and "等 3560 个周" in warning
    )  # a part week asks for less
