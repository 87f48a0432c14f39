"""Bootstrap confidence intervals and a paired bootstrap comparison for the official keys.

Conventions: see :mod:`harness.metrics.validate` -- ``labels``, ``scores`` and ``decisions`` are
``(n_items, n_tags)`` matrices in the dataset's official row and column order. The keys are those of
:mod:`harness.metrics.official`.

Resampling
    Items (rows) are resampled with replacement; a replicate is ``n_items`` row indices. Replicate
    ``r`` (in order, ``r = 0, 1, ...``) is ``rng.integers(0, n_items, size=n_items)``, one call per
    replicate on ``rng = np.random.default_rng(seed)``: the same seed gives the same replicates
    whatever the chunk size, and the first ``k`` replicates of ``n`` are those of ``k``.
    :func:`resample_indices` returns them.

What a replicate's value is
    Exactly :func:`~harness.metrics.official.official_scores` on ``labels[idx], scores[idx],
    decisions[idx]`` -- the scikit-learn calls of the MediaEval evaluation on the resampled rows --
    to floating-point rounding (the tests check 1e-12 against scikit-learn replicate by replicate).
    In particular, per replicate:

    - a tag that has **no positive** among the resampled items (all its positives were left out)
      is left out of that replicate's macro means, as the official scorer leaves out tags without
      positives; a tag with positives but **no negatives** is left out of ROC-AUC-macro only;
    - micro keys use every cell of the resampled rows;
    - a replicate in which **no tag** has both a positive and a negative item (the official scorer
      raises there) has no value for any key (NaN in :func:`bootstrap_replicates`), nor has a
      replicate where a key's average is over no tag. Intervals use the replicates that have a
      value and say how many in :attr:`Interval.replicates`. On real data (hundreds of items)
      this does not happen; on a handful of items it can.

How it is computed
    Vectorised, by :mod:`harness.metrics.resampling` (see there): one sparse product scores a
    chunk of replicates at once.

Intervals and the comparison
    Percentile intervals: ``np.percentile(values, [100 * a / 2, 100 * (1 - a / 2)])`` with
    ``a = 1 - confidence`` and numpy's default (linear) interpolation, over the replicates that have
    a value. :func:`paired_bootstrap` resamples the same items for both prediction sets; see its
    docstring for the p-value. Efron and Tibshirani, *An Introduction to the Bootstrap* (1993),
    ch. 13 (percentile intervals) and 16 (hypothesis tests); the paired test over a test set as in
    Koehn, "Statistical significance tests for machine translation evaluation", EMNLP 2004.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.errors import BadInputError, FormatError, UnknownNameError
from harness.metrics.keys import canonical
from harness.metrics.official import DECISION_KEYS, OFFICIAL_KEYS, SCORE_KEYS, official_scores
from harness.metrics.resampling import (
    ResampleScorer,
    check_counts,
    chunk_size_for,
    count_chunks,
    draw,
    generator,
    index_list,
)
from harness.metrics.validate import validate_predictions

__all__ = [
    "Comparison",
    "Interval",
    "Replicates",
    "bootstrap_intervals",
    "bootstrap_replicates",
    "paired_bootstrap",
    "percentile_interval",
    "resample_indices",
    "score_resamples",
]

DEFAULT_REPLICATES = 1000
DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A bootstrap percentile interval for one key.

    Attributes:
        low, high: the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` percentiles of the
            replicate values.
        mean, std: their mean and standard deviation (``ddof=1``; 0.0 for a single replicate).
        replicates: how many replicates have a value for this key (all of them, except on tiny
            data; see the module docstring).
        confidence: the nominal coverage, e.g. 0.95.
    """

    low: float
    high: float
    mean: float
    std: float
    replicates: int = 0
    confidence: float = DEFAULT_CONFIDENCE

    def as_dict(self) -> dict[str, float | int]:
        """Plain JSON-ready values."""
        return {
            "low": self.low,
            "high": self.high,
            "mean": self.mean,
            "std": self.std,
            "replicates": self.replicates,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class Comparison:
    """A paired bootstrap comparison of prediction sets A and B on one key.

    Attributes:
        difference: ``value_a - value_b`` on the full data (the official scorer's values).
        low, high: percentile interval of the replicate differences.
        p_value: two-sided bootstrap p-value of "no difference" (see :func:`paired_bootstrap`).
        n: replicates with a value for the key in both A and B (the p-value's denominator - 1).
        key: the metric key compared.
        value_a, value_b: the key on the full data for A and for B.
        confidence: the nominal coverage of ``low, high``.
    """

    difference: float
    low: float
    high: float
    p_value: float
    n: int
    key: str = "PR-AUC-macro"
    value_a: float = float("nan")
    value_b: float = float("nan")
    confidence: float = DEFAULT_CONFIDENCE

    def as_dict(self) -> dict[str, float | int | str]:
        """Plain JSON-ready values."""
        return {
            "key": self.key,
            "difference": self.difference,
            "low": self.low,
            "high": self.high,
            "p_value": self.p_value,
            "n": self.n,
            "value_a": self.value_a,
            "value_b": self.value_b,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class Replicates:
    """Per-replicate values: ``values[key]`` is an ``(n,)`` float64 array, NaN where undefined.

    ``indices`` is the ``(n, n_items)`` int64 array of resampled rows when asked for
    (``return_indices=True``), else None.
    """

    values: dict[str, np.ndarray]
    indices: np.ndarray | None = None


# -- public functions ------------------------------------------------------------------------------


def resample_indices(n_items: int, n: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """The ``(n, n_items)`` row indices of the first ``n`` bootstrap replicates for ``seed``.

    Row ``r`` is ``rng.integers(0, n_items, size=n_items)``, drawn in order on
    ``rng = np.random.default_rng(seed)`` (a Generator passed in is used, and advanced, as is).
    """
    check_counts(n_items, n)
    return np.stack(list(draw(n_items, n, generator(seed))))


def score_resamples(
    labels: Any,
    scores: Any,
    indices: Any,
    decisions: Any = None,
    keys: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """Score given resamples of the rows, vectorised.

    Args:
        labels, scores, decisions: as :func:`~harness.metrics.official.official_scores`.
        indices: a sequence of 1-D integer row-index arrays (any lengths), or a 2-D array with one
            resample per row. Each is scored as ``labels[idx], scores[idx], decisions[idx]``.
        keys: which keys (default: :data:`SCORE_KEYS`, plus :data:`DECISION_KEYS` with decisions).

    Returns:
        ``key -> (len(indices),)`` float64 values, NaN where a resample has no value (see the module
        docstring).

    Raises:
        FormatError: malformed inputs, or indices that are not integers within ``[0, n_items)``.
        UnknownNameError: an unknown key. BadInputError: a decision key without decisions.
    """
    labels, scores, decisions = validate_predictions(labels, scores, decisions)
    keys = _check_keys(keys, decisions is not None)
    n_items = labels.shape[0]
    resamples = index_list(indices, n_items)
    scorer = ResampleScorer(labels, scores, decisions, keys)
    chunk = chunk_size_for(scorer.n_rows, None)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for start in range(0, len(resamples), chunk):
        block = resamples[start : start + chunk]
        counts = np.stack([np.bincount(idx, minlength=n_items) for idx in block], axis=1)
        for key, vals in scorer.score(counts.astype(np.float64)).items():
            parts[key].append(vals)
    return {k: np.concatenate(v) if v else np.empty(0) for k, v in parts.items()}


def bootstrap_replicates(
    labels: Any,
    scores: Any,
    decisions: Any = None,
    n: int = DEFAULT_REPLICATES,
    seed: int | np.random.Generator = 0,
    keys: Sequence[str] | None = None,
    *,
    return_indices: bool = False,
    chunk_size: int | None = None,
) -> Replicates:
    """The values of ``n`` bootstrap replicates (see the module docstring), vectorised.

    Args:
        labels, scores, decisions: as :func:`~harness.metrics.official.official_scores`.
        n: number of replicates.
        seed: an int for ``np.random.default_rng``, or a Generator (used and advanced).
        keys: which keys (default: :data:`SCORE_KEYS`, plus :data:`DECISION_KEYS` with decisions).
        return_indices: also return the ``(n, n_items)`` resampled row indices.
        chunk_size: replicates scored at once (default: from a 16 MiB budget); it does not change
            the values.

    Returns:
        :class:`Replicates`.
    """
    labels, scores, decisions = validate_predictions(labels, scores, decisions)
    keys = _check_keys(keys, decisions is not None)
    check_counts(labels.shape[0], n)
    scorer = ResampleScorer(labels, scores, decisions, keys)
    chunks = chunk_size_for(scorer.n_rows, chunk_size)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    kept: list[np.ndarray] = []
    for idx, counts in count_chunks(labels.shape[0], n, generator(seed), chunks):
        if return_indices:
            kept.append(idx)
        for key, vals in scorer.score(counts).items():
            parts[key].append(vals)
    values = {k: np.concatenate(v) for k, v in parts.items()}
    return Replicates(values, np.concatenate(kept) if return_indices else None)


def bootstrap_intervals(
    labels: Any,
    scores: Any,
    decisions: Any = None,
    n: int = DEFAULT_REPLICATES,
    seed: int | np.random.Generator = 0,
    confidence: float = DEFAULT_CONFIDENCE,
    keys: Sequence[str] | None = None,
    *,
    chunk_size: int | None = None,
) -> dict[str, Interval]:
    """Percentile bootstrap intervals over items resampled with replacement, seeded.

    Args:
        labels, scores, decisions: as :func:`~harness.metrics.official.official_scores`.
        n: number of replicates (``harness score --bootstrap N``; 1000 by default).
        seed: an int for ``np.random.default_rng``, or a Generator.
        confidence: nominal coverage in (0, 1).
        keys: which keys, in the order wanted (default: :data:`SCORE_KEYS`, plus
            :data:`DECISION_KEYS` when decisions are given; returned in official order).
        chunk_size: see :func:`bootstrap_replicates`.

    Returns:
        ``key -> Interval``. The point estimate is not here: it is
        :func:`~harness.metrics.official.official_scores` on the full data.

    Raises:
        FormatError: malformed inputs. UnknownNameError: an unknown key. BadInputError: a decision
        key without decisions, ``n < 1``, a confidence outside (0, 1), or a key that no replicate
        defines (e.g. a single item).
    """
    _check_confidence(confidence)
    reps = bootstrap_replicates(labels, scores, decisions, n=n, seed=seed, keys=keys, chunk_size=chunk_size)
    return {key: percentile_interval(vals, confidence, what=key) for key, vals in reps.values.items()}


def paired_bootstrap(
    labels: Any,
    scores_a: Any,
    scores_b: Any,
    key: str = "PR-AUC-macro",
    n: int = DEFAULT_REPLICATES,
    seed: int | np.random.Generator = 0,
    confidence: float = DEFAULT_CONFIDENCE,
    *,
    decisions_a: Any = None,
    decisions_b: Any = None,
    chunk_size: int | None = None,
) -> Comparison:
    """Paired bootstrap comparison of prediction sets A and B on the same items.

    Each replicate resamples the items once and scores A and B on the same resampled items, giving
    ``d_r = key(A) - key(B)``. The reported difference is the official value of A minus that of B
    on the full data; ``low, high`` are the percentile interval of the ``d_r``.

    p-value (two-sided, of "A and B score the same"): with ``m`` the replicates where both A and B
    have a value,

        ``p = min(1, 2 * min(1 + #{d_r <= 0}, 1 + #{d_r >= 0}) / (m + 1))``.

    It is the smallest ``1 - confidence`` at which the percentile interval of the ``d_r`` leaves
    out 0 (so ``p < 0.05`` goes with a 95% interval that excludes 0, up to interpolation and the
    +1),
    and, when the bootstrap distribution is symmetric about the observed difference ``d``, the share
    of replicates whose centred difference ``d_r - d`` is at least as extreme as ``d``
    (``#{d_r - d <= -|d|} = #{d_r <= 0}`` for ``d > 0``) counted in both tails. The +1 counts the
    observed data as one replicate, so ``p >= 2 / (m + 1)``, never 0. Ties ``d_r = 0`` count in
    both tails: identical predictions give ``difference = 0`` and ``p = 1``.

    Args:
        labels: ``(n_items, n_tags)`` ground truth.
        scores_a, scores_b: the two score matrices, same shape as ``labels``.
        key: one official key or its alias (``F1-macro``: :mod:`harness.metrics.keys`); a decision
            key needs ``decisions_a`` and ``decisions_b``. ``Comparison.key`` is the canonical key.
        n, seed, confidence, chunk_size: as :func:`bootstrap_intervals`.
        decisions_a, decisions_b: optional decisions for the decision keys.

    Returns:
        :class:`Comparison`.

    Raises:
        FormatError: malformed inputs or shapes that differ. UnknownNameError: an unknown key.
        BadInputError: a decision key without both decisions, ``n < 1``, a bad confidence, or no
        replicate where the key is defined.
    """
    _check_confidence(confidence)
    if not isinstance(key, str):
        raise BadInputError(f"key must be one metric name, got {key!r}")
    key = canonical(key)  # an alias (F1-macro) names its canonical key
    has_decisions = decisions_a is not None and decisions_b is not None
    if key in DECISION_KEYS and (decisions_a is None) != (decisions_b is None):
        missing = "decisions_b" if decisions_b is None else "decisions_a"
        raise BadInputError(f"{key} compares decisions, but {missing} is missing")
    keys = _check_keys([key], has_decisions)
    la, sa, da = _validate_set("A", labels, scores_a, decisions_a if has_decisions else None)
    _, sb, db = _validate_set("B", labels, scores_b, decisions_b if has_decisions else None)
    check_counts(la.shape[0], n)

    value_a = official_scores(la, sa, da).values[key]
    value_b = official_scores(la, sb, db).values[key]

    scorer_a = ResampleScorer(la, sa, da, keys)
    scorer_b = ResampleScorer(la, sb, db, keys)
    chunks = chunk_size_for(scorer_a.n_rows + scorer_b.n_rows, chunk_size)
    diffs = []
    for _, counts in count_chunks(la.shape[0], n, generator(seed), chunks):
        diffs.append(scorer_a.score(counts)[key] - scorer_b.score(counts)[key])
    d = np.concatenate(diffs)
    d = d[np.isfinite(d)]
    if d.size == 0:
        raise BadInputError(f"{key} has no value in any of the {n} replicates (too few items?); nothing to compare")
    low, high = _percentiles(d, confidence)
    m = int(d.size)
    below = 1 + int(np.count_nonzero(d <= 0))
    above = 1 + int(np.count_nonzero(d >= 0))
    p_value = min(1.0, 2.0 * min(below, above) / (m + 1))
    return Comparison(
        difference=float(value_a - value_b),
        low=low,
        high=high,
        p_value=float(p_value),
        n=m,
        key=key,
        value_a=float(value_a),
        value_b=float(value_b),
        confidence=confidence,
    )


def percentile_interval(values: Any, confidence: float = DEFAULT_CONFIDENCE, what: str = "values") -> Interval:
    """The percentile :class:`Interval` of replicate values, ignoring NaN (undefined) ones.

    Raises:
        BadInputError: no finite value, or a confidence outside (0, 1).
    """
    _check_confidence(confidence)
    vals = np.asarray(values, dtype=np.float64).ravel()
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        raise BadInputError(
            f"{what} has no value in any bootstrap replicate (too few items, or no tag with both "
            "positive and negative items?)"
        )
    low, high = _percentiles(vals, confidence)
    std = float(np.std(vals, ddof=1)) if vals.size > 1 else 0.0
    return Interval(low, high, float(np.mean(vals)), std, int(vals.size), float(confidence))


# -- checks ----------------------------------------------------------------------------------------


def _check_confidence(confidence: Any) -> None:
    ok = isinstance(confidence, (float, int, np.floating)) and not isinstance(confidence, bool)
    if not ok or not 0.0 < float(confidence) < 1.0:
        raise BadInputError(f"confidence must be a number strictly between 0 and 1 (e.g. 0.95), got {confidence!r}")


def _check_keys(keys: Sequence[str] | None, has_decisions: bool) -> tuple[str, ...]:
    if keys is None:
        wanted = set(SCORE_KEYS) | (set(DECISION_KEYS) if has_decisions else set())
        return tuple(k for k in OFFICIAL_KEYS if k in wanted)
    if isinstance(keys, str):
        keys = [keys]
    keys = tuple(canonical(k) for k in keys)  # aliases (F1-macro) name their canonical keys
    if not keys:
        raise BadInputError(f"no metric keys asked for; known: {', '.join(OFFICIAL_KEYS)}")
    for key in keys:
        if key not in OFFICIAL_KEYS:
            raise UnknownNameError("metric", str(key), OFFICIAL_KEYS)
    needs = [k for k in keys if k in DECISION_KEYS]
    if needs and not has_decisions:
        raise BadInputError(f"{', '.join(needs)} need decisions (binary predictions); none were given")
    return tuple(dict.fromkeys(keys))


def _validate_set(name: str, labels: Any, scores: Any, decisions: Any) -> Any:
    try:
        return validate_predictions(labels, scores, decisions)
    except FormatError as exc:
        raise FormatError(f"prediction set {name}: {exc}") from exc


def _percentiles(values: np.ndarray, confidence: float) -> tuple[float, float]:
    # rounded so that 0.95 asks for exactly the 2.5th and 97.5th percentiles (1 - 0.95 is not 0.05)
    tail = round(100.0 * (1.0 - float(confidence)) / 2, 10)
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)
