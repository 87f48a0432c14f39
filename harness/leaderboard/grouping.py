"""What one row of a board is, and what one configuration is: grouping runs before ranking.

A k-fold board (``folds = [...]``) has one row per (submission, team, run name, seed,
configuration): a :class:`FoldGroup`, at most one run per fold, summarised as the mean ± std over
the folds present (:func:`harness.metrics.folds.aggregate_folds`); runs of different seeds are
never pooled into one row's fold mean.

Seeds: ``harness run --seeds 0,1,2`` records one run per seed, alike but for the seed. Runs of one
(team, submission, configuration) make a :class:`SeedGroup`, the configuration being the run's
``config`` less its seed (:func:`configuration_key`; published runs have no config, so theirs is
their (team, submission), and runs without a seed are each their own group), summarised as mean
± sample standard deviation (``ddof=1``) over its seeds (:func:`summarise_seeds`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.leaderboard.boards import Board
from harness.metrics.folds import FoldSummary, aggregate_folds
from harness.results.store import RunRecord

# Config keys that do not make a configuration: the seed, and the evaluation batch size (a device
# detail, which the config hash leaves out too). Across folds, also the fold and its fingerprints.
NOT_CONFIGURATION = frozenset({"seed", "eval_batch_size"})
PER_FOLD_CONFIG = frozenset({"fold", "train_fingerprint", "validation_fingerprint", "test_fingerprint"})


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


def configuration_key(config: Mapping[str, Any], *, across_folds: bool = False) -> str:
    """The configuration a run was made with, less its seed: canonical JSON of ``config``.

    Left out: the seed and the evaluation batch size (:data:`NOT_CONFIGURATION`); with
    ``across_folds``, also the fold and its split fingerprints (:data:`PER_FOLD_CONFIG`), which
    differ between the folds of one k-fold run.
    """
    drop = NOT_CONFIGURATION | (PER_FOLD_CONFIG if across_folds else frozenset())
    return json.dumps(
        {k: v for k, v in config.items() if k not in drop}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


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
    for run in sorted((r for r in runs if r.fold in order), key=lambda r: (r.created, r.run_id), reverse=True):
        key = (run.submission, run.team, run.run_name, run.seed, configuration_key(run.config, across_folds=True))
        newest.setdefault(key, {}).setdefault(run.fold, run)
    groups = []
    for key in sorted(newest, key=lambda k: (k[0], k[1], k[2], seed_order(k[3]), k[4])):
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
    seeds = tuple(sorted(per_seed, key=seed_order))
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
            "truth": ", ".join(sorted({r.fingerprint for r in runs})) if not isinstance(member, FoldGroup) else "",
            "thresholds from": ", ".join(sorted({r.thresholds_source for r in runs})),
            "external data": "yes" if any(r.external_data for r in runs) else "no",
        }
        if member.seed is None:  # not one of several seeds: on its own
            key = ("single", member.team, member.submission, member_id(member))
        else:
            key = (
                "seeds",
                member.team,
                member.submission,
                json.dumps(config, sort_keys=True, ensure_ascii=False),
                json.dumps(distinctions, sort_keys=True, ensure_ascii=False),
            )
        found.setdefault(key, []).append(member)
        described.setdefault(key, (config, distinctions))
    groups = []
    for key, listed in found.items():
        listed.sort(key=lambda m: (m.created, member_id(m)), reverse=True)  # newest first,
        listed.sort(key=lambda m: seed_order(m.seed))  # then (a stable sort) seed ascending
        per_seed: dict[int | None, RunRecord | FoldGroup] = {}
        for member in listed:
            per_seed.setdefault(member.seed, member)
        summary = summarise_seeds({seed: _member_scores(m) for seed, m in per_seed.items()})
        config, distinctions = described[key]
        groups.append(
            SeedGroup(
                listed[0].submission,
                listed[0].team,
                "\x1f".join(key),
                config,
                distinctions,
                tuple(listed),
                per_seed,
                summary,
            )
        )
    return groups


def member_id(member: RunRecord | FoldGroup) -> str:
    """A run's id, or a k-fold row's key."""
    return member.key if isinstance(member, FoldGroup) else member.run_id


def member_runs(member: RunRecord | FoldGroup) -> list[RunRecord]:
    """The runs of a k-fold row, or the run itself."""
    return list(member.runs.values()) if isinstance(member, FoldGroup) else [member]


def _member_scores(member: RunRecord | FoldGroup) -> dict[str, float]:
    return dict(member.summary.mean) if isinstance(member, FoldGroup) else dict(member.scores)


def seed_order(seed: int | None) -> tuple[int, int]:
    return (0, 0) if seed is None else (1, seed)
