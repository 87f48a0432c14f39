"""Prediction files: the harness's ``.npz`` and MediaEval's bare ``.npy``.

Harness ``.npz``: ``scores`` float32 (items x tags), ``item_ids`` and ``tags`` (unicode arrays) and
``meta`` (a JSON string: dataset, fold, split, fingerprint, submission, run id). A MediaEval
``.npy`` is a bare (items x tags) matrix in the split's row order and the official tag order; it
carries no metadata, so the dataset, fold and split come from the command line.

Reading is defensive (:func:`load_predictions`): these files come from other people's code, so
a header is never trusted to size an allocation, nothing is unpickled, and what the results store
could not keep (NaN, infinities, values beyond float32) is refused with the file named.
"""

from __future__ import annotations

import json
import math
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from harness import atomic
from harness.datasets.splits import SplitData
from harness.errors import BadInputError, DataMissingError, FormatError
from harness.metrics.validate import validate_scores


@dataclass(frozen=True, eq=False)
class Predictions:
    scores: np.ndarray
    item_ids: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def check_against(self, split: SplitData) -> None:
        """Raise FormatError unless these predictions are for ``split`` (shape, ids, tags, fingerprint)."""
        where = self.path or "predictions"
        _check_shape(where, self.scores.shape, split)
        if self.tags is not None and tuple(self.tags) != tuple(split.tags):
            raise FormatError(f"{where}: tags differ from the registry's tag order of {split.dataset}")
        if self.item_ids is not None and tuple(self.item_ids) != tuple(split.item_ids):
            raise FormatError(f"{where}: item ids differ from {split.dataset} {split.fold} {split.split}")
        fingerprint = self.meta.get("fingerprint")
        if fingerprint and fingerprint != split.fingerprint:
            raise FormatError(
                f"{where}: made for split fingerprint {fingerprint[:12]}..., but {split.dataset} {split.fold} "
                f"{split.split} is {split.fingerprint[:12]}...; the labels or items changed, re-run the predictions"
            )


def _check_shape(where: object, shape: tuple[int, ...], split: SplitData) -> None:
    expected = (len(split.item_ids), len(split.tags))
    if shape != expected:
        hint = " (transposed?)" if shape == expected[::-1] else ""
        raise FormatError(
            f"{where}: shape {shape}, but {split.dataset} {split.fold} {split.split} has "
            f"{expected[0]} items x {expected[1]} tags{hint}"
        )


def save_predictions(
    path: Path, scores: np.ndarray, item_ids: Sequence[str], tags: Sequence[str], meta: dict[str, Any]
) -> None:
    atomic.write_npz(
        path,
        scores=np.asarray(scores, dtype=np.float32),
        item_ids=np.asarray(list(item_ids), dtype=str),
        tags=np.asarray(list(tags), dtype=str),
        meta=np.asarray(json.dumps(meta, sort_keys=True)),
    )


def load_predictions(path: str | Path, split: SplitData | None = None) -> Predictions:
    """Read a prediction file, every header checked before its data is read; errors name the file.

    The format is sniffed from the first bytes, not taken from the suffix: a ``.npy`` named
    ``.npz`` (or the reverse) is refused with a line that says so and how to rename it, rather than
    read by its content, because the suffix tells the reader what to expect (a bare matrix that needs
    ``--dataset``, or a harness file that carries its own split). Every array's header is read
    first (dtype, shape) and its claimed size checked against the bytes actually there, so a
    header that claims a huge array never allocates it; object arrays (pickles) are refused, and
    so are complex, datetime and timedelta scores. Scores must be finite and within the float32
    range, which is what the results store keeps.

    With ``split`` (known before reading: a bare ``.npy`` scored with ``--dataset``, ``--decisions``,
    ``--thresholds-from``), a 2-d score matrix of another shape is refused from its header, so not
    even a real but wrong-sized file is read. Without it, what is read is bounded by the file: its
    size for a ``.npy``, the deflate ratio times the archive's size for a ``.npz``.
    """
    path = Path(path)
    if path.is_dir():
        raise BadInputError(f"{path}: is a folder; expected a prediction file (.npz or .npy)")
    if not path.is_file():
        raise DataMissingError(f"{path}: no such prediction file")
    if path.suffix not in (".npy", ".npz"):
        raise BadInputError(
            f"{path}: prediction files are .npz (harness) or .npy (MediaEval), not {path.suffix or 'no suffix'}"
        )
    with path.open("rb") as fp:
        _check_magic(path, fp.read(len(_NPY_MAGIC)))
        if path.suffix == ".npy":
            fp.seek(0)
            scores = _read_npy(fp, path.stat().st_size, str(path), shape_of=_shape_check(path, split))
            return Predictions(scores=_check_scores(scores, str(path)), path=path)
    return _read_harness_npz(path, split)


