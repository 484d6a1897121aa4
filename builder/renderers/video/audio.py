"""The soundtrack: a synthesised music bed (or the project's music), espeak-ng narration,
ducking, and normalisation to platform loudness (EBU R128).

Every video gets sound: platforms push silent clips down, and a viewer who reads
poorly gets nothing from one. Without ``video.music`` Kepu plays a music bed it
synthesises itself in numpy — chords, a soft arpeggio and a bass note, from a mood
in ``templates/video/style.yml`` — so there is no licence to worry about and the
same style gives the same bytes on every build.

The mix is normalised with a gain computed from its loudness as measured by
ffmpeg's ``ebur128`` filter (the meter the tests use too), after a smooth peak
limiter: one deterministic gain, not ``loudnorm``'s dynamic mode, so music keeps
its dynamics and the same input gives the same samples.
"""

from __future__ import annotations

import re
import subprocess
import wave
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from builder.renderers.video.encode import ffmpeg_binary
from builder.renderers.video.style import CHORD, NOTE_NAMES, AudioStyle, Mood


def synthesize_speech(text: str, audio: AudioStyle, dest: Path) -> float:
    """Speak ``text`` with espeak-ng into ``dest`` (WAV); returns its length in seconds."""
    from builder.renderers.video.narration import EspeakNarrator

    EspeakNarrator(audio.espeak_voice, audio.espeak_words_per_minute).speak(0, text, dest)
    with wave.open(str(dest), "rb") as speech:
        return speech.getnframes() / speech.getframerate()


def audio_seconds(src: Path, sample_rate: int) -> float:
    """The length of any audio file ffmpeg reads (a recording from a phone is M4A or MP3)."""
    return len(decode_audio(src, sample_rate)) / sample_rate


# -- the music bed -------------------------------------------------------------------


def chord_notes(chord: str, octave: int) -> list[int]:
    """MIDI notes of a triad plus its octave: "Am" in octave 4 → A4 C5 E5 A5."""
    match = CHORD.match(chord)
    assert match is not None  # checked when the mood was read
    letter, accidental, minor = match.groups()
    root = 12 * (octave + 1) + NOTE_NAMES[letter] + {"#": 1, "b": -1}.get(accidental, 0)
    third = 3 if minor else 4
    return [root, root + third, root + 7, root + 12]


