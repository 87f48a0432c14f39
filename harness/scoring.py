"""Scoring a prediction file against a split: decisions, the official keys, per-tag results.

This is the file-reading layer over ``harness.metrics`` (pure functions over arrays). Decisions
come from, in this order: ``--decisions FILE``; ``--thresholds-from VALIDATION_PREDICTIONS``
(one F1-maximising threshold per tag fitted on the validation labels); for a harness run's
``predictions/test.npz``, its sibling ``validation.npz``; or, only with the explicit
``--thresholds-on-test``, thresholds fitted on the scored split's own labels exactly as the
MediaEval 2019 scripts did (legacy: it overstates every decision metric, and every output marks
it). Without any of them the decision keys are left out, with a warning. Given decisions that
equal thresholds fitted on the scored labels (:func:`harness.metrics.decisions.decisions_fitted_on_test`:
13 of the 29 published MediaEval 2019 runs) are marked ``"test"`` as well, not ``"given"``.

This is the one path from predictions to numbers: ``harness run`` writes its prediction files,
then scores them with :func:`score_file` and records them with :func:`record_report`
(:mod:`harness.protocol.finish`), exactly as ``harness score --record`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from harness.datasets import Dataset, open_dataset
from harness.datasets.registry import DatasetSpec
from harness.datasets.splits import SplitData
from harness.errors import BadInputError, FormatError
from harness.metrics import keys
from harness.metrics.decisions import (
    apply_thresholds,
    decisions_fitted_on_test,
    fit_thresholds_as_mediaeval2019,
    fit_thresholds_on_validation,
)
from harness.metrics.folds import FoldSummary
from harness.metrics.official import OfficialScores
from harness.metrics.per_tag import PerTagTable, TagRow, table_from_per_tag_scores, top_bottom
from harness.results.predictions import Predictions, load_predictions

MAX_BOOTSTRAP = 100_000
"""Most ``--bootstrap`` replicates ``score`` and ``compare`` take. Time is what grows: about 3 ms a
replicate on MTG-Jamendo's test split (4231 x 56) on one core, so 100 000 is some five minutes;
memory stays small (replicates are scored in chunks of a 16 MiB budget, and only each key's values,
8 bytes a replicate, are kept). 10 000 already resolves a p-value to 1e-4."""


MIN_BOOTSTRAP = 10
"""Fewest ``--bootstrap`` replicates ``score`` and ``compare`` take: fewer cannot place the ends of a
95% interval (its 2.5th and 97.5th percentiles) apart from the extreme replicates."""


RECORD_BOOTSTRAP = 1000
"""Replicates ``score --record`` and ``record_mediaeval2019.py`` run by default, for the 95% intervals
the board shows (``--bootstrap 0``: none): about 1 s a run of MTG-Jamendo's test split."""


def check_bootstrap(n: int | None, option: str = "--bootstrap", allow_zero: bool = False) -> None:
    """Refuse fewer replicates than :data:`MIN_BOOTSTRAP` or more than :data:`MAX_BOOTSTRAP` before any work starts.

    ``allow_zero``: 0 is accepted too, meaning "no bootstrap" (``score`` and ``record_mediaeval2019.py``).
    """
    if n is not None and n < MIN_BOOTSTRAP and not (allow_zero and n == 0):
        raise BadInputError(
            f"{option} {n}: at least {MIN_BOOTSTRAP} replicates{' (0: none)' if allow_zero else ''}; "
            "1000 gives 95% intervals, 10000 a p-value to 1e-4"
        )
    if n is not None and n > MAX_BOOTSTRAP:
        raise BadInputError(
            f"{option} {n}: at most {MAX_BOOTSTRAP} replicates (about 3 ms each on MTG-Jamendo's test split); "
            "1000 gives 95% intervals, 10000 a p-value to 1e-4"
        )


def scorer_for(spec: DatasetSpec) -> Callable[..., Any]:
    """The dataset's metric set: the official MediaEval keys, or the CAL500 set (official + multi-label),
    as the metric registry maps it (:func:`harness.metrics.keys.scorer`)."""
    return keys.scorer(spec.metric_set)


