"""The lesson site: generated Markdown pages built by MkDocs with mkdocs-material.

Navigation stays small on purpose: the nav lists only the browse pages (by
audience, by topic, quizzes, campaigns), never every lesson, so a page of a
1,000-lesson site is as light as a page of a 10-lesson one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import importlib.metadata
import logging
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Imported here, not lazily: without jieba mkdocs-material's search silently
# indexes Chinese as unsplit sentences and finds nothing, so fail loudly instead.
import jieba
import markdown
from markupsafe import Markup
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config as load_mkdocs_config

from builder.cache import fingerprint
from builder.content import IMAGE_HTML, IMAGE_MARKDOWN
from builder.dashboard import editor_dashboard
from builder.model import Campaign, Lesson, Project, QuestionKind, Quiz, Term
from builder.renderers import RenderContext
from builder.search_terms import add_search_subwords, user_dictionary
from builder.templates import copy_template_tree, make_environment
from builder.writer import Artifact

SITE_RENDERER_VERSION = 1  # bump when this module's output changes for the same sources
KIND_LABELS = {
    QuestionKind.SINGLE: "（单选）",
    QuestionKind.MULTIPLE: "（多选）",
    QuestionKind.TRUE_FALSE: "（判断）",
}
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}#|!])")


def markdown_text(value: object) -> str:
    """Plain text made safe to place inside generated Markdown."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(value), quote=False))


def markdown_html(text: str) -> Markup:
    """Markdown rendered to HTML, for content placed inside generated HTML blocks."""
    return Markup(markdown.markdown(text, extensions=["tables", "attr_list", "sane_lists"])) if text else Markup("")


def render(project: Project, ctx: RenderContext) -> Iterator[Artifact]:
    src_dir = ctx.work_dir / "site-src"
    docs_dir, out_dir = src_dir / "docs", ctx.work_dir / "site-out"
    pages = write_pages(project, docs_dir)
    copy_media(project, docs_dir)
    copy_template_tree(project.root, "site/assets", docs_dir / "assets")
    overrides_dir = src_dir / "overrides"
    overrides_dir.mkdir(parents=True, exist_ok=True)
    copy_template_tree(project.root, "site/overrides", overrides_dir)
    userdict = src_dir / "jieba-userdict.txt"
    userdict.write_text("".join(f"{word}\n" for word in user_dictionary(project)), encoding="utf-8")

    env = make_environment(project)
    mkdocs_yml = src_dir / "mkdocs.yml"
    mkdocs_yml.write_text(
        env.get_template("site/mkdocs.yml.j2").render(
            docs_dir=str(docs_dir),
            site_dir=str(out_dir),
            overrides_dir=str(overrides_dir),
            jieba_userdict=str(userdict),
            logo=project.config.logo,
            has_quizzes=bool(project.quizzes),
            has_campaigns=bool(project.campaigns),
        ),
        encoding="utf-8",
    )
    # Generating the pages is cheap; MkDocs is not. The generated sources are the
    # whole input of the MkDocs run, so their digest is the cache key of the site.
    key = fingerprint(
        "site",
        SITE_RENDERER_VERSION,
        tree_digest(src_dir, hide=str(ctx.work_dir)),
        source_date(project),
        {name: importlib.metadata.version(name) for name in ("mkdocs", "mkdocs-material", "jieba")},
    )
    cached = ctx.reuse(key)
    if cached is not None:
        yield from cached
        return
    warnings_before = len(ctx.diagnostics.items)
    run_mkdocs(mkdocs_yml, source_date(project), ctx)
    add_search_subwords(out_dir / "search" / "search_index.json")

    artifacts = []
    for file in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        rel = file.relative_to(out_dir).as_posix()
        page = pages.get(rel)
        artifacts.append(
            Artifact(
                kind="site",
                path=f"site/{rel}",
                source=page.source if page else "site_config.yml",
                audiences=tuple(term.label for term in page.audiences) if page else (),
                file=file,
            )
        )
    ctx.keep(key, artifacts, ctx.diagnostics.items[warnings_before:])
    yield from artifacts


