"""Every submission of the zoo trains (or, for the naive baselines, is evaluated) and scores on a tiny toy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app

REPO = Path(__file__).resolve().parents[2]
ZOO = sorted(p.parent.name for p in (REPO / "submissions").glob("*/submission.toml"))
runner = CliRunner()
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", [n for n in ZOO if n != "vgg6"])  # vgg6: tests/protocol/test_end_to_end.py
def test_runs_and_scores_on_toy(name: str, tiny_toy: Path, isolated_paths: Path) -> None:
    result = runner.invoke(app, ["run", str(REPO / "submissions" / name), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    [run_dir] = (isolated_paths / "runs" / "toy" / "split-0" / name).iterdir()
    assert (run_dir / "done").is_file()
    scores = json.loads((run_dir / "scores.json").read_text())["scores"]
    config = json.loads((run_dir / "config.json").read_text())
    assert 0.0 <= scores["ROC-AUC-macro"] <= 1.0
    if name in ("popular", "tag-frequency"):
        assert scores["ROC-AUC-macro"] == 0.5  # constant scores per tag rank nothing
    if config["feature"] == "stft-square":
        assert config["crop_frames"] == 257  # the whole 257 x 257 image of the toy's default square size
    if name in ("popular", "random", "tag-frequency"):
        assert config["epochs"] == 0
        assert [json.loads(line)["epoch"] for line in (run_dir / "log.jsonl").read_text().splitlines()] == [0]