@dataclass(frozen=True)
class ScoreReport:
    split: SplitData
    predictions: Predictions
    scores: OfficialScores
    per_tag: dict[str, dict[str, float]]
    thresholds_source: str  # "validation" | "given" | "test" (fitted on the scored labels, marked) | "none"
    decisions_from: Path | None
    flags: tuple[str, ...] = ()  # fold warnings that travel with the scores (e.g. a leaky fold set)
    warnings: tuple[str, ...] = ()  # about the file itself, e.g. scores outside [0, 1]
    tag_table: PerTagTable | None = None
    decisions: np.ndarray | None = None
    intervals: dict[str, Any] = field(default_factory=dict)  # key -> Interval, with --bootstrap
    bootstrap: dict[str, Any] = field(default_factory=dict)  # n, seed, confidence
    thresholds: np.ndarray | None = None  # one per tag, when fitted (on validation, or legacy on test)

    def with_bootstrap(self, n: int, seed: int = 0, confidence: float = 0.95) -> ScoreReport:
        """Percentile intervals over items resampled with replacement, for every official key scored."""
        from harness.metrics.bootstrap import bootstrap_intervals

        check_bootstrap(n)
        intervals = bootstrap_intervals(
            self.split.labels, self.predictions.scores, self.decisions, n=n, seed=seed, confidence=confidence
        )
        return replace(self, intervals=intervals, bootstrap={"n": n, "seed": seed, "confidence": confidence})

    def top_bottom(self, k: int = 5) -> tuple[tuple[TagRow, ...], tuple[TagRow, ...]]:
        """The ``k`` best and worst tags by PR-AUC (table 3 of the 6-layer VGG paper)."""
        assert self.tag_table is not None
        return top_bottom(self.tag_table, "PR-AUC", k)

    def to_json(self) -> dict[str, Any]:
        """One JSON object: every key at the top level, then what was scored and how, then per-tag results."""
        target = self.split
        top, bottom = self.top_bottom()
        return {
            **self.scores.values,
            "dataset": target.dataset,
            "fold": target.fold,
            "split": target.split,
            "fingerprint": target.fingerprint,
            "n_items": len(target),
            "thresholds_source": self.thresholds_source,
            "excluded_tags": list(self.scores.excluded_tags),
            "flags": list(self.flags),
            "warnings": [*self.warnings, *self.scores.warnings],
            "per_tag": self.per_tag,
            "top_tags": [row.tag for row in top],
            "bottom_tags": [row.tag for row in bottom],
            **(
                {"intervals": {k: v.as_dict() for k, v in self.intervals.items()}, "bootstrap": self.bootstrap}
                if self.intervals
                else {}
            ),
        }


class Matched(NamedTuple):
    """A prediction file checked against its split, and its decisions (None without any)."""

    predictions: Predictions
    data: Dataset
    target: SplitData
    source: str  # as ScoreReport.thresholds_source
    decisions_from: Path | None
    decisions: np.ndarray | None
    thresholds: np.ndarray | None


def match_file(
    path: Path | Predictions,
    dataset: str | None = None,
    fold: str | None = None,
    split: str | None = None,
    root: Path | None = None,
    decisions: Path | None = None,
    thresholds_from: Path | None = None,
    thresholds_on_test: bool = False,
) -> Matched:
    """Load a prediction file, check it against its split and find its decisions (see the module docstring)."""
    predictions = path if isinstance(path, Predictions) else _load_main(path, dataset, fold, split, root)
    path = predictions.path or Path("predictions")
    meta = predictions.meta
    dataset_name = dataset or meta.get("dataset")
    if dataset_name is None:
        raise BadInputError(f"{path}: a bare .npy carries no dataset; pass --dataset NAME (and --fold, --split)")
    if dataset and meta.get("dataset") and dataset != meta["dataset"]:
        raise BadInputError(f"{path}: made for dataset {meta['dataset']!r}, not {dataset!r}")
    data = open_dataset(dataset_name, root)
    target = _run_items(data.split(fold or meta.get("fold"), split or meta.get("split") or "test"), predictions)
    predictions.check_against(target)
    if sum(x is not None and x is not False for x in (decisions, thresholds_from, thresholds_on_test)) > 1:
        raise BadInputError("give one of --decisions, --thresholds-from and --thresholds-on-test")

    source, decisions_from, decision_matrix, thresholds = "none", None, None, None
    if decisions is not None:
        given = load_predictions(decisions, target)
        given.check_against(target)
        values = np.unique(given.scores)
        if not np.isin(values, [0, 1]).all():
            raise FormatError(
                f"{decisions}: decisions must be 0/1 or boolean, found values such as {values[:5].tolist()}"
            )
        decision_matrix = given.scores.astype(bool)
        # Given decisions equal to thresholds fitted on the scored labels are marked as such (see the module docstring).
        fitted = decisions_fitted_on_test(target.labels, predictions.scores, decision_matrix)
        source, decisions_from = "test" if fitted else "given", decisions
    elif thresholds_on_test:
        thresholds = fit_thresholds_as_mediaeval2019(target.labels, predictions.scores)
        source, decision_matrix = "test", apply_thresholds(predictions.scores, thresholds)
    else:
        if thresholds_from is None and predictions.path is not None and predictions.path.name == "test.npz":
            sibling = predictions.path.with_name("validation.npz")
            thresholds_from = sibling if sibling.is_file() else None
        if thresholds_from is not None:
            validation = data.split(target.fold, "validation")
            # A run's .npz may hold part of the split (see _run_items): its header is checked by the file's size.
            validation_predictions = load_predictions(
                thresholds_from, None if Path(thresholds_from).suffix == ".npz" else validation
            )
            validation = _run_items(validation, validation_predictions)
            validation_predictions.check_against(validation)
            thresholds = fit_thresholds_on_validation(validation.labels, validation_predictions.scores)
            source, decisions_from = "validation", thresholds_from
            decision_matrix = apply_thresholds(predictions.scores, thresholds)

    return Matched(predictions, data, target, source, decisions_from, decision_matrix, thresholds)


