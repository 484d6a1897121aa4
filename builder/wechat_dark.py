"""What an article looks like in WeChat's dark mode (深色模式), for the posts preview.

WeChat does not ask the author for dark colours: its reader recolours every inline
``color``, ``background`` and ``border`` of the article with the official-account
platform's conversion algorithm (the ``mp-darkmode`` project). The npm registry
reachable here does not serve that package and its code is not copied into Kepu,
so this module reproduces the rules it documents (``doc/cn/principle.md``) and the
constants it publishes, on the inline styles our articles are made of:

- the page becomes #191919 and unstyled text #a3a3a3;
- backgrounds first: a light grey or white background (HSL saturation 0 and
  lightness above 40 %, or perceived brightness above 250) has its lightness
  mirrored onto the dark page; another background brighter than 190 is brought down
  to 190; a very dark one (lightness under 22 %) is lifted to 22 %; its alpha stays,
  so a translucent tint stays a tint, now over the dark page;
- then text and border colours, against the converted background of their element
  (its own, or the nearest ancestor's, alpha weighed over the dark page): a colour
  brighter than 250 (white) is kept; one whose brightness differs from the
  background's by at least 65 is kept, unless it is so much brighter than a dark
  background that it would glare (then it is dimmed to the default text's
  distance); otherwise its HSL lightness is mirrored (90 − L) and tried again, or
  its brightness is set 65 away from the background's;
- an element with a background but no colour of its own gets the inherited text
  colour adjusted to that background.

"Perceived brightness" is the W3C's (299 R + 587 G + 114 B) / 1000. The result is
the article with its inline styles replaced: what the preview shows and what the
contrast test measures in a browser.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass

from lxml import etree
from lxml import html as lxml_html
from PIL import ImageColor

from builder.brand import contrast_ratio

DARK_PAGE = "#191919"  # WeChat's dark page background
DARK_TEXT = "#a3a3a3"  # its default text colour in dark mode
LIGHT_TEXT = "#191919"  # the default text colour in light mode, inherited when nothing is set
WHITE_LIKE = 250  # perceived brightness above which a colour counts as white
BACKGROUND_MAX = 190  # brightest a converted background may be
MIN_OFFSET = 65  # least brightness difference between text and its background
BRIGHT_BACKGROUND = 100  # a background this bright wants darker text
GREY_LIGHTNESS_HIGH = 40  # HSL lightness (%) above which a grey background is mirrored
LIGHTNESS_LOW = 22  # HSL lightness (%) a very dark background is lifted to

# CSS colour names (Pillow carries the CSS list), and transparent as mp-darkmode reads it: white at alpha 0.
NAMED = {name: (*ImageColor.getrgb(name)[:3], 1.0) for name in ImageColor.colormap}
NAMED["transparent"] = (255, 255, 255, 0.0)
COLOUR = re.compile(
    r"#[0-9a-fA-F]{3,8}\b|\brgba?\([^()]{0,60}\)|\b(?:"
    + "|".join(sorted(NAMED, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)
BORDER = re.compile(r"border(?:-(?:top|right|bottom|left))?(?:-color)?$")
TEXT_KEYS = ("color", "-webkit-text-fill-color")


@dataclass(frozen=True)
class Rgba:
    red: float
    green: float
    blue: float
    alpha: float = 1.0

    @property
    def brightness(self) -> float:
        return (self.red * 299 + self.green * 587 + self.blue * 114) / 1000

    def hsl(self) -> tuple[float, float, float]:
        """Hue (degrees), saturation and lightness (percent), as CSS writes them."""
        hue, lightness, saturation = colorsys.rgb_to_hls(self.red / 255, self.green / 255, self.blue / 255)
        return hue * 360, saturation * 100, lightness * 100

    @classmethod
    def from_hsl(cls, hue: float, saturation: float, lightness: float, alpha: float) -> Rgba:
        red, green, blue = colorsys.hls_to_rgb(hue / 360, lightness / 100, saturation / 100)
        return cls(red * 255, green * 255, blue * 255, alpha)

    def css(self) -> str:
        channels = ", ".join(str(round(min(255.0, max(0.0, c)))) for c in (self.red, self.green, self.blue))
        return f"rgb({channels})" if self.alpha >= 1 else f"rgba({channels}, {round(self.alpha, 3):g})"


def parse_colour(text: str) -> Rgba | None:
    """``#rgb``, ``#rrggbb``, ``rgb()``, ``rgba()`` and the few names our styles use; None otherwise."""
    text = text.strip().lower()
    if text in NAMED:
        return Rgba(*NAMED[text])
    if text.startswith("#"):
        digits = text[1:]
        if len(digits) in (3, 4):
            digits = "".join(d * 2 for d in digits)
        if len(digits) not in (6, 8):
            return None
        values = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
        return Rgba(values[0], values[1], values[2], values[3] / 255 if len(values) == 4 else 1.0)
    match = re.fullmatch(r"rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)", text)
    if not match:
        return None
    red, green, blue = (float(match.group(i)) for i in (1, 2, 3))
    return Rgba(red, green, blue, float(match.group(4)) if match.group(4) else 1.0)


