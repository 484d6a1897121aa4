"""One page of the site: the page templates' environment and filters, lesson bodies, late parts.

The editors' dashboard and the share panels' QR codes are the slow parts of
the pages Kepu writes; they may be made in a second process while MkDocs builds
the rest, and :class:`LateContent` fills them in as MkDocs reaches them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import html
import json
import re
import secrets
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from jinja2 import Environment
from markupsafe import Markup
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils.meta import get_data as get_markdown_meta

from builder.cache import fingerprint, templates_digest
from builder.content import IMAGE_HTML, IMAGE_MARKDOWN
from builder.dashboard import editor_dashboard
from builder.markup import markdown_to_html
from builder.model import Campaign, Lesson, Project, Quiz
from builder.prose import Readings
from builder.qr import qr_svg
from builder.site.guard import SHARE_QR_MARK, chrome_region, clean_chrome, clean_content
from builder.site.images import PhoneImage
from builder.templates import default_templates_dir, make_environment

MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}#|!])")
DASHBOARD_PAGE = "dashboard.md"


def markdown_text(value: object) -> Markup:
    """Plain text made safe to place inside generated Markdown (shown as typed, tags and all)."""
    return Markup(MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(value), quote=False)))


def markdown_source(value: object) -> Markup:
    """An editor's Markdown put into a page as Markdown, unescaped.

    Only for the page's content regions: what MkDocs renders from it is cleaned
    with the content allowlist by :class:`~builder.site.guard.PageGuard`.
    """
    return Markup(str(value))


def markdown_html(text: str) -> Markup:
    """Markdown rendered to HTML and cleaned, for content placed inside generated HTML blocks.

    These fragments (quiz question details and explanations) sit inside Kepu's
    own markup, so they are cleaned here, before they get there.
    """
    return Markup(clean_content(markdown_to_html(text))) if text else Markup("")


def page_environment(project: Project, nonce: str | None = None) -> Environment:
    """The page templates' environment: autoescaped, so a value a template forgets to filter is text.

    ``{% call chrome() %}`` marks Kepu's own markup (forms, buttons, data
    attributes) with ``nonce``; everything else on a page is content to MkDocs
    and :class:`~builder.site.guard.PageGuard`.
    """
    env = make_environment(project, autoescape=True)
    env.filters["mdtext"] = markdown_text
    env.filters["md"] = markdown_html
    env.filters["markdown_source"] = markdown_source
    mark = nonce or secrets.token_hex(16)
    env.globals["chrome"] = lambda caller: chrome_region(mark, caller())
    # Where the dashboard's long parts go (dashboard_page): a paragraph of its own.
    env.globals["block"] = lambda name: Markup(f"\n\n{dashboard_marker(mark, name)}\n\n")
    env.globals["kepu_mark"] = mark
    return env


def dashboard_marker(mark: str, name: str) -> str:
    return f"kepu-dashboard-{mark}-{name}"


def site_body(lesson: Lesson, images: dict[str, PhoneImage]) -> str:
    """The lesson body with image paths pointing at the copies under the site root.

    Phone-sized copies also get their width and height (no layout shift while
    they load) and load lazily; a PNG becomes a ``<picture>`` whose WebP is what
    browsers load, with the PNG kept for the few that lack WebP.
    """
    refs = {ref.written: ref.path for ref in lesson.images}

    def swap(match: re.Match[str]) -> str:
        written = match.group(1)
        whole = match.group(0)
        rest = match.string[match.end() :]
        image = images.get(refs.get(written, ""))
        if whole.startswith("!["):  # Markdown: MkDocs makes the path relative to the built page
            path = f"../{image.path if image else refs.get(written)}" if written in refs else written
        else:  # raw HTML is not rewritten by MkDocs: relative to lessons/<slug>/ as built
            path = f"../../{image.path if image else refs.get(written)}" if written in refs else written
        start, end = match.start(1) - match.start(), match.end(1) - match.start()
        replaced = whole[:start] + path + whole[end:]
        if image is None:
            return replaced
        attributes = f'width="{image.width}" height="{image.height}" loading="lazy" decoding="async"'
        if not whole.startswith("!["):
            tag = whole + rest[: max(rest.find(">"), 0)]
            if re.search(r"\swidth\s*=", tag, re.IGNORECASE):
                return replaced
            return f"<img {attributes}{replaced[len('<img') :]}"
        if rest.startswith("{"):  # the editor's own attribute list
            return replaced
        if image.webp is None:
            return f"{replaced}{{ {attributes} }}"
        alt = re.match(r"!\[([^\]]*)\]", whole)
        title = re.search(r'\s"([^"]*)"\s*\)$', whole)
        alt_text = re.sub(r"\\(.)", r"\1", alt.group(1)) if alt else ""
        title_attr = f' title="{html.escape(title.group(1))}"' if title else ""
        return (
            f'<picture><source srcset="../../{image.webp}" type="image/webp">'
            f'<img src="../../{image.path}" alt="{html.escape(alt_text)}"{title_attr} {attributes}></picture>'
        )

    return IMAGE_HTML.sub(swap, IMAGE_MARKDOWN.sub(swap, lesson.body))


# -- pages finished in a second process -----------------------------------------


def lesson_qr(url: str) -> str:
    """An inline SVG QR code of a lesson's own address, named for screen readers."""
    svg = qr_svg(url, quiet_zone=2)
    return svg.replace("<svg ", '<svg role="img" aria-label="本课网址的二维码" ', 1)


