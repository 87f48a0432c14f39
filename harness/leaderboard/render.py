"""Render the static leaderboard site from the results store.

The site is self-contained: plain HTML with one inline stylesheet and a small inline script for
click-to-sort, no external URL anywhere, readable from ``file://``::

    index.html              every board: title, dataset, fold and split, number of runs, leader
    <board>.html            the board's runs ranked by its primary metric
    runs/<slug>.html        one run: badges, scores, per-tag scores, provenance, config

Pages are rendered with jinja2 from ``templates/`` beside this module with autoescaping on for
every template, so team, run, submission and tag names always show as text. Values are
formatted here, the templates only lay them out. Output is deterministic (no build time in it):
building twice from the same store gives the same bytes. Every file is written atomically.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from harness import __version__, atomic
from harness.leaderboard.boards import Board, Column
from harness.results.store import ResultsStore, RunRecord

TEMPLATES = Path(__file__).resolve().parent / "templates"
RUNS_DIR = "runs"
MAX_SLUG = 80
# Per-tag metrics shown first and in this order when present; any others follow.
TAG_METRIC_ORDER = ("ROC-AUC", "PR-AUC", "precision", "recall", "F-score")
SCORE_DECIMALS = 4
BADGE_TEST_THRESHOLDS = "thresholds fitted on test"
BADGE_EXTERNAL_DATA = "external data"


@dataclass(frozen=True)
class RankedRun:
    """A run's place on a board: ``rank`` is None when it lacks the primary metric."""

    rank: int | None
    run: RunRecord


def rank_runs(board: Board, runs: Iterable[RunRecord]) -> list[RankedRun]:
    """Runs ranked by the board's primary metric, best first, in its column's direction.

    Equal values share a rank (1, 2, 2, 4); among equals the earlier run comes first. Runs
    without the primary metric come last, unranked.
    """
    key, sign = board.primary, (-1.0 if board.primary_column.higher_is_better else 1.0)
    scored = [r for r in runs if key in r.scores]
    unscored = [r for r in runs if key not in r.scores]
    scored.sort(key=lambda r: (sign * r.scores[key], r.created, r.run_id))
    unscored.sort(key=lambda r: (r.created, r.run_id))
    ranked, rank = [], 0
    for i, run in enumerate(scored):
        if i == 0 or run.scores[key] != scored[i - 1].scores[key]:
            rank = i + 1
        ranked.append(RankedRun(rank, run))
    return ranked + [RankedRun(None, r) for r in unscored]


def run_page_name(run_id: str) -> str:
    """A file name for the run's page, safe on any file system and unique per run id.

    Ids made only of lower-case letters, digits, '.', '_' and '-' are kept as they are; any
    other id is slugged and given a short hash of the id, so distinct ids never collide.
    """
    slug = re.sub(r"[^a-z0-9._-]+", "-", run_id.lower()).strip(".-_")[:MAX_SLUG] or "run"
    if slug != run_id:
        slug = f"{slug}-{hashlib.sha256(run_id.encode('utf-8')).hexdigest()[:10]}"
    return f"{slug}.html"


def build_site(store: ResultsStore, boards: list[Board], out_dir: Path) -> list[Path]:
    """Render ``index.html``, one page per board and one per run shown; return the paths written.

    Only runs that appear on a board get a page. Files left in ``out_dir`` by earlier builds are
    not removed.
    """
    out_dir = Path(out_dir)
    env = _environment()
    site = {"version": __version__}
    written: list[Path] = []

    board_views, runs_by_id, boards_of_run = [], {}, {}
    for board in boards:
        ranked = rank_runs(board, store.list_runs(board.dataset, board.fold, board.split))
        board_views.append(_board_view(board, ranked))
        for entry in ranked:
            runs_by_id[entry.run.run_id] = entry.run
            boards_of_run.setdefault(entry.run.run_id, []).append(board)

    def write(relative: str, template: str, **context: Any) -> None:
        path = out_dir / relative
        html = env.get_template(template).render(site=site, **context)
        atomic.write_text(path, html)
        written.append(path)

    write("index.html", "index.html", boards=board_views, root="",
          total_runs=len(runs_by_id))
    for view in board_views:
        write(view["page"], "board.html", board=view, root="")
    for run_id in sorted(runs_by_id):
        run = runs_by_id[run_id]
        write(f"{RUNS_DIR}/{run_page_name(run_id)}", "run.html", root="../",
              run=_run_view(run, boards_of_run[run_id]))
    return written


