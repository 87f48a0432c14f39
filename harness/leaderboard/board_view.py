"""The view model of a board page (``<board>.html``, drawn by ``templates/board.html``) and of
its card on ``index.html``.

A one-fold board has one row per run, in the order of :func:`harness.leaderboard.ranking.rank_runs`,
each shown at its rank from the joint bootstrap with its 95% rank interval
(:mod:`harness.leaderboard.rank_intervals`); a k-fold board one row per
(submission, team, run name, seed, configuration), its cells the mean over folds ± std. The
board's published reference rows sort in by their primary value and take no rank. Under the
main table, the "Over seeds" table (:mod:`harness.leaderboard.seeds_view`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.datasets import load_spec
from harness.errors import HarnessError
from harness.leaderboard.boards import Board
from harness.leaderboard.cells import badges, cell, external_data_badge, fold_cell, interval, merged_badges
from harness.leaderboard.grouping import FoldGroup, SeedGroup
from harness.leaderboard.pages import run_href
from harness.leaderboard.rank_intervals import RANK_RULE, BoardRanks
from harness.leaderboard.ranking import RankedGroup, RankedRun
from harness.leaderboard.seeds_view import SEEDS_ANCHOR, add_seed_badges, over_seeds_view, seed_badge_info
from harness.results.store import RunRecord

RANK_LEGEND = RANK_RULE


def board_view(
    board: Board, ranked: list[RankedRun], ranks: BoardRanks, seed_groups: list[SeedGroup]
) -> dict[str, Any]:
    """A one-fold board: its ranked runs, each shown at its rank in ``ranks`` with its rank interval."""
    group_of = {run.run_id: g for g in seed_groups for run in g.members}
    rows = []
    previous: int | None = None
    for position, entry in enumerate(ranked):
        run = entry.run
        rank = None if entry.rank is None else ranks.shown.get(run.run_id, entry.rank)
        shared = rank is not None and rank == previous
        previous = rank
        low_high = ranks.intervals.get(run.run_id)
        rows.append(
            _member_row(
                board,
                run,
                group_of[run.run_id],
                rank,
                position,
                shared=shared,
                rank_interval="" if low_high is None else f"{low_high[0]}–{low_high[1]}",
                href=run_href(run.run_id),
                badges=badges(run),
                cells=[
                    cell(column, run.scores.get(column.key), column.key == board.primary, interval(run, column.key))
                    for column in board.columns
                ],
                fingerprint=run.fingerprint,
            )
        )
    _mark_bands(rows)
    rows = _with_references(board, rows)
    over_seeds = over_seeds_view(board, seed_groups, lambda run: run_href(run.run_id), {})
    view = _board_common(board, rows, over_seeds)
    fingerprints = sorted({entry.run.fingerprint for entry in ranked})
    has_rank_intervals = bool(ranks.intervals)
    view.update(
        fingerprints=fingerprints,
        tie_legend="",
        rank_legend=RANK_LEGEND if has_rank_intervals else "",
        has_rank_intervals=has_rank_intervals,
    )
    return view


def fold_board_view(
    board: Board,
    ranked: list[RankedGroup],
    seed_groups: list[SeedGroup],
    links: Mapping[str, str],
    pages: Mapping[str, str],
) -> dict[str, Any]:
    """A k-fold board: its ranked rows; ``links`` gives a row's place on its configuration's
    page (by row key), ``pages`` a configuration's page (by seed group key)."""
    group_of = {member.key: g for g in seed_groups for member in g.members}
    rows = []
    n_folds = len(board.folds)
    for position, entry in enumerate(ranked):
        group, summary = entry.group, entry.group.summary
        found = merged_badges(list(group.runs.values()))
        if len(group.runs) < n_folds:
            missing = [f for f in board.folds if f not in group.runs]
            found.insert(
                0,
                {
                    "kind": "warn",
                    "text": f"{len(group.runs)} of {n_folds} folds",
                    "title": "Incomplete: no run for " + ", ".join(missing) + "; the mean is over the folds present.",
                },
            )
        rows.append(
            _member_row(
                board,
                group,
                group_of[group.key],
                entry.rank,
                position,
                href=links[group.key],
                badges=found,
                cells=[fold_cell(column, summary, column.key == board.primary) for column in board.columns],
            )
        )
    _mark_bands(rows)
    rows = _with_references(board, rows)
    over_seeds = over_seeds_view(board, seed_groups, lambda member: links[member.key], pages)
    view = _board_common(board, rows, over_seeds)
    view.update(fingerprints=[], tie_legend="", rank_legend="", has_rank_intervals=False)
    return view


def dataset_info(name: str) -> dict[str, str] | None:
    """Title, citation, licence and homepage of a registry dataset; None when it is unknown."""
    try:
        spec = load_spec(name)
    except HarnessError:
        return None
    return {"title": spec.title, "citation": spec.citation, "licence": spec.licence, "homepage": spec.homepage}


