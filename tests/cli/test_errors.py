"""A user's mistake gets one clear line on stderr, exit 2, and no traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner()


def _assert_clean_error(result, *needles: str, code: int = 2) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for needle in needles:
        assert needle in result.output


def test_unknown_dataset_names_known_ones() -> None:
    result = runner.invoke(app, ["datasets", "show", "nope"])
    _assert_clean_error(result, "unknown dataset 'nope'", "toy")


def test_run_unknown_dataset() -> None:
    result = runner.invoke(app, ["run", "submissions/vgg6", "--dataset", "nope"])
    _assert_clean_error(result, "unknown dataset 'nope'", "toy")


def test_run_unknown_submission_names_known_ones() -> None:
    result = runner.invoke(app, ["run", "no-such-model"])
    _assert_clean_error(result, "unknown submission 'no-such-model'", "vgg6")


def test_bad_seeds() -> None:
    result = runner.invoke(app, ["run", "vgg6", "--seeds", "a,b"])
    _assert_clean_error(result, "--seeds")


def test_unknown_fold(tiny_toy: Path) -> None:
    result = runner.invoke(app, ["datasets", "show", "toy", "--fold", "fold-9"])
    _assert_clean_error(result, "unknown fold", "split-0")


def test_score_bare_npy_needs_dataset(tmp_path: Path) -> None:
    path = tmp_path / "preds.npy"
    np.save(path, np.zeros((3, 8), dtype=np.float32))
    result = runner.invoke(app, ["score", str(path)])
    _assert_clean_error(result, "--dataset")


def test_score_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", str(tmp_path / "absent.npz")])
    _assert_clean_error(result, "absent.npz")


def test_runs_show_unknown() -> None:
    result = runner.invoke(app, ["runs", "show", "nope"])
    _assert_clean_error(result, "unknown run 'nope'")


@pytest.mark.parametrize("args", [["features", "extract", "missing.wav", "-o", "x.npy"]])
def test_missing_audio(args: list[str]) -> None:
    _assert_clean_error(runner.invoke(app, args), "missing.wav")


def test_logits_are_scored_with_a_warning(tiny_toy: Path, tmp_path: Path) -> None:
    from harness.datasets import open_dataset

    test = open_dataset("toy").split(0, "test")
    logits = tmp_path / "logits.npy"
    np.save(logits, np.where(test.labels, 3.0, -3.0) + np.random.default_rng(0).normal(size=test.labels.shape))
    result = runner.invoke(app, ["score", str(logits), "--dataset", "toy", "--json"])
    assert result.exit_code == 0, result.output
    assert "outside [0, 1]" in result.output


@pytest.mark.parametrize("content", [b"", b"\x93NUMPY garbage", b"not numpy at all"])
def test_truncated_or_foreign_npy(tiny_toy: Path, tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.npy"
    bad.write_bytes(content)
    _assert_clean_error(runner.invoke(app, ["score", str(bad), "--dataset", "toy"]), "bad.npy")


def test_pickled_npy_is_refused(tiny_toy: Path, tmp_path: Path) -> None:
    bad = tmp_path / "objects.npy"
    np.save(bad, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    _assert_clean_error(runner.invoke(app, ["score", str(bad), "--dataset", "toy"]), "objects.npy")


def test_nan_scores_named(tiny_toy: Path, tmp_path: Path) -> None:
    from harness.datasets import open_dataset

    shape = open_dataset("toy").split(0, "test").labels.shape
    scores = np.full(shape, 0.5)
    scores[1, 2] = np.nan
    bad = tmp_path / "nan.npy"
    np.save(bad, scores)
    _assert_clean_error(runner.invoke(app, ["score", str(bad), "--dataset", "toy"]), "NaN")
