"""The device-resident and the streamed data paths give the same crops, so the same training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from harness.errors import BadInputError
from harness.features.store import build_store
from harness.protocol.crops import CropGatherer, StreamingGatherer
from harness.protocol.device import place_features
from harness.protocol.loop import predict, train_epoch


def _store(tmp_path: Path):  # noqa: ANN202
    rng = np.random.default_rng(0)
    items = [(f"i{k}", rng.normal(-30, 8, size=(16, int(rng.integers(20, 60)))).astype(np.float32)) for k in range(21)]
    return build_store(tmp_path / "s", "mel96", {}, iter(items), len(items))


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.BatchNorm2d(1),
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveMaxPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 3),
    )


@pytest.mark.parametrize("depth", [1, 3])
def test_streamed_and_resident_train_and_predict_alike(tmp_path: Path, depth: int) -> None:
    store = _store(tmp_path)
    features = store.to_tensor("cpu")
    rows = np.arange(len(store.index.item_ids))
    frames = store.index.n_frames
    labels = torch.as_tensor(np.random.default_rng(1).random((len(rows), 3)) < 0.4, dtype=torch.float32)
    outcomes = []
    for gatherer in (
        CropGatherer(features, store.index.offsets, frames, 32, torch.device("cpu")),
        StreamingGatherer(features, store.index.offsets, frames, 32, torch.device("cpu"), depth=depth),
    ):
        model = _model()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        rng = np.random.default_rng(7)
        losses = [train_epoch(model, optimizer, gatherer, rows, frames, labels, 32, 4, rng, "fp32") for _ in range(2)]
        probs = predict(model, gatherer, rows, frames, 32, 5, 8, "fp32")
        outcomes.append((losses, [p.detach().clone() for p in model.parameters()], probs))
    (loss_a, params_a, probs_a), (loss_b, params_b, probs_b) = outcomes
    assert loss_a == loss_b
    for a, b in zip(params_a, params_b):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(probs_a, probs_b)


def test_place_features(tmp_path: Path) -> None:
    store = _store(tmp_path)
    tensor, path = place_features(store, torch.device("cpu"))
    assert path == "device-resident" and tensor.dtype == torch.float16 and tuple(tensor.shape) == store.features.shape
    assert place_features(store, torch.device("cpu"), "streamed")[1] == "streamed"
    with pytest.raises(BadInputError, match="--data-path 'fast'"):
        place_features(store, torch.device("cpu"), "fast")


def test_a_bad_data_path_is_refused_before_anything_is_prepared(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from harness.cli import app

    result = CliRunner().invoke(app, ["run", "vgg6", "--data-path", "fast", "--root", str(tmp_path / "nothing")])
    # Typer's usage error for a choice (harness.cli.choices): the option, the word and the choices
    assert result.exit_code == 2 and "'--data-path'" in result.output and "'fast'" in result.output
    assert all(f"'{choice}'" in result.output for choice in ("auto", "resident", "streamed"))
    assert not (tmp_path / "nothing").exists()  # refused before the toy dataset was generated
