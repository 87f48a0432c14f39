"""The ``harness`` command: one Typer sub-app per noun, joined here.

This package is the only place that prints or picks exit codes; everything it calls is library
code that raises HarnessErrors.
"""

from __future__ import annotations

import os

# Large CPU tensors (a vgg6 batch's activations are hundreds of MB) on transparent huge pages:
# without it, every batch pays hundreds of thousands of page faults. Read by PyTorch's CPU allocator.
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

import typer  # noqa: E402

from harness.cli import compare, datasets, features, leaderboard, run, runs, score, submissions, sweep

app = typer.Typer(
    name="harness",
    help="Benchmark and leaderboard harness for music emotion and theme recognition.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(datasets.app, name="datasets")
app.add_typer(features.app, name="features")
app.add_typer(submissions.app, name="submissions")
app.command("run")(run.run_command)
app.command("score")(score.score_command)
app.command("compare")(compare.compare_command)
app.add_typer(runs.app, name="runs")
app.add_typer(leaderboard.app, name="leaderboard")
app.add_typer(sweep.app, name="sweep")


def main() -> None:
    app()
