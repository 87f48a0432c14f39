"""Smoke test of benchmarks/train_speed.py at a tiny size on the CPU: it runs and prints positive figures.

No timing is asserted; the real figures come from running the script at its default size (on a GPU
for the goals).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "train_speed.py"
# 3 train items and 1 validation item (scale 0.0003), batch 2, one timed step per variant, 2 eval
# crops, one full epoch; vgg6 needs 1280-frame crops to reach 1 x 1, so the crop stays at 1280
TINY = [
    "--device", "cpu", "--scale", "0.0003", "--frames", "2000", "--batch", "2", "--steps", "1",
    "--warmup", "0", "--repeats", "1", "--files", "2", "--workers", "0", "--eval-batch", "4",
    "--eval-crops", "2", "--val-items", "0", "--epochs", "3", "--full-epochs", "1",
]  # fmt: skip


def load_script(monkeypatch: pytest.MonkeyPatch):
    spec = importlib.util.spec_from_file_location("train_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "train_speed", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def figure_value(figure: str) -> float:
    match = re.match(r"([0-9][0-9,]*(?:\.[0-9]+)?)(x|%| )", figure)
    assert match, f"figure does not start with a number: {figure!r}"
    return float(match.group(1).replace(",", ""))


def printed_rows(out: str) -> list[list[str]]:
    lines = [line for line in out.splitlines() if line.startswith("| `train_speed.py`")]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]  # a stray | shows


def test_tiny_run_prints_positive_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "RESULTS.md"
    before = "| benchmark | device | commit | date | figure | goal |\n|---|---|---|---|---|---|\n| old | row |\n\nRun: note\n"
    results.write_text(before)

    module = load_script(monkeypatch)
    rows = module.main(TINY + ["--tmp-dir", str(tmp_path), "--append-results", "--results-file", str(results)])
    printed = printed_rows(capsys.readouterr().out)

    # end-to-end / pure step, vs per-file loop, FLOP utilisation, wall time projected from rates and
    # from the full epoch run
    assert len(rows) == len(printed) == 5
    for cells, row in zip(printed, rows):
        assert len(cells) == 6, cells
        assert cells[4] == row.figure
        assert figure_value(row.figure) > 0, row
        assert row.commit and row.date and row.device.startswith("CPU, ") and row.device.endswith(", fp32")
        assert "CPU, small size (scale 0.0003, batch 2), not the goal's setting" in row.figure
    assert [row.goal for row in rows] == [">= 0.9", ">= 20x", "reported", "< 5 min on one H100", "< 5 min on one H100"]
    assert "GFLOP/s fp32 achieved, no peak for the CPU" in rows[2].figure
    assert "projected from measured rates" in rows[3].benchmark
    assert "projected from 1 full epoch run" in rows[4].benchmark

    text = results.read_text()
    assert text.startswith(before.split("\n\n")[0] + "\n")  # old rows kept, new ones right after them
    assert text.endswith("\n\nRun: note\n")
    assert text.count("| `train_speed.py`") == 5
    assert list(tmp_path.glob("train_speed-*")) == []  # the .npy files are removed


def test_peaks_by_gpu_name(monkeypatch: pytest.MonkeyPatch) -> None:
    peak = load_script(monkeypatch).peak_bf16
    assert peak("NVIDIA H100 80GB HBM3") == (989.0, "H100 SXM")
    assert peak("NVIDIA H100 PCIe") == (756.0, "H100 PCIe")
    assert peak("NVIDIA H200") == (989.0, "H200")
    assert peak("NVIDIA A100-SXM4-80GB") == (312.0, "A100")
    assert peak("NVIDIA H100 NVL") is None
    assert peak("NVIDIA GeForce RTX 4090") is None
