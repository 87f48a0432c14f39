"""`harness score` starts fast: scoring never imports torch, scikit-learn, scipy or pandas.

Importing ``sklearn.metrics`` alone takes about a second (scipy.stats, pandas); the metrics are
computed by ``harness.metrics.ranking`` instead, which equals scikit-learn bit for bit (see
``tests/metrics/test_ranking.py``). The wall-clock figure is measured by
``benchmarks/score_startup.py``, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HEAVY = ("torch", "sklearn", "scipy", "pandas")
TAGS = ["happy", "sad", "calm", "dark"]


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """Two small datasets in the tsv family: one scored with the official keys, one with the CAL500 set."""
    rng = np.random.default_rng(0)
    items = ["id\tpath\ttags"]
    for i in range(40):
        tags = [t for t in TAGS if rng.random() < 0.4] or [TAGS[i % 4]]
        items.append(f"s{i}\ts{i}.wav\t{','.join(tags)}")
    folds = ["id\tfold\tsplit"] + [
        f"s{i}\tfold-0\t{'test' if i % 2 else ('validation' if i < 20 else 'train')}" for i in range(40)
    ]
    for name, metric_set in (("moods", "official"), ("moods-cal", "cal500")):
        folder = tmp_path / "registry" / name
        folder.mkdir(parents=True)
        (folder / "dataset.toml").write_text(
            f'name = "{name}"\nfamily = "tsv"\nmetric_set = "{metric_set}"\n'
            f"[tags]\nnames = {json.dumps(TAGS)}\n"
            '[folds]\nnames = ["fold-0"]\n[source]\nitems = "items.tsv"\nfolds = "folds.tsv"\n'
        )
        (folder / "items.tsv").write_text("\n".join(items) + "\n")
        (folder / "folds.tsv").write_text("\n".join(folds) + "\n")
    np.save(tmp_path / "test.npy", rng.random((20, 4)).astype(np.float32))
    np.save(tmp_path / "validation.npy", rng.random((10, 4)).astype(np.float32))
    return tmp_path


def _score_in_fresh_interpreter(registry: Path, *args: str) -> tuple[dict, list[str]]:
    code = (
        "import json, sys\n"
        "from harness.cli import app\n"
        "try:\n"
        f"    app({list(args)!r})\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))\n"
    )
    env = {"HARNESS_REGISTRY": str(registry / "registry"), "PATH": "/usr/bin:/bin", "HOME": str(registry)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=registry)
    assert out.returncode == 0, out.stderr
    *json_lines, modules = out.stdout.strip().splitlines()
    return json.loads("\n".join(json_lines)), json.loads(modules)


@pytest.mark.parametrize("dataset", ["moods", "moods-cal"])
def test_plain_and_thresholded_score_import_no_heavy_library(registry: Path, dataset: str) -> None:
    preds = str(registry / "test.npy")
    doc, heavy = _score_in_fresh_interpreter(registry, "score", preds, "--dataset", dataset, "--json")
    assert heavy == []
    assert 0.0 <= doc["PR-AUC-macro"] <= 1.0
    doc, heavy = _score_in_fresh_interpreter(
        registry, "score", preds, "--dataset", dataset, "--json", "--thresholds-from", str(registry / "validation.npy")
    )
    assert heavy == []
    assert doc["thresholds_source"] == "validation" and "F-score-macro" in doc
    if dataset == "moods-cal":
        assert {"hamming-loss", "coverage-error", "ranking-loss", "LRAP"} <= set(doc)


def test_compare_imports_neither_torch_nor_sklearn(registry: Path) -> None:
    other = registry / "other.npy"
    np.save(other, np.random.default_rng(1).random((20, 4)).astype(np.float32))
    doc, heavy = _score_in_fresh_interpreter(
        registry,
        "compare",
        str(registry / "test.npy"),
        str(other),
        "--dataset",
        "moods",
        "--bootstrap",
        "200",
        "--json",
    )
    assert not {"torch", "sklearn"} & set(heavy)  # the vectorised bootstrap uses scipy.sparse, nothing heavier
    assert "p_value" in json.dumps(doc)
