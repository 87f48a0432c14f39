"""``harness run``: train a submission under the shared protocol, then score and record it."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from harness import paths
from harness.cli._common import (
    RootOption,
    StoreOption,
    console,
    counter_callback,
    err_console,
    handle_errors,
    progress_bar,
    safe,
)
from harness.cli.choices import DataPath, Device, Precision
from harness.errors import BadInputError
from harness.protocol.request import RunObserver, RunRequest
from harness.results.store import ResultsStore


class _ConsoleObserver(RunObserver):
    def __init__(self) -> None:
        self.progress = progress_bar()
        self.source_progress = counter_callback(self.progress, "generating dataset", "items")  # type: ignore[method-assign]
        self.feature_progress = counter_callback(self.progress, "extracting features", "files")  # type: ignore[method-assign]
        self.task: int | None = None
        self.run_task: int | None = None
        self.run_label = ""

    def stage(self, text: str) -> None:
        err_console.print(f"[dim]{safe(text)}[/]")  # stage lines carry run ids, folds, item ids, flags

    def run_start(self, label: str, epochs: int) -> None:
        if self.run_task is not None:
            self.progress.remove_task(self.run_task)
        self.run_label = safe(label)  # progress descriptions are markup too
        self.run_task = self.progress.add_task(f"{self.run_label}: epochs", total=max(epochs, 1), rate="")

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
        name = metric.removeprefix("validation_")
        loss = "not trained" if entry["train_loss"] is None else f"train loss {entry['train_loss']:.4f}"
        summary = f"{loss}, {safe(name)} (validation) {entry[metric]:.4f}, best epoch {entry['best_epoch']}"
        err_console.print(f"{self.run_label} epoch {entry['epoch']}: {summary}, {entry['seconds']:.0f} s")
        if self.run_task is not None:
            self.progress.update(self.run_task, completed=max(entry["epoch"], 1), rate=summary)


def _without_nproc(argv: list[str]) -> list[str]:
    """The command line without ``--nproc N`` / ``--nproc=N`` (torchrun sets the world size instead)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


def _print_fold_summaries(dataset: str, summaries: list[dict[str, Any]]) -> None:
    for doc in summaries:
        folds = list(doc["folds"])
        title = f"{safe(dataset)}, {safe(doc['submission'])}, seed {doc['seed']}: {len(folds)} folds, test"
        table = Table("key", "mean ± std", "pooled", title=title)
        for key, mean in doc["mean"].items():
            std = doc["std"].get(key)
            pooled = (doc["pooled"] or {}).get(key)
            table.add_row(
                safe(key),
                f"{mean:.4f} ± {std:.4f}" if std is not None else f"{mean:.4f}",
                "—" if pooled is None else f"{pooled:.4f}",
            )
        console.print(table)
        console.print(f"per-fold and pooled scores: {safe(doc['path'])}", soft_wrap=True)


