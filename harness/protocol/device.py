"""Where a run computes: the device, the precision, where the feature store lives, peak memory."""

from __future__ import annotations

import torch

from harness.errors import BadInputError
from harness.features.store import FeatureStore
from harness.protocol.request import check_data_path

RESIDENT_SHARE = 0.5  # the store goes on the GPU when it takes at most this share of its free memory


def pick_device(requested: str) -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise BadInputError("--device cuda: no CUDA device is available here; use --device auto or cpu")
    if requested not in ("cpu", "cuda"):
        raise BadInputError(f"--device {requested!r}: expected auto, cpu or cuda")
    return torch.device(requested)


def pick_precision(requested: str, device: torch.device) -> str:
    """``auto``: bf16 autocast on CUDA (where supported), plain float32 on the CPU."""
    if requested != "auto":
        return requested
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "fp32"


def place_features(store: FeatureStore, device: torch.device, requested: str = "auto") -> tuple[torch.Tensor, str]:
    """The store as one float16 tensor, and the data path: ``device-resident`` or ``streamed``.

    On a GPU the whole store is copied to the device in one transfer when it fits (``auto``: at most
    half the free memory, leaving the rest to the model); otherwise it stays in host memory and
    batches are streamed (gathered into pinned buffers, copied asynchronously). On the CPU the store is simply in memory. Both paths give the same
    crops for the same seed.
    """
    check_data_path(requested)
    if requested == "streamed":
        return store.to_tensor("cpu"), "streamed"
    if device.type != "cuda":
        return store.to_tensor("cpu"), "device-resident"
    free, _ = torch.cuda.mem_get_info(device)
    if requested == "resident" or store.features.nbytes <= RESIDENT_SHARE * free:
        return store.to_tensor(device), "device-resident"
    return store.to_tensor("cpu"), "streamed"


def reset_peak_memory(device: torch.device) -> None:
    """Start counting this run's peak device memory (CUDA; the CPU's peak is the process's)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_mb(device: torch.device) -> float:
    """Peak device memory of this run on CUDA; on the CPU, the process's peak resident memory."""
    if device.type == "cuda":
        return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux reports KiB
