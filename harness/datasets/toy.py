"""The embedded synthetic dataset ``toy``: deterministic "mood music" with known causes.

Every item is a 30 s mono piece at 12 kHz built from five independent binary musical factors,
each True with probability 0.5, plus continuous nuisance variation (the key, the exact tempo, the
instrument's harmonic mix, a level jitter of +-2 dB, the melody and the chord progression). Each
factor is made plainly audible in a 96-band mel-spectrogram (hop 256 at 12 kHz):

==============  ===========================================  ==========================================
factor          True                                         False
==============  ===========================================  ==========================================
``fast``        140-170 bpm, 8th or 16th-note melody         60-85 bpm, quarter and half notes
``major``       melody and triads from the major scale       natural minor scale and minor triads
``loud``        -10 dBFS RMS (+-2 dB)                        -29 dBFS RMS (+-2 dB)
``bright``      all harmonics up to Nyquist, 1 octave up,    3-5 harmonics, low-passed at 1.0-1.6 kHz
                white-noise drums                            (drums too), 1 octave down
``percussive``  40-120 ms exponential decays, triad struck   legato notes with slow attack (0.1-0.6 s),
                on every beat, noise-burst drum on the beat  triad held for the bar as a pad, no drum
==============  ===========================================  ==========================================

The triad of the bar's chord (I, IV or V; all major triads in a major key, all minor in a minor
one) sounds under the melody, so the third is always present; a bass plays the chord root. A
look-ahead limiter keeps every peak below 0.97 (``PEAK_CEILING``); the spikiest loud pieces (slow
and percussive) therefore stay up to about 4 dB under their RMS target, and loud and soft pieces
end up about 18.5 dB apart on average (over 10 dB apart for every item of the default
config).

Tags, in this order (the column order of the label matrix), follow exact rules:

- ``energetic`` = fast and loud
- ``calm`` = slow and soft
- ``happy`` = major and fast
- ``sad`` = minor and slow
- ``dark`` = minor and dark timbre
- ``uplifting`` = major and bright
- ``aggressive`` = loud and percussive
- ``relaxing`` = soft and sustained

then every (item, tag) cell is flipped independently with probability ``label_noise`` (0.03 by
default). An item may carry any number of tags, none included.

Item ``i`` depends only on ``(seed, i)``: its factors, nuisance and label noise come from
``SeedSequence([seed, i])``, its audio from ``SeedSequence([seed, i, 1])``, so the same config
gives the same samples with any number of workers (synthesis is float64, rounded to float32 at the
end). Splits come from one seeded permutation of all items, with validation and test sizes exactly
``round(n * fraction)`` and the remainder in train. The default 400 items take about 10 s on two
cores (vectorised numpy, one worker process per core, up to 4).

Files written under the root (all atomically):

- ``audio/toy-0000.flac`` ...: 16-bit PCM FLAC, mono, ``sample_rate`` Hz;
- ``metadata.tsv``: a header, then ``item_id``, ``split``, the tags joined by ``,`` (empty when
  none) and one 0/1 column per factor (``fast major loud bright percussive``);
- ``manifest.json``, last: the config, the generator version, the tag list and the SHA-256 of
  ``metadata.tsv``; its presence (and match) marks a complete dataset;
- ``.generation.json``: the config the audio files were made with, so an interrupted generation
  resumes and keeps only the files it can trust.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import hashlib
import io
import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from numpy.lib.stride_tricks import sliding_window_view

from harness.atomic import write_bytes, write_json, write_text
from harness.datasets.registry import SPLITS
from harness.errors import BadInputError, DataMissingError, FormatError

GENERATOR_VERSION = "toy-3"

TOY_TAGS: tuple[str, ...] = (
    "energetic",
    "calm",
    "happy",
    "sad",
    "dark",
    "uplifting",
    "aggressive",
    "relaxing",
)
FACTORS: tuple[str, ...] = ("fast", "major", "loud", "bright", "percussive")

PREPARE_COMMAND = "harness datasets prepare toy"
METADATA_HEADER: tuple[str, ...] = ("item_id", "split", "tags", *FACTORS)

LOUD_DBFS = -10.0
SOFT_DBFS = -29.0
LEVEL_JITTER_DB = 2.0
PEAK_CEILING = 0.97

_AUDIO_STREAM = 1
_SPLIT_STREAM = 2**31 - 1  # SeedSequence([seed, this]) draws the split permutation
_TABLE_SIZE = 2048  # samples per single-cycle wavetable
_LIMITER_BLOCK = 32  # samples
_BATCH = 8  # items per worker task: a batch shares one set of work arrays
_MAJOR_SCALE = np.array([0, 2, 4, 5, 7, 9, 11])
_MINOR_SCALE = np.array([0, 2, 3, 5, 7, 8, 10])
# Chord progressions over scale degrees (I/i, IV/iv, V/v): all major triads in a major key and
# all minor triads in a natural-minor key, so the mode is never ambiguous.
_PROGRESSIONS = np.array([[0, 3, 4, 0], [0, 4, 3, 0], [0, 3, 0, 4], [0, 0, 3, 4], [0, 4, 0, 3]])


@dataclass(frozen=True)
class ToyConfig:
    """What ``generate_toy`` makes; every field is recorded in ``manifest.json``."""

    seed: int = 20261122
    n_items: int = 400
    duration_s: float = 30.0
    sample_rate: int = 12000
    label_noise: float = 0.03
    split_fractions: tuple[float, float, float] = (0.5, 0.25, 0.25)  # train, validation, test

    def __post_init__(self) -> None:
        def is_int(value: Any) -> bool:
            return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

        def is_real(value: Any) -> bool:
            return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)

        if not is_int(self.seed) or self.seed < 0:
            raise BadInputError(f"toy config: seed={self.seed!r} must be a non-negative integer")
        if not is_int(self.n_items) or not 3 <= self.n_items <= 100_000:
            raise BadInputError(f"toy config: n_items={self.n_items!r} must be an integer in "
                                "3..100000 (at least one item per split)")
        if not is_int(self.sample_rate) or not 8000 <= self.sample_rate <= 192000:
            raise BadInputError(f"toy config: sample_rate={self.sample_rate!r} must be an integer "
                                "in 8000..192000 Hz (the mel96 features expect 12000)")
        if not is_real(self.duration_s) or not 0.5 <= float(self.duration_s) <= 600.0:
            raise BadInputError(f"toy config: duration_s={self.duration_s!r} must be a number of "
                                "seconds in 0.5..600")
        if not is_real(self.label_noise) or not 0.0 <= float(self.label_noise) < 0.5:
            raise BadInputError(f"toy config: label_noise={self.label_noise!r} must be a "
                                "probability in [0, 0.5)")
        fractions = tuple(self.split_fractions)
        if len(fractions) != 3 or not all(is_real(f) for f in fractions):
            raise BadInputError(f"toy config: split_fractions={self.split_fractions!r} must be "
                                "three numbers (train, validation, test)")
        if any(not 0.0 < float(f) < 1.0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-9:
            raise BadInputError(f"toy config: split_fractions={self.split_fractions!r} must each "
                                "lie in (0, 1) and sum to 1")
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "n_items", int(self.n_items))
        object.__setattr__(self, "sample_rate", int(self.sample_rate))
        object.__setattr__(self, "split_fractions", tuple(float(f) for f in fractions))
        object.__setattr__(self, "duration_s", float(self.duration_s))
        object.__setattr__(self, "label_noise", float(self.label_noise))
        sizes = split_sizes(self.n_items, self.split_fractions)
        if min(sizes) < 1:
            raise BadInputError(f"toy config: n_items={self.n_items} with split_fractions="
                                f"{self.split_fractions} leaves an empty split (sizes {sizes}); "
                                "use more items")

    @property
    def n_samples(self) -> int:
        return round(self.duration_s * self.sample_rate)

    def as_dict(self) -> dict[str, Any]:
        """The config as plain JSON values (the form stored in ``manifest.json``)."""
        data = dataclasses.asdict(self)
        data["split_fractions"] = list(self.split_fractions)
        return data


@dataclass(frozen=True)
class ToyItem:
    """One drawn item: its factors, tags and the nuisance parameters its audio is made from."""

    index: int
    item_id: str
    split: str
    factors: tuple[bool, ...]  # in FACTORS order
    tags: tuple[str, ...]  # after label noise, in TOY_TAGS order
    clean_tags: tuple[str, ...]  # from the rules alone
    key: int  # pitch class of the tonic, 0 = C
    bpm: float
    harmonic_tilt: float  # harmonic k has amplitude k ** -tilt
    even_harmonics: float  # extra gain of the even harmonics, in (0, 1]
    level_dbfs: float  # target RMS: the loudness factor's level plus jitter

    def factor(self, name: str) -> bool:
        return self.factors[_factor_index(name)]


@dataclass(frozen=True)
class ToyRecord:
    """One row of ``metadata.tsv``."""

    item_id: str
    split: str
    tags: tuple[str, ...]
    factors: tuple[bool, ...]  # in FACTORS order

    def factor(self, name: str) -> bool:
        return self.factors[_factor_index(name)]


def _factor_index(name: str) -> int:
    try:
        return FACTORS.index(name)
    except ValueError:
        raise BadInputError(f"unknown toy factor {name!r}; known: {', '.join(FACTORS)}") from None


# --------------------------------------------------------------------------------------------
# Drawing items


def tags_from_factors(factors: Sequence[bool]) -> tuple[str, ...]:
    """The tags the rules give for ``factors`` (in FACTORS order), before label noise."""
    fast, major, loud, bright, percussive = (bool(f) for f in factors)
    rules = {
        "energetic": fast and loud,
        "calm": not fast and not loud,
        "happy": major and fast,
        "sad": not major and not fast,
        "dark": not major and not bright,
        "uplifting": major and bright,
        "aggressive": loud and percussive,
        "relaxing": not loud and not percussive,
    }
    return tuple(tag for tag in TOY_TAGS if rules[tag])


def split_sizes(n_items: int, fractions: Sequence[float]) -> tuple[int, int, int]:
    """(train, validation, test) sizes: validation and test are rounded, train takes the rest."""
    n_validation = round(n_items * fractions[1])
    n_test = round(n_items * fractions[2])
    return n_items - n_validation - n_test, n_validation, n_test


@functools.lru_cache(maxsize=8)
def _split_names(seed: int, n_items: int, fractions: tuple[float, float, float]) -> tuple[str, ...]:
    order = np.random.default_rng(np.random.SeedSequence([seed, _SPLIT_STREAM])).permutation(n_items)
    names = np.empty(n_items, dtype=object)
    start = 0
    for name, size in zip(SPLITS, split_sizes(n_items, fractions)):
        names[order[start:start + size]] = name
        start += size
    return tuple(names.tolist())


def item_id(index: int) -> str:
    return f"toy-{index:04d}"


def draw_item(config: ToyConfig, index: int) -> ToyItem:
    """Draw item ``index``: everything but its split depends only on ``(config.seed, index)``."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < config.n_items:
        raise BadInputError(f"toy item index {index!r} must be an integer in 0..{config.n_items - 1}")
    index = int(index)
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, index]))
    factors = tuple(bool(u < 0.5) for u in rng.random(len(FACTORS)))
    fast, _major, loud, bright, _percussive = factors
    key = int(rng.integers(12))
    tempo_u, tilt_u, even_u, jitter_u = rng.random(4)
    bpm = 140.0 + 30.0 * tempo_u if fast else 60.0 + 25.0 * tempo_u
    tilt = 0.6 + 0.4 * tilt_u if bright else 1.8 + 0.7 * tilt_u
    even = 0.3 + 0.7 * even_u
    level = (LOUD_DBFS if loud else SOFT_DBFS) + LEVEL_JITTER_DB * (2.0 * jitter_u - 1.0)
    flips = rng.random(len(TOY_TAGS)) < config.label_noise
    clean = tags_from_factors(factors)
    tags = tuple(tag for tag, flip in zip(TOY_TAGS, flips) if (tag in clean) != bool(flip))
    return ToyItem(
        index=index,
        item_id=item_id(index),
        split=_split_names(config.seed, config.n_items, config.split_fractions)[index],
        factors=factors,
        tags=tags,
        clean_tags=clean,
        key=key,
        bpm=float(bpm),
        harmonic_tilt=float(tilt),
        even_harmonics=float(even),
        level_dbfs=float(level),
    )


