"""The feature kinds the harness extracts, in a module of its own.

Registries (:mod:`harness.datasets.registry`) and submissions check a ``feature`` field against
this list; importing it must not import torch or the extraction code (that would make every
command that reads a registry slow to start and would make an import cycle with
:mod:`harness.features.extract`, which itself imports the dataset classes).
"""

from __future__ import annotations

FEATURE_KINDS: tuple[str, ...] = ("mel96", "stft-square")
