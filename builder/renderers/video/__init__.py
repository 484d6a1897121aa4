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

Every video has sound: the project's music or a music bed synthesised from the
style's mood, ducked under the narration when there is one (espeak-ng, the editor's
recordings or a cloud voice — see ``narration``), mixed in numpy and normalised to
−16 LUFS (see ``audio``).

The package, by concern (its modules never import this one, so imports run one way):

- ``style``  — ``style.yml`` merged over the default, the palette, the font files
- ``job``    — the slides of a lesson and the picklable job a worker renders
- ``paint``  — Pillow drawing of the cards, the key points and the captions
- ``narration`` — the narration backends (espeak, recorded, baidu) and their speech cache
- ``audio``  — the music bed, ducking and loudness
- ``encode`` — the frame timeline, yuv420p frames, ffmpeg and the SRT captions
- here       — one lesson start to finish (the worker) and the renderer: planning, ``render``
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from builder.cache import file_digest, fingerprint, templates_digest
from builder.diagnostics import ContentError, Diagnostics
from builder.fonts import FontFile
from builder.model import Lesson, Project
from builder.pictograms import pictogram_svg
from builder.renderers.base import RenderContext, Renderer, RenderError, Unit
from builder.renderers.video.audio import audio_seconds, compose_soundtrack
from builder.renderers.video.encode import (
    Strip,
    Timeline,
    encode_mp4,
    ffmpeg_binary,
    phrase_seconds,
    plan_timeline,
    slide_seconds,
    write_srt,
    yuv420p,
)
from builder.renderers.video.job import LessonVideoJob
from builder.renderers.video.narration import (
    Narrator,
    find_recordings,
    narrate,
    narration_cache_folder,
    narrator_for,
)
from builder.renderers.video.paint import draw_slides
from builder.renderers.video.style import (
    ORIENTATIONS,
    STYLE_FILE,
    VideoStyle,
    VideoToolMissing,
    load_style,
    resolve_fonts,
)
from builder.search_terms import user_dictionary
from builder.writer import Artifact

# Bump when a change to this package changes the videos, so cached ones are rendered again.
VIDEO_RENDERER_VERSION = 5
# Output file name and artifact kind of everything a lesson's video produces.
OUTPUTS = {
    "video": "video.mp4",
    "video-landscape": "landscape.mp4",
    "video-captions": "captions.srt",
    "video-cover": "cover.jpg",
}


# -- one lesson, start to finish (runs in a worker process) --------------------------


def render_lesson_video(job: LessonVideoJob) -> dict[str, Path]:
    """Render one lesson's files into its work folder; artifact kind → file, by kind."""
    job.work_dir.mkdir(parents=True, exist_ok=True)
    slides = job.slides()
    timing = job.style.timing

    speech_files: list[Path | None] = [None] * len(slides)
    speech_seconds: list[float | None] = [None] * len(slides)
    if job.narrator is not None:
        # The hook is music only; the narration (and an editor's recording 01) starts at the title.
        spoken = [index for index, slide in enumerate(slides) if slide.spoken]
        clips = narrate(
            job.narrator, [slides[index].caption for index in spoken], job.work_dir, job.narration_cache
        )
        for index, clip in zip(spoken, clips, strict=True):
            speech_files[index] = clip
            speech_seconds[index] = audio_seconds(clip, job.style.audio.sample_rate)
    seconds = [slide_seconds(s, timing, t) for s, t in zip(slides, speech_seconds, strict=True)]
    beats = [
        phrase_seconds(slide, timing, speech, length)
        for slide, speech, length in zip(slides, speech_seconds, seconds, strict=True)
    ]
    timeline = plan_timeline(seconds, timing, beats)

    files: dict[str, Path] = {}
    orientations = ORIENTATIONS if job.landscape else ORIENTATIONS[:1]
    # The soundtrack is mixed on a second thread while the first slides are drawn:
    # both wait mostly on C code and subprocesses, and the encoder needs both.
    with ThreadPoolExecutor(max_workers=1) as background:
        soundtrack: Future[Path] = background.submit(
            _soundtrack_for, job, timeline, speech_files, job.work_dir / "soundtrack.wav"
        )
        for orientation in orientations:
            stills, bars, cover = draw_slides(job, slides, orientation)
            if orientation == "portrait":
                files["video-cover"] = job.work_dir / OUTPUTS["video-cover"]
                quality = job.style.encoder.cover_quality
                cover.save(files["video-cover"], "JPEG", quality=quality, optimize=True, subsampling=0)
            size = stills[0].size
            frames = [yuv420p(still) for still in stills]
            strips = _strips(bars)
            del stills, cover, bars  # the encoder only needs the planes; keeps a worker well under 1 GiB
            kind = "video" if orientation == "portrait" else "video-landscape"
            files[kind] = job.work_dir / OUTPUTS[kind]
            encode_mp4(frames, strips, size, timeline, soundtrack.result(), job.style, files[kind])
    files["video-captions"] = job.work_dir / OUTPUTS["video-captions"]
    write_srt(slides, timeline, files["video-captions"])
    return dict(sorted(files.items()))


def _strips(bars: Sequence[tuple[tuple[int, int, int, int], Image.Image] | None]) -> list[Strip | None]:
    """Each still's moving bar in the encoder's terms; the phrases of a slide share one."""
    made: dict[int, Strip] = {}
    strips: list[Strip | None] = []
    for bar in bars:
        if bar is None:
            strips.append(None)
            continue
        if id(bar) not in made:
            (left, top, right, bottom), full = bar
            made[id(bar)] = Strip(left, top, right - left, bottom - top, yuv420p(full))
        strips.append(made[id(bar)])
    return strips


