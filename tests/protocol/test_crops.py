from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.protocol.crops import CropGatherer, evenly_spaced_starts, random_starts


def test_evenly_spaced_cover_first_and_last() -> None:
    starts = evenly_spaced_starts(np.array([1407, 1280, 2000]), 1280, 10)
    assert starts.shape == (3, 10)
    assert starts[0, 0] == 0 and starts[0, -1] == 127
    assert (starts[1] == 0).all()
    assert starts[2, -1] == 720 and (np.diff(starts[2]) > 0).all()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 5000), min_size=1, max_size=20), st.integers(1, 1500), st.integers(0, 2**31))
def test_random_starts_within_bounds(lengths: list[int], crop: int, seed: int) -> None:
    n = np.array(lengths)
    starts = random_starts(n, crop, np.random.default_rng(seed))
    assert (starts >= 0).all() and (starts <= np.maximum(n - crop, 0)).all()
    assert (random_starts(n, crop, np.random.default_rng(seed)) == starts).all()


def test_gather_slices_and_tiles_short_items() -> None:
    # two items: 6 frames and 3 frames, 2 bins; frame value = global frame index
    features = torch.arange(9, dtype=torch.float16)[:, None].repeat(1, 2)
    gatherer = CropGatherer(features, np.array([0, 6]), np.array([6, 3]), crop=4, device=torch.device("cpu"))
    batch = gatherer.gather(np.array([0, 1]), np.array([2, 0]))
    assert batch.shape == (2, 1, 2, 4) and batch.dtype == torch.float32
    assert batch[0, 0, 0].tolist() == [2, 3, 4, 5]
    assert batch[1, 0, 1].tolist() == [6, 7, 8, 6]  # tiled: the 3-frame item repeats


def test_config_hash_ignores_the_evaluation_batch_size() -> None:
    from dataclasses import replace

    from harness.protocol.config import RunConfig

    config = RunConfig(
        dataset="toy",
        fold="split-0",
        submission="vgg6",
        seed=0,
        feature="mel96",
        crop_frames=1280,
        optimizer="adam",
        lr=1e-3,
        weight_decay=0.0,
        batch_size=64,
        epochs=3,
        patience=20,
        eval_crops_validation=10,
        eval_crops_test=20,
        selection_metric="PR-AUC-macro",
        precision="bf16",
        train_fingerprint="a",
        validation_fingerprint="b",
        test_fingerprint="c",
        eval_batch_size=16,
    )
    assert replace(config, eval_batch_size=256).hash == config.hash
    assert replace(config, seed=1).hash != config.hash
