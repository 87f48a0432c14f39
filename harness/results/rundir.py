"""Run directories: ``runs/<dataset>/<fold>/<submission>/<run_id>/``.

Contents: ``config.json``, ``env.json``, ``log.jsonl``, ``checkpoints/{last,best}.pt``,
``predictions/{validation,test}.npz``, ``scores.json`` and ``done``, written last. Every file is
written atomically, so an interrupted run leaves whole files and no ``done``.

``.lock`` holds the process id of the harness process working in the directory, which holds an
``flock`` on it (:meth:`RunDirectory.lock`) from the directory's creation, or from the start of a
resume, to the end of the run: two ``harness run --resume`` of one unfinished run never both
train it. The lock goes with the process (a killed run leaves none behind); the file stays.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from harness import atomic
from harness.errors import BadInputError


class RunInUseError(BadInputError):
    """Another harness process holds the run directory's lock (exit 2: nothing was done)."""


@dataclass(frozen=True)
class RunDirectory:
    path: Path

    @classmethod
    def for_run(cls, runs_root: Path, dataset: str, fold: str, submission: str, run_id: str) -> RunDirectory:
        return cls(Path(runs_root) / dataset / fold / submission / run_id)

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def config_file(self) -> Path:
        return self.path / "config.json"

    @property
    def env_file(self) -> Path:
        return self.path / "env.json"

    @property
    def log_file(self) -> Path:
        return self.path / "log.jsonl"

    @property
    def scores_file(self) -> Path:
        return self.path / "scores.json"

    @property
    def done_file(self) -> Path:
        return self.path / "done"

    def checkpoint(self, which: str) -> Path:
        return self.path / "checkpoints" / f"{which}.pt"

    def predictions(self, split: str) -> Path:
        return self.path / "predictions" / f"{split}.npz"

    def is_done(self) -> bool:
        return self.done_file.is_file()

    def read_config(self) -> dict[str, Any]:
        return json.loads(self.config_file.read_text())

    def append_log(self, entry: dict[str, Any]) -> None:
        """Append one JSON line; the whole file is rewritten atomically (logs are small)."""
        old = self.log_file.read_text() if self.log_file.exists() else ""
        atomic.write_text(self.log_file, old + json.dumps(entry, sort_keys=True) + "\n")

    def write_log(self, entries: list[dict[str, Any]]) -> None:
        """Replace the log with ``entries`` (on resume: the epochs the checkpoint holds, no more, no fewer)."""
        atomic.write_text(self.log_file, "".join(json.dumps(entry, sort_keys=True) + "\n" for entry in entries))

    def save_checkpoint(self, which: str, state: dict[str, Any]) -> None:
        target = self.checkpoint(which)
        with atomic.atomic_path(target) as tmp:
            torch.save(state, tmp)

    @property
    def lock_file(self) -> Path:
        return self.path / ".lock"

    def mark_done(self) -> None:
        atomic.write_text(self.done_file, "")

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold this run directory for the calling process, or raise ``RunInUseError`` at once.

        ``flock`` on ``.lock``, which then holds our process id, so the refused process can name the
        holder. The lock is per open file description, so it also excludes a second opener in the
        same process. A file system without ``flock`` (some network mounts) runs unlocked, as before.
        """
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if self._try_flock(fd):
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _try_flock(self, fd: int) -> bool:
        """True when locked; False where the file system has no flock; RunInUseError when another holds it."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                return False
            raise RunInUseError(
                f"run {self.run_id} is in use by another harness process ({self._holder()}); wait for it to "
                f"finish, or stop that process and run again with --resume (run directory: {self.path})"
            ) from None
        return True

    def _holder(self) -> str:
        try:
            pid = self.lock_file.read_text().strip()
        except OSError:
            pid = ""
        return f"pid {pid}" if pid.isdigit() else "pid unknown"


def find_resumable(parent: Path, config_hash: str, done: bool | None = None) -> RunDirectory | None:
    """The newest run under ``parent`` with this config hash, if any: finished (``done=True``),
    unfinished (``done=False``) or either (``None``)."""
    if not parent.is_dir():
        return None
    candidates = []
    for child in parent.iterdir():
        run = RunDirectory(child)
        if not run.config_file.is_file():
            continue
        try:
            if run.read_config().get("config_hash") == config_hash:
                if done is None or run.is_done() == done:
                    candidates.append(run)
        except (OSError, json.JSONDecodeError):
            continue
    if not candidates:
        return None
    return max(candidates, key=lambda run: run.config_file.stat().st_mtime)


def new_run_directory(parent: Path, seed: int, config_hash: str, now: datetime | None = None) -> RunDirectory:
    """A new, empty run directory ``<UTC time>-seed<k>-<hash8>`` under ``parent``, created here.

    Creating it reserves the name: two runs of one configuration started within the same second
    (``--force`` right after a run, or two terminals) get ``<time>-2-seed<k>-<hash8>``, ``-3``...,
    so a run never writes into another's directory. An empty directory left by a run killed before
    it wrote its configuration is ignored by :func:`find_resumable`.
    """
    return RunDirectory(reserve_timestamped(parent, f"-seed{seed}-{config_hash[:8]}", Path.mkdir, now))


def reserve_timestamped(
    parent: Path, suffix: str, create: Callable[[Path], object], now: datetime | None = None
) -> Path:
    """The first free ``<UTC time><suffix>``, ``<UTC time>-2<suffix>``, ``-3``... under ``parent``.

    ``create`` makes the path and raises ``FileExistsError`` when it is already there (``Path.mkdir``
    for a directory, ``lambda p: p.touch(exist_ok=False)`` for a file), so two processes never get
    the same name.
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    parent.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        path = parent / f"{stamp}{'' if n == 1 else f'-{n}'}{suffix}"
        try:
            create(path)
        except FileExistsError:
            continue
        return path
    raise AssertionError("unreachable")  # pragma: no cover
