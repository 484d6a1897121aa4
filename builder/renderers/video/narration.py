"""Narration backends: how each slide gets its spoken words, behind one interface.

``video.narration`` in ``site_config.yml`` picks one:

- ``espeak``   — espeak-ng, offline. It sounds robotic: good for checking timing by ear,
  not for publishing.
- ``recorded`` — an editor's own recordings, one file a slide, in
  ``media/narration/<slug>/01.m4a``, ``02.m4a`` … (title, each key point, closing;
  WAV, M4A or MP3). The slides last as long as the recordings.
- ``baidu``    — 百度智能云 短文本在线合成 (``POST /text2audio``), a cloud voice that
  serves mainland China; the API key comes from ``KEPU_BAIDU_TTS_API_KEY``.

Synthesised speech is cached by a hash of the backend, its voice settings and the text
(``<build cache>-narration/``, each entry prefixed by its sha256 like the build cache's
kept files), so a second build — or another lesson with the same closing words — does
not synthesise again: a cloud voice is paid by the request, and espeak is not free either.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from builder.cache import read_kept, write_kept
from builder.diagnostics import Diagnostics
from builder.model import Lesson
from builder.paths import FileKind, project_file
from builder.renderers.video.style import AudioStyle, VideoToolMissing

RECORDINGS_FOLDER = "media/narration"
RECORDING_SUFFIXES = (".wav", ".m4a", ".mp3")
RECORDING_NAME = re.compile(r"^(\d{2,3})\.[A-Za-z0-9]+$")

BAIDU_KEY_ENV = "KEPU_BAIDU_TTS_API_KEY"
BAIDU_URL_ENV = "KEPU_BAIDU_TTS_URL"  # base URL; tests point it at a local fake server
BAIDU_URL = "https://tsn.baidu.com"


class NarrationError(RuntimeError):
    """A backend could not give a slide its speech; the message says why, in one sentence."""


class NarrationKeyMissing(VideoToolMissing):
    """A cloud voice is configured but its API key is not in the environment."""


class Narrator(ABC):
    """One way of giving slide ``index`` (0-based: title, key points, closing) its speech.

    Implementations are frozen dataclasses: a worker process receives them in the job.
    """

    # Synthesised speech is cached by text + voice; recordings are files already.
    cached: ClassVar[bool] = True

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """What decides the sound besides the text (backend, voice, speed …): cache keys use it."""

    @abstractmethod
    def speak(self, index: int, text: str, dest: Path) -> Path:
        """The audio file of slide ``index`` reading ``text``: written to ``dest`` (any format
        ffmpeg reads), or an existing file."""


@dataclass(frozen=True)
class EspeakNarrator(Narrator):
    voice: str
    words_per_minute: int

    def identity(self) -> dict[str, Any]:
        return {"backend": "espeak", "voice": self.voice, "wpm": self.words_per_minute}

    def speak(self, index: int, text: str, dest: Path) -> Path:
        espeak = shutil.which("espeak-ng")
        if espeak is None:
            raise VideoToolMissing(
                "找不到 espeak-ng：请安装（sudo apt-get install espeak-ng），或设 video.narration: none"
            )
        command = [espeak, "-v", self.voice, "-s", str(self.words_per_minute), "-w", str(dest), "--", text]
        subprocess.run(command, check=True, capture_output=True)
        return dest


@dataclass(frozen=True)
class RecordedNarrator(Narrator):
    """The editor's recordings, one a slide, in slide order (checked by :func:`find_recordings`)."""

    files: tuple[Path, ...]
    cached: ClassVar[bool] = False

    def identity(self) -> dict[str, Any]:
        # A Path in a cache key stands for its bytes: a new take renders the video again.
        return {"backend": "recorded", "files": list(self.files)}

    def speak(self, index: int, text: str, dest: Path) -> Path:
        return self.files[index]


