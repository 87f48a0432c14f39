"""Items whose audio was skipped at prepare: left out of train/validation with a flag; a test item stops the run."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from harness.cli import app

_spec = importlib.util.spec_from_file_location("folds_tests", Path(__file__).with_name("test_folds_and_resume.py"))
folds_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(folds_tests)
runner = CliRunner()
pytestmark = pytest.mark.slow

TOML = """
name = "moods"
family = "tsv"
title = "Moods"
citation = "test fixture"
licence = "CC0-1.0"
[tags]
names = ["happy", "sad"]
[folds]
names = ["split-0"]
[source]
items = "items.tsv"
"""
SPLITS = ["train"] * 8 + ["validation"] * 4 + ["test"] * 4


def _dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, corrupt: str) -> Path:
    folder = tmp_path / "registry" / "moods"
    folder.mkdir(parents=True)
    folder.joinpath("dataset.toml").write_text(TOML)
    rows = ["id\tpath\ttags\tsplit"] + [
        f"m{i}\taudio/m{i}.wav\t{'happy' if i % 2 else 'sad'}\t{split}" for i, split in enumerate(SPLITS)
    ]
    folder.joinpath("items.tsv").write_text("\n".join(rows) + "\n")
    monkeypatch.setenv("HARNESS_REGISTRY", str(folder.parent))
    root = tmp_path / "root"
    (root / "audio").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(len(SPLITS)):
        sf.write(root / "audio" / f"m{i}.wav", (0.1 * rng.normal(size=12000)).astype(np.float32), 12000)
    (root / "audio" / f"{corrupt}.wav").write_bytes(b"not a wav file")
    return root


def test_a_skipped_training_item_is_left_out_and_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_paths: Path
) -> None:
    root = _dataset(tmp_path, monkeypatch, corrupt="m3")  # a train item
    submission = folds_tests.write_submission(tmp_path / "tiny", epochs=1)
    result = runner.invoke(app, ["run", str(submission), "--dataset", "moods", "--root", str(root), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    [run_dir] = (isolated_paths / "runs" / "moods" / "split-0" / "tiny").iterdir()
    flags = json.loads((run_dir / "env.json").read_text())["flags"]
    assert any("1 train items without features" in flag and "m3" in flag and "cannot decode" in flag for flag in flags)
    config = json.loads((run_dir / "config.json").read_text())
    assert (run_dir / "done").is_file() and config["train_fingerprint"]


def test_a_skipped_test_item_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_paths: Path
) -> None:
    root = _dataset(tmp_path, monkeypatch, corrupt="m14")  # a test item
    submission = folds_tests.write_submission(tmp_path / "tiny", epochs=1)
    result = runner.invoke(app, ["run", str(submission), "--dataset", "moods", "--root", str(root), "--device", "cpu"])
    assert result.exit_code == 2
    assert "1 test items of split-0 have no features: m14" in " ".join(result.output.split())
    assert "--rebuild" in result.output and "Traceback" not in result.output


def test_a_skipped_validation_item_is_left_out_and_the_run_files_still_score(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_paths: Path
) -> None:
    """validation.npz then holds the items the run had: `harness score test.npz` fits its thresholds on them, as the run did."""
    root = _dataset(tmp_path, monkeypatch, corrupt="m9")  # a validation item
    submission = folds_tests.write_submission(tmp_path / "tiny", epochs=1)
    result = runner.invoke(app, ["run", str(submission), "--dataset", "moods", "--root", str(root), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    [run_dir] = (isolated_paths / "runs" / "moods" / "split-0" / "tiny").iterdir()
    ours = json.loads((run_dir / "scores.json").read_text())
    assert any("1 validation items without features" in flag and "m9" in flag for flag in ours["flags"])
    rescored = runner.invoke(app, ["score", str(run_dir / "predictions" / "test.npz"), "--root", str(root), "--json"])
    assert rescored.exit_code == 0, rescored.output
    theirs = json.loads(rescored.stdout)
    assert theirs["thresholds_source"] == "validation"
    assert {key: theirs[key] for key in ours["scores"]} == ours["scores"]
