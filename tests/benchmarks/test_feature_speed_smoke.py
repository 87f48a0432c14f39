"""Smoke test of benchmarks/feature_speed.py at a tiny size: it runs and prints positive figures.

No timing is asserted; the real figures come from running the script at its default size.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "feature_speed.py"
TINY = [
    "--files", "2", "--seconds", "2", "--mp3-files", "1", "--items", "8", "--frames", "1800",
    "--crop", "1280", "--batch", "4", "--store-batches", "2", "--file-batches", "2", "--repeats", "2",
    "--workers", "0", "--cpu-only",
]  # fmt: skip


def load_script(monkeypatch: pytest.MonkeyPatch):
    spec = importlib.util.spec_from_file_location("feature_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "feature_speed", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def figure_value(figure: str) -> float:
    match = re.match(r"([0-9][0-9,]*(?:\.[0-9]+)?)(x| )", figure)
    assert match, f"figure does not start with a number: {figure!r}"
    return float(match.group(1).replace(",", ""))


def printed_rows(out: str) -> list[list[str]]:
    lines = [line for line in out.splitlines() if line.startswith("| `feature_speed.py`")]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]  # a stray | shows


def test_tiny_run_prints_positive_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "RESULTS.md"
    before = "| benchmark | device | commit | date | figure | goal |\n|---|---|---|---|---|---|\n| old | row |\n\nRun: note\n"
    results.write_text(before)

    rows = load_script(monkeypatch).main(TINY + ["--tmp-dir", str(tmp_path), "--append-results", "--results-file", str(results)])
    printed = printed_rows(capsys.readouterr().out)

    # 2 kinds x (44.1 kHz stereo WAV, MP3, native-rate WAV) extraction; store crops; per-file crops
    # and the ratio, each with the files in the page cache and read past it
    assert len(rows) == len(printed) == 11
    for cells, row in zip(printed, rows):
        assert len(cells) == 6, cells
        assert cells[4] == row.figure
        assert figure_value(row.figure) > 0, row
        assert row.commit and row.date and row.device.startswith("CPU, ")
    benchmarks = [row.benchmark for row in rows]
    assert sum("extraction" in b for b in benchmarks) == 6
    assert [row.goal for row in rows if "store vs per-file" in row.benchmark] == [">= 20x", ">= 20x"]

    text = results.read_text()
    assert text.startswith(before.split("\n\n")[0] + "\n")  # old rows kept, new ones right after them
    assert text.endswith("\n\nRun: note\n")
    assert text.count("| `feature_speed.py`") == 11
    assert list(tmp_path.glob("feature_speed-*")) == []  # the data is removed
