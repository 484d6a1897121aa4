"""The video renderer: real MP4s decoded with ffmpeg, captions, covers, determinism, and its helpers.

One short build of a trimmed copy of the fixture project (two lessons, three short
key points each, short slide times, a fast x264 preset set through the project's own
``templates/video/style.yml``) is shared by the module; the checks read its files.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import shutil
import struct
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURE, REPO, TODAY
from PIL import Image, ImageFont

from builder.cjk import NO_LINE_END, NO_LINE_START, break_units, reading_units, wrap, wrap_balanced
from builder.diagnostics import ContentError, Diagnostics
from builder.pipeline import build
from builder.project import load_project
from builder.renderers import RenderContext, RenderError, video
from builder.renderers.video.audio import synthesize_speech
from builder.renderers.video.encode import (
    Timeline,
    frame_schedule,
    phrase_seconds,
    plan_timeline,
    retime_filter,
    slide_seconds,
    srt_time,
)
from builder.renderers.video.job import Slide
from builder.renderers.video.paint import paint_slides
from builder.renderers.video.style import load_style, resolve_fonts
from builder.titles import title_tokens

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")

SHORT_POINTS = {
    "hypertension-basics": ["血压140/90 mmHg以上要就医", "遵医嘱长期服药，不要自己停药", "每天吃盐不超过5克"],
    "dust-pneumoconiosis": ["湿式作业，减少粉尘", "戴好防尘口罩", "每年做职业健康检查"],
}
# Short slides and a fast preset keep the module's builds to a few seconds; the
# override also proves a project's style file is merged over the default.
TEST_STYLE = """\
timing: {hook_seconds: 0.8, title_seconds: 1.0, closing_seconds: 1.2, point_min_seconds: 1.2, point_max_seconds: 1.5}
encoder: {preset: ultrafast, x264_params: "cabac=1:8x8dct=1"}  # the cheapest High-profile settings
"""


def trimmed_project(dest: Path) -> Path:
    """The fixture project with two short lessons and the fast test style."""
    shutil.copytree(FIXTURE, dest)
    (dest / "content" / "lessons" / "flu-vaccine.md").unlink()  # nothing refers to it
    for slug, points in SHORT_POINTS.items():
        lesson = dest / "content" / "lessons" / f"{slug}.md"
        text = lesson.read_text(encoding="utf-8")
        block = "key_points:\n" + "".join(f"  - {point}\n" for point in points)
        lesson.write_text(re.sub(r"key_points:\n(?:  - .*\n)+", block, text), encoding="utf-8")
    style = dest / "templates" / "video" / "style.yml"
    style.parent.mkdir(parents=True)
    style.write_text(TEST_STYLE, encoding="utf-8")
    return dest


@dataclass
class Built:
    project: Path
    out: Path
    manifest: dict[str, dict]

    def lesson_dir(self, slug: str) -> Path:
        return self.out / "video" / "lessons" / slug


def read_manifest(out: Path) -> dict[str, dict]:
    data = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {entry["path"]: entry for entry in data["artifacts"]}


# Session-wide: tests/test_video_sound.py measures the sound of the same build.
@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    project = trimmed_project(tmp_path_factory.mktemp("video") / "project")
    out = project.parent / "public"
    build(project, out, only=["video"], jobs=2, today=TODAY)
    return Built(project, out, read_manifest(out))


def planned_timeline(project_dir: Path, slug: str) -> tuple[list[Slide], Timeline]:
    project = load_project(project_dir, Diagnostics(), today=TODAY)
    assert project is not None
    style = load_style(project_dir)
    lesson = project.lesson(slug)
    assert lesson is not None
    job = video.make_job(project, lesson, style, resolve_fonts(style), None, project_dir / "unused")
    slides = job.slides()
    seconds = [slide_seconds(slide, style.timing, None) for slide in slides]
    beats = [
        phrase_seconds(slide, style.timing, None, length)
        for slide, length in zip(slides, seconds, strict=True)
    ]
    return slides, plan_timeline(seconds, style.timing, beats)


def probe(path: Path) -> dict:
    output = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-count_frames",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output)


def grab(path: Path, seconds: float, size: tuple[int, int], pix_fmt: str = "gray") -> np.ndarray:
    """The frame shown at ``seconds``, as 8-bit luma (``gray``) or ``rgb24``."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", f"{seconds:.3f}", "-i", str(path), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"],
        capture_output=True,
        check=True,
    ).stdout  # fmt: skip
    width, height = size
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, -1).squeeze()


def top_level_boxes(path: Path) -> list[str]:
    boxes, data, offset = [], path.read_bytes(), 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        boxes.append(kind.decode("latin-1"))
        offset += size if size else len(data)
    return boxes


