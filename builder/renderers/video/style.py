"""The video style: ``templates/video/style.yml`` merged over the default, its colours and fonts."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from builder.brand import brand_palette
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
    hook_seconds: float = 1.6
    # A key point's words build in phrase by phrase, each fading in over this long.
    phrase_fade_seconds: float = 0.3
    # The moving bars (a slide's progress) step every this many frames: each step
    # is a new picture for the encoder, so 1 is smoothest and 2 half the frames.
    motion_step_frames: int = 2


NOTE_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
CHORD = re.compile(r"^([A-G])([#b]?)(m?)$")


@dataclass(frozen=True)
class Mood:
    """One music bed of ``style.yml``'s ``audio.moods``; see that file for the keys."""

    tempo_bpm: float
    chords: tuple[str, ...]
    beats_per_chord: int = 4
    arpeggio: tuple[int, ...] = (0, 1, 2, 3)  # chord tones (0 = root, 3 = octave), one per step
    steps_per_beat: int = 2
    arpeggio_octave: int = 5
    pad_octave: int = 4
    pad_level: float = 0.5
    arpeggio_level: float = 0.35
    bass_level: float = 0.4
    arpeggio_decay_seconds: float = 0.5
    brightness: float = 0.3  # weight of the overtones of the arpeggio: 0 is a pure sine

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> Mood:
        values = dict(data)
        for key in ("chords", "arpeggio"):
            if key in values:
                values[key] = tuple(values[key])
        mood = cls(**values)
        for chord in mood.chords:
            if not CHORD.match(chord):
                raise ValueError(f"audio.moods.{name}：和弦 '{chord}' 应写成 C、Am、F#、Bbm 这样")
        if not mood.chords or mood.tempo_bpm <= 0 or mood.steps_per_beat <= 0:
            raise ValueError(f"audio.moods.{name}：需要 chords，tempo_bpm 与 steps_per_beat 应大于 0")
        return mood


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
    target_lufs: float = -16.0
    peak_ceiling_db: float = -2.0  # sample peaks; AAC and inter-sample peaks add up to ~0.5 dB
    speech_over_music_db: float = 6.0
    duck_ramp_seconds: float = 0.25
    music_mood: str = "calm"
    moods: dict[str, Mood] = field(default_factory=dict)
    # 百度智能云 短文本在线合成 (video.narration: baidu): per, spd, pit, vol as its API takes them.
    baidu_voice: str = "0"
    baidu_speed: int = 5
    baidu_pitch: int = 5
    baidu_volume: int = 5

    def mood(self) -> Mood:
        return self.moods[self.music_mood]


@dataclass(frozen=True)
class SafeArea:
    """Where a platform draws its own UI over the video, as fractions of the frame.

    Nothing readable goes in the top ``top``, the bottom ``bottom``, or the right
    ``right`` below ``right_from`` (the like/comment column); captions sit within
    ``caption_band`` (top and bottom, fractions of the height).
    """

    top: float
    bottom: float
    right: float
    right_from: float
    caption_band: tuple[float, float]
    left: float = 0.0
    # The closing card's QR code to the lesson page. Off where the platform treats an
    # off-site code as 引流 (抖音): the card then names where to find the lesson.
    closing_qr: bool = True

    def zones(self, width: int, height: int) -> list[tuple[float, float, float, float]]:
        """The UI zones as (left, top, right, bottom) pixel boxes."""
        zones = [(0.0, 0.0, width, self.top * height), (0.0, (1 - self.bottom) * height, width, height)]
        if self.right:
            zones.append(((1 - self.right) * width, self.right_from * height, width, height))
        if self.left:
            zones.append((0.0, 0.0, self.left * width, height))
        return zones


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
    profiles: dict[str, SafeArea] = field(default_factory=dict)  # platform → its UI zones

    def safe_area(self, orientation: str) -> SafeArea:
        """The safe area of the platform profile the orientation is laid out for."""
        return self.profiles[str(self.layouts[orientation]["profile"])]


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

    audio_section = dict(section("audio"))
    moods = audio_section.pop("moods", None) or {}
    if not isinstance(moods, dict):
        raise ValueError("'audio.moods:' 应是 名称: {…} 的键值对")
    audio_section["moods"] = {name: Mood.from_dict(name, value) for name, value in moods.items()}
    data = {**data, "audio": audio_section}
    profiles = {
        name: SafeArea(**{**value, "caption_band": tuple(value["caption_band"])})
        for name, value in section("profiles").items()
    }
    style = VideoStyle(
        colors={key: str(value) for key, value in section("colors").items()},
        fonts=section("fonts"),
        text={key: str(value) for key, value in section("text").items()},
        timing=typed(Timing, "timing"),
        audio=typed(AudioStyle, "audio"),
        encoder=typed(EncoderStyle, "encoder"),
        layouts={name: section(name) for name in ORIENTATIONS},
        profiles=profiles,
    )
    if style.audio.music_mood not in style.audio.moods:
        raise ValueError(
            f"audio.music_mood '{style.audio.music_mood}' 不在 audio.moods 里（可用：{', '.join(style.audio.moods)}）"
        )
    for name in ORIENTATIONS:
        if str(style.layouts[name].get("profile")) not in profiles:
            raise ValueError(f"'{name}.profile' 应是 profiles 里的一项（可用：{', '.join(profiles)}）")
    if style.timing.fps <= 0 or style.timing.crossfade_seconds < 0 or style.timing.phrase_fade_seconds < 0:
        raise ValueError("timing.fps 应大于 0，timing.crossfade_seconds 与 phrase_fade_seconds 不能为负")
    if style.timing.motion_step_frames < 1 or style.timing.fps % style.timing.motion_step_frames:
        raise ValueError("timing.motion_step_frames 应是能整除 timing.fps 的正整数（如 1、2、3）")
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
    """The style's colours with ``brand``, ``brand-dark`` and ``brand-tint`` resolved.

    The shades are builder.brand's, the ones print and posts use, so the brand's
    dark shade is the same colour on a flyer, in an article and in a video.
    """

    def __init__(self, colors: dict[str, str], brand_color: str):
        shades = brand_palette(brand_color)
        self.brand = parse_hex(shades.color)
        self.brand_dark = parse_hex(shades.dark)
        self.brand_tint = parse_hex(shades.tint)
        self.named = {name: self.resolve(value) for name, value in colors.items()}

    def resolve(self, value: str) -> RGBA:
        derived = {"brand": self.brand, "brand-dark": self.brand_dark, "brand-tint": self.brand_tint}
        return derived[value] if value in derived else parse_hex(value)

    def __getitem__(self, name: str) -> RGBA:
        return self.named[name]
