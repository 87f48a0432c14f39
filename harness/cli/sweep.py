"""``harness sweep``: a grid of runs launched on this machine or on Slurm; ``sweep status`` afterwards.

``harness sweep run SUBMISSION... --dataset D`` (a Typer group cannot take both free arguments and
a ``status`` subcommand cleanly, so the grid is ``sweep run``).
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.table import Table
from typer.core import TyperGroup

from harness import paths
from harness.cli._common import RootOption, StoreOption, console, err_console, handle_errors, progress_bar, safe
from harness.cli.choices import Device
from harness.cli.run import _parse_seeds
from harness.errors import BadInputError


class _SweepGroup(TyperGroup):
    """``harness sweep SUBMISSION...`` is ``harness sweep run SUBMISSION...``; ``status`` stays a subcommand."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=_SweepGroup,
    help="Sweeps: many runs (submissions x folds x seeds), locally or on Slurm. "
    "`harness sweep SUBMISSION...` runs one (the same as `harness sweep run`).",
    no_args_is_help=True,
)

STATE_STYLE = {"skipped": "dim", "queued": "", "running": "cyan", "done": "green", "failed": "bold red"}


@app.command("run")
@handle_errors
def run_command(
    submissions: Annotated[list[str], typer.Argument(help="Submission folders or names (e.g. submissions/popular).")],
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset name.")] = "toy",
    fold: Annotated[
        str | None,
        typer.Option("--fold", help="Fold name or index, or `all` (default: as `harness run` picks for the dataset)."),
    ] = None,
    seeds: Annotated[str, typer.Option("--seeds", help="Comma-separated seeds, one run each.")] = "0",
    epochs: Annotated[int | None, typer.Option("--epochs", min=1, help="Override the epoch count.")] = None,
    device: Annotated[Device, typer.Option("--device", help="Where each job trains.")] = Device.auto,
    launcher: Annotated[str, typer.Option("--launcher", help="local (a process pool here) or slurm.")] = "local",
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="local: jobs at once.")] = 1,
    partition: Annotated[str | None, typer.Option("--partition", help="slurm: the partition.")] = None,
    gpus_per_job: Annotated[int, typer.Option("--gpus-per-job", min=0, help="slurm: GPUs per job.")] = 0,
    time_min: Annotated[int, typer.Option("--time", min=1, help="slurm: minutes per job.")] = 60,
    slurm_opt: Annotated[
        list[str] | None, typer.Option("--slurm-opt", help="slurm: another sbatch option, key=value (repeatable).")
    ] = None,
    array_parallelism: Annotated[
        int, typer.Option("--array-parallelism", min=1, help="slurm: array tasks running at once.")
    ] = 256,
    nproc: Annotated[int, typer.Option("--nproc", min=1, help="Data-parallel processes per job (torchrun).")] = 1,
    force: Annotated[bool, typer.Option("--force", help="Train again even where a finished run exists.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the jobs (to run / done) and exit.")] = False,
    sweep_dir: Annotated[
        Path | None, typer.Option("--sweep-dir", help="Where sweep.json and logs go (default: runs/sweeps/<time>).")
    ] = None,
    runs_dir: Annotated[
        Path | None, typer.Option("--runs-dir", help="Where run directories go (default: $HARNESS_RUNS or runs/).")
    ] = None,
    store: StoreOption = None,
    root: RootOption = None,
) -> None:
    """Run every (SUBMISSION, fold, seed) not yet done; record each run as it finishes; exit 1 if any failed."""
    from harness.sweep.driver import LAUNCHERS, run_sweep
    from harness.sweep.grid import expand_grid

    if launcher not in LAUNCHERS:
        raise BadInputError(f"--launcher {launcher!r}: expected local or slurm")
    runs_root = runs_dir or paths.runs_dir()
    store_path = store or (runs_root / "results.sqlite" if runs_dir else paths.store_path())
    entries = expand_grid(
        submissions,
        dataset,
        fold,
        _parse_seeds(seeds),
        epochs=epochs,
        device=device.value,
        nproc=nproc,
        runs_root=runs_root,
        root=root,
        force=force,
    )
    if dry_run:
        _print_plan(entries)
        return
    options = _slurm_options(launcher, partition, gpus_per_job, time_min, slurm_opt or [], array_parallelism)
    folder = sweep_dir or _new_sweep_dir(runs_root)
    paths.ensure_writable_dir(folder, "--sweep-dir")
    header = {"command": ["harness", *sys.argv[1:]], "dataset": dataset, "runs_dir": str(runs_root)}
    display = _SweepProgress(sum(e.to_run for e in entries))
    with display.progress if display.total else contextlib.nullcontext():
        outcome = run_sweep(
            entries,
            folder,
            store_path,
            launcher=launcher,
            jobs_at_once=jobs,
            slurm_options=options,
            header=header,
            on_event=display.event,
        )
    from harness.sweep.state import read_state

    print_table(read_state(folder))
    for result in outcome.failed:
        err_console.print(
            f"[bold red]failed:[/] {safe(result.job.label())}: {safe(result.error or 'unknown error')}"
            f"{f'; log: {safe(result.log)}' if result.log else ''}",
            soft_wrap=True,
        )
    done = sum(r.ok for r in outcome.results)
    console.print(
        f"{done} done, {len(outcome.failed)} failed, {len(outcome.skipped)} already done; "
        f"state in {safe(outcome.state_file)}",
        soft_wrap=True,
    )
    if outcome.failed:
        raise typer.Exit(1)


