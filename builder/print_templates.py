"""The print templates' world: the Jinja environment, its filters, and HTML from content.

:mod:`builder.renderers.printing` decides *which* documents there are; this module
gives their templates (``templates/print/``) what they render with — the brand
shades, the logo and media as project URLs (never a path on this disk), Markdown
bodies through the raw-HTML policy with the images the loader resolved, question
kind badges, CSS-safe strings — and the one pass that lets the widow rule skip
what is not text.
"""

from __future__ import annotations

import html as html_escape
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import jinja2
from markupsafe import Markup

from builder import fonts, pdf
from builder.brand import brand_palette
from builder.cache import fingerprint, templates_digest
from builder.cjk import emphasise_figures, keep_clauses_together
from builder.labels import QUESTION_KIND_LABELS, QUESTION_KIND_TAGS, chinese_weekday, question_kind_label
from builder.markup import markdown_to_html
from builder.model import MediaRef, Project, QuestionKind, Quiz
from builder.paths import inside
from builder.pdf import TAG_BODY, project_url
from builder.pictograms import pictogram_data_uri
from builder.sanitize import clean_html
from builder.templates import make_environment
from builder.titles import print_title_lines, title_tokens

PDF_LANG = "zh-CN"
# How far the templates run backgrounds out past the trim edge: past the press
# version's 3.53 mm bleed, short of its crop marks (builder.pdf.PRESS_MARK_GAP_MM).
RUN_OUT_MM = 4.0


# What a pass over a document's text need not scan: image data: URIs and style sheets.
NOT_TEXT = re.compile(r'(?<=src=")data:[^"]*(?=")|(?<=<style>)[^<]*(?=</style>)')


def without_data_uris(html: str, change: Callable[[str], str]) -> str:
    """``change(html)`` with the ``data:`` URIs of images and the style sheets set aside.

    Pictograms, QR codes and CSS are long runs without a tag, which the widow rule's
    pattern scans from every character: 60 ms a document, against 2 ms without.
    """
    uris: list[str] = []

    def aside(match: re.Match[str]) -> str:
        uris.append(match.group(0))
        return f"kepu-data:{len(uris) - 1}"

    changed = change(NOT_TEXT.sub(aside, html))
    return re.sub(r"kepu-data:(\d+)", lambda match: uris[int(match.group(1))], changed)


def print_environment(project: Project) -> jinja2.Environment:
    env = make_environment(project, autoescape=True)
    config = project.config
    env.globals.update(
        lang=PDF_LANG,
        bleed_mm=max(config.print.bleed_mm, RUN_OUT_MM),
        page_bleed_mm=config.print.bleed_mm,
        crop_marks=config.print.crop_marks,
        brand=brand_palette(config.brand_color),
        logo=media_uri(project, config.logo),
        QuestionKind=QuestionKind,
    )
    env.filters["weekday"] = chinese_weekday
    # Templates name the file a text comes from (``markdown(quiz.source)``); its images
    # are the ones the loader resolved for that file.
    images: dict[str, list[MediaRef]] = {
        item.source: item.images for item in (*project.lessons, *project.quizzes, *project.campaigns)
    }
    env.filters["markdown"] = lambda text, source="": markdown_html(text, project, images.get(source, []))
    env.filters["title_size"] = title_size
    env.filters["clauses"] = keep_clauses_together
    env.filters["title_lines"] = lambda text, width_mm, size_pt, letter_spacing=0.0, max_lines=4: title_lines(
        text, width_mm, size_pt, letter_spacing, config.glossary, max_lines
    )
    env.filters["kind_label"] = question_kind_label
    # Every question gets its kind as a badge, so an editor's own "（多选）" leaves the text.
    env.filters["kind_badge"] = lambda question: QUESTION_KIND_LABELS[question.kind]
    env.filters["without_kind"] = lambda question: question.text.replace(
        QUESTION_KIND_TAGS[question.kind], ""
    )
    env.filters["css_string"] = css_string
    # Key points: figures in the brand colour, and the words between them never broken inside.
    env.filters["figures"] = lambda text: emphasise_figures(
        text, lambda piece: whole_words(piece, config.glossary)
    )
    # A pictogram name → a tinted data: URI (or None: the template shows a numbered badge).
    env.filters["pictogram"] = lambda name, colour: pictogram_data_uri(project.root, name, colour)
    return env


def title_lines(
    text: str,
    width_mm: float,
    size_pt: float,
    letter_spacing: float = 0.0,
    words: tuple[str, ...] = (),
    max_lines: int = 4,
) -> Markup:
    """A big title with its line breaks chosen here (``<br>``), not by the layout engine.

    WeasyPrint breaks Chinese between any two characters ("母乳喂养与辅/食添加");
    :func:`builder.titles.print_title_lines` breaks between words with even lines.
    A title it cannot break so (a word wider than the line) keeps its short clauses
    together and is left to the engine, which never lets it overflow.
    """
    width_pt = width_mm * 72 / 25.4
    lines = print_title_lines(text, width_pt, size_pt, letter_spacing, words, max_lines)
    if lines is None:
        return keep_clauses_together(text, width_pt / (size_pt * (1 + letter_spacing)))
    return Markup("<br>").join(lines)


