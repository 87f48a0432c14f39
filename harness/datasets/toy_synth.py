"""The toy dataset's audio: one item's 30 s of "mood music" from its factors and nuisance (see
:mod:`harness.datasets.toy` for what each factor sounds like), float64 throughout, vectorised numpy.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from harness.datasets.toy import ToyConfig, ToyItem

PEAK_CEILING = 0.97

_AUDIO_STREAM = 1
_TABLE_SIZE = 2048  # samples per single-cycle wavetable
_LIMITER_BLOCK = 32  # samples
_MAJOR_SCALE = np.array([0, 2, 4, 5, 7, 9, 11])
_MINOR_SCALE = np.array([0, 2, 3, 5, 7, 8, 10])
# Chord progressions over scale degrees (I/i, IV/iv, V/v): all major triads in a major key and
# all minor triads in a natural-minor key, so the mode is never ambiguous.
_PROGRESSIONS = np.array([[0, 3, 4, 0], [0, 4, 3, 0], [0, 3, 0, 4], [0, 0, 3, 4], [0, 4, 0, 3]])


def synthesize(item: ToyItem, config: ToyConfig) -> np.ndarray:
    """The item's audio: float32 mono, ``round(duration_s * sample_rate)`` samples, peak < 1."""
    return render_into(item, config, Scratch(config.n_samples)).astype(np.float32)


def render_into(item: ToyItem, config: ToyConfig, scratch: Scratch) -> np.ndarray:
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
    degrees = _melody_degrees(rng, len(onsets), chord_of_beat[onsets // per_beat], on_beat=onsets % per_beat == 0)
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
    mix[n - fade :] *= ramp[::-1]
    _normalise(mix, 10.0 ** (item.level_dbfs / 20.0), scratch.limiter)
    return mix


def _to_samples(times_s: np.ndarray, sr: int) -> np.ndarray:
    return np.round(np.asarray(times_s) * sr).astype(np.int64)


def _degree_to_semitones(degrees: np.ndarray, scale: np.ndarray) -> np.ndarray:
    degrees = np.asarray(degrees)
    return scale[degrees % 7] + 12 * (degrees // 7)


def _melody_degrees(rng: np.random.Generator, n_notes: int, chord_roots: np.ndarray, on_beat: np.ndarray) -> np.ndarray:
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


def _wavetables(
    midi: np.ndarray, item: ToyItem, sr: int, n_harmonics: int | None, cutoff_hz: float | None
) -> np.ndarray:
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
    spectrum[:, 1 : _TABLE_SIZE // 2] = -0.5j * _TABLE_SIZE * amplitudes  # sine phases
    tables = np.fft.irfft(spectrum, n=_TABLE_SIZE, axis=1)
    return np.concatenate([tables, tables[:, :1]], axis=1)


class Scratch:
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

    def __init__(self, starts: np.ndarray, scratch: Scratch, slot: int) -> None:
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

    def __init__(self, tables: np.ndarray, midi_of_row: np.ndarray, sr: int, scratch: Scratch) -> None:
        self.flat = tables.ravel()
        self.midi_of_row = midi_of_row
        self.sr = sr
        self.scratch = scratch

    def add(self, out: np.ndarray, notes: _Notes, midi: np.ndarray, phase0: float, gain: float) -> None:
        """``out += gain * voice``, the voice playing ``midi[j]`` during note ``j``."""
        midi = midi[: len(notes.starts)]
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


def _drum_hits(rng: np.random.Generator, n_hits: int, beat_s: float, sr: int, cutoff_hz: float | None) -> np.ndarray:
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


def _limit(signal: np.ndarray, ceiling: float, work: np.ndarray, block: int = _LIMITER_BLOCK, radius: int = 3) -> bool:
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
