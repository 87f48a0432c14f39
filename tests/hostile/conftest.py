"""Fixtures of the hostile-input suite; the helpers are in ``hostile.py`` (``from hostile import cli``)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def readonly_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder nothing can be written into, not even by root (the CI runs as root).

    As another user: ``chmod 555``. As root, permission bits do not stop writes, so a read-only
    tmpfs is mounted there; where mounting is not allowed, the case skips with that reason (the
    ENOTDIR cases, a folder under a regular file, cover the same check everywhere).
    """
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "harness-ro", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"cannot mount a read-only tmpfs as root here ({mounted.stderr.strip()}); the ENOTDIR cases still run"
        )
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


@pytest.fixture
def under_a_file(tmp_path: Path) -> Path:
    """A path whose parent is a regular file: no one can create it (ENOTDIR), root included."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    return blocker / "sub"
