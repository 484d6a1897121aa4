"""Loading and validating the field kit's own content: handbooks (``content/handbooks/``).

A handbook binds lessons (and optionally quizzes) into one printed booklet. It is
read after every lesson and quiz, so its ``lessons:`` and ``quizzes:`` resolve
against what was found; every mistake names the line of its key or item.
"""

from __future__ import annotations

import difflib
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
from builder.model import Handbook, Lesson, Quiz, SiteConfig
from builder.paths import inside
from builder.schema import FieldReader

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
