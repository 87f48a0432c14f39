"""Data-parallel training on PyTorch's own engine: DDP, launched by ``torchrun``.

``harness run --nproc N`` re-launches the same command under ``python -m torch.distributed.run
--standalone --nproc_per_node N`` (:func:`launch`); a command already started by ``torchrun`` is
recognised by the environment it sets (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``). Then:

- every rank builds the same seeded model, epoch permutation and crop starts, and takes every
  ``world``-th item of each global batch (``batch[rank::world]``), so the global batch and the
  crops are those of a single-process run; DDP averages the gradients;
- evaluation predicts every ``world``-th item on each rank and gathers the predictions on every
  rank (:func:`gather_rows`), so all ranks select the same epoch and stop together;
- batch-norm statistics are each rank's own during training (plain DDP, not SyncBatchNorm); before
  every evaluation rank 0's running statistics are copied to all ranks, so the evaluated model is
  the one rank 0 checkpoints. A run with ``--nproc N`` is therefore close to, not identical with,
  a single-process run of the same seed;
- only rank 0 prepares the feature store, writes the run directory and the results store, and
  prints; the others wait at a barrier where rank 0 writes what they read.

The backend is NCCL on CUDA (one GPU per rank, ``cuda:LOCAL_RANK``) and gloo on the CPU (how the
tests run it, with two processes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch
import torch.distributed as torch_dist

T = TypeVar("T")


@dataclass(frozen=True)
class Dist:
    """This process's place in a data-parallel job (rank 0 of 1 when not distributed)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_environment() -> Dist:
    """The job ``torchrun`` describes in the environment, else a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    return Dist(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", os.environ["RANK"])))


def init(dist: Dist, device: torch.device) -> None:
    if dist.enabled and not torch_dist.is_initialized():
        torch_dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")


def shutdown(dist: Dist) -> None:
    if dist.enabled and torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def barrier(dist: Dist) -> None:
    if dist.enabled:
        torch_dist.barrier()


def broadcast(value: T, dist: Dist) -> T:
    """Rank 0's ``value`` on every rank."""
    if not dist.enabled:
        return value
    box: list[Any] = [value]
    torch_dist.broadcast_object_list(box, src=0)
    return box[0]


def local_rows(n: int, dist: Dist) -> np.ndarray:
    """Positions ``rank, rank + world, ...`` of ``n`` this rank handles."""
    return np.arange(dist.rank, n, dist.world)


def gather_rows(local: torch.Tensor, n: int, dist: Dist) -> torch.Tensor:
    """Reassemble ``(len(local_rows(n)), ...)`` pieces from every rank into the ``(n, ...)`` whole, on every rank."""
    if not dist.enabled:
        return local
    per_rank = -(-n // dist.world)
    padded = torch.zeros((per_rank, *local.shape[1:]), dtype=local.dtype, device=local.device)
    padded[: local.shape[0]] = local
    pieces = [torch.empty_like(padded) for _ in range(dist.world)]
    torch_dist.all_gather(pieces, padded)
    stacked = torch.stack(pieces, dim=1).reshape(per_rank * dist.world, *local.shape[1:])  # row i from rank i % world
    return stacked[:n]


def all_reduce_sum(value: torch.Tensor, dist: Dist) -> torch.Tensor:
    if dist.enabled:
        torch_dist.all_reduce(value, op=torch_dist.ReduceOp.SUM)
    return value


def launch(nproc: int, argv: list[str]) -> int:
    """Run ``harness ARGV`` under torchrun with ``nproc`` processes on this machine; its exit status."""
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        "-m",
        "harness.cli",
        *argv,
    ]
    return subprocess.call(command)
