"""`harness run submissions/vgg6` end to end on a tiny toy (12 items, one epoch), then score and build."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from harness.cli import app
from harness.metrics.official import OFFICIAL_KEYS
from harness.results.predictions import load_predictions

runner = CliRunner()
pytestmark = pytest.mark.slow


@pytest.fixture
def finished_run(tiny_toy: Path, isolated_paths: Path) -> Path:
    result = runner.invoke(app, ["run", "submissions/vgg6", "--epochs", "1", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "leaderboard:" in result.output
    run_dirs = list((isolated_paths / "runs" / "toy" / "split-0" / "vgg6").iterdir())
    assert len(run_dirs) == 1
    return run_dirs[0]


def test_run_directory_is_complete_and_resumable(finished_run: Path) -> None:
    for name in (
        "config.json",
        "env.json",
        "log.jsonl",
        "checkpoints/last.pt",
        "checkpoints/best.pt",
        "predictions/validation.npz",
        "predictions/test.npz",
        "scores.json",
        "done",
    ):
        assert (finished_run / name).is_file(), name
    scores = json.loads((finished_run / "scores.json").read_text())
    assert set(OFFICIAL_KEYS) <= set(scores["scores"])
    assert scores["thresholds_source"] == "validation"
    for key in ("PR-AUC-macro", "ROC-AUC-macro", "F-score-macro"):
        assert scores["intervals"][key]["low"] <= scores["intervals"][key]["high"]
    env = json.loads((finished_run / "env.json").read_text())
    for key in ("git_commit", "git_dirty", "libraries", "device", "seed", "config_hash", "duration_s"):
        assert key in env
    config = json.loads((finished_run / "config.json").read_text())
    assert config["crop_frames"] == 1280 and config["eval_crops_test"] == 20 and config["epochs"] == 1
    test = load_predictions(finished_run / "predictions" / "test.npz")
    assert test.scores.shape == (3, 8) and np.all((test.scores >= 0) & (test.scores <= 1))
    assert test.meta["fingerprint"] == scores["fingerprint"] == config["test_fingerprint"]
    assert len((finished_run / "log.jsonl").read_text().splitlines()) == 1

    # --resume with the same configuration finds the finished run and reuses it
    again = runner.invoke(app, ["run", "submissions/vgg6", "--epochs", "1", "--device", "cpu", "--resume"])
    assert again.exit_code == 0, again.output
    assert "reused" in again.output
    assert len(list(finished_run.parent.iterdir())) == 1


def test_recorded_scored_and_on_the_page(finished_run: Path, isolated_paths: Path) -> None:
    store = isolated_paths / "runs" / "results.sqlite"
    with sqlite3.connect(store) as db:
        assert db.execute("select run_id from runs").fetchall() == [(finished_run.name,)]
    listed = runner.invoke(app, ["runs", "list"])
    assert listed.exit_code == 0 and "vgg6" in listed.output

    rescored = runner.invoke(app, ["score", str(finished_run / "predictions" / "test.npz"), "--json"])
    assert rescored.exit_code == 0, rescored.output
    doc = json.loads(rescored.stdout)
    recorded = json.loads((finished_run / "scores.json").read_text())["scores"]
    for key in OFFICIAL_KEYS:
        assert doc[key] == pytest.approx(recorded[key], abs=1e-12)
    pr = {tag: values["PR-AUC"] for tag, values in doc["per_tag"].items()}
    assert doc["top_tags"] == sorted(pr, key=lambda t: (-pr[t], t))[:5]

    built = runner.invoke(app, ["leaderboard", "build"])
    assert built.exit_code == 0, built.output
    page = (isolated_paths / "site" / "toy.html").read_text()
    assert "vgg6" in page

    # a bare MediaEval-style .npy of the same scores, thresholds fitted on the run's validation file
    test = load_predictions(finished_run / "predictions" / "test.npz")
    bare = isolated_paths / "bare.npy"
    np.save(bare, test.scores)
    result = runner.invoke(
        app,
        [
            "score",
            str(bare),
            "--dataset",
            "toy",
            "--split",
            "test",
            "--json",
            "--thresholds-from",
            str(finished_run / "predictions" / "validation.npz"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["thresholds_source"] == "validation"
    wrong = runner.invoke(app, ["score", str(bare), "--dataset", "toy", "--split", "train"])
    assert wrong.exit_code == 2 and "6 items x 8 tags" in wrong.output


SCORE_METADATA = {
    "dataset",
    "fold",
    "split",
    "fingerprint",
    "n_items",
    "thresholds_source",
    "excluded_tags",
    "flags",
    "warnings",
    "per_tag",
    "top_tags",
    "bottom_tags",
    "intervals",
    "bootstrap",
}


def test_scores_json_is_harness_score_of_the_run_files(finished_run: Path) -> None:
    """One path from predictions to numbers: a run's scores.json is `harness score predictions/test.npz` (by construction)."""
    ours = json.loads((finished_run / "scores.json").read_text())
    assert ours["bootstrap"] == {"n": 1000, "seed": 0, "confidence": 0.95}  # the run's seed is 0, as score's default
    result = runner.invoke(
        app, ["score", str(finished_run / "predictions" / "test.npz"), "--json", "--bootstrap", "1000"]
    )
    assert result.exit_code == 0, result.output
    theirs = json.loads(result.stdout)
    assert {key: value for key, value in theirs.items() if key not in SCORE_METADATA} == ours[
        "scores"
    ]  # every key, exactly
    assert theirs["per_tag"] == ours["per_tag"] and theirs["intervals"] == ours["intervals"]
    assert theirs["bootstrap"] == ours["bootstrap"]
    for key in ("dataset", "fold", "split", "fingerprint", "thresholds_source", "excluded_tags", "warnings"):
        assert theirs[key] == ours[key], key
    # the validation scores are the validation file scored with thresholds fitted on itself
    validation = finished_run / "predictions" / "validation.npz"
    again = runner.invoke(app, ["score", str(validation), "--json", "--thresholds-from", str(validation)])
    assert again.exit_code == 0, again.output
    assert {k: v for k, v in json.loads(again.stdout).items() if k not in SCORE_METADATA} == ours["validation_scores"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (runs on the GPU machines, not in CI)")
def test_cuda_run(tiny_toy: Path, isolated_paths: Path) -> None:
    result = runner.invoke(app, ["run", "submissions/vgg6", "--epochs", "2", "--device", "cuda"])
    assert result.exit_code == 0, result.output
    run_dir = next((isolated_paths / "runs" / "toy" / "split-0" / "vgg6").iterdir())
    env = json.loads((run_dir / "env.json").read_text())
    assert env["device"].startswith("cuda") and env["precision"] == "bf16"
    assert (run_dir / "done").is_file()


def test_device_descriptions() -> None:
    from harness.provenance import device_description

    assert device_description(None).startswith("cpu")
    assert "threads" in device_description(torch.device("cpu"))
    if torch.cuda.is_available():
        assert device_description(torch.device("cuda")).startswith("cuda: ")
