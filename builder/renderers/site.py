"""The lesson site: generated Markdown pages built by MkDocs with mkdocs-material.

Navigation stays small on purpose: the nav lists only the browse pages (by
audience, by topic, quizzes, campaigns), never every lesson, so a page of a
1,000-lesson site is as light as a page of a 10-lesson one.

Content and ``site_config.yml`` come from many people's merge requests, so none
of it is trusted (see :class:`builder.site.guard.PageGuard` for how pages are
kept script-free). This module decides which pages there are and runs MkDocs;
the crafts it uses are in ``builder/site/``.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

# Imported here, not lazily: without jieba mkdocs-material's search silently
# indexes Chinese as unsplit sentences and finds nothing, so fail loudly instead.
import jieba
from markupsafe import Markup
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config as load_mkdocs_config
from mkdocs.plugins import BasePlugin

from builder.brand import brand_palette
from builder.cache import fingerprint, templates_digest
from builder.dashboard import Dashboard
from builder.labels import QUESTION_KIND_TAGS as KIND_LABELS
from builder.model import Campaign, Lesson, Project, Quiz, Term
from builder.outputs import lesson_post_path, lesson_print_path, lesson_video_path
from builder.parallel import background
from builder.prose import load_word_tables
from builder.renderers.base import RenderContext, Renderer
from builder.search_terms import fresh_jieba, prepare_search_index, user_dictionary
from builder.site.guard import SHARE_QR_MARK, PageGuard, url_path
from builder.site.home import build_date, card_images, featured
from builder.site.images import copy_media, logo_size, phone_images
from builder.site.offline import CompressedSizes, write_offline_files
from builder.site.pages import (
    DASHBOARD_PAGE,
    LateContent,
    PageKeys,
    dashboard_page,
    dashboard_row_keys,
    lesson_digests,
    markdown_source,
    page_environment,
    share_qr_codes,
    site_body,
)
from builder.site.workspace import WORKSPACE, BuildRecord, BuiltPages, SiteWorkspace, claimed
from builder.templates import copy_template_tree, make_environment
from builder.writer import Artifact

SITE_RENDERER_VERSION = 7  # bump when this module's or builder/site/'s output changes for the same sources
# Below this many lessons the dashboard and QR codes take less time than
# starting a worker process: they are made in this one.
BACKGROUND_MIN_LESSONS = 100


def render(project: Project, ctx: RenderContext) -> Iterator[Artifact]:
    # The site is one unit for the cache: any content change touches listings and the
    # search index. Its key is taken from the inputs before anything is generated, so an
    # unchanged project costs a lookup, not a page generation and a MkDocs run.
    digests = lesson_digests(project)
    key = site_key(project, digests)
    cached = ctx.reuse(key)
    if cached is not None:
        yield from cached
        return
    # Inside, the workspace kept in the cache folder lets MkDocs build only the pages
    # whose Markdown changed (builder/site/workspace.py); without a cache folder it is
    # made afresh in the build's scratch space.
    structure = structure_key(project)
    if ctx.cache.folder is not None:
        # The dashboard and the search index both cut words with jieba's tables: their
        # copies in the cache folder load in a third of the time of jieba's own files.
        load_word_tables(keep_in=ctx.cache.folder)
    private = ctx.work_dir / WORKSPACE
    with claimed((ctx.cache.folder or ctx.work_dir) / WORKSPACE, private) as root:
        workspace = SiteWorkspace.open(root, structure)
        # The editors' dashboard (a quality analysis of every lesson) and the share
        # panels' QR codes are the slow parts of the pages Kepu writes. A second
        # process makes them while MkDocs builds the rest; they are filled in as
        # MkDocs reaches them (see LateContent).
        # A dirty build analyses only the lessons whose dashboard rows are not kept.
        row_keys = dashboard_row_keys(project, digests)
        to_analyse = sum(key not in workspace.dashboard_rows for key in row_keys.values())
        jobs = ctx.jobs if to_analyse >= BACKGROUND_MIN_LESSONS else 1
        warnings_before = len(ctx.diagnostics.items)
        with background(jobs) as submit:
            dashboard = submit(
                dashboard_page,
                project,
                workspace.nonce,
                workspace.readings,
                workspace.dashboard_rows,
                row_keys,
            )
            pages = write_pages(
                project,
                workspace.docs_dir,
                workspace.nonce,
                workspace.write_if_changed,
                PageKeys.for_project(project, digests),
                workspace.kept,
            )
            # Only the lesson pages MkDocs builds again need their code.
            rebuilt = [
                lesson for lesson in project.lessons if f"lessons/{lesson.slug}.md" in workspace.changed
            ]
            qr_codes = submit(
                share_qr_codes, {lesson.slug: project.config.url + lesson.site_path for lesson in rebuilt}
            )
            late = LateContent(dashboard=dashboard, qr_codes=qr_codes)
            record = build_site(project, ctx, workspace, late)
            record.readings = dashboard.result().readings
            record.dashboard_rows = dashboard.result().rows
        digests_by_file = workspace.save(structure, record, key)
        artifacts = list_artifacts(workspace.out_dir, pages, digests_by_file)
        # Most files are the last build's: the cache entry links their blobs (ArtifactCache.store).
        ctx.keep(key, artifacts, ctx.diagnostics.items[warnings_before:], like=workspace.previous_site_key)
        # Still holding the workspace: the writer copies (or links) its files, which stay.
        yield from artifacts


def build_site(
    project: Project, ctx: RenderContext, workspace: SiteWorkspace, late: LateContent
) -> BuildRecord:
    """Run MkDocs on the generated pages (only the changed ones when it can), then finish the site."""
    src_dir, docs_dir, out_dir = workspace.src_dir, workspace.docs_dir, workspace.out_dir
    copy_media(project, docs_dir, ctx.cache.folder / "site-images" if ctx.cache.folder else None)
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
            logo=url_path(project.config.logo) if project.config.logo else None,
            logo_size=logo_size(project),
            # One palette for every output (builder/brand.py): the site's dark shade is print's and the posts'.
            brand=brand_palette(project.config.brand_color),
            has_quizzes=bool(project.quizzes),
            has_campaigns=bool(project.campaigns),
        ),
        encoding="utf-8",
    )
    update = None
    if workspace.dirty:
        # The dashboard shows every lesson's analysis: its Markdown never changes, its page does.
        workspace.force_rebuild("dashboard/index.html")
        # The search pieces go to a new folder, named by their hash; the last ones are what
        # the rebuilt pages' keys are patched into.
        update = workspace.previous_search_pieces()
    with ThreadPoolExecutor() as pool:
        sizes = CompressedSizes(pool)  # after LateContent: it sees the pages as written
        built = BuiltPages()
        # The guard runs first: the other plugins and Material's search index see cleaned pages.
        plugins = {
            "kepu-guard": PageGuard(workspace.nonce),
            "kepu-late-content": late,
            "kepu-sizes": sizes,
            "kepu-built": built,
        }
        messages = run_mkdocs(mkdocs_yml, source_date(project), plugins=plugins, dirty=workspace.dirty)
        late.fill_pending()
        index_file = out_dir / "search" / "search_index.json"
        index = json.loads(index_file.read_text(encoding="utf-8"))
        order, search = workspace.merged_search_docs(built.pages, index["docs"])
        if update is not None:
            update.rebuilt = {page: search[page] for page in built.pages}
        docs = [entry for page in order for entry in search[page]]
        search_words = prepare_search_index(index_file, docs, update, ctx.cache.folder)
        workspace.drop_previous_search_pieces()
        measured = {
            path.relative_to(out_dir).as_posix(): list(size) for path, size in sizes.measured().items()
        }
        all_sizes = {**(workspace.previous.sizes if workspace.previous else {}), **measured}
        search_sizes = write_offline_files(
            out_dir,
            {out_dir / rel: (size[0], size[1]) for rel, size in all_sizes.items()},
            workspace.search_sizes,
        )
    warnings = workspace.merged_warnings(messages, built.sources)
    for source, page_messages in warnings.items():
        # "Doc file 'lessons/x.md' contains a link …" — point at the editor's file, not the generated one.
        path = f"content/{source}" if source.startswith(("lessons/", "quizzes/", "campaigns/")) else "site"
        for message in page_messages:
            ctx.diagnostics.warning(path, 0, f"MkDocs：{message}")
    return BuildRecord(order, all_sizes, warnings, search, search_words, search_sizes=search_sizes)


def list_artifacts(
    out_dir: Path, pages: dict[str, Lesson | Quiz | Campaign], digests: dict[str, str]
) -> list[Artifact]:
    """The built site as artifacts: the workspace's files, which stay (the writer copies or links them)."""
    artifacts = []
    for rel in sorted(digests):
        page = pages.get(rel)
        artifacts.append(
            Artifact(
                kind="site",
                path=f"site/{rel}",
                source=page.source if page else "site_config.yml",
                audiences=tuple(term.label for term in page.audiences) if page else (),
                file=out_dir / rel,
                sha256=digests[rel],
            )
        )
    return artifacts


