"""A local sweep with ``--jobs 2`` against the same runs one after another, in one run of this script.

The grid: the two no-training baselines (``popular``, ``random``) x 8 seeds on the embedded ``toy``
dataset = 16 runs. The toy data and its mel96 store are prepared once first (not timed); then

- sequential: ``harness sweep run ... --jobs 1`` (the same job code, one worker);
- parallel: ``harness sweep run ... --jobs 2`` into a fresh runs folder and store;

each a cold process, wall time measured around it. Both record 16 runs; the script checks that the
two stores hold the same scores. The ratio is sequential / parallel: on 2 cores about 2x is
expected for runs that do no training (each run's work is loading the store, predicting and scoring).

Usage: ``python benchmarks/sweep_speed.py [--seeds 8] [--append-results]``
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmark_table import Row, git_commit, report  # beside this script

REPO = Path(__file__).resolve().parents[1]
SUBMISSIONS = ("submissions/popular", "submissions/random")


def harness(*args: str, env: dict[str, str]) -> float:
    """Run ``harness ARGS`` in a fresh process; its wall time in seconds (a failure stops the benchmark)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], cwd=REPO, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"harness {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds


def scores(store: Path) -> dict[tuple[str, str], float]:
    """(submission, seed) -> test PR-AUC-macro of every run in the store."""
    with sqlite3.connect(store) as conn:
        rows = conn.execute(
            "SELECT r.submission, r.seed, s.value FROM runs r JOIN scores s ON s.run_id = r.run_id "
            "WHERE s.metric = 'PR-AUC-macro'"
        ).fetchall()
    return {(sub, str(seed)): value for sub, seed, value in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=8, help="seeds per submission (16 runs with 8)")
    parser.add_argument("--append-results", action="store_true", help="append the row to benchmarks/RESULTS.md")
    args = parser.parse_args()
    seeds = ",".join(str(s) for s in range(args.seeds))
    n_runs = len(SUBMISSIONS) * args.seeds
    with tempfile.TemporaryDirectory(prefix="sweep_speed-") as tmp_name:
        tmp = Path(tmp_name)
        base = {**os.environ, "HARNESS_DATA": str(tmp / "data"), "HARNESS_SITE": str(tmp / "site")}
        print("preparing toy (not timed) ...", flush=True)
        harness("datasets", "prepare", "toy", env=base)
        timings, stores = {}, {}
        for jobs in (1, 2):
            runs = tmp / f"runs-{jobs}"
            env = {**base, "HARNESS_RUNS": str(runs), "HARNESS_STORE": str(runs / "results.sqlite")}
            grid = ["sweep", "run", *SUBMISSIONS, "--dataset", "toy", "--seeds", seeds, "--device", "cpu"]
            timings[jobs] = harness(*grid, "--jobs", str(jobs), "--sweep-dir", str(tmp / f"sweep-{jobs}"), env=env)
            stores[jobs] = scores(runs / "results.sqlite")
            print(f"--jobs {jobs}: {n_runs} runs in {timings[jobs]:.1f} s", flush=True)
        if len(stores[1]) != n_runs or stores[1] != stores[2]:
            raise SystemExit(f"the two sweeps recorded different runs or scores: {stores[1]} vs {stores[2]}")
    ratio = timings[1] / timings[2]
    cores = os.cpu_count()
    rows = [
        Row(
            f"`sweep_speed.py`: {n_runs}-run local sweep (popular and random x {args.seeds} seeds on toy, no training), "
            "`--jobs 2` vs `--jobs 1`, cold processes, store prepared first",
            f"CPU, {cores} cores (dev machine)",
            git_commit(),
            date.today().isoformat(),
            f"{ratio:.2f}x ({timings[2]:.1f} s vs {timings[1]:.1f} s; same 16 scores recorded)",
            "about 2x on 2 cores",
        )
    ]
    report(rows, REPO / "benchmarks" / "RESULTS.md", args.append_results)


if __name__ == "__main__":
    main()