def tree_digest(folder: Path, hide: str) -> str:
    """Digest of every file under ``folder`` (names and bytes), with the build's temporary path masked."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes().replace(hide.encode(), b"<work>") + b"\0")
    return digest.hexdigest()


def write_pages(project: Project, docs_dir: Path) -> dict[str, Lesson | Quiz | Campaign]:
    """Write every generated Markdown page; return built page path → its lesson."""
    env = make_environment(project)
    env.filters["mdtext"] = markdown_text
    env.filters["md"] = markdown_html
    config = project.config

    def write(rel: str, template: str, **context: object) -> None:
        dest = docs_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        text = env.get_template(f"site/pages/{template}").render(project=project, **context)
        dest.write_text(text, encoding="utf-8")

    audiences = grouped(project, config.audiences.terms)
    topics = grouped(project, config.topics.terms)
    recent = sorted(
        project.lessons, key=lambda lesson: (lesson.reviewed_on or dt.date.min, lesson.slug), reverse=True
    )[:12]
    write("index.md", "home.md.j2", audiences=audiences, topics=topics, recent=recent)
    for folder, heading, kind, groups in (
        ("audiences", "按人群浏览", "人群", audiences),
        ("topics", "按主题浏览", "主题", topics),
    ):
        write(f"{folder}/index.md", "terms.md.j2", heading=heading, groups=groups)
        for term, lessons in groups:
            write(
                f"{folder}/{term.id}.md",
                "term.md.j2",
                term=term,
                kind=kind,
                lessons=lessons,
                quizzes=[q for q in project.quizzes if term in q.audiences or term in q.topics],
                campaigns=[c for c in project.campaigns if term in c.audiences],
            )

    write("dashboard.md", "dashboard.md.j2", dashboard=editor_dashboard(project))  # editors only, unlinked
    pages: dict[str, Lesson | Quiz | Campaign] = {}
    for lesson in project.lessons:
        write(f"lessons/{lesson.slug}.md", "lesson.md.j2", lesson=lesson, body=site_body(lesson))
        pages[f"{lesson.site_path}index.html"] = lesson
    if project.quizzes:
        write("quizzes/index.md", "listing.md.j2", heading="测验", quizzes=project.quizzes)
    for quiz in project.quizzes:
        write(f"quizzes/{quiz.slug}.md", "quiz.md.j2", quiz=quiz, kind_labels=KIND_LABELS)
        pages[f"{quiz.site_path}index.html"] = quiz
    if project.campaigns:
        write("campaigns/index.md", "listing.md.j2", heading="宣传活动", campaigns=project.campaigns)
    for campaign in project.campaigns:
        write(f"campaigns/{campaign.slug}.md", "campaign.md.j2", campaign=campaign)
        pages[f"{campaign.site_path}index.html"] = campaign
    return pages


def grouped(project: Project, terms: tuple[Term, ...]) -> list[tuple[Term, list[Lesson]]]:
    return [(term, project.lessons_for(term)) for term in terms]


def site_body(lesson: Lesson) -> str:
    """The lesson body with image paths pointing at the copies under the site root."""
    new_paths = {ref.written: f"../{ref.path}" for ref in lesson.images}

    def swap(match: re.Match[str]) -> str:
        written = match.group(1)
        start, end = match.span(1)
        relative = start - match.start(), end - match.start()
        whole = match.group(0)
        return whole[: relative[0]] + new_paths.get(written, written) + whole[relative[1] :]

    return IMAGE_HTML.sub(swap, IMAGE_MARKDOWN.sub(swap, lesson.body))


def copy_media(project: Project, docs_dir: Path) -> None:
    paths = {ref.path for lesson in project.lessons for ref in lesson.images}
    paths.update(lesson.cover for lesson in project.lessons if lesson.cover)
    if project.config.logo:
        paths.add(project.config.logo)
    for rel in sorted(paths):
        dest = docs_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project.root / rel, dest)


def source_date(project: Project) -> int:
    """A fixed build date (the newest review), so sitemaps carry no wall-clock time."""
    newest = max((lesson.reviewed_on for lesson in project.lessons if lesson.reviewed_on), default=None)
    day = newest or dt.date(2020, 1, 1)
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


class _CollectWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous


def run_mkdocs(mkdocs_yml: Path, epoch: int, ctx: RenderContext) -> None:
    jieba.setLogLevel(logging.WARNING)
    logger = logging.getLogger("mkdocs")
    collector = _CollectWarnings()
    logger.addHandler(collector)
    propagate, logger.propagate = logger.propagate, False
    try:
        with _environment("SOURCE_DATE_EPOCH", str(epoch)):
            config = load_mkdocs_config(str(mkdocs_yml))
            config.plugins.on_startup(command="build", dirty=False)
            try:
                mkdocs_build(config)
            finally:
                config.plugins.on_shutdown()
    finally:
        logger.removeHandler(collector)
        logger.propagate = propagate
    for message in collector.messages:
        # "Doc file 'lessons/x.md' contains a link …" — point at the editor's file, not the generated one.
        match = re.match(r"Doc file '((?:lessons|quizzes|campaigns)/[^']+)'", message)
        path = f"content/{match.group(1)}" if match else "site"
        ctx.diagnostics.warning(path, 0, f"MkDocs：{message}")
