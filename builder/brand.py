"""The brand colour and the colours made from it, for every output that draws in it.

``site_config.yml`` gives one colour; printed sheets need a darker shade for text
on white, a tint for panels and a soft one for rules, and pictures need to know
whether text on the colour should be white or black. All of it is computed here
so posts and print agree on what the brand colour means.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass


def brand_rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def relative_luminance(colour: tuple[float, float, float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour (channels 0–255)."""

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in colour)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: tuple[float, float, float], second: tuple[float, float, float]) -> float:
    """WCAG 2 contrast ratio of two opaque colours, 1 to 21."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_colour_on(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """White on dark brand colours, near-black on light ones (WCAG relative luminance)."""
    return (255, 255, 255) if relative_luminance(colour) < 0.4 else (26, 26, 26)


@dataclass(frozen=True)
class BrandPalette:
    color: str  # as configured
    dark: str  # headings and rules on white
    tint: str  # light background panels
    soft: str  # borders and timeline tracks


def brand_palette(color: str) -> BrandPalette:
    """The shades a printed sheet uses, same hue as ``color`` (HLS, so the hue never shifts)."""
    red, green, blue = (int(color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)

    def shade(new_lightness: float, new_saturation: float | None = None) -> str:
        rgb = colorsys.hls_to_rgb(
            hue, new_lightness, saturation if new_saturation is None else new_saturation
        )
        return "#" + "".join(f"{round(channel * 255):02x}" for channel in rgb)

    return BrandPalette(
        color=color,
        dark=shade(min(lightness, 0.28)),
        tint=shade(0.95, min(saturation, 0.45)),
        soft=shade(0.85, min(saturation, 0.4)),
    )


# -- the print shop's colours -----------------------------------------------------
#
# A press PDF is printed in cyan, magenta, yellow and black. WeasyPrint writes a
# CSS device-cmyk() colour as DeviceCMYK but leaves every sRGB colour as RGB, so
# the press version of a document is written with each colour converted here.
# No CMYK ICC profile ships with Kepu or Debian's base system, so this is the
# plain "grey component replacement" formula, with two print-shop habits: a
# neutral colour (greys, the text's near-black) is printed with black ink alone,
# so type never shows colour fringes when the plates are slightly off register,
# and a near-black becomes 100 % black.

NEUTRAL_SPREAD = 0.06  # max − min of the channels below which a colour is a grey
SOLID_BLACK = 0.8  # a neutral this dark prints as 100 % K


def rgb_to_cmyk(rgb: tuple[int, int, int]) -> tuple[float, float, float, float]:
    """Cyan, magenta, yellow and black (0…1, three decimals) for an sRGB colour (0…255)."""
    red, green, blue = (value / 255 for value in rgb)
    black = 1 - max(red, green, blue)
    if max(red, green, blue) - min(red, green, blue) < NEUTRAL_SPREAD:
        return (0.0, 0.0, 0.0, 1.0 if black >= SOLID_BLACK else round(black, 3))
    if black >= 1:
        return (0.0, 0.0, 0.0, 1.0)
    cyan, magenta, yellow = ((1 - value - black) / (1 - black) for value in (red, green, blue))
    return (round(cyan, 3), round(magenta, 3), round(yellow, 3), round(black, 3))


def device_cmyk(rgb: tuple[int, int, int]) -> str:
    """The CSS colour for the press: ``device-cmyk(0.745 0 0.369 0.522)``."""
    return "device-cmyk({})".format(" ".join(f"{value:g}" for value in rgb_to_cmyk(rgb)))


def cmyk_image(image: object) -> object:
    """A Pillow image converted to CMYK by :func:`rgb_to_cmyk`'s formula, over white.

    Pillow's own ``convert("CMYK")`` never uses black ink (K = 0), which prints
    dark areas muddy; transparency is flattened onto white, as the paper is.
    """
    import numpy
    from PIL import Image

    assert isinstance(image, Image.Image)
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    pixels = numpy.asarray(flat, dtype=numpy.float32) / 255
    black = 1 - pixels.max(axis=2)
    spread = pixels.max(axis=2) - pixels.min(axis=2)
    room = numpy.where(black < 1, 1 - black, 1)
    inks = (1 - pixels - black[..., None]) / room[..., None]
    inks[spread < NEUTRAL_SPREAD] = 0  # greys with black ink alone, as rgb_to_cmyk does
    cmyk = numpy.concatenate([inks, black[..., None]], axis=2)
    data = numpy.clip(cmyk * 255 + 0.5, 0, 255).astype(numpy.uint8)
    return Image.frombytes("CMYK", rgba.size, data.tobytes())
