"""What a run is asked to do and what it reports, without importing torch (the CLI imports these)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import paths
from harness.errors import BadInputError

DATA_PATHS: tuple[str, ...] = ("auto", "resident", "streamed")


def check_data_path(value: str) -> str:
    if value not in DATA_PATHS:
        raise BadInputError(f"--data-path {value!r}: expected auto, resident or streamed")
    return value


class RunObserver:
    """Hooks the CLI uses to show progress; the defaults do nothing."""

    def stage(self, text: str) -> None: ...
    def source_progress(self, done: int, total: int) -> None: ...
    def feature_progress(self, done: int, total: int) -> None: ...
    def run_start(self, label: str, epochs: int) -> None: ...
    def epoch_start(self, epoch: int, epochs: int, n_samples: int) -> None: ...
    def advance(self, n: int) -> None: ...
    def epoch_end(self, entry: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class RunRequest:
    submission: str | Path
    dataset: str = "toy"
    fold: str | None = None
    seeds: tuple[int, ...] = (0,)
    epochs: int | None = None
    device: str = "auto"
    precision: str = "auto"
    resume: bool = False
    force: bool = False  # train again even when a finished run of the same configuration exists
    compile: bool = False  # torch.compile the model (recorded in env.json, not in the config hash)
    data_path: str = "auto"  # auto | resident | streamed (see harness.protocol.device.place_features)
    root: Path | None = None
    runs_root: Path = field(default_factory=paths.runs_dir)
    store_path: Path = field(default_factory=paths.store_path)
    record: bool = True  # False: the run writes its folder (scores.json, done) but not the store (a sweep's job)

    def __post_init__(self) -> None:
        check_data_path(self.data_path)  # before any preparation, which can take hours


@dataclass(frozen=True)
class RunResult:
    run_id: str
    run_dir: Path
    scores: dict[str, float]
    best_epoch: int
    duration_s: float
    reused: bool = False
    fold: str = ""
    seed: int = 0
    submission: str = ""
    config_hash: str = ""
