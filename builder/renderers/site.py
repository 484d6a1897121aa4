"""The lesson site: generated Markdown pages built by MkDocs with mkdocs-material.

Navigation stays small on purpose: the nav lists only the browse pages (by
audience, by topic, quizzes, campaigns), never every lesson, so a page of a
1,000-lesson site is as light as a page of a 10-lesson one.

Content and ``site_config.yml`` come from many people's merge requests, so none
of it is trusted (see :class:`PageGuard` for how pages are kept script-free).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import html
import importlib.metadata
import io
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# Imported here, not lazily: without jieba mkdocs-material's search silently
# indexes Chinese as unsplit sentences and finds nothing, so fail loudly instead.
import jieba
import markdown
from jinja2 import Environment
from markupsafe import Markup
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config as load_mkdocs_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils.meta import get_data as get_markdown_meta
from PIL import Image, ImageOps

from builder.cache import fingerprint, read_kept, templates_digest, write_kept
from builder.content import IMAGE_HTML, IMAGE_MARKDOWN
from builder.dashboard import Dashboard, editor_dashboard
from builder.model import Campaign, Lesson, Project, QuestionKind, Quiz, Term
from builder.parallel import background
from builder.qr import qr_svg
from builder.renderers.base import RenderContext, Renderer
from builder.sanitize import GENERIC_ATTRIBUTES, UnsafeSvgError, clean_html, clean_svg
from builder.search_terms import add_search_subwords, user_dictionary
from builder.templates import copy_template_tree, make_environment
from builder.writer import Artifact

SITE_RENDERER_VERSION = 3  # bump when this module's output changes for the same sources
KIND_LABELS = {
    QuestionKind.SINGLE: "（单选）",
    QuestionKind.MULTIPLE: "（多选）",
    QuestionKind.TRUE_FALSE: "（判断）",
}
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}#|!])")


def markdown_text(value: object) -> Markup:
    """Plain text made safe to place inside generated Markdown (shown as typed, tags and all)."""
    return Markup(MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(value), quote=False)))


def markdown_source(value: object) -> Markup:
    """An editor's Markdown put into a page as Markdown, unescaped.

    Only for the page's content regions: what MkDocs renders from it is cleaned
    with the content allowlist by :class:`PageGuard`.
    """
    return Markup(str(value))


# One converter for every call: setting one up costs more than most conversions.
_MARKDOWN = markdown.Markdown(extensions=["tables", "attr_list", "sane_lists"])


def markdown_html(text: str) -> Markup:
    """Markdown rendered to HTML and cleaned, for content placed inside generated HTML blocks.

    These fragments (quiz question details and explanations) sit inside Kepu's
    own markup, so they are cleaned here, before they get there.
    """
    return Markup(clean_content(_MARKDOWN.reset().convert(text))) if text else Markup("")


def render(project: Project, ctx: RenderContext) -> Iterator[Artifact]:
    # The site is one unit: any content change touches indexes and the search
    # index. Its key is taken from the inputs before anything is generated, so an
    # unchanged project costs a lookup, not a page generation and a MkDocs run.
    key = site_key(project)
    cached = ctx.reuse(key)
    if cached is not None:
        yield from cached
        return
    # The editors' dashboard (a quality analysis of every lesson) and the share
    # panels' QR codes are the slow parts of the pages Kepu writes. A second
    # process makes them while MkDocs builds the rest; they are filled in as
    # MkDocs reaches them (see LateContent).
    jobs = ctx.jobs if len(project.lessons) >= BACKGROUND_MIN_LESSONS else 1
    warnings_before = len(ctx.diagnostics.items)
    nonce = secrets.token_hex(16)  # marks Kepu's own markup in this build's pages; see PageGuard
    with background(jobs) as submit:
        late = LateContent(
            dashboard=submit(dashboard_page, project, nonce),
            qr_codes=submit(
                share_qr_codes,
                {lesson.slug: project.config.url + lesson.site_path for lesson in project.lessons},
            ),
        )
        artifacts = build_site(project, ctx, late, nonce)
    ctx.keep(key, artifacts, ctx.diagnostics.items[warnings_before:])
    yield from artifacts


def build_site(project: Project, ctx: RenderContext, late: LateContent, nonce: str) -> list[Artifact]:
    """Generate the pages, run MkDocs on them and list what it built."""
    src_dir = ctx.work_dir / "site-src"
    docs_dir, out_dir = src_dir / "docs", ctx.work_dir / "site-out"
    pages = write_pages(project, docs_dir, nonce)
    copy_media(project, docs_dir, ctx)
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
            has_quizzes=bool(project.quizzes),
            has_campaigns=bool(project.campaigns),
        ),
        encoding="utf-8",
    )
    with ThreadPoolExecutor() as pool:
        sizes = CompressedSizes(pool)  # after LateContent: it sees the pages as written
        # The guard runs first: the other plugins and Material's search index see cleaned pages.
        plugins = {"kepu-guard": PageGuard(nonce), "kepu-late-content": late, "kepu-sizes": sizes}
        run_mkdocs(mkdocs_yml, source_date(project), ctx, plugins=plugins)
        late.fill_pending()
        add_search_subwords(out_dir / "search" / "search_index.json")
        write_offline_files(out_dir, sizes.measured())

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
    return artifacts


def site_key(project: Project) -> str:
    """Everything the site is made from: content, config, site templates, media bytes, tool versions."""
    media = {ref.path for lesson in project.lessons for ref in lesson.images}
    media.update(lesson.cover for lesson in project.lessons if lesson.cover)
    if project.config.logo:
        media.add(project.config.logo)
    return fingerprint(
        "site",
        SITE_RENDERER_VERSION,
        project.lessons,
        project.quizzes,
        project.campaigns,
        project.config,
        templates_digest(project.root, "site"),
        [project.root / path for path in sorted(media)],
        {name: importlib.metadata.version(name) for name in ("mkdocs", "mkdocs-material", "jieba", "pillow")},
    )


def page_environment(project: Project, nonce: str | None = None) -> Environment:
    """The page templates' environment: autoescaped, so a value a template forgets to filter is text.

    ``{% call chrome() %}`` marks Kepu's own markup (forms, buttons, data
    attributes) with ``nonce``; everything else on a page is content to MkDocs
    and :class:`PageGuard`.
    """
    env = make_environment(project, autoescape=True)
    env.filters["mdtext"] = markdown_text
    env.filters["md"] = markdown_html
    env.filters["markdown_source"] = markdown_source
    mark = nonce or secrets.token_hex(16)
    env.globals["chrome"] = lambda caller: chrome_region(mark, caller())
    return env


def write_pages(
    project: Project, docs_dir: Path, nonce: str | None = None
) -> dict[str, Lesson | Quiz | Campaign]:
    """Write every generated Markdown page; return built page path → its lesson.

    The dashboard is written with no rows and each share panel with a marker in
    place of its QR code: LateContent fills them in while MkDocs builds.
    """
    env = page_environment(project, nonce)
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

    write(DASHBOARD_PAGE, "dashboard.md.j2", dashboard=Dashboard.empty())  # editors only, unlinked
    write("offline.md", "offline.md.j2")
    images = phone_images(project)
    pages: dict[str, Lesson | Quiz | Campaign] = {}
    for lesson in project.lessons:
        write(
            f"lessons/{lesson.slug}.md",
            "lesson.md.j2",
            lesson=lesson,
            body=markdown_source(site_body(lesson, images)),
            qr=Markup(SHARE_QR_MARK),
        )
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


def site_body(lesson: Lesson, images: dict[str, PhoneImage] | None = None) -> str:
    """The lesson body with image paths pointing at the copies under the site root.

    Phone-sized copies also get their width and height (no layout shift while
    they load) and load lazily; a PNG becomes a ``<picture>`` whose WebP is what
    browsers load, with the PNG kept for the few that lack WebP.
    """
    images = images or {}
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


def lesson_qr(url: str) -> str:
    """An inline SVG QR code of a lesson's own address, named for screen readers."""
    svg = qr_svg(url, quiet_zone=2)
    return svg.replace("<svg ", '<svg role="img" aria-label="本课网址的二维码" ', 1)