SRT_CUE = re.compile(
    r"(\d+)\n(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})\n(.+?)(?:\n\n|\n?$)", re.S
)


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    cues = []
    for match in SRT_CUE.finditer(text):
        h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(v) for v in match.groups()[1:9])
        cues.append(
            (h1 * 3600 + m1 * 60 + s1 + ms1 / 1000, h2 * 3600 + m2 * 60 + s2 + ms2 / 1000, match.group(10))
        )
    return cues


def slide_cues(project_dir: Path, slug: str, text: str) -> list[tuple[float, float, str]]:
    """The SRT's phrase cues joined back into one cue a slide (hook, title, points, closing)."""
    slides, _ = planned_timeline(project_dir, slug)
    cues, merged = iter(parse_srt(text)), []
    for slide in slides:
        parts = [next(cues) for _ in slide.beats]
        merged.append((parts[0][0], parts[-1][1], "".join(part[2] for part in parts)))
    assert next(cues, None) is None
    return merged


# -- the built files ---------------------------------------------------------------


def test_every_lesson_gets_its_four_files_in_the_manifest(built: Built):
    for slug in SHORT_POINTS:
        folder = f"video/lessons/{slug}"
        entries = {path: entry for path, entry in built.manifest.items() if path.startswith(folder + "/")}
        assert {path: entry["kind"] for path, entry in entries.items()} == {
            f"{folder}/video.mp4": "video",
            f"{folder}/landscape.mp4": "video-landscape",
            f"{folder}/captions.srt": "video-captions",
            f"{folder}/cover.jpg": "video-cover",
        }
        for entry in entries.values():
            assert entry["source"] == f"content/lessons/{slug}.md"
    assert built.manifest["video/lessons/hypertension-basics/video.mp4"]["audiences"] == [
        "老年人",
        "慢性病患者",
    ]


