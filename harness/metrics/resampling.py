"""The vectorised engine of :mod:`harness.metrics.bootstrap`: chunks of replicates scored at once.

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
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.errors import BadInputError, FormatError
from harness.metrics import ranking
from harness.metrics.official import DECISION_KEYS

_CHUNK_BUDGET = 2**21
"""Float64 cells (16 MiB) of the per-chunk segment matrix; the chunk size follows from it."""


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


class ResampleScorer:
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


def ranked_groups(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One column ranked by descending score and cut into groups of equal scores.

    Returns ``(order, y, group, has_pos)``: the cells' order (descending; order within ties is
    irrelevant), their labels in that order, each ranked cell's group number, and which groups hold
    a positive (scikit-learn's thresholds are the distinct score values).
    """
    order = np.argsort(scores, kind="stable")[::-1]
    s = scores[order]
    y = labels[order]
    new_group = np.empty(s.size, dtype=bool)
    new_group[0] = True
    np.not_equal(s[1:], s[:-1], out=new_group[1:])
    group = np.cumsum(new_group) - 1
    has_pos = np.zeros(int(group[-1]) + 1, dtype=bool)
    has_pos[group[y]] = True
    return order, y, group, has_pos


def _segments(labels: np.ndarray, scores: np.ndarray, start: int) -> tuple[_Column, np.ndarray, np.ndarray]:
    """Cut one column into segments (see :class:`_Column`): its rows and the cells in each."""
    order, y, group, group_has_pos = ranked_groups(labels, scores)
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


def generator(seed: int | np.random.Generator) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise BadInputError(f"seed must be an integer or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def draw(n_items: int, n: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    for _ in range(n):
        yield rng.integers(0, n_items, size=n_items)


def count_chunks(n_items: int, n: int, rng: np.random.Generator, chunk: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(indices (r, n_items), counts (n_items, r) float64)`` for chunks of replicates."""
    draws = draw(n_items, n, rng)
    for start in range(0, n, chunk):
        r = min(chunk, n - start)
        idx = np.stack([next(draws) for _ in range(r)])
        offset = idx + (np.arange(r) * n_items)[:, np.newaxis]
        counts = np.bincount(offset.ravel(), minlength=r * n_items).reshape(r, n_items)
        yield idx, np.ascontiguousarray(counts.T, dtype=np.float64)


def chunk_size_for(n_rows: int, chunk_size: int | None) -> int:
    if chunk_size is not None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)):
            raise BadInputError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        if chunk_size < 1:
            raise BadInputError(f"chunk_size must be a positive integer, got {chunk_size}")
        return int(chunk_size)
    return max(1, min(1000, _CHUNK_BUDGET // max(n_rows, 1)))


def check_counts(n_items: int, n: Any) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise BadInputError(f"the number of bootstrap replicates must be an integer >= 1, got {n!r}")
    if n_items < 1:
        raise FormatError("no items to resample")


def index_list(indices: Any, n_items: int) -> list[np.ndarray]:
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
