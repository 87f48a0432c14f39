"""``harness run``: train a submission under the shared protocol, predict, score and record.

config -> device -> data -> model -> optimiser -> loop, top to bottom:

1. Resolve the dataset, its folds (``--fold all``, the default of the CAL500 family, means every
   fold of the main set) and the submission; prepare the store of the submission's feature kind
   (generating ``toy`` on first use). stft-square crops are the whole K x K image.
2. Per fold and seed: a frozen ``RunConfig`` (hashed), a run directory with ``config.json`` and
   ``env.json``. A finished run of the same configuration is reused unless ``force``; ``resume``
   continues an unfinished one from ``last.pt``.
3. Train: one random crop per item per epoch, validation with ``eval_crops_validation`` crops every
   epoch, model selection on the dataset's selection metric with patience (a decision metric such
   as F-score-macro is computed with thresholds fitted on the validation predictions); ``last.pt``
   every epoch, ``best.pt`` at each improvement. A submission with ``epochs = 0`` is not trained:
   its model (after ``fit_labels`` on the training labels, when it defines one) is evaluated as built.
4. From the best checkpoint: test predictions with ``eval_crops_test`` crops; thresholds fitted on
   the validation predictions; the official scores of the test split.
5. ``predictions/{validation,test}.npz``, ``scores.json``, a record in the results store, and
   ``done`` last. With several folds, :func:`summarise_folds` scores the folds together (per fold,
   mean ± std, pooled out-of-fold) into ``runs/<dataset>/all-folds/<submission>/``.

Items whose audio was skipped at ``prepare`` (corrupt, empty, too short) are left out of train and
validation with a flag in the run's provenance; a test item without features stops the run, since
its scores would not compare with anyone's.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness import atomic
from harness.datasets import open_dataset
from harness.datasets.registry import DatasetSpec
from harness.datasets.splits import SplitData
from harness.errors import BadInputError, DataMissingError, RunFailedError
from harness.features.extract import prepare_features, square_params_for
from harness.features.store import FeatureStore
from harness.metrics.bootstrap import bootstrap_intervals
from harness.metrics.decisions import apply_thresholds, fit_thresholds_on_validation
from harness.metrics.official import SCORE_KEYS, official_scores
from harness.protocol import distributed
from harness.protocol.config import RunConfig
from harness.protocol.crops import CropGatherer, StreamingGatherer
from harness.protocol.loop import predict, train_epoch
from harness.provenance import environment
from harness.protocol.request import RunObserver, RunRequest, RunResult, check_data_path
from harness.results.predictions import save_predictions
from harness.results.rundir import RunDirectory, RunInUseError, find_resumable, new_run_directory, reserve_timestamped
from harness.results.store import ResultsStore, RunRecord
from harness.scoring import scorer_for
from harness.submissions import Submission, load_submission, make_optimizer


BOOTSTRAP_REPLICATES = 1000  # 95% intervals of the test scores, over items, seeded by the run's seed


def pick_device(requested: str) -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise BadInputError("--device cuda: no CUDA device is available here; use --device auto or cpu")
    if requested not in ("cpu", "cuda"):
        raise BadInputError(f"--device {requested!r}: expected auto, cpu or cuda")
    return torch.device(requested)


def pick_precision(requested: str, device: torch.device) -> str:
    """``auto``: bf16 autocast on CUDA (where supported), plain float32 on the CPU."""
    if requested != "auto":
        return requested
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "fp32"


def resolve_folds(spec: DatasetSpec, fold: str | None) -> tuple[str, ...]:
    """``all`` (or nothing, for a dataset whose protocol says ``all_folds``): the main fold set; else one fold."""
    if fold == "all" or (fold is None and spec.protocol.all_folds):
        return spec.default_folds
    return (spec.resolve_fold(fold),)


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
    epochs = request.epochs or min(submission.spec.epochs, spec.protocol.max_epochs or submission.spec.epochs)
    if not submission.spec.trains:
        epochs = 0
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    kind = submission.spec.feature
    square = square_params_for(spec, kind)
    observer.stage(f"preparing {spec.name} ({kind} features)")
    if dist.is_main:
        store = prepare_features(
            dataset, kind, device, on_source=observer.source_progress,
            on_item=lambda state: observer.feature_progress(state.done, state.total), square=square,
            on_wait=observer.stage,  # another prepare or run of this root holds its lock
        )
    distributed.barrier(dist)
    if not dist.is_main:  # the other ranks open the store rank 0 has made
        store = FeatureStore(dataset.features_dir(kind))
    crop = square.size if square is not None else submission.spec.crop_frames  # stft-square: the whole image
    features, data_path = place_features(store, device, request.data_path)  # once for every fold and seed
    observer.stage(f"data path: {data_path}")
    results = []
    for fold in folds:
        splits = {name: dataset.split(fold, name) for name in ("train", "validation", "test")}
        flags = dataset.fold_flags(fold)
        splits, left_out = _leave_out_unextracted(splits, store)
        for flag in (*flags, *left_out):
            observer.stage(f"warning: {fold}: {flag}")
        for seed in request.seeds:
            config = RunConfig(
                dataset=spec.name,
                fold=fold,
                submission=submission.name,
                seed=seed,
                feature=kind,
                crop_frames=crop,
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
            results.append(
                _run_one(config, submission, store, features, splits, device, request, observer, (*flags, *left_out), spec, dist, data_path)
            )
    return results


def _leave_out_unextracted(
    splits: dict[str, SplitData], store: FeatureStore
) -> tuple[dict[str, SplitData], tuple[str, ...]]:
    """Drop train/validation items that have no features (skipped at prepare), with a flag; test items must all be there."""
    present = set(store.index.item_ids)
    reasons = {entry["item_id"]: entry["reason"] for entry in store.skipped}
    kept, flags = {}, []
    for name, split in splits.items():
        missing = [item for item in split.item_ids if item not in present]
        if not missing:
            kept[name] = split
            continue
        shown = "; ".join(f"{item} ({reasons.get(item, 'not in the store')})" for item in missing[:3])
        if name == "test":
            raise DataMissingError(
                f"{len(missing)} test items of {split.fold} have no features: {shown}"
                f"{' ...' if len(missing) > 3 else ''}; fix their audio and run `harness datasets prepare "
                f"{split.dataset} --rebuild` (scores without them would not compare)"
            )
        mask = np.array([item in present for item in split.item_ids])
        kept[name] = SplitData(
            split.dataset, split.fold, split.split, tuple(i for i, m in zip(split.item_ids, mask) if m),
            split.tags, split.labels[mask],
        )
        flags.append(f"{len(missing)} {name} items without features (skipped at prepare) left out: {shown}")
    return kept, tuple(flags)


def summarise_folds(results: list[RunResult], runs_root: Path, root: Path | None = None) -> list[dict[str, Any]]:
    """Per seed: the folds' test predictions scored together (per fold, mean ± std, pooled), written as JSON."""
    from harness.scoring import score_folds

    summaries = []
    for seed in sorted({r.seed for r in results}):
        runs = [r for r in results if r.seed == seed]
        if len(runs) < 2:
            continue
        report = score_folds([r.run_dir / "predictions" / "test.npz" for r in runs], root=root)
        doc = {
            **report.to_json(), "seed": seed, "submission": runs[0].submission,
            "runs": {r.fold: r.run_id for r in runs}, "config_hashes": sorted({r.config_hash for r in runs}),
        }
        folder = Path(runs_root) / report.reports[0].split.dataset / "all-folds" / runs[0].submission
        # a summary made within the same second as another gets -2, -3...
        out = reserve_timestamped(folder, f"-seed{seed}.json", lambda path: path.touch(exist_ok=False))
        atomic.write_json(out, doc)
        summaries.append({**doc, "path": str(out)})
    return summaries


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
    dataset_spec: DatasetSpec,
    dist: distributed.Dist = distributed.Dist(),
    data_path: str = "device-resident",
) -> RunResult:
    """Pick the run directory (reuse, resume or new), hold its lock for the whole run, train, score, record."""
    with contextlib.ExitStack() as held:
        kind, rundir = _claim_run_directory(config, request, dist, held)
        if kind == "reuse":
            observer.stage(f"{config.fold} seed {config.seed}: run {rundir.run_id} of this configuration is done; reusing it (--force trains again)")
            return _result_from_done(rundir, config)
        previous = rundir if kind == "resume" else None
        return _train_score_record(
            rundir, previous, config, submission, store, features, splits, device, request, observer, flags,
            dataset_spec, dist, data_path,
        )


