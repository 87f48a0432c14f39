"""Feature extraction: one audio file, or a whole dataset into its feature store.

The dataset-wide build (:func:`prepare_features`) decodes files in background threads, runs the
transform in batches on the chosen device (a GPU when there is one), and writes through a resumable
:class:`~harness.features.store.StoreBuilder`. Rules for bad audio, applied the same way by
``harness features extract`` and ``harness datasets prepare``:

- a file that cannot be decoded (corrupt, truncated, not audio) or holds no samples is reported by
  name and skipped;
- audio (or a segment) shorter than one analysis window (mel96: 512 samples at 12 kHz, 43 ms;
  stft-square: ``nfft`` samples at 22,050 Hz, 12 ms at K = 257) is too short to give one full frame
  and is skipped too;
- anything longer is kept: an item shorter than a training crop is tiled by the protocol (see
  :mod:`harness.protocol.crops`).

``prepare`` counts the skipped items in its summary and records them, with their reasons, in the
store's manifest; the rest of the store is built.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import numpy as np
import torch

from harness import paths
from harness.datasets.base import AudioSource, Dataset
from harness.datasets.lock import prepare_lock
from harness.datasets.registry import DatasetSpec
from harness.errors import BadInputError, FormatError, HarnessError, UnknownNameError
from harness.features.audio import decode_audio, load_audio, resample
from harness.features.kinds import FEATURE_KINDS
from harness.features.mel import MEL96, Mel96, n_frames
from harness.features.stft import SquareParams, stft_square_batch
from harness.features.store import FeatureStore, StoreBuilder, recover_interrupted_swap, store_is_current

DECODE_THREADS = 2  # soundfile and the resampler release the GIL; more threads than cores buy nothing
PREFETCH = 8  # files decoded ahead of the transform


def check_kind(kind: str) -> str:
    if kind not in FEATURE_KINDS:
        raise UnknownNameError("feature kind", kind, FEATURE_KINDS)
    return kind


def sample_rate_of(kind: str, square: SquareParams | None = None) -> int:
    return (square or SquareParams()).sample_rate if kind == "stft-square" else MEL96.sample_rate


def min_samples(kind: str, square: SquareParams | None = None) -> int:
    """The shortest audio that gives one full analysis window."""
    return (square or SquareParams()).nfft if kind == "stft-square" else MEL96.n_fft


@dataclass
class BuildProgress:
    """Where a ``prepare`` stands: files done (extracted or skipped) of ``total``, audio extracted."""

    done: int = 0
    total: int = 0
    skipped: int = 0
    resumed: int = 0  # items already in an interrupted build's journal, not extracted again
    audio_seconds: float = 0.0
    started: float = 0.0

    @property
    def wall_seconds(self) -> float:
        return time.monotonic() - self.started

    @property
    def realtime_factor(self) -> float:
        """Audio-seconds extracted per wall-second."""
        return self.audio_seconds / max(self.wall_seconds, 1e-9)


@dataclass(frozen=True)
class Extracted:
    """One item's features, or the reason it was skipped (``features`` is None)."""

    item_id: str
    features: np.ndarray | None
    audio_seconds: float = 0.0
    reason: str = ""


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


def _check_length(waveform: torch.Tensor, source: AudioSource, kind: str, square: SquareParams | None) -> None:
    needed = min_samples(kind, square)
    if waveform.shape[-1] < needed:
        rate = sample_rate_of(kind, square)
        raise FormatError(
            f"{source.path}: too short for {kind} ({waveform.shape[-1]} samples at {rate} Hz, "
            f"{1000 * waveform.shape[-1] / rate:.1f} ms; one {needed}-sample window is the minimum)"
        )


def _waveforms(
    sources: Sequence[AudioSource], kind: str, device: torch.device, square: SquareParams | None
) -> Iterator[tuple[AudioSource, torch.Tensor | None, str]]:
    """(source, waveform or None, reason) in order; files are decoded ahead in threads, once per file
    (consecutive sources of one file, such as the segments of a song, share its decoding).

    On the CPU the threads also resample; on a GPU they only decode, and resampling runs on the GPU.
    """
    rate = sample_rate_of(kind, square)
    on_cpu = device.type == "cpu"

    def decode(path: Path) -> tuple[torch.Tensor, int]:
        return (load_audio(path, rate), rate) if on_cpu else decode_audio(path)

    files = [(path, list(group)) for path, group in groupby(sources, key=lambda source: source.path)]
    with ThreadPoolExecutor(DECODE_THREADS) as pool:
        ahead: deque[Future[tuple[torch.Tensor, int]]] = deque()
        to_submit = iter(path for path, _ in files)
        for _, group in files:
            while len(ahead) <= PREFETCH and (path := next(to_submit, None)) is not None:
                ahead.append(pool.submit(decode, path))
            try:
                mono, file_rate = ahead.popleft().result()
            except FormatError as exc:
                yield from ((source, None, exc.message) for source in group)
                continue
            waveform = resample(mono.to(device), file_rate, rate)
            for source in group:
                try:
                    wave = cut_segment(waveform, source, rate)
                    _check_length(wave, source, kind, square)
                except FormatError as exc:
                    yield source, None, exc.message
                    continue
                yield source, wave, ""


