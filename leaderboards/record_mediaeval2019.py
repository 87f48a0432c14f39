"""Record the 29 runs of the MediaEval 2019 Emotion and Theme task in the results store.

    python leaderboards/record_mediaeval2019.py [--submissions DIR] [--root MTG_ROOT] [--store FILE] [--replace]
        [--bootstrap N] [--bootstrap-seed S]
    harness leaderboard build

``--submissions`` is the task's ``submissions/`` folder (team folders holding
``<run>/predictions.npy``, ``<run>/<x>_predictions.npy`` or ``<run>_predictions.npy`` /
``<run>-predictions.npy``, with the decisions beside them, and ``externaldata.json``);
``--root`` is an MTG-Jamendo root with the official split files (``harness datasets fetch
mtg-jamendo-moodtheme --root DIR``). Both default to the licensed copies in ``../shared/reference``
next to this checkout. Team and run names come from the folder and file names.

Decisions: a run is marked "thresholds fitted on test" (``thresholds_source`` ``"test"``) only when
its submitted decisions equal thresholds fitted on the test labels
(:func:`harness.metrics.decisions.decisions_fitted_on_test`, as the task's
``calculate_decisions.py`` fitted them): 13 of the 29 runs. The others are recorded with their
decisions as submitted (``"given"``).

Intervals: every run gets the 95% bootstrap interval of every official key, seeded
(``--bootstrap 1000`` by default, items resampled with replacement; about 1 s a run, 32 s for
the 29; ``--bootstrap 0`` records none).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


def find_runs(submissions: Path) -> list[tuple[str, str, Path, Path | None]]:
    """(team, run, predictions file, decisions file or None) for every run, sorted by team and run."""
    runs = []
    for predictions in sorted(submissions.rglob("*predictions.npy")):
        team_dir = predictions.relative_to(submissions).parts[0]
        if predictions.parent != submissions / team_dir:
            run = predictions.parent.name
        else:
            run = predictions.name.removesuffix("predictions.npy").rstrip("_-")
        decisions = predictions.with_name(predictions.name.replace("predictions", "decisions"))
        runs.append((team_dir, run or "run", predictions, decisions if decisions.is_file() else None))
    return runs


def record_all(
    submissions: Path, root: Path, store: Path, replace: bool = False, bootstrap: int = 1000, seed: int = 0
) -> list[str]:
    """Score every run, then record them all; runs already in the store need ``replace``.

    Ids already in the store are refused before any scoring, and every run is scored (with
    ``bootstrap`` replicates for its intervals, none if 0) before anything is recorded, so a refused
    call leaves the store as it was. A run's ``thresholds_source`` is what ``score_file`` found for
    its decisions: ``"test"`` where they equal thresholds fitted on the test labels, else ``"given"``.
    """
    from harness.errors import BadInputError
    from harness.results.store import ResultsStore
    from harness.scoring import check_bootstrap, record_report, score_file

    check_bootstrap(bootstrap, allow_zero=True)

    external = (
        json.loads((submissions / "externaldata.json").read_text())
        if (submissions / "externaldata.json").is_file()
        else {}
    )
    runs = find_runs(submissions)
    if not replace:
        recorded = {r.run_id for r in ResultsStore(store).list_runs("mtg-jamendo-moodtheme", "split-0", "test")}
        again = [
            f"{team}/{run}" for team, run, *_ in runs if f"{team}/{run}@mtg-jamendo-moodtheme/split-0/test" in recorded
        ]
        if again:
            raise BadInputError(
                f"{len(again)} of the {len(runs)} runs are already recorded in {store} (e.g. {again[0]}); "
                "pass --replace to record them again"
            )
    scored = []
    for team, run, predictions, decisions in runs:
        report = score_file(predictions, "mtg-jamendo-moodtheme", "split-0", "test", root, decisions=decisions)
        scored.append((team, run, report.with_bootstrap(bootstrap, seed) if bootstrap else report))
    return [
        record_report(report, store, team, run, external_data=team in external, replace=replace)
        for team, run, report in scored
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=Path, default=REFERENCE / "mediaeval2019" / "submissions")
    parser.add_argument("--root", type=Path, default=REFERENCE / "mtg-jamendo")
    parser.add_argument(
        "--store", type=Path, default=None, help="results store (default: $HARNESS_STORE or runs/results.sqlite)"
    )
    parser.add_argument("--replace", action="store_true", help="record runs already in the store again")
    parser.add_argument(
        "--bootstrap", type=int, default=1000, help="replicates for each run's 95%% intervals (default 1000; 0: none)"
    )
    parser.add_argument("--bootstrap-seed", type=int, default=0, help="seed of the bootstrap resampling (default 0)")
    args = parser.parse_args(argv)
    if args.bootstrap_seed < 0:
        parser.error(f"--bootstrap-seed {args.bootstrap_seed}: a seed is 0 or more")
    from harness import paths
    from harness.errors import HarnessError

    if not args.submissions.is_dir():
        print(
            f"error: {args.submissions}: no MediaEval 2019 submissions folder; pass --submissions DIR", file=sys.stderr
        )
        return 2
    try:
        run_ids = record_all(
            args.submissions,
            args.root,
            args.store or paths.store_path(),
            args.replace,
            bootstrap=args.bootstrap,
            seed=args.bootstrap_seed,
        )
    except HarnessError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    print(f"recorded {len(run_ids)} runs; now run `harness leaderboard build`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
