"""A run record: one scored run as the results store keeps it, validated and normalised on construction.

Scores are finite floats under their canonical keys (:func:`harness.metrics.keys.canonical_scores`);
provenance and config are plain JSON values; ``created`` is an ISO-8601 time. The store
(:mod:`harness.results.store`) writes and reads these; the checks here are shared by both.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from harness.errors import BadInputError, FormatError
from harness.metrics.keys import canonical_scores

THRESHOLD_SOURCES = ("validation", "given", "test", "none")


@dataclass(frozen=True)
class RunRecord:
    """One scored run: what was scored, against what, with which result and how it was made.

    Validated and normalised on construction: scores become plain ``float`` (numpy scalars are
    accepted), provenance and config become plain JSON values, so a record read back from the
    store compares equal to the one written (``created`` aside when it was left empty).
    """

    run_id: str
    dataset: str
    fold: str
    split: str  # the split scored, normally "test"
    submission: str  # e.g. "vgg6"
    team: str  # "harness" for our runs; a team name for imported runs
    run_name: str  # e.g. "seed-0" or a MediaEval run name
    fingerprint: str  # SHA-256 of what was scored against
    scores: dict[str, float]  # metric key -> value
    tag_scores: dict[str, dict[str, float]] = field(default_factory=dict)  # tag -> metric -> value
    seed: int | None = None
    created: str = ""  # ISO-8601 UTC; filled by the store when empty
    thresholds_source: str = "validation"  # "validation" | "given" | "test" | "none"
    external_data: bool = False
    provenance: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    run_dir: str | None = None

    def __post_init__(self) -> None:
        for name in ("run_id", "dataset", "fold", "split", "submission", "team", "run_name", "fingerprint"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise BadInputError(f"run record field {name!r} must be a non-empty string, got {value!r}")
        where = f"run {self.run_id!r}"
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral)):
            raise BadInputError(f"{where}: seed must be an integer or None, got {self.seed!r}")
        if self.thresholds_source not in THRESHOLD_SOURCES:
            raise BadInputError(
                f"{where}: thresholds_source must be one of "
                f"{', '.join(THRESHOLD_SOURCES)}; got {self.thresholds_source!r}"
            )
        if not isinstance(self.external_data, bool):
            raise BadInputError(f"{where}: external_data must be True or False, got {self.external_data!r}")
        if not isinstance(self.created, str):
            raise BadInputError(f"{where}: created must be an ISO-8601 string, got {self.created!r}")
        if self.created:
            created_utc(self.created, where)
        if self.run_dir is not None and not isinstance(self.run_dir, str):
            raise BadInputError(f"{where}: run_dir must be a string or None, got {self.run_dir!r}")
        set_ = object.__setattr__
        if self.seed is not None:
            set_(self, "seed", int(self.seed))
        # under canonical keys: rows recorded before the aliases were settled also hold F1-macro
        set_(self, "scores", canonical_scores(checked_scores(self.scores, where)))
        if not isinstance(self.tag_scores, Mapping):
            raise BadInputError(f"{where}: tag_scores must map tag -> metric -> value")
        tags: dict[str, dict[str, float]] = {}
        for tag, metrics in self.tag_scores.items():
            if not isinstance(tag, str) or not tag:
                raise BadInputError(f"{where}: tag names must be non-empty strings, got {tag!r}")
            tags[tag] = checked_scores(metrics, f"{where}, tag {tag!r}")
        set_(self, "tag_scores", tags)
        set_(self, "provenance", plain_json(self.provenance, where, "provenance"))
        set_(self, "config", plain_json(self.config, where, "config"))


def checked_scores(scores: Any, where: str) -> dict[str, float]:
    if not isinstance(scores, Mapping):
        raise BadInputError(f"{where}: scores must map metric name -> number, got {type(scores).__name__}")
    out: dict[str, float] = {}
    for metric, value in scores.items():
        if not isinstance(metric, str) or not metric:
            raise BadInputError(f"{where}: metric names must be non-empty strings, got {metric!r}")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise BadInputError(f"{where}: metric {metric!r} must be a number, got {value!r}")
        value = float(value)
        if math.isnan(value):
            raise BadInputError(
                f"{where}: metric {metric!r} is NaN; NaN is never stored (leave "
                "the metric out, or report why it is undefined)"
            )
        if math.isinf(value):
            raise BadInputError(f"{where}: metric {metric!r} is {value}; only finite values are stored")
        out[metric] = value
    return out


def plain_json(value: Any, where: str, name: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise BadInputError(f"{where}: {name} must be a mapping, got {type(value).__name__}")
    try:
        return json.loads(json.dumps(dict(value), default=json_default))
    except (TypeError, ValueError) as exc:
        raise BadInputError(f"{where}: {name} is not JSON-serialisable ({exc})") from exc


def json_default(obj: Any) -> Any:
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def created_utc(created: str, where: str) -> str:
    """``created`` as a sortable UTC timestamp; a time without an offset is taken as UTC."""
    try:
        when = datetime.fromisoformat(created)
    except ValueError:
        raise BadInputError(
            f"{where}: created {created!r} is not an ISO-8601 date and time, e.g. 2024-05-01T12:00:00Z"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


RUN_FIELDS = (
    "run_id",
    "dataset",
    "fold",
    "split",
    "submission",
    "team",
    "run_name",
    "fingerprint",
    "seed",
    "created",
    "thresholds_source",
    "external_data",
    "provenance",
    "config",
    "run_dir",
)
"""The ``runs`` table's columns, in the order the store selects them: each a :class:`RunRecord` field."""


def record_from_row(
    store_path: Any, row: tuple[Any, ...], scores: dict[str, float], tag_scores: dict[str, dict[str, float]]
) -> RunRecord:
    """A row of the store's ``runs`` table as a :class:`RunRecord`; a row that cannot be one is a FormatError."""
    fields = dict(zip(RUN_FIELDS, row, strict=True))
    run_id = fields["run_id"]
    try:
        fields.update(
            external_data=bool(fields["external_data"]),
            provenance=json.loads(fields["provenance"]),
            config=json.loads(fields["config"]),
        )
        return RunRecord(**fields, scores=scores, tag_scores=tag_scores)
    except (BadInputError, ValueError, TypeError) as exc:
        raise FormatError(
            f"{store_path}: run {run_id!r} cannot be read ({exc}); remove it with `harness runs delete {run_id}`"
        ) from exc
