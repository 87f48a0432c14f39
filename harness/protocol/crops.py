"""Crop positions and crop gathering from a frames-major feature array.

- Training: one random crop of ``crop`` frames per item per epoch, its start uniform over
  ``[0, n_frames - crop]``, drawn from a seeded numpy generator (the same crops on any device).
- Evaluation: ``k`` evenly spaced crops, starts ``round(linspace(0, n_frames - crop, k))``.
- Items shorter than the crop are tiled: frame ``t`` of the crop is frame ``t mod n_frames`` of the
  item, so every crop is real signal and has the model's input size.
"""

from __future__ import annotations

import numpy as np
import torch


def random_starts(n_frames: np.ndarray, crop: int, rng: np.random.Generator) -> np.ndarray:
    slack = np.maximum(np.asarray(n_frames, dtype=np.int64) - crop, 0)
    return rng.integers(0, slack + 1).astype(np.int64)


def evenly_spaced_starts(n_frames: np.ndarray, crop: int, k: int) -> np.ndarray:
    """``(items, k)`` starts of ``k`` evenly spaced crops per item."""
    slack = np.maximum(np.asarray(n_frames, dtype=np.int64) - crop, 0)
    fractions = np.linspace(0.0, 1.0, k) if k > 1 else np.zeros(1)
    return np.rint(slack[:, None] * fractions[None, :]).astype(np.int64)


class CropGatherer:
    """Gathers ``(B, 1, bins, crop)`` float32 batches from a ``(total_frames, bins)`` tensor by index.

    The feature tensor may live on the CPU or on a GPU; crops are gathered where it lives and then
    moved to ``device``.
    """

    def __init__(self, features: torch.Tensor, offsets: np.ndarray, n_frames: np.ndarray, crop: int, device: torch.device) -> None:
        self.features = features
        self.offsets = torch.as_tensor(offsets, dtype=torch.long, device=features.device)
        self.n_frames = torch.as_tensor(n_frames, dtype=torch.long, device=features.device)
        self.steps = torch.arange(crop, dtype=torch.long, device=features.device)
        self.device = device

    def gather(self, rows: np.ndarray | torch.Tensor, starts: np.ndarray | torch.Tensor) -> torch.Tensor:
        rows_t = torch.as_tensor(rows, dtype=torch.long, device=self.features.device)
        starts_t = torch.as_tensor(starts, dtype=torch.long, device=self.features.device)
        positions = (starts_t[:, None] + self.steps[None, :]) % self.n_frames[rows_t, None]
        frames = self.features[self.offsets[rows_t, None] + positions]  # (B, crop, bins)
        batch = frames.to(self.device, non_blocking=True).float().transpose(1, 2).unsqueeze(1)
        return batch.contiguous(memory_format=torch.channels_last)