def extract_file(
    path: Path, kind: str = "mel96", device: str | torch.device = "cpu", square: SquareParams | None = None
) -> np.ndarray:
    """Features of one audio file as float32 ``(bins, frames)``; ``square`` sets the stft-square size.

    A file that cannot be decoded, or is too short, raises FormatError naming it.
    """
    [(_, features)] = extract_many([(Path(path).stem, Path(path))], kind, device, square=square)
    return features


def extract_sources(
    sources: Sequence[AudioSource],
    kind: str = "mel96",
    device: str | torch.device = "cpu",
    batch_size: int = 16,
    square: SquareParams | None = None,
) -> Iterator[Extracted]:
    """One :class:`Extracted` per source, in order; bad audio gives a reason instead of features.

    Items are transformed in batches: mel96 pads the waveforms of a batch with zeros to the longest
    (zeros after an item's end change none of its frames) and keeps each item's own frames.
    """
    check_kind(kind)
    device = torch.device(device)
    params = square or SquareParams()
    rate = sample_rate_of(kind, params)
    transform = Mel96(MEL96).to(device) if kind == "mel96" else None
    batch: list[tuple[AudioSource, torch.Tensor]] = []

    def run_batch() -> Iterator[Extracted]:
        waves = [wave for _, wave in batch]
        with torch.inference_mode():
            if transform is None:
                feats = stft_square_batch(waves, params)
                outputs = [feats[i] for i in range(len(waves))]
            else:
                longest = max(w.shape[-1] for w in waves)
                stacked = torch.stack([torch.nn.functional.pad(w, (0, longest - w.shape[-1])) for w in waves])
                feats = transform(stacked)
                outputs = [feats[i, :, : n_frames(w.shape[-1])] for i, w in enumerate(waves)]
            arrays = [out.float().cpu().numpy() for out in outputs]
        for (source, wave), array in zip(batch, arrays):
            yield Extracted(source.item_id, array, wave.shape[-1] / rate)
        batch.clear()

    for source, wave, reason in _waveforms(sources, kind, device, params):
        if wave is None:
            yield Extracted(source.item_id, None, reason=reason)
            continue
        batch.append((source, wave))
        if len(batch) >= batch_size:
            yield from run_batch()
    if batch:
        yield from run_batch()


