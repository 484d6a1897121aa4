"""The video style: ``templates/video/style.yml`` merged over the default, its colours and fonts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from builder.diagnostics import ContentError, Diagnostics
from builder.fonts import FontFile, FontMissing, find_face
from builder.templates import template_dirs

STYLE_FILE = "video/style.yml"
ORIENTATIONS = ("portrait", "landscape")

RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]


# Defined here, in the module every other one of the package imports: a font (found
# here), ffmpeg (encode.py) and espeak-ng (audio.py) are all reported with it.
class VideoToolMissing(RuntimeError):
    """ffmpeg (or a font) is not installed; the message says how to install it."""


# -- style --------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    fps: int
    title_seconds: float
    closing_seconds: float
    point_lead_seconds: float
    reading_units_per_second: float
    point_min_seconds: float
    point_max_seconds: float
    crossfade_seconds: float
    narration_pause_seconds: float


@dataclass(frozen=True)
class AudioStyle:
    sample_rate: int
    bitrate: str
    music_volume: float
    music_volume_under_narration: float
    music_fade_in_seconds: float
    music_fade_out_seconds: float
    espeak_voice: str
    espeak_words_per_minute: int


@dataclass(frozen=True)
class EncoderStyle:
    preset: str
    crf: int
    threads: int
    cover_quality: int
    tune: str | None = None
    x264_params: str | None = None  # extra libx264 options, "key=value:key=value"


@dataclass(frozen=True)
class VideoStyle:
    """``templates/video/style.yml``, merged over the default; see that file for every key."""

    colors: dict[str, str]
    fonts: dict[str, Any]
    text: dict[str, str]
    timing: Timing
    audio: AudioStyle
    encoder: EncoderStyle
    layouts: dict[str, dict[str, Any]]  # "portrait" / "landscape" → sizes in pixels


def load_style(project_root: Path) -> VideoStyle:
    """The bundled style with the project's ``templates/video/style.yml`` merged over it.

    Raises :class:`ContentError` pointing at the style file when it is not valid.
    """
    merged: dict[str, Any] = {}
    diagnostics = Diagnostics()
    for folder in reversed(template_dirs(project_root)):  # the default first, the project last
        src = folder / STYLE_FILE
        if not src.is_file():
            continue
        shown = _shown_path(src, project_root)
        try:
            data = yaml.safe_load(src.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            diagnostics.error(shown, mark.line + 1 if mark else 0, f"视频样式文件不是有效的 YAML：{error}")
            continue
        if not isinstance(data, dict):
            diagnostics.error(shown, 1, "视频样式文件的顶层应是键值对（colors:、timing: …）")
            continue
        merged = _deep_merge(merged, data)
    if not diagnostics.errors:
        try:
            return _style_from_dict(merged)
        except (TypeError, ValueError, KeyError) as error:
            diagnostics.error(f"templates/{STYLE_FILE}", 0, f"视频样式有误：{error}")
    raise ContentError(diagnostics)


def _shown_path(src: Path, project_root: Path) -> str:
    try:
        return src.relative_to(project_root).as_posix()
    except ValueError:
        return f"templates/{STYLE_FILE}"  # the bundled default


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _style_from_dict(data: dict[str, Any]) -> VideoStyle:
    def section(name: str) -> dict[str, Any]:
        value = data.get(name)
        if not isinstance(value, dict):
            raise ValueError(f"缺少 '{name}:' 一节")
        return value

    def typed(cls: type, name: str) -> Any:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(section(name)) - known)
        if unknown:
            raise ValueError(
                f"'{name}:' 里没有 {', '.join(unknown)} 这一项（可用：{', '.join(sorted(known))}）"
            )
        return cls(**section(name))

    style = VideoStyle(
        colors={key: str(value) for key, value in section("colors").items()},
        fonts=section("fonts"),
        text={key: str(value) for key, value in section("text").items()},
        timing=typed(Timing, "timing"),
        audio=typed(AudioStyle, "audio"),
        encoder=typed(EncoderStyle, "encoder"),
        layouts={name: section(name) for name in ORIENTATIONS},
    )
    if style.timing.fps <= 0 or style.timing.crossfade_seconds < 0:
        raise ValueError("timing.fps 应大于 0，timing.crossfade_seconds 不能为负")
    return style


# -- fonts --------------------------------------------------------------------------


def resolve_fonts(style: VideoStyle) -> dict[str, FontFile]:
    """The file and face index of the style's bold and regular faces (see builder/fonts.py)."""
    family = str(style.fonts["family"])
    try:
        return {
            weight: find_face(family, weight, style.fonts.get(weight, [])) for weight in ("bold", "regular")
        }
    except FontMissing as missing:
        raise VideoToolMissing(str(missing)) from missing


# -- colours ------------------------------------------------------------------------


def parse_hex(value: str) -> RGBA:
    digits = value.lstrip("#")
    if len(digits) not in (6, 8) or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ValueError(f"颜色 '{value}' 应写成 #rrggbb 或 #rrggbbaa")
    alpha = int(digits[6:8], 16) if len(digits) == 8 else 255
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16), alpha


def mix(colour: RGBA | RGB, other: RGBA | RGB, amount: float) -> RGBA:
    """``colour`` moved ``amount`` (0–1) of the way towards ``other``; opaque."""
    return (*(round(a + (b - a) * amount) for a, b in zip(colour[:3], other[:3], strict=True)), 255)  # type: ignore[return-value]


class Palette:
    """The style's colours with ``brand``, ``brand-dark`` and ``brand-tint`` resolved."""

    def __init__(self, colors: dict[str, str], brand_color: str):
        self.brand = parse_hex(brand_color)
        self.brand_dark = mix(self.brand, (0, 0, 0), 0.35)
        self.brand_tint = mix(self.brand, (255, 255, 255), 0.9)
        self.named = {name: self.resolve(value) for name, value in colors.items()}

    def resolve(self, value: str) -> RGBA:
        derived = {"brand": self.brand, "brand-dark": self.brand_dark, "brand-tint": self.brand_tint}
        return derived[value] if value in derived else parse_hex(value)

    def __getitem__(self, name: str) -> RGBA:
        return self.named[name]
