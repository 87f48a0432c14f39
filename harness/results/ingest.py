"""The results store (re)built from run folders: ``harness runs ingest RUNS_DIR``, and a sweep's one writer.

A run folder (``<runs>/<dataset>/<fold>/<submission>/<run_id>/``) with its ``done`` marker holds
everything its store row is made of (``config.json``, ``env.json``, ``predictions/``); it is
recorded through the very step a run records itself with, which the caller passes as ``record``
(:func:`harness.protocol.finish.record_run_folder`: this layer imports no protocol code), so a lost
store comes back with the same rows. Idempotent: a run already in the store is skipped (``replace``
records it again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import BadInputError
from harness.results.rundir import RunDirectory
from harness.results.store import ResultsStore

RecordFolder = Callable[..., str]  # (rundir, store_path, root=, replace=) -> run id: record_run_folder


@dataclass(frozen=True)
class IngestReport:
    recorded: tuple[str, ...] = ()
    skipped_present: tuple[str, ...] = ()
    skipped_unfinished: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = field(default=())  # (run folder, one-line reason)

    def summary(self) -> str:
        return (
            f"{len(self.recorded)} recorded, {len(self.skipped_present)} already in the store, "
            f"{len(self.skipped_unfinished)} unfinished (no done marker), {len(self.failed)} failed"
        )


def run_folders(runs_dir: Path) -> Iterator[RunDirectory]:
    """Every run folder under ``runs_dir`` (a folder holding ``config.json``), in path order.

    ``runs_dir`` may be the runs root or any folder inside it (a dataset's, a fold's...), or one run folder.
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise BadInputError(f"{runs_dir}: no such folder (expected a runs folder such as runs/)")
    for config in sorted(runs_dir.rglob("config.json")):
        if "all-folds" not in config.parts and "checkpoints" not in config.parts:
            yield RunDirectory(config.parent)


def ingest_run(
    rundir: RunDirectory,
    store_path: Path,
    *,
    record: RecordFolder,
    root: Path | None = None,
    replace: bool = False,
    present: set[str] | None = None,
) -> str:
    """Record one finished run folder unless its run is in the store already: ``recorded``, ``present``, ``unfinished``."""
    if not rundir.is_done():
        return "unfinished"
    if not replace:
        known = present if present is not None else _run_ids(store_path)
        if rundir.run_id in known:
            return "present"
    record(rundir, Path(store_path), root=root, replace=replace)
    return "recorded"


def ingest(
    runs_dir: Path,
    store_path: Path,
    *,
    record: RecordFolder,
    root: Path | None = None,
    replace: bool = False,
    on_run: Callable[[RunDirectory, str], None] | None = None,
) -> IngestReport:
    """Record every finished run folder under ``runs_dir`` that the store does not hold yet."""
    present = _run_ids(store_path)
    outcomes: dict[str, list] = {"recorded": [], "present": [], "unfinished": [], "failed": []}
    for rundir in run_folders(runs_dir):
        try:
            outcome = ingest_run(rundir, store_path, record=record, root=root, replace=replace, present=present)
        except Exception as exc:  # noqa: BLE001 - one broken folder does not stop the others
            outcomes["failed"].append((str(rundir.path), " ".join(str(exc).split()) or type(exc).__name__))
            outcome = "failed"
        else:
            outcomes[outcome].append(str(rundir.path))
            if outcome == "recorded":
                present.add(rundir.run_id)
        if on_run is not None:
            on_run(rundir, outcome)
    return IngestReport(
        tuple(outcomes["recorded"]),
        tuple(outcomes["present"]),
        tuple(outcomes["unfinished"]),
        tuple(outcomes["failed"]),
    )


def _run_ids(store_path: Path) -> set[str]:
    if not Path(store_path).is_file():
        return set()
    return set(ResultsStore(store_path).run_ids())
