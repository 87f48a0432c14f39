"""Ranking on a board: the order of runs, k-fold rows and seed groups, and rank intervals.

A one-fold board orders runs by its primary metric (:func:`rank_runs`); the rank each run shows
and its 95% rank interval come from one joint bootstrap of the board's runs (:func:`board_ranks`,
from :func:`harness.leaderboard.rank_intervals.board_ranks`, where the rule is stated). A k-fold board ranks its
rows (:class:`~harness.leaderboard.grouping.FoldGroup`) by the mean of the primary metric over the
folds present (:func:`rank_groups`); the "Over seeds" table ranks configurations
(:class:`~harness.leaderboard.grouping.SeedGroup`) by their mean over seeds
(:func:`rank_seed_groups`). Equal values share a rank (1, 2, 2, 4), in the primary column's
direction; what lacks the primary metric comes last, unranked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from harness.errors import HarnessError
from harness.leaderboard.boards import Board
from harness.leaderboard.checked_store import CheckedStore
from harness.leaderboard.grouping import FoldGroup, SeedGroup
from harness.leaderboard.rank_intervals import BoardRanks, plain_ranks
from harness.leaderboard.rank_intervals import board_ranks as joint_board_ranks
from harness.results.store import RunRecord


@dataclass(frozen=True)
class RankedRun:
    """A run's place on a board: ``rank`` is None when it lacks the primary metric."""

    rank: int | None
    run: RunRecord


@dataclass(frozen=True)
class RankedGroup:
    rank: int | None
    group: FoldGroup


def rank_runs(board: Board, runs: Iterable[RunRecord]) -> list[RankedRun]:
    """Runs ranked by the board's primary metric, best first, in its column's direction.

    Equal values share a rank (1, 2, 2, 4); among equals the earlier run comes first. Runs
    without the primary metric come last, unranked.
    """
    return [
        RankedRun(rank, run)
        for rank, run in _rank(board, runs, lambda r: r.scores.get(board.primary), lambda r: (r.created, r.run_id))
    ]


def rank_groups(board: Board, groups: Iterable[FoldGroup]) -> list[RankedGroup]:
    """Groups ranked by the mean of the primary metric over their folds, best first."""
    return [
        RankedGroup(rank, group)
        for rank, group in _rank(board, groups, lambda g: g.summary.mean.get(board.primary), lambda g: g.key)
    ]


def rank_seed_groups(board: Board, groups: Iterable[SeedGroup]) -> list[tuple[int | None, SeedGroup]]:
    """(rank, group) by the mean over seeds of the primary metric, best first; equal means share
    a rank; groups without the primary metric come last, unranked."""
    return _rank(board, groups, lambda g: g.summary.mean.get(board.primary), lambda g: g.key)


def board_ranks(store: CheckedStore, board: Board, ranked: list[RankedRun]) -> BoardRanks:
    """Displayed ranks, rank intervals and paired comparisons of a one-fold board's ``ranked`` runs
    (:func:`harness.leaderboard.rank_intervals.board_ranks`).

    The checked store gives the bootstrap only usable predictions; should it fail all the same,
    the board is shown with plain ranks and no intervals, with a warning, rather than not at all.
    """
    try:
        return joint_board_ranks(store, board, ranked)
    except (HarnessError, ArithmeticError, ValueError) as exc:
        message = exc.message if isinstance(exc, HarnessError) else str(exc)
        store.warn(f"board {board.name!r} shows no rank intervals: the joint bootstrap failed ({message})")
        return plain_ranks(ranked)


def _rank(board: Board, items: Iterable[Any], value: Any, order: Any) -> list[tuple[int | None, Any]]:
    """(rank, item) by ``value(item)`` in the primary column's direction, then by ``order(item)``.

    Equal values share a rank (1, 2, 2, 4); items whose value is None come last, unranked, by
    ``order``.
    """
    sign = -1.0 if board.primary_column.higher_is_better else 1.0
    items = list(items)
    scored = sorted((i for i in items if value(i) is not None), key=lambda i: (sign * value(i), order(i)))
    ranked: list[tuple[int | None, Any]] = []
    rank = 0
    for position, item in enumerate(scored):
        if position == 0 or value(item) != value(scored[position - 1]):
            rank = position + 1
        ranked.append((rank, item))
    return ranked + [(None, i) for i in sorted((i for i in items if value(i) is None), key=order)]
