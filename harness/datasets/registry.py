"""Dataset registries: ``datasets/<name>/dataset.toml`` files, read into frozen specs.

A registry is data, not code: name, citation, licence, the tag vocabulary, the folds, the primary
metric and the protocol defaults (feature kind, evaluation crops, an epoch budget). The family
field names the module that knows how to read that dataset's files.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from harness import paths
from harness.datasets.textfile import read_utf8
from harness.errors import FormatError, UnknownNameError
from harness.features.kinds import FEATURE_KINDS
from harness.features.stft import SQUARE_SIZES
from harness.metrics.keys import DATASET_METRIC_SETS, check_metric, keys_of

SPLITS: tuple[str, ...] = ("train", "validation", "test")
METRIC_SETS: tuple[str, ...] = tuple(DATASET_METRIC_SETS)  # harness.metrics.keys: official / official + cal500


def _is_positive_int(value: object) -> bool:
    """A TOML integer >= 1 (``true`` is an int to Python, and a float such as ``inf`` or ``10.0`` is no count)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


@dataclass(frozen=True)
class ProtocolDefaults:
    """The parts of the shared protocol a dataset fixes for every submission.

    Validated on construction: a registry is typed by hand, and a wrong value (``eval_crops_test =
    "20"``, ``max_epochs = 0``, ``feature = "mfcc"``) must stop here with its name, not surface as a
    crash in the middle of a run.
    """

    feature: str = "mel96"
    eval_crops_validation: int = 10
    eval_crops_test: int = 20
    max_epochs: int | None = None  # an epoch budget every submission gets at most on this dataset
    selection_metric: str = ""  # the metric that picks the best epoch; "" = the dataset's primary_metric
    all_folds: bool = False  # `harness run` trains every fold of the main set by default (CAL500 family)
    # K of the K x K image of every stft-square run on this dataset (the CNN papers: 513 for CAL500, 257 for
    # CAL500exp); the one owner of that size: a submission's crop_frames is for mel96 and may only repeat it
    square_size: int = 257

    def __post_init__(self) -> None:
        if not isinstance(self.feature, str) or self.feature not in FEATURE_KINDS:
            raise ValueError(f"feature must be one of {', '.join(FEATURE_KINDS)}, got {self.feature!r}")
        if (not _is_positive_int(self.square_size)) or self.square_size not in SQUARE_SIZES:
            raise ValueError(
                f"square_size must be one of {', '.join(map(str, SQUARE_SIZES))}, got {self.square_size!r}"
            )
        for name in ("eval_crops_validation", "eval_crops_test"):
            if not _is_positive_int(getattr(self, name)):
                raise ValueError(f"{name} must be a positive integer (>= 1), got {getattr(self, name)!r}")
        if self.max_epochs is not None and not _is_positive_int(self.max_epochs):
            raise ValueError(f"max_epochs must be a positive integer (>= 1), got {self.max_epochs!r}")
        if not isinstance(self.selection_metric, str):
            raise ValueError(f"selection_metric must be a metric name in quotes, got {self.selection_metric!r}")
        if not isinstance(self.all_folds, bool):
            raise ValueError(f"all_folds must be true or false, got {self.all_folds!r}")

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> ProtocolDefaults:
        """The ``[protocol]`` table of a registry; an unknown field is named with the known ones."""
        known = [f.name for f in fields(cls)]
        unknown = [key for key in table if key not in known]
        if unknown:
            raise ValueError(f"[protocol] has no field {unknown[0]!r}; known: {', '.join(known)}")
        return cls(**table)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    family: str
    title: str
    citation: str
    licence: str
    tags: tuple[str, ...]
    folds: tuple[str, ...]
    primary_metric: str
    protocol: ProtocolDefaults
    registry_path: Path
    homepage: str = ""
    metric_set: str = "official"
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def resolve_fold(self, fold: str | int | None) -> str:
        """A fold by name or index; ``None`` is the first fold."""
        if fold is None:
            return self.folds[0]
        text = str(fold)
        if text in self.folds:
            return text
        if text.isdigit() and int(text) < len(self.folds):
            return self.folds[int(text)]
        raise UnknownNameError(f"fold of {self.name}", text, self.folds)

    @property
    def default_folds(self) -> tuple[str, ...]:
        """The main fold set (``--fold all``): the folds named like the first one, e.g. ``fold-0``..``fold-9``
        without the ``random-*`` variants."""
        prefix = self.folds[0].rstrip("0123456789")
        return tuple(f for f in self.folds if f.rstrip("0123456789") == prefix)

    def short_tag(self, tag: str) -> str:
        """The name shown to people: ``mood/theme---happy`` -> ``happy``."""
        return tag.rsplit("---", 1)[-1]


