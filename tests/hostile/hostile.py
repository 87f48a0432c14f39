"""Helpers for the hostile-input suite (issue 13): every bad input through the real CLI.

Each case asserts the contract of ``../shared/DESIGN.md``: the exit code (2 bad input, 1 a failed
run or audit), exactly one ``error:`` line on stderr naming the file or value, no traceback, and
(with :func:`snapshot`) that the store and run folders are as they were. ``cli`` goes through
Typer's ``CliRunner`` in this process; ``cli_process`` starts a real ``harness`` process, for the
cases that need one (concurrency, ``sys.exit`` in user code, signals).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app

REPO = Path(__file__).resolve().parents[2]


class Outcome:
    """What a command did: exit code, stdout, stderr (the same for in-process and real processes)."""

    def __init__(self, code: int, stdout: str, stderr: str, exception: BaseException | None = None) -> None:
        self.code, self.stdout, self.stderr, self.exception = code, stdout, stderr, exception

    def __repr__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def cli(*args: str | os.PathLike[str], env: dict[str, str] | None = None, input: str | None = None) -> Outcome:
    """``harness ARGS`` in this process (CliRunner); ``env`` adds or overrides environment variables."""
    result = CliRunner().invoke(app, [str(a) for a in args], env=env, input=input)
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return Outcome(result.exit_code, result.stdout, result.stderr, exception)


def cli_process(
    *args: str | os.PathLike[str], env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300
) -> Outcome:
    """``harness ARGS`` as a real process (``python -m harness.cli``), with this test's environment."""
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or REPO,
        env={**os.environ, **(env or {})},
    )
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def start_process(
    *args: str | os.PathLike[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[str]:
    """``harness ARGS`` started in the background (read it with ``.communicate()``)."""
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd or REPO,
        env={**os.environ, **(env or {})},
    )


def assert_clean_error(outcome: Outcome, *needles: str, code: int = 2, only_line: bool = True) -> str:
    """Exit ``code``, one ``error:`` line holding every needle, no traceback; returns that line.

    ``only_line``: stderr holds nothing but that line (bad input is caught before any work starts).
    Without it, progress and stage lines may come first, as in a run that fails after it began.
    """
    assert outcome.exception is None, f"uncaught {outcome.exception!r}\n{outcome!r}"
    assert outcome.code == code, repr(outcome)
    assert "Traceback" not in outcome.stderr + outcome.stdout, repr(outcome)
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, f"expected one error line\n{outcome!r}"
    if only_line:
        assert lines == errors, f"expected only the error line on stderr\n{outcome!r}"
    for needle in needles:
        assert needle in errors[0], f"{needle!r} not in {errors[0]!r}"
    assert "\x1b" not in outcome.stderr + outcome.stdout, f"raw escape reached the terminal\n{outcome!r}"
    return errors[0]


def snapshot(*roots: Path) -> dict[str, str]:
    """SHA-256 of every file under ``roots`` (relative path -> digest): compare before and after a case.

    SQLite's ``-wal`` and ``-shm`` files are left out (a reader may create them); the store's content
    is compared through :func:`store_rows` instead.
    """
    digests: dict[str, str] = {}
    for root in roots:
        if root.is_file():
            digests[str(root)] = hashlib.sha256(root.read_bytes()).hexdigest()
            continue
        for path in sorted(root.rglob("*")) if root.exists() else []:
            if path.is_file() and not path.name.endswith(("-wal", "-shm")):
                digests[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def store_rows(store: Path) -> list[tuple[object, ...]]:
    """Every run of a results store with its scores, as plain tuples (for before/after comparisons)."""
    import sqlite3

    if not store.exists():
        return []
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        runs = conn.execute("SELECT run_id, team, run_name, submission, created FROM runs ORDER BY run_id").fetchall()
        scores = conn.execute("SELECT run_id, metric, value FROM scores ORDER BY run_id, metric").fetchall()
    finally:
        conn.close()
    return [*runs, *scores]
