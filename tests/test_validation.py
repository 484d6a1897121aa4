"""Every error rule of content-format.md: its message and the line it points at."""

from __future__ import annotations

import pytest

LESSON = "content/lessons/new-lesson.md"
QUIZ = "content/quizzes/new-quiz.md"
CAMPAIGN = "content/campaigns/new-campaign.md"

GOOD_LESSON = """\
---
title: 新课程
summary: 一句话摘要。
audiences: [老年人]
topics: [慢性病防治]
key_points:
  - 第一条
  - 第二条
  - 第三条
reviewed_by: 示例社区卫生服务中心 全科医师
reviewed_on: 2026-10-01
---
正文。
"""


def only(lines: list[str], path: str) -> list[str]:
    return [line for line in lines if line.startswith(path + ":")]


def test_fixture_project_is_valid(diagnose):
    assert diagnose() == []


# -- lessons ---------------------------------------------------------------------


def test_unknown_key_points_at_its_line_and_suggests_the_known_one(write, diagnose):
    write(LESSON, GOOD_LESSON.replace("summary:", "sumary:"))
    errors = only(diagnose(), LESSON)
    assert f"{LESSON}:3: 未知的键 'sumary'，是不是想写 'summary'？" in errors
    assert f"{LESSON}:2: 缺少必填项 'summary'" in errors


def test_summary_longer_than_120_characters(write, diagnose):
    write(LESSON, GOOD_LESSON.replace("一句话摘要。", "长" * 121))
    assert f"{LESSON}:3: 'summary' 有 121 个字，最多 120 个字" in diagnose()


@pytest.mark.parametrize("count", [2, 9])
def test_key_points_must_number_three_to_eight(write, diagnose, count):
    points = "".join(f"  - 要点{i}\n" for i in range(count))
    text = GOOD_LESSON.replace("  - 第一条\n  - 第二条\n  - 第三条\n", points)
    write(LESSON, text)
    expected = "至少要有 3 项" if count < 3 else "最多 8 项"
    assert any(line.startswith(f"{LESSON}:6: 'key_points' {expected}") for line in diagnose())


def test_unknown_audience_points_at_the_item(write, diagnose):
    text = GOOD_LESSON.replace("audiences: [老年人]", "audiences:\n  - 老年人\n  - 外星人")
    write(LESSON, text)
    errors = only(diagnose(), LESSON)
    assert len(errors) == 1
    assert errors[0].startswith(f"{LESSON}:6: 未知的人群 '外星人'（可选：老年人、农民工")


def test_audience_may_be_written_as_id_or_label(write, diagnose):
    write(LESSON, GOOD_LESSON.replace("audiences: [老年人]", "audiences: [elderly, 农民工]"))
    assert diagnose() == []


def test_unknown_topic(write, diagnose):
    write(LESSON, GOOD_LESSON.replace("topics: [慢性病防治]", "topics: [养生秘方]"))
    assert any(line.startswith(f"{LESSON}:5: 未知的主题 '养生秘方'") for line in diagnose())


def test_level_and_competency_codes(write, diagnose):
    text = GOOD_LESSON.replace("reviewed_by", 'level: 五级\ncompetencies: ["2.1.3", "9.9"]\nreviewed_by')
    write(LESSON, text)
    errors = only(diagnose(), LESSON)
    assert f"{LESSON}:10: 等级 '五级' 不对，可选：四级、三级、二级" in errors
    assert any(line.startswith(f"{LESSON}:11: 能力编码 '9.9' 格式不对") for line in errors)


def test_missing_title_and_wrong_type(write, diagnose):
    text = GOOD_LESSON.replace("title: 新课程\n", "").replace("topics: [慢性病防治]", "topics: {a: b}")
    write(LESSON, text)
    errors = only(diagnose(), LESSON)
    assert f"{LESSON}:2: 缺少必填项 'title'" in errors
    assert f"{LESSON}:4: 'topics' 应是列表，这里是键值对" in errors


