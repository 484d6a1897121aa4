"""Chinese line breaking for renderers that lay out text themselves (video slides, captions, images).

Browsers and WeasyPrint break Chinese lines on their own; Pillow does not, so any
renderer that draws text into a picture needs this. The rules (a small part of
禁则, *kinsoku*) are the ones readers notice when broken:

* a line never **starts** with closing punctuation — ``。，、；：？！）」》…`` stay
  with the character before them;
* a line never **ends** with opening punctuation — ``（「《“`` move to the next
  line together with what they open;
* Latin words and numbers (``140/90``, ``mmHg``, ``KN95``, ``0~6``) are never split,
  unless one alone is wider than the line.

For HTML, which the browser or WeasyPrint breaks itself, :func:`keep_clauses_together`
only marks the short clauses of a big title that should not be broken inside.

Measuring is left to the caller — ``font.getlength`` with Pillow, or ``len`` in
tests — so this module needs no imaging library::

    from PIL import ImageFont
    font = ImageFont.truetype("NotoSansCJK-Bold.ttc", 80, index=2)
    lines = wrap_balanced("高血压常常没有感觉，要定期测量。", 800, font.getlength)
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup

Measure = Callable[[str], float]

# Never at the start of a line: closing brackets and quotes, sentence and clause
# punctuation, the two-em dash and ellipsis (written as pairs: ——, ……), and
# unit-like signs that belong to the number before them.
NO_LINE_START = frozenset("。．，、；：？！）］｝〕〉》」』】〗〙”’…—～·・%‰℃,.;:?!)]}>")
# Never at the end of a line: opening brackets and quotes, and signs that belong
# to the number after them (≥140, ¥5).
NO_LINE_END = frozenset("（［｛〔〈《「『【〖〘“‘([{<≥≤＜＞±¥￥$#")

# Atoms: a Latin word or number with its inner joiners ("140/90", "3.5", "0~6",
# "KN95", "5%"), a run of spaces, or any other single character.
_ATOM = re.compile(r"[A-Za-z0-9]+(?:[./:+\-~～×][A-Za-z0-9]+)*|\s+|.", re.DOTALL)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
_WORD = re.compile(r"[A-Za-z0-9]+")
# A clause: text up to and including its pause punctuation (and any closing marks after it).
_CLAUSE = re.compile(
    r"[^，、：；。！？,;:!?]+(?:[，、：；。！？,;:!?][）」》』】”’]*)?|[，、：；。！？,;:!?]+"
)


def break_units(text: str) -> list[str]:
    """Split ``text`` into the pieces a line may break between.

    Each piece is a Chinese character, a Latin word/number or a run of spaces,
    with the punctuation that must stay on its line glued to it.
    """
    units: list[str] = []
    glue_next = False  # the previous piece ends with an opening bracket
    for atom in _ATOM.findall(text):
        if atom.isspace():
            # "140/90 mmHg": a number and its unit stay on one line.
            glue_next = bool(units) and units[-1][-1:].isdigit()
            units.append(" ")
            continue
        if glue_next and units and units[-1] == " " and len(units) > 1 and atom[0].isalpha():
            units[-2:] = [units[-2] + " " + atom]
        elif units and not units[-1].isspace() and (glue_next or atom[0] in NO_LINE_START):
            units[-1] += atom
        else:
            units.append(atom)
        glue_next = atom[-1] in NO_LINE_END
    return units


def wrap(text: str, max_width: float, measure: Measure) -> list[str]:
    """Greedy line breaking of ``text`` into lines no wider than ``max_width``.

    Explicit newlines are kept. A single piece wider than the line (a very long
    Latin word) is cut by characters, the only case where a rule gives way.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph.strip(), max_width, measure))
    return lines


def _wrap_paragraph(text: str, max_width: float, measure: Measure) -> list[str]:
    if not text:
        return [""]
    lines: list[str] = []
    line = ""
    for unit in break_units(text):
        if unit == " " and not line:
            continue  # no line starts with a space
        candidate = line + unit
        if not line or measure(candidate.rstrip()) <= max_width:
            line = candidate
        else:
            lines.append(line.rstrip())
            line = "" if unit == " " else unit
        while measure(line) > max_width and len(line) > 1:
            cut = _widest_prefix(line, max_width, measure)
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _widest_prefix(text: str, max_width: float, measure: Measure) -> int:
    """Where to cut a piece wider than the line: the longest prefix that fits, moved
    back so that the cut itself keeps the punctuation rules (at least one character)."""
    fitting = 1
    for length in range(2, len(text) + 1):
        if measure(text[:length]) > max_width:
            break
        fitting = length
    cut = fitting
    while cut > 1 and cut < len(text) and (text[cut] in NO_LINE_START or text[cut - 1] in NO_LINE_END):
        cut -= 1
    return cut


