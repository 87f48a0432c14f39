"""The harness from Python: what a notebook imports.

::

    from harness.api import runs_frame

    runs = runs_frame(board="mtg-jamendo-moodtheme")  # a pandas DataFrame, one row per run
    runs.sort_values("PR-AUC-macro", ascending=False)[["run_id", "PR-AUC-macro", "PR-AUC-macro low", "PR-AUC-macro high"]]

:func:`runs_frame` is the table ``harness runs export`` writes (its columns:
:mod:`harness.export`); :func:`write_frame` writes one as CSV, TSV, JSON or Parquet. Names here
stay: code elsewhere in the package may move, these imports keep working.
"""

from __future__ import annotations

from harness.export import FORMATS, IDENTITY_COLUMNS, ExportWarning, runs_frame, write_frame

__all__ = ["FORMATS", "IDENTITY_COLUMNS", "ExportWarning", "runs_frame", "write_frame"]
