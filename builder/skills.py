"""Skill-test scenario cards (``content/skills/<slug>.md``): the practical part of an exam.

Every ``##`` heading is one card: a situation the candidate handles in front of the
examiner. The line after the heading names its work item, ``<!-- competencies: 4.1.3 -->``
(the card counts in that item's area of the standard's §4.2 skill weights); the paragraphs
are the situation and the task; a list of ``- 评分要点（20分）`` lines is the scoring
sheet, adding up to 100. Read once while the project loads, like every content file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from builder.content import QUESTION_TAGS, SourceFile, check_competency, read_level
from builder.diagnostics import Diagnostics
from builder.schema import FieldReader
from builder.standard import NAMED_AREAS, area_of

SKILL_KEYS = ("title", "summary", "level")
HEADING = re.compile(r"^##\s+(.+?)\s*#*\s*$")
SCORE_ITEM = re.compile(r"^\s{0,3}[-*+]\s+(.{1,200}?)\s*[（(]\s*(\d{1,3})\s*分\s*[）)]\s*$")
LIST_ITEM = re.compile(r"^\s{0,3}[-*+]\s+")
FULL_MARKS = 100


@dataclass(frozen=True)
class ScoreItem:
    text: str
    points: int
    line: int


@dataclass
class SkillCard:
    title: str
    line: int
    competency: str
    area: str
    situation: str  # Markdown: the situation and the task
    items: list[ScoreItem] = field(default_factory=list)


@dataclass
class SkillSet:
    slug: str
    source: str
    title: str
    level: str | None
    summary: str = ""
    cards: list[SkillCard] = field(default_factory=list)


def load_skills(src: SourceFile, diagnostics: Diagnostics) -> SkillSet | None:
    r = FieldReader(src.front, src.path, diagnostics)
    r.check_keys(SKILL_KEYS)
    title = r.text("title")
    summary = r.text("summary", required=False) or ""
    level = read_level(r)
    errors_before = len(diagnostics.errors)
    cards = _cards(src, level, diagnostics)
    if not cards and len(diagnostics.errors) == errors_before:
        diagnostics.error(src.path, src.body_line, "没有情景卡：每张卡用 ## 开头写标题")
    if title is None or len(diagnostics.errors) > errors_before:
        return None
    return SkillSet(src.slug, src.path, title, level, summary, cards)


def _cards(src: SourceFile, level: str | None, diagnostics: Diagnostics) -> list[SkillCard]:
    drafts: list[tuple[str, int, list[tuple[int, str]]]] = []
    for offset, text in enumerate(src.body.split("\n")):
        heading = HEADING.match(text)
        if heading:
            drafts.append((heading.group(1), src.body_line + offset, []))
        elif drafts:
            drafts[-1][2].append((src.body_line + offset, text))
    return [card for draft in drafts if (card := _card(src.path, level, *draft, diagnostics))]


def _card(
    path: str,
    level: str | None,
    title: str,
    line: int,
    lines: list[tuple[int, str]],
    diagnostics: Diagnostics,
) -> SkillCard | None:
    codes: list[str] = []
    situation: list[str] = []
    items: list[ScoreItem] = []
    for number, text in lines:
        tags = QUESTION_TAGS.match(text)
        if tags:
            codes += [code for code in re.split(r"[,，、\s]+", tags.group(1)) if code]
            continue
        item = SCORE_ITEM.match(text)
        if item:
            items.append(ScoreItem(item.group(1), int(item.group(2)), number))
        elif LIST_ITEM.match(text):
            diagnostics.error(path, number, "评分要点要写成「- 要点（20分）」：括号里写这一项的分值")
        elif not items:
            situation.append(text)
        elif text.strip():
            diagnostics.error(path, number, "评分要点之后不能再写情景：情景写在评分要点前面")
    if len(codes) != 1:
        diagnostics.error(
            path, line, f"情景卡「{title}」要在标题下一行写一个能力编码：<!-- competencies: 4.1.3 -->"
        )
        return None
    if codes[0] in NAMED_AREAS:
        diagnostics.error(path, line, f"情景卡要写具体的技能编码（如 4.1.3），不能只写「{codes[0]}」")
        return None
    if not check_competency(codes[0], path, line, diagnostics, level):
        return None
    if not "".join(situation).strip():
        diagnostics.error(path, line, f"情景卡「{title}」没有写情景和任务")
    total = sum(item.points for item in items)
    if total != FULL_MARKS:
        diagnostics.error(path, line, f"情景卡「{title}」的评分要点共 {total} 分，应是 {FULL_MARKS} 分")
        return None
    return SkillCard(title, line, codes[0], area_of(codes[0]), "\n".join(situation).strip(), items)