def test_yaml_syntax_error_points_at_the_line(write, diagnose):
    write(LESSON, GOOD_LESSON.replace("topics: [慢性病防治]", "topics: [慢性病防治"))
    errors = only(diagnose(), LESSON)
    assert len(errors) == 1 and errors[0].startswith(f"{LESSON}:6: YAML 格式错误")


def test_duplicate_key(write, diagnose):
    write(LESSON, GOOD_LESSON.replace("topics: [慢性病防治]", "topics: [慢性病防治]\ntitle: 又一个"))
    assert f"{LESSON}:6: 重复的键 'title'：同一个键只能写一次" in diagnose()


def test_missing_front_matter(write, diagnose):
    write(LESSON, "# 只有正文\n")
    assert any(line.startswith(f"{LESSON}:1: 文件应以 front matter 开头") for line in diagnose())


def test_file_name_must_be_a_url_slug(write, diagnose):
    write("content/lessons/高血压.md", GOOD_LESSON)
    assert any(
        line.startswith("content/lessons/高血压.md:0: 文件名 '高血压.md' 只能用") for line in diagnose()
    )


def test_image_paths_relative_to_file_or_root_and_never_outside(write, diagnose):
    body = (
        "![ok](../../media/bp.png)\n"
        "![ok too](media/bp.png)\n"
        "![escapes](../../../outside.png)\n"
        "![missing](media/nope.png)\n"
        '<img src="https://example.com/x.png">\n'
    )
    write(LESSON, GOOD_LESSON.replace("正文。\n", body))
    errors = only(diagnose(), LESSON)
    assert errors == [
        f"{LESSON}:15: 路径 '../../../outside.png' 超出了项目目录，只能引用项目里的文件",
        f"{LESSON}:16: 找不到图片 'media/nope.png'（可以写 media/… 或相对本文件的路径）",
        f"{LESSON}:17: 图片 'https://example.com/x.png' 在别的网站上：请把图片放进 media/ 再引用（网站不能向外部请求资源）",
    ]


def test_cover_outside_the_project(write, diagnose):
    write(LESSON, GOOD_LESSON.replace("reviewed_by", "cover: ../../../etc/passwd\nreviewed_by"))
    assert f"{LESSON}:10: 路径 '../../../etc/passwd' 超出了项目目录，只能引用项目里的文件" in diagnose()


def test_review_date_in_the_future_is_an_error(write, diagnose):
    write(LESSON, GOOD_LESSON.replace("2026-10-01", "2027-01-01"))
    assert f"{LESSON}:11: 审核日期 2027-01-01 在今天（2026-12-01）之后，请检查" in diagnose()


def test_an_impossible_date_is_reported_with_the_files_other_mistakes_in_one_run(write, diagnose):
    # Hostile case first: a date YAML's own parser would choke on (Feb 30th) used to abort
    # the whole front matter, hiding every other mistake until the next run.
    text = GOOD_LESSON.replace("2026-10-01", "2026-02-30").replace(
        "topics: [慢性病防治]", "topics: [养生秘方]"
    )
    write(LESSON, text)
    errors = only(diagnose(), LESSON)
    assert f"{LESSON}:11: 日期 '2026-02-30' 不存在（检查月份和日子）" in errors
    assert any(line.startswith(f"{LESSON}:5: 未知的主题 '养生秘方'") for line in errors)


@pytest.mark.parametrize("written", ["2026-13-01", "2026-00-10", "2025-02-29"])
def test_other_impossible_dates(write, diagnose, written):
    write(LESSON, GOOD_LESSON.replace("2026-10-01", written))
    assert only(diagnose(), LESSON) == [f"{LESSON}:11: 日期 '{written}' 不存在（检查月份和日子）"]


def test_a_date_written_in_quotes_or_with_a_time_is_still_a_date(write, diagnose):
    write(LESSON, GOOD_LESSON.replace("2026-10-01", '"2026-10-01"'))
    assert only(diagnose(), LESSON) == []
    write(LESSON, GOOD_LESSON.replace("2026-10-01", "2026-10-01 09:30:00"))
    assert only(diagnose(), LESSON) == []


