"""The CAL500 metric set: the official keys plus the example-based multi-label metrics.

Conventions: see :mod:`harness.metrics.validate` -- ``labels``, ``scores`` and ``decisions`` are
``(n_items, n_tags)`` matrices (one row per song or segment, one column per tag, in the dataset's
tag order); labels and decisions bool or 0/1, scores finite reals (any monotone scale).

Metrics (keys of :attr:`MultilabelScores.values`, after the ten of
:data:`~harness.metrics.official.OFFICIAL_KEYS`, computed by
:func:`~harness.metrics.official.official_scores`). ``Y_i`` is item ``i``'s set of true tags,
``L`` the number of tags, ``n`` the number of items, ``rank_i(t)`` the number of tags ``t'`` with
``s_i(t') >= s_i(t)``:

==============  =========================================================================  =======
hamming-loss    ``sklearn.metrics.hamming_loss(labels, decisions)``                         lower
                = ``(1 / nL) sum_i |Y_i xor D_i|``
one-error       ``(1 / n) sum_i [top-scored tag of i not in Y_i]`` (:func:`one_error`)      lower
coverage-error  ``sklearn.metrics.coverage_error(labels, scores)``                          lower
                = ``(1 / n) sum_i max_{t in Y_i} rank_i(t)``
ranking-loss    ``sklearn.metrics.label_ranking_loss(labels, scores)``                      lower
                = ``(1 / n) sum_i |{(t, u) in Y_i x not Y_i : s_i(t) <= s_i(u)}|
                / (|Y_i| |not Y_i|)``
LRAP            ``sklearn.metrics.label_ranking_average_precision_score(labels, scores)``  higher
                = ``(1 / n) sum_i (1 / |Y_i|) sum_{t in Y_i}
                |{t' in Y_i : rank_i(t') <= rank_i(t)}| / rank_i(t)``
==============  =========================================================================  =======

``hamming-loss`` needs decisions; without them only the threshold-free keys are computed.
:data:`LOWER_IS_BETTER` lists the keys where smaller is better. The keys, directions and labels are
entries of the metric registry, :mod:`harness.metrics.keys`. The CAL500 papers' primary metric, F1
macro, is the official ``F-score-macro`` (the same scikit-learn call); ``F1-macro`` is accepted as
its alias wherever a key is read, and the CAL500 registries name it as their ``primary_metric``.

The example-based metrics (hamming loss, one-error, coverage, ranking loss, LRAP) are averages over
items, not over tags: they use **every** tag column, including tags with no positives in the split
(ranking a never-true tag above a true one is a real mistake). Tags with no positives are left out
of the macro means of the official keys only (``excluded_tags``; see
:mod:`harness.metrics.official`). ``coverage-error`` is scikit-learn's, which counts the last true
tag itself (a perfect ranking of an item with ``|Y_i|`` true tags scores ``|Y_i|``); Zhang & Zhou's
"coverage" (ML-kNN, 2007) is the same minus 1.

Items with **no true tag** (legal: CAL500exp segments often have none) have no correct answer.
The conventions, each counted in ``warnings``:

- ``one-error``: such an item counts as an **error** (its top-scored tag is not a true tag), and the
  mean is over all ``n`` items. The alternative, used where every item is assumed to have a tag
  (Zhang & Zhou; MULAN skips them), is to leave such items out of the mean:
  :func:`one_error` with ``items_without_tags="skip"``. With ``m`` such items the two are related by
  ``error_all = (m + (n - m) * error_skip) / n``.
- scikit-learn (1.x): ``coverage_error`` gives such an item 0, ``label_ranking_loss`` gives it 0
  and ``label_ranking_average_precision_score`` gives it 1 -- each still counts in the mean over all
  ``n`` items. So empty items make coverage smaller and ranking loss / LRAP better; the values are
  kept exactly as scikit-learn computes them so that they compare with published figures that used
  it. Items with every tag true likewise get ranking loss 0 and LRAP 1.

Ties: one-error is **tie-averaged**: when several tags share an item's highest score, the item
counts the fraction of them that are not true (the expected one-error under uniform random
tie-breaking), so the value does not depend on column order. Without ties at the top (continuous
scores) it is the textbook definition. Coverage, ranking loss and LRAP treat ties as scikit-learn
does (pessimistically: ``rank`` counts ties, ``s(t) <= s(u)`` is a mis-ordered pair).

A single tag column: scikit-learn's coverage and ranking loss refuse ``(n, 1)`` matrices; the values
here are what they are for ``L = 1`` by the formulas above -- coverage the share of positive items,
ranking loss 0, LRAP 1 -- with a warning.

The CAL500 papers: Turnbull et al., "Semantic Annotation and Retrieval of Music and Sound
Effects", IEEE TASLP 2008 (CAL500; per-tag P/R/F averaged over tags, AROC, MAP); Wang et al.,
"Towards time-varying music auto-tagging based on CAL500 expansion", ICME 2014 (CAL500exp). The
CNN-on-spectrogram multi-label papers on CAL500 report precision, recall and F1, macro and micro,
hamming loss, (ROC-)AUC, average precision (AP) and one-error; this module gives all of them under
the harness's names (AUC = ``ROC-AUC-*``, AP = ``PR-AUC-*``). Metric definitions: Zhang & Zhou,
"A Review on Multi-Label Learning Algorithms", IEEE TKDE 2014; Tsoumakas et al., "Mining Multi-label
Data", Data Mining and Knowledge Discovery Handbook, 2010.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.errors import BadInputError
from harness.metrics import keys
from harness.metrics.official import OFFICIAL_KEYS, official_scores
from harness.metrics.validate import validate_predictions

__all__ = [
    "CAL500_KEYS",
    "DECISION_ONLY_KEYS",
    "LOWER_IS_BETTER",
    "MULTILABEL_KEYS",
    "MultilabelScores",
    "cal500_scores",
    "one_error",
]

CAL500_KEYS: tuple[str, ...] = keys.keys_of("cal500")[len(OFFICIAL_KEYS) :]
"""The keys the CAL500 set adds to the ten official ones, in output order (from :mod:`harness.metrics.keys`)."""

MULTILABEL_KEYS: tuple[str, ...] = keys.keys_of("cal500")
"""Every key :func:`cal500_scores` can return, in output order."""

DECISION_ONLY_KEYS: frozenset[str] = frozenset(k for k in CAL500_KEYS if keys.get(k).needs_decisions)
"""CAL500 keys computed from decisions (absent when no decisions are given)."""

LOWER_IS_BETTER: frozenset[str] = frozenset(k for k in MULTILABEL_KEYS if not keys.get(k).higher_is_better)
"""Keys where a smaller value is better; every other key is higher-is-better."""

_ITEMS_WITHOUT_TAGS = ("error", "skip")


@dataclass(frozen=True)
class MultilabelScores:
    """The CAL500 metric set for one prediction matrix.

    Attributes:
        values: key -> value in :data:`MULTILABEL_KEYS` order (decision keys only with decisions);
            plain Python floats, never NaN.
        excluded_tags: tags with no positives, left out of the official macro means (not of the
            example-based metrics).
        warnings: human-readable lines: the official ones, then the CAL500 edge cases (items with
            no true tag and how each metric counted them, ties at the top score, a single tag).
        roc_auc_excluded_tags: tags left out of ROC-AUC-macro (no positives or no negatives).
        items_without_tags: how many items have no true tag (counted as one-errors).
        per_tag: the official per-tag values (:func:`~harness.metrics.official.per_tag_scores`).
    """

    values: dict[str, float]
    excluded_tags: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    roc_auc_excluded_tags: tuple[str, ...] = ()
    items_without_tags: int = 0
    per_tag: dict[str, dict[str, float]] = field(default_factory=dict)


def cal500_scores(
    labels: Any,
    scores: Any,
    decisions: Any = None,
    tags: Sequence[str] | None = None,
) -> MultilabelScores:
    """Compute the ten official keys and the CAL500 additions (see the module docstring).

    Args:
        labels: ``(n_items, n_tags)`` bool or 0/1 ground truth.
        scores: ``(n_items, n_tags)`` finite real activations.
        decisions: ``(n_items, n_tags)`` bool or 0/1 decisions, or None for the threshold-free
            keys only (no precision/recall/F-score or ``hamming-loss``).
        tags: column names (default ``tag-0``, ``tag-1``...), used in messages.

    Returns:
        :class:`MultilabelScores`.

    Raises:
        FormatError: malformed inputs (:func:`~harness.metrics.validate.validate_predictions`).
        BadInputError: no tag has both a positive and a negative item (nothing official is
            defined).
    """
    labels, scores, decisions = validate_predictions(labels, scores, decisions)
    official = official_scores(labels, scores, decisions, tags)  # checks the tag names too
    values = dict(official.values)

    if decisions is not None:
        # hamming_loss: float(count_nonzero(y_true - y_pred)) / (n * L * 1.0)
        values["hamming-loss"] = float(np.count_nonzero(labels != decisions)) / (labels.size * 1.0)
    values["one-error"] = _one_error(labels, scores, skip_empty=False)
    values.update(_ranking_metrics(labels, scores))
    _check_no_nan(values)

    lines = list(official.warnings) + _item_warnings(labels, scores)
    return MultilabelScores(
        values=values,
        excluded_tags=official.excluded_tags,
        warnings=tuple(lines),
        roc_auc_excluded_tags=official.roc_auc_excluded_tags,
        items_without_tags=int((~labels.any(axis=1)).sum()),
        per_tag=official.per_tag,
    )


def one_error(labels: Any, scores: Any, *, items_without_tags: str = "error") -> float:
    """The share of items whose top-scored tag is not one of their true tags (tie-averaged).

    For item ``i`` let ``T_i`` be the tags with the item's highest score (usually one). The item
    contributes ``|T_i - Y_i| / |T_i|``: 0 or 1 without ties, the expected error under uniform
    random tie-breaking with them.

    Args:
        labels: ``(n_items, n_tags)`` bool or 0/1 ground truth.
        scores: ``(n_items, n_tags)`` finite real activations.
        items_without_tags: ``"error"`` (default, the value :func:`cal500_scores` reports): an
            item with no true tag is an error and every item is in the mean. ``"skip"``: such items
            are left out of the mean (the convention of definitions that assume every item has a
            tag).

    Raises:
        FormatError: malformed inputs.
        BadInputError: an unknown ``items_without_tags``, or ``"skip"`` with no item having a tag.
    """
    if items_without_tags not in _ITEMS_WITHOUT_TAGS:
        raise BadInputError(
            f"items_without_tags={items_without_tags!r}; expected one of "
            f"{', '.join(repr(x) for x in _ITEMS_WITHOUT_TAGS)}"
        )
    labels, scores, _ = validate_predictions(labels, scores)
    skip = items_without_tags == "skip"
    if skip and not labels.any():
        raise BadInputError(
            f"no item of the {labels.shape[0]} has a true tag, so one-error with "
            "items_without_tags='skip' averages over nothing; use 'error' (every item an error)"
        )
    return _one_error(labels, scores, skip_empty=skip)


def _one_error(labels: np.ndarray, scores: np.ndarray, *, skip_empty: bool) -> float:
    top = scores == scores.max(axis=1, keepdims=True)  # (n, L) bool: T_i
    n_top = top.sum(axis=1)
    n_top_true = (top & labels).sum(axis=1)
    per_item = (n_top - n_top_true) / n_top
    if skip_empty:
        per_item = per_item[labels.any(axis=1)]
    return float(per_item.mean())


def _ranking_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """coverage_error, label_ranking_loss and LRAP as scikit-learn computes them, to the last bit.

    Per item, with ``rank(t)`` the number of tags scored at least ``s(t)`` and ``above(t)`` the
    number of true tags among them (both counts, so exact): coverage is the largest ``rank`` of a
    true tag (0 without one); the mis-ordered pairs are ``sum_t (rank(t) - above(t))`` over the
    true tags, divided by ``|Y| (L - |Y|)`` (0 for an item with no or every tag true); LRAP is the
    mean of ``above(t) / rank(t)`` over the true tags in column order (1 for an item with no or
    every tag true). The means over items are taken as scikit-learn takes them: ``np.average`` for
    coverage and ranking loss, a running sum divided by ``n`` for LRAP.
    """
    n_items, n_tags = labels.shape
    if n_tags == 1:
        # L = 1: scikit-learn refuses the (n, 1) "binary" matrix for two of the three; by the
        # formulas coverage is 1 for a positive item (0 for an empty one, as scikit-learn does),
        # no pair can be mis-ordered, and every item has LRAP 1.
        return {
            "coverage-error": float(labels[:, 0].mean()),
            "ranking-loss": 0.0,
            "LRAP": 1.0,
        }
    coverage = np.zeros(n_items, dtype=np.int64)
    pairs = np.zeros(n_items)
    n_true = labels.sum(axis=1)
    lrap = 0.0
    for i in range(n_items):
        true = np.flatnonzero(labels[i])
        if true.size == 0:
            lrap += 1.0
            continue
        s = scores[i]
        at_least = s[np.newaxis, :] >= s[true][:, np.newaxis]  # (|Y|, L): tags scored >= each true tag
        rank = at_least.sum(axis=1)
        above = at_least[:, true].sum(axis=1)
        coverage[i] = rank.max()
        pairs[i] = (rank - above).sum()
        lrap += 1.0 if true.size == n_tags else (above.astype(np.float64) / rank.astype(np.float64)).mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = pairs / ((n_tags - n_true) * n_true)
    loss[(n_true == 0) | (n_true == n_tags)] = 0.0
    return {
        "coverage-error": float(np.average(coverage)),
        "ranking-loss": float(np.average(loss)),
        "LRAP": float(lrap / n_items),
    }


def _item_warnings(labels: np.ndarray, scores: np.ndarray) -> list[str]:
    lines = []
    n_items, n_tags = labels.shape
    per_item = labels.sum(axis=1)
    n_empty = int((per_item == 0).sum())
    if n_empty:
        lines.append(
            f"{n_empty} of {n_items} items have no true tag: each counts as an error in one-error, "
            "0 in coverage-error, 0 in ranking-loss and 1 in LRAP (scikit-learn's conventions), "
            "and all stay in the means"
        )
    n_full = int((per_item == n_tags).sum()) if n_tags > 1 else 0
    if n_full:
        lines.append(
            f"{n_full} of {n_items} items have every tag true: ranking-loss 0 and LRAP 1 for them "
            "(scikit-learn's convention)"
        )
    if n_tags > 1:
        n_tied = int(((scores == scores.max(axis=1, keepdims=True)).sum(axis=1) > 1).sum())
        if n_tied:
            lines.append(
                f"{n_tied} of {n_items} items have several tags tied at their top score: one-error "
                "counts the share of the tied tags that are not true (random tie-breaking, on "
                "average)"
            )
    else:
        lines.append(
            "a single tag column: coverage-error is the share of positive items, ranking-loss 0 "
            "and LRAP 1 by definition"
        )
    return lines


def _check_no_nan(values: dict[str, float]) -> None:
    nan_keys = [k for k, v in values.items() if not np.isfinite(v)]
    if nan_keys:  # pragma: no cover - every case above is defined; a last line of defence
        raise BadInputError(f"undefined values for {', '.join(nan_keys)}; please report this input")
