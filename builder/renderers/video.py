"""The ``video`` renderer: a short video per lesson for 视频号/抖音 and for clinic screens.

For every lesson it writes, under ``video/lessons/<slug>/``:

==================  ==================  ==================================================
``video.mp4``       ``video``           1080×1920 H.264 High, yuv420p, 30 fps, AAC, +faststart
``landscape.mp4``   ``video-landscape`` 1920×1080, same timeline (unless ``video.landscape: false``)
``captions.srt``    ``video-captions``  one cue per slide, at the times of the video
``cover.jpg``       ``video-cover``     the title card, 1080×1920, without caption
==================  ==================  ==================================================

The video is a title card, one slide per key point and a closing card with a QR
code to the lesson page, joined by short crossfades; the words of each slide are
burned in as a caption. Style, layout and timing come from ``templates/video/style.yml``.

Why it is fast (a 40 s video in a few seconds on two cores): per-frame compositing
in Python is the trap. Every distinct picture is drawn **once** with Pillow and
converted once to yuv420p; only the few crossfade frames are computed, by integer
blending of those cached planes. Python then sends ffmpeg each distinct frame once,
and ffmpeg's ``setpts`` + ``fps`` filters put each at its frame on the 30 fps
timeline and repeat it while it holds — x264 still gets a constant 30 fps, without
1,200 copies of 3 MB going through a pipe.

moviepy composes the soundtrack when there is one (background music looped and
faded, espeak narration placed on its slide); a silent track comes straight from
ffmpeg. Frames never go through moviepy.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import shutil
import subprocess
import wave
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import segno
import yaml
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from builder.cache import file_digest, fingerprint, templates_digest
from builder.cjk import reading_units, wrap, wrap_at_clauses, wrap_balanced
from builder.diagnostics import ContentError, Diagnostics
from builder.fonts import FontFile, FontMissing, find_face, load_font
from builder.model import Lesson, Project
from builder.parallel import parallel_map
from builder.renderers.base import RenderContext, Renderer, RenderError
from builder.templates import template_dirs
from builder.writer import Artifact

# Bump when a change to this module changes the videos, so cached ones are rendered again.
VIDEO_RENDERER_VERSION = 1
STYLE_FILE = "video/style.yml"
ORIENTATIONS = ("portrait", "landscape")
# Output file name and artifact kind of everything a lesson's video produces.
OUTPUTS = {
    "video": "video.mp4",
    "video-landscape": "landscape.mp4",
    "video-captions": "captions.srt",
    "video-cover": "cover.jpg",
}
QR_ERROR_CORRECTION = "m"  # as on the printed flyers: survives a glare on a screen
QR_QUIET_ZONE = 4  # modules, as the QR standard asks

RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]


class VideoToolMissing(RuntimeError):
    """ffmpeg (or a font) is not installed; the message says how to install it."""


class VideoEncodingError(RuntimeError):
    """ffmpeg failed; the message carries the end of its error output."""


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


# -- what a lesson's video shows ------------------------------------------------------

SlideKind = Literal["title", "point", "closing"]


@dataclass(frozen=True)
class Slide:
    kind: SlideKind
    caption: str  # the words read on this slide: burned in, in the SRT, and spoken
    number: int = 0  # key points: 1-based


@dataclass(frozen=True)
class LessonVideoJob:
    """Everything a worker process needs to render one lesson's video (picklable)."""

    slug: str
    title: str
    summary: str
    header_title: str
    audiences: tuple[str, ...]
    key_points: tuple[str, ...]
    page_url: str
    site_name: str
    organization: str
    contact: str
    brand_color: str
    logo: Path | None
    music: Path | None
    narration: bool
    landscape: bool
    style: VideoStyle
    fonts: dict[str, FontFile]
    work_dir: Path

    def inputs(self) -> dict[str, Any]:
        """What the video is made from, for the cache key (the scratch folder is not)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "work_dir"}

    def slides(self) -> list[Slide]:
        closing = self.style.text["closing_caption"].format(title=self.title, organization=self.organization)
        return [
            Slide("title", self.title),
            *(Slide("point", point, number) for number, point in enumerate(self.key_points, start=1)),
            Slide("closing", closing),
        ]


@dataclass(frozen=True)
class RenderedVideo:
    files: dict[str, Path]  # artifact kind → rendered file in the job's work folder
    seconds: float  # duration of the video


# -- timeline -----------------------------------------------------------------------


@dataclass(frozen=True)
class Timeline:
    """Slides on a frame grid: slide i shows from ``starts[i]`` for ``lengths[i]`` frames.

    A crossfade of ``crossfade`` frames is centred on every boundary, so the SRT
    cue of a slide (its start to its end) is exactly the middle of its fades.
    """

    fps: int
    lengths: tuple[int, ...]
    crossfade: int  # frames, even

    @property
    def starts(self) -> tuple[int, ...]:
        starts, frame = [], 0
        for length in self.lengths:
            starts.append(frame)
            frame += length
        return tuple(starts)

    @property
    def total_frames(self) -> int:
        return sum(self.lengths)

    @property
    def seconds(self) -> float:
        return self.total_frames / self.fps

    def cue(self, index: int) -> tuple[float, float]:
        start = self.starts[index]
        return start / self.fps, (start + self.lengths[index]) / self.fps


def plan_timeline(seconds: Sequence[float], timing: Timing) -> Timeline:
    half_fade = round(timing.crossfade_seconds * timing.fps / 2)
    # Each slide keeps at least a few still frames between its two fades.
    shortest = 2 * half_fade + 2
    lengths = tuple(max(shortest, round(s * timing.fps)) for s in seconds)
    return Timeline(timing.fps, lengths, 2 * half_fade)


def slide_seconds(slide: Slide, timing: Timing, speech: float | None) -> float:
    """How long a slide stays: fixed for the cards, from the text's length for key points.

    With narration the slide lasts as long as its speech plus a pause, never less
    than without it.
    """
    if slide.kind == "title":
        silent = timing.title_seconds
    elif slide.kind == "closing":
        silent = timing.closing_seconds
    else:
        reading = timing.point_lead_seconds + reading_units(slide.caption) / timing.reading_units_per_second
        silent = min(max(reading, timing.point_min_seconds), timing.point_max_seconds)
    if speech is None:
        return silent
    narrated = speech + timing.narration_pause_seconds
    return max(narrated, timing.point_min_seconds if slide.kind == "point" else silent)


@dataclass(frozen=True)
class ScheduledFrame:
    """One distinct frame sent to ffmpeg: where it goes and what it shows."""

    at: int  # output frame index
    slide: int
    blend: int = 0  # 0: slide as is; 1..255: weight (of 256) of the next slide


def frame_schedule(timeline: Timeline) -> list[ScheduledFrame]:
    """The distinct frames of the video, in order; each holds until the next one's ``at``.

    A still is sent once where it starts to show unmixed; every crossfade frame
    is sent; the last still is sent again on the last frame so the video ends
    exactly there.
    """
    count, half = len(timeline.lengths), timeline.crossfade // 2
    schedule: list[ScheduledFrame] = []
    for index, (start, length) in enumerate(zip(timeline.starts, timeline.lengths, strict=True)):
        schedule.append(ScheduledFrame(start + (half if index > 0 else 0), index))
        if index == count - 1:
            break
        boundary = start + length
        for step in range(timeline.crossfade):
            progress = (step + 1) / (timeline.crossfade + 1)
            eased = progress * progress * (3 - 2 * progress)  # smoothstep: no jolt at either end
            schedule.append(
                ScheduledFrame(boundary - half + step, index, max(1, min(255, round(eased * 256))))
            )
    last = timeline.total_frames - 1
    if schedule[-1].at != last:
        schedule.append(ScheduledFrame(last, count - 1))
    return schedule


def retime_filter(schedule: Sequence[ScheduledFrame], fps: int) -> str:
    """ffmpeg filters that move input frame N to ``schedule[N].at`` and fill the gaps.

    ``setpts`` gets ``at(N) = N + Σ gap_k·[N > k]``: each held frame pushes the
    following ones later by the frames it holds. ``fps`` then repeats every frame
    until the next one, which gives a constant frame rate.
    """
    terms = [
        f"{later.at - earlier.at - 1}*gt(N,{index})"
        for index, (earlier, later) in enumerate(itertools.pairwise(schedule))
        if later.at - earlier.at > 1
    ]
    # Quoted: the commas inside gt(N,k) would otherwise separate filters.
    return f"settb=1/{fps},setpts='N+{'+'.join(terms) or '0'}',fps={fps}"


# -- narration and soundtrack -------------------------------------------------------


def synthesize_speech(text: str, audio: AudioStyle, dest: Path) -> float:
    """Speak ``text`` with espeak-ng into ``dest`` (WAV); returns its length in seconds."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise VideoToolMissing(
            "找不到 espeak-ng：请安装（sudo apt-get install espeak-ng），或设 video.narration: none"
        )
    subprocess.run(
        [
            espeak,
            "-v",
            audio.espeak_voice,
            "-s",
            str(audio.espeak_words_per_minute),
            "-w",
            str(dest),
            "--",
            text,
        ],
        check=True,
        capture_output=True,
    )
    with wave.open(str(dest), "rb") as speech:
        return speech.getnframes() / speech.getframerate()


