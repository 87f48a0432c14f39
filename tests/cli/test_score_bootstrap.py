"""`harness score --bootstrap N` and `harness compare`: seeded intervals and a paired test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.metrics.official import OFFICIAL_KEYS

runner = CliRunner()


@pytest.fixture
def moods(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, np.ndarray]:
    """A one-fold tsv dataset of 200 items (test part: 80) and its test labels."""
    folder = tmp_path / "registry" / "moods"
    folder.mkdir(parents=True)
    (folder / "dataset.toml").write_text(
        'name = "moods"\nfamily = "tsv"\n[tags]\nnames = ["a", "b", "c", "d"]\n[folds]\nnames = ["split-0"]\n'
        '[source]\nitems = "items.tsv"\n'
    )
    rng = np.random.default_rng(0)
    labels = rng.random((200, 4)) < 0.3
    splits = ["train"] * 80 + ["validation"] * 40 + ["test"] * 80
    rows = ["id\tpath\ttags\tsplit"] + [
        f"i{i}\ti{i}.wav\t{','.join(t for t, on in zip('abcd', labels[i]) if on)}\t{splits[i]}" for i in range(200)
    ]
    (folder / "items.tsv").write_text("\n".join(rows) + "\n")
    monkeypatch.setenv("HARNESS_REGISTRY", str(tmp_path / "registry"))
    return tmp_path, labels[120:]


def _save(path: Path, array: np.ndarray) -> str:
    np.save(path, array)
    return str(path)


def test_bootstrap_intervals_are_seeded_and_bracket_the_value(moods: tuple[Path, np.ndarray]) -> None:
    tmp, labels = moods
    rng = np.random.default_rng(1)
    preds = _save(tmp / "p.npy", np.clip(labels + rng.normal(0, 0.6, labels.shape), 0, 1))
    args = ["score", preds, "--dataset", "moods", "--thresholds-on-test", "--bootstrap", "200", "--json"]
    first, second = (json.loads(runner.invoke(app, args).stdout) for _ in range(2))
    assert first["intervals"] == second["intervals"]
    assert set(first["intervals"]) == set(OFFICIAL_KEYS)
    for key in ("PR-AUC-macro", "ROC-AUC-macro", "F-score-micro"):
        assert (
            first["intervals"][key]["low"] <= first[key] + 0.02 and first[key] - 0.02 <= first["intervals"][key]["high"]
        )
    other_seed = json.loads(runner.invoke(app, [*args, "--bootstrap-seed", "7"]).stdout)
    assert other_seed["intervals"] != first["intervals"]
    old_name = json.loads(runner.invoke(app, [*args, "--seed", "7"]).stdout)  # the hidden old name of --bootstrap-seed
    assert old_name["intervals"] == other_seed["intervals"]
    table = runner.invoke(app, args[:-1])
    assert table.exit_code == 0 and "95% interval" in table.output


def test_compare_paired(moods: tuple[Path, np.ndarray]) -> None:
    tmp, labels = moods
    rng = np.random.default_rng(2)
    good = _save(tmp / "good.npy", np.clip(labels + rng.normal(0, 0.4, labels.shape), 0, 1))
    noise = _save(tmp / "noise.npy", rng.random(labels.shape))
    same = json.loads(runner.invoke(app, ["compare", good, good, "--dataset", "moods", "--json"]).stdout)
    assert same["difference"] == 0.0 and same["p_value"] == 1.0
    better = runner.invoke(app, ["compare", good, noise, "--dataset", "moods", "--json"])
    assert better.exit_code == 0, better.output
    doc = json.loads(better.stdout)
    assert doc["difference"] > 0 and doc["low"] > 0 and doc["p_value"] < 0.05 and doc["key"] == "PR-AUC-macro"
    text = runner.invoke(app, ["compare", noise, noise, "--dataset", "moods"])
    assert "statistical tie" in text.output
    seeded = [
        json.loads(runner.invoke(app, ["compare", good, noise, "--dataset", "moods", "--json", *seed]).stdout)
        for seed in (["--bootstrap-seed", "3"], ["--seed", "3"], ["--bootstrap-seed", "3", "--seed", "3"])
    ]
    assert seeded[0] == seeded[1] == seeded[2] and (seeded[0]["low"], seeded[0]["high"]) != (doc["low"], doc["high"])


def test_compare_refuses_different_splits(moods: tuple[Path, np.ndarray]) -> None:
    tmp, labels = moods
    test = _save(tmp / "t.npy", np.random.default_rng(3).random(labels.shape))
    validation = _save(tmp / "va.npy", np.random.default_rng(3).random((40, 4)))
    result = runner.invoke(app, ["compare", test, validation, "--dataset", "moods"])
    assert result.exit_code == 2 and "40" in result.output and "Traceback" not in result.output


def test_score_and_compare_never_import_torch(moods: tuple[Path, np.ndarray]) -> None:
    import subprocess
    import sys

    tmp, labels = moods
    preds = _save(tmp / "p.npy", np.random.default_rng(4).random(labels.shape))
    code = (
        "import sys; from typer.testing import CliRunner; from harness.cli import app; r = CliRunner(); "
        f"a = r.invoke(app, ['score', {preds!r}, '--dataset', 'moods', '--bootstrap', '20']); "
        f"b = r.invoke(app, ['compare', {preds!r}, {preds!r}, '--dataset', 'moods', '--bootstrap', '20']); "
        "print(a.exit_code, b.exit_code, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "0", "False"]
