"""Where a line of a slide may break, and which of its runs are key figures."""

from __future__ import annotations

import re

from PIL import ImageFont

from builder.cjk import break_units, reading_units
from builder.titles import title_tokens

_HAN = re.compile(r"[\u3400-\u9fff]")

# A key figure — a number with its unit (5克, 35岁), a ratio (140/90), a bound (≥140) or a
# number of three digits and more (120) — is what a viewer should carry away, so a key
# point draws it in the brand colour. The rule of print's figures; a bare small number
# ("2型", "84消毒液") and one inside a Latin word ("KN95") stay as they are.
FIGURE = re.compile(
    r"(?<![A-Za-z0-9.])(?P<sign>[≥≤＞＜]\s?)?\d+(?:\.\d+)?(?:\s?[~～/\-]\s?\d+(?:\.\d+)?)*"
    r"(?P<unit>\s?(?:mmHg|mmol/L|毫克|千克|公斤|克|毫升|升|分钟|小时|秒|天|周|个月|月|岁|次|分贝|厘米|米|℃|%|‰))?"
    r"(?![A-Za-z0-9])"
)


def figure_runs(line: str) -> list[tuple[str, bool]]:
    """``line`` cut into (text, is a key figure) runs, in order."""
    runs: list[tuple[str, bool]] = []
    last = 0
    for match in FIGURE.finditer(line):
        figure = match.group(0)
        if not (
            match.group("unit") or match.group("sign") or "/" in figure or len(re.sub(r"\D", "", figure)) >= 3
        ):
            continue
        if match.start() > last:
            runs.append((line[last : match.start()], False))
        runs.append((figure, True))
        last = match.end()
    if last < len(line):
        runs.append((line[last:], False))
    return runs


def run_offsets(line: str) -> list[str]:
    """The text before each run of ``figure_runs(line)``."""
    offsets, before = [], ""
    for run, _ in figure_runs(line):
        offsets.append(before)
        before += run
    return offsets


def word_tokens(text: str, words: tuple[str, ...] = ()) -> list[str]:
    """``text`` cut where a line may break: between jieba words (builder.titles) that are
    also between builder.cjk's units (a number stays with its unit, punctuation with
    its word), and never between a number and the Chinese unit after it ("5克", "35岁")."""
    text = text.strip()
    unit_ends, position = set(), 0
    for unit in break_units(text):
        position += len(unit)
        unit_ends.add(position)
    tokens, start, position = [], 0, 0
    for token in title_tokens(text, words):
        position += len(token)
        after_number = text[position - 1 : position].isdigit() and bool(
            _HAN.match(text[position : position + 1])
        )
        if (position in unit_ends and not after_number) or position == len(text):
            tokens.append(text[start:position])
            start = position
    return tokens


def ellipsize(text: str, width: float, font: ImageFont.FreeTypeFont) -> str:
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


# A phrase ends after one of these: where a reader (and a narrator) pauses.
_PAUSE = re.compile(r"(?<=[，；：。！？,;:!?])")  # not 、: a list stays on one step
_TRAILING = "，、；：。！？,;:!? "
SHORTEST_PHRASE = 5  # reading units: a shorter piece joins its neighbour
MOST_PHRASES = 4  # a key point builds in over at most this many steps


def phrases(text: str) -> tuple[str, ...]:
    """``text`` cut where it builds in on a key-point slide: after its pauses (，、；…),
    short pieces joined to the next, at most :data:`MOST_PHRASES` of them.

    Joined back together the phrases are ``text`` exactly, so the card can draw the
    first N characters of the laid-out point and keep every line where it was.
    """
    pieces = [piece for piece in _PAUSE.split(text) if piece]
    merged: list[str] = []
    for piece in pieces:
        if merged and reading_units(merged[-1]) < SHORTEST_PHRASE:
            merged[-1] += piece
        else:
            merged.append(piece)
    if len(merged) > 1 and reading_units(merged[-1]) < SHORTEST_PHRASE:
        merged[-2:] = [merged[-2] + merged[-1]]
    while len(merged) > MOST_PHRASES:  # join the shortest neighbouring pair
        pair = min(range(len(merged) - 1), key=lambda i: reading_units(merged[i] + merged[i + 1]))
        merged[pair : pair + 2] = [merged[pair] + merged[pair + 1]]
    return tuple(merged) if len(merged) > 1 else ()


def key_figures(text: str) -> list[str]:
    """The key figures of ``text`` in order ("140/90 mmHg", "5克", "120")."""
    return [run.strip() for run, figure in figure_runs(text) if figure]


def _striking(figure: str) -> int:
    if "/" in figure or figure[:1] in "≥≤＞＜":
        return 3
    return 2 if len(re.sub(r"\D", "", figure)) >= 3 else 1


def caption_phrase(phrase: str) -> str:
    """A phrase as the caption shows it: without the comma or semicolon it ends on."""
    return phrase.strip().rstrip("，、；：,;:")


def hook_line(key_points: tuple[str, ...], summary: str) -> tuple[str, str]:
    """The 1–2 s opening: (its key figure or "", its words).

    The lesson's most striking number is the first key figure of its key points,
    shown with the phrase it stands in; a lesson without one opens on the question
    its summary asks, else on its first key point's first phrase.
    """
    found = [(figure, point) for point in key_points for figure in key_figures(point)]
    if found:
        # A ratio or a bound (140/90, ≥140) strikes most, then a number of three digits (120),
        # then a number with its unit (5克); the first of the best.
        figure, point = max(found, key=lambda pair: _striking(pair[0]))
        phrase = next(p for p in (phrases(point) or (point,)) if figure in p)
        return figure, phrase.strip(_TRAILING)
    question = re.search(r"[^。！？!?]*[？?]", summary)
    if question:
        return "", question.group(0).strip()
    first = key_points[0] if key_points else summary
    return "", (phrases(first) or (first,))[0].strip(_TRAILING)
