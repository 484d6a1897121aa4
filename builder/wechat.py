"""Article HTML that survives the WeChat official-account editor.

What the best Markdown→WeChat editors (doocs/md, mdnice) learned the hard way:
the editor and the draft API drop ``<style>``, ``<script>``, classes and ids, and
rewrite lists; links to hosts other than mp.weixin.qq.com are not clickable in a
published article. So every style is written inline, external links become their
text plus a numbered reference, list items are flattened to one level with literal
bullets, and tables sit in a horizontally scrollable ``<section>``.

The styles themselves come from a template (``posts/styles.css.j2``) in a tiny CSS
subset — one simple selector per rule, no cascade — so a project can restyle its
posts file by file like every other output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import nh3
from lxml import etree
from lxml import html as lxml_html

from builder.sanitize import clean_html, is_local_reference
from builder.wechat_css import Styles, clean_style, join_styles

WECHAT_HOST = "mp.weixin.qq.com"
# Elements the draft API strips or that do nothing in an article; removed with their content.
FORBIDDEN_ELEMENTS = (
    "script",
    "style",
    "link",
    "iframe",
    "object",
    "embed",
    "form",
    "meta",
    "noscript",
    "button",
)
# Attributes kept per element; everything else (class, id, data-*, title, …) is dropped.
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "style"}),
    "img": frozenset({"src", "alt", "style"}),
    "td": frozenset({"colspan", "rowspan", "style"}),
    "th": frozenset({"colspan", "rowspan", "style"}),
}
DEFAULT_ALLOWED = frozenset({"style"})
# What the article may contain once it is finished: the transform's own output, checked
# again by an HTML5 parser (nh3) so a browser or the WeChat editor reads what Kepu wrote.
WECHAT_TAGS = frozenset(
    {
        "section", "p", "span", "strong", "b", "em", "i", "u", "s", "del", "ins", "mark", "sup", "sub",
        "small", "code", "pre", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li",
        "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "figure", "figcaption", "img",
        "blockquote", "a", "q", "cite", "kbd", "samp", "var", "time",
    }
)  # fmt: skip
WECHAT_DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math",
        "textarea", "xmp", "noembed", "noframes", "title",
    }
)  # fmt: skip
# Markdown's own markup the transform reads (footnote and admonition classes, task
# boxes, link titles): let through the first sanitising pass, removed by the transform.
# Inline styles pass too: every declaration is then held to clean_style's allowlist.
MARKDOWN_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"class", "id", "style"},
    "a": {"title"},
    "input": {"type", "checked", "disabled"},
}
BULLETS = ("•", "◦", "▪")
BLOCK_TAGS = frozenset(
    {"p", "div", "section", "blockquote", "pre", "table", "figure", "h1", "h2", "h3", "h4"}
)

# A line break in the Markdown source between two Chinese characters is not a space:
# HTML would show one (“三次， 收缩压”), so it is removed.
CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
CJK_LINE_BREAK = re.compile(f"(?<=[{CJK}])[ \t]*\n[ \t]*(?=[{CJK}])")


@dataclass(frozen=True)
class Reference:
    """An external link, shown as text plus ``[n]`` and listed at the end of the post."""

    number: int
    text: str
    url: str


@dataclass
class WechatBody:
    html: str
    references: list[Reference] = field(default_factory=list)
    image_sources: list[str] = field(default_factory=list)  # ``src`` values as written in the output
    dropped_images: list[str] = field(default_factory=list)  # images WeChat would filter out


def is_wechat_link(href: str) -> bool:
    parts = urlsplit(href)
    return parts.scheme in ("http", "https") and (parts.hostname or "").lower() == WECHAT_HOST


# -- tree helpers ------------------------------------------------------------------


def _append_text(parent: etree._Element, text: str | None) -> None:
    """Append text at the end of ``parent``'s content."""
    if not text:
        return
    if len(parent):
        last = parent[-1]
        last.tail = (last.tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _remove(element: etree._Element, keep_tail: bool = True) -> None:
    parent = element.getparent()
    if parent is None:
        return
    if keep_tail and element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _unwrap(element: etree._Element) -> None:
    """Replace ``element`` by its content (text and children)."""
    parent = element.getparent()
    if parent is None:
        return
    index = parent.index(element)
    previous = element.getprevious()
    if element.text:
        if previous is not None:
            previous.tail = (previous.tail or "") + element.text
        else:
            parent.text = (parent.text or "") + element.text
    children = list(element)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    last = children[-1] if children else element.getprevious()
    if element.tail:
        if last is not None and last is not element:
            last.tail = (last.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _make(tag: str, role: str | None = None, text: str | None = None) -> etree._Element:
    element = lxml_html.Element(tag)
    if role:
        element.set("data-role", role)
    if text:
        element.text = text
    return element


def _replace(old: etree._Element, new: etree._Element) -> None:
    new.tail = old.tail
    old.tail = None
    parent = old.getparent()
    if parent is not None:
        parent.replace(old, new)


def _classes(element: etree._Element) -> set[str]:
    return set((element.get("class") or "").split())


# -- the transform -----------------------------------------------------------------


def wechat_body(
    fragment: str,
    styles: Styles,
    image_src: Callable[[str], str | None] = lambda src: src,
) -> WechatBody:
    """Turn Markdown's HTML output into WeChat-safe article HTML.

    ``image_src`` maps an ``<img src>`` as written to the path used in the output,
    or ``None`` when the image cannot be shown (WeChat drops external images).
    The fragment passes the raw-HTML policy first (:mod:`builder.sanitize`): the
    transform then only ever sees markup an HTML5 parser agrees on.
    """
    result = WechatBody(html="")
    fragment, outside = _mark_outside_images(fragment or "")
    fragment = clean_html(fragment, tags={"input"}, attributes=MARKDOWN_ATTRIBUTES)
    root = lxml_html.fragment_fromstring(fragment, create_parent="section")
    root.set("data-role", "body")
    _join_chinese_lines(root)
    _tasklists(root)
    _drop_forbidden(root)
    _footnotes(root)
    _admonitions(root)
    result.references = _links_to_references(root)
    _images(root, image_src, result, outside)
    _lists(root)
    _tables(root)
    _code(root)
    _definitions(root)
    for element in root.iter("blockquote"):
        for paragraph in element.iter("p"):
            paragraph.set("data-role", "blockquote_p")
    _apply_styles(root, styles)
    result.html = lxml_html.tostring(root, encoding="unicode")
    return result


OUTSIDE_IMAGE = "#kepu-outside-image-"


def _mark_outside_images(fragment: str) -> tuple[str, dict[str, str]]:
    """The fragment with each outside ``<img src>`` replaced by a local placeholder.

    The sanitiser removes such a src, and the editor's warning should still name
    the address that was written: the placeholders map back to it. (The result is
    sanitised afterwards, so this parse only reads and renames.)
    """
    if "<img" not in fragment.lower():
        return fragment, {}
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    written: dict[str, str] = {}
    for image in root.iter("img"):
        src = image.get("src")
        if src is not None and not is_local_reference(src):
            placeholder = f"{OUTSIDE_IMAGE}{len(written)}"
            image.set("src", placeholder)
            written[placeholder] = src
    if not written:
        return fragment, {}
    return (root.text or "") + "".join(
        lxml_html.tostring(child, encoding="unicode") for child in root
    ), written


def _join_chinese_lines(root: etree._Element) -> None:
    for element in root.iter():
        if element.tag != "pre" and element.text and not any(a.tag == "pre" for a in element.iterancestors()):
            element.text = CJK_LINE_BREAK.sub("", element.text)
        if element.tail and not any(a.tag == "pre" for a in element.iterancestors()):
            element.tail = CJK_LINE_BREAK.sub("", element.tail)


def _tasklists(root: etree._Element) -> None:
    for box in list(root.iter("input")):
        if (box.get("type") or "").lower() == "checkbox":
            mark = _make("span", text="☑ " if box.get("checked") is not None else "☐ ")
            _replace(box, mark)


def _drop_forbidden(root: etree._Element) -> None:
    for element in list(root.iter(*FORBIDDEN_ELEMENTS, "input", "svg", "video", "audio")):
        _remove(element)
    for comment in list(root.iter(etree.Comment)):
        _remove(comment)


def _footnotes(root: etree._Element) -> None:
    """Markdown footnotes link by anchors, which do nothing in an article: keep the numbers.

    They are marked 注1, 注2 … so they cannot be mistaken for the [n] link references.
    """
    for anchor in list(root.iter("a")):
        classes = _classes(anchor)
        if "footnote-backref" in classes:
            _remove(anchor, keep_tail=True)
        elif "footnote-ref" in classes:
            sup = anchor.getparent()
            if sup is not None and sup.tag == "sup":
                sup.text = f"注{(anchor.text or '').strip()}"
                sup.set("data-role", "sup")
                _remove(anchor)
            else:
                _unwrap(anchor)
    for block in list(root.iter("div")):
        if "footnote" not in _classes(block):
            continue
        notes = _make("section", "notes")
        notes.append(_make("p", "notes_title", "注释"))
        for number, item in enumerate(block.iter("li"), start=1):
            note = _make("p", "note", f"注{number}：")
            for paragraph_index, paragraph in enumerate(list(item.iter("p")) or [item]):
                if paragraph_index:
                    note.append(_make("br"))
                _append_text(note, (paragraph.text or "").strip())
                for child in list(paragraph):
                    note.append(child)
            notes.append(note)
        _replace(block, notes)


def _admonitions(root: etree._Element) -> None:
    for block in list(root.iter("div", "details")):
        if "admonition" in _classes(block) or block.tag == "details":
            block.tag = "section"
            block.set("data-role", "admonition")
            for title in block:
                if "admonition-title" in _classes(title) or title.tag == "summary":
                    title.tag = "p"
                    title.set("data-role", "admonition_title")


def _links_to_references(root: etree._Element) -> list[Reference]:
    numbers: dict[str, Reference] = {}
    for anchor in list(root.iter("a")):
        href = (anchor.get("href") or "").strip()
        if href and is_wechat_link(href):
            continue
        text = anchor.text_content().strip()
        scheme = urlsplit(href).scheme
        if scheme not in ("http", "https") or text == href or text.rstrip("/") == href.rstrip("/"):
            # Anchors, relative links and bare URLs: the text says it all.
            _unwrap(anchor)
            continue
        reference = numbers.get(href)
        if reference is None:
            reference = Reference(len(numbers) + 1, anchor.get("title") or text or href, href)
            numbers[href] = reference
        anchor.tag = "span"
        anchor.attrib.clear()
        anchor.set("data-role", "link")
        marker = _make("sup", "sup", f"[{reference.number}]")
        anchor.append(marker)
    return sorted(numbers.values(), key=lambda reference: reference.number)


def _images(
    root: etree._Element,
    image_src: Callable[[str], str | None],
    result: WechatBody,
    outside: dict[str, str],
) -> None:
    for image in list(root.iter("img")):
        written = image.get("src") or ""
        alt = (image.get("alt") or "").strip()
        # An image on another host (or one whose src the sanitiser removed) is never shown.
        src = image_src(written) if written and written not in outside else None
        written = outside.get(written, written) or "（外部网址）"
        if src is None:
            result.dropped_images.append(written)
            if alt:
                _replace(image, _make("span", "figcaption", f"（图：{alt}）"))
            else:
                _remove(image)
            continue
        result.image_sources.append(src)
        image.attrib.clear()
        image.set("src", src)
        image.set("alt", alt)
        parent = image.getparent()
        alone = (
            parent is not None
            and parent.tag == "p"
            and len(parent) == 1
            and not (parent.text or "").strip()
            and not (image.tail or "").strip()
        )
        if alone:
            figure = _make("figure")
            _replace(parent, figure)
            image.tail = None
            figure.append(image)
            if alt:
                figure.append(_make("figcaption", text=alt))


def _list_prefix(ordered: bool, number: int, depth: int) -> str:
    return f"{number}. " if ordered else f"{BULLETS[min(depth, len(BULLETS) - 1)]} "


def _flatten_item(item: etree._Element, prefix: str, depth: int) -> tuple[etree._Element, list]:
    """One ``<li>`` with inline content only; returns it and the nested lists it held."""
    flat = _make("li", "li" if depth == 0 else "li_nested")
    if depth:
        flat.set("data-depth", str(depth))
    bullet = _make("span", "bullet", prefix)
    flat.append(bullet)
    _append_text(flat, item.text)
    nested = []
    blocks_seen = 0
    for child in list(item):
        if child.tag in ("ul", "ol"):
            nested.append(child)
            _append_text(flat, (child.tail or "").strip() or None)
            continue
        if child.tag in BLOCK_TAGS or child.tag == "dl":
            if blocks_seen:
                flat.append(_make("br"))
            blocks_seen += 1
            if child.tag == "p":
                _append_text(flat, child.text)
                for grandchild in list(child):
                    flat.append(grandchild)
            else:
                # A quote or table inside a list item cannot survive the editor: keep its words.
                _append_text(flat, " ".join(child.text_content().split()))
            _append_text(flat, (child.tail or "").strip() or None)
        else:
            flat.append(child)
    return flat, nested


def _collect_items(list_element: etree._Element, depth: int, out: list[etree._Element]) -> None:
    ordered = list_element.tag == "ol"
    try:
        number = int(list_element.get("start") or 1)
    except ValueError:
        number = 1
    for item in list_element.iterchildren("li"):
        flat, nested = _flatten_item(item, _list_prefix(ordered, number, depth), depth)
        out.append(flat)
        number += 1
        for child in nested:
            _collect_items(child, depth + 1, out)


def _lists(root: etree._Element) -> None:
    """Flatten every list: no ``<p>`` and no list inside ``<li>``, literal bullets."""
    outermost = [
        element
        for element in root.iter("ul", "ol")
        if not any(ancestor.tag in ("ul", "ol") for ancestor in element.iterancestors())
    ]
    for list_element in outermost:
        items: list[etree._Element] = []
        _collect_items(list_element, 0, items)
        flat = _make(list_element.tag)
        for item in items:
            flat.append(item)
        _replace(list_element, flat)


def _tables(root: etree._Element) -> None:
    for table in list(root.iter("table")):
        wrapper = _make("section", "table_wrap")
        _replace(table, wrapper)
        wrapper.append(table)
        for cell in table.iter("td", "th"):
            align = (cell.attrib.pop("align", None) or "").strip().lower()
            if align in ("left", "right", "center", "justify"):
                cell.set("style", join_styles(cell.get("style") or "", f"text-align:{align}"))


def _code(root: etree._Element) -> None:
    for pre in list(root.iter("pre")):
        text = pre.text_content().rstrip("\n")
        pre.clear()
        code = _make("code", "pre_code")
        pre.append(code)
        # The editor collapses spaces and newlines inside <pre>; make them explicit.
        for index, line in enumerate(text.split("\n")):
            if index:
                code.append(_make("br"))
            stripped = line.lstrip(" ")
            _append_text(code, "\u00a0" * (len(line) - len(stripped)) + stripped)


def _definitions(root: etree._Element) -> None:
    for element in list(root.iter("dl", "dt", "dd", "div", "abbr")):
        if element.tag == "dl":
            element.tag = "section"
        elif element.tag in ("dt", "dd"):
            element.set("data-role", element.tag)
            element.tag = "p"
        elif element.tag == "abbr":
            _unwrap(element)
        elif element.tag == "div":
            element.tag = "section"


def _apply_styles(root: etree._Element, styles: Styles) -> None:
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        role = element.attrib.pop("data-role", None) or element.tag
        depth = element.attrib.pop("data-depth", None)
        style = join_styles(styles.get(role, ""), element.get("style") or "")
        if depth:
            style = join_styles(style, f"margin-left:{1.2 * int(depth):g}em")
        allowed = ALLOWED_ATTRIBUTES.get(element.tag, DEFAULT_ALLOWED)
        for name in list(element.attrib):
            if name not in allowed:
                del element.attrib[name]
        if style:
            element.set("style", style)


# -- the last line of defence ---------------------------------------------------------


def enforce_wechat_rules(article_html: str) -> str:
    """Make any article HTML (including a project's own template parts) WeChat-safe.

    Removes forbidden elements, class/id and other attributes, CSS the editor drops,
    and links to hosts other than mp.weixin.qq.com (their text is kept).
    """
    root = lxml_html.fragment_fromstring(article_html, create_parent="div")
    _drop_forbidden(root)
    for anchor in list(root.iter("a")):
        if not is_wechat_link(anchor.get("href") or ""):
            _unwrap(anchor)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        allowed = ALLOWED_ATTRIBUTES.get(element.tag, DEFAULT_ALLOWED)
        for name in list(element.attrib):
            if name not in allowed:
                del element.attrib[name]
        if "style" in element.attrib:
            style = clean_style(element.get("style") or "")
            if style:
                element.set("style", style)
            else:
                del element.attrib["style"]
    inner = (root.text or "") + "".join(lxml_html.tostring(child, encoding="unicode") for child in root)
    return final_check(inner.strip())


def _final_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "style":
        return clean_style(value) or None
    if attribute == "href":
        return value if is_wechat_link(value) else None
    if attribute == "src":
        return value if is_local_reference(value) else None
    return value


def final_check(article_html: str) -> str:
    """The article as an HTML5 parser reads it, with only WeChat's tags and attributes.

    lxml's parser (libxml2) and browsers disagree on malformed markup; serialising
    through nh3 (html5ever, a browser's parser) means the editors' desk and the
    WeChat editor see exactly the allowlisted markup, nothing a parser quirk revives.
    """
    cleaned = nh3.clean(
        article_html,
        tags=set(WECHAT_TAGS),
        clean_content_tags=set(WECHAT_DROPPED_WITH_CONTENT),
        attributes={"*": {"style"}, **{tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()}},
        attribute_filter=_final_attribute,
        url_schemes={"http", "https"},
        link_rel=None,
        strip_comments=True,
    )
    # html5ever writes a no-break space as an entity; the character is one, not six,
    # toward the draft API's 20,000.
    return cleaned.replace("&nbsp;", "\u00a0")