def make_run_command(board: Board) -> str:
    """The command that puts a first run on an empty board."""
    fold = "all" if board.is_k_fold else board.fold
    return f"harness run submissions/vgg6 --dataset {board.dataset} --fold {fold}"


def _board_common(board: Board, rows: list[dict[str, Any]], over_seeds: dict[str, Any] | None) -> dict[str, Any]:
    add_seed_badges(rows)
    primary = board.primary_column
    leader = next((row for row in rows if row["rank"] is not None), None)  # not a reference row
    return {
        "board": board,
        "page": board.page_name,
        "k_fold": board.is_k_fold,
        "dataset": dataset_info(board.dataset),
        "columns": [{"column": c, "primary": c.key == board.primary} for c in board.columns],
        "rows": rows,
        "leader": leader,
        "leader_value": leader["primary_text"] if leader else "",
        "primary": primary,
        "make_run": make_run_command(board),
        "has_intervals": not board.is_k_fold and any(c["note"] for r in rows for c in r["cells"]),
        "has_bands": any(r["band_class"] for r in rows),
        "has_seeds": any(r["seed_value"] for r in rows),
        "over_seeds": over_seeds,
        "seeds_anchor": SEEDS_ANCHOR,
    }


def _member_row(
    board: Board,
    member: RunRecord | FoldGroup,
    seed_group: SeedGroup,
    rank: int | None,
    position: int,
    *,
    href: str,
    badges: list[dict[str, str]],
    cells: list[dict[str, Any]],
    band: int | None = None,
    shared: bool = False,
    rank_interval: str = "",
    fingerprint: str = "",
) -> dict[str, Any]:
    """A main-table row: a run (one-fold board) or one seed's fold means (k-fold board) at
    ``position`` (from 0) in the ranking."""
    seed = "" if member.seed is None else str(member.seed)
    primary = next(found for found in cells if found["primary"])
    return {
        "rank": rank,
        "position": position + 1,
        "band": band,
        "shared": shared,
        "rank_interval": rank_interval,
        "seed_group": seed_badge_info(seed_group),
        "href": href,
        "submission": member.submission,
        "team": member.team,
        "run_name": member.run_name,
        "seed": seed or "—",
        "seed_value": seed,
        "badges": badges,
        "cells": cells,
        "primary_text": primary["text"],
        "date": member.created[:10],
        "created": member.created,
        "fingerprint": fingerprint,
    }


def _with_references(board: Board, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert the board's published reference rows where their primary value sorts; ranks stay the runs'."""
    primary = board.primary_column
    sign = -1.0 if primary.higher_is_better else 1.0
    merged = [{**row, "reference": False} for row in rows]
    for reference in board.references:
        value = reference.scores.get(board.primary)
        row = {
            "rank": None,
            "position": 0,
            "band": None,
            "shared": False,
            "rank_interval": "",
            "reference": True,
            "seed_group": None,
            "href": "",
            "submission": reference.name,
            "team": "",
            "run_name": reference.citation,
            "url": reference.url,
            "note": reference.note,
            "seed": "—",
            "seed_value": "",
            "band_class": "",
            "badges": [
                {"kind": "info", "text": "published", "title": "A published figure: no predictions in the store"}
            ]
            + ([external_data_badge()] if reference.external_data else []),
            "cells": [
                {
                    **cell(column, reference.scores.get(column.key), column.key == board.primary),
                    "title": "published figure",
                }
                for column in board.columns
            ],
            "primary_text": primary.format(value),
            "date": "",
            "created": "",
            "fingerprint": "",
        }
        at = len(merged)
        if value is not None:
            for i, other in enumerate(merged):
                other_value = next((c["raw"] for c in other["cells"] if c.get("primary")), None)
                if other_value is not None and sign * value < sign * other_value:
                    at = i
                    break
        merged.insert(at, row)
    for position, row in enumerate(merged, start=1):
        row["position"] = position
    return merged


def _mark_bands(rows: list[dict[str, Any]]) -> None:
    """CSS classes for rows in a tie band of two or more: first, middle, last; bands alternate."""
    sizes: dict[int, int] = {}
    for row in rows:
        if row["band"] is not None:
            sizes[row["band"]] = sizes.get(row["band"], 0) + 1
    shown = 0
    for i, row in enumerate(rows):
        band = row["band"]
        if band is None or sizes[band] < 2:
            row["band_class"] = ""
            continue
        first = i == 0 or rows[i - 1]["band"] != band
        last = i == len(rows) - 1 or rows[i + 1]["band"] != band
        if first:
            shown += 1
        classes = ["band", "band-a" if shown % 2 else "band-b"]
        classes += ["band-first"] if first else []
        classes += ["band-last"] if last else []
        row["band_class"] = " ".join(classes)
