"""Submission folders: ``submission.toml`` + ``model.py`` (+ ``README.md``).

This is the only module that imports submission code.

The model
---------
``model.py`` defines ``build(num_tags: int, **params) -> torch.nn.Module``; ``params`` are the
``[model]`` table of ``submission.toml``. The module maps a batch of features to logits
``(B, num_tags)``; the harness applies the sigmoid. The batch depends on ``feature``:

- ``mel96``: ``(B, 1, 96, crop_frames)`` mel-spectrogram crops in dB;
- ``stft-square``: ``(B, 1, K, K)`` square log power spectrograms, ``K = crop_frames`` (one of 129,
  257, 513, 1025; 257 when ``crop_frames`` is left out).

No-training submissions
-----------------------
``[training] epochs = 0`` means "no training: the model is evaluated as built". The whole
``[optimizer]`` table may then be left out (it defaults to adam with lr 1e-3, recorded and unused),
``batch_size`` defaults to 64, and ``patience`` is ignored. Such a model may have no parameters at
all: the naive baselines ``submissions/popular`` and ``submissions/random`` are built this way.
``SubmissionSpec.trains`` is ``epochs > 0``.

Label statistics: ``fit_labels``
--------------------------------
A built module may define ``fit_labels(self, labels: torch.Tensor) -> None``. The runner calls it
once per run, after ``build`` and before training (or, with ``epochs = 0``, before evaluation),
with the training split's label matrix: float32, shape ``(items, num_tags)``, values 0.0 or 1.0,
columns in the dataset's tag order. It is the only label information a model gets outside its
training batches; what it learns from them should be kept in buffers, so checkpoints carry it.

Checks
------
``check_submission`` imports a folder, validates ``submission.toml``, builds the model for 8 tags
and on a seeded dummy batch (``(2, 1, 96, crop_frames)`` or ``(2, 1, K, K)``, from the feature):

1. calls ``fit_labels`` (when defined) on seeded random 0/1 labels;
2. runs a forward pass in train and in eval mode: the output must be ``(2, num_tags)`` and finite;
3. when the submission trains: backward passes must give finite gradients to some parameter, and
   a few steps of the submission's own optimiser and learning rate on a fixed batch of 4 with fixed
   random targets (train mode, BCE on logits) must bring the loss below its first value.

Submissions with ``epochs = 0`` skip step 3 (a model without parameters cannot pass it) and the
report says so. Every failure is a ``RunFailedError`` with one line naming the file (and the line
of ``model.py`` when the error came from there); the seed makes the check deterministic.

User code is not trusted to stay inside ``Exception``: a ``sys.exit()`` (or any ``BaseException``
but ``KeyboardInterrupt``) raised while importing ``model.py``, in ``build``, ``fit_labels``, a
forward or a backward pass is reported like any other error of the submission, since otherwise it
would end the harness with no message (and, for ``sys.exit()``, with exit status 0).

``submission.toml``
-------------------
Every field has a TOML type, checked as read, so nothing is silently converted: integers for
``crop_frames``, ``training.epochs``, ``training.batch_size`` and ``training.patience`` (a float
such as ``2.5``, a string or a boolean is refused, not truncated), finite numbers for
``optimizer.lr`` (positive) and ``optimizer.weight_decay`` (>= 0), a boolean for
``external_data``, strings for ``name``, ``title``, ``description``, ``citation``, ``licence``,
``feature`` and ``optimizer.name``, and a list of strings for ``authors``. ``name`` follows the
rule of ``harness submissions new`` (it names run folders), ``crop_frames`` is at most
:data:`MAX_CROP_FRAMES`, and an unknown field is refused with the nearest known one, so a typo is
not silently ignored.
"""

from __future__ import annotations

import difflib
import importlib.util
import math
import os
import re
import shutil
import sys
import tempfile
import tomllib
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, Protocol

import torch

