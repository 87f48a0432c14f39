"""SHA-256 digests of source files and folders, and the one check of a digest against its pin.

Every pinned digest the harness compares (a registry's ``[source.sha256]`` and
``[source.tree_sha256]``, a committed ``parts.tsv``'s ``[folds] sha256``, MTG-Jamendo's split and
tag files, downloaded archives) goes through :func:`check_pin`, which raises
:class:`ChecksumError` naming the file, both digests and what gets a good copy.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from harness.errors import DataMissingError, FormatError

CHUNK_BYTES = 1 << 20


class ChecksumError(FormatError, DataMissingError):
    """A file's SHA-256 is not the pinned one: its content is wrong (a FormatError) and a good copy
    must be fetched or restored (a DataMissingError); the message says how."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_sha256(directory: Path, pattern: str) -> str:
    """SHA-256 of a folder's files matching ``pattern``: ``cd DIR && LC_ALL=C sha256sum PATTERN | sha256sum``."""
    files = sorted((p for p in Path(directory).glob(pattern) if p.is_file()), key=lambda p: p.name)
    listing = "".join(f"{sha256_file(p)}  {p.name}\n" for p in files)
    return sha256_bytes(listing.encode("utf-8"))


def digest(path: Path, tree_pattern: str | None = None) -> str:
    """The digest a pin of ``path`` is compared with: of the file, or with ``tree_pattern`` of the folder."""
    return sha256_file(path) if tree_pattern is None else tree_sha256(path, tree_pattern)


def mismatch_message(
    path: Path, actual: str, expected: str, fix: str, *, tree: bool = False, download: bool = False
) -> str:
    """The message of a digest that is not its pin: a registry pin, a registry tree pin, or a download's."""
    if download:
        return f"{path}: checksum mismatch: expected sha256 {expected}, got {actual}; {fix}"
    if tree:
        return f"{path}/: tree SHA-256 {actual}, the registry pins {expected} (a file was added, removed or changed); {fix}"
    return f"{path}: SHA-256 {actual}, the registry pins {expected}; {fix}"


def check_pin(path: Path, expected: str, fix: str, *, tree_pattern: str | None = None, download: bool = False) -> str:
    """Return the digest of ``path``; raise :class:`ChecksumError` when it is not ``expected``.

    ``fix`` ends the message (what gets a good copy); ``download`` words it as a fetched file's check.
    """
    actual = digest(path, tree_pattern)
    if actual != expected.lower():
        raise ChecksumError(
            mismatch_message(path, actual, expected, fix, tree=tree_pattern is not None, download=download)
        )
    return actual