# -- pages finished in a second process -----------------------------------------

DASHBOARD_PAGE = "dashboard.md"
SHARE_QR_MARK = "<!-- kepu:share-qr -->"
# Below this many lessons the dashboard and QR codes take less time than
# starting a worker process: they are made in this one.
BACKGROUND_MIN_LESSONS = 100


def dashboard_page(project: Project, nonce: str | None = None) -> str:
    """The editors' dashboard page: the quality analysis of every lesson, as Markdown."""
    env = page_environment(project, nonce)
    return env.get_template(f"site/pages/{DASHBOARD_PAGE}.j2").render(
        project=project, dashboard=editor_dashboard(project)
    )


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

    def __init__(self, dashboard: Future[str], qr_codes: Future[dict[str, str]]) -> None:
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
        body, _ = get_markdown_meta(self.dashboard.result())
        return body

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


# -- what content may put on a page ----------------------------------------------
#
# Every page's content HTML passes an allowlist (builder/sanitize.py) after MkDocs
# renders it, whatever template or content made it: a forgotten escape in a
# template, a Markdown extension (attr_list's `{: onclick=…}`) or a raw tag in a
# lesson can then add no script, handler, javascript: link, frame or outside
# request. Kepu's own markup needs more than content may have — the quiz form,
# buttons, data attributes kepu.js reads (data-src is fetched) — so templates wrap
# it in chrome regions, marked with a random nonce made for each build. A region
# gets the content allowlist widened by CHROME_TAGS/CHROME_ATTRIBUTES; the rest of
# the page, and any page whose marks do not pair up, gets the content allowlist
# alone. Content cannot smuggle a widened tag in: it cannot know the nonce, so
# its text never lies inside a region; the content-derived values templates put
# inside a region are escaped text or fragments already cleaned (markdown_html).
# Regions and the text between them are cleaned one by one, each made
# well-formed, so an unclosed tag in a lesson cannot reach into Kepu's markup.
#
# Plain-text fields (titles, summaries, config strings) are escaped where they
# are written: the page templates are autoescaped, and the values MkDocs and
# Material print unescaped (site_name, page titles, descriptions, copyright) are
# escaped by PageGuard before any template sees them.