@pytest.mark.parametrize(("name", "size"), [("video.mp4", (1080, 1920)), ("landscape.mp4", (1920, 1080))])
def test_video_streams_are_what_platforms_expect(built: Built, name: str, size: tuple[int, int]):
    _, timeline = planned_timeline(built.project, "hypertension-basics")
    info = probe(built.lesson_dir("hypertension-basics") / name)
    picture = next(s for s in info["streams"] if s["codec_type"] == "video")
    sound = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (picture["width"], picture["height"]) == size
    assert (picture["codec_name"], picture["profile"], picture["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert picture["r_frame_rate"] == picture["avg_frame_rate"] == "30/1"
    assert int(picture["nb_read_frames"]) == timeline.total_frames
    assert (picture["color_space"], picture["color_range"]) == ("bt709", "tv")
    assert (sound["codec_name"], sound["sample_rate"], sound["channels"]) == ("aac", "48000", 2)
    assert float(info["format"]["duration"]) == pytest.approx(timeline.seconds, abs=0.05)
    assert float(sound["duration"]) == pytest.approx(timeline.seconds, abs=0.05)
    assert (
        "tags" not in info["format"] or "encoder" not in info["format"]["tags"]
    )  # bitexact: no version string


@pytest.mark.parametrize("name", ["video.mp4", "landscape.mp4"])
def test_videos_start_playing_before_they_are_fully_downloaded(built: Built, name: str):
    boxes = top_level_boxes(built.lesson_dir("dust-pneumoconiosis") / name)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart


def test_videos_decode_without_errors(built: Built):
    for path in sorted(built.lesson_dir("hypertension-basics").glob("*.mp4")):
        result = subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True
        )
        assert result.returncode == 0 and result.stderr == "", path


def test_captions_have_a_cue_per_phrase_at_the_times_it_shows(built: Built):
    slides, timeline = planned_timeline(built.project, "hypertension-basics")
    cues = parse_srt((built.lesson_dir("hypertension-basics") / "captions.srt").read_text(encoding="utf-8"))
    # The hook, the title, each key point phrase by phrase, the closing card.
    assert [slide.kind for slide in slides] == ["hook", "title", "point", "point", "point", "closing"]
    assert len(cues) == sum(len(slide.beats) for slide in slides)
    assert [len(slide.beats) for slide in slides[2:5]] == [1, 2, 1]  # "遵医嘱长期服药，" then "不要自己停药"
    assert "140/90 mmHg" in cues[0][2]  # the hook: the lesson's most striking number
    assert cues[1][2] == "认识高血压"
    by_slide = iter(cues[2:-1])
    for point in SHORT_POINTS["hypertension-basics"]:
        read = ""
        while len(read.replace("，", "")) < len(point.replace("，", "")):
            read += next(by_slide)[2]
        assert read.replace("，", "") == point.replace("，", "")  # the phrases read the whole point, in order
    assert "微信搜索" in cues[-1][2]  # 抖音 (the portrait profile): no QR code on the closing card
    expected = [cue for index in range(len(slides)) for cue in timeline.beat_cues(index)]
    for index, ((start, end, _), want) in enumerate(zip(cues, expected, strict=True)):
        assert (start, end) == pytest.approx(want, abs=0.001)
        assert start < end <= timeline.seconds + 0.001
        if index:
            assert start == pytest.approx(cues[index - 1][1], abs=0.001)
    assert cues[0][0] == 0 and cues[-1][1] == pytest.approx(timeline.seconds, abs=0.001)


def test_a_key_point_frame_shows_its_slide_and_a_caption(built: Built):
    path = built.lesson_dir("hypertension-basics") / "video.mp4"
    _, timeline = planned_timeline(built.project, "hypertension-basics")
    title = grab(path, sum(timeline.cue(1)) / 2, (1080, 1920))
    point = grab(path, sum(timeline.cue(2)) / 2, (1080, 1920))
    assert np.abs(point - title).mean() > 20  # light key-point slide vs. the brand-coloured title card
    band_top, band_bottom = load_style(built.project).safe_area("portrait").caption_band
    band = point[round(band_top * 1920) : round(band_bottom * 1920), 100:900]
    # White caption type on the dark caption box: both must be there.
    assert (band > 200).mean() > 0.02 and (band < 100).mean() > 0.1
    # Half way through the first crossfade the frame is a mix of both slides.
    boundary = timeline.cue(2)[0]
    middle = grab(path, boundary, (1080, 1920))
    assert np.abs(middle - title).mean() > 5 and np.abs(middle - point).mean() > 5


def test_cover_is_the_title_card_as_a_jpeg(built: Built):
    cover = built.lesson_dir("hypertension-basics") / "cover.jpg"
    with Image.open(cover) as image:
        assert (image.format, image.size, image.mode) == ("JPEG", (1080, 1920), "RGB")
        cover_rgb = np.asarray(image, dtype=int)
    _, timeline = planned_timeline(built.project, "hypertension-basics")
    first = grab(
        built.lesson_dir("hypertension-basics") / "video.mp4", sum(timeline.cue(1)) / 2, (1080, 1920), "rgb24"
    )
    # Same card above the captions (the cover has none); JPEG and H.264 differ a little.
    assert np.abs(cover_rgb[:1200] - first[:1200]).mean() < 4
    # BT.709 conversion and tags: the brand colour comes back as the brand colour.
    assert np.abs(first[8, 8] - (0x1F, 0x7A, 0x4D)).max() <= 4


def test_rerun_with_one_job_gives_the_same_bytes(built: Built, tmp_path: Path):
    # One lesson, portrait only, in process (jobs=1) — the module's build ran two
    # worker processes; a lesson's bytes must not depend on either.
    project = tmp_path / "project"
    shutil.copytree(built.project, project, ignore=shutil.ignore_patterns(".kepu-cache"))
    (project / "content" / "lessons" / "dust-pneumoconiosis.md").unlink()
    (project / "content" / "campaigns" / "dust-month.md").unlink()
    config = project / "site_config.yml"
    config.write_text(config.read_text(encoding="utf-8") + "video: {landscape: false}\n", encoding="utf-8")
    build(project, tmp_path / "again", only=["video"], jobs=1, today=TODAY, use_cache=False)
    again = read_manifest(tmp_path / "again")
    assert len(again) == 3
    for path, entry in again.items():
        assert entry["sha256"] == built.manifest[path]["sha256"], path


def test_unchanged_lessons_come_from_the_cache(built: Built, tmp_path: Path):
    result = build(built.project, tmp_path / "cached", only=["video"], jobs=1, today=TODAY)
    assert result.cache.rendered["video"] == 0 and result.cache.reused["video"] == 8
    assert read_manifest(tmp_path / "cached") == built.manifest


def test_a_failing_encode_stops_the_build_and_names_the_lesson(tmp_path: Path):
    project = trimmed_project(tmp_path / "project")
    (project / "templates" / "video" / "style.yml").write_text(
        "encoder: {preset: no-such-preset}\n", encoding="utf-8"
    )
    with pytest.raises(RenderError) as failure:
        build(project, tmp_path / "out", only=["video"], jobs=1, today=TODAY, use_cache=False)
    assert failure.value.source in {f"content/lessons/{slug}.md" for slug in SHORT_POINTS}
    assert "ffmpeg" in str(failure.value) and "no-such-preset" in str(failure.value)
    assert not (tmp_path / "out").exists()


# -- narration and music --------------------------------------------------------------


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_narration_sets_the_slide_times_and_music_plays_under_it(tmp_path: Path):
    project = trimmed_project(tmp_path / "project")
    (project / "content" / "lessons" / "dust-pneumoconiosis.md").unlink()
    (project / "content" / "campaigns" / "dust-month.md").unlink()
    music = project / "media" / "music.wav"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330:duration=2",
            "-ac",
            "2",
            str(music),
        ],
        check=True,
    )
    config = project / "site_config.yml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + "video: {narration: espeak, music: media/music.wav, landscape: false}\n",
        encoding="utf-8",
    )
    out = tmp_path / "public"
    build(project, out, only=["video"], jobs=1, today=TODAY, use_cache=False)
    folder = out / "video" / "lessons" / "hypertension-basics"
    assert not (folder / "landscape.mp4").exists()

    style = load_style(project)
    cues = slide_cues(project, "hypertension-basics", (folder / "captions.srt").read_text(encoding="utf-8"))
    assert cues[0][1] - cues[0][0] == pytest.approx(style.timing.hook_seconds, abs=0.07)  # music only
    for index, (start, end, text) in enumerate(cues[1:]):
        spoken = tmp_path / f"speech-{index}.wav"
        length = synthesize_speech(text, style.audio, spoken)
        assert end - start >= length + style.timing.narration_pause_seconds - 0.04, text
    info = probe(folder / "video.mp4")
    assert float(info["format"]["duration"]) == pytest.approx(cues[-1][1], abs=0.05)
    loudness = subprocess.run(
        ["ffmpeg", "-i", str(folder / "video.mp4"), "-vn", "-af", "volumedetect", "-f", "null", "-"],
        capture_output=True,
        text=True,
    ).stderr
    mean_volume = float(re.search(r"mean_volume: (-?[\d.]+) dB", loudness).group(1))
    assert mean_volume > -45  # speech and music, not silence


