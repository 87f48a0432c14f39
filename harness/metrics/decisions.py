"""Per-tag decision thresholds: fitted on validation predictions, applied with a strict ``>``.

Conventions: see :mod:`harness.metrics.validate`. Thresholds are a float64 vector with one entry per
tag column; decisions are ``scores > thresholds`` (bool, strict).

How the MediaEval 2019 task made decisions (https://github.com/MTG/mtg-jamendo-dataset, file
``scripts/mediaeval2019/calculate_decisions.py``): for each tag ``precision, recall, threshold = sklearn.metrics.precision_recall_curve(y, s)``,
``f_score = np.nan_to_num(2 * precision * recall / (precision + recall))``, the tag's threshold is
``threshold[np.argmax(f_score)]``, and the decisions are ``predictions > thresholds``. The task ran
it on the **test** labels; its published baseline decisions are exactly that (checked in
``tests/metrics/test_reference.py``).

That rule has an off-by-one: ``precision_recall_curve`` scores the operating point of threshold
``t`` as ``s >= t``, but the decisions use ``s > t``, so the items scored exactly ``t`` -- at least
one, since ``t`` is one of the scores -- are dropped, and the decisions are those of the *next*
point on the curve, not of the F1-maximal one. :func:`fit_thresholds_as_mediaeval2019` reproduces
the rule as published (for reproducing 2019 decisions);
:func:`fit_thresholds_on_validation` is the harness's rule: the same curve, the same F1 and the same
first-maximum choice, but the returned threshold is the next representable number *below*
``threshold[argmax]`` in the scores' floating dtype, so that ``s > returned`` is exactly
``s >= threshold[argmax]``: the strict ``>`` of the design reproduces the F1-maximal operating
point.

Published decisions are not all what that script gives: of the 29 MediaEval 2019 runs, 13 equal
thresholds fitted on the test labels and 16 were made otherwise (fixed thresholds, top-k, ...).
:func:`decisions_fitted_on_test` tells them apart from the scores, labels and decisions alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.errors import FormatError
from harness.metrics.ranking import precision_recall_curve
from harness.metrics.validate import validate_predictions, validate_scores

__all__ = [
    "apply_thresholds",
    "decisions_fitted_on_test",
    "fit_thresholds_as_mediaeval2019",
    "fit_thresholds_on_validation",
]


def fit_thresholds_on_validation(labels: Any, scores: Any) -> np.ndarray:
    """One threshold per tag that maximises the tag's F1 on these (validation) labels.

    For each tag column:

    1. ``precision, recall, thr = precision_recall_curve(labels[:, j], scores[:, j])``
       -- one operating point per distinct score ``thr[i]`` (ascending), predicting ``s >= thr[i]``,
       plus a final point (precision 1, recall 0) that has no threshold;
    2. ``f1 = 2 * precision * recall / (precision + recall)`` with 0/0 (NaN) counted as 0;
    3. ``i = np.argmax(f1)``: the FIRST maximum, i.e. among operating points with equal F1 the one
       with the lowest threshold, which predicts the most positives;
    4. the threshold is ``np.nextafter(thr[i], -inf)`` computed in the scores' floating dtype
       (float64 for bool or integer scores), returned as float64. With :func:`apply_thresholds`'
       strict ``>`` this predicts exactly ``s >= thr[i]``, the F1-maximal point, on these scores.
       The MediaEval 2019 script used ``thr[i]`` itself with ``>``, which drops the items scored
       exactly ``thr[i]`` and lands on the next operating point (see the module docstring and
       :func:`fit_thresholds_as_mediaeval2019`).

    Step 3 never picks the final point, which has F1 = 0 while the lowest threshold has recall 1
    and precision > 0 for a tag with positives; should it, the tag gets ``+inf``. A threshold just
    below the lowest score means "predict every item" is what maximises F1.

    Tags with no positives in these labels have no F1 to maximise: their threshold is ``+inf`` and
    they are never predicted (every score is finite).

    Args:
        labels: ``(n_items, n_tags)`` bool or 0/1 validation labels.
        scores: ``(n_items, n_tags)`` finite validation scores.

    Returns:
        ``(n_tags,)`` float64 thresholds. Keep them float64 (or the scores' dtype): rounding one to
        a narrower dtype than the scores' can undo step 4.
    """
    labels, scores, _ = validate_predictions(labels, scores)
    best, has_positive = _best_f1_thresholds(labels, scores)
    below = np.nextafter(best, np.asarray(-np.inf, dtype=best.dtype))
    return np.where(has_positive, below.astype(np.float64), np.inf)


def fit_thresholds_as_mediaeval2019(labels: Any, scores: Any) -> np.ndarray:
    """Thresholds exactly as the MediaEval 2019 ``calculate_decisions.py`` computed them.

    ``thr[np.argmax(f1)]`` per tag (steps 1-3 of :func:`fit_thresholds_on_validation`, without
    step 4), meant to be applied with :func:`apply_thresholds` (``>``), as the script did. The task
    fitted them on the test labels, which overstates every decision metric; use it to reproduce the
    2019 published decisions, not to make new ones. Tags with no positives get ``+inf`` (the script
    has no such case: every tag of the 2019 test split has positives).

    Returns:
        ``(n_tags,)`` float64 thresholds, each equal to one of the tag's scores.
    """
    labels, scores, _ = validate_predictions(labels, scores)
    best, has_positive = _best_f1_thresholds(labels, scores)
    return np.where(has_positive, best.astype(np.float64), np.inf)


def apply_thresholds(scores: Any, thresholds: Any) -> np.ndarray:
    """Decisions ``scores > thresholds`` (strict), one threshold per tag column.

    Args:
        scores: ``(n_items, n_tags)`` finite scores.
        thresholds: ``(n_tags,)`` thresholds; ``+inf`` means "never predict", ``-inf`` "always".

    Returns:
        ``(n_items, n_tags)`` bool decisions. The comparison is done in float64 (or wider), so
        float32 scores are compared exactly against float64 thresholds.

    Raises:
        FormatError: malformed scores, or thresholds that are not one finite-or-infinite number per
            tag column.
    """
    scores = validate_scores(scores, "scores")
    thr = _validate_thresholds(thresholds, scores.shape[1])
    return np.asarray(scores > thr[np.newaxis, :], dtype=bool)


def decisions_fitted_on_test(labels: Any, scores: Any, decisions: Any) -> bool:
    """Whether ``decisions`` are what thresholds fitted on these (test) labels give, for every tag.

    True when one rule, the same for every tag column, gives the decisions:

    1. the MediaEval 2019 ``calculate_decisions.py`` on these labels: ``scores > thr[argmax(f1)]``
       with its strict ``>`` and first maximum (:func:`fit_thresholds_as_mediaeval2019` then
       :func:`apply_thresholds`), so items tied at that score are all left out, as the script left
       them; or
    2. an F1-maximal operating point on these labels: ``scores >= thr[i]`` for an ``i`` whose F1 is
       the maximum (:func:`fit_thresholds_on_validation` fitted on these labels, or another
       tie-break between equal maxima).

    ``thr`` and ``f1`` are those of :func:`fit_thresholds_on_validation`'s steps 1-2, on the scores'
    own values (float32 scores are compared as float32). A tag without positives has no threshold
    under either rule (``+inf``): its column must hold no decision. One rule for all tags, not a
    choice per tag: on a constant column every decision is "a threshold" (all under rule 1, none
    under rule 2), and a per-tag choice would flag decisions made otherwise (e.g. the 2019
    "popular" baseline, which predicts its one tag everywhere and nothing else).

    A run so marked has decision metrics that are optimistic. Of the 29 MediaEval 2019 runs, 13 are.

    Raises:
        FormatError: malformed labels or scores, or decisions that are not 0/1 of the scores' shape.
    """
    labels, scores, _ = validate_predictions(labels, scores)
    given = _validate_decisions(decisions, scores.shape)
    as_script = as_maximal = True
    for j in range(scores.shape[1]):
        column, s = given[:, j], scores[:, j]
        if not labels[:, j].any():
            if column.any():
                return False
            continue
        precision, recall, thr = precision_recall_curve(labels[:, j], s)
        with np.errstate(divide="ignore", invalid="ignore"):
            f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
        maxima = np.flatnonzero(f1 == f1.max())
        points = [s >= thr[i] if i < thr.shape[0] else np.zeros_like(column) for i in maxima]
        first = points[0] if maxima[0] == thr.shape[0] else s > thr[maxima[0]]
        as_script = as_script and np.array_equal(column, first)
        as_maximal = as_maximal and any(np.array_equal(column, point) for point in points)
        if not (as_script or as_maximal):
            return False
    return bool(as_script or as_maximal)


def _validate_decisions(decisions: Any, shape: tuple[int, ...]) -> np.ndarray:
    try:
        given = np.asarray(decisions)
    except (TypeError, ValueError) as exc:
        raise FormatError(f"decisions cannot be read as an array ({exc})") from exc
    if given.shape != shape:
        raise FormatError(f"decisions have shape {given.shape}; expected {shape}, the scores' shape")
    if given.dtype != bool:
        if given.dtype.kind not in "iuf" or not np.isin(given, (0, 1)).all():
            raise FormatError("decisions must be 0/1 or boolean")
        given = given.astype(bool)
    return given


def _best_f1_thresholds(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per tag, ``thr[argmax(f1)]`` in the scores' float dtype, and whether the tag has positives.

    Tags without positives get +inf (in that dtype). One ``precision_recall_curve`` per tag
    (:mod:`harness.metrics.ranking`'s, which equals scikit-learn's bit for bit), vectorised over
    items (56 tags x 4,000 items take a few milliseconds).
    """
    dtype = scores.dtype if scores.dtype.kind == "f" else np.dtype(np.float64)
    has_positive = labels.any(axis=0)
    best = np.full(labels.shape[1], np.inf, dtype=dtype)
    for j in np.flatnonzero(has_positive):
        precision, recall, thr = precision_recall_curve(labels[:, j], scores[:, j])
        with np.errstate(divide="ignore", invalid="ignore"):
            f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
        i = int(np.argmax(f1))
        if i < thr.shape[0]:  # the final (precision 1, recall 0) point has no threshold
            best[j] = thr[i]
    return best, has_positive


def _validate_thresholds(thresholds: Any, n_tags: int) -> np.ndarray:
    try:
        thr = np.asarray(thresholds, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise FormatError(f"thresholds cannot be read as numbers ({exc})") from exc
    if thr.ndim == 0:
        raise FormatError(
            f"thresholds is one number ({thr.item()!r}); expected one per tag column ({n_tags}): "
            f"use np.full({n_tags}, value) for a global threshold"
        )
    if thr.ndim != 1 or thr.shape[0] != n_tags:
        raise FormatError(
            f"thresholds have shape {thr.shape}; expected ({n_tags},), one per tag column of the "
            "scores (fitted on another tag vocabulary?)"
        )
    n_nan = int(np.isnan(thr).sum())
    if n_nan:
        raise FormatError(
            f"thresholds hold {n_nan} NaN value(s) out of {n_tags} (first at column "
            f"{int(np.flatnonzero(np.isnan(thr))[0])}); expected numbers (+inf = never predicted)"
        )
    return thr
