"""The view model of a run's page (``runs/<slug>.html``, drawn by ``templates/run.html``).

Badges, scores with their intervals, per-tag table and chart, precision-recall curve,
provenance as a readable table, identity and config. A part of the page that the run's recorded
values defeat (an odd but readable value) is left out with a warning naming the run; the page
and the boards are still built.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from harness.errors import HarnessError
from harness.leaderboard.boards import Board
from harness.leaderboard.cells import SCORE_DECIMALS, badges, flags, interval, plain, plain_cell, short_tag
from harness.leaderboard.charts import bar_chart, pr_curve_chart
from harness.leaderboard.checked_store import CheckedStore
from harness.leaderboard.pages import run_href
from harness.metrics import keys
from harness.provenance import config_hash
from harness.results.store import RunRecord

# Per-tag metrics shown first and in this order when present; any others follow.
_THRESHOLD_NOTES = {
    "test": " (legacy: fitted on the test labels)",
    "given": " (decisions as submitted; not thresholds fitted on the test labels)",
}
TAG_METRIC_ORDER = keys.keys_of("per-tag")  # the per-tag table's columns, in the registry's order
# What drawing a part of a run page from odd (but readable) recorded values may raise.
DRAWING_ERRORS = (HarnessError, ArithmeticError, LookupError, TypeError, ValueError, AttributeError)


def run_view(
    store: CheckedStore,
    run: RunRecord,
    boards: list[Board],
    groups: list[dict[str, Any]],
    seed_groups: list[dict[str, Any]],
    comparisons: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The page of ``run``, shown on ``boards``; ``groups`` are the k-fold rows it is a fold of
    (``href``, ``board``, ``seed``), ``seed_groups`` the configurations of several seeds it is
    one seed of (``href``, ``board``, ``n``), ``comparisons`` its paired bootstrap comparisons on
    each board (``board``, ``comparisons``: :attr:`harness.leaderboard.rank_intervals.BoardRanks.comparisons`)."""
    identity = [
        ("Run id", run.run_id, True),
        ("Submission", run.submission, False),
        ("Team", run.team, False),
        ("Run name", run.run_name, False),
        ("Dataset", run.dataset, False),
        ("Fold / split", f"{run.fold} / {run.split}", False),
        ("Seed", "—" if run.seed is None else str(run.seed), False),
        ("Created", run.created, False),
        (
            "Thresholds from",
            run.thresholds_source + _THRESHOLD_NOTES.get(run.thresholds_source, ""),
            False,
        ),
        ("External data", "yes" if run.external_data else "no", False),
    ]
    identity += [("Flag", flag, False) for flag in flags(run)]
    if run.run_dir:
        identity.append(("Run directory", run.run_dir, True))

    tag_metrics: list[str] = [m for m in TAG_METRIC_ORDER if any(m in ms for ms in run.tag_scores.values())]
    for metrics in run.tag_scores.values():
        tag_metrics += [m for m in metrics if m not in tag_metrics]
    tag_rows = [
        {
            "tag": tag,
            "short": short_tag(tag),
            "cells": [plain_cell(metrics.get(m)) for m in tag_metrics],
        }
        for tag, metrics in run.tag_scores.items()
    ]

    scores = []
    for metric, value in run.scores.items():
        found = interval(run, metric)
        scores.append(
            {
                "metric": metric,
                **plain_cell(value),
                "interval": (f"{found['low']:.{SCORE_DECIMALS}f}–{found['high']:.{SCORE_DECIMALS}f}") if found else "",
            }
        )
    return {
        "record": run,
        "badges": badges(run),
        "boards": [{"title": b.title, "href": b.page_name} for b in boards],
        "groups": groups,
        "seed_groups": seed_groups,
        "scores": scores,
        "has_intervals": any(s["interval"] for s in scores),
        "identity": identity,
        "provenance": drawn(store, run, "provenance table", provenance_rows, []),
        "config": json.dumps(run.config, indent=2, sort_keys=True, ensure_ascii=False),
        "tag_metrics": tag_metrics,
        "tag_rows": tag_rows,
        "bars": drawn(store, run, "per-tag chart", bar_chart, None),
        "curve": drawn(store, run, "precision-recall curve", lambda r: pr_curve_chart(store, r), None),
        "paired": [paired_view(found["board"], found["comparisons"]) for found in comparisons or []],
    }


