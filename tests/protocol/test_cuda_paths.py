"""The GPU data paths on a real GPU: no host synchronisation inside a step, and both paths alike.

These need CUDA and are skipped elsewhere (CI has no GPU); `benchmarks/gpu_session.sh` runs them on
a lent GPU machine (`-k cuda`). The same code paths run on the CPU in `test_data_paths.py`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from harness.features.store import build_store
from harness.protocol import loop
from harness.protocol.crops import CropGatherer, StreamingGatherer
from harness.submissions import make_optimizer

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU (runs on the GPU machines, not in CI)"
)
CUDA = torch.device("cuda")
CROP = 64


class _Adam:
    optimizer, lr, weight_decay = "adam", 1e-3, 0.0


def _store(tmp_path: Path):  # noqa: ANN202
    rng = np.random.default_rng(0)
    items = [(f"i{k}", rng.normal(-30, 8, size=(16, int(rng.integers(40, 200)))).astype(np.float32)) for k in range(96)]
    return build_store(tmp_path / "s", "mel96", {}, iter(items), len(items))


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.BatchNorm2d(1),
        torch.nn.Conv2d(1, 8, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveMaxPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 3),
    )
    return model.to(CUDA, memory_format=torch.channels_last)


@pytest.mark.parametrize("streamed", [False, True], ids=["resident", "streamed"])
def test_cuda_steps_never_wait_on_the_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: bool) -> None:
    """From the second batch on, train_epoch and predict run under sync-debug mode "error": any
    ``.item()``, device-to-host copy or stream synchronisation inside the loop would raise. The mode
    is switched off again just before the epoch's one read-back (all_reduce_sum / gather_rows)."""
    store = _store(tmp_path)
    rows, frames = np.arange(96), store.index.n_frames
    if streamed:
        gatherer = StreamingGatherer(store.to_tensor("cpu"), store.index.offsets, frames, CROP, CUDA)
    else:
        gatherer = CropGatherer(store.to_tensor(CUDA), store.index.offsets, frames, CROP, CUDA)
    labels = torch.as_tensor(np.random.default_rng(1).random((96, 3)) < 0.4, dtype=torch.float32, device=CUDA)
    model = _model()
    optimizer = make_optimizer(_Adam(), list(model.parameters()))
    rng = np.random.default_rng(7)
    loop.train_epoch(model, optimizer, gatherer, rows, frames, labels, CROP, 16, rng, "bf16")  # warm-up: autotuning

    def strict(_: int) -> None:
        torch.cuda.set_sync_debug_mode("error")

    def relaxed(function):  # noqa: ANN001, ANN202
        def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            torch.cuda.set_sync_debug_mode("default")
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(loop, "all_reduce_sum", relaxed(loop.all_reduce_sum))
    monkeypatch.setattr(loop, "gather_rows", relaxed(loop.gather_rows))
    try:
        loss = loop.train_epoch(
            model, optimizer, gatherer, rows, frames, labels, CROP, 16, rng, "bf16", on_batch=strict
        )
        probs = loop.predict(model, gatherer, rows, frames, CROP, 5, 64, "bf16", on_batch=strict)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert np.isfinite(loss) and probs.shape == (96, 3) and np.isfinite(probs).all()


def test_cuda_resident_and_streamed_paths_train_alike(tmp_path: Path) -> None:
    """The same seed gives the same crops on both paths; with deterministic kernels, the same model."""
    store = _store(tmp_path)
    rows, frames = np.arange(96), store.index.n_frames
    labels = torch.as_tensor(np.random.default_rng(1).random((96, 3)) < 0.4, dtype=torch.float32, device=CUDA)
    outcomes = []
    benchmark = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = False, True
    try:
        for gatherer in (
            CropGatherer(store.to_tensor(CUDA), store.index.offsets, frames, CROP, CUDA),
            StreamingGatherer(store.to_tensor("cpu"), store.index.offsets, frames, CROP, CUDA),
        ):
            model = _model()
            optimizer = make_optimizer(_Adam(), list(model.parameters()))
            rng = np.random.default_rng(7)
            losses = [
                loop.train_epoch(model, optimizer, gatherer, rows, frames, labels, CROP, 16, rng, "fp32")
                for _ in range(2)
            ]
            probs = loop.predict(model, gatherer, rows, frames, CROP, 5, 64, "fp32")
            outcomes.append((losses, [p.detach().cpu() for p in model.parameters()], probs))
    finally:
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = benchmark, False
    (loss_a, params_a, probs_a), (loss_b, params_b, probs_b) = outcomes
    np.testing.assert_allclose(loss_a, loss_b, rtol=1e-6)
    for a, b in zip(params_a, params_b):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probs_a, probs_b, rtol=1e-5, atol=1e-6)
