"""Practice exams assembled from the question bank by the standard's weight table.

The share of questions per area follows §4.1 (理论知识权重表) for the chosen
level; counts are rounded by the largest-remainder method so they always add up.
The draw is seeded: the same project, level, count and seed give the same exam.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from builder import pdf
from builder.markup import markdown_to_html
from builder.model import Project, Question, Quiz
from builder.sanitize import clean_html
from builder.skills import SkillCard
from builder.standard import AREAS, SKILL_WEIGHTS, THEORY_WEIGHTS, area_of, level_rank
from builder.templates import make_environment
from builder.widows import keep_last_words


def safe_markdown(text: str) -> Markup:
    """A question's Markdown through the raw-HTML policy: it reaches a web page and a PDF.

    Links to pages or files become their text: the exam is read away from the site.
    """
    return Markup(pdf.unwrap_local_links(clean_html(markdown_to_html(text))))


@dataclass(frozen=True)
class BankQuestion:
    quiz: Quiz
    question: Question
    tags: tuple[str, ...]
    area: str

    @property
    def sort_key(self) -> tuple[str, int]:
        return (self.quiz.source, self.question.number)


# The standard's §1.9 frame of the theory exam: marked out of 100, at least 90 minutes,
# 60 (inclusive) passes. A paper of N questions gives each 100 / N points.
TOTAL_POINTS = 100
MINUTES = 90
PASS_MARK = 60
SKILL_MINUTES = 60  # the skill test: at least 60 minutes, also out of 100 with 60 to pass


@dataclass(frozen=True)
class SkillDraw:
    """One scenario card on the skill paper, worth its area's §4.2 weight."""

    card: SkillCard
    source: str
    weight: int  # points of the 100

    def points(self, item_points: int) -> str:
        """An item's points scaled from the card's 100 to the area's weight: 20 of 100 at 25 → 5."""
        return f"{item_points * self.weight / 100:g}"


@dataclass
class Exam:
    level: str
    count: int
    seed: int
    planned: dict[str, int]  # area → questions the weight table asks for
    questions: list[BankQuestion] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)  # "source:line" of questions with no single area
    skills: list[SkillDraw] = field(default_factory=list)  # one card per area the §4.2 table weighs
    skills_missing: list[str] = field(default_factory=list)  # weighted areas with no card to draw

    @property
    def points_each(self) -> str:
        """Points per question, as printed: 5 for 20 questions, 2.5 for 40."""
        value = TOTAL_POINTS / max(len(self.questions), 1)
        return f"{value:g}" if value == round(value, 2) else f"{value:.2f}"

    def drawn(self, area: str) -> int:
        return sum(1 for item in self.questions if item.area == area)

    @property
    def shortfall(self) -> dict[str, int]:
        return {area: n - self.drawn(area) for area, n in self.planned.items() if self.drawn(area) < n}


def plan(level: str, count: int) -> dict[str, int]:
    """Questions per area for ``count`` questions at ``level`` (largest remainder)."""
    weights = dict(zip(AREAS, THEORY_WEIGHTS[level], strict=True))
    exact = {area: count * weight / 100 for area, weight in weights.items()}
    counts = {area: int(value) for area, value in exact.items()}
    by_remainder = sorted(AREAS, key=lambda area: (-(exact[area] - counts[area]), AREAS.index(area)))
    for area in by_remainder[: count - sum(counts.values())]:
        counts[area] += 1
    return {area: n for area, n in counts.items() if weights[area] > 0}


def area_of_question(question: Question, quiz: Quiz) -> tuple[tuple[str, ...], str | None]:
    """A question's tags and the weight-table area it counts in.

    Its own tags (``<!-- competencies: … -->`` under the heading) come before the quiz's.
    With several tags the first names the work item the question mainly tests, and the
    question counts in that item's area, as the standard's §3 table files the item. A
    question with only the quiz's tags counts only when they all lie in one area: a quiz
    tagged with codes of several areas does not say which one each question tests.
    """
    if question.competencies:
        tags = tuple(question.competencies)
        return tags, area_of(tags[0])
    tags = tuple(quiz.competencies)
    areas = {area_of(tag) for tag in tags}
    return tags, (areas.pop() if len(areas) == 1 else None)