def test_competency_codes_are_checked_against_the_standards_work_items_of_the_level(write, diagnose):
    # 7.x (培训、指导与研究) is in the 三级 and 二级 tables only; 1.1.9 is in no table.
    text = GOOD_LESSON.replace(
        "reviewed_by", 'level: 四级\ncompetencies: ["7.1.1", "1.1.9", "2.1.3"]\nreviewed_by'
    )
    write(LESSON, text)
    errors = only(diagnose(), LESSON)
    assert errors == [
        f"{LESSON}:11: 能力编码 '1.1.9' 不在职业标准的技能要求里（查标准第 3 部分的表）",
        f"{LESSON}:11: 能力编码 '7.1.1' 不是四级的技能要求（它在三级、二级的表里）",
    ]
    write(LESSON, text.replace("level: 四级", "level: 二级"))  # a level covers the ones below it
    assert only(diagnose(), LESSON) == [
        f"{LESSON}:11: 能力编码 '1.1.9' 不在职业标准的技能要求里（查标准第 3 部分的表）"
    ]


# -- warnings --------------------------------------------------------------------


def test_stale_review_and_missing_reviewer_are_warnings(write, diagnose):
    text = GOOD_LESSON.replace("2026-10-01", "2025-01-01").replace(
        "reviewed_by: 示例社区卫生服务中心 全科医师\n", ""
    )
    write(LESSON, text)
    lines = only(diagnose(), LESSON)
    assert f"{LESSON}:10: 警告：内容审核已超过 365 天（2025-01-01），请重新请医生审核" in lines
    assert any(line.startswith(f"{LESSON}:2: 警告：缺少 reviewed_by") for line in lines)


# -- quizzes ---------------------------------------------------------------------

QUIZ_HEAD = """\
---
title: 新测验
audiences: [老年人]
lessons: [hypertension-basics]
---

"""


def test_question_without_a_correct_option(write, diagnose):
    write(QUIZ, QUIZ_HEAD + "## 哪个对？\n\n- [ ] 甲\n- [ ] 乙\n")
    assert f"{QUIZ}:7: 题目「哪个对？」没有正确答案：在正确选项前写 [x]" in diagnose()


def test_duplicated_option_points_at_the_duplicate(write, diagnose):
    write(QUIZ, QUIZ_HEAD + "## 哪个对？\n\n- [x] 甲\n- [ ] 乙\n- [ ] 甲\n")
    assert only(diagnose(), QUIZ) == [f"{QUIZ}:11: 选项 '甲' 重复了"]


def test_question_with_fewer_than_two_options(write, diagnose):
    write(QUIZ, QUIZ_HEAD + "## 只有一个选项？\n\n- [x] 甲\n\n## 忘了方括号\n\n- 甲\n- 乙\n")
    errors = only(diagnose(), QUIZ)
    assert f"{QUIZ}:7: 题目「只有一个选项？」至少要有两个选项，现在有 1 个" in errors
    assert (
        f"{QUIZ}:11: 题目「忘了方括号」至少要有两个选项，现在有 0 个（选项要写成 - [ ] 选项 或 - [x] 正确选项）"
        in errors
    )


def test_true_false_question_takes_one_answer(write, diagnose):
    write(QUIZ, QUIZ_HEAD + "## 说法对吗？\n\n- [x] 对\n- [x] 错\n")
    assert f"{QUIZ}:7: 判断题「说法对吗？」只能有一个正确答案（对 或 错）" in diagnose()


def test_quiz_question_kinds(project, write, diagnose):
    from builder.diagnostics import Diagnostics
    from builder.project import load_project

    write(
        QUIZ,
        QUIZ_HEAD
        + "## 单选\n- [x] 甲\n- [ ] 乙\n## 多选\n- [x] 甲\n- [X] 乙\n## 判断\n- [ ] 对\n- [x] 错\n> 解析。\n",
    )
    loaded = load_project(project, Diagnostics())
    quiz = next(q for q in loaded.quizzes if q.slug == "new-quiz")
    assert [q.kind.value for q in quiz.questions] == ["single", "multiple", "true_false"]
    assert quiz.questions[2].explanation == "解析。"
    assert [q.line for q in quiz.questions] == [7, 10, 13]


