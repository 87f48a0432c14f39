"""Readers the tests use and the harness does not: the toy generator's ``metadata.tsv``, row by row.

The harness reads ``metadata.tsv`` through the ``tsv`` family (``harness.datasets.toy_dataset``);
these readers check the generator's own columns (the factors) against the manifest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.datasets.registry import SPLITS
from harness.datasets.toy import TOY_TAGS, factor_index
from harness.datasets.toy_files import METADATA_HEADER, PREPARE_COMMAND
from harness.errors import DataMissingError, FormatError


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class ToyRecord:
    """One row of ``metadata.tsv``."""

    item_id: str
    split: str
    tags: tuple[str, ...]
    factors: tuple[bool, ...]  # in FACTORS order

    def factor(self, name: str) -> bool:
        return self.factors[factor_index(name)]


def read_metadata(root: Path) -> list[ToyRecord]:
    """The rows of ``root/metadata.tsv`` of a complete toy dataset, in item order."""
    root = Path(root)
    path = root / "metadata.tsv"
    manifest = read_json(root / "manifest.json")
    if not path.is_file() or manifest is None:
        raise DataMissingError(
            f"no complete toy dataset at {root} (metadata.tsv or manifest.json "
            f"is missing or unreadable); run `{PREPARE_COMMAND} --root {root}`"
        )
    data = path.read_bytes()
    if not isinstance(manifest, dict) or hashlib.sha256(data).hexdigest() != manifest.get("metadata_sha256"):
        raise FormatError(
            f"{path} does not match the SHA-256 in {root / 'manifest.json'}; "
            f"regenerate it with `{PREPARE_COMMAND} --root {root}`"
        )
    lines = data.decode("utf-8").splitlines()
    if not lines or tuple(lines[0].split("\t")) != METADATA_HEADER:
        raise FormatError(f"{path}: header must be {' '.join(METADATA_HEADER)!r} (tab-separated)")
    records = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(METADATA_HEADER):
            raise FormatError(
                f"{path}:{number}: expected {len(METADATA_HEADER)} tab-separated columns, got {len(cells)}"
            )
        name, split, tag_cell, *flags = cells
        tags = tuple(tag_cell.split(",")) if tag_cell else ()
        if split not in SPLITS:
            raise FormatError(f"{path}:{number}: split {split!r} is not one of {', '.join(SPLITS)}")
        unknown = [t for t in tags if t not in TOY_TAGS]
        if unknown:
            raise FormatError(f"{path}:{number}: unknown tags {unknown}; known: {', '.join(TOY_TAGS)}")
        if any(f not in ("0", "1") for f in flags):
            raise FormatError(f"{path}:{number}: factor columns must be 0 or 1, got {flags}")
        records.append(ToyRecord(item_id=name, split=split, tags=tags, factors=tuple(f == "1" for f in flags)))
    return records