def test_missing_espeak_is_a_warning_not_a_failure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    project_dir = trimmed_project(tmp_path / "project")
    config = project_dir / "site_config.yml"
    config.write_text(config.read_text(encoding="utf-8") + "video: {narration: espeak}\n", encoding="utf-8")
    project = load_project(project_dir, Diagnostics(), today=TODAY)
    assert project is not None
    project.lessons = []  # only the check up front is under test
    real_which = shutil.which
    monkeypatch.setattr(video.shutil, "which", lambda name: None if name == "espeak-ng" else real_which(name))
    ctx = RenderContext(tmp_path / "work", Diagnostics())
    assert list(video.render(project, ctx)) == []
    assert [d.message for d in ctx.diagnostics.warnings] == [
        "video.narration: espeak 需要 espeak-ng，本机没有安装，视频不配音（sudo apt-get install espeak-ng）"
    ]


# -- style -------------------------------------------------------------------------


def test_a_project_style_is_merged_over_the_default(built: Built):
    style = load_style(built.project)
    assert style.encoder.preset == "ultrafast" and style.timing.title_seconds == 1.0
    default = load_style(REPO)
    assert style.encoder.crf == default.encoder.crf and style.colors == default.colors


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("timing:\n  fps: [30\n", 3, "不是有效的 YAML"),
        ("timing: {frames_per_second: 25}\n", 0, "'timing:' 里没有 frames_per_second 这一项"),
        ("- a list\n", 1, "顶层应是键值对"),
    ],
)
def test_a_broken_style_file_is_reported_at_its_path(tmp_path: Path, text: str, line: int, message: str):
    style = tmp_path / "templates" / "video" / "style.yml"
    style.parent.mkdir(parents=True)
    style.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as failure:
        load_style(tmp_path)
    [diagnostic] = failure.value.diagnostics.errors
    assert (diagnostic.path, diagnostic.line) == ("templates/video/style.yml", line)
    assert message in diagnostic.message


def test_cjk_fonts_are_the_simplified_chinese_faces():
    fonts = resolve_fonts(load_style(REPO))
    for path, index in fonts.values():
        assert ImageFont.truetype(path, 20, index=index).getname()[0] == "Noto Sans CJK SC"


# -- timing --------------------------------------------------------------------------


def test_key_points_stay_three_to_six_seconds_by_default():
    timing = load_style(REPO).timing
    for text in ["戴口罩", "每人每天吃盐不超过5克，少吃咸菜、酱料和加工肉", "很长的要点" * 20]:
        seconds = slide_seconds(Slide("point", text, 1), timing, None)
        assert 3.0 <= seconds <= 6.0
    short = slide_seconds(Slide("point", "戴口罩", 1), timing, None)
    longer = slide_seconds(Slide("point", "每人每天吃盐不超过5克，少吃咸菜", 1), timing, None)
    assert short < longer