WORD_HAN = re.compile(r"[\u3400-\u9fff]")


def whole_words(text: str, words: tuple[str, ...] = ()) -> Markup:
    """Plain ``text`` as HTML whose Chinese words of two to six characters are kept on one
    line (``<span class="w">``, ``white-space: nowrap``), so a key point breaks between
    words: "6个月内只吃母乳，/不用喂水", not "…只吃母/乳，不用喂水". A last word of one
    character goes with the word before it, so it is never left alone on a line.
    """
    tokens = title_tokens(text, words)
    if (
        len(tokens) > 1
        and len(tokens[-1]) == 1
        and WORD_HAN.match(tokens[-1])
        and WORD_HAN.search(tokens[-2])
    ):
        tokens[-2:] = [tokens[-2] + tokens[-1]]
    return Markup("").join(
        Markup('<span class="w">{}</span>').format(token)
        if 2 <= len(token) <= 7 and all(WORD_HAN.match(char) for char in token)
        else token
        for token in tokens
    )


def css_string(text: object) -> Markup:
    """``text`` as a quoted CSS string, for ``content:`` in a template's ``<style>``.

    HTML escaping is wrong inside ``<style>`` (it would print "&amp;"), and a quote,
    backslash, newline or "</style>" from the config must not end the string or
    the style sheet. Every such character becomes a CSS escape.
    """
    escaped = re.sub(r'[\\"\n\r\f<>&\']', lambda m: f"\\{ord(m.group(0)):x} ", str(text))
    return Markup(f'"{escaped}"')


def media_uri(project: Project, rel_path: str | None) -> str | None:
    """A project file's URL for a document, or None when it is not a file inside the project.

    The loader has checked the path already; this is checked again because a PDF
    must never show a file from outside the project whatever reached the model.
    """
    if not rel_path or Path(rel_path).is_absolute() or re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:", rel_path):
        return None
    root = project.root.resolve()
    candidate = root / rel_path
    if not inside(root, candidate) or not candidate.resolve().is_file():
        return None
    return project_url(candidate.resolve().relative_to(root).as_posix())


# Bounded like pdf.TAG_BODY, so a page of unclosed "<img" is not scanned to its end from every one.
IMG_TAG = re.compile(rf"<img\b{TAG_BODY}>")
IMG_SRC = re.compile(r'\ssrc="([^"]*)"')


def markdown_html(text: str, project: Project, images: Sequence[MediaRef]) -> Markup:
    """Markdown body → HTML (the site's Markdown) through the raw-HTML policy, images as the
    loader resolved them, for every printed document (sheets, plans, the field kit).

    ``images`` are the resolved images of the file the text comes from: an image not
    among them (the loader reported it) is left out, and so is one that is no
    longer a file inside the project. A link to another page of the site is kept
    as its text (a printed sheet cannot follow it).
    """
    html = clean_html(markdown_to_html(text))
    resolved = {ref.written: ref.path for ref in images}

    def image(match: re.Match[str]) -> str:
        tag = match.group(0)
        found = IMG_SRC.search(tag)
        written = html_escape.unescape(found.group(1)) if found else ""
        rel = resolved.get(written.strip())  # the loader keeps a path as written, stripped
        uri = media_uri(project, rel) if found and rel else None
        if found is None or uri is None:
            return ""
        return tag[: found.start(1)] + html_escape.escape(uri) + tag[found.end(1) :]

    return Markup(pdf.unwrap_local_links(IMG_TAG.sub(image, html)))


def option_letters(quiz: Quiz) -> dict[int, list[str]]:
    """Question number → the label of each option: A, B, C… (true/false options keep 对/错)."""
    return {
        question.number: [
            "" if question.kind is QuestionKind.TRUE_FALSE else chr(ord("A") + index)
            for index in range(len(question.options))
        ]
        for question in quiz.questions
    }


def title_size(title: str) -> str:
    """A CSS class by title length, so long titles take smaller type instead of more lines."""
    length = len(title)
    return "title-xl" if length > 40 else "title-l" if length > 24 else "title-m" if length > 14 else ""


def shared_inputs(project: Project, templates: str, *more: object) -> str:
    """One digest of what every printed document may draw on besides its own subject, for a
    key made from inputs: the config, the ``templates`` folder and the pictograms (a template
    may name any), the logo's bytes, the fonts that measure its lines, the engine that lays it
    out, and ``more``. These change rarely; each change renders every document again."""
    config = project.config
    root = str(project.root.resolve())
    return fingerprint(
        config,
        templates_digest(project.root, templates),
        templates_digest(project.root, "pictograms"),
        pdf.project_files([config.logo] if config.logo else [], root),
        fonts.faces_key(),
        pdf.engine_version(),
        *more,
    )


def subject_media(subject: object, root: str) -> list[tuple[str, Path | None]]:
    """The files a lesson, quiz or campaign names (its images, its cover), each as a key sees it."""
    paths = [ref.path for ref in getattr(subject, "images", [])]
    cover = getattr(subject, "cover", None)
    return pdf.project_files([*paths, cover] if cover else paths, root)