# -- view models: every value formatted, every string still raw (jinja2 escapes it) ----------


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _board_view(board: Board, ranked: list[RankedRun]) -> dict[str, Any]:
    primary = board.primary_column
    rows = []
    for entry in ranked:
        run = entry.run
        rows.append({
            "rank": entry.rank,
            "run": run,
            "href": f"{RUNS_DIR}/{run_page_name(run.run_id)}",
            "badges": _badges(run),
            "cells": [_cell(column, run.scores.get(column.key), column.key == board.primary)
                      for column in board.columns],
            "date": run.created[:10],
            "fingerprint": run.fingerprint[:8],
        })
    leader = rows[0] if rows and rows[0]["rank"] is not None else None
    fingerprints = sorted({entry.run.fingerprint for entry in ranked})
    return {
        "board": board,
        "page": board.page_name,
        "columns": [{"column": c, "primary": c.key == board.primary,
                     "first": "desc" if c.higher_is_better else "asc"} for c in board.columns],
        "rows": rows,
        "leader": leader,
        "leader_value": primary.format(leader["run"].scores[board.primary]) if leader else "",
        "primary": primary,
        "fingerprints": fingerprints,
        "make_run": _make_run_command(board),
    }


def _cell(column: Column, value: float | None, primary: bool) -> dict[str, Any]:
    return {"text": column.format(value), "value": "" if value is None else repr(value),
            "primary": primary, "missing": value is None}


def _badges(run: RunRecord) -> list[dict[str, str]]:
    badges = []
    if run.thresholds_source == "test":
        badges.append({"kind": "warn", "text": BADGE_TEST_THRESHOLDS,
                       "title": "Decision thresholds were fitted on the test labels, which "
                                "flatters the F-scores; not comparable with validation-fitted "
                                "thresholds."})
    if run.external_data:
        badges.append({"kind": "info", "text": BADGE_EXTERNAL_DATA,
                       "title": "Trained with data beyond this dataset's training split."})
    for flag in run.provenance.get("flags", []):  # fold warnings, e.g. a leaky fold set
        badges.append({"kind": "warn", "text": str(flag).split(":", 1)[0], "title": str(flag)})
    return badges


def _make_run_command(board: Board) -> str:
    return f"harness run submissions/vgg6 --dataset {board.dataset} --fold {board.fold}"


def _run_view(run: RunRecord, boards: list[Board]) -> dict[str, Any]:
    identity = [
        ("Run id", run.run_id),
        ("Dataset", run.dataset),
        ("Fold", run.fold),
        ("Split", run.split),
        ("Submission", run.submission),
        ("Team", run.team),
        ("Run name", run.run_name),
        ("Seed", "—" if run.seed is None else str(run.seed)),
        ("Created", run.created),
        ("Thresholds from", run.thresholds_source),
        ("External data", "yes" if run.external_data else "no"),
        ("Fingerprint", run.fingerprint),
    ]
    identity += [("Flag", str(flag)) for flag in run.provenance.get("flags", [])]
    if run.run_dir:
        identity.append(("Run directory", run.run_dir))
    provenance = [(key, _plain(value)) for key, value in run.provenance.items()]

    tag_metrics: list[str] = [m for m in TAG_METRIC_ORDER
                              if any(m in ms for ms in run.tag_scores.values())]
    for metrics in run.tag_scores.values():
        tag_metrics += [m for m in metrics if m not in tag_metrics]
    tag_rows = [{
        "tag": tag,
        "short": tag.rsplit("---", 1)[-1],
        "cells": [_plain_cell(metrics.get(m)) for m in tag_metrics],
    } for tag, metrics in run.tag_scores.items()]

    return {
        "record": run,
        "badges": _badges(run),
        "boards": [{"title": b.title, "href": b.page_name} for b in boards],
        "scores": [{"metric": m, **_plain_cell(v)} for m, v in run.scores.items()],
        "identity": identity,
        "provenance": provenance,
        "config": json.dumps(run.config, indent=2, sort_keys=True, ensure_ascii=False),
        "tag_metrics": tag_metrics,
        "tag_rows": tag_rows,
    }


def _plain_cell(value: float | None) -> dict[str, Any]:
    if value is None:
        return {"text": "—", "value": "", "missing": True, "full": ""}
    return {"text": f"{value:.{SCORE_DECIMALS}f}", "value": repr(value), "missing": False,
            "full": repr(value)}


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
