"""The former ranking of a board: rank bands chained through paired bootstrap tests of neighbours.

Boards no longer use it: a run's rank and 95% rank interval now come from one joint bootstrap of
all its runs (:mod:`harness.leaderboard.rank_intervals`), because chained bands can merge runs
that clearly differ (A ~ B ~ C with A and C far apart). :func:`rank_bands` is kept as the
pairwise baseline of ``benchmarks/board_build.py`` and for its tests.

Runs are taken in rank order. Each run is tested against the run ranked just above it with a
paired bootstrap over the items of their common split (``harness.metrics.bootstrap``): when the
difference of the primary metric is not significant (two-sided p >= ``ALPHA``) the run joins the
band of the run above, else it starts a new band numbered by its own rank. The predictions and
labels come from the results store alone; a pair without them, or scored on different splits,
always starts a new band, and so does every run when the metric registry
(:func:`harness.metrics.keys.paired_testable`) says the primary metric cannot be compared from
predictions alone: it needs decisions (the store keeps none) or the bootstrap engine cannot
resample it.
"""

from __future__ import annotations

import json
from typing import Any

ALPHA = 0.05
REPLICATES = 1000
SEED = 0


def rank_bands(
    store: Any, board: Any, runs: list[Any], replicates: int = REPLICATES, seed: int = SEED
) -> dict[str, int]:
    """run_id -> band number (the rank of the band's first run) for ``runs`` in rank order."""
    from harness.metrics.bootstrap import paired_bootstrap
    from harness.metrics.keys import paired_testable

    if not paired_testable(board.primary):  # no test for it: every run its own band
        return {run.run_id: rank for rank, run in enumerate(runs, start=1)}
    bands: dict[str, int] = {}
    labels_by_fingerprint: dict[str, Any] = {}
    previous: tuple[Any, Any] | None = None  # (run, predictions)
    for rank, run in enumerate(runs, start=1):
        predictions = store.predictions(run.run_id)
        band = rank
        if previous is not None and predictions is not None and previous[1] is not None:
            above, above_predictions = previous
            if above.fingerprint == run.fingerprint:
                # A run re-recorded under the same id gets a new `created`, so the key changes with it.
                test_key = json.dumps(
                    [above.run_id, above.created, run.run_id, run.created, board.primary, replicates, seed]
                )
                p_value = store.cached_p_value(test_key)
                if p_value is None:
                    if run.fingerprint not in labels_by_fingerprint:
                        found = store.split_labels(run.fingerprint)
                        labels_by_fingerprint[run.fingerprint] = None if found is None else found[2]
                    labels = labels_by_fingerprint[run.fingerprint]
                    if labels is not None:
                        p_value = paired_bootstrap(
                            labels, above_predictions, predictions, key=board.primary, n=replicates, seed=seed
                        ).p_value
                        store.cache_p_value(test_key, p_value)
                if p_value is not None and p_value >= ALPHA:
                    band = bands[above.run_id]
        bands[run.run_id] = band
        previous = (run, predictions)
    return bands
