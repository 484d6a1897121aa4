"""Loading and validating lessons and quizzes from ``content/`` (campaigns: ``builder.campaigns``).

Files are read in two passes: every lesson first, then quizzes and campaigns,
whose ``lessons:`` lists are resolved against the lessons found. Every mistake is
recorded with the line of the key, option or question it concerns.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from builder.diagnostics import Diagnostics
from builder.model import (
    LEVELS,
    KeyPoint,
    Lesson,
    MediaRef,
    Option,
    Question,
    QuestionKind,
    Quiz,
    SiteConfig,
    Term,
    Vocabulary,
)
from builder.paths import FileKind, inside, project_file, read_text
from builder.sanitize import RAW_TAG, raw_html_problems
from builder.schema import FieldReader, describe
from builder.standard import NAMED_AREAS, is_competency, levels_with
from builder.templates import template_dirs
from builder.yamlpos import YamlMap, load_yaml

CONTENT_DIRS = {"lessons": "lessons", "quizzes": "quizzes", "campaigns": "campaigns", "skills": "skills"}
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,80}")  # always fullmatch: "$" would let "evil\n" through
SUMMARY_MAX = 120
KEY_POINT_WARN = 40  # longer points no longer fit a flyer bullet or a video slide
LESSON_KEYS = (
    "title", "short_title", "summary", "audiences", "topics", "competencies", "level",
    "key_points", "reviewed_by", "reviewed_on", "cover", "checks",
)  # fmt: skip
QUIZ_KEYS = ("title", "summary", "audiences", "topics", "lessons", "competencies", "level", "checks")
TRUE_FALSE_PAIRS = ({"对", "错"}, {"正确", "错误"}, {"√", "×"})

# Bounded and line-local on purpose: an unbounded "[^\]]*" made a line of many
# "![" take minutes (each start scanned to the end of the body).
IMAGE_MARKDOWN = re.compile(
    r"!\[[^\]\n]{0,300}\]\([ \t]{0,20}<?([^)\s>]{1,500})>?(?:[ \t]{1,20}\"[^\"\n]{0,300}\")?[ \t]{0,20}\)"
)
IMAGE_HTML = re.compile(r"<img\b[^>\n]{0,1000}?\bsrc\s*=\s*[\"']?([^\"'\s>]{1,500})", re.IGNORECASE)
FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass
class SourceFile:
    """One Markdown file split into its front matter and body."""

    path: str  # project-relative
    slug: str
    front: YamlMap
    body: str
    body_line: int
    root: Path | None = None  # the project, for resolving what the body names


def read_source(root: Path, src: Path, diagnostics: Diagnostics) -> SourceFile | None:
    path = src.relative_to(root).as_posix()
    slug = src.stem
    if not SLUG.fullmatch(slug):
        diagnostics.error(
            path, 0,
            f"文件名 {src.name!r} 只能用小写英文字母、数字和连字符（如 hypertension-basics.md），"
            "因为它会成为网址",
        )  # fmt: skip
    text = read_text(root, src, diagnostics)
    if text is None:
        return None
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        diagnostics.error(
            path, 1, "文件应以 front matter 开头：第一行写 ---，然后是 title: 等信息，再用 --- 结束"
        )
        return None
    try:
        closing = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        diagnostics.error(path, 1, "front matter 没有结束：在信息之后单独一行写 ---")
        return None
    errors_before = len(diagnostics.errors)
    front = load_yaml("\n".join(lines[1:closing]), path, diagnostics, line_offset=1)
    if front is None:
        if len(diagnostics.errors) == errors_before:  # parsed, but empty: never drop a file silently
            diagnostics.error(path, 1, "front matter 是空的：至少要写 title、summary 等信息")
        return None
    if not isinstance(front, YamlMap):
        diagnostics.error(path, 2, "front matter 应是 键: 值 的形式，如 title: 认识高血压")
        return None
    return SourceFile(path, slug, front, "\n".join(lines[closing + 1 :]), closing + 2, root)


def sources_in(root: Path, kind: str) -> list[Path]:
    """The Markdown files of one content folder, in name order.

    A folder that is a symlink leaving the project is treated as empty here;
    :func:`read_source` refuses single files that do (with their path).
    """
    folder = root / "content" / CONTENT_DIRS[kind]
    if not folder.is_dir() or not inside(root, folder):
        return []
    return sorted(folder.glob("*.md"))


def raw_html_warnings(
    text: str, path: str, first_line: int, diagnostics: Diagnostics, where: str = ""
) -> None:
    """Warn, at its line, about HTML the sanitizer will drop from a body."""
    for problem in raw_html_problems(text):
        diagnostics.warning(
            path, first_line + problem.line_offset,
            f"{where}{problem.message} 会被去掉：出于安全，网站、文章和印刷品只保留表格、图片、折叠块等常用 HTML，"
            "不运行脚本，也不从别的网站加载内容",
        )  # fmt: skip


def text_html_warning(reader: FieldReader, key: str, value: str | None, line: int | None = None) -> None:
    if value and RAW_TAG.search(value):
        reader.diagnostics.warning(
            reader.path, line if line is not None else reader.line(key),
            f"'{key}' 里的 HTML 不会生效，会按原样显示成文字：这里只写纯文字",
        )  # fmt: skip


# -- shared field helpers ------------------------------------------------------


def read_terms(reader: FieldReader, key: str, vocabulary: Vocabulary, required: bool) -> list[Term]:
    terms: list[Term] = []
    for value, line in reader.text_items(key, required=required):
        term = vocabulary.find(value)
        if term is None:
            known = "、".join(vocabulary.labels()) or "（site_config.yml 里还没有）"
            reader.diagnostics.error(reader.path, line, f"未知的{vocabulary.kind} '{value}'（可选：{known}）")
        elif term not in terms:
            terms.append(term)
    return terms


def check_competency(
    code: str, path: str, line: int, diagnostics: Diagnostics, level: str | None = None
) -> bool:
    """A code of the standard that exists — at ``level`` when the file declares one."""
    if not is_competency(code):
        diagnostics.error(
            path,
            line,
            f"能力编码 '{code}' 格式不对：应是《社群健康助理员》职业标准里的编号，如 \"2.1.3\"（记得加引号），"
            f"或 {'、'.join(NAMED_AREAS)}",
        )
        return False
    found = levels_with(code)
    if not found:
        diagnostics.error(path, line, f"能力编码 '{code}' 不在职业标准的技能要求里（查标准第 3 部分的表）")
        return False
    # A level covers the ones below it: a 三级 quiz may ask about a 四级 item.
    if level and not any(LEVELS.index(f) <= LEVELS.index(level) for f in found):
        diagnostics.error(
            path, line, f"能力编码 '{code}' 不是{level}的技能要求（它在{'、'.join(found)}的表里）"
        )
        return False
    return True


def read_competencies(reader: FieldReader, level: str | None = None) -> list[str]:
    items = reader.text_items("competencies", required=False)
    return [
        code for code, line in items if check_competency(code, reader.path, line, reader.diagnostics, level)
    ]


def read_level(reader: FieldReader) -> str | None:
    level = reader.text("level", required=False)
    if level is not None and level not in LEVELS:
        reader.error("level", f"等级 '{level}' 不对，可选：{'、'.join(LEVELS)}")
        return None
    return level


def resolve_lessons(
    reader: FieldReader, key: str, lessons: dict[str, Lesson], required: bool = False
) -> list[Lesson]:
    found = []
    for slug, line in reader.text_items(key, required=required):
        lesson = lessons.get(slug)
        if lesson is None:
            close = difflib.get_close_matches(slug, list(lessons), n=1, cutoff=0.6)
            hint = (
                f"，是不是 '{close[0]}'？"
                if close
                else "（课程名就是 content/lessons/ 下的文件名，不带 .md）"
            )
            reader.diagnostics.error(reader.path, line, f"{reader._prefix('')}找不到课程 '{slug}'{hint}")
        elif lesson not in found:
            found.append(lesson)
    return found


def resolve_media(
    root: Path, source: str, written: str, line: int, diagnostics: Diagnostics
) -> MediaRef | None:
    """Resolve an image path written relative to the Markdown file or to the project root."""
    return project_file(root, source, written, line, diagnostics, FileKind.IMAGE)


def body_images(root: Path, src: SourceFile, diagnostics: Diagnostics) -> list[MediaRef]:
    """Every image a body shows, resolved; raw HTML the sanitizer drops is warned about too."""
    raw_html_warnings(src.body, src.path, src.body_line, diagnostics)
    refs = []
    in_fence = False
    for offset, text in enumerate(src.body.split("\n")):
        if FENCE.match(text):
            in_fence = not in_fence
        if in_fence:
            continue
        for match in [*IMAGE_MARKDOWN.finditer(text), *IMAGE_HTML.finditer(text)]:
            ref = resolve_media(root, src.path, match.group(1), src.body_line + offset, diagnostics)
            if ref:
                refs.append(ref)
    return refs


# -- lessons -------------------------------------------------------------------


def load_lesson(
    root: Path, src: SourceFile, config: SiteConfig, diagnostics: Diagnostics, today: dt.date
) -> Lesson | None:
    r = FieldReader(src.front, src.path, diagnostics)
    r.check_keys(LESSON_KEYS)
    title = r.text("title")
    short_title = r.text("short_title", required=False, max_len=32)
    summary = r.text("summary", max_len=SUMMARY_MAX)
    for key, value in (("title", title), ("short_title", short_title), ("summary", summary)):
        text_html_warning(r, key, value)
    audiences = read_terms(r, "audiences", config.audiences, required=True)
    topics = read_terms(r, "topics", config.topics, required=True)
    level = read_level(r)
    competencies = read_competencies(r, level)
    points = read_key_points(r, config, pictogram_names(root))
    key_points = [point.text for point in points]
    key_point_lines = [point.line for point in points]
    if len(set(key_points)) < len(key_points):
        r.error("key_points", "'key_points' 里有重复的要点")
    reviewed_by = r.text("reviewed_by", required=False)
    reviewed_on = r.date("reviewed_on", required=False)
    if not reviewed_by:
        r.warning(
            None, "缺少 reviewed_by（审核人，如 示例社区卫生服务中心 全科医师）：读者需要知道内容由谁把关"
        )
    if reviewed_on is None:
        if "reviewed_on" not in src.front:
            r.warning(None, "缺少 reviewed_on（审核日期）：读者需要知道内容是否过时")
    elif reviewed_on > today:
        r.error("reviewed_on", f"审核日期 {reviewed_on} 在今天（{today}）之后，请检查")
    elif (today - reviewed_on).days > config.review_max_age_days:
        r.warning(
            "reviewed_on",
            f"内容审核已超过 {config.review_max_age_days} 天（{reviewed_on}），请重新请医生审核",
        )
    cover_written = r.text("cover", required=False)
    cover = None
    if cover_written:
        ref = resolve_media(root, src.path, cover_written, r.line("cover"), diagnostics)
        cover = ref.path if ref else None
    images = body_images(root, src, diagnostics)
    if not src.body.strip():
        diagnostics.warning(src.path, src.body_line, "正文是空的：网站上的课程页只有要点")
    if not (title and summary and audiences and topics and len(key_points) >= 3):
        return None
    return Lesson(
        slug=src.slug,
        source=src.path,
        title=title,
        short_title=short_title,
        summary=summary,
        audiences=audiences,
        topics=topics,
        key_points=key_points,
        body=src.body,
        body_line=src.body_line,
        competencies=competencies,
        level=level,
        reviewed_by=reviewed_by,
        reviewed_on=reviewed_on,
        cover=cover,
        images=images,
        lines=dict(src.front.key_lines),
        key_point_lines=key_point_lines,
        points=points,
        checks=src.front.get("checks"),
    )


def pictogram_names(root: Path) -> frozenset[str]:
    """The pictograms a project can use: its own templates/pictograms/ and Kepu's."""
    return frozenset(
        path.stem for folder in template_dirs(root) for path in (folder / "pictograms").glob("*.svg")
    )


