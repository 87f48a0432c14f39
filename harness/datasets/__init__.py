"""Dataset registries and the families that read each dataset's files.

A registry's ``family`` field names the class that reads its files; families are imported lazily,
so reading one dataset never imports another's code.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from harness import paths
from harness.datasets.base import Dataset
from harness.datasets.registry import DatasetSpec, list_datasets, load_spec
from harness.errors import FormatError

__all__ = ["Dataset", "DatasetSpec", "list_datasets", "load_spec", "open_dataset", "FAMILIES"]

# family name -> "module:Class"
FAMILIES: dict[str, str] = {
    "toy": "harness.datasets.toy_dataset:ToyDataset",
    "mtg-jamendo": "harness.datasets.mtg_jamendo:MTGJamendoDataset",
    "tsv": "harness.datasets.tsv:TsvDataset",
    "cal500": "harness.datasets.cal500:CAL500Dataset",
    "cal500exp": "harness.datasets.cal500exp:CAL500expDataset",
}


def _family(name: str, registry: Path) -> type[Dataset]:
    if name not in FAMILIES:
        raise FormatError(f"{registry}: family {name!r} is unknown; known: {', '.join(sorted(FAMILIES))}")
    module, cls = FAMILIES[name].split(":")
    return getattr(importlib.import_module(module), cls)


def open_dataset(name: str, root: str | Path | None = None) -> Dataset:
    """The dataset ``name`` at ``root`` (default: the recorded root, else ``$HARNESS_DATA/name``)."""
    spec = load_spec(name)
    dataset = _family(spec.family, spec.registry_path)(spec, paths.dataset_root(name, root))
    dataset.root_origin = root_origin(name, root, dataset.root)
    return dataset


def root_origin(name: str, root: str | Path | None, resolved: Path) -> str:
    """What chose a dataset's root, as the option or variable to change: ``--root``, the recorded root, ``$HARNESS_DATA``."""
    if root is not None:
        return "--root"
    if resolved == paths.data_home() / name:
        return "$HARNESS_DATA (or --root)"
    return f"--root (without it, the root recorded by the last prepare of {name} is used)"
