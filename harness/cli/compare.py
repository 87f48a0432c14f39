"""``harness compare``: a paired bootstrap test of two prediction files on the same items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.cli._common import (
    BOOTSTRAP_HELP,
    BOOTSTRAP_SEED_HELP,
    RootOption,
    console,
    handle_errors,
    safe,
    with_old_name,
)


@handle_errors
def compare_command(
    ctx: typer.Context,
    predictions_a: Annotated[Path, typer.Argument(help="Prediction file A (.npz or .npy).")],
    predictions_b: Annotated[Path, typer.Argument(help="Prediction file B, for the same split.")],
    dataset: Annotated[str | None, typer.Option("--dataset", help="Dataset (needed for bare .npy files).")] = None,
    fold: Annotated[str | None, typer.Option("--fold", help="Fold name or index.")] = None,
    split: Annotated[
        str | None, typer.Option("--split", help="train, validation or test (default: the file's, else test).")
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="Metric to compare (default: the dataset's primary metric).")
    ] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help=BOOTSTRAP_HELP)] = 1000,
    bootstrap_seed: Annotated[int, typer.Option("--bootstrap-seed", min=0, help=BOOTSTRAP_SEED_HELP)] = 0,
    old_seed: Annotated[int | None, typer.Option("--seed", min=0, hidden=True)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    root: RootOption = None,
) -> None:
    """Is A better than B? The difference of a metric, its 95% paired-bootstrap interval and p-value."""
    from harness.comparison import compare_files
    from harness.scoring import check_bootstrap

    check_bootstrap(bootstrap)
    seed = with_old_name(ctx, bootstrap_seed, old_seed, "bootstrap_seed", "--bootstrap-seed", "--seed")
    comparison, target = compare_files(predictions_a, predictions_b, dataset, fold, split, root, key, bootstrap, seed)
    doc = {**comparison.as_dict(), "a": str(predictions_a), "b": str(predictions_b), "fingerprint": target.fingerprint}
    if as_json:
        console.print_json(json.dumps(doc))
        return
    title = f"{safe(comparison.key)}: A vs B on {safe(target.dataset)} {safe(target.fold)} {safe(target.split)} ({len(target)} items)"
    table = Table("", "value", title=title)
    table.add_row("A", f"{comparison.value_a:.6f}")
    table.add_row("B", f"{comparison.value_b:.6f}")
    table.add_row("A - B", f"{comparison.difference:+.6f}")
    table.add_row(
        f"{round(100 * comparison.confidence)}% interval", safe(f"[{comparison.low:+.6f}, {comparison.high:+.6f}]")
    )
    table.add_row("p-value (two-sided)", f"{comparison.p_value:.4f}")
    console.print(table)
    verdict = "not significant at 0.05: a statistical tie" if comparison.p_value >= 0.05 else "significant at 0.05"
    console.print(f"{verdict} ({comparison.n} paired replicates, seed {seed})")
