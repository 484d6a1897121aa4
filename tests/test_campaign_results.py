"""Measured results in content/results/<campaign>/: every bad row at its line, all in one
run, and a 问卷星 .xlsx export read with a real spreadsheet library."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import TODAY

from builder.diagnostics import Diagnostics
from builder.project import load_project

CAMPAIGN = "content/campaigns/dust-month.md"
RESULTS = "content/results/dust-month"
QUIZ = """\
---
title: 防尘知识自测
audiences: [农民工]
lessons: [dust-pneumoconiosis]
---

## 尘肺病是怎么得的？

- [x] 长期吸入生产性粉尘
- [ ] 吃了不干净的东西

## 下面哪些能减少粉尘？（多选）

- [x] 湿式作业
- [x] 通风除尘
- [ ] 把口罩拉到下巴

## 防尘口罩戴上后要做气密性检查。

- [x] 对
- [ ] 错
"""
PLAN = """\
---
title: 2026年工地职业健康宣传月
summary: 在工地开展粉尘防护和尘肺病预防宣传。
audiences: [农民工, 建筑工人]
start: 2026-04-25
end: 2026-06-30
organizer: 示例区疾控中心
quiz: dust-quiz
goals:
  - {indicator: 职业健康知识知晓率, target: "≥85%", measure: quiz}
  - {indicator: 讲座参与率, target: "≥60%", measure: attendance}
  - {indicator: 满意度, target: "≥90%", measure: survey}
  - {indicator: 推送转发覆盖率, target: "≥90%", measure: reach}
activities:
  - title: 工地健康大讲堂
    date: 2026-05-01
    time: "14:00-15:30"
    place: 示例工地生活区会议室
    channel: 讲座
    lessons: [dust-pneumoconiosis]
    repeat: {every: month, on: 第三个周三, until: 2026-06-30}
  - title: 公众号推送：防尘口罩怎么戴
    date: 2026-05-10
    channel: 公众号
    lessons: [dust-pneumoconiosis]
---

