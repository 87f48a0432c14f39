"""The ``slurm`` launcher: a sweep's jobs as one Slurm job array, through submitit.

``launch_slurm`` submits ``run_job`` over the jobs with submitit's ``AutoExecutor.map_array``
(submitit's files and each job's stdout/stderr under ``<sweep_dir>/slurm/<job id>/``; the run's own
output, as with ``local``, in ``<sweep_dir>/logs/<job>.log``), then polls
until every job has ended, calling ``on_event`` as each is queued, starts running, is done or
failed. A job's state comes from ``squeue`` (it keeps ended jobs for ``MinJobAge``, 300 s by
default) and otherwise from submitit's ``sacct`` watcher, so clusters without an accounting
database work too. A job that returned is done or failed by its :class:`JobResult`; one that
raised, or ended without a result (cancelled, killed, timed out, out of memory), is failed with the
Slurm state in its error and its Slurm stderr file as its log. One job's failure never stops the others.

The jobs inherit the sweep process's environment (``sbatch`` exports it), so ``HARNESS_*``
settings reach them; they write only their run folders (the sweep process records them).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.errors import BadInputError, HarnessError, RunFailedError
from harness.sweep.jobs import JobResult, SweepJob, run_job
from harness.sweep.launchers import OnEvent, log_path

PENDING = {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "SUSPENDED"}
RUNNING = {"RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING", "RESIZING"}
# a job not seen in the queue (nor by sacct) this long after submission, or after it was last seen, has ended
GONE_AFTER_S = 30.0
MAX_POLL_S = 10.0
# an ended job's result file may appear a little after Slurm says it ended (network file systems)
RESULT_GRACE_S = 10.0
_OPTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class SlurmOptions:
    """Resources of each job of the array; ``extra``: more ``sbatch`` options (``--slurm-opt k=v``)."""

    partition: str | None = None
    gpus_per_job: int = 0
    time_min: int = 60
    cpus_per_task: int | None = None
    mem_gb: int | None = None
    array_parallelism: int = 256
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.partition is not None and not self.partition.strip():
            raise BadInputError("--partition: empty partition name")
        _check_int("--gpus-per-job", self.gpus_per_job, minimum=0)
        _check_int("--time", self.time_min, minimum=1)
        _check_int("--cpus-per-task", self.cpus_per_task, minimum=1, optional=True)
        _check_int("--mem-gb", self.mem_gb, minimum=1, optional=True)
        _check_int("--array-parallelism", self.array_parallelism, minimum=1)
        for key, value in self.extra.items():
            if not _OPTION_NAME.match(key) or not str(value).strip():
                raise BadInputError(f"--slurm-opt {key}={value}: expected an sbatch option as NAME=VALUE")

    def executor_parameters(self) -> dict[str, object]:
        """The ``AutoExecutor.update_parameters`` keywords for these options."""
        parameters: dict[str, object] = {
            "timeout_min": self.time_min,
            "slurm_array_parallelism": self.array_parallelism,
            "name": "harness-sweep",
        }
        if self.partition:
            parameters["slurm_partition"] = self.partition
        if self.gpus_per_job:
            parameters["gpus_per_node"] = self.gpus_per_job
        if self.cpus_per_task:
            parameters["cpus_per_task"] = self.cpus_per_task
        if self.mem_gb:
            parameters["mem_gb"] = self.mem_gb
        if self.extra:
            parameters["slurm_additional_parameters"] = dict(self.extra)
        return parameters


def parse_slurm_opts(pairs: Sequence[str]) -> dict[str, str]:
    """``["qos=high", "account=lab"]`` -> ``{"qos": "high", "account": "lab"}``; a pair without ``=`` is an error."""
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().lstrip("-")
        if not sep or not key or not value.strip():
            raise BadInputError(f"--slurm-opt {pair!r}: expected NAME=VALUE (e.g. --slurm-opt qos=high)")
        options[key] = value.strip()
    return options


def _check_int(option: str, value: object, *, minimum: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BadInputError(f"{option}: expected a whole number >= {minimum}, got {value!r}")


def require_slurm() -> None:
    """Raise one clear error where this machine cannot submit to Slurm (no ``sbatch``), or submitit is missing."""
    if shutil.which("sbatch") is None:
        raise RunFailedError(
            "--launcher slurm: sbatch is not on PATH (no Slurm client here); run on a Slurm login node, "
            "or use --launcher local to run the sweep on this machine"
        )
    try:
        import submitit  # noqa: F401
    except ImportError as exc:
        raise RunFailedError("--launcher slurm needs submitit: pip install 'submitit>=1.5'") from exc


def launch_slurm(
    jobs: list[SweepJob],
    sweep_dir: Path,
    options: SlurmOptions,
    on_event: OnEvent,
    *,
    poll_s: float = 1.0,
    function: Callable[[SweepJob], JobResult] = run_job,
) -> list[JobResult]:
    """Run ``jobs`` as one Slurm job array; return one :class:`JobResult` per job, in order.

    The queue is polled every ``poll_s`` seconds after a change, backing off to ``MAX_POLL_S`` while
    nothing changes (one ``squeue`` call per poll: gentle on a shared controller).
    """
    if not jobs:
        return []
    require_slurm()
    import submitit

    executor = submitit.AutoExecutor(folder=Path(sweep_dir) / "slurm" / "%j", cluster="slurm")
    executor.update_parameters(**options.executor_parameters())
    try:
        submitted = executor.map_array(function, [replace(job, log=str(log_path(sweep_dir, job))) for job in jobs])
    except Exception as exc:  # noqa: BLE001 - sbatch refused the array (bad partition, option, limit)
        message = " ".join(str(exc).split())
        raise HarnessError(f"Slurm refused the job array: {message[-600:]}", exit_code=1) from exc
    for job in jobs:
        on_event("queued", job, None)
    return _watch(jobs, submitted, on_event, poll_s)


def _watch(jobs: list[SweepJob], submitted: list, on_event: OnEvent, poll_s: float) -> list[JobResult]:
    """Poll the array until every job has a result; call ``on_event`` on each change."""
    results: dict[int, JobResult] = {}
    started: set[int] = set()
    now = time.monotonic()
    last_seen = dict.fromkeys(range(len(jobs)), now)
    ended_at: dict[int, float] = {}
    interval = poll_s
    while len(results) < len(jobs):
        changed = len(results) + len(started)
        open_ = [i for i in range(len(jobs)) if i not in results]
        queue = queue_states([submitted[i].job_id for i in open_])
        now = time.monotonic()
        for i in open_:
            job, handle = jobs[i], submitted[i]
            if handle.paths.result_pickle.exists():
                if i not in started:
                    on_event("running", job, None)
                results[i] = _result(job, handle, "COMPLETED")
                on_event("done" if results[i].ok else "failed", job, results[i])
                continue
            state = queue.get(handle.job_id) or _sacct_state(handle)
            if state in PENDING or state in RUNNING:
                last_seen[i] = now
                if state in RUNNING and i not in started:
                    started.add(i)
                    on_event("running", job, None)
                continue
            if state in ("", "UNKNOWN"):
                if now - last_seen[i] < GONE_AFTER_S:
                    continue
                state = "gone from the queue (state unknown)"
            ended_at.setdefault(i, now)
            if now - ended_at[i] < RESULT_GRACE_S and state == "COMPLETED":
                continue  # its result file may still be on its way
            results[i] = _result(job, handle, state)
            on_event("done" if results[i].ok else "failed", job, results[i])
        if len(results) < len(jobs):
            interval = poll_s if len(results) + len(started) != changed else min(interval * 2, MAX_POLL_S)
            time.sleep(interval)
    return [results[i] for i in range(len(jobs))]


def _result(job: SweepJob, handle, state: str) -> JobResult:
    """The job's :class:`JobResult`: the returned one (its log: the run's output), or a failure naming the Slurm state (its log: the Slurm stderr)."""
    log = str(handle.paths.stderr)
    if handle.paths.result_pickle.exists():
        try:
            returned = handle.result()
        except Exception as exc:  # noqa: BLE001 - the function raised inside the job
            lines = [line for line in str(exc).splitlines() if line.strip() and not line.startswith("-")]
            detail = lines[min(2, len(lines) - 1)] if lines else type(exc).__name__
            return JobResult(job, False, None, f"Slurm job {handle.job_id} raised: {detail.strip()}", log)
        if isinstance(returned, JobResult):
            return replace(returned, job=job, log=returned.log or log)
        return JobResult(job, False, None, f"Slurm job {handle.job_id} returned {type(returned).__name__}", log)
    return JobResult(job, False, None, f"Slurm job {handle.job_id} ended without a result: {state}", log)


def queue_states(job_ids: Sequence[str]) -> dict[str, str]:
    """``{"12_0": "RUNNING", ...}`` from one ``squeue`` call (array tasks one per line; ended jobs too)."""
    arrays = sorted({job_id.split("_")[0] for job_id in job_ids})
    if not arrays:
        return {}
    command = ["squeue", "--noheader", "--array", "--states=all", "--format=%i %T", f"--jobs={','.join(arrays)}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    states: dict[str, str] = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2:
            states[parts[0]] = parts[1].upper()
    return states


def _sacct_state(handle) -> str:
    """submitit's view (``sacct``, cached and rate-limited by submitit); ``UNKNOWN`` where there is no accounting."""
    try:
        return str(handle.state).split()[0].upper()
    except Exception:  # noqa: BLE001 - sacct missing or failing: the queue is the only source
        return "UNKNOWN"
