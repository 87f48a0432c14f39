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
    return _family(spec.family, spec.registry_path)(spec, paths.dataset_root(name, root))
