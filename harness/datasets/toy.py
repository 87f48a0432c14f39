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
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.datasets.registry import SPLITS
from harness.errors import BadInputError

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

LOUD_DBFS = -10.0
SOFT_DBFS = -29.0
LEVEL_JITTER_DB = 2.0
_SPLIT_STREAM = 2**31 - 1  # SeedSequence([seed, this]) draws the split permutation


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
            raise BadInputError(
                f"toy config: n_items={self.n_items!r} must be an integer in 3..100000 (at least one item per split)"
            )
        if not is_int(self.sample_rate) or not 8000 <= self.sample_rate <= 192000:
            raise BadInputError(
                f"toy config: sample_rate={self.sample_rate!r} must be an integer "
                "in 8000..192000 Hz (the mel96 features expect 12000)"
            )
        if not is_real(self.duration_s) or not 0.5 <= float(self.duration_s) <= 600.0:
            raise BadInputError(f"toy config: duration_s={self.duration_s!r} must be a number of seconds in 0.5..600")
        if not is_real(self.label_noise) or not 0.0 <= float(self.label_noise) < 0.5:
            raise BadInputError(f"toy config: label_noise={self.label_noise!r} must be a probability in [0, 0.5)")
        fractions = tuple(self.split_fractions)
        if len(fractions) != 3 or not all(is_real(f) for f in fractions):
            raise BadInputError(
                f"toy config: split_fractions={self.split_fractions!r} must be three numbers (train, validation, test)"
            )
        if any(not 0.0 < float(f) < 1.0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-9:
            raise BadInputError(
                f"toy config: split_fractions={self.split_fractions!r} must each lie in (0, 1) and sum to 1"
            )
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "n_items", int(self.n_items))
        object.__setattr__(self, "sample_rate", int(self.sample_rate))
        object.__setattr__(self, "split_fractions", tuple(float(f) for f in fractions))
        object.__setattr__(self, "duration_s", float(self.duration_s))
        object.__setattr__(self, "label_noise", float(self.label_noise))
        sizes = split_sizes(self.n_items, self.split_fractions)
        if min(sizes) < 1:
            raise BadInputError(
                f"toy config: n_items={self.n_items} with split_fractions="
                f"{self.split_fractions} leaves an empty split (sizes {sizes}); "
                "use more items"
            )

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
        return self.factors[factor_index(name)]


def factor_index(name: str) -> int:
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
        names[order[start : start + size]] = name
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