把防尘知识送到工地一线。
"""


@pytest.fixture
def plan(write) -> None:
    write("content/quizzes/dust-quiz.md", QUIZ)
    write(CAMPAIGN, PLAN)


def diagnose(project: Path) -> list[str]:
    diagnostics = Diagnostics()
    load_project(project, diagnostics, today=TODAY)
    return [str(d) for d in diagnostics.sorted()]


def test_good_results_load_into_the_model(project: Path, write, plan):
    write(f"{RESULTS}/attendance.csv", "date,activity,expected,attended\n2026-05-20,工地健康大讲堂,50,40\n")
    write(f"{RESULTS}/survey.csv", "score\n5\n4\n")
    write(f"{RESULTS}/reach.csv", "日期,活动,群总数,已转发\n2026-05-10,公众号推送：防尘口罩怎么戴,10,9\n")
    write(f"{RESULTS}/quiz-after.csv", '编号,Q1,Q2,Q3\n1,A,AB,对\n2,B,"A,B",A\n')
    diagnostics = Diagnostics()
    project_model = load_project(project, diagnostics, today=TODAY)
    assert project_model is not None, [str(d) for d in diagnostics.items]
    results = project_model.campaigns[0].results
    assert [(r.date.isoformat(), r.expected, r.attended) for r in results.attendance] == [
        ("2026-05-20", 50, 40)
    ]
    assert results.scores == [5, 4] and results.reach[0].forwarded == 9
    assert results.quiz_after.respondents == 2 and results.quiz_after.correct == (1, 2, 2)


def test_every_bad_attendance_row_is_an_error_at_its_line_all_in_one_run(project: Path, write, plan):
    rows = [
        "date,activity,expected,attended",  # 1
        "2026-05-20,工地健康大讲堂,50,40",  # 2 fine
        "2026-05-20,工地健康大讲堂,50,41",  # 3 duplicate of line 2
        "2026-13-01,工地健康大讲堂,50,40",  # 4 no such date
        "2026-08-19,工地健康大讲堂,50,40",  # 5 after the campaign
        "2026-05-21,工地健康大讲堂,50,40",  # 6 not a day it was held
        "2026-06-17,工地讲堂,50,40",  # 7 unknown activity
        "2026-06-17,工地健康大讲堂,50,60",  # 8 attended > expected
        "2026-06-17,工地健康大讲堂,五十,40",  # 9 not a number
        "2026-06-17,工地健康大讲堂,50,40,多了",  # 10 one cell too many
        "2026-06-17,工地健康大讲堂,0,0",  # 11 nothing to divide by
        '"2026-06-17","工地健康大讲堂",50,-1',  # 12 negative
    ]
    write(f"{RESULTS}/attendance.csv", "\n".join(rows) + "\n")
    messages = diagnose(project)
    path = f"{RESULTS}/attendance.csv"
    expected = {
        3: "和第 2 行重复：同一场活动只写一行",
        4: "日期 '2026-13-01' 应写成 2026-05-08",
        5: "日期 2026-08-19 不在活动时间（2026-04-25 至 2026-06-30）之内",
        6: "活动「工地健康大讲堂」没有安排在 2026-05-21（计划的日期：5月20日、6月17日）",
        7: "计划里没有活动「工地讲堂」，是不是「工地健康大讲堂」？",
        8: "attended 60 大于 expected 50",
        9: "expected '五十' 应是不小于 0 的整数",
        10: "这一行有 5 列，第一行只有 4 列（多了逗号？）",
        11: "expected 是 0：无法算比例",
        12: "attended '-1' 应是不小于 0 的整数",
    }
    for line, message in expected.items():
        assert f"{path}:{line}: {message}" in messages, (line, messages)
    assert not any(m.startswith(f"{path}:2:") for m in messages)


def test_a_wrong_header_and_the_other_files_bad_rows_are_reported_together(project: Path, write, plan):
    write(f"{RESULTS}/attendance.csv", "date,activity,expect,attended\n")
    write(f"{RESULTS}/survey.csv", "score\n5\n6\n好\n")
    write(
        f"{RESULTS}/reach.csv", "date,activity,total,forwarded\n2026-05-10,公众号推送：防尘口罩怎么戴,10,12\n"
    )
    write(f"{RESULTS}/quiz-before.csv", "Q1,Q2,Q3\nA,AB,对\nD,A,错\nAB,A,A\n天上掉的,A,A\n")
    write(f"{RESULTS}/notes.txt", "随手记")
    write("content/results/dust-mnth/attendance.csv", "date,activity,expected,attended\n")
    messages = diagnose(project)
    for expected in (
        f"{RESULTS}/attendance.csv:1: 不认识的列 'expect'（可用的列：date、activity、expected、attended）",
        f"{RESULTS}/attendance.csv:1: 缺少列：expected（第一行应是 date,activity,expected,attended）",
        f"{RESULTS}/survey.csv:3: 满意度评分 '6' 应是 1 到 5 的整数",
        f"{RESULTS}/survey.csv:4: 满意度评分 '好' 应是 1 到 5 的整数",
        f"{RESULTS}/reach.csv:2: forwarded 12 大于 total 10",
        f"{RESULTS}/quiz-before.csv:3: 第 1 题只有 2 个选项（A–B），答案 'D' 不对",
        f"{RESULTS}/quiz-before.csv:4: 第 1 题是单选题，答案 'AB' 选了 2 项",
        f"{RESULTS}/quiz-before.csv:5: 第 1 题没有选项 '天上掉的'（答案写字母，或和题目里的选项一字不差）",
        f"{RESULTS}/notes.txt:0: 不认识的结果文件：可用 attendance.csv、quiz-before.csv/.xlsx、quiz-after.csv/.xlsx、survey.csv、reach.csv",
        "content/results/dust-mnth:0: 没有活动计划 'dust-mnth'，是不是 'dust-month'？",
    ):
        assert expected in messages, (expected, messages)


def test_kepu_check_prints_every_results_error_and_exits_1_without_a_traceback(project: Path, write, plan):
    write(
        f"{RESULTS}/attendance.csv",
        "date,activity,expected,attended\n2026-05-21,工地健康大讲堂,50,40\nx,y,1,2\n",
    )
    done = subprocess.run(
        [sys.executable, "-m", "builder", "check", "--project", str(project)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output
    assert f"{RESULTS}/attendance.csv:2:" in output and f"{RESULTS}/attendance.csv:3:" in output


def wjx_export(path: Path, answers: list[list[object]]) -> None:
    """An .xlsx laid out like a 问卷星 “按选项文本” export: six columns of metadata, then “N、题目”."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "问卷星"
    sheet.append(["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP",
                  "1、尘肺病是怎么得的？", "2、下面哪些能减少粉尘？（多选）", "3、防尘口罩戴上后要做气密性检查。"])  # fmt: skip
    for number, row in enumerate(answers, start=1):
        sheet.append([number, "2026/6/20 10:00:00", "95秒", "微信", "N/A", "示例", *row])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def test_a_wjx_xlsx_export_is_scored_per_question_against_the_quiz(project: Path, plan):
    wjx_export(project / RESULTS / "quiz-after.xlsx", [
        ["长期吸入生产性粉尘", "湿式作业┋通风除尘", "对"],  # all right
        ["吃了不干净的东西", "湿式作业", "对"],  # 1 wrong, 2 half (wrong), 3 right
        ["长期吸入生产性粉尘", "通风除尘┋湿式作业", "错"],  # order of a multiple choice does not matter
        ["A", "AB", None],  # letters work too; an empty cell is unanswered (not right)
    ])  # fmt: skip
    diagnostics = Diagnostics()
    loaded = load_project(project, diagnostics, today=TODAY)
    assert loaded is not None, [str(d) for d in diagnostics.items]
    after = loaded.campaigns[0].results.quiz_after
    assert after.respondents == 4
    assert after.correct == (3, 3, 2) and after.answered == (4, 4, 3)


