"""Breaking a title into lines for a picture: the post covers and thumbnails.

Pillow draws what it is given, one line at a time, so a title drawn into an image
is broken here, beside :mod:`builder.cjk`'s line-breaking rules: between Chinese
words (jieba, with the project's own terms), never inside one nor inside a Latin
word or number, and — among the layouts that fit — the one with even lines, a
break after a colon and no one-character last line, at the largest size that
does not force awkward breaks.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache, lru_cache

import jieba
from PIL import ImageFont

from builder.cjk import NO_LINE_END, NO_LINE_START
from builder.fonts import cjk_face
from builder.fonts import load_font as cached_font


def load_font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    """Noto Sans CJK SC, the Simplified Chinese face."""
    return cached_font(*cjk_face(weight), size)


# A title breaks between Chinese words, never inside one, nor inside a Latin word or number.
TITLE_RUNS = re.compile(r"([A-Za-z0-9][A-Za-z0-9.,/%:+\-]*)|(\s+)|([^A-Za-z0-9\s]+)")


@cache
def _word_splitter(words: tuple[str, ...]) -> jieba.Tokenizer:
    """A private jieba tokenizer (the site's search index keeps its own) that knows the project's terms."""
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for word in words:
        tokenizer.add_word(word)
    return tokenizer


def title_tokens(text: str, words: tuple[str, ...] = ()) -> list[str]:
    """The pieces a title may be broken between: Chinese words, Latin words, numbers, punctuation."""
    return list(_title_tokens(text, words))


@lru_cache(maxsize=16384)
def _title_tokens(text: str, words: tuple[str, ...]) -> tuple[str, ...]:
    # Remembered: a print document is laid out at a dozen type steps, each gluing the same
    # last words of the same paragraphs, and jieba takes a third of a millisecond a text.
    tokens: list[str] = []
    for latin, space, other in TITLE_RUNS.findall(text):
        if latin or space:
            tokens.append(latin or space)
        else:
            tokens.extend(_word_splitter(words).lcut(other))
    return tuple(tokens)


# Costs of a title layout (lower is better), tuned by eye on the bundled titles.
BREAK_BETWEEN_WORDS = 0.6  # a break that is not after punctuation
BREAK_AFTER_COLON = -0.5  # "认识高血压：" / "量得准，管得住" reads as title and subtitle
PARTICLE_FIRST = 0.6  # a line that starts with 的/了/着…, which belong to the line before
ORPHAN = 2.0  # a last line of one character
INSIDE_WORD = 3.0  # a break inside a word (``inside_word``: only when no layout between words fits)
SMALLER_TEXT = 4.0  # cost of going from the largest size down to zero
PARTICLES = frozenset("的地得了着过吗呢吧")
SOFT_BREAK_AFTER = set("，、；：。！？ ")


@dataclass(frozen=True)
class TitleLayout:
    font: ImageFont.FreeTypeFont
    lines: list[str]
    line_height: int
    cost: float


def layout_title(
    tokens: list[str],
    font: ImageFont.FreeTypeFont,
    max_width: float,
    max_lines: int,
    inside_word: frozenset[int] = frozenset(),
) -> tuple[float, list[str]] | None:
    """The best way to break ``tokens`` into at most ``max_lines`` lines, by dynamic programming.

    Lines must fit and obey the Chinese line-breaking rules: none starts with closing
    punctuation (。，、…) and none ends with an opening one (（《“…). Among those, even
    line lengths, breaks after punctuation and no one-character last line win.
    """
    count = len(tokens)
    widths: dict[tuple[int, int], float] = {}  # the same spans are measured for every line count
    # best[k][j]: cheapest layout of tokens[:j] in k lines, as (cost, previous break).
    best: list[dict[int, tuple[float, int]]] = [{0: (0.0, -1)}] + [{} for _ in range(max_lines)]
    for lines in range(1, max_lines + 1):
        for start, (cost_so_far, _) in best[lines - 1].items():
            if start == count or (start > 0 and tokens[start][0] in NO_LINE_START):
                continue
            for end in range(start + 1, count + 1):
                text = "".join(tokens[start:end]).strip()
                if (start, end) not in widths:
                    widths[start, end] = font.getlength(text)
                width = widths[start, end]
                if width > max_width:
                    break
                if end < count and tokens[end - 1][-1] in NO_LINE_END:
                    continue
                cost = cost_so_far + ((max_width - width) / max_width) ** 2
                if start > 0 and tokens[start] in PARTICLES:
                    cost += PARTICLE_FIRST
                if end < count:
                    last = tokens[end - 1][-1]
                    cost += INSIDE_WORD if end in inside_word else 0
                    cost += (
                        BREAK_AFTER_COLON
                        if last == "："
                        else 0
                        if last in SOFT_BREAK_AFTER
                        else BREAK_BETWEEN_WORDS
                    )
                elif start > 0 and len(text) == 1:
                    cost += ORPHAN
                if end not in best[lines] or cost < best[lines][end][0]:
                    best[lines][end] = (cost, start)
    layouts = [
        (best[lines][count][0] if lines > 1 else 0.0, lines)
        for lines in range(1, max_lines + 1)
        if count in best[lines]
    ]
    if not layouts:
        return None
    cost, lines = min(layouts)
    breaks, end = [], count
    for row in range(lines, 0, -1):
        start = best[row][end][1]
        breaks.append("".join(tokens[start:end]).strip())
        end = start
    return cost, list(reversed(breaks))


def fit_title(
    tokens: list[str], max_width: float, max_height: float, sizes: range, max_lines: int
) -> TitleLayout:
    """The best layout over all sizes: large text, but not at the price of awkward breaks.

    ``sizes`` run from the largest down. A size's total cost is at least its size penalty
    plus the cheapest a layout can be (only breaks after a colon are rewarded), so once
    that bound reaches the best total so far no smaller size can win, and the rest are
    not laid out: the same choice as trying them all, at a third of the measuring."""
    if sizes.step > 0:
        raise ValueError("fit_title: sizes must run from the largest down")
    colons = sum(1 for token in tokens[:-1] if token.endswith("："))
    cheapest_layout = min(0.0, BREAK_AFTER_COLON) * min(colons, max_lines - 1)
    best: TitleLayout | None = None
    for size in sizes:
        smaller = SMALLER_TEXT * (sizes[0] - size) / sizes[0]
        if best is not None and smaller + cheapest_layout >= best.cost:
            break
        font = load_font("bold", size)
        line_height = round(size * 1.32)
        layout = layout_title(tokens, font, max_width, min(max_lines, int(max_height // line_height)))
        if layout is not None and (best is None or layout[0] + smaller < best.cost):  # ties: the larger size
            cost, lines = layout
            best = TitleLayout(font, lines, line_height, cost + smaller)
    if best is not None:
        return best
    if any(len(token) > 1 for token in tokens):  # a word too long for any size: break inside words
        return fit_title(
            [char for token in tokens for char in token], max_width, max_height, sizes, max_lines
        )
    font = load_font("bold", sizes[-1])
    return TitleLayout(font, ["".join(tokens)], round(sizes[-1] * 1.32), 0.0)


# How much narrower than the box a printed title's lines are measured: Pillow and
# WeasyPrint (HarfBuzz) may round an advance differently, and a line one hair too
# wide would be broken again by the layout engine, inside a word.
PRINT_WIDTH_MARGIN = 0.97
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


MEASURE_SIZE = 200  # px: the size titles are measured at; lengths scale linearly


@lru_cache(maxsize=65536)
def _bold_length(text: str) -> float:
    """Advance of ``text`` in Noto Sans CJK SC Bold at MEASURE_SIZE. Cached: a document is
    planned at a dozen type steps, and each step breaks the same title's same pieces."""
    return load_font("bold", MEASURE_SIZE).getlength(text)


@dataclass(frozen=True)
class _SpacedFont:
    """Noto Sans CJK SC Bold at ``size`` (any unit) with CSS ``letter-spacing`` in em, as
    :func:`layout_title` measures: one advance per character plus the spacing."""

    scale: float  # size / MEASURE_SIZE
    spacing: float  # letter-spacing × size

    def getlength(self, text: str) -> float:
        return _bold_length(text) * self.scale + self.spacing * len(text)


def print_title_lines(
    text: str,
    max_width: float,
    size: float,
    letter_spacing: float = 0.0,
    words: tuple[str, ...] = (),
    max_lines: int = 4,
) -> list[str] | None:
    """A big printed title broken into lines that a layout engine then sets as they are.

    ``max_width`` and ``size`` in the same unit (pt). The breaks fall between jieba
    words, obey the punctuation rules, prefer a break after a colon or comma, and
    even the lines out (see :func:`layout_title`); no line is one Han character alone.
    When no layout between words fits in ``max_lines`` lines, the title is broken
    between characters, a break inside a word costing more than any other (as few as
    the lines allow). None when even that fails: the caller leaves the breaking to the
    layout engine.
    """
    font = _SpacedFont(size / MEASURE_SIZE, letter_spacing * size)
    tokens = title_tokens(text, words)
    width = max_width * PRINT_WIDTH_MARGIN
    layout = layout_title(tokens, font, width, max_lines)  # type: ignore[arg-type]
    if layout is None:
        ends, position = set(), 0
        for token in tokens:
            ends.update(range(position + 1, position + len(token)))
            position += len(token)
        chars = [char for token in tokens for char in token]
        layout = layout_title(chars, font, width, max_lines, frozenset(ends))  # type: ignore[arg-type]
    if layout is None:
        return None
    lines = layout[1]
    if len(lines) > 1 and any(len(HAN.findall(line)) == 1 and len(line.strip()) <= 2 for line in lines):
        return None
    return lines