def wrap_balanced(text: str, max_width: float, measure: Measure) -> list[str]:
    """Like :func:`wrap`, with lines that read better: breaks after a clause when that
    costs no extra line, otherwise lines of similar length instead of a short last one.

    "认识高血压：量得准，管得住" becomes "认识高血压：" / "量得准，管得住" rather than
    "认识高血压：量" / "得准，管得住"; headings and captions never end with one lonely
    character (a *widow*) on the last line.
    """
    lines = wrap(text, max_width, measure)
    if len(lines) <= 1:
        return lines
    by_clause = wrap_at_clauses(text, max_width, measure)
    if by_clause is not None and len(by_clause) == len(lines):
        return by_clause
    # The narrowest width that still gives as many lines evens them out.
    narrow, wide = 1.0, float(max_width)
    while wide - narrow > 1:
        middle = (narrow + wide) / 2
        if len(wrap(text, middle, measure)) <= len(lines):
            wide = middle
        else:
            narrow = middle
    return wrap(text, wide, measure)


def wrap_at_clauses(text: str, max_width: float, measure: Measure) -> list[str] | None:
    """Lines broken only after clause punctuation (，、：；。！？), or None when a
    clause alone is wider than a line (then a smaller size, or :func:`wrap_balanced`)."""
    lines: list[str] = []
    for clause in _CLAUSE.findall(text.strip()):
        if measure(clause.strip()) > max_width:
            return None
        candidate = (lines[-1] + clause) if lines else clause
        if lines and measure(candidate.strip()) <= max_width:
            lines[-1] = candidate
        else:
            lines.append(clause)
    return [line.strip() for line in lines if line.strip()]


def reading_units(text: str) -> int:
    """How much there is to read: Chinese characters plus Latin words and numbers.

    Used to give a slide or caption enough time on screen; punctuation and spaces
    take no reading time.
    """
    return len(_CJK.findall(text)) + len(_WORD.findall(text))


CLAUSE_END = re.compile(r"(?<=[：，、；！？。:])")


def keep_clauses_together(text: str, line_chars: float = 10) -> Markup:
    """Big-type titles break between clauses, not inside them.

    "认识高血压：量得准，管得住" then breaks as "认识高血压：量得准，/ 管得住"
    rather than leaving "住" alone on the last line. Only clauses that surely fit
    on a line (``line_chars``: how many full-width characters a line holds at
    the title's size) are kept together, so a title never overflows the page.
    The clauses are ``<span class="clause">``; the style sheet keeps them whole.
    """
    pieces = [piece for piece in CLAUSE_END.split(text) if piece]
    return Markup("").join(
        Markup('<span class="clause">{}</span>').format(piece) if len(piece) <= int(line_chars) else piece
        for piece in pieces
    )


# A key figure: a number (with a decimal part, a range "25～30" or a ratio "140/90",
# after "≥" perhaps) and, perhaps, its unit. Not part of a Latin word ("KN95", "HPV16").
_FIGURE = re.compile(
    r"(?<![A-Za-z0-9.])(?P<sign>[≥≤＞＜]\s?)?\d+(?:\.\d+)?(?:\s?[~～/\-]\s?\d+(?:\.\d+)?)*"
    r"(?P<unit>\s?(?:mmHg|mmol/L|毫克|千克|公斤|克|毫升|升|分钟|小时|秒|天|周|个月|月|岁|次|分贝|厘米|米|位|℃|%|‰))?"
    r"(?![A-Za-z0-9])"
)


def emphasise_figures(text: str, plain: Callable[[str], Markup] | None = None) -> Markup:
    """``text`` (plain) as HTML with its key figures in ``<span class="figure">``.

    "每人每天吃盐不超过5克" → …不超过<span class="figure">5克</span>: a number with its
    unit, a ratio (140/90), a bound (≥140) or a number of three digits and more (120,
    12356) is what a reader should carry away, so print sets it bigger and in the
    brand colour. A bare small number ("2型", "84消毒液") is left as it is. ``plain``,
    if given, sets the text between the figures (e.g. words kept whole on a line).
    """
    setting: Callable[[str], Markup | str] = plain or (lambda piece: piece)
    pieces: list[Markup | str] = []
    last = 0
    for match in _FIGURE.finditer(text):
        figure = match.group(0)
        digits = re.sub(r"\D", "", figure)
        if not (match.group("unit") or match.group("sign") or "/" in figure or len(digits) >= 3):
            continue
        pieces += [
            setting(text[last : match.start()]),
            Markup('<span class="figure">{}</span>').format(figure),
        ]
        last = match.end()
    pieces.append(setting(text[last:]))
    return Markup("").join(pieces)
