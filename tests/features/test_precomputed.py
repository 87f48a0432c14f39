"""The official MTG-Jamendo mel spectrograms (melspecs/XX/ID.npy) go into the store without recomputing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from harness.datasets import open_dataset
from harness.errors import DataMissingError
from harness.features.extract import prepare_features

_spec = importlib.util.spec_from_file_location(
    "mtg_fixtures", Path(__file__).resolve().parents[1] / "datasets" / "test_mtg_jamendo.py"
)
mtg = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mtg)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = mtg.write_root(tmp_path / "mtg")
    mtg.register(tmp_path / "registry", monkeypatch, mtg.registry_toml(root))
    return root


def _write_melspecs(root: Path, frames: int = 40) -> dict[str, np.ndarray]:
    dataset = open_dataset(mtg.NAME, root)
    arrays = {}
    for i, (track, path) in enumerate(dataset.melspec_files()):
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays[track] = np.random.default_rng(i).normal(-40, 10, (96, frames + i)).astype(np.float32)
        np.save(path, arrays[track])
    return arrays


def test_import_without_audio(root: Path) -> None:
    arrays = _write_melspecs(root)
    dataset = open_dataset(mtg.NAME, root)
    store = prepare_features(dataset)
    assert store.manifest["params"]["source"] == "precomputed by the publisher"
    assert set(store.index.item_ids) == set(arrays)
    for track, array in arrays.items():
        np.testing.assert_allclose(store.item(track), array, atol=0.05)  # float16 in the store
    assert prepare_features(dataset).directory == store.directory  # current: not rebuilt


def test_missing_and_malformed_melspecs_are_named(root: Path) -> None:
    _write_melspecs(root)
    dataset = open_dataset(mtg.NAME, root)
    track, path = dataset.melspec_files()[0]
    np.save(path, np.zeros((48, 10), dtype=np.float32))
    store = prepare_features(dataset)  # the malformed file is reported and skipped; the rest is built
    assert track not in store.index.item_ids and len(store.index.item_ids) == len(dataset.melspec_files()) - 1
    [skipped] = store.skipped
    assert skipped["item_id"] == track
    assert str(path) in skipped["reason"] and "shape (48, 10), expected (96, frames)" in skipped["reason"]
    path.write_bytes(b"\x93NUMPY truncated")
    store = prepare_features(dataset, rebuild=True)
    assert "not a readable .npy" in store.skipped[0]["reason"]
    path.unlink()
    with pytest.raises(DataMissingError, match="--what melspecs"):
        prepare_features(dataset)
