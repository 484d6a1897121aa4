"""Daily tips (``tips:`` of a campaign activity): what an editor writes, what the group sees.

Hostile lists first (ten thousand tips, a megabyte in one tip, markup), then each
mistake at its own line, then a real posts build: one message and one square card per
day, legible at 48 px or more (measured in the pixels), days that look different, the
120 line kept, the manifest listing every file and the same bytes on a rebuild.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from conftest import TODAY
from PIL import Image, ImageChops

from builder.diagnostics import Diagnostics
from builder.model import Project
from builder.pipeline import build
from builder.project import load_project
from builder.renderers.posts import GROUP_TEXT_MAX
from builder.search_terms import user_dictionary
from builder.tips import CARD_SIZE, CARD_TITLE_MIN, TIP_MAX, TIPS_MAX, tip_box, tip_layout, tip_message

CAMPAIGN = "content/campaigns/dust-month.md"
REPO = Path(__file__).resolve().parent.parent
NO_LINE_START = "。，、；：！？）》”"

TIPS = [
    "戴防尘口罩前先洗手，分清内外和上下",
    {"text": "口罩边缘要贴紧脸，按压鼻夹，吸气时口罩微微塌陷才算密合", "source": "示例区疾控中心"},
    "下班先洗手洗脸再吃饭喝水，工作服不要穿回家",
    "胸痛、喘不上气，别硬撑，马上打120",
    "每年参加一次职业健康检查，结果自己留一份",
]


def campaign_text(activities: str) -> str:
    return f"""\
---
title: 2026年工地职业健康宣传月
summary: 在工地开展粉尘防护和尘肺病预防宣传。
audiences: [农民工, 建筑工人]
start: 2026-04-25
end: 2026-05-31
organizer: 示例区疾控中心
goals:
  - {{indicator: 职业健康知识知晓率, target: "≥85%"}}
activities:
  - title: 工地健康大讲堂：粉尘与尘肺病
    date: 2026-05-08
    time: "14:00-15:30"
    place: 示例工地生活区会议室
    channel: 讲座
    lessons: [dust-pneumoconiosis]
{activities}---

## 指导思想