PAGE = parse_colour(DARK_PAGE)
DEFAULT_TEXT = parse_colour(DARK_TEXT)
assert PAGE is not None and DEFAULT_TEXT is not None
# Text may be at most this much brighter than the dark page: the default text's distance.
MAX_OFFSET = DEFAULT_TEXT.brightness - PAGE.brightness


def with_brightness(target: float, colour: Rgba) -> Rgba:
    """``colour`` scaled to the perceived brightness ``target``, the hue kept where the channels allow."""
    ratio = target / max(colour.brightness, 1e-6)
    red, green, blue = (min(255.0, c * ratio) for c in (colour.red, colour.green, colour.blue))
    # A channel at its limit cannot carry its share: another one makes up the brightness.
    if green == 0 or red == 255 or blue == 255:
        green = (target * 1000 - red * 299 - blue * 114) / 587
    elif red == 0:
        red = (target * 1000 - green * 587 - blue * 114) / 299
    elif blue == 0 or green == 255:
        blue = (target * 1000 - red * 299 - green * 587) / 114
    return Rgba(*(min(255.0, max(0.0, c)) for c in (red, green, blue)), colour.alpha)


def dark_background(colour: Rgba) -> Rgba:
    hue, saturation, lightness = colour.hsl()
    if (saturation == 0 and lightness > GREY_LIGHTNESS_HIGH) or colour.brightness > WHITE_LIKE:
        page_lightness = PAGE.hsl()[2]
        return Rgba.from_hsl(0, 0, min(100.0, 100 + page_lightness - lightness), colour.alpha)
    if colour.brightness > BACKGROUND_MAX:
        return with_brightness(BACKGROUND_MAX, colour)
    if lightness < LIGHTNESS_LOW:
        return Rgba.from_hsl(hue, saturation, LIGHTNESS_LOW, colour.alpha)
    return colour


def dark_text(colour: Rgba, background: Rgba, depth: int = 0) -> Rgba:
    """A text or border colour for ``background`` (already converted)."""
    behind = background.brightness * background.alpha + PAGE.brightness * (1 - background.alpha)
    offset = abs(behind - colour.brightness)
    if colour.brightness >= WHITE_LIKE:
        return colour
    if offset > MAX_OFFSET and behind <= PAGE.brightness + 2:
        return with_brightness(MAX_OFFSET + behind, colour)
    if offset >= MIN_OFFSET:
        return colour
    hue, saturation, lightness = colour.hsl()
    # Mirroring the lightness first keeps the hue; only when that is not enough is the brightness forced.
    if behind >= BRIGHT_BACKGROUND:
        if lightness > 90 - GREY_LIGHTNESS_HIGH and depth < 2:
            return dark_text(
                Rgba.from_hsl(hue, saturation, 90 - lightness, colour.alpha), background, depth + 1
            )
        return with_brightness(min(MAX_OFFSET, behind - MIN_OFFSET), colour)
    if lightness <= GREY_LIGHTNESS_HIGH and depth < 2:
        return dark_text(Rgba.from_hsl(hue, saturation, 90 - lightness, colour.alpha), background, depth + 1)
    return with_brightness(min(MAX_OFFSET, behind + MIN_OFFSET), colour)


def _declarations(style: str) -> list[tuple[str, str]]:
    pairs = []
    for part in style.split(";"):
        name, colon, value = part.partition(":")
        if colon and name.strip():
            pairs.append((name.strip().lower(), value.strip()))
    return pairs


@dataclass
class _Inherited:
    """The converted colours an element passes on: its nearest text colour and background."""

    text: Rgba | None
    background: Rgba | None


def _kind(name: str) -> str | None:
    if name.startswith("background"):
        return "background"
    if name in TEXT_KEYS:
        return "text"
    if name == "text-shadow":
        return "shadow"
    return "border" if BORDER.match(name) else None


