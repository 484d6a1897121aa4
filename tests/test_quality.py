"""Health-content quality checks: every rule fires on a lesson that breaks it (with its
message, line and severity) and stays quiet on one that does not; silencing needs a
reason; reports for Git hosts; the editors' dashboard."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, TODAY

from builder.cli import main
from builder.diagnostics import Diagnostics
from builder.project import load_project
from builder.quality import RULES, check_quality, grouped_text
from builder.sarif import to_gitlab, to_sarif
from builder.standard import LEVELS

PROBE = "content/lessons/probe.md"
CLEAN = """\
---
title: 认识高血压
summary: 高血压常常没有感觉，要定期量血压，按医嘱长期吃药。
audiences: [慢性病患者]
topics: [慢性病防治]
key_points:
  - 高血压常常没有感觉，要定期量血压
  - 每天吃盐不超过5克
  - 降压药要按医嘱长期吃
reviewed_by: 示例社区卫生服务中心 全科医师
reviewed_on: 2026-09-01
---

## 为什么要量血压

高血压常常没有感觉。很多人是在体检时才发现的。

## 怎么做

- 每年至少量一次血压。
- 少吃盐，多吃蔬菜。

## 参考资料

- 国家卫生健康委《国家基层高血压防治管理指南》
"""


def run(project: Path, text: str, path: str = PROBE) -> list[tuple[int, str, str, str]]:
    """Write ``text`` and run the quality checks; return (line, severity, rule, message) of ``path``."""
    dest = project / path
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")
    diagnostics = Diagnostics()
    loaded = load_project(project, diagnostics, today=TODAY)
    assert loaded is not None, [str(d) for d in diagnostics.items]
    report = check_quality(loaded)
    return sorted((f.line, f.severity.value, f.rule, f.message) for f in report.findings() if f.path == path)


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.split("\n"), start=1) if needle in line)


def rules(found: list[tuple[int, str, str, str]]) -> set[str]:
    return {rule for _, _, rule, _ in found}


PLAIN_OFF = "checks:\n  plain: {score: 100, difficult_words: 100}\n"  # to test other rules on long texts


def configure(project: Path, yaml_text: str) -> None:
    config = project / "site_config.yml"
    config.write_text(config.read_text(encoding="utf-8") + "\n" + yaml_text, encoding="utf-8")


def test_a_clean_lesson_has_no_findings(project: Path):
    assert run(project, CLEAN) == []


# -- plain language ------------------------------------------------------------


def test_long_sentence_is_pointed_out_by_line(project: Path):
    sentence = "血压长期偏高会慢慢损伤心脏、大脑、肾脏和眼底的血管，最后可能引起中风、心肌梗死、心力衰竭和肾功能下降等严重的问题。"
    text = CLEAN.replace("很多人是在体检时才发现的。", sentence)
    found = run(project, text)
    assert found == [
        (line_of(text, sentence), "warning", "plain-long-sentence",
         "这句话有 51 个字，超过一般读者的上限 50 个字：「血压长期偏高会慢慢损伤心脏、大脑……」"),
    ]  # fmt: skip


def test_stricter_limits_for_older_readers(project: Path):
    configure(project, "checks:\n  audiences:\n    老年人: {sentence: 10}\n")
    assert run(project, CLEAN) == []  # written for 慢性病患者: the general limit of 50
    found = run(project, CLEAN.replace("audiences: [慢性病患者]", "audiences: [慢性病患者, 老年人]"))
    assert found == [
        (line_of(CLEAN, "很多人是在体检"), "warning", "plain-long-sentence",
         "这句话有 12 个字，超过「老年人」读者的上限 10 个字：「很多人是在体检时才发现的。」"),
    ]  # fmt: skip


def test_readability_score_over_the_limit(project: Path):
    assert run(project, CLEAN) == []
    configure(project, "checks:\n  plain: {score: 10}\n")
    found = run(project, CLEAN)
    assert len(found) == 1
    line, severity, rule, message = found[0]
    assert (line, severity, rule) == (13, "warning", "plain-score")
    assert re.fullmatch(
        r"可读性得分 \d+\.\d（平均句长 \d+\.\d 字 \+ 每百词难词 \d+\.\d 个），超过一般读者的上限 10", message
    )


def test_average_sentence_over_the_limit(project: Path):
    configure(project, "checks:\n  plain: {average_sentence: 8}\n")
    found = run(project, CLEAN)
    assert [(line, rule) for line, _, rule, _ in found] == [(13, "plain-average-sentence")]
    assert found[0][3].startswith("平均每句 ") and found[0][3].endswith("超过一般读者的上限 8 个字")


def test_difficult_words_are_counted_and_named(project: Path):
    configure(project, "checks:\n  plain: {difficult_words: 8}\n")
    assert run(project, CLEAN) == []
    rare = "老人摔倒容易髋部骨折，窨井盖没盖好也很危险。"
    text = CLEAN.replace("很多人是在体检时才发现的。", rare)
    found = run(project, text)
    assert {rule for _, _, rule, _ in found} == {"plain-difficult-words"}
    summary = [message for line, _, _, message in found if line == 13]
    assert len(summary) == 1 and "超过一般读者的上限 8 个" in summary[0] and "髋部" in summary[0]
    named = {message for line, _, _, message in found if line == line_of(text, rare)}
    assert "「髋部」是不常用的词，一般读者可能看不懂" in named


# -- clarity -------------------------------------------------------------------


def test_summary_must_be_a_message_not_a_topic(project: Path):
    text = CLEAN.replace("summary: 高血压常常没有感觉，要定期量血压，按医嘱长期吃药。", "summary: 认识高血压")
    assert run(project, text) == [
        (3, "warning", "clarity-main-message", "summary「认识高血压」没有说出主要信息：读者看完该记住什么？")
    ]


def test_lesson_must_tell_readers_what_to_do(project: Path):
    text = (
        CLEAN.replace("要定期量血压", "很常见")
        .replace("每天吃盐不超过5克", "中国成年人里大约四分之一有高血压")
        .replace("降压药要按医嘱长期吃", "高血压会伤害血管")
        .replace("- 每年至少量一次血压。\n- 少吃盐，多吃蔬菜。", "血压高的人很多。")
    )
    assert run(project, text) == [(6, "warning", "clarity-action", "要点和正文都没有告诉读者该做什么")]


def test_lists_of_more_than_seven_items(project: Path):
    seven = "\n".join(
        f"- {thing}。" for thing in ("多走路", "少喝酒", "不抽烟", "睡够觉", "多喝水", "按时吃药")
    )
    assert run(project, CLEAN.replace("- 少吃盐，多吃蔬菜。", seven)) == []
    eight = seven + "\n- 常量血压。"
    text = CLEAN.replace("- 少吃盐，多吃蔬菜。", eight)
    first = line_of(text, "- 每年至少量一次血压。")
    assert run(project, text) == [
        (first, "warning", "clarity-list-length", "这个列表有 8 项，超过 7 项读者很难记住")
    ]


def test_long_lessons_need_headings(project: Path):
    configure(project, PLAIN_OFF)
    paragraph = "高血压常常没有感觉，很多人是在体检时才发现的。" * 20  # 420 Han characters
    text = CLEAN.split("## 为什么要量血压")[0] + paragraph + "\n\n来源：国家卫生健康委\n"
    assert run(project, text) == [
        (13, "warning", "clarity-headings", "正文有 420 个字，却没有一个 ## 小标题")
    ]
    assert run(project, text.replace(paragraph, "## 要点\n\n" + paragraph)) == []


@pytest.mark.parametrize(
    "sentence",
    [
        "上面的数叫收缩压（俗称“高压”）。",
        "收缩压是心脏收缩时血管里的压力。",
        "心脏收缩时血管里的压力，就叫收缩压。",
        "上面的数叫高压（收缩压）。",
    ],
)
def test_terms_explained_at_first_use_pass(project: Path, sentence: str):
    configure(project, "checks:\n  terms: [收缩压]\n" + PLAIN_OFF[len("checks:\n") :])
    assert run(project, CLEAN.replace("很多人是在体检时才发现的。", sentence + "收缩压高要注意。")) == []


def test_terms_not_explained_at_first_use(project: Path):
    configure(project, "checks:\n  terms: [收缩压]\n" + PLAIN_OFF[len("checks:\n") :])
    text = CLEAN.replace("很多人是在体检时才发现的。", "收缩压高要注意。收缩压（高压）……")
    assert run(project, text) == [
        (line_of(text, "收缩压高要注意"), "warning", "clarity-term", "术语「收缩压」第一次出现时没有解释")
    ]
    asked = CLEAN.replace("## 为什么要量血压", "## 什么是收缩压").replace(
        "很多人是在", "收缩压高的人很多是在"
    )
    assert run(project, asked) == []


def test_readers_are_not_asked_to_calculate(project: Path):
    assert run(project, CLEAN.replace("少吃盐，多吃蔬菜。", "竖屏视频的分辨率是1080×1920。")) == []
    formula = "体重指数（BMI）= 体重（公斤）÷ 身高（米）÷ 身高（米）。"
    text = CLEAN.replace("少吃盐，多吃蔬菜。", formula)
    assert run(project, text) == [
        (line_of(text, formula), "warning", "clarity-calculation",
         "这里要读者自己计算：「体重指数（BMI）= 体重（公斤）÷ 身高（米）……」"),
    ]  # fmt: skip


def test_images_need_alt_text(project: Path):
    assert run(project, CLEAN + "\n![上臂式电子血压计](../../media/bp.png)\n") == []
    text = CLEAN.replace("## 怎么做", "![](../../media/bp.png)\n\n## 怎么做")
    assert run(project, text) == [
        (line_of(text, "![]"), "warning", "clarity-image-alt", "图片没有替代文字（方括号里是空的）")
    ]


# -- trust ---------------------------------------------------------------------


def test_lessons_name_their_sources(project: Path):
    text = CLEAN.split("## 参考资料")[0]
    assert run(project, text) == [
        (13, "warning", "trust-source", "没有注明信息来源（参考资料、依据的指南或标准）")
    ]
    assert run(project, text + "来源：《中国高血压防治指南》\n") == []
    assert run(project, text + "血压标准[^1]。\n\n[^1]: 《中国高血压防治指南》\n") == []


# -- compliance ----------------------------------------------------------------


def test_absolute_claims_are_flagged_with_the_article_they_break(project: Path):
    text = CLEAN.replace("很多人是在体检时才发现的。", "这种疗法能根治高血压，有效率很高。").replace(
        "每天吃盐不超过5克", "国家级专家推荐的最佳吃法"
    )
    found = run(project, text)
    assert [(line, severity, rule) for line, severity, rule, _ in found] == [
        (8, "warning", "compliance-absolute-claim"),
        (8, "warning", "compliance-absolute-claim"),
        (16, "warning", "compliance-absolute-claim"),
        (16, "warning", "compliance-absolute-claim"),
    ]
    messages = " ".join(message for *_, message in found)
    assert "「根治」是绝对化或承诺性用语（《广告法》第十六条第一项" in messages
    assert "「有效率」是绝对化或承诺性用语（《广告法》第十六条第二项" in messages
    assert "「国家级」是绝对化或承诺性用语（《广告法》第九条第三项" in messages


def test_negated_claims_are_not_flagged(project: Path):
    text = CLEAN.replace("很多人是在体检时才发现的。", "高血压目前还不能根治，但能控制。")
    assert run(project, text) == []


def test_brand_names_are_flagged_for_review(project: Path):
    configure(project, "checks:\n  brands: [康康]\n")
    assert run(project, CLEAN.replace("少吃盐，多吃蔬菜。", "井口要放警示牌。")) == []
    text = CLEAN.replace("少吃盐，多吃蔬菜。", "可以吃某某牌降压片，或者用康康血压计。")
    line = line_of(text, "某某牌")
    assert run(project, text) == [
        (line, "warning", "compliance-brand", "提到了品牌或商品名「康康」，请审核人确认这不是广告"),
        (line, "warning", "compliance-brand", "提到了品牌或商品名「某某牌降压片」，请审核人确认这不是广告"),
    ]


# -- silencing -----------------------------------------------------------------

SILENCED = CLEAN.split("## 参考资料")[0].replace(
    "reviewed_on: 2026-09-01\n",
    "reviewed_on: 2026-09-01\nchecks:\n  ignore: [trust-source]\n  reason: 示例课程\n",
)


def test_ignore_with_a_reason_silences_the_rule(project: Path):
    assert run(project, SILENCED) == []


def test_ignore_without_a_reason_is_an_error_and_silences_nothing(project: Path):
    text = SILENCED.replace("  reason: 示例课程\n", "")
    assert run(project, text) == [
        (12, "error", "checks-ignore", "忽略检查必须写明理由：在 checks 里加 reason: 为什么可以忽略"),
        (15, "warning", "trust-source", "没有注明信息来源（参考资料、依据的指南或标准）"),
    ]


def test_unknown_rule_in_ignore_is_an_error(project: Path):
    text = SILENCED.replace("[trust-source]", "[trust-sources, trust-source]")
    assert run(project, text) == [
        (
            13,
            "error",
            "checks-ignore",
            "checks.ignore 里的 'trust-sources' 不是可以忽略的规则，是不是 'trust-source'？",
        )
    ]


def test_ignoring_a_rule_that_does_not_fire_is_reported(project: Path):
    text = CLEAN.replace(
        "reviewed_on: 2026-09-01\n",
        "reviewed_on: 2026-09-01\nchecks: {ignore: [clarity-term], reason: 旧的}\n",
    )
    assert run(project, text) == [
        (12, "warning", "checks-unused-ignore", "checks 忽略了 'clarity-term'，但这条检查没有发现问题")
    ]


def test_every_rule_has_a_hint_and_a_basis():
    assert all(rule.hint and rule.basis and rule.name for rule in RULES.values())
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)+", name) for name in RULES)


# -- quizzes -------------------------------------------------------------------

QUIZ = """\
---
title: 高血压自测
audiences: [老年人]
lessons: [hypertension-basics]
---

