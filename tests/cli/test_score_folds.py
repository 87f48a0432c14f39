"""`harness score --fold all`: one file per fold, per-fold scores, mean ± std and pooled out-of-fold scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import average_precision_score
from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner()
TAGS = ["happy", "sad", "calm"]


@pytest.fixture
def two_folds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """12 items; fold-k tests on items with k == i % 2, validates on the next four, trains on the rest."""
    folder = tmp_path / "registry" / "moods"
    folder.mkdir(parents=True)
    (folder / "dataset.toml").write_text(
        'name = "moods"\nfamily = "tsv"\n[tags]\nnames = ["happy", "sad", "calm"]\n'
        '[folds]\nnames = ["fold-0", "fold-1", "random-0"]\n[source]\nitems = "items.tsv"\nfolds = "folds.tsv"\n'
    )
    rng = np.random.default_rng(0)
    rows = ["id\tpath\ttags"]
    for i in range(12):
        tags = [t for t in TAGS if rng.random() < 0.5] or [TAGS[i % 3]]
        rows.append(f"s{i}\ts{i}.wav\t{','.join(tags)}")
    (folder / "items.tsv").write_text("\n".join(rows) + "\n")
    lines = ["id\tfold\tsplit"]
    for fold, k in (("fold-0", 0), ("fold-1", 1), ("random-0", 0)):
        for i in range(12):
            split = "test" if i % 2 == k else ("validation" if i < 6 else "train")
            lines.append(f"s{i}\t{fold}\t{split}")
    (folder / "folds.tsv").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("HARNESS_REGISTRY", str(tmp_path / "registry"))
    return tmp_path


def test_per_fold_mean_std_and_pooled(two_folds: Path) -> None:
    from harness.datasets import open_dataset

    dataset = open_dataset("moods")
    rng = np.random.default_rng(1)
    files, parts = [], []
    for fold in ("fold-0", "fold-1"):
        part = dataset.split(fold, "test")
        path = two_folds / f"{fold}.npy"
        np.save(path, rng.random(part.labels.shape))
        files.append(str(path))
        parts.append((part, np.load(path)))
    result = runner.invoke(app, ["score", *files, "--dataset", "moods", "--fold", "all", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    per_fold = [doc["folds"][f]["PR-AUC-macro"] for f in ("fold-0", "fold-1")]
    assert doc["mean"]["PR-AUC-macro"] == pytest.approx(np.mean(per_fold))
    assert doc["std"]["PR-AUC-macro"] == pytest.approx(np.std(per_fold, ddof=1))
    labels = np.vstack([p.labels for p, _ in parts])
    scores = np.vstack([s for _, s in parts])
    assert doc["pooled"]["PR-AUC-macro"] == pytest.approx(average_precision_score(labels, scores, average="macro"))

    table = runner.invoke(app, ["score", *files, "--dataset", "moods", "--fold", "all"])
    assert table.exit_code == 0 and "mean ± std" in table.output and "pooled" in table.output


def test_fold_all_needs_one_file_per_fold(two_folds: Path) -> None:
    path = two_folds / "one.npy"
    np.save(path, np.zeros((6, 3)))
    result = runner.invoke(app, ["score", str(path), "--dataset", "moods", "--fold", "all"])
    assert result.exit_code == 2 and "one file per fold" in result.output and "(2: fold-0..fold-1)" in result.output
    two = runner.invoke(app, ["score", str(path), str(path), "--dataset", "moods"])
    assert two.exit_code == 2 and "--fold all" in two.output


def test_fold_all_records_every_fold_or_none(two_folds: Path) -> None:
    """--fold all --record of a name one fold of which is already recorded writes nothing (was: the first folds)."""
    from harness.datasets import open_dataset
    from harness.results.store import ResultsStore

    dataset = open_dataset("moods")
    files = []
    for fold in ("fold-0", "fold-1"):
        path = two_folds / f"{fold}.npy"
        np.save(path, np.random.default_rng(2).random(dataset.split(fold, "test").labels.shape))
        files.append(str(path))
    store = two_folds / "store.sqlite"
    one = runner.invoke(
        app,
        [
            "score",
            files[1],
            "--dataset",
            "moods",
            "--fold",
            "fold-1",
            "--record",
            "--name",
            "t/r",
            "--store",
            str(store),
        ],
    )
    assert one.exit_code == 0, one.output
    both = ["score", *files, "--dataset", "moods", "--fold", "all", "--record", "--name", "t/r", "--store", str(store)]
    refused = runner.invoke(app, both)
    assert refused.exit_code == 2 and "t/r@moods/fold-1/test" in refused.stderr and "--replace" in refused.stderr
    assert [r.run_id for r in ResultsStore(store).list_runs()] == ["t/r@moods/fold-1/test"]
    replaced = runner.invoke(app, [*both, "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert sorted(r.run_id for r in ResultsStore(store).list_runs()) == [
        "t/r@moods/fold-0/test",
        "t/r@moods/fold-1/test",
    ]