def compose_soundtrack(
    seconds: float, music: Path | None, speech: Sequence[tuple[float, Path]], audio: AudioStyle, dest: Path
) -> Path:
    """Mix music (looped, faded, quieter under narration) and speech clips into a WAV.

    This is the part of the video moviepy is good at: a timeline of audio clips.
    Sources are decoded once into arrays first — an ``AudioFileClip`` looped by
    ``AudioLoop`` seeks back at every repeat and restarts its ffmpeg reader.
    """
    _use_system_ffmpeg_for_moviepy()
    from moviepy import AudioArrayClip, CompositeAudioClip, afx

    rate = audio.sample_rate
    layers: list[Any] = []
    samples = decode_audio(music, rate) if music is not None else None
    if samples is not None and len(samples):
        volume = audio.music_volume_under_narration if speech else audio.music_volume
        looped = np.resize(samples, (round(seconds * rate), 2))  # repeats the track to the video's length
        layers.append(
            AudioArrayClip(looped, fps=rate).with_effects(
                [
                    afx.MultiplyVolume(volume),
                    afx.AudioFadeIn(audio.music_fade_in_seconds),
                    afx.AudioFadeOut(audio.music_fade_out_seconds),
                ]
            )
        )
    for start, wav in speech:
        layers.append(AudioArrayClip(decode_audio(wav, rate), fps=rate).with_start(start))
    if not layers:  # a music file with no sound in it
        layers.append(AudioArrayClip(np.zeros((round(seconds * rate), 2)), fps=rate))
    # One-second chunks: moviepy's default (2,000 samples) spends its time in Python.
    CompositeAudioClip(layers).with_duration(seconds).write_audiofile(
        str(dest), fps=rate, nbytes=2, buffersize=rate, codec="pcm_s16le", logger=None
    )
    return dest


def decode_audio(src: Path, sample_rate: int) -> np.ndarray:
    """Any audio file as float stereo samples at ``sample_rate``, shape (samples, 2)."""
    raw = subprocess.run(
        [ffmpeg_binary(), "-v", "error", "-nostdin", "-i", str(src),
         "-f", "s16le", "-acodec", "pcm_s16le", "-ac", "2", "-ar", str(sample_rate), "-"],
        capture_output=True,
        check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype="<i2").reshape(-1, 2).astype(np.float64) / 32768


