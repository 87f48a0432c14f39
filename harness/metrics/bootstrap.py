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

How it is computed (vectorised)
    A replicate is a vector of per-item counts ``c`` (``np.bincount(idx)``): scoring ``labels[idx]``
    equals scoring every item with weight ``c_i``. Each tag's scores are sorted once; cells with
    equal scores form one *group* (scikit-learn's thresholds are the distinct score values). With
    ``TP_k`` and ``FP_k`` the (count-weighted) positives and negatives scored at least the ``k``-th
    distinct value, ``P_k`` the positives in group ``k``, ``P`` and ``N`` the totals:

    - average precision (scikit-learn's step-wise ``sum_k (R_k - R_{k-1}) P_k``):
      ``AP = sum_k P_k * TP_k / (TP_k + FP_k) / P``;
    - ROC-AUC (Mann-Whitney U with ties counted one half, which the trapezoidal ROC area equals):
      ``AUC = sum_k P_k * (N - FP_{k-1} - (FP_k - FP_{k-1}) / 2) / (P * N)``.

    Only groups holding a positive contribute, so each tag is cut once into segments (the positives
    of each such group, its negatives, and the negatives between two such groups); a sparse
    ``segments x items`` matrix times the ``items x replicates`` count matrix gives every segment's
    weight in every replicate in one product, and cumulative sums over a tag's segments give the
    ``TP_k``, ``FP_k``. Micro keys do the same over all cells as one column. Decision keys are
    count-weighted TP/FP/FN sums (one dense product). Replicates go in chunks, which bounds memory
    (``chunk_size``).

Intervals and the comparison
    Percentile intervals: ``np.percentile(values, [100 * a / 2, 100 * (1 - a / 2)])`` with
    ``a = 1 - confidence`` and numpy's default (linear) interpolation, over the replicates that have
    a value. :func:`paired_bootstrap` resamples the same items for both prediction sets; see its
    docstring for the p-value. Efron and Tibshirani, *An Introduction to the Bootstrap* (1993),
    ch. 13 (percentile intervals) and 16 (hypothesis tests); the paired test over a test set as in
    Koehn, "Statistical significance tests for machine translation evaluation", EMNLP 2004.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.errors import BadInputError, FormatError, UnknownNameError
from harness.metrics import ranking
from harness.metrics.keys import canonical
from harness.metrics.official import DECISION_KEYS, OFFICIAL_KEYS, SCORE_KEYS, official_scores
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

_CHUNK_BUDGET = 2**21
"""Float64 cells (16 MiB) of the per-chunk segment matrix; the chunk size follows from it."""


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
    _check_counts(n_items, n)
    return np.stack(list(_draw(n_items, n, _rng(seed))))


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
    resamples = _as_index_list(indices, n_items)
    scorer = _ResampleScorer(labels, scores, decisions, keys)
    chunk = _chunk_size(scorer.n_rows, None)
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
    _check_counts(labels.shape[0], n)
    scorer = _ResampleScorer(labels, scores, decisions, keys)
    chunks = _chunk_size(scorer.n_rows, chunk_size)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    kept: list[np.ndarray] = []
    for idx, counts in _count_chunks(labels.shape[0], n, _rng(seed), chunks):
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
    _check_counts(la.shape[0], n)

    value_a = official_scores(la, sa, da).values[key]
    value_b = official_scores(la, sb, db).values[key]

    scorer_a = _ResampleScorer(la, sa, da, keys)
    scorer_b = _ResampleScorer(la, sb, db, keys)
    chunks = _chunk_size(scorer_a.n_rows + scorer_b.n_rows, chunk_size)
    diffs = []
    for _, counts in _count_chunks(la.shape[0], n, _rng(seed), chunks):
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


# -- the vectorised scorer -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    """One ranked column (a tag, or all cells for micro) cut into segments.

    Rows ``start .. start + k`` of the segment matrix are the positives of the ``k`` groups
    (distinct score values) that hold a positive, in descending score order; rows
    ``start + k .. start + 3k`` interleave "negatives before group j" and "negatives in group j";
    row ``start + 3k`` holds the negatives after the last such group.
    """

    start: int
    k: int


class _ResampleScorer:
    """Scores count vectors (items x replicates) for a fixed set of labels, scores and decisions."""

    def __init__(
        self,
        labels: np.ndarray,
        scores: np.ndarray,
        decisions: np.ndarray | None,
        keys: Sequence[str],
    ) -> None:
        from scipy import sparse

        self.keys = tuple(keys)
        n_items, n_tags = labels.shape
        self.n_tags = n_tags
        want = set(self.keys)
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        self.tag_columns: list[_Column] = []
        self.micro: _Column | None = None
        n_rows = 0
        if want & {"ROC-AUC-macro", "PR-AUC-macro"}:
            for j in range(n_tags):
                column, seg, items = _segments(labels[:, j], scores[:, j], n_rows)
                self.tag_columns.append(column)
                rows.append(seg)
                cols.append(items)
                n_rows = column.start + 3 * column.k + 1
        if want & {"ROC-AUC-micro", "PR-AUC-micro"}:
            column, seg, cells = _segments(labels.ravel(), scores.ravel(), n_rows)
            self.micro = column
            rows.append(seg)
            cols.append(cells // n_tags)  # the item of each cell (row-major ravel)
            n_rows = column.start + 3 * column.k + 1
        self.n_rows = n_rows
        self.segments = None
        if rows:
            r = np.concatenate(rows)
            c = np.concatenate(cols)
            self.segments = sparse.csr_matrix(
                (np.ones(r.size), (r, c)), shape=(n_rows, n_items)
            )  # duplicates (cells of one item in one segment) are summed
        # per-tag class counts: positives and negatives, and TP / FP / FN for decisions
        blocks = [labels, ~labels]
        if decisions is not None and want & set(DECISION_KEYS):
            blocks += [labels & decisions, ~labels & decisions]
        self.dense = np.concatenate(blocks, axis=1).T.astype(np.float64)  # (k * n_tags, n_items)

    def score(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """Values of ``self.keys`` for ``counts`` (items x replicates, float64)."""
        counts = np.ascontiguousarray(counts, dtype=np.float64)
        n_rep = counts.shape[1]
        t = self.n_tags
        sums = self.dense @ counts
        pos, neg = sums[:t], sums[t : 2 * t]
        has_pos = pos > 0
        has_both = has_pos & (neg > 0)
        defined = has_both.any(axis=0)  # otherwise the official scorer raises: no value at all
        out: dict[str, np.ndarray] = {}

        seg = self.segments @ counts if self.segments is not None else None
        if self.tag_columns:
            ap = np.empty((t, n_rep))
            auc = np.empty((t, n_rep))
            for j, column in enumerate(self.tag_columns):
                ap[j], auc[j] = _ranking_values(seg, column)
            if "PR-AUC-macro" in self.keys:
                out["PR-AUC-macro"] = _masked_mean(ap, has_pos)
            if "ROC-AUC-macro" in self.keys:
                out["ROC-AUC-macro"] = _masked_mean(auc, has_both)
        if self.micro is not None:
            ap_micro, auc_micro = _ranking_values(seg, self.micro)
            if "PR-AUC-micro" in self.keys:
                out["PR-AUC-micro"] = ap_micro
            if "ROC-AUC-micro" in self.keys:
                out["ROC-AUC-micro"] = auc_micro
        if len(sums) > 2 * t:
            out.update(_decision_values(pos, sums[2 * t : 3 * t], sums[3 * t :], has_pos))
        return {k: np.where(defined, out[k], np.nan) for k in self.keys}


def _segments(labels: np.ndarray, scores: np.ndarray, start: int) -> tuple[_Column, np.ndarray, np.ndarray]:
    """Cut one column into segments (see :class:`_Column`): its rows and the cells in each."""
    order = np.argsort(scores, kind="stable")[::-1]  # descending; order within ties is irrelevant
    s = scores[order]
    y = labels[order]
    new_group = np.empty(s.size, dtype=bool)
    new_group[0] = True
    np.not_equal(s[1:], s[:-1], out=new_group[1:])
    group = np.cumsum(new_group) - 1
    group_has_pos = np.zeros(int(group[-1]) + 1, dtype=bool)
    group_has_pos[group[y]] = True
    # number of positive-holding groups strictly before each group
    before = np.cumsum(group_has_pos) - group_has_pos
    k = int(group_has_pos.sum())
    kpos = before[group]
    row = np.where(
        y,
        start + kpos,
        start + k + 2 * kpos + group_has_pos[group],
    )
    return _Column(start, k), row, order


def _ranking_values(seg: np.ndarray, column: _Column) -> tuple[np.ndarray, np.ndarray]:
    """Average precision and ROC-AUC of one column for every replicate (NaN where undefined)."""
    a, k = column.start, column.k
    p = seg[a : a + k]  # positives of each positive-holding group
    tp = np.cumsum(p, axis=0)
    neg = np.cumsum(seg[a + k : a + 3 * k + 1], axis=0)
    fp_end = neg[1 : 2 * k : 2]  # negatives scored at least the group's value
    fp_before = neg[0 : 2 * k : 2]  # negatives scored above it
    n_pos = tp[-1] if k else np.zeros(seg.shape[1])
    n_neg = neg[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        # tp + fp_end is 0 only where tp is, and then p is 0 too: the term is 0
        precision = tp / np.maximum(tp + fp_end, 1.0)
        ap = (p * precision).sum(axis=0) / n_pos
        below = n_neg - 0.5 * (fp_end + fp_before)
        auc = (p * below).sum(axis=0) / (n_pos * n_neg)
    ap = np.where(n_pos > 0, ap, np.nan)
    auc = np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)
    return ap, auc


def _decision_values(pos: np.ndarray, tp: np.ndarray, fp: np.ndarray, has_pos: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F-score, macro and micro, from weighted counts (tags x replicates).

    The counts are whole numbers, so :func:`~harness.metrics.ranking.precision_recall_f1` gives
    scikit-learn's values (a 0/0 precision, recall or F-score is 0).
    """
    fn = pos - tp
    macro = ranking.precision_recall_f1(tp, fp, fn)
    micro = ranking.precision_recall_f1(tp.sum(axis=0), fp.sum(axis=0), fn.sum(axis=0))
    out: dict[str, np.ndarray] = {}
    for name, per_tag, pooled in zip(("precision", "recall", "F-score"), macro, micro):
        out[f"{name}-macro"] = _masked_mean(per_tag, has_pos)
        out[f"{name}-micro"] = pooled
    return out


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over tags (axis 0) where ``mask``; NaN for a replicate with no such tag."""
    total = np.where(mask, values, 0.0).sum(axis=0)
    count = mask.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


# -- helpers ---------------------------------------------------------------------------------------


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise BadInputError(f"seed must be an integer or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _draw(n_items: int, n: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    for _ in range(n):
        yield rng.integers(0, n_items, size=n_items)


def _count_chunks(
    n_items: int, n: int, rng: np.random.Generator, chunk: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(indices (r, n_items), counts (n_items, r) float64)`` for chunks of replicates."""
    draws = _draw(n_items, n, rng)
    for start in range(0, n, chunk):
        r = min(chunk, n - start)
        idx = np.stack([next(draws) for _ in range(r)])
        offset = idx + (np.arange(r) * n_items)[:, np.newaxis]
        counts = np.bincount(offset.ravel(), minlength=r * n_items).reshape(r, n_items)
        yield idx, np.ascontiguousarray(counts.T, dtype=np.float64)


def _chunk_size(n_rows: int, chunk_size: int | None) -> int:
    if chunk_size is not None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)):
            raise BadInputError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        if chunk_size < 1:
            raise BadInputError(f"chunk_size must be a positive integer, got {chunk_size}")
        return int(chunk_size)
    return max(1, min(1000, _CHUNK_BUDGET // max(n_rows, 1)))


def _check_counts(n_items: int, n: Any) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise BadInputError(f"the number of bootstrap replicates must be an integer >= 1, got {n!r}")
    if n_items < 1:
        raise FormatError("no items to resample")


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


def _as_index_list(indices: Any, n_items: int) -> list[np.ndarray]:
    if isinstance(indices, np.ndarray) and indices.ndim == 2:
        seq: list[Any] = list(indices)
    elif isinstance(indices, np.ndarray) and indices.ndim == 1:
        raise FormatError(
            f"indices is one 1-D array of {indices.size} values; expected a list of resamples or "
            "a 2-D array with one resample per row (wrap a single resample in a list)"
        )
    else:
        try:
            seq = list(indices)
        except TypeError as exc:
            raise FormatError(f"indices must be a sequence of index arrays ({exc})") from exc
    out = []
    for i, idx in enumerate(seq):
        arr = np.asarray(idx)
        if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
            raise FormatError(
                f"resample {i} has shape {arr.shape} and dtype {arr.dtype}; expected a non-empty "
                "1-D array of integer row indices"
            )
        if int(arr.min()) < 0 or int(arr.max()) >= n_items:
            raise FormatError(
                f"resample {i} holds row indices outside [0, {n_items}) (min {int(arr.min())}, max {int(arr.max())})"
            )
        out.append(arr.astype(np.intp, copy=False))
    return out


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
