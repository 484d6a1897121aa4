"""From slides to files: the frame timeline, yuv420p frames, the ffmpeg call and the SRT captions."""

from __future__ import annotations

import itertools
import math
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
from builder.renderers.video.wording import caption_phrase


class VideoEncodingError(RuntimeError):
    """ffmpeg failed; the message carries the end of its error output."""


# -- timeline -----------------------------------------------------------------------


@dataclass(frozen=True)
class Timeline:
    """Slides on a frame grid: slide i shows from ``starts[i]`` for ``lengths[i]`` frames.

    A crossfade of ``crossfade`` frames is centred on every boundary, so the SRT
    cue of a slide (its start to its end) is exactly the middle of its fades.
    Within a slide, ``beats[i]`` are the frames (from its start) where each of its
    phrases begins to fade in, over ``fade`` frames; the first is always 0.
    """

    fps: int
    lengths: tuple[int, ...]
    crossfade: int  # frames, even
    beats: tuple[tuple[int, ...], ...] = ()
    fade: int = 0

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

    def slide_beats(self, index: int) -> tuple[int, ...]:
        return self.beats[index] if self.beats else (0,)

    def beat_cues(self, index: int) -> list[tuple[float, float]]:
        """Start and end (seconds) of each phrase of slide ``index``: from the middle of its
        fade-in (the slide's start for the first) to the next one's, the last to the slide's end."""
        start = self.starts[index]
        beats = self.slide_beats(index)
        marks = [start, *(start + beat + self.fade // 2 for beat in beats[1:]), start + self.lengths[index]]
        return [(a / self.fps, b / self.fps) for a, b in itertools.pairwise(marks)]

    def first_still(self, index: int) -> int:
        """The index, among every still of the video, of slide ``index``'s first phrase."""
        return sum(len(self.slide_beats(slide)) for slide in range(index))


def plan_timeline(
    seconds: Sequence[float], timing: Timing, beat_seconds: Sequence[Sequence[float]] | None = None
) -> Timeline:
    """Slides of ``seconds`` on the frame grid; ``beat_seconds[i]``: when (seconds from the
    start of slide i) each of its phrases after the first fades in."""
    half_fade = round(timing.crossfade_seconds * timing.fps / 2)
    # Each slide keeps at least a few still frames between its two fades, and lasts a
    # whole number of motion steps (frames are sent one a step, see frame_schedule).
    step = timing.motion_step_frames
    shortest = 2 * half_fade + 2
    lengths = tuple(-(-max(shortest, round(s * timing.fps)) // step) * step for s in seconds)
    fade = max(1, round(timing.phrase_fade_seconds * timing.fps))
    beats: list[tuple[int, ...]] = []
    for index, length in enumerate(lengths):
        wanted = beat_seconds[index] if beat_seconds else ()
        # A phrase never fades in during the slide's crossfades, and each holds a moment.
        earliest, latest = half_fade + 1, length - half_fade - fade - 1
        frames, gap = [0], fade + 2
        for at in wanted:
            frames.append(max(round(at * timing.fps), earliest, frames[-1] + gap if len(frames) > 1 else 0))
        # Pulled earlier from the last one if the phrases ran into the slide's closing fade.
        for position in range(len(frames) - 1, 0, -1):
            frames[position] = min(frames[position], latest - (len(frames) - 1 - position) * gap)
        if len(frames) > 1 and frames[1] < earliest:
            frames = [0]  # too short a slide to build in: all its words at once
        beats.append(tuple(frames))
    return Timeline(timing.fps, lengths, 2 * half_fade, tuple(beats), fade)


def slide_seconds(slide: Slide, timing: Timing, speech: float | None) -> float:
    """How long a slide stays: fixed for the cards, from the text's length for key points.

    With narration the slide lasts as long as its speech plus a pause, never less
    than without it.
    """
    if slide.kind == "hook":
        return timing.hook_seconds  # music only, never narrated
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


def phrase_seconds(slide: Slide, timing: Timing, speech: float | None, length: float) -> list[float]:
    """When each phrase of ``slide`` after the first fades in, in seconds from the slide's start.

    With narration, as the speech reaches it (the speech starts half a pause in and
    its words are spread by their reading length: the backends give no word times);
    without, at the reading pace after the lead. A phrase shows a moment before it
    is read, as a reader's eye runs ahead.
    """
    units = [max(1, reading_units(phrase)) for phrase in slide.beats]
    if len(units) < 2:
        return []
    if speech is not None:
        begin, span = timing.narration_pause_seconds / 2, speech
    else:
        begin = timing.point_lead_seconds / 2
        # The last phrase keeps a second to be read, on a short slide half of what is left.
        span = max(
            min(sum(units) / timing.reading_units_per_second, length - begin - 1.0), (length - begin) / 2
        )
    ahead = 0.15
    return [
        max(0.0, begin + span * sum(units[:index]) / sum(units) - ahead) for index in range(1, len(units))
    ]


@dataclass(frozen=True)
class ScheduledFrame:
    """One distinct frame sent to ffmpeg: where it goes and what it shows.

    ``still`` and ``other`` index every still of the video (each phrase of each
    slide); ``fill`` is how far the still's moving bar has run (0–1, or -1 for a
    still without one).
    """

    at: int  # output frame index
    still: int
    blend: int = 0  # 0: the still as is; 1..255: weight (of 256) of ``other``
    other: int = 0
    fill: float = -1.0
    other_fill: float = -1.0
    slide: int = 0  # the slide ``still`` belongs to
    phrase: bool = False  # a phrase of the slide fading in (not a crossfade between slides)

    def shows(self) -> tuple[int, int, int, float, float]:
        return (self.still, self.blend, self.other, self.fill, self.other_fill)


def _eased(step: int, steps: int) -> int:
    progress = (step + 1) / (steps + 1)
    eased = progress * progress * (3 - 2 * progress)  # smoothstep: no jolt at either end
    return max(1, min(255, round(eased * 256)))


def frame_schedule(
    timeline: Timeline, moving: Sequence[bool] | None = None, step: int = 1
) -> list[ScheduledFrame]:
    """The frames sent to ffmpeg, one every ``step`` frames of the video, in order.

    Each says which still it shows, blended with which, and how far the bar of each
    has run; ffmpeg's ``fps`` filter holds each for ``step`` frames. ``moving[i]``:
    slide i has a bar that runs from its start to its end. Slides start and last a
    whole number of steps (plan_timeline), so the video ends on its last frame.
    """
    count, half = len(timeline.lengths), timeline.crossfade // 2
    starts = timeline.starts
    moving = moving or [False] * count

    def fill(slide: int, frame: int) -> float:
        if not moving[slide]:
            return -1.0
        return min(1.0, max(0.0, (frame - starts[slide]) / timeline.lengths[slide]))

    def last_still(slide: int) -> int:
        return timeline.first_still(slide) + len(timeline.slide_beats(slide)) - 1

    schedule: list[ScheduledFrame] = []
    for slide in range(count):
        start, length = starts[slide], timeline.lengths[slide]
        beats, first = timeline.slide_beats(slide), timeline.first_still(slide)
        for frame in range(start, start + length, step):
            local = frame - start
            if slide > 0 and local < half:  # the second half of the crossfade into this slide
                item = ScheduledFrame(
                    frame, last_still(slide - 1), _eased(local + half, timeline.crossfade), first,
                    fill(slide - 1, frame), fill(slide, frame), slide - 1,
                )  # fmt: skip
            elif slide < count - 1 and local >= length - half:  # the first half of the one out
                item = ScheduledFrame(
                    frame, last_still(slide), _eased(local - (length - half), timeline.crossfade),
                    first + len(beats), fill(slide, frame), fill(slide + 1, frame), slide,
                )  # fmt: skip
            else:
                beat = max(index for index, at in enumerate(beats) if at <= local)
                into = local - beats[beat]
                if beat > 0 and into < timeline.fade:  # a phrase fading in
                    item = ScheduledFrame(
                        frame, first + beat - 1, _eased(into, timeline.fade), first + beat,
                        fill(slide, frame), fill(slide, frame), slide, True,
                    )  # fmt: skip
                else:
                    item = ScheduledFrame(frame, first + beat, fill=fill(slide, frame), slide=slide)
            schedule.append(item)
    return schedule


def retime_filter(step: int, fps: int) -> str:
    """ffmpeg's filter from the frames sent (one every ``step`` frames) to ``fps``.

    Every picture moves on a grid of ``step`` frames (timing.motion_step_frames), so
    Python sends one frame a step at ``fps / step`` and ffmpeg's ``fps`` filter repeats
    each: x264 still gets a constant ``fps``, with half the bytes through the pipe.
    """
    return f"fps={fps}"


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


@dataclass(frozen=True)
class Strip:
    """A bar that runs across a still as its slide goes on (its progress, a rule growing).

    ``planes`` are the bar's box, full, in yuv420p; the still itself shows it empty.
    The box has even coordinates and sizes, so its chroma samples are the frame's.
    """

    left: int
    top: int
    width: int
    height: int
    planes: bytes

    def paint(self, frame: np.ndarray, fill: float, size: tuple[int, int]) -> None:
        """Draw the bar ``fill`` (0–1) of the way across ``frame`` (flat yuv420p, in place)."""
        run = round(fill * self.width / 2) * 2
        if run <= 0:
            return
        width, height = size
        luma = self.width * self.height
        ours = np.frombuffer(self.planes, dtype=np.uint8)
        y = frame[: width * height].reshape(height, width)
        y[self.top : self.top + self.height, self.left : self.left + run] = ours[:luma].reshape(
            self.height, self.width
        )[:, :run]
        quarter = (width // 2) * (height // 2)
        small = (self.width // 2) * (self.height // 2)
        for plane in range(2):
            chroma = frame[width * height + plane * quarter : width * height + (plane + 1) * quarter]
            theirs = ours[luma + plane * small : luma + (plane + 1) * small].reshape(
                self.height // 2, self.width // 2
            )
            chroma.reshape(height // 2, width // 2)[
                self.top // 2 : (self.top + self.height) // 2, self.left // 2 : (self.left + run) // 2
            ] = theirs[:, : run // 2]


def encode_mp4(
    frames: Sequence[bytes],
    strips: Sequence[Strip | None],
    size: tuple[int, int],
    timeline: Timeline,
    soundtrack: Path | None,
    style: VideoStyle,
    dest: Path,
) -> None:
    """Encode the stills (yuv420p, one per phrase of each slide, with their moving bars)
    along ``timeline`` into ``dest``."""
    moving = [strips[timeline.first_still(index)] is not None for index in range(len(timeline.lengths))]
    step = style.timing.motion_step_frames
    schedule = frame_schedule(timeline, moving, step)
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
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-framerate", f"{timeline.fps}/{step}",
        "-i", "pipe:0",
        *audio_input,
        "-map", "0:v", "-map", "1:a",
        "-filter:v", retime_filter(step, timeline.fps),
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
            caption_top = math.floor(
                style.safe_area("portrait" if height > width else "landscape").caption_band[0] * height
            )
            for data in scheduled_frames(frames, strips, size, schedule, caption_top):
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


def scheduled_frames(
    frames: Sequence[bytes],
    strips: Sequence[Strip | None],
    size: tuple[int, int],
    schedule: Sequence[ScheduledFrame],
    caption_top: int | None = None,
) -> Iterator[bytes | memoryview]:
    """The bytes of each scheduled frame: a still, its bar drawn to its fill, or two blended.

    Two phrases of one slide differ only where the new words and the caption are, so
    their fade blends just the rows between the first and the last byte that differ
    (of each plane), and cuts the caption (rows from ``caption_top`` down) to the new
    phrase; a crossfade between slides blends the whole frame.
    """
    width, height = size
    planes = (0, width * height, width * height * 5 // 4, width * height * 3 // 2)
    spans: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def picture(still: int, fill: float) -> np.ndarray:
        base = np.frombuffer(frames[still], dtype=np.uint8)
        strip = strips[still]
        if strip is None or fill <= 0:
            return base
        painted = base.copy()
        strip.paint(painted, fill, size)
        return painted

    def differing(a: int, b: int) -> list[tuple[int, int]]:
        if (a, b) not in spans:
            found = []
            for low, high in itertools.pairwise(planes):
                changed = np.flatnonzero(
                    np.frombuffer(frames[a], np.uint8)[low:high]
                    != np.frombuffer(frames[b], np.uint8)[low:high]
                )
                if len(changed):
                    found.append((low + int(changed[0]), low + int(changed[-1]) + 1))
            spans[(a, b)] = found
        return spans[(a, b)]

    def blend(a: np.ndarray, b: np.ndarray, weight: int) -> np.ndarray:
        # Integer blend with rounding; linear in YCbCr is the same as linear in RGB.
        mixed = (a.astype(np.uint16) * (256 - weight) + b.astype(np.uint16) * weight + 128) >> 8
        return mixed.astype(np.uint8)

    for item in schedule:
        if item.blend == 0:
            strip = strips[item.still]
            yield (
                frames[item.still]
                if strip is None or item.fill <= 0
                else memoryview(picture(item.still, item.fill))
            )
            continue
        if item.fill == item.other_fill and strips[item.still] == strips[item.other]:
            # Two phrases of one slide (or two slides without bars): the bar, if any, is
            # where it is in both, and only the bytes that differ need blending.
            mixed = np.frombuffer(frames[item.still], dtype=np.uint8).copy()
            other = np.frombuffer(frames[item.other], dtype=np.uint8)
            for low, high in differing(item.still, item.other):
                mixed[low:high] = blend(mixed[low:high], other[low:high], item.blend)
            if item.phrase and caption_top is not None:
                # The caption cuts to the new phrase, as subtitles do: two boxes of text
                # blended over each other read as neither.
                for plane, (low, high) in enumerate(itertools.pairwise(planes)):
                    row_width, top = (width, caption_top) if plane == 0 else (width // 2, caption_top // 2)
                    mixed[low + top * row_width : high] = other[low + top * row_width : high]
            strip = strips[item.still]
            if strip is not None and item.fill > 0:
                strip.paint(mixed, item.fill, size)
            yield memoryview(mixed)
            continue
        yield memoryview(
            blend(picture(item.still, item.fill), picture(item.other, item.other_fill), item.blend)
        )


def write_srt(slides: Sequence[Slide], timeline: Timeline, dest: Path) -> None:
    """One cue per phrase: a key point's phrases one after the other, as the caption shows them."""
    cues = []
    for index, slide in enumerate(slides):
        for phrase, (start, end) in zip(slide.beats, timeline.beat_cues(index), strict=True):
            cues.append(f"{len(cues) + 1}\n{srt_time(start)} --> {srt_time(end)}\n{caption_phrase(phrase)}\n")
    dest.write_text("\n".join(cues), encoding="utf-8")


def srt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d},{millis:03d}"