def _use_system_ffmpeg_for_moviepy() -> None:
    # moviepy reads FFMPEG_BINARY when first imported and otherwise uses the copy
    # bundled with imageio-ffmpeg; decoding music with the same ffmpeg that encodes
    # the video keeps one ffmpeg version in play.
    system_ffmpeg = shutil.which("ffmpeg")
    if system_ffmpeg:
        os.environ.setdefault("FFMPEG_BINARY", system_ffmpeg)


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


# -- drawing ------------------------------------------------------------------------

SUPERSAMPLE = 4  # Pillow draws shapes without anti-aliasing: draw large, then reduce


@dataclass
class TextBlock:
    lines: list[str]
    font: ImageFont.FreeTypeFont
    line_height: int

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)

    @property
    def width(self) -> int:
        return math.ceil(max((self.font.getlength(line) for line in self.lines), default=0))


class Painter:
    """Draws one slide onto an RGB canvas with the style's palette, fonts and layout."""

    def __init__(self, job: LessonVideoJob, orientation: str, palette: Palette, logo: Image.Image | None):
        self.job = job
        self.layout = job.style.layouts[orientation]
        self.landscape = orientation == "landscape"
        self.width, self.height = (int(v) for v in self.layout["size"])
        self.palette = palette
        self.logo = logo
        self.margin = int(self.layout["margin"])
        self.image = Image.new("RGB", (self.width, self.height), palette["background"][:3])
        self.draw = ImageDraw.Draw(self.image)

    # Primitives -------------------------------------------------------------------

    def font(self, weight: str, size: int) -> ImageFont.FreeTypeFont:
        path, index = self.job.fonts[weight]
        return load_font(path, index, size)

    def fit_text(
        self,
        text: str,
        weight: str,
        size: int,
        min_size: int,
        width: float,
        max_lines: int,
        leading: float = 1.4,
        clause_shrink: float = 0.84,
    ) -> TextBlock:
        """Wrap ``text`` at the largest size from ``size`` down to ``min_size`` that fits ``max_lines``.

        Lines that end where a clause ends read best, so a slightly smaller size
        (down to ``clause_shrink`` × ``size``) that allows them, with no more lines
        than the full size needs, wins over the full size breaking mid-phrase.
        """
        sizes = [*range(size, min_size, -4), min_size]

        def block(lines: list[str], font: ImageFont.FreeTypeFont) -> TextBlock:
            return TextBlock(lines, font, round(font.size * leading))

        full_size_lines = len(wrap_balanced(text, width, self.font(weight, size).getlength))
        for candidate in sizes:
            if candidate < size * clause_shrink:
                break
            font = self.font(weight, candidate)
            clauses = wrap_at_clauses(text, width, font.getlength)
            if clauses is not None and len(clauses) <= min(max_lines, full_size_lines):
                return block(clauses, font)
        for candidate in sizes:
            font = self.font(weight, candidate)
            lines = wrap_balanced(text, width, font.getlength)
            if len(lines) <= max_lines or candidate == min_size:
                return block(lines, font)
        raise AssertionError("unreachable: the last size always returns")

    def write(
        self,
        block: TextBlock,
        x: float,
        top: float,
        fill: RGBA,
        align: Literal["left", "center"] = "left",
    ) -> None:
        """Draw ``block`` with its first line box at ``top``; ``x`` is the left edge or the centre."""
        size = block.font.size
        for number, line in enumerate(block.lines):
            # CJK glyphs fill the ideographic em box, whose centre is 0.38 em above the
            # baseline: putting that centre in the middle of the line box centres the type.
            baseline = top + number * block.line_height + block.line_height / 2 + 0.38 * size
            anchor = "ms" if align == "center" else "ls"
            self.draw.text((x, baseline), line, font=block.font, fill=fill[:3], anchor=anchor)

    def shape(
        self,
        box: tuple[float, float, float, float],
        colour: RGBA,
        radius: float = 0,
        ellipse: bool = False,
        supersample: int = SUPERSAMPLE,
    ) -> None:
        """An anti-aliased (rounded) rectangle or ellipse, translucent when ``colour`` has alpha."""
        left, top, right, bottom = (round(v) for v in box)
        width, height = right - left, bottom - top
        if width <= 0 or height <= 0:
            return
        mask = Image.new("L", (width * supersample, height * supersample), 0)
        outline = (0, 0, width * supersample - 1, height * supersample - 1)
        pen = ImageDraw.Draw(mask)
        if ellipse:
            pen.ellipse(outline, fill=colour[3])
        else:
            pen.rounded_rectangle(outline, radius=radius * supersample, fill=colour[3])
        self.image.paste(colour[:3], (left, top), mask.reduce(supersample) if supersample > 1 else mask)

    def shadow(
        self, box: tuple[float, float, float, float], radius: float, blur: int = 22, drop: int = 12
    ) -> None:
        """A soft shadow under a card, so it lifts off the background."""
        left, top, right, bottom = (round(v) for v in box)
        pad = blur * 2
        mask = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
        ImageDraw.Draw(mask).rounded_rectangle(
            (pad, pad, pad + right - left, pad + bottom - top), radius=radius, fill=self.palette["shadow"][3]
        )
        mask = mask.filter(ImageFilter.GaussianBlur(blur))
        self.image.paste(self.palette["shadow"][:3], (left - pad, top - pad + drop), mask)

    def gradient_background(self) -> None:
        """Brand colour fading to its darker shade downwards, for the title and closing cards."""
        ramp = Image.linear_gradient("L").resize((self.width, self.height), Image.Resampling.BILINEAR)
        top = Image.new("RGB", self.image.size, self.palette.brand[:3])
        bottom = Image.new("RGB", self.image.size, self.palette.brand_dark[:3])
        self.image.paste(Image.composite(bottom, top, ramp))
        # Two large, faint circles give the flat colour some depth. At this opacity
        # a coarser edge does not show, and a 4× mask of a circle this big would be
        # tens of megapixels.
        glow = (255, 255, 255, 20)
        big = self.width * 0.9
        self.shape(
            (self.width - big * 0.55, -big * 0.45, self.width + big * 0.45, big * 0.55),
            glow,
            ellipse=True,
            supersample=2,
        )
        small = self.width * 0.6
        self.shape(
            (-small * 0.4, self.height - small * 0.7, small * 0.6, self.height + small * 0.3),
            glow,
            ellipse=True,
            supersample=2,
        )

    def logo_tile(self, x: float, y: float, size: int) -> None:
        """The logo on a white rounded tile, so a logo in the brand colour still stands out."""
        if self.logo is None:
            return
        border = max(6, size // 16)
        self.shape(
            (x - border, y - border, x + size + border, y + size + border),
            (255, 255, 255, 255),
            radius=size * 0.24,
        )
        scaled = self.logo.resize((size, size), Image.Resampling.LANCZOS)
        self.image.paste(scaled, (round(x), round(y)), scaled)

    # Parts shared by several slides -------------------------------------------------

    def caption_block(self, text: str) -> TextBlock:
        layout = self.layout
        return self.fit_text(
            text,
            "bold",
            int(layout["caption_size"]),
            int(layout["caption_min_size"]),
            int(layout["caption_width"]) - 2 * self.caption_padding(),
            int(layout["caption_max_lines"]),
            leading=1.42,
        )

    def caption_padding(self) -> int:
        return round(int(self.layout["caption_size"]) * 0.55)

    def caption_top(self) -> int:
        """Top of the area kept for captions, the same on every slide so nothing jumps."""
        lines = int(self.layout["caption_max_lines"])
        line_height = round(int(self.layout["caption_size"]) * 1.42)
        return int(self.layout["caption_bottom"]) - lines * line_height - 2 * self.caption_padding()

    def caption(self, text: str) -> None:
        """The burned-in caption: white bold type on a translucent dark box, centred."""
        block = self.caption_block(text)
        pad = self.caption_padding()
        bottom = int(self.layout["caption_bottom"])
        top = bottom - block.height - 2 * pad
        half = block.width / 2 + pad * 1.4
        centre = self.width / 2
        self.shape((centre - half, top, centre + half, bottom), self.palette["caption_box"], radius=pad)
        self.write(block, centre, top + pad, self.palette["caption_text"], align="center")

    def footer(self, on_brand: bool) -> None:
        """Site and organisation under the captions, where phones show their own buttons."""
        room = self.height - int(self.layout["caption_bottom"])
        if room < 120:
            return
        colour = mix(self.palette["on_brand"], self.palette.brand, 0.3) if on_brand else self.palette["muted"]
        font = self.font("regular", int(self.layout["footer_size"]))
        text = f"{self.job.site_name} · {self.job.organization}"
        block = TextBlock(
            wrap(text, self.width - 2 * self.margin, font.getlength)[:1], font, round(font.size * 1.4)
        )
        self.write(block, self.width / 2, self.height - room / 2 - block.height / 2, colour, align="center")

    # Slides -----------------------------------------------------------------------

    def title_card(self) -> None:
        """Logo, organisation, kicker, title and audiences on the brand colour."""
        self.gradient_background()
        layout, palette = self.layout, self.palette
        on_brand = palette["on_brand"]
        region_top, region_bottom = self.margin * 1.5, self.caption_top() - self.margin * 0.5
        logo_size = int(layout["title_logo_size"]) if self.logo is not None else 0

        if self.landscape:
            # Logo and organisation on the left, the words on the right.
            left_width = logo_size + self.margin
            text_left = self.margin + left_width + self.margin
            text_width = self.width - text_left - self.margin
            parts = self._title_parts(text_width, align="left")
            total = sum(height for height, _ in parts)
            top = region_top + (region_bottom - region_top - total) / 2
            org = self.fit_text(
                self.job.organization,
                "regular",
                int(layout["title_org_size"]),
                28,
                left_width + self.margin,
                2,
            )
            column = logo_size + 30 + org.height
            column_top = region_top + (region_bottom - region_top - column) / 2
            centre = self.margin + left_width / 2
            self.logo_tile(centre - logo_size / 2, column_top, logo_size)
            self.write(org, centre, column_top + logo_size + 30, on_brand, align="center")
            for height, draw_part in parts:
                draw_part(text_left, top)
                top += height
        else:
            org = self.fit_text(
                self.job.organization,
                "regular",
                int(layout["title_org_size"]),
                28,
                self.width - 2 * self.margin,
                2,
            )
            parts = [
                (
                    logo_size + 36 if logo_size else 0,
                    lambda x, y: self.logo_tile(x - logo_size / 2, y, logo_size),
                ),
                (org.height + 60, lambda x, y: self.write(org, x, y, on_brand, align="center")),
                *self._title_parts(self.width - 2 * self.margin, align="center"),
            ]
            total = sum(height for height, _ in parts)
            top = region_top + (region_bottom - region_top - total) / 2
            for height, draw_part in parts:
                draw_part(self.width / 2, top)
                top += height
        self.footer(on_brand=True)

    def _title_parts(
        self, width: float, align: Literal["left", "center"]
    ) -> list[tuple[float, Callable[[float, float], None]]]:
        """Kicker label, title and audience chips as (height, draw at x, top) pieces."""
        layout, palette = self.layout, self.palette
        kicker_font = self.font("bold", int(layout["kicker_size"]))
        kicker_text = self.job.style.text["kicker"]
        kicker_pad = round(kicker_font.size * 0.6)
        kicker_height = round(kicker_font.size * 1.7)
        kicker_width = kicker_font.getlength(kicker_text) + 2 * kicker_pad

        def draw_kicker(x: float, y: float) -> None:
            left = x - kicker_width / 2 if align == "center" else x
            self.shape(
                (left, y, left + kicker_width, y + kicker_height), palette["accent"], radius=kicker_height / 2
            )
            block = TextBlock([kicker_text], kicker_font, kicker_height)
            self.write(block, left + kicker_width / 2, y, palette["accent_ink"], align="center")

        title = self.fit_text(
            self.job.title,
            "bold",
            int(layout["title_size"]),
            int(layout["title_min_size"]),
            width,
            int(layout["title_max_lines"]),
            leading=1.28,
        )
        parts: list[tuple[float, Callable[[float, float], None]]] = [
            (kicker_height + 44, draw_kicker),
            (title.height + 36, lambda x, y: self.write(title, x, y, palette["on_brand"], align=align)),
        ]
        if self.job.summary:
            summary = self.fit_text(
                self.job.summary,
                "regular",
                int(layout["summary_size"]),
                int(layout["summary_size"]) - 8,
                width * 0.94,
                int(layout["summary_max_lines"]),
                leading=1.5,
            )
            soft = mix(palette["on_brand"], palette.brand, 0.16)
            parts.append((summary.height + 44, lambda x, y: self.write(summary, x, y, soft, align=align)))
        if self.job.audiences:
            rows = self._chip_rows(width)
            chip_height = round(int(layout["chip_size"]) * 1.8)
            parts.append((len(rows) * (chip_height + 18), lambda x, y: self._draw_chips(rows, x, y, align)))
        return parts

    def _chip_rows(self, width: float) -> list[list[str]]:
        """Audience labels, preceded by "适合", split into rows that fit ``width``."""
        font = self.font("bold", int(self.layout["chip_size"]))
        gap, pad = 16, round(font.size * 0.7)
        labels = [self.job.style.text["audiences_label"], *self.job.audiences]
        rows: list[list[str]] = [[]]
        used = 0.0
        for label in labels:
            chip = font.getlength(label) + 2 * pad
            if rows[-1] and used + gap + chip > width:
                rows.append([])
                used = 0.0
            used += (gap if rows[-1] else 0) + chip
            rows[-1].append(label)
        return rows

    def _draw_chips(self, rows: list[list[str]], x: float, y: float, align: str) -> None:
        font = self.font("bold", int(self.layout["chip_size"]))
        gap, pad = 16, round(font.size * 0.7)
        chip_height = round(font.size * 1.8)
        first = True  # the "适合" word leads the first row as plain text; each audience is a pill
        for row in rows:
            widths = [font.getlength(label) + 2 * pad for label in row]
            left = x - (sum(widths) + gap * (len(row) - 1)) / 2 if align == "center" else x
            for label, chip_width in zip(row, widths, strict=True):
                if not first:
                    self.shape(
                        (left, y, left + chip_width, y + chip_height),
                        (255, 255, 255, 46),
                        radius=chip_height / 2,
                    )
                block = TextBlock([label], font, chip_height)
                self.write(block, left + chip_width / 2, y, self.palette["on_brand"], align="center")
                left += chip_width + gap
                first = False
            y += chip_height + 18

    def point_slide(self, slide: Slide, count: int) -> None:
        """A key point: header with logo and lesson, progress, big number, the point on a card."""
        layout, palette = self.layout, self.palette
        header = int(layout["header_height"])
        self.draw.rectangle((0, 0, self.width, header), fill=palette.brand[:3])
        self._header(header)
        self._progress(header, slide.number, count)

        widest_card = min(
            int(layout.get("card_width", self.width - 2 * self.margin)), self.width - 2 * self.margin
        )
        padding, bar, gap = int(layout["card_padding"]), 12, 24
        text = self.fit_text(
            slide.caption,
            "bold",
            int(layout["point_size"]),
            int(layout["point_min_size"]),
            widest_card - 2 * padding - bar - gap,
            int(layout["point_max_lines"]),
            leading=1.42,
        )
        card_width = widest_card
        if layout.get("card_hug", False):
            # On a wide frame the card hugs a short point instead of leaving a white
            # field beside it; its left edge (and the number above) stays put, so
            # a crossfade between two points does not show two cards.
            card_width = max(widest_card * 0.6, min(widest_card, text.width + 2 * padding + bar + gap))
        number_font = self.font("bold", int(layout["number_size"]))
        label_font = self.font("bold", int(layout["number_label_size"]))
        number_height = round(number_font.size * 1.05)
        card_height = text.height + 2 * padding
        region_top = header + int(layout["progress_height"]) + 40
        region_bottom = self.caption_top() - 40
        top = region_top + (region_bottom - region_top - number_height - 36 - card_height) / 2
        left = (self.width - widest_card) / 2

        # "01 / 06  要点": the big number tells at a glance how far along the video is.
        number = f"{slide.number:02d}"
        baseline = top + number_height * 0.86
        self.draw.text((left, baseline), number, font=number_font, fill=palette.brand[:3], anchor="ls")
        after = left + number_font.getlength(number) + 18
        label = f"/ {count:02d}  {self.job.style.text['point_label']}"
        self.draw.text((after, baseline), label, font=label_font, fill=palette["muted"][:3], anchor="ls")

        card_top = top + number_height + 36
        box = (left, card_top, left + card_width, card_top + card_height)
        radius = int(layout["card_radius"])
        self.shadow(box, radius)
        self.shape(box, palette["card"], radius=radius)
        self.shape(
            (left + padding, card_top + padding, left + padding + bar, card_top + card_height - padding),
            palette.brand,
            radius=bar / 2,
        )
        self.write(text, left + padding + bar + gap, card_top + padding, palette["ink"])
        self.footer(on_brand=False)

    def _header(self, height: int) -> None:
        layout, on_brand = self.layout, self.palette["on_brand"]
        logo_size = int(layout["logo_size"]) if self.logo is not None else 0
        # On phones the top of the frame sits under the status bar: the header's
        # content is centred below ``header_safe_top``.
        safe_top = int(layout.get("header_safe_top", 0))
        top = safe_top + (height - safe_top - logo_size) / 2
        text_left = self.margin + (logo_size + 28 if logo_size else 0)
        text_width = self.width - text_left - self.margin
        title_font = self.font("bold", int(layout["header_title_size"]))
        org_font = self.font("regular", int(layout["header_org_size"]))
        title = _ellipsize(self.job.header_title, text_width, title_font)
        org = _ellipsize(self.job.organization, text_width, org_font)
        title_block = TextBlock([title], title_font, round(title_font.size * 1.3))
        org_block = TextBlock([org], org_font, round(org_font.size * 1.4))
        text_height = title_block.height + org_block.height
        if logo_size:
            self.logo_tile(self.margin, top, logo_size)
        text_top = safe_top + (height - safe_top - text_height) / 2
        self.write(title_block, text_left, text_top, on_brand)
        self.write(
            org_block, text_left, text_top + title_block.height, mix(on_brand, self.palette.brand, 0.2)
        )

    def _progress(self, header: int, current: int, count: int) -> None:
        """Story-style segments under the header: one per key point, filled up to this one."""
        thickness, gap = int(self.layout["progress_height"]), 10
        top = header + 24
        width = (self.width - 2 * self.margin - gap * (count - 1)) / count
        done, todo = self.palette.brand, mix(self.palette.brand, (255, 255, 255), 0.72)
        for index in range(count):
            left = self.margin + index * (width + gap)
            self.shape(
                (left, top, left + width, top + thickness),
                done if index < current else todo,
                radius=thickness / 2,
            )

    def closing_card(self, qr: Image.Image) -> None:
        """The QR code to the lesson page on a white card, with who made the video and how to reach them."""
        self.gradient_background()
        layout, palette = self.layout, self.palette
        on_brand, soft = palette["on_brand"], mix(palette["on_brand"], palette.brand, 0.2)
        heading = self.fit_text(
            self.job.style.text["closing_heading"],
            "bold",
            int(layout["closing_heading_size"]),
            48,
            self.width - 2 * self.margin,
            1,
        )
        org = self.fit_text(
            self.job.organization,
            "bold",
            int(layout["closing_org_size"]),
            32,
            self.width - 2 * self.margin,
            2,
        )
        contact = self.fit_text(
            self.job.contact,
            "regular",
            int(layout["closing_contact_size"]),
            28,
            self.width - 2 * self.margin,
            2,
        )
        hint_font = self.font("regular", round(int(layout["closing_title_size"]) * 0.75))
        hint = TextBlock([self.job.style.text["closing_hint"]], hint_font, round(hint_font.size * 1.5))
        pad = 44
        card_width = qr.width + 2 * pad
        region_top, region_bottom = self.margin, self.caption_top() - self.margin * 0.5

        if self.landscape:
            text_left = self.margin * 2 + card_width + self.margin
            text_width = self.width - text_left - self.margin
            title = self.fit_text(
                self.job.title, "bold", int(layout["closing_title_size"]), 32, text_width, 2
            )
            card_height = qr.height + 2 * pad
            column = heading.height + 24 + title.height + hint.height + 56 + org.height + contact.height
            card_top = region_top + (region_bottom - region_top - card_height) / 2
            self._qr_card(qr, self.margin * 2, card_top, pad, card_height)
            top = region_top + (region_bottom - region_top - column) / 2
            for block, colour, gap in (
                (heading, on_brand, 24),
                (title, on_brand, 0),
                (hint, soft, 56),
                (org, on_brand, 0),
                (contact, soft, 0),
            ):
                self.write(block, text_left, top, colour)
                top += block.height + gap
        else:
            title = self.fit_text(self.job.title, "bold", int(layout["closing_title_size"]), 32, qr.width, 2)
            card_height = qr.height + pad + title.height + hint.height + pad
            total = heading.height + 40 + card_height + 56 + org.height + contact.height
            top = region_top + (region_bottom - region_top - total) / 2
            centre = self.width / 2
            self.write(heading, centre, top, on_brand, align="center")
            card_top = top + heading.height + 40
            self._qr_card(qr, centre - card_width / 2, card_top, pad, card_height)
            self.write(title, centre, card_top + pad + qr.height, palette["ink"], align="center")
            self.write(
                hint, centre, card_top + pad + qr.height + title.height, palette["muted"], align="center"
            )
            top = card_top + card_height + 56
            self.write(org, centre, top, on_brand, align="center")
            self.write(contact, centre, top + org.height, soft, align="center")
        self.footer(on_brand=True)

    def _qr_card(self, qr: Image.Image, left: float, top: float, pad: int, height: float) -> None:
        box = (left, top, left + qr.width + 2 * pad, top + height)
        self.shadow(box, 36, blur=26, drop=16)
        self.shape(box, self.palette["card"], radius=36)
        self.image.paste(qr, (round(left + pad), round(top + pad)))


def _ellipsize(text: str, width: float, font: ImageFont.FreeTypeFont) -> str:
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def qr_image(url: str, size: int, dark: RGBA) -> Image.Image:
    """The QR code as a crisp picture: whole pixels per module, at most ``size`` wide."""
    code = segno.make(url, error=QR_ERROR_CORRECTION, micro=False)
    rows = [
        bytes(0 if dark_module else 255 for dark_module in row)
        for row in code.matrix_iter(border=QR_QUIET_ZONE)
    ]
    modules = len(rows)
    grid = Image.frombytes("L", (modules, modules), b"".join(rows))
    scale = max(1, size // modules)
    mask = grid.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)
    picture = Image.new("RGB", mask.size, dark[:3])
    picture.paste((255, 255, 255), (0, 0), mask)
    return picture


def draw_slides(
    job: LessonVideoJob, slides: Sequence[Slide], orientation: str
) -> tuple[list[Image.Image], Image.Image]:
    """Every distinct picture of the video, with captions; and the title card without one (the cover)."""
    palette = Palette(job.style.colors, job.brand_color)
    logo = Image.open(job.logo).convert("RGBA") if job.logo else None
    count = sum(1 for slide in slides if slide.kind == "point")
    stills: list[Image.Image] = []
    cover: Image.Image | None = None
    for slide in slides:
        painter = Painter(job, orientation, palette, logo)
        if slide.kind == "title":
            painter.title_card()
            cover = painter.image.copy()
        elif slide.kind == "point":
            painter.point_slide(slide, count)
        else:
            size = int(painter.layout["qr_size"])
            painter.closing_card(qr_image(job.page_url, size, mix(palette.brand_dark, (0, 0, 0), 0.4)))
        painter.caption(slide.caption)
        stills.append(painter.image)
    assert cover is not None
    return stills, cover


# -- encoding -----------------------------------------------------------------------

# BT.709, limited ("TV") range: the matrix HD players assume. ffmpeg's own RGB
# conversion would use BT.601 and leave the file untagged, shifting greens.
BT709_RGB_TO_YCBCR = (
    0.182586, 0.614231, 0.062007, 16.0,
    -0.100644, -0.338572, 0.439216, 128.0,
    0.439216, -0.398942, -0.040274, 128.0,
)  # fmt: skip


def yuv420p(image: Image.Image) -> bytes:
    """One frame in ffmpeg's yuv420p layout: full-size Y, then Cb and Cr at half size."""
    luma, blue, red = image.convert("RGB", matrix=BT709_RGB_TO_YCBCR).split()
    return luma.tobytes() + blue.reduce(2).tobytes() + red.reduce(2).tobytes()


def ffmpeg_binary() -> str:
    found = shutil.which("ffmpeg")
    if found is None:
        raise VideoToolMissing(
            "找不到 ffmpeg：请安装（sudo apt-get install ffmpeg，或运行 .ci/system-deps.sh）"
        )
    return found


def encode_mp4(
    frames: Sequence[bytes],
    size: tuple[int, int],
    timeline: Timeline,
    soundtrack: Path | None,
    style: VideoStyle,
    dest: Path,
) -> None:
    """Encode the distinct ``frames`` (yuv420p, one per slide) along ``timeline`` into ``dest``."""
    schedule = frame_schedule(timeline)
    width, height = size
    encoder, audio = style.encoder, style.audio
    seconds = f"{timeline.seconds:.6f}"
    # The audio input is cut to the video's length; the video's length is set by the
    # schedule, whose last frame is the last frame of the video.
    if soundtrack is not None:
        audio_input = ["-t", seconds, "-i", str(soundtrack)]
    else:
        audio_input = ["-f", "lavfi", "-t", seconds, "-i", f"anullsrc=r={audio.sample_rate}:cl=stereo"]
    command = [
        ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-framerate", str(timeline.fps),
        "-i", "pipe:0",
        *audio_input,
        "-map", "0:v", "-map", "1:a",
        "-filter:v", retime_filter(schedule, timeline.fps),
        "-c:v", "libx264", "-preset", encoder.preset, "-crf", str(encoder.crf),
        *(["-tune", encoder.tune] if encoder.tune else []),
        *(["-x264-params", encoder.x264_params] if encoder.x264_params else []),
        "-profile:v", "high", "-pix_fmt", "yuv420p", "-threads", str(encoder.threads),
        "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
        "-c:a", "aac", "-b:a", audio.bitrate, "-ar", str(audio.sample_rate), "-ac", "2",
        # Same input, same bytes: no encoder version strings, dates or source metadata.
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        "-map_metadata", "-1", "-map_chapters", "-1",
        # moov before mdat, so phones start playing before the whole file arrived.
        "-movflags", "+faststart",
        str(dest),
    ]  # fmt: skip
    errors = dest.with_suffix(".ffmpeg.log")
    with errors.open("wb") as error_log:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=error_log
        )
        assert process.stdin is not None
        try:
            for data in _scheduled_frames(frames, schedule):
                process.stdin.write(data)
            process.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg stopped early; its log says why
        finally:
            returncode = process.wait()
    if returncode != 0:
        message = errors.read_text(encoding="utf-8", errors="replace").strip()[-2000:]
        raise VideoEncodingError(f"ffmpeg 编码 {dest.name} 失败（退出码 {returncode}）：{message}")
    errors.unlink()


