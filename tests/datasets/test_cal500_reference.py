"""CAL500 and CAL500exp against the publishers' real files in ../shared/reference (skipped when absent)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.datasets import open_dataset
from harness.datasets.fold_generators import groups_in_several_parts, positives_per_part

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
CAL500 = REFERENCE / "cal500"
CAL500EXP = REFERENCE / "cal500exp"
REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.reference,
    pytest.mark.skipif(
        not (CAL500 / "hardAnnotations.txt").is_file() or not (CAL500EXP / "SegLabelHard").is_dir(),
        reason=f"the CAL500 / CAL500exp reference files are not in {REFERENCE} (licensed; never in the repository)",
    ),
]


def _hard_emotions() -> tuple[list[str], list[str], np.ndarray]:
    songs = (CAL500 / "songNames.txt").read_text().split()
    vocab = (CAL500 / "vocab.txt").read_text().split()
    hard = np.loadtxt(CAL500 / "hardAnnotations.txt", delimiter=",").astype(bool)
    return songs, vocab[:36:2], hard[:, :36:2]


def test_cal500_songs_tags_and_hard_labels() -> None:
    dataset = open_dataset("cal500", CAL500)
    songs, emotions, hard = _hard_emotions()
    assert len(dataset.items.item_ids) == 502 and list(dataset.items.item_ids) == songs
    assert len(dataset.tags) == 18 and list(dataset.tags) == emotions
    assert dataset.tags[0] == "Emotion-Angry_/_Agressive"
    assert np.array_equal(dataset.items.labels, hard)
    assert int(dataset.items.labels[:, dataset.tags.index("Emotion-Bizarre_/_Weird")].sum()) == 22


def test_cal500_survey_agreement() -> None:
    dataset = open_dataset("cal500", CAL500)
    first = dataset.survey_agreement("first")
    assert (first.agree, first.total) == (9036, 9036)  # one survey per file reproduces the hard file
    assert dataset.survey_agreement("all").agree == 8999  # 1,754 records: 46 files hold a second one
    assert dataset.survey_agreement("last").agree == 8997
    assert first.surveys_without_song == ("rajdhani_quartet-raga_hansa_kalyani",)


@pytest.mark.parametrize(
    ("name", "root"),
    [("cal500", CAL500), ("cal500-all", CAL500), ("cal500exp", CAL500EXP), ("cal500exp-67", CAL500EXP)],
)
def test_committed_folds_are_what_the_script_makes(name: str, root: Path) -> None:
    dataset = open_dataset(name, root)
    assert dataset.make_fold_text().encode("utf-8") == dataset.folds_file.read_bytes()


def test_make_folds_script_check_mode() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "datasets" / "make_folds.py"), "cal500", "--root", str(CAL500), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "identical" in done.stdout, done.stdout + done.stderr


def test_cal500_every_tag_in_every_test_part() -> None:
    dataset = open_dataset("cal500", CAL500)
    parts = dataset.parts(dataset.folds_config.default)
    counts = positives_per_part(dataset.items.labels, parts, 10)
    assert counts.min() >= 2  # Bizarre_/_Weird: 22 positives, 2 or 3 per part
    assert sorted(np.bincount(parts).tolist()) == [50] * 8 + [51] * 2
    for k in range(10):
        test = dataset.split(f"fold-{k}", "test")
        assert (test.positives_per_tag() >= 1).all()
        assert (
            len(dataset.split(f"fold-{k}", "train")) + len(dataset.split(f"fold-{k}", "validation")) + len(test) == 502
        )


def test_cal500_random_variant_misses_bizarre_somewhere() -> None:
    """Why the default folds are stratified: the plain random ten-fold leaves Bizarre out of a part."""
    dataset = open_dataset("cal500", CAL500)
    random_set = dataset.folds_config.sets[1]
    counts = positives_per_part(dataset.items.labels, dataset.parts(random_set), 10)
    assert counts[:, dataset.tags.index("Emotion-Bizarre_/_Weird")].min() == 0
    assert dataset.spec.resolve_fold(0) == "fold-0" and dataset.spec.resolve_fold(10) == "random-0"


def test_cal500exp_segments_and_grouped_folds() -> None:
    dataset = open_dataset("cal500exp", CAL500EXP)
    items = dataset.items
    assert len(items.item_ids) == 3223 and len(set(items.groups)) == 500
    assert "crosby_stills_and_nash-guinnevere" not in items.groups
    assert dataset.tags == open_dataset("cal500", CAL500).tags
    assert items.item_ids[0] == "10cc-for_you_and_i/12.016-19.076"  # rows are unsorted in the file
    parts = dataset.parts(dataset.folds_config.default)
    assert groups_in_several_parts(items.groups, parts) == []
    assert (positives_per_part(items.labels, parts, 10, items.groups) >= 1).all()
    leaky = dataset.parts(dataset.folds_config.sets[1])
    assert len(groups_in_several_parts(items.groups, leaky)) > 400
    assert dataset.fold_flags("segment-random-4") == ("leaky: segments of one song in train and test",)
    assert len(open_dataset("cal500exp-67", CAL500EXP).tags) == 67


def test_cli_show_and_verify() -> None:
    runner = CliRunner()
    for name, root in (("cal500", CAL500), ("cal500exp", CAL500EXP)):
        shown = runner.invoke(app, ["datasets", "show", name, "--root", str(root)])
        assert shown.exit_code == 0, shown.output
        assert "fold-0" in shown.output and "Emotion-Happy" in shown.output
        verified = runner.invoke(app, ["datasets", "verify", name, "--root", str(root)])
        assert verified.exit_code == 0, verified.output
        assert "FAIL" not in verified.output
    text = " ".join(runner.invoke(app, ["datasets", "verify", "cal500", "--root", str(CAL500)]).output.split())
    assert "9036 of 9036 cells agree" in text
