"""Feature extraction: one audio file, or a whole dataset into its feature store."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from harness.datasets.base import Dataset
from harness.errors import UnknownNameError
from harness.features.audio import load_audio
from harness.features.mel import MEL96, Mel96
from harness.features.store import FeatureStore, build_store, store_is_current

FEATURE_KINDS: tuple[str, ...] = ("mel96",)


def check_kind(kind: str) -> str:
    if kind not in FEATURE_KINDS:
        raise UnknownNameError("feature kind", kind, FEATURE_KINDS)
    return kind


def extract_file(path: Path, kind: str = "mel96", device: str | torch.device = "cpu") -> np.ndarray:
    """Features of one audio file as float32 ``(bins, frames)``."""
    check_kind(kind)
    transform = Mel96(MEL96).to(device)
    waveform = load_audio(Path(path), MEL96.sample_rate).to(device)
    with torch.inference_mode():
        return transform(waveform).cpu().numpy().astype(np.float32)


def extract_many(
    files: Sequence[tuple[str, Path]], kind: str = "mel96", device: str | torch.device = "cpu", batch_size: int = 16
) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (item id, float32 ``(bins, frames)``) for each file, batching files of equal length."""
    check_kind(kind)
    transform = Mel96(MEL96).to(device)
    for start in range(0, len(files), batch_size):
        chunk = files[start : start + batch_size]
        waves = [load_audio(Path(path), MEL96.sample_rate) for _, path in chunk]
        with torch.inference_mode():
            if len({w.shape[0] for w in waves}) == 1:
                feats = transform(torch.stack(waves).to(device)).cpu().numpy()
            else:
                feats = [transform(w.to(device)).cpu().numpy() for w in waves]
        for (item_id, _), item_feats in zip(chunk, feats):
            yield item_id, np.asarray(item_feats, dtype=np.float32)


def prepare_features(
    dataset: Dataset,
    kind: str = "mel96",
    device: str | torch.device = "cpu",
    on_source: Callable[[int, int], None] | None = None,
    on_item: Callable[[int, int], None] | None = None,
) -> FeatureStore:
    """Make the dataset's sources present, then build its feature store unless it is current."""
    check_kind(kind)
    dataset.ensure_source(on_source)
    directory = dataset.features_dir(kind)
    params = {"kind": kind, **MEL96.as_dict()}
    checksum = dataset.source_checksum()
    if store_is_current(directory, kind, params, checksum):
        return FeatureStore(directory)
    files = dataset.audio_files()
    return build_store(
        directory, kind, params, extract_many(files, kind, device), len(files), checksum, on_item=on_item
    )
