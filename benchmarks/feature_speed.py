"""Feature extraction speed, and crop throughput of the feature store against per-file ``.npy`` loading.

Timed, in this one run (on the CPU, and again on CUDA when ``torch.cuda.is_available()``):

1. Extraction: :func:`harness.features.extract.extract_many` end to end -- decoding with soundfile,
   resampling, the transform, the copy back to float32 numpy -- over ``--files`` (16) synthetic
   files of ``--seconds`` (30) s each, for ``mel96`` and ``stft-square`` (K = 257). The figure is
   audio-seconds per wall-second. Each kind is timed on three sets of files:

   - 44.1 kHz stereo 16-bit WAV, so decoding, down-mixing and resampling (to 12 kHz for ``mel96``,
     22,050 Hz for ``stft-square``) are part of the cost, as they are for real MP3s;
   - mono WAV already at the kind's rate (12 kHz for ``mel96``, 22,050 Hz for ``stft-square``), where
     nothing is resampled; its difference from the 44.1 kHz WAV row is the cost of decoding the
     larger file, down-mixing and resampling, the rest is the transform (decoding a mono WAV is cheap);
   - 44.1 kHz stereo MP3 (written by libsndfile's LAME encoder at its default quality), the format
     MTG-Jamendo ships, since MP3 decoding costs more than WAV decoding; only ``--mp3-files`` (4) of
     them, since encoding takes 1-1.5 s per 30 s file on a dev-machine core (not timed).

   On CUDA, decoding still runs on the CPU (soundfile); what else runs on the GPU is
   ``extract_many``'s choice (at the time of writing: resampling and the transform). One file is
   extracted first, untimed, per kind and device (cuFFT plans, caches).
   The audio files were just written, so they are read from the page cache. Each case is timed
   ``--repeats`` (3) times and the fastest is kept (the dev machine is shared, so slow outliers are
   other work, not this code).

2. Crop throughput: crops per second of ``--crop`` (1280) frame crops of 96 mel bins in batches of
   ``--batch`` (64), the ``vgg6`` training input, from ``--items`` (512) synthetic items of about
   ``--frames`` (9,400, the average MTG-Jamendo track) frames each (lengths uniform within +-25%),
   stored twice:

   - as one feature store (:func:`harness.features.store.build_store`), loaded whole with
     ``FeatureStore.to_tensor`` (the load is timed apart and not counted) and gathered with
     :class:`harness.protocol.crops.CropGatherer` at :func:`random_starts` starts, on the CPU (and
     with the tensor on the GPU when there is one); ``--store-batches`` (40) batches;
   - as one float32 ``(96, T)`` ``.npy`` file per item, the way the MTG-Jamendo baseline's data loader
     reads them: a torch ``Dataset`` whose ``__getitem__`` ``np.load``s the whole file and slices one
     random crop, through a ``DataLoader`` with batch 64 and ``num_workers`` from ``--workers``
     (``0,2``); ``--file-batches`` (8, one pass over 512 items) batches. These batches stay on the
     CPU (moving them to a GPU is not timed, which favours the baseline).

   Items are drawn in shuffled epochs (a new permutation each pass), the same for both ways. The
   first batch of every variant is taken before the clock starts (DataLoader workers starting,
   first-touch costs). The ``.npy`` files were just written, so they are in the page cache ("warm").
   Unless ``--no-cold``, the per-file variants are timed again "cold": every file is fsync'ed and
   dropped from the page cache with ``posix_fadvise(POSIX_FADV_DONTNEED)`` first, and each file is
   dropped again right after it is read, so every read misses the page cache (the virtual disk's
   host may still cache the data: compare the implied MB/s with the disk's). The store is in RAM
   (or GPU memory) either way; its one-off load is printed. The ratio rows are store crops/s over
   the best per-file crops/s, warm and cold; the goal is >= 20x. All variants are timed once per
   repeat, interleaved, ``--repeats`` (3) times, and the fastest of each is kept. A few store crops are checked
   against the ``.npy`` crops, which must agree exactly once rounded to float16.

Rows (benchmark, device, commit, date, figure, goal) are printed as a markdown table; with
``--append-results`` they are inserted after the last row of the table in ``--results-file``
(benchmarks/RESULTS.md). The commit is ``git rev-parse --short HEAD`` with ``-dirty`` when tracked
files differ from it.

Usage: ``python benchmarks/feature_speed.py [--files 16] [--seconds 30] [--items 512] [--frames 9400]
[--crop 1280] [--batch 64] [--store-batches 40] [--file-batches 8] [--repeats 3] [--workers 0,2]
[--mp3-files 4]
[--no-cold] [--cpu-only] [--machine "dev machine"] [--tmp-dir DIR] [--seed 0] [--append-results]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from benchmark_table import (
    Row,
    git_commit,
    report,
)  # beside this script (python benchmarks/NAME.py puts this folder on sys.path)
from torch.utils.data import DataLoader, Dataset, Sampler

from harness.features.extract import extract_many
from harness.features.store import FeatureStore, build_store
from harness.protocol.crops import CropGatherer, random_starts

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
SCRIPT = "`feature_speed.py`"
N_BINS = 96
RATES = {"mel96": 12_000, "stft-square": 22_050}


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


# --------------------------------------------------------------------------------------- extraction


def write_audio(
    directory: Path, n: int, seconds: float, rate: int, channels: int, fmt: str, seed: int
) -> list[tuple[str, Path]]:
    """``n`` files of noise plus a few tones, 16-bit WAV or MP3, as (item id, path)."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate), dtype=np.float32) / rate
    files = []
    for i in range(n):
        tones = sum(np.sin(2 * np.pi * f * t) for f in rng.uniform(50, min(5000, rate / 2.5), 3)).astype(np.float32)
        data = 0.2 * tones[:, None] + 0.05 * rng.standard_normal((t.size, channels), dtype=np.float32)
        path = directory / f"item{i:04d}.{fmt}"
        if fmt == "mp3":
            sf.write(path, data / 2, rate, format="MP3", subtype="MPEG_LAYER_III")
        else:
            sf.write(path, data / 2, rate, subtype="PCM_16")
        files.append((f"item{i:04d}", path))
    return files