def test_every_bundled_lesson_plans_a_video_of_10_to_90_seconds():
    project = load_project(REPO, Diagnostics())  # today: bundled review dates move on with the content
    assert project is not None
    style = load_style(REPO)
    fonts = resolve_fonts(style)
    for lesson in project.lessons:
        slides = video.make_job(project, lesson, style, fonts, None, REPO / "unused").slides()
        timeline = plan_timeline([slide_seconds(s, style.timing, None) for s in slides], style.timing)
        assert 10 <= timeline.seconds <= 90, lesson.slug


def test_schedule_holds_each_slide_and_blends_only_around_boundaries_and_phrases():
    timing = load_style(REPO).timing
    timeline = plan_timeline([3.5, 4.0, 5.0], timing, [[], [1.5, 2.5], []])
    assert timeline.lengths == (106, 120, 150) and timeline.crossfade == 12  # whole motion steps
    assert timeline.beats[1] == (0, 45, 75) and timeline.fade == 9
    step = timing.motion_step_frames
    schedule = frame_schedule(timeline, [True, True, False], step)
    # One frame is sent a step; ffmpeg's fps filter holds each for the step.
    assert [item.at for item in schedule] == list(range(0, timeline.total_frames, step))
    assert retime_filter(step, 30) == "fps=30"
    phrase_fades = [timeline.starts[1] + beat for beat in timeline.beats[1][1:]]
    for item in schedule:
        near_boundary = any(abs(item.at - b + 0.5) < timeline.crossfade / 2 for b in timeline.starts[1:])
        fading_phrase = any(0 <= item.at - b < timeline.fade for b in phrase_fades)
        assert (item.blend > 0) == (near_boundary or fading_phrase), item
        if item.blend and fading_phrase:
            assert (
                item.other == item.still + 1 and item.fill == item.other_fill
            )  # one slide, its bar where it is
        if not item.blend:
            assert (
                timeline.starts[item.slide]
                <= item.at
                < timeline.starts[item.slide] + timeline.lengths[item.slide]
            )
    # The bars run from empty to full over their slide, and the last slide has none.
    fills = [item.fill for item in schedule if item.slide == 0 and not item.blend]
    assert fills == sorted(fills) and fills[0] == 0 and fills[-1] > 0.8
    assert all(item.fill == -1 for item in schedule if item.slide == 2 and not item.blend)
    weights = [item.blend for item in schedule if item.blend][:3]
    assert weights == sorted(weights)  # the fade moves one way


def test_phrases_of_a_key_point_and_the_hook():
    from builder.renderers.video.wording import hook_line, phrases

    point = "非同日三次测量，收缩压≥140或舒张压≥90 mmHg，可诊断为高血压"
    assert phrases(point) == ("非同日三次测量，", "收缩压≥140或舒张压≥90 mmHg，", "可诊断为高血压")
    assert phrases("戴好防尘口罩") == ()  # one step: nothing to build in
    assert phrases("少吃咸菜、酱料、腊肉和加工肉，每天吃盐不超过5克") == (
        "少吃咸菜、酱料、腊肉和加工肉，",
        "每天吃盐不超过5克",
    )
    assert (
        "".join(phrases("高血压早期常常没有症状，要定期测量，每年至少一次，不能等"))
        == "高血压早期常常没有症状，要定期测量，每年至少一次，不能等"
    )
    # The most striking figure of all the points: a ratio or bound over a number with its unit.
    assert hook_line(("每天吃盐不超过5克", "血压140/90 mmHg以上要就医"), "") == (
        "140/90 mmHg",
        "血压140/90 mmHg以上要就医",
    )
    assert hook_line(("戴好口罩",), "血压多高算高血压？为什么要长期管理。") == ("", "血压多高算高血压？")
    assert hook_line(("戴好口罩，做好防护",), "一句话。") == ("", "戴好口罩，做好防护")


def test_srt_times_are_milliseconds():
    assert srt_time(0) == "00:00:00,000"
    assert srt_time(3723.4567) == "01:02:03,457"


