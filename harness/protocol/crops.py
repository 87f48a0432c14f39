"""Crop positions and crop gathering from a frames-major feature array.

- Training: one random crop of ``crop`` frames per item per epoch, its start uniform over
  ``[0, n_frames - crop]``, drawn from a seeded numpy generator (the same crops on any device and
  either data path).
- Evaluation: ``k`` evenly spaced crops, starts ``round(linspace(0, n_frames - crop, k))``.
- Items shorter than the crop are tiled: frame ``t`` of the crop is frame ``t mod n_frames`` of the
  item, so every crop is real signal and has the model's input size.

Two data paths give the same batches:

- :class:`CropGatherer`, device-resident: the whole store is one tensor where the model runs (a GPU
  when it fits), and a batch is one indexed gather there, with no host work or copy per step;
- :class:`StreamingGatherer`, for a store larger than the device's free memory: the store stays in
  host memory, a background thread gathers the next batches on the CPU into pinned buffers, and
  each batch is copied to the device asynchronously while the previous one trains.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import torch

Batch = tuple[torch.Tensor, torch.Tensor]  # (rows, starts), int64


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
    moved to ``device`` (no copy when they are the same).
    """

    def __init__(
        self, features: torch.Tensor, offsets: np.ndarray, n_frames: np.ndarray, crop: int, device: torch.device
    ) -> None:
        self.features = features
        self.offsets = torch.as_tensor(offsets, dtype=torch.long, device=features.device)
        self.n_frames = torch.as_tensor(n_frames, dtype=torch.long, device=features.device)
        self.steps = torch.arange(crop, dtype=torch.long, device=features.device)
        self.device = torch.device(device)

    @property
    def index_device(self) -> torch.device:
        """Where batch indices should live (one copy per epoch there, none per step)."""
        return self.features.device

    def _gather_here(self, rows: np.ndarray | torch.Tensor, starts: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``(B, bins, crop)`` float32 where the features live."""
        rows_t = torch.as_tensor(rows, dtype=torch.long, device=self.features.device)
        starts_t = torch.as_tensor(starts, dtype=torch.long, device=self.features.device)
        positions = (starts_t[:, None] + self.steps[None, :]) % self.n_frames[rows_t, None]
        frames = self.features[self.offsets[rows_t, None] + positions]  # (B, crop, bins) float16
        out = torch.empty(
            (frames.shape[0], frames.shape[2], frames.shape[1]), dtype=torch.float32, device=frames.device
        )
        return out.copy_(frames.transpose(1, 2))  # convert and transpose in one pass

    def gather(self, rows: np.ndarray | torch.Tensor, starts: np.ndarray | torch.Tensor) -> torch.Tensor:
        batch = self._gather_here(rows, starts).to(self.device, non_blocking=True).unsqueeze(1)
        return batch.contiguous(memory_format=torch.channels_last)

    def stream(self, batches: Sequence[Batch]) -> Iterator[torch.Tensor]:
        """The batches of ``batches`` in order."""
        for rows, starts in batches:
            yield self.gather(rows, starts)


class StreamingGatherer(CropGatherer):
    """The store in host memory; batches gathered ``depth`` ahead by a thread and copied asynchronously."""

    def __init__(
        self,
        features: torch.Tensor,
        offsets: np.ndarray,
        n_frames: np.ndarray,
        crop: int,
        device: torch.device,
        depth: int = 3,
    ) -> None:
        if features.device.type != "cpu":
            raise ValueError("StreamingGatherer keeps the features in host memory")
        # the store itself stays pageable (pinning it would hold a second copy of tens of GB in
        # locked memory); each gathered batch is pinned instead, which is what the copy reads from
        super().__init__(features, offsets, n_frames, crop, device)
        self.depth = depth

    def _host_batch(self, rows: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        batch = self._gather_here(rows, starts)
        return batch.pin_memory() if self.device.type == "cuda" else batch

    def gather(self, rows: np.ndarray | torch.Tensor, starts: np.ndarray | torch.Tensor) -> torch.Tensor:
        rows_t = torch.as_tensor(rows, dtype=torch.long).cpu()
        starts_t = torch.as_tensor(starts, dtype=torch.long).cpu()
        return self._to_device(self._host_batch(rows_t, starts_t))

    def _to_device(self, host: torch.Tensor) -> torch.Tensor:
        batch = host.to(self.device, non_blocking=True).unsqueeze(1)
        return batch.contiguous(memory_format=torch.channels_last)

    def stream(self, batches: Sequence[Batch]) -> Iterator[torch.Tensor]:
        with ThreadPoolExecutor(1) as pool:
            pending: list[Future[torch.Tensor]] = []
            for i in range(len(batches)):
                while len(pending) < self.depth and i + len(pending) < len(batches):
                    rows, starts = batches[i + len(pending)]
                    pending.append(pool.submit(self._host_batch, rows.cpu(), starts.cpu()))
                yield self._to_device(pending.pop(0).result())
