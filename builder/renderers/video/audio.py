"""The soundtrack: espeak-ng narration and background music, mixed with moviepy."""

from __future__ import annotations

import os
import shutil
import subprocess
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from builder.renderers.video.encode import ffmpeg_binary
from builder.renderers.video.style import AudioStyle, VideoToolMissing


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
