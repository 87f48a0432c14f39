"""Feature extraction: one audio file, or a whole dataset into its feature store."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from harness.datasets.base import AudioSource, Dataset
from harness.errors import FormatError, UnknownNameError
from harness.features.audio import load_audio
from harness.features.mel import MEL96, Mel96
from harness.features.stft import SquareParams, stft_square
from harness.features.store import FeatureStore, build_store, store_is_current

FEATURE_KINDS: tuple[str, ...] = ("mel96", "stft-square")


def check_kind(kind: str) -> str:
    if kind not in FEATURE_KINDS:
        raise UnknownNameError("feature kind", kind, FEATURE_KINDS)
    return kind


def extract_file(
    path: Path, kind: str = "mel96", device: str | torch.device = "cpu", square: SquareParams | None = None
) -> np.ndarray:
    """Features of one audio file as float32 ``(bins, frames)``; ``square`` sets the stft-square size."""
    check_kind(kind)
    if kind == "stft-square":
        params = square or SquareParams()
        waveform = load_audio(Path(path), params.sample_rate).to(device)
        with torch.inference_mode():
            return stft_square(waveform, params).cpu().numpy().astype(np.float32)
    transform = Mel96(MEL96).to(device)
    waveform = load_audio(Path(path), MEL96.sample_rate).to(device)
    with torch.inference_mode():
        return transform(waveform).cpu().numpy().astype(np.float32)


def cut_segment(waveform: torch.Tensor, source: AudioSource, sample_rate: int) -> torch.Tensor:
    """The ``[start_s, end_s)`` part of a decoded file (the whole file when the source has no times)."""
    if source.start_s is None and source.end_s is None:
        return waveform
    begin = round((source.start_s or 0.0) * sample_rate)
    end = waveform.shape[-1] if source.end_s is None else min(round(source.end_s * sample_rate), waveform.shape[-1])
    if end - begin < 1:
        raise FormatError(
            f"{source.path}: segment {source.item_id} ({source.start_s}-{source.end_s} s) lies outside the "
            f"{waveform.shape[-1] / sample_rate:.3f} s of audio"
        )
    return waveform[..., begin:end]


def _decode(sources: Sequence[AudioSource], sample_rate: int) -> Iterator[torch.Tensor]:
    """Waveforms of ``sources`` in order; a file shared by consecutive segments is decoded once."""
    cached: tuple[Path, torch.Tensor] | None = None
    for source in sources:
        if cached is None or cached[0] != source.path:
            cached = (source.path, load_audio(Path(source.path), sample_rate))
        yield cut_segment(cached[1], source, sample_rate)


def extract_many(
    files: Sequence[AudioSource | tuple[str, Path]], kind: str = "mel96", device: str | torch.device = "cpu", batch_size: int = 16
) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (item id, float32 ``(bins, frames)``) per source, batching equal lengths; segments are cut first."""
    check_kind(kind)
    sources_list = [f if isinstance(f, AudioSource) else AudioSource(f[0], Path(f[1])) for f in files]
    if kind == "stft-square":
        params = SquareParams()
        for source, wave in zip(sources_list, _decode(sources_list, params.sample_rate)):
            with torch.inference_mode():
                yield source.item_id, stft_square(wave.to(device), params).cpu().numpy().astype(np.float32)
        return
    transform = Mel96(MEL96).to(device)
    sources = [f if isinstance(f, AudioSource) else AudioSource(f[0], Path(f[1])) for f in files]
    waveforms = _decode(sources, MEL96.sample_rate)
    for start in range(0, len(sources), batch_size):
        chunk = sources[start : start + batch_size]
        waves = [next(waveforms) for _ in chunk]
        with torch.inference_mode():
            if len({w.shape[0] for w in waves}) == 1:
                feats = transform(torch.stack(waves).to(device)).cpu().numpy()
            else:
                feats = [transform(w.to(device)).cpu().numpy() for w in waves]
        for source, item_feats in zip(chunk, feats):
            yield source.item_id, np.asarray(item_feats, dtype=np.float32)


def _load_precomputed(files: Sequence[tuple[str, Path]], kind: str) -> Iterator[tuple[str, np.ndarray]]:
    """Each ``.npy`` as float32 ``(bins, frames)``; a file of another shape is named."""
    bins = MEL96.n_mels if kind == "mel96" else None
    for item_id, path in files:
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise FormatError(f"{path}: not a readable .npy feature file ({exc}); fetch it again") from exc
        if array.ndim != 2 or (bins is not None and array.shape[0] != bins) or array.shape[1] == 0:
            raise FormatError(f"{path}: shape {array.shape}, expected ({bins or 'bins'}, frames) for {kind}")
        yield item_id, array.astype(np.float32, copy=False)


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
    params = {"kind": kind, **(SquareParams().as_dict() if kind == "stft-square" else MEL96.as_dict())}
    checksum = dataset.source_checksum()
    precomputed = dataset.precomputed_features(kind)
    if precomputed is not None:
        params["source"] = "precomputed by the publisher"
    if store_is_current(directory, kind, params, checksum):
        return FeatureStore(directory)
    if precomputed is not None:
        return build_store(
            directory, kind, params, _load_precomputed(precomputed, kind), len(precomputed), checksum, on_item=on_item
        )
    files = dataset.audio_sources()
    return build_store(
        directory, kind, params, extract_many(files, kind, device), len(files), checksum, on_item=on_item
    )
