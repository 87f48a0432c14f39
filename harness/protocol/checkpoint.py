"""A run's checkpoints: one plain dict, ``last.pt`` every epoch and ``best.pt`` at each improvement.

The dict holds the model's and the optimiser's state, the model-selection state (epoch, best
metric, best epoch, epochs without improvement), both random generators, the config hash, the best
epoch's validation predictions and the log so far: enough for ``--resume`` to continue exactly where
a killed run stopped, and for the test predictions to come from the best weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from harness.results.rundir import RunDirectory


def fresh_state() -> dict[str, Any]:
    """The model-selection state before the first epoch."""
    return {"epoch": 0, "best_metric": -math.inf, "best_epoch": 0, "bad_epochs": 0}


@dataclass
class Progress:
    """Where training stands: the selection state, the best epoch's validation predictions, the log."""

    state: dict[str, Any] = field(default_factory=fresh_state)
    best_validation: np.ndarray | None = None
    log: list[dict[str, Any]] = field(default_factory=list)  # the log's entries, also kept in every checkpoint


def make_checkpoint(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None,
    progress: Progress,
    np_rng: np.random.Generator,
    config_hash: str,
) -> dict[str, Any]:
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "state": progress.state,
        "numpy_rng": np_rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),
        "config_hash": config_hash,
        "best_validation": progress.best_validation,
        "log": progress.log,
    }


def save(rundir: RunDirectory, checkpoint: dict[str, Any], improved: bool) -> None:
    """``best.pt`` when the epoch improved on the selection metric, ``last.pt`` always (each atomic)."""
    if improved:
        rundir.save_checkpoint("best", checkpoint)
    rundir.save_checkpoint("last", checkpoint)


def resume(
    rundir: RunDirectory,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None,
    np_rng: np.random.Generator,
    device: torch.device,
) -> Progress | None:
    """Load ``last.pt`` of an unfinished run into the model, the optimiser and both generators; None without one."""
    path = rundir.checkpoint("last")
    if not path.is_file():
        return None
    checkpoint = torch.load(path, map_location=device, weights_only=False)
    model.load_state_dict(checkpoint["model"])
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    np_rng.bit_generator.state = checkpoint["numpy_rng"]
    torch.set_rng_state(checkpoint["torch_rng"])
    return Progress(checkpoint["state"], checkpoint.get("best_validation"), list(checkpoint.get("log", [])))


def load_best(rundir: RunDirectory, model: torch.nn.Module, device: torch.device) -> np.ndarray:
    """Load ``best.pt`` into the model; returns the validation predictions these very weights made."""
    best = torch.load(rundir.checkpoint("best"), map_location=device, weights_only=False)
    model.load_state_dict(best["model"])
    return best["best_validation"]
