"""`harness leaderboard serve` serves the built site on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_the_built_site(isolated_paths: Path) -> None:
    assert CliRunner().invoke(app, ["leaderboard", "build", "--allow-empty"]).exit_code == 0  # no runs recorded here
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from harness.cli import main; main()", "leaderboard", "serve", "--port", str(port)],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):  # up to 10 s for the server to start
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=2) as response:
                    body = response.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not answer")
        assert "Leaderboards" in body
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_without_a_site_says_how_to_build(isolated_paths: Path) -> None:
    result = CliRunner().invoke(app, ["leaderboard", "serve", "--out", str(isolated_paths / "nothing")])
    assert result.exit_code == 2 and "harness leaderboard build" in result.output