def read_key_points(r: FieldReader, config: SiteConfig, icons: frozenset[str]) -> list[KeyPoint]:
    """``key_points``: each a line of text, or ``{text: …, icon: …, urgent: true}``.

    A point's pictogram is its ``icon:``, else the first ``pictograms:`` rule whose
    keyword it contains. It is urgent (a safety line no output may drop) when it says
    ``urgent: true``, or contains a ``red_flags:`` word and does not say ``urgent: false``.
    """
    points: list[KeyPoint] = []
    for item, line in r.items("key_points", min_items=3, max_items=8):
        icon: str | None = None
        urgent: bool | None = None
        if isinstance(item, YamlMap):
            point = FieldReader(item, r.path, r.diagnostics, where="要点")
            point.check_keys(("text", "icon", "urgent"))
            text = point.text("text")
            icon = point.text("icon", required=False)
            if icon is not None and icon not in icons:
                close = difflib.get_close_matches(icon, sorted(icons), n=1)
                hint = (
                    f"，是不是 '{close[0]}'？"
                    if close
                    else f"（可选：{'、'.join(sorted(icons)) or '没有图标'}）"
                )
                point.error("icon", f"没有叫 '{icon}' 的图标{hint}")
                icon = None
            flag = item.get("urgent")
            if flag is not None and not isinstance(flag, bool):
                point.error("urgent", f"'urgent' 应写 true 或 false，这里是 '{flag}'")
            elif flag is not None:
                urgent = flag
            if text is None:
                continue
        elif isinstance(item, list) or item is None:
            r.diagnostics.error(r.path, line, f"'key_points' 的每一项应是一段文字，这里是{describe(item)}")
            continue
        else:
            text = str(item).strip()
        if len(text) > KEY_POINT_WARN:
            r.diagnostics.warning(
                r.path, line,
                f"要点有 {len(text)} 个字，超过 {KEY_POINT_WARN} 个字在传单和视频里不易读，建议拆短",
            )  # fmt: skip
        text_html_warning(r, "key_points", text, line)
        if icon is None:
            icon = next(
                (name for keyword, name in config.pictograms if keyword in text and name in icons), None
            )
        if urgent is None:
            urgent = any(word in text for word in config.red_flags)
        points.append(KeyPoint(text, line, icon, urgent))
    return points


