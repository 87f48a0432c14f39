"""Training speed of the shared protocol (issue 8, "GPU speed"): vgg6 on MTG-Jamendo split-0-shaped data.

Data: synthetic, with split-0's shapes scaled by ``--scale`` (default 1.0 on CUDA, 0.01 on the CPU):
``round(9949 x scale)`` train and ``round(3802 x scale)`` validation items of 96 mel bins, lengths
uniform in ``[0.64, 1.36] x --frames`` (9,400: 6,016-12,784 frames, the average MTG-Jamendo track
is about 9,400), float16 noise in one ``(total_frames, 96)`` tensor resident on the device (the
feature store's layout; on CUDA the whole ~25 GB at scale 1 lives in GPU memory), labels ~3%
positives over 56 tags. The model is the ``vgg6`` submission (2,764,794 parameters), its Adam (lr 1e-3,
built by the runner's ``make_optimizer``: fused on CUDA),
``--crop`` (1280) frame crops, ``--batch`` (64) items a step, bf16 autocast on CUDA, fp32 on the
CPU, ``torch.backends.cudnn.benchmark = True`` on CUDA.

Timed, in this one run (each after ``--warmup`` untimed steps, with ``torch.cuda.synchronize``
around every timed span on CUDA; every variant once per repeat, interleaved, ``--repeats`` times,
the fastest of each kept):

1. pure step: :func:`harness.protocol.loop.train_step` (forward + BCE + backward + Adam step, the step
   ``train_epoch`` takes) on one fixed batch gathered once, already on the device, ``--steps`` times;
2. end to end: :func:`harness.protocol.loop.train_epoch` over ``--steps x --batch`` train items
   (a random subset, drawn anew each repeat), crops gathered on the device by
   :class:`harness.protocol.crops.CropGatherer` -- shuffling, crop starts, gathering, the step and
   the epoch's loss read-back all counted. Row ``end-to-end / pure step``, goal >= 0.9;
3. per-file loading loop, the MTG-Jamendo baseline's data path: a torch ``Dataset`` whose
   ``__getitem__`` ``np.load``s a whole float32 ``(96, T)`` ``.npy`` file and slices one random
   ``--crop``-frame crop, through a ``DataLoader`` (batch ``--batch``, ``--workers`` workers, pinned
   memory on CUDA), each batch copied to the device and fed to the same step, ``--steps`` batches.
   Writing split-0's 9,949 files (~3.6 MB each, ~36 GB) is too much, so only ``--files`` files
   (256 on CUDA, 16 on the CPU) of the same length distribution are written, and crops are drawn
   from them with replacement; they were just written, so they are read from the page cache (which
   favours this loop). Row ``vs per-file loading loop``: end-to-end samples/s over this loop's,
   goal >= 20x;
4. model FLOP utilisation: the FLOPs of one training step (forward + backward, ``--batch`` items)
   counted by ``torch.utils.flop_counter.FlopCounterMode`` on the meta device (convolutions and
   matmuls; the optimizer and element-wise work are not counted), times the end-to-end steps/s,
   against the device's dense bf16 peak from :data:`PEAK_BF16_TFLOPS` (by GPU name; "peak unknown"
   otherwise; on the CPU achieved GFLOP/s without a peak);
5. wall time of ``--epochs`` (100) epochs of the full protocol, one random crop per train item and
   ``--eval-crops`` (10) crop validation (:func:`harness.protocol.loop.predict`, batch
   ``--eval-batch``: 256 on CUDA, 16 on the CPU, as the runner uses) each epoch, projected from the
   measured rates: train items / end-to-end samples/s + validation crops / validation crops/s +
   per-epoch bookkeeping (the runner's ``selection_value``: the official keys of the validation
   predictions, selecting on PR-AUC-macro; two checkpoint saves and the log line, through the run
   directory's own ``save_checkpoint`` and ``append_log``, timed here), times the epochs, plus one ``eval_crops_test`` (20) crop
   prediction of the test split (``round(4231 x scale)`` items) at the validation rate. Validation
   crops/s are measured on ``--val-items`` items (0: the whole validation split; 2 on the CPU).
   With ``--full-epochs N``, N full epochs (train_epoch over every train item + predict over every
   validation item) are also run, timed, and projected to ``--epochs``; the first includes any
   cuDNN autotuning left for the epoch's last, smaller batch. Goal: under 5 minutes on one H100.

Rows (benchmark, device, commit, date, figure, goal) are printed as a markdown table; with
``--append-results`` they are inserted after the last table row of ``--results-file``
(benchmarks/RESULTS.md). The commit is ``git rev-parse --short HEAD`` with ``-dirty`` when tracked
files differ from it. Rows measured away from the goal's setting (the CPU, or a scale or batch other
than split-0's and 64) say so in their figure.

Usage: ``python benchmarks/train_speed.py [--device auto|cpu|cuda] [--scale S] [--frames 9400]
[--crop 1280] [--batch 64] [--steps N] [--warmup N] [--repeats N] [--files N] [--workers N]
[--eval-batch N] [--eval-crops 10] [--val-items N] [--epochs 100] [--full-epochs N]
[--machine "dev machine"] [--tmp-dir DIR] [--seed 0] [--append-results] [--results-file PATH]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from benchmark_table import (
    Row,
    git_commit,
    report,
)  # beside this script (python benchmarks/NAME.py puts this folder on sys.path)
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode

from harness.protocol.crops import CropGatherer
from harness.protocol.fit import selection_value
from harness.protocol.loop import predict, train_epoch, train_step
from harness.results.rundir import RunDirectory
from harness.submissions import load_submission, make_optimizer

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
SCRIPT = "`train_speed.py`"
SUBMISSION = "vgg6"
N_TRAIN, N_VALIDATION, N_TEST = 9949, 3802, 4231  # MTG-Jamendo moodtheme split-0
N_TAGS, N_BINS = 56, 96
POSITIVE_RATE = 0.03  # ~1.7 tags per track over 56
LENGTH_SPREAD = 0.36  # lengths uniform in [0.64, 1.36] x --frames: 6,016-12,784 for 9,400
TEST_CROPS = 20  # eval_crops_test of mtg-jamendo-moodtheme
GOAL_MINUTES = 5.0

# Dense (no sparsity) bf16 tensor-core peaks in TFLOP/s, from NVIDIA's data sheets; matched in order
# against torch.cuda.get_device_name() (all of the words must appear, case-insensitive).
# None: a variant whose peak differs from its family's (NVL parts), reported as "peak unknown".
PEAK_BF16_TFLOPS: list[tuple[tuple[str, ...], float | None, str]] = [
    (("nvl",), None, "NVL"),
    (("h100", "pcie"), 756.0, "H100 PCIe"),
    (("h100", "hbm3"), 989.0, "H100 SXM"),
    (("h100", "sxm"), 989.0, "H100 SXM"),
    (("h200",), 989.0, "H200"),
    (("a100",), 312.0, "A100"),
]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_bf16(name: str) -> tuple[float, str] | None:
    lowered = name.lower()
    for words, tflops, label in PEAK_BF16_TFLOPS:
        if all(word in lowered for word in words):
            return None if tflops is None else (tflops, label)
    return None


def _minutes(seconds: float) -> str:
    """Minutes with enough digits that a short (smoke-test) run does not print 0.0."""
    minutes = seconds / 60
    return f"{minutes:,.1f}" if minutes >= 1 else f"{minutes:.3g}"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# --------------------------------------------------------------------------------------------- data


@dataclass
class Data:
    features: torch.Tensor  # (total_frames, bins) float16 on the device
    offsets: np.ndarray
    n_frames: np.ndarray
    train_rows: np.ndarray
    val_rows: np.ndarray
    labels: torch.Tensor  # (items, tags) float32 on the device, row i = item i


def lengths(n: int, frames: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(round(frames * (1 - LENGTH_SPREAD)), round(frames * (1 + LENGTH_SPREAD)) + 1, size=n)


def make_data(n_train: int, n_val: int, frames: int, device: torch.device, seed: int) -> Data:
    rng = np.random.default_rng(seed)
    n_frames = lengths(n_train + n_val, frames, rng).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(n_frames)[:-1]]).astype(np.int64)
    total = int(n_frames.sum())
    features = torch.empty((total, N_BINS), dtype=torch.float16, device=device)
    generator = torch.Generator(device=device).manual_seed(seed)
    chunk = max(1, (1 << 26) // N_BINS)  # 64 Mi values at a time
    for begin in range(0, total, chunk):
        features[begin : begin + chunk].normal_(generator=generator)
    labels = torch.from_numpy((rng.random((n_train + n_val, N_TAGS)) < POSITIVE_RATE).astype(np.float32)).to(device)
    rows = np.arange(n_train + n_val, dtype=np.int64)
    return Data(features, offsets, n_frames, rows[:n_train], rows[n_train:], labels)


def write_files(directory: Path, n: int, frames: int, seed: int) -> tuple[list[str], np.ndarray]:
    """``n`` float32 ``(96, T)`` ``.npy`` files with the data's length distribution."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed + 1)
    n_frames = lengths(n, frames, rng)
    paths = []
    for i, length in enumerate(n_frames):
        path = directory / f"item{i:05d}.npy"
        np.save(path, rng.standard_normal((N_BINS, int(length)), dtype=np.float32))
        paths.append(str(path))
    return paths, n_frames


