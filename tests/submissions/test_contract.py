"""The contract of every folder in submissions/: same checks for all (as timm tests its registry).

The folders are listed when the tests are collected, so a new submission is covered as soon as its
folder exists.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.submissions import NAME_PATTERN, check_submission, load_submission

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"
FOLDERS = sorted(p.name for p in SUBMISSIONS.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def test_the_zoo_is_not_empty() -> None:
    assert {"vgg6", "popular", "random"} <= set(FOLDERS)


@pytest.mark.parametrize("name", FOLDERS)
def test_folder_has_the_three_files_and_its_own_name(name: str) -> None:
    folder = SUBMISSIONS / name
    for filename in ("submission.toml", "model.py", "README.md"):
        assert (folder / filename).is_file(), f"{folder / filename} is missing"
    assert NAME_PATTERN.fullmatch(name), f"{name}: not a valid submission name"
    assert load_submission(folder).spec.name == name, f"{folder / 'submission.toml'}: name differs from the folder's"


@pytest.mark.parametrize("name", FOLDERS)
def test_check_passes(name: str) -> None:
    """Import, toml, build, forward (train and eval: shape, finite), backward and a decreasing loss."""
    report = check_submission(SUBMISSIONS / name)
    assert report["output"] == [2, 8]
    if report["trains"]:
        assert report["loss"]["last"] < report["loss"]["first"]
    else:
        assert report["skipped"] == ["backward pass", "loss decrease"]