def _recolour(kind: str, value: str, state: _Inherited, has_colour: bool, extra: list[str]) -> str:
    """Every colour in one declaration's value, converted; ``state`` takes the first one."""
    first = True

    def one(match: re.Match[str]) -> str:
        nonlocal first
        colour = parse_colour(match.group(0))
        if colour is None:
            return match.group(0)
        if kind == "background":
            converted = dark_background(colour)
            if not has_colour:
                inherited = state.text or parse_colour(LIGHT_TEXT)
                assert inherited is not None
                extra.append(f"color:{dark_text(inherited, converted).css()}")
            if first:
                state.background = converted
        elif kind == "text":
            converted = dark_text(colour, state.background or PAGE)
            if first:
                state.text = converted
        elif kind == "shadow":
            converted = dark_background(colour)
        else:  # a border is judged against the page, as WeChat does
            converted = dark_text(colour, PAGE)
        first = False
        return converted.css()

    return COLOUR.sub(one, value)


RANK = {"background": 0, "shadow": 1, "border": 1, "text": 2}  # backgrounds first: text is judged on them


def _convert(element: etree._Element, inherited: _Inherited) -> None:
    """Recolour ``element`` and its descendants."""
    state = _Inherited(inherited.text, inherited.background)
    declarations = _declarations(element.get("style", ""))
    has_colour = any(name in TEXT_KEYS for name, _ in declarations)
    extra: list[str] = []
    kinds = [_kind(name) for name, _ in declarations]
    for index in sorted(range(len(declarations)), key=lambda i: RANK.get(kinds[i] or "", 1)):
        kind = kinds[index]
        if kind is not None:
            name, value = declarations[index]
            declarations[index] = (name, _recolour(kind, value, state, has_colour, extra))
    if declarations or extra:
        element.set("style", ";".join([f"{name}:{value}" for name, value in declarations] + extra))
    for child in element:
        if isinstance(child.tag, str):
            _convert(child, state)


# -- readable in both modes --------------------------------------------------------

CONTRAST_MIN = 4.5  # WCAG AA for body text


def over(top: Rgba, bottom: Rgba) -> Rgba:
    """``top`` composited onto an opaque ``bottom``."""
    a = top.alpha
    return Rgba(*(t * a + b * (1 - a) for t, b in zip(_rgb(top), _rgb(bottom), strict=True)))


def _rgb(colour: Rgba) -> tuple[float, float, float]:
    return colour.red, colour.green, colour.blue


def contrast(text: Rgba, background: Rgba) -> float:
    """WCAG contrast ratio of ``text`` (alpha over the background) on an opaque ``background``."""
    return contrast_ratio(_rgb(over(text, background)), _rgb(background))


WHITE = Rgba(255, 255, 255)


def readable_text_colour(colour: str, tints: tuple[float, ...] = (0.0, 0.08)) -> str:
    """``colour``, darkened in steps of HSL lightness until it reads in both modes.

    It must reach 4.5:1 on white and on its own tints (``rgba(colour, alpha)`` panels,
    as the article's boxes are) in light mode, and, once WeChat's dark mode has
    converted it, on the dark page and those tints over it. The hue and saturation
    never change, so a brand colour stays recognisably itself; a colour that already
    reads is returned as written.
    """
    start = parse_colour(colour)
    if start is None:
        raise ValueError(f"not a colour: {colour}")
    hue, saturation, lightness = start.hsl()
    for step in range(0, 101):
        candidate = start if step == 0 else Rgba.from_hsl(hue, saturation, max(0.0, lightness - step), 1.0)
        if _reads_in_both(candidate, start, tints):
            return "#" + "".join(f"{round(c):02x}" for c in _rgb(candidate))
        if lightness - step <= 0:
            break
    return "#000000"


def _reads_in_both(text: Rgba, tint_colour: Rgba, tints: tuple[float, ...]) -> bool:
    for alpha in tints:
        tint = Rgba(*_rgb(tint_colour), alpha)
        if contrast(text, over(tint, WHITE)) < CONTRAST_MIN:
            return False
        dark_tint = dark_background(tint)
        dark = dark_text(text, dark_tint if alpha else PAGE)
        if contrast(dark, over(dark_tint, PAGE)) < CONTRAST_MIN:
            return False
    return True


def dark_article(article_html: str) -> str:
    """The article as WeChat's dark mode shows it: the same HTML, its inline colours converted."""
    root = lxml_html.fragment_fromstring(article_html, create_parent="div")
    for child in root:
        if isinstance(child.tag, str):
            _convert(child, _Inherited(None, None))
    inner = (root.text or "") + "".join(lxml_html.tostring(child, encoding="unicode") for child in root)
    return inner