def test_a_bad_cell_of_an_xlsx_is_named_by_sheet_and_cell(project: Path, plan):
    wjx_export(project / RESULTS / "quiz-before.xlsx", [
        ["长期吸入生产性粉尘", "湿式作业", "对"],
        ["长期吸入生产性粉尘", "湿式作业┋戴两层口罩", "对"],  # row 3 of the sheet, column H
    ])  # fmt: skip
    messages = diagnose(project)
    assert (
        f"{RESULTS}/quiz-before.xlsx:3: 问卷星!H3：第 2 题没有选项 '戴两层口罩'（答案写字母，或和题目里的选项一字不差）"
        in messages
    ), messages


def test_hostile_spreadsheets_are_refused_in_one_sentence(project: Path, write, plan):
    (project / RESULTS).mkdir(parents=True)
    (project / RESULTS / "quiz-before.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    # A zip bomb: a few hundred KB that unpack to 200 MB.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (200 << 20))
    (project / RESULTS / "quiz-after.xlsx").write_bytes(bomb.getvalue())
    write(
        f"{RESULTS}/attendance.csv",
        "date,activity,expected,attended\n" + "2026-05-20,工地健康大讲堂,50,999999999\n",
    )
    messages = diagnose(project)
    assert (
        f"{RESULTS}/quiz-before.xlsx:0: 不是 Excel（.xlsx）文件，或文件已损坏：请从问卷星重新导出，或另存为 CSV"
        in messages
    )
    assert f"{RESULTS}/quiz-after.xlsx:0: 解压后有 200 MB，太大了，可能是恶意文件" in messages
    assert f"{RESULTS}/attendance.csv:2: attended 999999999 太大了（最多 100000）" in messages


def test_a_results_file_linked_from_outside_the_project_is_refused(project: Path, plan, tmp_path: Path):
    secret = tmp_path / "secret.csv"
    secret.write_text("date,activity,expected,attended\n", encoding="utf-8")
    (project / RESULTS).mkdir(parents=True)
    (project / RESULTS / "attendance.csv").symlink_to(secret)
    messages = diagnose(project)
    assert f"{RESULTS}/attendance.csv:0: 这个文件是指向项目以外的链接：只能发布项目里的文件" in messages


def test_quiz_results_need_the_plan_to_name_its_quiz(project: Path, write, plan):
    write(CAMPAIGN, PLAN.replace("quiz: dust-quiz\n", "").replace(", measure: quiz}", "}"))
    write(f"{RESULTS}/quiz-after.csv", "Q1,Q2,Q3\nA,AB,A\n")
    messages = diagnose(project)
    assert any(m.startswith(f"{RESULTS}/quiz-after.csv:0: 有前后测答卷，但活动计划") for m in messages), (
        messages
    )


def test_any_text_in_a_results_file_is_diagnosed_never_raised(project: Path, write, plan):
    """Whatever an organiser's spreadsheet program writes, loading reports it; it never crashes."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from builder.results import load_results

    loaded = load_project(project, Diagnostics(), today=TODAY)
    assert loaded is not None
    campaign = loaded.campaigns[0]
    cells = st.one_of(
        st.text(max_size=12),
        st.sampled_from(["2026-05-20", "工地健康大讲堂", "50", "-1", "A┋B", "对", "=1+1"]),
    )
    table = st.lists(st.lists(cells, max_size=6), max_size=6)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        name=st.sampled_from(["attendance", "quiz-after", "survey", "reach"]),
        header=st.booleans(),
        rows=table,
    )
    def check(name: str, header: bool, rows: list[list[str]]) -> None:
        for old in (project / RESULTS).glob("*"):
            old.unlink()
        heads = {"attendance": "date,activity,expected,attended", "quiz-after": "Q1,Q2,Q3", "survey": "score",
                 "reach": "date,activity,total,forwarded"}  # fmt: skip
        body = io.StringIO()
        csv.writer(body).writerows(rows)
        (project / RESULTS / f"{name}.csv").write_text((heads[name] + "\n" if header else "") + body.getvalue(),
                                                       encoding="utf-8")  # fmt: skip
        diagnostics = Diagnostics()
        load_results(project, campaign, diagnostics)
        assert all(d.path.startswith(RESULTS) or d.path == CAMPAIGN for d in diagnostics.items)

    (project / RESULTS).mkdir(parents=True, exist_ok=True)
    check()
