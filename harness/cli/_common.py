"""What every command shares: consoles, the error boundary, progress bars, common options."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from harness.errors import HarnessError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])

RootOption = Annotated[
    Path | None,
    typer.Option("--root", help="Dataset root folder (default: the root of the last `prepare`, else $HARNESS_DATA/NAME)."),
]
StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="Results store (default: $HARNESS_STORE, else runs/results.sqlite).", envvar="HARNESS_STORE"),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def handle_errors(fn: F) -> F:
    """Turn HarnessErrors into one red line on stderr and the error's exit code; no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except HarnessError as exc:
            raise fail(exc.message, exc.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted; files written so far are whole, `--resume` continues a run", 130) from None

    return wrapper  # type: ignore[return-value]


def progress_bar(transient: bool = True) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=transient,
    )


def counter_callback(progress: Progress, description: str, unit: str = "items") -> Callable[[int, int], None]:
    """An ``on_item(done, total)`` callback that drives one progress task, created on first call."""
    task_id: list[int] = []

    def update(done: int, total: int) -> None:
        if not task_id:
            task_id.append(progress.add_task(description, total=total, rate=""))
        task = progress.tasks[task_id[0]]
        speed = task.speed
        progress.update(task_id[0], completed=done, total=total, rate=f"{speed:.1f} {unit}/s" if speed else "")

    return update


def extraction_callback(progress: Progress, description: str) -> Callable[[Any], None]:
    """An ``on_item(BuildProgress)`` callback: files done of total, audio hours, x real time, skips, ETA."""
    task_id: list[int] = []

    def update(state: Any) -> None:
        if not task_id:
            task_id.append(progress.add_task(description, total=state.total, completed=state.done, rate=""))
        hours = state.audio_seconds / 3600
        fields = [f"{hours:.2f} h audio"]
        if state.audio_seconds:
            fields.append(f"{state.realtime_factor:.0f}x real time")
        if state.skipped:
            fields.append(f"[yellow]{state.skipped} skipped[/]")
        progress.update(task_id[0], completed=state.done, total=state.total, rate=", ".join(fields))

    return update


def print_build_summary(name: str, store: Any) -> None:
    """What ``prepare`` did: items stored, audio covered, this build's rate, and every skipped file."""
    manifest = store.manifest
    params = manifest["params"]
    line = f"{name}: {manifest['n_items']} items, {store.kind} features in {store.directory}"
    if "hop_length" in params:  # frame-based kinds: frames x hop / rate is the audio covered
        line += f"; {manifest['total_frames'] * params['hop_length'] / params['sample_rate'] / 3600:.2f} h of audio"
    console.print(line)
    build = store.last_build
    if build is not None:
        extracted = build.done - build.resumed - build.skipped
        text = f"this build: {extracted} extracted in {build.wall_seconds:.1f} s"
        if build.audio_seconds:
            text += f" ({build.audio_seconds / 3600:.2f} h of audio, {build.realtime_factor:.0f}x real time)"
        if build.resumed:
            text += f", {build.resumed} already done by an interrupted build"
        console.print(text)
    else:
        console.print("the store was current; nothing extracted (`--rebuild` forces it)")
    skipped = store.skipped
    if skipped:
        err_console.print(f"[bold yellow]{len(skipped)} items skipped[/] (recorded in {store.directory / 'manifest.json'}):")
        for entry in skipped:
            err_console.print(f"  {escape(entry['item_id'])}: {escape(entry['reason'])}", soft_wrap=True)
