"""`harness sweep run --launcher local`: the grid in a process pool, each run recorded once by the sweep."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.results.store import ResultsStore
from harness.sweep.jobs import SweepJob, run_job

runner = CliRunner()
SEEDS = "0,1,2,3"  # the tiny toy has one fold: 2 submissions x 4 seeds stands for 2 x 2 folds x 2 seeds


def _sweep(tmp_path: Path, *args: str, name: str = "sweep") -> tuple[int, str, Path]:
    folder = tmp_path / name
    result = runner.invoke(
        app,
        [
            "sweep",
            "run",
            *args,
            "--device",
            "cpu",
            "--jobs",
            "2",
            "--sweep-dir",
            str(folder),
            "--runs-dir",
            str(tmp_path / "runs"),
        ],
    )
    return result.exit_code, result.output, folder


def _scores_by_run(store: Path) -> dict[tuple[str, int], dict[str, float]]:
    records = ResultsStore(store).list_runs()
    keyed = {(r.submission, r.seed): r.scores for r in records}
    assert len(keyed) == len(records)  # each (submission, seed) recorded exactly once
    return keyed


@pytest.fixture
def swept(tiny_toy: Path, tmp_path: Path) -> tuple[Path, str]:
    code, output, folder = _sweep(tmp_path, "submissions/popular", "submissions/random", "--seeds", SEEDS)
    assert code == 0, output
    return folder, output


def test_every_run_is_done_recorded_once_and_scores_as_one_by_one(swept: tuple[Path, str], tmp_path: Path) -> None:
    folder, output = swept
    doc = json.loads((folder / "sweep.json").read_text())
    assert [job["state"] for job in doc["jobs"]] == ["done"] * 8
    assert all(Path(job["run_dir"], "done").is_file() for job in doc["jobs"])
    assert all(Path(job["log"]).is_file() for job in doc["jobs"])
    store = tmp_path / "runs" / "results.sqlite"
    rows = ResultsStore(store).list_runs()
    assert len(rows) == 8 and len({r.run_id for r in rows}) == 8
    assert {r.run_dir for r in rows} == {job["run_dir"] for job in doc["jobs"]}
    swept_scores = _scores_by_run(store)
    alone = tmp_path / "alone"
    for submission in ("submissions/popular", "submissions/random"):
        result = runner.invoke(
            app,
            ["run", submission, "--seeds", SEEDS, "--device", "cpu", "--runs-dir", str(alone)]
            + ["--store", str(alone / "results.sqlite")],
        )
        assert result.exit_code == 0, result.output
    assert _scores_by_run(alone / "results.sqlite") == swept_scores
    assert "8 done, 0 failed, 0 already done" in output


def test_running_the_sweep_again_skips_every_finished_run(swept: tuple[Path, str], tmp_path: Path) -> None:
    dry = runner.invoke(
        app,
        ["sweep", "run", "submissions/popular", "submissions/random", "--seeds", SEEDS, "--device", "cpu"]
        + ["--runs-dir", str(tmp_path / "runs"), "--dry-run"],
    )
    assert dry.exit_code == 0 and "0 of 8 to run" in dry.output, dry.output
    assert not (tmp_path / "runs" / "sweeps").exists()  # a dry run writes nothing
    code, output, folder = _sweep(tmp_path, "submissions/popular", "submissions/random", "--seeds", SEEDS, name="again")
    assert code == 0, output
    assert "0 done, 0 failed, 8 already done" in output
    doc = json.loads((folder / "sweep.json").read_text())
    assert {job["state"] for job in doc["jobs"]} == {"skipped"}
    assert len(ResultsStore(tmp_path / "runs" / "results.sqlite").list_runs()) == 8


def test_an_interrupted_run_is_resumed_in_its_own_folder(swept: tuple[Path, str], tmp_path: Path) -> None:
    folder, _ = swept
    job = json.loads((folder / "sweep.json").read_text())["jobs"][5]
    run_dir = Path(job["run_dir"])
    (run_dir / "done").unlink()  # as if killed before its end
    (run_dir / "scores.json").unlink()
    store = ResultsStore(tmp_path / "runs" / "results.sqlite")
    store.delete(run_dir.name)
    dry = runner.invoke(
        app,
        ["sweep", "run", "submissions/popular", "submissions/random", "--seeds", SEEDS, "--device", "cpu"]
        + ["--runs-dir", str(tmp_path / "runs"), "--dry-run"],
    )
    assert "1 of 8 to run" in dry.output, dry.output
    code, output, again = _sweep(tmp_path, "submissions/popular", "submissions/random", "--seeds", SEEDS, name="again")
    assert code == 0, output
    doc = json.loads((again / "sweep.json").read_text())
    assert [j["state"] for j in doc["jobs"]].count("done") == 1
    (resumed,) = [j for j in doc["jobs"] if j["state"] == "done"]
    assert resumed["run_dir"] == str(run_dir) and (run_dir / "done").is_file()
    assert sum(r.run_id == run_dir.name for r in store.list_runs()) == 1
    assert len(store.list_runs()) == 8


def test_a_failing_submission_is_reported_with_its_log_and_the_rest_finish(tiny_toy: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree("submissions/popular", broken)
    toml = broken / "submission.toml"
    toml.write_text(toml.read_text().replace('name = "popular"', 'name = "broken"'))
    model = broken / "model.py"
    model.write_text(
        model.read_text().replace(
            '        """Pick the tag with the most positives',
            '        raise RuntimeError("broken on purpose")\n        """Pick',
        )
    )
    code, output, folder = _sweep(tmp_path, "submissions/popular", str(broken), "--seeds", "0,1")
    assert code == 1, output
    log = folder / "logs" / "broken-toy-split-0-seed0.log"
    assert "broken toy split-0 seed 0" in output and str(log) in output.replace("\n", "")
    assert "broken on purpose" in log.read_text()
    doc = json.loads((folder / "sweep.json").read_text())
    states = {job["label"]: job["state"] for job in doc["jobs"]}
    assert states == {
        "popular toy split-0 seed 0": "done",
        "popular toy split-0 seed 1": "done",
        "broken toy split-0 seed 0": "failed",
        "broken toy split-0 seed 1": "failed",
    }
    assert all("broken on purpose" in job["error"] for job in doc["jobs"] if job["state"] == "failed")
    assert len(ResultsStore(tmp_path / "runs" / "results.sqlite").list_runs()) == 2
    status = runner.invoke(app, ["sweep", "status", str(folder)])
    assert status.exit_code == 0 and "2 done, 2 failed" in status.output, status.output


