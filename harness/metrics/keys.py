"""The metric registry: every metric key the harness computes, stores and shows, in one table.

Each :class:`Metric` says which set computes it, whether higher is better, whether it needs binary
decisions, whether the bootstrap engine (:mod:`harness.metrics.bootstrap`) can resample it, the
other names it is accepted under, and the label people read. Everything else derives from this
table: the key lists of :mod:`~harness.metrics.official` and :mod:`~harness.metrics.multilabel`,
the directions boards check their columns against (:mod:`harness.leaderboard.boards`), which
primary metrics get statistical ties (:mod:`harness.leaderboard.ties`), the columns of ``harness
runs list`` and the names a dataset registry may declare.

The sets:

- ``official``: the ten keys of the MediaEval 2019/2020 Emotion and Theme task, in the row order of
  its ``results.tsv`` (:func:`harness.metrics.official.official_scores`);
- ``cal500``: the example-based multi-label keys the CAL500 family adds to the official ten
  (:func:`harness.metrics.multilabel.cal500_scores`); a dataset with ``metric_set = "cal500"`` is
  scored with both;
- ``per-tag``: the per-tag values the macro means average (the results store's ``tag_scores``).

**Names.** ``F-score-macro`` / ``F-score-micro`` are the canonical keys (the official task's names,
those of its published results and of every stored row); the CAL500 papers' ``F1-macro`` /
``F1-micro`` are aliases, accepted wherever a key is read (board files, ``dataset.toml``,
``compare --key``, stored rows written before the aliases were settled): :func:`canonical` maps
them, :func:`canonical_scores` maps a whole row. Nothing writes an alias.

**The primary metric** has one owner: the dataset registry (``primary_metric`` in
``datasets/<name>/dataset.toml``, and ``[protocol] selection_metric``, which defaults to it). This
module only validates such a name (:func:`check_metric`); a board ranks by its own ``primary``.

**Adding a metric** is three edits (a new dataset metric set adds its name to
:data:`DATASET_METRIC_SETS` and its function to ``_SCORERS``):

1. one :class:`Metric` entry in :data:`METRICS` below (its set, direction, decisions, bootstrap,
   aliases, label);
2. its function, in the module of its set (``official.py``, ``multilabel.py``), writing the value
   under that key (:func:`keys_of` gives the output order);
3. a ``[[columns]]`` table with that ``key`` in the ``leaderboards/*.toml`` boards that show it.

Boards (directions, aliases), the dataset registry (``primary_metric``), the results store (rows
read under canonical keys), board ties, ``harness runs list`` and the bootstrap's ``--key`` read the
keys from here; a run page lists every key a run has. A metric the bootstrap engine cannot resample
keeps ``bootstraps=False`` (the engine computes the official set only).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import UnknownNameError

__all__ = [
    "DATASET_METRIC_SETS",
    "METRICS",
    "Metric",
    "canonical",
    "canonical_scores",
    "check_metric",
    "get",
    "keys_of",
    "paired_testable",
    "scorer",
    "summary_keys",
]


@dataclass(frozen=True)
class Metric:
    """One metric key and what the harness needs to know about it.

    Attributes:
        key: the canonical key (scores dictionaries, the results store, board columns).
        metric_set: ``"official"``, ``"cal500"`` or ``"per-tag"`` (see the module docstring).
        label: the short name shown to people (a board column's default label).
        higher_is_better: False for losses and error rates.
        needs_decisions: computed from binary decisions (absent when a run has none).
        bootstraps: the bootstrap engine resamples it (intervals, paired tests, board ties).
        aliases: other names accepted on input for this key.
        summary: its position (1, 2...) among the few columns ``harness runs list`` shows for every
            run; 0 for the others.
    """

    key: str
    metric_set: str
    label: str
    higher_is_better: bool = True
    needs_decisions: bool = False
    bootstraps: bool = False
    aliases: tuple[str, ...] = ()
    summary: int = 0


METRICS: tuple[Metric, ...] = (
    # official: MediaEval 2019/2020 Emotion and Theme, in the order of the official results.tsv
    Metric("ROC-AUC-macro", "official", "ROC-AUC macro", bootstraps=True, summary=2),
    Metric("PR-AUC-macro", "official", "PR-AUC macro", bootstraps=True, summary=1),
    Metric("precision-macro", "official", "precision macro", needs_decisions=True, bootstraps=True),
    Metric("recall-macro", "official", "recall macro", needs_decisions=True, bootstraps=True),
    Metric("F-score-macro", "official", "F-score macro", needs_decisions=True, bootstraps=True, aliases=("F1-macro",)),
    Metric("ROC-AUC-micro", "official", "ROC-AUC micro", bootstraps=True),
    Metric("PR-AUC-micro", "official", "PR-AUC micro", bootstraps=True),
    Metric("precision-micro", "official", "precision micro", needs_decisions=True, bootstraps=True),
    Metric("recall-micro", "official", "recall micro", needs_decisions=True, bootstraps=True),
    Metric("F-score-micro", "official", "F-score micro", needs_decisions=True, bootstraps=True, aliases=("F1-micro",)),
    # cal500: the example-based multi-label metrics the CAL500 family adds, in output order
    Metric("hamming-loss", "cal500", "Hamming loss", higher_is_better=False, needs_decisions=True),
    Metric("one-error", "cal500", "one-error", higher_is_better=False),
    Metric("coverage-error", "cal500", "coverage error", higher_is_better=False),
    Metric("ranking-loss", "cal500", "ranking loss", higher_is_better=False),
    Metric("LRAP", "cal500", "LRAP"),
    # per-tag: the values the official macro means average (the store's tag_scores)
    Metric("ROC-AUC", "per-tag", "ROC-AUC"),
    Metric("PR-AUC", "per-tag", "PR-AUC"),
    Metric("precision", "per-tag", "precision", needs_decisions=True),
    Metric("recall", "per-tag", "recall", needs_decisions=True),
    Metric("F-score", "per-tag", "F-score", needs_decisions=True, aliases=("F1",)),
)
"""Every metric, grouped by set, each set in its output order."""

DATASET_METRIC_SETS: dict[str, tuple[str, ...]] = {"official": ("official",), "cal500": ("official", "cal500")}
"""What a dataset's ``metric_set`` scores: the registry sets, in output order."""

_SCORERS: dict[str, str] = {
    "official": "harness.metrics.official:official_scores",
    "cal500": "harness.metrics.multilabel:cal500_scores",
}
"""The function that computes each dataset metric set (imported when asked for: this module needs no numpy)."""

_BY_NAME: dict[str, Metric] = {}
for _metric in METRICS:
    for _name in (_metric.key, *_metric.aliases):
        if _name in _BY_NAME:  # pragma: no cover - a mistake in the table above
            raise AssertionError(f"metric name {_name!r} is in the registry twice")
        _BY_NAME[_name] = _metric
del _metric, _name


def keys_of(metric_set: str, *, decisions: bool | None = None) -> tuple[str, ...]:
    """The canonical keys of a registry set (or a dataset's ``metric_set``), in output order.

    ``decisions=True`` keeps only the keys that need decisions, ``False`` only those that do not.
    """
    sets = DATASET_METRIC_SETS.get(metric_set, (metric_set,))
    return tuple(
        m.key
        for s in sets
        for m in METRICS
        if m.metric_set == s and (decisions is None or m.needs_decisions == decisions)
    )


def get(name: str) -> Metric:
    """The metric a key or an alias names; UnknownNameError lists the canonical keys."""
    metric = _BY_NAME.get(name) if isinstance(name, str) else None
    if metric is None:
        raise UnknownNameError("metric", str(name), tuple(m.key for m in METRICS if m.metric_set != "per-tag"))
    return metric


def canonical(name: str) -> str:
    """The canonical key of ``name`` (``F1-macro`` -> ``F-score-macro``); an unknown name unchanged."""
    metric = _BY_NAME.get(name) if isinstance(name, str) else None
    return name if metric is None else metric.key


def canonical_scores(values: Mapping[str, float]) -> dict[str, float]:
    """A scores row under canonical keys, in its order: an alias is renamed, or dropped where the
    canonical key is there too (rows recorded before the aliases were settled held both)."""
    out: dict[str, float] = {}
    for name, value in values.items():
        key = canonical(name)
        if key == name or key not in values:
            out.setdefault(key, value)
    return out


def check_metric(name: str, metric_set: str) -> str:
    """The canonical key of ``name`` if it is a key of the dataset metric set ``metric_set``.

    Raises:
        ValueError: ``name`` is not a key (nor an alias) of that set; the message lists the set's keys.
    """
    keys = keys_of(metric_set)
    key = canonical(name)
    if key not in keys:
        raise ValueError(f"{name!r} is not a metric of the {metric_set!r} set; known: {', '.join(keys)}")
    return key


def scorer(metric_set: str) -> Callable[..., Any]:
    """The function computing a dataset metric set: ``f(labels, scores, decisions, tags=...)``
    returning an object with ``values`` (key -> float, in :func:`keys_of` order), ``per_tag``,
    ``excluded_tags`` and ``warnings``."""
    if metric_set not in _SCORERS:
        raise UnknownNameError("metric set", str(metric_set), tuple(_SCORERS))
    module, name = _SCORERS[metric_set].split(":")
    return getattr(importlib.import_module(module), name)


def paired_testable(name: str) -> bool:
    """True when a paired bootstrap over predictions alone can compare runs on this key: it
    bootstraps and needs no decisions (the results store keeps predictions, not decisions)."""
    metric = _BY_NAME.get(name) if isinstance(name, str) else None
    return metric is not None and metric.bootstraps and not metric.needs_decisions


def summary_keys() -> tuple[str, ...]:
    """The keys ``harness runs list`` shows for every run, in their ``summary`` order."""
    return tuple(m.key for m in sorted((m for m in METRICS if m.summary), key=lambda m: m.summary))
