"""``harness run``: train a submission under the shared protocol, predict, score and record.

config -> device -> data -> model -> optimiser -> loop, top to bottom:

1. Resolve the dataset, its folds (``--fold all``, the default of the CAL500 family, means every
   fold of the main set) and the submission; prepare the store of the submission's feature kind
   (generating ``toy`` on first use). stft-square crops are the whole K x K image.
2. Per fold and seed: a frozen ``RunConfig`` (hashed), a run directory with ``config.json`` and
   ``env.json``. A finished run of the same configuration is reused unless ``force``; ``resume``
   continues an unfinished one from ``last.pt``.
3. Train and predict (:mod:`harness.protocol.fit`; checkpoints in :mod:`harness.protocol.checkpoint`,
   the device, precision and data path in :mod:`harness.protocol.device`): the epoch loop with model
   selection on the dataset's selection metric, then the test predictions of the best checkpoint.
4. End at files, then score and record them as ``harness score --record`` does
   (:mod:`harness.protocol.finish`): ``predictions/{validation,test}.npz``; ``scores.json`` from
   ``score_file`` on ``test.npz`` (thresholds from its ``validation.npz``); the record through
   ``record_report``; ``done`` last. With several folds, :func:`summarise_folds` scores the folds
   together (per fold, mean ± std, pooled out-of-fold) into ``runs/<dataset>/all-folds/<submission>/``.

Items whose audio was skipped at ``prepare`` (corrupt, empty, too short) are left out of train and
validation with a flag in the run's provenance; a test item without features stops the run, since
its scores would not compare with anyone's.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import torch

from harness import atomic
from harness.datasets import open_dataset
from harness.datasets.registry import DatasetSpec
from harness.datasets.splits import SplitData
from harness.features.extract import prepare_features, square_params_for
from harness.features.store import FeatureStore
from harness.protocol import distributed
from harness.protocol.claim import claim_run_directory, result_from_done
from harness.protocol.config import RunConfig
from harness.protocol.device import pick_device, pick_precision, place_features, reset_peak_memory
from harness.protocol.finish import finish_run
from harness.protocol.fit import fit_and_predict, selection_value
from harness.protocol.folds import leave_out_unextracted, resolve_folds, summarise_folds
from harness.protocol.request import RunObserver, RunRequest, RunResult
from harness.provenance import environment
from harness.results.rundir import RunDirectory
from harness.submissions import Submission, load_submission

__all__ = [
    "pick_device",
    "pick_precision",
    "place_features",
    "resolve_folds",
    "run",
    "selection_value",
    "summarise_folds",
]


def run(request: RunRequest, observer: RunObserver | None = None) -> list[RunResult]:
    """Train and score every (fold, seed) of ``request``; under torchrun, as one rank of a DDP job."""
    dist = distributed.from_environment()
    observer = observer if observer is not None and dist.is_main else RunObserver()
    try:
        return _run(request, observer, dist)
    finally:
        distributed.shutdown(dist)


def _run(request: RunRequest, observer: RunObserver, dist: distributed.Dist) -> list[RunResult]:
    submission = load_submission(request.submission)
    dataset = open_dataset(request.dataset, request.root)
    spec = dataset.spec
    folds = resolve_folds(spec, request.fold)
    device = pick_device(request.device)
    if dist.enabled and device.type == "cuda":
        device = torch.device("cuda", dist.local_rank)
        torch.cuda.set_device(device)
    distributed.init(dist, device)
    precision = pick_precision(request.precision, device)
    epochs = run_epochs(request.epochs, submission, spec)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    kind = submission.spec.feature
    square = square_params_for(spec, kind)
    submission.input_size(spec)  # a conflict (stft-square crop vs the dataset's K) refused before preparing
    observer.stage(f"preparing {spec.name} ({kind} features)")
    if dist.is_main:
        store = prepare_features(
            dataset,
            kind,
            device,
            on_source=observer.source_progress,
            on_item=lambda state: observer.feature_progress(state.done, state.total),
            square=square,
            on_wait=observer.stage,  # another prepare or run of this root holds its lock
        )
    distributed.barrier(dist)
    if not dist.is_main:  # the other ranks open the store rank 0 has made
        store = FeatureStore(dataset.features_dir(kind))
    features, data_path = place_features(store, device, request.data_path)  # once for every fold and seed
    observer.stage(f"data path: {data_path}")
    results = []
    for fold in folds:
        splits = {name: dataset.split(fold, name) for name in ("train", "validation", "test")}
        flags = dataset.fold_flags(fold)
        splits, left_out = leave_out_unextracted(splits, store)
        for flag in (*flags, *left_out):
            observer.stage(f"warning: {fold}: {flag}")
        for seed in request.seeds:
            config = run_config(submission, spec, fold, seed, epochs, precision, splits, device)
            results.append(
                _run_one(
                    config,
                    submission,
                    store,
                    features,
                    splits,
                    device,
                    request,
                    observer,
                    (*flags, *left_out),
                    dist,
                    data_path,
                )
            )
    return results


def run_epochs(epochs: int | None, submission: Submission, spec: DatasetSpec) -> int:
    """The epochs a run trains: ``--epochs``, else the submission's capped by the dataset's; 0 if it does not train."""
    if not submission.spec.trains:
        return 0
    return epochs or min(submission.spec.epochs, spec.protocol.max_epochs or submission.spec.epochs)


def run_config(
    submission: Submission,
    spec: DatasetSpec,
    fold: str,
    seed: int,
    epochs: int,
    precision: str,
    splits: dict[str, SplitData],
    device: torch.device,
) -> RunConfig:
    """The frozen configuration of one (fold, seed): what its hash, and so its run directory, depends on."""
    return RunConfig(
        dataset=spec.name,
        fold=fold,
        submission=submission.name,
        seed=seed,
        feature=submission.spec.feature,
        crop_frames=submission.input_size(spec),  # mel96: its crop_frames; stft-square: the dataset's K
        optimizer=submission.spec.optimizer,
        lr=submission.spec.lr,
        weight_decay=submission.spec.weight_decay,
        batch_size=submission.spec.batch_size,
        epochs=epochs,
        patience=submission.spec.patience,
        eval_crops_validation=spec.protocol.eval_crops_validation,
        eval_crops_test=spec.protocol.eval_crops_test,
        selection_metric=spec.protocol.selection_metric,
        precision=precision,
        train_fingerprint=splits["train"].fingerprint,
        validation_fingerprint=splits["validation"].fingerprint,
        test_fingerprint=splits["test"].fingerprint,
        # Small batches keep a CPU's caches warm; a GPU wants large ones. Results do not depend on it.
        eval_batch_size=256 if device.type == "cuda" else 16,
    )


def _run_one(
    config: RunConfig,
    submission: Submission,
    store: FeatureStore,
    features: torch.Tensor,
    splits: dict[str, SplitData],
    device: torch.device,
    request: RunRequest,
    observer: RunObserver,
    flags: tuple[str, ...],
    dist: distributed.Dist = distributed.Dist(),
    data_path: str = "device-resident",
) -> RunResult:
    """Pick the run directory (reuse, resume or new), hold its lock for the whole run, train, score, record."""
    with contextlib.ExitStack() as held:
        kind, rundir = claim_run_directory(config, request, dist, held)
        if kind == "reuse":
            observer.stage(
                f"{config.fold} seed {config.seed}: run {rundir.run_id} of this configuration is done; reusing it (--force trains again)"
            )
            return result_from_done(rundir, config)
        previous = rundir if kind == "resume" else None
        return _train_score_record(
            rundir,
            previous,
            config,
            submission,
            store,
            features,
            splits,
            device,
            request,
            observer,
            flags,
            dist,
            data_path,
        )


def _train_score_record(
    rundir: RunDirectory,
    previous: RunDirectory | None,
    config: RunConfig,
    submission: Submission,
    store: FeatureStore,
    features: torch.Tensor,
    splits: dict[str, SplitData],
    device: torch.device,
    request: RunRequest,
    observer: RunObserver,
    flags: tuple[str, ...],
    dist: distributed.Dist,
    data_path: str,
) -> RunResult:
    started = time.monotonic()
    reset_peak_memory(device)
    env = {
        **environment(device),
        "seed": config.seed,
        "config_hash": config.hash,
        "flags": list(flags),
        "world_size": dist.world,
        "data_path": data_path,
        "compile": request.compile,
    }
    if dist.is_main:
        if previous is None:
            atomic.write_json(
                rundir.config_file,
                {**config.as_dict(), "config_hash": config.hash, "submission_path": str(submission.path)},
            )
        atomic.write_json(rundir.env_file, env)

    fitted = fit_and_predict(
        rundir,
        previous,
        config,
        submission,
        store,
        features,
        splits,
        device,
        request.compile,
        observer,
        dist,
        data_path,
    )
    if not dist.is_main:  # only rank 0 writes, scores and records
        distributed.barrier(dist)
        return RunResult(
            rundir.run_id,
            rundir.path,
            {},
            fitted.state["best_epoch"],
            time.monotonic() - started,
            fold=config.fold,
            seed=config.seed,
            submission=config.submission,
            config_hash=config.hash,
        )
    report, duration = finish_run(
        rundir,
        config,
        splits,
        fitted.predictions,
        fitted.state,
        flags,
        env,
        started,
        device,
        Path(request.store_path) if request.record else None,
        submission.spec.external_data,
        request.root,
    )
    distributed.barrier(dist)
    return RunResult(
        rundir.run_id,
        rundir.path,
        report.scores.values,
        fitted.state["best_epoch"],
        duration,
        fold=config.fold,
        seed=config.seed,
        submission=config.submission,
        config_hash=config.hash,
    )