@app.command("status")
@handle_errors
def status_command(
    sweep_dir: Annotated[Path, typer.Argument(help="A sweep folder (holding sweep.json).")],
) -> None:
    """Show each job of a sweep: its state, run folder, error and log."""
    from harness.sweep.state import read_state

    print_table(read_state(sweep_dir))


def print_table(doc: dict[str, Any]) -> None:
    from harness.sweep.state import counts

    totals = counts(doc)
    title = ", ".join(f"{n} {state}" for state, n in totals.items() if n)
    table = Table("job", "state", "run folder / error", "log", title=f"sweep: {title}")
    for job in doc["jobs"]:
        state = str(job.get("state", "?"))
        style = STATE_STYLE.get(state, "")
        detail = job.get("error") or job.get("run_dir") or "—"
        table.add_row(
            safe(job.get("label", "?")),
            f"[{style}]{safe(state)}[/]" if style else safe(state),
            safe(detail),
            safe(job.get("log") or "—"),
        )
    console.print(table)


def _print_plan(entries: list) -> None:
    table = Table("job", "plan", "finished run", title=f"{sum(e.to_run for e in entries)} of {len(entries)} to run")
    for entry in entries:
        plan = "to run" if entry.to_run else "done"
        table.add_row(safe(entry.job.label()), plan, safe(entry.done_run or "—"))
    console.print(table)


def _slurm_options(
    launcher: str, partition: str | None, gpus: int, time_min: int, pairs: list[str], parallelism: int
) -> Any:
    if launcher != "slurm":
        return None
    try:
        from harness.sweep.slurm import SlurmOptions, parse_slurm_opts
    except ImportError as exc:
        raise BadInputError(f"--launcher slurm is not available here: {exc}") from None
    return SlurmOptions(
        partition=partition,
        gpus_per_job=gpus,
        time_min=time_min,
        array_parallelism=parallelism,
        extra=parse_slurm_opts(pairs),
    )


def _new_sweep_dir(runs_root: Path) -> Path:
    return Path(runs_root) / "sweeps" / time.strftime("%Y%m%dT%H%M%S", time.gmtime())


class _SweepProgress:
    """One bar over the jobs to run, its text the counts of queued, running, done and failed jobs."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.progress = progress_bar(transient=False)
        self.counts = {"queued": 0, "running": 0, "done": 0, "failed": 0}
        self.task = self.progress.add_task("sweep", total=max(total, 1), rate="")

    def event(self, kind: str, job: Any, result: Any) -> None:
        if kind == "running":
            self.counts["queued"] = max(self.counts["queued"] - 1, 0)
        elif kind in ("done", "failed"):
            self.counts["running"] = max(self.counts["running"] - 1, 0)
            if kind == "failed":
                err_console.print(
                    f"[bold red]failed:[/] {safe(job.label())}{f'; log: {safe(result.log)}' if result and result.log else ''}",
                    soft_wrap=True,
                )
        self.counts[kind] = self.counts.get(kind, 0) + 1
        finished = self.counts["done"] + self.counts["failed"]
        text = ", ".join(f"{n} {state}" for state, n in self.counts.items())
        self.progress.update(self.task, completed=finished, rate=text)
