"""From slides to files: the frame timeline, yuv420p frames, the ffmpeg call and the SRT captions."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from builder.cjk import reading_units
from builder.renderers.video.job import Slide
from builder.renderers.video.style import Timing, VideoStyle, VideoToolMissing


class VideoEncodingError(RuntimeError):
    """ffmpeg failed; the message carries the end of its error output."""


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
