"""The ``toy`` family: the registry's ``[generator]`` table, generated on first use.

Generation lives in ``harness.datasets.toy``; its ``metadata.tsv`` (``item_id``, ``split``,
``tags``) is read by the same TSV code as any user dataset (``harness.datasets.tsv``).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from harness import paths
from harness.datasets.base import Progress
from harness.datasets.lock import prepare_lock
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
        # Generated on first use (`datasets show toy` on an empty data folder), under the same lock
        # as `prepare`, so two commands never generate into one root at once. Inside a prepare the
        # sources are complete by now, so the lock is not taken a second time.
        if not toy_is_complete(self.root, self.config):
            paths.ensure_writable_dir(self.root, self.root_origin)
            with prepare_lock(self.root):
                self.ensure_source()
        return super().rows  # a complete generation's metadata.tsv matches the manifest's SHA-256

    def source_checksum(self) -> str:
        return sha256_file(self.root / "manifest.json")
