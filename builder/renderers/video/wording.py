"""Where a line of a slide may break, and which of its runs are key figures."""

from __future__ import annotations

import re

from PIL import ImageFont

from builder.cjk import break_units
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