把防尘知识送到工地一线。
"""


def tips_activity(tips: list[object], date: str = "2026-05-26", title: str = "微信群“防尘五日打卡”") -> str:
    lines = [
        f"  - title: {title}",
        f"    date: {date}",
        "    channel: 微信群",
        "    lessons: [dust-pneumoconiosis]",
    ]
    lines.append("    tips:")
    for tip in tips:
        if isinstance(tip, dict):
            lines.append("      - {" + ", ".join(f"{key}: {value}" for key, value in tip.items()) + "}")
        else:
            lines.append(f"      - {tip}")
    return "\n".join(lines) + "\n"


def load(root: Path) -> tuple[Project | None, list[str]]:
    diagnostics = Diagnostics()
    project = load_project(root, diagnostics, today=TODAY)
    return project, [str(item) for item in diagnostics.sorted()]


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def about_campaign(messages: list[str]) -> list[str]:
    return [message for message in messages if message.startswith(CAMPAIGN)]


# -- hostile lists first -------------------------------------------------------------


def test_ten_thousand_tips_are_one_error_and_quick(project: Path):
    text = campaign_text(tips_activity([f"第{n}条提示" for n in range(10_000)]))
    (project / CAMPAIGN).write_text(text, encoding="utf-8")
    started = time.perf_counter()
    _, messages = load(project)
    took = time.perf_counter() - started
    found = about_campaign(messages)
    assert found == [f"{CAMPAIGN}:{line_of(text, 'tips:')}: 活动 2：有 10000 条提示，"
                     f"一项活动最多 {TIPS_MAX} 条（一天一条、一年为限）：请拆成几项活动"]  # fmt: skip
    assert took < 30  # loading is dominated by the YAML parser, never by ten thousand messages


def test_a_huge_tip_is_an_error_quoted_short(project: Path):
    text = campaign_text(tips_activity(["提醒" * 150_000, "洗手再吃饭"], date="2026-05-30"))
    (project / CAMPAIGN).write_text(text, encoding="utf-8")
    _, messages = load(project)
    found = about_campaign(messages)
    assert len(found) == 1 and f":{line_of(text, '提醒提醒')}: " in found[0]
    assert "有 300000 个字" in found[0] and f"最多 {TIP_MAX} 个字" in found[0]
    assert len(found[0]) < 200  # the tip is quoted by its first words, not pasted whole


def test_markup_in_a_tip_stays_text(project: Path, tmp_path: Path):
    script = "<script>alert(1)</script>洗手再吃饭"
    text = campaign_text(tips_activity([f'"{script}"'], date="2026-05-30"))
    (project / CAMPAIGN).write_text(text, encoding="utf-8")
    loaded, messages = load(project)
    assert about_campaign(messages) == [
        f"{CAMPAIGN}:{line_of(text, 'alert')}: 警告：活动 2：第 1 条提示里的 HTML 不会生效，会按原样显示成文字：这里只写纯文字"
    ]
    assert loaded is not None
    campaign = loaded.campaigns[0]
    activity = next(item for item in campaign.activities if item.tips)
    message = tip_message(loaded, campaign, activity, activity.tips[0], GROUP_TEXT_MAX)
    assert script in message  # plain text: pasted as written, nothing interprets it


def test_every_tip_mistake_at_its_line_in_one_run(project: Path):
    tips = [
        '""',  # empty
        "[洗手, 洗脸]",  # a list, not a sentence
        "戴" + "好口罩" * 30,  # too long
        "{source: 示例区疾控中心}",  # a mapping without its text
        "{text: 洗手再吃饭, sauce: 示例}",  # a misspelt key
        "每年体检一次",
        "每年体检一次",  # the same tip twice: a warning
    ]
    text = campaign_text(tips_activity(tips, date="2026-05-26"))
    (project / CAMPAIGN).write_text(text, encoding="utf-8")
    _, messages = load(project)
    found = about_campaign(messages)
    lines = text.splitlines()
    tip_lines = [number for number, line in enumerate(lines, 1) if line.startswith("      - ")]
    by_line = {int(message.split(":")[1]): message for message in found}
    assert "第 1 条提示是空的" in by_line[tip_lines[0]]
    assert "第 2 条提示应是一句话，这里是列表" in by_line[tip_lines[1]]
    assert "第 3 条提示有 91 个字" in by_line[tip_lines[2]]
    assert "缺少必填项 'text'" in by_line[tip_lines[3]]
    assert "未知的键 'sauce'，是不是想写 'source'？" in by_line[tip_lines[4]]
    assert "警告：活动 2：第 7 条提示和第 6 条一样" in by_line[tip_lines[6]]
    # 05-26 + 6 days = 06-01, past the campaign's end: the seventh tip has no day.
    assert "提示比天数多：第 7 条提示要在 2026-06-01 发，已过了活动结束日 2026-05-31" in "".join(found)
    assert all(":" in message and "Traceback" not in message for message in found)


def test_more_tips_than_days_names_the_first_tip_past_the_end(project: Path):
    text = campaign_text(tips_activity(["洗手", "洗脸", "换衣服", "体检"], date="2026-05-29"))
    (project / CAMPAIGN).write_text(text, encoding="utf-8")
    _, messages = load(project)
    assert about_campaign(messages) == [
        f"{CAMPAIGN}:{line_of(text, '- 体检')}: 活动 2：提示比天数多：第 4 条提示要在 2026-06-01 发，"
        "已过了活动结束日 2026-05-31（从 2026-05-29 起只有 3 天，共写了 4 条）"
    ]


def test_tips_with_repeat_and_two_lists_on_one_day_are_errors(project: Path):
    repeating = tips_activity(["洗手"], date="2026-05-20", title="重复的打卡") + "    repeat: {every: day}\n"
    text = campaign_text(tips_activity(["洗手", "洗脸"], date="2026-05-26") + tips_activity(
        ["换衣服", "体检"], date="2026-05-27", title="第二个打卡") + repeating)  # fmt: skip
    (project / CAMPAIGN).write_text(text, encoding="utf-8")
    _, messages = load(project)
    found = "\n".join(about_campaign(messages))
    assert "活动 4：有 tips 的活动每天自动发一条，不要再写 repeat" in found
    clash = f"{CAMPAIGN}:{line_of(text, '- 换衣服')}: 活动「第二个打卡」第 1 条提示和「微信群“防尘五日打卡”」的提示都在 2026-05-27"
    assert clash in found


# -- a real build ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tips_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Project]:
    """The fixture project with five tips, built twice (no cache) into two folders."""
    import shutil

    from conftest import FIXTURE

    root = tmp_path_factory.mktemp("tips") / "project"
    shutil.copytree(FIXTURE, root)
    (root / CAMPAIGN).write_text(campaign_text(tips_activity(TIPS)), encoding="utf-8")
    first, second = root.parent / "public-1", root.parent / "public-2"
    build(root, first, only=["posts"], today=TODAY, use_cache=False)
    build(root, second, only=["posts"], today=TODAY, use_cache=False)
    project, messages = load(root)
    assert project is not None and not about_campaign(messages), messages
    return first, second, project


def tip_files(public: Path, suffix: str) -> list[Path]:
    return sorted((public / "posts/campaigns/dust-month/tips").glob(f"*.{suffix}"))


def test_one_message_and_one_card_per_day(tips_build):
    public, _, _ = tips_build
    texts, cards = tip_files(public, "txt"), tip_files(public, "jpg")
    days = [dt.date(2026, 5, 26) + dt.timedelta(days=n) for n in range(len(TIPS))]
    assert [path.stem for path in texts] == [day.isoformat() for day in days]
    assert [path.stem for path in cards] == [day.isoformat() for day in days]
    for number, (path, tip) in enumerate(zip(texts, TIPS, strict=True), start=1):
        message = path.read_text(encoding="utf-8")
        words = tip["text"] if isinstance(tip, dict) else tip
        assert words in message and f"第 {number} 天" in message and len(message) <= GROUP_TEXT_MAX
    assert "（来源：示例区疾控中心）" in texts[1].read_text(encoding="utf-8")


def test_the_schedule_lists_each_tip_day_with_its_message_and_card(tips_build):
    import csv
    import io

    public, _, _ = tips_build
    data = (public / "posts/campaigns/dust-month/schedule.csv").read_bytes().decode("utf-8-sig")
    rows = [row for row in csv.DictReader(io.StringIO(data)) if "第" in row["活动"] and "天" in row["活动"]]
    assert [row["日期"] for row in rows] == [path.stem for path in tip_files(public, "txt")]
    for row in rows:
        assert (public / row["群消息"]).is_file() and (public / row["群消息配图"]).is_file()
        assert row["群消息"].endswith(f"{row['日期']}.txt") and row["推荐素材"] == row["群消息"]
    dates = [row["日期"] for row in csv.DictReader(io.StringIO(data))]
    assert dates == sorted(dates)


def test_the_120_tip_is_kept_whole_and_marked(tips_build):
    public, _, project = tips_build
    message = (public / "posts/campaigns/dust-month/tips/2026-05-29.txt").read_text(encoding="utf-8")
    assert "⚠️ 胸痛、喘不上气，别硬撑，马上打120\n" in message
    campaign = project.campaigns[0]
    activity = next(item for item in campaign.activities if item.tips)
    urgent = activity.tips[3]
    assert urgent.urgent and not any(tip.urgent for tip in activity.tips[:3])
    # Even a group limit too small for anything else keeps the whole 120 line.
    assert tip_message(project, campaign, activity, urgent, 30) == "⚠️ 胸痛、喘不上气，别硬撑，马上打120\n"
    card = Image.open(public / "posts/campaigns/dust-month/tips/2026-05-29.jpg").convert("RGB")
    red = sum(1 for x in range(0, CARD_SIZE[0], 8) if _is_red(card.getpixel((x, 60))))
    assert red > CARD_SIZE[0] / 8 * 0.9  # the band is red on the safety day


def _is_red(pixel: tuple[int, int, int]) -> bool:
    r, g, b = pixel
    return r > 150 and g < 80 and b < 80


def ink_runs(card: Image.Image, top: int, bottom: int) -> list[int]:
    """Heights of the bands of rows holding near-black pixels (the tip's lines of text)."""
    grey = card.convert("L").crop((0, top, card.width, bottom))
    rows = [min(grey.crop((0, y, grey.width, y + 1)).getdata()) < 70 for y in range(grey.height)]
    runs, length = [], 0
    for dark in [*rows, False]:
        if dark:
            length += 1
        elif length:
            runs.append(length)
            length = 0
    return runs


def test_cards_are_square_legible_and_differ(tips_build):
    public, _, project = tips_build
    cards = [Image.open(path) for path in tip_files(public, "jpg")]
    assert all(card.size == CARD_SIZE == (1080, 1080) and card.format == "JPEG" for card in cards)
    for card in cards:
        runs = ink_runs(card.convert("RGB"), 440, CARD_SIZE[1] - 170)
        # A 48 px CJK line inks about 40 rows; anything smaller is not a tip line at 48 px.
        assert runs and min(runs) >= 0.8 * CARD_TITLE_MIN, runs
    difference = ImageChops.difference(cards[0].convert("L"), cards[2].convert("L"))
    changed = sum(1 for value in difference.getdata() if value > 60)
    assert changed > 0.02 * CARD_SIZE[0] * CARD_SIZE[1]
    activity = next(item for item in project.campaigns[0].activities if item.tips)
    for tip in activity.tips:
        assert card_layout(project, activity, tip).font.size >= CARD_TITLE_MIN


def card_layout(project, activity, tip):
    left, top, right, bottom = tip_box(activity, tip)
    return tip_layout(tuple(user_dictionary(project)), tip.text, (right - left, bottom - top))


def test_manifest_lists_every_tip_and_rebuild_is_byte_identical(tips_build):
    first, second, _ = tips_build
    manifest = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    tips = [entry for entry in manifest["artifacts"] if entry["kind"] in ("tip-text", "tip-card")]
    assert len(tips) == 2 * len(TIPS)
    assert {entry["source"] for entry in tips} == {CAMPAIGN}
    listed = {entry["path"] for entry in tips}
    on_disk = {str(path.relative_to(first)) for path in tip_files(first, "txt") + tip_files(first, "jpg")}
    assert listed == on_disk
    for path in tip_files(first, "txt") + tip_files(first, "jpg"):
        assert path.read_bytes() == (second / path.relative_to(first)).read_bytes(), path


# -- the bundled plan ------------------------------------------------------------------


def test_bundled_tips_fit_their_days_and_break_well():
    diagnostics = Diagnostics()
    project = load_project(REPO, diagnostics, today=TODAY)
    source = "content/campaigns/chronic-disease-year.md"
    assert not [item for item in diagnostics.sorted() if str(item).startswith(source)]
    campaign = next(item for item in project.campaigns if item.source == source)
    (activity,) = [item for item in campaign.activities if item.tips]
    assert len(activity.tips) == 21
    assert [tip.date for tip in activity.tips] == [
        dt.date(2026, 7, 6) + dt.timedelta(days=n) for n in range(21)
    ]
    assert [tip.day for tip in activity.tips if tip.urgent] == [20]
    assert "120" in activity.tips[19].text
    for tip in activity.tips:
        layout = card_layout(project, activity, tip)
        assert layout.font.size >= CARD_TITLE_MIN, tip.text
        assert all(line[0] not in NO_LINE_START for line in layout.lines), layout.lines
        assert all(len(line) > 1 for line in layout.lines), layout.lines
        message = tip_message(project, campaign, activity, tip, GROUP_TEXT_MAX)
        assert len(message) <= GROUP_TEXT_MAX and tip.text in message
        if tip.source:  # a figure's source is a guideline the project's registry knows (and keeps current)
            (cited,) = project.sources.cited_in(f"《{tip.source}》")
            assert project.sources.current(cited) is cited


def test_each_day_is_cached_on_its_own(project: Path, tmp_path: Path):
    (project / CAMPAIGN).write_text(campaign_text(tips_activity(TIPS)), encoding="utf-8")
    cache = tmp_path / "cache"
    build(project, tmp_path / "a", only=["posts"], today=TODAY, cache_dir=cache)
    again = build(project, tmp_path / "b", only=["posts"], today=TODAY, cache_dir=cache)
    assert not [path for path in again.cache.rendered_paths if "/tips/" in path]
    edited = [tip if n != 2 else "下班先洗手洗脸再吃饭，工作服留在工地" for n, tip in enumerate(TIPS)]
    (project / CAMPAIGN).write_text(campaign_text(tips_activity(edited)), encoding="utf-8")
    changed = build(project, tmp_path / "c", only=["posts"], today=TODAY, cache_dir=cache)
    assert sorted(path for path in changed.cache.rendered_paths if "/tips/" in path) == [
        "posts/campaigns/dust-month/tips/2026-05-28.jpg",
        "posts/campaigns/dust-month/tips/2026-05-28.txt",
    ]
    assert "工作服留在工地" in (tmp_path / "c/posts/campaigns/dust-month/tips/2026-05-28.txt").read_text(
        "utf-8"
    )


# -- the satisfaction-survey template ------------------------------------------------------


def test_survey_template_is_what_the_report_reads(tmp_path: Path):
    """docs/templates/survey.csv, dropped into a copy of the bundled project, loads with no
    mistake and its scores are the report's; the questionnaire's first question is that scale."""
    import shutil

    root = tmp_path / "project"
    for part in ("content", "media"):
        shutil.copytree(REPO / part, root / part)
    shutil.copy(REPO / "site_config.yml", root / "site_config.yml")
    target = root / "content/results/chronic-disease-year/survey.csv"
    shutil.copy(REPO / "docs/templates/survey.csv", target)
    project, messages = load(root)
    rel = "content/results/chronic-disease-year/survey.csv"
    assert project is not None and not [message for message in messages if message.startswith(rel)]
    campaign = next(item for item in project.campaigns if item.slug == "chronic-disease-year")
    rows = (REPO / "docs/templates/survey.csv").read_text(encoding="utf-8").splitlines()
    assert campaign.results.scores == [int(row.rsplit(",", 1)[1]) for row in rows[1:]]
    form = (REPO / "docs/templates/satisfaction-survey.md").read_text(encoding="utf-8")
    first = form.split("## 1.", 1)[1].split("## 2.", 1)[0]
    assert "| 5 | 4 | 3 | 2 | 1 |" in first and "| 非常满意 | 满意 | 一般 | 不满意 | 非常不满意 |" in first
    assert rows[0] == "日期,活动,满意度" and "`日期,活动,满意度`" in form


def test_check_warns_for_a_figure_the_guideline_does_not_give(project: Path):
    """``kepu check`` reads tips like lesson text: 6 g of salt is not what 《中国居民膳食指南（2022）》 says."""
    import shutil

    from builder.renderers.posts import check

    shutil.copy(REPO / "content/sources.yml", project / "content/sources.yml")
    tips = [
        "每人每天吃盐不超过6克",
        {"text": "洗手再吃饭", "source": "中国居民膳食指南（2016）"},
        "每人每天吃盐不超过5克",
    ]
    text = campaign_text(tips_activity(tips, date="2026-05-26"))
    (project / CAMPAIGN).write_text(text, encoding="utf-8")
    loaded, _ = load(project)
    assert loaded is not None
    diagnostics = Diagnostics()
    check(loaded, diagnostics, None, 1)
    found = [str(item) for item in diagnostics.sorted() if item.path == CAMPAIGN]
    assert len(found) == 2, found
    assert found[0].startswith(f"{CAMPAIGN}:{line_of(text, '6克')}: 警告：") and "写的是 6" in found[0]
    assert found[1].startswith(
        f"{CAMPAIGN}:{line_of(text, '2016')}: 警告：第 2 条提示引用的《中国居民膳食指南（2016）》已被"
    )
