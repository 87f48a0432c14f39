"""The feature store: one contiguous float16 array per dataset and feature kind.

Layout of ``<root>/features/<kind>/``:

- ``features.npy``: float16, shape ``(total_frames, n_bins)``, frames-major, so a crop of any item
  is one contiguous slice ``features[offset + start : offset + start + crop]``;
- ``index.tsv``: ``item_id  offset  n_frames`` per item, in store order, with a header;
- ``manifest.json``: feature kind, extraction parameters, source checksum, shape, harness version.

The store is built in a temporary folder and renamed into place, so a reader never sees a
half-written store. It is opened memory-mapped; ``to_tensor`` loads it whole for a device.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import harness
from harness import atomic
from harness.errors import DataMissingError, FormatError

FEATURES_FILE = "features.npy"
INDEX_FILE = "index.tsv"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class StoreIndex:
    item_ids: tuple[str, ...]
    offsets: np.ndarray  # int64
    n_frames: np.ndarray  # int64

    def positions(self, item_ids: Sequence[str]) -> np.ndarray:
        """Rows of ``item_ids`` in this index; a missing id raises DataMissingError."""
        lookup = {item: i for i, item in enumerate(self.item_ids)}
        missing = [item for item in item_ids if item not in lookup]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise DataMissingError(
                f"{len(missing)} items have no features in the store ({shown}); run `harness datasets prepare`"
            )
        return np.fromiter((lookup[item] for item in item_ids), dtype=np.int64, count=len(item_ids))


class FeatureStore:
    """A built, read-only feature store."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        manifest = self.directory / MANIFEST_FILE
        if not manifest.is_file():
            raise DataMissingError(
                f"no feature store at {self.directory}; build it with `harness datasets prepare NAME`"
            )
        self.manifest: dict[str, Any] = json.loads(manifest.read_text())
        self.index = _read_index(self.directory / INDEX_FILE)
        self.features = np.load(self.directory / FEATURES_FILE, mmap_mode="r")
        expected = (int(self.manifest["total_frames"]), int(self.manifest["n_bins"]))
        if self.features.shape != expected or self.features.dtype != np.float16:
            raise FormatError(
                f"{self.directory / FEATURES_FILE}: shape {self.features.shape} {self.features.dtype}, "
                f"manifest says {expected} float16; rebuild with `harness datasets prepare`"
            )

    @property
    def kind(self) -> str:
        return str(self.manifest["kind"])

    @property
    def n_bins(self) -> int:
        return int(self.manifest["n_bins"])

    def item(self, item_id: str) -> np.ndarray:
        """The whole item as float32 ``(n_bins, frames)``."""
        row = self.index.positions([item_id])[0]
        start, length = self.index.offsets[row], self.index.n_frames[row]
        return np.asarray(self.features[start : start + length], dtype=np.float32).T

    def to_tensor(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """The whole array as one float16 tensor ``(total_frames, n_bins)`` on ``device``."""
        return torch.from_numpy(np.array(self.features)).to(device)  # a writable copy


def build_store(
    directory: Path,
    kind: str,
    params: dict[str, Any],
    items: Iterable[tuple[str, np.ndarray]],
    n_items: int,
    source_checksum: str = "",
    on_item: Callable[[int, int], None] | None = None,
) -> FeatureStore:
    """Write ``items`` (item id, float32 ``(n_bins, frames)``) as a store at ``directory``, atomically."""
    directory = Path(directory)
    ids: list[str] = []
    blocks: list[np.ndarray] = []
    for done, (item_id, feats) in enumerate(items, start=1):
        if feats.ndim != 2 or feats.shape[1] == 0:
            raise FormatError(f"{item_id}: features of shape {feats.shape}, expected (bins, frames > 0)")
        ids.append(item_id)
        blocks.append(np.ascontiguousarray(feats.T, dtype=np.float16))
        if on_item is not None:
            on_item(done, n_items)
    if not blocks:
        raise FormatError(f"no items to store in {directory}")
    n_bins = blocks[0].shape[1]
    if any(b.shape[1] != n_bins for b in blocks):
        raise FormatError(f"items disagree on the number of feature bins in {directory}")
    lengths = np.array([b.shape[0] for b in blocks], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)

    tmp = directory.with_name(f".{directory.name}.building")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    array = np.lib.format.open_memmap(tmp / FEATURES_FILE, mode="w+", dtype=np.float16, shape=(int(lengths.sum()), n_bins))
    for block, offset in zip(blocks, offsets):
        array[offset : offset + block.shape[0]] = block
    array.flush()
    del array
    lines = ["item_id\toffset\tn_frames"] + [f"{i}\t{o}\t{n}" for i, o, n in zip(ids, offsets, lengths)]
    atomic.write_text(tmp / INDEX_FILE, "\n".join(lines) + "\n")
    atomic.write_json(
        tmp / MANIFEST_FILE,
        {
            "kind": kind,
            "params": params,
            "n_items": len(ids),
            "n_bins": n_bins,
            "total_frames": int(lengths.sum()),
            "dtype": "float16",
            "layout": "frames-major (total_frames, n_bins)",
            "source_checksum": source_checksum,
            "harness_version": harness.__version__,
        },
    )
    old = directory.with_name(f".{directory.name}.old")
    if directory.exists():
        if old.exists():
            shutil.rmtree(old)
        directory.rename(old)
    tmp.rename(directory)
    if old.exists():
        shutil.rmtree(old)
    return FeatureStore(directory)


def store_is_current(directory: Path, kind: str, params: dict[str, Any], source_checksum: str) -> bool:
    manifest = Path(directory) / MANIFEST_FILE
    if not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return data.get("kind") == kind and data.get("params") == params and data.get("source_checksum") == source_checksum


def _read_index(path: Path) -> StoreIndex:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise DataMissingError(f"{path}: missing store index; rebuild with `harness datasets prepare`") from exc
    if not lines or lines[0] != "item_id\toffset\tn_frames":
        raise FormatError(f"{path}: not a feature-store index (bad header)")
    ids, offsets, frames = [], [], []
    for line in lines[1:]:
        item_id, offset, n = line.split("\t")
        ids.append(item_id)
        offsets.append(int(offset))
        frames.append(int(n))
    return StoreIndex(tuple(ids), np.array(offsets, dtype=np.int64), np.array(frames, dtype=np.int64))
