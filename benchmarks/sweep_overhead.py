"""Per-job overhead of the Slurm sweep path (submitit job arrays), on the Slurm this machine can reach.

Measured in this one run, each the median of ``--repeats`` (5):

- submission to start: from ``executor.submit(time.time)`` (one ``sbatch``) to the job's function
  starting on the node (the clock value the job returns; one host, so one clock);
- a trivial job's total through ``launch_slurm`` (one-job array; the job returns a done
  :class:`JobResult` without running anything): from the call to its return, which includes
  the launcher's 1 s state polling;
- ``--array`` (8) trivial jobs through one ``launch_slurm`` call: wall time, and per job.

Where ``sinfo`` answers, that Slurm is used (``--partition`` to pick one). Otherwise, as root with
Debian's ``slurmctld slurmd slurm-client munge`` installed, the tests' single-node Slurm
(``tests/sweep/slurm_cluster.py``: ``sched_interval=1``) is started for the run and stopped after.
Otherwise the benchmark prints why and exits 0 without a row.

Usage: ``python benchmarks/sweep_overhead.py [--repeats 5] [--array 8] [--append-results]``
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmark_table import Row, git_commit, report  # beside this script

from harness.sweep.jobs import JobResult, SweepJob
from harness.sweep.slurm import SlurmOptions, launch_slurm

REPO = Path(__file__).resolve().parents[1]
GOAL = "seconds per job, small against a training run (minutes)"


def slurm_answers() -> bool:
    if shutil.which("sinfo") is None:
        return False
    done = subprocess.run(["sinfo", "-h"], capture_output=True, text=True, timeout=30)
    return done.returncode == 0 and bool(done.stdout.strip())


def trivial_jobs(n: int, work: Path) -> list[SweepJob]:
    return [
        SweepJob("trivial", "none", "none", seed, None, "cpu", 1, str(work / "runs"), None, False) for seed in range(n)
    ]


# the job "runs" by building its own done result: picklable (a partial of a class), nothing trained
TRIVIAL = functools.partial(JobResult, ok=True, run_dir=None, error=None, log=None)


def measure(work: Path, partition: str | None, repeats: int, array: int) -> dict[str, float]:
    import submitit

    executor = submitit.AutoExecutor(folder=work / "direct" / "%j", cluster="slurm")
    executor.update_parameters(timeout_min=5, **({"slurm_partition": partition} if partition else {}))
    to_start = []
    for _ in range(repeats):
        submitted = time.time()
        job = executor.submit(time.time)
        to_start.append(job.result() - submitted)
    options = SlurmOptions(partition=partition, time_min=5)
    totals = []
    for i in range(repeats):
        start = time.perf_counter()
        [result] = launch_slurm(trivial_jobs(1, work), work / f"one-{i}", options, lambda *_: None, function=TRIVIAL)
        totals.append(time.perf_counter() - start)
        assert result.ok, result.error
    start = time.perf_counter()
    results = launch_slurm(trivial_jobs(array, work), work / "array", options, lambda *_: None, function=TRIVIAL)
    array_wall = time.perf_counter() - start
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    return {
        "to_start": statistics.median(to_start),
        "to_start_min": min(to_start),
        "to_start_max": max(to_start),
        "total": statistics.median(totals),
        "array_wall": array_wall,
    }


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--array", type=int, default=8, help="trivial jobs in the one-array measurement")
    parser.add_argument("--partition", default=None)
    parser.add_argument("--tmp-dir", type=Path, default=None)
    parser.add_argument("--machine", default=f"CPU, {os.cpu_count()} cores")
    parser.add_argument("--append-results", action="store_true")
    parser.add_argument("--results-file", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="sweep_overhead-", dir=args.tmp_dir))
    cluster = None
    try:
        if slurm_answers():
            where, partition = "this machine's Slurm", args.partition
        else:
            sys.path.insert(0, str(REPO / "tests" / "sweep"))
            from slurm_cluster import ClusterUnavailable, start_cluster

            try:
                cluster = start_cluster(work / "cluster")
            except ClusterUnavailable as error:
                print(f"skipped: no Slurm here and the test Slurm cannot start: {error}")
                return []
            os.environ["SLURM_CONF"] = str(cluster.conf)
            where, partition = f"the tests' single-node Slurm ({cluster.node}, sched_interval=1)", "debug"
        timed = measure(work, partition, args.repeats, args.array)
    finally:
        if cluster is not None:
            from slurm_cluster import stop_cluster

            stop_cluster(cluster)
        shutil.rmtree(work, ignore_errors=True)

    print(f"Slurm path on {where}, median of {args.repeats}")
    context = f"{where}; median of {args.repeats}"
    commit, today = git_commit(), date.today().isoformat()
    rows = [
        Row(
            "`sweep_overhead.py`: Slurm job submission to start (submitit `submit`, one sbatch, to the function "
            "starting on the node)",
            args.machine,
            commit,
            today,
            f"{timed['to_start']:.2f} s (min {timed['to_start_min']:.2f}, max {timed['to_start_max']:.2f}; {context})",
            GOAL,
        ),
        Row(
            "`sweep_overhead.py`: a trivial job's total through `launch_slurm` (submit, run, result read; 1 s polling)",
            args.machine,
            commit,
            today,
            f"{timed['total']:.2f} s ({context})",
            GOAL,
        ),
        Row(
            f"`sweep_overhead.py`: {args.array} trivial jobs as one array through `launch_slurm`",
            args.machine,
            commit,
            today,
            f"{timed['array_wall']:.2f} s, {timed['array_wall'] / args.array:.2f} s per job ({context})",
            GOAL,
        ),
    ]
    report(rows, args.results_file, args.append_results)
    return rows


if __name__ == "__main__":
    main()