# -- quizzes -------------------------------------------------------------------

QUESTION_HEADING = re.compile(r"^##\s+(.+?)\s*#*\s*$")
OPTION = re.compile(r"^\s*[-*+]\s+\[([ xX])\]\s*(.*?)\s*$")
PLAIN_ITEM = re.compile(r"^\s*[-*+]\s+\S")
QUOTE = re.compile(r"^\s*>\s?(.*)$")
QUESTION_TAGS = re.compile(r"^\s*<!--\s*competencies\s*:\s*(.*?)\s*-->\s*$")


@dataclass
class _QuestionDraft:
    text: str
    line: int
    detail: list[str]
    options: list[Option]
    explanation: list[str]
    plain_items: int = 0
    competencies: list[str] = field(default_factory=list)


def parse_questions(src: SourceFile, diagnostics: Diagnostics) -> tuple[str, list[Question]]:
    """Split a quiz body into its intro and questions (every ``##`` heading is one)."""
    intro: list[str] = []
    drafts: list[_QuestionDraft] = []
    in_fence = False
    for offset, text in enumerate(src.body.split("\n")):
        line = src.body_line + offset
        current = drafts[-1] if drafts else None
        if FENCE.match(text):
            in_fence = not in_fence
        heading = None if in_fence else QUESTION_HEADING.match(text)
        if heading:
            drafts.append(_QuestionDraft(heading.group(1), line, [], [], []))
            continue
        if current is None:
            intro.append(text)
            continue
        tags = None if in_fence or current.options or current.detail else QUESTION_TAGS.match(text)
        if tags:
            for code in filter(None, (part.strip() for part in re.split(r"[,，、\s]+", tags.group(1)))):
                if check_competency(code, src.path, line, diagnostics):
                    current.competencies.append(code)
            continue
        option = None if in_fence else OPTION.match(text)
        quote = None if in_fence else QUOTE.match(text)
        if option:
            if current.explanation:
                diagnostics.error(src.path, line, "选项要写在解析（> …）之前")
                continue
            option_text = option.group(2)
            if not option_text:
                diagnostics.error(src.path, line, "选项没有文字")
                continue
            if any(o.text == option_text for o in current.options):
                diagnostics.error(src.path, line, f"选项 '{option_text}' 重复了")
                continue
            current.options.append(Option(option_text, option.group(1) in "xX", line))
        elif quote and current.options:
            current.explanation.append(quote.group(1))
        elif not text.strip():
            (current.explanation if current.explanation else current.detail).append("")
        elif current.options and not current.explanation:
            diagnostics.error(
                src.path, line,
                "选项后面的文字不知道属于哪里：选项写成 - [ ] / - [x]，解析写成 > 开头的引用",
            )  # fmt: skip
        elif current.explanation:
            current.explanation.append(text)
        else:
            if PLAIN_ITEM.match(text):
                current.plain_items += 1
            current.detail.append(text)

    questions = []
    for number, draft in enumerate(drafts, start=1):
        kind = _question_kind(draft, src.path, diagnostics)
        if kind is not None:
            questions.append(
                Question(
                    number=number,
                    text=draft.text,
                    line=draft.line,
                    options=draft.options,
                    kind=kind,
                    detail="\n".join(draft.detail).strip(),
                    explanation="\n".join(draft.explanation).strip(),
                    competencies=draft.competencies,
                )
            )
    return "\n".join(intro).strip(), questions


