"""The feature store: one contiguous float16 array per dataset and feature kind.

Layout of ``<root>/features/<kind>/``:

- ``features.npy``: float16, shape ``(total_frames, n_bins)``, frames-major, so a crop of any item
  is one contiguous slice ``features[offset + start : offset + start + crop]``;
- ``index.tsv``: ``item_id  offset  n_frames`` per item, in store order, with a header;
- ``manifest.json``: feature kind, extraction parameters, source checksum, shape, harness version.

Building is atomic and resumable (:class:`StoreBuilder`): items are written in chunks into
``<root>/features/.<kind>.building/`` with a journal of what each chunk holds; an interrupted build
continues from its journal (items already written are not extracted again), and the finished
store is assembled in dataset order and renamed into place, so a reader never sees a half-written
store. Items that could not be extracted (corrupt, empty or too-short audio) are recorded with
their reason in the manifest's ``skipped`` list. The store is opened memory-mapped; ``to_tensor``
loads it whole for a device.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
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

    @cached_property
    def _rows(self) -> dict[str, int]:
        return {item: i for i, item in enumerate(self.item_ids)}

    def positions(self, item_ids: Sequence[str]) -> np.ndarray:
        """Rows of ``item_ids`` in this index; a missing id raises DataMissingError."""
        lookup = self._rows
        missing = [item for item in item_ids if item not in lookup]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise DataMissingError(
                f"{len(missing)} items have no features in the store ({shown}); run `harness datasets prepare`"
            )
        return np.fromiter((lookup[item] for item in item_ids), dtype=np.int64, count=len(item_ids))


TO_DEVICE_CHUNK_BYTES = 256 * 2**20  # FeatureStore.to_tensor copies the store this much at a time


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
        self.last_build: Any = None  # prepare_features sets its BuildProgress when it built this store
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
    def skipped(self) -> list[dict[str, str]]:
        """Items that could not be extracted when the store was built: ``{"item_id", "reason"}``."""
        return list(self.manifest.get("skipped", []))

    @property
    def n_bins(self) -> int:
        return int(self.manifest["n_bins"])

    def item(self, item_id: str) -> np.ndarray:
        """The whole item as float32 ``(n_bins, frames)``."""
        row = self.index.positions([item_id])[0]
        start, length = self.index.offsets[row], self.index.n_frames[row]
        return np.asarray(self.features[start : start + length], dtype=np.float32).T

    def to_tensor(self, device: torch.device | str = "cpu", chunk_bytes: int = TO_DEVICE_CHUNK_BYTES) -> torch.Tensor:
        """The whole array as one float16 tensor ``(total_frames, n_bins)`` on ``device``.

        Copied from the memory-mapped file ``chunk_bytes`` at a time into a tensor allocated on
        ``device``: a GPU copy never holds a second host copy of the store (split-0 at full length
        is about 25 GB; with ``--nproc N`` every rank would hold one).
        """
        out = torch.empty(self.features.shape, dtype=torch.float16, device=device)
        rows = max(1, chunk_bytes // max(1, self.features.shape[1] * self.features.itemsize))
        for start in range(0, self.features.shape[0], rows):
            chunk = np.array(self.features[start : start + rows])  # read from the file, writable
            out[start : start + rows].copy_(torch.from_numpy(chunk))
        return out


BUILD_FILE = "build.json"
JOURNAL_FILE = "journal.tsv"
SKIPPED_FILE = "skipped.tsv"
CHUNK_BYTES = 64 * 2**20  # float16 frames buffered before a chunk is written ...
CHUNK_ITEMS = 128  # ... or this many items, so an interrupted build loses little work


class StoreBuilder:
    """Builds the store at ``directory`` in ``.<name>.building/``, resumably.

    ``pending(ids)`` says which items still need extracting; ``add`` buffers an item's features and
    writes a chunk (``chunk-NNNNN.npy``, then its lines in ``journal.tsv``) every ``CHUNK_BYTES`` or
    ``CHUNK_ITEMS``;
    ``skip`` records an item that could not be extracted; ``finish(order)`` writes the store with
    the items in ``order`` and renames it into place. A build folder of other parameters or sources
    is discarded, never mixed in; ``fresh`` discards any build folder (a rebuild from scratch).
    """

    def __init__(
        self,
        directory: Path,
        kind: str,
        params: dict[str, Any],
        source_checksum: str = "",
        chunk_bytes: int | None = None,
        chunk_items: int | None = None,
        fresh: bool = False,
    ) -> None:
        self.directory = Path(directory)
        self.kind, self.params, self.source_checksum = kind, params, source_checksum
        self.chunk_bytes = chunk_bytes or CHUNK_BYTES
        self.chunk_items = chunk_items or CHUNK_ITEMS
        self.tmp = self.directory.with_name(f".{self.directory.name}.building")
        recover_interrupted_swap(self.directory)
        identity = {"kind": kind, "params": params, "source_checksum": source_checksum}
        if self.tmp.exists() and (fresh or _read_json(self.tmp / BUILD_FILE) != identity):
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        if not (self.tmp / BUILD_FILE).is_file():
            atomic.write_json(self.tmp / BUILD_FILE, identity)
        self.written: dict[str, tuple[str, int, int]] = _read_journal(self.tmp)  # id -> (chunk, offset, frames)
        self.skipped: dict[str, str] = _read_skipped(self.tmp / SKIPPED_FILE)
        self.resumed = len(self.written) + len(self.skipped)
        self._buffer: list[tuple[str, np.ndarray]] = []
        self._buffered = 0
        self._n_bins: int | None = None

    def pending(self, item_ids: Sequence[str]) -> list[str]:
        return [item for item in item_ids if item not in self.written and item not in self.skipped]

    def add(self, item_id: str, feats: np.ndarray) -> None:
        """Buffer one item's float32 ``(n_bins, frames)`` features."""
        if feats.ndim != 2 or feats.shape[1] == 0:
            raise FormatError(f"{item_id}: features of shape {feats.shape}, expected (bins, frames > 0)")
        if self._n_bins is None:
            self._n_bins = feats.shape[0]
        if feats.shape[0] != self._n_bins:
            raise FormatError(f"{item_id}: {feats.shape[0]} feature bins, other items have {self._n_bins}")
        block = np.ascontiguousarray(feats.T, dtype=np.float16)
        self._buffer.append((item_id, block))
        self._buffered += block.nbytes
        if self._buffered >= self.chunk_bytes or len(self._buffer) >= self.chunk_items:
            self.flush()

    def skip(self, item_id: str, reason: str) -> None:
        """Record an item that could not be extracted (written at once, so a resumed build skips it too)."""
        self.skipped[item_id] = reason
        _append_lines(self.tmp / SKIPPED_FILE, [f"{item_id}\t{_one_line(reason)}"])

    def flush(self) -> None:
        """Write the buffered items as one chunk, then journal them (a crash in between only orphans the chunk)."""
        if not self._buffer:
            return
        numbers = [int(p.stem.split("-")[1]) for p in self.tmp.glob("chunk-*.npy")]
        name = f"chunk-{max(numbers, default=-1) + 1:05d}.npy"
        atomic.write_npy(self.tmp / name, np.concatenate([block for _, block in self._buffer]))
        lines, offset = [], 0
        for item_id, block in self._buffer:
            lines.append(f"{item_id}\t{name}\t{offset}\t{block.shape[0]}")
            self.written[item_id] = (name, offset, block.shape[0])
            offset += block.shape[0]
        _append_lines(self.tmp / JOURNAL_FILE, lines)
        self._buffer, self._buffered = [], 0

    def finish(self, order: Sequence[str]) -> FeatureStore:
        """Assemble the items of ``order`` that were written (skipping the skipped) and publish the store."""
        self.flush()
        ids = [item for item in order if item in self.written]
        missing = [item for item in order if item not in self.written and item not in self.skipped]
        if missing:
            raise FormatError(
                f"{self.directory}: {len(missing)} items were neither built nor skipped ({missing[0]} ...)"
            )
        if not ids:
            reasons = "; ".join(f"{i}: {r}" for i, r in list(self.skipped.items())[:3])
            raise FormatError(f"no items could be extracted into {self.directory} ({reasons})")
        chunks = {name: np.load(self.tmp / name, mmap_mode="r") for name in {self.written[i][0] for i in ids}}
        lengths = np.array([self.written[i][2] for i in ids], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        n_bins = next(iter(chunks.values())).shape[1]
        out = self.tmp / "assembled"
        if out.exists():
            shutil.rmtree(out)
        out.mkdir()
        array = np.lib.format.open_memmap(
            out / FEATURES_FILE, mode="w+", dtype=np.float16, shape=(int(lengths.sum()), n_bins)
        )
        for item_id, offset in zip(ids, offsets):
            chunk, start, length = self.written[item_id]
            array[offset : offset + length] = chunks[chunk][start : start + length]
        array.flush()
        del array, chunks
        lines = ["item_id\toffset\tn_frames"] + [f"{i}\t{o}\t{n}" for i, o, n in zip(ids, offsets, lengths)]
        atomic.write_text(out / INDEX_FILE, "\n".join(lines) + "\n")
        wanted = set(order)
        skipped = [{"item_id": item, "reason": reason} for item, reason in self.skipped.items() if item in wanted]
        atomic.write_json(
            out / MANIFEST_FILE,
            {
                "kind": self.kind,
                "params": self.params,
                "n_items": len(ids),
                "n_bins": n_bins,
                "total_frames": int(lengths.sum()),
                "dtype": "float16",
                "layout": "frames-major (total_frames, n_bins)",
                "source_checksum": self.source_checksum,
                "skipped": skipped,
                "harness_version": harness.__version__,
            },
        )
        old = _old_path(self.directory)
        if self.directory.exists():
            if old.exists():
                shutil.rmtree(old)
            self.directory.rename(old)
        out.rename(self.directory)
        shutil.rmtree(self.tmp)
        if old.exists():
            shutil.rmtree(old)
        return FeatureStore(self.directory)


def _old_path(directory: Path) -> Path:
    """Where :meth:`StoreBuilder.finish` moves the previous store while it puts the new one in place."""
    return directory.with_name(f".{directory.name}.old")


def recover_interrupted_swap(directory: Path) -> None:
    """Clean up after a build that died while publishing: restore or discard ``.<kind>.old``.

    ``finish`` renames the store to ``.<kind>.old``, the new one into place, then deletes the old.
    A crash between the two renames leaves no store but a whole previous one in ``.old``: it is
    put back (the next build then decides whether it is current). A crash after them leaves both:
    the ``.old`` is deleted.
    """
    directory = Path(directory)
    old = _old_path(directory)
    if not old.exists():
        return
    if not directory.exists() and (old / MANIFEST_FILE).is_file():
        old.rename(directory)
    else:
        shutil.rmtree(old)


def build_store(
    directory: Path,
    kind: str,
    params: dict[str, Any],
    items: Iterable[tuple[str, np.ndarray]],
    n_items: int,
    source_checksum: str = "",
    on_item: Callable[[int, int], None] | None = None,
) -> FeatureStore:
    """Write ``items`` (item id, float32 ``(n_bins, frames)``) as a store at ``directory``, in their order."""
    builder = StoreBuilder(Path(directory), kind, params, source_checksum)
    order = []
    for done, (item_id, feats) in enumerate(items, start=1):
        builder.add(item_id, feats)
        order.append(item_id)
        if on_item is not None:
            on_item(done, n_items)
    if not order:
        raise FormatError(f"no items to store in {directory}")
    return builder.finish(order)


def store_is_current(directory: Path, kind: str, params: dict[str, Any], source_checksum: str) -> bool:
    data = _read_json(Path(directory) / MANIFEST_FILE)
    return (
        isinstance(data, dict)
        and data.get("kind") == kind
        and data.get("params") == params
        and data.get("source_checksum") == source_checksum
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _append_lines(path: Path, lines: list[str]) -> None:
    """Append whole lines and fsync: a crash leaves at most a torn last line, which readers ignore."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))
        handle.flush()
        os.fsync(handle.fileno())


def _complete_lines(path: Path) -> list[str]:
    """The newline-terminated lines of an appended file; a torn last line is cut off the file.

    A torn line may still parse (``...\t23`` cut to ``...\t2``), so it is never trusted, and it is
    truncated away so that the next append does not join it.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    end = data.rfind(b"\n") + 1
    if end < len(data):
        with open(path, "r+b") as handle:
            handle.truncate(end)
    return data[:end].decode("utf-8").split("\n")[:-1]


def _read_journal(tmp: Path) -> dict[str, tuple[str, int, int]]:
    """Journalled items whose chunk exists and is long enough; a torn or dangling line is dropped."""
    lengths: dict[str, int] = {}
    written: dict[str, tuple[str, int, int]] = {}
    for line in _complete_lines(tmp / JOURNAL_FILE):
        parts = line.split("\t")
        if len(parts) != 4 or not parts[2].isdigit() or not parts[3].isdigit():
            continue
        item_id, chunk, offset, frames = parts[0], parts[1], int(parts[2]), int(parts[3])
        if chunk not in lengths:
            try:
                lengths[chunk] = np.load(tmp / chunk, mmap_mode="r").shape[0]
            except (OSError, ValueError, EOFError):
                lengths[chunk] = -1
        if offset + frames <= lengths[chunk]:
            written[item_id] = (chunk, offset, frames)
    return written


def _read_skipped(path: Path) -> dict[str, str]:
    skipped = {}
    for line in _complete_lines(path):
        item_id, _, reason = line.partition("\t")
        if reason:
            skipped[item_id] = reason
    return skipped


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
