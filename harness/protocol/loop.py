"""One training epoch and multi-crop prediction, the two steps of the shared protocol."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
import torch
from torch.nn import functional as F

from harness.protocol.crops import CropGatherer, evenly_spaced_starts, random_starts


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[object]:
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def train_epoch(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    gatherer: CropGatherer,
    rows: np.ndarray,
    n_frames: np.ndarray,
    labels: torch.Tensor,
    crop: int,
    batch_size: int,
    rng: np.random.Generator,
    precision: str,
    on_batch: Callable[[int], None] | None = None,
) -> float:
    """One random crop per item, shuffled, BCE on logits. Returns the mean training loss.

    ``labels`` is a float tensor (items, tags) on the model's device, aligned with ``rows``. A last
    batch of a single item is dropped (batch-norm needs two); the loss is summed on the device and
    read once per epoch.
    """
    model.train()
    device = labels.device
    order = rng.permutation(len(rows))
    starts = random_starts(n_frames[order], crop, rng)
    total = torch.zeros((), device=device)
    seen = 0
    for begin in range(0, len(order), batch_size):
        batch = order[begin : begin + batch_size]
        if len(batch) < 2:
            break
        x = gatherer.gather(rows[batch], starts[begin : begin + len(batch)])
        with autocast(device, precision):
            logits = model(x)
        loss = F.binary_cross_entropy_with_logits(logits.float(), labels[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(batch)
        seen += len(batch)
        if on_batch is not None:
            on_batch(len(batch))
    return float(total.item() / max(seen, 1))


@torch.inference_mode()
def predict(
    model: torch.nn.Module,
    gatherer: CropGatherer,
    rows: np.ndarray,
    n_frames: np.ndarray,
    crop: int,
    n_crops: int,
    batch_size: int,
    precision: str,
    on_batch: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Sigmoid outputs averaged over ``n_crops`` evenly spaced crops: float32 (items, tags)."""
    model.eval()
    device = gatherer.device
    starts = evenly_spaced_starts(n_frames, crop, n_crops)  # (items, k)
    flat_rows = np.repeat(rows, n_crops)
    flat_starts = starts.reshape(-1)
    outputs = []
    for begin in range(0, len(flat_rows), batch_size):
        x = gatherer.gather(flat_rows[begin : begin + batch_size], flat_starts[begin : begin + batch_size])
        with autocast(device, precision):
            outputs.append(torch.sigmoid(model(x).float()))
        if on_batch is not None:
            on_batch(x.shape[0])
    probs = torch.cat(outputs).reshape(len(rows), n_crops, -1).mean(dim=1)
    return probs.cpu().numpy().astype(np.float32)