def structure_key(project: Project) -> str:
    """What every page's frame is made of: all of the site's inputs but the pages' own content.

    While it stays the same, a page whose Markdown is unchanged builds to the same
    bytes as before, so MkDocs may skip it (builder/site/workspace.py). The set of
    pages is in it: a page added or removed changes links and warnings elsewhere.
    """
    return fingerprint(
        "site-structure",
        SITE_RENDERER_VERSION,
        project.config,
        templates_digest(project.root, "site"),
        [project.root / path for path in sorted(site_media(project))],
        [lesson.slug for lesson in project.lessons],
        [quiz.slug for quiz in project.quizzes],
        [campaign.slug for campaign in project.campaigns],
        source_date(project),
        tool_versions(),
    )


def site_key(project: Project, digests: dict[str, str] | None = None) -> str:
    """Everything the site is made from: content, config, site templates, media bytes, tool versions.

    ``digests`` are the lessons' (builder.site.pages.lesson_digests), if already made.
    """
    return fingerprint(
        "site",
        SITE_RENDERER_VERSION,
        digests if digests is not None else lesson_digests(project),
        project.quizzes,
        project.campaigns,
        project.config,
        templates_digest(project.root, "site"),
        [project.root / path for path in sorted(site_media(project))],
        tool_versions(),
    )


