"""scikit-learn's binary ranking metrics, recomputed with numpy only, to the last bit.

Why this module exists
    ``harness score`` must start in well under a second, and importing ``sklearn.metrics`` alone
    takes about a second (it pulls in scipy.stats and pandas). The official MediaEval figures must
    still be exactly scikit-learn's. So the few functions the official evaluation calls are
    recomputed here with **the same floating-point operations in the same order** as scikit-learn
    1.x does them (``sklearn/metrics/_ranking.py``, ``_classification.py``, BSD-3-Clause), which
    makes the results identical, not merely close. The tests compare every function against
    scikit-learn with ``==`` on generated inputs (hypothesis) and on the 29 runs of MediaEval 2019;
    scikit-learn remains the reference, it is only not imported on the scoring path.

What is reproduced (one column ``y`` (bool), ``s`` (finite scores) at a time)
    - :func:`confusion_at_thresholds`: ``confusion_matrix_at_thresholds`` -- items sorted by
      descending score, one operating point per distinct score ("predict ``s >= t``"), ``tps`` the
      cumulative positives and ``fps = 1 + index - tps``, as float64 (exact integers);
    - :func:`precision_recall_curve`: precision ``tps / (tps + fps)``, recall ``tps / tps[-1]``,
      both reversed (ascending thresholds) with the final point (1, 0) appended;
    - :func:`average_precision`: ``max(0, -sum(diff(recall) * precision[:-1]))``;
    - :func:`roc_auc`: ``roc_curve`` with ``drop_intermediate=True`` (collinear points removed),
      ``(0, 0)`` prepended, rates divided by the totals, then the trapezoidal area
      ``sum(diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0)``;
    - :func:`precision_recall_f1`: ``precision_recall_fscore_support`` from integer counts
      (0/0 counted as 0, scikit-learn's default ``zero_division``).

Ties within a score value do not change any of these (the cumulative counts are taken at the end
of each group of equal scores), so the order in which tied items are sorted does not matter.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "average_precision",
    "average_precision_and_roc_auc",
    "confusion_at_thresholds",
    "precision_recall_curve",
    "precision_recall_f1",
    "roc_auc",
]


def confusion_at_thresholds(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fps, tps, thresholds)`` at each distinct score, highest first.

    Args:
        y: ``(n,)`` bool labels.
        s: ``(n,)`` finite scores (any real dtype; the thresholds keep it).

    Returns:
        float64 false and true positive counts of "predict ``s >= thresholds[k]``", and the
        thresholds (distinct scores, descending).
    """
    order = np.argsort(s, kind="stable")[::-1]
    s_sorted = s[order]
    ends = np.flatnonzero(np.diff(s_sorted))
    ends = np.concatenate([ends, [s_sorted.size - 1]])
    tps = np.cumsum(y[order].astype(np.float64))[ends]
    fps = 1 + ends.astype(np.float64) - tps
    return fps, tps, s_sorted[ends]


def precision_recall_curve(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sklearn.metrics.precision_recall_curve(y, s)``: precision, recall, thresholds (ascending).

    ``precision`` and ``recall`` have one point more than ``thresholds``: the final (1, 0). A column
    without positives gets recall 1 everywhere, as scikit-learn gives it (with a warning there).
    """
    fps, tps, thresholds = confusion_at_thresholds(y, s)
    precision, recall = _precision_recall(fps, tps)
    return precision, recall, np.flip(thresholds)


def average_precision(y: np.ndarray, s: np.ndarray) -> float:
    """``sklearn.metrics.average_precision_score(y, s)``: the step-wise ``sum_n (R_n - R_{n-1}) P_n``."""
    fps, tps, _ = confusion_at_thresholds(y, s)
    return _average_precision(fps, tps)


def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """``sklearn.metrics.roc_auc_score(y, s)``; NaN when ``y`` holds one class only (undefined)."""
    fps, tps, _ = confusion_at_thresholds(y, s)
    return _roc_auc(fps, tps)


def average_precision_and_roc_auc(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """Both areas from one sort: ``(average_precision(y, s), roc_auc(y, s))``."""
    fps, tps, _ = confusion_at_thresholds(y, s)
    return _average_precision(fps, tps), _roc_auc(fps, tps)


def _precision_recall(fps: np.ndarray, tps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ps = tps + fps
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(ps != 0, np.divide(tps, ps), 0.0)
    recall = np.full(tps.shape, 1.0) if tps[-1] == 0 else tps / tps[-1]
    return np.concatenate((np.flip(precision), [1.0])), np.concatenate((np.flip(recall), [0.0]))


def _average_precision(fps: np.ndarray, tps: np.ndarray) -> float:
    precision, recall = _precision_recall(fps, tps)
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def _roc_auc(fps: np.ndarray, tps: np.ndarray) -> float:
    if tps[-1] <= 0 or fps[-1] <= 0:
        return float("nan")
    if fps.shape[0] > 2:  # drop_intermediate: keep the corners of the curve
        keep = np.concatenate([[True], np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), [True]])
        fps, tps = fps[keep], tps[keep]
    fps = np.concatenate([[0.0], fps])
    tps = np.concatenate([[0.0], tps])
    fpr = fps / fps[-1]
    tpr = tps / tps[-1]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def precision_recall_f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 from counts, as ``precision_recall_fscore_support`` computes them.

    ``tp``, ``fp``, ``fn`` are integer counts (one per tag, or summed for micro); a 0/0 ratio is 0.
    F1 is ``2 tp / ((tp + fn) + (tp + fp))``, scikit-learn's ``(1 + b^2) tp / (b^2 true + pred)``.
    """
    tp = np.asarray(tp, dtype=np.int64)
    pred = tp + np.asarray(fp, dtype=np.int64)
    true = tp + np.asarray(fn, dtype=np.int64)
    return (
        _divide(tp.astype(np.float64), pred),
        _divide(tp.astype(np.float64), true),
        _divide(2.0 * tp.astype(np.float64), 1.0 * true.astype(np.float64) + pred.astype(np.float64)),
    )


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with 0 where the denominator is 0 (scikit-learn's _prf_divide)."""
    mask = denominator == 0
    den = np.asarray(denominator, dtype=np.float64).copy()
    den[mask] = 1
    out = np.asarray(numerator, dtype=np.float64) / den
    out[mask] = 0.0
    return out