def _soundtrack_for(
    job: LessonVideoJob, timeline: Timeline, speech_files: Sequence[Path | None], dest: Path
) -> Path:
    """The lesson's music (its own file or the style's mood) and narration mixed into ``dest``."""
    pause = job.style.timing.narration_pause_seconds
    speech = [(timeline.cue(index)[0] + pause / 2, wav) for index, wav in enumerate(speech_files) if wav]
    return compose_soundtrack(timeline.seconds, job.music, speech, job.style.audio, dest)


# -- the renderer --------------------------------------------------------------------


def render(project: Project, ctx: RenderContext) -> Iterator[Artifact]:
    yield from ctx.render_units(plan(project, ctx), lambda plan: plan.job, render_lesson_video, _artifacts)


def plan(project: Project, ctx: RenderContext) -> list[Unit[LessonPlan]]:
    """Every lesson's videos as a unit, keyed; the tools, style and voice checked first."""
    style = load_style(project.root)
    try:
        ffmpeg = ffmpeg_binary()
        fonts = resolve_fonts(style)
    except VideoToolMissing as missing:  # the style names the fonts and the encoder
        raise RenderError(f"templates/{STYLE_FILE}", "视频", missing) from missing
    options = project.config.video
    try:
        narrator = narrator_for(options.narration, options.voice, style.audio)
    except VideoToolMissing as missing:  # a cloud voice without its key: one sentence, nothing rendered
        raise RenderError("site_config.yml", "视频配音", missing) from missing
    if options.narration == "espeak" and shutil.which("espeak-ng") is None:
        ctx.diagnostics.warning(
            "site_config.yml",
            0,
            "video.narration: espeak 需要 espeak-ng，本机没有安装，视频不配音（sudo apt-get install espeak-ng）",
        )
        narrator = None
    problems = Diagnostics()
    recordings = recordings_by_lesson(project, problems)
    if problems.errors:  # a missing or extra recording, at path:line: nothing is rendered
        ctx.diagnostics.extend(problems)
        raise ContentError(ctx.diagnostics)
    speech_cache = narration_cache_folder(ctx.cache.folder)
    # What else decides the bytes: the encoder build and the font files.
    tools = {
        "ffmpeg": ffmpeg_version(ffmpeg),
        "fonts": {weight: file_digest(Path(path)) for weight, (path, _) in fonts.items()},
    }
    templates = templates_digest(project.root, "video")
    units: list[Unit[LessonPlan]] = []
    words = tuple(user_dictionary(project))
    for lesson in project.lessons:
        lesson_narrator = recordings.get(lesson.slug) if options.narration == "recorded" else narrator
        job = make_job(
            project, lesson, style, fonts, lesson_narrator, ctx.work_dir / lesson.slug, speech_cache, words
        )
        key = fingerprint("video", VIDEO_RENDERER_VERSION, job.inputs(), templates, tools)
        units.append(Unit(key, LessonPlan(lesson, job), lesson.source, f"video/{lesson.site_path}"))
    return units


def recordings_by_lesson(project: Project, diagnostics: Diagnostics) -> dict[str, Narrator]:
    """With ``video.narration: recorded``, each lesson's recordings, by slug; every missing,
    doubled or extra recording is an error in ``diagnostics`` (and its lesson is left out)."""
    if project.config.video.narration != "recorded":
        return {}
    found: dict[str, Narrator] = {}
    for lesson in project.lessons:
        slides = len(lesson.key_points) + 2  # title, the key points, closing (job.slides())
        recorded = find_recordings(project.root, lesson, slides, diagnostics)
        if recorded is not None:
            found[lesson.slug] = recorded
    return found


def check(project: Project, diagnostics: Diagnostics, _cache: object, _jobs: int) -> None:
    """For ``kepu check``: the recordings ``video.narration: recorded`` needs, one a slide."""
    recordings_by_lesson(project, diagnostics)


@dataclass(frozen=True)
class LessonPlan:
    """A lesson and its video job: the job goes to a worker, the lesson names the artifacts."""

    lesson: Lesson
    job: LessonVideoJob


def _artifacts(unit: Unit[LessonPlan], files: dict[str, Path], _warnings: Diagnostics) -> list[Artifact]:
    # A video has no warnings of its own: what could go wrong is checked before the
    # units are planned (the style, the tools, espeak) or fails the unit.
    lesson = unit.plan.lesson
    audiences = tuple(term.label for term in lesson.audiences)
    return [
        Artifact(kind, f"video/{lesson.site_path}{OUTPUTS[kind]}", lesson.source, audiences, file=file)
        for kind, file in files.items()
    ]


def ffmpeg_version(ffmpeg: str) -> str:
    output = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True, check=False).stdout
    return output.splitlines()[0] if output else "unknown"


def make_job(
    project: Project,
    lesson: Lesson,
    style: VideoStyle,
    fonts: dict[str, FontFile],
    narrator: Narrator | None,
    work_dir: Path,
    narration_cache: Path | None = None,
    title_words: tuple[str, ...] | None = None,
) -> LessonVideoJob:
    """``title_words``: ``tuple(user_dictionary(project))``, which reads every lesson: a build
    makes it once for all of them."""
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
        narrator=narrator,
        narration_cache=narration_cache,
        landscape=config.video.landscape,
        style=style,
        fonts=fonts,
        work_dir=work_dir,
        title_words=tuple(user_dictionary(project)) if title_words is None else title_words,
        pictograms=tuple(
            pictogram_svg(project.root, point.icon, config.brand_color) for point in lesson.points
        ),
    )


RENDERER = Renderer(
    name="video",
    label="短视频",
    kinds=tuple(OUTPUTS),
    render=render,
    check=check,
    preload=("numpy", "PIL.Image", "weasyprint"),  # WeasyPrint draws the pictograms (pdf.rasterise_svg)
)
