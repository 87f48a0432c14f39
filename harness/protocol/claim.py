"""Which run directory a (fold, seed) writes: reuse a finished run, resume an unfinished one, or a new one.

A finished run of the same configuration hash is reused unless ``--force``; ``--resume`` continues
an unfinished one from ``last.pt``; otherwise a new directory is made. The directory is locked from
the decision on, for the whole run, so two harness processes never write the same run.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from harness.protocol import distributed
from harness.protocol.config import RunConfig
from harness.protocol.request import RunRequest, RunResult
from harness.results.rundir import RunDirectory, RunInUseError, find_resumable, new_run_directory


def claim_run_directory(
    config: RunConfig, request: RunRequest, dist: distributed.Dist, held: contextlib.ExitStack
) -> tuple[str, RunDirectory]:
    """``reuse`` a finished run, ``resume`` an unfinished one (``--resume``) or a ``new`` one, locked in ``held``.

    Rank 0 decides and locks; the other ranks follow. A run another harness process holds is one
    ``RunInUseError`` on every rank, before anything is written.
    """
    decision = None
    if dist.is_main:
        try:
            decision = _decide(config, request, held)
        except RunInUseError as exc:
            decision = ("in-use", exc.message)
    kind, detail = distributed.broadcast(decision, dist)
    if kind == "in-use":
        raise RunInUseError(detail)
    return kind, RunDirectory(Path(detail))


def _decide(config: RunConfig, request: RunRequest, held: contextlib.ExitStack) -> tuple[str, str]:
    parent = Path(request.runs_root) / config.dataset / config.fold / config.submission
    finished = None if request.force else find_resumable(parent, config.hash, done=True)
    if finished is not None:
        return ("reuse", str(finished.path))
    previous = find_resumable(parent, config.hash, done=False) if request.resume else None
    if previous is not None:
        held.enter_context(previous.lock())
        if previous.is_done():  # finished by its holder while we looked
            return ("reuse", str(previous.path))
        return ("resume", str(previous.path))
    rundir = new_run_directory(parent, config.seed, config.hash)
    held.enter_context(rundir.lock())  # from its creation: a --resume elsewhere cannot take it over
    return ("new", str(rundir.path))


def result_from_done(rundir: RunDirectory, config: RunConfig) -> RunResult:
    """What a finished run of this configuration reported, read back from its files (a reused run)."""
    doc = json.loads(rundir.scores_file.read_text())
    env = json.loads(rundir.env_file.read_text())
    return RunResult(
        rundir.run_id,
        rundir.path,
        doc["scores"],
        doc.get("best_epoch", 0),
        float(env.get("duration_s", 0.0)),
        reused=True,
        fold=config.fold,
        seed=config.seed,
        submission=config.submission,
        config_hash=config.hash,
    )
