"""Ranking on a board: the order of runs, k-fold rows and seed groups, and tie bands.

A one-fold board ranks runs by its primary metric; runs whose paired bootstrap test against the
run above is not significant share a rank band (:func:`board_bands`, from
:func:`harness.leaderboard.ties.rank_bands`). A k-fold board (``folds = [...]``) ranks
(submission, team, run name, seed, configuration) rows by the mean of the primary metric over
the folds present (:func:`harness.metrics.folds.aggregate_folds`); runs of different seeds are
never pooled into one row's fold mean.

Seeds: ``harness run --seeds 0,1,2`` records one run per seed, alike but for the seed. Runs of one
(team, submission, configuration) make a :class:`SeedGroup`, the configuration being the run's
``config`` less its seed (:func:`configuration_key`; published runs have no config, so theirs is
their (team, submission), and runs without a seed are each their own group), summarised as mean
± sample standard deviation (``ddof=1``) over its seeds and ranked by the primary mean
(:func:`rank_seed_groups`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import HarnessError
from harness.leaderboard.boards import Board
from harness.leaderboard.checked_store import CheckedStore
from harness.leaderboard.ties import rank_bands
from harness.metrics.folds import FoldSummary, aggregate_folds
from harness.results.store import RunRecord

# Config keys that do not make a configuration: the seed, and the evaluation batch size (a device
# detail, which the config hash leaves out too). Across folds, also the fold and its fingerprints.
NOT_CONFIGURATION = frozenset({"seed", "eval_batch_size"})
PER_FOLD_CONFIG = frozenset({"fold", "train_fingerprint", "validation_fingerprint",
                             "test_fingerprint"})


@dataclass(frozen=True)
class RankedRun:
    """A run's place on a board: ``rank`` is None when it lacks the primary metric."""

    rank: int | None
    run: RunRecord


@dataclass(frozen=True)
class FoldGroup:
    """One row of a k-fold board: one seed of a (submission, team, run name, configuration), with
    at most one run per fold."""

    submission: str
    team: str
    run_name: str
    seed: int | None
    configuration: str  # configuration_key(config, across_folds=True) of its runs
    runs: dict[str, RunRecord]  # fold -> run, in the board's fold order
    summary: FoldSummary

    @property
    def key(self) -> str:
        seed = "" if self.seed is None else str(self.seed)
        return "\x1f".join((self.submission, self.team, self.run_name, seed, self.configuration))

    @property
    def created(self) -> str:
        return max(r.created for r in self.runs.values())


@dataclass(frozen=True)
class SeedSummary:
    """Mean and sample standard deviation (``ddof=1``) of each key over seeds.

    ``mean`` holds the keys every seed has; ``std`` the same keys when there are two seeds or more
    (one seed has no spread: never NaN); ``missing`` maps a key some seeds lack to those seeds.
    """

    seeds: tuple[int | None, ...]
    mean: dict[str, float]
    std: dict[str, float]
    missing: dict[str, tuple[int | None, ...]]

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)


@dataclass(frozen=True)
class SeedGroup:
    """One configuration of a submission on a board: its runs (one-fold board) or rows (k-fold
    board) that differ only in seed.

    ``members`` holds them all (seed ascending, newest first within a seed); ``per_seed`` the
    newest of each seed, which the summary is over.
    """

    submission: str
    team: str
    key: str
    config: dict[str, Any]  # the configuration, less the seed (and the per-fold keys)
    distinctions: dict[str, str]  # what else sets it apart: truth, thresholds, external data
    members: tuple[RunRecord | FoldGroup, ...]
    per_seed: dict[int | None, RunRecord | FoldGroup]
    summary: SeedSummary

    @property
    def seeded(self) -> bool:
        """True when its members have seeds (runs without one are each a group of their own)."""
        return None not in self.per_seed

    @property
    def multi_seed(self) -> bool:
        return self.seeded and len(self.per_seed) >= 2


@dataclass(frozen=True)
class RankedGroup:
    rank: int | None
    group: FoldGroup


