"""The PDF engine every printed output shares: HTML → PDF with WeasyPrint, PDF → PNG.

The print renderer, ``kepu exam`` and any later paper output (handbooks, reports)
lay out their documents here and never call WeasyPrint themselves, so all of them
read files the same safe way and give the same bytes for the same HTML:

* documents name files by a fixed virtual origin (:data:`PROJECT_BASE`), never by
  ``file://`` URLs, and :class:`ProjectFiles` is the only thing that turns those
  URLs into bytes — project files (no hidden ones, no symlink out), Kepu's bundled
  templates and inline ``data:`` URLs; no network, no other file on the disk;
* one font configuration per process keeps the CJK font lookups warm;
* WeasyPrint's own warnings can be collected (:func:`engine_messages`) so they
  become build warnings instead of stray lines on a worker's stderr.

WeasyPrint, pypdfium2 and Pillow are imported inside the functions: a process that
never makes a PDF (``kepu check`` of the site alone) does not pay for them.
"""

from __future__ import annotations

import base64
import datetime as dt
import html as html_escape
import importlib.metadata
import io
import logging
import mimetypes
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, unquote_to_bytes, urlsplit

from builder.paths import inside
from builder.sanitize import UnsafeSvgError, clean_svg, is_allowed_link
from builder.templates import default_templates_dir

if TYPE_CHECKING:
    from PIL import Image
    from weasyprint import Document

# Documents name files by a fixed origin that never resolves (RFC 2606 .invalid), not
# by file:// URLs: WeasyPrint names embedded images by their URL, so the same project
# gives the same PDF bytes wherever it is checked out, and no absolute path reaches a
# PDF or a cache key. Only ProjectFiles turns these URLs into bytes.
VIRTUAL_ORIGIN = "https://kepu.invalid"
PROJECT_BASE = f"{VIRTUAL_ORIGIN}/project/"  # the content project's own files
KEPU_BASE = f"{VIRTUAL_ORIGIN}/kepu/"  # Kepu's bundled templates folder
PROJECT_URL = re.compile(re.escape(PROJECT_BASE) + r"([^\"')\s<>]+)")


def project_url(rel_path: str) -> str:
    """The URL a document uses for a project file (project-relative, forward slashes)."""
    return PROJECT_BASE + quote(rel_path, safe="/")


# -- reading files: the only way WeasyPrint gets bytes -----------------------------


class RefusedFile(ValueError):
    """A URL a document may not read: outside the project, hidden, or not a file."""


class ProjectFiles:
    """Serves a document's URLs: project files, Kepu's bundled templates, inline data.

    A project file is served only when its path, with every symlink followed, stays
    inside the project and no part of it is hidden (``.git``, ``.env``, the cache).
    SVG pictures pass :func:`clean_svg` first, so an ``<image href>`` inside one
    cannot name another file. Everything else — ``file://``, any host, a path
    outside — is refused; WeasyPrint then leaves the resource out and warns.
    """

    def __init__(self, root: str):
        self.folders = {PROJECT_BASE: Path(root).resolve(), KEPU_BASE: default_templates_dir().resolve()}

    def read(self, url: str) -> tuple[bytes, str]:
        """The bytes and media type behind ``url``; raises RefusedFile."""
        for base, folder in self.folders.items():
            if url.startswith(base):
                return self._read_file(folder, unquote(urlsplit(url).path[len(urlsplit(base).path) :]), url)
        raise RefusedFile(f"不允许读取项目以外的文件：{url[:120]}")

    @staticmethod
    def allows(folder: Path, rel: str) -> bool:
        """Whether ``rel`` names a file inside ``folder``, not hidden, not through a symlink out."""
        parts = rel.split("/")
        if not rel or "\x00" in rel or any(not part or part.startswith(".") for part in parts):
            return False
        path = folder.joinpath(*parts)
        return inside(folder, path) and path.resolve().is_file()

    def _read_file(self, folder: Path, rel: str, url: str) -> tuple[bytes, str]:
        if not self.allows(folder, rel):
            raise RefusedFile(f"不允许读取这个文件（在项目以外、是隐藏文件或不存在）：{url[:120]}")
        path = folder.joinpath(*rel.split("/")).resolve()
        data = path.read_bytes()
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        # Sniffed, not trusted by name: a picture that is markup is treated as an SVG.
        if mime == "image/svg+xml" or (mime != "text/css" and data.lstrip()[:1] == b"<"):
            try:
                return clean_svg(data), "image/svg+xml"
            except UnsafeSvgError as error:
                raise RefusedFile(f"{rel}：{error}") from None
        return data, mime


