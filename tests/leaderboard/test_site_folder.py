"""The site folder: built beside, swapped in whole, leftovers of dead builds cleaned, other files refused."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from harness.errors import BadInputError
from harness.leaderboard.site_folder import MARKER, building, check_target, clean_leftovers, foreign_entry


def make_site(folder: Path, *pages: str) -> Path:
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("site\n")
    for page in pages:
        (folder / page).parent.mkdir(parents=True, exist_ok=True)
        (folder / page).write_text(page)
    return folder


def test_a_build_replaces_the_site_whole(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", "index.html", "runs/gone.html")
    with building(site) as folder:
        assert folder.parent == tmp_path and folder.name.startswith(".site.building-")
        assert (site / "runs" / "gone.html").is_file()  # the old site is served while the new one is made
        (folder / "index.html").write_text("new")
    assert (site / "index.html").read_text() == "new" and (site / MARKER).is_file()
    assert not (site / "runs").exists()  # pages of runs no longer shown do not linger
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_failed_build_changes_nothing(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", "index.html")
    with pytest.raises(RuntimeError), building(site) as folder:
        (folder / "index.html").write_text("half")
        raise RuntimeError("a page failed")
    assert (site / "index.html").read_text() == "index.html"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_leftovers_of_dead_builds_are_removed_and_a_lost_site_put_back(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dead_build = make_site(tmp_path / ".site.building-4242-abc_123", "index.html")
    dead_old = make_site(tmp_path / ".site.old-4242-0a1b2c3d", "index.html")  # died between the two renames
    mine = tmp_path / ".site.building-notes"  # not a name a build makes: never touched
    mine.mkdir()
    removed = clean_leftovers(site)
    assert removed == [dead_build]
    assert not dead_old.exists() and (site / MARKER).is_file()  # the old site is back in place
    assert mine.is_dir()


def test_a_build_in_progress_is_not_a_leftover(tmp_path: Path) -> None:
    alive = make_site(tmp_path / ".site.building-77-xyz", "index.html")
    fd = os.open(alive, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as the living build holds it
    try:
        assert clean_leftovers(tmp_path / "site") == []
        assert alive.is_dir()
    finally:
        os.close(fd)
    assert clean_leftovers(tmp_path / "site") == [alive]


@pytest.mark.parametrize(
    "entries, foreign",
    [
        ((), None),
        ((MARKER, "index.html", "notes.txt"), None),  # a site: replaced whole, as its marker says
        (("index.html",), "index.html"),  # a page, but not from a harness build
        (("runs/",), "runs"),  # a folder of the site's name, but no index
        (("notes.txt", "index.html"), "notes.txt"),
        (("data/",), "data"),
    ],
)
def test_what_a_build_may_replace(tmp_path: Path, entries: tuple[str, ...], foreign: str | None) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    for entry in entries:
        if entry.endswith("/"):
            (folder / entry).mkdir()
        else:
            (folder / entry).write_text("<p>mine</p>")
    assert foreign_entry(folder) == foreign
    if foreign is not None:
        with pytest.raises(BadInputError, match="no leaderboard build made"):
            check_target(folder, "--out")


def test_a_site_from_before_the_marker_is_recognised(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    (folder / "runs").mkdir(parents=True)
    (folder / "index.html").write_text('<!doctype html>\n<meta name="generator" content="harness 0.1.0">\n')
    (folder / "toy.html").write_text("board")
    (folder / ".toy.html.x1y2.tmp").write_text("torn")
    assert foreign_entry(folder) is None
    (folder / "notes.txt").write_text("mine")
    assert foreign_entry(folder) == "notes.txt"
