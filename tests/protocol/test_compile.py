"""`harness run --compile`: the model is trained through torch.compile (inductor; a C compiler on the CPU)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app

_spec = importlib.util.spec_from_file_location("folds_tests", Path(__file__).with_name("test_folds_and_resume.py"))
folds_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(folds_tests)


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("cc") is None and shutil.which("gcc") is None, reason="torch.compile on the CPU needs a C compiler"
)
def test_compiled_run_completes(tmp_path: Path, tiny_toy: Path, isolated_paths: Path) -> None:
    submission = folds_tests.write_submission(tmp_path / "tiny", epochs=1)
    result = CliRunner().invoke(
        app, ["run", str(submission), "--device", "cpu", "--compile", "--data-path", "streamed"]
    )
    assert result.exit_code == 0, result.output
    [run_dir] = (isolated_paths / "runs" / "toy" / "split-0" / "tiny").iterdir()
    env = json.loads((run_dir / "env.json").read_text())
    assert env["compile"] is True and env["data_path"] == "streamed"
    assert (run_dir / "done").is_file()
