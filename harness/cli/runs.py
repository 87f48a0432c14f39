"""``harness runs``: the runs in the results store: list, show, delete.

Every value read from the store (run ids, team, run and submission names, provenance) is user text
and is printed through ``safe()``: a name holding rich markup or terminal escapes prints as itself.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from harness import paths
from harness.cli._common import StoreOption, console, handle_errors, safe
from harness.metrics import keys
from harness.results.store import ResultsStore

app = typer.Typer(help="Recorded runs: list them, show one, delete one.", no_args_is_help=True)


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
