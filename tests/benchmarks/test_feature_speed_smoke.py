"""Smoke test of benchmarks/feature_speed.py at a tiny size: it runs and prints positive figures.

No timing is asserted; the real figures come from running the script at its default size.
"""

from __future__ import annotations

TINY = [
    "--files", "2", "--seconds", "2", "--mp3-files", "1", "--items", "8", "--frames", "1800",
    "--crop", "1280", "--batch", "4", "--store-batches", "2", "--file-batches", "2", "--repeats", "2",
    "--workers", "0", "--cpu-only",
]  # fmt: skip


def test_tiny_run_prints_positive_figures(run_tiny) -> None:
    rows = run_tiny("feature_speed", TINY)

    # 2 kinds x (44.1 kHz stereo WAV, MP3, native-rate WAV) extraction; store crops; per-file crops
    # and the ratio, each with the files in the page cache and read past it
    assert len(rows) == 11
    assert all(row.device.startswith("CPU, ") for row in rows)
    benchmarks = [row.benchmark for row in rows]
    assert sum("extraction" in b for b in benchmarks) == 6
    assert [row.goal for row in rows if "store vs per-file" in row.benchmark] == [">= 20x", ">= 20x"]
