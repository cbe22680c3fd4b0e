"""Synthetic spoken digits: espeak-ng speaks the ten digit words, as log-mel spectrograms.

:func:`clip_specs` lists, for a seed, which clips to make: every digit word in every voice
(espeak-ng voice plus variant, ``en+m3``, ``en+f2``), each ``clips_per_voice`` times at a speed
(words per minute, ``-s``) and a pitch (0-99, ``-p``) drawn from a grid. :func:`synthesize` runs
``espeak-ng`` once per clip (cached as WAV under the data cache, written atomically), reads it and
resamples it to 16 kHz; :func:`log_mel_spectrogram` computes the features (Hann-windowed STFT,
HTK mel filterbank, natural log) padded or cropped to a fixed number of frames. English is the
source language; German and French give a second, related task. NumPy and SciPy only.
"""

from __future__ import annotations

import functools
import io
import math
import re
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal
from scipy.io import wavfile

from ptft_utils.data.download import cache_dir
from ptft_utils.kit.atomic import atomic_write_bytes

SAMPLE_RATE = 16_000

DIGIT_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "de": ("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"),
    "fr": ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"),
}
VARIANTS = ("m1", "m3", "m5", "f1", "f2", "f4")
SPEEDS = (120, 140, 160, 180, 200)
PITCHES = (30, 40, 50, 60, 70)
SYNTHESIS_TIMEOUT_SECONDS = 60
_VARIANT = re.compile(r"[A-Za-z0-9_-]{1,32}")


class EspeakNotFoundError(RuntimeError):
    """espeak-ng is needed to synthesise a clip that is not cached, and it is not on PATH."""


def espeak_executable() -> str:
    """The path of ``espeak-ng``, or :class:`EspeakNotFoundError` saying how to install it."""
    found = shutil.which("espeak-ng")
    if found is None:
        raise EspeakNotFoundError(
            "espeak-ng is not installed (no 'espeak-ng' on PATH), and it synthesises the spoken digits: "
            "install it with `sudo apt-get install espeak-ng` (Debian/Ubuntu) or `brew install espeak-ng` (macOS)"
        )
    return found


def espeak_version() -> str | None:
    """espeak-ng's version (``"1.51"``), or None when it is not on PATH or does not say."""
    found = shutil.which("espeak-ng")
    if found is None:
        return None
    try:
        done = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return None
    match = re.search(r"text-to-speech:\s*(\S+)", done.stdout)
    return match.group(1) if done.returncode == 0 and match else None


@dataclass(frozen=True)
class Clip:
    """One utterance to synthesise: the digit ``label`` as ``word`` in ``voice`` at ``speed`` wpm and ``pitch``."""

    word: str
    label: int
    language: str
    voice: str
    speed: int
    pitch: int

    @property
    def filename(self) -> str:
        return f"{self.language}-{self.label}-{self.voice.replace('+', '_')}-s{self.speed}-p{self.pitch}.wav"


def clip_specs(
    language: str = "en",
    *,
    variants: tuple[str, ...] = VARIANTS,
    clips_per_voice: int = 3,
    speeds: tuple[int, ...] = SPEEDS,
    pitches: tuple[int, ...] = PITCHES,
    seed: int = 0,
) -> list[Clip]:
    """Every digit word x every voice (``language+variant``), ``clips_per_voice`` distinct (speed, pitch) each.

    The list and its order depend only on the arguments.

    Taught in: 08 §6.
    """
    if language not in DIGIT_WORDS:
        raise ValueError(f"language must be one of {sorted(DIGIT_WORDS)}, got {language!r}")
    if not variants or len(set(variants)) != len(variants):
        raise ValueError(f"variants must be a non-empty tuple of distinct espeak-ng variants, got {variants!r}")
    for variant in variants:
        if not isinstance(variant, str) or not _VARIANT.fullmatch(variant):
            raise ValueError(f"each variant must be an espeak-ng variant name such as 'm3' or 'f2', got {variant!r}")
    if not speeds or any(not isinstance(s, int) or not 80 <= s <= 450 for s in speeds):
        raise ValueError(f"speeds must be a non-empty tuple of words per minute in 80..450, got {speeds!r}")
    if not pitches or any(not isinstance(p, int) or not 0 <= p <= 99 for p in pitches):
        raise ValueError(f"pitches must be a non-empty tuple of espeak-ng pitches in 0..99, got {pitches!r}")
    grid = [(s, p) for s in sorted(set(speeds)) for p in sorted(set(pitches))]
    if not 1 <= clips_per_voice <= len(grid):
        raise ValueError(f"clips_per_voice must be in 1..{len(grid)} (speeds x pitches), got {clips_per_voice}")
    rng = np.random.default_rng(seed)
    clips = []
    for label, word in enumerate(DIGIT_WORDS[language]):
        for variant in variants:
            for i in rng.choice(len(grid), size=clips_per_voice, replace=False):
                speed, pitch = grid[int(i)]
                clips.append(Clip(word, label, language, f"{language}+{variant}", speed, pitch))
    return clips


