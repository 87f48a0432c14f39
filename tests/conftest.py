"""Shared fixtures: every test writes only under its own tmp_path, never into the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO.parent / "shared" / "reference"

TINY_TOY = """
name = "toy"
family = "toy"
title = "Tiny toy"
citation = "test fixture"
licence = "CC0-1.0"
primary_metric = "PR-AUC-macro"

[generator]
seed = 7
n_items = {n_items}
duration_s = {duration_s}
sample_rate = 12000
label_noise = 0.0
split_fractions = [0.5, 0.25, 0.25]

[tags]
names = ["energetic", "calm", "happy", "sad", "dark", "uplifting", "aggressive", "relaxing"]

[folds]
names = ["split-0"]

[protocol]
feature = "mel96"
eval_crops_validation = 10
eval_crops_test = 20
max_epochs = 1
"""


@pytest.fixture(autouse=True)
def isolated_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HARNESS_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HARNESS_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("HARNESS_STORE", str(tmp_path / "runs" / "results.sqlite"))
    monkeypatch.setenv("HARNESS_SITE", str(tmp_path / "site"))
    monkeypatch.delenv("HARNESS_REGISTRY", raising=False)
    return tmp_path


def write_tiny_registry(directory: Path, n_items: int = 12, duration_s: float = 30.0) -> Path:
    """A registry folder with a tiny ``toy`` (a few 30 s items) for end-to-end tests."""
    (directory / "toy").mkdir(parents=True, exist_ok=True)
    (directory / "toy" / "dataset.toml").write_text(TINY_TOY.format(n_items=n_items, duration_s=duration_s))
    return directory


@pytest.fixture
def tiny_toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    registry = write_tiny_registry(tmp_path / "registry")
    monkeypatch.setenv("HARNESS_REGISTRY", str(registry))
    return registry
