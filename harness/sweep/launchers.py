"""Where a sweep's jobs run: ``local`` (a process pool on this machine); Slurm is :mod:`harness.sweep.slurm`.

Every launcher takes the jobs, the sweep folder and an ``on_event`` callback, called in the sweep
process as each job is queued, starts running, is done or failed, and returns one
:class:`~harness.sweep.jobs.JobResult` per job, in the jobs' order. A failed job does not stop the
others.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Literal

from harness.sweep.jobs import JobResult, SweepJob, run_job

EventKind = Literal["queued", "running", "done", "failed"]
OnEvent = Callable[[EventKind, SweepJob, JobResult | None], None]


def log_path(sweep_dir: Path, job: SweepJob) -> Path:
    """``<sweep_dir>/logs/<job slug>.log``: where a local job's output goes."""
    return Path(sweep_dir) / "logs" / f"{job.slug()}.log"


def launch_local(jobs: list[SweepJob], sweep_dir: Path, jobs_at_once: int, on_event: OnEvent) -> list[JobResult]:
    """Run ``jobs`` in a pool of ``jobs_at_once`` spawned processes; each job's output to its log file."""
    logged = [dataclasses.replace(job, log=str(log_path(sweep_dir, job))) for job in jobs]
    for job in jobs:
        on_event("queued", job, None)
    results: dict[int, JobResult] = {}
    if not jobs:
        return []
    context = multiprocessing.get_context("spawn")  # torch and fork do not mix
    workers = max(1, jobs_at_once)
    threads = max(1, (os.cpu_count() or 1) // workers)  # N workers x all cores each would oversubscribe
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=limit_threads, initargs=(threads,)
    ) as pool:
        pending: dict[Future[JobResult], int] = {}
        waiting = list(range(len(jobs)))
        while waiting or pending:
            while waiting and len(pending) < workers:
                index = waiting.pop(0)
                on_event("running", jobs[index], None)
                pending[pool.submit(run_job, logged[index])] = index
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                index = pending.pop(future)
                result = _result_of(future, logged[index])
                result = dataclasses.replace(result, job=jobs[index])
                results[index] = result
                on_event("done" if result.ok else "failed", jobs[index], result)
    return [results[i] for i in range(len(jobs))]


def limit_threads(threads: int) -> None:
    """A pool worker's CPU threads (torch's intra-op pool, OpenMP, MKL): the cores shared out over the workers.

    Each worker would otherwise start as many threads as the machine has cores, and N workers
    spinning N x cores threads on the same cores run slower together than one worker alone.
    """
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    import torch

    torch.set_num_threads(threads)


def _result_of(future: Future[JobResult], job: SweepJob) -> JobResult:
    try:
        return future.result()
    except BaseException as exc:  # noqa: BLE001 - a worker that died (killed, out of memory)
        message = " ".join(str(exc).split()) or type(exc).__name__
        return JobResult(job, False, None, f"worker process failed: {message}", job.log)