class NpyCrops(Dataset):
    """The MTG-Jamendo baseline's way: load the whole ``(96, T)`` float32 file, slice one random crop.

    Item ``i`` is file ``files[i]`` at ``starts[i]`` (drawn up front, with replacement, from a seeded
    generator), with label row ``labels[i]``.
    """

    def __init__(self, paths: list[str], files: np.ndarray, starts: np.ndarray, labels: np.ndarray, crop: int) -> None:
        self.paths, self.files, self.starts, self.labels, self.crop = paths, files, starts, labels, crop

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        npy = np.load(self.paths[self.files[i]])
        start = int(self.starts[i])
        crop = np.array(npy[:, start : start + self.crop])
        return torch.from_numpy(crop), torch.from_numpy(self.labels[i])


# ------------------------------------------------------------------------------------------- timing


def time_pure(model, optimizer, x, y, steps: int, device: torch.device, precision: str) -> float:
    model.train()
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        train_step(model, optimizer, x, y, precision)
    sync(device)
    return time.perf_counter() - start


def time_end_to_end(model, optimizer, gatherer, data: Data, rows: np.ndarray, args, rng, precision: str) -> float:
    """Seconds of :func:`train_epoch` over ``rows`` (positions into ``data``)."""
    n_frames = data.n_frames[rows]
    labels = data.labels[torch.as_tensor(rows, device=data.labels.device)]
    sync(gatherer.device)
    start = time.perf_counter()
    loss = train_epoch(model, optimizer, gatherer, rows, n_frames, labels, args.crop, args.batch, rng, precision)
    sync(gatherer.device)
    seconds = time.perf_counter() - start
    if not math.isfinite(loss):
        raise SystemExit(f"training loss is {loss}")
    return seconds


