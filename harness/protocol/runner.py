"""``harness run``: train a submission under the shared protocol, predict, score and record.

config -> device -> data -> model -> optimiser -> loop, top to bottom:

1. Resolve the dataset, fold and submission; prepare the feature store (generating ``toy`` on
   first use).
2. Per seed: a frozen ``RunConfig`` (hashed), a run directory with ``config.json`` and ``env.json``.
3. Train: one random crop per item per epoch, validation with ``eval_crops_validation`` crops every
   epoch, model selection on the dataset's selection metric with patience; ``last.pt`` every
   epoch, ``best.pt`` at each improvement.
4. From the best checkpoint: test predictions with ``eval_crops_test`` crops; thresholds fitted on
   the validation predictions; the official scores of the test split.
5. ``predictions/{validation,test}.npz``, ``scores.json``, a record in the results store, and
   ``done`` last.
"""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from harness import atomic
from harness.datasets import open_dataset
from harness.datasets.registry import DatasetSpec
from harness.datasets.splits import SplitData
from harness.errors import BadInputError, RunFailedError
from harness.features.extract import prepare_features
from harness.features.store import FeatureStore
from harness.metrics.bootstrap import bootstrap_intervals
from harness.metrics.decisions import apply_thresholds, fit_thresholds_on_validation
from harness.metrics.official import official_scores, per_tag_scores
from harness.protocol.config import RunConfig
from harness.protocol.crops import CropGatherer
from harness.protocol.loop import predict, train_epoch
from harness.protocol.provenance import environment
from harness.protocol.request import RunObserver, RunRequest, RunResult
from harness.results.predictions import save_predictions
from harness.results.rundir import RunDirectory, find_resumable
from harness.results.store import ResultsStore, RunRecord
from harness.scoring import scorer_for
from harness.submissions import Submission, load_submission


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
    """``auto``: bf16 autocast on CUDA and on CPUs with native bf16 (AVX512-BF16/AMX), else fp32."""
    if requested != "auto":
        return requested
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    cpu_bf16 = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
    return "bf16" if cpu_bf16 else "fp32"


