"""Reading prediction files: what numpy writes round-trips; headers are checked before any data is read."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from harness.datasets.splits import SplitData
from harness.errors import BadInputError, DataMissingError, FormatError
from harness.results.predictions import load_predictions, save_predictions


def _split(n_items: int = 4, n_tags: int = 3) -> SplitData:
    labels = np.arange(n_items * n_tags).reshape(n_items, n_tags) % 2 == 0
    return SplitData(
        "d", "f", "test", tuple(f"i{i}" for i in range(n_items)), tuple(f"t{j}" for j in range(n_tags)), labels
    )


SCORES = np.linspace(0, 1, 12, dtype=np.float32).reshape(4, 3)


def test_harness_npz_round_trip(tmp_path: Path) -> None:
    split = _split()
    path = tmp_path / "test.npz"
    save_predictions(
        path, SCORES, split.item_ids, split.tags, {"dataset": "d", "fold": "f", "split": "test", "eval_crops": 20}
    )
    loaded = load_predictions(path, split)
    np.testing.assert_array_equal(loaded.scores, SCORES)
    assert loaded.scores.dtype == np.float64 and loaded.scores.flags.writeable
    assert loaded.item_ids == split.item_ids and loaded.tags == split.tags
    assert loaded.meta == {"dataset": "d", "fold": "f", "split": "test", "eval_crops": 20}
    loaded.check_against(split)


@pytest.mark.parametrize(
    "array",
    [
        SCORES,
        np.asfortranarray(SCORES),
        SCORES.astype(">f8"),
        SCORES.astype(np.float16),
        SCORES > 0.5,
        (SCORES * 10).astype(np.int64),
        (SCORES * 10).astype(np.uint8),
    ],
    ids=["float32", "fortran-order", "big-endian", "float16", "bool", "int64", "uint8"],
)
def test_npy_round_trip(array: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "p.npy"
    np.save(path, array)
    np.testing.assert_array_equal(load_predictions(path).scores, array.astype(np.float64))


def test_npy_format_versions(tmp_path: Path) -> None:
    for version in ((1, 0), (2, 0), (3, 0)):
        path = tmp_path / f"v{version[0]}.npy"
        with path.open("wb") as fp:
            np.lib.format.write_array(fp, SCORES, version=version)
        np.testing.assert_array_equal(load_predictions(path).scores, SCORES)


def test_compressed_npz(tmp_path: Path) -> None:
    split = _split()
    path = tmp_path / "c.npz"
    np.savez_compressed(
        path, scores=SCORES, item_ids=np.asarray(split.item_ids), tags=np.asarray(split.tags), meta=np.asarray("{}")
    )
    np.testing.assert_array_equal(load_predictions(path).scores, SCORES)


def test_bool_bytes_other_than_one_read_as_true(tmp_path: Path) -> None:
    path = tmp_path / "b.npy"
    raw = io.BytesIO()
    np.save(raw, np.zeros((2, 2), dtype=bool))
    path.write_bytes(raw.getvalue()[:-4] + bytes([0, 1, 2, 255]))
    np.testing.assert_array_equal(load_predictions(path).scores, [[0, 1], [1, 1]])


def _claiming(shape: tuple[int, ...], real: np.ndarray) -> bytes:
    raw = io.BytesIO()
    np.save(raw, real)
    return raw.getvalue().replace(repr(real.shape).encode(), repr(shape).encode(), 1)


def test_a_huge_header_allocates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "huge.npy"
    path.write_bytes(_claiming((10**9, 10**6), SCORES.astype(np.float64)))
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match=r"huge\.npy.*\(1000000000, 1000000\)"):
            load_predictions(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_with_a_split_the_header_shape_is_checked_before_the_data(tmp_path: Path) -> None:
    """A wrong but plausible shape is refused from the header: the truncated data is never reached."""
    path = tmp_path / "wrong.npy"
    path.write_bytes(_claiming((400, 3), SCORES))
    with pytest.raises(FormatError, match=r"shape \(400, 3\), but d f test has 4 items x 3 tags"):
        load_predictions(path, _split())
    with pytest.raises(FormatError, match="truncated"):
        load_predictions(path)
    np.save(path, SCORES.T)
    with pytest.raises(FormatError, match="transposed"):
        load_predictions(path, _split())


def test_trailing_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "two.npy"
    with path.open("wb") as fp:
        np.save(fp, SCORES)
        np.save(fp, SCORES)
    with pytest.raises(FormatError, match="two arrays in one file"):
        load_predictions(path)


def _patch_central_size(archive: bytes, member: str, size: int) -> bytes:
    """The archive with ``member``'s uncompressed size in the central directory set to ``size``."""
    at = archive.index(b"PK\x01\x02")
    while archive[at + 46 : at + 46 + len(member)] != member.encode():
        at = archive.index(b"PK\x01\x02", at + 4)
    return archive[: at + 24] + struct.pack("<I", size) + archive[at + 28 :]


