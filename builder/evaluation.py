"""A campaign's results against its goals: the numbers of the 总结评估 report.

Everything a report shows is computed here from the model (the plan and its
``content/results/``), as plain data — ``report.json`` is exactly this — so the
HTML and the PDF only lay it out. Rates are fractions (0.72), rounded to four
places so the same results give the same bytes on every machine.

Definitions (the ones community work plans use):

* 参与率 (attendance) = attended ÷ expected, summed over the held activities;
* 知晓率 (quiz) = correct answers ÷ (respondents × questions) of the after-survey;
* 满意度 (survey) = scores of 4 or 5 ÷ all scores;
* 覆盖率 (reach) = groups forwarded to ÷ groups in all;
* 场次 (count) = activities held (rows of attendance.csv).
"""

from __future__ import annotations

import re
from typing import Any

from builder.model import Campaign, Goal
from builder.results import CampaignResults, QuizAnswers

TARGET = re.compile(
    r"^\s*+(≥|>=|＞=|≤|<=|＜=|>|＞|<|＜|不低于|不少于|至少|达到|不高于|不超过|最多)?\s*+"
    r"(\d{1,6}(?:\.\d{1,4})?)\s*+(%|％|场|次|篇|个|期|人)?\s*+(?:以上|及以上)?\s*+$"
)
OPERATORS = {"≥": ">=", ">=": ">=", "＞=": ">=", "不低于": ">=", "不少于": ">=", "至少": ">=", "达到": ">=",
             "≤": "<=", "<=": "<=", "＜=": "<=", "不高于": "<=", "不超过": "<=", "最多": "<=",
             ">": ">", "＞": ">", "<": "<", "＜": "<", None: ">="}  # fmt: skip
RATE_MEASURES = ("attendance", "quiz", "survey", "reach")
SATISFIED = 4  # 4 满意 and 5 非常满意 of a five-point scale


def parse_target(target: str, measure: str) -> tuple[tuple[str, float], str | None]:
    """``"≥85%"`` → ((">=", 0.85), None); a target the measure cannot be compared with → a message."""
    match = TARGET.match(target)
    if not match:
        return (">=", 0.0), f"目标值 '{target}' 看不懂：写成 “≥85%” 或 “≥10场” 这样"
    op, number, unit = OPERATORS[match.group(1)], float(match.group(2)), match.group(3)
    percent = unit in ("%", "％")
    if measure in RATE_MEASURES:
        if not percent:
            return (op, 0.0), f"measure: {measure} 是比例，目标值 '{target}' 要写百分数（如 ≥85%）"
        if number > 100:
            return (op, 0.0), f"目标值 '{target}' 超过了 100%"
        return (op, round(number / 100, 6)), None
    if percent:
        return (op, 0.0), f"measure: count 是场次，目标值 '{target}' 不能是百分数（如 ≥10场）"
    return (op, number), None


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def knowledge(answers: QuizAnswers | None) -> float | None:
    if answers is None:
        return None
    return rate(sum(answers.correct), answers.respondents * len(answers.correct))


def measured_value(goal: Goal, results: CampaignResults) -> float | int | None:
    held = [row for row in results.attendance if goal.channel is None or row.channel == goal.channel.label]
    if goal.measure == "attendance":
        return rate(sum(r.attended for r in held), sum(r.expected for r in held)) if held else None
    if goal.measure == "count":
        return len(held) if results.attendance else None
    if goal.measure == "quiz":
        return knowledge(results.quiz_after)
    if goal.measure == "survey":
        return (
            rate(sum(score >= SATISFIED for score in results.scores), len(results.scores))
            if results.scores
            else None
        )
    if goal.measure == "reach":
        return (
            rate(sum(r.forwarded for r in results.reach), sum(r.total for r in results.reach))
            if results.reach
            else None
        )
    return None


