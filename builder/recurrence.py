"""Recurring campaign activities: ``repeat: {every, until|count, on}`` into dates.

An editor writes how an activity repeats the way a work plan says it — 每月第三个周三,
每月15日, 每周三 — and this module turns that into (a) the list of dates the plan,
the schedule and the sign-in sheets show, and (b) the RFC 5545 RRULE the calendar
carries, so a phone's calendar shows the same dates. The dates are computed here by
plain date arithmetic, not by a rule engine, so a test can expand the RRULE with
another implementation (dateutil) and compare.

Everything is bounded: an editor's ``until: 9999-12-31`` with ``every: day`` stops at
:data:`MAX_OCCURRENCES` and is reported, never looped over.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# A year of daily tips is 366 dates; more from one activity is a typo or an attack.
MAX_OCCURRENCES = 366
EVERY = {"day": "每天", "week": "每周", "month": "每月", "quarter": "每季度"}
EVERY_ALIASES = {
    "day": "day", "daily": "day", "天": "day", "每天": "day", "日": "day",
    "week": "week", "weekly": "week", "周": "week", "每周": "week",
    "month": "month", "monthly": "month", "月": "month", "每月": "month",
    "quarter": "quarter", "quarterly": "quarter", "季度": "quarter", "每季度": "quarter",
}  # fmt: skip
WEEKDAYS = "一二三四五六日"  # Monday first, as datetime.weekday() counts
WEEKDAY_ALIASES = {"天": 6, "七": 6}
RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
ORDINALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
CHINESE_NUMBERS = "零一二三四五六七八九"

# 第三个周三 / 第3个星期三 / 最后一个周五 / 每月第二个周二
NTH_WEEKDAY = re.compile(
    r"^(?:每(?:个)?月)?的?(?:第([一二三四五1-5])个|(最后一?个))(?:周|星期|礼拜)([一二三四五六日天七])$"
)
# 每月15日 / 15日 / 15号 / 每月十五日
MONTH_DAY = re.compile(r"^(?:每(?:个)?月)?的?([0-9]{1,2}|[一二三四五六七八九十]{1,3})[日号]$")
# 周三 / 每周三 / 星期一、星期四 / 周一,周三
WEEKDAY_LIST = re.compile(
    r"^(?:每)?(?:周|星期|礼拜)[一二三四五六日天七](?:\s*[、,，和及]\s*(?:周|星期|礼拜)?[一二三四五六日天七])*$"
)
WEEKDAY_CHAR = re.compile(r"[一二三四五六日天七]")


class RecurrenceError(ValueError):
    """A ``repeat:`` that cannot be turned into dates; the message is for the editor."""


@dataclass(frozen=True)
class Recurrence:
    """How an activity repeats, as read from ``repeat:``; its dates come from :func:`occurrences`."""

    every: str  # day | week | month | quarter
    start: dt.date  # the activity's ``date:``: no occurrence before it
    until: dt.date | None = None  # inclusive
    count: int | None = None
    on: str | None = None  # as the editor wrote it, for the plan ("第三个周三")
    weekdays: tuple[int, ...] = ()  # every: week — 0 = Monday
    nth_weekday: tuple[int, int] | None = None  # every: month|quarter — (n, weekday); n = -1 is the last
    month_day: int | None = None  # every: month|quarter — 1..31

    def describe(self) -> str:
        """The rule in the words of a work plan: 每月第三个周三，至12月16日."""
        rule = EVERY[self.every]
        if self.on:
            on = re.sub(r"\s+", "", self.on).removeprefix("每月").removeprefix("每个月").removeprefix("每")
            rule += on.removeprefix("周") if self.every == "week" else on
        end = (
            f"，共 {self.count} 次"
            if self.count
            else (f"，至{self.until.month}月{self.until.day}日" if self.until else "")
        )
        return rule + end

    def rrule(self, until_utc: dt.datetime | dt.date) -> dict[str, object]:
        """The RFC 5545 RRULE as icalendar's ``vRecur`` mapping; ``until_utc`` is the last start."""
        rule: dict[str, object] = {}
        if self.every == "day":
            rule["freq"] = "DAILY"
        elif self.every == "week":
            rule["freq"] = "WEEKLY"
            rule["byday"] = [RRULE_DAYS[day] for day in self.weekdays]
        else:
            rule["freq"] = "MONTHLY"
            if self.every == "quarter":
                rule["interval"] = 3
            if self.nth_weekday:
                n, day = self.nth_weekday
                rule["byday"] = [f"{n}{RRULE_DAYS[day]}"]
            else:
                rule["bymonthday"] = [self.month_day]
        rule["until"] = until_utc
        return rule


