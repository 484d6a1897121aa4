"""What content may put on a page of the site: :class:`PageGuard` and its chrome regions.

Every page's content HTML passes an allowlist (builder/sanitize.py) after MkDocs
renders it, whatever template or content made it: a forgotten escape in a
template, a Markdown extension (attr_list's ``{: onclick=…}``) or a raw tag in a
lesson can then add no script, handler, javascript: link, frame or outside
request. Kepu's own markup needs more than content may have — the quiz form,
buttons, data attributes kepu.js reads (data-src is fetched) — so templates wrap
it in chrome regions, marked with a random nonce made for each build. A region
gets the content allowlist widened by CHROME_TAGS/CHROME_ATTRIBUTES; the rest of
the page, and any page whose marks do not pair up, gets the content allowlist
alone. Content cannot smuggle a widened tag in: it cannot know the nonce, so
its text never lies inside a region; the content-derived values templates put
inside a region are escaped text or fragments already cleaned (markdown_html).
Regions and the text between them are cleaned one by one, each made
well-formed, so an unclosed tag in a lesson cannot reach into Kepu's markup.
The marks are HTML comments, which the cleaner drops: the nonce never reaches
the built pages, so two builds of the same input give the same bytes.

Plain-text fields (titles, summaries, config strings) are escaped where they
are written: the page templates are autoescaped, and the values MkDocs and
Material print unescaped (site_name, page titles, descriptions, copyright) are
escaped by PageGuard before any template sees them.
"""

from __future__ import annotations

import re

from markupsafe import Markup
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from builder.brand import brand_palette
from builder.sanitize import GENERIC_ATTRIBUTES, clean_html

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
# Where a share panel's QR code goes (builder/site/pages.py fills it in): the one
# comment the guard keeps, and only inside a chrome region.
SHARE_QR_MARK = "<!-- kepu:share-qr -->"
SAFE_URL = re.compile(r"https?://[^\s\"'<>`\\]+")
SAFE_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
BRAND_SHADES = ("color", "dark", "tint", "soft")
DEFAULT_PALETTE = brand_palette("#1f7a4d")
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
        # The brand palette (builder/brand.py) is printed inside <style> by overrides/main.html:
        # only #RRGGBB gets there; anything else is the default palette.
        brand = config.extra.get("kepu_brand")
        if not isinstance(brand, dict) or not all(
            SAFE_COLOUR.fullmatch(str(brand.get(shade, ""))) for shade in BRAND_SHADES
        ):
            config.extra["kepu_brand"] = {shade: getattr(DEFAULT_PALETTE, shade) for shade in BRAND_SHADES}
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
