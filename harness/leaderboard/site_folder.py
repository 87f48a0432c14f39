"""The site folder: each build is made beside it and swapped in whole, so no one sees half a site.

A build renders into ``.<name>.building-<pid>-XXXX`` in the site's parent folder and, when every
page is written, swaps it in: the old site is renamed aside (``.<name>.old-<pid>-XXXX``), the new
one renamed to the site's name, the old one removed. A build that is killed leaves the previous
site as it was, complete; the next build removes what it left behind.

The folder a build replaces is replaced whole, so it may only be new, empty, or a site a build
made: every site holds a marker file (:data:`MARKER`), and a folder holding anything else is
refused, because it may hold a user's other files. A site built before the marker existed is
recognised by its ``index.html`` (the generator tag of the templates) and by holding nothing but
pages.

A build holds an exclusive ``flock`` on its build folder for its whole life (and on the old site
while it is being swapped out); the kernel drops it when the process dies, however it dies, which
is how a later build tells a leftover from a build still running. Swaps and the cleaning of
leftovers happen under a lock on the parent folder, so two builds never interleave them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from harness import paths
from harness.errors import BadInputError

MARKER = ".harness-site"
MARKER_TEXT = (
    "A leaderboard site made by `harness leaderboard build`. "
    "Each build replaces this folder whole: keep nothing else in it.\n"
)
_GENERATOR_TAG = b'<meta name="generator" content="harness '  # every page of every harness site
_SITE_FOLDERS = frozenset({"runs", "groups"})
_BUILDING, _OLD = "building", "old"
_PID_AND_TOKEN = re.compile(r"^[0-9]+-[A-Za-z0-9_]+$")  # what follows ".<name>.building-" (mkdtemp's letters)


def check_target(target: str | os.PathLike[str], what: str) -> Path:
    """The site folder, absolute, once it is known that a build may replace it and write beside it.

    Called before any work: a file, a folder holding files no build made, or a parent folder that
    cannot be written is one :class:`BadInputError` naming ``what`` (``--out``, ``$HARNESS_SITE``...).
    """
    target = Path(target).expanduser().resolve()
    if target.parent == target:
        raise BadInputError(f"{target}: {what} may not name the root folder; name a folder for the site")
    if target.exists():
        if not target.is_dir():
            raise BadInputError(f"{target}: a file, not a folder; {what} must name a folder for the site")
        if os.path.ismount(target):
            raise BadInputError(
                f"{target}: a mount point, which a build cannot replace; {what} must name a folder inside it"
            )
        foreign = foreign_entry(target)
        if foreign is not None:
            raise BadInputError(
                f"{target} holds {foreign!r}, which no leaderboard build made; a build replaces the whole "
                f"folder, so {what} must name a new or empty folder, or a site built before"
            )
    paths.ensure_writable_dir(target.parent, f"{what} (the site is built beside it, in its parent folder)")
    return target


def foreign_entry(folder: Path) -> str | None:
    """The name of something in ``folder`` that a build did not make; None when a build may replace it."""
    names = sorted(os.listdir(folder))
    if not names or (MARKER in names and (folder / MARKER).is_file()):
        return None
    odd = [name for name in names if not _made_by_a_build(folder / name)]
    if odd:
        return odd[0]
    return None if _has_site_index(folder) else names[0]


@contextlib.contextmanager
def building(target: str | os.PathLike[str], what: str = "the site folder") -> Iterator[Path]:
    """A fresh folder beside ``target`` to render into; swapped in as ``target`` when the block ends well.

    When the block raises (or the process is interrupted), the build folder is removed and
    ``target`` is left as it was.
    """
    target = check_target(target, what)
    with _locked(target.parent):
        clean_leftovers(target)
    build = Path(tempfile.mkdtemp(prefix=_prefix(target, _BUILDING), dir=target.parent))
    lock = _try_lock(build)  # held while this build lives: it is not a leftover
    try:
        os.chmod(build, 0o777 & ~_umask())  # mkdtemp makes 0700; a site is read by a web server
        yield build
        (build / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        with _locked(target.parent):
            _swap_in(build, target, what)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    finally:
        if lock is not None:
            os.close(lock)


def clean_leftovers(target: Path) -> list[Path]:
    """Remove the build and old-site folders of ``target`` that no living build holds; returns them.

    Where ``target`` itself is missing (a build died between the two renames of its swap), the
    old site it had renamed aside is put back instead of removed.
    """
    removed = []
    for path in sorted(target.parent.iterdir()):
        kind = _leftover_kind(target, path)
        if kind is None:
            continue
        lock = _try_lock(path)
        if lock is None:  # a build in progress (or a file system without locks: leave it)
            continue
        try:
            if kind == _OLD and not target.exists():
                os.rename(path, target)
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        finally:
            os.close(lock)
    return removed


def _swap_in(build: Path, target: Path, what: str) -> None:
    """Rename the old site aside, the new one in, then remove the old one; on failure the old stays."""
    if target.exists():
        foreign = foreign_entry(target) if target.is_dir() else target.name
        if foreign is not None:  # something was put there while the pages were being written
            raise BadInputError(
                f"{target} now holds {foreign!r}, which no leaderboard build made; "
                f"the site was not replaced; {what} must name a new or empty folder, "
                "or a site built before"
            )
        aside = target.parent / f"{_prefix(target, _OLD)}{secrets.token_hex(4)}"
        old_lock = _try_lock(target)
        try:
            _rename(target, aside, what)
            try:
                _rename(build, target, what)
            except BaseException:
                os.rename(aside, target)  # put the old site back
                raise
            shutil.rmtree(aside, ignore_errors=True)
        finally:
            if old_lock is not None:
                os.close(old_lock)
    else:
        _rename(build, target, what)


def _rename(source: Path, destination: Path, what: str) -> None:
    try:
        os.rename(source, destination)
    except OSError as exc:
        raise BadInputError(
            f"{destination}: cannot put the new site in place ({exc.strerror or exc}); "
            f"{what} must name a folder that can be renamed (not a mount point)"
        ) from exc


def _prefix(target: Path, kind: str) -> str:
    return f".{target.name}.{kind}-{os.getpid()}-"


def _leftover_kind(target: Path, path: Path) -> str | None:
    """``building`` or ``old`` for a folder named as :func:`building` names them, else None."""
    prefix = f".{target.name}."
    if not path.name.startswith(prefix):
        return None
    kind, _, tail = path.name[len(prefix) :].partition("-")
    if kind not in (_BUILDING, _OLD) or not _PID_AND_TOKEN.match(tail) or path.is_symlink() or not path.is_dir():
        return None
    return kind


def _made_by_a_build(path: Path) -> bool:
    """A page, a page folder, or a temporary file an interrupted page write left (before the marker)."""
    if path.is_symlink():
        return False
    if path.is_dir():
        return path.name in _SITE_FOLDERS
    return path.suffix == ".html" or (path.name.startswith(".") and path.name.endswith(".tmp"))


def _has_site_index(folder: Path) -> bool:
    try:
        with open(folder / "index.html", "rb") as fh:
            return _GENERATOR_TAG in fh.read(4096)
    except OSError:
        return False


def _try_lock(folder: Path) -> int | None:
    """An open descriptor holding an exclusive flock on ``folder``; None when another process holds it."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``folder`` (waiting for it); a file system without locks goes unlocked."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
