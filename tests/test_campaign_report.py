"""The 总结评估 report: numbers a test works out on its own from the result files, a PDF
whose text says them with embedded fonts, a page that asks no other host for anything,
and the same bytes when built again."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from conftest import TODAY
from test_architecture import opened_sources  # noqa: F401  (the fixture)
from test_campaign_results import CAMPAIGN, PLAN, QUIZ, RESULTS
from test_print import embedded_font_names

from builder.pipeline import build

REPORT = "reports/campaigns/dust-month"
# The quiz's answer key, read by a person from QUIZ: question → set of correct letters.
KEY = {1: {"A"}, 2: {"A", "B"}, 3: {"A"}}
ATTENDANCE = (
    "date,activity,expected,attended\n2026-05-20,工地健康大讲堂,48,31\n2026-06-17,工地健康大讲堂,52,40\n"
)
QUIZ_BEFORE = "Q1,Q2,Q3\nA,A,B\nB,AB,A\nA,AC,B\nA,B,A\n"
QUIZ_AFTER = "Q1,Q2,Q3\nA,AB,A\nA,AB,A\nA,BA,B\nB,AB,A\nA,A,A\n"
SURVEY = "score\n5\n5\n4\n3\n5\n2\n4\n5\n"
REACH = "date,activity,total,forwarded\n2026-05-10,公众号推送：防尘口罩怎么戴,12,11\n"


@pytest.fixture
def results_project(project: Path, write) -> Path:
    write("content/quizzes/dust-quiz.md", QUIZ)
    write(CAMPAIGN, PLAN)
    for name, text in (("attendance.csv", ATTENDANCE), ("quiz-before.csv", QUIZ_BEFORE), ("quiz-after.csv", QUIZ_AFTER),
                       ("survey.csv", SURVEY), ("reach.csv", REACH)):  # fmt: skip
        write(f"{RESULTS}/{name}", text)
    write(f"{RESULTS}/README.md", "示例数据：测试用。\n")
    return project


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def knowledge(text: str) -> float:
    """Correct answers ÷ (respondents × questions), scored by hand against KEY."""
    answers = rows(text)
    right = sum(set(answer[f"Q{n}"]) == KEY[n] for answer in answers for n in KEY)
    return right / (len(answers) * len(KEY))


def expected_measures() -> dict[str, float]:
    attendance = rows(ATTENDANCE)
    scores = [int(row["score"]) for row in rows(SURVEY)]
    reach = rows(REACH)
    return {
        "职业健康知识知晓率": knowledge(QUIZ_AFTER),
        "讲座参与率": sum(int(r["attended"]) for r in attendance)
        / sum(int(r["expected"]) for r in attendance),
        "满意度": sum(score >= 4 for score in scores) / len(scores),
        "推送转发覆盖率": sum(int(r["forwarded"]) for r in reach) / sum(int(r["total"]) for r in reach),
    }


@pytest.fixture
def built(results_project: Path, tmp_path: Path) -> Path:
    out = tmp_path / "public"
    build(results_project, out, only=["reports"], today=TODAY, cache_dir=tmp_path / "cache")
    return out


def test_report_json_has_the_measured_values_a_test_works_out_itself(built: Path):
    report = json.loads((built / REPORT / "report.json").read_text(encoding="utf-8"))
    assert report["campaign"] == "dust-month"
    expected = expected_measures()
    # The numbers themselves, so a mistake in the test's own arithmetic shows too.
    assert expected == pytest.approx({"职业健康知识知晓率": 12 / 15, "讲座参与率": 71 / 100, "满意度": 6 / 8,
                                      "推送转发覆盖率": 11 / 12})  # fmt: skip
    goals = {goal["indicator"]: goal for goal in report["goals"]}
    assert set(goals) == set(expected)
    for indicator, value in expected.items():
        assert goals[indicator]["measured"] == round(value, 4), indicator
    assert goals["讲座参与率"]["met"] is True  # 71% ≥ 60%
    assert goals["职业健康知识知晓率"]["met"] is False  # 80% < 85%
    assert goals["满意度"]["met"] is False and goals["推送转发覆盖率"]["met"] is True
    assert report["activities"] == [
        {"date": "2026-05-20", "title": "工地健康大讲堂", "channel": "讲座", "expected": 48, "attended": 31,
         "rate": round(31 / 48, 4)},
        {"date": "2026-06-17", "title": "工地健康大讲堂", "channel": "讲座", "expected": 52, "attended": 40,
         "rate": round(40 / 52, 4)},
    ]  # fmt: skip
    assert report["unrecorded"] == []  # both lectures of the plan have a sign-in row
    before = {q["number"]: q["before"] for q in report["knowledge"]["questions"]}
    answers = rows(QUIZ_BEFORE)
    assert before == {
        n: round(sum(set(a[f"Q{n}"]) == KEY[n] for a in answers) / len(answers), 4) for n in KEY
    }
    assert report["knowledge"]["before"] == round(knowledge(QUIZ_BEFORE), 4)


def pdf_text(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages))


def test_report_pdf_says_the_numbers_with_embedded_fonts(built: Path):
    data = (built / REPORT / "report.pdf").read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert reader.metadata.title == "2026年工地职业健康宣传月总结评估报告"
    fonts = embedded_font_names(reader)
    assert fonts and all(embedded for _, embedded in fonts), fonts
    assert any("Noto" in name and "CJK" in name for name, _ in fonts), fonts
    text = pdf_text(data)
    for fragment in ("总结评估报告", "示例数据：测试用。", "讲座参与率", "≥60%", "71.0%", "达成", "未达成",
                     "职业健康知识知晓率", "80.0%", "满意度", "75.0%", "推送转发覆盖率", "91.7%", "64.6%", "76.9%"):  # fmt: skip
        assert fragment in text, fragment
    # No line starts with closing punctuation (the engine breaks Chinese lines by 禁则).
    for page in reader.pages:
        for line in page.extract_text().splitlines():
            assert not re.match(r"^\s*[。，、；：？！）」』]", line), line


def test_report_page_is_noindex_and_asks_no_other_host(built: Path, browser):
    page_path = built / REPORT / "report.html"
    html = page_path.read_text(encoding="utf-8")
    assert '<meta name="robots" content="noindex, nofollow">' in html
    page = browser.new_page(viewport={"width": 390, "height": 844})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(page_path.as_uri())
        assert page.locator("h1").inner_text() == "2026年工地职业健康宣传月"
        assert page.locator("svg[role=img]").count() == 3  # attendance, knowledge, satisfaction
        cells = page.locator("table.goals tr.met td.verdict").all_inner_texts()
        assert cells == ["达成", "达成"]
        # The page fits a phone: nothing but the tables' own scrolling is wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        page.close()
    assert requests and all(url.startswith("file://") for url in requests), requests


def test_the_report_builds_to_the_same_bytes_from_another_folder_and_is_in_the_manifest(
    results_project: Path, tmp_path: Path
):
    elsewhere = tmp_path / "a-much-longer-folder-name" / "nested" / "kepu-checkout"
    shutil.copytree(results_project, elsewhere)
    digests = []
    for name, root in (("one", results_project), ("two", elsewhere)):
        out = tmp_path / name
        build(root, out, only=["reports"], today=TODAY, use_cache=False, cache_dir=tmp_path / f"c-{name}")
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (out / REPORT).iterdir()})
        for path in (out / REPORT).iterdir():
            assert str(root).encode() not in path.read_bytes(), path  # no absolute path in any file
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        kinds = {item["kind"]: item for item in manifest["artifacts"]}
        assert set(kinds) == {"campaign-report-json", "campaign-report-html", "campaign-report-pdf"}
        assert kinds["campaign-report-pdf"]["path"] == f"{REPORT}/report.pdf"
        assert kinds["campaign-report-pdf"]["source"] == CAMPAIGN
    assert digests[0] == digests[1] and len(digests[0]) == 3


def test_an_on_site_activity_without_a_sign_in_row_is_listed_as_unrecorded(
    results_project: Path, write, tmp_path
):
    write(f"{RESULTS}/attendance.csv", "date,activity,expected,attended\n2026-06-17,工地健康大讲堂,52,40\n")
    build(results_project, tmp_path / "out", only=["reports"], today=TODAY, cache_dir=tmp_path / "cache")
    report = json.loads((tmp_path / "out" / REPORT / "report.json").read_text(encoding="utf-8"))
    assert report["unrecorded"] == [{"date": "2026-05-20", "title": "工地健康大讲堂", "channel": "讲座"}]
    assert {"channel": "讲座", "planned": 2, "recorded": 1} in report["plan"]
    assert "2026-05-20工地健康大讲堂讲座" in pdf_text((tmp_path / "out" / REPORT / "report.pdf").read_bytes())


def test_a_campaign_without_results_gets_no_report(project: Path, tmp_path: Path):
    out = tmp_path / "public"
    build(project, out, only=["reports"], today=TODAY, cache_dir=tmp_path / "cache")
    assert not (out / "reports").exists()


def test_kepu_report_writes_one_campaigns_report(results_project: Path, tmp_path: Path):
    out = tmp_path / "reports-out"
    done = subprocess.run([sys.executable, "-m", "builder", "report", "--campaign", "dust-month", "--project",
                           str(results_project), "--out", str(out)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (out / REPORT).iterdir()) == ["report.html", "report.json", "report.pdf"]
    report = json.loads((out / REPORT / "report.json").read_text(encoding="utf-8"))
    assert report["goals"][1]["measured"] == 0.71
    wrong = subprocess.run([sys.executable, "-m", "builder", "report", "--campaign", "dust", "--project",
                            str(results_project), "--out", str(out)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    assert "找不到宣传活动 dust" in wrong.stderr


def test_the_report_reads_no_result_file_after_loading(results_project: Path, tmp_path: Path, opened_sources):  # noqa: F811
    build(results_project, tmp_path / "out", only=["reports"], jobs=1, today=TODAY, use_cache=False)
    assert (tmp_path / "out" / REPORT / "report.pdf").exists()
    assert opened_sources == []


def test_markup_in_the_plan_or_the_note_stays_text_on_the_page_and_in_the_pdf(
    results_project: Path, write, tmp_path
):
    hostile = '示例区疾控中心"</style><script>alert(1)</script>'
    write(CAMPAIGN, PLAN.replace("organizer: 示例区疾控中心", f"organizer: '{hostile}'"))
    write(f"{RESULTS}/README.md", "<img src=https://evil.example/x.png onerror=alert(2)> 示例数据\n")
    out = tmp_path / "out"
    build(results_project, out, only=["reports"], today=TODAY, cache_dir=tmp_path / "cache")
    html = (out / REPORT / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html and "evil.example" in html  # shown, as text
    assert "&lt;/style&gt;&lt;script&gt;" in html
    text = pdf_text((out / REPORT / "report.pdf").read_bytes())
    assert (
        '示例区疾控中心"</style><script>alert(1)</script>' in text
    )  # the footer and title page say it literally
