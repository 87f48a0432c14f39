"""Ranks on a one-fold board: rank confidence intervals from one joint bootstrap of its runs.

The ranked runs that have stored predictions on one split (one fingerprint) and whose primary
metric the bootstrap can resample from predictions alone (:func:`harness.metrics.keys.paired_testable`)
are resampled together, ``REPLICATES`` times with ``SEED``: one draw of the test items per
replicate, shared by every run (:func:`harness.metrics.rank_intervals.joint_replicates`). Each
such run gets

- its 95% rank interval, the whole-rank quantiles of its rank over the replicates ("3–7");
- its displayed rank, by the rule :data:`RANK_RULE`: 1 + the number of runs that beat it (are
  strictly better on the primary metric) in at least 97.5% of the replicates, counting as beating
  it every run outside the bootstrap that ranks above it;
  The displayed rank can be better than the interval's lower end: the interval says where the
  run lands in 95% of the replicates, the displayed rank only counts the runs clearly better;
- paired comparisons (difference of the primary metric, its 95% interval and the two-sided
  p-value of :func:`harness.metrics.bootstrap.paired_bootstrap`, which the joint replicates give
  exactly) against the board leader and the runs just above and below it.

Runs outside the bootstrap (recorded without predictions, or on a split of which fewer than two
runs have predictions) keep their plain rank (:func:`harness.leaderboard.ranking.rank_runs`) and
show no interval; the rank interval of a run in the bootstrap is shifted by the number of runs
outside it that rank above it. K-fold boards and the "Over seeds" table keep their plain ranks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.errors import HarnessError

REPLICATES = 1000
SEED = 0
RANK_RULE = (
    "rank = 1 + the number of runs better than this one in at least 97.5% of 1000 paired bootstrap "
    "replicates of the test items; the small range is its 95% rank interval over the replicates"
)


@dataclass(frozen=True)
class BoardRanks:
    """Displayed ranks, rank intervals and paired comparisons of a one-fold board's runs.

    ``shown``: run id -> displayed rank (every ranked run); ``intervals``: run id -> (low, high)
    for runs in the bootstrap; ``comparisons``: run id -> a list of dicts (``relation``: leader,
    above or below; ``run``: the other run; ``difference``, ``low``, ``high``, ``p_value``,
    ``replicates``).
    """

    shown: dict[str, int] = field(default_factory=dict)
    intervals: dict[str, tuple[int, int]] = field(default_factory=dict)
    comparisons: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    replicates: int = 0


def plain_ranks(ranked: Sequence[Any]) -> BoardRanks:
    """Every ranked run shown at its plain rank, no interval."""
    return BoardRanks(shown={e.run.run_id: e.rank for e in ranked if e.rank is not None})


def board_ranks(
    store: Any, board: Any, ranked: Sequence[Any], replicates: int = REPLICATES, seed: int = SEED
) -> BoardRanks:
    """The :class:`BoardRanks` of ``ranked`` (:class:`~harness.leaderboard.ranking.RankedRun`, best first)."""
    from harness.metrics.keys import paired_testable
    from harness.metrics.rank_intervals import joint_replicates

    entries = [e for e in ranked if e.rank is not None]
    result = plain_ranks(entries)
    if len(entries) < 2 or not paired_testable(board.primary):
        return result
    by_fingerprint: dict[str, list[tuple[Any, Any]]] = {}
    for entry in entries:
        predictions = store.predictions(entry.run.run_id)
        if predictions is not None:
            by_fingerprint.setdefault(entry.run.fingerprint, []).append((entry, predictions))
    higher = board.primary_column.higher_is_better
    for fingerprint, members in by_fingerprint.items():
        if len(members) < 2:
            continue
        found = store.split_labels(fingerprint)
        if found is None:
            continue
        joint = joint_replicates(
            found[2], [p for _, p in members], board.primary, replicates, seed, higher_is_better=higher
        )
        ids = [entry.run.run_id for entry, _ in members]
        inside = set(ids)
        # runs outside this bootstrap ranked above a run count as beating it
        outside_above = {
            e.run.run_id: sum(1 for o in entries if o.run.run_id not in inside and o.rank < e.rank) for e, _ in members
        }
        shown = joint.shown_ranks()
        low, high = joint.intervals()
        for i, run_id in enumerate(ids):
            offset = outside_above[run_id]
            result.shown[run_id] = int(shown[i]) + offset
            result.intervals[run_id] = (int(low[i]) + offset, int(high[i]) + offset)
            result.comparisons[run_id] = _comparisons(joint, members, i, entries[0].run.run_id)
    return BoardRanks(result.shown, result.intervals, result.comparisons, replicates if result.intervals else 0)


def _comparisons(joint: Any, members: list[tuple[Any, Any]], i: int, leader_id: str) -> list[dict[str, Any]]:
    """Run ``i`` against the board leader and its neighbours in the bootstrap (each once, in that order)."""
    ids = [entry.run.run_id for entry, _ in members]
    wanted: list[tuple[str, int]] = []
    if leader_id in ids and ids.index(leader_id) != i:
        wanted.append(("leader", ids.index(leader_id)))
    if i > 0:
        wanted.append(("above", i - 1))
    if i + 1 < len(ids):
        wanted.append(("below", i + 1))
    relations: dict[int, list[str]] = {}
    for relation, j in wanted:
        relations.setdefault(j, []).append(relation)
    out: list[dict[str, Any]] = []
    for j, names in relations.items():
        try:
            difference, low, high, p_value, n = joint.comparison(i, j)
        except HarnessError:
            continue
        out.append(
            {
                "relation": " and ".join(names),
                "run": members[j][0].run,
                "difference": difference,
                "low": low,
                "high": high,
                "p_value": p_value,
                "replicates": n,
            }
        )
    return out
