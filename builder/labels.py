"""Words every output shows the same way: weekday names and question-kind labels.

Kept once so a printed sign-in sheet, a posting schedule and the site never call
the same day or the same kind of question by different names.
"""

from __future__ import annotations

import datetime as dt

from builder.model import Question, QuestionKind

WEEKDAY_NAMES = "一二三四五六日"  # Monday first, as date.weekday() counts

QUESTION_KIND_LABELS = {
    QuestionKind.SINGLE: "单选",
    QuestionKind.MULTIPLE: "多选",
    QuestionKind.TRUE_FALSE: "判断",
}
# As the site's quiz pages write them after a question: "（单选）".
QUESTION_KIND_TAGS = {kind: f"（{label}）" for kind, label in QUESTION_KIND_LABELS.items()}


def chinese_weekday(day: dt.date) -> str:
    """星期一 … 星期日: how a printed sheet names the day."""
    return "星期" + WEEKDAY_NAMES[day.weekday()]


def short_weekday(day: dt.date) -> str:
    """周一 … 周日: the short form, for a spreadsheet column."""
    return "周" + WEEKDAY_NAMES[day.weekday()]


def question_kind_label(question: Question) -> str:
    """单选 / 多选 / 判断, or "" when the editor already wrote it into the question."""
    label = QUESTION_KIND_LABELS[question.kind]
    return "" if label in question.text else label
