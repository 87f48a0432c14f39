"""Layers, as issue 14 asks: protocol -> scoring -> results, never back (no package cycle).

``harness.results`` (files and the store) imports neither ``harness.protocol`` nor
``harness.scoring``; ``harness.scoring`` does not import ``harness.protocol``. Checked on the
source, for imports anywhere in a module (a function-level import is a cycle deferred, not removed).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "harness"
FORBIDDEN = {
    "results": ("harness.protocol", "harness.scoring"),
    "scoring.py": ("harness.protocol",),
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_lower_layer_does_not_import_a_higher_one(layer: str) -> None:
    target = PACKAGE / layer
    files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
    found = {
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in files
        for name in _imports(path)
        if any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN[layer])
    }
    assert not found, sorted(found)


def test_the_run_scores_through_the_scoring_module() -> None:
    """One path from predictions to the store: the protocol records through scoring, never the store directly."""
    protocol = PACKAGE / "protocol"
    direct = sorted(
        str(path.relative_to(PACKAGE)) for path in protocol.rglob("*.py") if "harness.results.store" in _imports(path)
    )
    assert direct == []
    assert "harness.scoring.record_report" in _imports(protocol / "finish.py")