@dataclass(frozen=True)
class DashboardPage:
    markdown: str  # the page, its long parts left as markers
    blocks: dict[str, str]  # marker (as MkDocs renders it) → the HTML that goes in its place
    readings: dict[str, list]  # the readability scores it used, for the next build (prose.Readings)
    rows: dict[str, list[str]]  # row key → a lesson's table row and findings, for the next build

    def html(self, content: str) -> str:
        """The built page's content with the long parts put in."""
        for marker, block in self.blocks.items():
            content = content.replace(marker, block, 1)
        return content

    def complete_markdown(self) -> str:
        """The whole page as Markdown, the long parts raw HTML in it (for a plain ``mkdocs build``)."""
        markdown = self.markdown
        for marker, block in self.blocks.items():
            markdown = markdown.replace(marker.removeprefix("<p>").removesuffix("</p>"), f"\n{block}\n", 1)
        return markdown


def lesson_digests(project: Project) -> dict[str, str]:
    """Lesson slug → a digest of the lesson as loaded: the site's keys are made of these, each made once."""
    return {lesson.slug: fingerprint("lesson", lesson) for lesson in project.lessons}


class PageKeys:
    """What each generated page's Markdown is made from, as one key: a page whose key is the
    last build's is not made again (builder/site/workspace.py ``kept``).

    A page is its template and its context; a lesson, quiz or campaign in the context
    stands for its digest, so a listing changes key only when a lesson it lists does.
    The rest a page sees — config, templates, media, the set of pages, the build date —
    is the workspace's structure key. That holds for Kepu's own page templates only: a
    project's own template may show anything of the project, so then there are no keys
    (:meth:`for_project` gives None).
    """

    def __init__(self, project: Project, digests: Mapping[str, str]) -> None:
        self.digests = {("lesson", slug): digest for slug, digest in digests.items()}
        self.digests.update({("quiz", quiz.slug): fingerprint("quiz", quiz) for quiz in project.quizzes})
        self.digests.update(
            {("campaign", campaign.slug): fingerprint("campaign", campaign) for campaign in project.campaigns}
        )

    @classmethod
    def for_project(cls, project: Project, digests: Mapping[str, str]) -> PageKeys | None:
        own = project.root / "templates" / "site" / "pages"
        if own.is_dir() and own.resolve() != (default_templates_dir() / "site" / "pages").resolve():
            return None
        return cls(project, digests)

    def key(self, template: str, context: Mapping[str, object]) -> str:
        basis = json.dumps([template, self._plain(dict(context))], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()

    def _plain(self, value: object) -> object:
        if isinstance(value, Lesson | Quiz | Campaign):
            kind = type(value).__name__.lower()
            return [kind, self.digests[(kind, value.slug)]]
        if isinstance(value, str | int | float | bool) or value is None:
            return value
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, Mapping):
            return {str(key): self._plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._plain(item) for item in value]
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return [type(value).__name__] + [
                self._plain(getattr(value, f.name)) for f in dataclasses.fields(value)
            ]
        raise TypeError(f"no page key for {type(value).__name__}")


def dashboard_row_keys(project: Project, digests: Mapping[str, str] | None = None) -> dict[str, str]:
    """Lesson slug → the key of its dashboard row: all that its analysis and its two HTML parts read."""
    shared = fingerprint(
        "dashboard-row", project.config, project.sources, templates_digest(project.root, "site")
    )
    digests = digests if digests is not None else lesson_digests(project)
    return {
        slug: hashlib.sha256(f"{shared}:{digest}".encode()).hexdigest() for slug, digest in digests.items()
    }


