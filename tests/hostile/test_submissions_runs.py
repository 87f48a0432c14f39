"""Submissions and runs against hostile or careless input (issue 13, helper B's part).

Every case goes through the CLI: exit 2 for a bad submission, option or folder (exit 1 where
``submissions check`` documents a failed check), one ``error:`` line naming the file or value, no
traceback, and nothing recorded or written where it could do harm: no folder outside the runs
directory, no ``done`` marker, no row in the store, a locked run left as it was.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

import pytest
from hostile import assert_clean_error, cli, cli_process, snapshot, start_process, store_rows

from harness.submissions import MAX_CROP_FRAMES

TOML = """\
name = {name}
title = "tiny hostile-test model"
authors = {authors}
feature = {feature}
crop_frames = {crop_frames}
external_data = {external_data}
{extra}
[optimizer]
name = "adam"
lr = {lr}

[training]
batch_size = {batch_size}
epochs = {epochs}
{training_extra}
"""

FIELDS = {
    "name": '"tiny"',
    "authors": '["tests"]',
    "feature": '"mel96"',
    "crop_frames": "32",
    "external_data": "false",
    "extra": "",
    "lr": "1e-2",
    "batch_size": "4",
    "epochs": "1",
    "training_extra": "",
}

MODEL = """\
import os
import sys
import time

import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self, num_tags):
        super().__init__()
        self.num_tags = num_tags
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4, num_tags)

    def forward(self, x):
        logits = self.fc(self.conv(x).mean(dim=(2, 3)))
        return {forward}
{extra}

def build(num_tags):
    {build}
    return Tiny(num_tags)
