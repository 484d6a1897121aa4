"""Practice exams: per-area counts follow the standard's weight table; seeded draws."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO, TODAY
from pypdf import PdfReader

from builder.diagnostics import Diagnostics
from builder.exam import assemble, exam_json, plan
from builder.project import load_project
from builder.standard import AREAS, SKILL_WEIGHTS, THEORY_WEIGHTS

AREA_TAGS = {
    "职业道德": "职业道德",
    "基础知识": "基础知识",
    "健康档案管理": "1.1.1",
    "健康科普教育": "2.1.1",
    "健康咨询": "3.1.3",
    "就诊协助": "4.1.1",
    "健康促进协助": "5.1.2",
    "公共卫生事务协助": "6.1.1",
    "培训、指导与研究": "7.1.1",
}


def write_bank(write, per_area: int, level: str = "三级") -> None:
    questions = []
    for area, tag in AREA_TAGS.items():
        if level == "四级" and tag.startswith("7."):  # 7.x is in the 三级 and 二级 tables only
            continue
        for index in range(per_area):
            questions.append(f"## {area}第{index + 1}题\n<!-- competencies: {tag} -->\n- [x] 对\n- [ ] 错\n")
    head = f"---\ntitle: 题库\naudiences: [老年人]\nlessons: [hypertension-basics]\nlevel: {level}\n---\n"
    write("content/quizzes/bank.md", head + "\n".join(questions))


@pytest.mark.parametrize("level", ["四级", "三级", "二级"])
@pytest.mark.parametrize("count", [20, 37, 100])
def test_plan_follows_the_weight_table_within_rounding(level, count):
    counts = plan(level, count)
    assert sum(counts.values()) == count
    for area, weight in zip(AREAS, THEORY_WEIGHTS[level], strict=True):
        assert abs(counts.get(area, 0) - count * weight / 100) < 1


def test_plan_for_a_20_question_level_4_exam():
    assert plan("四级", 20) == {
        "职业道德": 1, "基础知识": 4, "健康档案管理": 2, "健康科普教育": 2,
        "健康咨询": 2, "就诊协助": 4, "健康促进协助": 2, "公共卫生事务协助": 3,
    }  # fmt: skip


def test_assembled_exam_matches_plan_and_seed(project, write):
    write_bank(write, per_area=6)
    loaded = load_project(project, Diagnostics(), today=TODAY)
    exam = assemble(loaded, "三级", 30, seed=1)
    drawn = {area: exam.drawn(area) for area in exam.planned}
    assert drawn == plan("三级", 30) and exam.shortfall == {}
    assert exam_json(exam) == exam_json(assemble(loaded, "三级", 30, seed=1))
    assert exam_json(exam) != exam_json(assemble(loaded, "三级", 30, seed=2))
    data = json.loads(exam_json(exam))
    assert {q["area"] for q in data["questions"]} == set(plan("三级", 30))
    assert data["questions"][0]["source"].startswith("content/quizzes/bank.md:")


def test_higher_level_questions_stay_out_of_lower_level_exams(project, write):
    write_bank(write, per_area=6, level="二级")
    loaded = load_project(project, Diagnostics(), today=TODAY)
    exam = assemble(loaded, "四级", 20, seed=1)
    assert exam.questions and all(item.quiz.slug != "bank" for item in exam.questions)


def test_shortfall_is_reported_and_the_rest_assembled(project, write):
    write_bank(write, per_area=1, level="四级")
    result = subprocess.run(
        [sys.executable, "-m", "builder", "exam", "--project", str(project), "--level", "四级",
         "--count", "20", "--out", str(project / "exam")],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "题库不足：基础知识 缺 3 题" in result.stderr and "题库不足：职业道德" not in result.stderr
    # One per area from the bank, plus the fixture quiz's three 健康科普教育 questions (one more is drawn).
    assert len(json.loads((project / "exam" / "exam.json").read_text(encoding="utf-8"))["questions"]) == 9


@pytest.mark.parametrize("level", ["四级", "三级", "二级"])
def test_bundled_bank_gives_a_full_exam_at_every_level_with_pdfs(tmp_path, level):
    out = tmp_path / "exam"
    command = [sys.executable, "-m", "builder", "exam", "--level", level, "--count", "20", "--seed", "1"]
    result = subprocess.run(
        [*command, "--out", str(out)], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 0 and "题库不足" not in result.stderr and "缺" not in result.stdout, result
    assert "满分 100 分，每题 5 分，90 分钟，60 分及格" in result.stdout
    exam = json.loads((out / "exam.json").read_text(encoding="utf-8"))
    assert len(exam["questions"]) == 20
    assert all(area["drawn"] == area["planned"] for area in exam["areas"])
    assert (exam["total_points"], exam["minutes"], exam["pass_mark"]) == (100, 90, 60)
    paper = PdfReader(out / "exam.pdf")
    text = "".join(page.extract_text() for page in paper.pages)
    assert exam["questions"][0]["text"][:8] in text and "姓名" in text
    assert (
        "满分 100 分" in text and "每题 5 分" in text and "考试时间 90 分钟" in text and "60 分及格" in text
    )
    answers = "".join(page.extract_text() for page in PdfReader(out / "answers.pdf").pages)
    assert "答案" in answers
    page = (out / "exam.html").read_text(encoding="utf-8")
    assert page.count('class="kepu-question"') == 20 and "<script src" not in page and "http" not in page
    # The skill test: one scenario card per area the §4.2 table weighs, worth that weight.
    skills = exam["skills"]
    weighted = {area: w for area, w in zip(AREAS[2:], SKILL_WEIGHTS[level], strict=True) if w}
    assert {card["area"]: card["points"] for card in skills["cards"]} == weighted and skills["missing"] == []
    assert sum(card["points"] for card in skills["cards"]) == 100
    for card in skills["cards"]:
        assert sum(float(item["points"]) for item in card["items"]) == card["points"], card["title"]
    sheet = "".join(page.extract_text() for page in PdfReader(out / "skills.pdf").pages)
    assert "评分汇总表" in sheet and "考核时间不少于 60 分钟" in sheet and "60 分及格" in sheet
    for card in skills["cards"]:
        assert card["title"][:10] in sheet.replace("\n", ""), card["title"]


def test_the_skills_quizs_questions_count_in_their_own_areas():
    from builder.exam import question_bank

    diagnostics = Diagnostics()
    project = load_project(REPO, diagnostics, today=TODAY)
    assert project is not None
    bank = [item for item in question_bank(project, "四级") if item.quiz.slug == "assistant-skills-quiz"]
    counts: dict[str, int] = {}
    for item in bank:
        counts[item.area] = counts.get(item.area, 0) + 1
    # Before: every question took the quiz's first tag (1.1.1), so all ten counted as 健康档案管理.
    assert counts == {
        "健康档案管理": 3,
        "健康科普教育": 2,
        "健康咨询": 2,
        "就诊协助": 2,
        "公共卫生事务协助": 1,
    }
    by_text = {item.question.text: item.area for item in bank}
    assert by_text["下面哪些做法在使用消毒剂时是正确的？（多选）"] == "公共卫生事务协助"
    assert by_text["协助老人预约挂号后，老人因病不能按时去，应该怎么办？"] == "就诊协助"


def test_a_question_with_only_its_quizs_tags_counts_only_when_they_name_one_area(project, write):
    head = "---\ntitle: 题库\naudiences: [老年人]\nlessons: [hypertension-basics]\nlevel: 四级\n"
    questions = "## 甲题\n- [x] 对\n- [ ] 错\n\n## 乙题\n<!-- competencies: 4.1.1 -->\n- [x] 对\n- [ ] 错\n"
    write("content/quizzes/bank.md", head + 'competencies: ["1.1.1", "2.1.1"]\n---\n' + questions)
    diagnostics = Diagnostics()
    loaded = load_project(project, diagnostics, today=TODAY)
    assert loaded is not None, [str(d) for d in diagnostics.items]
    exam = assemble(loaded, "四级", 20, 1)
    from builder.exam import question_bank

    areas = {
        item.question.text: item.area for item in question_bank(loaded, "四级") if item.quiz.slug == "bank"
    }
    assert areas == {"乙题": "就诊协助"}  # 甲题's quiz tags span two areas: left out, and said so
    assert exam.unplaced == ["content/quizzes/bank.md:" + str(8)]
    write("content/quizzes/bank.md", head + 'competencies: ["1.1.1", "1.2.1"]\n---\n' + questions)
    loaded = load_project(project, Diagnostics(), today=TODAY)
    areas = {
        item.question.text: item.area for item in question_bank(loaded, "四级") if item.quiz.slug == "bank"
    }
    assert areas == {"甲题": "健康档案管理", "乙题": "就诊协助"}


SKILL_HEAD = "---\ntitle: 情景卡\nlevel: 四级\n---\n\n"
SKILL_CARD = (
    "## 建档\n<!-- competencies: 1.1.2 -->\n\n情景：为老人建档。\n\n- 征得同意（40分）\n- 填表准确（60分）\n"
)


def test_skill_cards_load_and_their_mistakes_are_errors_at_their_lines(project, write):
    write("content/skills/cards.md", SKILL_HEAD + SKILL_CARD)
    diagnostics = Diagnostics()
    loaded = load_project(project, diagnostics, today=TODAY)
    assert loaded is not None, [str(d) for d in diagnostics.items]
    (skill_set,) = loaded.skills
    (card,) = skill_set.cards
    assert (card.area, card.competency, [i.points for i in card.items]) == ("健康档案管理", "1.1.2", [40, 60])
    broken = (
        SKILL_CARD.replace("（60分）", "（50分）")
        + "## 无编码\n\n情景。\n\n- 做到（100分）\n"
        + "## 带教\n<!-- competencies: 7.1.3 -->\n\n情景。\n\n- 做到（100分）\n"
        + "## 没分值\n<!-- competencies: 4.1.3 -->\n\n情景。\n\n- 做到\n- 做完（100分）\n"
    )
    write("content/skills/cards.md", SKILL_HEAD + broken)
    diagnostics = Diagnostics()
    assert load_project(project, diagnostics, today=TODAY) is None
    assert [str(d) for d in diagnostics.sorted() if d.path == "content/skills/cards.md"] == [
        "content/skills/cards.md:6: 情景卡「建档」的评分要点共 90 分，应是 100 分",
        "content/skills/cards.md:13: 情景卡「无编码」要在标题下一行写一个能力编码：<!-- competencies: 4.1.3 -->",
        "content/skills/cards.md:18: 能力编码 '7.1.3' 不是四级的技能要求（它在三级、二级的表里）",
        "content/skills/cards.md:29: 评分要点要写成「- 要点（20分）」：括号里写这一项的分值",
    ]


def test_a_level_without_a_card_for_an_area_says_so_and_draws_the_rest(project, write):
    write("content/skills/cards.md", SKILL_HEAD + SKILL_CARD)
    loaded = load_project(project, Diagnostics(), today=TODAY)
    exam = assemble(loaded, "四级", 20, 1)
    assert [(draw.card.title, draw.weight) for draw in exam.skills] == [("建档", 10)]
    assert exam.skills_missing == ["健康科普教育", "健康咨询", "就诊协助", "健康促进协助", "公共卫生事务协助"]
    assert [draw.points(item.points) for draw in exam.skills for item in draw.card.items] == ["4", "6"]
