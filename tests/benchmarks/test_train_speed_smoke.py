"""Smoke test of benchmarks/train_speed.py at a tiny size on the CPU: it runs and prints positive figures.

No timing is asserted; the real figures come from running the script at its default size (on a GPU
for the goals).
"""

from __future__ import annotations

# 3 train items and 1 validation item (scale 0.0003), batch 2, one timed step per variant, 2 eval
# crops, one full epoch; vgg6 needs 1280-frame crops to reach 1 x 1, so the crop stays at 1280
TINY = [
    "--device", "cpu", "--scale", "0.0003", "--frames", "2000", "--batch", "2", "--steps", "1",
    "--warmup", "0", "--repeats", "1", "--files", "2", "--workers", "0", "--eval-batch", "4",
    "--eval-crops", "2", "--val-items", "0", "--epochs", "3", "--full-epochs", "1",
]  # fmt: skip


def test_tiny_run_prints_positive_figures(run_tiny) -> None:
    rows = run_tiny("train_speed", TINY)

    # end-to-end / pure step, vs per-file loop, FLOP utilisation, wall time projected from rates and
    # from the full epoch run
    assert len(rows) == 5
    for row in rows:
        assert row.device.startswith("CPU, ") and row.device.endswith(", fp32")
        assert "CPU, small size (scale 0.0003, batch 2), not the goal's setting" in row.figure
    assert [row.goal for row in rows] == [">= 0.9", ">= 20x", "reported", "< 5 min on one H100", "< 5 min on one H100"]
    assert "GFLOP/s fp32 achieved, no peak for the CPU" in rows[2].figure
    assert "projected from measured rates" in rows[3].benchmark
    assert "projected from 1 full epoch run" in rows[4].benchmark


def test_peaks_by_gpu_name(load_script) -> None:
    peak = load_script("train_speed").peak_bf16
    assert peak("NVIDIA H100 80GB HBM3") == (989.0, "H100 SXM")
    assert peak("NVIDIA H100 PCIe") == (756.0, "H100 PCIe")
    assert peak("NVIDIA H200") == (989.0, "H200")
    assert peak("NVIDIA A100-SXM4-80GB") == (312.0, "A100")
    assert peak("NVIDIA H100 NVL") is None
    assert peak("NVIDIA GeForce RTX 4090") is None
