"""The project's pictograms: simple line drawings that stand beside a key point.

One set for every output. They live in ``templates/pictograms/<name>.svg`` — a
content project's own folder first, then Kepu's bundled set — as stroke drawings
in ``currentColor`` on a 48×48 (or 24×24) grid. The loader has already chosen a
name for each key point (:attr:`builder.model.KeyPoint.icon`: the editor's
``icon:`` or the first ``pictograms:`` keyword rule); this module turns a name
into pixels-free markup in a given colour:

* :func:`pictogram_svg` — the drawing as SVG markup, cleaned by
  :func:`builder.sanitize.clean_svg` (a project's file can carry no script or
  outside reference) and with ``currentColor`` replaced by the colour, because an
  SVG shown through ``<img>`` (print, posts) or rasterised (video) inherits no
  CSS colour;
* :func:`pictogram_data_uri` — the same as a ``data:`` URI for ``<img src>``;
* :func:`focal_pictogram` — the one drawing that stands for a whole lesson (a
  poster's focal point).

Nothing here imports WeasyPrint or Pillow, so the site, posts and video can use it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from builder.model import Lesson
from builder.sanitize import UnsafeSvgError, clean_svg
from builder.templates import template_dirs

PICTOGRAM_FOLDER = "pictograms"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")  # as builder.config accepts in pictograms:
CURRENT_COLOUR = re.compile(r"currentColor", re.IGNORECASE)
COLOUR = re.compile(r"^#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?$")


def pictogram_path(root: Path, name: str) -> Path | None:
    """The file of pictogram ``name``: the project's own, else Kepu's; None when neither has it."""
    if not NAME.fullmatch(name):
        return None
    for folder in template_dirs(root):
        path = folder / PICTOGRAM_FOLDER / f"{name}.svg"
        if path.is_file():
            return path
    return None


def pictogram_svg(root: Path, name: str | None, colour: str) -> str | None:
    """Pictogram ``name`` as cleaned SVG markup drawn in ``colour`` (#rrggbb), or None.

    None when there is no such pictogram or its file is not a safe SVG picture:
    the caller then shows its fallback (a numbered badge), never a broken image.
    """
    if not name or not COLOUR.fullmatch(colour):
        return None
    path = pictogram_path(root, name)
    if path is None:
        return None
    stat = path.stat()
    return _tinted(str(path), stat.st_mtime_ns, stat.st_size, colour.lower())


@lru_cache(maxsize=1024)
def _tinted(path: str, _mtime: int, _size: int, colour: str) -> str | None:
    # Keyed by the file's mtime and size too, so a pictogram edited during a watch is read again.
    try:
        cleaned = clean_svg(Path(path).read_bytes()).decode("utf-8")
    except (OSError, UnicodeDecodeError, UnsafeSvgError):
        return None
    cleaned = re.sub(r"^<\?xml[^>]*\?>\s*", "", cleaned)
    return CURRENT_COLOUR.sub(colour, cleaned)


def pictogram_data_uri(root: Path, name: str | None, colour: str) -> str | None:
    """The tinted pictogram as a ``data:image/svg+xml`` URI (percent-encoded UTF-8), or None.

    Percent-encoded rather than base64 so that a later pass (the print shop's CMYK
    version of a document) can still find and convert the colours in it.
    """
    svg = pictogram_svg(root, name, colour)
    return None if svg is None else "data:image/svg+xml;charset=utf-8," + quote(svg, safe="")


def focal_pictogram(lesson: Lesson, rules: Sequence[tuple[str, str]], names: frozenset[str]) -> str | None:
    """The pictogram that stands for the whole lesson, e.g. on a poster.

    The first ``pictograms:`` rule whose keyword the title contains (认识高血压 → cuff),
    else the one its key points use most (ties: the first point's), else None.
    """
    for keyword, name in rules:
        if keyword in lesson.title and name in names:
            return name
    icons = [point.icon for point in lesson.points if point.icon in names]
    if not icons:
        return None
    counts = Counter(icons)
    return max(icons, key=lambda icon: (counts[icon], -icons.index(icon)))
