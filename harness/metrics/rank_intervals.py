"""Rank confidence intervals from one joint bootstrap over several runs scored on the same items.

Resampling
    Replicate ``r`` draws the items once, exactly as :mod:`harness.metrics.bootstrap` does
    (``rng.integers(0, n_items, size=n_items)`` in order on ``np.random.default_rng(seed)``), and
    that one draw is shared by every run: all runs are scored on the same resampled items in every
    replicate (the vectorised engine, :class:`~harness.metrics.resampling.ResampleScorer`, fed the
    same count matrix for each run). For two runs the replicate differences are therefore exactly
    those of :func:`harness.metrics.bootstrap.paired_bootstrap` with the same ``n`` and ``seed``.

Ranks in a replicate
    A run's rank in a replicate is 1 + the number of runs strictly better in that replicate
    (higher values are better unless ``higher_is_better`` is False), so equal values share a rank.
    Replicates where some run's key has no value (NaN: only on a handful of items) are left out of
    the ranks; :attr:`JointReplicates.ranked` says how many were used.

Rank interval
    The 95% rank interval of a run is ``(np.quantile(ranks, 0.025, method="lower"),
    np.quantile(ranks, 0.975, method="higher"))`` over the replicates: whole ranks, a range that
    holds at least 95% of the run's replicate ranks.

Displayed rank
    1 + the number of runs that beat this run (are strictly better) in at least 97.5% of the
    replicates (:data:`BEATS`): a one-sided paired bootstrap test at 2.5%, the two-sided 5% of
    :func:`~harness.metrics.bootstrap.paired_bootstrap`. Runs that no other run beats that
    clearly share rank 1, and, unlike bands chained through neighbours, a run never shares the
    rank of a run that clearly beats it.

Paired p-value
    :func:`paired_p_value` is the p-value of :func:`~harness.metrics.bootstrap.paired_bootstrap`
    on the replicate differences of two runs (replicates where both have a value).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.errors import BadInputError
from harness.metrics.keys import canonical
from harness.metrics.resampling import (
    ResampleScorer,
    check_counts,
    chunk_size_for,
    count_chunks,
    generator,
    ranked_groups,
)
from harness.metrics.validate import validate_predictions

CONFIDENCE = 0.95
BEATS = 0.975
_CHUNK_CELLS = 2**19
"""Float64 cells of one run's per-chunk arrays (4 MiB, cache-friendly); the chunk size follows from it."""
"""Share of replicates in which another run must be strictly better for it to count against the displayed rank."""