CONTENT_ATTRIBUTES = {"*": set(GENERIC_ATTRIBUTES)}  # class and id: Material's styles and the TOC anchors
CHROME_TAGS = frozenset({"form", "fieldset", "legend", "input", "label", "button", "section"})
CHROME_ATTRIBUTES: dict[str, set[str]] = {
    "*": {*GENERIC_ATTRIBUTES, "hidden", "data-search-exclude", "aria-live", "aria-pressed"},
    "form": {"data-kepu-quiz", "data-total", "novalidate"},
    "fieldset": {"data-kind", "data-answer"},
    "input": {"type", "name", "value"},
    "button": {"type"},
    "div": {"data-src"},
    "a": {"download"},
    "span": {"data-reviewed"},
}
CHROME_OPEN, CHROME_CLOSE = "<!--kepu-chrome:{}-->", "<!--/kepu-chrome:{}-->"
SAFE_URL = re.compile(r"https?://[^\s\"'<>`\\]+")
SAFE_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
UNSAFE_URL_CHARACTER = re.compile(r"[\x00-\x20\"'<>`\\&%]")


def chrome_region(nonce: str, html_block: str) -> Markup:
    """Kepu's own markup, marked for PageGuard; blank lines keep the marks raw HTML blocks of their own."""
    return Markup(f"\n{CHROME_OPEN.format(nonce)}\n\n{html_block.strip()}\n\n{CHROME_CLOSE.format(nonce)}\n")


def clean_content(fragment: str) -> str:
    return clean_html(fragment, attributes=CONTENT_ATTRIBUTES)


def clean_chrome(fragment: str, nonce: str) -> str:
    # The QR code marker is a comment, which the cleaner drops: kept only here, in Kepu's own panel.
    keep = f"kepu-share-qr-{nonce}"
    cleaned = clean_html(
        fragment.replace(SHARE_QR_MARK, keep), tags=CHROME_TAGS, attributes=CHROME_ATTRIBUTES
    )
    return cleaned.replace(keep, SHARE_QR_MARK)


