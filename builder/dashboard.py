"""The editors' dashboard: quality of every lesson and what the content covers.

A page of the site (``/dashboard/``), not linked from the home page nor in the
search index. Nothing on it depends on the day of the build: the review age is
computed in the reader's browser from the review date, so the same content
still builds to the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from builder.model import Lesson, Project, Term
from builder.prose import Readings
from builder.quality import Finding, LessonReport, check_quality
from builder.standard import FUNCTION_AREAS, LEVELS, NAMED_AREAS

# §3 of the community-health-assistant standard (4-14-01-04, 2021): the work
# items (工作内容) of each level. Codes are per level: 2.2 is 健康信息收集处理 at
# 四级 but 健康信息传播 at 三级.
WORK_ITEMS: dict[str, tuple[tuple[str, str], ...]] = {
    "四级": (
        ("1.1", "健康档案建立"), ("1.2", "健康档案使用"), ("1.3", "健康档案维护"),
        ("2.1", "健康知识宣教"), ("2.2", "健康信息收集处理"), ("2.3", "健康科普活动实施"),
        ("3.1", "健康咨询需求获取"), ("3.2", "健康咨询实施"), ("3.3", "健康咨询跟踪管理"),
        ("4.1", "导诊服务"), ("4.2", "陪诊服务"), ("4.3", "健康访视"),
        ("5.1", "生活方式健康促进"), ("5.2", "职业健康促进"), ("5.3", "环境健康促进"),
        ("6.1", "公共卫生防疫"), ("6.2", "公共卫生事件服务"), ("6.3", "食品安全服务"), ("6.4", "意外伤害服务"),
    ),
    "三级": (
        ("1.1", "健康档案建立"), ("1.2", "健康档案使用"), ("1.3", "健康档案维护"),
        ("2.1", "健康知识宣教"), ("2.2", "健康信息传播"), ("2.3", "健康科普活动实施"),
        ("3.1", "健康咨询需求获取"), ("3.2", "健康咨询实施"), ("3.3", "健康咨询跟踪管理"),
        ("4.1", "导诊服务"), ("4.2", "陪诊服务"), ("4.3", "健康访视"),
        ("5.1", "生活方式健康促进"), ("5.2", "职业健康促进"), ("5.3", "环境健康促进"),
        ("6.1", "公共卫生风险监控"), ("6.2", "公共卫生事件服务"), ("6.3", "食品安全服务"), ("6.4", "意外伤害服务"),
        ("7.1", "社群健康指导"), ("7.2", "社群健康培训"),
    ),
    "二级": (
        ("1.1", "健康档案建立"), ("1.2", "健康档案使用"), ("1.3", "健康档案维护"),
        ("2.1", "健康知识宣教"), ("2.2", "健康宣教活动策划"), ("2.3", "健康宣教培训组织"),
        ("3.1", "健康咨询需求获取"), ("3.2", "健康咨询实施"), ("3.3", "健康咨询跟踪管理"),
        ("4.1", "就诊服务管理"), ("4.2", "服务产品规划与开发"),
        ("5.1", "生活方式健康促进"), ("5.2", "职业健康促进"), ("5.3", "环境健康促进"),
        ("6.1", "爱国卫生运动"), ("6.2", "公共卫生安全预警"), ("6.3", "食品安全防护"), ("6.4", "意外伤害预防救助"),
        ("7.1", "社群健康指导"), ("7.2", "社群健康培训"), ("7.3", "社群健康研究"),
    ),
}  # fmt: skip


@dataclass
class LessonRow:
    lesson: Lesson
    report: LessonReport
    review_due: dt.date | None

    @property
    def findings(self) -> list[Finding]:
        return self.report.findings

    @property
    def errors(self) -> int:
        return sum(finding.severity.value == "error" for finding in self.findings)


@dataclass
class WorkItem:
    code: str  # "2.1", or a named area (职业道德) of the basic requirements
    name: str
    lessons: list[Lesson] = field(default_factory=list)
    questions: int = 0


@dataclass
class LevelCoverage:
    level: str
    functions: list[tuple[str, list[WorkItem]]]  # (function name, its work items)

    @property
    def uncovered(self) -> list[WorkItem]:
        return [
            item for _, items in self.functions for item in items if not item.lessons and not item.questions
        ]


@dataclass
class Dashboard:
    rows: list[LessonRow]
    matrix: list[tuple[Term, list[int], int]]  # audience, its lessons per topic, all its lessons
    topics: list[Term]
    levels: list[LevelCoverage]
    quiz_findings: list[Finding]

    @classmethod
    def empty(cls) -> Dashboard:
        """The page with no lessons: its front matter, for MkDocs to read before the analysis is done."""
        return cls(rows=[], matrix=[], topics=[], levels=[], quiz_findings=[])


def editor_dashboard(
    project: Project, readings: Readings | None = None, lessons: Iterable[Lesson] | None = None
) -> Dashboard:
    """The dashboard's figures; ``rows`` only for ``lessons`` when given (the others' rows are kept ones)."""
    report = check_quality(project, readings=readings, lessons=lessons)
    max_age = dt.timedelta(days=project.config.review_max_age_days)
    rows = [
        LessonRow(item.lesson, item, item.lesson.reviewed_on + max_age if item.lesson.reviewed_on else None)
        for item in sorted(report.lessons, key=lambda r: r.path)
        if item.lesson is not None
    ]
    topics = list(project.config.topics.terms)
    matrix = []
    for audience in project.config.audiences.terms:
        lessons = [lesson for lesson in project.lessons if audience in lesson.audiences]
        matrix.append(
            (audience, [sum(topic in lesson.topics for lesson in lessons) for topic in topics], len(lessons))
        )
    return Dashboard(
        rows=rows,
        matrix=matrix,
        topics=topics,
        levels=[standard_coverage(project, level) for level in LEVELS],
        quiz_findings=[finding for quiz in report.quizzes for finding in quiz.findings],
    )


def _covers(tag: str, code: str) -> bool:
    return tag == code or tag.startswith(code + ".")


def standard_coverage(project: Project, level: str) -> LevelCoverage:
    """Lessons and quiz questions per work item of ``level``; untagged levels count as 四级."""
    basics = [WorkItem(name, name) for name in NAMED_AREAS]
    items = [WorkItem(code, name) for code, name in WORK_ITEMS[level]]
    every = basics + items
    for lesson in project.lessons:
        if (lesson.level or LEVELS[0]) != level:
            continue
        for item in every:
            if any(_covers(tag, item.code) for tag in lesson.competencies):
                item.lessons.append(lesson)
    for quiz in project.quizzes:
        if (quiz.level or LEVELS[0]) != level:
            continue
        for question in quiz.questions:
            tags = question.competencies or quiz.competencies
            for item in every:
                if any(_covers(tag, item.code) for tag in tags):
                    item.questions += 1
    functions = [("基本要求", basics)]
    for number, area in FUNCTION_AREAS.items():
        own = [item for item in items if item.code.split(".")[0] == number]
        if own:
            functions.append((f"{number}. {area}", own))
    return LevelCoverage(level, functions)