def _scheduled_frames(
    frames: Sequence[bytes], schedule: Sequence[ScheduledFrame]
) -> Iterator[bytes | memoryview]:
    """The bytes of each scheduled frame; crossfades blended from the cached stills."""
    widened: dict[int, np.ndarray] = {}  # slide → its planes as uint16, for blending

    def planes(index: int) -> np.ndarray:
        if index not in widened:
            widened[index] = np.frombuffer(frames[index], dtype=np.uint8).astype(np.uint16)
        return widened[index]

    for item in schedule:
        if item.blend == 0:
            yield frames[item.slide]
            continue
        for done in [index for index in widened if index < item.slide]:
            del widened[done]  # a crossfade only needs this slide and the next
        # Integer blend with rounding; linear in YCbCr is the same as linear in RGB.
        mixed = (planes(item.slide) * (256 - item.blend) + planes(item.slide + 1) * item.blend + 128) >> 8
        yield memoryview(mixed.astype(np.uint8))


def write_srt(slides: Sequence[Slide], timeline: Timeline, dest: Path) -> None:
    """One cue per slide with its caption, from its first to its last frame."""
    cues = []
    for index, slide in enumerate(slides):
        start, end = timeline.cue(index)
        cues.append(f"{index + 1}\n{srt_time(start)} --> {srt_time(end)}\n{slide.caption}\n")
    dest.write_text("\n".join(cues), encoding="utf-8")


