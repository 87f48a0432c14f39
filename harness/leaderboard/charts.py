"""The charts of a run page: geometry here, drawing (inline SVG) in ``templates/run.html``.

- :func:`bar_chart`: the per-tag PR-AUC as horizontal bars, best first;
- :func:`pr_curve_chart`: the micro-averaged precision-recall curve, from the predictions and
  labels in the results store (:func:`pr_curve`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from harness.leaderboard.cells import SCORE_DECIMALS, short_tag
from harness.leaderboard.pages import short_hash
from harness.metrics.ranking import precision_recall_curve
from harness.results.store import RunRecord

CHART_METRIC = "PR-AUC"  # the per-tag metric of the bar chart
CHART_LABEL_CHARS = 24
MAX_POINTS = 200  # of a precision-recall curve


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


def bar_chart(run: RunRecord) -> dict[str, Any] | None:
    """Per-tag PR-AUC as horizontal bars, best first, on a 0..1 axis; None without per-tag PR-AUC."""
    values = [(tag, m[CHART_METRIC]) for tag, m in run.tag_scores.items() if CHART_METRIC in m]
    if not values:
        return None
    values.sort(key=lambda tv: (-tv[1], tv[0]))
    label_w, plot_w, right, top, bar_h, gap, bottom = 150, 440, 56, 26, 13, 4, 46
    # The axis ends at the first tenth above the best tag (PR-AUC of mood tags is often < 0.5).
    axis_max = min(1.0, max(0.1, math.ceil(round(values[0][1] * 10, 6)) / 10))
    step = 0.1 if axis_max <= 0.6 else 0.2
    n_ticks = round(axis_max / step)
    axis_max = n_ticks * step
    height = top + len(values) * (bar_h + gap) + bottom
    bars = []
    for i, (tag, value) in enumerate(values):
        short = short_tag(tag)
        if len(short) > CHART_LABEL_CHARS:
            short = short[: CHART_LABEL_CHARS - 1] + "…"
        y = top + i * (bar_h + gap)
        width = round(min(max(value, 0.0), axis_max) / axis_max * plot_w, 2)
        bars.append(
            {
                "tag": tag,
                "label": short,
                "value": f"{value:.{SCORE_DECIMALS}f}",
                "x": label_w,
                "y": y,
                "w": width,
                "h": bar_h,
                "text_y": y + bar_h - 2.5,
                "value_x": label_w + width + 4,
            }
        )
    axis_y = top + len(values) * (bar_h + gap) + 2
    ticks = [{"x": round(label_w + t * plot_w / n_ticks, 2), "label": f"{t * step:.1f}"} for t in range(n_ticks + 1)]
    mean = run.scores.get(f"{CHART_METRIC}-macro")
    mean_line = None
    if mean is not None and 0 <= mean <= axis_max:
        mean_line = {
            "x": round(label_w + mean / axis_max * plot_w, 2),
            "label": f"macro mean {mean:.{SCORE_DECIMALS}f}",
        }
    return {
        "width": label_w + plot_w + right,
        "height": height,
        "bars": bars,
        "ticks": ticks,
        "left": label_w,
        "plot_w": plot_w,
        "top": top,
        "axis_y": axis_y,
        "axis_label_x": label_w + plot_w / 2,
        "axis_label_y": axis_y + 34,
        "mean": mean_line,
        "metric": CHART_METRIC,
        "n": len(bars),
        "id": "bars-" + short_hash(run.run_id)[:8],
    }


def pr_curve_chart(store: Any, run: RunRecord) -> dict[str, Any] | None:
    """The micro-averaged precision-recall curve (:func:`pr_curve`) on a square 0..1 plot; None
    without predictions or labels in the store, or without a finite point."""
    points = pr_curve(store, run)
    if not points:
        return None
    left, top, size, bottom, right = 56, 16, 300, 48, 20
    xy = []
    for recall, precision in points:
        if not (math.isfinite(recall) and math.isfinite(precision)):
            continue
        x = left + min(max(recall, 0.0), 1.0) * size
        y = top + (1.0 - min(max(precision, 0.0), 1.0)) * size
        xy.append(f"{x:.1f},{y:.1f}")
    if not xy:
        return None
    ticks = [{"value": f"{t / 5:.1f}", "x": left + t * size / 5, "y": top + size - t * size / 5} for t in range(6)]
    auc = run.scores.get("PR-AUC-micro")
    return {
        "width": left + size + right,
        "height": top + size + bottom,
        "left": left,
        "top": top,
        "size": size,
        "right_x": left + size,
        "bottom_y": top + size,
        "points": " ".join(xy),
        "ticks": ticks,
        "n": len(xy),
        "auc": "" if auc is None else f"{auc:.{SCORE_DECIMALS}f}",
        "id": "pr-" + short_hash(run.run_id)[:8],
    }
