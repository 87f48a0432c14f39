"""Dataset registries and the families that read each dataset's files."""

from __future__ import annotations

from pathlib import Path

from harness import paths
from harness.datasets.base import Dataset
from harness.datasets.registry import DatasetSpec, list_datasets, load_spec
from harness.errors import FormatError

__all__ = ["Dataset", "DatasetSpec", "list_datasets", "load_spec", "open_dataset"]


def _family(name: str) -> type[Dataset]:
    if name == "toy":
        from harness.datasets.toy_dataset import ToyDataset

        return ToyDataset
    raise FormatError(f"dataset family {name!r} is not known to this version of harness; known: toy")


def open_dataset(name: str, root: str | Path | None = None) -> Dataset:
    """The dataset ``name`` at ``root`` (default: the recorded root, else ``$HARNESS_DATA/name``)."""
    spec = load_spec(name)
    return _family(spec.family)(spec, paths.dataset_root(name, root))