def extract_many(
    files: Sequence[AudioSource | tuple[str, Path]],
    kind: str = "mel96",
    device: str | torch.device = "cpu",
    batch_size: int = 16,
    square: SquareParams | None = None,
) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (item id, float32 ``(bins, frames)``) per source; the first bad file raises FormatError."""
    sources = [f if isinstance(f, AudioSource) else AudioSource(f[0], Path(f[1])) for f in files]
    for item in extract_sources(sources, kind, device, batch_size, square):
        if item.features is None:
            raise FormatError(item.reason)
        yield item.item_id, item.features


def _load_precomputed(files: Sequence[tuple[str, Path]], kind: str) -> Iterator[Extracted]:
    """Each ``.npy`` as float32 ``(bins, frames)``; a missing, unreadable or misshapen file is skipped with its reason."""
    bins = MEL96.n_mels if kind == "mel96" else None
    for item_id, path in files:
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            yield Extracted(item_id, None, reason=f"{path}: not a readable .npy feature file ({exc}); fetch it again")
            continue
        if array.ndim != 2 or (bins is not None and array.shape[0] != bins) or array.shape[1] == 0:
            yield Extracted(
                item_id, None, reason=f"{path}: shape {array.shape}, expected ({bins or 'bins'}, frames) for {kind}"
            )
            continue
        if not np.isfinite(array).all():
            yield Extracted(item_id, None, reason=f"{path}: holds NaN or infinite values; fetch it again")
            continue
        seconds = array.shape[1] * MEL96.hop_length / MEL96.sample_rate if kind == "mel96" else 0.0
        yield Extracted(item_id, array.astype(np.float32, copy=False), seconds)


def square_params_for(spec: DatasetSpec, kind: str, size: int | None = None) -> SquareParams | None:
    """The stft-square parameters of a dataset (its registry's ``square_size``, or ``size``); None for mel96."""
    if kind != "stft-square":
        return None
    return SquareParams(size=size or spec.protocol.square_size)


def feature_params(kind: str, square: SquareParams | None = None) -> dict[str, object]:
    return {"kind": kind, **((square or SquareParams()).as_dict() if kind == "stft-square" else MEL96.as_dict())}


def prepare_features(
    dataset: Dataset,
    kind: str = "mel96",
    device: str | torch.device = "cpu",
    on_source: Callable[[int, int], None] | None = None,
    on_item: Callable[[BuildProgress], None] | None = None,
    rebuild: bool = False,
    square: SquareParams | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> FeatureStore:
    """Make the dataset's sources present, then build its feature store unless it is current.

    The build is resumable: an interrupted one continues from its journal. ``rebuild`` discards a
    current store (and any interrupted build) and extracts everything again.

    The root must be writable, checked before any work (one error naming ``--root`` or
    ``$HARNESS_DATA``), except that a current store under a read-only root is used as it is. Source
    generation and the build hold the root's prepare lock (:mod:`harness.datasets.lock`): a
    second ``prepare`` or ``run`` of the same root waits (``on_wait`` says so), then finds the store
    current and reuses it.
    """
    check_kind(kind)
    try:
        paths.ensure_writable_dir(dataset.root, dataset.root_origin)
    except BadInputError:
        current = None if rebuild else _current_store_read_only(dataset, kind, square)
        if current is None:
            raise
        return current
    with prepare_lock(dataset.root, on_wait):
        return _prepare_locked(dataset, kind, device, on_source, on_item, rebuild, square)


def _current_store_read_only(dataset: Dataset, kind: str, square: SquareParams | None) -> FeatureStore | None:
    """The store, when the sources are complete and the store current without writing anything; else None."""
    try:
        dataset.ensure_source()
        directory = dataset.features_dir(kind)
        params = _store_params(kind, square, dataset.precomputed_features(kind))
        if store_is_current(directory, kind, params, dataset.source_checksum()):
            return FeatureStore(directory)
    except (HarnessError, OSError):
        return None
    return None


def _store_params(kind: str, square: SquareParams | None, precomputed: object | None) -> dict[str, object]:
    """What the store's manifest records as its parameters (imported features say so)."""
    params = feature_params(kind, square)
    if precomputed is not None:
        params["source"] = "precomputed by the publisher"
    return params


def _prepare_locked(
    dataset: Dataset,
    kind: str,
    device: str | torch.device,
    on_source: Callable[[int, int], None] | None,
    on_item: Callable[[BuildProgress], None] | None,
    rebuild: bool,
    square: SquareParams | None,
) -> FeatureStore:
    """:func:`prepare_features` once the root's lock is held."""
    dataset.ensure_source(on_source)
    directory = dataset.features_dir(kind)
    recover_interrupted_swap(directory)
    checksum = dataset.source_checksum()
    precomputed = dataset.precomputed_features(kind)
    params = _store_params(kind, square, precomputed)
    if not rebuild and store_is_current(directory, kind, params, checksum):
        return FeatureStore(directory)
    builder = StoreBuilder(directory, kind, params, checksum, fresh=rebuild)
    if precomputed is not None:
        order = [item_id for item_id, _ in precomputed]
        pending = set(builder.pending(order))
        items: Iterator[Extracted] = _load_precomputed([(i, p) for i, p in precomputed if i in pending], kind)
    else:
        sources = dataset.audio_sources()
        order = [s.item_id for s in sources]
        pending = set(builder.pending(order))
        items = extract_sources([s for s in sources if s.item_id in pending], kind, device, square=square)
    progress = BuildProgress(total=len(order), resumed=len(order) - len(pending), started=time.monotonic())
    progress.done = progress.resumed
    if on_item is not None:
        on_item(progress)
    for item in items:
        if item.features is None:
            builder.skip(item.item_id, item.reason)
            progress.skipped += 1
        else:
            builder.add(item.item_id, item.features)
            progress.audio_seconds += item.audio_seconds
        progress.done += 1
        if on_item is not None:
            on_item(progress)
    store = builder.finish(order)
    store.last_build = progress
    return store