@cache
def project_fetcher(root: str) -> Any:
    """WeasyPrint's URL fetcher for one project: ProjectFiles plus ``data:`` URLs, no network."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    files = ProjectFiles(root)

    class ProjectFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url[:5].lower() == "data:":
                return super().fetch(url, headers)
            data, mime = files.read(url)
            return URLFetcherResponse(url, data, {"Content-Type": mime})

    return ProjectFetcher(allowed_protocols={"data"})


def linked_files(documents: Iterable[str], root: str) -> list[tuple[str, Path | None]]:
    """Every project file the documents link, for a cache key: (relative path, file or None).

    A file is given only when ProjectFiles would serve it (a cache keys a Path by its
    bytes); a refused one stays None, so the key never reads a file the PDF cannot.
    The project folder itself is left out, so a checkout anywhere has the same keys.
    """
    return project_files([unquote(rel) for html in documents for rel in PROJECT_URL.findall(html)], root)


def project_files(paths: Iterable[str], root: str) -> list[tuple[str, Path | None]]:
    """Project-relative ``paths``, once each and sorted, with the file ProjectFiles would serve
    for each (or None: refused), for a cache key; the folder itself is left out."""
    folder = Path(root)
    return [(rel, folder / rel if ProjectFiles.allows(folder, rel) else None) for rel in sorted(set(paths))]


def engine_version() -> str:
    """WeasyPrint's version: a new one may lay out the same HTML differently (part of cache keys)."""
    return importlib.metadata.version("weasyprint")


# -- what a sheet of paper cannot do ---------------------------------------------

# After the sanitiser every attribute value is double-quoted with '"' escaped (">" is
# not), so a tag is "<name" then unquoted characters other than ">" or quoted values.
# Bounded, so a page of unclosed "<a" is not scanned to its end from every one.
TAG_BODY = r'(?:[^<>"]|"[^"]{0,2000}"){0,2000}+'  # no "<": a page of "<img <img" stops at the next one
LINK = re.compile(rf"<a\b({TAG_BODY})>(.{{0,20000}}?)</a>", re.DOTALL)
HREF = re.compile(r'\shref="([^"]*)"')


def unwrap_local_links(html: str) -> str:
    """Sanitised HTML with links to pages or files replaced by their text.

    A printed sheet cannot follow them, and in a PDF they would point at the
    documents' virtual origin. Web links (http, https, mailto, tel) and anchors stay.
    """

    def link(match: re.Match[str]) -> str:
        found = HREF.search(match.group(1))
        href = html_escape.unescape(found.group(1)) if found else ""
        if not found or href.startswith("#") or (is_allowed_link(href) and urlsplit(href).scheme):
            return match.group(0)
        return match.group(2)

    return LINK.sub(link, html)


# -- laying out and writing --------------------------------------------------------


@cache
def font_configuration() -> Any:
    """One per process: reusing it keeps the fontconfig lookups of the CJK fonts warm."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


# A document's one <style> element: Kepu's templates put all of a document's CSS there.
STYLE_ELEMENT = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def lay_out(html: str, root: str) -> Document:
    """``html`` laid out into pages; its relative URLs name files of the project at ``root``.

    A document's stylesheet is parsed once per process and handed to WeasyPrint
    ready-made: a document is laid out at several type steps (the step is set on the
    root element, not in the stylesheet), and parsing it took a fifth of each layout.
    """
    from weasyprint import HTML

    style = STYLE_ELEMENT.search(html) if html.count("<style") == 1 and "<link" not in html else None
    stylesheets = None
    # WeasyPrint ranks a ready-made sheet below the document's own (a "user" sheet; only its
    # !important rules rank higher), so it is used only where that changes nothing: the
    # element is the document's one stylesheet and marks no rule !important.
    if style is not None and "!important" not in style.group(1):
        html = html[: style.start()] + html[style.end() :]
        stylesheets = [_stylesheet(style.group(1), root)]
    return HTML(string=html, base_url=PROJECT_BASE, url_fetcher=project_fetcher(root)).render(
        stylesheets=stylesheets, font_config=font_configuration()
    )


@lru_cache(maxsize=128)
def _stylesheet(css: str, root: str) -> Any:
    from weasyprint import CSS

    return CSS(
        string=css, base_url=PROJECT_BASE, url_fetcher=project_fetcher(root), font_config=font_configuration()
    )


def write_pdf(
    document: Document,
    *,
    title: str | None = None,
    authors: list[str] | None = None,
    lang: str | None = None,
) -> bytes:
    """The laid-out document as PDF bytes; ``title``, ``authors`` and ``lang`` override the HTML's."""
    if title is not None:
        document.metadata.title = title
    if authors is not None:
        document.metadata.authors = authors
    if lang is not None:
        document.metadata.lang = lang
    return bytes(document.write_pdf())


