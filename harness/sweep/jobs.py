"""One job of a sweep: one (submission, dataset, fold, seed), run by the ordinary ``harness run`` code.

A job writes only its run folder (``record=False``): the sweep process is the one writer of the
results store and ingests each finished run folder (:mod:`harness.results.ingest`). Jobs and their
results are frozen, picklable dataclasses, so a process pool or submitit can carry them.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class SweepJob:
    """One run of the grid; ``log``: the file its output goes to (None: leave stdout/stderr as they are)."""

    submission: str
    dataset: str
    fold: str
    seed: int
    epochs: int | None
    device: str
    nproc: int
    runs_root: str
    root: str | None
    force: bool
    log: str | None = None

    def label(self) -> str:
        """e.g. ``popular toy split-0 seed 0``."""
        return f"{Path(self.submission).name} {self.dataset} {self.fold} seed {self.seed}"

    def slug(self) -> str:
        """The label as a file name: ``popular-toy-split-0-seed0``."""
        return f"{Path(self.submission).name}-{self.dataset}-{self.fold}-seed{self.seed}".replace("/", "_")


@dataclass(frozen=True)
class JobResult:
    job: SweepJob
    ok: bool
    run_dir: str | None
    error: str | None
    log: str | None


def run_job(job: SweepJob) -> JobResult:
    """Run ``job`` (resuming an interrupted run of its configuration); never raises: errors are ``ok=False``."""
    try:
        with _output_to(job.log):
            run_dir = _run_subprocess(job) if job.nproc > 1 else _run_in_process(job)
        return JobResult(job, True, run_dir, None, job.log)
    except BaseException as exc:  # noqa: BLE001 - a job reports every failure as data, one line
        if job.log:
            with contextlib.suppress(OSError), open(job.log, "a") as handle:
                traceback.print_exc(file=handle)
        message = " ".join(str(exc).split()) or type(exc).__name__
        return JobResult(job, False, None, f"{type(exc).__name__}: {message}", job.log)


def request_for(job: SweepJob):  # -> RunRequest (imported lazily: the CLI imports this module)
    from harness.protocol.request import RunRequest

    return RunRequest(
        submission=job.submission,
        dataset=job.dataset,
        fold=job.fold,
        seeds=(job.seed,),
        epochs=job.epochs,
        device=job.device,
        resume=True,
        force=job.force,
        root=Path(job.root) if job.root else None,
        runs_root=Path(job.runs_root),
        record=False,
    )


def _run_in_process(job: SweepJob) -> str:
    from harness.protocol.runner import run

    results = run(request_for(job), LogObserver())
    return str(results[0].run_dir.resolve())


def _run_subprocess(job: SweepJob) -> str:
    """``nproc`` processes under torchrun (DDP), each running :mod:`harness.sweep.worker` on this job."""
    with tempfile.TemporaryDirectory(prefix="harness-job-") as folder:
        out = Path(folder) / "run_dir.txt"
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={job.nproc}",
            "-m",
            "harness.sweep.worker",
            json.dumps(asdict(job)),
            str(out),
        ]
        sys.stdout.flush()
        sys.stderr.flush()
        code = subprocess.call(command)  # inherits file descriptors 1 and 2: the job's log
        if code != 0:
            raise RuntimeError(f"torchrun with {job.nproc} processes exited with status {code}")
        return out.read_text().strip()


class LogObserver:
    """The run's stage lines and epochs as plain lines on stdout (the job's log)."""

    def __init__(self) -> None:
        from harness.protocol.request import RunObserver

        self._base = RunObserver()

    def __getattr__(self, name: str):  # noqa: ANN204 - progress hooks: nothing to log
        return getattr(self._base, name)

    def stage(self, text: str) -> None:
        print(text, flush=True)

    def run_start(self, label: str, epochs: int) -> None:
        print(f"{label}: {epochs} epochs", flush=True)

    def epoch_end(self, entry: dict) -> None:
        print(json.dumps(entry, sort_keys=True, default=str), flush=True)


@contextlib.contextmanager
def _output_to(log: str | None) -> Iterator[None]:
    """The job's stdout and stderr (file descriptors too: subprocesses, C libraries) to ``log``."""
    if log is None:
        yield
        return
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "a", buffering=1) as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        old = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = handle
        try:
            yield
        finally:
            sys.stdout, sys.stderr = old
            handle.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