@dataclass(frozen=True)
class JointReplicates:
    """Every run's value of ``key`` in every replicate, all runs resampled together.

    Attributes:
        values: ``(n_runs, n)`` float64, NaN where the key has no value.
        full: ``(n_runs,)`` the key on all items (count 1 each).
        key: the canonical key.
        higher_is_better: the key's direction.
    """

    values: np.ndarray
    full: np.ndarray
    key: str
    higher_is_better: bool = True

    @property
    def ranked(self) -> np.ndarray:
        """Values of the replicates where every run has a value, ``(n_runs, m)``."""
        return self.values[:, np.isfinite(self.values).all(axis=0)]

    def ranks(self) -> np.ndarray:
        """``(n_runs, m)`` rank of each run in each replicate used (1 + runs strictly better)."""
        return replicate_ranks(self.ranked, self.higher_is_better)

    def intervals(self, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) whole-rank interval of each run; see the module docstring."""
        return rank_interval(self.ranks(), confidence)

    def shown_ranks(self, threshold: float = BEATS) -> np.ndarray:
        """The displayed rank of each run: 1 + runs that beat it in ``threshold`` of the replicates."""
        return displayed_ranks(beat_shares(self.ranked, self.higher_is_better), threshold)

    def comparison(self, a: int, b: int) -> tuple[float, float, float, float, int]:
        """(difference on all items, low, high, p-value, replicates) of run ``a`` minus run ``b``."""
        d = self.values[a] - self.values[b]
        d = d[np.isfinite(d)]
        if d.size == 0:
            raise BadInputError(f"{self.key} has no value in any replicate for both runs; nothing to compare")
        tail = round(100.0 * (1.0 - CONFIDENCE) / 2, 10)
        low, high = np.percentile(d, [tail, 100.0 - tail])
        return float(self.full[a] - self.full[b]), float(low), float(high), paired_p_value(d), int(d.size)


def joint_replicates(
    labels: Any,
    score_sets: Sequence[Any],
    key: str = "PR-AUC-macro",
    n: int = 1000,
    seed: int | np.random.Generator = 0,
    *,
    higher_is_better: bool = True,
    chunk_size: int | None = None,
) -> JointReplicates:
    """Score every run of ``score_sets`` on the same ``n`` resamples of the items of ``labels``.

    Args:
        labels: ``(n_items, n_tags)`` ground truth shared by every run.
        score_sets: one ``(n_items, n_tags)`` score matrix per run.
        key: a key the vectorised engine scores from scores alone (not a decision key).
        n, seed, chunk_size: as :func:`harness.metrics.bootstrap.bootstrap_intervals`.
        higher_is_better: the key's direction, for the ranks.
    """
    key = canonical(key)
    if not score_sets:
        raise BadInputError("no runs to resample")
    checked = [validate_predictions(labels, s, None) for s in score_sets]
    la = checked[0][0]
    n_items = la.shape[0]
    check_counts(n_items, n)
    if key == "PR-AUC-macro":
        scorers: list[Any] = [MacroAPScorer(la, s) for _, s, _ in checked]
        value_of = lambda scorer, counts: scorer.score(counts)  # noqa: E731
    else:
        scorers = [ResampleScorer(la, s, None, [key]) for _, s, _ in checked]
        value_of = lambda scorer, counts: scorer.score(counts)[key]  # noqa: E731
    rows = max(s.n_rows for s in scorers)
    chunks = (
        chunk_size_for(rows, chunk_size) if chunk_size is not None else max(1, min(1000, _CHUNK_CELLS // max(rows, 1)))
    )
    values = np.empty((len(scorers), n))
    done = 0
    for _, counts in count_chunks(n_items, n, generator(seed), chunks):
        r = counts.shape[1]
        for i, scorer in enumerate(scorers):
            values[i, done : done + r] = value_of(scorer, counts)
        done += r
    ones = np.ones((n_items, 1))
    full = np.array([value_of(scorer, ones)[0] for scorer in scorers])
    return JointReplicates(values, full, key, higher_is_better)


class MacroAPScorer:
    """PR-AUC-macro alone, for count vectors (items x replicates): a lean form of the engine.

    :class:`~harness.metrics.resampling.ResampleScorer`'s formula ``AP = sum_k P_k * TP_k /
    (TP_k + FP_k) / P`` over the groups of equal scores that hold a positive, with two sparse
    rows per such group: its positives (``P_k``), and the negatives scored below the previous such
    group and at least this one (so that ``FP_k`` is their cumulative sum). Negatives below a
    tag's last positive group do not enter AP and are left out; every tag's rows are stacked, so
    one cumulative sum serves all tags. A replicate where no tag has both a positive and a negative
    item has no value (NaN), as in the engine.
    """

    def __init__(self, labels: np.ndarray, scores: np.ndarray) -> None:
        from scipy import sparse

        n_items, n_tags = labels.shape
        self.n_items = n_items
        pos_rows, pos_cols, neg_rows, neg_cols, starts = [], [], [], [], []
        n_rows = 0
        for j in range(n_tags):
            y = labels[:, j]
            if not y.any():
                continue  # never a positive: out of every replicate's mean
            order, yy, group, has_pos = ranked_groups(y, scores[:, j])
            before = (np.cumsum(has_pos) - has_pos)[group]  # the first positive group at or below each cell
            k = int(has_pos.sum())
            starts.append(n_rows)
            pos_rows.append(n_rows + before[yy])
            pos_cols.append(order[yy])
            keep = ~yy & (before < k)
            neg_rows.append(n_rows + before[keep])
            neg_cols.append(order[keep])
            n_rows += k
        self.n_rows = n_rows
        self.starts = np.asarray(starts, dtype=np.intp)
        self.ends = np.r_[self.starts[1:], n_rows].astype(np.intp)
        self.row_start = np.repeat(self.starts, self.ends - self.starts)  # each row's tag start

        def matrix(rows: list[np.ndarray], cols: list[np.ndarray]) -> Any:
            r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.intp)
            c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.intp)
            return sparse.csr_matrix((np.ones(r.size), (r, c)), shape=(n_rows, n_items))

        self.positives = matrix(pos_rows, pos_cols)
        self.negatives = matrix(neg_rows, neg_cols)

    def score(self, counts: np.ndarray) -> np.ndarray:
        """PR-AUC-macro of each replicate (column of ``counts``), NaN where it has no value."""
        counts = np.ascontiguousarray(counts, dtype=np.float64)
        n_rep = counts.shape[1]
        if self.n_rows == 0:
            return np.full(n_rep, np.nan)
        p = self.positives @ counts
        tp = np.empty((self.n_rows + 1, n_rep))  # cumulative over all tags' rows, from a zero row
        tp[0] = 0.0
        np.cumsum(p, axis=0, out=tp[1:])
        seen = np.empty_like(tp)  # positives and negatives scored at least each group's value
        seen[0] = 0.0
        np.cumsum(self.negatives @ counts, axis=0, out=seen[1:])
        seen += tp
        tp_k = tp[self.row_start]  # every row's tag start, then within the tag
        np.subtract(tp[1:], tp_k, out=tp_k)
        seen_k = seen[self.row_start]
        np.subtract(seen[1:], seen_k, out=seen_k)
        np.maximum(seen_k, 1.0, out=seen_k)
        np.divide(tp_k, seen_k, out=tp_k)
        terms = np.multiply(p, tp_k, out=tp_k)
        n_pos = tp[self.ends] - tp[self.starts]  # (tags, replicates)
        with np.errstate(divide="ignore", invalid="ignore"):
            ap = np.add.reduceat(terms, self.starts, axis=0) / n_pos
        has_pos = n_pos > 0
        defined = (has_pos & (n_pos < self.n_items)).any(axis=0)
        count = has_pos.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(has_pos, ap, 0.0).sum(axis=0) / np.maximum(count, 1)
        return np.where(defined & (count > 0), mean, np.nan)


def replicate_ranks(values: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """``(n_runs, n)`` rank of each run in each replicate: 1 + the runs strictly better there."""
    v = np.asarray(values, dtype=np.float64)
    v = v if higher_is_better else -v
    return 1 + (v[np.newaxis, :, :] > v[:, np.newaxis, :]).sum(axis=1)


def rank_interval(ranks: np.ndarray, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Whole-rank (low, high) per run: the lower ``(1 - confidence) / 2`` and higher
    ``(1 + confidence) / 2`` quantiles of its ranks over the replicates."""
    ranks = np.asarray(ranks)
    if ranks.shape[1] == 0:
        raise BadInputError("no replicate in which every run has a value; no rank interval")
    tail = (1.0 - confidence) / 2
    low = np.quantile(ranks, tail, axis=1, method="lower")
    high = np.quantile(ranks, 1.0 - tail, axis=1, method="higher")
    return low.astype(int), high.astype(int)


def beat_shares(values: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """``share[j, i]``: the share of replicates in which run ``j`` is strictly better than run ``i``."""
    v = np.asarray(values, dtype=np.float64)
    v = v if higher_is_better else -v
    if v.shape[1] == 0:
        raise BadInputError("no replicate in which every run has a value")
    return (v[:, np.newaxis, :] > v[np.newaxis, :, :]).mean(axis=2)


def displayed_ranks(shares: np.ndarray, threshold: float = BEATS) -> np.ndarray:
    """1 + the number of runs ``j`` with ``shares[j, i] >= threshold``, per run ``i``."""
    return 1 + (np.asarray(shares) >= threshold).sum(axis=0)


def paired_p_value(differences: np.ndarray) -> float:
    """Two-sided ``min(1, 2 * min(1 + #{d <= 0}, 1 + #{d >= 0}) / (m + 1))`` over finite ``d``."""
    d = np.asarray(differences, dtype=np.float64)
    d = d[np.isfinite(d)]
    below = 1 + int(np.count_nonzero(d <= 0))
    above = 1 + int(np.count_nonzero(d >= 0))
    return float(min(1.0, 2.0 * min(below, above) / (d.size + 1)))