def dashboard_page(
    project: Project,
    nonce: str | None = None,
    readings: Mapping[str, object] | None = None,
    kept_rows: Mapping[str, list[str]] | None = None,
    row_keys: Mapping[str, str] | None = None,
) -> DashboardPage:
    """The editors' dashboard page: the quality analysis of every lesson.

    ``readings`` are scores from earlier builds and ``kept_rows`` the rows they
    made, by :func:`dashboard_row_keys`: a lesson whose row is kept is not analysed
    again. The page says which of both it used.
    """
    env = page_environment(project, nonce)
    parts = env.get_template("site/pages/dashboard-blocks.html.j2").module
    keys = row_keys if row_keys is not None else dashboard_row_keys(project)
    wanted = set(keys.values())
    kept = {key: row for key, row in (kept_rows or {}).items() if key in wanted}
    known = Readings(readings)
    fresh = [lesson for lesson in project.lessons if keys[lesson.slug] not in kept]
    dashboard = editor_dashboard(project, known, fresh)
    rows = {**kept}
    for row in dashboard.rows:
        rows[keys[row.lesson.slug]] = [str(parts.lesson_row(row)), str(parts.lesson_findings(row))]
    ordered = [
        rows[keys[lesson.slug]] for lesson in sorted(project.lessons, key=lambda lesson: lesson.source)
    ]
    html = {
        "lessons": str(parts.lessons_table(Markup("".join(row for row, _ in ordered)))),
        "findings": "".join(findings for _, findings in ordered)
        + str(parts.quiz_findings(dashboard.quiz_findings)),
        **{
            f"level-{index}": str(parts.coverage_table(coverage))
            for index, coverage in enumerate(dashboard.levels, start=1)
        },
    }
    markdown = env.get_template(f"site/pages/{DASHBOARD_PAGE}.j2").render(
        project=project, dashboard=dashboard
    )
    # Kepu's own markup, every value autoescaped; cleaned all the same, as every page is (guard.py).
    mark = env.globals["kepu_mark"]
    blocks = {
        f"<p>{dashboard_marker(mark, name)}</p>": clean_chrome(block, mark) for name, block in html.items()
    }
    # Scores of the lessons not analysed again are kept too: a later change of template needs them.
    used = {**readings, **known.used} if kept and readings else known.used
    return DashboardPage(markdown, blocks, dict(used), rows)


def share_qr_codes(urls: dict[str, str]) -> dict[str, str]:
    """Lesson slug → the QR code of its address for the share panel."""
    return {slug: lesson_qr(url) for slug, url in urls.items()}


class LateContent(BasePlugin):
    """A MkDocs plugin that fills in what the background process made, as MkDocs reaches it.

    MkDocs reads every page first, then builds each. The dashboard is moved to
    the end of the file list, so it is read last and the analysis has as long
    as possible to finish. A share panel's QR code goes into the built page; a
    page built before the codes were ready is finished in ``fill_pending``.
    Either way every page gets the same bytes.
    """

    def __init__(self, dashboard: Future[DashboardPage], qr_codes: Future[dict[str, str]]) -> None:
        self.dashboard = dashboard
        self.qr_codes = qr_codes
        self.pending: list[tuple[Path, str]] = []

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        dashboard = files.get_file_from_path(DASHBOARD_PAGE)
        if dashboard is not None:
            files.remove(dashboard)
            files.append(dashboard)
        return files

    def on_page_markdown(self, markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        if page.file.src_uri != DASHBOARD_PAGE:
            return markdown
        body, _ = get_markdown_meta(self.dashboard.result().markdown)
        return body

    def on_page_content(self, html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        # After PageGuard (registered before this plugin); the blocks are cleaned where they are made.
        if page.file.src_uri != DASHBOARD_PAGE:
            return html
        return self.dashboard.result().html(html)

    def on_post_page(self, output: str, page: Page, config: MkDocsConfig) -> str:
        if SHARE_QR_MARK not in output:
            return output
        slug = PurePosixPath(page.file.src_uri).stem
        if self.qr_codes.done():
            return output.replace(SHARE_QR_MARK, self.qr_codes.result().get(slug, ""), 1)
        self.pending.append((Path(page.file.abs_dest_path), slug))
        return output

    def fill_pending(self) -> None:
        """Put the QR codes into the pages MkDocs built before they were ready."""
        if not self.pending:
            return
        codes = self.qr_codes.result()
        for path, slug in self.pending:
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace(SHARE_QR_MARK, codes.get(slug, ""), 1), encoding="utf-8")
