"""Vectorised bootstrap vs calling scikit-learn once per replicate, on a MediaEval-sized file.

Data: a synthetic 4231 x 56 file (the shape of MTG-Jamendo moodtheme split-0 test), about 5%
positives per tag, float32 scores that rank positives a little higher (seeded).

Timed, in this one run:

- vectorised: :func:`harness.metrics.bootstrap.bootstrap_replicates` for ``--replicates`` (1000)
  replicates, drawing the resamples included; the median of ``--repeats`` (3) runs, since one run
  takes under a second and a shared machine makes single timings noisy;
- scikit-learn: for each replicate, ``roc_auc_score`` and/or ``average_precision_score`` with
  ``average="macro"`` on ``labels[idx], scores[idx]`` (the calls of the official scorer, over the
  tags it keeps). Only ``--sklearn-replicates`` (50) replicates are timed -- the same first 50 --
  and the time is scaled linearly to ``--replicates``; the table says so.

The values of the timed scikit-learn replicates are compared with the vectorised ones (max absolute
difference printed; it must be < 1e-9). The ratio ``vectorised vs scikit-learn`` is scikit-learn's
(scaled) time over the vectorised time; the goal is >= 20x.

Usage: ``python benchmarks/bootstrap_speed.py [--replicates 1000] [--sklearn-replicates 50]
[--repeats 3] [--seed 0]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from harness.metrics.bootstrap import bootstrap_replicates, resample_indices

N_ITEMS, N_TAGS, POSITIVE_RATE = 4231, 56, 0.05


def synthetic_file(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.random((N_ITEMS, N_TAGS)) < POSITIVE_RATE
    scores = (rng.random((N_ITEMS, N_TAGS)) + 0.3 * labels).astype(np.float32)
    return labels, scores


def sklearn_replicate(labels: np.ndarray, scores: np.ndarray, key: str) -> float:
    """One replicate as the official scorer computes it: macro over the tags it keeps."""
    positives = labels.sum(axis=0)
    if key == "PR-AUC-macro":
        keep = positives > 0
        return float(average_precision_score(labels[:, keep], scores[:, keep], average="macro"))
    keep = (positives > 0) & (positives < labels.shape[0])
    return float(roc_auc_score(labels[:, keep], scores[:, keep], average="macro"))


def time_sklearn(labels, scores, indices, keys) -> tuple[float, dict[str, np.ndarray]]:
    values = {k: np.empty(len(indices)) for k in keys}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r, idx in enumerate(indices):
            y, s = labels[idx], scores[idx]
            for key in keys:
                values[key][r] = sklearn_replicate(y, s, key)
    return time.perf_counter() - start, values


def time_vectorised(labels, scores, n, seed, keys, repeats=1) -> tuple[float, dict[str, np.ndarray]]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        reps = bootstrap_replicates(labels, scores, n=n, seed=seed, keys=keys)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), reps.values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--sklearn-replicates", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n, m = args.replicates, min(args.sklearn_replicates, args.replicates)

    labels, scores = synthetic_file(args.seed)
    indices = resample_indices(N_ITEMS, m, args.seed)  # the first m replicates of the n
    # warm-up (imports, caches) outside the timings
    time_vectorised(labels, scores, 2, args.seed, ["PR-AUC-macro", "ROC-AUC-macro"])
    time_sklearn(labels, scores, indices[:1], ["PR-AUC-macro", "ROC-AUC-macro"])

    print(
        f"bootstrap on a synthetic {N_ITEMS} x {N_TAGS} file, {labels.mean():.1%} positives; "
        f"{n} replicates (vectorised: median of {args.repeats} runs); "
        f"scikit-learn timed on {m} replicates and scaled x{n / m:g}"
    )
    print(
        f"numpy {np.__version__}, python {platform.python_version()}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    )
    header = (
        f"{'keys':<30} {'vectorised (s)':>15} {'scikit-learn (s)':>17} "
        f"{'vectorised vs scikit-learn':>27} {'max |diff|':>11}"
    )
    print(header)
    print("-" * len(header))
    for keys in (["PR-AUC-macro"], ["ROC-AUC-macro"], ["PR-AUC-macro", "ROC-AUC-macro"]):
        t_vec, vec = time_vectorised(labels, scores, n, args.seed, keys, args.repeats)
        t_sk, ref = time_sklearn(labels, scores, indices, keys)
        t_sk_scaled = t_sk * n / m
        diff = max(float(np.max(np.abs(vec[k][:m] - ref[k]))) for k in keys)
        print(f"{' + '.join(keys):<30} {t_vec:>15.3f} {t_sk_scaled:>17.2f} {t_sk_scaled / t_vec:>26.1f}x {diff:>11.1e}")
        if diff > 1e-9:
            raise SystemExit(f"values differ from scikit-learn by {diff:.3g} (> 1e-9)")


if __name__ == "__main__":
    main()
