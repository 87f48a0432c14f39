"""Where the harness keeps things: data, registries, submissions, runs and the results store.

Every location can be moved by an environment variable, so tests and users never write into each
other's trees:

- ``HARNESS_DATA``: the data directory (default ``~/.cache/harness/data``); a dataset lives in
  ``$HARNESS_DATA/<name>`` unless ``--root`` or an earlier ``prepare --root`` says otherwise.
- ``HARNESS_RUNS``: run directories (default ``./runs``).
- ``HARNESS_STORE``: the SQLite results store (default ``$HARNESS_RUNS/results.sqlite``).
- ``HARNESS_REGISTRY``: dataset registries (default: ``datasets/`` of this checkout).
- ``HARNESS_SITE``: where ``harness leaderboard build`` writes (default: ``leaderboards/site/``).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from harness import atomic
from harness.errors import BadInputError

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def data_home() -> Path:
    return Path(os.environ.get("HARNESS_DATA") or Path.home() / ".cache" / "harness" / "data").expanduser()


def registry_dir() -> Path:
    return Path(os.environ.get("HARNESS_REGISTRY") or PROJECT_ROOT / "datasets")


def submissions_dir() -> Path:
    return PROJECT_ROOT / "submissions"


def leaderboards_dir() -> Path:
    return PROJECT_ROOT / "leaderboards"


def site_dir() -> Path:
    return Path(os.environ.get("HARNESS_SITE") or leaderboards_dir() / "site")


def runs_dir() -> Path:
    return Path(os.environ.get("HARNESS_RUNS") or "runs")


def store_path() -> Path:
    return Path(os.environ.get("HARNESS_STORE") or runs_dir() / "results.sqlite")


def ensure_writable_dir(directory: str | os.PathLike[str], what: str) -> Path:
    """Create ``directory`` if needed and prove a file can be written in it; else one clear BadInputError.

    ``what`` names the option or variable the folder came from (``--runs-dir``, ``$HARNESS_SITE``...),
    so the message says what to change. Called before work starts, so nothing is done in vain. A real
    write is tried (``os.access`` says yes to root on a read-only mount).
    """
    path = Path(directory).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path, prefix=".harness-write-check-"):
            pass
    except OSError as exc:
        raise BadInputError(
            f"{path}: cannot write here ({exc.strerror or exc}); {what} must name a folder you can write to"
        ) from exc
    return path


def _roots_file() -> Path:
    return data_home() / "roots.json"


def remember_root(name: str, root: Path) -> None:
    """Record ``root`` as the dataset's root, used by later commands run without ``--root``."""
    roots = _read_roots()
    roots[name] = str(Path(root).resolve())
    atomic.write_json(_roots_file(), roots)


def dataset_root(name: str, root: str | Path | None = None) -> Path:
    """``root`` if given, else the root of the last ``prepare`` of ``name``, else ``$HARNESS_DATA/name``."""
    if root is not None:
        return Path(root).expanduser()
    recorded = _read_roots().get(name)
    if recorded:
        return Path(recorded)
    return data_home() / name


def _read_roots() -> dict[str, str]:
    path = _roots_file()
    if not path.exists():
        return {}
    try:
        roots = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return {str(k): str(v) for k, v in roots.items()} if isinstance(roots, dict) else {}
