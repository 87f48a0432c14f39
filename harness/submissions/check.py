"""``harness submissions check``: a submission imported, built and exercised on seeded dummy batches.

The model is built for 8 tags and fed a seeded dummy batch of the size runs use: ``(2, 1, 96,
crop_frames)`` for mel96, ``(2, 1, K, K)`` for stft-square with K the ``square_size`` of the
dataset checked against (``--dataset``, default :data:`DEFAULT_CHECK_DATASET`):

1. calls ``fit_labels`` (when defined) on seeded random 0/1 labels;
2. runs a forward pass in train and in eval mode: the output must be ``(2, num_tags)`` and finite;
3. when the submission trains: backward passes must give finite gradients to some parameter, and
   a few steps of the submission's own optimiser and learning rate on a fixed batch of 4 with fixed
   random targets (train mode, BCE on logits) must bring the loss below its first value.

Submissions with ``epochs = 0`` skip step 3 (a model without parameters cannot pass it) and the
report says so. Every failure is a ``RunFailedError`` with one line naming the file (and the line
of ``model.py`` when the error came from there); the seed makes the check deterministic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from harness.datasets.registry import load_spec
from harness.errors import FormatError, RunFailedError
from harness.submissions.loading import Submission, count_parameters, load_submission, resolve_submission_path
from harness.submissions.optimizer import make_optimizer
from harness.submissions.user_code import logits_problem

DEFAULT_CHECK_DATASET = "toy"  # always present (embedded); its stft-square K is the registries' default, 257


def check_submission(
    name_or_path: str | Path, num_tags: int = 8, steps: int = 10, seed: int = 0, dataset: str | None = None
) -> dict[str, Any]:
    """Import, build and exercise a submission on dummy batches (see the module docstring).

    ``dataset`` (default :data:`DEFAULT_CHECK_DATASET`) sets K for stft-square. A path or name
    that is not a submission folder, or an unknown ``dataset``, is bad input
    (``BadInputError``, exit 2); everything found wrong inside the folder raises ``RunFailedError``
    (exit 1) with one line, a stft-square ``crop_frames`` that differs from the dataset's K included.
    Returns a report: name, path, parameters, input and output shapes, ``size`` (crop frames or K)
    with ``size_from`` (what set it), ``dataset``, ``trains``, ``fit_labels`` (whether it was
    called), ``loss`` (first, last, steps; None without training) and ``skipped``.
    """
    path = resolve_submission_path(name_or_path)
    dataset_spec = load_spec(dataset or DEFAULT_CHECK_DATASET)
    with torch.random.fork_rng(devices=[]):  # leave the caller's generators as they were
        torch.manual_seed(seed)
        try:
            submission = load_submission(path)
            size = submission.input_size(dataset_spec)
            model = submission.build(num_tags)
        except FormatError as exc:
            raise RunFailedError(exc.message) from exc
        generator = torch.Generator().manual_seed(seed)
        spec = submission.spec
        fitted = _check_fit_labels(submission, model, num_tags, generator)
        x = torch.randn(spec.input_shape(2, size), generator=generator)
        for mode in ("train", "eval"):
            model.train(mode == "train")
            with torch.no_grad():
                logits = _checked_forward(submission, model, x, num_tags, f"in {mode} mode")
        loss = None
        skipped: list[str] = []
        if spec.trains:
            loss = _check_training(submission, model, num_tags, steps, generator, size)
        else:
            skipped = ["backward pass", "loss decrease"]
    square = spec.feature == "stft-square"
    return {
        "name": submission.name,
        "path": str(submission.path),
        "parameters": count_parameters(model),
        "input": list(spec.input_shape(2, size)),
        "output": list(logits.shape),  # as measured (the eval-mode pass)
        "size": size,
        "size_from": f"square_size of dataset {dataset_spec.name}" if square else "crop_frames of submission.toml",
        "dataset": dataset_spec.name,
        "trains": spec.trains,
        "fit_labels": fitted,
        "loss": loss,
        "skipped": skipped,
    }


def _check_fit_labels(
    submission: Submission, model: torch.nn.Module, num_tags: int, generator: torch.Generator
) -> bool:
    fit_labels = getattr(model, "fit_labels", None)
    if fit_labels is None:
        return False
    if not callable(fit_labels):
        raise RunFailedError(f"{submission.model_file}: fit_labels is not a method (fit_labels(self, labels) -> None)")
    labels = (torch.rand(16, num_tags, generator=generator) < 0.3).float()
    with submission.user_code(f"fit_labels on a (16, {num_tags}) float32 label matrix", RunFailedError):
        fit_labels(labels)
    return True


def _checked_forward(
    submission: Submission, model: torch.nn.Module, x: torch.Tensor, num_tags: int, context: str
) -> torch.Tensor:
    model_file = submission.model_file
    shape = tuple(x.shape)
    with submission.user_code(f"forward pass on {shape} {context}", RunFailedError):
        logits = model(x)
    problem = logits_problem(logits, shape[0], num_tags)
    if problem is not None:
        raise RunFailedError(f"{model_file}: forward pass on {shape} {context} {problem}")
    if not torch.isfinite(logits).all():
        raise RunFailedError(f"{model_file}: forward pass {context} gives NaN or infinite logits")
    return logits


def _check_training(
    submission: Submission, model: torch.nn.Module, num_tags: int, steps: int, generator: torch.Generator, size: int
) -> dict[str, Any]:
    """Backward passes and a few optimiser steps on a fixed batch; the loss must fall below its first value."""
    model_file, spec = submission.model_file, submission.spec
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        raise RunFailedError(
            f"{model_file}: the model has no trainable parameters, but {submission.path / 'submission.toml'} "
            f"sets training.epochs = {spec.epochs}; use epochs = 0 for a model that is not trained"
        )
    x = torch.randn(spec.input_shape(4, size), generator=generator)
    y = (torch.rand(4, num_tags, generator=generator) < 0.5).float()
    optimizer = make_optimizer(spec, parameters)
    model.train()
    losses: list[float] = []
    for step in range(steps + 1):
        optimizer.zero_grad(set_to_none=True)
        logits = _checked_forward(submission, model, x, num_tags, f"in train mode (step {step})")
        if not logits.requires_grad:
            raise RunFailedError(f"{model_file}: the logits do not depend on any parameter (no gradient can flow)")
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
        losses.append(float(loss.detach()))
        if step > 0 and losses[-1] < losses[0]:
            break
        if step == steps:
            break
        with submission.user_code("backward pass", RunFailedError):
            loss.backward()
        grads = [p.grad for p in parameters if p.grad is not None]
        if not grads:
            raise RunFailedError(f"{model_file}: the backward pass gives no parameter a gradient")
        if not all(torch.isfinite(g).all() for g in grads):
            raise RunFailedError(f"{model_file}: the backward pass gives NaN or infinite gradients (step {step})")
        optimizer.step()
    run = len(losses) - 1
    if not losses[-1] < losses[0]:
        raise RunFailedError(
            f"{model_file}: the loss does not decrease: {losses[0]:.4g} -> {losses[-1]:.4g} after {run} {spec.optimizer} "
            f"steps (lr {spec.lr:g}, from {submission.path / 'submission.toml'}) on a fixed batch of 4; "
            f"do the logits depend on the parameters, and is the learning rate sensible?"
        )
    return {"first": losses[0], "last": losses[-1], "steps": run}