def _run_items(split: SplitData, predictions: Predictions) -> SplitData:
    """``split``, or the part of it a harness run predicted, for a validation file of a run that left items out.

    A run leaves out of train and validation the items whose audio was skipped at ``prepare``; its
    ``validation.npz`` then holds fewer items, with the fingerprint of exactly those. Such a file is
    scored (and thresholds fitted) on those items: only when they are a subset of the validation
    split and the file's fingerprint is theirs. Anything else is checked against the whole split.
    """
    ids = predictions.item_ids
    if (
        split.split != "validation"
        or ids is None
        or tuple(ids) == split.item_ids
        or not predictions.meta.get("fingerprint")
    ):
        return split
    position = {item: i for i, item in enumerate(split.item_ids)}
    if len(ids) >= len(split.item_ids) or not all(item in position for item in ids):
        return split
    part = SplitData(
        split.dataset, split.fold, split.split, tuple(ids), split.tags, split.labels[[position[i] for i in ids]]
    )
    return part if part.fingerprint == predictions.meta["fingerprint"] else split


def _load_main(path: Path, dataset: str | None, fold: str | None, split: str | None, root: Path | None) -> Predictions:
    """The scored file; a bare ``.npy`` with ``--dataset`` is checked against its split from the header on."""
    path = Path(path)
    if dataset is None or path.suffix != ".npy" or not path.is_file():
        return load_predictions(path)
    return load_predictions(path, open_dataset(dataset, root).split(fold, split or "test"))


def score_file(
    path: Path | Predictions,
    dataset: str | None = None,
    fold: str | None = None,
    split: str | None = None,
    root: Path | None = None,
    decisions: Path | None = None,
    thresholds_from: Path | None = None,
    thresholds_on_test: bool = False,
) -> ScoreReport:
    predictions, data, target, source, decisions_from, decision_matrix, thresholds = match_file(
        path, dataset, fold, split, root, decisions, thresholds_from, thresholds_on_test
    )
    path = predictions.path or Path("predictions")
    scores = scorer_for(data.spec)(target.labels, predictions.scores, decision_matrix, tags=target.tags)
    per_tag = scores.per_tag
    low, high = float(predictions.scores.min()), float(predictions.scores.max())
    warnings = ()
    if low < 0.0 or high > 1.0:
        warnings = (
            f"{path}: scores range over [{low:.4g}, {high:.4g}], outside [0, 1] (logits?); the ranking metrics do not "
            "mind, but thresholds fitted elsewhere only apply to scores on the same scale",
        )
    table = table_from_per_tag_scores(per_tag, target.labels, target.tags)
    return ScoreReport(
        target,
        predictions,
        scores,
        per_tag,
        source,
        decisions_from,
        data.fold_flags(target.fold),
        warnings,
        table,
        decision_matrix,
        thresholds=thresholds,
    )


@dataclass(frozen=True)
class FoldsReport:
    """Scores of one prediction file per fold: per fold, mean and std over folds, and pooled."""

    reports: tuple[ScoreReport, ...]
    summary: FoldSummary
    pooled: dict[str, float] | None
    pooled_note: str

    def to_json(self) -> dict[str, Any]:
        first = self.reports[0].split
        return {
            "dataset": first.dataset,
            "split": first.split,
            "folds": {r.split.fold: r.to_json() for r in self.reports},
            "mean": self.summary.mean,
            "std": self.summary.std,
            "pooled": self.pooled,
            "pooled_note": self.pooled_note,
            "flags": sorted({f for r in self.reports for f in r.flags}),
        }