def time_per_file(model, optimizer, paths, file_frames, labels_np, args, device, precision, seed: int) -> float:
    """Seconds of ``--steps`` steps fed by the per-file DataLoader, after ``--warmup`` untimed ones."""
    rng = np.random.default_rng(seed)
    n = (args.warmup + args.steps) * args.batch
    files = rng.integers(0, len(paths), size=n)
    starts = rng.integers(0, np.maximum(file_frames[files] - args.crop, 0) + 1)
    labels = labels_np[rng.integers(0, len(labels_np), size=n)]
    loader = DataLoader(
        NpyCrops(paths, files, starts, labels, args.crop),
        batch_size=args.batch,
        shuffle=False,
        num_workers=args.workers,
        pin_memory=device.type == "cuda",
        drop_last=True,
    )
    batches = iter(loader)
    model.train()

    def step() -> None:
        x, y = next(batches)  # noqa: F821 (deleted after its last step)
        x = x.to(device, non_blocking=True).unsqueeze(1).contiguous(memory_format=torch.channels_last)
        train_step(model, optimizer, x, y.to(device, non_blocking=True), precision)

    for _ in range(args.warmup):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync(device)
    seconds = time.perf_counter() - start
    del batches, loader  # workers stop
    return seconds


def time_predict(model, gatherer, data: Data, rows: np.ndarray, args, precision: str) -> float:
    sync(gatherer.device)
    start = time.perf_counter()
    scores = predict(model, gatherer, rows, data.n_frames[rows], args.crop, args.eval_crops, args.eval_batch, precision)
    sync(gatherer.device)
    seconds = time.perf_counter() - start
    if scores.shape != (len(rows), N_TAGS) or not np.isfinite(scores).all():
        raise SystemExit(f"predict returned {scores.shape} scores, not all finite")
    return seconds


