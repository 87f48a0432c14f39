"""The ``toy`` family: the registry's ``[generator]`` table, generated on first use.

Generation lives in ``harness.datasets.toy``; its ``metadata.tsv`` (``item_id``, ``split``,
``tags``) is read by the same TSV code as any user dataset (``harness.datasets.tsv``).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from harness.datasets.base import Progress
from harness.datasets.fetch import sha256_file
from harness.datasets.toy import ToyConfig, generate_toy, toy_is_complete
from harness.datasets.tsv import ItemRow, TsvDataset
from harness.errors import FormatError


class ToyDataset(TsvDataset):
    path_template = "audio/{id}.flac"

    @cached_property
    def config(self) -> ToyConfig:
        raw = dict(self.spec.raw.get("generator", {}))
        if "split_fractions" in raw:
            raw["split_fractions"] = tuple(raw["split_fractions"])
        try:
            return ToyConfig(**raw)
        except TypeError as exc:
            raise FormatError(f"{self.spec.registry_path}: [generator]: {exc}") from exc

    @property
    def items_file(self) -> Path:
        return self.root / "metadata.tsv"

    def ensure_source(self, on_progress: Progress | None = None) -> None:
        if not toy_is_complete(self.root, self.config):
            generate_toy(self.root, self.config, self.spec.tags, on_item=on_progress)
            for name in ("rows", "_parts"):
                self.__dict__.pop(name, None)

    @cached_property
    def rows(self) -> list[ItemRow]:
        self.ensure_source()  # a complete generation's metadata.tsv matches the manifest's SHA-256
        return super().rows

    def source_checksum(self) -> str:
        return sha256_file(self.root / "manifest.json")
