"""Narration backends: the editor's own recordings (slide times follow them) and the 百度 cloud
voice, tested only against a fake server on 127.0.0.1 (request shape, key handling, the
speech cache, a clear error without a key).
"""

from __future__ import annotations

import http.server
import json
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from conftest import TODAY
from test_video import parse_srt, slide_cues, trimmed_project
from test_video_sound import RATE, assert_platform_loudness, write_wav

from builder.cli import main
from builder.diagnostics import ContentError, Diagnostics
from builder.pipeline import build
from builder.project import load_project
from builder.renderers import RenderError, video
from builder.renderers.video.audio import decode_audio
from builder.renderers.video.narration import BAIDU_KEY_ENV, BAIDU_URL_ENV, NarrationKeyMissing
from builder.renderers.video.style import load_style

SLUG = "hypertension-basics"
# Title, three key points, closing: a burst each, of its own length and pitch.
BURSTS = [(1.6, 440.0), (2.4, 660.0), (1.3, 880.0), (3.0, 550.0), (2.0, 770.0)]


def one_lesson_project(dest: Path, video_options: str) -> Path:
    project = trimmed_project(dest)
    (project / "content" / "lessons" / "dust-pneumoconiosis.md").unlink()
    (project / "content" / "campaigns" / "dust-month.md").unlink()
    config = project / "site_config.yml"
    config.write_text(config.read_text(encoding="utf-8") + f"video: {{{video_options}}}\n", encoding="utf-8")
    return project


def burst(seconds: float, frequency: float, rate: int = RATE) -> np.ndarray:
    """A sine with 20 ms ramps: a stand-in for a spoken slide."""
    t = np.arange(round(seconds * rate)) / rate
    ramp = np.clip(np.minimum(t, seconds - t) / 0.02, 0, 1)
    return 0.3 * np.sin(2 * np.pi * frequency * t) * ramp


# -- recorded ---------------------------------------------------------------------------


def test_recorded_narration_sets_the_slide_times_and_the_srt_and_keeps_the_loudness(tmp_path: Path):
    project = one_lesson_project(tmp_path / "project", "narration: recorded, landscape: false")
    folder = project / "media" / "narration" / SLUG
    folder.mkdir(parents=True)
    for number, (seconds, frequency) in enumerate(BURSTS, start=1):
        write_wav(folder / f"{number:02d}.wav", burst(seconds, frequency))
    out = tmp_path / "public"
    build(project, out, only=["video"], jobs=1, today=TODAY)

    lesson = out / "video" / "lessons" / SLUG
    srt = (lesson / "captions.srt").read_text(encoding="utf-8")
    # The hook opens with music only; the recordings start at the title.
    hook, *cues = slide_cues(project, SLUG, srt)
    style = load_style(project)
    fps, pause, step = style.timing.fps, style.timing.narration_pause_seconds, style.timing.motion_step_frames
    assert len(cues) == len(BURSTS)
    assert hook[0] == 0 and hook[1] == pytest.approx(cues[0][0], abs=0.001)
    for (start, end, _), (seconds, _) in zip(cues, BURSTS, strict=True):
        # Each slide lasts its recording plus the pause, on the grid of motion steps.
        assert end - start == pytest.approx(seconds + pause, abs=step / fps + 0.002)
    assert [round(start, 3) for start, _, _ in cues[1:]] == [round(end, 3) for _, end, _ in cues[:-1]]
    # A key point's phrases follow its recording: all of them inside its slide, in order.
    phrases = parse_srt(srt)
    assert len(phrases) > len(BURSTS) + 1
    for start, end, _ in phrases:
        assert any(a - 0.001 <= start < end <= b + 0.001 for a, b, _ in [hook, *cues])
    assert_platform_loudness(lesson / "video.mp4")

    # Each recording plays inside its own slide: the strongest of the five pitches there is its own.
    mix = decode_audio(lesson / "video.mp4", RATE).mean(axis=1)
    frequencies = np.fft.rfftfreq(RATE, 1 / RATE)
    for (start, end, text), (_, own) in zip(cues, BURSTS, strict=True):
        part = mix[round((start + 0.4) * RATE) : round((end - 0.4) * RATE)]
        spectrum = np.abs(np.fft.rfft(part, n=RATE))
        power = {f: spectrum[np.abs(frequencies - f) <= 3].sum() for _, f in BURSTS}
        assert max(power, key=power.get) == own, (text, power)


