"""`harness submissions new NAME`: a scaffold that passes `check` as written and runs."""

from __future__ import annotations

import importlib.util
import os
import stat
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from harness import paths
from harness.cli import app
from harness.errors import BadInputError
from harness.submissions import SubmissionSpec, check_submission, count_parameters, load_submission, new_submission

runner = CliRunner()


def test_library_scaffolds_the_three_files(tmp_path: Path) -> None:
    folder = new_submission("my-cnn", tmp_path)
    assert folder == tmp_path / "my-cnn"
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "model.py", "submission.toml"]
    assert [p.name for p in tmp_path.iterdir()] == ["my-cnn"]  # no staging folder left behind
    assert load_submission(folder).spec.name == "my-cnn"


def test_folder_gets_the_usual_permissions(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        folder = new_submission("my-cnn", tmp_path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755  # not the 0700 of a temporary folder
    assert stat.S_IMODE((folder / "model.py").stat().st_mode) == 0o644


def test_cli_scaffold_passes_check_right_away(tmp_path: Path) -> None:
    created = runner.invoke(app, ["submissions", "new", "my-cnn", "--dir", str(tmp_path)])
    assert created.exit_code == 0, created.output
    assert "harness submissions check" in created.output
    checked = runner.invoke(app, ["submissions", "check", str(tmp_path / "my-cnn")])
    assert checked.exit_code == 0, checked.output
    assert "ok my-cnn" in checked.output and "loss" in checked.output
    report = check_submission(tmp_path / "my-cnn")
    assert report["trains"] and report["loss"]["last"] < report["loss"]["first"]


def test_toml_sets_every_field_with_comments(tmp_path: Path) -> None:
    text = (new_submission("my-cnn", tmp_path) / "submission.toml").read_text()
    raw = tomllib.loads(text)
    sections = {"optimizer": ("name", "lr", "weight_decay"), "training": ("batch_size", "epochs", "patience")}
    for section, keys in sections.items():
        assert set(keys) <= set(raw[section]), section
    flat = {"optimizer", "lr", "weight_decay", "batch_size", "epochs", "patience", "model_params"}
    for spec_field in fields(SubmissionSpec):
        if spec_field.name not in flat:
            assert spec_field.name in raw, spec_field.name
    assert "model" in raw
    assert text.count("#") >= 10
    assert "epochs = 0" in text or "0 = no training" in text


def test_model_docstring_table_and_count(tmp_path: Path) -> None:
    model_file = new_submission("my-cnn", tmp_path) / "model.py"
    spec = importlib.util.spec_from_file_location("scaffold_model", model_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "| block" in (module.__doc__ or "")
    model = module.build(56)
    assert f"{count_parameters(model):,} parameters" in module.__doc__


@pytest.mark.parametrize("frames", [8, 100, 3000])
def test_global_pooling_takes_any_crop(tmp_path: Path, frames: int) -> None:
    model = load_submission(new_submission("my-cnn", tmp_path)).build(5).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 1, 96, frames)).shape == (2, 5)


def test_readme_says_what_to_fill(tmp_path: Path) -> None:
    text = (new_submission("my-cnn", tmp_path) / "README.md").read_text()
    assert text.startswith("# my-cnn\n")
    for heading in ("## Model", "## Training", "## Citation"):
        assert heading in text
    assert "TODO, what it is" in text and "the paper to cite" in text


def test_refuses_an_existing_folder(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["submissions", "new", "taken", "--dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "already exists" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("name", ["Bad Name", "UPPER", "../escape", "a/b", "-lead", "trail-", "", "x" * 65, "a..b"])
def test_refuses_invalid_names(tmp_path: Path, name: str) -> None:
    result = runner.invoke(app, ["submissions", "new", "--dir", str(tmp_path), "--", name])
    assert result.exit_code == 2, result.output
    assert "invalid submission name" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(BadInputError):
        new_submission(name, tmp_path)


def test_default_directory_is_the_checkouts_submissions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "submissions_dir", lambda: tmp_path / "submissions")
    result = runner.invoke(app, ["submissions", "new", "my_model.v2"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "submissions" / "my_model.v2" / "model.py").is_file()
    assert check_submission("my_model.v2")["name"] == "my_model.v2"  # found by name


@pytest.mark.slow
def test_scaffold_runs_on_the_tiny_toy(tiny_toy: Path, tmp_path: Path) -> None:
    folder = new_submission("my-cnn", tmp_path / "zoo")
    result = runner.invoke(app, ["run", str(folder), "--epochs", "1", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert list((tmp_path / "runs" / "toy" / "split-0" / "my-cnn").glob("*/done"))