## 高血压能不能根治？

- [ ] 能根治
- [x] 不能，但能控制

> 吃这种药有效率很高。
"""


def test_quiz_explanations_are_checked_but_wrong_options_are_not(project: Path):
    path = "content/quizzes/probe-quiz.md"
    found = run(project, QUIZ, path)
    assert [(line, rule) for line, _, rule, _ in found] == [(12, "compliance-absolute-claim")]
    silenced = QUIZ.replace(
        "lessons: [hypertension-basics]\n",
        "lessons: [hypertension-basics]\nchecks: {ignore: [compliance-absolute-claim], reason: 错误说法示例}\n",
    )
    assert run(project, silenced, path) == []


# -- configuration -------------------------------------------------------------


def test_checks_section_is_validated(project: Path):
    configure(project, "checks:\n  plain: {score: -1, sentense: 40}\n  audiences:\n    外星人: {score: 20}\n")
    diagnostics = Diagnostics()
    assert load_project(project, diagnostics, today=TODAY) is None
    messages = [d.message for d in diagnostics.errors]
    assert "plain：'score' 应是一个正数，这里是 '-1'" in messages
    assert "plain：未知的键 'sentense'，是不是想写 'sentence'？" in messages
    assert any(message.startswith("audiences：未知的人群 '外星人'") for message in messages)


# -- reports -------------------------------------------------------------------


def diagnostics_of(project: Path, text: str) -> Diagnostics:
    (project / PROBE).write_text(text, encoding="utf-8")
    diagnostics = Diagnostics()
    loaded = load_project(project, diagnostics, today=TODAY)
    check_quality(loaded, diagnostics)
    return diagnostics


def test_sarif_log_has_rules_results_and_locations(project: Path):
    stale = (
        (project / "content/lessons/flu-vaccine.md")
        .read_text(encoding="utf-8")
        .replace("2026-09-15", "2020-01-01")
    )
    (project / "content/lessons/flu-vaccine.md").write_text(stale, encoding="utf-8")
    log = json.loads(to_sarif(diagnostics_of(project, CLEAN.replace("每天吃盐", "最佳做法是每天吃盐"))))
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert run_["tool"]["driver"]["name"] == "kepu"
    for result in run_["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning") and result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].startswith("content/")
        assert location.get("region", {"startLine": 1})["startLine"] >= 1
    by_rule = {result["ruleId"]: result for result in run_["results"]}
    claim = by_rule["compliance-absolute-claim"]
    assert claim["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": PROBE, "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 8},
    }
    assert "提示：改成有依据、留余地的说法" in claim["message"]["text"]
    assert by_rule["trust-review-stale"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "content/lessons/flu-vaccine.md"
    )


def test_gitlab_code_quality_report(project: Path):
    issues = json.loads(to_gitlab(diagnostics_of(project, CLEAN.replace("每天吃盐", "最佳做法是每天吃盐"))))
    claim = next(issue for issue in issues if issue["check_name"] == "compliance-absolute-claim")
    assert claim["location"] == {"path": PROBE, "lines": {"begin": 8}} and claim["severity"] == "minor"
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)


def test_text_output_is_grouped_by_file_with_hints(project: Path):
    lines = grouped_text(diagnostics_of(project, CLEAN.replace("每天吃盐", "最佳做法是每天吃盐")))
    start = lines.index(f"{PROBE}（1 个警告）")
    assert lines[start + 1].startswith(f"  {PROBE}:8: 警告：「最佳」是绝对化") and lines[start + 1].endswith(
        "[compliance-absolute-claim]"
    )
    assert lines[start + 2] == "      提示：改成有依据、留余地的说法，如「有助于控制」「大多数人」"


def test_cli_check_writes_sarif(project: Path, capsys: pytest.CaptureFixture[str], monkeypatch):
    # Output fit is checked elsewhere (test_print); here only the report format matters.
    monkeypatch.setattr("builder.renderers.printing.check_print_fit", lambda *args, **kwargs: None)
    (project / PROBE).write_text(CLEAN.replace("每天吃盐", "最佳做法是每天吃盐"), encoding="utf-8")
    assert main(["check", "--project", str(project), "--format", "sarif"]) == 0
    log = json.loads(capsys.readouterr().out)
    assert any(result["ruleId"] == "compliance-absolute-claim" for result in log["runs"][0]["results"])
    assert main(["check", "--project", str(project), "--format", "sarif", "--strict"]) == 1


# -- the editors' dashboard and the bundled content ----------------------------


def test_bundled_lessons_pass_every_check_or_say_why():
    diagnostics = Diagnostics()
    loaded = load_project(REPO, diagnostics, today=TODAY)
    report = check_quality(loaded)
    assert [str(finding) for finding in report.findings()] == []
    for item in report.lessons + report.quizzes:
        if item.silenced:
            assert getattr(item, "reason", "") or "reason" in (REPO / item.path).read_text(encoding="utf-8")


def test_dashboard_lists_every_lesson_with_score_and_review_date(tmp_path: Path):
    from mkdocs.utils.meta import get_data

    from builder.renderers.site import write_pages
    from builder.site.pages import dashboard_page

    diagnostics = Diagnostics()
    loaded = load_project(REPO, diagnostics, today=TODAY)
    write_pages(loaded, tmp_path)
    dashboard = dashboard_page(loaded)
    page = dashboard.markdown
    assert "search:\n  exclude: true" in page and "sitemap: false" in page
    # MkDocs reads the page's front matter from the frame written before the analysis is done.
    frame = (tmp_path / "dashboard.md").read_text(encoding="utf-8")
    assert get_data(frame)[1] == get_data(page)[1]
    assert "lessons/" not in frame
    # The long parts are HTML put in after Markdown: every marker of the page has its block.
    assert len(dashboard.blocks) == 2 + len(LEVELS)
    assert all(marker.removeprefix("<p>").removesuffix("</p>") in page for marker in dashboard.blocks)
    html = "".join(dashboard.blocks.values())
    for lesson in loaded.lessons:
        row = re.search(f'<tr>\n<td><a href="../lessons/{lesson.slug}/">.*?</tr>', html, re.DOTALL)
        assert row, lesson.slug
        assert re.search(r"<td>(<strong>)?\d+\.\d(</strong>)?（\d+）</td>", row.group()), row.group()
        assert f'data-reviewed="{lesson.reviewed_on.isoformat()}"' in row.group()
    assert "<script" not in html
    assert "dashboard" not in (tmp_path / "index.md").read_text(encoding="utf-8")
    assert "### 四级" in page and "健康档案建立" in html and "| 老年人 |" in page
    sitemap = (REPO / "templates/site/overrides/sitemap.xml").read_text(encoding="utf-8")
    assert "file.page.meta.sitemap is not false" in sitemap


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


# -- sources and figures (content/sources.yml) -----------------------------------

REGISTRY = """\
sources:
  - id: basic-2020
    title: 国家基层高血压防治管理指南
    publisher: 国家心血管病中心等
    year: 2020
  - id: hypertension-2024
    title: 中国高血压防治指南（2024年修订版）
    publisher: 中国高血压防治指南修订委员会等
    year: 2024
  - id: hypertension-2018
    title: 中国高血压防治指南（2018年修订版）
    publisher: 中国高血压防治指南修订委员会等
    year: 2018
    superseded_by: hypertension-2024
  - id: flu-2023
    title: 中国流感疫苗预防接种技术指南（2023—2024）
    publisher: 中国疾病预防控制中心
    year: 2023
    season: 2023—2024
    valid_until: 2024-08-31
  - id: literacy-2024
    title: 中国公民健康素养——基本知识与技能（2024年版）
    publisher: 国家卫生健康委
    year: 2024
