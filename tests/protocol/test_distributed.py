"""`harness run --nproc 2`: DDP through torchrun, on the CPU with the gloo backend and two processes."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.cli.run import _without_nproc
from harness.results.predictions import load_predictions

_spec = importlib.util.spec_from_file_location("folds_tests", Path(__file__).with_name("test_folds_and_resume.py"))
folds_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(folds_tests)


def test_nproc_is_taken_out_of_the_relaunched_command() -> None:
    assert _without_nproc(["run", "x", "--nproc", "2", "--epochs", "1"]) == ["run", "x", "--epochs", "1"]
    assert _without_nproc(["run", "x", "--nproc=4"]) == ["run", "x"]


@pytest.mark.slow
def test_two_gloo_processes_train_one_run(tmp_path: Path, tiny_toy: Path, isolated_paths: Path) -> None:
    submission = folds_tests.write_submission(tmp_path / "tiny", epochs=2)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    code = "import sys; from harness.cli import main; sys.argv[0] = 'harness'; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "run", str(submission), "--device", "cpu", "--nproc", "2", "--epochs", "2"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "launching 2 processes" in done.stderr
    [run_dir] = (isolated_paths / "runs" / "toy" / "split-0" / "tiny").iterdir()  # one run, written by rank 0
    assert (run_dir / "done").is_file()
    env_doc = json.loads((run_dir / "env.json").read_text())
    assert env_doc["world_size"] == 2
    log = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert [entry["epoch"] for entry in log] == [1, 2]  # one line per epoch, not one per rank
    test = load_predictions(run_dir / "predictions" / "test.npz")
    validation = load_predictions(run_dir / "predictions" / "validation.npz")
    assert test.scores.shape == (3, 8) and validation.scores.shape == (3, 8)  # every item, gathered from both ranks
    assert np.all(np.isfinite(test.scores))
    # the item order of the gathered predictions is the split's: rescoring the file agrees with scores.json
    scores = json.loads((run_dir / "scores.json").read_text())
    assert scores["fingerprint"] == test.meta["fingerprint"]
