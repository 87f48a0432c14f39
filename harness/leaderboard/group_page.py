"""The view model of a k-fold configuration's page (``groups/<slug>.html``, drawn by
``templates/group.html``): per seed, its per-fold scores with mean ± std over folds; with
several seeds, first a table of the seeds' means and their mean ± std over seeds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from harness.leaderboard.boards import Board
from harness.leaderboard.cells import cell, fold_cell, merged_badges, seed_cell
from harness.leaderboard.grouping import SeedGroup
from harness.leaderboard.pages import run_page_name, section_ids


def group_view(board: Board, group: SeedGroup, ranks: Mapping[str, int | None]) -> dict[str, Any]:
    """The page of ``group`` (its members are k-fold rows); ``ranks`` maps a row key to its rank."""
    columns = [{"column": c, "primary": c.key == board.primary} for c in board.columns]
    sections = []
    for member, section in zip(group.members, section_ids(group)):
        summary = member.summary
        folds = []
        for fold in board.folds:
            run = member.runs.get(fold)
            folds.append(
                {
                    "fold": fold,
                    "href": f"{run_page_name(run.run_id)}" if run else "",
                    "cells": [
                        cell(c, run.scores.get(c.key) if run else None, c.key == board.primary) for c in board.columns
                    ],
                }
            )
        counted = group.per_seed.get(member.seed) is member
        sections.append(
            {
                "id": section,
                "seed": "—" if member.seed is None else str(member.seed),
                "run_name": member.run_name,
                "rank": ranks.get(member.key),
                "counted": counted,
                "folds": folds,
                "n_present": len(member.runs),
                "n_folds": len(board.folds),
                "fold_cells": [fold_cell(c, summary, c.key == board.primary) for c in board.columns],
                "mean": [cell(c, summary.mean.get(c.key), c.key == board.primary) for c in board.columns],
                "std": [cell(c, summary.std.get(c.key), c.key == board.primary) for c in board.columns],
                "warnings": list(summary.warnings),
            }
        )
    runs = [r for m in group.members for r in m.runs.values()]
    first = group.members[0]
    return {
        "board": board,
        "submission": group.submission,
        "team": group.team,
        "run_name": first.run_name if len(group.members) == 1 else "",
        "rank": ranks.get(first.key) if len(group.members) == 1 else None,
        "badges": merged_badges(runs),
        "columns": columns,
        "sections": sections,
        "n_present": len(first.runs),
        "n_folds": len(board.folds),
        "seeds": ", ".join(str(s) for s in group.per_seed),
        "n_seeds": len(group.per_seed),
        "over_seeds": [seed_cell(c, group.summary, c.key == board.primary, True) for c in board.columns]
        if group.multi_seed
        else [],
        "config": json.dumps(group.config, indent=2, sort_keys=True, ensure_ascii=False) if group.config else "",
    }
