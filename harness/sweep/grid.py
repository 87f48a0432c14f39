"""A sweep's grid: submissions x folds x seeds expanded into jobs, each marked ``done`` or ``to run``.

A job is ``done`` when a finished run folder of its configuration exists (the configuration hash a
run computes, :func:`harness.protocol.runner.run_config`): it is skipped unless ``force``. Where the
hash cannot be computed here (the dataset not yet generated on this machine), the job runs; a job
whose finished run exists reuses it anyway, as ``harness run`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import BadInputError
from harness.sweep.jobs import SweepJob


@dataclass(frozen=True)
class GridEntry:
    job: SweepJob
    done_run: str | None  # the finished run folder of this configuration, if any

    @property
    def to_run(self) -> bool:
        return self.job.force or self.done_run is None


def expand_grid(
    submissions: list[str],
    dataset: str,
    fold: str | None,
    seeds: tuple[int, ...],
    *,
    epochs: int | None = None,
    device: str = "auto",
    nproc: int = 1,
    runs_root: Path,
    root: Path | None = None,
    force: bool = False,
) -> list[GridEntry]:
    """One entry per (submission, fold, seed), in that order; a submission named twice is refused."""
    from harness.datasets import open_dataset
    from harness.protocol.folds import resolve_folds
    from harness.submissions import load_submission

    if not submissions:
        raise BadInputError("name at least one submission, e.g. `harness sweep run submissions/popular`")
    loaded = [load_submission(name) for name in submissions]
    names = [s.name for s in loaded]
    if len(set(names)) != len(names):
        raise BadInputError(f"a submission is named twice: {', '.join(names)}")
    ds = open_dataset(dataset, root)
    folds = resolve_folds(ds.spec, fold)
    entries = []
    for submission in loaded:
        for fold_name in folds:
            for seed in seeds:
                job = SweepJob(
                    submission=str(Path(submission.path).resolve()),
                    dataset=ds.spec.name,
                    fold=fold_name,
                    seed=seed,
                    epochs=epochs,
                    device=device,
                    nproc=nproc,
                    runs_root=str(Path(runs_root).resolve()),
                    root=str(Path(root).resolve()) if root else None,
                    force=force,
                )
                entries.append(GridEntry(job, _finished_run(job, submission, ds)))
    return entries


def _finished_run(job: SweepJob, submission, ds) -> str | None:  # noqa: ANN001 - Submission, Dataset
    """The newest finished run folder of the job's configuration, or None (also when it cannot be told here)."""
    try:
        config = job_config(job, submission, ds)
    except Exception:  # noqa: BLE001 - data not here yet (toy not generated, a dataset not fetched): run it
        return None
    from harness.results.rundir import find_resumable

    parent = Path(job.runs_root) / config.dataset / config.fold / config.submission
    found = find_resumable(parent, config.hash, done=True)
    return str(found.path) if found is not None else None


def job_config(job: SweepJob, submission, ds):  # noqa: ANN001, ANN201 - Submission, Dataset -> RunConfig
    """The ``RunConfig`` the job's run will have, computed as the run computes it (on this machine's device)."""
    from harness.features.store import FeatureStore
    from harness.protocol.device import pick_device, pick_precision
    from harness.protocol.folds import leave_out_unextracted
    from harness.protocol.runner import run_config, run_epochs

    splits = {name: ds.split(job.fold, name) for name in ("train", "validation", "test")}
    features = ds.features_dir(submission.spec.feature)
    if features.is_dir():
        splits, _ = leave_out_unextracted(splits, FeatureStore(features))
    device = pick_device(job.device)
    precision = pick_precision("auto", device)
    epochs = run_epochs(job.epochs, submission, ds.spec)
    return run_config(submission, ds.spec, job.fold, job.seed, epochs, precision, splits, device)