def score_folds(
    paths: list[Path],
    dataset: str | None = None,
    split: str | None = None,
    root: Path | None = None,
    thresholds_on_test: bool = False,
) -> FoldsReport:
    """Score one prediction file per fold of the dataset's main fold set (``--fold all``).

    Harness ``.npz`` files name their fold; bare ``.npy`` files are taken in fold order. Decisions
    come from each run's sibling ``validation.npz`` (or, explicitly, ``--thresholds-on-test``). The
    pooled scores concatenate the folds' test predictions; they exist when every item is scored in
    exactly one fold (CAL500, CAL500exp), not for MTG-Jamendo's overlapping splits.
    """
    from harness.datasets import load_spec
    from harness.metrics.folds import aggregate_folds, pooled_scores

    loaded = [load_predictions(path) for path in paths]  # each file read once
    name = dataset or (loaded[0].meta.get("dataset") if loaded else None)
    if name is None:
        raise BadInputError("bare .npy files carry no dataset; pass --dataset NAME")
    folds = load_spec(name).default_folds
    if len(paths) != len(folds):
        raise BadInputError(
            f"--fold all scores one file per fold of {name} ({len(folds)}: {folds[0]}..{folds[-1]}); got {len(paths)} files"
        )
    reports = []
    for predictions, fold in zip(loaded, folds):
        reports.append(
            score_file(
                predictions,
                name,
                predictions.meta.get("fold") or fold,
                split,
                root,
                thresholds_on_test=thresholds_on_test,
            )
        )
    if len({r.split.fold for r in reports}) != len(reports):
        raise BadInputError("--fold all: two files are for the same fold")
    summary = aggregate_folds({r.split.fold: r.scores.values for r in reports})
    ids = [r.split.item_ids for r in reports]
    if len({i for part in ids for i in part}) != sum(map(len, ids)):
        return FoldsReport(tuple(reports), summary, None, "no pooled scores: an item is scored in more than one fold")
    has_decisions = all(r.thresholds_source != "none" for r in reports)
    pooled = pooled_scores(
        [(r.split.labels, r.predictions.scores, r.decisions if has_decisions else None) for r in reports],
        reports[0].split.tags,
        item_ids=ids,
        scorer=scorer_for(load_spec(name)),
    )
    return FoldsReport(tuple(reports), summary, pooled.values, "pooled over the out-of-fold test predictions")


def record_report(
    report: ScoreReport,
    store_path: Path,
    team: str,
    run_name: str,
    external_data: bool = False,
    thresholds_source: str | None = None,
    replace: bool = False,
    *,
    run_id: str | None = None,
    submission: str | None = None,
    seed: int | None = None,
    config: dict[str, Any] | None = None,
    run_dir: Path | None = None,
    provenance: dict[str, Any] | None = None,
    created: str | None = None,
) -> str:
    """Record a scored file in the results store (scores, per-tag scores, predictions, labels, provenance).

    ``thresholds_source`` overrides the report's, e.g. ``"test"`` for published decisions known to
    have been thresholded on the test labels. A run id already in the store is replaced only with
    ``replace``. Returns the run id, by default ``TEAM/RUN@dataset/fold/split``.

    ``harness run`` records its runs here too, adding what a run knows: its own ``run_id`` (its run
    directory's name), ``submission`` (default: the file's meta, else the team), ``seed``, the
    resolved ``config``, ``run_dir``, and ``provenance`` (its environment with the device, duration,
    peak memory, data path, flags...; default: this process's environment). ``created``: the
    record's time (default: now, to the second; ``""`` lets the store stamp it).
    """
    from datetime import datetime

    from harness.datasets.fetch import sha256_file
    from harness.provenance import environment
    from harness.results.store import ResultsStore, RunRecord

    target = report.split
    path = report.predictions.path
    assert path is not None
    run_id = run_id or f"{team}/{run_name}@{target.dataset}/{target.fold}/{target.split}"
    now = datetime.now(UTC).isoformat(timespec="seconds")
    provenance = {
        **(environment() if provenance is None else provenance),
        "predictions": str(path.resolve()),
        "flags": list(report.flags),
        "predictions_sha256": sha256_file(path),
        "decisions_from": str(report.decisions_from) if report.decisions_from else None,
        "scored_at": now,
    }
    if report.intervals:
        provenance["intervals"] = {k: v.as_dict() for k, v in report.intervals.items()}
        provenance["bootstrap"] = report.bootstrap
    ResultsStore(store_path).record(
        RunRecord(
            run_id=run_id,
            dataset=target.dataset,
            fold=target.fold,
            split=target.split,
            submission=submission or str(report.predictions.meta.get("submission", team)),
            team=team,
            run_name=run_name,
            fingerprint=target.fingerprint,
            scores=report.scores.values,
            tag_scores=report.per_tag,
            seed=seed,
            thresholds_source=thresholds_source or report.thresholds_source,
            created=now if created is None else created,
            provenance=provenance,
            external_data=external_data,
            config=config or {},
            run_dir=str(run_dir) if run_dir is not None else None,
        ),
        predictions=report.predictions.scores,
        split=target,
        replace=replace,
    )
    return run_id
