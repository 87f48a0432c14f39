from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from harness.errors import DataMissingError, FormatError
from harness.features.extract import extract_file, extract_many
from harness.features.mel import MEL96, n_frames
from harness.features.store import FeatureStore, build_store, store_is_current


def _items() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [(f"item-{i}", rng.normal(size=(96, 10 + i)).astype(np.float32)) for i in range(4)]


def test_build_and_read_back(tmp_path: Path) -> None:
    items = _items()
    store = build_store(tmp_path / "mel96", "mel96", {"a": 1}, iter(items), len(items), "abc")
    assert store.features.shape == (10 + 11 + 12 + 13, 96) and store.features.dtype == np.float16
    assert list(store.index.offsets) == [0, 10, 21, 33]
    for item_id, feats in items:
        np.testing.assert_allclose(store.item(item_id), feats, atol=2e-3, rtol=1e-3)
    assert store_is_current(tmp_path / "mel96", "mel96", {"a": 1}, "abc")
    assert not store_is_current(tmp_path / "mel96", "mel96", {"a": 2}, "abc")
    assert store.to_tensor().shape == (46, 96)
    with pytest.raises(DataMissingError, match="item-9"):
        store.index.positions(["item-9"])


@pytest.mark.parametrize("chunk_bytes", [1, 96 * 2 * 7, 96 * 2 * 46, 2**30])  # 1 row, 7 rows (uneven), all, more
def test_to_tensor_copies_the_whole_store_in_chunks(tmp_path: Path, chunk_bytes: int) -> None:
    items = _items()
    store = build_store(tmp_path / "mel96", "mel96", {"a": 1}, iter(items), len(items), "abc")
    tensor = store.to_tensor("cpu", chunk_bytes=chunk_bytes)
    assert tensor.dtype == torch.float16 and tensor.shape == (46, 96)
    np.testing.assert_array_equal(tensor.numpy(), np.asarray(store.features))
    tensor[0, 0] = 1.0  # a writable tensor of its own, not a view of the read-only file


def test_rebuild_replaces_atomically(tmp_path: Path) -> None:
    items = _items()
    build_store(tmp_path / "s", "mel96", {}, iter(items), 4)
    build_store(tmp_path / "s", "mel96", {}, iter(items[:2]), 2)
    assert FeatureStore(tmp_path / "s").manifest["n_items"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_missing_store_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(DataMissingError, match="harness datasets prepare"):
        FeatureStore(tmp_path / "nothing")


def test_mel96_shape_and_scale(tmp_path: Path) -> None:
    sr = MEL96.sample_rate
    t = np.arange(sr * 2) / sr
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    sf.write(tmp_path / "tone.wav", tone, sr)
    feats = extract_file(tmp_path / "tone.wav")
    assert feats.shape == (96, n_frames(len(tone)))
    peak_band = int(feats[:, 10:-10].mean(axis=1).argmax())
    # 1 kHz falls in a low-middle Slaney band; the peak is far above the bands near 6 kHz
    assert 20 <= peak_band <= 45
    assert feats[peak_band, 20] - feats[-1, 20] > 40


def test_resampled_input_and_batching_agree(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for i in range(3):
        sf.write(tmp_path / f"{i}.flac", (0.1 * rng.normal(size=24000)).astype(np.float32), 24000)
    files = [(str(i), tmp_path / f"{i}.flac") for i in range(3)]
    batched = dict(extract_many(files, batch_size=2))
    single = {item: extract_file(path) for item, path in files}
    assert list(batched) == list(single)  # every file, in order (an empty result would compare nothing)
    for item in batched:
        assert batched[item].shape == (96, n_frames(12000))
        np.testing.assert_allclose(batched[item], single[item], atol=1e-3)


def test_corrupt_audio_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.flac"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(FormatError, match="bad.flac"):
        extract_file(bad)
