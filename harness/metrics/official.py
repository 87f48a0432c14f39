"""The official metric set of the MediaEval 2019 (and 2020) Emotion and Theme Recognition task.

Conventions: see :mod:`harness.metrics.validate` -- ``labels``, ``scores`` and ``decisions`` are
``(n_items, n_tags)`` matrices in the dataset's official row and column order.

Metrics (the keys, in the order the official results TSV lists them):

=================  ==================================================================
ROC-AUC-macro      ``roc_auc_score(labels, scores, average="macro")``
PR-AUC-macro       ``average_precision_score(labels, scores, average="macro")``
precision-macro    ``precision_recall_fscore_support(labels, decisions, average="macro")[0]``
recall-macro       ``...[1]``
F-score-macro      ``...[2]``
ROC-AUC-micro      ``roc_auc_score(labels, scores, average="micro")``
PR-AUC-micro       ``average_precision_score(labels, scores, average="micro")``
precision-micro    ``precision_recall_fscore_support(labels, decisions, average="micro")[0]``
recall-micro       ``...[1]``
F-score-micro      ``...[2]``
=================  ==================================================================

The keys, their directions and their aliases (``F1-macro`` / ``F1-micro`` for the F-scores) are
entries of the metric registry, :mod:`harness.metrics.keys`; the primary metric is the dataset
registry's ``primary_metric`` (PR-AUC-macro for MTG-Jamendo, as the task ranked it).

This is exactly what the task's evaluation script computes (scikit-learn ``sklearn.metrics``,
default arguments otherwise; ``zero_division`` is left at its default, so a tag with no positive
decision has precision 0): ``scripts/mediaeval/evaluate.py`` of the MTG-Jamendo dataset repository,
https://github.com/MTG/mtg-jamendo-dataset/blob/master/scripts/mediaeval/evaluate.py (the 2019
version, ``scripts/mediaeval2019/evaluate.py``, makes the same calls). PR-AUC is scikit-learn's
average precision, the step-wise sum ``sum_n (R_n - R_{n-1}) P_n``, not a trapezoidal area.
Bogdanov et al., "MediaEval 2019: Emotion and Theme Recognition in Music Using Jamendo",
MediaEval 2019 Workshop.

The values are computed by :mod:`harness.metrics.ranking`, which repeats those scikit-learn
functions' floating-point operations in the same order without importing scikit-learn (whose import
alone takes about a second): where every tag has positives and negatives the values equal the
official script bit for bit, and the tests check that with ``==`` against scikit-learn itself and
against the published figures of all 29 MediaEval 2019 runs. Where it does not, the official script would crash
(ROC-AUC) or average in meaningless zeros; here instead:

- tags with **no positives** are named in ``excluded_tags`` and left out of every macro mean (the
  macro keys are the same scikit-learn calls on the remaining columns);
- tags with positives but **no negatives** have no ROC-AUC: they are left out of ROC-AUC-macro only;
- micro keys always use every cell;
- each such case adds a human-readable line to ``warnings``; no value is ever NaN.

One more deliberate difference: scikit-learn reads a one-column indicator matrix as a binary
problem and its ``average="macro"`` precision/recall/F-score then averages the positive and the
negative class. A single (kept) tag is scored as that one tag here (``average="binary"``). The
official script, with its 56 tags, never meets this case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.errors import BadInputError
from harness.metrics import keys, ranking
from harness.metrics.validate import validate_predictions, validate_tags

__all__ = [
    "DECISION_KEYS",
    "OFFICIAL_KEYS",
    "OfficialScores",
    "SCORE_KEYS",
    "official_scores",
    "per_tag_scores",
]

OFFICIAL_KEYS: tuple[str, ...] = keys.keys_of("official")
"""The ten keys, in the row order of the official ``results.tsv`` files (from :mod:`harness.metrics.keys`)."""

SCORE_KEYS: tuple[str, ...] = keys.keys_of("official", decisions=False)
"""The keys computed from scores (threshold-free)."""

DECISION_KEYS: tuple[str, ...] = keys.keys_of("official", decisions=True)
"""The keys computed from binary decisions."""


@dataclass(frozen=True)
class OfficialScores:
    """The official keys for one prediction matrix, with what was left out and why.

    Attributes:
        values: key -> value, in :data:`OFFICIAL_KEYS` order; the decision keys only when decisions
            were given. Plain Python floats, never NaN.
        excluded_tags: tags with no positives in the labels, left out of every macro mean.
        warnings: human-readable lines, e.g. "2 tags have no positives in this split and are left
            out of macro means: calm, sad".
        roc_auc_excluded_tags: every tag left out of ROC-AUC-macro: those of ``excluded_tags`` and
            those with no negatives (every item positive).
        per_tag: the per-tag values the macro means average (see :func:`per_tag_scores`).
    """

    values: dict[str, float]
    excluded_tags: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    roc_auc_excluded_tags: tuple[str, ...] = field(default=())
    per_tag: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Columns:
    """Which columns each family of metrics may use."""

    tags: tuple[str, ...]
    has_positive: np.ndarray  # (n_tags,) bool: kept in macro means
    has_both: np.ndarray  # (n_tags,) bool: kept in ROC-AUC-macro

    @property
    def no_positive(self) -> tuple[str, ...]:
        return tuple(t for t, keep in zip(self.tags, self.has_positive) if not keep)

    @property
    def no_negative(self) -> tuple[str, ...]:
        return tuple(t for t, pos, both in zip(self.tags, self.has_positive, self.has_both) if pos and not both)

    @property
    def not_in_roc(self) -> tuple[str, ...]:
        return tuple(t for t, keep in zip(self.tags, self.has_both) if not keep)


def official_scores(
    labels: Any,
    scores: Any,
    decisions: Any = None,
    tags: Sequence[str] | None = None,
) -> OfficialScores:
    """Compute the official MediaEval keys (see the module docstring for the exact calls).

    Args:
        labels: ``(n_items, n_tags)`` bool or 0/1 ground truth.
        scores: ``(n_items, n_tags)`` finite real activations.
        decisions: optional ``(n_items, n_tags)`` bool or 0/1 decisions; without them only
            :data:`SCORE_KEYS` are computed.
        tags: the column names (default ``tag-0``, ``tag-1``...), used in ``excluded_tags`` and
            ``warnings``.

    Returns:
        :class:`OfficialScores`.

    Raises:
        FormatError: malformed inputs (see :func:`~harness.metrics.validate.validate_predictions`).
        BadInputError: no tag has both a positive and a negative item, so nothing is defined.
    """
    labels, scores, decisions = validate_predictions(labels, scores, decisions)
    cols = _columns(labels, tags)
    per_tag = _per_tag_arrays(labels, scores, decisions, cols)
    keep, roc_keep = cols.has_positive, cols.has_both

    # scikit-learn's macro average is np.average over the per-column values; nanmean for P/R/F
    values: dict[str, float] = {
        "ROC-AUC-macro": float(np.average(per_tag["ROC-AUC"][roc_keep])),
        "PR-AUC-macro": float(np.average(per_tag["PR-AUC"][keep])),
    }
    if decisions is not None:
        for name in ("precision", "recall", "F-score"):
            values[f"{name}-macro"] = float(np.nanmean(per_tag[name][keep]))
    values["PR-AUC-micro"], values["ROC-AUC-micro"] = ranking.average_precision_and_roc_auc(
        labels.ravel(), scores.ravel()
    )
    if decisions is not None:
        tp, fp, fn = _counts(labels, decisions)
        micro = ranking.precision_recall_f1(tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True))
        for name, value in zip(("precision", "recall", "F-score"), micro):
            values[f"{name}-micro"] = float(value[0])
    values = {key: values[key] for key in OFFICIAL_KEYS if key in values}

    _check_no_nan(values)
    return OfficialScores(
        values=values,
        excluded_tags=cols.no_positive,
        warnings=_warnings_for(cols, decisions),
        roc_auc_excluded_tags=cols.not_in_roc,
        per_tag=_per_tag_dict(per_tag, cols, decisions is not None),
    )


def per_tag_scores(
    labels: Any,
    scores: Any,
    decisions: Any = None,
    tags: Sequence[str] | None = None,
) -> dict[str, dict[str, float]]:
    """Per-tag values of the official metrics: the columns that the macro means average.

    Returns:
        ``tag -> {"ROC-AUC", "PR-AUC"}`` plus ``"precision", "recall", "F-score"`` when decisions
        are given, in column order. Tags with no positives are omitted; a tag with no negatives has
        no ``"ROC-AUC"`` entry. Each value is the scikit-learn call of :func:`official_scores` on
        that column, so the mean over tags of each entry equals the macro key.

    Raises:
        FormatError, BadInputError: as :func:`official_scores`.
    """
    return official_scores(labels, scores, decisions, tags).per_tag


def _per_tag_dict(per_tag: dict[str, np.ndarray], cols: _Columns, has_decisions: bool) -> dict[str, dict[str, float]]:
    result: dict[str, dict[str, float]] = {}
    for j in np.flatnonzero(cols.has_positive):
        entry: dict[str, float] = {}
        if cols.has_both[j]:
            entry["ROC-AUC"] = float(per_tag["ROC-AUC"][j])
        entry["PR-AUC"] = float(per_tag["PR-AUC"][j])
        if has_decisions:
            for name in ("precision", "recall", "F-score"):
                entry[name] = float(per_tag[name][j])
        result[cols.tags[j]] = entry
    return result


def _per_tag_arrays(
    labels: np.ndarray, scores: np.ndarray, decisions: np.ndarray | None, cols: _Columns
) -> dict[str, np.ndarray]:
    """Every tag's ROC-AUC, PR-AUC (and precision, recall, F-score); NaN where not defined."""
    n_tags = labels.shape[1]
    roc = np.full(n_tags, np.nan)
    pr = np.full(n_tags, np.nan)
    for j in np.flatnonzero(cols.has_positive):
        pr[j], roc[j] = ranking.average_precision_and_roc_auc(labels[:, j], scores[:, j])  # NaN: no negatives
    out = {"ROC-AUC": roc, "PR-AUC": pr}
    if decisions is not None:
        out.update(zip(("precision", "recall", "F-score"), ranking.precision_recall_f1(*_counts(labels, decisions))))
    return out


