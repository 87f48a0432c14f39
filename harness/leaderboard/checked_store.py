"""The results store as a leaderboard build reads it: one unusable run costs that run, never the board.

A store outlives the code that wrote it: a run recorded before a check existed (predictions
beyond float32, stored as infinity), a row edited by hand or by a script (a score that is not a
finite number, a config that is not a table) must not stop every later build. :class:`CheckedStore`
wraps a :class:`~harness.results.store.ResultsStore` with the methods the build calls, and

- leaves off the boards a run the store cannot read, with a warning naming it;
- gives ``None`` for recorded predictions or labels that cannot be used (unreadable, not a 2-D
  matrix, scores that are not finite, a shape other than the labels'), so that the run gets no
  tie test and no precision-recall curve, with a warning naming the run (or the split).

Warnings are collected in the order they arise, each once, for the command to print.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.errors import FormatError, HarnessError, UnknownNameError
from harness.results.store import ResultsStore, RunRecord

# What loading a damaged .npy blob raises (a truncated, empty, text or pickled blob).
_BLOB_ERRORS = (ValueError, EOFError, OSError, TypeError)


class CheckedStore:
    """The reading side of a results store, checked run by run; see the module docstring."""

    def __init__(self, store: ResultsStore) -> None:
        self.store = store
        self.warnings: list[str] = []
        self._fingerprints: dict[str, str] = {}  # run id -> fingerprint, of the runs listed
        self._labels: dict[str, Any] = {}  # fingerprint -> (ids, tags, labels) or None
        self._unusable: set[str] = set()  # run ids whose predictions were refused

    @property
    def path(self) -> Any:
        return self.store.path

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    # -- runs ------------------------------------------------------------------------------

    def list_runs(
        self, dataset: str | None = None, fold: str | None = None, split: str | None = None
    ) -> list[RunRecord]:
        """The runs the store can read, newest first; each one it cannot read is warned about."""
        try:
            runs = self.store.list_runs(dataset, fold, split)
        except FormatError:  # one row (or more) cannot be read: read them one by one
            runs = []
            for run_id in self.run_ids(dataset, fold, split):
                try:
                    runs.append(self.store.get(run_id))
                except UnknownNameError:  # deleted since it was listed
                    continue
                except FormatError as exc:
                    cause = exc.__cause__  # what the store found wrong in the row, without its advice
                    why = (cause.message if isinstance(cause, HarnessError) else str(cause)) if cause else exc.message
                    self.warn(
                        f"run {run_id!r} is left off the boards: its row in {self.store.path} cannot be read ({why})"
                    )
        for run in runs:
            self._fingerprints[run.run_id] = run.fingerprint
        return runs

    def run_ids(self, dataset: str | None = None, fold: str | None = None, split: str | None = None) -> list[str]:
        """Ids of the runs matching every filter given, readable or not, newest first."""
        return self.store.run_ids(dataset, fold, split)

    # -- predictions and labels ------------------------------------------------------------

    def predictions(self, run_id: str) -> Any:
        """The run's recorded scores when they can be used, else None (and a warning naming the run)."""
        if run_id in self._unusable:
            return None
        try:
            scores = self.store.predictions(run_id)
        except _BLOB_ERRORS as exc:
            return self._refuse(run_id, f"its recorded predictions cannot be read ({exc})")
        if scores is None:
            return None
        from harness.metrics.validate import validate_scores

        try:
            scores = validate_scores(scores, "its recorded scores")
        except FormatError as exc:
            return self._refuse(run_id, exc.message)
        fingerprint = self._fingerprints.get(run_id)
        found = None if fingerprint is None else self.split_labels(fingerprint)
        if found is not None and found[2].shape != scores.shape:
            return self._refuse(
                run_id, f"its recorded scores have shape {scores.shape}, the labels of its split {found[2].shape}"
            )
        return scores

    def split_labels(self, fingerprint: str) -> tuple[tuple[str, ...], tuple[str, ...], Any] | None:
        """(item ids, tags, bool labels) of the split when they can be used, else None (and a warning)."""
        if fingerprint not in self._labels:
            self._labels[fingerprint] = self._load_labels(fingerprint)
        return self._labels[fingerprint]

    def _load_labels(self, fingerprint: str) -> tuple[tuple[str, ...], tuple[str, ...], Any] | None:
        try:
            found = self.store.split_labels(fingerprint)
        except _BLOB_ERRORS as exc:
            return self._refuse_labels(fingerprint, f"cannot be read ({exc})")
        if found is None:
            return None
        ids, tags, labels = found
        labels = np.asarray(labels)
        if labels.ndim != 2 or labels.size == 0:
            return self._refuse_labels(fingerprint, f"are not an items x tags matrix (shape {labels.shape})")
        if labels.dtype != bool and not np.isin(labels, (0, 1)).all():
            return self._refuse_labels(fingerprint, f"are not all 0 or 1 (dtype {labels.dtype})")
        if labels.shape != (len(ids), len(tags)):
            return self._refuse_labels(
                fingerprint, f"have shape {labels.shape} for {len(ids)} items and {len(tags)} tags"
            )
        return ids, tags, labels.astype(bool)

    def _refuse(self, run_id: str, problem: str) -> None:
        self._unusable.add(run_id)
        self.warn(f"run {run_id!r} gets no tie test and no precision-recall curve: {problem}")
        return None

    def _refuse_labels(self, fingerprint: str, problem: str) -> None:
        self.warn(
            f"the recorded labels of split {fingerprint[:12]} {problem}; the runs scored on it get no tie "
            "test and no precision-recall curve"
        )
        return None

    # -- the p-value cache -----------------------------------------------------------------

    def cached_p_value(self, test_key: str) -> float | None:
        return self.store.cached_p_value(test_key)

    def cache_p_value(self, test_key: str, p_value: float) -> None:
        self.store.cache_p_value(test_key, p_value)
