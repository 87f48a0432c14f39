"""The Slurm launcher: options checked without Slurm; sweeps on a real single-node Slurm (skipped where it cannot start).

The cluster (:mod:`slurm_cluster`) is started once per session. Its jobs are other processes: they
inherit this process's environment through ``sbatch`` (``HARNESS_REGISTRY``, ``HARNESS_DATA``,
``HARNESS_RUNS``), set per test by the fixtures before the array is submitted.
"""

from __future__ import annotations

import json
import math
import subprocess
import threading
import time
from pathlib import Path

import pytest
from slurm_cluster import SlurmCluster, slurm_cluster  # noqa: F401 - the session fixture
from typer.testing import CliRunner

from harness.cli import app
from harness.errors import BadInputError, RunFailedError
from harness.protocol.finish import record_run_folder
from harness.results.ingest import ingest
from harness.results.store import ResultsStore
from harness.sweep.jobs import JobResult, SweepJob
from harness.sweep.slurm import SlurmOptions, launch_slurm, parse_slurm_opts, queue_states

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()

GATED_MODEL = '''
"""Random scores, but the forward pass waits while the gate file exists (so a test can cancel it mid-run)."""
import time
from pathlib import Path

import torch
from torch import nn


class Gated(nn.Module):
    def __init__(self, num_tags: int, gate: str) -> None:
        super().__init__()
        self.num_tags, self.gate = num_tags, Path(gate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.gate.with_suffix(".entered").touch()
        while self.gate.exists():
            time.sleep(0.1)
        return torch.zeros(x.shape[0], self.num_tags)


def build(num_tags: int, gate: str) -> nn.Module:
    return Gated(num_tags, gate)
'''

FAILING_MODEL = """
import torch
from torch import nn


class Failing(nn.Module):
    def __init__(self, num_tags: int) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("deliberately broken submission")


def build(num_tags: int) -> nn.Module:
    return Failing(num_tags)
"""

TOML = """
name = "{name}"
title = "{name} test submission"
authors = ["tests"]
description = "sweep tests"
feature = "mel96"
crop_frames = 64
external_data = false
licence = "MIT"
{model}
[training]
epochs = 0
"""


def write_submission(directory: Path, model: str, model_section: str = "") -> Path:
    directory.mkdir(parents=True)
    (directory / "model.py").write_text(model)
    (directory / "submission.toml").write_text(TOML.format(name=directory.name, model=model_section))
    return directory


def sweep_jobs(submissions: list[Path], seeds: tuple[int, ...], runs_root: Path) -> list[SweepJob]:
    return [
        SweepJob(str(s), "toy", "split-0", seed, None, "cpu", 1, str(runs_root), None, False)
        for s in submissions
        for seed in seeds
    ]


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, kind: str, job: SweepJob, result: JobResult | None) -> None:
        assert (result is None) == (kind in ("queued", "running"))
        self.seen.append((kind, job.label()))

    def kinds(self, job: SweepJob) -> list[str]:
        return [kind for kind, label in self.seen if label == job.label()]


def record_all(runs_root: Path, store: Path) -> None:
    report = ingest(runs_root, store, record=record_run_folder)
    assert not report.failed, report.failed


def scores(run_dir: str | Path) -> dict:
    return json.loads((Path(run_dir) / "scores.json").read_text())["scores"]


# --- without Slurm ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [
        ({"time_min": 0}, "--time"),
        ({"gpus_per_job": -1}, "--gpus-per-job"),
        ({"array_parallelism": 0}, "--array-parallelism"),
        ({"cpus_per_task": 0}, "--cpus-per-task"),
        ({"mem_gb": 0}, "--mem-gb"),
        ({"partition": " "}, "--partition"),
        ({"extra": {"bad key": "x"}}, "--slurm-opt"),
        ({"extra": {"qos": ""}}, "--slurm-opt"),
    ],
)
def test_a_bad_slurm_option_is_one_clear_error(kwargs: dict, option: str) -> None:
    with pytest.raises(BadInputError) as raised:
        SlurmOptions(**kwargs)
    assert raised.value.message.startswith(option) and "\n" not in raised.value.message


