"""Colour for the print shop: sRGB → CMYK through a real CMYK ICC profile.

The press PDFs (:func:`builder.pdf.write_press_pdf`) are CMYK for one printing
condition, and say which: the output intent embeds the profile the colours were
converted for. That profile is Ghostscript's default CMYK profile (Debian package
``libgs-common``: ``/usr/share/color/icc/ghostscript/default_cmyk.icc``, "Artifex
CMYK SWOP Profile", ICC v2 — what PDF/X-1a can embed), found on the system, never
downloaded. Colours are converted with littleCMS (Pillow's ``ImageCms``), relative
colorimetric with black point compensation, except greys: a grey, and the text's
near-black, print with black ink alone (:func:`builder.brand.rgb_to_cmyk`), as a
print shop would ask — four inks under small text blur when the plates shift.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from builder.brand import NEUTRAL_SPREAD, SOLID_BLACK, rgb_to_cmyk
from builder.fonts import FontMissing

if TYPE_CHECKING:
    from PIL import Image, ImageCms

# Debian's libgs-common, then the layouts of a Ghostscript installed from source.
CMYK_PROFILE_PATHS = (
    "/usr/share/color/icc/ghostscript/default_cmyk.icc",
    "/usr/share/ghostscript/iccprofiles/default_cmyk.icc",
    "/usr/local/share/ghostscript/iccprofiles/default_cmyk.icc",
)
MISSING = (
    "找不到印刷用的 CMYK 色彩配置文件 default_cmyk.icc："
    "请安装 libgs-common（sudo apt-get install libgs-common）"
)


class ColourProfileMissing(FontMissing):
    """No CMYK profile on the system. A FontMissing, so that the build reports it as the
    same kind of problem — a system file to install, one sentence, exit 2."""


@cache
def press_profile_path() -> Path:
    for candidate in CMYK_PROFILE_PATHS:
        path = Path(candidate)
        if path.is_file():
            return path
    raise ColourProfileMissing(MISSING)


@cache
def press_profile() -> bytes:
    """The CMYK profile's bytes, as the output intent embeds them."""
    return press_profile_path().read_bytes()


def press_profile_digest() -> str:
    """For cache keys: another profile makes other press PDFs. Without one, "none": the
    render itself then fails with :class:`ColourProfileMissing`, as an environment problem."""
    try:
        return hashlib.sha256(press_profile()).hexdigest()
    except ColourProfileMissing:
        return "none"


@cache
def press_profile_description() -> str:
    from PIL import ImageCms

    return ImageCms.getProfileDescription(_cmyk_profile()).strip() or press_profile_path().name


@cache
def _cmyk_profile() -> ImageCms.ImageCmsProfile:
    import io

    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(io.BytesIO(press_profile()))


@cache
def _transform() -> ImageCms.ImageCmsTransform:
    from PIL import ImageCms

    return ImageCms.buildTransform(
        ImageCms.createProfile("sRGB"),
        _cmyk_profile(),
        "RGB",
        "CMYK",
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
        flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
    )


def _neutral(rgb: tuple[int, int, int]) -> bool:
    return (max(rgb) - min(rgb)) / 255 < NEUTRAL_SPREAD


@cache
def press_cmyk(rgb: tuple[int, int, int]) -> tuple[float, float, float, float]:
    """Cyan, magenta, yellow and black (0…1, three decimals) of an sRGB colour for the press."""
    if _neutral(rgb):
        return rgb_to_cmyk(rgb)
    from PIL import Image, ImageCms

    pixel = ImageCms.applyTransform(Image.new("RGB", (1, 1), rgb), _transform())
    assert pixel is not None
    inks = pixel.getpixel((0, 0))
    assert isinstance(inks, tuple)
    return tuple(round(value / 255, 3) for value in inks)  # type: ignore[return-value]


def press_device_cmyk(rgb: tuple[int, int, int]) -> str:
    """The CSS colour for the press: ``device-cmyk(0.847 0.29 0.855 0.157)``."""
    return "device-cmyk({})".format(" ".join(f"{value:g}" for value in press_cmyk(rgb)))


def press_image(image: Image.Image) -> Image.Image:
    """A picture in the press profile's CMYK, flattened onto white (the paper); grey pixels
    with black ink alone, as :func:`press_cmyk` prints greys."""
    import numpy
    from PIL import Image, ImageCms

    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    converted = ImageCms.applyTransform(flat, _transform())
    assert converted is not None
    pixels = numpy.asarray(flat, dtype=numpy.int16)
    inks = numpy.array(converted, dtype=numpy.uint8)
    grey = (pixels.max(axis=2) - pixels.min(axis=2)) / 255 < NEUTRAL_SPREAD
    if grey.any():
        black = 1 - pixels.max(axis=2) / 255
        solid = numpy.where(black >= SOLID_BLACK, 255, numpy.round(black * 255)).astype(numpy.uint8)
        inks[grey] = 0
        inks[..., 3][grey] = solid[grey]
    return Image.frombytes("CMYK", rgba.size, inks.tobytes())
