"""The optimiser a submission names in ``[optimizer]``, as the shared protocol builds it."""

from __future__ import annotations

from typing import Protocol

import torch


class OptimizerSettings(Protocol):
    """What names an optimiser: a SubmissionSpec, or the RunConfig made from it."""

    optimizer: str
    lr: float
    weight_decay: float


def make_optimizer(spec: OptimizerSettings, parameters: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
    """The submission's optimiser, as the shared protocol builds it (SGD with momentum 0.9).

    With every parameter on a GPU the fused implementation is used (one kernel for the whole update
    instead of several per parameter tensor; PyTorch's ``fused=True``); on the CPU the default one,
    so CPU runs stay bit-for-bit reproducible with earlier ones.
    """
    fused = {"fused": True} if parameters and all(p.is_cuda for p in parameters) else {}
    if spec.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=spec.lr, weight_decay=spec.weight_decay, **fused)
    if spec.optimizer == "adamw":
        return torch.optim.AdamW(parameters, lr=spec.lr, weight_decay=spec.weight_decay, **fused)
    return torch.optim.SGD(parameters, lr=spec.lr, momentum=0.9, weight_decay=spec.weight_decay, **fused)
