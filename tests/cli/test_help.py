"""Every command has help text, reachable with --help, exit 0."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner()


def _command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    found: list[list[str]] = [[]]

    def walk(command: object, prefix: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():  # groups have sub-commands
            found.append(prefix + [name])
            walk(sub, prefix + [name])

    walk(root, [])
    return found


COMMANDS = _command_paths()


def test_contract_commands_exist() -> None:
    names = {" ".join(path) for path in COMMANDS}
    for expected in (
        "datasets list",
        "datasets show",
        "datasets fetch",
        "datasets prepare",
        "datasets verify",
        "datasets groundtruth",
        "features extract",
        "submissions list",
        "submissions new",
        "submissions check",
        "run",
        "score",
        "compare",
        "runs list",
        "runs show",
        "leaderboard build",
        "leaderboard serve",
    ):
        assert expected in names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "harness")
def test_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert len(result.output.strip().splitlines()) > 3


def test_cli_import_does_not_load_torch_or_sklearn() -> None:
    """`harness --help` stays fast: the heavy libraries are imported by the commands that use them."""
    import subprocess
    import sys

    code = "import sys, harness.cli; print(sorted({'torch', 'sklearn'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
