"""The ``toy`` family: the registry's ``[generator]`` table, generated on first use, read as splits.

Generation itself lives in ``harness.datasets.toy``; this module adapts its files
(``metadata.tsv``, ``audio/*.flac``, ``manifest.json``) to the Dataset interface.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path

import numpy as np

from harness.datasets.base import Dataset, Progress
from harness.datasets.splits import SplitData
from harness.datasets.toy import ToyConfig, ToyRecord, audio_path, generate_toy, read_metadata, toy_is_complete
from harness.errors import FormatError


class ToyDataset(Dataset):
    @cached_property
    def config(self) -> ToyConfig:
        raw = dict(self.spec.raw.get("generator", {}))
        if "split_fractions" in raw:
            raw["split_fractions"] = tuple(raw["split_fractions"])
        try:
            return ToyConfig(**raw)
        except TypeError as exc:
            raise FormatError(f"{self.spec.registry_path}: [generator]: {exc}") from exc

    def ensure_source(self, on_progress: Progress | None = None) -> None:
        if not toy_is_complete(self.root, self.config):
            generate_toy(self.root, self.config, self.spec.tags, on_item=on_progress)
        self.__dict__.pop("records", None)

    @cached_property
    def records(self) -> list[ToyRecord]:
        if not toy_is_complete(self.root, self.config):
            self.ensure_source()
        return read_metadata(self.root)

    def audio_files(self) -> list[tuple[str, Path]]:
        return [(r.item_id, audio_path(self.root, r.item_id)) for r in self.records]

    def source_checksum(self) -> str:
        return hashlib.sha256((self.root / "manifest.json").read_bytes()).hexdigest()

    def _load_split(self, fold: str, split: str) -> SplitData:
        chosen = [r for r in self.records if r.split == split]
        column = {tag: j for j, tag in enumerate(self.spec.tags)}
        labels = np.zeros((len(chosen), len(self.spec.tags)), dtype=bool)
        for i, record in enumerate(chosen):
            for tag in record.tags:
                labels[i, column[tag]] = True
        return SplitData(self.spec.name, fold, split, tuple(r.item_id for r in chosen), self.spec.tags, labels)
