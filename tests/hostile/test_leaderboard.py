"""`harness leaderboard build` and `serve` against hostile or careless input (issue 13).

One recorded row never breaks a board: a run whose stored predictions, labels, scores or
provenance cannot be used is left out (in part or whole) with a `warning:` naming it, and the
other runs are ranked. The site is built beside its folder and swapped in whole, so a killed or
interrupted build leaves the previous site complete; a folder holding anything a build did not
make is never replaced. A missing or empty store is refused (`--allow-empty` builds anyway), a
read-only store is read without a byte changed, and an unwritable output folder is one line
before any work.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hostile import REPO, Outcome, assert_clean_error, cli, cli_process, snapshot, start_process

from harness.datasets.splits import SplitData
from harness.leaderboard.pages import run_page_name
from harness.leaderboard.site_folder import MARKER
from harness.results.store import ResultsStore, RunRecord

DAMAGED = "mid[/b]\x1b[2J"  # the damaged run's id: markup and an escape, printed as text
SHOWN = "mid[/b]\\x1b[2J"  # how the warning line shows it: as text, the escape spelled out


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _as_float32(array: np.ndarray) -> np.ndarray:
    """What an older harness stored for finite float64 scores beyond float32: infinities."""
    with np.errstate(over="ignore"):
        return array.astype(np.float32)


def _record_runs(store: Path) -> SplitData:
    """Three toy-board runs with predictions: good (0.9), DAMAGED (0.7), poor (0.5)."""
    rng = np.random.default_rng(0)
    labels = rng.random((40, 5)) < 0.3
    split = SplitData("toy", "split-0", "test", tuple(f"item{i}" for i in range(40)), tuple("abcde"), labels)
    for run_id, value in (("good", 0.9), (DAMAGED, 0.7), ("poor", 0.5)):
        scores = np.clip(labels + rng.normal(0, 0.6, labels.shape), 0, 1)
        record = RunRecord(
            run_id=run_id,
            dataset="toy",
            fold="split-0",
            split="test",
            submission=f"net-{run_id[:4]}",
            team="team",
            run_name="seed-0",
            fingerprint=split.fingerprint,
            scores={"PR-AUC-macro": value, "ROC-AUC-macro": 0.8},
            tag_scores={tag: {"PR-AUC": value} for tag in split.tags},
            created=f"2024-05-0{int(value * 10) - 4}T00:00:00Z",
        )
        ResultsStore(store).record(record, predictions=scores, split=split)
    return split


@pytest.fixture
def store(isolated_paths: Path) -> Path:
    path = isolated_paths / "runs" / "results.sqlite"
    _record_runs(path)
    return path


def _sql(store: Path, statement: str, *params: object) -> None:
    with sqlite3.connect(store) as db:
        db.execute(statement, params)
    db.close()


def _warnings(outcome) -> list[str]:
    return [line for line in outcome.stderr.splitlines() if line.startswith("warning:")]


def _assert_built_with_warning(outcome, site: Path, *needles: str, ranked: tuple[str, ...]) -> str:
    """Exit 0, no error line, no traceback, one warning holding the needles; the board ranks ``ranked``."""
    assert outcome.exception is None and outcome.code == 0, repr(outcome)
    assert "Traceback" not in outcome.stderr + outcome.stdout and "error:" not in outcome.stderr, repr(outcome)
    assert "\x1b" not in outcome.stderr + outcome.stdout, repr(outcome)
    warnings = _warnings(outcome)
    assert len(warnings) == 1, repr(outcome)
    for needle in needles:
        assert needle in warnings[0], f"{needle!r} not in {warnings[0]!r}"
    board = (site / "toy.html").read_text()
    positions = [board.index(f">net-{name[:4]}<") for name in ranked]
    assert positions == sorted(positions), "the other runs are ranked, in order"
    return warnings[0]


# -- 1. one row never breaks a board ------------------------------------------------------------


@pytest.mark.parametrize(
    "blob, needles",
    [
        # finite float64 beyond float32, as a harness before the check recorded it
        pytest.param(_npy(_as_float32(np.full((40, 5), 1e300))), ("no tie test", "infinite"), id="predictions-inf"),
        pytest.param(
            _npy(np.zeros((3, 2), dtype=np.float32)), ("no tie test", "shape (3, 2)"), id="predictions-wrong-shape"
        ),
        pytest.param(b"not an npy file", ("no tie test", "cannot be read"), id="predictions-unreadable"),
    ],
)
def test_unusable_predictions_cost_the_run_its_tie_test_and_curve(
    store: Path, isolated_paths: Path, blob: bytes, needles: tuple[str, ...]
) -> None:
    _sql(store, "UPDATE predictions SET scores = ? WHERE run_id = ?", blob, DAMAGED)
    out = cli("leaderboard", "build")
    _assert_built_with_warning(out, isolated_paths / "site", SHOWN, *needles, ranked=("good", DAMAGED, "poor"))
    page = (isolated_paths / "site" / "runs" / run_page_name(DAMAGED)).read_text()
    assert "<polyline" not in page  # no curve for it
    assert "<polyline" in (isolated_paths / "site" / "runs" / run_page_name("good")).read_text()


def test_unreadable_labels_name_the_split_and_the_board_builds(store: Path, isolated_paths: Path) -> None:
    _sql(store, "UPDATE splits SET labels = ?", b"garbage")
    out = cli("leaderboard", "build")
    warning = _assert_built_with_warning(
        out, isolated_paths / "site", "labels of split", "cannot be read", ranked=("good", DAMAGED, "poor")
    )
    assert "no tie test" in warning


@pytest.mark.parametrize(
    "statement, needle",
    [
        ("UPDATE tag_scores SET value = 'NaN' WHERE run_id = ? AND tag = 'a'", "must be a number"),
        ("UPDATE scores SET value = 1e999 WHERE run_id = ? AND metric = 'ROC-AUC-macro'", "inf"),
        ("UPDATE runs SET config = '[1, 2]' WHERE run_id = ?", "config must be a mapping"),
        ("UPDATE runs SET provenance = '{\"a\": ' WHERE run_id = ?", "cannot be read"),
    ],
    ids=["nan-tag-score", "inf-score", "config-not-a-table", "provenance-not-json"],
)
def test_a_run_the_store_cannot_read_is_left_off_with_a_warning(
    store: Path, isolated_paths: Path, statement: str, needle: str
) -> None:
    _sql(store, statement, DAMAGED)
    out = cli("leaderboard", "build")
    _assert_built_with_warning(
        out, isolated_paths / "site", SHOWN, "left off the boards", needle, ranked=("good", "poor")
    )
    assert not (isolated_paths / "site" / "runs" / run_page_name(DAMAGED)).exists()


def test_runs_delete_removes_a_row_the_store_cannot_read(store: Path, isolated_paths: Path) -> None:
    _sql(store, "UPDATE runs SET config = '[1, 2]' WHERE run_id = ?", DAMAGED)
    listed = cli("runs", "list")  # the row breaks the listing: the one line says how to get rid of it
    assert_clean_error(listed, "cannot be read", "harness runs delete")
    deleted = cli("runs", "delete", DAMAGED)
    assert deleted.code == 0 and deleted.exception is None, repr(deleted)
    assert "could not be read" in deleted.stdout
    assert ResultsStore(store).run_ids() == ["good", "poor"]
    assert [r.run_id for r in ResultsStore(store).list_runs()] == ["good", "poor"]
    out = cli("leaderboard", "build")
    assert out.code == 0 and not _warnings(out), repr(out)


@pytest.mark.parametrize(
    "provenance, shown",
    [
        ('{"flags": 5}', ">5<"),  # one flag, recorded bare
        ('{"flags": "leaky: one song in train and test"}', ">leaky<"),
        (
            '{"intervals": {"PR-AUC-macro": {"low": 0.6, "high": 0.8, "confidence": Infinity, "replicates": NaN}}}',
            "0.6000–0.8000",
        ),
    ],
    ids=["flags-a-number", "flags-a-string", "interval-odd-numbers"],
)
def test_odd_provenance_draws_without_breaking_the_board(
    store: Path, isolated_paths: Path, provenance: str, shown: str
) -> None:
    _sql(store, "UPDATE runs SET provenance = ? WHERE run_id = ?", provenance, DAMAGED)
    out = cli("leaderboard", "build")
    assert out.code == 0 and out.exception is None and not _warnings(out), repr(out)
    assert shown in (isolated_paths / "site" / "toy.html").read_text()


# -- 2. the site is swapped in whole --------------------------------------------------------------


def _record_late_run(store: Path) -> None:
    ResultsStore(store).record(
        RunRecord(
            run_id="late",
            dataset="toy",
            fold="split-0",
            split="test",
            submission="net-late",
            team="team",
            run_name="seed-0",
            fingerprint="f" * 64,
            scores={"PR-AUC-macro": 0.95},
        )
    )


KILLER = """
import os, signal, sys
import harness.atomic as atomic
written, real = [], atomic.write_text
def write_text(target, text):
    written.append(target)
    if len(written) == int(os.environ["KILL_AFTER"]):
        os.kill(os.getpid(), signal.SIGKILL)
    real(target, text)