def speech_cache() -> Path:
    """Where synthesised clips are cached: ``<data cache>/spoken_digits``."""
    return cache_dir() / "spoken_digits"


class _UnreadableWavError(ValueError):
    """Bytes that are not a WAV file holding at least one sample."""


def _parse_wav(data: bytes) -> tuple[int, np.ndarray]:
    """``(sample rate, samples)`` of a WAV file's bytes, or :class:`_UnreadableWavError` saying why not."""
    try:
        rate, samples = wavfile.read(io.BytesIO(data))
    except (ValueError, EOFError, struct.error) as exc:
        raise _UnreadableWavError(f"an unreadable WAV file ({exc})") from exc
    if samples.size == 0:
        raise _UnreadableWavError("a WAV file with no audio (0 samples)")
    return rate, samples


def _run_espeak(clip: Clip) -> tuple[bytes, int, np.ndarray]:
    """Synthesise ``clip`` in a private temporary folder; its WAV bytes, once they parse, and their contents."""
    executable = espeak_executable()
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "clip.wav"
        command = [executable, "-v", clip.voice, "-s", str(clip.speed), "-p", str(clip.pitch), "-w", str(raw)]
        try:
            done = subprocess.run(
                [*command, clip.word], capture_output=True, text=True, timeout=SYNTHESIS_TIMEOUT_SECONDS
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"espeak-ng took over {SYNTHESIS_TIMEOUT_SECONDS} s for {clip}") from exc
        if done.returncode != 0 or not raw.exists():
            raise RuntimeError(f"espeak-ng failed for {clip}: {done.stderr.strip() or done.returncode}")
        data = raw.read_bytes()
    try:
        rate, samples = _parse_wav(data)
    except _UnreadableWavError as exc:
        raise RuntimeError(f"espeak-ng wrote {exc} for {clip}") from exc
    return data, rate, samples