def test_quiz_without_questions_and_unknown_lesson(write, diagnose):
    write(QUIZ, QUIZ_HEAD.replace("[hypertension-basics]", "[hypertension-basic]") + "没有题目。\n")
    errors = only(diagnose(), QUIZ)
    assert f"{QUIZ}:4: 找不到课程 'hypertension-basic'，是不是 'hypertension-basics'？" in errors
    assert f"{QUIZ}:6: 测验里没有题目：每道题用 ## 开头写题干" in errors


def test_text_after_options_that_is_not_a_quote(write, diagnose):
    write(QUIZ, QUIZ_HEAD + "## 哪个对？\n- [x] 甲\n- [ ] 乙\n解析忘了写 > 号。\n")
    assert any(line.startswith(f"{QUIZ}:10: 选项后面的文字不知道属于哪里") for line in diagnose())


# -- campaigns -------------------------------------------------------------------

CAMPAIGN_TEXT = """\
---
title: 新活动
summary: 活动摘要。
audiences: [农民工]
start: 2026-04-25
end: 2026-05-31
organizer: 示例区疾控中心
goals:
  - {indicator: 知晓率, target: "≥85%"}
phases:
  - {name: 筹备, start: 2026-04-25, end: 2026-04-30}
  - {name: 实施, start: 2026-05-01, end: 2026-05-25}
activities:
  - title: 讲座
    date: 2026-05-08
    time: "14:00-15:30"
    place: 会议室
    channel: 讲座
    lessons: [dust-pneumoconiosis]
---
正文。
"""


def test_valid_campaign(write, diagnose):
    write(CAMPAIGN, CAMPAIGN_TEXT)
    assert diagnose() == []


def test_activity_date_outside_the_campaign(write, diagnose):
    write(CAMPAIGN, CAMPAIGN_TEXT.replace("date: 2026-05-08", "date: 2026-06-08"))
    assert (
        f"{CAMPAIGN}:15: 活动 1：日期 2026-06-08 不在活动时间（2026-04-25 至 2026-05-31）之内" in diagnose()
    )


def test_phases_that_overlap_or_run_backwards(write, diagnose):
    text = CAMPAIGN_TEXT.replace(
        "  - {name: 实施, start: 2026-05-01, end: 2026-05-25}\n",
        "  - {name: 实施, start: 2026-04-29, end: 2026-05-25}\n  - {name: 总结, start: 2026-05-31, end: 2026-05-26}\n",
    )
    write(CAMPAIGN, text)
    errors = only(diagnose(), CAMPAIGN)
    assert (
        f"{CAMPAIGN}:12: 阶段 2：阶段「实施」从 2026-04-29 开始，和上一阶段「筹备」（到 2026-04-30）重叠或顺序颠倒"
        in errors
    )
    assert f"{CAMPAIGN}:13: 阶段 3：阶段「总结」的结束日期 2026-05-26 早于开始日期 2026-05-31" in errors


def test_phase_outside_the_campaign(write, diagnose):
    write(CAMPAIGN, CAMPAIGN_TEXT.replace("end: 2026-05-25}", "end: 2026-06-25}"))
    assert any(
        line.startswith(f"{CAMPAIGN}:12: 阶段 2：阶段「实施」（2026-05-01 至 2026-06-25）超出了活动时间")
        for line in diagnose()
    )


def test_unknown_channel_and_lesson(write, diagnose):
    text = CAMPAIGN_TEXT.replace("channel: 讲座", "channel: 抖音").replace(
        "[dust-pneumoconiosis]", "[no-such-lesson]"
    )
    write(CAMPAIGN, text)
    errors = only(diagnose(), CAMPAIGN)
    assert f"{CAMPAIGN}:18: 活动 1：未知的渠道 '抖音'（可选：公众号、微信群、讲座、宣传栏）" in errors
    assert any(line.startswith(f"{CAMPAIGN}:19: 活动 1：找不到课程 'no-such-lesson'") for line in errors)