def time_bookkeeping(model, optimizer, n_val: int, directory: Path, repeats: int, seed: int) -> float:
    """Median seconds of one epoch's bookkeeping: PR-AUC-macro on validation, two checkpoint saves and the log line."""
    rng = np.random.default_rng(seed)
    n_val = max(n_val, 2)
    labels = rng.random((n_val, N_TAGS)) < POSITIVE_RATE
    labels[0], labels[1] = True, False  # every tag has a positive and a negative
    scores = rng.random((n_val, N_TAGS)).astype(np.float32)
    rundir = RunDirectory(directory / "run")
    times = []
    for epoch in range(repeats):
        start = time.perf_counter()
        metric = selection_value(labels, scores, "PR-AUC-macro")  # what the runner does each epoch
        checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "best_validation": scores}
        for name in ("best", "last"):
            rundir.save_checkpoint(name, checkpoint)
        rundir.append_log({"epoch": epoch + 1, "validation_PR-AUC-macro": metric})
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def count_step_flops(batch: int, crop: int) -> int:
    """FLOPs of one training step's forward and backward, on the meta device (no compute)."""
    with torch.device("meta"):
        model = load_submission(SUBMISSION).build(N_TAGS)
        x = torch.empty((batch, 1, N_BINS, crop))
    with FlopCounterMode(display=False) as counter:
        model(x).float().sum().backward()
    return int(counter.get_total_flops())