def _frequency(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _release(samples: int, rate: int, seconds: float = 0.05) -> np.ndarray:
    """1, then down to 0 over the last ``seconds``: a note that stops does not click."""
    return np.clip((samples - np.arange(samples)) / (seconds * rate), 0.0, 1.0)


def _tone(frequency: float, samples: int, rate: int, overtones: float, detune: float = 0.0) -> np.ndarray:
    """A sine with its 2nd and 3rd harmonics at ``overtones`` and ``overtones²``: warm, not buzzy."""
    t = np.arange(samples) / rate
    phase = 2 * np.pi * frequency * (1 + detune) * t
    return np.sin(phase) + overtones * np.sin(2 * phase) + overtones**2 * np.sin(3 * phase)


@cache
def music_cycle(mood: Mood, rate: int) -> np.ndarray:
    """One pass through the mood's chords, stereo, seamless when repeated.

    Notes that ring past the end of the cycle wrap round to its start, so the
    tiled bed has no click at the seam.
    """
    beat = 60.0 / mood.tempo_bpm
    chord_seconds = beat * mood.beats_per_chord
    length = round(chord_seconds * len(mood.chords) * rate)
    out = np.zeros((length, 2))

    def add(signal: np.ndarray, start: int, pan: float) -> None:
        # Equal-power pan, -1 (left) … 1 (right).
        angle = (pan + 1) * np.pi / 4
        stereo = signal[:, None] * np.array([np.cos(angle), np.sin(angle)])
        offset = start % length
        while len(stereo):  # the part past the end of the cycle wraps round to its start
            room = min(len(stereo), length - offset)
            out[offset : offset + room] += stereo[:room]
            stereo, offset = stereo[room:], 0

    plucked: dict[int, np.ndarray] = {}
    chord_samples = round(chord_seconds * rate)
    step_samples = round(beat / mood.steps_per_beat * rate)
    for index, chord in enumerate(mood.chords):
        start = round(index * chord_seconds * rate)
        # Pad: the triad, slow swell and release, a little detuned left against right.
        pad_length = chord_samples + round(0.8 * rate)
        t = np.arange(pad_length) / rate
        envelope = np.minimum(1.0, t / 0.7) * np.clip((pad_length / rate - t) / 1.1, 0.0, 1.0)
        for note in chord_notes(chord, mood.pad_octave)[:3]:
            frequency = _frequency(note)
            for pan, detune in ((-0.6, -0.0015), (0.6, 0.0015)):
                add(
                    mood.pad_level / 3 * envelope * _tone(frequency, pad_length, rate, 0.12, detune),
                    start,
                    pan,
                )
        # Bass: the root, two octaves down, on the chord's first beat.
        bass_length = chord_samples
        t = np.arange(bass_length) / rate
        envelope = (
            np.minimum(1.0, t / 0.02) * np.exp(-t / (chord_seconds * 0.45)) * _release(bass_length, rate)
        )
        root = chord_notes(chord, mood.pad_octave - 2)[0]
        add(mood.bass_level * envelope * _tone(_frequency(root), bass_length, rate, 0.2), start, 0.0)
        # Arpeggio: plucked chord tones, soft attack, exponential decay, panned a little in turn.
        tones = chord_notes(chord, mood.arpeggio_octave)
        note_length = round(mood.arpeggio_decay_seconds * 4 * rate)
        t = np.arange(note_length) / rate
        envelope = (
            np.minimum(1.0, t / 0.012)
            * np.exp(-t / mood.arpeggio_decay_seconds)
            * _release(note_length, rate)
        )
        steps = mood.beats_per_chord * mood.steps_per_beat
        for step in range(steps):
            degree = mood.arpeggio[step % len(mood.arpeggio)]
            note = tones[degree % 4] + 12 * (degree // 4)
            if note not in plucked:  # the same few chord tones come back every bar
                plucked[note] = _tone(_frequency(note), note_length, rate, mood.brightness)
            tone = plucked[note]
            accent = 1.0 if step % mood.steps_per_beat == 0 else 0.75
            add(
                mood.arpeggio_level * accent * envelope * tone,
                start + step * step_samples,
                0.35 * (-1) ** step,
            )
    return out


# -- mixing and loudness ---------------------------------------------------------------


def compose_soundtrack(
    seconds: float,
    music: Path | None,
    speech: Sequence[tuple[float, Path]],
    audio: AudioStyle,
    dest: Path,
) -> Path:
    """Music (the project's file, or the style's mood) ducked under the speech clips,
    normalised to ``audio.target_lufs`` with sample peaks below ``audio.peak_ceiling_db``; a WAV.

    float32 and in place: a 90 s stereo track is 35 MB a copy, and a worker should
    stay well under 1 GiB.
    """
    rate = audio.sample_rate
    samples = round(seconds * rate)
    bed = None
    if music is not None:
        decoded = decode_audio(music, rate)
        if len(decoded) and np.abs(decoded).max() > 0:
            bed = np.resize(
                decoded.astype(np.float32), (samples, 2)
            )  # repeats the track to the video's length
    if bed is None:
        bed = np.resize(music_cycle(audio.mood(), rate).astype(np.float32), (samples, 2))
    bed *= np.float32(0.1 / max(float(np.sqrt(np.mean(bed**2))), 1e-9))  # speech and music on one scale

    spoken = np.zeros(samples, dtype=bool)
    clips = []
    for start, wav in speech:
        clip = decode_audio(wav, rate).astype(np.float32)
        first = round(start * rate)
        clip = clip[: max(0, samples - first)]
        clips.append((first, clip))
        spoken[first : first + len(clip)] = True
    envelope = _fades(samples, rate, audio.music_fade_in_seconds, audio.music_fade_out_seconds)
    envelope *= audio.music_volume * _duck_envelope(spoken, rate, audio)
    bed *= envelope.astype(np.float32)[:, None]
    mix = bed
    if clips:
        # Speech at a fixed level over the music: espeak's own level varies with the voice.
        loud = np.sqrt(np.mean(np.concatenate([clip for _, clip in clips]) ** 2))
        level = np.float32(0.1 / max(float(loud), 1e-9) * 10 ** (audio.speech_over_music_db / 20))
        for first, clip in clips:
            mix[first : first + len(clip)] += clip * level
    mix = normalise(mix, rate, audio)
    _write_wav(dest, mix, rate)
    return dest


def _fades(samples: int, rate: int, fade_in: float, fade_out: float) -> np.ndarray:
    t = np.arange(samples) / rate
    total = samples / rate
    return np.clip(t / max(fade_in, 1e-9), 0, 1) * np.clip((total - t) / max(fade_out, 1e-9), 0, 1)


def _duck_envelope(spoken: np.ndarray, rate: int, audio: AudioStyle) -> np.ndarray:
    """1 where nobody speaks, the ducked level under speech, with smooth ramps between."""
    if not spoken.any():
        return np.ones(len(spoken))
    low = audio.music_volume_under_narration / audio.music_volume
    target = np.where(spoken, low, 1.0)
    ramp = max(1, round(audio.duck_ramp_seconds * rate))
    # A moving average (by cumulative sums) of a step is a linear ramp centred on it;
    # it starts before the speech and ends after it, so the music is down in time.
    padded = np.concatenate([np.full(ramp, target[0]), target, np.full(ramp, target[-1])])
    sums = np.cumsum(padded)
    smooth = (sums[2 * ramp :] - sums[: -2 * ramp]) / (2 * ramp)
    return np.minimum(target, np.concatenate([smooth, np.full(len(target) - len(smooth), target[-1])]))


def normalise(mix: np.ndarray, rate: int, audio: AudioStyle) -> np.ndarray:
    """``mix`` at the target loudness, its peaks limited below the ceiling.

    Gain and limiter alternate twice: limiting the few loudest peaks takes a
    fraction of a LU away, which the second gain gives back.
    """
    ceiling = 10 ** (audio.peak_ceiling_db / 20)
    loudness = measure_loudness(mix, rate)
    if loudness is None:
        return mix  # nothing above the gate: nothing to normalise
    for _ in range(3):
        mix *= np.float32(10 ** ((audio.target_lufs - loudness) / 20))
        mix = limit_peaks(mix, ceiling, rate)
        loudness = measure_loudness(mix, rate)
        if loudness is None or abs(loudness - audio.target_lufs) < 0.3:
            break
    return mix


def limit_peaks(mix: np.ndarray, ceiling: float, rate: int) -> np.ndarray:
    """Turn down only what would pass ``ceiling``, with 5 ms ramps (no hard clipping).

    The gain of each 5 ms block is the smallest any sample of it or its neighbours
    needs; interpolating between block centres then never exceeds what a sample needs.
    """
    peak = np.abs(mix).max(axis=1)
    if peak.max() <= ceiling:
        return mix
    block = max(1, round(0.005 * rate))
    blocks = -(-len(peak) // block)
    padded = np.zeros(blocks * block)
    padded[: len(peak)] = peak
    need = np.minimum(1.0, ceiling / np.maximum(padded.reshape(blocks, block).max(axis=1), 1e-12))
    widened = np.minimum(need, np.minimum(np.roll(need, 1), np.roll(need, -1)))
    centres = np.arange(blocks) * block + block / 2
    gain = np.interp(np.arange(len(peak)), centres, widened)
    mix *= gain.astype(np.float32)[:, None]
    return mix


LOUDNESS = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf) LUFS")


def measure_loudness(mix: np.ndarray, rate: int) -> float | None:
    """Integrated loudness (LUFS, EBU R128) by ffmpeg's ``ebur128``; None for silence."""
    result = subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-nostdin", "-nostats",
         "-f", "f32le", "-ar", str(rate), "-ac", "2", "-i", "pipe:0",
         "-af", "ebur128", "-f", "null", "-"],
        input=np.ascontiguousarray(mix, dtype="<f4").tobytes(),
        capture_output=True,
        check=True,
    )  # fmt: skip
    found = LOUDNESS.findall(result.stderr.decode("utf-8", errors="replace"))
    if not found or found[-1] == "-inf" or float(found[-1]) < -69:
        return None
    return float(found[-1])


def _write_wav(dest: Path, mix: np.ndarray, rate: int) -> None:
    mix *= np.float32(32767)
    pcm = np.clip(np.round(mix, out=mix), -32768, 32767, out=mix).astype("<i2")
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())


def decode_audio(src: Path, sample_rate: int) -> np.ndarray:
    """Any audio file as float stereo samples at ``sample_rate``, shape (samples, 2)."""
    raw = subprocess.run(
        [ffmpeg_binary(), "-v", "error", "-nostdin", "-i", str(src),
         "-f", "s16le", "-acodec", "pcm_s16le", "-ac", "2", "-ar", str(sample_rate), "-"],
        capture_output=True,
        check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype="<i2").reshape(-1, 2).astype(np.float64) / 32768
