"""Verified downloads: stream a remote file to a temporary file beside its target, hashing as it
writes, and move it into place only when its SHA-256 is the pinned one.

A reader therefore never sees a half-downloaded or corrupt file under its real name: a mismatch
raises :class:`~harness.datasets.checksums.ChecksumError` naming the file, the expected and the actual hash and
the command that fetches a good copy, and leaves nothing behind. Files already present with the
right hash are not downloaded again. ``http``, ``https`` and ``file`` URLs work (``file`` is handy
for a local mirror); proxies from the environment are used except for loopback hosts.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.atomic import atomic_path
from harness.datasets.checksums import CHUNK_BYTES, ChecksumError, sha256_file
from harness.errors import DataMissingError

__all__ = ["PinnedFile", "download_verified", "fetch_pinned", "join_url", "sha256_file"]

TIMEOUT_S = 60.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PinnedFile:
    """A file of a remote source: its path (relative to a base URL and to the root) and SHA-256."""

    path: str
    sha256: str

    def __post_init__(self) -> None:
        digest = self.sha256.lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"{self.path}: sha256 must be 64 hex digits, got {self.sha256!r}")
        parts = Path(self.path).parts
        if not self.path or Path(self.path).is_absolute() or ".." in parts:
            raise ValueError(f"pinned path {self.path!r} must be relative and stay inside the root")
        object.__setattr__(self, "sha256", digest)


def join_url(base_url: str, path: str) -> str:
    """``base_url`` + ``path`` (quoted); the base is treated as a folder whether or not it ends in ``/``."""
    return base_url.rstrip("/") + "/" + urllib.parse.quote(path)


def _open(url: str, timeout: float):  # noqa: ANN202 - urllib's response type is private
    host = urllib.parse.urlsplit(url).hostname or ""
    handlers = [urllib.request.ProxyHandler({})] if host in LOOPBACK_HOSTS else []
    return urllib.request.build_opener(*handlers).open(url, timeout=timeout)


def download_verified(url: str, target: Path, sha256: str, fetch_command: str, timeout: float = TIMEOUT_S) -> Path:
    """Download ``url`` to ``target`` if its SHA-256 is ``sha256``; otherwise raise and write nothing.

    ``fetch_command`` is the command a person runs to get a good copy; it goes into every message.
    """
    target = Path(target)
    expected = sha256.lower()
    with atomic_path(target, suffix=".part") as tmp:
        digest = hashlib.sha256()
        try:
            with _open(url, timeout) as response, open(tmp, "wb") as out:
                while chunk := response.read(CHUNK_BYTES):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except urllib.error.HTTPError as exc:
            raise DataMissingError(
                f"{url}: HTTP {exc.code} {exc.reason}; nothing written to {target} (`{fetch_command}` retries)"
            ) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DataMissingError(
                f"{url}: download failed ({reason}); nothing written to {target} (`{fetch_command}` retries)"
            ) from exc
        actual = digest.hexdigest()
        if actual != expected:
            raise ChecksumError(
                f"{target.name}: checksum mismatch downloading {url}: expected sha256 {expected}, got {actual}; "
                f"nothing written; `{fetch_command}` fetches a good copy (or pass --base-url to use another mirror)"
            )
    return target


def fetch_pinned(
    files: Sequence[PinnedFile],
    base_url: str,
    root: Path,
    fetch_command: str,
    on_progress: Progress | None = None,
) -> list[Path]:
    """Make every pinned file present under ``root`` with its hash, downloading from ``base_url``.

    Returns the paths, in the order given; present files with the right hash are kept as they are,
    present files with another hash are replaced by a verified download.
    """
    written: list[Path] = []
    for done, pinned in enumerate(files):
        target = Path(root) / pinned.path
        if not (target.is_file() and sha256_file(target) == pinned.sha256):
            download_verified(join_url(base_url, pinned.path), target, pinned.sha256, fetch_command)
        written.append(target)
        if on_progress is not None:
            on_progress(done + 1, len(files))
    return written