def page_count(document: Document) -> int:
    return len(document.pages)


def anchors_after_first_page(document: Document, prefix: str) -> tuple[str, ...]:
    """Ids starting with ``prefix`` (without it) of the blocks that start after page 1, once each.

    How a one-page format names what spilled over: its templates give the blocks
    worth naming such ids.
    """
    names: list[str] = []
    for page in document.pages[1:]:
        names += [name.removeprefix(prefix) for name in page.anchors if name.startswith(prefix)]
    return tuple(dict.fromkeys(names))


@contextmanager
def engine_messages() -> Iterator[list[str]]:
    """Collect WeasyPrint's warnings (an unknown CSS property, an image that failed to load).

    They become build warnings instead of stray lines on a worker's stderr.
    """
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("weasyprint")
    handler = Collect(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


# -- PDF → pixels ------------------------------------------------------------------


def rasterise(pdf: bytes, width_px: int) -> bytes:
    """Every page of ``pdf``, trimmed of its bleed and stacked, as a PNG ``width_px`` wide."""
    import pypdfium2
    from PIL import Image

    document = pypdfium2.PdfDocument(pdf)
    try:
        images = []
        for page in document:
            left, bottom, right, top = page.get_trimbox()
            page.set_cropbox(left, bottom, right, top)
            image = page.render(scale=width_px / (right - left)).to_pil().convert("RGB")
            if image.width != width_px:  # rounding of the scale can leave it a pixel off
                image = image.resize((width_px, round(image.height * width_px / image.width)))
            images.append(image)
    finally:
        document.close()
    sheet = Image.new("RGB", (width_px, sum(image.height for image in images)), "white")
    offset = 0
    for image in images:
        sheet.paste(image, (0, offset))
        offset += image.height
    output = io.BytesIO()
    # optimize=True saves 2 % of the size for 4× the time
    sheet.save(output, format="PNG")
    return output.getvalue()


# -- the print shop's version: CMYK, bleed, crop marks, PDF/X ----------------------
#
# WeasyPrint (68–70) writes the PDF/X envelope (version keys, Trapped, ID, TrimBox and
# BleedBox) and device-cmyk() colours as DeviceCMYK, but leaves sRGB colours and
# images as RGB. So every colour and image is converted here, through the system's
# CMYK ICC profile (builder/colour.py: Ghostscript's default_cmyk.icc, ICC v2), the
# output intent embeds that profile, and the press version is PDF/X-1a:2003 (no
# transparency: the templates use none, and WeasyPrint's own is removed below).
# PDF/X-4 would keep live transparency, which nothing here needs. See docs/print.md
# for what the tests check.

PRESS_VARIANT = "pdf/x-1a"
PRESS_EPOCH = 315532800  # 1980-01-01, the date a press PDF carries when no SOURCE_DATE_EPOCH is set
# The CMYK values are for the profile the output intent embeds (builder/colour.py),
# which is no registered printing condition: PDF/X then names the condition "Custom".
PRESS_CONDITION = "Custom"
# The page's CSS bleed: room for the crop marks outside the bleed. WeasyPrint puts
# the BleedBox 10 pt (3.53 mm) outside the TrimBox whatever the CSS bleed is.
PRESS_MEDIA_BLEED_MM = 10.0
PRESS_BLEED_MM = 10 * 25.4 / 72
# WeasyPrint draws crop marks from the media edge to half the CSS bleed: 5–10 mm from
# the trim, clear of the 3.53 mm bleed. It draws them as an SVG in RGB black, stroked,
# with a fill of alpha 0; write_press_pdf turns those into the registration colour
# (all four inks, as marks are printed) and drops the alpha-0 fill, which PDF/X-1a
# forbids (and which paints nothing on a line).
MARK_OPERATORS = {b"0 0 0 RG": b"1 1 1 1 K", b"0 0 0 rg": b"1 1 1 1 k"}
INVISIBLE_STATE = re.compile(rb"^/a0(?:\.0)? gs$")
PAGE_BOX_RULE = re.compile(r"/\*kepu:page-box\*/.*?/\*kepu:end\*/", re.DOTALL)
STYLE_BLOCK = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.DOTALL | re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r'(\sstyle=")([^"]*)(")')
SVG_PAINT = re.compile(
    r'(\s(?:fill|stroke|stop-color|flood-color|lighting-color|color)=["\'])([^"\']*)(["\'])'
)
IMG_SOURCE = re.compile(
    r'(<img\b[^>]{0,2000}?\ssrc=")([^"]*)(")', re.IGNORECASE
)  # bounded: see test_fuzz_parsers
CSS_COLOUR = re.compile(
    r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b|\brgba?\(\s*([\d.]+%?)[\s,]+([\d.]+%?)[\s,]+([\d.]+%?)(?:\s*[,/]\s*[\d.]+%?)?\s*\)"
    r"|(?<![-\w])(?:white|black)(?![-\w])",
    re.IGNORECASE,
)
SVG_ROOT = re.compile(r"<svg\b([^>]*)>", re.IGNORECASE)