def quiz_prose_lines(src: SourceFile) -> list[tuple[int, str]]:
    """(line, text) of every prose line of a quiz body: not options, comments or fenced code."""
    found = []
    in_fence = False
    for offset, raw in enumerate(src.body.split("\n")):
        if FENCE.match(raw):
            in_fence = not in_fence
        if in_fence or OPTION.match(raw) or not raw.strip() or raw.lstrip().startswith("<!--"):
            continue
        heading, quote = QUESTION_HEADING.match(raw), QUOTE.match(raw)
        found.append(
            (src.body_line + offset, heading.group(1) if heading else quote.group(1) if quote else raw)
        )
    return found


def _question_kind(draft: _QuestionDraft, path: str, diagnostics: Diagnostics) -> QuestionKind | None:
    if len(draft.options) < 2:
        hint = "（选项要写成 - [ ] 选项 或 - [x] 正确选项）" if draft.plain_items else ""
        diagnostics.error(
            path, draft.line, f"题目「{draft.text}」至少要有两个选项，现在有 {len(draft.options)} 个{hint}"
        )
        return None
    correct = sum(option.correct for option in draft.options)
    if correct == 0:
        diagnostics.error(path, draft.line, f"题目「{draft.text}」没有正确答案：在正确选项前写 [x]")
        return None
    texts = {option.text for option in draft.options}
    if texts in TRUE_FALSE_PAIRS:
        if correct != 1:
            diagnostics.error(path, draft.line, f"判断题「{draft.text}」只能有一个正确答案（对 或 错）")
            return None
        return QuestionKind.TRUE_FALSE
    return QuestionKind.SINGLE if correct == 1 else QuestionKind.MULTIPLE


