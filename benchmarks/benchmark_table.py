"""Rows of ``benchmarks/RESULTS.md``: benchmark, device, commit, date, figure, goal.

The benchmark scripts print their rows as a markdown table and, when asked, append them after the
last row of the results file (older rows are kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.provenance import git_state


@dataclass(frozen=True)
class Row:
    benchmark: str
    device: str
    commit: str
    date: str
    figure: str
    goal: str

    def markdown(self) -> str:
        return f"| {self.benchmark} | {self.device} | {self.commit} | {self.date} | {self.figure} | {self.goal} |"


def git_commit() -> str:
    """The short commit of this checkout, ``-dirty`` when tracked files are modified; ``unknown`` outside git."""
    state = git_state()
    commit = state.get("git_commit")
    if not commit:
        return "unknown"
    return commit[:7] + ("-dirty" if state.get("git_dirty") else "")


def report(rows: Sequence[Row], results_file: Path, append: bool) -> None:
    """Print ``rows`` as a markdown table; with ``append``, add them to ``results_file`` too."""
    table = ["| benchmark | device | commit | date | figure | goal |", "|---|---|---|---|---|---|"]
    print()
    print("\n".join(table + [row.markdown() for row in rows]))
    if append:
        append_rows(results_file, rows)
        print(f"\nappended {len(rows)} rows to {results_file}")


def append_rows(path: Path, rows: Sequence[Row]) -> None:
    """Insert ``rows`` after the last table row of ``path``, leaving everything else as it is."""
    lines = path.read_text().splitlines(keepends=True)
    last = max((i for i, line in enumerate(lines) if line.startswith("|")), default=None)
    if last is None:
        raise SystemExit(f"{path}: no markdown table to append to")
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    lines[last + 1 : last + 1] = [row.markdown() + "\n" for row in rows]
    path.write_text("".join(lines))