def _rgb_of(match: re.Match[str]) -> tuple[int, int, int]:
    text = match.group(0).lower()
    if text == "white":
        return (255, 255, 255)
    if text == "black":
        return (0, 0, 0)
    if text.startswith("#"):
        digits = text[1:] if len(text) == 7 else "".join(c * 2 for c in text[1:])
        return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)

    def channel(value: str) -> int:
        return round(float(value[:-1]) * 2.55) if value.endswith("%") else round(float(value))

    # An alpha is dropped: PDF/X-1a allows no transparency, and the templates use none.
    return channel(match.group(1)), channel(match.group(2)), channel(match.group(3))


def cmyk_css(text: str) -> str:
    """CSS (or an SVG paint value) with every sRGB colour written as device-cmyk()."""
    from builder.colour import press_device_cmyk

    return CSS_COLOUR.sub(lambda match: press_device_cmyk(_rgb_of(match)), text)


def cmyk_svg(svg: str) -> str:
    """An SVG picture with its paints in device-cmyk(), black being the default fill."""
    svg = STYLE_BLOCK.sub(lambda m: m.group(1) + cmyk_css(m.group(2)) + m.group(3), svg)
    svg = STYLE_ATTRIBUTE.sub(lambda m: m.group(1) + cmyk_css(m.group(2)) + m.group(3), svg)
    svg = SVG_PAINT.sub(lambda m: m.group(1) + cmyk_css(m.group(2)) + m.group(3), svg)

    # An element without a fill is painted black: say so in CMYK, or it comes out RGB.
    def root(match: re.Match[str]) -> str:
        attributes = match.group(1)
        for name in ("fill", "color"):
            if not re.search(rf"\s{name}=", attributes):
                attributes = f' {name}="device-cmyk(0 0 0 1)"' + attributes
        return f"<svg{attributes}>"

    return SVG_ROOT.sub(root, svg, count=1)


def cmyk_image_uri(url: str, files: ProjectFiles) -> str:
    """An image of a document as a CMYK data: URI (SVGs with CMYK paints, rasters as CMYK JPEG)."""
    import base64

    from PIL import Image

    from builder.colour import press_image

    if url[:5].lower() == "data:":
        header, _, payload = url.partition(",")
        data = base64.b64decode(payload) if header.lower().endswith(";base64") else unquote_to_bytes(payload)
        if "image/svg+xml" in header.lower():
            return "data:image/svg+xml;charset=utf-8," + quote(cmyk_svg(data.decode("utf-8")), safe="")
    else:
        data, mime = files.read(url)
        if mime == "image/svg+xml":
            return "data:image/svg+xml;charset=utf-8," + quote(cmyk_svg(data.decode("utf-8")), safe="")
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        converted = press_image(image)
    output = io.BytesIO()
    converted.save(output, format="JPEG", quality=92)  # type: ignore[attr-defined]
    return "data:image/jpeg;base64," + base64.b64encode(output.getvalue()).decode("ascii")


def press_html(html: str, root: str) -> str:
    """The print shop's version of a document: the same layout in CMYK, with bleed and crop marks.

    The templates run their backgrounds out past the trim edge already (the office
    PDF just cuts them at the page edge), so only the page box, the colours and the
    images change, and the document keeps the type step it was fitted at.
    """
    files = ProjectFiles(root)
    html = PAGE_BOX_RULE.sub(f"bleed: {PRESS_MEDIA_BLEED_MM:g}mm; marks: crop;", html, count=1)
    html = STYLE_BLOCK.sub(lambda m: m.group(1) + cmyk_css(m.group(2)) + m.group(3), html)
    html = STYLE_ATTRIBUTE.sub(lambda m: m.group(1) + cmyk_css(m.group(2)) + m.group(3), html)

    def image(match: re.Match[str]) -> str:
        url = html_escape.unescape(match.group(2))
        try:
            converted = cmyk_image_uri(url, files)
        except (RefusedFile, OSError, ValueError, UnicodeDecodeError):
            return match.group(1) + "" + match.group(3)  # left out, as the office version would
        return match.group(1) + html_escape.escape(converted) + match.group(3)

    html = IMG_SOURCE.sub(image, html)
    return html


