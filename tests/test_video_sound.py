"""What a viewer hears: every video has sound at platform loudness (EBU R128, measured with
ffmpeg's ``ebur128`` like the platforms do), the music bed is music, the same bytes
every build, and it makes room for the narration.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, TODAY
from test_video import Built, built, parse_srt, trimmed_project  # noqa: F401 - built: the shared build

from builder.pipeline import build
from builder.renderers.video.audio import chord_notes, compose_soundtrack, decode_audio, music_cycle
from builder.renderers.video.style import load_style

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")

TARGET, TOLERANCE, TRUE_PEAK_CEILING = -16.0, 2.0, -1.0
RATE = 48000


@dataclasses.dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    true_peak: float  # dBTP
    momentary: np.ndarray  # LUFS every 100 ms (400 ms windows)


def loudness(path: Path) -> Loudness:
    """ffmpeg's EBU R128 meter over the file's audio: integrated, true peak, momentary."""
    log = subprocess.run(
        ["ffmpeg", "-nostats", "-hide_banner", "-v", "verbose", "-i", str(path), "-vn",
         "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr  # fmt: skip
    summary = log[log.rindex("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    true_peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    momentary = np.array(
        [float(v) for v in re.findall(r"\sM:\s*(-?[\d.]+|-inf)", log[: log.rindex("Summary:")])]
    )
    return Loudness(integrated, true_peak, momentary)


def assert_platform_loudness(path: Path) -> Loudness:
    measured = loudness(path)
    assert abs(measured.integrated - TARGET) <= TOLERANCE, (path, measured.integrated)
    assert measured.true_peak <= TRUE_PEAK_CEILING, (path, measured.true_peak)
    # Not silent anywhere but the fades: a viewer hears something all the way through.
    middle = measured.momentary[15:-25]
    assert len(middle) and (middle > -40).mean() > 0.95, (path, middle.min())
    return measured


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1 if samples.ndim == 1 else samples.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


# -- the videos ---------------------------------------------------------------------


def test_every_video_of_the_default_build_has_sound_at_platform_loudness(built: Built):  # noqa: F811
    # The trimmed project keeps the default config: no narration and no music file.
    videos = sorted(built.out.glob("video/lessons/*/*.mp4"))
    assert len(videos) == 4
    for video in videos:
        assert_platform_loudness(video)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_narrated_video_and_a_project_music_file_are_at_platform_loudness(tmp_path: Path):
    project = trimmed_project(tmp_path / "project")
    (project / "content" / "lessons" / "dust-pneumoconiosis.md").unlink()
    (project / "content" / "campaigns" / "dust-month.md").unlink()
    # A loud music file, near full scale: it has to come down to the target.
    t = np.arange(3 * RATE) / RATE
    write_wav(
        project / "media" / "music.wav", 0.9 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(t * 3))
    )
    config = project / "site_config.yml"
    base = config.read_text(encoding="utf-8")
    for name, options in {
        "narrated": "narration: espeak, landscape: false",
        "music": "music: media/music.wav, landscape: false",
    }.items():
        config.write_text(base + f"video: {{{options}}}\n", encoding="utf-8")
        out = tmp_path / name
        build(project, out, only=["video"], jobs=1, today=TODAY, use_cache=False)
        assert_platform_loudness(out / "video" / "lessons" / "hypertension-basics" / "video.mp4")


# -- the music bed ------------------------------------------------------------------


def test_the_music_bed_is_chords_and_an_arpeggio_not_a_tone():
    style = load_style(REPO)
    for name, mood in style.audio.moods.items():
        cycle = music_cycle(mood, RATE)
        chord_samples = len(cycle) // len(mood.chords)
        mono = cycle.mean(axis=1)
        # Each chord's strongest pitches are that chord's notes (in any octave).
        for index, chord in enumerate(mood.chords):
            part = mono[index * chord_samples : (index + 1) * chord_samples]
            spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
            frequencies = np.fft.rfftfreq(len(part), 1 / RATE)
            audible = frequencies > 60
            peaks = frequencies[audible][np.argsort(spectrum[audible])[-40:]]
            classes = {round(12 * np.log2(f / 440) + 69) % 12 for f in peaks}
            expected = {note % 12 for note in chord_notes(chord, 4)}
            assert expected <= classes, (name, chord, classes)
            assert len(classes - expected) <= 3, (name, chord, classes)  # overtones, not noise
        # Soft envelopes: the level moves (plucked notes, swelling pads) but never clicks.
        window = RATE // 20
        rms = np.sqrt((mono[: len(mono) // window * window].reshape(-1, window) ** 2).mean(axis=1))
        assert rms.max() / rms.min() > 1.3, name
        # A click is a burst of every frequency: the bed's notes and their overtones stay
        # below 5 kHz, so in no 50 ms window (the loop point included) is there energy above 8 kHz.
        looped = np.concatenate([mono[-window // 2 :], mono, mono[: window // 2]])
        windows = looped[: len(looped) // window * window].reshape(-1, window)
        spectra = np.abs(np.fft.rfft(windows * np.hanning(window), axis=1)) ** 2
        high = np.fft.rfftfreq(window, 1 / RATE) > 8000
        assert (spectra[:, high].sum(axis=1) / spectra.sum(axis=1)).max() < 1e-7, name  # a 2 % step: 1.5e-6


def test_the_music_bed_is_the_same_bytes_every_time_and_each_mood_is_its_own(tmp_path: Path):
    audio = load_style(REPO).audio
    first = compose_soundtrack(8.0, None, [], audio, tmp_path / "first.wav").read_bytes()
    music_cycle.cache_clear()
    again = compose_soundtrack(8.0, None, [], audio, tmp_path / "again.wav").read_bytes()
    assert first == again
    sounds = {first}
    for mood in audio.moods:
        if mood != audio.music_mood:
            wav = compose_soundtrack(
                8.0, None, [], dataclasses.replace(audio, music_mood=mood), tmp_path / "m.wav"
            )
            sounds.add(wav.read_bytes())
    assert len(sounds) == len(audio.moods)


@pytest.mark.parametrize("mood", ["calm", "bright", "gentle"])
def test_every_mood_is_normalised_to_platform_loudness(tmp_path: Path, mood: str):
    audio = dataclasses.replace(load_style(REPO).audio, music_mood=mood)
    assert_platform_loudness(compose_soundtrack(20.0, None, [], audio, tmp_path / f"{mood}.wav"))


def test_music_ducks_under_speech_and_the_mix_stays_at_platform_loudness(tmp_path: Path):
    """A stand-in voice (a 1 kHz burst, far from the bed's notes) from 6 s to 12 s."""
    audio = load_style(REPO).audio
    t = np.arange(6 * RATE) / RATE
    voice = write_wav(tmp_path / "voice.wav", 0.3 * np.sin(2 * np.pi * 1000 * t))
    mix_path = compose_soundtrack(20.0, None, [(6.0, voice)], audio, tmp_path / "mix.wav")
    assert_platform_loudness(mix_path)
    mix = decode_audio(mix_path, RATE).mean(axis=1)

    def music_level(start: float, end: float) -> float:
        part = mix[round(start * RATE) : round(end * RATE)]
        spectrum = np.abs(np.fft.rfft(part)) ** 2
        frequencies = np.fft.rfftfreq(len(part), 1 / RATE)
        music = (frequencies > 40) & (np.abs(frequencies - 1000) > 30)  # everything but the voice
        return 10 * np.log10(spectrum[music].sum() / len(part))

    ducked = music_level(7.0, 11.0) - (music_level(2.0, 6.0) + music_level(13.0, 17.0)) / 2
    expected = 20 * np.log10(audio.music_volume_under_narration / audio.music_volume)
    assert ducked == pytest.approx(expected, abs=3.0)
    # The voice is well above the music under it.
    part = mix[7 * RATE : 11 * RATE]
    spectrum = np.abs(np.fft.rfft(part)) ** 2
    frequencies = np.fft.rfftfreq(len(part), 1 / RATE)
    voice_power = spectrum[np.abs(frequencies - 1000) <= 30].sum()
    assert 10 * np.log10(voice_power / spectrum[frequencies > 40].sum() + 1e-12) > -1.5


def test_an_unknown_mood_is_reported_in_the_style_file(tmp_path: Path):
    from builder.diagnostics import ContentError

    style = tmp_path / "templates" / "video" / "style.yml"
    style.parent.mkdir(parents=True)
    style.write_text("audio: {music_mood: jazz}\n", encoding="utf-8")
    with pytest.raises(ContentError) as failure:
        load_style(tmp_path)
    [diagnostic] = failure.value.diagnostics.errors
    assert diagnostic.path == "templates/video/style.yml" and "jazz" in diagnostic.message


def test_srt_of_the_default_build_still_matches_its_sound(built: Built):  # noqa: F811
    # The soundtrack is cut to the picture: the last cue ends where the sound does.
    folder = built.lesson_dir("hypertension-basics")
    cues = parse_srt((folder / "captions.srt").read_text(encoding="utf-8"))
    info = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries", "stream=duration", "-of", "csv=p=0",
         str(folder / "video.mp4")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert float(info) == pytest.approx(cues[-1][1], abs=0.05)
