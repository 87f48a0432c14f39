"""``submission.toml``: the fields, their TOML types and checks, read into a frozen :class:`SubmissionSpec`.

Every field has a TOML type, checked as read, so nothing is silently converted: integers for
``crop_frames``, ``training.epochs``, ``training.batch_size`` and ``training.patience`` (a float
such as ``2.5``, a string or a boolean is refused, not truncated), finite numbers for
``optimizer.lr`` (positive) and ``optimizer.weight_decay`` (>= 0), a boolean for
``external_data``, strings for ``name``, ``title``, ``description``, ``citation``, ``licence``,
``feature`` and ``optimizer.name``, and a list of strings for ``authors``. ``name`` follows the
rule of ``harness submissions new`` (it names run folders), ``crop_frames`` is at most
:data:`MAX_CROP_FRAMES`, and an unknown field is refused with the nearest known one, so a typo is
not silently ignored.

The input size has one owner per feature: ``crop_frames`` (required) for ``mel96``; the dataset's
``square_size`` for ``stft-square``, where ``crop_frames`` may be left out (the zoo does) or, when
set, must be one of :data:`~harness.features.stft.SQUARE_SIZES` and equal the dataset's K on every
run and check (see :meth:`harness.submissions.loading.Submission.input_size`).
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import FormatError
from harness.features.kinds import FEATURE_KINDS
from harness.features.mel import MEL96
from harness.features.stft import SQUARE_SIZES

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

_TOP_FIELDS = (
    "name",
    "title",
    "authors",
    "description",
    "citation",
    "feature",
    "crop_frames",
    "external_data",
    "licence",
    "model",
    "optimizer",
    "training",
)
_TABLE_FIELDS = {"optimizer": ("name", "lr", "weight_decay"), "training": ("batch_size", "epochs", "patience")}


def is_valid_name(name: str) -> bool:
    """A submission name: it names folders under ``runs/``, so nothing that could leave them (``/``, ``..``)."""
    return len(name) <= MAX_NAME_LENGTH and NAME_PATTERN.fullmatch(name) is not None


@dataclass(frozen=True)
class SubmissionSpec:
    """A ``submission.toml``, validated on construction.

    ``crop_frames`` is the mel96 crop length (required for mel96). For stft-square it is None when
    left out, the usual case: the dataset's ``square_size`` is K; when set it pins K (one of
    :data:`SQUARE_SIZES`), and a dataset with another K is refused.
    """

    name: str
    title: str
    authors: tuple[str, ...]
    description: str
    feature: str
    crop_frames: int | None
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
        if self.crop_frames is None and self.feature != "stft-square":
            raise ValueError(f"missing field 'crop_frames' (the {self.feature} crop length in frames)")
        for name in ("crop_frames", "batch_size"):
            value = getattr(self, name)
            if value is not None and int(value) < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.crop_frames is not None and self.crop_frames > MAX_CROP_FRAMES:
            raise ValueError(
                f"crop_frames must be at most {MAX_CROP_FRAMES} (an hour of mel96 frames), got {self.crop_frames}"
            )
        if self.feature == "stft-square" and self.crop_frames is not None and self.crop_frames not in SQUARE_SIZES:
            raise ValueError(
                f"crop_frames of a stft-square submission can only pin K of the K x K input, which the dataset's "
                f"square_size sets: one of {', '.join(map(str, SQUARE_SIZES))}, got {self.crop_frames} "
                "(leave crop_frames out to take every dataset's K)"
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

    def input_shape(self, batch: int, size: int) -> tuple[int, int, int, int]:
        """The shape of a batch of this submission's crops of ``size`` frames (mel96) or K (stft-square).

        ``size`` comes from :meth:`~harness.submissions.loading.Submission.input_size`, which knows
        the dataset and refuses a conflict.
        """
        if self.feature == "stft-square":
            return (batch, 1, size, size)
        return (batch, 1, MEL96.n_mels, size)


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
        no_training = epochs == 0
        return SubmissionSpec(
            name=name,
            title=_string(raw, "title", default=name),
            authors=_strings(raw, "authors"),
            description=_string(raw, "description", default=""),
            citation=_string(raw, "citation", default=""),
            feature=feature,
            crop_frames=_integer(raw, "crop_frames", optional=feature == "stft-square"),
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
        raise ValueError(
            f"{_dotted(key, table_name)} must be a finite TOML number such as {key} = 1e-3, got {_shown(value)}"
        )
    return float(value)


def _boolean(table: dict[str, Any], key: str, default: bool) -> bool:
    """A TOML boolean: ``"false"`` (a string) is refused, since ``bool("false")`` is True."""
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(
            f"{key} must be a TOML boolean, {key} = true or {key} = false (no quotes), got {_shown(value)}"
        )
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
