"""Re-encoding an editor's picture for an output: upright, resized, small, with no camera data.

Two outputs publish content photos as new files: the site (phone copies, 720 px wide,
:mod:`builder.site.images` plans them and keeps the encodings beside the cache) and the
posts (WeChat takes JPG or PNG under 1 MB). Both go through :func:`open_upright`, so
a photo is turned the way its camera meant and its EXIF block — camera, time, sometimes
the GPS position of the photographer's home — never reaches a published file.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image, ImageOps

# media/uploadimg takes JPG or PNG under 1 MB; larger or other images are re-encoded.
UPLOAD_BYTES_MAX = 1_000_000
UPLOAD_WIDTH_MAX = 1080


def open_upright(src: Path) -> Image.Image | None:
    """The image turned upright by its EXIF orientation and loaded; None if Pillow cannot read it."""
    try:
        with Image.open(src) as opened:
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    image.info.pop("exif", None)
    return image


def carries_exif(src: Path) -> bool:
    try:
        with Image.open(src) as opened:
            return bool(opened.getexif()) or "exif" in opened.info
    except (OSError, ValueError, Image.DecompressionBombError):
        return False


def fit_width(image: Image.Image, max_width: int) -> Image.Image:
    if image.width <= max_width:
        return image
    height = max(1, round(image.height * max_width / image.width))
    return image.resize((max_width, height), Image.Resampling.LANCZOS)


def encode_image(src: Path, size: tuple[int, int], fmt: str) -> bytes:
    """The image turned upright, resized and encoded small; the original bytes if that is smaller."""
    with Image.open(src) as opened:
        # Keep the editor's file only when re-encoding gains nothing and it carries
        # no EXIF block (camera data, sometimes GPS, is not for publishing).
        keep = opened.format == fmt and opened.size == size and not opened.getexif()
        image = ImageOps.exif_transpose(opened)
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    if image.size != size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if fmt == "WEBP":
        # Drawings and charts (few colours) stay sharp losslessly; photos go lossy.
        image.save(buffer, "WEBP", lossless=image.getcolors(256) is not None, quality=80, method=4)
    elif fmt == "PNG":
        image.save(buffer, "PNG", optimize=True)
    else:
        image.convert("RGB").save(buffer, "JPEG", quality=82, optimize=True, progressive=True)
    data = buffer.getvalue()
    original = src.read_bytes()
    return original if keep and len(original) <= len(data) else data


def upload_ready_image(src: Path, limit: int = UPLOAD_BYTES_MAX) -> bytes | None:
    """JPG or PNG under ``limit``: the original when it already is one and carries no EXIF,
    else a re-encoded copy (at most 1080 px wide; a drawing in SVG painted at that width on
    white); None when it cannot be read or no quality gets it small enough."""
    data = src.read_bytes()
    is_jpeg_or_png = data.startswith(b"\xff\xd8") or data.startswith(b"\x89PNG")
    if is_jpeg_or_png and len(data) <= limit and not carries_exif(src):
        return data
    drawing = src.suffix.lower() == ".svg"
    image = painted_svg(data, UPLOAD_WIDTH_MAX) if drawing else open_upright(src)
    if image is None:
        return None
    image = fit_width(image, UPLOAD_WIDTH_MAX)
    has_transparency = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    if has_transparency or drawing:  # lines and flat colours stay sharp in PNG
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=True)
        if buffer.tell() <= limit:
            return buffer.getvalue()
    image = image.convert("RGB")
    for quality in (88, 80, 70, 60, 50):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, optimize=True)
        if buffer.tell() <= limit:
            return buffer.getvalue()
    return None


SVG_SIZE = re.compile(r"^\s*[-+]?[\d.]+[\s,]+[-+]?[\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)\s*$")


def painted_svg(data: bytes, width: int) -> Image.Image | None:
    """A drawing in SVG (cleaned first: no script, no outside reference) as an RGB picture
    ``width`` pixels wide on white, in the proportions of its viewBox; None if it is no picture.

    WeChat keeps no SVG in an article, and a transparent PNG turns black in its dark mode.
    """
    from lxml import etree

    from builder.pdf import rasterise_svg
    from builder.sanitize import UnsafeSvgError, clean_svg

    try:
        cleaned = clean_svg(data)
        root = etree.fromstring(cleaned, etree.XMLParser(resolve_entities=False, no_network=True))
    except (UnsafeSvgError, etree.XMLSyntaxError):
        return None
    box = SVG_SIZE.match(root.get("viewBox") or "")
    try:
        ratio = float(box.group(2)) / float(box.group(1)) if box else 1.0
    except ZeroDivisionError:
        return None
    if not 0.05 <= ratio <= 20:
        return None
    painted = rasterise_svg(cleaned, width, max(1, round(width * ratio)))
    if painted is None:
        return None
    white = Image.new("RGB", painted.size, (255, 255, 255))
    white.paste(painted, mask=painted.getchannel("A"))
    return white
