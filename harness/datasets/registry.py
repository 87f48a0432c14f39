"""Dataset registries: ``datasets/<name>/dataset.toml`` files, read into frozen specs.

A registry is data, not code: name, citation, licence, the tag vocabulary, the folds, the primary
metric and the protocol defaults (feature kind, evaluation crops, an epoch budget). The family
field names the module that knows how to read that dataset's files.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import paths
from harness.errors import FormatError, UnknownNameError

SPLITS: tuple[str, ...] = ("train", "validation", "test")
METRIC_SETS: tuple[str, ...] = ("official", "cal500")  # harness.metrics.official / harness.metrics.multilabel
SQUARE_SIZES: tuple[int, ...] = (129, 257, 513, 1025)  # K of the stft-square K x K image (harness.features.stft)


@dataclass(frozen=True)
class ProtocolDefaults:
    """The parts of the shared protocol a dataset fixes for every submission."""

    feature: str = "mel96"
    eval_crops_validation: int = 10
    eval_crops_test: int = 20
    max_epochs: int | None = None  # an epoch budget every submission gets at most on this dataset
    selection_metric: str = "PR-AUC-macro"
    all_folds: bool = False  # `harness run` trains every fold of the main set by default (CAL500 family)
    square_size: int = 257  # K of the stft-square K x K image (the CNN paper: 513 for CAL500, 257 for CAL500exp)

    def __post_init__(self) -> None:
        if self.square_size not in SQUARE_SIZES:
            raise ValueError(f"square_size must be one of {', '.join(map(str, SQUARE_SIZES))}, got {self.square_size}")
        for name in ("eval_crops_validation", "eval_crops_test"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_epochs is not None and self.max_epochs < 1:
            raise ValueError(f"max_epochs must be >= 1, got {self.max_epochs}")


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


def read_spec(path: Path) -> DatasetSpec:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FormatError(f"{path}: not a readable TOML registry ({exc})") from exc
    try:
        protocol = ProtocolDefaults(**raw.get("protocol", {}))
        tags = tuple(raw["tags"]["names"])
        folds = tuple(raw["folds"]["names"])
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
    if spec.name != path.parent.name:
        raise FormatError(f"{path}: name {spec.name!r} differs from its folder {path.parent.name!r}")
    if not tags or len(set(tags)) != len(tags):
        raise FormatError(f"{path}: tags.names must be a non-empty list without duplicates")
    if not folds:
        raise FormatError(f"{path}: folds.names must list at least one fold")
    return spec
