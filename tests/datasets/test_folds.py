"""Fold generators, the parts.tsv format and the [folds] registry table (harness.datasets.fold_generators, fold_table)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.datasets.checksums import tree_sha256
from harness.datasets.fold_generators import (
    fold_masks,
    grouped_stratified_parts,
    groups_in_several_parts,
    impossible_tags,
    positives_per_part,
    random_parts,
    repair_coverage,
    stratified_parts,
)
from harness.datasets.fold_table import format_parts_tsv, read_folds_config, read_parts_tsv
from harness.errors import DataMissingError, FormatError


def _labels(n_items: int, n_tags: int, seed: int, rate: float = 0.2) -> np.ndarray:
    return np.random.default_rng(seed).random((n_items, n_tags)) < rate


def test_stratified_parts_partition_and_reach_every_part() -> None:
    labels = _labels(200, 6, 0)
    labels[:12, 5] = True  # a rare tag: exactly 12 positives
    labels[12:, 5] = False
    parts = stratified_parts(labels, 10, seed=3)
    assert parts.shape == (200,) and set(parts.tolist()) == set(range(10))
    assert np.bincount(parts).min() >= 18 and np.bincount(parts).max() <= 22
    counts = positives_per_part(labels, parts, 10)
    assert (counts >= 1).all(), counts  # every tag (>= 10 positives) in every part


def test_stratified_parts_deterministic_and_seeded() -> None:
    labels = _labels(120, 5, 1)
    a, b = stratified_parts(labels, 10, seed=7), stratified_parts(labels, 10, seed=7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, stratified_parts(labels, 10, seed=8))


def test_plain_random_parts_can_miss_a_rare_tag_where_stratified_does_not() -> None:
    labels = np.zeros((300, 1), dtype=bool)
    labels[:12, 0] = True
    misses = sum((positives_per_part(labels, random_parts(300, 10, seed), 10) == 0).any() for seed in range(20))
    assert misses > 0  # plain random ten-fold leaves a rare tag out of some part
    assert all((positives_per_part(labels, stratified_parts(labels, 10, s), 10) >= 1).all() for s in range(20))


def test_random_parts_match_kfold_sizes() -> None:
    parts = random_parts(502, 10, seed=500)
    assert sorted(np.bincount(parts).tolist()) == [50] * 8 + [51] * 2
    assert np.array_equal(parts, random_parts(502, 10, seed=500))


def test_grouped_parts_keep_groups_whole() -> None:
    rng = np.random.default_rng(2)
    groups = [f"song{g}" for g in rng.integers(0, 60, size=400)]
    labels = _labels(400, 4, 2, rate=0.1)
    parts = grouped_stratified_parts(labels, groups, 10, seed=5)
    assert groups_in_several_parts(groups, parts) == []
    counts = positives_per_part(labels, parts, 10, groups)
    assert impossible_tags(["a", "b", "c", "d"], labels, 10, groups) == []
    assert (counts >= 1).all()


def test_groups_in_several_parts_and_impossible_tags() -> None:
    assert groups_in_several_parts(["a", "a", "b"], np.array([0, 1, 1])) == ["a"]
    labels = np.array([[1, 0]] * 9 + [[0, 1]] * 11, dtype=bool)
    assert impossible_tags(["nine", "eleven"], labels, 10) == ["nine"]
    groups = ["g0"] * 2 + [f"g{i}" for i in range(1, 19)]  # 'eleven' positives all in distinct groups
    assert impossible_tags(["nine", "eleven"], labels, 10, groups) == ["nine"]


def test_repair_fills_a_hole_without_changing_sizes() -> None:
    labels = np.zeros((30, 2), dtype=bool)
    labels[:3, 0] = True  # tag 0: 3 positives, all in part 0
    labels[::2, 1] = True
    parts = np.repeat(np.arange(3), 10)
    repaired = repair_coverage(labels, parts, 3)
    assert (positives_per_part(labels, repaired, 3) >= 1).all()
    assert np.array_equal(np.bincount(repaired), np.bincount(parts))
    assert np.array_equal(repair_coverage(labels, parts, 3), repaired)


@settings(max_examples=25, deadline=None)
@given(n_items=st.integers(20, 80), n_tags=st.integers(1, 6), seed=st.integers(0, 2**16), rate=st.floats(0.05, 0.6))
def test_stratified_parts_properties(n_items: int, n_tags: int, seed: int, rate: float) -> None:
    labels = _labels(n_items, n_tags, seed, rate)
    parts = stratified_parts(labels, 5, seed)
    assert parts.min() >= 0 and parts.max() <= 4 and len(parts) == n_items
    masks = [fold_masks(parts, k, 5) for k in range(5)]
    for k, m in enumerate(masks):
        assert not (m["train"] & m["test"]).any() and not (m["validation"] & m["test"]).any()
        assert (m["train"] | m["validation"] | m["test"]).all()
        assert np.array_equal(m["validation"], masks[(k + 1) % 5]["test"])
    assert np.array_equal(parts, stratified_parts(labels, 5, seed))


def test_parts_tsv_roundtrip(tmp_path: Path) -> None:
    text = format_parts_tsv(
        ["a", "b/1.000-2.000", "c"], {"part": np.array([0, 2, 1]), "random_part": np.array([1, 1, 0])}
    )
    assert text == "item_id\tpart\trandom_part\na\t0\t1\nb/1.000-2.000\t2\t1\nc\t1\t0\n"
    path = tmp_path / "parts.tsv"
    path.write_text(text)
    table = read_parts_tsv(path, 3, ["part"])
    assert table.item_ids == ("a", "b/1.000-2.000", "c")
    assert table.columns["random_part"].tolist() == [1, 1, 0]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("id\tpart\na\t0\n", "parts.tsv:1: header"),
        ("item_id\tpart\na\t0\nb\t1\na\t2\n", "parts.tsv:4: duplicate item id 'a' (first on line 2)"),
        ("item_id\tpart\na\t0\nb\t10\n", "parts.tsv:3: part '10' is not a part number 0..9"),
        ("item_id\tpart\na\t0\t1\n", "parts.tsv:2: 3 columns"),
        ("item_id\tpart\n", "no items"),
        ("item_id\tother\na\t0\n", "no column 'part'"),
    ],
)
def test_parts_tsv_errors_name_file_and_line(tmp_path: Path, body: str, needle: str) -> None:
    path = tmp_path / "parts.tsv"
    path.write_text(body)
    with pytest.raises(FormatError) as info:
        read_parts_tsv(path, 10, ["part"])
    assert needle in info.value.message


def test_missing_parts_tsv_names_the_script(tmp_path: Path) -> None:
    with pytest.raises(DataMissingError, match="make_folds.py"):
        read_parts_tsv(tmp_path / "parts.tsv", 10)


def test_folds_config(tmp_path: Path) -> None:
    raw = {
        "folds": {
            "names": ["fold-0", "fold-1", "fold-2", "random-0"],
            "n_parts": 3,
            "seed": 1,
            "sets": {
                "fold": {"column": "part", "method": "stratified"},
                "random": {"column": "r", "method": "random", "flags": ["x"]},
            },
        }
    }
    config = read_folds_config(raw, tmp_path / "dataset.toml", raw["folds"]["names"])
    assert config.default.prefix == "fold"
    assert config.locate("random-0")[0].flags == ("x",) and config.locate("fold-2")[1] == 2
    with pytest.raises(FormatError, match="fold-3"):
        read_folds_config(raw, tmp_path / "dataset.toml", ["fold-3"])
    raw["folds"]["sets"]["fold"]["method"] = "magic"
    with pytest.raises(FormatError, match="magic"):
        read_folds_config(raw, tmp_path / "dataset.toml", ["fold-0"])
    with pytest.raises(FormatError, match="seed"):
        read_folds_config({"folds": {"sets": {}}}, tmp_path / "dataset.toml", [])


def test_tree_sha256_is_sha256sum_of_sha256sum(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_bytes(b"second\n")
    (tmp_path / "a.txt").write_bytes(b"first\r\n")
    (tmp_path / "ignored.csv").write_bytes(b"x")
    listing = "".join(
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in sorted(tmp_path.glob("*.txt"))
    )
    assert tree_sha256(tmp_path, "*.txt") == hashlib.sha256(listing.encode()).hexdigest()