def _claim_run_directory(
    config: RunConfig, request: RunRequest, dist: distributed.Dist, held: contextlib.ExitStack
) -> tuple[str, RunDirectory]:
    """``reuse`` a finished run, ``resume`` an unfinished one (``--resume``) or a ``new`` one, locked in ``held``.

    Rank 0 decides and locks; the other ranks follow. A run another harness process holds is one
    ``RunInUseError`` on every rank, before anything is written.
    """
    decision = None
    if dist.is_main:
        try:
            decision = _decide_run_directory(config, request, held)
        except RunInUseError as exc:
            decision = ("in-use", exc.message)
    kind, detail = distributed.broadcast(decision, dist)
    if kind == "in-use":
        raise RunInUseError(detail)
    return kind, RunDirectory(Path(detail))


def _decide_run_directory(config: RunConfig, request: RunRequest, held: contextlib.ExitStack) -> tuple[str, str]:
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
    dataset_spec: DatasetSpec,
    dist: distributed.Dist,
    data_path: str,
) -> RunResult:
    main = dist.is_main
    started = time.monotonic()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    env = {
        **environment(device), "seed": config.seed, "config_hash": config.hash, "flags": list(flags),
        "world_size": dist.world, "data_path": data_path, "compile": request.compile,
    }
    if main:
        if previous is None:
            atomic.write_json(rundir.config_file, {**config.as_dict(), "config_hash": config.hash, "submission_path": str(submission.path)})
        atomic.write_json(rundir.env_file, env)

    torch.manual_seed(config.seed)
    np_rng = np.random.default_rng(config.seed)
    num_tags = len(splits["train"].tags)
    model = submission.build(num_tags).to(device, memory_format=torch.channels_last)
    train_labels = torch.as_tensor(splits["train"].labels, dtype=torch.float32, device=device)
    if callable(getattr(model, "fit_labels", None)):
        with submission.user_code(f"fit_labels on the {tuple(train_labels.shape)} training label matrix"):
            model.fit_labels(train_labels)  # e.g. the `popular` baseline learns its scores from the labels
    optimizer = make_optimizer(config, list(model.parameters())) if config.epochs > 0 else None
    trained = model
    if dist.enabled and config.epochs > 0:
        from torch.nn.parallel import DistributedDataParallel

        trained = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if request.compile and config.epochs > 0:
        trained = torch.compile(trained)  # the same weights: checkpoints keep saving `model`
    # Every forward pass checked (a tuple, a dict, a wrong width: one line naming model.py, on the first batch).
    trained, predictor = submission.checked(trained, num_tags), submission.checked(model, num_tags)

    make_gatherer = StreamingGatherer if data_path == "streamed" else CropGatherer
    gatherer = make_gatherer(features, store.index.offsets, store.index.n_frames, config.crop_frames, device)
    rows = {name: store.index.positions(split.item_ids) for name, split in splits.items()}
    frames = {name: store.index.n_frames[rows[name]] for name in splits}

    state = {"epoch": 0, "best_metric": -math.inf, "best_epoch": 0, "bad_epochs": 0}
    best_validation: np.ndarray | None = None
    history: list[dict[str, Any]] = []  # the log's entries, also kept in every checkpoint
    if previous is not None and previous.checkpoint("last").is_file():
        checkpoint = torch.load(previous.checkpoint("last"), map_location=device, weights_only=False)
        model.load_state_dict(checkpoint["model"])
        if optimizer is not None:
            optimizer.load_state_dict(checkpoint["optimizer"])
        state = checkpoint["state"]
        best_validation = checkpoint.get("best_validation")
        history = list(checkpoint.get("log", []))
        if main:  # the log says exactly what the checkpoint holds (a kill between the two loses nothing)
            rundir.write_log(history)
        np_rng.bit_generator.state = checkpoint["numpy_rng"]
        torch.set_rng_state(checkpoint["torch_rng"])
        observer.stage(f"resuming {rundir.run_id} after epoch {state['epoch']}")

    selection = config.selection_metric
    observer.run_start(f"{config.fold} seed {config.seed}", config.epochs)

    def validate_and_checkpoint(epoch: int, loss: float | None, tick: float) -> None:
        nonlocal state, best_validation
        _sync_buffers(model, dist)  # batch-norm statistics of rank 0 on every rank, as the checkpoint holds them
        val_scores = predict(
            predictor, gatherer, rows["validation"], frames["validation"], config.crop_frames,
            config.eval_crops_validation, config.eval_batch_size, config.precision, observer.advance, dist,
        )
        _check_finite(val_scores, submission, f"the validation predictions after epoch {epoch}")
        metric = selection_value(splits["validation"].labels, val_scores, selection)
        improved = metric > state["best_metric"] or epoch == 0
        if improved:
            best_validation = val_scores
        state = {
            "epoch": epoch,
            "best_metric": metric if improved else state["best_metric"],
            "best_epoch": epoch if improved else state["best_epoch"],
            "bad_epochs": 0 if improved else state["bad_epochs"] + 1,
        }
        entry = {
            "epoch": epoch,
            "train_loss": loss,
            f"validation_{selection}": metric,
            "best_epoch": state["best_epoch"],
            "seconds": round(time.monotonic() - tick, 3),
        }
        history.append(entry)
        checkpoint = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict() if optimizer is not None else None,
            "state": state,
            "numpy_rng": np_rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "config_hash": config.hash,
            "best_validation": best_validation,
            "log": history,
        }
        if main:
            if improved:
                rundir.save_checkpoint("best", checkpoint)
            rundir.save_checkpoint("last", checkpoint)
            rundir.append_log(entry)
        observer.epoch_end(entry)

    if config.epochs == 0 and not (previous is not None and previous.checkpoint("best").is_file()):  # no training: evaluate the model as built
        observer.epoch_start(0, 0, len(rows["validation"]) * config.eval_crops_validation)
        validate_and_checkpoint(0, None, time.monotonic())
    while state["epoch"] < config.epochs:
        if config.patience is not None and state["bad_epochs"] >= config.patience:
            break
        epoch = state["epoch"] + 1
        observer.epoch_start(epoch, config.epochs, len(rows["train"]) + len(rows["validation"]) * config.eval_crops_validation)
        tick = time.monotonic()
        with submission.user_code(f"training epoch {epoch}", only_from_model=True):  # e.g. a custom backward
            loss = train_epoch(
                trained, optimizer, gatherer, rows["train"], frames["train"], train_labels,
                config.crop_frames, config.batch_size, np_rng, config.precision, observer.advance, dist,
            )
        if not math.isfinite(loss):
            raise RunFailedError(f"{config.submission}: training loss is {loss} at epoch {epoch}; lower the learning rate")
        validate_and_checkpoint(epoch, loss, tick)

    observer.stage("predicting the test split with the best checkpoint")
    distributed.barrier(dist)  # rank 0 has written best.pt
    best = torch.load(rundir.checkpoint("best"), map_location=device, weights_only=False)
    model.load_state_dict(best["model"])
    # The best epoch's validation predictions were made by exactly these weights: keep them.
    predictions = {"validation": best["best_validation"]}
    predictions["test"] = predict(
        predictor, gatherer, rows["test"], frames["test"], config.crop_frames, config.eval_crops_test,
        config.eval_batch_size, config.precision, dist=dist,
    )
    _check_finite(predictions["test"], submission, "the test predictions of the best checkpoint")
    if not main:  # only rank 0 scores, writes and records
        distributed.barrier(dist)
        return RunResult(
            rundir.run_id, rundir.path, {}, state["best_epoch"], time.monotonic() - started,
            fold=config.fold, seed=config.seed, submission=config.submission, config_hash=config.hash,
        )
    for name, crops in (("validation", config.eval_crops_validation), ("test", config.eval_crops_test)):
        split = splits[name]
        meta = {
            "dataset": config.dataset, "fold": config.fold, "split": name, "fingerprint": split.fingerprint,
            "submission": config.submission, "run_id": rundir.run_id, "eval_crops": crops,
        }
        save_predictions(rundir.predictions(name), predictions[name], split.item_ids, split.tags, meta)

    thresholds = fit_thresholds_on_validation(splits["validation"].labels, predictions["validation"])
    decisions = apply_thresholds(predictions["test"], thresholds)
    test = splits["test"]
    scorer = scorer_for(dataset_spec)
    scored = scorer(test.labels, predictions["test"], decisions, tags=test.tags)
    validation = scorer(
        splits["validation"].labels, predictions["validation"],
        apply_thresholds(predictions["validation"], thresholds), tags=test.tags,
    )
    per_tag = scored.per_tag
    bootstrap: dict[str, Any] = {"n": BOOTSTRAP_REPLICATES, "seed": config.seed, "confidence": 0.95}
    intervals = {
        key: interval.as_dict()
        for key, interval in bootstrap_intervals(test.labels, predictions["test"], decisions, **bootstrap).items()
    }
    duration = time.monotonic() - started
    peak_mb = _peak_memory_mb(device)
    scores_doc = {
        "dataset": config.dataset, "fold": config.fold, "split": "test", "fingerprint": test.fingerprint,
        "thresholds_source": "validation", "thresholds": {tag: (float(t) if np.isfinite(t) else None) for tag, t in zip(test.tags, thresholds)},
        "scores": scored.values, "excluded_tags": list(scored.excluded_tags), "warnings": list(scored.warnings),
        "validation_scores": validation.values, "per_tag": per_tag, "best_epoch": state["best_epoch"],
        "epochs_run": state["epoch"], "flags": list(flags),
        "intervals": intervals, "bootstrap": bootstrap,
    }
    atomic.write_json(rundir.scores_file, scores_doc)
    provenance = {
        **env, "duration_s": round(duration, 3), "best_epoch": state["best_epoch"], "epochs_run": state["epoch"],
        "precision": config.precision, "peak_memory_mb": peak_mb, "intervals": intervals, "bootstrap": bootstrap,
    }
    atomic.write_json(rundir.env_file, provenance)
    ResultsStore(Path(request.store_path)).record(
        RunRecord(
            run_id=rundir.run_id, dataset=config.dataset, fold=config.fold, split="test",
            submission=config.submission, team="harness", run_name=f"seed-{config.seed}",
            fingerprint=test.fingerprint, scores=scored.values, tag_scores=per_tag, seed=config.seed,
            thresholds_source="validation", external_data=submission.spec.external_data,
            provenance=provenance, config=config.as_dict(), run_dir=str(rundir.path.resolve()),
        ),
        predictions=predictions["test"],
        split=test,
        replace=True,  # its own run id: a run killed after recording, before `done`, records it again on resume
    )
    rundir.mark_done()
    distributed.barrier(dist)
    return RunResult(
        rundir.run_id, rundir.path, scored.values, state["best_epoch"], duration,
        fold=config.fold, seed=config.seed, submission=config.submission, config_hash=config.hash,
    )