def _counts(labels: np.ndarray, decisions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-tag true positives, false positives and false negatives (int64)."""
    tp = np.count_nonzero(labels & decisions, axis=0)
    fp = np.count_nonzero(~labels & decisions, axis=0)
    fn = np.count_nonzero(labels & ~decisions, axis=0)
    return tp.astype(np.int64), fp.astype(np.int64), fn.astype(np.int64)


def _columns(labels: np.ndarray, tags: Sequence[str] | None) -> _Columns:
    names = validate_tags(tags, labels.shape[1])
    positives = labels.sum(axis=0)
    has_positive = positives > 0
    has_both = has_positive & (positives < labels.shape[0])
    if not has_both.any():
        raise BadInputError(
            f"no tag of the {labels.shape[1]} has both positive and negative items in these "
            f"{labels.shape[0]} labels ({int(has_positive.sum())} tags all positive, the rest all "
            "negative): no official metric is defined. Wrong split, or labels not binarised?"
        )
    return _Columns(names, has_positive, has_both)


def _warnings_for(cols: _Columns, decisions: np.ndarray | None) -> tuple[str, ...]:
    lines = []
    if cols.no_positive:
        n = len(cols.no_positive)
        lines.append(
            f"{n} tag{'s have' if n > 1 else ' has'} no positives in this split and "
            f"{'are' if n > 1 else 'is'} left out of macro means: {', '.join(cols.no_positive)}"
        )
    if cols.no_negative:
        n = len(cols.no_negative)
        lines.append(
            f"{n} tag{'s have' if n > 1 else ' has'} no negatives in this split (every item "
            f"positive), so no ROC-AUC, and {'are' if n > 1 else 'is'} left out of ROC-AUC-macro: "
            f"{', '.join(cols.no_negative)}"
        )
    if decisions is not None:
        silent = [
            t for t, keep, any_pos in zip(cols.tags, cols.has_positive, decisions.any(axis=0)) if keep and not any_pos
        ]
        if silent:
            n = len(silent)
            lines.append(
                f"{n} tag{'s have' if n > 1 else ' has'} no positive decisions; "
                f"{'their' if n > 1 else 'its'} precision counts as 0 in precision-macro, as in "
                f"the official script: {', '.join(silent)}"
            )
        if not decisions.any():
            lines.append("no positive decisions at all: precision-micro counts as 0")
    return tuple(lines)


def _check_no_nan(values: dict[str, float]) -> None:
    nan_keys = [k for k, v in values.items() if not np.isfinite(v)]
    if nan_keys:  # pragma: no cover - guarded by _columns; kept as a last line of defence
        raise BadInputError(f"undefined values for {', '.join(nan_keys)}; please report this input")
