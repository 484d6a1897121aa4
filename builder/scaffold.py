"""``kepu new``: a valid, commented starting file for a lesson, quiz or campaign."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from builder.config import load_config
from builder.content import CONTENT_DIRS, SLUG
from builder.diagnostics import Diagnostics
from builder.model import Project
from builder.templates import make_environment

KIND_DIRS = {"lesson": "lessons", "quiz": "quizzes", "campaign": "campaigns"}


class ScaffoldError(Exception):
    pass


def create(root: Path, kind: str, name: str, today: dt.date | None = None) -> Path:
    if not SLUG.match(name):
        raise ScaffoldError(f"名称 '{name}' 只能用小写英文字母、数字和连字符，如 hypertension-basics")
    diagnostics = Diagnostics()
    config = load_config(root, diagnostics)
    if config is None:
        problems = "\n".join(str(d) for d in diagnostics.sorted())
        raise ScaffoldError(f"先修好 site_config.yml：\n{problems}")
    dest = root / "content" / CONTENT_DIRS[KIND_DIRS[kind]] / f"{name}.md"
    if dest.exists():
        raise ScaffoldError(f"{dest.relative_to(root)} 已经存在，不会覆盖")
    lessons_dir = root / "content" / "lessons"
    lesson_slugs = sorted(p.stem for p in lessons_dir.glob("*.md")) if lessons_dir.is_dir() else []
    today = today or dt.date.today()
    project = Project(root=root, config=config, lessons=[], quizzes=[], campaigns=[])
    text = (
        make_environment(project)
        .get_template(f"new/{kind}.md.j2")
        .render(
            name=name,
            today=today,
            audience=config.audiences.terms[0].label if config.audiences.terms else "",
            topic=config.topics.terms[0].label if config.topics.terms else "",
            channel=config.channels.terms[0].label if config.channels.terms else "",
            lesson=lesson_slugs[0] if lesson_slugs else None,
            tomorrow=today + dt.timedelta(days=1),
            end=today + dt.timedelta(days=30),
        )
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("x", encoding="utf-8") as stream:  # "x": never overwrite, even in a race
        stream.write(text)
    return dest