def rank_runs(board: Board, runs: Iterable[RunRecord]) -> list[RankedRun]:
    """Runs ranked by the board's primary metric, best first, in its column's direction.

    Equal values share a rank (1, 2, 2, 4); among equals the earlier run comes first. Runs
    without the primary metric come last, unranked.
    """
    return [RankedRun(rank, run) for rank, run in _rank(
        board, runs, lambda r: r.scores.get(board.primary), lambda r: (r.created, r.run_id))]


def rank_groups(board: Board, groups: Iterable[FoldGroup]) -> list[RankedGroup]:
    """Groups ranked by the mean of the primary metric over their folds, best first."""
    return [RankedGroup(rank, group) for rank, group in _rank(
        board, groups, lambda g: g.summary.mean.get(board.primary), lambda g: g.key)]


def rank_seed_groups(board: Board, groups: Iterable[SeedGroup]
                     ) -> list[tuple[int | None, SeedGroup]]:
    """(rank, group) by the mean over seeds of the primary metric, best first; equal means share
    a rank; groups without the primary metric come last, unranked."""
    return _rank(board, groups, lambda g: g.summary.mean.get(board.primary), lambda g: g.key)


def board_bands(store: CheckedStore, board: Board, runs: list[RunRecord]) -> dict[str, int]:
    """run id -> tie band of the ranked ``runs`` (:func:`harness.leaderboard.ties.rank_bands`).

    The checked store gives the tests only usable predictions; should a test fail all the same,
    the board is shown without bands (each run its own rank), with a warning, rather than not at all.
    """
    if len(runs) < 2:
        return {}
    try:
        return dict(rank_bands(store, board, runs))
    except (HarnessError, ArithmeticError, ValueError) as exc:
        message = exc.message if isinstance(exc, HarnessError) else str(exc)
        store.warn(f"board {board.name!r} shows no tie bands: a paired test failed ({message})")
        return {}


def banded_ranks(ranked: list[RankedRun], bands: Mapping[str, int]
                 ) -> list[tuple[int | None, int | None, bool]]:
    """(shown rank, band, shared) per ranked run: a band's runs show the rank of its first run,
    and every run after that first one is ``shared``. Bands of unknown runs are ignored."""
    shown = []
    band_rank: dict[int, int] = {}  # band -> the rank shown for it (its first run's rank)
    for entry in ranked:
        band = bands.get(entry.run.run_id) if entry.rank is not None else None
        rank, shared = entry.rank, False
        if band is not None:
            if band in band_rank:
                rank, shared = band_rank[band], True
            else:
                band_rank[band] = rank
        shown.append((rank, band, shared))
    return shown


def configuration_key(config: Mapping[str, Any], *, across_folds: bool = False) -> str:
    """The configuration a run was made with, less its seed: canonical JSON of ``config``.

    Left out: the seed and the evaluation batch size (:data:`NOT_CONFIGURATION`); with
    ``across_folds``, also the fold and its split fingerprints (:data:`PER_FOLD_CONFIG`), which
    differ between the folds of one k-fold run.
    """
    drop = NOT_CONFIGURATION | (PER_FOLD_CONFIG if across_folds else frozenset())
    return json.dumps({k: v for k, v in config.items() if k not in drop}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))


def group_fold_runs(board: Board, runs: Iterable[RunRecord]) -> list[FoldGroup]:
    """The runs of a k-fold board as (submission, team, run name, seed, configuration) groups,
    one run per fold.

    Runs of different seeds (or configurations) are never one group: a fold mean mixing seeds
    would hide which seed each fold had and drop the other seeds' runs. Runs of folds the board
    does not list are left out; where a group has several runs of one fold, the newest counts.
    Groups come sorted by submission, team, run name, seed (none first) and configuration.
    """
    order = {fold: i for i, fold in enumerate(board.folds)}
    newest: dict[tuple[str, str, str, int | None, str], dict[str, RunRecord]] = {}
    for run in sorted((r for r in runs if r.fold in order),
                      key=lambda r: (r.created, r.run_id), reverse=True):
        key = (run.submission, run.team, run.run_name, run.seed,
               configuration_key(run.config, across_folds=True))
        newest.setdefault(key, {}).setdefault(run.fold, run)
    groups = []
    for key in sorted(newest, key=lambda k: (k[0], k[1], k[2], _seed_order(k[3]), k[4])):
        by_fold = newest[key]
        folds = {f: by_fold[f] for f in board.folds if f in by_fold}
        summary = aggregate_folds({f: r.scores for f, r in folds.items()})
        groups.append(FoldGroup(*key, runs=folds, summary=summary))
    return groups


