"""``harness submissions``: list, scaffold and check submission folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.cli._common import console, handle_errors, safe
from harness.errors import HarnessError

app = typer.Typer(help="Submission folders: list, scaffold and check them.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_command(
    num_tags: Annotated[int, typer.Option("--num-tags", help="Tags to build the models with for the count.")] = 56,
) -> None:
    """List the submissions in submissions/ with their input, training and parameter counts."""
    from harness.submissions import count_parameters, list_submissions, load_submission

    table = Table("submission", "title", "feature", "input", "epochs", f"parameters ({num_tags} tags)", "external data")
    for name in list_submissions():
        try:
            submission = load_submission(name)
            params = f"{count_parameters(submission.build(num_tags)):,}"
        except HarnessError:  # one broken folder does not hide the others
            table.add_row(safe(name), "[red]broken: run `harness submissions check`[/]", "", "", "", "", "")
            continue
        spec = submission.spec
        if spec.crop_frames is None:  # stft-square: K is the dataset's square_size
            crop = "KxK (dataset's K)"
        else:
            crop = "x".join(map(str, spec.input_shape(1, spec.crop_frames)[2:]))
        training = str(spec.epochs) if spec.trains else "0 (as built)"
        table.add_row(
            safe(name), safe(spec.title), spec.feature, crop, training, params, "yes" if spec.external_data else "no"
        )
    console.print(table)


@app.command("new")
@handle_errors
def new_command(
    name: Annotated[str, typer.Argument(help="Name of the new submission (lower-case, e.g. my-cnn).")],
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Folder to create it in (default: submissions/ of this checkout).")
    ] = None,
) -> None:
    """Scaffold a working submission folder: submission.toml, model.py (a small CNN) and README.md."""
    from harness.submissions import new_submission

    target = new_submission(name, directory)
    console.print(f"[green]created[/] {safe(str(target))}: submission.toml, model.py, README.md")
    hint = f"next: edit them (README.md says what to fill in), then `harness submissions check {safe(str(target))}`"
    console.print(hint, soft_wrap=True)


@app.command("check")
@handle_errors
def check_command(
    path: Annotated[str, typer.Argument(help="Submission folder or name.")],
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", help="Dataset to check at: stft-square gets its K x K images (default: toy)."),
    ] = None,
) -> None:
    """Import a submission, validate its toml, build it, and exercise it on dummy batches.

    The dummy batches have the size runs use: crop_frames for mel96, the dataset's K x K image for
    stft-square. Forward passes in train and eval mode (output shape and finite values); for a
    submission that trains, backward passes and a few optimiser steps on a fixed batch, whose loss
    must decrease. Exit 1 with one line naming the file on the first problem.
    """
    from harness.submissions import check_submission

    report = check_submission(path, dataset=dataset)
    shape_in, shape_out = tuple(report["input"]), tuple(report["output"])
    parts = [f"{report['parameters']:,} parameters", f"input {shape_in} -> output {shape_out}, finite"]
    parts.append(f"size {report['size']} from the {report['size_from']}")
    if report["fit_labels"]:
        parts.append("fit_labels called")
    loss = report["loss"]
    if loss is not None:
        parts.append(f"loss {loss['first']:.4f} -> {loss['last']:.4f} in {loss['steps']} step(s)")
    else:
        parts.append("no training (epochs = 0): backward and loss-decrease checks skipped")
    console.print(f"[green]ok[/] {safe(report['name'])}: " + "; ".join(parts), soft_wrap=True)
