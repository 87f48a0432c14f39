"""Smoke test of benchmarks/score_startup.py at a tiny size: it runs and prints positive figures.

No timing is asserted; the real figures come from running the script at its default size.
"""

from __future__ import annotations

from pathlib import Path


def test_tiny_run_prints_positive_figures(run_tiny, tmp_path: Path) -> None:
    rows = run_tiny(
        "score_startup", ["--repeats", "1", "--items", "60", "--tags", "5", "--reference", str(tmp_path / "none")]
    )

    assert len(rows) == 2  # no reference data given: the plain and the thresholded score
    assert all(row.goal == "< 1 s (well under)" for row in rows)
    assert "60×5" in rows[0].benchmark and "import sklearn.metrics alone" in rows[0].figure
