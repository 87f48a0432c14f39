"""The configuration of one run: everything that determines its result, frozen and hashed."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from harness.errors import BadInputError
from harness.provenance import config_hash

PRECISIONS: tuple[str, ...] = ("fp32", "bf16")


@dataclass(frozen=True)
class RunConfig:
    dataset: str
    fold: str
    submission: str
    seed: int
    feature: str
    crop_frames: int
    optimizer: str
    lr: float
    weight_decay: float
    batch_size: int
    epochs: int
    patience: int | None
    eval_crops_validation: int
    eval_crops_test: int
    selection_metric: str
    precision: str
    train_fingerprint: str
    validation_fingerprint: str
    test_fingerprint: str
    eval_batch_size: int = 64

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise BadInputError(f"precision {self.precision!r}: expected one of {', '.join(PRECISIONS)}")
        if self.epochs < 0:
            raise BadInputError(f"--epochs must be >= 1 (0 only for submissions that do not train), got {self.epochs}")
        if self.seed < 0:
            raise BadInputError(f"seeds must be non-negative integers, got {self.seed}")

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def hash(self) -> str:
        """What the result depends on: every field but the evaluation batch size (a device detail)."""
        return config_hash({k: v for k, v in self.as_dict().items() if k != "eval_batch_size"})
