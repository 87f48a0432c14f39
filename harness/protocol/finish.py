"""A trained run ends at files, then is scored and recorded as ``harness score --record`` does.

``predictions/{validation,test}.npz`` first; then ``test.npz`` is scored by :func:`harness.scoring.score_file`
with thresholds fitted on its sibling ``validation.npz`` (the decisions ``harness score test.npz``
finds for a run's file), with bootstrap intervals seeded by the run's seed; ``scores.json`` is
written from that report, so its scores equal ``harness score runs/.../predictions/test.npz --json``
by construction; the run is recorded through :func:`harness.scoring.record_report`; ``done`` last.
"""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness import atomic
from harness.datasets.splits import SplitData
from harness.protocol.config import RunConfig
from harness.protocol.device import peak_memory_mb
from harness.results.predictions import save_predictions
from harness.results.record import now_utc
from harness.results.rundir import RunDirectory
from harness.scoring import ScoreReport, record_report, score_file

BOOTSTRAP_REPLICATES = 1000  # 95% intervals of the test scores, over items, seeded by the run's seed


def write_predictions(
    rundir: RunDirectory, config: RunConfig, splits: dict[str, SplitData], predictions: dict[str, np.ndarray]
) -> None:
    """``predictions/validation.npz`` and ``predictions/test.npz``, each naming its split, run and crops."""
    for name, crops in (("validation", config.eval_crops_validation), ("test", config.eval_crops_test)):
        split = splits[name]
        meta = {
            "dataset": config.dataset,
            "fold": config.fold,
            "split": name,
            "fingerprint": split.fingerprint,
            "submission": config.submission,
            "run_id": rundir.run_id,
            "eval_crops": crops,
        }
        save_predictions(rundir.predictions(name), predictions[name], split.item_ids, split.tags, meta)


def score_run(
    rundir: RunDirectory, seed: int, flags: tuple[str, ...], root: Path | None
) -> tuple[ScoreReport, ScoreReport]:
    """(test report with intervals, validation report) scored from the run's files, as ``harness score`` scores them.

    ``flags`` are the run's (the fold's, and the items left out at prepare): they replace the fold's
    flags the report finds by itself. The validation report's decisions come from thresholds fitted
    on the validation file itself (the run's in-sample validation scores).
    """
    test = score_test(rundir, seed, flags, root)
    validation_file = rundir.predictions("validation")
    validation = score_file(validation_file, root=root, thresholds_from=validation_file)
    return test, validation


def score_test(rundir: RunDirectory, seed: int, flags: tuple[str, ...], root: Path | None) -> ScoreReport:
    """The run's test file scored with thresholds from its validation file and intervals seeded by ``seed``."""
    test = score_file(rundir.predictions("test"), root=root).with_bootstrap(BOOTSTRAP_REPLICATES, seed=seed)
    return dataclasses.replace(test, flags=flags)


def scores_document(report: ScoreReport, validation: ScoreReport, state: dict[str, Any]) -> dict[str, Any]:
    """``scores.json``: the test report's scores, thresholds, per-tag scores and intervals, and the run's epochs."""
    split = report.split
    thresholds = report.thresholds if report.thresholds is not None else np.full(len(split.tags), np.nan)
    return {
        "dataset": split.dataset,
        "fold": split.fold,
        "split": split.split,
        "fingerprint": split.fingerprint,
        "thresholds_source": report.thresholds_source,
        "thresholds": {tag: (float(t) if np.isfinite(t) else None) for tag, t in zip(split.tags, thresholds)},
        "scores": report.scores.values,
        "excluded_tags": list(report.scores.excluded_tags),
        "warnings": [*report.warnings, *report.scores.warnings],
        "validation_scores": validation.scores.values,
        "per_tag": report.per_tag,
        "best_epoch": state["best_epoch"],
        "epochs_run": state["epoch"],
        "flags": list(report.flags),
        "intervals": {key: interval.as_dict() for key, interval in report.intervals.items()},
        "bootstrap": report.bootstrap,
    }


