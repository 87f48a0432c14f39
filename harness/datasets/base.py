"""The interface every dataset family implements, and the lookup from a registry to its family."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.datasets import audit
from harness.datasets.findings import Finding
from harness.datasets.registry import DatasetSpec, resolve_split
from harness.datasets.splits import SplitData
from harness.errors import BadInputError

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AudioSource:
    """Where an item's audio is: a file, or a ``[start_s, end_s)`` segment of one (CAL500exp)."""

    item_id: str
    path: Path
    start_s: float | None = None
    end_s: float | None = None


class Dataset(ABC):
    """A registry plus a root directory on disk."""

    # What chose the root, for messages that must say what to change (open_dataset sets it).
    root_origin: str = "--root"

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

    def audio_sources(self) -> list[AudioSource]:
        """What the features are extracted from, item by item; families with segments override it."""
        return [AudioSource(item_id, path) for item_id, path in self.audio_files()]

    def precomputed_features(self, kind: str) -> list[tuple[str, Path]] | None:
        """(item id, ``.npy`` file of float32 ``(bins, frames)``) when the publisher ships the features
        of ``kind`` precomputed and they are on disk; the store imports them instead of decoding audio."""
        return None

    @abstractmethod
    def ensure_source(self, on_progress: Progress | None = None) -> None:
        """Make sure the source files are on disk (generate or check them), or say how to get them."""

    def source_checksum(self) -> str:
        """A digest of the source files the features are made from (recorded in the store manifest)."""
        return ""

    def verify(self) -> list[Finding]:
        """Audit the dataset on disk (:func:`harness.datasets.audit.verify`)."""
        return audit.verify(self)

    def source_findings(self) -> tuple[list[Finding], bool]:
        """What a family checks of its sources (checksums, counts), and whether its folds can be read."""
        return [], True

    def fold_findings(self) -> list[Finding]:
        """The per-fold audits (overlap, tag coverage); families add their own (artists, fold sets)."""
        return [finding for fold in self.spec.folds for finding in audit.audit_fold(self, fold)]

    def fetch(
        self, what: str = "splits", base_url: str | None = None, on_progress: Progress | None = None
    ) -> list[Path]:
        """Download source files into the root, verifying each; families with remote files override it."""
        raise BadInputError(f"{self.name} has nothing to download; `harness datasets prepare {self.name}` makes it")

    def fold_flags(self, fold: str) -> tuple[str, ...]:
        """Warnings that travel with every score on this fold (e.g. a leaky fold set)."""
        return ()