def summarise_seeds(per_seed: Mapping[int | None, Mapping[str, float]]) -> SeedSummary:
    """Mean and sample standard deviation (``ddof=1``) of each key over the seeds given, as
    :func:`harness.metrics.folds.aggregate_folds` computes them over folds.

    Keys some seeds lack are left out of ``mean`` and ``std`` and listed in ``missing``; with one
    seed, ``std`` is empty.
    """
    seeds = tuple(sorted(per_seed, key=_seed_order))
    summary = aggregate_folds({str(i): per_seed[seed] for i, seed in enumerate(seeds)})
    missing = {key: tuple(seeds[int(i)] for i in lacking) for key, lacking in summary.missing.items()}
    return SeedSummary(seeds, summary.mean, summary.std, missing)


def group_seeds(members: Iterable[RunRecord | FoldGroup]) -> list[SeedGroup]:
    """Runs (one-fold board) or rows (k-fold board) grouped by (team, submission, configuration).

    A group is what differs only in seed: same team, submission and configuration
    (:func:`configuration_key`), and also the same ground truth, threshold source and use of
    external data (a one-fold run), so that nothing else is averaged over. A member without a seed
    is a group of its own. Within a group the newest member of each seed counts. Groups come in
    order of first appearance.
    """
    found: dict[tuple[str, ...], list[RunRecord | FoldGroup]] = {}
    described: dict[tuple[str, ...], tuple[dict[str, Any], dict[str, str]]] = {}
    for member in members:
        runs = list(member.runs.values()) if isinstance(member, FoldGroup) else [member]
        if isinstance(member, FoldGroup):
            config = json.loads(member.configuration)
        else:
            config = json.loads(configuration_key(member.config))
        distinctions = {
            "truth": ", ".join(sorted({r.fingerprint for r in runs}))
                     if not isinstance(member, FoldGroup) else "",
            "thresholds from": ", ".join(sorted({r.thresholds_source for r in runs})),
            "external data": "yes" if any(r.external_data for r in runs) else "no",
        }
        if member.seed is None:  # not one of several seeds: on its own
            key = ("single", member.team, member.submission, member_id(member))
        else:
            key = ("seeds", member.team, member.submission,
                   json.dumps(config, sort_keys=True, ensure_ascii=False),
                   json.dumps(distinctions, sort_keys=True, ensure_ascii=False))
        found.setdefault(key, []).append(member)
        described.setdefault(key, (config, distinctions))
    groups = []
    for key, listed in found.items():
        listed.sort(key=lambda m: (m.created, member_id(m)), reverse=True)  # newest first,
        listed.sort(key=lambda m: _seed_order(m.seed))  # then (a stable sort) seed ascending
        per_seed: dict[int | None, RunRecord | FoldGroup] = {}
        for member in listed:
            per_seed.setdefault(member.seed, member)
        summary = summarise_seeds({seed: _member_scores(m) for seed, m in per_seed.items()})
        config, distinctions = described[key]
        groups.append(SeedGroup(listed[0].submission, listed[0].team, "\x1f".join(key), config,
                                distinctions, tuple(listed), per_seed, summary))
    return groups


def member_id(member: RunRecord | FoldGroup) -> str:
    """A run's id, or a k-fold row's key."""
    return member.key if isinstance(member, FoldGroup) else member.run_id


def member_runs(member: RunRecord | FoldGroup) -> list[RunRecord]:
    """The runs of a k-fold row, or the run itself."""
    return list(member.runs.values()) if isinstance(member, FoldGroup) else [member]


def _member_scores(member: RunRecord | FoldGroup) -> dict[str, float]:
    return dict(member.summary.mean) if isinstance(member, FoldGroup) else dict(member.scores)


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


def _seed_order(seed: int | None) -> tuple[int, int]:
    return (0, 0) if seed is None else (1, seed)
