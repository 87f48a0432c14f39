"""What every command shares: consoles, the error boundary, progress bars, common options."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
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
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
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
