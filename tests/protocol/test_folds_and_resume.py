"""The protocol end to end on small generated data: a ten-fold run, a killed run resumed, reuse and --force."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner()
pytestmark = pytest.mark.slow

TINY_MODEL = '''
"""A tiny CNN for protocol tests: conv -> batch-norm -> ReLU -> global max -> linear."""
import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self, num_tags: int, width: int = 8) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.BatchNorm2d(1), nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())
        self.head = nn.Linear(width, num_tags)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.amax(self.body(x), dim=(2, 3)))


def build(num_tags: int, width: int = 8) -> nn.Module:
    return Tiny(num_tags, width)
'''

TINY_TOML = """
name = "tiny"
title = "tiny test CNN"
authors = ["tests"]
description = "protocol tests"
feature = "mel96"
crop_frames = 64
external_data = false
licence = "MIT"
[model]
width = 8
[optimizer]
name = "adam"
lr = 0.01
[training]
batch_size = 8
epochs = {epochs}
patience = 20
"""

CAL_LIKE_TOML = """
name = "cal-like"
family = "tsv"
title = "A CAL500-like ten-fold fixture"
citation = "test fixture"
licence = "CC0-1.0"
primary_metric = "F1-macro"
metric_set = "cal500"
[tags]
names = ["low", "mid", "high"]
[folds]
names = [{folds}]
[source]
items = "items.tsv"
folds = "folds.tsv"
[protocol]
feature = "mel96"
eval_crops_validation = 2
eval_crops_test = 3
selection_metric = "F-score-macro"
all_folds = true
"""

N_FOLDS, PER_PART = 10, 4
TONES = {"low": 300.0, "mid": 1200.0, "high": 3500.0}


def write_submission(directory: Path, epochs: int = 2) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.py").write_text(TINY_MODEL)
    (directory / "submission.toml").write_text(TINY_TOML.format(epochs=epochs))
    return directory


def write_cal_like(registry: Path, root: Path) -> None:
    """40 two-second pieces, each with the tones of its tags over noise; part k = items 4k..4k+3."""
    folder = registry / "cal-like"
    folder.mkdir(parents=True)
    folder.joinpath("dataset.toml").write_text(
        CAL_LIKE_TOML.format(folds=", ".join(f'"fold-{k}"' for k in range(N_FOLDS)))
    )
    rng = np.random.default_rng(5)
    (root / "audio").mkdir(parents=True)
    items, folds = ["id\tpath\ttags"], ["id\tfold\tsplit"]
    t = np.arange(24000) / 12000
    for i in range(N_FOLDS * PER_PART):
        tags = [tag for j, tag in enumerate(TONES) if (i >> j) & 1 or (i % 7 == j)]
        wave = 0.02 * rng.normal(size=t.size) + sum(0.2 * np.sin(2 * np.pi * TONES[tag] * t) for tag in tags)
        sf.write(root / "audio" / f"s{i}.wav", wave.astype(np.float32), 12000)
        items.append(f"s{i}\taudio/s{i}.wav\t{','.join(tags)}")
        part = i // PER_PART
        for k in range(N_FOLDS):
            split = "test" if part == k else "validation" if part == (k + 1) % N_FOLDS else "train"
            folds.append(f"s{i}\tfold-{k}\t{split}")
    folder.joinpath("items.tsv").write_text("\n".join(items) + "\n")
    folder.joinpath("folds.tsv").write_text("\n".join(folds) + "\n")


def test_ten_fold_run_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_paths: Path) -> None:
    write_cal_like(tmp_path / "registry", tmp_path / "cal")
    monkeypatch.setenv("HARNESS_REGISTRY", str(tmp_path / "registry"))
    submission = write_submission(tmp_path / "tiny", epochs=2)
    result = runner.invoke(
        app, ["run", str(submission), "--dataset", "cal-like", "--root", str(tmp_path / "cal"), "--device", "cpu"]
    )
    assert result.exit_code == 0, result.output
    runs = sorted((isolated_paths / "runs" / "cal-like").glob("fold-*/tiny/*/done"))
    assert len(runs) == N_FOLDS  # --fold all is the default for this dataset
    [summary_file] = (isolated_paths / "runs" / "cal-like" / "all-folds" / "tiny").glob("*-seed0.json")
    summary = json.loads(summary_file.read_text())
    assert list(summary["folds"]) == [f"fold-{k}" for k in range(N_FOLDS)]
    for key in ("F-score-macro", "hamming-loss", "one-error", "ROC-AUC-macro"):  # F1-macro is its alias, never written
        per_fold = [summary["folds"][f][key] for f in summary["folds"]]
        assert summary["mean"][key] == pytest.approx(np.mean(per_fold))
        assert summary["std"][key] == pytest.approx(np.std(per_fold, ddof=1))
        assert key in summary["pooled"]
    assert "mean ± std" in result.output and "pooled" in result.output
    config = json.loads(
        next((isolated_paths / "runs" / "cal-like" / "fold-3" / "tiny").glob("*/config.json")).read_text()
    )
    assert config["selection_metric"] == "F-score-macro" and config["fold"] == "fold-3"
    log = [
        json.loads(line)
        for line in next((isolated_paths / "runs" / "cal-like" / "fold-3" / "tiny").glob("*/log.jsonl"))
        .read_text()
        .splitlines()
    ]
    assert [entry["epoch"] for entry in log] == [1, 2] and "validation_F-score-macro" in log[0]

    # one fold by name runs one fold; a finished run of the same configuration is reused, --force trains again
    one = runner.invoke(
        app,
        [
            "run",
            str(submission),
            "--dataset",
            "cal-like",
            "--root",
            str(tmp_path / "cal"),
            "--fold",
            "fold-3",
            "--device",
            "cpu",
        ],
    )
    assert one.exit_code == 0 and "reused a finished run" in " ".join(one.output.split())
    forced = runner.invoke(
        app,
        [
            "run",
            str(submission),
            "--dataset",
            "cal-like",
            "--root",
            str(tmp_path / "cal"),
            "--fold",
            "3",
            "--force",
            "--device",
            "cpu",
        ],
    )
    assert forced.exit_code == 0 and "reused" not in forced.output
    assert len(list((isolated_paths / "runs" / "cal-like" / "fold-3" / "tiny").iterdir())) == 2


def test_a_forced_rerun_in_the_same_second_keeps_the_finished_run(
    tmp_path: Path, tiny_toy: Path, isolated_paths: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run ids carry the start second; a rerun started within it gets its own directory, not the old one."""
    from datetime import datetime

    import harness.results.rundir as rundir_module

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 11, 23, 0, 36, 50, tzinfo=UTC)

    monkeypatch.setattr(rundir_module, "datetime", Frozen)
    submission = write_submission(tmp_path / "tiny", epochs=1)
    args = ["run", str(submission), "--device", "cpu"]
    assert runner.invoke(app, args).exit_code == 0
    parent = isolated_paths / "runs" / "toy" / "split-0" / "tiny"
    [first] = parent.iterdir()
    before = (first / "scores.json").read_text()
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert sorted(p.name for p in parent.iterdir()) == [f"20261123T003650-2-{first.name.split('-', 1)[1]}", first.name]
    assert (first / "scores.json").read_text() == before and all((p / "done").is_file() for p in parent.iterdir())