def test_campaign_end_before_start_and_bad_time(write, diagnose):
    text = CAMPAIGN_TEXT.replace("end: 2026-05-31", "end: 2026-04-01").replace(
        '"14:00-15:30"', '"15:30-14:00"'
    )
    write(CAMPAIGN, text)
    errors = only(diagnose(), CAMPAIGN)
    assert f"{CAMPAIGN}:6: 结束日期 2026-04-01 早于开始日期 2026-04-25" in errors
    assert f"{CAMPAIGN}:16: 活动 1：时间 '15:30-14:00' 的结束早于开始" in errors


def test_unquoted_time_is_read_as_meant(write, diagnose):
    write(CAMPAIGN, CAMPAIGN_TEXT.replace('"14:00-15:30"', "14:00"))
    assert diagnose() == []


# -- site_config.yml -------------------------------------------------------------


def test_config_errors_have_lines(project, diagnose):
    config = project / "site_config.yml"
    text = config.read_text(encoding="utf-8")
    text = text.replace('color: "#1f7a4d"', "color: green").replace("review:", "reveiw:")
    config.write_text(text, encoding="utf-8")
    errors = diagnose()
    assert (
        "site_config.yml:8: brand：'color' 应是 #RRGGBB 形式的颜色，如 \"#1f7a4d\"，这里是 'green'" in errors
    )
    assert "site_config.yml:23: 未知的键 'reveiw'，是不是想写 'review'？" in errors


# -- many errors at once -----------------------------------------------------------


def test_all_errors_of_all_files_are_reported_together(write, diagnose):
    write(LESSON, GOOD_LESSON.replace("audiences: [老年人]", "audiences: [外星人]"))
    write(QUIZ, QUIZ_HEAD + "## 哪个对？\n\n- [ ] 甲\n- [ ] 乙\n")
    write(CAMPAIGN, CAMPAIGN_TEXT.replace("channel: 讲座", "channel: 抖音"))
    files = {line.split(":")[0] for line in diagnose()}
    assert files == {LESSON, QUIZ, CAMPAIGN}


def test_brand_colour_too_light_for_white_text_is_a_warning(project, diagnose):
    config = project / "site_config.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("#1f7a4d", "#f5c400"), encoding="utf-8")
    assert any(
        line.startswith("site_config.yml:8: 警告：brand：品牌色 #f5c400 上的白字对比度只有 1.")
        for line in diagnose()
    )


def test_broken_link_in_a_lesson_body_is_reported_against_the_lesson(project):
    from conftest import TODAY

    from builder.pipeline import build

    lesson = project / "content" / "lessons" / "flu-vaccine.md"
    lesson.write_text(
        lesson.read_text(encoding="utf-8") + "\n参见[不存在的课](no-such-lesson.md)。\n", encoding="utf-8"
    )
    result = build(project, only=["site"], today=TODAY)
    assert any(
        d.path == "content/lessons/flu-vaccine.md" and "no-such-lesson.md" in d.message
        for d in result.diagnostics.warnings
    )


def test_questions_carry_their_own_competency_tags(project, write, diagnose):
    from builder.diagnostics import Diagnostics
    from builder.project import load_project

    text = (
        QUIZ_HEAD
        + "## 一\n<!-- competencies: 1.1.1, 职业道德 -->\n- [x] 甲\n- [ ] 乙\n## 二\n<!-- competencies: 9.9 -->\n- [x] 甲\n- [ ] 乙\n"
    )
    write(QUIZ, text)
    assert any(line.startswith(f"{QUIZ}:12: 能力编码 '9.9' 格式不对") for line in diagnose())
    write(QUIZ, text.replace("9.9", "4.1.3"))
    quiz = next(q for q in load_project(project, Diagnostics()).quizzes if q.slug == "new-quiz")
    assert [q.competencies for q in quiz.questions] == [["1.1.1", "职业道德"], ["4.1.3"]]
