"""A lesson as a lecture deck: which slides, what each says, where its lines break.

The plan is made once and written twice — as an editable ``.pptx`` and as a PDF of
the same slides (:mod:`.slides`) — so both show the same words on the same lines:

* a title slide (title, summary);
* one slide per key point, with its pictogram;
* the body's ``##`` sections condensed: up to three short sentences each, the
  first sentence of a list item or paragraph that fits two lines (the whole
  section goes into the speaker notes, so nothing the lesson says is lost);
* a quiz slide when a quiz links the lesson (the answer in the notes);
* a closing slide with the QR code to the lesson online and the sources.

Projected in a meeting room, text is read from 6–8 m: every line is at least
28 pt and a slide holds at most 6 lines. Lines are broken here, by the CJK rules
(:func:`builder.cjk.wrap_balanced`, measured with the slide's own font), and
written as explicit line breaks, so PowerPoint, WPS and the PDF break alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from builder.cjk import wrap_balanced
from builder.fonts import cjk_face, load_font
from builder.model import Lesson, QuestionKind, Quiz
from builder.prose import clean

# The slide: 16:9, 13.333 × 7.5 in = 960 × 540 pt.
SLIDE_PT = (960.0, 540.0)
MARGIN_PT = 64.0
TITLE_PT = 44
BODY_PT = 32
POINT_PT = 44  # a key point stands alone beside its pictogram: larger
MIN_PT = 28
MAX_LINES = 6
TEXT_WIDTH_PT = SLIDE_PT[0] - 2 * MARGIN_PT
ICON_PT = 220.0
POINT_WIDTH_PT = TEXT_WIDTH_PT - ICON_PT - 40  # beside the pictogram
MAX_BULLETS = 3
# Headings whose sections are the lesson's sources: they go into the closing slide's notes.
SOURCE_HEADINGS = ("参考资料", "参考文献", "资料来源", "依据", "来源")
SENTENCE_END = re.compile(r"(?<=[。！？；])")
LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,2}[.、)])\s+(.*)$")


@dataclass(frozen=True)
class Block:
    """One piece of text on a slide, broken into lines."""

    lines: tuple[str, ...]
    size: int  # pt
    bold: bool = False


@dataclass(frozen=True)
class Slide:
    kind: str  # title | point | section | quiz | closing
    title: Block
    blocks: tuple[Block, ...] = ()
    icon: str | None = None  # a pictogram name
    notes: str = ""

    @property
    def line_count(self) -> int:
        return len(self.title.lines) + sum(len(block.lines) for block in self.blocks)


@dataclass
class Section:
    heading: str
    items: list[str] = field(default_factory=list)  # list items and paragraphs, plain text


@lru_cache(maxsize=64)
def measure(size: int, bold: bool = False) -> Callable[[str], float]:
    """The width in pt of a text at ``size`` pt in the slides' font (Noto Sans CJK SC).

    Remembered per text: balancing a block's lines wraps it again at a dozen widths,
    measuring the same beginnings of lines each time (four fifths of planning a deck)."""
    path, index = cjk_face("bold" if bold else "regular")
    font = load_font(path, index, size * 10)  # measured at 10× and scaled: finer rounding

    @lru_cache(maxsize=65536)
    def width(text: str) -> float:
        return font.getlength(text) / 10

    return width


def block(text: str, size: int, width: float, bold: bool = False) -> Block:
    return Block(tuple(wrap_balanced(text, width, measure(size, bold))), size, bold)


def sections_of(body: str) -> list[Section]:
    """The body's ``##`` sections as plain sentences (tables, images and code left out)."""
    sections: list[Section] = []
    current: Section | None = None
    paragraph: list[str] = []
    fenced = False

    def flush() -> None:
        if paragraph and current is not None:
            current.items.append(clean(" ".join(paragraph)))
        paragraph.clear()

    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced:
            continue
        if stripped.startswith("## "):
            flush()
            current = Section(clean(stripped[3:].strip("# ")))
            sections.append(current)
        elif not stripped or stripped.startswith(("|", "#", "!!!", "???", "<")):
            flush()
        elif (item := LIST_ITEM.match(line)) is not None:
            flush()
            if current is not None:
                current.items.append(clean(item.group(1)))
        else:
            paragraph.append(stripped.lstrip("> "))
    flush()
    return [section for section in sections if section.items]


def sentences(text: str) -> list[str]:
    return [part.strip() for part in SENTENCE_END.split(text) if part.strip()]


def condensed(section: Section, room: int) -> list[Block]:
    """Up to three bullets of at most two lines each, within ``room`` lines."""
    bullets: list[Block] = []
    used = 0
    for item in section.items:
        first = sentences(item)[:1]
        if not first:
            continue
        text = first[0].rstrip("；;")
        candidate = block("· " + text, BODY_PT, TEXT_WIDTH_PT)
        if len(candidate.lines) > 2 or used + len(candidate.lines) > room:
            continue
        bullets.append(candidate)
        used += len(candidate.lines)
        if len(bullets) == MAX_BULLETS:
            break
    return bullets


