"""The interface every dataset family implements, and the lookup from a registry to its family."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

from harness.datasets.registry import DatasetSpec, resolve_split
from harness.datasets.splits import SplitData

Progress = Callable[[int, int], None]


class Dataset(ABC):
    """A registry plus a root directory on disk."""

    def __init__(self, spec: DatasetSpec, root: Path) -> None:
        self.spec = spec
        self.root = Path(root)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def tags(self) -> tuple[str, ...]:
        return self.spec.tags

    def features_dir(self, kind: str) -> Path:
        return self.root / "features" / kind

    def split(self, fold: str | int | None, split: str) -> SplitData:
        return self._load_split(self.spec.resolve_fold(fold), resolve_split(split))

    @abstractmethod
    def _load_split(self, fold: str, split: str) -> SplitData: ...

    @abstractmethod
    def audio_files(self) -> list[tuple[str, Path]]:
        """(item id, audio path) for every item, in a stable order."""

    @abstractmethod
    def ensure_source(self, on_progress: Progress | None = None) -> None:
        """Make sure the source files are on disk (generate or check them), or say how to get them."""

    def source_checksum(self) -> str:
        """A digest of the source files the features are made from (recorded in the store manifest)."""
        return ""