claims:
  - id: salt
    what: 每天吃盐的上限
    source: literacy-2024
    words: [吃盐]
    unit: 克
    values: ["5"]
  - id: systolic
    what: 诊断高血压的收缩压界值
    source: hypertension-2024
    words: [收缩压≥]
    values: ["140"]
  - id: glucose
    what: 空腹血糖
    source: literacy-2024
    words: [空腹血糖]
    unless: [非空腹血糖]
    unit: mmol/L
    values: ["6.1", "7.0"]
"""


def with_registry(project: Path, text: str = REGISTRY) -> None:
    (project / "content" / "sources.yml").write_text(text, encoding="utf-8")


def test_a_registered_current_source_gives_no_finding(project: Path):
    with_registry(project)
    assert run(project, CLEAN) == []


def test_a_superseded_edition_is_pointed_out_at_the_citing_line(project: Path):
    with_registry(project)
    cite = "- 中国高血压防治指南修订委员会《中国高血压防治指南（2018年修订版）》（2018年）"
    text = CLEAN + cite + "\n"
    assert run(project, text) == [
        (line_of(text, "2018年修订版"), "warning", "source-superseded",
         "《中国高血压防治指南（2018年修订版）》已被《中国高血压防治指南（2024年修订版）》（2024年）取代："
         "请按新版核对内容，再改引用"),
    ]  # fmt: skip
    # Cited in the text rather than the list, with other spacing and brackets: still found.
    inline = CLEAN.replace(
        "很多人是在体检时才发现的。", "按《中国高血压防治指南 (2018年修订版)》，要常量血压。"
    )
    assert rules(run(project, inline)) == {"source-superseded"}


def test_a_seasonal_guide_past_its_season(project: Path):
    with_registry(project)
    text = CLEAN + "- 中国疾控中心《中国流感疫苗预防接种技术指南（2023-2024）》\n"
    assert run(project, text) == [
        (line_of(text, "流感疫苗"), "warning", "source-season-over",
         "《中国流感疫苗预防接种技术指南（2023—2024）》是 2023—2024 流行季的版本，适用期到 2024-08-31 "
         "已结束：请换成当季的版本"),
    ]  # fmt: skip


def test_an_unregistered_reference_is_named(project: Path):
    with_registry(project)
    text = CLEAN + "- 某某学会《养生大全》（2010年）\n"
    assert run(project, text) == [
        (line_of(text, "养生大全"), "warning", "source-unregistered",
         "参考资料「某某学会《养生大全》（2010年）」没有在 content/sources.yml 里登记，kepu check 就无法提醒它过期"),
    ]  # fmt: skip
    # A project without a registry is not asked to keep one.
    (project / "content" / "sources.yml").unlink()
    assert run(project, text) == []


def test_a_figure_other_than_the_sources_is_flagged_at_its_line(project: Path):
    with_registry(project)
    wrong = CLEAN.replace("- 少吃盐，多吃蔬菜。", "- 每天吃盐不超过 6 克。")
    assert run(project, wrong) == [
        (line_of(wrong, "6 克"), "warning", "claim-figure",
         "每天吃盐的上限写的是 6 克，《中国公民健康素养——基本知识与技能（2024年版）》给的是 5：请审核人核对"),
    ]  # fmt: skip
    point = CLEAN.replace("  - 每天吃盐不超过5克", "  - 每天吃盐不超过8克")
    assert [(line, rule) for line, _, rule, _ in run(project, point)] == [(8, "claim-figure")]


def test_figures_that_agree_or_belong_to_another_quantity_stay_quiet(project: Path):
    with_registry(project)
    body = (
        "收缩压≥140和/或舒张压≥90 mmHg，是高血压。空腹血糖达到7.0 mmol/L及以上要复查。"
        "非空腹血糖低于10.0 mmol/L。限盐勺一勺是2克。"
    )
    text = CLEAN.replace("很多人是在体检时才发现的。", body)
    assert run(project, text) == []
    wrong = text.replace("收缩压≥140", "收缩压≥150").replace("达到7.0", "达到8.0")
    found = [
        (rule, message.split("写的是 ")[1].split("，")[0]) for _, _, rule, message in run(project, wrong)
    ]
    assert sorted(found) == [("claim-figure", "150"), ("claim-figure", "8.0 mmol/L")]


def test_registry_mistakes_are_errors_with_their_lines(project: Path):
    text = (
        REGISTRY.replace("superseded_by: hypertension-2024", "superseded_by: hypertension-2030")
        .replace("id: literacy-2024", "id: basic-2020")
        .replace('values: ["5"]', 'values: ["五"]')
        .replace("    year: 2023\n", "    year: 2023\n    edition: 第二版\n")
    )
    with_registry(project, text)
    diagnostics = Diagnostics()
    assert load_project(project, diagnostics, today=TODAY) is None
    lines = [str(d) for d in diagnostics.sorted() if d.path == "content/sources.yml"]
    assert lines == [
        "content/sources.yml:10: 'hypertension-2018' 的 superseded_by 写的 'hypertension-2030' 没有登记",
        "content/sources.yml:19: 来源 4：未知的键 'edition'（可用的键：id, title, publisher, year, url, "
        "superseded_by, season, valid_until, cite）",
        "content/sources.yml:22: 来源 5：来源编号 'basic-2020' 重复了：每个来源只登记一次",
        "content/sources.yml:32: 数值 1：'五' 不是一个数（如 5、18.5、140/90）",
        "content/sources.yml:40: 数值 3：数值依据的来源 'literacy-2024' 没有在 sources: 里登记",
    ]


# -- the published readability formula -----------------------------------------------


def test_the_published_formula_is_sentence_length_plus_difficult_words_per_100():
    from builder.prose import cldc, easy_words, read_prose

    plain = cldc(read_prose("我每天早上吃饭。", 1).sentences)
    # 7 Han characters in one sentence; 我/每天/早上/吃饭 are all everyday words (每天 = 每 + 天).
    assert (plain.sentences, plain.han, plain.words, plain.difficult) == (1, 7, 4, 0)
    assert plain.score == 7.0 and plain.band == "容易"
    hard = cldc(read_prose("收缩压和舒张压都要测量。", 1).sentences)
    # 收缩压 and 舒张压 are outside GF 0025—2021 levels 1–4: 11 + 100 × 2 / 6.
    assert (hard.han, hard.words, hard.difficult) == (11, 6, 2)
    assert round(hard.score, 2) == 44.33 and hard.band == "较难"
    easy = easy_words()
    assert 3100 < len(easy) < 3300 and {"医生", "医院", "身体", "测量"} <= easy
    assert not {"血压", "高血压", "疫苗", "糖尿病"} & easy


def test_every_lesson_report_carries_the_published_score(project: Path):
    diagnostics = Diagnostics()
    loaded = load_project(project, diagnostics, today=TODAY)
    assert loaded is not None
    for report in check_quality(loaded).lessons:
        assert report.cldc is not None and report.cldc.sentences > 0
        assert report.cldc.score == report.cldc.average_sentence + report.cldc.difficult_per_100


def test_a_quiz_explanation_with_another_figure_is_flagged_but_its_wrong_options_are_not(project: Path):
    with_registry(project)
    quiz = (
        "---\ntitle: 盐\naudiences: [老年人]\nlessons: [hypertension-basics]\n---\n\n"
        "## 每天吃盐最多几克？\n\n- [ ] 吃盐不超过10克\n- [x] 5克\n\n> 每天吃盐不超过 6 克。\n"
    )
    found = run(project, quiz, "content/quizzes/salt.md")
    assert [(line, rule) for line, _, rule, _ in found] == [(12, "claim-figure")]


def hostile_registry_errors(project: Path, text: str | None = None) -> list[str]:
    if text is not None:
        with_registry(project, text)
    diagnostics = Diagnostics()
    load_project(project, diagnostics, today=TODAY)
    return [str(d) for d in diagnostics.sorted() if d.path == "content/sources.yml"]


def test_hostile_registries_give_line_numbered_errors_never_a_traceback(project: Path, tmp_path: Path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    assert hostile_registry_errors(project, bomb) == [
        "content/sources.yml:1: 内容展开后超过 50000 项（别名套别名？）"
    ]
    assert hostile_registry_errors(project, "- just\n- a list\n") == [
        "content/sources.yml:1: sources.yml 的顶层应是键值对：sources: 和 claims:"
    ]
    assert hostile_registry_errors(project, "sources: 文字\n") == [
        "content/sources.yml:1: 'sources' 第 1 项应是键值对（如 name: …）"
    ]
    bad = REGISTRY.replace(
        "year: 2024\n  - id: hypertension-2018",
        "year: 2024\n    url: javascript:alert(1)\n  - id: hypertension-2018",
        1,
    )
    assert hostile_registry_errors(project, bad) == [
        "content/sources.yml:10: 来源 2：'url' 应是 https:// 开头的网址，这里是 'javascript:alert(1)'"
    ]
    # A keyword full of regex syntax is matched as plain text, and a long line stays fast.
    with_registry(project, REGISTRY.replace("words: [吃盐]", 'words: ["(a+)+$"]'))
    text = CLEAN.replace("很多人是在体检时才发现的。", "(a+)+$ 6克" + "a" * 50_000 + "。")
    started = time.perf_counter()
    found = run(project, text)
    assert time.perf_counter() - started < 20
    assert [(rule, message.split("，")[0]) for _, _, rule, message in found] == [
        ("claim-figure", "每天吃盐的上限写的是 6 克")
    ]
    # A registry that is a link out of the project is refused, never read.
    outside = tmp_path / "outside.yml"
    outside.write_text(REGISTRY, encoding="utf-8")
    target = project / "content" / "sources.yml"
    target.unlink()
    target.symlink_to(outside)
    assert hostile_registry_errors(project) == [
        "content/sources.yml:0: 这个文件是指向项目以外的链接：只能发布项目里的文件"
    ]


def test_a_kept_dashboard_row_is_reused_as_it_was_but_never_with_script():
    from builder.site.pages import dashboard_page, dashboard_row_keys

    loaded = load_project(REPO, Diagnostics(), today=TODAY)
    first = dashboard_page(loaded, nonce="0" * 32)
    # Rows kept from the last build: the same page, byte for byte, without analysing again.
    again = dashboard_page(loaded, "0" * 32, first.readings, first.rows)
    assert again.blocks == first.blocks and again.markdown == first.markdown
    # A forged row file (the workspace is a folder on disk) gets no script onto the page.
    slug = loaded.lessons[0].slug
    key = dashboard_row_keys(loaded)[slug]
    forged = {**first.rows, key: ['<tr><td><script>alert(1)</script><a href="javascript:x">x</a></td></tr>', ""]}
    page = dashboard_page(loaded, "0" * 32, first.readings, forged)
    html = "".join(page.blocks.values())
    assert "<script" not in html and "javascript:" not in html and ">x</a>" in html
