"""``harness compare``: is A better than B? A paired bootstrap over the items of one split.

Both files go through :func:`harness.scoring.match_file`, as ``score`` reads them: checked against
their split, with each file's own decisions found the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.datasets.splits import SplitData
from harness.errors import BadInputError
from harness.scoring import check_bootstrap, match_file


def compare_files(
    path_a: Path,
    path_b: Path,
    dataset: str | None = None,
    fold: str | None = None,
    split: str | None = None,
    root: Path | None = None,
    key: str | None = None,
    n: int = 1000,
    seed: int = 0,
) -> tuple[Any, SplitData]:
    """A paired bootstrap test of A against B on the same items: (Comparison, the split compared on).

    The key defaults to the dataset's primary metric; decision keys use each file's own decisions
    (from its run's validation file, as ``score`` finds them).
    """
    from harness.metrics.bootstrap import paired_bootstrap

    check_bootstrap(n)
    a = match_file(path_a, dataset, fold, split, root)
    b = match_file(path_b, dataset or a.target.dataset, fold or a.target.fold, split or a.target.split, root)
    if a.target.fingerprint != b.target.fingerprint:
        raise BadInputError(f"{path_a} and {path_b} are for different splits; compare predictions of the same items")
    comparison = paired_bootstrap(
        a.target.labels,
        a.predictions.scores,
        b.predictions.scores,
        key=key or a.data.spec.primary_metric,
        n=n,
        seed=seed,
        decisions_a=a.decisions,
        decisions_b=b.decisions,
    )
    return comparison, a.target
