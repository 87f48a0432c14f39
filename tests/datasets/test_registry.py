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


def test_a_square_size_that_is_not_a_stft_square_size_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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


# -- hand-typed registries (issue 13) --------------------------------------------------------------

GOOD = """name = "mine"
family = "toy"
primary_metric = "PR-AUC-macro"
[tags]
names = ["a", "b"]
[folds]
names = ["split-0"]
[protocol]
selection_metric = "PR-AUC-macro"
"""


def _registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "dataset.toml").write_bytes(data)
    monkeypatch.setenv("HARNESS_REGISTRY", str(tmp_path))


def test_a_utf8_byte_order_mark_is_read_as_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _registry(tmp_path, monkeypatch, b"\xef\xbb\xbf" + GOOD.encode())
    spec = load_spec("mine")
    assert spec.name == "mine" and spec.tags == ("a", "b")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (GOOD.encode("utf-16"), r"mine/dataset.toml: UTF-16 text \(byte-order mark FF FE\); save it as UTF-8"),
        (
            GOOD.replace('"a"', '"\xe4"').encode("latin-1"),
            r"mine/dataset.toml:5: not UTF-8 text \(byte 0xE4 at offset \d+\)",
        ),
        (GOOD.replace('["a", "b"]', '"ab"').encode(), r"tags.names = 'ab'; it must be a non-empty list"),
        (GOOD.replace('["a", "b"]', '["a", 1]').encode(), r"tags.names holds 1"),
        (GOOD.replace('["split-0"]', '["split-0", "split-0"]').encode(), r"folds.names lists 'split-0' more than once"),
        (GOOD.replace('family = "toy"', "family = 1"), r"family = 1; it must be text in quotes"),
        (GOOD + "max_epochs = 1.5\n", r"max_epochs must be a positive integer \(>= 1\), got 1.5"),
        (GOOD + "eval_crops_test = false\n", r"eval_crops_test must be a positive integer \(>= 1\), got False"),
        (GOOD + 'feature = "chroma"\n', r"feature must be one of mel96, stft-square, got 'chroma'"),
        (
            GOOD.replace('primary_metric = "PR-AUC-macro"', 'primary_metric = "hamming-loss"'),
            r"primary_metric 'hamming-loss' is not a metric of the 'official' set",
        ),
        (
            GOOD.replace('primary_metric = "PR-AUC-macro"', 'primary_metric = "mAP"'),
            r"primary_metric 'mAP' is not a metric of the 'official' set; known: ROC-AUC-macro, PR-AUC-macro",
        ),
    ],
)
def test_hand_typed_mistakes_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes | str, message: str
) -> None:
    _registry(tmp_path, monkeypatch, data if isinstance(data, bytes) else data.encode())
    with pytest.raises(FormatError, match=message):
        load_spec("mine")


def test_the_cal500_metric_set_accepts_its_own_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD.replace('primary_metric = "PR-AUC-macro"', 'primary_metric = "F1-macro"\nmetric_set = "cal500"')
    _registry(
        tmp_path,
        monkeypatch,
        text.replace('selection_metric = "PR-AUC-macro"', 'selection_metric = "hamming-loss"').encode(),
    )
    spec = load_spec("mine")
    # F1-macro is the metric registry's alias of F-score-macro: the spec holds the canonical key
    assert spec.primary_metric == "F-score-macro" and spec.protocol.selection_metric == "hamming-loss"


def test_the_primary_metric_is_declared_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # an alias is accepted in any set that has its key; selection_metric defaults to the primary metric
    text = GOOD.replace('primary_metric = "PR-AUC-macro"', 'primary_metric = "F1-macro"')
    _registry(tmp_path, monkeypatch, text.replace('selection_metric = "PR-AUC-macro"\n', "").encode())
    spec = load_spec("mine")
    assert spec.primary_metric == "F-score-macro" and spec.protocol.selection_metric == "F-score-macro"


def test_reading_registries_imports_neither_torch_nor_scikit_learn() -> None:
    """The metric-name check must keep `harness score` and `datasets list` quick to start."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from harness.datasets import list_datasets, load_spec\n"
        "[load_spec(n) for n in list_datasets()]\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'sklearn', 'scipy', 'torchaudio'))\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
