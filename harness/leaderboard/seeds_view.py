"""The "Over seeds" table of a board page, and the "N seeds" badges that link to it.

When a board has a configuration of two seeds or more, the table under the main one shows every
configuration (:class:`~harness.leaderboard.grouping.SeedGroup`) once, each column as mean ±
sample standard deviation (``ddof=1``) over its seeds (of the per-seed fold means on a k-fold
board), ranked by the primary column's mean. The main table keeps one row per run (one-fold) or
per seed (k-fold): ties and intervals are computed on runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from harness.leaderboard.boards import Board
from harness.leaderboard.cells import merged_badges, plain, seed_cell
from harness.leaderboard.grouping import SeedGroup, member_runs
from harness.leaderboard.pages import seed_anchor, short_hash
from harness.leaderboard.ranking import rank_seed_groups

SEEDS_ANCHOR = "over-seeds"


def over_seeds_view(
    board: Board, groups: list[SeedGroup], member_href: Callable[[Any], str], pages: Mapping[str, str]
) -> dict[str, Any] | None:
    """The "Over seeds" table: every configuration once, ranked by its mean over seeds.

    ``member_href`` gives the link of a seed's run (one-fold) or row (k-fold), ``pages`` a k-fold
    configuration's page by its key. None when no configuration on the board has two seeds or more.
    """
    if not any(g.multi_seed for g in groups):
        return None
    labels = configuration_labels(groups)
    rows = []
    for position, (rank, group) in enumerate(rank_seed_groups(board, groups), start=1):
        counted = list(group.per_seed.values())
        badges = merged_badges([r for m in counted for r in member_runs(m)])
        if board.is_k_fold:
            fold_sets = {tuple(m.runs) for m in counted}
            n_folds = len(board.folds)
            if len(fold_sets) > 1:
                badges.insert(
                    0,
                    {
                        "kind": "warn",
                        "text": "folds differ",
                        "title": "The seeds were run on different folds ("
                        + "; ".join(f"seed {m.seed}: {len(m.runs)} of {n_folds}" for m in counted)
                        + "): each seed's mean is over its own folds.",
                    },
                )
            elif len(next(iter(fold_sets))) < n_folds:
                badges.insert(
                    0,
                    {
                        "kind": "warn",
                        "text": f"{len(next(iter(fold_sets)))} of {n_folds} folds",
                        "title": "Incomplete: the means are over the folds present.",
                    },
                )
        label, label_title = labels[group.key]
        rows.append(
            {
                "rank": rank,
                "position": position,
                "anchor": seed_anchor(group),
                "submission": group.submission,
                "team": group.team,
                "href": pages.get(group.key, ""),
                "label": label,
                "label_title": label_title,
                "seeds": [
                    {"text": "—" if seed is None else str(seed), "href": member_href(member)}
                    for seed, member in group.per_seed.items()
                ],
                "seeds_value": ",".join("" if s is None else str(s) for s in group.per_seed),
                "n": group.summary.n_seeds,
                "badges": badges,
                "cells": [seed_cell(c, group.summary, c.key == board.primary, board.is_k_fold) for c in board.columns],
            }
        )
    return {"rows": rows, "has_labels": any(r["label"] for r in rows), "n_multi": sum(g.multi_seed for g in groups)}


def configuration_labels(groups: list[SeedGroup]) -> dict[str, tuple[str, str]]:
    """(label, tooltip) per group: what tells it from the same submission's other configurations.

    A run without a seed is labelled with its run name; a seeded configuration with the run name
    its runs share, else with the config values (and the truth, threshold source or external
    data) that differ from the submission's other configurations, else nothing.
    """
    seeded: dict[tuple[str, str], list[SeedGroup]] = {}
    for group in groups:
        if group.seeded:
            seeded.setdefault((group.team, group.submission), []).append(group)
    labels: dict[str, tuple[str, str]] = {}
    for group in groups:
        title = json.dumps(group.config, sort_keys=True, ensure_ascii=False) if group.config else ""
        names = {m.run_name for m in group.members}
        if not group.seeded or len(names) == 1:
            labels[group.key] = (sorted(names)[0], title)
            continue
        siblings = seeded[(group.team, group.submission)]
        if len(siblings) < 2:
            labels[group.key] = ("", title)
            continue
        parts = []
        for key in sorted({k for g in siblings for k in g.config}):
            if len({json.dumps(g.config.get(key), sort_keys=True) for g in siblings}) > 1:
                parts.append(f"{key} = {plain(group.config.get(key))}")
        for name, value in group.distinctions.items():
            if len({g.distinctions.get(name) for g in siblings}) > 1:
                parts.append(f"{name} {value[:8] if name == 'truth' else value}")
        labels[group.key] = (", ".join(parts) or f"configuration {short_hash(group.key)[:8]}", title)
    return labels


def seed_badge_info(group: SeedGroup) -> dict[str, Any] | None:
    """What the "N seeds" badge of a group's rows says; None when it has fewer than two seeds."""
    if not group.multi_seed:
        return None
    return {"n": len(group.per_seed), "anchor": seed_anchor(group), "seeds": ", ".join(str(s) for s in group.per_seed)}


def add_seed_badges(rows: list[dict[str, Any]]) -> None:
    """ "N seeds" on every row of a configuration that has runs of N ≥ 2 seeds here, linking to
    its row of the "Over seeds" table."""
    for row in rows:
        info = row.get("seed_group")
        if info:
            row["badges"].append(
                {
                    "kind": "seed",
                    "text": f"{info['n']} seeds",
                    "href": f"#{info['anchor']}",
                    "title": f"{row['submission']} has runs of {info['n']} seeds of this "
                    f"configuration on this board ({info['seeds']}): mean ± std over them "
                    "in the Over seeds table",
                }
            )