# --------------------------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument(
        "--scale", type=float, default=None, help="fraction of split-0's item counts (1.0 on CUDA, 0.01 on the CPU)"
    )
    parser.add_argument("--frames", type=int, default=9400, help="mean item length in frames")
    parser.add_argument("--crop", type=int, default=1280)
    parser.add_argument("--batch", type=int, default=None, help="training batch (64; 8 on the CPU)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per variant (100; 3 on the CPU)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (20; 1 on the CPU)")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved repeats, fastest kept (3; 1 on the CPU)")
    parser.add_argument("--files", type=int, default=None, help=".npy files for the per-file loop (256; 16 on the CPU)")
    parser.add_argument(
        "--workers", type=int, default=min(8, os.cpu_count() or 1), help="DataLoader workers of the per-file loop"
    )
    parser.add_argument("--eval-batch", type=int, default=None, help="predict batch (256 on CUDA, 16 on the CPU)")
    parser.add_argument("--eval-crops", type=int, default=10, help="validation crops per item")
    parser.add_argument(
        "--val-items", type=int, default=None, help="validation items timed by predict (0: all; 2 on the CPU)"
    )
    parser.add_argument("--epochs", type=int, default=100, help="epochs of the projected protocol")
    parser.add_argument(
        "--full-epochs", type=int, default=0, help="also run this many full epochs and project from them"
    )
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    parser.add_argument("--machine", default="dev machine", help="label of the CPU in the device column")
    parser.add_argument("--tmp-dir", type=Path, default=None, help="where to write the .npy files (system temp)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--append-results", action="store_true", help="insert the rows into --results-file")
    parser.add_argument("--results-file", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here")
    cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    args.device = torch.device("cuda" if cuda else "cpu")
    defaults = {  # name: (CUDA, CPU)
        "scale": (1.0, 0.01),
        "batch": (64, 8),
        "steps": (100, 3),
        "warmup": (20, 1),
        "repeats": (3, 1),
        "files": (256, 16),
        "eval_batch": (256, 16),
        "val_items": (0, 2),
    }
    for name, (on_cuda, on_cpu) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, on_cuda if cuda else on_cpu)
    if args.precision == "auto":
        args.precision = "bf16" if cuda and torch.cuda.is_bf16_supported() else "fp32"
    if args.scale <= 0:
        parser.error("--scale: must be positive")
    for name in ("batch", "steps", "repeats", "files", "eval_batch", "eval_crops", "epochs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')}: must be at least 1")
    for name in ("warmup", "workers", "val_items", "full_epochs"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')}: must be at least 0")
    if args.batch < 2:
        parser.error("--batch: at least 2 (batch-norm)")
    if round(args.frames * (1 - LENGTH_SPREAD)) < args.crop:
        parser.error(f"--frames: the shortest item ({1 - LENGTH_SPREAD:g} x --frames) must be at least --crop")
    return args


def main(argv: Sequence[str] | None = None) -> list[Row]:
    args = parse_args(argv)
    device, precision = args.device, args.precision
    commit, date = git_commit(), dt.date.today().isoformat()
    cores = os.cpu_count()
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        gpu = torch.cuda.get_device_name(device)
        label = f"{gpu}, {precision}"
    else:
        gpu = None
        label = f"CPU, {cores} cores ({args.machine}), {precision}"
    n_train = max(2, round(N_TRAIN * args.scale))
    n_val = max(1, round(N_VALIDATION * args.scale))
    n_test = max(1, round(N_TEST * args.scale))
    goal_setting = device.type == "cuda" and args.scale == 1.0 and args.batch == 64 and args.crop == 1280
    if device.type == "cpu":
        caveat = f"; CPU, small size (scale {args.scale:g}, batch {args.batch}), not the goal's setting"
    elif not goal_setting:
        caveat = f"; scale {args.scale:g}, batch {args.batch}, crop {args.crop}: not the goal's setting"
    else:
        caveat = ""
    rows: list[Row] = []

    def row(benchmark: str, figure: str, goal: str = "reported") -> None:
        rows.append(Row(f"{SCRIPT}: {benchmark}", label, commit, date, figure + caveat, goal))
        print(f"  {benchmark}: {figure}", flush=True)

    print(
        f"torch {torch.__version__}, numpy {np.__version__}, python {platform.python_version()}, "
        f"{platform.processor() or platform.machine()}, {cores} CPUs, torch threads {torch.get_num_threads()}, "
        f"device {label}",
        flush=True,
    )
    t0 = time.perf_counter()
    data = make_data(n_train, n_val, args.frames, device, args.seed)
    sync(device)
    gib = data.features.numel() * 2 / 2**30
    print(
        f"data: {n_train:,} train + {n_val:,} validation items (scale {args.scale:g}), "
        f"{int(data.n_frames.sum()):,} frames x {N_BINS} bins float16 = {gib:.2f} GiB on {device.type}, "
        f"made in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    torch.manual_seed(args.seed)
    submission = load_submission(SUBMISSION)
    model = submission.build(N_TAGS).to(device, memory_format=torch.channels_last)  # as the runner
    optimizer = make_optimizer(submission.spec, list(model.parameters()))  # vgg6's Adam, fused on CUDA
    gatherer = CropGatherer(data.features, data.offsets, data.n_frames, args.crop, device)
    rng = np.random.default_rng(args.seed)
    labels_np = data.labels.cpu().numpy()

    # the fixed batch of the pure step: gathered once, on the device
    fixed = rng.choice(data.train_rows, size=args.batch, replace=args.batch > n_train)
    fixed_starts = rng.integers(0, np.maximum(data.n_frames[fixed] - args.crop, 0) + 1)
    x_fixed = gatherer.gather(fixed, fixed_starts)
    y_fixed = data.labels[torch.as_tensor(fixed, device=device)]

    def subset(count: int) -> np.ndarray:
        return rng.choice(data.train_rows, size=count, replace=count > n_train)  # noqa: F821 (deleted after its last use)

    with tempfile.TemporaryDirectory(prefix="train_speed-", dir=args.tmp_dir) as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        paths, file_frames = write_files(tmp / "npy", args.files, args.frames, args.seed)
        file_mb = sum(os.path.getsize(p) for p in paths) / 1e6
        print(
            f"per-file loop: wrote {args.files} .npy files ({file_mb:,.0f} MB float32) in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )

        # warm-up (cuDNN autotuning, allocator, first calls) outside every timing
        t0 = time.perf_counter()
        for _ in range(args.warmup):
            train_step(model, optimizer, x_fixed, y_fixed, precision)
        remainder = n_train % args.batch if args.full_epochs else 0
        warm_rows = args.warmup * args.batch + (remainder if remainder >= 2 else 0)
        if warm_rows:
            time_end_to_end(model, optimizer, gatherer, data, subset(warm_rows), args, rng, precision)
        sync(device)
        print(
            f"warm-up: {args.warmup} pure and {warm_rows} end-to-end items in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )

        pure_s = e2e_s = file_s = float("inf")
        n = args.steps * args.batch
        for repeat in range(args.repeats):
            pure_s = min(pure_s, time_pure(model, optimizer, x_fixed, y_fixed, args.steps, device, precision))
            e2e_s = min(e2e_s, time_end_to_end(model, optimizer, gatherer, data, subset(n), args, rng, precision))
            file_s = min(
                file_s,
                time_per_file(
                    model, optimizer, paths, file_frames, labels_np, args, device, precision, args.seed + repeat
                ),
            )
            print(
                f"  repeat {repeat + 1} of {args.repeats}: best so far pure {n / pure_s:,.1f}, end to end "
                f"{n / e2e_s:,.1f}, per-file {n / file_s:,.1f} samples/s",
                flush=True,
            )

        # validation crops/s through predict
        val_rows = data.val_rows if args.val_items == 0 or args.val_items >= n_val else data.val_rows[: args.val_items]
        warm_val = val_rows if device.type == "cuda" else val_rows[:1]
        time_predict(model, gatherer, data, warm_val, args, precision)
        val_s = min(time_predict(model, gatherer, data, val_rows, args, precision) for _ in range(args.repeats))
        val_crops = len(val_rows) * args.eval_crops
        bookkeeping_s = time_bookkeeping(model, optimizer, n_val, tmp, 3, args.seed)

        full = []
        for epoch in range(args.full_epochs):
            train_s = time_end_to_end(model, optimizer, gatherer, data, data.train_rows, args, rng, precision)
            epoch_val_s = time_predict(model, gatherer, data, data.val_rows, args, precision)
            full.append((train_s, epoch_val_s))
            print(
                f"  full epoch {epoch + 1} of {args.full_epochs}: train {train_s:.2f} s, validation {epoch_val_s:.2f} s",
                flush=True,
            )

    del data, gatherer, x_fixed
    pure_rate, e2e_rate, file_rate = n / pure_s, n / e2e_s, n / file_s
    val_rate = val_crops / val_s
    best = f"best of {args.repeats}"
    size = f"vgg6, batch {args.batch}, {args.crop}-frame crops"

    row(
        f"end-to-end / pure step (training samples/s: train_epoch with the whole feature array on the device and "
        f"crops gathered there, vs forward + backward + Adam step on one pre-gathered batch on the device; {size})",
        f"{e2e_rate / pure_rate:.2f} ({e2e_rate:,.1f} vs {pure_rate:,.1f} samples/s, {plural(args.steps, 'step')} each after "
        f"{args.warmup} warm-up, {best})",
        ">= 0.9",
    )
    row(
        f"end to end vs per-file loading loop (training samples/s; per-file: DataLoader num_workers={args.workers}, "
        f"np.load of a whole float32 (96, T) .npy + random {args.crop}-frame slice per crop, batches copied to the "
        f"device, same step; {args.files} files written, not split-0's 9,949 (~36 GB), crops drawn from them with "
        f"replacement, files in the page cache; {size})",
        f"{e2e_rate / file_rate:.1f}x ({e2e_rate:,.1f} vs {file_rate:,.1f} samples/s, {plural(args.steps, 'step')} each, {best})",
        ">= 20x",
    )

    step_flops = count_step_flops(args.batch, args.crop)
    achieved = step_flops / args.batch * e2e_rate  # FLOP/s
    flops_note = (
        f"{step_flops / args.batch / 1e9:.2f} GFLOP per training sample (forward + backward, FlopCounterMode), "
        f"at the end-to-end {e2e_rate:,.1f} samples/s"
    )
    if device.type == "cuda":
        peak = peak_bf16(gpu)
        if peak is None:
            figure = f"{achieved / 1e12:,.1f} TFLOP/s {precision} achieved, peak unknown for {gpu} ({flops_note})"
        else:
            figure = (
                f"{achieved / 1e12 / peak[0]:.1%} MFU ({achieved / 1e12:,.1f} TFLOP/s {precision} achieved of the "
                f"{peak[1]}'s {peak[0]:g} TFLOP/s dense bf16 peak; {flops_note})"
            )
    else:
        figure = f"{achieved / 1e9:,.1f} GFLOP/s {precision} achieved, no peak for the CPU ({flops_note})"
    row(f"model FLOP utilisation of the end-to-end training loop ({size})", figure)

    epoch_train_s = n_train / e2e_rate
    epoch_val_s = n_val * args.eval_crops / val_rate
    test_s = n_test * TEST_CROPS / val_rate
    total_s = args.epochs * (epoch_train_s + epoch_val_s + bookkeeping_s) + test_s
    val_what = "the whole validation split" if len(val_rows) == n_val else plural(len(val_rows), "validation item")
    protocol = (
        f"{args.epochs} epochs of the full protocol ({n_train:,} train items, one random crop each, + {args.eval_crops}-crop "
        f"validation of {n_val:,} items each epoch, + {TEST_CROPS}-crop test of {n_test:,} items once; {size}, "
        f"eval batch {args.eval_batch})"
    )
    goal = f"< {GOAL_MINUTES:g} min on one H100"
    row(
        f"wall time of {protocol}, projected from measured rates",
        f"{_minutes(total_s)} min projected ({args.epochs} x ({epoch_train_s:.2f} s train at {e2e_rate:,.1f} samples/s + "
        f"{epoch_val_s:.2f} s validation at {val_rate:,.1f} crops/s measured by predict on {val_what}, {best} + "
        f"{bookkeeping_s:.3f} s validation scores, two checkpoint saves and the log line) + {test_s:.1f} s test)",
        goal,
    )
    if full:
        train_mean = float(np.mean([t for t, _ in full]))
        val_mean = float(np.mean([v for _, v in full]))
        full_total = args.epochs * (train_mean + val_mean + bookkeeping_s) + n_test * TEST_CROPS / (
            n_val * args.eval_crops / val_mean
        )
        row(
            f"wall time of {protocol}, projected from {plural(len(full), 'full epoch')} run",
            f"{_minutes(full_total)} min projected ({args.epochs} x ({train_mean:.2f} s train + {val_mean:.2f} s "
            f"validation, mean of {plural(len(full), 'full epoch')} run, the first included, + {bookkeeping_s:.3f} s "
            f"bookkeeping) + test at the epochs' validation rate)",
            goal,
        )

    report(rows, args.results_file, args.append_results)
    return rows


if __name__ == "__main__":
    main()
