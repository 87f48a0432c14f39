"""Shared by the benchmark smoke tests: load a script of benchmarks/ and run it at a tiny size."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
RESULTS_BEFORE = (
    "| benchmark | device | commit | date | figure | goal |\n|---|---|---|---|---|---|\n| old | row |\n\nRun: note\n"
)


@pytest.fixture
def load_script(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """``load_script("train_speed")``: benchmarks/train_speed.py as a module."""

    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the scripts import benchmark_table from beside them

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, module)  # dataclasses look their module up
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def run_tiny(tmp_path: Path, capsys: pytest.CaptureFixture[str], load_script) -> Callable[[str, list[str]], list]:
    """``run_tiny(name, args)``: the script's ``main`` with its data under ``tmp_path`` and its rows
    appended to a scratch RESULTS.md; returns the rows after checking what every script promises:
    each row printed as six cells with its figure, every figure a positive number, commit and date
    filled in, the new rows right after the old ones with the rest of the file kept, the data removed.
    """

    def run(name: str, args: list[str]) -> list:
        results = tmp_path / "RESULTS.md"
        results.write_text(RESULTS_BEFORE)
        rows = load_script(name).main(
            args + ["--tmp-dir", str(tmp_path), "--append-results", "--results-file", str(results)]
        )
        printed = printed_rows(capsys.readouterr().out, f"| `{name}.py`")
        assert len(printed) == len(rows)
        for cells, row in zip(printed, rows):
            assert len(cells) == 6, cells
            assert cells[4] == row.figure
            assert figure_value(row.figure) > 0, row
            assert row.commit and row.date
        text = results.read_text()
        assert text.startswith(RESULTS_BEFORE.split("\n\n")[0] + "\n")  # old rows kept, new ones right after them
        assert text.endswith("\n\nRun: note\n")
        assert text.count(f"| `{name}.py`") == len(rows)
        assert list(tmp_path.glob(f"{name}-*")) == []  # the data is removed
        return rows

    return run


def figure_value(figure: str) -> float:
    match = re.match(r"([0-9][0-9,]*(?:\.[0-9]+)?)(x|%| )", figure)
    assert match, f"figure does not start with a number: {figure!r}"
    return float(match.group(1).replace(",", ""))


def printed_rows(out: str, prefix: str) -> list[list[str]]:
    lines = [line for line in out.splitlines() if line.startswith(prefix)]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]  # a stray | shows
