"""Finding a run directory to reuse or resume by its configuration hash."""

from __future__ import annotations

import os
from datetime import UTC
from pathlib import Path

from harness import atomic
from harness.results.rundir import RunDirectory, find_resumable


def _run(parent: Path, name: str, config_hash: str, done: bool, mtime: int) -> RunDirectory:
    run = RunDirectory(parent / name)
    atomic.write_json(run.config_file, {"config_hash": config_hash})
    os.utime(run.config_file, (mtime, mtime))
    if done:
        run.mark_done()
    return run


def test_newest_run_with_the_hash_finished_unfinished_or_either(tmp_path: Path) -> None:
    old_done = _run(tmp_path, "a", "h", done=True, mtime=1_000)
    new_done = _run(tmp_path, "b", "h", done=True, mtime=2_000)
    unfinished = _run(tmp_path, "c", "h", done=False, mtime=1_500)
    _run(tmp_path, "d", "other", done=True, mtime=3_000)
    (tmp_path / "e").mkdir()  # no config.json
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "config.json").write_text("{not json")

    assert find_resumable(tmp_path, "h", done=True) == new_done
    assert find_resumable(tmp_path, "h", done=False) == unfinished
    assert find_resumable(tmp_path, "h") == new_done
    assert old_done.is_done() and not unfinished.is_done()
    assert find_resumable(tmp_path, "missing") is None
    assert find_resumable(tmp_path / "absent", "h") is None


def test_new_run_directories_within_one_second_never_share_a_name(tmp_path: Path) -> None:
    from datetime import datetime

    from harness.results.rundir import new_run_directory

    now = datetime(2026, 11, 23, 0, 36, 50, tzinfo=UTC)
    first = new_run_directory(tmp_path / "runs", 0, "abcdef1234", now=now)
    second = new_run_directory(tmp_path / "runs", 0, "abcdef1234", now=now)
    third = new_run_directory(tmp_path / "runs", 0, "abcdef1234", now=now)
    assert first.run_id == "20261123T003650-seed0-abcdef12"
    assert second.run_id == "20261123T003650-2-seed0-abcdef12" and third.run_id == "20261123T003650-3-seed0-abcdef12"
    assert all(run.path.is_dir() and not any(run.path.iterdir()) for run in (first, second, third))  # reserved, empty
    assert find_resumable(tmp_path / "runs", "abcdef1234") is None  # an empty reserved directory is no run


def test_timestamped_files_within_one_second_never_share_a_name(tmp_path: Path) -> None:
    """The fold summaries' names: reserved by creating the file, as run directories are by mkdir."""
    from datetime import datetime

    from harness.results.rundir import reserve_timestamped

    now = datetime(2026, 11, 23, 0, 36, 50, tzinfo=UTC)
    create = lambda path: path.touch(exist_ok=False)  # noqa: E731
    first = reserve_timestamped(tmp_path / "all-folds", "-seed0.json", create, now=now)
    second = reserve_timestamped(tmp_path / "all-folds", "-seed0.json", create, now=now)
    assert (first.name, second.name) == ("20261123T003650-seed0.json", "20261123T003650-2-seed0.json")
    assert first.is_file() and second.is_file()


def test_a_locked_run_directory_refuses_a_second_holder_and_names_the_first(tmp_path: Path) -> None:
    """flock is per open file description: a second lock in the same process is refused too."""
    import pytest

    from harness.results.rundir import RunInUseError

    run = RunDirectory(tmp_path / "20261123T003650-seed0-abcdef12")
    run.path.mkdir()
    with run.lock():
        assert run.lock_file.read_text() == f"{os.getpid()}\n"
        with pytest.raises(
            RunInUseError, match=rf"run {run.run_id} is in use by another harness process \(pid {os.getpid()}\)"
        ):
            with run.lock():
                pass  # pragma: no cover
    with run.lock():  # released on leaving: the next holder gets it
        pass


def test_a_refused_lock_writes_nothing(tmp_path: Path) -> None:
    import fcntl

    import pytest

    from harness.results.rundir import RunInUseError

    run = RunDirectory(tmp_path / "run")
    run.path.mkdir()
    run.lock_file.write_text("4242\n")
    fd = os.open(run.lock_file, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RunInUseError, match=r"pid 4242"):
            with run.lock():
                pass  # pragma: no cover
        assert run.lock_file.read_text() == "4242\n" and sorted(p.name for p in run.path.iterdir()) == [".lock"]
    finally:
        os.close(fd)
