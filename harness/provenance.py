"""Provenance of a run: code version, libraries, device, and a stable hash of its configuration."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

import harness
from harness import paths

LIBRARIES: tuple[str, ...] = ("torch", "torchaudio", "numpy", "scikit-learn", "timm", "soundfile")


def config_hash(config: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``config`` (sorted keys, compact)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def git_state() -> dict[str, Any]:
    """Commit and dirty flag of the checkout the harness runs from (``None`` outside git)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(paths.PROJECT_ROOT), *args], capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit, "git_dirty": None if status is None else bool(status)}


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "harness": harness.__version__}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def device_description(device: torch.device | None) -> str:
    """The device in words; ``None`` (scoring, which runs no model) describes the CPU without importing torch."""
    if device is None:
        return f"cpu: {platform.processor() or platform.machine()}"
    import torch

    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"cpu: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


def environment(device: torch.device | None = None) -> dict[str, Any]:
    return {
        **git_state(),
        "libraries": library_versions(),
        "device": device_description(device),
        "platform": platform.platform(),
    }
