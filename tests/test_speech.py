"""Tests for chapter 08's spoken digits: espeak-ng synthesis and its cache, the mel filterbank, log-mels.

Synthesis runs the real ``espeak-ng`` (``.ci/run`` installs it); the missing-program and failed-run
cases put a PATH without it, or with a small failing ``espeak-ng`` script, in front of our code.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from ptft_utils.data import speech
from ptft_utils.data.speech import (
    SAMPLE_RATE,
    Clip,
    EspeakNotFoundError,
    clip_specs,
    hz_to_mel,
    load_spoken_digits,
    log_mel_spectrogram,
    mel_filterbank,
    mel_to_hz,
    synthesize,
)

ESPEAK = shutil.which("espeak-ng")
needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed (.ci/run installs it)")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data cache for the test: the folder where synthesised clips land."""
    monkeypatch.setenv("PTFT_DATA", str(tmp_path / "data"))
    return tmp_path / "data" / "spoken_digits"


def _path_without_espeak(tmp_path: Path) -> str:
    """A PATH of one empty folder: ``espeak-ng`` cannot be found on it."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    return str(empty)


def _fake_espeak(tmp_path: Path, body: str) -> str:
    """A folder holding an executable ``espeak-ng`` shell script with ``body``; returns it as a PATH."""
    folder = tmp_path / "fake-bin"
    folder.mkdir()
    script = folder / "espeak-ng"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return f"{folder}{os.pathsep}/usr/bin{os.pathsep}/bin"


def _clips_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- which clips -------------------------------------------------------------------------------


def test_clip_specs_lists_clips_per_voice_distinct_settings_for_each_word_and_voice() -> None:
    clips = clip_specs("de", variants=("m1", "f2", "f4"), clips_per_voice=4, seed=5)
    assert len(clips) == 10 * 3 * 4
    assert Counter((c.label, c.voice) for c in clips) == {
        (label, f"de+{v}"): 4 for label in range(10) for v in ("m1", "f2", "f4")
    }
    for label in range(10):
        for voice in ("de+m1", "de+f2", "de+f4"):
            settings = [(c.speed, c.pitch) for c in clips if c.label == label and c.voice == voice]
            assert len(set(settings)) == 4
            assert all(s in speech.SPEEDS and p in speech.PITCHES for s, p in settings)
    assert {c.word for c in clips if c.label == 5} == {"fünf"}
    assert len({c.filename for c in clips}) == len(clips)


def test_clip_specs_depend_only_on_the_arguments() -> None:
    assert clip_specs("en", seed=3) == clip_specs("en", seed=3)
    assert clip_specs("en", seed=3) != clip_specs("en", seed=4)


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"language": "es"}, "language"),
        ({"clips_per_voice": 0}, "clips_per_voice"),
        ({"clips_per_voice": 26}, "clips_per_voice"),
        ({"variants": ()}, "variants"),
        ({"variants": ("m1", "m1")}, "variants"),
        ({"variants": ("../m1",)}, "variant"),
        ({"pitches": (100,)}, "pitches"),
        ({"speeds": (20,)}, "speeds"),
    ],
)
def test_clip_specs_rejects_bad_arguments_by_name(arguments: dict, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        clip_specs(**arguments)


# --- synthesis and its cache -------------------------------------------------------------------


@needs_espeak
def test_loader_gives_clips_per_voice_clips_for_each_word_and_voice(cache: Path) -> None:
    data = load_spoken_digits("en", variants=("m3", "f2"), clips_per_voice=2, n_mels=32, n_frames=80)
    assert len(data) == 10 * 2 * 2
    assert data.features.shape == (40, 32, 80) and data.features.dtype == np.float32
    assert np.isfinite(data.features).all()
    assert Counter(zip(data.labels.tolist(), [c.voice for c in data.clips], strict=True)) == {
        (label, voice): 2 for label in range(10) for voice in ("en+m3", "en+f2")
    }
    assert data.labels.tolist() == [c.label for c in data.clips]
    assert _clips_in(cache) == sorted(c.filename for c in data.clips)
    # "eSpeak NG text-to-speech: 1.51  Data at: ...": the provenance names the version that spoke.
    banner = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
    version = banner.split(":")[1].split()[0]
    assert data.provenance.startswith(f"synthetic: espeak-ng {version} speaking the en digit words")
    assert "40 clips" in data.provenance
    # Speech is louder than the padding: every clip has frames well above the silence floor.
    assert (data.features.max(axis=(1, 2)) > math.log(1e-6) + 10).all()


@needs_espeak
def test_synthesis_is_16khz_float_resampled_from_espeaks_own_rate(cache: Path) -> None:
    clip = Clip("seven", 7, "en", "en+m3", 160, 50)
    waveform = synthesize(clip)
    rate, raw = wavfile.read(cache / clip.filename)
    assert waveform.dtype == np.float32 and waveform.ndim == 1
    assert np.abs(waveform).max() <= 1.0 and np.abs(waveform).max() > 0.05
    expected = raw.size if rate == SAMPLE_RATE else math.ceil(raw.size * SAMPLE_RATE / rate)
    assert waveform.size == expected
    assert 0.2 < waveform.size / SAMPLE_RATE < 3.0


@needs_espeak
def test_non_ascii_digit_words_are_spoken(cache: Path) -> None:
    for clip in (Clip("fünf", 5, "de", "de+m1", 140, 50), Clip("zéro", 0, "fr", "fr+f2", 140, 50)):
        assert np.abs(synthesize(clip)).max() > 0.05


@needs_espeak
def test_a_cached_clip_is_read_back_without_running_espeak(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = Clip("three", 3, "en", "en+f2", 180, 40)
    first = synthesize(clip)
    path = cache / clip.filename
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # an old mtime: a rewrite would change it
    second = synthesize(clip)
    assert path.stat().st_mtime_ns == 1_000_000_000
    assert np.array_equal(first, second)
    monkeypatch.setenv("PATH", _path_without_espeak(tmp_path))
    assert np.array_equal(synthesize(clip), first)
    assert path.stat().st_mtime_ns == 1_000_000_000 and _clips_in(cache) == [clip.filename]


@needs_espeak
def test_a_damaged_cached_clip_is_synthesised_again_and_replaced(cache: Path) -> None:
    clip = Clip("four", 4, "en", "en+m5", 140, 60)
    cache.mkdir(parents=True)
    (cache / clip.filename).write_bytes(b"RIFF\x24\x00")  # half a header, as a crash outside our code might leave
    waveform = synthesize(clip)
    assert waveform.size > SAMPLE_RATE // 10
    rate, samples = wavfile.read(cache / clip.filename)
    assert samples.size > 0 and _clips_in(cache) == [clip.filename]


def test_missing_espeak_is_a_clear_error_saying_how_to_install_it(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", _path_without_espeak(tmp_path))
    with pytest.raises(EspeakNotFoundError, match=r"espeak-ng is not installed.*apt-get install espeak-ng"):
        synthesize(Clip("one", 1, "en", "en+m1", 140, 50))
    with pytest.raises(EspeakNotFoundError, match="espeak-ng"):
        load_spoken_digits("en", variants=("m1",), clips_per_voice=1)
    assert _clips_in(cache) == []
    assert speech.espeak_version() is None


@needs_espeak
def test_a_voice_espeak_rejects_is_an_error_and_caches_nothing(cache: Path) -> None:
    with pytest.raises(RuntimeError, match="espeak-ng failed.*xx\\+m1"):
        synthesize(Clip("one", 1, "xx", "xx+m1", 140, 50))
    assert _clips_in(cache) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # Writes half a WAV header, then fails.
        ('while [ "$1" != "-w" ]; do shift; done; printf "RIFF\\044\\000" > "$2"; exit 1\n', "espeak-ng failed"),
        # Writes half a WAV header and claims success.
        ('while [ "$1" != "-w" ]; do shift; done; printf "RIFF\\044\\000" > "$2"; exit 0\n', "unreadable WAV"),
        # Exits cleanly without writing anything.
        ("exit 0\n", "espeak-ng failed"),
    ],
)
def test_a_failed_or_partial_synthesis_leaves_no_file_in_the_cache(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, message: str
) -> None:
    monkeypatch.setenv("PATH", _fake_espeak(tmp_path, body))
    with pytest.raises(RuntimeError, match=message):
        synthesize(Clip("two", 2, "en", "en+m1", 140, 50))
    assert _clips_in(cache) == []  # neither the clip nor a temporary sibling


def test_an_empty_wav_is_not_cached(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty.wav"
    wavfile.write(empty, 22_050, np.zeros(0, dtype=np.int16))
    body = f'while [ "$1" != "-w" ]; do shift; done; cp "{empty}" "$2"\n'
    monkeypatch.setenv("PATH", _fake_espeak(tmp_path, body))
    with pytest.raises(RuntimeError, match="no audio"):
        synthesize(Clip("two", 2, "en", "en+m1", 140, 50))
    assert _clips_in(cache) == []


# --- mel scale and filterbank ------------------------------------------------------------------


def test_htk_mel_scale_values_and_inverse() -> None:
    assert float(hz_to_mel(0.0)) == 0.0
    assert float(hz_to_mel(700.0)) == pytest.approx(2595.0 * math.log10(2.0))
    assert float(hz_to_mel(1000.0)) == pytest.approx(1000.0, abs=0.05)  # HTK's scale: 1 kHz is ~1000 mel
    frequencies = np.array([0.0, 55.0, 440.0, 3000.0, 8000.0])
    assert np.allclose(mel_to_hz(hz_to_mel(frequencies)), frequencies)


def _triangle(frequency: float, lower: float, centre: float, upper: float) -> float:
    """The HTK filter written out case by case, as the textbook draws it."""
    if lower < frequency <= centre:
        return (frequency - lower) / (centre - lower)
    if centre < frequency < upper:
        return (upper - frequency) / (upper - centre)
    return 0.0


@pytest.mark.parametrize(("n_mels", "n_fft", "sample_rate", "fmin"), [(40, 400, 16_000, 0.0), (23, 511, 22_050, 80.0)])
def test_filterbank_is_triangles_between_mel_spaced_edges_at_the_fft_bin_frequencies(
    n_mels: int, n_fft: int, sample_rate: int, fmin: float
) -> None:
    bank = mel_filterbank(n_mels, n_fft, sample_rate, fmin=fmin)
    top = 2595.0 * math.log10(1.0 + sample_rate / 2 / 700.0)
    bottom = 2595.0 * math.log10(1.0 + fmin / 700.0)
    edges = [700.0 * (10 ** ((bottom + i * (top - bottom) / (n_mels + 1)) / 2595.0) - 1.0) for i in range(n_mels + 2)]
    expected = np.array(
        [[_triangle(k * sample_rate / n_fft, *edges[m : m + 3]) for k in range(n_fft // 2 + 1)] for m in range(n_mels)]
    )
    assert bank.shape == (n_mels, n_fft // 2 + 1)
    assert np.allclose(bank, expected, atol=1e-12)


def test_filter_peaks_sit_at_the_mel_spaced_centres_and_reach_one() -> None:
    n_fft, n_mels = 8192, 20
    bank = mel_filterbank(n_mels, n_fft, SAMPLE_RATE)
    bin_width = SAMPLE_RATE / n_fft
    centres = mel_to_hz(np.linspace(0.0, hz_to_mel(SAMPLE_RATE / 2), n_mels + 2))[1:-1]
    peaks = bank.argmax(axis=1) * bin_width
    assert np.all(np.abs(peaks - centres) <= bin_width / 2 + 1e-9)
    assert np.all(bank.max(axis=1) > 0.99) and bank.max() <= 1.0
    assert np.all(np.diff(centres[1:]) > np.diff(centres[:-1]))  # wider apart in Hz as frequency rises


def test_neighbouring_filters_sum_to_one_between_the_first_and_last_centre() -> None:
    bank = mel_filterbank(40, 400, SAMPLE_RATE)
    frequencies = np.fft.rfftfreq(400, 1 / SAMPLE_RATE)
    centres = mel_to_hz(np.linspace(0.0, hz_to_mel(SAMPLE_RATE / 2), 42))[1:-1]
    inside = (frequencies >= centres[0]) & (frequencies <= centres[-1])
    assert inside.sum() > 150
    assert np.allclose(bank.sum(axis=0)[inside], 1.0)
    assert (bank >= 0).all() and ((bank > 0).sum(axis=0) <= 2).all()  # each bin in at most two triangles


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"n_mels": 0}, "n_mels"),
        ({"n_fft": 1}, "n_fft"),
        ({"fmin": 5000.0, "fmax": 4000.0}, "fmin"),
        ({"fmax": 9000.0}, "fmax"),
        ({"n_mels": 128, "n_fft": 256}, "n_mels=128 is too many"),
    ],
)
def test_filterbank_rejects_bad_arguments_by_name(arguments: dict, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        mel_filterbank(**arguments)


# --- STFT and log-mel features ------------------------------------------------------------------


def _sine(frequency: float, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return amplitude * np.sin(2 * np.pi * frequency * t)


@pytest.mark.parametrize("frequency", [200.0, 440.0, 1000.0, 2500.0, 6000.0])
def test_a_sine_peaks_in_the_mel_band_whose_centre_is_nearest_its_frequency(frequency: float) -> None:
    features = log_mel_spectrogram(_sine(frequency))
    centres_mel = np.linspace(0.0, hz_to_mel(SAMPLE_RATE / 2), 42)[1:-1]
    nearest_band = int(np.argmin(np.abs(centres_mel - hz_to_mel(frequency))))
    assert features.shape == (40, 1 + SAMPLE_RATE // 160)  # centred frames: 1 + samples // hop
    assert (features[:, 5:-5].argmax(axis=0) == nearest_band).all()


def test_log_mel_power_of_a_bin_centred_sine_matches_the_hann_windowed_dft_by_hand() -> None:
    n_fft, amplitude, k = 400, 0.5, 25  # bin 25 is 1000 Hz at 16 kHz
    features = log_mel_spectrogram(_sine(k * SAMPLE_RATE / n_fft, amplitude=amplitude), floor=1e-12)
    # A periodic Hann window turns a sine on bin k into |X| = A n/4 at k and A n/8 at k +- 1.
    bank = mel_filterbank(40, n_fft, SAMPLE_RATE)
    power_k, power_side = (amplitude * n_fft / 4) ** 2, (amplitude * n_fft / 8) ** 2
    expected = np.log(bank[:, k] * power_k + (bank[:, k - 1] + bank[:, k + 1]) * power_side + 1e-12)
    interior = features[:, 3:-3]
    loud = expected > math.log(1.0)  # the bands the tone reaches (the rest is rounding noise)
    assert loud.sum() >= 1
    assert np.allclose(interior[loud], expected[loud, None], atol=1e-3)


def test_silence_is_the_log_floor_and_n_frames_pads_and_crops() -> None:
    silence = log_mel_spectrogram(np.zeros(4000), floor=1e-6)
    assert silence.shape == (40, 26) and np.allclose(silence, math.log(1e-6))
    tone = _sine(1000.0, seconds=0.5)
    full = log_mel_spectrogram(tone)
    padded = log_mel_spectrogram(tone, n_frames=full.shape[1] + 7)
    cropped = log_mel_spectrogram(tone, n_frames=10)
    assert np.array_equal(padded[:, : full.shape[1]], full)
    assert np.allclose(padded[:, full.shape[1] :], math.log(1e-6))
    assert np.array_equal(cropped, full[:, :10])


def test_a_waveform_shorter_than_half_a_frame_still_gives_one_frame() -> None:
    assert log_mel_spectrogram(_sine(1000.0)[:50]).shape == (40, 1)


@pytest.mark.parametrize(
    ("waveform", "arguments", "named"),
    [
        (np.zeros((2, 800)), {}, "waveform"),
        (np.zeros(0), {}, "waveform"),
        (np.array([0.0, np.nan, 0.0]), {}, "waveform"),
        (np.zeros(800), {"n_frames": 0}, "n_frames"),
        (np.zeros(800), {"floor": 0.0}, "floor"),
        (np.zeros(800), {"hop_length": 0}, "hop_length"),
        (np.zeros(800), {"n_mels": 0}, "n_mels"),
    ],
)
def test_log_mel_spectrogram_rejects_bad_input_by_name(waveform: np.ndarray, arguments: dict, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        log_mel_spectrogram(waveform, **arguments)
