"""What every command shares: consoles, the error boundary, progress bars, common options.

User text (names of teams, runs, submissions, tags, items; paths; anything read from a file) is
printed through :func:`safe`: rich markup in it is escaped and control characters (ANSI escapes,
bells, carriage returns) are shown as ``\\xNN``, so a name prints as the text it is, never styles,
moves or clears the terminal, and never makes rich raise. When stdout is not a terminal (a pipe, a
file), tables are printed as tab-separated text with every value whole, the title as a leading
``# `` line.
"""

from __future__ import annotations

import errno
import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from harness.errors import BadInputError, HarnessError
from harness.scoring import MAX_BOOTSTRAP, MIN_BOOTSTRAP, RECORD_BOOTSTRAP

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 (but tab, newline), DEL and C1


def plain(text: object) -> str:
    """``text`` with control characters shown as ``\\xNN`` (tab and newline kept)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


_BRACKET = re.compile(r"(\\*)\[")


def safe(text: object) -> str:
    """User text ready for a rich markup string: control characters shown, every ``[`` escaped.

    rich's own ``escape`` only escapes a ``[`` that starts a tag within the same string, so two
    escaped fragments joined in one line (``TEAM[`` + ``/`` + ``]x``) could still make a tag and crash
    ``print``; escaping every bracket (doubling the backslashes before it) cannot. A trailing run of
    backslashes is doubled too, so it cannot escape the markup that follows it (rich's ``escape``
    doubles only a single one, and ``\\\\\\`` before ``[dim]`` escaped the tag and crashed ``print``).
    """
    text = _BRACKET.sub(lambda m: m.group(1) * 2 + "\\[", plain(text))
    return text + "\\" * (len(text) - len(text.rstrip("\\")))


class _Console(Console):
    """A rich console that prints tables as TSV when its output is not a terminal."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if not self.is_terminal and any(isinstance(o, Table) for o in objects):
            for o in objects:
                if isinstance(o, Table):
                    self.file.write(table_as_tsv(o))
                else:
                    super().print(o, **kwargs)
            self.file.flush()
            return
        super().print(*objects, **kwargs)


def _cell_text(cell: Any) -> str:
    text = cell.plain if isinstance(cell, Text) else Text.from_markup(str(cell)).plain
    return " ".join(text.replace("\t", " ").split())


def table_as_tsv(table: Table) -> str:
    """A rich table as tab-separated lines: ``# title``, the header, then one line per row; whole values."""
    lines = []
    if table.title:
        lines.append(f"# {_cell_text(table.title)}")
    columns = table.columns
    if table.show_header:
        lines.append("\t".join(_cell_text(c.header) for c in columns))
    cells = [list(c.cells) for c in columns]
    for row in range(table.row_count):
        lines.append("\t".join(_cell_text(column[row]) if row < len(column) else "" for column in cells))
    return "\n".join(lines) + "\n"


console = _Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root", help="Dataset root folder (default: the root of the last `prepare`, else $HARNESS_DATA/NAME)."
    ),
]
StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store", help="Results store (default: $HARNESS_STORE, else runs/results.sqlite).", envvar="HARNESS_STORE"
    ),
]


BOOTSTRAP_HELP = (
    f"Bootstrap replicates, resampling the items ({MIN_BOOTSTRAP} to {MAX_BOOTSTRAP}, about 3 ms each on MTG-Jamendo's "
    f"test split): `score` adds 95% intervals when it is given, and with --record by default ({RECORD_BOOTSTRAP}; 0: none); "
    "`compare` always runs its paired test (default 1000)."
)
"""The one help text of ``--bootstrap``, the same in ``score`` and ``compare``: a count of replicates in both."""

BOOTSTRAP_SEED_HELP = "Seed of the bootstrap resampling (`--seed`, its old name, still works)."


def given(ctx: typer.Context, param: str) -> bool:
    """Whether the option behind the command's parameter ``param`` was given (on the command line or by its variable)."""
    source = ctx.get_parameter_source(param)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def with_old_name(ctx: typer.Context, value: T, old_value: T | None, param: str, name: str, old_name: str) -> T:
    """The value of option ``name`` (parameter ``param``), or what its hidden old name ``old_name`` gave.

    Both given with different values is refused (exit 2): which of the two was meant cannot be known.
    """
    if old_value is None:
        return value
    if given(ctx, param) and value != old_value:
        raise BadInputError(
            f"{old_name} {old_value} and {name} {value}: {old_name} is the old name of {name}; pass {name} alone"
        )
    return old_value


def require(ctx: typer.Context, value: T | None, option: str) -> T:
    """``value``, or Typer's "Missing option" usage error (exit 2) naming ``option`` (e.g. ``'-o' / '--output'``).

    For a required option that a hidden old name can also give: Typer cannot require one of two options.
    """
    if value is None:
        ctx.fail(f"Missing option {option}.")
    return value  # type: ignore[return-value]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: MESSAGE`` as one line on stderr (newlines in it become spaces); the exit to raise."""
    line = " ".join(str(message).split("\n"))
    err_console.print(f"[bold red]error:[/] {safe(line)}", soft_wrap=True)
    return typer.Exit(code)


# OS errors about a path the user named are bad input (exit 2); the others (a full disk) a failed run.
_BAD_PATH_ERRNOS = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.ENAMETOOLONG,
        errno.EEXIST,
    }
)


def _os_error_line(exc: OSError) -> str:
    what = exc.strerror or str(exc)
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{what}"


def handle_errors(fn: F) -> F:
    """Turn HarnessErrors into one red line on stderr and the error's exit code; no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except HarnessError as exc:
            raise fail(exc.message, exc.exit_code) from None
        except OSError as exc:  # a last resort: a path that cannot be read or written, a full disk
            raise fail(_os_error_line(exc), 2 if exc.errno in _BAD_PATH_ERRNOS else 1) from None
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
    line = f"{safe(name)}: {manifest['n_items']} items, {safe(store.kind)} features in {safe(store.directory)}"
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
        err_console.print(
            f"[bold yellow]{len(skipped)} items skipped[/] (recorded in {safe(store.directory / 'manifest.json')}):"
        )
        for entry in skipped:
            err_console.print(f"  {safe(entry['item_id'])}: {safe(entry['reason'])}", soft_wrap=True)