def synthesize(clip: Clip) -> np.ndarray:
    """The clip's waveform, ``float32`` at 16 kHz, full scale 1 (synthesised once, then read from the cache).

    espeak-ng writes into a private temporary folder; only a WAV file that parses and holds samples
    is then moved into the cache, atomically, so a failed or interrupted synthesis caches nothing.
    A cached file that does not parse (damaged outside this code) is synthesised again and replaced.

    Taught in: 08 §6.
    """
    path = speech_cache() / clip.filename
    try:
        rate, samples = _parse_wav(path.read_bytes())
    except (FileNotFoundError, _UnreadableWavError):
        data, rate, samples = _run_espeak(clip)
        atomic_write_bytes(path, data)
    waveform = _to_unit_range(samples)
    if waveform.ndim == 2:
        waveform = waveform.mean(axis=1)
    if rate != SAMPLE_RATE:
        common = math.gcd(rate, SAMPLE_RATE)
        waveform = signal.resample_poly(waveform, SAMPLE_RATE // common, rate // common)
    return waveform.astype(np.float32)


def _to_unit_range(samples: np.ndarray) -> np.ndarray:
    """PCM samples as ``float64`` in [-1, 1]: signed integers over their full scale, 8-bit around 128."""
    if samples.dtype == np.uint8:
        return (samples.astype(np.float64) - 128.0) / 128.0
    if np.issubdtype(samples.dtype, np.signedinteger):
        return samples.astype(np.float64) / float(-np.iinfo(samples.dtype).min)
    return samples.astype(np.float64)


def hz_to_mel(frequency: np.ndarray | float) -> np.ndarray:
    """HTK's mel scale, ``2595 log10(1 + f / 700)``."""
    return 2595.0 * np.log10(1.0 + np.asarray(frequency, dtype=np.float64) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    """The inverse of :func:`hz_to_mel`, ``700 (10^(m / 2595) - 1)``."""
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


@functools.lru_cache(maxsize=8)
def mel_filterbank(
    n_mels: int = 40, n_fft: int = 400, sample_rate: int = SAMPLE_RATE, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """Triangular filters ``(n_mels, n_fft // 2 + 1)``, equally spaced in mel, peak 1 (unnormalised).

    Filter ``m`` rises from centre ``m - 1`` to 1 at centre ``m`` and falls to 0 at centre ``m + 1``
    (librosa's ``mel(htk=True, norm=None)``).

    Taught in: 08 §6.
    """
    if n_mels < 1:
        raise ValueError(f"n_mels must be at least 1, got {n_mels}")
    if n_fft < 2:
        raise ValueError(f"n_fft must be at least 2, got {n_fft}")
    if sample_rate < 1:
        raise ValueError(f"sample_rate must be a positive number of samples per second, got {sample_rate}")
    fmax = sample_rate / 2 if fmax is None else fmax
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise ValueError(f"need 0 <= fmin < fmax <= sample_rate / 2, got fmin={fmin}, fmax={fmax}")
    frequencies = np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)  # bin k is k * sample_rate / n_fft
    centres = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    lower, centre, upper = centres[:-2, None], centres[1:-1, None], centres[2:, None]
    rising = (frequencies[None, :] - lower) / (centre - lower)
    falling = (upper - frequencies[None, :]) / (upper - centre)
    bank = np.clip(np.minimum(rising, falling), 0.0, None)
    empty = np.flatnonzero(bank.max(axis=1) == 0.0)
    if empty.size:
        raise ValueError(
            f"n_mels={n_mels} is too many for n_fft={n_fft} at {sample_rate} Hz between {fmin} and {fmax} Hz: "
            f"filters {empty.tolist()} fall between FFT bins and would be empty; use fewer mels or a larger n_fft"
        )
    bank.setflags(write=False)
    return bank


def log_mel_spectrogram(
    waveform: np.ndarray,
    *,
    sample_rate: int = SAMPLE_RATE,
    n_fft: int = 400,
    hop_length: int = 160,
    n_mels: int = 40,
    n_frames: int | None = None,
    floor: float = 1e-6,
) -> np.ndarray:
    """``log(mel power + floor)``, ``float32 (n_mels, frames)``: 25 ms Hann frames every 10 ms at 16 kHz.

    Frames are centred (the signal is reflect-padded by ``n_fft // 2``). With ``n_frames`` the
    result is cropped, or padded with silence (``log(floor)``), to exactly that many frames.

    Taught in: 08 §6.
    """
    x = np.asarray(waveform, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"waveform must be a non-empty 1-d array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("waveform must hold finite samples only, got NaN or infinity")
    if hop_length < 1:
        raise ValueError(f"hop_length must be at least 1 sample, got {hop_length}")
    if floor <= 0:
        raise ValueError(f"floor must be positive (it keeps log away from log 0), got {floor}")
    if n_frames is not None and n_frames < 1:
        raise ValueError(f"n_frames must be None or at least 1, got {n_frames}")
    bank = mel_filterbank(n_mels, n_fft, sample_rate)  # checks n_mels and n_fft
    x = np.pad(x, n_fft // 2, mode="reflect" if x.size > n_fft // 2 else "constant")
    count = 1 + max(0, (x.size - n_fft) // hop_length)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop_length][:count]
    window = signal.get_window("hann", n_fft, fftbins=True)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2  # (frames, n_fft // 2 + 1)
    features = np.log(bank @ power.T + floor)
    if n_frames is not None:
        features = features[:, :n_frames]
        if features.shape[1] < n_frames:
            pad = np.full((n_mels, n_frames - features.shape[1]), math.log(floor))
            features = np.concatenate([features, pad], axis=1)
    return features.astype(np.float32)


@dataclass(frozen=True)
class SpeechData:
    """Log-mel features ``float32 (N, n_mels, n_frames)``, labels ``int64 (N,)`` and the clips they came from."""

    features: np.ndarray
    labels: np.ndarray
    clips: list[Clip]
    provenance: str

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def load_spoken_digits(
    language: str = "en",
    *,
    variants: tuple[str, ...] = VARIANTS,
    clips_per_voice: int = 3,
    n_mels: int = 40,
    n_frames: int = 100,
    seed: int = 0,
) -> SpeechData:
    """The clips of :func:`clip_specs` synthesised and turned into fixed-size log-mel spectrograms.

    Taught in: 08 §6.
    """
    clips = clip_specs(language, variants=variants, clips_per_voice=clips_per_voice, seed=seed)
    features = np.stack([log_mel_spectrogram(synthesize(c), n_mels=n_mels, n_frames=n_frames) for c in clips])
    labels = np.array([c.label for c in clips], dtype=np.int64)
    version = espeak_version()
    provenance = (
        f"synthetic: espeak-ng {version or '(version unknown: clips read from the cache)'} "
        f"speaking the {language} digit words, voices {language}+{{{','.join(variants)}}}, "
        f"{clips_per_voice} (speed, pitch) draws per word and voice (seed {seed}), {len(clips)} clips, "
        f"16 kHz, {n_mels} log-mel bands x {n_frames} frames of 10 ms"
    )
    return SpeechData(features, labels, clips, provenance)
