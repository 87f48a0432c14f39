"""The values of the pages, formatted: table cells, badges, intervals, plain text.

Every value is formatted here and every string stays raw: jinja2 escapes it in the templates.
A cell is a dict the ``metric_td`` macro places: ``text`` (shown), ``value`` (what sorting
reads, the unrounded ``repr``), ``raw`` (the number), ``primary``, ``missing``, ``note`` (an
interval or ``± std`` beneath), ``note_title`` and ``title`` (tooltips).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from harness.leaderboard.boards import Column
from harness.leaderboard.grouping import SeedSummary
from harness.metrics.folds import FoldSummary
from harness.results.store import RunRecord

SCORE_DECIMALS = 4
BADGE_TEST_THRESHOLDS = "thresholds fitted on test"
BADGE_GIVEN_DECISIONS = "decisions as submitted"
BADGE_EXTERNAL_DATA = "external data"


def cell(
    column: Column, value: float | None, primary: bool, interval: dict[str, float] | None = None
) -> dict[str, Any]:
    """A metric cell of ``column``, with the recorded bootstrap interval beneath when given."""
    note, note_title = "", ""
    if interval is not None and value is not None:
        note = f"{column.format(interval['low'])}–{column.format(interval['high'])}"
        confidence = interval.get("confidence", 0.95)
        note_title = f"{round(100 * confidence)}% bootstrap interval"
        if interval.get("replicates"):
            note_title += f" ({int(interval['replicates'])} replicates)"
    return {
        "text": column.format(value),
        "value": "" if value is None else repr(value),
        "raw": value,
        "primary": primary,
        "missing": value is None,
        "note": note,
        "note_title": note_title,
        "title": "" if value is None else repr(value),
    }


def fold_cell(column: Column, summary: FoldSummary, primary: bool) -> dict[str, Any]:
    """The mean over folds, with ``± std`` beneath, or a tooltip naming the folds that lack it."""
    mean = summary.mean.get(column.key)
    found = cell(column, mean, primary)
    if mean is not None and column.key in summary.std:
        found["note"] = f"± {column.format(summary.std[column.key])}"
        found["note_title"] = f"sample standard deviation over {summary.n_folds} folds"
    elif column.key in summary.missing:
        found["title"] = f"missing in {len(summary.missing[column.key])} of {summary.n_folds} folds"
    return found


def seed_cell(column: Column, summary: SeedSummary, primary: bool, k_fold: bool) -> dict[str, Any]:
    """``mean ± std`` over seeds; the mean alone for one seed; a dash where a seed lacks it."""
    mean = summary.mean.get(column.key)
    found = cell(column, mean, primary)
    of = " of the means over folds" if k_fold else ""
    if mean is not None and column.key in summary.std:
        std = summary.std[column.key]
        found["text"] = f"{column.format(mean)} ± {column.format(std)}"
        found["title"] = (
            f"mean{of} ± sample standard deviation (ddof = 1) over {summary.n_seeds} seeds: {mean!r} ± {std!r}"
        )
    elif mean is not None:
        found["title"] = f"one {'seed' if summary.seeds[0] is not None else 'run'}: no standard deviation ({mean!r})"
    elif column.key in summary.missing:
        lacking = summary.missing[column.key]
        found["title"] = (
            f"missing for {len(lacking)} of {summary.n_seeds} seeds ("
            + ", ".join("—" if s is None else str(s) for s in lacking)
            + ")"
        )
    return found


def plain_cell(value: float | None) -> dict[str, Any]:
    """A value without a column (a run page's scores, a per-tag metric): four decimals."""
    if value is None:
        return {"text": "—", "value": "", "missing": True, "full": ""}
    return {"text": f"{value:.{SCORE_DECIMALS}f}", "value": repr(value), "missing": False, "full": repr(value)}


def plain(value: Any) -> str:
    """Any recorded value as text: a dash for none, yes/no, a list joined, else JSON."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        return ", ".join(plain(v) for v in value) or "—"
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def short_tag(tag: str) -> str:
    """``happy`` for ``mood/theme---happy``; other names as they are."""
    return tag.rsplit("---", 1)[-1] or tag


def interval(run: RunRecord, key: str) -> dict[str, float] | None:
    """The recorded interval of ``key``: its finite numbers (low and high at least), else None."""
    intervals = run.provenance.get("intervals")
    if not isinstance(intervals, Mapping):
        return None
    found = intervals.get(key)
    if not isinstance(found, Mapping):
        return None
    numbers = {k: v for k, v in found.items() if _is_finite_number(v)}
    if "low" not in numbers or "high" not in numbers:
        return None
    if not 0 < numbers.get("confidence", 0.95) < 1:  # a share, shown as a percentage
        del numbers["confidence"]
    return numbers


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def flags(run: RunRecord) -> list[str]:
    """The run's fold warnings (provenance ``flags``), as a list of texts whatever was recorded."""
    found = run.provenance.get("flags")
    if found is None or isinstance(found, bool) or (isinstance(found, (str, list, tuple, Mapping)) and not found):
        return []  # none recorded: nothing, a yes/no, an empty list or text
    if isinstance(found, (list, tuple)):
        return [str(flag) for flag in found]
    return [str(found)]  # one flag recorded bare (a string, a number): shown as it is


def badges(run: RunRecord) -> list[dict[str, str]]:
    """The run's badges: thresholds fitted on test or decisions as submitted, external data, each fold warning."""
    found = []
    if run.thresholds_source == "test":
        found.append(
            {
                "kind": "warn",
                "text": BADGE_TEST_THRESHOLDS,
                "title": "Legacy: decision thresholds were fitted on the test labels, "
                "which flatters the F-scores; not comparable with "
                "validation-fitted thresholds.",
            }
        )
    elif run.thresholds_source == "given":
        found.append(
            {
                "kind": "info",
                "text": BADGE_GIVEN_DECISIONS,
                "title": "The F-scores are of the decisions submitted with the run; they are not thresholds "
                "fitted on the test labels, and how they were made is not recorded.",
            }
        )
    if run.external_data:
        found.append(external_data_badge())
    for flag in flags(run):  # fold warnings, e.g. a leaky fold set
        found.append({"kind": "warn", "text": str(flag).split(":", 1)[0], "title": str(flag)})
    return found


def external_data_badge() -> dict[str, str]:
    """The "external data" badge of a run, or of a published reference row, trained beyond the split."""
    return {
        "kind": "info",
        "text": BADGE_EXTERNAL_DATA,
        "title": "Trained with data beyond this dataset's training split.",
    }


def merged_badges(runs: list[RunRecord]) -> list[dict[str, str]]:
    """The badges of any of the runs, each once."""
    seen, found = set(), []
    for run in runs:
        for badge in badges(run):
            if badge["text"] not in seen:
                seen.add(badge["text"])
                found.append(badge)
    return found