def _shape_check(where: object, split: SplitData | None) -> Callable[[tuple[int, ...]], None] | None:
    """Check a header's 2-d shape against ``split`` (other shapes are left to the full checks)."""
    if split is None:
        return None
    return lambda shape: _check_shape(where, shape, split) if len(shape) == 2 else None


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip
_META_STRINGS = ("dataset", "fold", "split", "fingerprint", "submission", "run_id")
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_DEFLATE_MAX_RATIO = 1032  # deflate cannot expand data more than this; a member claiming more is corrupt


def _check_magic(path: Path, magic: bytes) -> None:
    """Refuse a file whose content is not what its suffix says (a renamed file, or not numpy at all)."""
    is_npy, is_zip = magic.startswith(_NPY_MAGIC), magic[:4] in _ZIP_MAGICS
    if path.suffix == ".npy" and is_zip:
        raise FormatError(f"{path}: this is a .npz file named .npy; rename it to {path.with_suffix('.npz').name}")
    if path.suffix == ".npz" and is_npy:
        raise FormatError(f"{path}: this is a .npy file named .npz; rename it to {path.with_suffix('.npy').name}")
    if path.suffix == ".npy" and not is_npy:
        detail = "empty file" if not magic else "no .npy header"
        raise FormatError(f"{path}: not a readable .npy array ({detail}); save it with numpy.save")
    if path.suffix == ".npz" and not is_zip:
        detail = "empty file" if not magic else "not a zip archive"
        raise FormatError(f"{path}: not a readable .npz file ({detail}); harness runs write them with numpy.savez")


def _read_header(fp: IO[bytes], what: str) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    """The (shape, fortran order, dtype) a .npy header claims, without reading any data."""
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version in ((2, 0), (3, 0)):  # 3.0 is 2.0 with a UTF-8 header: the same for every dtype read here
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise FormatError(
                f"{what}: .npy format version {version[0]}.{version[1]}; expected 1.0, 2.0 or 3.0 (numpy.save)"
            )
    except (ValueError, SyntaxError, TypeError, KeyError, EOFError) as exc:
        raise FormatError(f"{what}: not a readable .npy header ({exc or 'truncated'})") from exc
    if any(n < 0 for n in shape):
        raise FormatError(
            f"{what}: the header claims shape {tuple(shape)}, with a negative dimension; the file is damaged"
        )
    return tuple(shape), bool(fortran), dtype


def _read_npy(
    fp: IO[bytes], size: int, what: str, kinds: str = "biuf", shape_of: Callable[[tuple[int, ...]], None] | None = None
) -> np.ndarray:
    """An array from a .npy stream of ``size`` bytes, its header checked before any data is read.

    ``kinds``: the dtype kinds allowed (numbers and bool for scores, ``U`` for strings). Object
    arrays (pickles) are never read; the data must be exactly the bytes the header claims.
    ``shape_of``: a further check of the claimed shape, before the data.
    """
    shape, fortran, dtype = _read_header(fp, what)
    if shape_of is not None:
        shape_of(shape)
    if dtype.hasobject:
        raise FormatError(
            f"{what}: holds Python objects (a pickle); expected {_KIND_WORDS[kinds]}, saved without dtype=object"
        )
    if dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype is not None:
        raise FormatError(f"{what}: dtype {dtype} is not {_KIND_WORDS[kinds]}{_DTYPE_HINTS.get(dtype.kind, '')}")
    count = math.prod(shape)
    claimed, there = count * dtype.itemsize, size - fp.tell()
    if claimed != there:
        problem = "truncated or damaged" if claimed > there else "longer than its array (two arrays in one file?)"
        raise FormatError(
            f"{what}: {problem}: the header claims shape {shape} of {dtype} ({claimed} bytes), but {there} bytes "
            "of data follow it; save the matrix again with numpy.save"
        )
    data = fp.read(claimed)
    if len(data) != claimed:
        raise FormatError(f"{what}: truncated: {len(data)} of {claimed} data bytes could be read")
    array = np.frombuffer(data, dtype=dtype, count=count)
    if dtype.kind == "b":
        array = array.view(np.uint8) != 0  # any nonzero byte is True, as numpy reads it
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