def _harness(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    code = "import sys; from harness.cli import main; sys.argv[0] = 'harness'; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def test_a_run_killed_after_its_first_checkpoint_resumes_to_the_same_result(
    tmp_path: Path, tiny_toy: Path, isolated_paths: Path
) -> None:
    submission = write_submission(tmp_path / "tiny", epochs=4)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = ("run", str(submission), "--device", "cpu", "--epochs", "4")
    reference = _harness(*args, "--runs-dir", str(tmp_path / "reference"), env=env)
    assert reference.wait(timeout=300) == 0, reference.stdout.read() if reference.stdout else ""

    killed = _harness(*args, env=env)
    parent = isolated_paths / "runs" / "toy" / "split-0" / "tiny"
    deadline = time.monotonic() + 300
    while not list(parent.glob("*/checkpoints/last.pt")):
        assert killed.poll() is None, "the run ended before its first checkpoint"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    [run_dir] = parent.iterdir()
    assert not (run_dir / "done").exists()

    resumed = _harness(*args, "--resume", env=env)
    output = resumed.communicate(timeout=300)[0]
    assert resumed.returncode == 0, output
    assert "resuming" in output
    assert (run_dir / "done").is_file() and list(parent.iterdir()) == [run_dir]
    [reference_dir] = (tmp_path / "reference" / "toy" / "split-0" / "tiny").iterdir()
    ours = json.loads((run_dir / "scores.json").read_text())
    theirs = json.loads((reference_dir / "scores.json").read_text())
    assert ours["scores"] == theirs["scores"] and ours["best_epoch"] == theirs["best_epoch"]
    epochs = [json.loads(line)["epoch"] for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert epochs == [1, 2, 3, 4]  # rewritten from the checkpoint on resume: no epoch lost or logged twice