def test_speech_length_is_read_from_the_wav(tmp_path: Path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    style = load_style(REPO)
    seconds = synthesize_speech("高血压要长期管理", style.audio, tmp_path / "s.wav")
    with wave.open(str(tmp_path / "s.wav")) as speech:
        assert seconds == speech.getnframes() / speech.getframerate() and 0.8 < seconds < 6


# -- Chinese line breaking -------------------------------------------------------------

SAMPLES = [
    "不同日测3次，都在140/90 mmHg及以上，才能诊断高血压。",
    "血压很高又胸痛、说话不清、一侧手脚无力，马上打120！",
    "戴KN95级别的防尘口罩（每次戴好后做气密性检查），每年参加职业健康检查。",
    "“三减三健”是什么？减盐、减油、减糖；健康口腔、健康体重、健康骨骼。",
    "0~6岁儿童家长要按时带孩子接种疫苗……别错过《预防接种证》上的日期。",
]


@pytest.mark.parametrize("width", range(3, 25))
def test_no_line_starts_or_ends_with_the_wrong_punctuation(width: int):
    for text in SAMPLES:
        for breaker in (wrap, wrap_balanced):
            lines = breaker(text, width, len)
            assert "".join(lines).replace(" ", "") == text.replace(" ", "")
            for line in lines:
                assert len(line) <= width or len(break_units(line)) == 1, (line, width)
                assert line[0] not in NO_LINE_START, (lines, width)
                assert line[-1] not in NO_LINE_END, (lines, width)


def test_latin_words_numbers_and_their_units_stay_whole():
    units = break_units("都在140/90 mmHg及以上，戴KN95口罩")
    assert "140/90 mmHg" in units and "KN95" in units and "上，" in units


def test_balanced_wrap_prefers_clause_breaks_and_avoids_a_widow():
    assert wrap_balanced("认识高血压：量得准，管得住", 8, len) == ["认识高血压：", "量得准，管得住"]
    lines = wrap_balanced("高血压常常没有感觉要定期测量血压", 14, len)
    assert len(lines) == 2 and abs(len(lines[0]) - len(lines[1])) <= 1


def test_reading_units_count_characters_and_words_not_punctuation():
    assert reading_units("每天吃盐不超过5克，少吃咸菜。") == 13
    assert reading_units("KN95 口罩") == 3


# -- platform safe areas and line breaks ---------------------------------------------------


def _bundled_jobs_with_the_most_text(count: int = 4) -> list:
    """Bundled lessons with the longest title, summary, key point and the most key points."""
    # Today's date, not TODAY: the layout does not depend on it, and bundled review
    # dates move on with the content.
    project = load_project(REPO, Diagnostics())
    assert project is not None
    style = load_style(REPO)
    fonts = resolve_fonts(style)
    jobs = [
        video.make_job(project, lesson, style, fonts, None, REPO / "unused") for lesson in project.lessons
    ]
    picks = {
        max(jobs, key=lambda job: len(job.title)).slug,
        max(jobs, key=lambda job: len(job.summary)).slug,
        max(jobs, key=lambda job: max(map(len, job.key_points))).slug,
        max(jobs, key=lambda job: len(job.key_points)).slug,
    }
    return [job for job in jobs if job.slug in picks][:count]


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize(
    ("orientation", "profile"), [("portrait", "douyin"), ("portrait", "shipinhao"), ("landscape", "screen")]
)
def test_every_drawn_element_keeps_out_of_the_platform_ui(orientation: str, profile: str):
    for job in _bundled_jobs_with_the_most_text():
        layouts = {**job.style.layouts, orientation: {**job.style.layouts[orientation], "profile": profile}}
        job = dataclasses.replace(job, style=dataclasses.replace(job.style, layouts=layouts))
        safe = job.style.safe_area(orientation)
        width, height = (int(v) for v in layouts[orientation]["size"])
        zones = safe.zones(width, height)
        band = (safe.caption_band[0] * height, safe.caption_band[1] * height)
        painted = paint_slides(job, job.slides(), orientation)
        for slide, painter in ((s, p) for s, ps in zip(job.slides(), painted, strict=True) for p in ps):
            content = [drawn for drawn in painter.drawn if drawn.role != "decor"]
            assert any(drawn.role == "caption" for drawn in content) == (slide.kind != "hook")
            for drawn in content:
                where = (job.slug, slide.kind, drawn.role, drawn.text, drawn.box)
                assert (
                    drawn.box[0] >= 0
                    and drawn.box[2] <= width
                    and drawn.box[1] >= 0
                    and drawn.box[3] <= height
                ), where
                assert not any(_overlap(drawn.box, zone) for zone in zones), where
                if drawn.role in ("caption", "caption-text"):
                    assert band[0] <= drawn.box[1] and drawn.box[3] <= band[1], where


def test_the_portrait_profile_keeps_the_issue_s_zones_clear():
    safe = load_style(REPO).safe_area("portrait")
    assert (safe.top, safe.bottom, safe.right, safe.right_from) == (0.07, 0.17, 0.12, 0.25)
    assert safe.caption_band == (0.60, 0.75)


def test_no_text_or_edges_in_the_ui_zones_of_real_frames(built: Built):
    """Decoded frames of the portrait video: the UI zones hold only flat colour or soft glows."""
    path = built.lesson_dir("hypertension-basics") / "video.mp4"
    slides, timeline = planned_timeline(built.project, "hypertension-basics")
    safe = load_style(built.project).safe_area("portrait")
    for index in range(len(slides)):
        frame = grab(path, sum(timeline.cue(index)) / 2, (1080, 1920)).astype(int)
        # An edge: a jump of more than 24 levels of luma to the next pixel (type is ~150).
        edges = np.zeros(frame.shape, dtype=bool)
        edges[:, 1:] |= np.abs(np.diff(frame, axis=1)) > 24
        edges[1:, :] |= np.abs(np.diff(frame, axis=0)) > 24
        for left, top, right, bottom in safe.zones(1080, 1920):
            zone = edges[round(top) : round(bottom), round(left) : round(right)]
            assert zone.sum() == 0, (slides[index].kind, (left, top, right, bottom), int(zone.sum()))
        # The caption is there, in its band (the hook's words are on the card, large).
        band = edges[round(safe.caption_band[0] * 1920) : round(safe.caption_band[1] * 1920)]
        assert band.mean() > 0.01 or slides[index].kind == "hook"


def test_a_title_breaks_only_between_words():
    project = load_project(REPO, Diagnostics())
    assert project is not None
    style = load_style(REPO)
    lesson = project.lessons[0]
    job = video.make_job(project, lesson, style, resolve_fonts(style), None, REPO / "unused")
    for title in [
        "基层卫生院医生走进社区传播健康知识",
        "传播健康知识，守护老人健康",
        "认识高血压：量得准，管得住",
    ]:
        titled = dataclasses.replace(job, title=title)
        for orientation in ("portrait", "landscape"):
            painter = paint_slides(titled, titled.slides()[1:2], orientation)[0][0]
            lines = [drawn.text for drawn in painter.drawn if drawn.role == "text" and drawn.text in title]
            title_lines = next(
                (
                    lines[i : i + n]
                    for n in range(1, 5)
                    for i in range(len(lines))
                    if "".join(lines[i : i + n]) == title
                ),
                None,
            )
            assert title_lines, (title, lines)
            words = title_tokens(title)
            ends = set(itertools.accumulate(len(word) for word in words))
            for line_end in itertools.accumulate(len(line) for line in title_lines[:-1]):
                assert line_end in ends, (title, title_lines)
            assert "传播健" not in title_lines and not any(line.startswith("康知识") for line in title_lines)


def test_key_figures_of_a_point_are_drawn_in_the_brand_colour():
    from builder.renderers.video.style import Palette
    from builder.renderers.video.wording import figure_runs

    assert [run for run, figure in figure_runs("血压140/90 mmHg以上，马上打120，2型") if figure] == [
        "140/90 mmHg",
        "120",
    ]
    project = load_project(REPO, Diagnostics())
    assert project is not None
    style = load_style(REPO)
    job = video.make_job(project, project.lessons[0], style, resolve_fonts(style), None, REPO / "unused")
    job = dataclasses.replace(job, key_points=("每天吃盐不超过5克，少吃咸菜",))
    brand = np.array(Palette(style.colors, job.brand_color).brand[:3])
    for orientation in ("portrait", "landscape"):
        painter = paint_slides(job, job.slides()[2:3], orientation)[0][-1]  # all its phrases shown
        pixels = np.asarray(painter.image).astype(int)
        share = {}
        for text in ("5克", "每天吃盐不超过"):
            [box] = [d.box for d in painter.drawn if d.role == "text" and d.text == text]
            left, top, right, bottom = (round(v) for v in box)
            region = pixels[top:bottom, left:right]
            share[text] = float((np.abs(region - brand).sum(axis=2) < 40).mean())
        assert share["5克"] > 0.1, orientation  # the figure's strokes are brand-coloured
        assert share["每天吃盐不超过"] == 0.0, orientation  # the rest is ink


# -- motion, pictograms, the closing card per platform, the shared palette ----------------


def distinct_share(path: Path) -> float:
    """The share of a video's frames that ffmpeg's ``mpdecimate`` keeps (drops near-repeats)."""
    total = int(probe(path)["streams"][0]["nb_read_frames"])
    kept = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-an", "-vf", "mpdecimate", "-f", "framemd5", "-"],
        capture_output=True, text=True, check=True,
    ).stdout.count("\n0,")  # fmt: skip
    return kept / total