atomic.write_text = write_text
from harness.cli import main
sys.argv = ["harness", "leaderboard", "build"]
main()
"""


def test_a_killed_build_leaves_the_previous_site_whole_and_the_next_build_cleans_up(
    store: Path, isolated_paths: Path
) -> None:
    site = isolated_paths / "site"
    assert cli("leaderboard", "build").code == 0
    before = snapshot(site)
    _record_late_run(store)
    killed = subprocess.run(
        [sys.executable, "-c", KILLER],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "KILL_AFTER": "3"},
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert snapshot(site) == before  # the old site, every page of it, as it was
    leftovers = [p.name for p in isolated_paths.iterdir() if p.name.startswith(".site.")]
    assert leftovers and all(".site.building-" in name for name in leftovers)

    again = cli("leaderboard", "build")
    assert again.code == 0, repr(again)
    assert not [p for p in isolated_paths.iterdir() if p.name.startswith(".site.")]  # cleaned
    assert "net-late" in (site / "toy.html").read_text()
    assert (site / MARKER).is_file() and not list(site.rglob("*.tmp"))


def test_an_interrupted_build_leaves_the_previous_site_and_no_leftovers(
    store: Path, isolated_paths: Path, monkeypatch
) -> None:
    import harness.atomic as atomic

    site = isolated_paths / "site"
    assert cli("leaderboard", "build").code == 0
    before = snapshot(site)
    _record_late_run(store)  # the next build's pages differ from the site's
    written, real = [], atomic.write_text

    def interrupt(target, text):
        written.append(target)
        if len(written) == 3:
            raise KeyboardInterrupt
        real(target, text)

    monkeypatch.setattr(atomic, "write_text", interrupt)
    out = cli("leaderboard", "build")
    assert_clean_error(out, "interrupted", code=130)
    assert snapshot(site) == before
    assert not [p for p in isolated_paths.iterdir() if p.name.startswith(".site.")]


def test_two_builds_at_once_both_succeed_and_leave_one_whole_site(store: Path, isolated_paths: Path) -> None:
    builds = [start_process("leaderboard", "build") for _ in range(2)]
    outcomes = [(*proc.communicate(timeout=300), proc.returncode) for proc in builds]
    assert all(code == 0 for _, _, code in outcomes), outcomes
    site = isolated_paths / "site"
    assert (site / MARKER).is_file() and (site / "toy.html").is_file()
    assert all((site / "runs" / run_page_name(r)).is_file() for r in ("good", DAMAGED, "poor"))
    assert not [p for p in isolated_paths.iterdir() if p.name.startswith(".site.")]


def test_a_site_from_before_the_marker_is_replaced(store: Path, isolated_paths: Path) -> None:
    site = isolated_paths / "site"
    (site / "runs").mkdir(parents=True)
    (site / "index.html").write_text('<!doctype html>\n<meta name="generator" content="harness 0.1.0">\n')
    (site / "runs" / "gone.html").write_text("a run no longer shown\n")
    (site / ".toy.html.abc123.tmp").write_text("a torn write of an old build\n")
    out = cli("leaderboard", "build")
    assert out.code == 0, repr(out)
    assert (site / MARKER).is_file() and not (site / "runs" / "gone.html").exists()
    assert not list(site.glob("*.tmp"))


def test_a_folder_with_other_files_is_never_replaced(store: Path, isolated_paths: Path) -> None:
    mine = isolated_paths / "my-stuff"
    mine.mkdir()
    (mine / "notes[red].txt").write_text("keep me\n")
    (mine / "index.html").write_text("<p>my own page</p>\n")
    before = snapshot(mine)
    out = cli("leaderboard", "build", "--out", mine)
    assert_clean_error(out, str(mine.resolve()), "'notes[red].txt'", "no leaderboard build made", "--out")
    assert snapshot(mine) == before
    assert sorted(p.name for p in isolated_paths.iterdir() if p.name.startswith(".my-stuff")) == []


def test_out_naming_a_file_is_refused(store: Path, isolated_paths: Path) -> None:
    target = isolated_paths / "site.html"
    target.write_text("a file\n")
    out = cli("leaderboard", "build", "--out", target)
    assert_clean_error(out, str(target), "not a folder", "--out")
    assert target.read_text() == "a file\n"


# -- 3. a missing or empty store ---------------------------------------------------------------


def test_a_build_from_another_folder_does_not_overwrite_the_site(store: Path, isolated_paths: Path) -> None:
    site = isolated_paths / "site"
    assert cli("leaderboard", "build").code == 0
    before = snapshot(site)
    elsewhere = isolated_paths / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_STORE", "HARNESS_RUNS")}
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "leaderboard", "build"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = Outcome(proc.returncode, proc.stdout, proc.stderr)
    assert_clean_error(
        out, str(elsewhere / "runs" / "results.sqlite"), "does not exist", "--store", "$HARNESS_STORE", "--allow-empty"
    )
    assert snapshot(site) == before


def test_an_empty_store_is_refused_unless_allowed(isolated_paths: Path) -> None:
    empty = isolated_paths / "empty.sqlite"
    sqlite3.connect(empty).close()
    out = cli("leaderboard", "build", "--store", empty)
    assert_clean_error(out, str(empty), "holds no runs", "--allow-empty")
    assert not (isolated_paths / "site").exists()
    allowed = cli("leaderboard", "build", "--store", empty, "--allow-empty")
    assert allowed.code == 0 and "No runs yet" in (isolated_paths / "site" / "index.html").read_text(), repr(allowed)


def test_a_missing_store_named_by_the_environment_is_refused(isolated_paths: Path) -> None:
    out = cli("leaderboard", "build")  # $HARNESS_STORE names runs/results.sqlite, never recorded
    assert_clean_error(out, str(isolated_paths / "runs" / "results.sqlite"), "does not exist")


# -- 4. a read-only store ----------------------------------------------------------------------


def _fill(folder: Path, *files: Path) -> None:
    """Copy ``files`` into the read-only ``folder`` (remounted writable for the copy when root)."""
    if os.geteuid() == 0:
        subprocess.run(["mount", "-o", "remount,rw", str(folder)], check=True)
    else:
        folder.chmod(0o755)
    for path in files:
        shutil.copy2(path, folder / path.name)
    if os.geteuid() == 0:
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    else:
        folder.chmod(0o555)


def test_a_store_on_a_read_only_mount_builds_and_is_not_touched(
    store: Path, isolated_paths: Path, readonly_dir: Path
) -> None:
    _fill(readonly_dir, store)
    copy = readonly_dir / store.name
    before = snapshot(readonly_dir)
    out = cli("leaderboard", "build", "--store", copy)
    assert out.code == 0 and "error:" not in out.stderr, repr(out)
    assert snapshot(readonly_dir) == before and sorted(os.listdir(readonly_dir)) == [store.name]
    board = (isolated_paths / "site" / "toy.html").read_text()
    assert board.index(">net-good<") < board.index(">net-mid[<") < board.index(">net-poor<")


# -- 5. an unwritable output folder ------------------------------------------------------------


def test_out_under_a_file_is_one_line_before_any_work(store: Path, under_a_file: Path) -> None:
    out = cli("leaderboard", "build", "--out", under_a_file)
    assert_clean_error(out, str(under_a_file.parent), "cannot write here", "--out")


def test_harness_site_in_a_read_only_folder_is_one_line(store: Path, readonly_dir: Path) -> None:
    out = cli("leaderboard", "build", env={"HARNESS_SITE": str(readonly_dir / "site")})
    assert_clean_error(out, str(readonly_dir), "cannot write here", "$HARNESS_SITE")


def test_out_naming_a_mount_point_is_one_line(store: Path, readonly_dir: Path) -> None:
    if not os.path.ismount(readonly_dir):
        pytest.skip("the read-only folder is not a mount point here (not root)")
    out = cli("leaderboard", "build", "--out", readonly_dir)
    assert_clean_error(out, str(readonly_dir), "mount point", "--out")


# -- 6. serve ----------------------------------------------------------------------------------


@pytest.fixture
def built_site(store: Path, isolated_paths: Path) -> Path:
    assert cli("leaderboard", "build").code == 0
    return isolated_paths / "site"


def test_serve_on_a_port_out_of_range_is_one_line(built_site: Path) -> None:
    assert_clean_error(cli("leaderboard", "serve", "--port", "70000"), "--port 70000", "1 to 65535")


def test_serve_on_a_port_in_use_is_one_line(built_site: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = cli_process("leaderboard", "serve", "--port", str(port), timeout=60)
    assert_clean_error(out, f"port {port}", "in use", "--port")


def test_serve_of_a_missing_site_names_it_as_text(isolated_paths: Path) -> None:
    missing = isolated_paths / "no[bold]site\x1b[2J"
    assert_clean_error(
        cli("leaderboard", "serve", "--out", missing), "no[bold]site\\x1b[2J", "harness leaderboard build"
    )