def time_extraction(files: list[tuple[str, Path]], kind: str, device: str, repeats: int) -> float:
    """Fewest seconds of ``repeats`` runs consuming ``extract_many`` over ``files`` (after one untimed file)."""
    for _ in extract_many(files[:1], kind=kind, device=device):
        pass
    sync(device)
    best = float("inf")
    for _ in range(repeats):
        count = 0
        start = time.perf_counter()
        for _, feats in extract_many(files, kind=kind, device=device):
            count += feats.shape[1] > 0
        sync(device)
        best = min(best, time.perf_counter() - start)
        if count != len(files):
            raise SystemExit(f"extract_many yielded {count} items for {len(files)} files")
    return best


# ------------------------------------------------------------------------------------------- crops


def write_items(directory: Path, n: int, frames: int, seed: int) -> tuple[list[Path], Iterator[tuple[str, np.ndarray]]]:
    """Per-item float32 ``(96, T)`` ``.npy`` files, written as the returned iterator (for build_store) runs."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lengths = rng.integers(int(frames * 0.75), int(frames * 1.25) + 1, size=n)
    paths = [directory / f"item{i:05d}.npy" for i in range(n)]

    def items() -> Iterator[tuple[str, np.ndarray]]:
        for i, (length, path) in enumerate(zip(lengths, paths)):
            feats = rng.standard_normal((N_BINS, int(length)), dtype=np.float32) * 10 - 40
            np.save(path, feats)
            yield f"item{i:05d}", feats

    return paths, items()


class EpochSampler(Sampler[int]):
    """``n_batches * batch`` indices from consecutive random permutations of ``n`` items (seeded)."""

    def __init__(self, n: int, count: int, seed: int) -> None:
        self.n, self.count, self.seed = n, count, seed

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[int]:
        return iter(epoch_indices(self.n, self.count, self.seed).tolist())


def epoch_indices(n: int, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.permutation(n) for _ in range(-(-count // n))])[:count]


class NpyCrops(Dataset):
    """The seed code's way: load the whole ``(96, T)`` float32 file, slice one random crop.

    With ``evict``, the file is dropped from the page cache after it is read, so that the next read
    of it misses the cache too.
    """

    def __init__(self, paths: Sequence[Path], crop: int, evict: bool = False) -> None:
        self.paths, self.crop, self.evict = list(paths), crop, evict

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        mel = np.load(self.paths[index])
        if self.evict:
            drop_from_page_cache([self.paths[index]], sync_first=False)
        start = int(np.floor(np.random.random() * (mel.shape[1] - self.crop + 1)))
        return torch.from_numpy(np.array(mel[:, start : start + self.crop], dtype=np.float32))[None]


def time_npy(
    paths: Sequence[Path], crop: int, batch: int, n_batches: int, workers: int, seed: int, cold: bool
) -> float:
    """Seconds for ``n_batches`` batches after the first one."""
    if cold:
        drop_from_page_cache(paths)
    sampler = EpochSampler(len(paths), (n_batches + 1) * batch, seed)
    loader = DataLoader(NpyCrops(paths, crop, evict=cold), batch_size=batch, sampler=sampler, num_workers=workers)
    it = iter(loader)
    first = next(it)
    assert first.shape == (batch, 1, N_BINS, crop), first.shape
    start = time.perf_counter()
    done = sum(1 for _ in it)
    elapsed = time.perf_counter() - start
    assert done == n_batches, done
    return elapsed


def time_store(
    gatherer: CropGatherer, n_frames: np.ndarray, crop: int, batch: int, n_batches: int, seed: int, device: str
) -> float:
    """Seconds for ``n_batches`` gathered batches after the first one (positions drawn inside the clock)."""
    rows_all = epoch_indices(len(n_frames), (n_batches + 1) * batch, seed).reshape(n_batches + 1, batch)
    rng = np.random.default_rng(seed)
    first = gatherer.gather(rows_all[0], random_starts(n_frames[rows_all[0]], crop, rng))
    assert first.shape == (batch, 1, N_BINS, crop), first.shape
    sync(device)
    start = time.perf_counter()
    for rows in rows_all[1:]:
        out = gatherer.gather(rows, random_starts(n_frames[rows], crop, rng))
    sync(device)
    elapsed = time.perf_counter() - start
    del out
    return elapsed


def check_crops(store: FeatureStore, features: torch.Tensor, paths: Sequence[Path], crop: int, seed: int) -> float:
    """Max |store crop - .npy crop| over a few crops (float16 rounding of the store only)."""
    gatherer = CropGatherer(features, store.index.offsets, store.index.n_frames, crop, torch.device("cpu"))
    rng = np.random.default_rng(seed + 1)
    rows = rng.integers(0, len(paths), size=min(8, len(paths)))
    starts = random_starts(store.index.n_frames[rows], crop, rng)
    got = gatherer.gather(rows, starts).numpy()[:, 0]
    worst = 0.0
    for crop_got, row, s in zip(got, rows, starts):
        mel = np.load(paths[row])
        expected = mel[:, s : s + crop].astype(np.float16).astype(np.float32)
        worst = max(worst, float(np.max(np.abs(crop_got - expected))))
    return worst


def drop_from_page_cache(paths: Sequence[Path], sync_first: bool = True) -> None:
    """Evict the files' pages from the page cache (dirty pages are written first when ``sync_first``)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            if sync_first:
                os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


