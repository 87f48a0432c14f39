"""Ranking the real 29-run MediaEval 2019 board: chained pairwise tests vs one joint bootstrap.

Data: the 29 MediaEval 2019 runs recorded from the licensed reference files under
``../shared/reference`` by ``leaderboards/record_mediaeval2019.py --bootstrap 0`` into a fresh
store (not timed); without them the script says so and exits 0.

Timed, in this one run, each on its own fresh copy of that store (no cached p-value):

- pairwise (today's former method): :func:`harness.leaderboard.ties.rank_bands`, a paired
  bootstrap of 1000 replicates for each of the 28 neighbouring pairs, as the board build ran it;
- joint (the new method): :func:`harness.leaderboard.rank_intervals.board_ranks`, one joint
  bootstrap of 1000 replicates over all 29 runs (rank intervals, displayed ranks and the run
  pages' paired comparisons);
- the first build end to end: :func:`harness.leaderboard.site_build.plan_site` of the board
  (every page's view model, run pages included), with the joint method; the goal is under the
  37 s the first build took with the pairwise method.

The ratio is pairwise time over joint time.

Usage: ``python benchmarks/board_build.py [--append-results]``
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmark_table import Row, git_commit, report

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"
DEVICE = "CPU, 2 cores (dev machine)"


def record(store_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "record_mediaeval2019", REPO / "leaderboards" / "record_mediaeval2019.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if module.main(["--store", str(store_path), "--bootstrap", "0"]) != 0:
        raise SystemExit("recording the 29 runs failed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--append-results", action="store_true")
    parser.add_argument("--results-file", type=Path, default=Path(__file__).resolve().parent / "RESULTS.md")
    args = parser.parse_args(argv)
    if not (REFERENCE / "mediaeval2019" / "submissions").is_dir():
        print(f"skipped: the licensed MediaEval 2019 submissions are not under {REFERENCE}")
        return 0

    from harness.leaderboard.boards import load_board
    from harness.leaderboard.checked_store import CheckedStore
    from harness.leaderboard.rank_intervals import board_ranks
    from harness.leaderboard.ranking import rank_runs
    from harness.leaderboard.site_build import plan_site
    from harness.leaderboard.ties import rank_bands
    from harness.results.store import ResultsStore

    board = load_board(REPO / "leaderboards" / "mtg-jamendo-moodtheme.toml")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.sqlite"
        record(source)

        def fresh(name: str) -> CheckedStore:
            path = Path(tmp) / f"{name}.sqlite"
            shutil.copyfile(source, path)
            return CheckedStore(ResultsStore(path))

        store = fresh("pairwise")
        ranked = rank_runs(board, store.list_runs(board.dataset, board.fold, board.split))
        runs = [e.run for e in ranked if e.rank is not None]
        start = time.perf_counter()
        bands = rank_bands(store, board, runs)
        pairwise = time.perf_counter() - start

        store = fresh("joint")
        ranked = rank_runs(board, store.list_runs(board.dataset, board.fold, board.split))
        start = time.perf_counter()
        ranks = board_ranks(store, board, ranked)
        assert len(ranks.intervals) == len(ranked)
        joint = time.perf_counter() - start

        store = fresh("build")
        start = time.perf_counter()
        plan = plan_site(store, [board])
        build = time.perf_counter() - start

    n = len(runs)
    print(f"{n} runs; pairwise {pairwise:.2f} s ({len(set(bands.values()))} bands), joint {joint:.2f} s")
    print(f"ratio {pairwise / joint:.1f}x; first plan_site build with the joint method {build:.2f} s")
    view = plan.board(board.name)
    for row in view["rows"][:8]:
        print(
            f"  {row['rank']!s:>4} {row['rank_interval']:>6} {row['primary_text']:>8} {row['team']}/{row['run_name']}"
        )
    today = datetime.date.today().isoformat()
    commit = git_commit()
    rows = [
        Row(
            f"`board_build.py`: ranking the real {n}-run MediaEval 2019 board, chained pairwise tests "
            "(ties.rank_bands, 28 paired bootstraps) vs one joint bootstrap (rank_intervals.board_ranks), "
            "1000 replicates each, no cache",
            DEVICE,
            commit,
            today,
            f"{pairwise / joint:.1f}x ({joint:.2f} s vs {pairwise:.2f} s)",
            "faster than pairwise",
        ),
        Row(
            f"`board_build.py`: first build of the {n}-run board (plan_site: board and run pages' view models, "
            "joint bootstrap included, fresh store)",
            DEVICE,
            commit,
            today,
            f"{build:.2f} s",
            "< 37 s (the first build with pairwise bands)",
        ),
    ]
    report(rows, args.results_file, args.append_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