def write_press_pdf(document: Document) -> bytes:
    """A laid-out press document as PDF/X-1a:2003 with its output intent."""
    import pydyf

    from builder.colour import press_profile, press_profile_description

    info = press_profile_description()

    def output_intent(_document: Any, pdf: Any) -> None:
        if "OutputIntents" not in pdf.catalog:
            # The profile the colours were converted for, embedded: not a registered
            # condition, so the identifier is "Custom" and the profile says it all.
            profile = pydyf.Stream([press_profile()], {"N": 4}, compress=True)
            pdf.add_object(profile)
            intent = pydyf.Dictionary(
                {
                    "Type": "/OutputIntent",
                    "S": "/GTS_PDFX",
                    "OutputConditionIdentifier": pydyf.String(PRESS_CONDITION),
                    "OutputCondition": pydyf.String(info),
                    "Info": pydyf.String(info),
                    "DestOutputProfile": profile.reference,
                }
            )
            pdf.catalog["OutputIntents"] = pydyf.Array([intent])

    def finish(document: Any, pdf: Any) -> None:
        output_intent(document, pdf)
        for item in pdf.objects:
            if isinstance(item, pydyf.Stream):
                # A transparency group in RGB on a form (WeasyPrint #2723): nothing here is
                # transparent, so it only tells the RIP to blend in RGB; PDF/X-1a wants none.
                item.extra.pop("Group", None)
                item.stream = [
                    MARK_OPERATORS.get(op, op)
                    for op in item.stream
                    if not (isinstance(op, bytes) and INVISIBLE_STATE.match(op))
                ]
            elif isinstance(item, pydyf.Dictionary) and item.get("Type") == "/Page":
                item.pop("Group", None)
            elif isinstance(item, pydyf.Dictionary) and isinstance(item.get("ExtGState"), pydyf.Dictionary):
                states = item["ExtGState"]
                for name in [name for name, state in states.items() if _invisible(state)]:
                    del states[name]

    # PDF/X needs a creation and modification date; WeasyPrint would write the clock's,
    # and the same document must give the same bytes (SOURCE_DATE_EPOCH, as reproducible builds do).
    stamp = dt.datetime.fromtimestamp(int(os.environ.get("SOURCE_DATE_EPOCH", PRESS_EPOCH)), dt.UTC)
    document.metadata.created = document.metadata.modified = stamp.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return bytes(document.write_pdf(pdf_variant=PRESS_VARIANT, finisher=finish))


def _invisible(state: Any) -> bool:
    """An ExtGState that only makes painting fully transparent (WeasyPrint's alpha-0 fill)."""
    return hasattr(state, "get") and str(state.get("ca", 1)) in ("0", "0.0") and len(state) <= 2


@lru_cache(maxsize=1)
def _data_only_fetcher() -> object:
    # A pictogram is drawn from its own markup only: no file, no network.
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"})


@lru_cache(maxsize=256)
def rasterise_svg(svg: bytes, px: int, height: int | None = None) -> Image.Image | None:
    """An SVG as an RGBA picture of ``px`` × ``height`` pixels (a square without ``height``):
    WeasyPrint lays it out, pdfium paints it.

    No SVG rasteriser is installed (no cairosvg, no resvg); WeasyPrint draws SVG into
    PDF and pypdfium2 renders PDF, both already needed for print.
    """
    import pypdfium2
    from PIL import Image
    from weasyprint import HTML

    tall = height or px
    data = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    page = (
        f"<style>@page{{size:{px}px {tall}px;margin:0}}body{{margin:0}}"
        f"img{{display:block;width:{px}px;height:{tall}px}}</style><img src='{data}'>"
    )
    try:
        pdf = HTML(string=page, url_fetcher=_data_only_fetcher()).write_pdf()
        document = pypdfium2.PdfDocument(pdf)
        image = document[0].render(scale=96 / 72, fill_color=(255, 255, 255, 0)).to_pil()
    except Exception:  # a broken file must not stop the build; the badge stands in
        return None
    image = image.convert("RGBA")
    return image if image.size == (px, tall) else image.resize((px, tall), Image.Resampling.LANCZOS)
