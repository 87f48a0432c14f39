"""``harness runs``: the runs in the results store: list, show, delete, export; ingest run folders into it.

Every value read from the store (run ids, team, run and submission names, provenance) is user text
and is printed through ``safe()``: a name holding rich markup or terminal escapes prints as itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness import paths
from harness.cli._common import RootOption, StoreOption, console, err_console, handle_errors, plain, safe
from harness.metrics import keys
from harness.results.store import ResultsStore

app = typer.Typer(
    help="Recorded runs: list them, show one, delete one, export them all, ingest run folders.", no_args_is_help=True
)


@app.command("list")
@handle_errors
def list_command(
    dataset: Annotated[str | None, typer.Option("--dataset", help="Only this dataset.")] = None,
    store: StoreOption = None,
) -> None:
    """List recorded runs, newest first."""
    records = ResultsStore(store or paths.store_path()).list_runs(dataset=dataset)
    if not records:
        console.print("no runs recorded yet; make one with `harness run submissions/vgg6`")
        return
    table = Table(title=f"{len(records)} recorded runs, newest first")
    table.add_column("run id", overflow="fold", max_width=24)
    table.add_column("board", overflow="fold", max_width=16)
    table.add_column("submission\nteam / run", overflow="fold", max_width=18)
    columns = keys.summary_keys()  # the metric registry's summary columns (PR-AUC macro, ROC-AUC macro)
    for key in columns:
        table.add_column(keys.get(key).label.replace(" ", "\n"), justify="right", no_wrap=True)
    for r in records:
        table.add_row(
            safe(r.run_id),
            safe(f"{r.dataset} {r.fold} {r.split}"),
            safe(f"{r.submission}\n{r.team} / {r.run_name}"),
            *(f"{r.scores[key]:.4f}" if key in r.scores else "—" for key in columns),
        )
    console.print(table)


@app.command("show")
@handle_errors
def show_command(
    run_id: Annotated[str, typer.Argument(help="A run id from `harness runs list`.")], store: StoreOption = None
) -> None:
    """Show one run: scores, provenance and configuration."""
    r = ResultsStore(store or paths.store_path()).get(run_id)
    console.print(
        f"[bold]{safe(r.run_id)}[/]: {safe(r.submission)} ({safe(r.team)}/{safe(r.run_name)}) on {safe(r.dataset)} {safe(r.fold)} {safe(r.split)}"
    )
    console.print(
        f"fingerprint {safe(r.fingerprint)}; thresholds from {safe(r.thresholds_source)}; run dir {safe(r.run_dir or '—')}"
    )
    table = Table("metric", "value")
    for key, value in r.scores.items():
        table.add_row(safe(key), f"{value:.6f}")
    console.print(table)
    console.print("provenance:")
    console.print_json(json.dumps(r.provenance, default=str))
    if r.config:
        console.print("configuration:")
        console.print_json(json.dumps(r.config, default=str))


@app.command("delete")
@handle_errors
def delete_command(
    run_id: Annotated[str, typer.Argument(help="A run id from `harness runs list`.")], store: StoreOption = None
) -> None:
    """Remove one run from the results store (its scores and predictions); its run folder, if any, stays on disk."""
    r = ResultsStore(store or paths.store_path()).delete(run_id)
    if r is None:
        console.print(f"deleted {safe(run_id)} (its row could not be read)")
        return
    console.print(
        f"deleted {safe(r.run_id)} ({safe(r.team)}/{safe(r.run_name)} on {safe(r.dataset)} {safe(r.fold)} {safe(r.split)})"
    )
    if r.run_dir:
        console.print(f"its files are still in {safe(r.run_dir)}")


@app.command("export")
@handle_errors
def export_command(
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="csv, tsv, json or parquet (default: the suffix of -o, else csv)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout; parquet needs a file).")
    ] = None,
    board: Annotated[
        str | None,
        typer.Option(
            "--board", help="Only the runs of this board (leaderboards/NAME.toml): its dataset, folds, split."
        ),
    ] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Only this dataset.")] = None,
    fold: Annotated[str | None, typer.Option("--fold", help="Only this fold.")] = None,
    split: Annotated[str | None, typer.Option("--split", help="Only this split.")] = None,
    store: StoreOption = None,
) -> None:
    """Export recorded runs as one table: a row per run; identity, every metric and its interval, config hash.

    The same table as `harness.api.runs_frame()` in Python. Runs the store cannot read are left out,
    with a warning naming each.
    """
    from harness import export  # pandas is imported only here, not when `harness` starts

    fmt = export.check_destination(fmt, output)
    frame, problems = export.load_runs_frame(store, board, dataset, fold, split)
    for problem in problems:
        err_console.print(f"[bold yellow]warning:[/] {safe(' '.join(problem.splitlines()))}", soft_wrap=True)
    text = export.write_frame(frame, fmt, output)
    if text is not None:
        # a pipe or a file gets every character as stored; a terminal sees control characters as \xNN
        sys.stdout.write(plain(text) if _is_terminal() else text)
        sys.stdout.flush()
        return
    err_console.print(f"wrote {len(frame)} runs, {frame.shape[1]} columns, as {fmt} to {safe(output)}", soft_wrap=True)


def _is_terminal() -> bool:
    return sys.stdout.isatty()


@app.command("ingest")
@handle_errors
def ingest_command(
    runs_dir: Annotated[Path, typer.Argument(help="A runs folder (e.g. runs/), or any folder inside it.")],
    store: StoreOption = None,
    replace: Annotated[bool, typer.Option("--replace", help="Record again the runs the store already holds.")] = False,
    root: RootOption = None,
) -> None:
    """Record the finished run folders under RUNS_DIR in the results store (a lost store comes back from them).

    Idempotent: a run the store holds already is skipped. Unfinished runs (no `done`) are left out.
    """
    from harness.protocol.finish import record_run_folder  # torch: only here
    from harness.results.ingest import ingest

    report = ingest(runs_dir, store or paths.store_path(), record=record_run_folder, root=root, replace=replace)
    for folder, reason in report.failed:
        err_console.print(f"[bold red]failed:[/] {safe(folder)}: {safe(reason)}", soft_wrap=True)
    console.print(f"{report.summary()} ({safe(store or paths.store_path())})", soft_wrap=True)
    if report.failed:
        raise typer.Exit(1)