@pytest.mark.parametrize("name", ["video.mp4", "landscape.mp4"])
def test_at_least_30_percent_of_the_frames_are_distinct(built: Built, name: str):
    for slug in SHORT_POINTS:
        share = distinct_share(built.lesson_dir(slug) / name)
        assert share >= 0.30, (slug, name, share)


def test_a_key_point_builds_in_phrase_by_phrase_and_its_bar_fills(built: Built):
    path = built.lesson_dir("hypertension-basics") / "video.mp4"
    _, timeline = planned_timeline(built.project, "hypertension-basics")
    [(first_start, first_end), (second_start, second_end)] = timeline.beat_cues(
        3
    )  # "遵医嘱长期服药，" "不要自己停药"
    early = grab(path, first_start + 0.1, (1080, 1920)).astype(int)
    before = grab(path, (first_start + first_end) / 2, (1080, 1920)).astype(int)
    after = grab(path, (second_start + second_end) / 2, (1080, 1920)).astype(int)
    band_top = round(load_style(built.project).safe_area("portrait").caption_band[0] * 1920)
    # The card (above the captions) gains the second phrase; the caption changes to it.
    card = np.abs(after[500:band_top] - before[500:band_top]).mean(axis=1)
    assert (card > 8).sum() > 40, "the second phrase did not appear on the card"
    caption = np.abs(after[band_top:1440] - before[band_top:1440]).mean()
    assert caption > 3, "the caption still shows the first phrase"
    # The header's progress segment of this point grows while the slide shows.
    segments = slice(280, 320)
    assert (
        np.abs(before[segments] - early[segments]).sum() > 0
        and np.abs(after[segments] - before[segments]).sum() > 0
    )


