"""QR codes as SVG, for any output that links back to the online lesson.

SVG keeps print output vector (sharp at any size) and needs no raster library.
"""

from __future__ import annotations

from functools import lru_cache

import segno

# Error correction "M" (15 % recoverable) survives a folded or slightly dirty
# flyer while keeping modules large enough for old phone cameras.
ERROR_CORRECTION = "m"
# The standard asks for a 4-module quiet zone; callers that place the code on
# a plain white area can ask for less.
QUIET_ZONE = 4


# A lesson's URL is drawn on its flyer, prescription, poster, site page …: encode it once.
@lru_cache(maxsize=4096)
def qr_svg(url: str, *, dark: str = "#000000", quiet_zone: int = QUIET_ZONE) -> str:
    """Inline ``<svg>`` markup with a viewBox and no fixed size: CSS decides the size."""
    code = segno.make(url, error=ERROR_CORRECTION, micro=False)
    return code.svg_inline(dark=dark, border=quiet_zone, omitsize=True, svgclass="qr", lineclass=None)


@lru_cache(maxsize=4096)
def qr_svg_data_uri(url: str, *, dark: str = "#000000", quiet_zone: int = QUIET_ZONE) -> str:
    """The same code as a ``data:image/svg+xml`` URI, for an ``<img src>``."""
    code = segno.make(url, error=ERROR_CORRECTION, micro=False)
    return code.svg_data_uri(dark=dark, border=quiet_zone, omitsize=True, svgclass=None, lineclass=None)