# -------------------------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=16, help="audio files per set (16)")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds per audio file (30)")
    parser.add_argument("--items", type=int, default=512, help="items for the crop benchmark (512)")
    parser.add_argument("--frames", type=int, default=9400, help="mean frames per item (9400)")
    parser.add_argument("--crop", type=int, default=1280)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--store-batches", type=int, default=40, help="store batches per timing (40)")
    parser.add_argument("--file-batches", type=int, default=8, help="per-file batches per timing (8)")
    parser.add_argument("--repeats", type=int, default=3, help="timings per variant, the fastest kept (3)")
    parser.add_argument("--workers", default="0,2", help="DataLoader num_workers to time, comma-separated (0,2)")
    parser.add_argument(
        "--mp3-files",
        type=int,
        default=4,
        help="44.1 kHz stereo MP3 files to time too, 0 for none (4; encoding is slow)",
    )
    parser.add_argument(
        "--cold", action=argparse.BooleanOptionalAction, default=True,
        help="also time per-file loading with every read missing the page cache (default: yes)",
    )  # fmt: skip
    parser.add_argument("--cpu-only", action="store_true", help="skip CUDA even when it is available")
    parser.add_argument("--machine", default="dev machine", help="label in the device column")
    parser.add_argument("--tmp-dir", type=Path, default=None, help="where to write the data (system temp)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--append-results", action="store_true", help="insert the rows into --results-file")
    parser.add_argument("--results-file", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.cold and not hasattr(os, "posix_fadvise"):
        print("no posix_fadvise on this system: the cold per-file variants are skipped")
        args.cold = False
    args.workers = [int(w) for w in str(args.workers).split(",") if w.strip()]
    if not args.workers:
        parser.error("--workers: give at least one value")
    for name in ("files", "items", "batch", "store_batches", "file_batches", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')}: must be at least 1")
    if args.frames * 0.75 < args.crop:
        parser.error("--frames: items must be longer than --crop (the shortest is 0.75 x --frames)")
    return args


def main(argv: Sequence[str] | None = None) -> list[Row]:
    args = parse_args(argv)
    commit, date = git_commit(), dt.date.today().isoformat()
    cpu_label = f"CPU, {os.cpu_count()} cores ({args.machine})"
    devices = [("cpu", cpu_label)]
    if torch.cuda.is_available() and not args.cpu_only:
        devices.append(("cuda", f"{torch.cuda.get_device_name()} + {cpu_label}"))
    rows: list[Row] = []

    def row(benchmark: str, device: str, figure: str, goal: str = "reported") -> None:
        rows.append(Row(f"{SCRIPT}: {benchmark}", device, commit, date, figure, goal))
        print(f"  {benchmark} [{device}]: {figure}", flush=True)

    print(
        f"torch {torch.__version__}, numpy {np.__version__}, soundfile {sf.__version__}, python "
        f"{platform.python_version()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch threads {torch.get_num_threads()}, CUDA {'yes: ' + devices[-1][1] if len(devices) > 1 else 'no'}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="feature_speed-", dir=args.tmp_dir) as tmp_name:
        tmp = Path(tmp_name)
        sets = [
            ("44.1 kHz stereo WAV", write_audio(tmp / "wav441", args.files, args.seconds, 44_100, 2, "wav", args.seed))
        ]
        if args.mp3_files > 0:
            t0 = time.perf_counter()
            mp3 = write_audio(tmp / "mp3", args.mp3_files, args.seconds, 44_100, 2, "mp3", args.seed)
            sets.append(("44.1 kHz stereo MP3", mp3))
            print(f"  (encoding {args.mp3_files} MP3 files took {time.perf_counter() - t0:.1f} s)")
        native = {
            kind: write_audio(tmp / f"native{rate}", args.files, args.seconds, rate, 1, "wav", args.seed)
            for kind, rate in RATES.items()
        }
        print(
            f"extraction: extract_many over files of {args.seconds:g} s of synthetic audio (in the page cache)",
            flush=True,
        )
        for device, label in devices:
            for kind, rate in RATES.items():
                kind_name = "stft-square K=257" if kind == "stft-square" else kind
                cases = [(name, files, f"decode + resample to {rate / 1000:g} kHz") for name, files in sets]
                cases.append((f"{rate / 1000:g} kHz mono WAV", native[kind], "decode, no resampling"))
                for name, files, what in cases:
                    seconds = time_extraction(files, kind, device, args.repeats)
                    audio_s = len(files) * args.seconds
                    row(
                        f"{kind_name} extraction, {len(files)} x {args.seconds:g} s {name} ({what} + transform, "
                        "extract_many end to end)",
                        label,
                        f"{audio_s / seconds:,.0f} audio-s/s ({seconds:.2f} s for {audio_s:g} s of audio, best of {args.repeats})",
                    )

        crop_desc = (
            f"{args.crop}-frame crops x {N_BINS} bins, batch {args.batch}, {args.items} items of ~{args.frames} frames"
        )
        print(f"crops: {crop_desc}", flush=True)
        t0 = time.perf_counter()
        paths, items = write_items(tmp / "npy", args.items, args.frames, args.seed)
        store = build_store(tmp / "store" / "mel96", "mel96", {"kind": "mel96", "synthetic": True}, items, args.items)
        print(f"  wrote {args.items} .npy files and the store in {time.perf_counter() - t0:.1f} s", flush=True)
        n_frames = np.asarray(store.index.n_frames)
        npy_mb = sum(p.stat().st_size for p in paths) / 1e6
        print(
            f"  .npy files: {npy_mb:,.0f} MB float32; store: {store.features.nbytes / 1e6:,.0f} MB float16", flush=True
        )

        t0 = time.perf_counter()
        features_cpu = store.to_tensor("cpu")
        load_s = {"cpu": time.perf_counter() - t0}
        worst = check_crops(store, features_cpu, paths, args.crop, args.seed)
        if worst > 0:
            raise SystemExit(f"store crops differ from the float16-rounded .npy crops by {worst:.3g}")
        gatherers = {}
        for device, _ in devices:
            if device == "cpu":
                features = features_cpu
            else:
                t0 = time.perf_counter()
                features = store.to_tensor(device)
                sync(device)
                load_s[device] = time.perf_counter() - t0
            gatherers[device] = CropGatherer(
                features, store.index.offsets, store.index.n_frames, args.crop, torch.device(device)
            )
        del features, features_cpu

        # every variant once per repeat, interleaved, so that a busy spell on a shared machine does not
        # fall on one variant only; the fastest of the repeats is kept
        variants = [("in the page cache", False)] + ([("read past the page cache", True)] if args.cold else [])
        store_s = {device: float("inf") for device, _ in devices}
        file_s = {(cache, workers): float("inf") for cache, _ in variants for workers in args.workers}
        for repeat in range(args.repeats):
            for device, _ in devices:
                seconds = time_store(
                    gatherers[device], n_frames, args.crop, args.batch, args.store_batches, args.seed + repeat, device
                )
                store_s[device] = min(store_s[device], seconds)
            for cache, cold in variants:
                for workers in args.workers:
                    seconds = time_npy(
                        paths, args.crop, args.batch, args.file_batches, workers, args.seed + repeat, cold
                    )
                    file_s[cache, workers] = min(file_s[cache, workers], seconds)
            print(f"  (repeat {repeat + 1} of {args.repeats} done)", flush=True)
        del gatherers

        best_of = f"best of {args.repeats}"
        store_rates: dict[str, float] = {}
        for device, label in devices:
            n, seconds = args.store_batches * args.batch, store_s[device]
            store_rates[label] = n / seconds
            row(
                f"crops from the store, CropGatherer over the whole store tensor on the "
                f"{'CPU' if device == 'cpu' else 'GPU'}, {crop_desc}",
                label,
                f"{n / seconds:,.0f} crops/s ({args.store_batches} batches in {seconds:.2f} s, {best_of}; tensor "
                f"loaded once in {load_s[device]:.2f} s, not counted; max abs diff vs the .npy crops {worst:.1e})",
            )
        mean_mb = npy_mb / len(paths)
        for cache, _ in variants:
            for workers in args.workers:
                n, seconds = args.file_batches * args.batch, file_s[cache, workers]
                row(
                    f"crops by per-file .npy loading (np.load whole float32 (96, T) file + random slice, "
                    f"DataLoader num_workers={workers}, files {cache}), {crop_desc}",
                    cpu_label,
                    f"{n / seconds:,.0f} crops/s ({args.file_batches} batches in {seconds:.2f} s, {best_of}; "
                    f"{n * mean_mb / seconds:,.0f} MB/s of .npy read)",
                )
        for cache, _ in variants:
            workers = min(args.workers, key=lambda w: file_s[cache, w])
            best = args.file_batches * args.batch / file_s[cache, workers]
            for label, rate in store_rates.items():
                row(
                    f"store vs per-file .npy loading (crops/s; .npy files {cache}, the faster of num_workers "
                    f"{','.join(map(str, args.workers))})",
                    label,
                    f"{rate / best:.1f}x ({rate:,.0f} vs {best:,.0f} crops/s, per-file num_workers={workers})",
                    ">= 20x",
                )

    report(rows, args.results_file, args.append_results)
    return rows


if __name__ == "__main__":
    main()