def question_bank(project: Project, level: str) -> list[BankQuestion]:
    """Tagged questions usable at ``level``: a higher level covers the lower ones, never the reverse."""
    bank = []
    for quiz in project.quizzes:
        if quiz.level and level_rank(quiz.level) > level_rank(level):
            continue
        for question in quiz.questions:
            tags, area = area_of_question(question, quiz)
            if area is not None:
                bank.append(BankQuestion(quiz, question, tags, area))
    return sorted(bank, key=lambda item: item.sort_key)


def unplaced(project: Project, level: str) -> list[tuple[Quiz, Question]]:
    """Questions left out of the bank because their quiz's tags span several areas."""
    return [
        (quiz, question)
        for quiz in project.quizzes
        if not (quiz.level and level_rank(quiz.level) > level_rank(level))
        for question in quiz.questions
        if quiz.competencies and area_of_question(question, quiz)[1] is None
    ]


def assemble(project: Project, level: str, count: int, seed: int) -> Exam:
    exam = Exam(level=level, count=count, seed=seed, planned=plan(level, count))
    rng = random.Random(f"kepu-exam:{level}:{count}:{seed}")
    bank = question_bank(project, level)
    draw_skills(project, exam, random.Random(f"kepu-skills:{level}:{seed}"))
    exam.unplaced = [f"{quiz.source}:{question.line}" for quiz, question in unplaced(project, level)]
    for area, wanted in exam.planned.items():
        pool = [item for item in bank if item.area == area]
        exam.questions += rng.sample(pool, min(wanted, len(pool)))
    return exam


def draw_skills(project: Project, exam: Exam, rng: random.Random) -> None:
    """One card for each area of the level's §4.2 skill weights, from the cards usable there."""
    cards = [
        (card, f"{skill.source}:{card.line}")
        for skill in (project.skills or [])
        if not (skill.level and level_rank(skill.level) > level_rank(exam.level))
        for card in skill.cards
    ]
    for area, weight in zip(AREAS[2:], SKILL_WEIGHTS[exam.level], strict=True):
        if weight == 0:
            continue
        pool = sorted((item for item in cards if item[0].area == area), key=lambda item: item[1])
        if not pool:
            exam.skills_missing.append(area)
            continue
        card, source = rng.choice(pool)
        exam.skills.append(SkillDraw(card, source, weight))


