"""Input validation shared by every public metric function.

Conventions (all metric modules): ``labels``, ``scores`` and ``decisions`` are 2-D arrays of shape
``(n_items, n_tags)`` -- one row per track or segment, one column per tag, in the dataset's official
tag order.

- ``labels``: the ground truth, bool or numbers that are all 0 or 1.
- ``scores``: real-valued activations (any monotone scale: probabilities, logits); finite. Bool or
  integer scores are accepted and converted to float64 (the MediaEval "popular" baseline scores its
  decisions); floating scores keep their dtype, so results match scikit-learn on the file as
  shipped.
- ``decisions``: binary predictions, bool or numbers that are all 0 or 1.

:func:`validate_predictions` is called first by every public metric function. Like mir_eval's
``validate()``, it raises :class:`~harness.errors.FormatError` with a message that says what it got,
what it expected, and, where it can, guesses the mistake (a transposed matrix, scores passed as
labels, scores passed as decisions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from harness.errors import FormatError

__all__ = ["Predictions", "validate_predictions", "validate_scores", "validate_tags"]


class Predictions(NamedTuple):
    """Validated, normalised inputs: ``labels`` and ``decisions`` as bool, ``scores`` real."""

    labels: np.ndarray
    scores: np.ndarray
    decisions: np.ndarray | None


def validate_predictions(labels: Any, scores: Any, decisions: Any = None) -> Predictions:
    """Check labels, scores and optional decisions; return them normalised.

    Raises:
        FormatError: a matrix is not 2-D or is empty, shapes differ (the transposed case is named),
            scores hold NaN or infinity (counted), labels or decisions are not all 0/1.
    """
    scores_arr = validate_scores(scores, "scores")
    labels_arr = _as_2d(labels, "labels")
    _check_same_shape(labels_arr, scores_arr, "scores")
    labels_bool = _as_binary(labels_arr, "labels", _LABELS_HINT)
    decisions_bool = None
    if decisions is not None:
        decisions_arr = _as_2d(decisions, "decisions")
        _check_same_shape(labels_arr, decisions_arr, "decisions")
        decisions_bool = _as_binary(decisions_arr, "decisions", _DECISIONS_HINT)
    return Predictions(labels_bool, scores_arr, decisions_bool)


def validate_scores(scores: Any, name: str = "scores") -> np.ndarray:
    """Check a real, finite, non-empty ``(n_items, n_tags)`` score matrix and return it.

    Floating dtypes are kept as they are; bool and integer scores become float64.
    """
    arr = _as_2d(scores, name)
    if arr.dtype.kind == "c":
        raise FormatError(f"{name} are complex ({arr.dtype}); expected real numbers")
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    n_nan = int(np.isnan(arr).sum())
    n_inf = int(np.isinf(arr).sum())
    if n_nan or n_inf:
        bad = ~np.isfinite(arr)
        row, col = (int(i) for i in np.argwhere(bad)[0])
        parts = []
        if n_nan:
            parts.append(f"{n_nan} NaN")
        if n_inf:
            parts.append(f"{n_inf} infinite")
        cols = np.flatnonzero(bad.any(axis=0))
        raise FormatError(
            f"{name} of shape {arr.shape} hold {' and '.join(parts)} value(s) out of {arr.size} "
            f"(first at row {row}, column {col}; {cols.size} of {arr.shape[1]} columns affected); "
            "expected finite numbers. A diverged model or a log of 0 is the usual cause."
        )
    return arr


def validate_tags(tags: Sequence[str] | None, n_tags: int) -> tuple[str, ...]:
    """Return the tag names, ``tag-0``, ``tag-1``... when ``tags`` is None.

    Raises:
        FormatError: the number of names does not match the number of columns, or names repeat.
    """
    if tags is None:
        return tuple(f"tag-{i}" for i in range(n_tags))
    if isinstance(tags, str):
        raise FormatError(f"tags is one string {tags!r}; expected a sequence of {n_tags} names")
    names = tuple(str(t) for t in tags)
    if len(names) != n_tags:
        raise FormatError(
            f"got {len(names)} tag names for {n_tags} tag columns; expected one name per column, "
            "in column order (is it the tag list of another dataset or subset?)"
        )
    if len(set(names)) != len(names):
        dups = sorted({t for t in names if names.count(t) > 1})
        raise FormatError(f"tag names repeat: {', '.join(dups)}; expected {n_tags} distinct names")
    return names


_LABELS_HINT = "did you pass scores as labels, or labels and scores in swapped order?"
_DECISIONS_HINT = (
    "these look like scores, not decisions: threshold them first (harness.metrics.decisions.apply_thresholds)"
)


def _as_2d(x: Any, name: str) -> np.ndarray:
    if x is None:
        raise FormatError(f"{name} is None; expected an (n_items, n_tags) array")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise FormatError(
            f"{name} cannot be read as an array ({exc}); expected an (n_items, n_tags) matrix (ragged rows?)"
        ) from exc
    if arr.dtype.kind not in "biufc":
        raise FormatError(
            f"{name} has dtype {arr.dtype}; expected numbers or bool (strings or objects were "
            "read: a header row, or a file loaded with allow_pickle?)"
        )
    if arr.ndim != 2:
        hint = ""
        if arr.ndim == 1:
            hint = " (a single tag? use x.reshape(-1, 1); a single item? use x.reshape(1, -1))"
        elif arr.ndim == 3 and 1 in arr.shape:
            hint = " (a singleton axis left over? np.squeeze it)"
        elif arr.ndim > 2:
            hint = " (per-crop outputs? average over the crop axis first)"
        raise FormatError(
            f"{name} has {arr.ndim} dimension(s), shape {arr.shape}; expected 2-D (n_items, n_tags){hint}"
        )
    if arr.size == 0:
        raise FormatError(
            f"{name} is empty, shape {arr.shape}; expected at least one item and one tag "
            "(an empty split or a wrong filter?)"
        )
    return arr


def _check_same_shape(labels: np.ndarray, other: np.ndarray, name: str) -> None:
    if other.shape == labels.shape:
        return
    got = f"{name} have shape {other.shape} but labels have shape {labels.shape}"
    if other.shape == labels.shape[::-1]:
        guess = f"{name} look transposed: pass {name}.T (rows are items, columns are tags)"
    elif other.shape[0] == labels.shape[0]:
        guess = (
            f"same items, but {other.shape[1]} tag columns against {labels.shape[1]}: "
            "a different tag vocabulary or subset?"
        )
    elif other.shape[1] == labels.shape[1]:
        guess = (
            f"same tags, but {other.shape[0]} items against {labels.shape[0]}: predictions for another split or fold?"
        )
    else:
        guess = "neither items nor tags match: another dataset?"
    raise FormatError(f"{got}; expected equal (n_items, n_tags) shapes; {guess}")


def _as_binary(arr: np.ndarray, name: str, hint: str) -> np.ndarray:
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype.kind == "c":
        raise FormatError(f"{name} are complex ({arr.dtype}); expected bool or 0/1")
    ok = (arr == 0) | (arr == 1)
    if ok.all():
        return arr != 0
    n_bad = int((~ok).sum())
    bad_values = arr[~ok]
    examples = ", ".join(repr(v.item()) for v in np.unique(bad_values[np.isfinite(bad_values)])[:5])
    n_nan = int(np.isnan(bad_values).sum()) if arr.dtype.kind == "f" else 0
    got = f"{name} of shape {arr.shape} have {n_bad} value(s) out of {arr.size} that are not 0 or 1"
    if examples:
        got += f" (e.g. {examples})"
    if n_nan:
        got += f", {n_nan} of them NaN"
    finite = bad_values[np.isfinite(bad_values)] if arr.dtype.kind == "f" else bad_values
    looks_like_scores = arr.dtype.kind == "f" and finite.size > 0
    if looks_like_scores:
        guess = f"; {hint}"
    elif np.all(np.isin(arr, (-1, 0, 1))):
        guess = "; -1/+1 labels? convert with (x > 0)"
    elif arr.dtype.kind in "iu" and int(arr.min()) >= 0:
        guess = "; vote counts? binarise them first (x > 0, or a vote threshold)"
    else:
        guess = ""
    raise FormatError(f"{got}; expected bool or 0/1{guess}")