def test_options_become_submitit_parameters() -> None:
    options = SlurmOptions("gpu", 2, 30, 4, 16, 8, parse_slurm_opts(["qos=high", "--account=lab"]))
    assert options.executor_parameters() == {
        "timeout_min": 30,
        "slurm_array_parallelism": 8,
        "name": "harness-sweep",
        "slurm_partition": "gpu",
        "gpus_per_node": 2,
        "cpus_per_task": 4,
        "mem_gb": 16,
        "slurm_additional_parameters": {"qos": "high", "account": "lab"},
    }
    assert "gpus_per_node" not in SlurmOptions().executor_parameters()  # a CPU job asks for no GPU
    with pytest.raises(BadInputError, match="NAME=VALUE"):
        parse_slurm_opts(["qos"])


def test_without_sbatch_the_error_names_the_local_launcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch here
    job = sweep_jobs([tmp_path / "s"], (0,), tmp_path / "runs")
    with pytest.raises(RunFailedError, match="--launcher local"):
        launch_slurm(job, tmp_path / "sweep", SlurmOptions(), Events())


# --- on the test Slurm -------------------------------------------------------------------------------


def test_a_submitit_job_array_runs_on_the_test_slurm(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:  # noqa: F811
    import submitit

    executor = submitit.AutoExecutor(folder=tmp_path / "%j", cluster="slurm")
    executor.update_parameters(timeout_min=5, slurm_partition="debug")
    start = time.monotonic()
    jobs = executor.map_array(math.factorial, [1, 2, 3])  # a job unpickles its function: stdlib
    assert [job.result() for job in jobs] == [1, 2, 6]
    assert time.monotonic() - start < 60


@pytest.fixture
def toy_env(tiny_toy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny toy registry (``HARNESS_REGISTRY``) for this process and, through sbatch's exported environment, its jobs."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return tiny_toy


def test_a_sweep_on_slurm_equals_the_runs_made_one_by_one(
    slurm_cluster: SlurmCluster,  # noqa: F811
    toy_env: Path,
    tmp_path: Path,
) -> None:
    submissions = [REPO / "submissions" / "popular", REPO / "submissions" / "random"]
    seeds = (0, 1)
    one_by_one = {}
    for submission in submissions:  # first: this also generates the toy data and features the jobs share
        for seed in seeds:
            args = ["run", str(submission), "--dataset", "toy", "--seeds", str(seed), "--device", "cpu"]
            done = runner.invoke(app, [*args, "--runs-dir", str(tmp_path / "reference")])
            assert done.exit_code == 0, done.output
    for folder in (tmp_path / "reference").rglob("scores.json"):
        config = json.loads((folder.parent / "config.json").read_text())
        one_by_one[(config["submission"], config["seed"])] = scores(folder.parent)
    assert len(one_by_one) == 4

    runs_root = tmp_path / "runs"
    jobs = sweep_jobs(submissions, seeds, runs_root)
    events = Events()
    results = launch_slurm(jobs, tmp_path / "sweep", SlurmOptions(partition="debug", time_min=10), events)

    assert [r.ok for r in results] == [True] * 4, [r.error for r in results]
    assert [r.job for r in results] == jobs
    for job, result in zip(jobs, results, strict=True):
        assert events.kinds(job)[0] == "queued" and events.kinds(job)[-1] == "done"
        assert events.kinds(job).count("done") == 1
        assert result.log == str(tmp_path / "sweep" / "logs" / f"{job.slug()}.log")  # the run's output, as local's
        assert scores(result.run_dir) == one_by_one[(Path(job.submission).name, job.seed)]
    store = tmp_path / "sweep" / "results.sqlite"  # not HARNESS_STORE, which holds the one-by-one runs
    record_all(runs_root, store)
    record_all(runs_root, store)  # the one writer again: nothing twice
    rows = ResultsStore(store).run_ids()
    assert sorted(rows) == sorted(Path(r.run_dir).name for r in results)


def test_a_cancelled_job_is_failed_and_a_rerun_finishes_it_and_a_broken_one_does_not_stop_the_rest(
    slurm_cluster: SlurmCluster,  # noqa: F811
    toy_env: Path,
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    gated = write_submission(tmp_path / "gated", GATED_MODEL, f'[model]\ngate = "{gate}"')
    broken = write_submission(tmp_path / "broken", FAILING_MODEL)
    popular = REPO / "submissions" / "popular"
    done = runner.invoke(
        app, ["run", str(popular), "--dataset", "toy", "--device", "cpu", "--runs-dir", str(tmp_path / "warm")]
    )
    assert done.exit_code == 0, done.output  # the toy data and features, made once before the jobs share them
    runs_root = tmp_path / "runs"
    jobs = sweep_jobs([gated, broken, popular], (0,), runs_root)
    gate.touch()
    events = Events()

    def cancel_the_gated_job() -> None:  # task 0 of the array, once its forward pass is waiting at the gate
        deadline = time.monotonic() + 120
        while not gate.with_suffix(".entered").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        for line in _squeue(slurm_cluster):
            job_id, state = line.split()
            if job_id.endswith("_0") and state == "RUNNING":
                subprocess.run(["scancel", job_id], env=slurm_cluster.env, check=True)
                return
        gate.unlink()  # nothing to cancel: open the gate so the sweep ends (and the test fails) instead of hanging

    canceller = threading.Thread(target=cancel_the_gated_job)
    canceller.start()
    try:
        results = launch_slurm(jobs, tmp_path / "sweep", SlurmOptions(partition="debug"), events)
    finally:
        canceller.join()
    cancelled, failed, finished = results
    assert not cancelled.ok and "CANCELLED" in cancelled.error, cancelled.error
    assert "running" in events.kinds(jobs[0]) and events.kinds(jobs[0])[-1] == "failed"
    assert Path(cancelled.log).parent.parent == tmp_path / "sweep" / "slurm" and cancelled.log.endswith("_log.err")
    assert not failed.ok and "deliberately broken submission" in failed.error
    assert Path(failed.log).is_file() and "deliberately broken submission" in Path(failed.log).read_text()
    assert finished.ok and (Path(finished.run_dir) / "done").is_file()
    interrupted = list((runs_root / "toy" / "split-0" / "gated").iterdir())
    assert len(interrupted) == 1 and not (interrupted[0] / "done").exists()

    gate.unlink()  # the gated submission now runs through: re-running the sweep finishes it
    again = launch_slurm(jobs[:1], tmp_path / "sweep", SlurmOptions(partition="debug"), Events())
    assert again[0].ok, again[0].error
    assert Path(again[0].run_dir) == interrupted[0].resolve() and (interrupted[0] / "done").is_file()


def _squeue(cluster: SlurmCluster) -> list[str]:
    return [line for line in cluster.command("squeue", "-h", "--array", "-o", "%i %T").splitlines() if line.strip()]


def test_queue_states_reads_array_tasks(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:  # noqa: F811
    import submitit

    executor = submitit.AutoExecutor(folder=tmp_path / "%j", cluster="slurm")
    executor.update_parameters(timeout_min=5, slurm_partition="debug")
    jobs = executor.map_array(math.factorial, [1, 2])
    [job.result() for job in jobs]
    states = queue_states([job.job_id for job in jobs])
    assert {states[job.job_id] for job in jobs} == {"COMPLETED"}


def test_harness_sweep_with_the_slurm_launcher_records_every_run_once_and_a_rerun_skips_them(
    slurm_cluster: SlurmCluster,  # noqa: F811
    two_fold_toy: Path,
    toy_env: Path,
    tmp_path: Path,
) -> None:
    """The issue's grid on Slurm: 2 submissions x 2 folds x 2 seeds, one job array."""
    popular, random = REPO / "submissions" / "popular", REPO / "submissions" / "random"
    warm = runner.invoke(app, ["run", str(popular), "--device", "cpu", "--runs-dir", str(tmp_path / "warm")])
    assert warm.exit_code == 0, warm.output  # the toy data and features, made once before the jobs share them
    args = [
        *("sweep", "run", str(popular), str(random), "--dataset", "toy", "--fold", "all", "--seeds", "0,1"),
        "--device",
        "cpu",
        *("--launcher", "slurm", "--partition", "debug", "--time", "10", "--slurm-opt", "comment=harness-test"),
        *("--runs-dir", str(tmp_path / "swept"), "--sweep-dir", str(tmp_path / "sweep")),
        *("--store", str(tmp_path / "sweep.sqlite")),  # not HARNESS_STORE, which holds the warm-up run
    ]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "8 done, 0 failed, 0 already done" in " ".join(first.output.split())
    store = ResultsStore(tmp_path / "sweep.sqlite")
    runs = sorted(p.parent.name for p in (tmp_path / "swept" / "toy").rglob("done"))
    assert len(runs) == 8 and sorted(store.run_ids()) == runs
    assert {r.fold for r in store.list_runs()} == {"split-0", "split-1"}
    scripts = [p.read_text() for p in (tmp_path / "sweep" / "slurm").rglob("*") if p.is_file() and p.suffix == ".sh"]
    assert any("#SBATCH --comment=harness-test" in s and "#SBATCH --partition=debug" in s for s in scripts)
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "0 done, 0 failed, 8 already done" in " ".join(again.output.split())
    assert sorted(store.run_ids()) == runs


def test_harness_sweep_with_the_slurm_launcher_and_no_sbatch_names_the_local_launcher(
    toy_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    args = ["sweep", "run", str(REPO / "submissions" / "popular"), "--device", "cpu", "--launcher", "slurm"]
    result = runner.invoke(app, [*args, "--sweep-dir", str(tmp_path / "sweep")])
    assert result.exit_code != 0
    assert "sbatch is not on PATH" in result.output and "--launcher local" in " ".join(result.output.split())


class FakeHandle:
    """A submitit job as ``_watch`` sees it: an id, its paths, a result once its pickle exists."""

    def __init__(self, folder: Path, job_id: str, result: object = None) -> None:
        self.job_id, self._result = job_id, result
        self.paths = type(
            "Paths", (), {"result_pickle": folder / f"{job_id}_result.pkl", "stderr": folder / f"{job_id}_log.err"}
        )()

    @property
    def state(self) -> str:
        return "UNKNOWN"  # no accounting database: sacct does not answer

    def result(self) -> object:
        return self._result


def test_the_watcher_turns_slurm_states_into_events_and_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.sweep import slurm

    jobs = sweep_jobs([tmp_path / "a", tmp_path / "b", tmp_path / "c"], (0,), tmp_path / "runs")
    done = JobResult(jobs[0], True, str(tmp_path / "run"), None, "the run's log")
    handles = [FakeHandle(tmp_path, "7_0", done), FakeHandle(tmp_path, "7_1"), FakeHandle(tmp_path, "7_2")]
    timeline = iter(
        [
            {"7_0": "PENDING", "7_1": "PENDING", "7_2": "PENDING"},
            {"7_0": "RUNNING", "7_1": "RUNNING"},  # 7_2 is not in the queue any more (purged): gone
            {"7_0": "RUNNING", "7_1": "TIMEOUT"},
        ]
    )

    def states(job_ids: list[str]) -> dict[str, str]:
        current = next(timeline, {"7_0": "COMPLETED"})
        if current.get("7_0") == "COMPLETED":
            handles[0].paths.result_pickle.touch()
        return current

    monkeypatch.setattr(slurm, "queue_states", states)
    monkeypatch.setattr(slurm, "GONE_AFTER_S", 0.0)
    events = Events()
    results = slurm._watch(jobs, handles, events, poll_s=0.0)
    assert results[0] == done and events.kinds(jobs[0]) == ["running", "done"]
    assert not results[1].ok and results[1].error == "Slurm job 7_1 ended without a result: TIMEOUT"
    assert results[1].log == str(tmp_path / "7_1_log.err") and events.kinds(jobs[1]) == ["running", "failed"]
    assert not results[2].ok and "gone from the queue" in results[2].error and events.kinds(jobs[2]) == ["failed"]