from harness import paths
from harness.errors import BadInputError, FormatError, HarnessError, RunFailedError, UnknownNameError
from harness.features.kinds import FEATURE_KINDS
from harness.features.mel import MEL96
from harness.features.stft import SQUARE_SIZES, SquareParams

OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "sgd")
NAME_PATTERN = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")
MAX_NAME_LENGTH = 64
NAME_RULE = (
    f"use lower-case letters and digits, words joined by '-', '_' or '.' (at most {MAX_NAME_LENGTH} characters), "
    "e.g. 'my-cnn'"
)
# The longest crop a submission may ask for: an hour of mel96 frames (3600 s x 12000 / 256 = 168,750
# frames; a single such crop is 62 MiB of float32). Published models use 10-30 s; the bound is far
# above any real use and only stops an absurd value (1e12) from becoming an allocation failure.
MAX_CROP_FRAMES = 3600 * MEL96.sample_rate // MEL96.hop_length

_TOP_FIELDS = ("name", "title", "authors", "description", "citation", "feature", "crop_frames", "external_data",
               "licence", "model", "optimizer", "training")
_TABLE_FIELDS = {"optimizer": ("name", "lr", "weight_decay"), "training": ("batch_size", "epochs", "patience")}


def is_valid_name(name: str) -> bool:
    """A submission name: it names folders under ``runs/``, so nothing that could leave them (``/``, ``..``)."""
    return len(name) <= MAX_NAME_LENGTH and NAME_PATTERN.fullmatch(name) is not None


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
        if self.feature not in FEATURE_KINDS:
            raise ValueError(f"feature must be one of {', '.join(FEATURE_KINDS)}, got {self.feature!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer.name must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if not is_valid_name(self.name):
            raise ValueError(f"invalid submission name {self.name!r} (it names run folders): {NAME_RULE}")
        for name in ("crop_frames", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.crop_frames > MAX_CROP_FRAMES:
            raise ValueError(
                f"crop_frames must be at most {MAX_CROP_FRAMES} (an hour of mel96 frames), got {self.crop_frames}"
            )
        if self.feature == "stft-square" and self.crop_frames not in SQUARE_SIZES:
            raise ValueError(
                f"crop_frames is K of the K x K stft-square input: one of {', '.join(map(str, SQUARE_SIZES))}, "
                f"got {self.crop_frames}"
            )
        if self.epochs < 0:
            raise ValueError(f"training.epochs must be >= 0 (0: no training, evaluated as built), got {self.epochs}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"optimizer.lr must be a positive number, got {self.lr!r}")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise ValueError(f"optimizer.weight_decay must be a finite number >= 0, got {self.weight_decay!r}")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"training.patience must be >= 1, got {self.patience}")

    @property
    def trains(self) -> bool:
        """False for ``epochs = 0``: the model is evaluated as built."""
        return self.epochs > 0

    def input_shape(self, batch: int) -> tuple[int, int, int, int]:
        """The shape of a batch of this submission's feature crops."""
        if self.feature == "stft-square":
            return (batch, 1, self.crop_frames, self.crop_frames)
        return (batch, 1, MEL96.n_mels, self.crop_frames)


@dataclass(frozen=True)
class Submission:
    path: Path
    spec: SubmissionSpec
    module: ModuleType

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def model_file(self) -> Path:
        return self.path / "model.py"

    @property
    def toml_file(self) -> Path:
        return self.path / "submission.toml"

    def build(self, num_tags: int) -> torch.nn.Module:
        with self.user_code(f"build({num_tags}, **params of the model table)"):
            model = self.module.build(num_tags, **self.spec.model_params)
        if not isinstance(model, torch.nn.Module):
            raise FormatError(f"{self.model_file}: build() returned {type(model).__name__}, not a torch.nn.Module")
        return model

    def user_code(self, what: str, error: type[HarnessError] = FormatError, only_from_model: bool = False) -> UserCode:
        """A context in which what the submission's code raises is its error: see :class:`UserCode`."""
        return UserCode(self.model_file, what, error, only_from_model)

    def checked(self, model: torch.nn.Module, num_tags: int) -> CheckedModel:
        """``model`` with every forward pass checked (see :class:`CheckedModel`), for training and prediction."""
        return CheckedModel(model, self, num_tags)


class UserCode:
    """Turn an error of the submission's code into one ``error`` line naming ``model.py`` and the line.

    ``what`` says what was being done (``fit_labels on ...``). Every exception, and every other
    ``BaseException`` but ``KeyboardInterrupt``: a ``sys.exit()`` in ``model.py`` would otherwise end
    the harness without a word. HarnessErrors pass unchanged. With ``only_from_model`` (around code
    that is mostly the harness's, such as a training epoch, where a submission's custom backward may
    run) only what was raised in ``model.py`` itself, or a ``SystemExit``, is blamed on it; anything
    else propagates as it is. An out-of-memory error is a failed run (exit 1), not a bad submission.
    """

    def __init__(self, model_file: Path, what: str, error: type[HarnessError], only_from_model: bool = False) -> None:
        self.model_file, self.what, self.error, self.only_from_model = model_file, what, error, only_from_model

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> bool:
        if exc is None or isinstance(exc, (KeyboardInterrupt, HarnessError)):
            return False
        from_model = isinstance(exc, SystemExit) or _line_in(self.model_file, exc) is not None
        if self.only_from_model and not from_model:
            return False
        if isinstance(exc, torch.OutOfMemoryError):
            raise RunFailedError(
                f"{self.model_file}: {self.what} ran out of memory ({_describe(exc).splitlines()[0][:200]}); "
                f"lower training.batch_size in {self.model_file.parent / 'submission.toml'} or use a smaller model"
            ) from exc
        raise self.error(f"{_where(self.model_file, exc)}: {self.what} failed: {_describe(exc)}") from exc


class CheckedModel(torch.nn.Module):
    """A submission's model (or its DDP / compiled wrapper) whose every forward pass is checked.

    The output must be a floating-point tensor of logits ``(batch, num_tags)``; anything else (a
    tuple, a dict, the wrong width or batch size) is a ``FormatError`` naming ``model.py``, what it
    returned and what was expected, raised on the first batch that shows it, before anything of the
    run is recorded; an error raised in the forward pass is one too (see :class:`UserCode`). Only
    shapes and types are checked, which needs no device synchronisation. Checkpoints keep saving the
    wrapped model, so their keys do not change.
    """

    def __init__(self, model: torch.nn.Module, submission: Submission, num_tags: int) -> None:
        super().__init__()
        self.model = model
        self.model_file = submission.model_file
        self.submission = submission
        self.num_tags = num_tags

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        context = f"on {tuple(x.shape)} in {'train' if self.training else 'eval'} mode"
        with self.submission.user_code(f"forward pass {context}"):
            logits = self.model(x)
        problem = logits_problem(logits, x.shape[0], self.num_tags)
        if problem is not None:
            raise FormatError(f"{self.model_file}: forward pass {context} {problem}")
        return logits


def logits_problem(logits: object, batch: int, num_tags: int) -> str | None:
    """What is wrong with a forward pass's output, in words; None for float logits ``(batch, num_tags)``."""
    expected = f"expected ({batch}, {num_tags}) logits (batch, num_tags)"
    if not isinstance(logits, torch.Tensor):
        return f"returned {_shown_output(logits)}, not a tensor of logits; {expected}"
    if tuple(logits.shape) != (batch, num_tags):
        return f"gives shape {tuple(logits.shape)}, {expected}"
    if not logits.is_floating_point():
        return f"gives {logits.dtype} logits, {expected} as floating point"
    return None


def _shown_output(value: object) -> str:
    """A model's output named for a person: ``tuple of 2 (Tensor, Tensor)``, ``dict with keys 'logits'``."""
    if isinstance(value, (tuple, list)):
        items = ", ".join(type(v).__name__ for v in value[:4]) + (", ..." if len(value) > 4 else "")
        return f"a {type(value).__name__} of {len(value)} ({items})"
    if isinstance(value, dict):
        keys = ", ".join(repr(k) for k in list(value)[:4]) + (", ..." if len(value) > 4 else "")
        return f"a dict with keys {keys}" if value else "an empty dict"
    return "None" if value is None else f"a {type(value).__name__}"


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
    """The ``submission.toml`` of folder ``path``, every field type-checked (see the module docstring).

    Every problem is one ``FormatError`` naming the file and the field.
    """
    toml_path = path / "submission.toml"
    try:
        raw = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(f"{toml_path}: invalid TOML ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise FormatError(f"{toml_path}: not UTF-8 text ({exc})") from exc
    try:
        _refuse_unknown(raw, _TOP_FIELDS, "")
        optimizer = _table(raw, "optimizer")
        training = _table(raw, "training")
        for name, known in _TABLE_FIELDS.items():
            _refuse_unknown(optimizer if name == "optimizer" else training, known, name)
        epochs = _integer(training, "epochs", "training")
        name = _string(raw, "name")
        feature = _string(raw, "feature", default="mel96")
        default_crop = SquareParams().size if feature == "stft-square" else None
        no_training = epochs == 0
        return SubmissionSpec(
            name=name,
            title=_string(raw, "title", default=name),
            authors=_strings(raw, "authors"),
            description=_string(raw, "description", default=""),
            citation=_string(raw, "citation", default=""),
            feature=feature,
            crop_frames=_integer(raw, "crop_frames", default=default_crop),
            optimizer=_string(optimizer, "name", "optimizer", default="adam").lower(),
            lr=_number(optimizer, "lr", "optimizer", default=1e-3 if no_training else None),
            weight_decay=_number(optimizer, "weight_decay", "optimizer", default=0.0),
            batch_size=_integer(training, "batch_size", "training", default=64 if no_training else None),
            epochs=epochs,
            patience=_integer(training, "patience", "training", optional=True),
            external_data=_boolean(raw, "external_data", default=False),
            licence=_string(raw, "licence", default=""),
            model_params=_table(raw, "model"),
        )
    except (TypeError, ValueError) as exc:
        raise FormatError(f"{toml_path}: {exc}") from exc


def _table(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a table ([{name}]), got {_shown(value)}")
    return dict(value)


def _refuse_unknown(table: dict[str, Any], known: tuple[str, ...], table_name: str) -> None:
    """A field the harness does not read is a typo until shown otherwise (``epoch``, ``license``)."""
    for key in table:
        if key not in known:
            where = f"{table_name}.{key}" if table_name else key
            near = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"known: {', '.join(known)}"
            raise ValueError(f"unknown field {where!r} ({hint})")


def _field(table: dict[str, Any], key: str, table_name: str = "", default: Any = None) -> Any:
    if key in table:
        return table[key]
    if default is not None:
        return default
    where = f"{table_name}.{key}" if table_name else key
    raise ValueError(f"missing field {where!r}")


def _integer(
    table: dict[str, Any], key: str, table_name: str = "", default: int | None = None, optional: bool = False
) -> Any:
    """A TOML integer: ``2.5`` is not truncated to 2, ``inf`` does not overflow, ``true`` is not 1."""
    if optional and key not in table:
        return None
    value = _field(table, key, table_name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{_dotted(key, table_name)} must be a TOML integer such as {key} = 8, got {_shown(value)}")
    return value


def _number(table: dict[str, Any], key: str, table_name: str = "", default: float | None = None) -> float:
    """A finite TOML number (integer or float), never a string or a boolean."""
    value = _field(table, key, table_name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{_dotted(key, table_name)} must be a finite TOML number such as {key} = 1e-3, got {_shown(value)}")
    return float(value)


def _boolean(table: dict[str, Any], key: str, default: bool) -> bool:
    """A TOML boolean: ``"false"`` (a string) is refused, since ``bool("false")`` is True."""
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be a TOML boolean, {key} = true or {key} = false (no quotes), got {_shown(value)}")
    return value


def _string(table: dict[str, Any], key: str, table_name: str = "", default: str | None = None) -> str:
    value = _field(table, key, table_name, default)
    if not isinstance(value, str):
        raise ValueError(f'{_dotted(key, table_name)} must be a TOML string such as {key} = "...", got {_shown(value)}')
    return value


def _strings(table: dict[str, Any], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f'{key} must be a list of strings such as {key} = ["A. Name", "B. Name"], got {_shown(value)}')
    return tuple(value)


def _dotted(key: str, table_name: str) -> str:
    return f"{table_name}.{key}" if table_name else key


def _shown(value: Any) -> str:
    """A TOML value and its type, for a message: ``2.5 (a float)``, ``the string 'false'``."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, float):
        return f"{value!r} (a float)"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "a list with a non-string item" if any(not isinstance(v, str) for v in value) else "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def load_submission(name_or_path: str | Path) -> Submission:
    path = resolve_submission_path(name_or_path)
    spec = read_spec(path)
    model_file = path / "model.py"
    if not model_file.is_file():
        raise FormatError(f"{model_file}: missing; it must define build(num_tags, **params)")
    module_name = f"harness_submission_{path.name.replace('-', '_').replace('.', '_')}"
    import_spec = importlib.util.spec_from_file_location(module_name, model_file)
    assert import_spec is not None and import_spec.loader is not None
    module = importlib.util.module_from_spec(import_spec)
    sys.modules[module_name] = module
    try:
        with UserCode(model_file, "import", FormatError):  # a submission's own bug, sys.exit() included
            import_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    if not callable(getattr(module, "build", None)):
        raise FormatError(f"{model_file}: no build(num_tags, **params) function")
    return Submission(path=path, spec=spec, module=module)


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class OptimizerSettings(Protocol):
    """What names an optimiser: a SubmissionSpec, or the RunConfig made from it."""

    optimizer: str
    lr: float
    weight_decay: float


def make_optimizer(spec: OptimizerSettings, parameters: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
    """The submission's optimiser, as the shared protocol builds it (SGD with momentum 0.9).

    With every parameter on a GPU the fused implementation is used (one kernel for the whole update
    instead of several per parameter tensor; PyTorch's ``fused=True``); on the CPU the default one,
    so CPU runs stay bit-for-bit reproducible with earlier ones.
    """
    fused = {"fused": True} if parameters and all(p.is_cuda for p in parameters) else {}
    if spec.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=spec.lr, weight_decay=spec.weight_decay, **fused)
    if spec.optimizer == "adamw":
        return torch.optim.AdamW(parameters, lr=spec.lr, weight_decay=spec.weight_decay, **fused)
    return torch.optim.SGD(parameters, lr=spec.lr, momentum=0.9, weight_decay=spec.weight_decay, **fused)


# --- check ------------------------------------------------------------------------------------------


def check_submission(name_or_path: str | Path, num_tags: int = 8, steps: int = 10, seed: int = 0) -> dict[str, Any]:
    """Import, build and exercise a submission on dummy batches (see the module docstring).

    A path or name that is not a submission folder is bad input (``BadInputError``, exit 2);
    everything found wrong inside the folder raises ``RunFailedError`` (exit 1) with one line.
    Returns a report: name, path, parameters, input and output shapes, ``trains``, ``fit_labels``
    (whether it was called), ``loss`` (first, last, steps; None without training) and ``skipped``.
    """
    path = resolve_submission_path(name_or_path)
    with torch.random.fork_rng(devices=[]):  # leave the caller's generators as they were
        torch.manual_seed(seed)
        try:
            submission = load_submission(path)
            model = submission.build(num_tags)
        except FormatError as exc:
            raise RunFailedError(exc.message) from exc
        generator = torch.Generator().manual_seed(seed)
        spec = submission.spec
        fitted = _check_fit_labels(submission, model, num_tags, generator)
        x = torch.randn(spec.input_shape(2), generator=generator)
        for mode in ("train", "eval"):
            model.train(mode == "train")
            with torch.no_grad():
                logits = _checked_forward(submission, model, x, num_tags, f"in {mode} mode")
        loss = None
        skipped: list[str] = []
        if spec.trains:
            loss = _check_training(submission, model, num_tags, steps, generator)
        else:
            skipped = ["backward pass", "loss decrease"]
    return {
        "name": submission.name,
        "path": str(submission.path),
        "parameters": count_parameters(model),
        "input": list(spec.input_shape(2)),
        "output": list(logits.shape),  # as measured (the eval-mode pass)
        "trains": spec.trains,
        "fit_labels": fitted,
        "loss": loss,
        "skipped": skipped,
    }


def _check_fit_labels(submission: Submission, model: torch.nn.Module, num_tags: int, generator: torch.Generator) -> bool:
    fit_labels = getattr(model, "fit_labels", None)
    if fit_labels is None:
        return False
    if not callable(fit_labels):
        raise RunFailedError(f"{submission.model_file}: fit_labels is not a method (fit_labels(self, labels) -> None)")
    labels = (torch.rand(16, num_tags, generator=generator) < 0.3).float()
    with submission.user_code(f"fit_labels on a (16, {num_tags}) float32 label matrix", RunFailedError):
        fit_labels(labels)
    return True


def _checked_forward(submission: Submission, model: torch.nn.Module, x: torch.Tensor, num_tags: int, context: str) -> torch.Tensor:
    model_file = submission.model_file
    shape = tuple(x.shape)
    with submission.user_code(f"forward pass on {shape} {context}", RunFailedError):
        logits = model(x)
    problem = logits_problem(logits, shape[0], num_tags)
    if problem is not None:
        raise RunFailedError(f"{model_file}: forward pass on {shape} {context} {problem}")
    if not torch.isfinite(logits).all():
        raise RunFailedError(f"{model_file}: forward pass {context} gives NaN or infinite logits")
    return logits


def _check_training(
    submission: Submission, model: torch.nn.Module, num_tags: int, steps: int, generator: torch.Generator
) -> dict[str, Any]:
    """Backward passes and a few optimiser steps on a fixed batch; the loss must fall below its first value."""
    model_file, spec = submission.model_file, submission.spec
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        raise RunFailedError(
            f"{model_file}: the model has no trainable parameters, but {submission.path / 'submission.toml'} "
            f"sets training.epochs = {spec.epochs}; use epochs = 0 for a model that is not trained"
        )
    x = torch.randn(spec.input_shape(4), generator=generator)
    y = (torch.rand(4, num_tags, generator=generator) < 0.5).float()
    optimizer = make_optimizer(spec, parameters)
    model.train()
    losses: list[float] = []
    for step in range(steps + 1):
        optimizer.zero_grad(set_to_none=True)
        logits = _checked_forward(submission, model, x, num_tags, f"in train mode (step {step})")
        if not logits.requires_grad:
            raise RunFailedError(f"{model_file}: the logits do not depend on any parameter (no gradient can flow)")
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
        losses.append(float(loss.detach()))
        if step > 0 and losses[-1] < losses[0]:
            break
        if step == steps:
            break
        with submission.user_code("backward pass", RunFailedError):
            loss.backward()
        grads = [p.grad for p in parameters if p.grad is not None]
        if not grads:
            raise RunFailedError(f"{model_file}: the backward pass gives no parameter a gradient")
        if not all(torch.isfinite(g).all() for g in grads):
            raise RunFailedError(f"{model_file}: the backward pass gives NaN or infinite gradients (step {step})")
        optimizer.step()
    run = len(losses) - 1
    if not losses[-1] < losses[0]:
        raise RunFailedError(
            f"{model_file}: the loss does not decrease: {losses[0]:.4g} -> {losses[-1]:.4g} after {run} {spec.optimizer} "
            f"steps (lr {spec.lr:g}, from {submission.path / 'submission.toml'}) on a fixed batch of 4; "
            f"do the logits depend on the parameters, and is the learning rate sensible?"
        )
    return {"first": losses[0], "last": losses[-1], "steps": run}


def _describe(exc: BaseException) -> str:
    """``Type: message`` on one line; a ``SystemExit`` says what it would have done and what to do instead."""
    if isinstance(exc, SystemExit):
        code = "" if exc.code is None else repr(exc.code)
        return (
            f"it called sys.exit({code}) (SystemExit), which would end the harness without a word; "
            "raise an exception with a message instead"
        )
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _where(model_file: Path, exc: BaseException) -> str:
    """``model.py:LINE`` for the innermost frame of the exception in ``model_file``, else the path."""
    line = _line_in(model_file, exc)
    return f"{model_file}:{line}" if line else str(model_file)


def _line_in(model_file: Path, exc: BaseException) -> int | None:
    """The line of the innermost frame of ``exc``'s traceback in ``model_file`` (or of its syntax error)."""
    line = None
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename) == model_file:
        line = exc.lineno
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == model_file:
            line = frame.lineno
    return line


# --- new --------------------------------------------------------------------------------------------


def new_submission(name: str, directory: str | Path | None = None) -> Path:
    """Scaffold ``directory/name/`` (default: ``submissions/`` of this checkout) with a working small CNN.

    Writes ``submission.toml`` (every field, commented), ``model.py`` (a small CNN on mel96 with
    global pooling, so any crop of at least 8 frames works) and ``README.md`` (what to fill in).
    The folder passes ``check_submission`` as written. It is written beside the target and renamed
    into place, so an interrupted call leaves no half-made folder. Refuses an invalid name or an
    existing folder (``BadInputError``).
    """
    if not is_valid_name(name):
        raise BadInputError(f"invalid submission name {name!r}: {NAME_RULE}")
    parent = Path(directory) if directory is not None else paths.submissions_dir()
    target = parent / name
    if target.exists():
        raise BadInputError(f"{target}: already exists; choose another name or remove it")
    # before anything is written: a folder that cannot be made or written in is one line naming it
    paths.ensure_writable_dir(parent, "--dir" if directory is not None else "the submissions folder")
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=parent))
    try:
        folder = staging / name  # made by mkdir, so it has the usual permissions (mkdtemp's are 0700)
        folder.mkdir()
        for filename, template in (("submission.toml", _TOML), ("model.py", _MODEL), ("README.md", _README)):
            (folder / filename).write_text(template.replace("@NAME@", name), encoding="utf-8")
        os.rename(folder, target)
    except FileExistsError as exc:
        raise BadInputError(f"{target}: already exists; choose another name or remove it") from exc
    except OSError as exc:
        raise BadInputError(f"{target}: could not be written ({exc.strerror or exc})") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


_TOML = '''\
# The submission "@NAME@": every field the harness reads. `harness submissions check` validates it.

name = "@NAME@"                    # the folder name; names runs, predictions and leaderboard rows
title = "Small CNN on 96-band mel-spectrograms"   # one line, shown by `harness submissions list`
authors = ["Your Name"]
description = """What the model is and where it comes from, in a few sentences (shown on the \\
leaderboard)."""
citation = ""                      # the paper to cite (authors, title, venue, year); "" for new work
feature = "mel96"                  # mel96: input (B, 1, 96, crop_frames), 46.875 frames per second;
                                   # stft-square: input (B, 1, K, K) with K = crop_frames (129/257/513/1025)
crop_frames = 1280                 # training and evaluation crop length (1280 frames = 27.3 s)
external_data = false              # true when anything beyond the training split was used (pre-training)
licence = "MIT"                    # the licence of model.py and of the weights it produces

[model]                            # keyword arguments of build(num_tags, **params) in model.py
channels = [16, 32, 64]
dropout = 0.3

[optimizer]                        # may be left out when epochs = 0
name = "adam"                      # adam, adamw or sgd (momentum 0.9)
lr = 1e-3
weight_decay = 0.0

[training]
batch_size = 32
epochs = 100                       # the most epochs; 0 = no training, the model is evaluated as built
patience = 20                      # stop after this many epochs without a better validation score
'''

_MODEL = '''\
"""@NAME@: a small CNN on 96-band mel-spectrograms (scaffolded by `harness submissions new`).

Replace it with your model and keep ``build(num_tags, **params)``: it gets the ``[model]`` table of
``submission.toml`` as keyword arguments and returns a ``torch.nn.Module`` that maps a batch
``(B, 1, 96, frames)`` of mel-spectrogram crops (dB) to logits ``(B, num_tags)``; the harness
applies the sigmoid. A module may also define ``fit_labels(self, labels)``, called once with the
training label matrix (see ``harness/submissions.py``).

Architecture (input ``(B, 1, 96, 1280)``, ``channels = (16, 32, 64)``):

| block | layers                                          | output (C x H x W) |
|-------|-------------------------------------------------|--------------------|
| input | batch-norm                                      | 1 x 96 x 1280      |
| 1     | conv 3x3 (16), batch-norm, ReLU, max-pool 2x2   | 16 x 48 x 640      |
| 2     | conv 3x3 (32), batch-norm, ReLU, max-pool 2x2   | 32 x 24 x 320      |
| 3     | conv 3x3 (64), batch-norm, ReLU, max-pool 2x2   | 64 x 12 x 160      |
| pool  | global max and mean over (H, W), concatenated   | 128                |
| head  | dropout, linear 128 -> tags                     | tags               |

The global pooling makes any crop of at least 8 frames work. With 56 tags: 30,634 parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def _block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class SmallCNN(nn.Module):
    def __init__(self, num_tags: int, channels: Sequence[int] = (16, 32, 64), dropout: float = 0.3) -> None:
        super().__init__()
        self.input_norm = nn.BatchNorm2d(1)
        blocks, width = [], 1
        for out_channels in channels:
            blocks.append(_block(width, out_channels))
            width = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * width, num_tags)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.input_norm(x))
        pooled = torch.cat([torch.amax(x, dim=(2, 3)), torch.mean(x, dim=(2, 3))], dim=1)
        return self.classifier(self.dropout(pooled))


def build(num_tags: int, channels: Sequence[int] = (16, 32, 64), dropout: float = 0.3) -> nn.Module:
    return SmallCNN(num_tags, channels=tuple(channels), dropout=dropout)
'''

_README = """\
# @NAME@

TODO, what it is: two or three sentences on the model, its input (feature, crop length) and where
it comes from. The scaffold is a small CNN on 96-band mel-spectrograms; say what you changed.

## Model

TODO: the architecture in brief (the table in `model.py` has the details), the parameter count
(`harness submissions list` prints it) and anything taken from elsewhere (pre-trained weights,
external data: then set `external_data = true` in `submission.toml`).

## Training

TODO: what `submission.toml` sets (optimiser, learning rate, batch size, epochs, patience, crop
length) and why; anything the shared protocol does not do. With `epochs = 0` the model is
evaluated as built.

## Results

TODO: published figures to compare against (metric, dataset, fold and split), if any, and the
command that reproduces them: `harness run @NAME@ --dataset NAME --seeds 0,1,2`.

## Citation

TODO: the paper to cite (authors, title, venue, year, link), or "new work".
"""
