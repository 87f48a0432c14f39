from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.datasets import list_datasets, load_spec, open_dataset
from harness.datasets.fingerprint import split_fingerprint
from harness.errors import FormatError, UnknownNameError


def test_toy_registry() -> None:
    assert "toy" in list_datasets()
    spec = load_spec("toy")
    assert len(spec.tags) == 8 and spec.folds == ("split-0",)
    assert spec.resolve_fold(None) == spec.resolve_fold(0) == spec.resolve_fold("split-0") == "split-0"
    assert spec.protocol.eval_crops_validation == 10 and spec.protocol.eval_crops_test == 20
    with pytest.raises(UnknownNameError, match="split-0"):
        spec.resolve_fold("split-3")


def test_unknown_dataset_lists_known() -> None:
    with pytest.raises(UnknownNameError, match="toy"):
        load_spec("cal5000")


def test_bad_registry_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "dataset.toml").write_text('name = "broken"\nfamily = "toy"\n')
    monkeypatch.setenv("HARNESS_REGISTRY", str(tmp_path))
    with pytest.raises(FormatError, match="broken/dataset.toml"):
        load_spec("broken")


def test_a_square_size_that_is_not_a_stft_square_size_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "dataset.toml").write_text(
        'name = "odd"\nfamily = "toy"\n[tags]\nnames = ["a"]\n[folds]\nnames = ["split-0"]\n[protocol]\nsquare_size = 256\n'
    )
    monkeypatch.setenv("HARNESS_REGISTRY", str(tmp_path))
    with pytest.raises(FormatError, match=r"odd/dataset.toml: square_size must be one of 129, 257, 513, 1025, got 256"):
        load_spec("odd")


def test_fingerprint_changes_with_any_part() -> None:
    ids, tags = ["a", "b"], ["x", "y", "z"]
    labels = np.array([[1, 0, 0], [0, 1, 1]], dtype=bool)
    base = split_fingerprint("d", "f", "test", ids, tags, labels)
    assert base == split_fingerprint("d", "f", "test", ids, tags, labels.astype(int))
    flipped = labels.copy()
    flipped[0, 2] = True
    variants = [
        split_fingerprint("d2", "f", "test", ids, tags, labels),
        split_fingerprint("d", "f", "validation", ids, tags, labels),
        split_fingerprint("d", "f", "test", ["b", "a"], tags, labels),
        split_fingerprint("d", "f", "test", ids, ["x", "z", "y"], labels),
        split_fingerprint("d", "f", "test", ids, tags, flipped),
    ]
    assert len({base, *variants}) == 6


def test_tiny_toy_splits(tiny_toy: Path) -> None:
    dataset = open_dataset("toy")
    parts = {s: dataset.split("split-0", s) for s in ("train", "validation", "test")}
    assert [len(p) for p in parts.values()] == [6, 3, 3]
    assert not set(parts["train"].item_ids) & set(parts["test"].item_ids)
    assert parts["test"].fingerprint == open_dataset("toy").split(0, "test").fingerprint
