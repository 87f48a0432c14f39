"""``harness run``: train a submission under the shared protocol, then score and record it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from harness import paths
from harness.cli._common import RootOption, StoreOption, console, counter_callback, err_console, handle_errors, progress_bar
from harness.errors import BadInputError
from harness.leaderboard.boards import load_boards
from harness.leaderboard.render import build_site
from harness.protocol.request import RunObserver, RunRequest
from harness.results.store import ResultsStore


class _ConsoleObserver(RunObserver):
    def __init__(self) -> None:
        self.progress = progress_bar()
        self.source_progress = counter_callback(self.progress, "generating dataset", "items")  # type: ignore[method-assign]
        self.feature_progress = counter_callback(self.progress, "extracting features", "files")  # type: ignore[method-assign]
        self.task: int | None = None

    def stage(self, text: str) -> None:
        err_console.print(f"[dim]{text}[/]")

    def epoch_start(self, epoch: int, epochs: int, n_samples: int) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(f"epoch {epoch}/{epochs}", total=n_samples, rate="")

    def advance(self, n: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)
            speed = self.progress.tasks[-1].speed
            self.progress.update(self.task, rate=f"{speed:.1f} crops/s" if speed else "")

    def epoch_end(self, entry: dict[str, Any]) -> None:
        metric = next(k for k in entry if k.startswith("validation_"))
        err_console.print(
            f"epoch {entry['epoch']}: train loss {entry['train_loss']:.4f}, {metric.removeprefix('validation_')} "
            f"(validation) {entry[metric]:.4f}, best epoch {entry['best_epoch']}, {entry['seconds']:.0f} s"
        )


def _parse_seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(part) for part in text.split(",") if part.strip() != "")
    except ValueError:
        raise BadInputError(f"--seeds {text!r}: expected comma-separated integers such as 0,1,2") from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise BadInputError(f"--seeds {text!r}: expected distinct non-negative integers such as 0,1,2")
    return seeds


@handle_errors
def run_command(
    submission: Annotated[str, typer.Argument(help="Submission folder (e.g. submissions/vgg6) or name.")],
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset name.")] = "toy",
    fold: Annotated[str | None, typer.Option("--fold", help="Fold name or index (default: the first).")] = None,
    seeds: Annotated[str, typer.Option("--seeds", help="Comma-separated seeds, one run each.")] = "0",
    epochs: Annotated[int | None, typer.Option("--epochs", min=1, help="Override the epoch count.")] = None,
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")] = "auto",
    precision: Annotated[str, typer.Option("--precision", help="auto, fp32 or bf16 (autocast).")] = "auto",
    resume: Annotated[bool, typer.Option("--resume", help="Continue the newest unfinished run of this configuration.")] = False,
    root: RootOption = None,
    runs_dir: Annotated[Path | None, typer.Option("--runs-dir", help="Where run directories go (default: $HARNESS_RUNS or runs/).")] = None,
    store: StoreOption = None,
) -> None:
    """Train SUBMISSION on a dataset under the shared protocol; write, score and record its predictions."""
    if precision not in ("auto", "fp32", "bf16"):
        raise BadInputError(f"--precision {precision!r}: expected auto, fp32 or bf16")
    runs_root = runs_dir or paths.runs_dir()
    store_path = store or (runs_root / "results.sqlite" if runs_dir else paths.store_path())
    request = RunRequest(
        submission=submission, dataset=dataset, fold=fold, seeds=_parse_seeds(seeds), epochs=epochs, device=device,
        precision=precision, resume=resume, root=root, runs_root=runs_root, store_path=store_path,
    )
    from harness.metrics.official import OFFICIAL_KEYS
    from harness.protocol.runner import run

    observer = _ConsoleObserver()
    with observer.progress:
        results = run(request, observer)
    table = Table("key", *(r.run_id for r in results), title=f"{dataset} test scores (thresholds fitted on validation)")
    for key in OFFICIAL_KEYS:
        table.add_row(key, *(f"{r.scores[key]:.4f}" if key in r.scores else "—" for r in results))
    console.print(table)
    for r in results:
        note = " (reused a finished run)" if r.reused else ""
        console.print(f"run {r.run_id}: best epoch {r.best_epoch}, {r.duration_s:.0f} s{note}; files in {r.run_dir}")
    site = paths.site_dir()
    build_site(ResultsStore(store_path), load_boards(paths.leaderboards_dir()), site)
    console.print(f"leaderboard: {(site / 'index.html').resolve()}")
