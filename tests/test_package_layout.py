"""The package's shape, as issue 14 asks it be checked: every module imports alone, in a fresh
interpreter, whatever was imported before it; no module is over ~450 lines.

A module that only imports after another has been imported (a cycle dodged by import order, or a
name that an earlier import happened to set up) fails here; so does a module that grew past the
size at which one reader can hold it.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "harness"
MAX_LINES = 450


def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _import(*modules: str) -> subprocess.CompletedProcess[str]:
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    return subprocess.run([sys.executable, "-c", code, *modules], capture_output=True, text=True, timeout=300)


def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    failed = {}
    for name in _modules():
        done = _import(name)
        if done.returncode != 0:
            failed[name] = done.stderr.strip().splitlines()[-1]
    assert not failed, failed


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_module_imports_in_a_shuffled_order(seed: int) -> None:
    modules = _modules()
    random.Random(seed).shuffle(modules)
    done = _import(*modules)
    assert done.returncode == 0, f"order (seed {seed}): {modules}\n{done.stderr}"


def test_no_module_is_over_its_size() -> None:
    sizes = {
        str(path.relative_to(PACKAGE)): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    over = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert not over, f"modules over {MAX_LINES} lines (split them by concern): {over}"


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(command: list[str]) -> None:
    """The tree stays as `ruff format` and `ruff check` (pyproject's [tool.ruff]) leave it."""
    pytest.importorskip("ruff", reason="ruff is in the test extra: pip install -e '.[test]'")
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "."], cwd=PACKAGE.parent, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
