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
