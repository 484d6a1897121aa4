"""Safety lines (红旗): the key points and body sentences no output may drop.

A key point is urgent when the editor says so or it holds a ``red_flags:`` word
(:mod:`builder.content`); a body sentence with such a word is a safety line too, so a
lesson whose urgent advice lives only in its body still keeps it in a group message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from builder.diagnostics import Diagnostics
from builder.model import KeyPoint, Lesson, Project

GROUP_POINTS_MAX = 5  # key points in a group message, unless it has more safety lines


# -- safety lines and the group message -------------------------------------------------

# A number among the red flags ("120") is a phone number only on its own: not inside
# a reading ("120/80", "100～120次") nor next to a unit.
NUMBER_FLAG_AROUND = (
    r"(?<![0-9０-９.／/～~\-]){word}(?![0-9０-９.／/～~\-]|\s*(?:mmHg|毫米|次|克|毫升|厘米|分钟|岁|%|％))"
)
SENTENCE_END = re.compile(r"(?<=[。！？；])")
SAFETY_LINE_MAX = 60  # a body sentence longer than this is not quoted in a group message
# Bounded and line-local, like every content regex (tests/test_fuzz_parsers.py).
MARKDOWN_INLINE = re.compile(r"\*\*|__|\*|`|~~|==|\[\^[^\]\n]{0,100}\]|!\[[^\]\n]{0,300}\]\([^)\n]{0,1000}\)")
MARKDOWN_LINK = re.compile(r"\[([^\]\n]{0,300})\]\([^)\n]{0,1000}\)")
LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)、])\s+")


def red_flag_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for the project's red-flag words (``red_flags:``), numbers matched on their own."""
    parts = [
        NUMBER_FLAG_AROUND.format(word=re.escape(word)) if word.isdigit() else re.escape(word)
        for word in sorted(words, key=len, reverse=True)
        if word
    ]
    return re.compile("|".join(parts)) if parts else None


@dataclass(frozen=True)
class SafetyLine:
    """A body sentence that is a safety instruction, with its source line."""

    line: int
    text: str


def body_safety_lines(lesson: Lesson, words: tuple[str, ...]) -> list[SafetyLine]:
    """Every body sentence with a red-flag word, in order.

    Read from the Markdown source, line by line: headings (“现场急救五步”), table rows,
    code and quoted sources (a title in 《》) are not instructions and are skipped;
    a paragraph's lines are joined so a sentence broken across lines counts once.
    """
    pattern = red_flag_pattern(words)
    if pattern is None:
        return []
    found: list[SafetyLine] = []
    paragraph: list[tuple[int, str]] = []
    fenced = False

    def flush() -> None:
        if not paragraph:
            return
        text = "".join(part for _, part in paragraph)
        first_line = paragraph[0][0]
        for sentence in SENTENCE_END.split(text):
            sentence = sentence.strip()
            if sentence and "《" not in sentence and pattern.search(sentence):
                found.append(SafetyLine(first_line, sentence))
        paragraph.clear()

    for offset, raw in enumerate(lesson.body.split("\n")):
        line = lesson.body_line + offset
        stripped = raw.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
            flush()
            continue
        if fenced or not stripped or stripped.startswith(("#", "|", "<", "[^", "!!!", ">")):
            flush()
            continue
        if LIST_MARKER.match(raw):
            flush()
            stripped = LIST_MARKER.sub("", raw).strip()
        stripped = MARKDOWN_INLINE.sub("", MARKDOWN_LINK.sub(r"\1", stripped))
        paragraph.append((line, stripped))
    flush()
    return found


def lesson_points(lesson: Lesson, words: tuple[str, ...]) -> list[KeyPoint]:
    """The lesson's key points with their pictogram and urgency.

    ``key_points`` is the list of texts every output shows; ``points`` adds what the
    loader found out about each. A model whose two lists disagree (built by hand, or
    edited after loading) gets its points again from the texts and the words.
    """
    if [point.text for point in lesson.points] == lesson.key_points:
        return list(lesson.points)
    known = {point.text: point for point in lesson.points}
    pattern = red_flag_pattern(words)
    lines = lesson.key_point_lines if len(lesson.key_point_lines) == len(lesson.key_points) else None
    return [
        known.get(text)
        or KeyPoint(text, lines[index] if lines else 0, None, bool(pattern and pattern.search(text)))
        for index, text in enumerate(lesson.key_points)
    ]


def group_safety_line(lesson: Lesson, words: tuple[str, ...]) -> KeyPoint | None:
    """The safety line a group message adds when no key point is one.

    The rule, kept simple so an editor can predict it: the first body sentence with a
    red-flag word that is at most 60 characters long, shown as the last point. An
    urgent key point always wins over the body: the editor wrote that one on purpose.
    """
    if any(point.urgent for point in lesson_points(lesson, words)):
        return None
    for safety in body_safety_lines(lesson, words):
        if len(safety.text) <= SAFETY_LINE_MAX:
            return KeyPoint(safety.text, safety.line, None, True)
    return None


@dataclass(frozen=True)
class GroupSelection:
    points: list[KeyPoint]  # in the lesson's order, the body's safety line last
    more: int  # key points left out, which the message points to in the article


def choose_group_points(
    points: list[KeyPoint],
    safety: KeyPoint | None,
    fits: Callable[[GroupSelection], bool],
    most: int = GROUP_POINTS_MAX,
) -> GroupSelection:
    """The points of a group message: every safety line, then the others in order while they fit.

    At most ``most`` points unless there are more safety lines than that; the other points
    are dropped from the end — down to none — before a safety line would be cut.
    """
    urgent = [point for point in points if point.urgent]
    others = [point for point in points if not point.urgent]
    keep = max(0, min(len(others), most - len(urgent) - (safety is not None)))
    while True:
        kept = set(map(id, urgent + others[:keep]))
        chosen = [point for point in points if id(point) in kept] + ([safety] if safety else [])
        selection = GroupSelection(chosen, len(points) - len(kept))
        if keep == 0 or fits(selection):
            return selection
        keep -= 1




def emergency_point_warnings(
    subject: Project | Lesson, red_flags: tuple[str, ...], diagnostics: Diagnostics
) -> None:
    """Warn, at its ``key_points:`` line, for each lesson whose body tells readers what to do in
    an emergency while no key point does: that line is what outputs must never drop."""
    lessons = subject.lessons if isinstance(subject, Project) else [subject]
    for lesson in lessons:
        if any(point.urgent for point in lesson_points(lesson, red_flags)):
            continue
        lines = body_safety_lines(lesson, red_flags)
        if not lines:
            continue
        quoted = _shorten(lines[0].text, 30)
        diagnostics.warning(
            lesson.source,
            lesson.lines.get("key_points", 1),
            f"正文第 {lines[0].line} 行讲了急救（“{quoted}”），要点里却没有急救提示："
            "请把它写成一条要点，或给一条要点加上 urgent: true（群消息、卡片等会始终保留这一条）",
        )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
