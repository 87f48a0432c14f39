"""The options that take one of a fixed set of words, as Typer choices.

``--device``, ``--precision``, ``--data-path``, ``--what`` and ``--kind`` are ``StrEnum`` classes
built from the library's own tuple of values (``FEATURE_KINDS``, ``PRECISIONS``, ``DATA_PATHS``,
MTG-Jamendo's ``WHAT``), not copies of them: ``--help`` lists the choices, and a word outside them
is Typer's usage error (exit 2) before any work. Commands hand ``.value`` on: library functions take
plain strings and check them again for their other callers.

Importing this module must not import torch (``harness --help`` stays fast).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from harness.datasets.mtg_jamendo import WHAT
from harness.features.kinds import FEATURE_KINDS
from harness.protocol.config import PRECISIONS
from harness.protocol.request import DATA_PATHS

DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")  # harness.protocol's pick_device takes these


def _choices(name: str, values: Iterable[str]) -> type[StrEnum]:
    """A ``StrEnum`` whose members are ``values``, each named and valued as itself."""
    return StrEnum(name, [(value, value) for value in values])  # type: ignore[return-value]


Device = _choices("Device", DEVICES)
Precision = _choices("Precision", ("auto", *PRECISIONS))
DataPath = _choices("DataPath", DATA_PATHS)
FetchWhat = _choices("FetchWhat", WHAT)
FeatureKind = _choices("FeatureKind", FEATURE_KINDS)