def test_a_member_declaring_more_than_its_bytes_hold_is_refused(tmp_path: Path) -> None:
    split = _split()
    raw = io.BytesIO()
    np.savez(
        raw, scores=SCORES, item_ids=np.asarray(split.item_ids), tags=np.asarray(split.tags), meta=np.asarray("{}")
    )
    path = tmp_path / "bomb.npz"
    path.write_bytes(_patch_central_size(raw.getvalue(), "scores.npy", 2**31))
    assert zipfile.ZipFile(path).getinfo("scores.npy").file_size == 2**31
    with pytest.raises(FormatError, match=r"bomb\.npz \(scores\): declares 2147483648 bytes"):
        load_predictions(path)


def test_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(DataMissingError, match="no such prediction file"):
        load_predictions(tmp_path / "absent.npy")
    (tmp_path / "dir.npy").mkdir()
    with pytest.raises(BadInputError, match="is a folder"):
        load_predictions(tmp_path / "dir.npy")
    (tmp_path / "p.csv").write_text("1,2\n")
    with pytest.raises(BadInputError, match="not .csv"):
        load_predictions(tmp_path / "p.csv")


def test_meta_and_string_arrays_are_checked(tmp_path: Path) -> None:
    split = _split()
    base = {
        "scores": SCORES,
        "item_ids": np.asarray(split.item_ids),
        "tags": np.asarray(split.tags),
        "meta": np.asarray("{}"),
    }
    cases = {
        "meta": (np.asarray('{"split": ["test"]}'), "meta split is"),
        "tags": (np.asarray(split.tags[:2]), "tags has shape \\(2,\\)"),
        "item_ids": (np.asarray(split.item_ids).astype("S"), "dtype \\|S2 is not unicode strings"),
    }
    for member, (value, message) in cases.items():
        path = tmp_path / f"{member}.npz"
        np.savez(path, **{**base, member: value})
        with pytest.raises(FormatError, match=message):
            load_predictions(path)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.float64(4e38), "float32 range"),
        (np.float64(-4e38), "float32 range"),
        (np.float64(np.nan), "p.npy: scores of shape \\(4, 3\\) hold 1 NaN"),
        (np.float64(np.inf), "1 infinite"),
    ],
)
def test_values_the_store_cannot_keep_are_refused(value: np.float64, message: str, tmp_path: Path) -> None:
    scores = SCORES.astype(np.float64)
    scores[2, 1] = value
    path = tmp_path / "p.npy"
    np.save(path, scores)
    with pytest.raises(FormatError, match=message):
        load_predictions(path)


def test_the_float32_limit_itself_is_accepted(tmp_path: Path) -> None:
    scores = SCORES.astype(np.float64)
    scores[0, 0] = float(np.finfo(np.float32).max)
    path = tmp_path / "edge.npy"
    np.save(path, scores)
    assert np.isfinite(load_predictions(path).scores.astype(np.float32)).all()
