"""One ``prepare`` at a time per dataset root: an advisory ``fcntl.flock`` on ``<root>/.harness-prepare.lock``.

Generating a dataset's sources (the toy) and building its feature store both write under the
root; two processes doing it at once (two ``harness datasets prepare``, or two first ``harness
run`` on an empty data folder) would delete each other's half-built files. The second one waits
for the lock instead, then finds the sources complete and the store current, and reuses them.

``flock`` is released by the kernel when its holder dies, so a killed process never leaves a
stale lock; the (empty) lock file itself stays, which is harmless.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_FILE = ".harness-prepare.lock"


@contextlib.contextmanager
def prepare_lock(root: Path, on_wait: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Hold the root's prepare lock for the ``with`` block; ``on_wait(message)`` is called once if another holds it."""
    path = Path(root) / LOCK_FILE
    with open(path, "a") as handle:  # "a": created if missing, never truncated under another holder
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(f"waiting for another prepare of {root} to finish (it holds {path})")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield path
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
