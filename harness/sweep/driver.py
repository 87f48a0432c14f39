"""Run a sweep: launch its jobs, record each finished run as it completes (the store's one writer).

Jobs write only their run folders; the sweep process ingests each ``done`` job's folder into the
results store through the run's own recording step, so many nodes never write one SQLite file over
a network file system. ``sweep.json`` follows every event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import BadInputError
from harness.results.ingest import ingest_run
from harness.results.rundir import RunDirectory
from harness.sweep.grid import GridEntry
from harness.sweep.jobs import JobResult, SweepJob
from harness.sweep.launchers import EventKind, OnEvent, launch_local
from harness.sweep.state import SweepState

LAUNCHERS: tuple[str, ...] = ("local", "slurm")


@dataclass(frozen=True)
class SweepOutcome:
    results: tuple[JobResult, ...]
    skipped: tuple[GridEntry, ...]
    state_file: Path
    failed: tuple[JobResult, ...] = field(default=())


def run_sweep(
    entries: list[GridEntry],
    sweep_dir: Path,
    store_path: Path,
    *,
    launcher: str = "local",
    jobs_at_once: int = 1,
    slurm_options: Any = None,
    header: dict[str, Any] | None = None,
    on_event: OnEvent | None = None,
) -> SweepOutcome:
    """Launch the entries still to run, record each run as it is done; ``on_event`` sees every event after that."""
    if launcher not in LAUNCHERS:
        raise BadInputError(f"--launcher {launcher!r}: expected local or slurm")
    sweep_dir = Path(sweep_dir)
    state = SweepState(sweep_dir, {"launcher": launcher, "store": str(store_path), **(header or {})})
    for entry in entries:
        state.add(entry.job, "queued" if entry.to_run else "skipped", None if entry.to_run else entry.done_run)
    state.save()
    jobs = [entry.job for entry in entries if entry.to_run]
    record = _recorder(store_path)

    def handle(kind: EventKind, job: SweepJob, result: JobResult | None) -> None:
        if kind == "done" and result is not None:
            result, error = record(result)
            kind = "done" if error is None else "failed"
            state.update(job, kind, result, error)
            _results[job] = result
        elif kind == "failed" and result is not None:
            state.update(job, kind, result)
            _results[job] = result
        else:
            state.update(job, kind)
        if on_event is not None:
            on_event(kind, job, _results.get(job))

    _results: dict[SweepJob, JobResult] = {}
    launch = _launcher(launcher, slurm_options, jobs_at_once)
    returned = launch(jobs, sweep_dir, handle)
    results = tuple(_results.get(r.job, r) for r in returned)  # a record that failed replaces the job's result
    state.finish()
    skipped = tuple(entry for entry in entries if not entry.to_run)
    return SweepOutcome(results, skipped, state.path, tuple(r for r in results if not r.ok))


def _launcher(
    launcher: str, slurm_options: Any, jobs_at_once: int
) -> Callable[[list[SweepJob], Path, OnEvent], list[JobResult]]:
    if launcher == "local":
        return lambda jobs, sweep_dir, on_event: launch_local(jobs, sweep_dir, jobs_at_once, on_event)
    try:
        from harness.sweep.slurm import launch_slurm
    except ImportError as exc:
        raise BadInputError(f"--launcher slurm is not available here: {exc}") from None
    return lambda jobs, sweep_dir, on_event: launch_slurm(jobs, sweep_dir, slurm_options, on_event)


def _recorder(store_path: Path) -> Callable[[JobResult], tuple[JobResult, str | None]]:
    """Record a done job's run folder in the store: (the result, None) or (the result marked failed, why)."""

    def record(result: JobResult) -> tuple[JobResult, str | None]:
        from harness.protocol.finish import record_run_folder

        try:
            if result.run_dir is None:
                raise BadInputError("the job reported no run folder")
            root = Path(result.job.root) if result.job.root else None
            ingest_run(RunDirectory(Path(result.run_dir)), store_path, record=record_run_folder, root=root)
        except Exception as exc:  # noqa: BLE001 - one run that cannot be recorded does not stop the sweep
            error = f"recording the run failed: {' '.join(str(exc).split()) or type(exc).__name__}"
            return replace(result, ok=False, error=error), error
        return result, None

    return record