def closest_sentences(point: str, body: list[str], count: int = 2) -> list[str]:
    """The body sentences that share the most two-character pairs with a key point (speaker notes)."""

    wanted = pairs(point)
    scored = sorted(
        ((len(wanted & pairs(sentence)), index) for index, sentence in enumerate(body)), reverse=True
    )
    best = sorted(index for score, index in scored[:count] if score >= 2)
    return [body[index] for index in best]


def pairs(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def quiz_slide(quiz: Quiz, lesson: Lesson) -> Slide | None:
    """The question of ``quiz`` closest to the lesson that fits one slide (≤ 6 lines).

    A quiz often covers several lessons (噪声、粉尘和高温): the question that shares the
    most two-character pairs with the lesson's title and key points is its own.
    """
    words = pairs(lesson.title + "".join(lesson.key_points))

    def closeness(question: object) -> int:
        text = getattr(question, "text", "") + "".join(
            option.text for option in getattr(question, "options", [])
        )
        return len(words & pairs(text))

    ranked = sorted(quiz.questions, key=lambda question: (-closeness(question), question.number))
    for question in (question for question in ranked if closeness(question) >= 2):
        letters = ["" if question.kind is QuestionKind.TRUE_FALSE else f"{chr(65 + i)}. " for i in range(9)]
        # The question is the slide's title ("想一想：…"): a room reads it first.
        stem = block("想一想：" + question.text, BODY_PT, TEXT_WIDTH_PT, bold=True)
        options = [
            block(letters[i] + option.text, BODY_PT, TEXT_WIDTH_PT)
            for i, option in enumerate(question.options)
        ]
        if len(stem.lines) + sum(len(option.lines) for option in options) > MAX_LINES:
            continue
        answer = "、".join(
            (letters[i].rstrip(". ") or option.text)
            for i, option in enumerate(question.options)
            if option.correct
        )
        notes = f"答案：{answer}。" + (clean(question.explanation) if question.explanation else "")
        return Slide("quiz", stem, tuple(options), notes=notes)
    return None


def url_lines(url: str, size: int, width: float) -> list[str]:
    """A web address without its scheme, broken only after a "/" (never inside a word)."""
    pieces = [piece + "/" for piece in url.split("://", 1)[-1].rstrip("/").split("/")]
    fits = measure(size)
    lines = [pieces[0]]
    for piece in pieces[1:]:
        if fits(lines[-1] + piece) <= width:
            lines[-1] += piece
        else:
            lines.append(piece)
    return lines


def plan_deck(lesson: Lesson, url: str, contact: tuple[str, ...]) -> list[Slide]:
    title = block(lesson.title, TITLE_PT + 8, TEXT_WIDTH_PT, bold=True)
    reviewer = f"内容审核：{lesson.reviewed_by}。" if lesson.reviewed_by else ""
    summary = block(lesson.summary, BODY_PT, TEXT_WIDTH_PT)
    for text, size in ((lesson.summary, MIN_PT), (sentences(lesson.summary)[0], MIN_PT)):
        if len(title.lines) + len(summary.lines) <= MAX_LINES:
            break
        summary = block(text, size, TEXT_WIDTH_PT)  # a long summary: smaller, then its first sentence
    slides = [Slide("title", title, (summary,), notes=f"{lesson.summary}{reviewer}")]
    sections = sections_of(lesson.body)
    body_sentences = [
        sentence for section in sections for item in section.items for sentence in sentences(item)
    ]
    count = len(lesson.points)
    for number, point in enumerate(lesson.points, start=1):
        heading = block(f"要点 {number}/{count}", TITLE_PT, TEXT_WIDTH_PT, bold=True)
        text = block(point.text, POINT_PT, POINT_WIDTH_PT, bold=True)
        if len(text.lines) > MAX_LINES - 1:
            text = block(point.text, MIN_PT, POINT_WIDTH_PT, bold=True)
        notes = "".join([point.text.rstrip("。") + "。", *closest_sentences(point.text, body_sentences)])
        slides.append(Slide("point", heading, (text,), icon=point.icon, notes=notes))
    sources: list[str] = []
    for section in sections:
        if any(word in section.heading for word in SOURCE_HEADINGS):
            sources += section.items
            continue
        heading = block(section.heading, TITLE_PT, TEXT_WIDTH_PT, bold=True)
        if len(heading.lines) > 2:
            continue
        bullets = condensed(section, MAX_LINES - len(heading.lines))
        if bullets:
            slides.append(Slide("section", heading, tuple(bullets), notes="\n".join(section.items)))
    for quiz in lesson.quizzes:
        found = quiz_slide(quiz, lesson)
        if found is not None:
            slides.append(found)
            break
    closing_notes = "资料来源：" + "；".join(sources) + "。" if sources else ""
    slides.append(
        Slide(
            "closing",
            block("扫码看全文", TITLE_PT, POINT_WIDTH_PT, bold=True),
            (
                Block(tuple(url_lines(url, MIN_PT, POINT_WIDTH_PT)), MIN_PT),
                *(block(line, MIN_PT, POINT_WIDTH_PT) for line in contact),
            ),
            notes=closing_notes + reviewer,
        )
    )
    return slides