def load_quiz(
    src: SourceFile, config: SiteConfig, lessons: dict[str, Lesson], diagnostics: Diagnostics
) -> Quiz | None:
    r = FieldReader(src.front, src.path, diagnostics)
    r.check_keys(QUIZ_KEYS)
    title = r.text("title")
    summary = r.text("summary", required=False, max_len=SUMMARY_MAX) or ""
    audiences = read_terms(r, "audiences", config.audiences, required=True)
    topics = read_terms(r, "topics", config.topics, required=False)
    related = resolve_lessons(r, "lessons", lessons)
    if "lessons" not in src.front:
        r.warning(None, "没有写 lessons（相关课程）：测验页面和课程页面无法互相链接")
    level = read_level(r)
    competencies = read_competencies(r, level)
    intro, questions = parse_questions(src, diagnostics)
    for question in questions:  # a question's own tags are checked against the quiz's level
        question.competencies = [
            code for code in question.competencies
            if check_competency(code, src.path, question.line, diagnostics, level)
        ]  # fmt: skip
    images = body_images(src.root, src, diagnostics) if src.root else []
    if not questions and not any(d.path == src.path and d.line >= src.body_line for d in diagnostics.errors):
        diagnostics.error(src.path, src.body_line, "测验里没有题目：每道题用 ## 开头写题干")
    if not (title and audiences and questions):
        return None
    return Quiz(
        slug=src.slug,
        source=src.path,
        title=title,
        summary=summary,
        audiences=audiences,
        topics=topics,
        lessons=related,
        questions=questions,
        intro=intro,
        competencies=competencies,
        level=level,
        images=images,
        lines=dict(src.front.key_lines),
        checks=src.front.get("checks"),
        prose_lines=quiz_prose_lines(src),
    )