def site_media(project: Project) -> set[str]:
    media = {ref.path for lesson in project.lessons for ref in lesson.images}
    media.update(lesson.cover for lesson in project.lessons if lesson.cover)
    if project.config.logo:
        media.add(project.config.logo)
    return media


def tool_versions() -> dict[str, str]:
    return {
        name: importlib.metadata.version(name)
        for name in ("mkdocs", "mkdocs-material", "jieba", "pillow", "opencc")
    }


def write_pages(
    project: Project,
    docs_dir: Path,
    nonce: str | None = None,
    write_text: Callable[[str, str, str | None], None] | None = None,
    page_keys: PageKeys | None = None,
    kept: Callable[[str, str], bool] | None = None,
) -> dict[str, Lesson | Quiz | Campaign]:
    """Write every generated Markdown page; return built page path → its lesson.

    The dashboard is written with no rows and each share panel with a marker in
    place of its QR code: LateContent fills them in while MkDocs builds.
    ``write_text(rel, text, key)``, if given, writes a page instead (the workspace
    leaves an unchanged page untouched). A page whose key (``page_keys``) ``kept(rel, key)``
    says is already written as that key makes it is not made again.
    """
    env = page_environment(project, nonce)
    config = project.config

    def write(rel: str, template: str, **context: object) -> None:
        key = page_keys.key(template, context) if page_keys is not None else None
        if key is not None and kept is not None and kept(rel, key):
            return
        text = env.get_template(f"site/pages/{template}").render(project=project, **context)
        if write_text is not None:
            write_text(rel, text, key)
            return
        dest = docs_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")

    audiences = grouped(project, config.audiences.terms)
    topics = grouped(project, config.topics.terms)
    recent = sorted(
        project.lessons, key=lambda lesson: (lesson.reviewed_on or dt.date.min, lesson.slug), reverse=True
    )[:12]
    images = phone_images(project)
    env.globals["card_images"] = card_images(project, images)  # the lesson cards' pictures, on every page
    day = build_date(project)
    write(
        "index.md",
        "home.md.j2",
        audiences=audiences,
        topics=topics,
        recent=recent,
        featured=featured(project, day, recent),
        today=day,
    )
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

    write(DASHBOARD_PAGE, "dashboard.md.j2", dashboard=Dashboard.empty())  # editors only, unlinked
    write("offline.md", "offline.md.j2")
    pages: dict[str, Lesson | Quiz | Campaign] = {}
    for lesson in project.lessons:
        pages[f"{lesson.site_path}index.html"] = lesson
        write(
            f"lessons/{lesson.slug}.md",
            "lesson.md.j2",
            lesson=lesson,
            body=markdown_source(site_body(lesson, images)),
            qr=Markup(SHARE_QR_MARK),
            share=share_links(project, lesson),
        )
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


