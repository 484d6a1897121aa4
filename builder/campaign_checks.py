"""What a work plan promises about rhythm, checked against the activities it lists.

A plan is judged on a cadence — "每季度至少一场讲座", "每周一篇推送" — and on the
health days its topic has (全国高血压日 for a hypertension plan). These checks warn,
at the line the editor wrote, when the activities do not keep that rhythm: a
``cadence:`` rule not met in some period, a ``measure: count`` goal the plan cannot
reach, a rotation that shows a lesson again too soon, a health day with no activity.
They are warnings: the plan is still valid, just not what its text says.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
from dataclasses import dataclass

from builder.diagnostics import Diagnostics
from builder.evaluation import parse_target
from builder.model import Activity, CadenceRule, Campaign, Lesson, SiteConfig
from builder.schema import FieldReader

PERIODS = {"week": "周", "month": "月", "quarter": "季度", "year": "年"}
PERIOD_ALIASES = {"week": "week", "周": "week", "每周": "week", "month": "month", "月": "month", "每月": "month",
                  "quarter": "quarter", "季度": "quarter", "每季度": "quarter", "year": "year", "年": "year",
                  "每年": "year"}  # fmt: skip
CADENCE_KEYS = ("channel", "per", "at_least", "at_most")
MAX_CADENCE_COUNT = 1000
# A lesson shown again after fewer occurrences than this is a repeat readers notice.
ROTATION_MIN_GAP = 3
HEALTH_DAY_WINDOW = 3  # days either side of a health day an activity still counts for it
# Only a plan this long is checked for health days: a month-long campaign is itself built
# around its day (or deliberately not), a year plan is where a day gets forgotten.
HEALTH_DAY_PLAN_DAYS = 90


@dataclass(frozen=True)
class HealthDay:
    name: str
    month: int
    day: int | None  # None: the rule below
    keywords: tuple[str, ...]  # a plan about any of these should mark the day
    source: str  # who fixed the date
    days: int = 1  # a 宣传周 is 7
    nth_weekday: tuple[int, int] | None = None  # (n, weekday) in ``month``; weekday 0 = Monday


# National and international health days a community plan marks, with who set each date.
# fmt: off
HEALTH_DAYS = (
    HealthDay("全国爱耳日", 3, 3, ("听力", "耳聋", "爱耳"), "原卫生部等十部委，1998年确定"),
    HealthDay("世界肾脏日", 3, None, ("肾病", "肾脏"), "国际肾脏病学会，每年3月第二个星期四", nth_weekday=(2, 3)),
    HealthDay("世界防治结核病日", 3, 24, ("结核",), "世界卫生组织"),
    HealthDay("世界卫生日", 4, 7, ("世界卫生日",), "世界卫生组织，1950年起"),
    HealthDay("全国儿童预防接种日", 4, 25, ("儿童预防接种", "免疫规划", "疫苗接种证"), "原卫生部等，1986年确定"),
    HealthDay("《职业病防治法》宣传周", 4, 25, ("职业病", "职业健康", "尘肺", "粉尘", "噪声"),
              "国家卫生健康委，每年4月25日至5月1日", days=7),
    HealthDay("全国碘缺乏病防治日", 5, 15, ("碘缺乏", "碘盐"), "原卫生部，1994年起"),
    HealthDay("世界高血压日", 5, 17, ("高血压", "血压"), "世界高血压联盟，2005年起"),
    HealthDay("世界家庭医生日", 5, 19, ("家庭医生",), "世界家庭医生组织（WONCA），2010年起"),
    HealthDay("世界无烟日", 5, 31, ("吸烟", "烟草", "戒烟", "控烟"), "世界卫生组织，1989年起"),
    HealthDay("全国爱眼日", 6, 6, ("近视", "爱眼", "视力"), "原卫生部等，1996年起"),
    HealthDay("全民健康生活方式日", 9, 1, ("三减三健", "生活方式", "减盐", "减油", "减糖"), "原卫生部，2007年起"),
    HealthDay("全国爱牙日", 9, 20, ("爱牙", "龋齿", "牙周"), "原卫生部等，1989年起"),
    HealthDay("世界心脏日", 9, 29, ("心脏", "冠心病", "心血管"), "世界心脏联盟，2011年起定在9月29日"),
    HealthDay("全国高血压日", 10, 8, ("高血压", "血压"), "原卫生部，1998年起"),
    HealthDay("世界精神卫生日", 10, 10, ("精神卫生", "心理健康", "抑郁"), "世界精神卫生联合会，1992年起"),
    HealthDay("世界骨质疏松日", 10, 20, ("骨质疏松",), "国际骨质疏松基金会，1997年起"),
    HealthDay("世界卒中日", 10, 29, ("卒中", "中风"), "世界卒中组织，2006年起"),
    HealthDay("世界糖尿病日（联合国糖尿病日）", 11, 14, ("糖尿病", "血糖"), "国际糖尿病联盟和世界卫生组织，1991年起；联合国2006年决议"),
    HealthDay("世界慢阻肺日", 11, None, ("慢阻肺", "慢性阻塞性肺"), "全球慢阻肺倡议（GOLD），每年11月第三个星期三",
              nth_weekday=(3, 2)),
    HealthDay("世界艾滋病日", 12, 1, ("艾滋",), "世界卫生组织，1988年起"),
)
# fmt: on


def health_day_dates(day: HealthDay, year: int) -> tuple[dt.date, dt.date]:
    """First and last date of the health day (or week) in ``year``."""
    if day.nth_weekday:
        n, weekday = day.nth_weekday
        first = dt.date(year, day.month, 1)
        start = first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    else:
        assert day.day is not None
        start = dt.date(year, day.month, day.day)
    return start, start + dt.timedelta(days=day.days - 1)


def read_cadence(r: FieldReader, config: SiteConfig) -> list[CadenceRule]:
    """``cadence: [{channel: 讲座, per: quarter, at_least: 1}]`` with every mistake at its line."""
    rules = []
    for index, item in enumerate(r.mapping_items("cadence", required=False), start=1):
        item.where = f"节奏 {index}"
        item.check_keys(CADENCE_KEYS)
        name, per_text = item.text("channel"), item.text("per")
        channel = config.channels.find(name) if name else None
        if name and channel is None:
            item.error("channel", f"未知的渠道 '{name}'（可选：{'、'.join(config.channels.labels())}）")
        per = PERIOD_ALIASES.get(per_text.lower()) if per_text else None
        if per_text and per is None:
            item.error("per", f"周期 '{per_text}' 不认识，可写 week、month、quarter 或 year（周/月/季度/年）")
        at_least = item.integer("at_least", required=False, minimum=0)
        at_most = item.integer("at_most", required=False, minimum=0)
        for key, value in (("at_least", at_least), ("at_most", at_most)):
            if value is not None and value > MAX_CADENCE_COUNT:
                item.error(key, f"{key}: {value} 太大了，最多 {MAX_CADENCE_COUNT}")
                at_least, at_most = None, None
        if (
            at_least is None
            and at_most is None
            and "at_least" not in item.data
            and "at_most" not in item.data
        ):
            item.error(None, "节奏要写 at_least（至少几次）或 at_most（最多几次）")
        if at_least is not None and at_most is not None and at_most < at_least:
            item.error("at_most", f"at_most: {at_most} 小于 at_least: {at_least}")
            continue
        if channel and per and (at_least is not None or at_most is not None):
            rules.append(CadenceRule(channel, per, at_least, at_most, item.line()))
    return rules


def periods(per: str, start: dt.date, end: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """The calendar periods (label, first day, last day) that overlap ``start``–``end``."""
    found = []
    if per == "week":
        first = start - dt.timedelta(days=start.weekday())
        while first <= end:
            year, week, _ = first.isocalendar()
            found.append(
                (f"{year}年第{week}周（{first.month}月{first.day}日起）", first, first + dt.timedelta(days=6))
            )
            first += dt.timedelta(days=7)
        return found
    months = {"month": 1, "quarter": 3, "year": 12}[per]
    index = (start.year * 12 + start.month - 1) // months * months
    while True:
        first = dt.date(index // 12, index % 12 + 1, 1)
        if first > end:
            return found
        after = index + months
        last = dt.date(after // 12, after % 12 + 1, 1) - dt.timedelta(days=1)
        label = {
            "month": f"{first.year}年{first.month}月",
            "quarter": f"{first.year}年第{(first.month - 1) // 3 + 1}季度",
            "year": f"{first.year}年",
        }[per]
        found.append((label, first, last))
        index = after


def check_cadence(campaign: Campaign, diagnostics: Diagnostics) -> None:
    """Warn where a ``cadence:`` rule is not kept, or a counted goal cannot be reached by the plan."""
    for rule in campaign.cadence:
        misses = []
        # Sorted dates and bisect: a weekly rule over a long plan is thousands of periods.
        dates = sorted(a.date for a in campaign.activities if a.channel == rule.channel)
        for label, first, last in periods(rule.per, campaign.start, campaign.end):
            lo, hi = max(first, campaign.start), min(last, campaign.end)
            share = ((hi - lo).days + 1) / ((last - first).days + 1)  # part of a period: a share of its count
            held = bisect.bisect_right(dates, hi) - bisect.bisect_left(dates, lo)
            least = math.floor(rule.at_least * share + 1e-9) if rule.at_least is not None else None
            most = math.ceil(rule.at_most * share - 1e-9) if rule.at_most is not None else None
            if least is not None and held < least:
                misses.append(f"{label}只有 {held} 次（至少 {least} 次）")
            elif most is not None and held > most:
                misses.append(f"{label}有 {held} 次（最多 {most} 次）")
        if misses:
            more = f"等 {len(misses)} 个{PERIODS[rule.per]}" if len(misses) > 3 else ""
            diagnostics.warning(
                campaign.source, rule.line,
                f"节奏：「{rule.channel.label}」每{PERIODS[rule.per]}"
                + (f"至少 {rule.at_least} 次" if rule.at_least is not None else "")
                + (f"最多 {rule.at_most} 次" if rule.at_most is not None else "")
                + f"，但{'；'.join(misses[:3])}{more}",
            )  # fmt: skip
    for goal in campaign.goals:
        if goal.measure != "count":
            continue
        (op, value), _ = parse_target(goal.target, "count")
        planned = sum(1 for a in campaign.activities if goal.channel is None or a.channel == goal.channel)
        what = f"「{goal.channel.label}」" if goal.channel else ""
        if op in (">=", ">") and (planned < value if op == ">=" else planned <= value):
            diagnostics.warning(
                campaign.source, goal.line,
                f"目标「{goal.indicator}」要 {goal.target}，计划里只排了 {planned} 次{what}活动：按计划做完也达不到",
            )  # fmt: skip
        elif op in ("<=", "<") and (planned > value if op == "<=" else planned >= value):
            diagnostics.warning(
                campaign.source,
                goal.line,
                f"目标「{goal.indicator}」要 {goal.target}，计划里排了 {planned} 次{what}活动",
            )


def check_rotation(item: FieldReader, series: list[Activity], rotation: list[tuple[Lesson, int]]) -> None:
    """Warn once per lesson that a rotation shows again after fewer than :data:`ROTATION_MIN_GAP` occurrences."""
    if not rotation or len(series) < 2:
        return
    last_seen: dict[str, int] = {}
    warned: set[str] = set()
    for number in range(1, len(series) + 1):
        lesson, line = rotation[(number - 1) % len(rotation)]
        before = last_seen.get(lesson.slug)
        if before is not None and number - before < ROTATION_MIN_GAP and lesson.slug not in warned:
            warned.add(lesson.slug)
            item.diagnostics.warning(
                item.path, line,
                item._prefix(
                    f"轮换课程「{lesson.title}」第 {before} 次（{series[before - 1].date}）讲过，"
                    f"第 {number} 次（{series[number - 1].date}）又讲，中间只隔 {number - before - 1} 次："
                    "多加几课或调整顺序"
                ),
            )  # fmt: skip
        last_seen[lesson.slug] = number


def campaign_words(campaign: Campaign) -> str:
    """What a plan is about: its title, summary, goals and the titles and summaries of its lessons."""
    parts = [campaign.title, campaign.summary, *(goal.indicator for goal in campaign.goals)]
    for lesson in campaign.lessons:
        parts += [lesson.title, lesson.summary, *(topic.label for topic in lesson.topics)]
    return "\n".join(parts)


def check_health_days(campaign: Campaign, diagnostics: Diagnostics, line: int) -> None:
    """Warn about each health day of the plan's subject inside its dates with no activity around it."""
    if (campaign.end - campaign.start).days + 1 < HEALTH_DAY_PLAN_DAYS:
        return
    words = campaign_words(campaign)
    window = dt.timedelta(days=HEALTH_DAY_WINDOW)
    for year in range(campaign.start.year, min(campaign.end.year, campaign.start.year + 10) + 1):
        for day in HEALTH_DAYS:
            if not any(re.search(re.escape(word), words) for word in day.keywords):
                continue
            first, last = health_day_dates(day, year)
            if first < campaign.start or last > campaign.end:
                continue
            if any(first - window <= a.date <= last + window for a in campaign.activities):
                continue
            when = f"{first.month}月{first.day}日" + (
                f"至{last.month}月{last.day}日" if last != first else ""
            )
            diagnostics.warning(
                campaign.source, line,
                f"{year}年{when}是{day.name}（{day.source}），和这份计划的主题有关，但前后 {HEALTH_DAY_WINDOW} 天"
                "没有安排活动：可以加一场义诊、讲座或推送",
            )  # fmt: skip