def selection_value(labels: np.ndarray, scores: np.ndarray, metric: str) -> float:
    """The model-selection metric on validation; decision metrics use thresholds fitted on these predictions."""
    decisions = None
    if metric not in SCORE_KEYS:
        decisions = apply_thresholds(scores, fit_thresholds_on_validation(labels, scores))
    values = official_scores(labels, scores, decisions).values
    if metric not in values:
        raise BadInputError(f"selection metric {metric!r}: not one of {', '.join(values)}")
    return float(values[metric])


RESIDENT_SHARE = 0.5  # the store goes on the GPU when it takes at most this share of its free memory


def place_features(store: FeatureStore, device: torch.device, requested: str = "auto") -> tuple[torch.Tensor, str]:
    """The store as one float16 tensor, and the data path: ``device-resident`` or ``streamed``.

    On a GPU the whole store is copied to the device in one transfer when it fits (``auto``: at most
    half the free memory, leaving the rest to the model); otherwise it stays in host memory and
    batches are streamed (gathered into pinned buffers, copied asynchronously). On the CPU the store is simply in memory. Both paths give the same
    crops for the same seed.
    """
    check_data_path(requested)
    if requested == "streamed":
        return store.to_tensor("cpu"), "streamed"
    if device.type != "cuda":
        return store.to_tensor("cpu"), "device-resident"
    free, _ = torch.cuda.mem_get_info(device)
    if requested == "resident" or store.features.nbytes <= RESIDENT_SHARE * free:
        return store.to_tensor(device), "device-resident"
    return store.to_tensor("cpu"), "streamed"


