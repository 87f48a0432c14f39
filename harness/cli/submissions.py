"""``harness submissions``: list and check submission folders."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from harness.cli._common import console, handle_errors

app = typer.Typer(help="Submission folders: list and check them.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_command(
    num_tags: Annotated[int, typer.Option("--num-tags", help="Tags to build the models with for the count.")] = 56,
) -> None:
    """List the submissions in submissions/ with their parameter counts."""
    from harness.submissions import count_parameters, list_submissions, load_submission

    table = Table("submission", "title", "feature", "crop", f"parameters ({num_tags} tags)", "external data")
    for name in list_submissions():
        submission = load_submission(name)
        params = count_parameters(submission.build(num_tags))
        spec = submission.spec
        table.add_row(name, spec.title, spec.feature, str(spec.crop_frames), f"{params:,}", "yes" if spec.external_data else "no")
    console.print(table)


@app.command("check")
@handle_errors
def check_command(path: Annotated[str, typer.Argument(help="Submission folder or name.")]) -> None:
    """Import a submission, build it, and run a forward and backward pass on a dummy batch."""
    from harness.submissions import check_submission

    report = check_submission(path)
    console.print(f"[green]ok[/] {report['name']}: {report['parameters']:,} parameters, output {report['output']}")
