"""``harness leaderboard``: build the static site from the results store, or serve it locally."""

from __future__ import annotations

import errno
import functools
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from harness import paths
from harness.cli._common import StoreOption, console, err_console, handle_errors, safe
from harness.errors import BadInputError, DataMissingError

app = typer.Typer(help="Static HTML leaderboards.", no_args_is_help=True)


@app.command("build")
@handle_errors
def build_command(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Output folder (default: $HARNESS_SITE, else leaderboards/site/); replaced whole by each build.",
        ),
    ] = None,
    store: StoreOption = None,
    allow_empty: Annotated[
        bool,
        typer.Option("--allow-empty", help="Build even from a missing or empty results store (a site with no runs)."),
    ] = False,
) -> None:
    """Render every board in leaderboards/ into a self-contained static site."""
    from harness.leaderboard import site_folder
    from harness.results.store import ResultsStore

    target = site_folder.check_target(out or paths.site_dir(), _site_option(out))  # before any work
    results = ResultsStore(store or paths.store_path())
    if not allow_empty:
        check_store_has_runs(results)
    from harness.leaderboard.boards import load_boards
    from harness.leaderboard.site_build import build_site  # jinja2: imported only by this command

    built = build_site(results, load_boards(paths.leaderboards_dir()), target)
    print_site_built(built, target)


def print_site_built(built: Any, target: Path, label: str = "") -> None:
    """The build's warnings, one ``warning:`` line each on stderr, then where the site is (after ``label``)."""
    for warning in built.warnings:
        err_console.print(f"[bold yellow]warning:[/] {safe(' '.join(warning.splitlines()))}", soft_wrap=True)
    console.print(
        f"{label}wrote {len(built.pages)} pages; open {safe(Path(target).resolve() / 'index.html')}", soft_wrap=True
    )


def check_store_has_runs(store: Any) -> None:
    """Refuse a store with no runs: a build from it would replace the site with an empty one.

    The store's default path is relative to the current folder, so a build started from another
    folder would otherwise quietly overwrite the project's site from a store that is not there.
    """
    from harness.leaderboard.checked_store import CheckedStore

    where = Path(store.path).resolve()
    fix = (
        "pass --store PATH (or set $HARNESS_STORE) to the store your runs were recorded in, "
        "or --allow-empty to build a site with no runs"
    )
    if not Path(store.path).exists():
        raise DataMissingError(f"results store {where} does not exist; {fix}")
    if not CheckedStore(store).run_ids():
        raise DataMissingError(f"results store {where} holds no runs; {fix}")


def _site_option(out: Path | None) -> str:
    """The option or variable the site folder came from, for messages."""
    if out is not None:
        return "--out"
    if os.environ.get("HARNESS_SITE"):
        return "$HARNESS_SITE"
    return "the default site folder (move it with --out or $HARNESS_SITE)"


@app.command("serve")
@handle_errors
def serve_command(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 (0: any free port).")] = 8000,
    out: Annotated[
        Path | None, typer.Option("--out", help="Site folder (default: $HARNESS_SITE, else leaderboards/site/).")
    ] = None,
) -> None:
    """Serve the built site on 127.0.0.1 (Ctrl-C stops it)."""
    import http.server

    target = out or paths.site_dir()
    if not (target / "index.html").is_file():
        raise DataMissingError(f"{target}: no site built yet; run `harness leaderboard build` first")
    if not 0 <= port <= 65535:
        raise BadInputError(f"--port {port} is not a port number; pass one from 1 to 65535 (0: any free port)")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(target))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        why = "in use" if exc.errno == errno.EADDRINUSE else "not available"
        raise BadInputError(f"port {port} on 127.0.0.1 is {why} ({exc.strerror or exc}); pass another --port") from exc
    with server:
        console.print(
            f"serving {safe(target)} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)", soft_wrap=True
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
