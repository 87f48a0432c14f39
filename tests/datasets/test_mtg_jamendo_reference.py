"""The mtg-jamendo-moodtheme registry against the real MTG repository files in ../shared/reference.

Skipped, with the reason, where the reference folder is absent. Nothing is copied from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.datasets import load_spec, open_dataset
from harness.datasets.fetch import sha256_file
from harness.datasets.mtg_jamendo_files import read_tags_file

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
MTG = REFERENCE / "mtg-jamendo"
NAME = "mtg-jamendo-moodtheme"

pytestmark = [
    pytest.mark.reference,
    pytest.mark.skipif(
        not (MTG / "data" / "splits").is_dir(), reason=f"MTG-Jamendo reference files not found at {MTG}"
    ),
]

runner = CliRunner()

COUNTS = {
    "split-0": (9949, 3802, 4231),
    "split-1": (10190, 3594, 4198),
    "split-2": (10484, 4085, 3413),
    "split-3": (10920, 3500, 3562),
    "split-4": (10241, 3706, 4035),
}


@pytest.fixture(scope="module")
def dataset():
    return open_dataset(NAME, MTG)


def test_pinned_checksums_match_the_reference(dataset) -> None:
    assert len(dataset.source.files) == 16
    for pin in dataset.source.files:
        assert sha256_file(MTG / pin.path) == pin.sha256, pin.path
    dataset.ensure_source()


def test_counts_of_all_five_splits(dataset) -> None:
    for fold, (train, validation, test) in COUNTS.items():
        sizes = tuple(len(dataset.split(fold, split)) for split in ("train", "validation", "test"))
        assert sizes == (train, validation, test), fold
        assert dataset.expected_counts[fold] == {"train": train, "validation": validation, "test": test}


def test_56_tags_in_file_order(dataset) -> None:
    assert dataset.tags == read_tags_file(MTG / "data" / "tags" / "moodtheme_split.txt") == load_spec(NAME).tags
    assert len(dataset.tags) == 56
    assert "happy" in [dataset.spec.short_tag(t) for t in dataset.tags]


def test_no_carriage_return_survives(dataset) -> None:
    rows = dataset.tracks("split-0", "test")
    assert rows[0].track_id == "track_0003524" and rows[0].tags == ("mood/theme---melodic",)
    assert all(not tag.endswith("\r") for row in rows for tag in row.tags)


def test_verify_is_clean(dataset) -> None:
    findings = dataset.verify()
    failed = [f for f in findings if not f.ok]
    assert not failed, failed
    artist_checks = [f for f in findings if "no artist in both" in f.check]
    assert len(artist_checks) == 15  # 5 folds x 3 pairs of parts, none shared


def test_groundtruth_equals_mediaeval2019(tmp_path: Path) -> None:
    out, ids = tmp_path / "gt.npy", tmp_path / "ids.txt"
    result = runner.invoke(
        app,
        [
            "datasets",
            "groundtruth",
            NAME,
            "--fold",
            "split-0",
            "--split",
            "test",
            "-o",
            str(out),
            "--ids-out",
            str(ids),
            "--root",
            str(MTG),
        ],
    )
    assert result.exit_code == 0, result.output
    ours = np.load(out)
    official = np.load(MTG / "results" / "mediaeval2019" / "groundtruth.npy")
    assert ours.dtype == official.dtype == bool
    assert ours.shape == official.shape == (4231, 56)
    assert np.array_equal(ours, official)
    assert ids.read_text().splitlines()[0] == "track_0003524"


def test_show_through_the_cli() -> None:
    result = runner.invoke(app, ["datasets", "show", NAME, "--root", str(MTG)])
    assert result.exit_code == 0, result.output
    assert all(str(n) in result.output for n in COUNTS["split-0"])
    assert "happy" in result.output and "Bogdanov" in result.output


def test_fetch_verifies_real_pins_from_a_file_mirror(tmp_path: Path) -> None:
    written = open_dataset(NAME, tmp_path / "copy").fetch("splits", base_url=MTG.as_uri() + "/")
    assert len(written) == 16
    assert all(sha256_file(p) == sha256_file(MTG / p.relative_to(tmp_path / "copy")) for p in written)
