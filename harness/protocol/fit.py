"""Training under the protocol: build the model, the epoch loop, validation and model selection.

One random crop per item per epoch; validation with ``eval_crops_validation`` crops every epoch;
model selection on the dataset's selection metric with patience (a decision metric such as
F-score-macro is computed with thresholds fitted on the validation predictions); ``last.pt`` every
epoch, ``best.pt`` at each improvement. A submission with ``epochs = 0`` is not trained: its model
(after ``fit_labels`` on the training labels, when it defines one) is evaluated as built. Then the
test predictions of the best checkpoint, with ``eval_crops_test`` crops.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from harness.datasets.splits import SplitData
from harness.errors import BadInputError, RunFailedError
from harness.features.store import FeatureStore
from harness.metrics.decisions import apply_thresholds, fit_thresholds_on_validation
from harness.metrics.official import SCORE_KEYS, official_scores
from harness.protocol import checkpoint, distributed
from harness.protocol.config import RunConfig
from harness.protocol.crops import CropGatherer, StreamingGatherer
from harness.protocol.loop import predict, train_epoch
from harness.protocol.request import RunObserver
from harness.results.rundir import RunDirectory
from harness.submissions import Submission, make_optimizer


@dataclass(frozen=True)
class Fitted:
    state: dict[str, Any]  # the selection state at the end: epoch (epochs run), best_epoch, ...
    predictions: dict[str, np.ndarray]  # "validation" (the best epoch's) and "test" (the best checkpoint's)


def fit_and_predict(
    rundir: RunDirectory,
    previous: RunDirectory | None,
    config: RunConfig,
    submission: Submission,
    store: FeatureStore,
    features: torch.Tensor,
    splits: dict[str, SplitData],
    device: torch.device,
    compile_model: bool,
    observer: RunObserver,
    dist: distributed.Dist,
    data_path: str,
) -> Fitted:
    """Train (or resume ``previous``), checkpoint into ``rundir``, and predict validation and test."""
    main = dist.is_main
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
    if compile_model and config.epochs > 0:
        trained = torch.compile(trained)  # the same weights: checkpoints keep saving `model`
    # Every forward pass checked (a tuple, a dict, a wrong width: one line naming model.py, on the first batch).
    trained, predictor = submission.checked(trained, num_tags), submission.checked(model, num_tags)

    make_gatherer = StreamingGatherer if data_path == "streamed" else CropGatherer
    gatherer = make_gatherer(features, store.index.offsets, store.index.n_frames, config.crop_frames, device)
    rows = {name: store.index.positions(split.item_ids) for name, split in splits.items()}
    frames = {name: store.index.n_frames[rows[name]] for name in splits}

    progress = checkpoint.Progress()
    resumed = checkpoint.resume(previous, model, optimizer, np_rng, device) if previous is not None else None
    if resumed is not None:
        progress = resumed
        if main:  # the log says exactly what the checkpoint holds (a kill between the two loses nothing)
            rundir.write_log(progress.log)
        observer.stage(f"resuming {rundir.run_id} after epoch {progress.state['epoch']}")

    selection = config.selection_metric
    observer.run_start(f"{config.fold} seed {config.seed}", config.epochs)

    def validate_and_checkpoint(epoch: int, loss: float | None, tick: float) -> None:
        _sync_buffers(model, dist)  # batch-norm statistics of rank 0 on every rank, as the checkpoint holds them
        val_scores = predict(
            predictor,
            gatherer,
            rows["validation"],
            frames["validation"],
            config.crop_frames,
            config.eval_crops_validation,
            config.eval_batch_size,
            config.precision,
            observer.advance,
            dist,
        )
        check_finite(val_scores, submission, f"the validation predictions after epoch {epoch}")
        metric = selection_value(splits["validation"].labels, val_scores, selection)
        state = progress.state
        improved = metric > state["best_metric"] or epoch == 0
        if improved:
            progress.best_validation = val_scores
        progress.state = {
            "epoch": epoch,
            "best_metric": metric if improved else state["best_metric"],
            "best_epoch": epoch if improved else state["best_epoch"],
            "bad_epochs": 0 if improved else state["bad_epochs"] + 1,
        }
        entry = {
            "epoch": epoch,
            "train_loss": loss,
            f"validation_{selection}": metric,
            "best_epoch": progress.state["best_epoch"],
            "seconds": round(time.monotonic() - tick, 3),
        }
        progress.log.append(entry)
        if main:
            checkpoint.save(
                rundir, checkpoint.make_checkpoint(model, optimizer, progress, np_rng, config.hash), improved
            )
            rundir.append_log(entry)
        observer.epoch_end(entry)

    if config.epochs == 0 and not (
        previous is not None and previous.checkpoint("best").is_file()
    ):  # no training: evaluate the model as built
        observer.epoch_start(0, 0, len(rows["validation"]) * config.eval_crops_validation)
        validate_and_checkpoint(0, None, time.monotonic())
    while progress.state["epoch"] < config.epochs:
        if config.patience is not None and progress.state["bad_epochs"] >= config.patience:
            break
        epoch = progress.state["epoch"] + 1
        observer.epoch_start(
            epoch, config.epochs, len(rows["train"]) + len(rows["validation"]) * config.eval_crops_validation
        )
        tick = time.monotonic()
        with submission.user_code(f"training epoch {epoch}", only_from_model=True):  # e.g. a custom backward
            loss = train_epoch(
                trained,
                optimizer,
                gatherer,
                rows["train"],
                frames["train"],
                train_labels,
                config.crop_frames,
                config.batch_size,
                np_rng,
                config.precision,
                observer.advance,
                dist,
            )
        if not math.isfinite(loss):
            raise RunFailedError(
                f"{config.submission}: training loss is {loss} at epoch {epoch}; lower the learning rate"
            )
        validate_and_checkpoint(epoch, loss, tick)

    observer.stage("predicting the test split with the best checkpoint")
    distributed.barrier(dist)  # rank 0 has written best.pt
    # The best epoch's validation predictions were made by exactly these weights: keep them.
    predictions = {"validation": checkpoint.load_best(rundir, model, device)}
    predictions["test"] = predict(
        predictor,
        gatherer,
        rows["test"],
        frames["test"],
        config.crop_frames,
        config.eval_crops_test,
        config.eval_batch_size,
        config.precision,
        dist=dist,
    )
    check_finite(predictions["test"], submission, "the test predictions of the best checkpoint")
    return Fitted(progress.state, predictions)


def selection_value(labels: np.ndarray, scores: np.ndarray, metric: str) -> float:
    """The model-selection metric on validation; decision metrics use thresholds fitted on these predictions."""
    decisions = None
    if metric not in SCORE_KEYS:
        decisions = apply_thresholds(scores, fit_thresholds_on_validation(labels, scores))
    values = official_scores(labels, scores, decisions).values
    if metric not in values:
        raise BadInputError(f"selection metric {metric!r}: not one of {', '.join(values)}")
    return float(values[metric])


def check_finite(scores: np.ndarray, submission: Submission, what: str) -> None:
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