def test_run_job_reports_an_error_as_data(tmp_path: Path) -> None:
    job = SweepJob("no-such-submission", "toy", "split-0", 0, None, "cpu", 1, str(tmp_path), None, False)
    result = run_job(job)
    assert not result.ok and result.run_dir is None
    assert result.error and "\n" not in result.error and "no-such-submission" in result.error
    assert job.label() == "no-such-submission toy split-0 seed 0"


def test_status_of_a_folder_without_a_sweep_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sweep", "status", str(tmp_path)])
    assert result.exit_code == 2 and "no sweep.json" in result.output


def test_a_job_with_nproc_runs_under_torchrun(tiny_toy: Path, tmp_path: Path) -> None:
    job = SweepJob(
        str(Path("submissions/popular").resolve()),
        "toy",
        "split-0",
        0,
        None,
        "cpu",
        2,
        str(tmp_path / "runs"),
        None,
        False,
    )
    log = tmp_path / "job.log"
    result = run_job(SweepJob(**{**job.__dict__, "log": str(log)}))
    assert result.ok, (result.error, log.read_text())
    run_dir = Path(result.run_dir or "")
    assert (run_dir / "done").is_file()
    assert json.loads((run_dir / "env.json").read_text())["world_size"] == 2  # two ranks trained it
    assert not (tmp_path / "runs" / "results.sqlite").exists()  # a job writes its folder, not the store


def test_two_submissions_two_folds_two_seeds_as_one_by_one(two_fold_toy: Path, tmp_path: Path) -> None:
    """The issue's grid: 2 submissions x 2 folds x 2 seeds, each recorded once, scores as `harness run` gives them."""
    code, output, folder = _sweep(
        tmp_path, "submissions/popular", "submissions/random", "--fold", "all", "--seeds", "0,1"
    )
    assert code == 0, output
    assert "8 done, 0 failed, 0 already done" in output
    swept = ResultsStore(tmp_path / "runs" / "results.sqlite").list_runs()
    keyed = {(r.submission, r.fold, r.seed): r.scores for r in swept}
    assert len(swept) == 8 and len(keyed) == 8
    assert {fold for _, fold, _ in keyed} == {"split-0", "split-1"}
    alone = tmp_path / "alone"
    for submission in ("submissions/popular", "submissions/random"):
        result = runner.invoke(
            app,
            ["run", submission, "--fold", "all", "--seeds", "0,1", "--device", "cpu", "--runs-dir", str(alone)]
            + ["--store", str(alone / "results.sqlite")],
        )
        assert result.exit_code == 0, result.output
    one_by_one = {(r.submission, r.fold, r.seed): r.scores for r in ResultsStore(alone / "results.sqlite").list_runs()}
    assert one_by_one == keyed


def test_sweep_without_run_is_sweep_run(tiny_toy: Path, tmp_path: Path) -> None:
    """The issue's form, `harness sweep SUBMISSION... [options]`, is `harness sweep run`; `status` stays a command."""
    grid = ["submissions/popular", "--seeds", "0,1", "--dry-run", "--runs-dir", str(tmp_path / "runs")]
    short = runner.invoke(app, ["sweep", *grid])
    long = runner.invoke(app, ["sweep", "run", *grid])
    assert short.exit_code == 0 and long.exit_code == 0, (short.output, long.output)
    assert short.output == long.output and "2 of 2 to run" in short.output
    missing = runner.invoke(app, ["sweep", "status", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "nowhere" in missing.output