def _check_finite(scores: np.ndarray, submission: Submission, what: str) -> None:
    """NaN outputs would fail deep in the metrics; say where they came from instead (a failed run, exit 1)."""
    if not np.isfinite(scores).all():
        raise RunFailedError(
            f"{submission.model_file}: {what} hold NaN (the model's logits are NaN or infinite); "
            f"a diverged training (lower optimizer.lr in {submission.toml_file}) or a bug in forward"
        )


def _sync_buffers(model: torch.nn.Module, dist: distributed.Dist) -> None:
    """Rank 0's buffers (batch-norm running statistics) on every rank."""
    if dist.enabled:
        for buffer in model.buffers():
            torch.distributed.broadcast(buffer, src=0)


def _peak_memory_mb(device: torch.device) -> float:
    """Peak device memory of this run on CUDA; on the CPU, the process's peak resident memory."""
    if device.type == "cuda":
        return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux reports KiB


def _result_from_done(rundir: RunDirectory, config: RunConfig) -> RunResult:
    doc = json.loads(rundir.scores_file.read_text())
    env = json.loads(rundir.env_file.read_text())
    return RunResult(
        rundir.run_id, rundir.path, doc["scores"], doc.get("best_epoch", 0),
        float(env.get("duration_s", 0.0)), reused=True,
        fold=config.fold, seed=config.seed, submission=config.submission, config_hash=config.hash,
    )