_KIND_WORDS = {"biuf": "real numbers or bool", "U": "unicode strings"}
_DTYPE_HINTS = {
    "c": " (complex: keep the real scores, e.g. x.real, if that is what they are)",
    "m": " (timedelta: durations are not scores)",
    "M": " (datetime: dates are not scores)",
    "S": " (byte strings: save text with dtype=str)",
    "V": " (a structured or raw-bytes array)",
}


def _read_harness_npz(path: Path, split: SplitData | None = None) -> Predictions:
    """A harness ``.npz``: scores, item ids and tags of matching lengths, and its JSON meta object."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            missing = [name for name in ("scores", "item_ids", "tags", "meta") if f"{name}.npy" not in members]
            if missing:
                raise FormatError(f"{path}: missing arrays {', '.join(sorted(missing))}; not a harness prediction file")

            def read(name: str, kinds: str, check: Any = None) -> np.ndarray:
                return _read_member(archive, members[f"{name}.npy"], path, name, kinds, check)

            scores = _check_scores(read("scores", "biuf", _shape_check(path, split)), f"{path} (scores)")
            item_ids = _strings(read("item_ids", "U"), scores.shape[0], "item_ids", "one per row", path)
            tags = _strings(read("tags", "U"), scores.shape[1], "tags", "one per column", path)
            meta = _meta(read("meta", "U"), path)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        raise FormatError(f"{path}: not a readable .npz file ({exc or type(exc).__name__})") from exc
    return Predictions(scores=scores, item_ids=item_ids, tags=tags, meta=meta, path=path)


def _read_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    path: Path,
    name: str,
    kinds: str,
    shape_of: Callable[[tuple[int, ...]], None] | None = None,
) -> np.ndarray:
    """One array of an archive; a member whose declared size its compressed bytes cannot hold is refused."""
    what = f"{path} ({name})"
    if info.flag_bits & 0x1:
        raise FormatError(f"{what}: encrypted; numpy.savez writes plain archives")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise FormatError(
            f"{what}: compression method {info.compress_type}; numpy.savez(_compressed) writes stored or deflated members"
        )
    limit = (
        info.compress_size
        if info.compress_type == zipfile.ZIP_STORED
        else info.compress_size * _DEFLATE_MAX_RATIO + 1024
    )
    if info.file_size > limit:
        raise FormatError(
            f"{what}: declares {info.file_size} bytes but holds {info.compress_size} compressed; the archive is damaged"
        )
    with archive.open(info) as fp:
        return _read_npy(fp, info.file_size, what, kinds, shape_of)


def _strings(array: np.ndarray, expected: int, name: str, per: str, path: Path) -> tuple[str, ...]:
    if array.ndim != 1 or len(array) != expected:
        raise FormatError(
            f"{path}: {name} has shape {array.shape}; expected a 1-d array of {expected} strings, {per} of scores"
        )
    return tuple(str(x) for x in array)


def _meta(array: np.ndarray, path: Path) -> dict[str, Any]:
    """The JSON object in ``meta``; its split-naming fields must be strings when present."""
    if array.ndim != 0:
        raise FormatError(f"{path}: meta has shape {array.shape}; expected one JSON string (a 0-d array)")
    try:
        meta = json.loads(str(array[()]))
    except (ValueError, RecursionError) as exc:
        raise FormatError(f"{path}: meta is not valid JSON ({str(exc)[:120]})") from exc
    if not isinstance(meta, dict):
        kind = _JSON_TYPES.get(type(meta), type(meta).__name__)
        raise FormatError(f"{path}: meta is a JSON {kind}; expected an object with dataset, fold, split")
    for key in _META_STRINGS:
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise FormatError(f"{path}: meta {key} is {meta[key]!r}; expected a string")
    return meta


_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "true/false", type(None): "null"}


def _check_scores(scores: np.ndarray, what: str) -> np.ndarray:
    """A 2-d, non-empty, finite matrix within the float32 range, as float64."""
    scores = validate_scores(scores, f"{what}: scores")
    scores = scores.astype(np.float64)
    beyond = np.abs(scores) > _FLOAT32_MAX
    if beyond.any():
        row, col = (int(i) for i in np.argwhere(beyond)[0])
        raise FormatError(
            f"{what}: {int(beyond.sum())} value(s) beyond the float32 range (±{_FLOAT32_MAX:.7g}), first "
            f"{scores[row, col]:.4g} at row {row}, column {col}; the results store keeps float32 scores: "
            "rescale them (probabilities or logits)"
        )
    return scores