def finish_run(
    rundir: RunDirectory,
    config: RunConfig,
    splits: dict[str, SplitData],
    predictions: dict[str, np.ndarray],
    state: dict[str, Any],
    flags: tuple[str, ...],
    env: dict[str, Any],
    started: float,
    device: torch.device,
    store_path: Path | None,
    external_data: bool,
    root: Path | None,
) -> tuple[ScoreReport, float]:
    """Write the predictions, score them, write ``scores.json`` and ``env.json``, record, mark ``done``.

    The record's provenance is the run's ``env`` (its environment with the device, data path,
    flags...) with its duration since ``started`` (scoring included), epochs and peak memory; the
    store row keeps the run's id, submission, seed, config and directory. ``env.json`` also keeps
    what the record needs beyond the provenance (``external_data``, ``finished_at``), so
    :func:`record_run_folder` records the same row from the folder alone. ``store_path`` None: the
    run is not recorded (a sweep's job; the sweep records it). Returns the test report and the duration.
    """
    write_predictions(rundir, config, splits, predictions)
    report, validation = score_run(rundir, config.seed, flags, root)
    atomic.write_json(rundir.scores_file, scores_document(report, validation, state))
    duration = time.monotonic() - started
    provenance = {
        **env,
        "duration_s": round(duration, 3),
        "best_epoch": state["best_epoch"],
        "epochs_run": state["epoch"],
        "precision": config.precision,
        "peak_memory_mb": peak_memory_mb(device),
    }
    intervals = {key: interval.as_dict() for key, interval in report.intervals.items()}
    atomic.write_json(
        rundir.env_file,
        {
            **provenance,
            "intervals": intervals,
            "bootstrap": report.bootstrap,
            "external_data": external_data,
            "finished_at": now_utc(),
        },
    )
    if store_path is not None:
        # its own run id: a run killed after recording, before `done`, records it again on resume
        record_scored_run(rundir, report, store_path, replace=True)
    rundir.mark_done()
    return report, duration


_NOT_PROVENANCE = (
    "intervals",
    "bootstrap",
    "external_data",
    "finished_at",
)  # env.json keys record_report adds or takes apart


def record_scored_run(rundir: RunDirectory, report: ScoreReport, store_path: Path, replace: bool) -> str:
    """Record a run's scored test report, with what its folder's ``config.json`` and ``env.json`` say.

    The one recording step of a run: :func:`finish_run` calls it at the end of a run and
    :func:`record_run_folder` (``harness runs ingest``, a sweep) from the folder alone, so both
    make the same row. Returns the run id.
    """
    stored = rundir.read_config()
    config = {k: v for k, v in stored.items() if k not in ("config_hash", "submission_path")}
    env = json.loads(rundir.env_file.read_text())
    provenance = {k: v for k, v in env.items() if k not in _NOT_PROVENANCE}
    external_data = env.get("external_data")
    if external_data is None:  # a folder written before env.json kept it: ask the submission
        external_data = _submission_external_data(stored.get("submission_path"))
    return record_report(
        report,
        store_path,
        team="harness",
        run_name=f"seed-{config['seed']}",
        external_data=bool(external_data),
        replace=replace,
        run_id=rundir.run_id,
        submission=config["submission"],
        seed=config["seed"],
        config=config,
        run_dir=rundir.path.resolve(),
        provenance=provenance,
        created=env.get("finished_at") or _done_time(rundir),
    )


def record_run_folder(rundir: RunDirectory, store_path: Path, root: Path | None = None, replace: bool = False) -> str:
    """Score a finished run folder's test predictions as the run did and record it; the run id.

    The scores equal the run's own (``scores.json``): the same file, thresholds from its
    validation file, the same flags and the bootstrap seeded by the run's seed.
    """
    config = rundir.read_config()
    flags = tuple(json.loads(rundir.scores_file.read_text()).get("flags", ()))
    report = score_test(rundir, config["seed"], flags, root)
    return record_scored_run(rundir, report, store_path, replace)


def _submission_external_data(path: str | None) -> bool:
    if not path:
        return False
    try:
        from harness.submissions import load_submission

        return bool(load_submission(path).spec.external_data)
    except Exception:  # noqa: BLE001 - a submission moved or changed since: the common case is False
        return False


def _done_time(rundir: RunDirectory) -> str:
    if not rundir.done_file.is_file():
        return ""
    stamp = datetime.fromtimestamp(rundir.done_file.stat().st_mtime, UTC)
    return stamp.isoformat(timespec="microseconds").replace("+00:00", "Z")