def _check_writable(runs_root: Path, runs_given: bool, store_path: Path, store: Path | None) -> None:
    """Every folder a run writes (runs, the results store's, the leaderboard site), checked before any work.

    A run writes the store and builds the site at its very end, hours in; a folder that cannot be
    written is one line now, naming the option or variable to change, instead of a lost run then.
    """
    runs_what = (
        "--runs-dir"
        if runs_given
        else ("$HARNESS_RUNS" if os.environ.get("HARNESS_RUNS") else "--runs-dir (default ./runs)")
    )
    paths.ensure_writable_dir(runs_root, runs_what)
    from_env = os.environ.get("HARNESS_STORE")  # --store reads it too (its envvar)
    if store is None:
        store_what = runs_what  # results.sqlite in the runs folder
    else:
        store_what = "$HARNESS_STORE" if from_env and Path(from_env) == store else "--store"
    if store_path.is_dir():
        raise BadInputError(
            f"{store_path}: a folder; {store_what} names the results file, e.g. {store_path / 'results.sqlite'}"
        )
    paths.ensure_writable_dir(store_path.parent, f"{store_what} (the results store's folder)")
    site_what = (
        "$HARNESS_SITE"
        if os.environ.get("HARNESS_SITE")
        else "the leaderboard site folder (set $HARNESS_SITE to move it)"
    )
    from harness.leaderboard import site_folder

    site_folder.check_target(paths.site_dir(), site_what)  # the build at the end replaces it whole


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
    fold: Annotated[
        str | None,
        typer.Option(
            "--fold", help="Fold name or index, or `all` (the default for CAL500 and CAL500exp; else the first fold)."
        ),
    ] = None,
    seeds: Annotated[str, typer.Option("--seeds", help="Comma-separated seeds, one run each.")] = "0",
    epochs: Annotated[int | None, typer.Option("--epochs", min=1, help="Override the epoch count.")] = None,
    device: Annotated[
        Device, typer.Option("--device", help="Where to train (auto: cuda when there is one).")
    ] = Device.auto,
    precision: Annotated[
        Precision, typer.Option("--precision", help="bf16: autocast (auto: bf16 on a GPU that has it, else fp32).")
    ] = Precision.auto,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the newest unfinished run of this configuration.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Train again even if a finished run of this configuration exists.")
    ] = False,
    root: RootOption = None,
    runs_dir: Annotated[
        Path | None, typer.Option("--runs-dir", help="Where run directories go (default: $HARNESS_RUNS or runs/).")
    ] = None,
    store: StoreOption = None,
    compile_model: Annotated[
        bool, typer.Option("--compile", help="torch.compile the model (worth it for long GPU runs).")
    ] = False,
    data_path: Annotated[
        DataPath,
        typer.Option(
            "--data-path", help="The feature store on the device (resident) or streamed (auto: resident when it fits)."
        ),
    ] = DataPath.auto,
    nproc: Annotated[
        int,
        typer.Option("--nproc", min=1, help="Data-parallel processes (DDP through torchrun): GPUs, or CPU processes."),
    ] = 1,
) -> None:
    """Train SUBMISSION on a dataset under the shared protocol; write, score and record its predictions."""
    runs_root = runs_dir or paths.runs_dir()
    store_path = store or (runs_root / "results.sqlite" if runs_dir else paths.store_path())
    _check_writable(runs_root, runs_dir is not None, store_path, store)
    request = RunRequest(
        submission=submission,
        dataset=dataset,
        fold=fold,
        seeds=_parse_seeds(seeds),
        epochs=epochs,
        device=device.value,
        precision=precision.value,
        resume=resume,
        force=force,
        compile=compile_model,
        data_path=data_path.value,
        root=root,
        runs_root=runs_root,
        store_path=store_path,
    )
    from harness.protocol import distributed

    dist = distributed.from_environment()
    if nproc > 1 and not dist.enabled:
        argv = _without_nproc(sys.argv[1:])
        err_console.print(f"[dim]launching {nproc} processes with torchrun (DDP)[/]")
        code = distributed.launch(nproc, argv)
        if code != 0:
            raise typer.Exit(1 if code != 2 else 2)
        return
    from harness.metrics.official import OFFICIAL_KEYS
    from harness.protocol.folds import summarise_folds
    from harness.protocol.runner import run

    if not dist.is_main:  # a DDP worker: rank 0 prints, writes and builds the site
        run(request)
        return
    observer = _ConsoleObserver()
    with observer.progress:
        results = run(request, observer)
    for r in results:
        note = " (reused a finished run)" if r.reused else ""
        console.print(
            f"run {safe(r.run_id)} ({safe(r.fold)}): best epoch {r.best_epoch}, {r.duration_s:.0f} s{note}; "
            f"files in {safe(r.run_dir)}",
            soft_wrap=True,
        )
    summaries = summarise_folds(results, runs_root, root)
    if summaries:
        _print_fold_summaries(dataset, summaries)
    else:
        keys = [k for k in results[0].scores if k in OFFICIAL_KEYS] + [
            k for k in results[0].scores if k not in OFFICIAL_KEYS
        ]
        title = f"{safe(dataset)} test scores (thresholds fitted on validation)"
        table = Table("key", *(safe(r.run_id) for r in results), title=title)
        for key in keys:
            table.add_row(safe(key), *(f"{r.scores[key]:.4f}" if key in r.scores else "—" for r in results))
        console.print(table)
    site = paths.site_dir()
    from harness.cli.leaderboard import print_site_built
    from harness.leaderboard.boards import load_boards
    from harness.leaderboard.site_build import build_site  # jinja2: only when a run finishes

    built = build_site(ResultsStore(store_path), load_boards(paths.leaderboards_dir()), site)
    print_site_built(built, site, "leaderboard: ")
