"""``harness leaderboard``: build the static site from the results store, or serve it locally."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from harness import paths
from harness.cli._common import StoreOption, console, handle_errors
from harness.errors import DataMissingError

app = typer.Typer(help="Static HTML leaderboards.", no_args_is_help=True)


@app.command("build")
@handle_errors
def build_command(
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: $HARNESS_SITE, else leaderboards/site/).")] = None,
    store: StoreOption = None,
) -> None:
    """Render every board in leaderboards/ into a self-contained static site."""
    from harness.leaderboard.boards import load_boards
    from harness.leaderboard.render import build_site  # jinja2: imported only by this command
    from harness.results.store import ResultsStore

    target = out or paths.site_dir()
    written = build_site(ResultsStore(store or paths.store_path()), load_boards(paths.leaderboards_dir()), target)
    console.print(f"wrote {len(written)} pages; open {(target / 'index.html').resolve()}")


@app.command("serve")
@handle_errors
def serve_command(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = 8000,
    out: Annotated[Path | None, typer.Option("--out", help="Site folder (default: $HARNESS_SITE, else leaderboards/site/).")] = None,
) -> None:
    """Serve the built site on 127.0.0.1 (Ctrl-C stops it)."""
    import http.server

    target = out or paths.site_dir()
    if not (target / "index.html").is_file():
        raise DataMissingError(f"{target}: no site built yet; run `harness leaderboard build` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(target))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        console.print(f"serving {target} at http://127.0.0.1:{port}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