def is_met(value: float | None, op: str, target: float) -> bool | None:
    if value is None:
        return None
    return {
        ">=": value >= target - 1e-9,
        ">": value > target,
        "<=": value <= target + 1e-9,
        "<": value < target,
    }[op]


def campaign_report(campaign: Campaign) -> dict[str, Any]:
    """The report of ``campaign`` as the data of ``report.json``."""
    results = campaign.results or CampaignResults(folder="")
    goals = []
    for goal in campaign.goals:
        if goal.measure:
            (op, target), _ = parse_target(goal.target, goal.measure)
            value = measured_value(goal, results)
            met = is_met(value, op, target)
        else:
            value, met = None, None
        goals.append({"indicator": goal.indicator, "target": goal.target, "measure": goal.measure,
                      "measured": value, "met": met})  # fmt: skip
    activities = [
        {"date": row.date.isoformat(), "title": row.title, "channel": row.channel,
         "expected": row.expected, "attended": row.attended, "rate": rate(row.attended, row.expected)}
        for row in sorted(results.attendance, key=lambda r: (r.date, r.title))
    ]  # fmt: skip
    questions = []
    if campaign.quiz is not None and (results.quiz_before or results.quiz_after):
        for i, question in enumerate(campaign.quiz.questions):
            before, after = results.quiz_before, results.quiz_after
            questions.append({
                "number": question.number, "text": question.text,
                "before": rate(before.correct[i], before.respondents) if before else None,
                "after": rate(after.correct[i], after.respondents) if after else None,
            })  # fmt: skip
    reach = [
        {"date": row.date.isoformat(), "title": row.title, "total": row.total, "forwarded": row.forwarded,
         "rate": rate(row.forwarded, row.total)}
        for row in sorted(results.reach, key=lambda r: (r.date, r.title))
    ]  # fmt: skip
    return {
        "campaign": campaign.slug,
        "title": campaign.title,
        "organizer": campaign.organizer,
        "start": campaign.start.isoformat(),
        "end": campaign.end.isoformat(),
        "goals": goals,
        "activities": activities,
        "knowledge": {
            "quiz": campaign.quiz.slug if campaign.quiz else None,
            "before": knowledge(results.quiz_before),
            "after": knowledge(results.quiz_after),
            "respondents_before": results.quiz_before.respondents if results.quiz_before else 0,
            "respondents_after": results.quiz_after.respondents if results.quiz_after else 0,
            "questions": questions,
        },
        "satisfaction": {
            "responses": len(results.scores),
            "satisfied": rate(sum(score >= SATISFIED for score in results.scores), len(results.scores)),
            "mean": round(sum(results.scores) / len(results.scores), 2) if results.scores else None,
            "counts": [sum(score == n for score in results.scores) for n in range(1, 6)],
        },
        "reach": reach,
        "plan": planned_vs_held(campaign, results),
        "unrecorded": unrecorded(campaign, results),
    }


def planned_vs_held(campaign: Campaign, results: CampaignResults) -> list[dict[str, Any]]:
    """Per channel: activities planned, and those with a result row (held and recorded)."""
    recorded = {(row.date, row.title) for row in results.attendance} | {
        (row.date, row.title) for row in results.reach
    }
    channels: dict[str, dict[str, Any]] = {}
    for activity in campaign.activities:
        entry = channels.setdefault(
            activity.channel.label, {"channel": activity.channel.label, "planned": 0, "recorded": 0}
        )
        entry["planned"] += 1
        entry["recorded"] += (activity.date, activity.title) in recorded
    return list(channels.values())


def unrecorded(campaign: Campaign, results: CampaignResults) -> list[dict[str, str]]:
    """On-site activities of the plan (a time and a place) with no sign-in row: not held, or not counted."""
    signed = {(row.date, row.title) for row in results.attendance}
    return [
        {"date": a.date.isoformat(), "title": a.title, "channel": a.channel.label}
        for a in campaign.activities
        if a.time and a.place and (a.date, a.title) not in signed
    ]