def exam_json(exam: Exam) -> str:
    questions = []
    for number, item in enumerate(exam.questions, start=1):
        q = item.question
        questions.append(
            {
                "number": number,
                "area": item.area,
                "competencies": list(item.tags),
                "kind": q.kind.value,
                "text": q.text,
                "options": [option.text for option in q.options],
                "answer": [index for index, option in enumerate(q.options) if option.correct],
                "explanation": q.explanation,
                "source": f"{item.quiz.source}:{q.line}",
            }
        )
    data = {
        "level": exam.level,
        "count": exam.count,
        "seed": exam.seed,
        "total_points": TOTAL_POINTS,
        "minutes": MINUTES,
        "pass_mark": PASS_MARK,
        "points_each": exam.points_each,
        "areas": [
            {"area": area, "planned": n, "drawn": exam.drawn(area)} for area, n in exam.planned.items()
        ],
        "questions": questions,
        "skills": {
            "total_points": TOTAL_POINTS,
            "minutes": SKILL_MINUTES,
            "pass_mark": PASS_MARK,
            "cards": [
                {
                    "area": draw.card.area,
                    "competency": draw.card.competency,
                    "title": draw.card.title,
                    "points": draw.weight,
                    "situation": draw.card.situation,
                    "items": [
                        {"text": item.text, "points": draw.points(item.points)} for item in draw.card.items
                    ],
                    "source": draw.source,
                }
                for draw in exam.skills
            ],
            "missing": exam.skills_missing,
        },
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write_exam(project: Project, exam: Exam, out_dir: Path) -> list[Path]:
    """Write exam.json, the online exam page, and the exam and answer-key PDFs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    env = make_environment(project, autoescape=True)
    env.filters["md"] = safe_markdown
    assets = Path(env.loader.get_source(env, "site/assets/kepu-quiz.js")[1]).parent  # type: ignore[union-attr]
    context = {
        "exam": exam,
        "items": list(enumerate(exam.questions, start=1)),
        "quiz_js": (assets / "kepu-quiz.js").read_text(encoding="utf-8"),
        "quiz_css": (assets / "kepu.css").read_text(encoding="utf-8"),
        "letters": "ABCDEFGHIJKLMNOP",
        "frame": {
            "total": TOTAL_POINTS,
            "minutes": MINUTES,
            "pass_mark": PASS_MARK,
            "skill_minutes": SKILL_MINUTES,
        },
    }
    written = []
    (out_dir / "exam.json").write_text(exam_json(exam), encoding="utf-8")
    written.append(out_dir / "exam.json")
    (out_dir / "exam.html").write_text(
        env.get_template("exam/online.html.j2").render(**context), encoding="utf-8"
    )
    written.append(out_dir / "exam.html")
    root = str(project.root.resolve())
    papers = [("exam.pdf", "exam/paper.html.j2", False), ("answers.pdf", "exam/paper.html.j2", True)]
    if exam.skills:
        papers.append(("skills.pdf", "exam/skills.html.j2", False))
    for name, template, answers in papers:
        # No character left alone on a paragraph's last line (the print pass of builder.widows).
        html = keep_last_words(env.get_template(template).render(answers=answers, **context))
        # The shared PDF engine reads project files only (by project-relative URLs, so the
        # PDF does not depend on the folder): no network, no file elsewhere on the disk.
        document = pdf.lay_out(html, root)
        data = pdf.write_pdf(
            document,
            title=f"{project.config.name} {exam.level}"
            + ("技能考核情景卡" if name == "skills.pdf" else f"理论练习{'答案' if answers else '试卷'}"),
            authors=[project.config.organization],
            lang="zh-CN",
        )
        (out_dir / name).write_bytes(data)
        written.append(out_dir / name)
    return written


def describe(exam: Exam) -> Iterable[str]:
    yield (
        f"{exam.level} 理论练习卷：{len(exam.questions)} / {exam.count} 题（seed {exam.seed}），"
        f"满分 {TOTAL_POINTS} 分，每题 {exam.points_each} 分，{MINUTES} 分钟，{PASS_MARK} 分及格"
    )
    for area, n in exam.planned.items():
        drawn = exam.drawn(area)
        note = f"  缺 {n - drawn} 题" if drawn < n else ""
        yield f"  {area:<10} 计划 {n:>2}  抽到 {drawn:>2}{note}"
    if exam.skills or exam.skills_missing:
        yield f"{exam.level} 技能考核：{len(exam.skills)} 张情景卡，满分 {TOTAL_POINTS} 分，{SKILL_MINUTES} 分钟，{PASS_MARK} 分及格"
        for draw in exam.skills:
            yield f"  {draw.card.area:<10} {draw.weight:>2} 分  {draw.card.title}"
        for area in exam.skills_missing:
            yield f"  {area:<10} 缺情景卡（在 content/skills/ 里写一张该领域的卡）"
    for where in exam.unplaced:
        yield f"  未入题库：{where} 没有自己的能力编码，测验的编码又分属几个领域（在题干下写 <!-- competencies: … -->）"