def test_the_hook_opens_on_the_striking_number_before_the_title(built: Built):
    path = built.lesson_dir("hypertension-basics") / "video.mp4"
    slides, timeline = planned_timeline(built.project, "hypertension-basics")
    assert slides[0].kind == "hook" and slides[0].figure == "140/90 mmHg"
    hook_end = timeline.cue(0)[1]
    assert 0.5 <= hook_end <= 2.0
    hook = grab(path, hook_end / 2, (1080, 1920)).astype(int)
    title = grab(path, sum(timeline.cue(1)) / 2, (1080, 1920)).astype(int)
    assert np.abs(hook - title).mean() > 3  # its own card, not the title's


def _closing_roles(job, orientation: str, profile: str) -> set[str]:
    layouts = {**job.style.layouts, orientation: {**job.style.layouts[orientation], "profile": profile}}
    job = dataclasses.replace(job, style=dataclasses.replace(job.style, layouts=layouts))
    slides = job.slides()
    [[painter]] = paint_slides(job, slides[-1:], orientation)
    return {drawn.role for drawn in painter.drawn} | {
        text for d in painter.drawn for text in [d.text] if text
    }


def test_the_closing_qr_code_is_a_choice_of_the_platform_profile():
    [job] = _bundled_jobs_with_the_most_text(1)
    douyin = _closing_roles(job, "portrait", "douyin")
    assert "qr" not in douyin and job.site_name in douyin  # 抖音: the name to search for, no off-site code
    assert "qr" in _closing_roles(job, "portrait", "shipinhao")
    assert "qr" in _closing_roles(job, "landscape", "screen")


def test_each_key_point_shows_its_pictogram():
    project = load_project(REPO, Diagnostics())
    assert project is not None
    style = load_style(REPO)
    lesson = project.lesson("hypertension-basics")
    job = video.make_job(project, lesson, style, resolve_fonts(style), None, REPO / "unused")
    assert len(job.pictograms) == len(job.key_points) and all(job.pictograms)
    for orientation in ("portrait", "landscape"):
        painted = paint_slides(job, job.slides()[2:3], orientation)[0]
        for painter in painted:
            [box] = [d.box for d in painter.drawn if d.role == "picture"]
            left, top, right, bottom = (round(v) for v in box)
            region = np.asarray(painter.image)[top:bottom, left:right].astype(int)
            brand = np.array(tuple(int(job.brand_color[i : i + 2], 16) for i in (1, 3, 5)))
            assert (np.abs(region - brand).sum(axis=2) < 60).mean() > 0.03, (
                orientation
            )  # strokes in brand colour


def test_the_video_palette_is_the_shared_brand_palette():
    from builder.brand import brand_palette
    from builder.renderers.video.style import Palette, parse_hex

    for colour in ("#1f7a4d", "#c0392b", "#2a6fdb"):
        palette, shared = Palette({}, colour), brand_palette(colour)
        assert palette.brand_dark == parse_hex(shared.dark) and palette.brand_tint == parse_hex(shared.tint)