"""


def _submission(folder: Path, *, model: dict[str, str] | None = None, **fields: str) -> Path:
    """A small submission folder; ``fields`` replace parts of the TOML, ``model`` parts of model.py."""
    folder.mkdir(parents=True)
    (folder / "submission.toml").write_text(TOML.format(**{**FIELDS, **fields}))
    parts = {"forward": "logits", "extra": "", "build": "pass", **(model or {})}
    (folder / "model.py").write_text(MODEL.format(**parts))
    return folder


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")} if root.exists() else set()


# --- 1. names that would leave the runs directory --------------------------------------------------

BAD_NAMES = ["../../../../escaped", "a/b", "", "Upper", "x" * 65, "..", "bad[/]name"]


@pytest.mark.parametrize("name", BAD_NAMES, ids=["dotdot", "slash", "empty", "upper", "too-long", "parent", "markup"])
def test_run_refuses_a_name_new_would_refuse(tiny_toy: Path, tmp_path: Path, name: str) -> None:
    folder = _submission(tmp_path / "sub", name=json.dumps(name))
    before = _files(tmp_path)
    out = cli("run", folder, "--device", "cpu")
    assert_clean_error(out, str(folder / "submission.toml"), f"invalid submission name {name!r}", "e.g. 'my-cnn'")
    assert _files(tmp_path) - before <= {tmp_path / "runs", tmp_path / "site"}  # the folders checked writable, empty
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("name", BAD_NAMES[:3], ids=["dotdot", "slash", "empty"])
def test_check_fails_a_name_new_would_refuse(tmp_path: Path, name: str) -> None:
    folder = _submission(tmp_path / "sub", name=json.dumps(name))
    assert_clean_error(
        cli("submissions", "check", folder), str(folder / "submission.toml"), "invalid submission name", code=1
    )


# --- 2. field types --------------------------------------------------------------------------------

FIELD_CASES = {
    # id: (TOML replacements, needles of the error line)
    "epochs-inf": ({"epochs": "inf"}, ["training.epochs", "TOML integer", "inf"]),
    "epochs-float": ({"epochs": "2.5"}, ["training.epochs", "2.5 (a float)"]),
    "epochs-string": ({"epochs": '"3"'}, ["training.epochs", "the string '3'"]),
    "epochs-bool": ({"epochs": "true"}, ["training.epochs", "true (a boolean)"]),
    "crop-inf": ({"crop_frames": "inf"}, ["crop_frames", "TOML integer"]),
    "crop-huge": ({"crop_frames": str(10**12)}, ["crop_frames", f"at most {MAX_CROP_FRAMES}"]),
    "crop-float": ({"crop_frames": "32.0"}, ["crop_frames", "32.0 (a float)"]),
    "batch-string": ({"batch_size": '"32"'}, ["training.batch_size", "the string '32'"]),
    "patience-float": ({"training_extra": "patience = 2.5"}, ["training.patience", "2.5 (a float)"]),
    "lr-string": ({"lr": '"1e-3"'}, ["optimizer.lr", "finite TOML number", "the string '1e-3'"]),
    "lr-nan": ({"lr": "nan"}, ["optimizer.lr", "finite TOML number", "nan"]),
    "lr-inf": ({"lr": "inf"}, ["optimizer.lr", "inf"]),
    "lr-bool": ({"lr": "true"}, ["optimizer.lr", "true (a boolean)"]),
    "lr-negative": ({"lr": "-0.1"}, ["optimizer.lr", "positive"]),
    "weight-decay-negative": ({"lr": "1e-3\nweight_decay = -1"}, ["optimizer.weight_decay", ">= 0"]),
    "external-data-string": ({"external_data": '"false"'}, ["external_data", "TOML boolean", "the string 'false'"]),
    "external-data-int": ({"external_data": "0"}, ["external_data", "TOML boolean"]),
    "description-number": ({"extra": "description = 3"}, ["description", "TOML string", "got 3"]),
    "authors-string": ({"authors": '"Me"'}, ["authors", "list of strings", "the string 'Me'"]),
    "authors-numbers": ({"authors": "[1, 2]"}, ["authors", "list of strings", "non-string item"]),
    "feature-number": ({"feature": "96"}, ["feature", "TOML string", "got 96"]),
    "unknown-field": ({"training_extra": "epoch = 3"}, ["unknown field 'training.epoch'", "did you mean 'epochs'"]),
    "unknown-top-field": ({"extra": 'license = "MIT"'}, ["unknown field 'license'", "did you mean 'licence'"]),
    "model-not-a-table": ({"extra": "model = 3"}, ["model must be a table"]),
}


def _field_case(tmp_path: Path, case: str) -> tuple[Path, list[str]]:
    replacements, needles = FIELD_CASES[case]
    return _submission(tmp_path / "sub", **replacements), needles


@pytest.mark.parametrize("case", list(FIELD_CASES))
def test_run_refuses_a_field_of_the_wrong_type(tiny_toy: Path, tmp_path: Path, case: str) -> None:
    folder, needles = _field_case(tmp_path, case)
    assert_clean_error(cli("run", folder, "--device", "cpu"), str(folder / "submission.toml"), *needles)
    assert not any((tmp_path / "runs").rglob("config.json")) and store_rows(tmp_path / "runs" / "results.sqlite") == []


@pytest.mark.parametrize("case", ["epochs-inf", "crop-huge", "epochs-float", "external-data-string", "unknown-field"])
def test_check_fails_a_field_of_the_wrong_type(tmp_path: Path, case: str) -> None:
    folder, needles = _field_case(tmp_path, case)
    assert_clean_error(cli("submissions", "check", folder), str(folder / "submission.toml"), *needles, code=1)


# --- 2b. the input size: one owner per feature (stft-square: the dataset's K) ----------------------


def test_run_refuses_a_stft_square_crop_frames_that_differs_from_the_datasets_k(tiny_toy: Path, tmp_path: Path) -> None:
    folder = _submission(tmp_path / "sub", feature='"stft-square"', crop_frames="513")
    out = cli("run", folder, "--device", "cpu")
    needles = (
        str(folder / "submission.toml"),
        "crop_frames = 513",
        "toy",
        "257 x 257",
        "square_size",
        "remove crop_frames",
    )
    assert_clean_error(out, *needles, only_line=False)
    assert not any((tmp_path / "runs").rglob("config.json")) and store_rows(tmp_path / "runs" / "results.sqlite") == []
    assert not any(tmp_path.rglob("stft-square")), "refused before any stft-square feature was prepared"


def test_check_refuses_it_at_the_datasets_k_and_passes_at_the_same_k(tmp_path: Path) -> None:
    folder = _submission(tmp_path / "sub", feature='"stft-square"', crop_frames="513")
    assert_clean_error(
        cli("submissions", "check", folder), str(folder / "submission.toml"), "crop_frames = 513", code=1
    )
    out = cli("submissions", "check", folder, "--dataset", "cal500")
    assert out.code == 0 and "input (2, 1, 513, 513)" in out.stdout, out


# --- 3. sys.exit() and other BaseExceptions in user code, in a real process -------------------------

EXITS = {
    # id: (model.py parts, the code that exits (its line is named), needles)
    "import": ({"extra": "\nsys.exit(3)\n"}, "sys.exit(3)", ["import failed", "sys.exit(3)"]),
    "build": ({"build": "sys.exit()"}, "sys.exit()", ["build(8", "sys.exit()", "raise an exception"]),
    "forward": ({"forward": "sys.exit(0)"}, "sys.exit(0)", ["forward pass on (", "sys.exit(0)"]),
    "fit-labels": (
        {"extra": "\n    def fit_labels(self, labels):\n        raise SystemExit('bye')\n"},
        "SystemExit('bye')",
        ["fit_labels on", "sys.exit('bye')"],
    ),
    "base-exception": (
        {"forward": "(_ for _ in ()).throw(type('Stop', (BaseException,), {})())"},
        ".throw(",
        ["forward pass on (", "failed: Stop"],
    ),
}


def _exit_case(tmp_path: Path, case: str) -> tuple[Path, str, list[str]]:
    parts, code, needles = EXITS[case]
    folder = _submission(tmp_path / "sub", model=parts)
    lines = (folder / "model.py").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if code in text)
    return folder, f"{folder / 'model.py'}:{line}:", needles


@pytest.mark.parametrize("case", list(EXITS))
def test_sys_exit_in_model_py_is_one_line_for_run(tiny_toy: Path, tmp_path: Path, case: str) -> None:
    folder, where, needles = _exit_case(tmp_path, case)
    out = cli_process("run", folder, "--device", "cpu", env={"OMP_NUM_THREADS": "1"})
    assert_clean_error(out, where, *needles, only_line=case == "import")
    assert not list((tmp_path / "runs").rglob("done")) and store_rows(tmp_path / "runs" / "results.sqlite") == []


@pytest.mark.parametrize("case", list(EXITS))
def test_sys_exit_in_model_py_is_one_line_for_check(tmp_path: Path, case: str) -> None:
    folder, where, needles = _exit_case(tmp_path, case)
    out = cli_process("submissions", "check", folder, env={"OMP_NUM_THREADS": "1"})
    assert_clean_error(out, where, *needles, code=1)


# --- 4. outputs of the wrong kind during a run -----------------------------------------------------

OUTPUTS = {
    # id: (forward's return expression, epochs, needles)
    "tuple-train": (
        "(logits, logits)",
        "1",
        ["in train mode", "returned a tuple of 2 (Tensor, Tensor)", "expected (4, 8)"],
    ),
    "dict-train": ("{'logits': logits}", "1", ["returned a dict with keys 'logits'", "not a tensor of logits"]),
    "width-train": ("logits[:, :3]", "1", ["gives shape (4, 3)", "expected (4, 8) logits"]),
    "batch-train": ("logits[:1]", "1", ["gives shape (1, 8)", "expected (4, 8)"]),
    "none-train": ("None", "1", ["returned None"]),
    "integer-train": ("logits.long()", "1", ["torch.int64 logits"]),
    "tuple-eval": ("(logits, logits)", "0", ["in eval mode", "returned a tuple of 2"]),
    "width-eval": ("logits[:, :3]", "0", ["in eval mode", "gives shape (16, 3), expected (16, 8)"]),
    "batch-eval": ("logits[:1]", "0", ["in eval mode", "gives shape (1, 8), expected (16, 8)"]),
}


@pytest.mark.parametrize("case", list(OUTPUTS))
def test_wrong_model_output_is_one_line_before_anything_is_recorded(tiny_toy: Path, tmp_path: Path, case: str) -> None:
    forward, epochs, needles = OUTPUTS[case]
    folder = _submission(tmp_path / "sub", model={"forward": forward}, epochs=epochs)
    out = cli("run", folder, "--device", "cpu")
    assert_clean_error(out, str(folder / "model.py"), "forward pass on (", *needles, only_line=False)
    runs = tmp_path / "runs" / "toy" / "split-0" / "tiny"
    assert not list(runs.rglob("done")) and not list(runs.rglob("*.pt")) and not list(runs.rglob("scores.json"))
    assert store_rows(tmp_path / "runs" / "results.sqlite") == []


def test_nan_logits_are_one_line_not_a_metrics_traceback(tiny_toy: Path, tmp_path: Path) -> None:
    folder = _submission(tmp_path / "sub", model={"forward": "logits * float('nan')"}, epochs="0")
    out = cli("run", folder, "--device", "cpu")
    assert_clean_error(out, str(folder / "model.py"), "validation predictions", "NaN", code=1, only_line=False)
    assert store_rows(tmp_path / "runs" / "results.sqlite") == []


# --- 5. two processes on one run -------------------------------------------------------------------

GATED = {
    # training blocks while the gate file exists, after saying so: the run holds its directory meanwhile
    "forward": "logits",
    "extra": """
    def train(self, mode=True):
        gate = os.environ.get("HARNESS_TEST_GATE")
        if mode and gate:
            open(gate + ".reached", "w").close()
            while os.path.exists(gate):
                time.sleep(0.05)
        return super().train(mode)