def resolve_split(split: str) -> str:
    if split in SPLITS:
        return split
    raise UnknownNameError("split", split, SPLITS)


def list_datasets() -> list[str]:
    directory = paths.registry_dir()
    if not directory.is_dir():
        return []
    return sorted(p.parent.name for p in directory.glob("*/dataset.toml"))


def load_spec(name: str) -> DatasetSpec:
    path = paths.registry_dir() / name / "dataset.toml"
    if not path.is_file():
        raise UnknownNameError("dataset", name, list_datasets())
    return read_spec(path)


_STRING_FIELDS: tuple[str, ...] = (
    "name",
    "family",
    "title",
    "citation",
    "licence",
    "homepage",
    "primary_metric",
    "metric_set",
)
_TABLE_FIELDS: tuple[str, ...] = ("tags", "folds", "protocol", "source", "generator", "audio", "counts")


def metric_keys(metric_set: str) -> tuple[str, ...]:
    """The canonical metric keys of a metric set (what ``primary_metric`` and ``selection_metric`` may
    name, or an alias of one), from the metric registry :mod:`harness.metrics.keys` (no numpy)."""
    return keys_of(metric_set)


def read_spec(path: Path) -> DatasetSpec:
    """A registry file, checked field by field: every mistake is one FormatError naming the file."""
    try:
        raw = tomllib.loads(read_utf8(path, "registry"))
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(f"{path}: not a readable TOML registry ({exc})") from exc
    try:
        _check_types(raw)
        tags = _names(raw, "tags")
        folds = _names(raw, "folds")
        protocol = ProtocolDefaults.from_table(raw.get("protocol", {}))
        spec = DatasetSpec(
            name=raw["name"],
            family=raw["family"],
            title=raw.get("title", raw["name"]),
            citation=raw.get("citation", ""),
            licence=raw.get("licence", ""),
            homepage=raw.get("homepage", ""),
            tags=tags,
            folds=folds,
            primary_metric=raw.get("primary_metric", "PR-AUC-macro"),
            metric_set=raw.get("metric_set", "official"),
            protocol=protocol,
            registry_path=path,
            raw=raw,
        )
    except KeyError as exc:
        raise FormatError(f"{path}: missing field {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise FormatError(f"{path}: {exc}") from exc
    if spec.metric_set not in METRIC_SETS:
        raise FormatError(f"{path}: metric_set {spec.metric_set!r}, expected one of {', '.join(METRIC_SETS)}")
    # The registry owns the primary metric; the metric registry validates it and maps an alias
    # (F1-macro) to its canonical key. selection_metric defaults to the primary metric.
    checked = {}
    for field_name, metric in (
        ("primary_metric", spec.primary_metric),
        ("[protocol] selection_metric", spec.protocol.selection_metric or spec.primary_metric),
    ):
        try:
            checked[field_name] = check_metric(metric, spec.metric_set)
        except ValueError as exc:
            raise FormatError(f"{path}: {field_name} {exc}") from None
    spec = replace(
        spec,
        primary_metric=checked["primary_metric"],
        protocol=replace(spec.protocol, selection_metric=checked["[protocol] selection_metric"]),
    )
    if spec.name != path.parent.name:
        raise FormatError(f"{path}: name {spec.name!r} differs from its folder {path.parent.name!r}")
    return spec


def _check_types(raw: dict[str, Any]) -> None:
    """Text fields must be strings and tables tables (``name = 5`` or ``tags = "sad"`` is a mistake)."""
    for key in _STRING_FIELDS:
        if key in raw and not isinstance(raw[key], str):
            raise ValueError(f"{key} = {raw[key]!r}; it must be text in quotes")
    for key in _TABLE_FIELDS:
        if key in raw and not isinstance(raw[key], dict):
            raise ValueError(f"{key} = {raw[key]!r}; it must be a table ([{key}])")


def _names(raw: dict[str, Any], table: str) -> tuple[str, ...]:
    """``[TABLE] names``: a non-empty list of distinct, non-empty strings (a bare string is not a list of letters)."""
    if "names" not in raw[table]:
        raise KeyError(f"{table}.names")
    names = raw[table]["names"]
    example = f'[{table}] names = ["a", "b"]'
    if not isinstance(names, list) or not names:
        raise ValueError(f"{table}.names = {names!r}; it must be a non-empty list of names in quotes, e.g. {example}")
    for name in names:
        if not isinstance(name, str) or not name.strip() or name != name.strip() or any(c in name for c in "\t\n\r,"):
            raise ValueError(
                f"{table}.names holds {name!r}; every entry must be a non-empty name in quotes, "
                f"without surrounding spaces, tabs, line breaks or commas"
            )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{table}.names lists {duplicates[0]!r} more than once; names must be distinct")
    return tuple(names)
