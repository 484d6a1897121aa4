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


def text_colour_on(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """White on dark brand colours, near-black on light ones (WCAG relative luminance)."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in colour)
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return (255, 255, 255) if luminance < 0.4 else (26, 26, 26)


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