def run(request: RunRequest, observer: RunObserver | None = None) -> list[RunResult]:
    observer = observer or RunObserver()
    submission = load_submission(request.submission)
    dataset = open_dataset(request.dataset, request.root)
    spec = dataset.spec
    fold = spec.resolve_fold(request.fold)
    if submission.spec.feature != spec.protocol.feature:
        raise BadInputError(
            f"{submission.path / 'submission.toml'}: feature {submission.spec.feature!r}, but {spec.name} "
            f"is evaluated on {spec.protocol.feature!r}"
        )
    device = pick_device(request.device)
    precision = pick_precision(request.precision, device)
    epochs = request.epochs or min(submission.spec.epochs, spec.protocol.max_epochs or submission.spec.epochs)

    observer.stage(f"preparing {spec.name} ({submission.spec.feature} features)")
    store = prepare_features(
        dataset, submission.spec.feature, device, on_source=observer.source_progress, on_item=observer.feature_progress
    )
    splits = {name: dataset.split(fold, name) for name in ("train", "validation", "test")}
    flags = dataset.fold_flags(fold)
    for flag in flags:
        observer.stage(f"warning: {fold}: {flag}")
    features = store.to_tensor(device if device.type == "cuda" else "cpu")  # once for every seed
    results = []
    for seed in request.seeds:
        config = RunConfig(
            dataset=spec.name,
            fold=fold,
            submission=submission.name,
            seed=seed,
            feature=submission.spec.feature,
            crop_frames=submission.spec.crop_frames,
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
        results.append(_run_one(config, submission, store, features, splits, device, request, observer, flags, spec))
    return results


def _new_run_id(config: RunConfig) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-seed{config.seed}-{config.hash[:8]}"


def _make_optimizer(config: RunConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    params = model.parameters()
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(params, lr=config.lr, momentum=0.9, weight_decay=config.weight_decay)


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
) -> RunResult:
    parent = Path(request.runs_root) / config.dataset / config.fold / config.submission
    previous = find_resumable(parent, config.hash) if request.resume else None
    if previous is not None and previous.is_done():
        observer.stage(f"run {previous.run_id} with this configuration is already done; reusing it")
        return _result_from_done(previous)
    rundir = previous or RunDirectory.for_run(request.runs_root, config.dataset, config.fold, config.submission, _new_run_id(config))
    started = time.monotonic()
    if previous is None:
        atomic.write_json(rundir.config_file, {**config.as_dict(), "config_hash": config.hash, "submission_path": str(submission.path)})
    env = {**environment(device), "seed": config.seed, "config_hash": config.hash, "flags": list(flags)}
    atomic.write_json(rundir.env_file, env)

    torch.manual_seed(config.seed)
    np_rng = np.random.default_rng(config.seed)
    num_tags = len(splits["train"].tags)
    model = submission.build(num_tags).to(device, memory_format=torch.channels_last)
    optimizer = _make_optimizer(config, model)

    gatherer = CropGatherer(features, store.index.offsets, store.index.n_frames, config.crop_frames, device)
    rows = {name: store.index.positions(split.item_ids) for name, split in splits.items()}
    frames = {name: store.index.n_frames[rows[name]] for name in splits}
    train_labels = torch.as_tensor(splits["train"].labels, dtype=torch.float32, device=device)

    state = {"epoch": 0, "best_metric": -math.inf, "best_epoch": 0, "bad_epochs": 0}
    best_validation: np.ndarray | None = None
    resumed = False
    if previous is not None and previous.checkpoint("last").is_file():
        checkpoint = torch.load(previous.checkpoint("last"), map_location=device, weights_only=False)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        state = checkpoint["state"]
        best_validation = checkpoint.get("best_validation")
        np_rng.bit_generator.state = checkpoint["numpy_rng"]
        torch.set_rng_state(checkpoint["torch_rng"])
        resumed = True
        observer.stage(f"resuming {rundir.run_id} after epoch {state['epoch']}")

    selection = config.selection_metric
    while state["epoch"] < config.epochs:
        if config.patience is not None and state["bad_epochs"] >= config.patience:
            break
        epoch = state["epoch"] + 1
        observer.epoch_start(epoch, config.epochs, len(rows["train"]) + len(rows["validation"]) * config.eval_crops_validation)
        tick = time.monotonic()
        loss = train_epoch(
            model, optimizer, gatherer, rows["train"], frames["train"], train_labels, config.crop_frames,
            config.batch_size, np_rng, config.precision, observer.advance,
        )
        if not math.isfinite(loss):
            raise RunFailedError(f"{config.submission}: training loss is {loss} at epoch {epoch}; lower the learning rate")
        val_scores = predict(
            model, gatherer, rows["validation"], frames["validation"], config.crop_frames,
            config.eval_crops_validation, config.eval_batch_size, config.precision, observer.advance,
        )
        metric = official_scores(splits["validation"].labels, val_scores).values[selection]
        improved = metric > state["best_metric"]
        if improved:
            best_validation = val_scores
        state = {
            "epoch": epoch,
            "best_metric": metric if improved else state["best_metric"],
            "best_epoch": epoch if improved else state["best_epoch"],
            "bad_epochs": 0 if improved else state["bad_epochs"] + 1,
        }
        checkpoint = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "state": state,
            "numpy_rng": np_rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "config_hash": config.hash,
            "best_validation": best_validation,
        }
        if improved:
            rundir.save_checkpoint("best", checkpoint)
        rundir.save_checkpoint("last", checkpoint)
        entry = {
            "epoch": epoch,
            "train_loss": loss,
            f"validation_{selection}": metric,
            "best_epoch": state["best_epoch"],
            "seconds": round(time.monotonic() - tick, 3),
        }
        rundir.append_log(entry)
        observer.epoch_end(entry)

    observer.stage("predicting the test split with the best checkpoint")
    best = torch.load(rundir.checkpoint("best"), map_location=device, weights_only=False)
    model.load_state_dict(best["model"])
    # The best epoch's validation predictions were made by exactly these weights: keep them.
    predictions = {"validation": best["best_validation"]}
    predictions["test"] = predict(
        model, gatherer, rows["test"], frames["test"], config.crop_frames, config.eval_crops_test,
        config.eval_batch_size, config.precision,
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
    per_tag = per_tag_scores(test.labels, predictions["test"], decisions, tags=test.tags)
    intervals = {
        key: interval.as_dict()
        for key, interval in bootstrap_intervals(
            test.labels, predictions["test"], decisions, n=BOOTSTRAP_REPLICATES, seed=config.seed
        ).items()
    }
    duration = time.monotonic() - started
    scores_doc = {
        "dataset": config.dataset, "fold": config.fold, "split": "test", "fingerprint": test.fingerprint,
        "thresholds_source": "validation", "thresholds": {tag: (float(t) if np.isfinite(t) else None) for tag, t in zip(test.tags, thresholds)},
        "scores": scored.values, "excluded_tags": list(scored.excluded_tags), "warnings": list(scored.warnings),
        "validation_scores": validation.values, "per_tag": per_tag, "best_epoch": state["best_epoch"],
        "epochs_run": state["epoch"], "flags": list(flags),
        "intervals": intervals, "bootstrap": {"n": BOOTSTRAP_REPLICATES, "seed": config.seed, "confidence": 0.95},
    }
    atomic.write_json(rundir.scores_file, scores_doc)
    provenance = {
        **env, "duration_s": round(duration, 3), "best_epoch": state["best_epoch"], "epochs_run": state["epoch"],
        "precision": config.precision, "intervals": intervals,
        "bootstrap": {"n": BOOTSTRAP_REPLICATES, "seed": config.seed, "confidence": 0.95},
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
    )
    rundir.mark_done()
    return RunResult(rundir.run_id, rundir.path, scored.values, validation.values, state["best_epoch"], duration, resumed)


def _result_from_done(rundir: RunDirectory) -> RunResult:
    doc = json.loads(rundir.scores_file.read_text())
    env = json.loads(rundir.env_file.read_text())
    return RunResult(
        rundir.run_id, rundir.path, doc["scores"], doc.get("validation_scores", {}), doc.get("best_epoch", 0),
        float(env.get("duration_s", 0.0)), reused=True,
    )