def outputs_url(project: Project) -> str:
    """Where the other outputs (print/, video/, posts/) are published: beside the site.

    That is ``site.url``'s parent folder — ``https://h.org/site/`` → ``https://h.org/`` — or
    ``site.url`` itself when the site is at a domain's root (then print/ and the others are
    uploaded beside the site's own folders).
    """
    return urljoin(project.config.url, "../")


def share_links(project: Project, lesson: Lesson) -> dict[str, str]:
    """A lesson's share panel: the outputs' base address and each artifact's output path."""
    return {
        "base": outputs_url(project),
        "flyer": lesson_print_path(lesson.slug, "flyer-png"),
        "video": lesson_video_path(lesson.slug),
        "text": lesson_post_path(lesson.slug, "group-text"),
    }


def grouped(project: Project, terms: tuple[Term, ...]) -> list[tuple[Term, list[Lesson]]]:
    return [(term, project.lessons_for(term)) for term in terms]


def source_date(project: Project) -> int:
    """A fixed build date (the newest review), so sitemaps carry no wall-clock time."""
    day = build_date(project)
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


STRUCTURE_ONLY_TEMPLATES = ("404.html", "sitemap.xml")


def run_mkdocs(
    mkdocs_yml: Path, epoch: int, plugins: dict[str, BasePlugin] | None = None, dirty: bool = False
) -> list[str]:
    """Build the site; MkDocs' warnings, in the order it gave them."""
    jieba.setLogLevel(logging.WARNING)
    fresh_jieba()  # Material loads the user dictionary into jieba's global tokenizer: start clean
    logger = logging.getLogger("mkdocs")
    collector = _CollectWarnings()
    logger.addHandler(collector)
    propagate, logger.propagate = logger.propagate, False
    try:
        with _environment("SOURCE_DATE_EPOCH", str(epoch)):
            config = load_mkdocs_config(str(mkdocs_yml))
            if dirty:
                # Made from the navigation, the list of pages, the config and the templates alone,
                # all of which the structure key holds: a dirty build keeps the last build's.
                config.theme.static_templates.difference_update(STRUCTURE_ONLY_TEMPLATES)
            for name, plugin in (plugins or {}).items():
                config.plugins[name] = plugin
            config.plugins.on_startup(command="build", dirty=dirty)
            try:
                mkdocs_build(config, dirty=dirty)
            finally:
                config.plugins.on_shutdown()
    finally:
        logger.removeHandler(collector)
        logger.propagate = propagate
    # MkDocs warns that a dirty build may leave navigation stale: Kepu's workspace is
    # what rules that out (the structure key), so the warning says nothing to an editor.
    return [message for message in collector.messages if not message.startswith("A 'dirty' build")]


RENDERER = Renderer(
    name="site",
    label="课程网站",
    kinds=("site",),
    render=render,
    preload=("builder.dashboard", "segno"),
)