@dataclass(frozen=True)
class BaiduNarrator(Narrator):
    """百度智能云 短文本在线合成: ``POST {url}/text2audio``, API-key (Bearer) authentication.

    Form fields as documented: ``tex`` (URL-encoded twice, as the docs recommend, so a
    "+" is read out), ``cuid``, ``ctp=1``, ``lan=zh``, ``per`` (voice), ``spd``/``pit``/
    ``vol`` (0–15) and ``aue=6`` (WAV, 16 kHz). A success is audio (``Content-Type:
    audio/…``); a failure is JSON with ``err_no`` and ``err_msg``.
    """

    voice: str
    speed: int
    pitch: int
    volume: int
    url: str = field(default=BAIDU_URL, compare=False)
    api_key: str = field(default="", repr=False, compare=False)
    timeout_seconds: float = 30.0

    def identity(self) -> dict[str, Any]:
        # Neither the key nor the address changes the voice: they stay out of every key.
        return {
            "backend": "baidu",
            "per": self.voice,
            "spd": self.speed,
            "pit": self.pitch,
            "vol": self.volume,
        }

    def speak(self, index: int, text: str, dest: Path) -> Path:
        form = {
            "tex": urllib.parse.quote(text, safe=""),
            "cuid": "kepu",
            "ctp": "1",
            "lan": "zh",
            "per": self.voice,
            "spd": str(self.speed),
            "pit": str(self.pitch),
            "vol": str(self.volume),
            "aue": "6",
        }
        request = urllib.request.Request(
            self.url.rstrip("/") + "/text2audio",
            data=urllib.parse.urlencode(form).encode("ascii"),
            headers={
                "Authorization": f"Bearer {self.api_key}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                kind = response.headers.get("Content-Type", "")
                body = response.read()
        except urllib.error.HTTPError as error:
            raise NarrationError(
                f"百度语音合成失败：服务器返回 HTTP {error.code}（{_baidu_message(error.read())}）"
            ) from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise NarrationError(f"连不上百度语音合成服务 {self.url}：{error}") from error
        if not kind.startswith("audio/"):
            raise NarrationError(f"百度语音合成失败：{_baidu_message(body)}")
        dest.write_bytes(body)
        return dest


def _baidu_message(body: bytes) -> str:
    try:
        data = json.loads(body.decode("utf-8"))
        return f"{data.get('err_msg') or data.get('error_msg') or '未知错误'}，错误码 {data.get('err_no') or data.get('error_code')}"
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", errors="replace") or "没有返回内容"


# -- choosing a backend (main process) --------------------------------------------------


def narrator_for(
    narration: str, voice: str | None, audio: AudioStyle, environ: dict[str, str] | None = None
) -> Narrator | None:
    """The backend ``video.narration`` names, for every lesson (``recorded`` is per lesson: None)."""
    environ = dict(os.environ) if environ is None else environ
    if narration == "espeak":
        return EspeakNarrator(voice or audio.espeak_voice, audio.espeak_words_per_minute)
    if narration == "baidu":
        key = environ.get(BAIDU_KEY_ENV, "").strip()
        if not key:
            raise NarrationKeyMissing(
                f"video.narration: baidu 需要百度智能云语音合成的 API Key：请设环境变量 {BAIDU_KEY_ENV}"
                "（控制台「应用列表」或「API Key」里取得），或改用 recorded 或 espeak"
            )
        return BaiduNarrator(
            voice=voice or audio.baidu_voice,
            speed=audio.baidu_speed,
            pitch=audio.baidu_pitch,
            volume=audio.baidu_volume,
            url=environ.get(BAIDU_URL_ENV, "").strip() or BAIDU_URL,
            api_key=key,
        )
    return None


def slide_lines(lesson: Lesson) -> list[int]:
    """The source line of each slide: title, each key point, closing (the key_points: line)."""
    title = lesson.lines.get("title", 1)
    points = list(lesson.key_point_lines) or [lesson.lines.get("key_points", title)] * len(lesson.key_points)
    return [title, *points, lesson.lines.get("key_points", title)]


def find_recordings(
    root: Path, lesson: Lesson, slide_count: int, diagnostics: Diagnostics
) -> RecordedNarrator | None:
    """The lesson's recordings ``media/narration/<slug>/01.m4a`` …, one a slide, or None after
    reporting each missing, doubled, extra or unreadable one at ``path:line``."""
    folder = f"{RECORDINGS_FOLDER}/{lesson.slug}"
    lines = slide_lines(lesson)
    errors_before = len(diagnostics.errors)
    found: dict[int, list[Path]] = {}
    directory = root / folder
    if not directory.is_dir():
        diagnostics.error(
            lesson.source,
            lines[0],
            f"video.narration: recorded 需要录音文件夹 {folder}/，每张画面一段：01 标题、"
            f"02–{slide_count - 1:02d} 每条要点、{slide_count:02d} 结尾（WAV、M4A 或 MP3）",
        )
        return None
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        match = RECORDING_NAME.match(path.name)
        if not match or path.suffix.lower() not in RECORDING_SUFFIXES:
            diagnostics.error(
                f"{folder}/{path.name}",
                0,
                f"录音文件应命名为 01.m4a、02.wav …（WAV、M4A 或 MP3），这里是 '{path.name}'",
            )
            continue
        found.setdefault(int(match.group(1)), []).append(path)
    files: list[Path] = []
    for number in range(1, slide_count + 1):
        what = "标题" if number == 1 else "结尾" if number == slide_count else f"第 {number - 1} 条要点"
        candidates = found.pop(number, [])
        if not candidates:
            diagnostics.error(
                lesson.source,
                lines[number - 1],
                f"缺少{what}的录音 {folder}/{number:02d}.m4a（或 .wav、.mp3）",
            )
            continue
        if len(candidates) > 1:
            names = "、".join(path.name for path in candidates)
            diagnostics.error(
                lesson.source, lines[number - 1], f"{what}有 {len(candidates)} 段录音（{names}）：只留一段"
            )
            continue
        ref = project_file(
            root, lesson.source, f"/{folder}/{candidates[0].name}", lines[number - 1], diagnostics,
            FileKind.AUDIO, relative_to_file=False,
        )  # fmt: skip
        if ref is not None:
            files.append(root / ref.path)
    for number, extra in sorted(found.items()):
        for path in extra:
            diagnostics.error(
                f"{folder}/{path.name}",
                0,
                f"多出的录音：《{lesson.title}》只有 {slide_count} 张画面（标题、{slide_count - 2} 条要点、结尾），"
                f"没有第 {number} 张",
            )
    if len(diagnostics.errors) > errors_before:
        return None
    return RecordedNarrator(tuple(files))


# -- speaking (worker process) -------------------------------------------------------------


def narration_cache_folder(build_cache: Path | None) -> Path | None:
    """Beside the build cache (``.kepu-cache`` → ``.kepu-cache-narration``), so clearing rendered
    videos does not pay for the cloud voice again; None when the build does not cache."""
    return None if build_cache is None else build_cache.with_name(build_cache.name + "-narration")


def speech_key(narrator: Narrator, text: str) -> str:
    canonical = json.dumps([narrator.identity(), text], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def narrate(narrator: Narrator, texts: Sequence[str], work_dir: Path, cache: Path | None) -> list[Path]:
    """Each slide's speech as an audio file, from the cache when the same text and voice were spoken."""
    clips: list[Path] = []
    for index, text in enumerate(texts):
        dest = work_dir / f"speech-{index:02d}.audio"
        if not narrator.cached:
            clips.append(narrator.speak(index, text, dest))
            continue
        entry = None if cache is None else cache / (key := speech_key(narrator, text))[:2] / f"{key}.audio"
        kept = read_kept(entry) if entry is not None else None
        if kept is not None:
            dest.write_bytes(kept)
            clips.append(dest)
            continue
        spoken = narrator.speak(index, text, dest)
        if entry is not None:
            write_kept(entry, spoken.read_bytes())
        clips.append(spoken)
    return clips