def srt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d},{millis:03d}"


# -- one lesson, start to finish (runs in a worker process) --------------------------


def render_lesson_video(job: LessonVideoJob) -> RenderedVideo:
    job.work_dir.mkdir(parents=True, exist_ok=True)
    slides = job.slides()
    timing = job.style.timing

    speech_files: list[Path | None] = [None] * len(slides)
    speech_seconds: list[float | None] = [None] * len(slides)
    if job.narration:
        for index, slide in enumerate(slides):
            speech_files[index] = job.work_dir / f"speech-{index:02d}.wav"
            speech_seconds[index] = synthesize_speech(slide.caption, job.style.audio, speech_files[index])
    timeline = plan_timeline(
        [slide_seconds(s, timing, t) for s, t in zip(slides, speech_seconds, strict=True)], timing
    )

    files: dict[str, Path] = {}
    orientations = ORIENTATIONS if job.landscape else ORIENTATIONS[:1]
    # The soundtrack is mixed on a second thread while the first slides are drawn:
    # both wait mostly on C code and subprocesses, and the encoder needs both.
    with ThreadPoolExecutor(max_workers=1) as background:
        soundtrack: Future[Path | None] = background.submit(
            _soundtrack_for, job, timeline, speech_files, job.work_dir / "soundtrack.wav"
        )
        for orientation in orientations:
            stills, cover = draw_slides(job, slides, orientation)
            if orientation == "portrait":
                files["video-cover"] = job.work_dir / OUTPUTS["video-cover"]
                quality = job.style.encoder.cover_quality
                cover.save(files["video-cover"], "JPEG", quality=quality, optimize=True, subsampling=0)
            size = stills[0].size
            frames = [yuv420p(still) for still in stills]
            del stills, cover  # the encoder only needs the planes; keeps a worker well under 1 GiB
            kind = "video" if orientation == "portrait" else "video-landscape"
            files[kind] = job.work_dir / OUTPUTS[kind]
            encode_mp4(frames, size, timeline, soundtrack.result(), job.style, files[kind])
    files["video-captions"] = job.work_dir / OUTPUTS["video-captions"]
    write_srt(slides, timeline, files["video-captions"])
    return RenderedVideo(dict(sorted(files.items())), timeline.seconds)


