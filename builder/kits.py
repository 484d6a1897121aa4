"""Loading and validating the field kit's own content: handbooks (``content/handbooks/``)
and health rooms (``content/rooms/``).

A handbook binds lessons (and optionally quizzes) into one printed booklet. It is
read after every lesson and quiz, so its ``lessons:`` and ``quizzes:`` resolve
against what was found; every mistake names the line of its key or item.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from builder.content import (
    SLUG,
    SourceFile,
    body_images,
    read_source,
    read_terms,
    resolve_lessons,
    text_html_warning,
)
from builder.diagnostics import Diagnostics
from builder.model import Handbook, HealthRoom, Lesson, OpeningDay, Quiz, SiteConfig
from builder.paths import inside
from builder.schema import FieldReader
from builder.yamlpos import YamlMap

HANDBOOK_FOLDER = "handbooks"
HANDBOOK_KEYS = ("title", "subtitle", "edition", "audiences", "lessons", "quizzes")
# A booklet an office printer can still staple (saddle stitch): about 25 lessons of
# 4–6 A5 pages each. A longer list is almost always a paste gone wrong.
MAX_CHAPTERS = 30
MAX_QUIZZES = 5
TITLE_MAX = 40


def handbook_sources(root: Path) -> list[Path]:
    """The Markdown files of ``content/handbooks/``, in name order (none if it leaves the project)."""
    folder = root / "content" / HANDBOOK_FOLDER
    if not folder.is_dir() or not inside(root, folder):
        return []
    return sorted(folder.glob("*.md"))


def load_handbooks(
    root: Path,
    config: SiteConfig,
    lessons: dict[str, Lesson],
    quizzes: list[Quiz],
    diagnostics: Diagnostics,
) -> list[Handbook]:
    found = []
    for path in handbook_sources(root):
        src = read_source(root, path, diagnostics)
        handbook = load_handbook(src, config, lessons, quizzes, diagnostics) if src else None
        if handbook:
            found.append(handbook)
    return found


def load_handbook(
    src: SourceFile,
    config: SiteConfig,
    lessons: dict[str, Lesson],
    quizzes: list[Quiz],
    diagnostics: Diagnostics,
) -> Handbook | None:
    r = FieldReader(src.front, src.path, diagnostics)
    r.check_keys(HANDBOOK_KEYS)
    title = r.text("title", max_len=TITLE_MAX)
    subtitle = r.text("subtitle", required=False, max_len=60)
    edition = r.text("edition", required=False, max_len=20)
    for key, value in (("title", title), ("subtitle", subtitle), ("edition", edition)):
        text_html_warning(r, key, value)
    audiences = read_terms(r, "audiences", config.audiences, required=False)

    chapters: list[Lesson] = []
    listed = r.items("lessons", required=False, max_items=MAX_CHAPTERS)
    if not listed:
        r.error("lessons" if "lessons" in src.front else None, "手册至少要收录一课：在 lessons: 下列出课程名")
    elif len(listed) <= MAX_CHAPTERS:  # a longer list is reported once, not slug by slug
        chapters = resolve_lessons(r, "lessons", lessons)  # unknown slugs: path:line with a hint
        seen: set[str] = set()
        for item, line in listed:
            if str(item) in seen:
                diagnostics.warning(src.path, line, f"课程 '{item}' 在手册里重复列出了，只收录一次")
            seen.add(str(item))

    bound: list[Quiz] = []
    by_slug = {quiz.slug: quiz for quiz in quizzes}
    for slug, line in r.text_items("quizzes", required=False, max_items=MAX_QUIZZES):
        quiz = by_slug.get(slug)
        if quiz is None:
            close = difflib.get_close_matches(slug, list(by_slug), n=1, cutoff=0.6)
            hint = (
                f"，是不是 '{close[0]}'？"
                if close
                else "（测验名就是 content/quizzes/ 下的文件名，不带 .md）"
            )
            diagnostics.error(src.path, line, f"找不到测验 '{slug}'{hint}")
        elif quiz not in bound:
            bound.append(quiz)

    if not src.body.strip():
        diagnostics.warning(src.path, src.body_line, "手册没有前言：在 front matter 之后写几句给读者的话")
    if not SLUG.fullmatch(src.slug) or not (title and chapters):
        return None
    return Handbook(
        slug=src.slug,
        source=src.path,
        title=title,
        audiences=audiences,
        lessons=chapters,
        quizzes=bound,
        foreword=src.body,
        foreword_line=src.body_line,
        subtitle=subtitle,
        edition=edition,
        images=body_images(src.root, src, diagnostics) if src.root else [],
        lines={key: src.front.line_of(key) for key in src.front},
    )


# -- health rooms (健康小屋): content/rooms/<slug>.md ------------------------------------

ROOM_FOLDER = "rooms"
ROOM_KEYS = ("name", "address", "contact", "hours", "services", "rules", "quarters")
WEEKDAYS = "一二三四五六日"
CLOSED = ("休息", "闭馆", "不开放", "关闭")
SPAN = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–~至]\s*(\d{1,2}):(\d{2})$")
SPAN_SPLIT = re.compile(r"[,，、;；]\s*")
# 沧州市健康小屋管理规定: a health room opens every day for no less than 3 hours.
MIN_OPEN_MINUTES = 180
MAX_ROOM_ITEMS = 20  # services, rules
MAX_QUARTER_LESSONS = 10


def weekday_of(label: str) -> int | None:
    """周一 / 星期一 / 礼拜一 / 周天 → 0 … 6."""
    match = re.fullmatch(r"(?:周|星期|礼拜)([一二三四五六日天])", label.strip())
    return None if match is None else WEEKDAYS.index(match.group(1).replace("天", "日"))


def read_hours(r: FieldReader, diagnostics: Diagnostics) -> list[OpeningDay]:
    hours = r.data.get("hours")
    if not isinstance(hours, YamlMap) or not hours:
        r.error(
            "hours" if "hours" in r.data else None,
            '缺少开放时间 hours:，按星期写，如 周一: "08:30-11:30, 14:00-17:00"',
        )
        return []
    found: dict[int, OpeningDay] = {}
    for label, value in hours.items():
        line = hours.line_of(label)
        day = weekday_of(str(label))
        if day is None:
            diagnostics.error(r.path, line, f"'{label}' 不是星期几：写 周一 … 周日")
            continue
        if day in found:
            diagnostics.error(r.path, line, f"{label} 写了两次")
            continue
        text = str(value if value is not None else "").strip()
        spans: list[tuple[str, str]] = []
        if text and text not in CLOSED:
            for part in SPAN_SPLIT.split(text)[:6]:
                match = SPAN.match(part.strip())
                hour_values = [int(match.group(i)) for i in (1, 3)] if match else []
                if (
                    not match
                    or any(h > 23 for h in hour_values)
                    or int(match.group(2)) > 59
                    or int(match.group(4)) > 59
                ):
                    diagnostics.error(
                        r.path,
                        line,
                        f"{label} 的时间 '{part}' 应写成 08:30-11:30（多段用逗号隔开，或写 休息）",
                    )
                    continue
                start = f"{int(match.group(1)):02d}:{match.group(2)}"
                end = f"{int(match.group(3)):02d}:{match.group(4)}"
                if end <= start or (spans and start < spans[-1][1]):
                    diagnostics.error(r.path, line, f"{label} 的时间 '{part}' 结束早于开始，或和上一段重叠")
                    continue
                spans.append((start, end))
        found[day] = OpeningDay(day, tuple(spans), line)
    days = [found.get(day, OpeningDay(day, (), r.line("hours"))) for day in range(7)]
    for day in days:
        if day.spans and day.minutes < MIN_OPEN_MINUTES:
            diagnostics.warning(
                r.path, day.line,
                f"周{WEEKDAYS[day.weekday]}只开放 {day.minutes / 60:.1f} 小时：健康小屋管理规定要求每日开放不少于3小时",
            )  # fmt: skip
    if not any(day.spans for day in days) and found:
        r.error("hours", "一周里没有一天开放：至少写一天的开放时间")
    return days


def load_room(src: SourceFile, lessons: dict[str, Lesson], diagnostics: Diagnostics) -> HealthRoom | None:
    r = FieldReader(src.front, src.path, diagnostics)
    r.check_keys(ROOM_KEYS)
    name = r.text("name", max_len=40)
    address = r.text("address", max_len=80)
    contact = r.text("contact", max_len=60)
    for key, value in (("name", name), ("address", address), ("contact", contact)):
        text_html_warning(r, key, value)
    hours = read_hours(r, diagnostics)
    services = [text for text, _ in r.text_items("services", required=True, max_items=MAX_ROOM_ITEMS)]
    rules = []
    for text, line in r.text_items("rules", required=True, max_items=MAX_ROOM_ITEMS):
        text_html_warning(r, "rules", text, line)
        rules.append(text)
    quarters: dict[int, list[Lesson]] = {}
    table = src.front.get("quarters")
    if table is not None and not isinstance(table, YamlMap):
        r.error("quarters", "quarters: 应按季度列出课程，如 1: [hypertension-basics]")
    for key in table or {}:
        quarter = FieldReader(table, src.path, diagnostics, where=f"第 {key} 季度")
        if str(key) not in ("1", "2", "3", "4"):
            diagnostics.error(src.path, table.line_of(key), f"季度应写 1、2、3 或 4，这里是 '{key}'")
            continue
        if len(quarter.items(key, required=False, max_items=MAX_QUARTER_LESSONS)) <= MAX_QUARTER_LESSONS:
            quarters[int(key)] = resolve_lessons(quarter, key, lessons)
    if not (SLUG.fullmatch(src.slug) and name and address and contact and hours):
        return None
    return HealthRoom(
        slug=src.slug,
        source=src.path,
        name=name,
        address=address,
        contact=contact,
        hours=hours,
        services=services,
        rules=rules,
        quarters=dict(sorted(quarters.items())),
        intro=src.body.strip(),
        lines={key: src.front.line_of(key) for key in src.front},
    )


def load_rooms(root: Path, lessons: dict[str, Lesson], diagnostics: Diagnostics) -> list[HealthRoom]:
    folder = root / "content" / ROOM_FOLDER
    if not folder.is_dir() or not inside(root, folder):
        return []
    found = []
    for path in sorted(folder.glob("*.md")):
        src = read_source(root, path, diagnostics)
        room = load_room(src, lessons, diagnostics) if src else None
        if room:
            found.append(room)
    return found
