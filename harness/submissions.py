"""Submission folders: ``submission.toml`` + ``model.py`` (+ ``README.md``).

This is the only module that imports submission code. A submission's ``model.py`` defines
``build(num_tags: int, **params) -> torch.nn.Module`` mapping ``(B, 1, bins, frames)`` to logits
``(B, num_tags)``; ``params`` come from the ``[model]`` table of ``submission.toml``.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from harness import paths
from harness.errors import BadInputError, FormatError, RunFailedError, UnknownNameError

OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "sgd")


@dataclass(frozen=True)
class SubmissionSpec:
    name: str
    title: str
    authors: tuple[str, ...]
    description: str
    feature: str
    crop_frames: int
    optimizer: str
    lr: float
    batch_size: int
    epochs: int
    patience: int | None
    external_data: bool
    licence: str
    citation: str = ""
    weight_decay: float = 0.0
    model_params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer.name must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        for name in ("crop_frames", "batch_size", "epochs"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"optimizer.lr must be a positive number, got {self.lr!r}")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"training.patience must be >= 1, got {self.patience}")


@dataclass(frozen=True)
class Submission:
    path: Path
    spec: SubmissionSpec
    module: ModuleType

    @property
    def name(self) -> str:
        return self.spec.name

    def build(self, num_tags: int) -> torch.nn.Module:
        try:
            model = self.module.build(num_tags, **self.spec.model_params)
        except TypeError as exc:
            raise FormatError(f"{self.path / 'model.py'}: build({num_tags}, **[model]) failed: {exc}") from exc
        if not isinstance(model, torch.nn.Module):
            raise FormatError(f"{self.path / 'model.py'}: build() returned {type(model).__name__}, not a torch.nn.Module")
        return model


def list_submissions() -> list[str]:
    directory = paths.submissions_dir()
    return sorted(p.parent.name for p in directory.glob("*/submission.toml")) if directory.is_dir() else []


def resolve_submission_path(name_or_path: str | Path) -> Path:
    """A folder path, or the name of a folder in ``submissions/``."""
    candidate = Path(name_or_path)
    if (candidate / "submission.toml").is_file():
        return candidate.resolve()
    by_name = paths.submissions_dir() / str(name_or_path)
    if (by_name / "submission.toml").is_file():
        return by_name.resolve()
    if candidate.is_dir():
        raise BadInputError(f"{candidate}: no submission.toml in this folder; see `harness submissions new NAME`")
    raise UnknownNameError("submission", str(name_or_path), list_submissions())


def read_spec(path: Path) -> SubmissionSpec:
    toml_path = path / "submission.toml"
    try:
        raw = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(f"{toml_path}: invalid TOML ({exc})") from exc
    try:
        optimizer = raw.get("optimizer", {})
        training = raw.get("training", {})
        return SubmissionSpec(
            name=raw["name"],
            title=raw.get("title", raw["name"]),
            authors=tuple(raw.get("authors", ())),
            description=raw.get("description", ""),
            citation=raw.get("citation", ""),
            feature=raw.get("feature", "mel96"),
            crop_frames=int(raw["crop_frames"]),
            optimizer=str(optimizer.get("name", "adam")).lower(),
            lr=float(optimizer["lr"]),
            weight_decay=float(optimizer.get("weight_decay", 0.0)),
            batch_size=int(training["batch_size"]),
            epochs=int(training["epochs"]),
            patience=training.get("patience"),
            external_data=bool(raw.get("external_data", False)),
            licence=raw.get("licence", ""),
            model_params=dict(raw.get("model", {})),
        )
    except KeyError as exc:
        raise FormatError(f"{toml_path}: missing field {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise FormatError(f"{toml_path}: {exc}") from exc


def load_submission(name_or_path: str | Path) -> Submission:
    path = resolve_submission_path(name_or_path)
    spec = read_spec(path)
    model_file = path / "model.py"
    if not model_file.is_file():
        raise FormatError(f"{path}: model.py is missing; it must define build(num_tags, **params)")
    module_name = f"harness_submission_{path.name.replace('-', '_')}"
    import_spec = importlib.util.spec_from_file_location(module_name, model_file)
    assert import_spec is not None and import_spec.loader is not None
    module = importlib.util.module_from_spec(import_spec)
    sys.modules[module_name] = module
    try:
        import_spec.loader.exec_module(module)
    except Exception as exc:  # a submission's own bug: report it as the submission's, in one line
        sys.modules.pop(module_name, None)
        raise FormatError(f"{model_file}: import failed: {type(exc).__name__}: {exc}") from exc
    if not callable(getattr(module, "build", None)):
        raise FormatError(f"{model_file}: no build(num_tags, **params) function")
    return Submission(path=path, spec=spec, module=module)


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def check_submission(name_or_path: str | Path, num_tags: int = 8, n_bins: int = 96) -> dict[str, Any]:
    """Import, build, run forward and backward on a dummy batch; raise RunFailedError on the first problem."""
    submission = load_submission(name_or_path)
    model_file = submission.path / "model.py"
    model = submission.build(num_tags)
    torch.manual_seed(0)
    x = torch.randn(2, 1, n_bins, submission.spec.crop_frames)
    y = torch.zeros(2, num_tags)
    y[0, 0] = 1.0
    try:
        logits = model(x)
    except Exception as exc:
        raise RunFailedError(f"{model_file}: forward pass on (2, 1, {n_bins}, {submission.spec.crop_frames}) failed: {exc}") from exc
    if tuple(logits.shape) != (2, num_tags):
        raise RunFailedError(f"{model_file}: output shape {tuple(logits.shape)}, expected (2, {num_tags})")
    if not torch.isfinite(logits).all():
        raise RunFailedError(f"{model_file}: the forward pass gives non-finite logits")
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
    loss.backward()
    if not all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None):
        raise RunFailedError(f"{model_file}: the backward pass gives non-finite gradients")
    return {"name": submission.name, "path": str(submission.path), "parameters": count_parameters(model), "output": list(logits.shape)}
