"""Prediction files: the harness's ``.npz`` and MediaEval's bare ``.npy``.

Harness ``.npz``: ``scores`` float32 (items x tags), ``item_ids`` and ``tags`` (unicode arrays) and
``meta`` (a JSON string: dataset, fold, split, fingerprint, submission, run id). A MediaEval
``.npy`` is a bare (items x tags) matrix in the split's row order and the official tag order; it
carries no metadata, so the dataset, fold and split come from the command line.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness import atomic
from harness.datasets.splits import SplitData
from harness.errors import BadInputError, DataMissingError, FormatError


@dataclass(frozen=True, eq=False)
class Predictions:
    scores: np.ndarray
    item_ids: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def check_against(self, split: SplitData) -> None:
        """Raise FormatError unless these predictions are for ``split`` (shape, ids, tags, fingerprint)."""
        where = self.path or "predictions"
        expected = (len(split.item_ids), len(split.tags))
        if self.scores.shape != expected:
            hint = " (transposed?)" if self.scores.shape == expected[::-1] else ""
            raise FormatError(
                f"{where}: shape {self.scores.shape}, but {split.dataset} {split.fold} {split.split} has "
                f"{expected[0]} items x {expected[1]} tags{hint}"
            )
        if self.tags is not None and tuple(self.tags) != tuple(split.tags):
            raise FormatError(f"{where}: tags differ from the registry's tag order of {split.dataset}")
        if self.item_ids is not None and tuple(self.item_ids) != tuple(split.item_ids):
            raise FormatError(f"{where}: item ids differ from {split.dataset} {split.fold} {split.split}")
        fingerprint = self.meta.get("fingerprint")
        if fingerprint and fingerprint != split.fingerprint:
            raise FormatError(
                f"{where}: made for split fingerprint {fingerprint[:12]}..., but {split.dataset} {split.fold} "
                f"{split.split} is {split.fingerprint[:12]}...; the labels or items changed, re-run the predictions"
            )


def save_predictions(
    path: Path, scores: np.ndarray, item_ids: Sequence[str], tags: Sequence[str], meta: dict[str, Any]
) -> None:
    atomic.write_npz(
        path,
        scores=np.asarray(scores, dtype=np.float32),
        item_ids=np.asarray(list(item_ids), dtype=str),
        tags=np.asarray(list(tags), dtype=str),
        meta=np.asarray(json.dumps(meta, sort_keys=True)),
    )


def load_predictions(path: str | Path) -> Predictions:
    path = Path(path)
    if not path.is_file():
        raise DataMissingError(f"{path}: no such prediction file")
    if path.suffix == ".npy":
        try:
            scores = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise FormatError(f"{path}: not a readable .npy array ({exc or 'empty or truncated file'})") from exc
        return Predictions(scores=_check_matrix(scores, path), path=path)
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as data:
                missing = {"scores", "item_ids", "tags", "meta"} - set(data.files)
                if missing:
                    raise FormatError(f"{path}: missing arrays {', '.join(sorted(missing))}; not a harness prediction file")
                return Predictions(
                    scores=_check_matrix(data["scores"], path),
                    item_ids=tuple(str(x) for x in data["item_ids"]),
                    tags=tuple(str(x) for x in data["tags"]),
                    meta=json.loads(str(data["meta"])),
                    path=path,
                )
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise FormatError(f"{path}: not a readable .npz file ({exc})") from exc
    raise BadInputError(f"{path}: prediction files are .npz (harness) or .npy (MediaEval), not {path.suffix or 'no suffix'}")


def _check_matrix(scores: np.ndarray, path: Path) -> np.ndarray:
    if scores.ndim != 2:
        raise FormatError(f"{path}: expected a 2-d (items x tags) matrix, got shape {scores.shape}")
    if not np.issubdtype(scores.dtype, np.number) and scores.dtype != bool:
        raise FormatError(f"{path}: expected numbers, got dtype {scores.dtype}")
    return scores.astype(np.float64)
