"""The raw-HTML policy: what HTML from content may reach a page, a post or a PDF.

Content arrives through merge requests from many people, so every HTML fragment
made from it passes one allowlist (Ammonia, through ``nh3``) before it is
published. Markdown is the format; raw HTML is kept only for what editors need —
tables, ``details``, ``figure``, ``sup``/``sub``, local images. Scripts, event
handlers, frames, forms, ``<style>``, ``javascript:``/``data:`` URLs and any
address on another host are dropped. Kepu's own markup (quiz forms, share panels,
QR codes) is added by templates *around* the cleaned fragments, never through
them.

:func:`raw_html_problems` finds, line by line, what the policy will drop, so
``kepu check`` can warn editors with ``path:line`` before anything is built.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import nh3
from lxml import etree

# Tags an editor may write as raw HTML (and that Markdown itself produces).
CONTENT_TAGS = frozenset(
    {
        "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "col",
        "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
        "picture", "pre", "q", "rp", "rt", "ruby", "s", "samp", "small", "source", "span", "strong",
        "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u",
        "ul", "var", "wbr",
    }
)  # fmt: skip
# Tags whose content goes too (the text of a script is not a lesson's text).
DROPPED_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "template", "noscript"})
GENERIC_ATTRIBUTES = frozenset({"title", "lang", "dir", "class", "id", "role", "aria-label", "aria-hidden"})
CONTENT_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height", "loading", "decoding"},
    "source": {"srcset", "type", "media"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type"},
    "details": {"open"},
    "time": {"datetime"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
}
LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})  # a link is followed by a person, not fetched
# Attributes the browser (or WeasyPrint) fetches by itself: only files of this site.
FETCHED = frozenset({"src", "srcset", "poster", "data", "background", "cite", "formaction", "action"})


def is_local_reference(value: str) -> bool:
    """A relative path or fragment: no scheme, no host, no way out of the site."""
    value = value.strip()
    if not value or value.startswith(("//", "\\\\", "/\\", "\\/")):
        return False
    # Browsers ignore tabs and newlines inside a scheme ("java\tscript:").
    squashed = re.sub(r"[\x00-\x20]+", "", value)
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:", squashed):
        return False
    parts = urlsplit(squashed)
    return not (parts.scheme or parts.netloc)


def is_allowed_link(value: str) -> bool:
    squashed = re.sub(r"[\x00-\x20]+", "", value.strip())
    if is_local_reference(value):
        return True
    scheme = urlsplit(squashed).scheme.lower()
    return scheme in LINK_SCHEMES and not squashed.lower().startswith(("http:///", "https:///"))


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("src", "poster"):
        return value if is_local_reference(value) else None
    if attribute == "srcset":
        candidates = [part.strip().split()[0] for part in value.split(",") if part.strip()]
        return value if candidates and all(is_local_reference(c) for c in candidates) else None
    if attribute == "href":
        return value if is_allowed_link(value) else None
    if attribute == "cite":
        return None if not is_allowed_link(value) else value
    return value


def clean_html(
    fragment: str,
    tags: Iterable[str] = (),
    attributes: dict[str, set[str]] | None = None,
) -> str:
    """``fragment`` with everything outside the policy removed (text is kept, escaped).

    ``tags``/``attributes`` widen the allowlist for a renderer's own needs; URLs
    are checked either way: links may leave the site, fetched resources never.
    """
    allowed_attributes = {tag: set(values) for tag, values in CONTENT_ATTRIBUTES.items()}
    for tag, values in (attributes or {}).items():
        allowed_attributes.setdefault(tag, set()).update(values)
    return nh3.clean(
        fragment,
        tags=set(CONTENT_TAGS) | set(tags),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes=allowed_attributes,
        generic_attribute_prefixes={"aria-"},
        attribute_filter=_attribute_filter,
        url_schemes=set(LINK_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )


# -- finding what will be dropped, for warnings with a line -----------------------

RAW_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9:-]{0,40})([^<>]{0,2000})>?")
EVENT_ATTRIBUTE = re.compile(r"(?:^|[\s\"'/])(on[a-z]{2,30})\s*=", re.IGNORECASE)
URL_ATTRIBUTE = re.compile(
    r"(?:^|[\s\"'/])(href|srcset|poster|action|formaction|xlink:href|data)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)",
    re.IGNORECASE,
)
STYLE_URL = re.compile(r"(?:url|image-set|image|expression)\s*\(|@import|\\[0-9a-f]{1,6}", re.IGNORECASE)
ATTR_LIST = re.compile(r"\{:?[^{}\n]{0,400}\}")


@dataclass(frozen=True)
class RawHtmlProblem:
    line_offset: int  # 0-based line within the text given
    message: str


def raw_html_problems(text: str) -> list[RawHtmlProblem]:
    """What :func:`clean_html` would drop from Markdown ``text``, one entry per line and kind."""
    problems: list[RawHtmlProblem] = []
    in_fence = False
    for offset, line in enumerate(text.split("\n")):
        if re.match(r"^\s*(```|~~~)", line):
            in_fence = not in_fence
        if in_fence:
            continue
        found: list[str] = []
        for match in RAW_TAG.finditer(line):
            tag, rest = match.group(2).lower(), match.group(3)
            if tag not in CONTENT_TAGS:
                found.append(f"<{tag}> 标签")
            found.extend(_attribute_problems(rest))
        for match in ATTR_LIST.finditer(line):
            found.extend(_attribute_problems(match.group(0)))
        # Links only: an image's path is the content loader's to check (an error there).
        for match in re.finditer(r"(?<!!)\[[^\]\n]{0,300}\]\(\s{0,20}<?([^)\s>]{1,2000})", line):
            if not is_allowed_link(match.group(1)):
                found.append(f"链接 '{match.group(1)[:40]}'")
        for message in dict.fromkeys(found):
            problems.append(RawHtmlProblem(offset, message))
    return problems


def _attribute_problems(attributes: str) -> list[str]:
    # An <img src> is not listed: the content loader resolves every image and
    # reports one that is not a project file as an error of its own.
    found = [f"事件属性 {m.group(1)}" for m in EVENT_ATTRIBUTE.finditer(attributes)]
    for match in URL_ATTRIBUTE.finditer(attributes):
        name, value = match.group(1).lower(), match.group(2).strip("\"'")
        ok = is_allowed_link(value) if name == "href" else is_local_reference(value)
        if name == "srcset":
            ok = all(is_local_reference(part.strip().split()[0]) for part in value.split(",") if part.strip())
        if name in ("action", "formaction", "data", "xlink:href") or not ok:
            found.append(f"{name}='{value[:40]}'")
    if re.search(r"\bstyle\s*=", attributes, re.IGNORECASE):
        found.append("style 属性")
    return found


# -- SVG pictures from media/ ------------------------------------------------------

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
SVG_DROPPED = frozenset({"script", "foreignObject", "iframe", "embed", "object", "handler", "listener"})


class UnsafeSvgError(ValueError):
    pass


def clean_svg(data: bytes) -> bytes:
    """An SVG with its scripts, event handlers and outside references removed.

    Parsed without entities, DTDs or network access, so the file cannot pull
    anything in while it is read. Raises :class:`UnsafeSvgError` for a file that
    is not an SVG picture at all.
    """
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise UnsafeSvgError(f"不是有效的 SVG：{error.msg}") from None
    if etree.QName(root).localname != "svg":
        raise UnsafeSvgError("不是 SVG 图片（最外层不是 <svg>）")
    for element in list(root.iter()):
        if not isinstance(element.tag, str):  # processing instructions, entities
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
            continue
        name = etree.QName(element).localname
        if name in SVG_DROPPED or (name == "style" and STYLE_URL.search(element.text or "")):
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
            continue
        for attribute in list(element.attrib):
            local = etree.QName(attribute).localname.lower()
            value = element.attrib[attribute]
            if local.startswith("on"):
                del element.attrib[attribute]
            elif local == "href" and not value.strip().startswith("#"):
                # <image>, <use>, <a> pointing at a file or a host: SVGs here are self-contained.
                del element.attrib[attribute]
            elif STYLE_URL.search(value) and not re.fullmatch(r"\s*url\(\s*#[\w.-]+\s*\)\s*", value):
                del element.attrib[attribute]
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")
