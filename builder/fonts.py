"""Finding the Simplified Chinese face of a CJK font, for renderers that draw text with Pillow.

Noto CJK ships as collections (.ttc) holding the JP, KR, SC, TC and HK faces, and
the index of SC differs between packagings, so the face is picked by its name.
When none of the known files exists, fontconfig is asked.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from PIL import ImageFont

FontFile = tuple[str, int]  # path and face index inside a .ttc collection

CJK_FAMILY = "Noto Sans CJK SC"
# Debian's fonts-noto-cjk, then the layout of other distributions.
CJK_FILES = {
    "bold": (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    ),
    "regular": (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    ),
}
MISSING = "找不到中文字体 {family}（{weight}）：请安装 fonts-noto-cjk（sudo apt-get install fonts-noto-cjk）"


class FontMissing(FileNotFoundError):
    """No file has the face; the message says how to install it."""


def find_face(family: str, weight: str, paths: Sequence[str] = ()) -> FontFile:
    """The face of ``family`` in ``weight`` ("bold" or "regular"): from ``paths``, else from fontconfig."""
    found = _first_face(tuple(paths), family) or _fontconfig_lookup(family, weight)
    if found is None:
        raise FontMissing(MISSING.format(family=family, weight=weight))
    return found


def cjk_face(weight: str) -> FontFile:
    """Noto Sans CJK SC in ``weight``."""
    return find_face(CJK_FAMILY, weight, CJK_FILES[weight])


@cache
def faces_key() -> tuple[tuple[str, int, int], ...]:
    """Which Noto faces this machine lays text out with (file name, face, size in bytes), for
    cache keys: another version of the font measures and breaks lines differently."""
    faces = (cjk_face("regular"), cjk_face("bold"))
    return tuple((Path(path).name, index, Path(path).stat().st_size) for path, index in faces)


@cache
def load_font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index)


@cache
def _first_face(paths: tuple[str, ...], family: str) -> FontFile | None:
    for path in paths:
        index = _face_index(path, family) if Path(path).is_file() else None
        if index is not None:
            return path, index
    return None


def _face_index(path: str, family: str) -> int | None:
    for index in range(16):
        try:
            name, _style = ImageFont.truetype(path, 10, index=index).getname()
        except OSError:
            return None  # past the last face of the collection
        if name == family:
            return index
    return None


@cache
def _fontconfig_lookup(family: str, weight: str) -> FontFile | None:
    fc_match = shutil.which("fc-match")
    if not fc_match:
        return None
    pattern = f"{family}:{'bold' if weight == 'bold' else 'regular'}"
    output = subprocess.run(
        [fc_match, "--format=%{file}\n%{index}\n%{family}", pattern],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split("\n")
    # fc-match always answers, with a fallback font when the family is missing.
    if len(output) == 3 and family in output[2] and Path(output[0]).is_file():
        return output[0], int(output[1] or 0)
    return None
