"""One training epoch and multi-crop prediction, the two steps of the shared protocol."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
import torch
from torch.nn import functional as F

from harness.protocol.crops import CropGatherer, evenly_spaced_starts, random_starts
from harness.protocol.distributed import Dist, all_reduce_sum, gather_rows, local_rows


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[object]:
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def train_step(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, precision: str
) -> torch.Tensor:
    """One optimiser step on batch ``x`` with float targets ``y`` (BCE on logits); the loss, detached, on the device."""
    with autocast(y.device, precision):
        logits = model(x)
    loss = F.binary_cross_entropy_with_logits(logits.float(), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


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
    dist: Dist = Dist(),
) -> float:
    """One random crop per item, shuffled, BCE on logits. Returns the mean training loss.

    ``labels`` is a float tensor (items, tags) on the model's device, aligned with ``rows``. A last
    batch too small to give every rank two items is dropped (batch-norm needs two); the loss is
    summed on the device and read once per epoch. Under DDP every rank draws the same permutation
    and starts and trains on ``batch[rank::world]`` of each global batch.
    """
    model.train()
    device = labels.device
    order = rng.permutation(len(rows))
    starts = random_starts(n_frames[order], crop, rng)
    # The epoch's indices go where the features are in one copy; no step waits on the host.
    where = gatherer.index_device
    rows_t = torch.as_tensor(rows[order], dtype=torch.long, device=where)
    starts_t = torch.as_tensor(starts, dtype=torch.long, device=where)
    label_rows = torch.as_tensor(order, dtype=torch.long, device=device)
    spans = []
    for begin in range(0, len(order), batch_size):
        end = min(begin + batch_size, len(order))
        if end - begin < 2 * dist.world:
            break
        spans.append(slice(begin + dist.rank, end, dist.world))  # this rank's share of the global batch
    total = torch.zeros((), device=device)
    seen = 0
    for span, x in zip(spans, gatherer.stream([(rows_t[span], starts_t[span]) for span in spans])):
        total += train_step(model, optimizer, x, labels[label_rows[span]], precision) * x.shape[0]
        seen += x.shape[0]
        if on_batch is not None:
            on_batch(x.shape[0] * dist.world)
    # torch.full fills on the device; torch.tensor(seen, device=...) would be a synchronising host copy
    counts = all_reduce_sum(torch.stack([total, torch.full((), float(seen), device=device)]), dist)
    return float(counts[0].item() / max(counts[1].item(), 1.0))


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
    dist: Dist = Dist(),
) -> np.ndarray:
    """Sigmoid outputs averaged over ``n_crops`` evenly spaced crops: float32 (items, tags).

    When no item is longer than the crop (stft-square images, short items), every crop of an item
    is the same, so one is computed instead of ``n_crops`` equal ones. Under DDP each rank predicts
    every ``world``-th item and every rank gets all the predictions.
    """
    model.eval()
    device = gatherer.device
    if np.all(np.asarray(n_frames) <= crop):
        n_crops = 1
    n_items = len(rows)
    if dist.enabled:
        mine = local_rows(n_items, dist)
        rows, n_frames = rows[mine], np.asarray(n_frames)[mine]
    starts = evenly_spaced_starts(n_frames, crop, n_crops)  # (items, k)
    where = gatherer.index_device
    flat_rows = torch.as_tensor(np.repeat(rows, n_crops), dtype=torch.long, device=where)
    flat_starts = torch.as_tensor(starts.reshape(-1), dtype=torch.long, device=where)
    spans = [slice(begin, begin + batch_size) for begin in range(0, len(flat_rows), batch_size)]
    outputs = []
    for x in gatherer.stream([(flat_rows[span], flat_starts[span]) for span in spans]):
        with autocast(device, precision):
            outputs.append(torch.sigmoid(model(x).float()))
        if on_batch is not None:
            on_batch(x.shape[0])
    if outputs:
        probs = torch.cat(outputs).reshape(len(rows), n_crops, -1).mean(dim=1)
    else:  # a rank with no items (fewer items than ranks)
        probs = torch.zeros((0, _num_outputs(model, gatherer, crop)), device=device)
    probs = gather_rows(probs, n_items, dist)
    return probs.cpu().numpy().astype(np.float32)


def _num_outputs(model: torch.nn.Module, gatherer: CropGatherer, crop: int) -> int:
    with torch.inference_mode():
        return int(model(gatherer.gather(np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))).shape[-1])