def _soundtrack_for(
    job: LessonVideoJob, timeline: Timeline, speech_files: Sequence[Path | None], dest: Path
) -> Path | None:
    """The lesson's music and narration mixed into ``dest``; None for a silent video."""
    if job.music is None and not job.narration:
        return None
    pause = job.style.timing.narration_pause_seconds
    speech = [(timeline.cue(index)[0] + pause / 2, wav) for index, wav in enumerate(speech_files) if wav]
    return compose_soundtrack(timeline.seconds, job.music, speech, job.style.audio, dest)


# -- the renderer --------------------------------------------------------------------


def render(project: Project, ctx: RenderContext) -> Iterator[Artifact]:
    style = load_style(project.root)
    try:
        ffmpeg = ffmpeg_binary()
        fonts = resolve_fonts(style)
    except VideoToolMissing as missing:  # the style names the fonts and the encoder
        raise RenderError(f"templates/{STYLE_FILE}", "视频", missing) from missing
    narration = project.config.video.narration == "espeak"
    if narration and shutil.which("espeak-ng") is None:
        ctx.diagnostics.warning(
            "site_config.yml",
            0,
            "video.narration: espeak 需要 espeak-ng，本机没有安装，视频不配音（sudo apt-get install espeak-ng）",
        )
        narration = False
    # What else decides the bytes: the encoder build and the font files.
    tools = {
        "ffmpeg": ffmpeg_version(ffmpeg),
        "fonts": {weight: file_digest(Path(path)) for weight, (path, _) in fonts.items()},
    }
    templates = templates_digest(project.root, "video")
    ctx.progress.start(len(project.lessons))
    pending: list[tuple[Lesson, LessonVideoJob, str]] = []
    for lesson in project.lessons:
        job = make_job(project, lesson, style, fonts, narration, ctx.work_dir / lesson.slug)
        key = fingerprint("video", VIDEO_RENDERER_VERSION, job.inputs(), templates, tools)
        artifacts = ctx.reuse(key)
        if artifacts is None:
            pending.append((lesson, job, key))
            continue
        ctx.progress.advance()
        yield from artifacts
    rendered_videos = iter(parallel_map(render_lesson_video, [job for _, job, _ in pending], ctx.jobs))
    for lesson, _, key in pending:
        try:
            rendered = next(rendered_videos)
        except Exception as error:  # the pool has stopped; the build ends cleanly, naming the lesson
            raise RenderError(lesson.source, f"video/{lesson.site_path}", error) from error
        audiences = tuple(term.label for term in lesson.audiences)
        artifacts = [
            Artifact(kind, f"video/{lesson.site_path}{OUTPUTS[kind]}", lesson.source, audiences, file=file)
            for kind, file in rendered.files.items()
        ]
        ctx.keep(key, artifacts)
        ctx.progress.advance()
        yield from artifacts


def ffmpeg_version(ffmpeg: str) -> str:
    output = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True, check=False).stdout
    return output.splitlines()[0] if output else "unknown"


def make_job(
    project: Project,
    lesson: Lesson,
    style: VideoStyle,
    fonts: dict[str, FontFile],
    narration: bool,
    work_dir: Path,
) -> LessonVideoJob:
    config = project.config
    return LessonVideoJob(
        slug=lesson.slug,
        title=lesson.title,
        summary=lesson.summary,
        header_title=lesson.short_title or lesson.title,
        audiences=tuple(term.label for term in lesson.audiences),
        key_points=tuple(lesson.key_points),
        page_url=config.url + lesson.site_path,
        site_name=config.name,
        organization=config.organization,
        contact=config.contact,
        brand_color=config.brand_color,
        logo=project.root / config.logo if config.logo else None,
        music=project.root / config.video.music if config.video.music else None,
        narration=narration,
        landscape=config.video.landscape,
        style=style,
        fonts=fonts,
        work_dir=work_dir,
    )


RENDERER = Renderer(
    name="video",
    label="短视频",
    kinds=tuple(OUTPUTS),
    render=render,
    preload=("numpy", "PIL.Image"),
)
