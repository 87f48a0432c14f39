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
import torch

from harness.cli.run import _without_nproc
from harness.protocol.distributed import Dist, gather_rows, local_rows
from harness.results.predictions import load_predictions

_spec = importlib.util.spec_from_file_location("folds_tests", Path(__file__).with_name("test_folds_and_resume.py"))
folds_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(folds_tests)


def test_nproc_is_taken_out_of_the_relaunched_command() -> None:
    assert _without_nproc(["run", "x", "--nproc", "2", "--epochs", "1"]) == ["run", "x", "--epochs", "1"]
    assert _without_nproc(["run", "x", "--nproc=4"]) == ["run", "x"]


def _gather_on_rank(rank: int, world: int, init_file: str) -> None:
    torch.distributed.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        dist = Dist(rank, world, rank)
        for n in (1, 5, 6):  # fewer items than ranks, an uneven and an even share
            mine = torch.as_tensor(local_rows(n, dist), dtype=torch.float32)
            whole = gather_rows(torch.stack([mine, -mine], dim=1), n, dist)
            assert whole[:, 0].tolist() == list(range(n)) and whole[:, 1].tolist() == [-i for i in range(n)], (n, whole)
    finally:
        torch.distributed.destroy_process_group()


def test_gathered_rows_come_back_in_item_order(tmp_path: Path) -> None:
    """Each rank predicts items rank, rank + world, ...; every rank gets all of them in the split's order."""
    torch.multiprocessing.spawn(_gather_on_rank, args=(2, str(tmp_path / "init")), nprocs=2)


@pytest.mark.slow
def test_two_gloo_processes_train_one_run(tmp_path: Path, tiny_toy: Path, isolated_paths: Path) -> None:
    submission = folds_tests.write_submission(tmp_path / "tiny", epochs=2)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    code = "import sys; from harness.cli import main; sys.argv[0] = 'harness'; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "run", str(submission), "--device", "cpu", "--nproc", "2", "--epochs", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
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
    # the predictions are those of the scored split (their row order: test_gathered_rows_come_back_in_item_order)
    scores = json.loads((run_dir / "scores.json").read_text())
    assert scores["fingerprint"] == test.meta["fingerprint"]