def recording_problems(project_dir: Path) -> list[str]:
    project = load_project(project_dir, Diagnostics(), today=TODAY)
    assert project is not None
    diagnostics = Diagnostics()
    video.check(project, diagnostics, None, 1)
    return [f"{d.path}:{d.line}: {d.message}" for d in diagnostics.errors]


def test_a_missing_or_extra_recording_is_an_error_at_its_line_in_check_and_build(tmp_path: Path):
    project = one_lesson_project(tmp_path / "project", "narration: recorded")
    source = f"content/lessons/{SLUG}.md"
    problems = recording_problems(project)
    assert len(problems) == 1 and problems[0].startswith(f"{source}:2: ")
    assert f"media/narration/{SLUG}/" in problems[0]

    folder = project / "media" / "narration" / SLUG
    folder.mkdir(parents=True)
    for number in (1, 2, 4, 5, 6):  # the second key point (03) is missing, 06 is one too many
        write_wav(folder / f"{number:02d}.wav", burst(0.5, 440.0))
    (folder / "04.mp3").write_bytes((folder / "04.wav").read_bytes())  # and 04 twice
    (folder / "notes.txt").write_text("take 2", encoding="utf-8")
    lines = (project / source).read_text(encoding="utf-8").splitlines()
    point_line = lines.index("  - 遵医嘱长期服药，不要自己停药") + 1
    problems = recording_problems(project)
    assert problems == [
        f"media/narration/{SLUG}/notes.txt:0: 录音文件应命名为 01.m4a、02.wav …（WAV、M4A 或 MP3），这里是 'notes.txt'",
        f"{source}:{point_line}: 缺少第 2 条要点的录音 media/narration/{SLUG}/03.m4a（或 .wav、.mp3）",
        f"{source}:{point_line + 1}: 第 3 条要点有 2 段录音（04.mp3、04.wav）：只留一段",
        f"media/narration/{SLUG}/06.wav:0: 多出的录音：《认识高血压》只有 5 张画面（标题、3 条要点、结尾），没有第 6 张",
    ]
    with pytest.raises(ContentError) as failure:
        build(project, tmp_path / "public", only=["video"], jobs=1, today=TODAY)
    assert [f"{d.path}:{d.line}: {d.message}" for d in failure.value.diagnostics.errors] == problems
    assert not (tmp_path / "public").exists()


# -- 百度智能云 短文本在线合成 (fake server) ------------------------------------------------


@dataclass
class FakeBaidu:
    url: str
    requests: list[dict] = field(default_factory=list)
    fail: bool = False