def paired_view(board: Board, comparisons: list[dict[str, Any]]) -> dict[str, Any]:
    """This run minus each compared run on ``board``'s primary metric: difference, 95% interval, p-value."""
    decimals = SCORE_DECIMALS
    return {
        "board": board.title,
        "href": board.page_name,
        "metric": board.primary,
        "rows": [
            {
                "relation": found["relation"],
                "href": run_href(found["run"].run_id),
                "other": f"{found['run'].submission} / {found['run'].run_name}",
                "difference": found["difference"],
                "p_value": found["p_value"],
                "difference_text": f"{found['difference']:+.{decimals}f}",
                "interval": f"{found['low']:+.{decimals}f} to {found['high']:+.{decimals}f}",
                "p_text": p_text(found["p_value"], found["replicates"]),
                "significant": found["p_value"] < 0.05,
            }
            for found in comparisons
        ],
    }


def p_text(p_value: float, replicates: int) -> str:
    """A p-value as shown: three decimals, or ``< 2/(m+1)`` at the smallest the bootstrap can give."""
    smallest = 2.0 / (replicates + 1)
    if p_value <= smallest:
        return f"≤ {smallest:.3f}"
    return f"{p_value:.3f}"


def drawn(store: CheckedStore, run: RunRecord, part: str, draw: Callable[[RunRecord], Any], default: Any) -> Any:
    """``draw(run)``, or ``default`` with a warning naming the run when its recorded values defeat it."""
    try:
        return draw(run)
    except DRAWING_ERRORS as exc:
        message = exc.message if isinstance(exc, HarnessError) else f"{type(exc).__name__}: {exc}"
        store.warn(f"run {run.run_id!r}: its page has no {part} ({message})")
        return default


# -- provenance, readably ---------------------------------------------------------------------

_PROVENANCE_SHOWN_ELSEWHERE = frozenset({"intervals", "flags"})
_PROVENANCE_LABELS = {
    "scored_at": "Scored at",
    "predictions": "Predictions file",
    "predictions_sha256": "Predictions SHA-256",
    "decisions_from": "Decisions from",
    "best_epoch": "Best epoch",
    "epochs_run": "Epochs run",
    "precision": "Precision",
    "platform": "Platform",
    "bootstrap": "Bootstrap",
}
_MONO_KEYS = frozenset({"predictions", "predictions_sha256", "decisions_from", "platform"})


def provenance_rows(run: RunRecord) -> list[dict[str, Any]]:
    """(label, value) rows: code version, config, data, libraries, device, duration, rest."""
    p = dict(run.provenance)
    rows: list[dict[str, Any]] = []

    def add(label: str, value: str, mono: bool = False, items: list | None = None, warn: bool = False) -> None:
        rows.append({"label": label, "value": value, "mono": mono, "pairs": items or [], "warn": warn})

    if "git_commit" in p or "git_dirty" in p:
        commit, dirty = p.pop("git_commit", None), p.pop("git_dirty", None)
        state = {True: "dirty: uncommitted changes", False: "clean"}.get(dirty, "state unknown")
        add("Git commit", f"{commit or 'unknown'} ({state})", mono=True, warn=dirty is True)
    if "config_hash" in p:
        add("Config hash", plain(p.pop("config_hash")), mono=True)
    elif run.config:
        add("Config hash", config_hash(run.config), mono=True)
    add("Split fingerprint", run.fingerprint, mono=True)
    if run.seed is not None:
        add("Seed", str(run.seed))
    for key in ("libraries", "versions"):
        libraries = p.pop(key, None)
        if isinstance(libraries, Mapping):
            add("Library versions", "", items=[(str(k), plain(v)) for k, v in libraries.items()])
        elif libraries is not None:
            add("Library versions", plain(libraries))
    if "device" in p:
        add("Device", plain(p.pop("device")))
    if "duration_s" in p:
        add("Duration", duration(p.pop("duration_s")))
    for key in sorted(p):
        if key in _PROVENANCE_SHOWN_ELSEWHERE:
            continue
        value = p[key]
        label = _PROVENANCE_LABELS.get(key, key.replace("_", " ").capitalize())
        if isinstance(value, Mapping) and all(not isinstance(v, (dict, list)) for v in value.values()):
            add(label, "", items=[(str(k), plain(v)) for k, v in value.items()])
        else:
            add(label, plain(value), mono=key in _MONO_KEYS)
    return rows


def duration(value: Any) -> str:
    """Seconds as ``12.3 s``, ``4 min 05 s`` or ``1 h 02 min``; anything else as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return plain(value)
    seconds = float(value)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