def clean_page_content(page_html: str, nonce: str) -> str:
    """A page's content HTML, its chrome regions cleaned with the widened allowlist, the rest strictly."""
    opening, closing = CHROME_OPEN.format(nonce), CHROME_CLOSE.format(nonce)
    parts = re.split(f"({re.escape(opening)}|{re.escape(closing)})", page_html)
    cleaned: list[str] = []
    inside = paired = False
    for part in parts:
        if part in (opening, closing):
            # Nested or stray marks: an unclosed code block in a lesson swallowed one.
            paired = (part == opening) != inside
            if not paired:
                break
            inside = part == opening
        else:
            cleaned.append(clean_chrome(part, nonce) if inside else clean_content(part))
    if inside or (len(parts) > 1 and not paired):  # Kepu's markup breaks on this page; nothing unsafe passes
        return clean_content(page_html)
    return "".join(cleaned)


def escaped(value: object) -> object:
    """A plain-text value as HTML text; Markup, so Material's own ``| e`` does not escape it twice."""
    return Markup.escape(value) if isinstance(value, str) else value


def url_path(path: str) -> str:
    """A site path with the characters that could leave an HTML attribute percent-encoded.

    For paths Material writes into attributes unescaped (the logo and favicon).
    """
    return UNSAFE_URL_CHARACTER.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), path)