@pytest.fixture
def fake_baidu() -> Iterator[FakeBaidu]:
    """``POST /text2audio`` as 百度 documents it: WAV for a good request, JSON with err_no otherwise."""
    server_state: dict[str, FakeBaidu] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            fake = server_state["fake"]
            body = self.rfile.read(int(self.headers["Content-Length"]))
            form = {key: values[0] for key, values in urllib.parse.parse_qs(body.decode("ascii")).items()}
            fake.requests.append({"path": self.path, "headers": dict(self.headers), "form": form})
            if fake.fail or self.headers.get("Authorization") != "Bearer test-key":
                reply = json.dumps({"err_no": 502, "err_msg": "access token invalid or no longer valid"})
                self._send(200, "application/json", reply.encode())
                return
            text = urllib.parse.unquote(form["tex"])
            # The length of the "speech" follows the text, like a real voice.
            path = Path(self.server.folder) / "reply.wav"  # type: ignore[attr-defined]
            write_wav(path, burst(0.3 + 0.1 * len(text), 500.0, 16000), 16000)
            self._send(200, "audio/wav", path.read_bytes())

        def _send(self, status: int, kind: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with tempfile.TemporaryDirectory() as folder:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.folder = folder  # type: ignore[attr-defined]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        fake = FakeBaidu(f"http://127.0.0.1:{server.server_address[1]}")
        server_state["fake"] = fake
        try:
            yield fake
        finally:
            server.shutdown()
            server.server_close()


def test_the_baidu_voice_is_asked_as_documented_and_each_text_only_once(
    tmp_path: Path, fake_baidu: FakeBaidu, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(BAIDU_KEY_ENV, "test-key")
    monkeypatch.setenv(BAIDU_URL_ENV, fake_baidu.url)
    project = one_lesson_project(tmp_path / "project", 'narration: baidu, voice: "4189", landscape: false')
    out = tmp_path / "public"
    build(project, out, only=["video"], jobs=1, today=TODAY)

    srt = (out / "video" / "lessons" / SLUG / "captions.srt").read_text(encoding="utf-8")
    cues = slide_cues(project, SLUG, srt)[1:]  # the hook is music only: never sent to the voice
    assert len(fake_baidu.requests) == len(cues) == 5
    for request, (start, end, text) in zip(fake_baidu.requests, cues, strict=True):
        assert request["path"] == "/text2audio"
        assert request["headers"]["Authorization"] == "Bearer test-key"
        assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
        form = request["form"]
        # tex is URL-encoded twice, as 百度 recommends: once by Kepu, once by the form.
        # (The SRT shows the point phrase by phrase, without the comma each phrase ends on.)
        spoken = urllib.parse.unquote(form["tex"])
        assert spoken.replace("，", "") == text.replace("，", "") and form["tex"] != spoken
        assert {k: form[k] for k in ("cuid", "ctp", "lan", "per", "spd", "pit", "vol", "aue")} == {
            "cuid": "kepu", "ctp": "1", "lan": "zh", "per": "4189", "spd": "4", "pit": "5", "vol": "5", "aue": "6",
        }  # fmt: skip
        # The slide lasts as long as the voice read it (0.3 s + 0.1 s a character) and the pause.
        assert end - start >= 0.3 + 0.1 * len(text) + 0.7 - 0.04
    assert_platform_loudness(out / "video" / "lessons" / SLUG / "video.mp4")
    kept = sorted((project / ".kepu-cache-narration").rglob("*.audio"))
    assert len(kept) == 5  # beside the build cache, one entry per text
    assert not any(
        b"test-key" in path.read_bytes() for path in (project / ".kepu-cache").rglob("*") if path.is_file()
    )

    # The style changes, so the video is rendered again, but every text was spoken before:
    # no request. A new key (the same voice) does not render anything again either.
    style = project / "templates" / "video" / "style.yml"
    style.write_text(style.read_text(encoding="utf-8") + 'colors: {accent: "#ffd166"}\n', encoding="utf-8")
    monkeypatch.setenv(BAIDU_KEY_ENV, "test-key")
    fake_baidu.requests.clear()
    result = build(project, out, only=["video"], jobs=1, today=TODAY)
    assert fake_baidu.requests == [] and result.rendered > 0

    # A damaged entry fails its sha256 and is spoken again; a changed key point only asks for itself.
    kept[0].write_bytes(kept[0].read_bytes()[:-10] + b"0123456789")
    lesson = project / "content" / "lessons" / f"{SLUG}.md"
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("不要自己停药", "不要自行停药"), encoding="utf-8"
    )
    build(project, out, only=["video"], jobs=1, today=TODAY)
    asked = sorted(urllib.parse.unquote(r["form"]["tex"]) for r in fake_baidu.requests)
    assert len(asked) == 2 and "遵医嘱长期服药，不要自行停药" in asked


def test_without_a_key_the_build_stops_with_one_clear_sentence(
    tmp_path: Path, fake_baidu: FakeBaidu, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.delenv(BAIDU_KEY_ENV, raising=False)
    monkeypatch.setenv(BAIDU_URL_ENV, fake_baidu.url)
    project = one_lesson_project(tmp_path / "project", "narration: baidu")
    with pytest.raises(RenderError) as failure:
        build(project, tmp_path / "public", only=["video"], jobs=1, today=TODAY)
    assert isinstance(failure.value.__cause__, NarrationKeyMissing)
    assert fake_baidu.requests == []

    assert main(["build", "--project", str(project), "--only", "video", "--quiet", "--jobs", "1"]) == 2
    message = capsys.readouterr().err.strip()
    assert BAIDU_KEY_ENV in message and "\n" not in message, message


def test_a_refusal_of_the_server_names_its_reason(
    tmp_path: Path, fake_baidu: FakeBaidu, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(BAIDU_KEY_ENV, "a-revoked-key")
    monkeypatch.setenv(BAIDU_URL_ENV, fake_baidu.url)
    project = one_lesson_project(tmp_path / "project", "narration: baidu, landscape: false")
    with pytest.raises(RenderError) as failure:
        build(project, tmp_path / "public", only=["video"], jobs=1, today=TODAY, use_cache=False)
    assert "百度语音合成失败：access token invalid or no longer valid，错误码 502" in str(failure.value)
    assert "a-revoked-key" not in str(failure.value)
