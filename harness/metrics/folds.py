"""Ten-fold (k-fold) results: per fold, mean +- std over folds, and pooled out-of-fold scores.

Conventions: a fold's result is a ``key -> value`` dict, as ``values`` of
:func:`~harness.metrics.multilabel.cal500_scores` gives it; ``per_fold`` maps fold names ("0",
"1", ... or any string) to such dicts, in fold order.

Two ways to summarise a cross-validation, both reported by the CAL500 literature:

- :func:`aggregate_folds`: each fold scored on its own, then ``mean = (1/k) sum_f v_f`` and the
  **sample** standard deviation ``std = sqrt(sum_f (v_f - mean)^2 / (k - 1))`` (``numpy.std`` with
  ``ddof=1``): the spread one would expect between folds drawn again, the usual "mean +- std" of
  the papers. It is not a standard error of the mean (divide by ``sqrt(k)`` for that), and the
  folds share training data, so it understates the variance of the mean.
- :func:`pooled_scores`: the out-of-fold predictions of all folds concatenated (every item scored
  exactly once, by the model that did not train on it) and scored as one matrix. Macro metrics over
  small folds are noisy (a tag may have one positive in a fold, or none), so the pooled value is
  usually the steadier one; it is not the mean of the per-fold values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.errors import BadInputError, FormatError
from harness.metrics.multilabel import MultilabelScores, cal500_scores
from harness.metrics.validate import validate_predictions, validate_tags

__all__ = ["FoldSummary", "aggregate_folds", "pooled_scores"]


@dataclass(frozen=True)
class FoldSummary:
    """Per-fold values with their mean and sample standard deviation.

    Attributes:
        mean: key -> mean over the folds, for the keys present in **every** fold.
        std: key -> sample std (``ddof=1``) over the folds, same keys as ``mean``; empty with a
            single fold (undefined; see ``warnings``).
        per_fold: fold -> key -> value, as given (copied), in fold order.
        missing: key -> the folds that lack it, for keys present in some folds only; such keys are
            left out of ``mean`` and ``std`` (a mean over a subset of folds would not compare with
            the others), never NaN.
        warnings: human-readable lines about ``missing`` keys and a single fold.
    """

    mean: dict[str, float]
    std: dict[str, float]
    per_fold: dict[str, dict[str, float]]
    missing: dict[str, tuple[str, ...]]
    warnings: tuple[str, ...] = ()

    @property
    def n_folds(self) -> int:
        return len(self.per_fold)


def aggregate_folds(per_fold: Mapping[str, Mapping[str, float]]) -> FoldSummary:
    """Mean and sample standard deviation (``ddof=1``) of each key over folds.

    Args:
        per_fold: fold name -> key -> finite value (e.g. ``cal500_scores(...).values`` per fold).

    Returns:
        :class:`FoldSummary`; keys in order of first appearance.

    Raises:
        BadInputError: no folds, a fold that is not a mapping, or a value that is not a finite
            number (NaN/inf: score the fold with the harness, which never returns NaN).
    """
    if not isinstance(per_fold, Mapping):
        raise BadInputError(
            f"per_fold is a {type(per_fold).__name__}; expected a mapping fold -> key -> value "
            "(e.g. {'0': scores.values, '1': ...})"
        )
    if not per_fold:
        raise BadInputError("per_fold is empty; expected the results of at least one fold")
    folds: dict[str, dict[str, float]] = {}
    for fold, values in per_fold.items():
        if not isinstance(values, Mapping):
            raise BadInputError(
                f"fold {fold!r} holds a {type(values).__name__}; expected a mapping key -> value "
                "(pass .values of a MultilabelScores)"
            )
        folds[str(fold)] = {str(k): _finite(v, fold, k) for k, v in values.items()}

    keys: dict[str, None] = {}
    for values in folds.values():
        keys.update(dict.fromkeys(values))
    mean: dict[str, float] = {}
    std: dict[str, float] = {}
    missing: dict[str, tuple[str, ...]] = {}
    for key in keys:
        lacking = tuple(f for f, values in folds.items() if key not in values)
        if lacking:
            missing[key] = lacking
            continue
        column = np.array([values[key] for values in folds.values()], dtype=np.float64)
        mean[key] = float(np.mean(column))
        if column.size > 1:
            std[key] = float(np.std(column, ddof=1))

    lines = []
    if missing:
        lines.extend(
            f"{key} is missing in {len(lacking)} of {len(folds)} folds ({', '.join(lacking)}) and "
            "is left out of the mean and std"
            for key, lacking in missing.items()
        )
    if len(folds) == 1:
        lines.append("a single fold: no standard deviation (it needs at least two folds)")
    return FoldSummary(mean=mean, std=std, per_fold=folds, missing=missing, warnings=tuple(lines))


def pooled_scores(
    fold_results: Sequence[tuple[Any, Any, Any]],
    tags: Sequence[str] | None = None,
    *,
    item_ids: Sequence[Sequence[str]] | None = None,
    scorer: Callable[..., MultilabelScores] = cal500_scores,
) -> MultilabelScores:
    """Score the concatenated out-of-fold predictions of all folds as one matrix.

    Args:
        fold_results: one ``(labels, scores, decisions)`` per fold, each ``(n_f, n_tags)`` with the
            same tag columns; ``decisions`` None in every fold or in none (each fold's decisions
            from its own thresholds, fitted on that fold's validation part).
        tags: column names (default ``tag-0``...).
        item_ids: optional, one sequence of item ids per fold (``n_f`` each). When given, an item
            may appear only once over all folds (out-of-fold predictions score each item once); a
            repeat is an error. Without ids only shapes can be checked.
        scorer: the metric function, ``cal500_scores`` by default (``official_scores`` also fits).

    Returns:
        What ``scorer`` returns for the pooled matrices (``.values`` holds the keys).

    Raises:
        FormatError: a malformed fold (the message names it), folds with different tag columns, ids
            that do not match the folds' rows.
        BadInputError: no folds, decisions in some folds only, or an item id that repeats.
    """
    if isinstance(fold_results, (str, bytes)) or not isinstance(fold_results, Sequence):
        raise BadInputError(
            f"fold_results is a {type(fold_results).__name__}; expected a list of "
            "(labels, scores, decisions) tuples, one per fold"
        )
    if not fold_results:
        raise BadInputError("fold_results is empty; expected one (labels, scores, decisions) per fold")
    checked = []
    for i, result in enumerate(fold_results):
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            got = type(result).__name__
            if isinstance(result, (tuple, list)):
                got += f" of length {len(result)}"
            raise BadInputError(
                f"fold {i} is not a (labels, scores, decisions) triple (got {got}); "
                "use None for decisions when there are none"
            )
        try:
            checked.append(validate_predictions(*result))
        except FormatError as exc:
            raise FormatError(f"fold {i}: {exc.message}") from exc

    n_tags = checked[0].labels.shape[1]
    for i, fold in enumerate(checked):
        if fold.labels.shape[1] != n_tags:
            raise FormatError(
                f"fold {i} has {fold.labels.shape[1]} tag columns but fold 0 has {n_tags}; "
                "expected the same tag columns in every fold"
            )
    validate_tags(tags, n_tags)
    with_decisions = [fold.decisions is not None for fold in checked]
    if any(with_decisions) and not all(with_decisions):
        lacking = [str(i) for i, has in enumerate(with_decisions) if not has]
        raise BadInputError(
            f"folds {', '.join(lacking)} have no decisions but the others do; expected "
            "decisions in every fold or in none"
        )
    if item_ids is not None:
        _check_item_ids(item_ids, [fold.labels.shape[0] for fold in checked])

    labels = np.concatenate([fold.labels for fold in checked], axis=0)
    scores = np.concatenate([fold.scores for fold in checked], axis=0)
    decisions = None
    if all(with_decisions):
        decisions = np.concatenate([fold.decisions for fold in checked], axis=0)
    return scorer(labels, scores, decisions, tags)


def _check_item_ids(item_ids: Sequence[Sequence[str]], n_rows: list[int]) -> None:
    if isinstance(item_ids, (str, bytes)) or len(item_ids) != len(n_rows):
        got = "a string" if isinstance(item_ids, (str, bytes)) else f"{len(item_ids)} id lists"
        raise FormatError(f"item_ids: got {got} for {len(n_rows)} folds; expected one sequence of ids per fold")
    first_seen: dict[str, int] = {}
    repeats: list[str] = []
    for i, (ids, n) in enumerate(zip(item_ids, n_rows)):
        if isinstance(ids, (str, bytes)):
            raise FormatError(f"item_ids of fold {i} is one string {ids!r}; expected {n} ids")
        ids = [str(x) for x in ids]
        if len(ids) != n:
            raise FormatError(f"fold {i} has {n} rows but {len(ids)} item ids; expected one id per row")
        for item in ids:
            if item in first_seen:
                j = first_seen[item]
                repeats.append(f"{item} (fold {i})" if j == i else f"{item} (folds {j} and {i})")
            else:
                first_seen[item] = i
    if repeats:
        shown = ", ".join(repeats[:5])
        if len(repeats) > 5:
            shown += f" and {len(repeats) - 5} more"
        raise BadInputError(
            f"{len(repeats)} item id(s) repeat across the out-of-fold predictions: {shown}; "
            "pooled scores need each item exactly once (overlapping folds, or a fold passed twice?)"
        )


def _finite(value: Any, fold: Any, key: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise BadInputError(f"fold {fold!r}, key {key!r}: {value!r} is a {type(value).__name__}; expected a number")
    number = float(value)
    if not math.isfinite(number):
        raise BadInputError(
            f"fold {fold!r}, key {key!r} is {number}; expected a finite value (the harness never "
            "returns NaN: was this fold scored elsewhere?)"
        )
    return number
