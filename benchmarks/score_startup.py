"""Wall time of `harness score` from a cold process: the goal is well under a second.

Each command runs in a fresh Python process (``python -m harness.cli ...``), as a user types it;
the figure is the median of ``--repeats`` (5) runs after one warm-up run (which fills the page
cache for the interpreter and the libraries). Measured in this one run:

- ``python -c pass``: the interpreter's own start, the floor;
- ``harness --help``;
- a plain ``harness score preds.npy --dataset NAME --split test`` (official keys, per-tag results;
  no decisions) on a synthetic file with MTG-Jamendo split-0 test's shape (4231 items x 56 tags,
  float32), in a registry of the tsv family generated under ``--tmp-dir``;
- the same with ``--thresholds-from validation.npy`` (3802 x 56): per-tag thresholds fitted on
  validation, so all ten keys;
- ``python -c "import sklearn.metrics"``: what importing scikit-learn alone would add (the harness's
  scoring path does not import it; ``tests/cli/test_score_startup.py`` checks that);
- with ``--reference DIR`` (default ``../shared/reference`` when present): the plain score of the
  real ``YL-UTokyo/run1`` predictions against the real split-0 test, with its published decisions.

Usage: ``python benchmarks/score_startup.py [--repeats 5] [--append-results]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
from benchmark_table import (
    Row,
    git_commit,
    report,
)  # beside this script (python benchmarks/NAME.py puts this folder on sys.path)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE = REPO.parent / "shared" / "reference"
GOAL = "< 1 s (well under)"


def write_registry(directory: Path, n_test: int, n_validation: int, n_tags: int, seed: int) -> Path:
    """A tsv-family dataset ``synthetic-mtg`` with one fold; returns the registry folder."""
    rng = np.random.default_rng(seed)
    tags = [f"mood/theme---tag{j:02d}" for j in range(n_tags)]
    n_items = n_test + n_validation + 10
    splits = ["test"] * n_test + ["validation"] * n_validation + ["train"] * 10
    items, folds = ["id\tpath\ttags"], ["id\tfold\tsplit"]
    for i in range(n_items):
        chosen = [t for t in tags if rng.random() < 0.05] or [tags[i % n_tags]]
        items.append(f"track_{i:07d}\t{i:02d}/{i}.mp3\t{','.join(chosen)}")
        folds.append(f"track_{i:07d}\tsplit-0\t{splits[i]}")
    folder = directory / "registry" / "synthetic-mtg"
    folder.mkdir(parents=True)
    (folder / "dataset.toml").write_text(
        'name = "synthetic-mtg"\nfamily = "tsv"\n'
        f"[tags]\nnames = {json.dumps(tags)}\n"
        '[folds]\nnames = ["split-0"]\n[source]\nitems = "items.tsv"\nfolds = "folds.tsv"\n'
    )
    (folder / "items.tsv").write_text("\n".join(items) + "\n")
    (folder / "folds.tsv").write_text("\n".join(folds) + "\n")
    np.save(directory / "test.npy", rng.random((n_test, n_tags)).astype(np.float32))
    np.save(directory / "validation.npy", rng.random((n_validation, n_tags)).astype(np.float32))
    return directory / "registry"


def wall_time(argv: list[str], env: dict[str, str], repeats: int) -> float:
    """Median wall time of ``argv`` in a fresh process, after one warm-up run; a failure stops the benchmark."""
    times = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        if i:
            times.append(elapsed)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--items", type=int, default=4231, help="test items (validation: 0.9 x as many)")
    parser.add_argument("--tags", type=int, default=56)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--reference", type=Path, default=DEFAULT_REFERENCE, help="../shared/reference (skipped when absent)"
    )
    parser.add_argument("--tmp-dir", type=Path, default=None)
    parser.add_argument("--machine", default=f"CPU, {os.cpu_count()} cores")
    parser.add_argument("--append-results", action="store_true")
    parser.add_argument("--results-file", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="score_startup-", dir=args.tmp_dir))
    try:
        registry = write_registry(work, args.items, int(args.items * 0.9), args.tags, args.seed)
        env = {**os.environ, "HARNESS_REGISTRY": str(registry), "HARNESS_STORE": str(work / "results.sqlite")}
        python = [sys.executable]
        harness = [sys.executable, "-m", "harness.cli"]
        score = [*harness, "score", str(work / "test.npy"), "--dataset", "synthetic-mtg", "--split", "test"]
        shape = f"{args.items}×{args.tags}"
        timed = {
            "floor": wall_time([*python, "-c", "pass"], env, args.repeats),
            "help": wall_time([*harness, "--help"], env, args.repeats),
            "plain": wall_time(score, env, args.repeats),
            "thresholds": wall_time([*score, "--thresholds-from", str(work / "validation.npy")], env, args.repeats),
            "sklearn": wall_time([*python, "-c", "import sklearn.metrics"], env, args.repeats),
        }
        run1 = args.reference / "mediaeval2019" / "submissions" / "YL-UTokyo" / "run1"
        if (run1 / "predictions.npy").is_file():
            timed["reference"] = wall_time(
                [
                    *harness,
                    "score",
                    str(run1 / "predictions.npy"),
                    "--dataset",
                    "mtg-jamendo-moodtheme",
                    "--root",
                    str(args.reference / "mtg-jamendo"),
                    "--decisions",
                    str(run1 / "decisions.npy"),
                ],
                {k: v for k, v in env.items() if k != "HARNESS_REGISTRY"},
                args.repeats,  # the real registry
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"cold-process wall times, median of {args.repeats} after one warm-up; python {platform.python_version()}, "
        f"numpy {np.__version__}, {os.cpu_count()} CPUs"
    )
    context = (
        f"median of {args.repeats}; python -c pass {timed['floor']:.2f} s, harness --help {timed['help']:.2f} s, "
        f"import sklearn.metrics alone {timed['sklearn']:.2f} s"
    )
    commit, today = git_commit(), date.today().isoformat()
    rows = [
        Row(
            "`score_startup.py`: plain `harness score` (official keys + per-tag, no decisions) of a "
            f"{shape} float32 .npy, cold process",
            args.machine,
            commit,
            today,
            f"{timed['plain']:.2f} s ({context})",
            GOAL,
        ),
        Row(
            f"`score_startup.py`: `harness score --thresholds-from` (thresholds fitted on {int(args.items * 0.9)}×"
            f"{args.tags} validation predictions; all ten keys), cold process",
            args.machine,
            commit,
            today,
            f"{timed['thresholds']:.2f} s ({context})",
            GOAL,
        ),
    ]
    if "reference" in timed:
        rows.append(
            Row(
                "`score_startup.py`: `harness score` of the real YL-UTokyo/run1 predictions with its published "
                "decisions against MTG-Jamendo split-0 test (4231×56), cold process",
                args.machine,
                commit,
                today,
                f"{timed['reference']:.2f} s ({context})",
                GOAL,
            )
        )
    report(rows, args.results_file, args.append_results)
    return rows


if __name__ == "__main__":
    main()