class PageGuard(BasePlugin):
    """Cleans every page's content and escapes the strings MkDocs and Material print raw.

    MkDocs' theme templates are not autoescaped: Material prints ``site_name``,
    ``site_description``, ``site_author``, ``copyright``, the page title (in
    ``<title>``, the header, nav, tabs and footer) and the page description as
    they are. Each is made Markup-escaped text here, so every page (404 included)
    shows it as typed. ``copyright`` is HTML to Material; Kepu makes it from the
    organisation and contact, so it is text too.
    """

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        for key in ("site_name", "site_description", "site_author", "copyright"):
            config[key] = escaped(config[key])
        # builder/config.py refuses other addresses; this keeps a bad one out of every canonical link.
        if config.site_url and not SAFE_URL.fullmatch(config.site_url):
            config.site_url = None
        extra = config.extra
        if not SAFE_COLOUR.fullmatch(str(extra.get("kepu_brand_color", ""))):
            extra["kepu_brand_color"] = "#1f7a4d"  # printed inside <style> by overrides/main.html
        return config

    def on_page_markdown(self, markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        for key in ("title", "description"):
            if key in page.meta:
                page.meta[key] = escaped(page.meta[key])
        return markdown

    def on_page_content(self, html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        # The TOC titles are heading HTML, printed raw by Material's sidebar.
        stack = list(page.toc)
        while stack:
            item = stack.pop()
            item.title = Markup(clean_content(item.title))
            stack.extend(item.children)
        return clean_page_content(html, self.nonce)


# Phone-sized images: 720 px wide is a 360 px phone screen at 2× density.
PHONE_WIDTH = 720
LOGO_SIZE = 192  # the header shows the logo at 24–48 px; 192 px also serves as the favicon
IMAGE_VERSION = 1  # bump when the encoding below changes
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class PhoneImage:
    path: str  # project-relative path of the copy in the source's format (PNG, JPEG or WebP)
    width: int
    height: int
    webp: str | None = None  # a WebP copy next to a PNG, which is what browsers load


def phone_images(project: Project) -> dict[str, PhoneImage]:
    """Each raster lesson image → its phone-sized copies."""
    result = {}
    for rel in sorted({ref.path for lesson in project.lessons for ref in lesson.images}):
        plan = phone_image(project.root, rel)
        if plan:
            result[rel] = plan
    return result


def phone_image(root: Path, rel: str, max_width: int = PHONE_WIDTH, webp: bool = True) -> PhoneImage | None:
    """Where the phone copies of ``rel`` go and how big they are; None for files served as they are."""
    suffix = PurePosixPath(rel).suffix.lower()
    if suffix not in FORMATS:
        return None  # SVG, GIF …: copied unchanged
    try:
        with Image.open(root / rel) as image:
            if getattr(image, "is_animated", False):
                return None
            width, height = image.size
            if image.getexif().get(EXIF_ORIENTATION) in (5, 6, 7, 8):  # rotated a quarter turn
                width, height = height, width
    except (OSError, Image.DecompressionBombError):
        return None
    if width > max_width:
        width, height = max_width, max(1, round(height * max_width / width))
    alternative = None
    if webp and FORMATS[suffix] == "PNG":
        alternative = PurePosixPath(rel).with_suffix(".webp").as_posix()
        if (root / alternative).exists():  # an editor's own file of that name: do not overwrite it
            alternative = rel + ".webp"
    return PhoneImage(rel, width, height, alternative)


def encode_image(src: Path, size: tuple[int, int], fmt: str) -> bytes:
    """The image turned upright, resized and encoded small; the original bytes if that is smaller."""
    with Image.open(src) as opened:
        # Keep the editor's file only when re-encoding gains nothing and it carries
        # no EXIF block (camera data, sometimes GPS, is not for publishing).
        keep = opened.format == fmt and opened.size == size and not opened.getexif()
        image = ImageOps.exif_transpose(opened)
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    if image.size != size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if fmt == "WEBP":
        # Drawings and charts (few colours) stay sharp losslessly; photos go lossy.
        image.save(buffer, "WEBP", lossless=image.getcolors(256) is not None, quality=80, method=4)
    elif fmt == "PNG":
        image.save(buffer, "PNG", optimize=True)
    else:
        image.convert("RGB").save(buffer, "JPEG", quality=82, optimize=True, progressive=True)
    data = buffer.getvalue()
    original = src.read_bytes()
    return original if keep and len(original) <= len(data) else data


def logo_plan(project: Project) -> PhoneImage | None:
    """The logo as the site serves it: same name and format, at most LOGO_SIZE px tall and wide."""
    logo = project.config.logo
    plan = phone_image(project.root, logo, max_width=LOGO_SIZE, webp=False) if logo else None
    if logo is None or plan is None:
        return None
    width, height = plan.width, plan.height
    if height > LOGO_SIZE:
        width, height = max(1, round(width * LOGO_SIZE / height)), LOGO_SIZE
    return PhoneImage(logo, width, height)


def logo_size(project: Project) -> list[int] | None:
    plan = logo_plan(project)
    return [plan.width, plan.height] if plan else None


def copy_media(project: Project, docs_dir: Path, ctx: RenderContext | None = None) -> None:
    """Copy the media the site shows: lesson images at phone size, the logo small, the rest as is.

    Encoded images are kept next to the build cache (``<cache>/site-images/``, by
    source bytes and size), so an unchanged image is not encoded again; they are
    not artifacts of their own, so the cache's counts of rendered and reused
    artifacts stay those of the output.
    """
    plans = phone_images(project)
    logo, small_logo = project.config.logo, logo_plan(project)
    if logo and small_logo:
        plans[logo] = small_logo
    paths = {ref.path for lesson in project.lessons for ref in lesson.images}
    paths.update(lesson.cover for lesson in project.lessons if lesson.cover)
    if logo:
        paths.add(logo)
    cache_dir = ctx.cache.folder / "site-images" if ctx and ctx.cache.folder else None
    used = set()
    for rel in sorted(paths):
        plan = plans.get(rel)
        if plan is None:
            (docs_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            if PurePosixPath(rel).suffix.lower() == ".svg":
                # An SVG opened on its own is a page: its scripts would run on the site's origin.
                with contextlib.suppress(UnsafeSvgError):  # not a picture: the loader has reported it
                    (docs_dir / rel).write_bytes(clean_svg((project.root / rel).read_bytes()))
                continue
            shutil.copy2(project.root / rel, docs_dir / rel)
            continue
        size = (plan.width, plan.height)
        copies = [(plan.path, FORMATS[PurePosixPath(rel).suffix.lower()])]
        if plan.webp:
            copies.append((plan.webp, "WEBP"))
        for path, fmt in copies:
            dest = docs_dir / path
            dest.parent.mkdir(parents=True, exist_ok=True)
            key = fingerprint("site-image", IMAGE_VERSION, project.root / rel, size, fmt)
            kept = cache_dir / f"{key}.{fmt.lower()}" if cache_dir else None
            used.add(f"{key}.{fmt.lower()}")
            # Kept images carry their sha256: a damaged one is encoded again, never published.
            data = read_kept(kept) if kept else None
            if data is None:
                data = encode_image(project.root / rel, size, fmt)
                if kept:
                    write_kept(kept, data)
            dest.write_bytes(data)
    if cache_dir and cache_dir.is_dir():
        for old in cache_dir.iterdir():
            if old.name not in used and not old.name.startswith("."):
                old.unlink(missing_ok=True)


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


def run_mkdocs(
    mkdocs_yml: Path, epoch: int, ctx: RenderContext, plugins: dict[str, BasePlugin] | None = None
) -> None:
    jieba.setLogLevel(logging.WARNING)
    logger = logging.getLogger("mkdocs")
    collector = _CollectWarnings()
    logger.addHandler(collector)
    propagate, logger.propagate = logger.propagate, False
    try:
        with _environment("SOURCE_DATE_EPOCH", str(epoch)):
            config = load_mkdocs_config(str(mkdocs_yml))
            for name, plugin in (plugins or {}).items():
                config.plugins[name] = plugin
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


# The offline reader (templates/site/assets/sw.js and kepu.js). The service worker
# must sit at the site root so that its scope is the whole site.
SERVICE_WORKER = "sw.js"
OFFLINE_FILES = "offline-files.json"
OFFLINE_PAGE = "offline/"
# The service worker saves the search index right after the first visit (so search
# works offline at once) only up to this compressed size; a larger index (about
# 3 MB for 1,000 lessons) is saved when the reader first searches, or with
# "save all", where its size is shown first.
SEARCH_WARM_LIMIT = 512 * 1024
MANIFEST_LINE = re.compile(r"^const MANIFEST = .*;$", re.MULTILINE)
LOCAL_REF = re.compile(r"<(?:link|script|img)\b[^>]{0,2000}?\s(?:href|src)=\"([^\":#?]{1,2000})\"")


class CompressedSizes(BasePlugin):
    """Each page's size and gzip size, measured in a thread as MkDocs writes it.

    zlib lets go of the GIL, so the compression runs on a free core while MkDocs
    goes on; ``write_offline_files`` then only adds up.
    """

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool
        self.sizes: dict[Path, Future[tuple[int, int]]] = {}

    def on_post_page(self, output: str, page: Page, config: MkDocsConfig) -> str:
        # MkDocs writes the page encoded just so.
        data = output.encode("utf-8", errors="xmlcharrefreplace")
        self.sizes[Path(page.file.abs_dest_path)] = self.pool.submit(sizes_of, data)
        return output

    def measured(self) -> dict[Path, tuple[int, int]]:
        return {path: future.result() for path, future in self.sizes.items()}


def sizes_of(data: bytes) -> tuple[int, int]:
    """Stored and downloaded (gzip) size."""
    return len(data), len(gzip.compress(data, 6, mtime=0))


def write_offline_files(out_dir: Path, measured: Mapping[Path, tuple[int, int]] | None = None) -> None:
    """Write sw.js (the precache list and its version) and offline-files.json ("save all").

    The shell is what every page loads (CSS, JS, logo, as the home page links
    them), the search worker and its language files: the version is a hash of
    their bytes, so a site with changed shell files gets a changed sw.js, which
    browsers install on the next visit. Both files depend only on the built
    site, so the same input gives the same bytes. ``measured`` has sizes taken
    while MkDocs wrote the pages; a page changed since then is measured again.
    """
    template = out_dir / "assets" / SERVICE_WORKER
    if not template.is_file():
        template = out_dir / SERVICE_WORKER  # run again on a built site: its own sw.js
    if not template.is_file():  # a project template set without the offline reader
        return
    home = (out_dir / "index.html").read_text(encoding="utf-8")
    shell = {local_path("", ref) for ref in LOCAL_REF.findall(home)}
    config = re.search(r'<script id="__config" type="application/json">(.*?)</script>', home, re.DOTALL)
    if config and json.loads(config.group(1)).get("search"):
        shell.add(local_path("", json.loads(config.group(1))["search"]))
        shell.update(lunr_files(out_dir))
    shell = {
        path for path in shell if path and (out_dir / path).is_file() and path != f"assets/{SERVICE_WORKER}"
    }
    version = hashlib.sha256()
    for path in sorted(shell):
        version.update(path.encode() + b"\0" + (out_dir / path).read_bytes() + b"\0")
    index = out_dir / "search" / "search_index.json"
    index_gzip = sizes_of(index.read_bytes())[1] if index.is_file() else 0
    manifest = {
        "version": version.hexdigest()[:16],
        "shell": sorted(shell),
        "pages": ["./"],
        "data": ["search/search_index.json"] if 0 < index_gzip <= SEARCH_WARM_LIMIT else [],
        "offline": OFFLINE_PAGE,
    }
    worker = MANIFEST_LINE.sub(
        lambda _: f"const MANIFEST = {json.dumps(manifest, ensure_ascii=False)};",
        template.read_text(encoding="utf-8"),
        count=1,
    )
    (out_dir / SERVICE_WORKER).write_text(worker, encoding="utf-8")
    if template != out_dir / SERVICE_WORKER:
        template.unlink()

    # "Save all": every page and image, with its size (stored) and its gzip size (downloaded).
    pages, media, download = [], {}, 0
    for file in sorted(out_dir.rglob("index.html")):
        rel = file.relative_to(out_dir).as_posix()
        url = rel.removesuffix("index.html") or "./"
        if url == OFFLINE_PAGE:
            continue
        data = file.read_bytes()
        size, gzipped = (measured or {}).get(file, (-1, 0))
        if size != len(data):
            size, gzipped = sizes_of(data)
        pages.append([url, size])
        download += gzipped
        for ref in page_images(data.decode("utf-8")):
            path = local_path(rel, ref)
            if path and path not in shell and (out_dir / path).is_file():
                media[path] = (out_dir / path).stat().st_size
    extra = []
    if index.is_file():
        extra.append(["search/search_index.json", index.stat().st_size])
        download += index_gzip
    stored = sum(size for _, size in pages) + sum(media.values()) + sum(size for _, size in extra)
    listing = {
        "lessons": sum(1 for url, _ in pages if url.startswith("lessons/")),
        "bytes": stored,
        "download_bytes": download + sum(media.values()),
        "pages": pages,
        "media": sorted([path, size] for path, size in media.items()),
        "data": extra,
    }
    (out_dir / OFFLINE_FILES).write_text(
        json.dumps(listing, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )


PICTURE = re.compile(r"<picture\b.*?</picture>", re.DOTALL)
SOURCE_SRCSET = re.compile(r"<source\b[^>]*?\ssrcset=\"([^\"\s,]+)")
IMG_SRC = re.compile(r"<img\b[^>]{0,2000}?\ssrc=\"([^\":#?]{1,2000})\"")


def page_images(text: str) -> list[str]:
    """The image files a page shows: in a <picture>, its first source (the WebP), else each <img>."""
    refs = []
    for picture in PICTURE.findall(text):
        refs.extend(SOURCE_SRCSET.findall(picture)[:1] or IMG_SRC.findall(picture))
    refs.extend(IMG_SRC.findall(PICTURE.sub("", text)))
    return [ref for ref in refs if ":" not in ref and not ref.startswith("//")]


def local_path(page: str, ref: str) -> str | None:
    """The site path a relative reference in the page at ``page`` points to; None outside the site."""
    if ref.startswith("/") or "//" in ref:
        return None
    parts: list[str] = PurePosixPath(page).parent.parts if page else []
    parts = list(parts)
    for part in ref.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts) or None


def lunr_files(out_dir: Path) -> set[str]:
    """The lunr language files the search worker loads for the configured languages."""
    index = out_dir / "search" / "search_index.json"
    if not index.is_file():
        return set()
    langs = json.loads(index.read_text(encoding="utf-8")).get("config", {}).get("lang", [])
    folder = "assets/javascripts/lunr"
    files = {f"{folder}/min/lunr.stemmer.support.min.js"}
    files.update(f"{folder}/min/lunr.{lang}.min.js" for lang in langs if lang != "en")
    if len(langs) > 1:
        files.add(f"{folder}/min/lunr.multi.min.js")
    if "ja" in langs:
        files.add(f"{folder}/tinyseg.js")
    if "th" in langs:
        files.add(f"{folder}/wordcut.js")
    return {path for path in files if (out_dir / path).is_file()}


RENDERER = Renderer(
    name="site",
    label="课程网站",
    kinds=("site",),
    render=render,
    preload=("builder.dashboard", "segno"),
)