""",
}


def _wait_for(path: Path, process: object, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_a_second_resume_of_a_run_in_progress_is_refused(tiny_toy: Path, tmp_path: Path) -> None:
    """Two `harness run --resume` of one run at once: the second is one line and touches nothing."""
    folder = _submission(tmp_path / "sub", model=GATED, epochs="2")
    gate = tmp_path / "gate"
    gate.write_text("")
    env = {"HARNESS_TEST_GATE": str(gate), "OMP_NUM_THREADS": "1"}
    args = ("run", folder, "--device", "cpu", "--epochs", "2", "--resume")
    first = start_process(*args, env=env)
    try:
        _wait_for(Path(f"{gate}.reached"), first)
        [run_dir] = (tmp_path / "runs" / "toy" / "split-0" / "tiny").iterdir()
        before = snapshot(tmp_path / "runs")
        second = cli_process(*args, env=env)
        assert_clean_error(
            second, f"run {run_dir.name} is in use by another harness process (pid {first.pid})", only_line=False
        )
        assert snapshot(tmp_path / "runs") == before
    finally:
        gate.unlink()
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, out + err
    assert [p.name for p in run_dir.parent.iterdir()] == [run_dir.name] and (run_dir / "done").is_file()
    epochs = [json.loads(line)["epoch"] for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert epochs == [1, 2]


def test_a_locked_unfinished_run_is_refused_then_resumed_once(
    tiny_toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lock held elsewhere (a separate open of .lock) blocks a resume in this process too."""
    from harness.results.rundir import RunDirectory

    folder = _submission(tmp_path / "sub", epochs="2")
    with monkeypatch.context() as patch:  # a run killed after recording, before `done`
        patch.setattr(RunDirectory, "mark_done", lambda self: None)
        assert cli("run", folder, "--device", "cpu", "--epochs", "2").code == 0
    [run_dir] = (tmp_path / "runs" / "toy" / "split-0" / "tiny").iterdir()
    store = tmp_path / "runs" / "results.sqlite"
    rows = store_rows(store)
    fd = os.open(run_dir / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.pwrite(fd, b"4242\n", 0)
        before = snapshot(tmp_path / "runs")
        out = cli("run", folder, "--device", "cpu", "--epochs", "2", "--resume")
        line = f"run {run_dir.name} is in use by another harness process (pid 4242)"
        assert_clean_error(out, line, "--resume", only_line=False)
        assert snapshot(tmp_path / "runs") == before and store_rows(store) == rows
    finally:
        os.close(fd)
    resumed = cli("run", folder, "--device", "cpu", "--epochs", "2", "--resume")
    assert resumed.code == 0, resumed
    assert (run_dir / "done").is_file() and [p.name for p in run_dir.parent.iterdir()] == [run_dir.name]
    epochs = [json.loads(line)["epoch"] for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert epochs == [1, 2]
    assert len({row[0] for row in store_rows(store) if len(row) == 5}) == 1


# --- 6. folders a run or `submissions new` cannot write ---------------------------------------------


@pytest.mark.parametrize("where", ["--runs-dir", "$HARNESS_RUNS", "--store", "$HARNESS_STORE", "$HARNESS_SITE"])
def test_run_checks_every_folder_it_writes_first(
    tiny_toy: Path, tmp_path: Path, under_a_file: Path, where: str
) -> None:
    folder = _submission(tmp_path / "sub")
    args: list[str | Path] = ["run", folder, "--device", "cpu"]
    env: dict[str, str] = {}
    if where == "--runs-dir":
        args += ["--runs-dir", under_a_file]
    elif where == "--store":
        args += ["--store", under_a_file / "results.sqlite"]
    else:
        value = under_a_file / "results.sqlite" if where == "$HARNESS_STORE" else under_a_file
        env[where[1:]] = str(value)
    named = under_a_file.parent if where == "$HARNESS_SITE" else under_a_file  # the site is built beside its folder
    assert_clean_error(cli(*args, env=env), str(named), where, "cannot write here")
    assert not (tmp_path / "data").exists() and not any((tmp_path / "runs").rglob("config.json"))  # no work began


def test_run_refuses_a_site_folder_a_build_would_not_replace_before_work(tiny_toy: Path, tmp_path: Path) -> None:
    """The site is replaced whole at the end of a run: a folder of someone's files is refused first, not hours in."""
    folder = _submission(tmp_path / "sub")
    site = tmp_path / "my-notes"
    site.mkdir()
    (site / "thesis.tex").write_text("keep me")
    out = cli("run", folder, "--device", "cpu", env={"HARNESS_SITE": str(site)})
    assert_clean_error(out, str(site), "thesis.tex", "$HARNESS_SITE")
    assert (site / "thesis.tex").read_text() == "keep me" and sorted(p.name for p in site.iterdir()) == ["thesis.tex"]
    assert not (tmp_path / "data").exists() and not any((tmp_path / "runs").rglob("config.json"))  # no work began


def test_run_with_a_read_only_runs_dir(tiny_toy: Path, tmp_path: Path, readonly_dir: Path) -> None:
    folder = _submission(tmp_path / "sub")
    assert_clean_error(
        cli("run", folder, "--device", "cpu", "--runs-dir", readonly_dir), str(readonly_dir), "--runs-dir"
    )
    assert not (tmp_path / "data").exists()


def test_run_with_a_store_that_is_a_folder(tiny_toy: Path, tmp_path: Path) -> None:
    folder = _submission(tmp_path / "sub")
    (tmp_path / "store-folder").mkdir()
    out = cli("run", folder, "--device", "cpu", "--store", tmp_path / "store-folder")
    assert_clean_error(out, str(tmp_path / "store-folder"), "a folder", "--store")
    assert not (tmp_path / "data").exists()


def test_new_in_a_folder_under_a_file(under_a_file: Path) -> None:
    assert_clean_error(
        cli("submissions", "new", "my-cnn", "--dir", under_a_file), str(under_a_file), "--dir", "cannot write here"
    )
    assert under_a_file.parent.is_file()


def test_new_in_a_read_only_folder(readonly_dir: Path) -> None:
    assert_clean_error(cli("submissions", "new", "my-cnn", "--dir", readonly_dir), str(readonly_dir), "--dir")
    assert list(readonly_dir.iterdir()) == []


# --- 7. user text printed as text ------------------------------------------------------------------


def test_run_prints_paths_with_markup_as_text(tiny_toy: Path, tmp_path: Path) -> None:
    """Run folders and the site folder are user paths: `[/]` in them crashed rich after the run was recorded."""
    folder = _submission(tmp_path / "sub", epochs="1")
    runs, site = tmp_path / "runs[/]x", tmp_path / "site[bold]y"
    out = cli("run", folder, "--device", "cpu", "--runs-dir", runs, env={"HARNESS_SITE": str(site)})
    assert out.code == 0, out
    assert f"files in {runs}" in " ".join(out.stdout.split()) and str(site / "index.html") in out.stdout
    assert (site / "index.html").is_file()


def test_run_names_a_recorded_run_its_board_left_off(tiny_toy: Path, tmp_path: Path) -> None:
    """A run ends by building the site: a row of the store it cannot use is a warning naming it, not silence."""
    import sqlite3

    from harness.results.store import ResultsStore, RunRecord

    store = tmp_path / "runs" / "results.sqlite"
    ResultsStore(store).record(
        RunRecord(
            run_id="old[/]run",
            dataset="toy",
            fold="split-0",
            split="test",
            submission="net",
            team="team",
            run_name="seed-0",
            fingerprint="f" * 64,
            scores={"PR-AUC-macro": 0.5},
        )
    )
    with sqlite3.connect(store) as db:
        db.execute("UPDATE runs SET config = '[1, 2]'")
    db.close()
    folder = _submission(tmp_path / "sub", epochs="1")
    out = cli(
        "run", folder, "--device", "cpu", "--runs-dir", tmp_path / "runs", env={"HARNESS_SITE": str(tmp_path / "site")}
    )
    assert out.code == 0 and out.exception is None, repr(out)
    warnings = [line for line in out.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "'old[/]run'" in warnings[0] and "left off the boards" in warnings[0], repr(out)
    assert "leaderboard: wrote" in out.stdout


def test_submissions_list_prints_titles_as_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness import paths

    zoo = tmp_path / "zoo"
    folder = _submission(zoo / "tiny")
    toml = (folder / "submission.toml").read_text()
    (folder / "submission.toml").write_text(toml.replace("tiny hostile-test model", "T[/]x \\u001b[2J"))
    monkeypatch.setattr(paths, "submissions_dir", lambda: zoo)
    out = cli("submissions", "list")
    assert out.code == 0, out
    assert "T[/]x \\x1b[2J" in out.stdout and "\x1b" not in out.stdout