def normalise_every(value: object) -> str:
    every = EVERY_ALIASES.get(str(value).strip().lower()) if isinstance(value, str) else None
    if every is None:
        raise RecurrenceError(
            f"重复周期 every: '{value}' 不认识，可写 day、week、month 或 quarter（每天/每周/每月/每季度）"
        )
    return every


def _chinese_number(text: str) -> int | None:
    """15 or 十五 → 15 (1..31); None for anything else."""
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        value = (CHINESE_NUMBERS.index(tens) if tens else 1) * 10 + (
            CHINESE_NUMBERS.index(ones) if ones else 0
        )
        return value if tens in ("", "一", "二", "三") and (not ones or ones in CHINESE_NUMBERS[1:]) else None
    return CHINESE_NUMBERS.index(text) if len(text) == 1 and text in CHINESE_NUMBERS[1:] else None


def _weekday(char: str) -> int:
    return WEEKDAY_ALIASES.get(char, WEEKDAYS.find(char))


def parse_on(every: str, on: str | None, start: dt.date) -> dict[str, object]:
    """The fields of :class:`Recurrence` that ``on:`` sets; without ``on:`` the start date's own day."""
    text = re.sub(r"\s+", "", on or "")
    if every == "day":
        if text:
            raise RecurrenceError(f"每天重复的活动不需要 on: '{on}'（删掉它，或改成 every: week）")
        return {}
    if every == "week":
        if not text:
            return {"weekdays": (start.weekday(),)}
        if not WEEKDAY_LIST.match(text):
            raise RecurrenceError(f"on: '{on}' 看不懂：每周重复请写“周三”或“周一、周四”")
        days = sorted(
            {_weekday(char) for char in WEEKDAY_CHAR.findall(text.replace("星期", "").replace("礼拜", ""))}
        )
        return {"weekdays": tuple(days)}
    if not text:
        return {"month_day": start.day}
    nth = NTH_WEEKDAY.match(text)
    if nth:
        n = -1 if nth.group(2) else ORDINALS[nth.group(1)]
        return {"nth_weekday": (n, _weekday(nth.group(3)))}
    day = MONTH_DAY.match(text)
    number = _chinese_number(day.group(1)) if day else None
    if number is not None and 1 <= number <= 31:
        return {"month_day": number}
    if day:
        raise RecurrenceError(f"on: '{on}' 的日子不存在：每月的日子是 1 到 31 日")
    raise RecurrenceError(f"on: '{on}' 看不懂：可写“第三个周三”“最后一个周五”或“每月15日”")


def _month_start(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _in_month(first: dt.date, rule: Recurrence) -> dt.date | None:
    """The rule's date in the month starting at ``first``, or None when that month has none (31日 in April)."""
    next_first = _month_start(first, 1)
    length = (next_first - first).days
    if rule.month_day is not None:
        return first.replace(day=rule.month_day) if rule.month_day <= length else None
    assert rule.nth_weekday is not None
    n, weekday = rule.nth_weekday
    if n > 0:
        day = 1 + (weekday - first.weekday()) % 7 + 7 * (n - 1)
        return first.replace(day=day) if day <= length else None  # a fifth Wednesday is not in every month
    last = next_first - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def occurrences(rule: Recurrence, limit: int = MAX_OCCURRENCES) -> list[dt.date]:
    """Every date of ``rule`` from its start; :class:`RecurrenceError` past ``limit`` dates.

    A rule with neither ``until`` nor ``count`` runs until the limit, so callers give one.
    """
    found: list[dt.date] = []
    too_many = RecurrenceError(f"重复超过 {limit} 次：请缩短 until 或减少 count，或改成每周、每月")

    def done(day: dt.date) -> bool:
        return (rule.until is not None and day > rule.until) or (
            rule.count is not None and len(found) >= rule.count
        )

    if rule.every in ("day", "week"):
        day = rule.start
        while not done(day):
            if rule.every == "day" or day.weekday() in rule.weekdays:
                if len(found) == limit:
                    raise too_many
                found.append(day)
            day += dt.timedelta(days=1)
        return found
    step = 3 if rule.every == "quarter" else 1
    month = rule.start.replace(day=1)
    # A month rule may skip months (a fifth Wednesday, a 31st), so the months looked at are bounded too.
    for _ in range((limit + 2) * step * 2):
        if done(month):
            return found
        day = _in_month(month, rule)
        if day is not None and day >= rule.start:
            if done(day):
                return found
            if len(found) == limit:
                raise too_many
            found.append(day)
        month = _month_start(month, step)
    raise too_many
