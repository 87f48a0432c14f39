"""Precision-recall curves for run pages, from the predictions and labels in the results store."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.metrics.ranking import precision_recall_curve

MAX_POINTS = 200


def pr_curve(store: Any, run: Any, max_points: int = MAX_POINTS) -> list[tuple[float, float]] | None:
    """(recall, precision) of the run's micro-averaged precision-recall curve, at most ``max_points``.

    Micro-averaged: every (item, tag) cell is one decision, as in PR-AUC-micro. None when the store
    holds no predictions (or no labels) for the run.
    """
    predictions = store.predictions(run.run_id)
    found = store.split_labels(run.fingerprint)
    if predictions is None or found is None:
        return None
    labels = found[2]
    if labels.shape != predictions.shape or not labels.any():
        return None
    precision, recall, _ = precision_recall_curve(labels.ravel().astype(bool), predictions.ravel())
    keep = np.unique(np.linspace(0, len(recall) - 1, min(max_points, len(recall))).round().astype(int))
    return [(float(recall[i]), float(precision[i])) for i in keep]
