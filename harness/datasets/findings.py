"""A finding of a dataset audit: what was checked, whether it passed, and what was seen (a leaf module)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One line of ``harness datasets verify``.

    ``fold`` and ``split`` say what the finding is about, for code that acts on findings (never
    their text): ``fold`` is set for the findings of one fold, ``split`` for a finding about one part
    of it (tag coverage); both are None for whole-dataset findings (checksums, counts), and ``split``
    is None for findings about a pair of parts (overlap).
    """

    check: str
    ok: bool
    detail: str
    fold: str | None = None
    split: str | None = None