# --------------------------------------------------------------------------------------------
# Synthesis


def synthesize(item: ToyItem, config: ToyConfig) -> np.ndarray:
    """The item's audio: float32 mono, ``round(duration_s * sample_rate)`` samples, peak < 1."""
    return _render(item, config, _Scratch(config.n_samples)).astype(np.float32)


def _render(item: ToyItem, config: ToyConfig, scratch: _Scratch) -> np.ndarray:
    """Synthesise into ``scratch.mix`` (float64) and return it."""
    sr = config.sample_rate
    n = config.n_samples
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, item.index, _AUDIO_STREAM]))
    fast, major, _loud, bright, percussive = item.factors
    scale = _MAJOR_SCALE if major else _MINOR_SCALE
    beat_s = 60.0 / item.bpm
    n_beats = int(np.ceil(config.duration_s / beat_s)) + 1
    progression = _PROGRESSIONS[rng.integers(len(_PROGRESSIONS))]
    chord_of_beat = progression[(np.arange(n_beats) // 4) % 4]  # scale degree of each beat's root
    lowest = 57 if bright else 45  # the tonic lies in A3..G#4 (bright) or A2..G#3 (dark)
    chord_base = lowest + (item.key - lowest) % 12
    melody_base = chord_base + 12

    # Melody: onsets on a grid of `per_beat` steps; a note lasts 1 or 2 steps (fast) or beats (slow).
    per_beat = int(rng.choice([2, 4])) if fast else 1
    n_steps = n_beats * per_beat
    steps = rng.choice([1, 1, 2], size=n_steps) if fast else rng.choice([1, 2], size=n_steps)
    onsets = np.concatenate([[0], np.cumsum(steps)])
    onsets = onsets[onsets < n_steps - 1]
    degrees = _melody_degrees(rng, len(onsets), chord_of_beat[onsets // per_beat],
                              on_beat=onsets % per_beat == 0)
    melody_midi = melody_base + _degree_to_semitones(degrees, scale)
    melody_starts = _to_samples(onsets * beat_s / per_beat, sr)
    if not percussive:  # legato: a repeated pitch is one held note
        keep = np.concatenate([[True], melody_midi[1:] != melody_midi[:-1]])
        melody_starts, melody_midi = melody_starts[keep], melody_midi[keep]

    # Accompaniment (a triad, and the bass on its root): struck on every beat when percussive,
    # held for the bar when sustained.
    beat_starts = _to_samples(np.arange(n_beats) * beat_s, sr)
    hold = 1 if percussive else 4
    chord_roots = chord_of_beat[::hold]
    chord_midi = chord_base + _degree_to_semitones(chord_roots[:, None] + np.array([0, 2, 4]), scale)
    bass_midi = chord_base - 12 + _degree_to_semitones(chord_roots, scale)

    used = np.unique(np.concatenate([melody_midi, chord_midi.ravel(), bass_midi]))
    # Dark: 3-5 harmonics, low-passed (the filter's response is applied to each harmonic).
    n_harmonics = None if bright else int(rng.integers(3, 6))
    cutoff_hz = None if bright else 1000.0 + 600.0 * rng.random()
    tables = _wavetables(used, item, sr, n_harmonics, cutoff_hz)
    oscillator = _Oscillator(tables, used, sr, scratch)
    if percussive:
        melody_envelope = ("decay", 0.04 + 0.04 * rng.random(), 0.0)
        chord_envelope = ("decay", 0.06 + 0.06 * rng.random(), 0.0)
    else:
        melody_envelope = ("legato", 0.12 + 0.15 * rng.random(), 0.6)
        chord_envelope = ("legato", 0.3 + 0.3 * rng.random(), 0.7)

    mix, backing = scratch.mix, scratch.backing
    mix.fill(0.0)
    backing.fill(0.0)
    melody = _Notes(melody_starts, scratch, slot=0)
    oscillator.add(mix, melody, melody_midi, rng.random(), gain=1.0)
    mix *= melody.envelope(sr, *melody_envelope)
    accompaniment = _Notes(beat_starts[::hold], scratch, slot=1)
    for voice in range(3):
        oscillator.add(backing, accompaniment, chord_midi[:, voice], rng.random(), gain=0.45)
    oscillator.add(backing, accompaniment, bass_midi, rng.random(), gain=0.4)
    backing *= accompaniment.envelope(sr, *chord_envelope)
    mix += backing
    if percussive:  # a noise burst on every beat, accented on 1 and 3
        hits = _drum_hits(rng, len(accompaniment.starts), beat_s, sr, cutoff_hz)
        hits[1::2] *= 0.65
        where = accompaniment.starts[:, None] + np.arange(hits.shape[1])[None, :]
        inside = where < n
        mix[where[inside]] += hits[inside]  # hits are shorter than a beat: they never overlap

    fade = min(n // 2, round(0.02 * sr))
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
    mix[:fade] *= ramp
    mix[n - fade:] *= ramp[::-1]
    _normalise(mix, 10.0 ** (item.level_dbfs / 20.0), scratch.limiter)
    return mix


def _to_samples(times_s: np.ndarray, sr: int) -> np.ndarray:
    return np.round(np.asarray(times_s) * sr).astype(np.int64)


def _degree_to_semitones(degrees: np.ndarray, scale: np.ndarray) -> np.ndarray:
    degrees = np.asarray(degrees)
    return scale[degrees % 7] + 12 * (degrees // 7)


def _melody_degrees(rng: np.random.Generator, n_notes: int, chord_roots: np.ndarray,
                    on_beat: np.ndarray) -> np.ndarray:
    """A reflected random walk over scale degrees 0..9; notes on the beat snap to chord tones."""
    top = 9
    walk = int(rng.integers(2, 8)) + np.cumsum(rng.choice([-2, -1, -1, 0, 1, 1, 2], size=n_notes))
    folded = np.mod(walk, 2 * top)
    degrees = top - np.abs(folded - top)
    shifts = np.array([0, -1, 1, -2, 2, -3, 3])
    candidates = degrees[:, None] + shifts[None, :]
    is_chord_tone = np.isin((candidates - chord_roots[:, None]) % 7, (0, 2, 4))
    snapped = candidates[np.arange(n_notes), np.argmax(is_chord_tone, axis=1)]
    return np.where(on_beat, snapped, degrees)


def _wavetables(midi: np.ndarray, item: ToyItem, sr: int, n_harmonics: int | None,
                cutoff_hz: float | None) -> np.ndarray:
    """One band-limited single-cycle table per pitch, plus a wrap-around column.

    Harmonic ``k`` has amplitude ``k ** -tilt`` (even ones scaled by ``even_harmonics``) up to
    ``n_harmonics`` and below Nyquist; tables have RMS 1/sqrt(2) before the optional low-pass.
    """
    f0 = 440.0 * 2.0 ** ((midi - 69) / 12.0)
    k = np.arange(1, _TABLE_SIZE // 2)
    amplitude = k.astype(np.float64) ** -item.harmonic_tilt
    amplitude[1::2] *= item.even_harmonics
    audible = k[None, :] * f0[:, None] < 0.48 * sr
    if n_harmonics is not None:
        audible &= k[None, :] <= n_harmonics
    audible[:, 0] = True  # the fundamental, always
    amplitudes = np.where(audible, amplitude[None, :], 0.0)
    amplitudes /= np.sqrt(np.sum(amplitudes**2, axis=1, keepdims=True))
    if cutoff_hz is not None:
        amplitudes *= _butterworth(k[None, :] * f0[:, None], cutoff_hz)
    spectrum = np.zeros((len(midi), _TABLE_SIZE // 2 + 1), dtype=np.complex128)
    spectrum[:, 1:_TABLE_SIZE // 2] = -0.5j * _TABLE_SIZE * amplitudes  # sine phases
    tables = np.fft.irfft(spectrum, n=_TABLE_SIZE, axis=1)
    return np.concatenate([tables, tables[:, :1]], axis=1)


class _Scratch:
    """Full-length work arrays, reused from stage to stage and from item to item.

    Touching fresh memory dominates the cost of synthesis on small machines (the kernel zeroes
    every page), so one piece's arrays are allocated once and a worker reuses them for a batch.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.time = np.arange(n, dtype=np.float64)  # sample index
        self.mix = np.empty(n)
        self.backing = np.empty(n)
        self.phase = np.empty(n)
        self.low = np.empty(n)
        self.high = np.empty(n)
        self.index = np.empty(n, dtype=np.intp)
        self.offset = np.empty(n, dtype=np.intp)
        self.note = (np.empty(n, dtype=np.intp), np.empty(n, dtype=np.intp))
        self.since_onset = (np.empty(n), np.empty(n))
        self.limiter = np.empty(-(-n // _LIMITER_BLOCK) * _LIMITER_BLOCK)


class _Notes:
    """A monophonic line of notes, each lasting until the next one starts, as per-sample arrays."""

    def __init__(self, starts: np.ndarray, scratch: _Scratch, slot: int) -> None:
        n = scratch.n
        starts = starts[starts < n]
        self.scratch = scratch
        self.starts = starts
        self.lengths = np.diff(np.concatenate([starts, [n]]))
        note = scratch.note[slot]  # the note index of each sample
        note.fill(0)
        note[starts[1:]] = 1
        np.cumsum(note, out=note)
        self.note = note
        since = scratch.since_onset[slot]  # samples since the note's onset
        np.take(starts.astype(np.float64), note, out=since, mode="clip")
        np.subtract(scratch.time, since, out=since)
        self.since_onset = since

    def envelope(self, sr: int, kind: str, time_constant: float, floor: float) -> np.ndarray:
        """``decay``: 2 ms attack, exponential decay; ``legato``: a swell from ``floor`` to 1.

        Returned in ``scratch.phase`` (``scratch.low`` is used too).
        """
        out, ramp = self.scratch.phase, self.scratch.low
        np.multiply(self.since_onset, -1.0 / (time_constant * sr), out=out)
        if kind == "decay":
            np.exp(out, out=out)
            np.multiply(self.since_onset, 1.0 / (0.002 * sr), out=ramp)
        else:
            np.expm1(out, out=out)
            out *= -(1.0 - floor)
            np.take(self.lengths.astype(np.float64), self.note, out=ramp, mode="clip")
            ramp -= self.since_onset
            ramp *= 1.0 / (0.05 * sr)  # a 50 ms release into the next note
        np.minimum(ramp, 1.0, out=ramp)
        out *= ramp
        if kind != "decay":
            out += floor
        return out


class _Oscillator:
    """Phase-continuous wavetable voices with linear interpolation."""

    def __init__(self, tables: np.ndarray, midi_of_row: np.ndarray, sr: int, scratch: _Scratch) -> None:
        self.flat = tables.ravel()
        self.midi_of_row = midi_of_row
        self.sr = sr
        self.scratch = scratch

    def add(self, out: np.ndarray, notes: _Notes, midi: np.ndarray, phase0: float, gain: float) -> None:
        """``out += gain * voice``, the voice playing ``midi[j]`` during note ``j``."""
        midi = midi[:len(notes.starts)]
        increment = 440.0 * 2.0 ** ((midi - 69) / 12.0) / self.sr  # cycles per sample
        phase_at_start = phase0 + np.concatenate([[0.0], np.cumsum(increment * notes.lengths)[:-1]])
        phase_at_start -= np.floor(phase_at_start)
        base = phase_at_start - increment * notes.starts  # phase = base + increment * t
        row_start = np.searchsorted(self.midi_of_row, midi) * (_TABLE_SIZE + 1)
        s = self.scratch
        phase, low, high, index = s.phase, s.low, s.high, s.index
        np.take(increment, notes.note, out=phase, mode="clip")
        phase *= s.time
        phase += np.take(base, notes.note, out=low, mode="clip")
        phase -= np.floor(phase, out=low)
        phase *= _TABLE_SIZE
        np.floor(phase, out=low)
        phase -= low  # now the interpolation weight
        np.copyto(index, low, casting="unsafe")
        index += np.take(row_start, notes.note, out=s.offset, mode="clip")
        np.take(self.flat, index, out=low, mode="clip")
        index += 1
        np.take(self.flat, index, out=high, mode="clip")
        high -= low
        high *= phase
        high += low
        high *= gain
        out += high


def _butterworth(freqs_hz: np.ndarray, cutoff_hz: float, order: int = 4) -> np.ndarray:
    """The magnitude response of a Butterworth low-pass."""
    return 1.0 / np.sqrt(1.0 + (freqs_hz / cutoff_hz) ** (2 * order))


def _drum_hits(rng: np.random.Generator, n_hits: int, beat_s: float, sr: int,
               cutoff_hz: float | None) -> np.ndarray:
    """``(n_hits, length)`` noise bursts: 1 ms attack, 30-60 ms decay, shorter than a beat.

    White noise for bright pieces; for dark ones, noise low-passed at ``cutoff_hz`` (8th order,
    circularly in the frequency domain, before the envelope: the noise stays stationary, with no
    seam).
    """
    decay_s = 0.03 + 0.03 * rng.random()
    length = min(round(6 * decay_s * sr), int(beat_s * sr) - 1)
    noise = rng.standard_normal((n_hits, length))
    if cutoff_hz is not None:
        spectrum = np.fft.rfft(noise, axis=1)
        spectrum *= _butterworth(np.fft.rfftfreq(length, d=1.0 / sr), cutoff_hz, order=8)
        noise = np.fft.irfft(spectrum, n=length, axis=1)
        noise /= np.sqrt(np.mean(noise**2))
    t = np.arange(length) / sr
    envelope = np.exp(-t / decay_s) * np.minimum(1.0, t / 0.001)
    envelope *= np.minimum(1.0, (length - np.arange(length)) / (0.1 * length))  # fade to zero
    return 0.9 * noise * envelope


def _normalise(signal: np.ndarray, target_rms: float, work: np.ndarray) -> None:
    """Scale ``signal`` in place to ``target_rms`` with peaks limited to PEAK_CEILING.

    After limiting, the signal is re-gained (and limited again) a few times so that the RMS gets
    close to the target; very spiky signals may stay a little below it.
    """
    signal *= target_rms / _rms(signal)
    for attempt in range(6):
        if not _limit(signal, PEAK_CEILING, work):
            break
        shortfall = target_rms / _rms(signal)
        if shortfall < 10.0 ** (0.05 / 20.0) or attempt == 5:
            break
        signal *= shortfall
    np.clip(signal, -PEAK_CEILING, PEAK_CEILING, out=signal)


def _rms(signal: np.ndarray) -> float:
    return max(float(np.sqrt(np.einsum("i,i->", signal, signal) / len(signal))), 1e-12)


def _limit(signal: np.ndarray, ceiling: float, work: np.ndarray, block: int = _LIMITER_BLOCK,
           radius: int = 3) -> bool:
    """A look-ahead peak limiter, in place: a smooth gain that keeps ``|signal| <= ceiling``.

    The gain each block of ``block`` samples needs is min-filtered over ``radius + 1`` blocks
    either side, averaged over ``radius`` blocks either side and interpolated linearly between
    block centres, so every sample's gain is at most the gain its own block needs. ``work`` holds
    ``len(signal)`` rounded up to whole blocks. Returns whether the limiter acted.
    """
    n = len(signal)
    n_blocks = len(work) // block
    np.abs(signal, out=work[:n])
    work[n:] = 0.0
    peaks = work.reshape(n_blocks, block).max(axis=1)
    if peaks.max() <= ceiling:
        return False
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-300))
    lowest = sliding_window_view(np.pad(need, radius + 1, mode="edge"), 2 * radius + 3).min(axis=1)
    smooth = sliding_window_view(np.pad(lowest, radius, mode="edge"), 2 * radius + 1).mean(axis=1)
    # The first half of a block interpolates towards the block before, the second half towards
    # the block after.
    neighbours = np.pad(smooth, 1, mode="edge")
    weight = np.abs(np.arange(block) - (block - 1) / 2.0) / block
    half = block // 2
    gain = work.reshape(n_blocks, block)
    gain[:, :half] = smooth[:, None] + (neighbours[:-2] - smooth)[:, None] * weight[None, :half]
    gain[:, half:] = smooth[:, None] + (neighbours[2:] - smooth)[:, None] * weight[None, half:]
    signal *= work[:n]
    return True


# --------------------------------------------------------------------------------------------
# Files


def audio_path(root: Path, item_id: str) -> Path:
    return Path(root) / "audio" / f"{item_id}.flac"


def generate_toy(root: Path, config: ToyConfig, tags: Sequence[str] = TOY_TAGS,
                 on_item: Callable[[int, int], None] | None = None,
                 workers: int | None = None) -> Path:
    """Write the toy dataset under ``root`` (resuming an interrupted run); return ``root``."""
    if tuple(tags) != TOY_TAGS:
        raise BadInputError(
            f"the toy registry lists tags {list(tags)} but the toy generator makes {list(TOY_TAGS)}; "
            "the registry (datasets/toy/dataset.toml) and harness/datasets/toy.py disagree"
        )
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise BadInputError(f"workers={workers!r} must be a positive integer")
    root = Path(root)
    if toy_is_complete(root, config):
        return root
    audio_dir = root / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    total = config.n_items
    ids = [item_id(i) for i in range(total)]

    generation = {"config": config.as_dict(), "generator_version": GENERATOR_VERSION}
    marker = root / ".generation.json"
    (root / "manifest.json").unlink(missing_ok=True)
    if _read_json(marker) != generation:  # audio on disk, if any, came from something else
        for stale in audio_dir.glob("toy-*.flac"):
            stale.unlink()
        write_json(marker, generation)
    for leftover in audio_dir.glob(".toy-*.tmp"):  # temporary files of a killed run
        leftover.unlink()
    expected = set(ids)
    for extra in audio_dir.glob("toy-*.flac"):
        if extra.stem not in expected:
            extra.unlink()

    pending = [i for i, name in enumerate(ids) if not audio_path(root, name).exists()]
    done = total - len(pending)
    if on_item is not None and done:
        on_item(done, total)
    batches = [pending[start:start + _BATCH] for start in range(0, len(pending), _BATCH)]
    n_workers = min(os.cpu_count() or 1, 4) if workers is None else workers
    n_workers = min(n_workers, len(batches))
    if n_workers <= 1:
        def written() -> None:
            nonlocal done
            done += 1
            if on_item is not None:
                on_item(done, total)

        _write_items(config, pending, str(root), on_written=written)
    else:
        with concurrent.futures.ProcessPoolExecutor(max_workers=n_workers,
                                                    mp_context=_process_context()) as pool:
            futures = [pool.submit(_write_items, config, batch, str(root)) for batch in batches]
            try:
                for future in concurrent.futures.as_completed(futures):
                    for _ in range(future.result()):
                        done += 1
                        if on_item is not None:
                            on_item(done, total)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    metadata = _metadata_text([draw_item(config, i) for i in range(total)])
    write_text(root / "metadata.tsv", metadata)
    write_json(root / "manifest.json", {
        "dataset": "toy",
        "generator_version": GENERATOR_VERSION,
        "config": config.as_dict(),
        "tags": list(TOY_TAGS),
        "factors": list(FACTORS),
        "n_items": total,
        "metadata_sha256": hashlib.sha256(metadata.encode("utf-8")).hexdigest(),
    })
    return root


def _process_context() -> multiprocessing.context.BaseContext:
    """``fork`` on Linux, ``spawn`` elsewhere.

    Forked workers start at once, where spawned ones re-import the caller's ``__main__`` (the
    ``harness`` command imports torch: seconds per worker). The workers only run numpy and
    libsndfile, so forking a process that has imported torch is safe here.
    """
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _write_items(config: ToyConfig, indices: Sequence[int], root: str,
                 on_written: Callable[[], None] | None = None) -> int:
    """Synthesise and write the FLAC files of ``indices``, reusing one set of work arrays."""
    scratch = _Scratch(config.n_samples)
    audio = np.empty(config.n_samples, dtype=np.float32)
    for index in indices:
        item = draw_item(config, index)
        np.copyto(audio, _render(item, config, scratch), casting="same_kind")
        buffer = io.BytesIO()
        sf.write(buffer, audio, config.sample_rate, format="FLAC", subtype="PCM_16")
        write_bytes(audio_path(Path(root), item.item_id), buffer.getvalue())
        if on_written is not None:
            on_written()
    return len(indices)


def _metadata_text(items: Sequence[ToyItem]) -> str:
    lines = ["\t".join(METADATA_HEADER)]
    for item in items:
        flags = ["1" if f else "0" for f in item.factors]
        lines.append("\t".join([item.item_id, item.split, ",".join(item.tags), *flags]))
    return "\n".join(lines) + "\n"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def toy_is_complete(root: Path, config: ToyConfig) -> bool:
    """True when ``root`` holds a finished generation of exactly ``config``."""
    root = Path(root)
    manifest = _read_json(root / "manifest.json")
    if not isinstance(manifest, dict):
        return False
    if (manifest.get("generator_version") != GENERATOR_VERSION
            or manifest.get("config") != config.as_dict()
            or manifest.get("tags") != list(TOY_TAGS)):
        return False
    try:
        digest = hashlib.sha256((root / "metadata.tsv").read_bytes()).hexdigest()
    except OSError:
        return False
    if digest != manifest.get("metadata_sha256"):
        return False
    return all(audio_path(root, item_id(i)).is_file() for i in range(config.n_items))


def read_metadata(root: Path) -> list[ToyRecord]:
    """The rows of ``root/metadata.tsv`` of a complete toy dataset, in item order."""
    root = Path(root)
    path = root / "metadata.tsv"
    manifest = _read_json(root / "manifest.json")
    if not path.is_file() or manifest is None:
        raise DataMissingError(f"no complete toy dataset at {root} (metadata.tsv or manifest.json "
                               f"is missing or unreadable); run `{PREPARE_COMMAND} --root {root}`")
    data = path.read_bytes()
    if not isinstance(manifest, dict) or hashlib.sha256(data).hexdigest() != manifest.get("metadata_sha256"):
        raise FormatError(f"{path} does not match the SHA-256 in {root / 'manifest.json'}; "
                          f"regenerate it with `{PREPARE_COMMAND} --root {root}`")
    lines = data.decode("utf-8").splitlines()
    if not lines or tuple(lines[0].split("\t")) != METADATA_HEADER:
        raise FormatError(f"{path}: header must be {' '.join(METADATA_HEADER)!r} (tab-separated)")
    records = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(METADATA_HEADER):
            raise FormatError(f"{path}:{number}: expected {len(METADATA_HEADER)} tab-separated "
                              f"columns, got {len(cells)}")
        name, split, tag_cell, *flags = cells
        tags = tuple(tag_cell.split(",")) if tag_cell else ()
        if split not in SPLITS:
            raise FormatError(f"{path}:{number}: split {split!r} is not one of {', '.join(SPLITS)}")
        unknown = [t for t in tags if t not in TOY_TAGS]
        if unknown:
            raise FormatError(f"{path}:{number}: unknown tags {unknown}; known: {', '.join(TOY_TAGS)}")
        if any(f not in ("0", "1") for f in flags):
            raise FormatError(f"{path}:{number}: factor columns must be 0 or 1, got {flags}")
        records.append(ToyRecord(item_id=name, split=split, tags=tags,
                                 factors=tuple(f == "1" for f in flags)))
    return records
