"""The mtg-jamendo family on small fixtures in the official format, generated here.

The fixtures copy what the MTG repository ships: tab-separated split files with CRLF line ends, the
header ``TRACK_ID ARTIST_ID ALBUM_ID PATH DURATION TAGS``, one column per tag (ragged rows), tags
named ``mood/theme---x``, and an LF tags file. The registry of each test is a copy of the real
one's shape, with pins and counts computed from the fixture files (``describe_root``).

The builders below are also used by ``test_fetch.py``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.datasets import load_spec, open_dataset
from harness.datasets.fetch import sha256_file
from harness.datasets.mtg_jamendo import MTGJamendoDataset
from harness.datasets.mtg_jamendo_files import HEADER, describe_root, read_split_tsv, read_tags_file, source_toml
from harness.errors import BadInputError, DataMissingError, FormatError, UnknownNameError

runner = CliRunner()

NAME = "mtg-jamendo-moodtheme"
TAGS = ("mood/theme---calm", "mood/theme---happy", "mood/theme---sad")
FOLDS = ("split-0", "split-1")

# fold -> split -> rows of (track number, artist number, tags)
PARTS: dict[str, dict[str, list[tuple[int, int, tuple[str, ...]]]]] = {
    "split-0": {
        "train": [
            (948, 87, ("calm",)),
            (950, 87, ("happy", "sad")),
            (1001, 90, ("calm", "happy", "sad")),
            (1102, 91, ("sad",)),
        ],
        "validation": [(2003, 92, ("happy",)), (2104, 93, ("calm", "sad"))],
        "test": [(3005, 94, ("sad", "calm")), (3106, 95, ("happy",)), (3207, 95, ("calm", "happy"))],
    },
    "split-1": {
        "train": [
            (2003, 92, ("happy",)),
            (2104, 93, ("calm", "sad")),
            (3005, 94, ("sad", "calm")),
            (3106, 95, ("happy",)),
            (3207, 95, ("calm", "happy")),
        ],
        "validation": [(948, 87, ("calm",)), (950, 87, ("happy", "sad"))],
        "test": [(1001, 90, ("calm", "happy", "sad")), (1102, 91, ("sad",))],
    },
}


def split_path(fold: str, split: str) -> str:
    return f"data/splits/{fold}/autotagging_moodtheme-{split}.tsv"


def tsv_row(track: int, artist: int, tags: tuple[str, ...]) -> str:
    cells = [
        f"track_{track:07d}",
        f"artist_{artist:06d}",
        f"album_{artist * 10:06d}",
        f"{track % 100:02d}/{track}.mp3",
        f"{track / 10:.1f}",
    ]
    return "\t".join(cells + [f"mood/theme---{t}" for t in tags])


def tsv_text(rows: list[tuple[int, int, tuple[str, ...]]]) -> str:
    """A split file exactly as the MTG repository writes one: CRLF, header, ragged tag columns."""
    return "".join(line + "\r\n" for line in ["\t".join(HEADER), *(tsv_row(*row) for row in rows)])


def write_root(root: Path, parts: dict = PARTS, tags: tuple[str, ...] = TAGS) -> Path:
    """A dataset root laid out like the MTG repository."""
    for fold, splits in parts.items():
        for split, rows in splits.items():
            path = root / split_path(fold, split)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(tsv_text(rows).encode("utf-8"))
    (root / "data" / "tags").mkdir(parents=True, exist_ok=True)
    (root / "data" / "tags" / "moodtheme_split.txt").write_bytes("".join(t + "\n" for t in tags).encode())
    return root


def registry_toml(
    root: Path, folds: tuple[str, ...] = FOLDS, tags: tuple[str, ...] = TAGS, base_url: str = "", extra: str = ""
) -> str:
    """A registry shaped like the real one, pinned to the files under ``root``."""
    pins, counts = describe_root(root, folds)
    tag_list = ", ".join(f'"{t}"' for t in tags)
    fold_list = ", ".join(f'"{f}"' for f in folds)
    return (
        f'name = "{NAME}"\nfamily = "mtg-jamendo"\ntitle = "MTG-Jamendo fixture"\ncitation = "fixture"\n'
        f'licence = "CC BY-NC-SA 4.0"\nprimary_metric = "PR-AUC-macro"\n\n'
        f"[tags]\nnames = [{tag_list}]\n\n[folds]\nnames = [{fold_list}]\n\n"
        f'[protocol]\nfeature = "mel96"\neval_crops_validation = 10\neval_crops_test = 20\n\n'
        f'[source]\ncommit = "fixture"\nbase_url = "{base_url}"\n\n{extra}\n' + source_toml(pins, counts)
    )


def register(registry: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    (registry / NAME).mkdir(parents=True, exist_ok=True)
    (registry / NAME / "dataset.toml").write_text(text)
    monkeypatch.setenv("HARNESS_REGISTRY", str(registry))
    return registry / NAME / "dataset.toml"


@pytest.fixture
def fixture_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_root(tmp_path / "mtg")
    register(tmp_path / "registry", monkeypatch, registry_toml(root))
    return root


def write_split(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "autotagging_moodtheme-test.tsv"
    path.write_bytes(text.encode("utf-8"))
    return path


# --- the format --------------------------------------------------------------------------------------


def test_fixture_has_the_official_format(fixture_root: Path) -> None:
    raw = (fixture_root / split_path("split-0", "train")).read_bytes()
    lines = raw.split(b"\r\n")
    assert lines[0] == b"TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS" and lines[-1] == b""
    assert len({line.count(b"\t") for line in lines[1:-1]}) > 1  # ragged rows
    naive_last = raw.decode().split("\n")[1].split("\t")[-1]
    assert naive_last.endswith("\r")  # the trap a naive split falls into


def test_rows_parse_without_cr(fixture_root: Path) -> None:
    tracks = read_split_tsv(fixture_root / split_path("split-0", "train"), TAGS)
    assert [t.track_id for t in tracks] == ["track_0000948", "track_0000950", "track_0001001", "track_0001102"]
    assert tracks[1].tags == ("mood/theme---happy", "mood/theme---sad")
    assert tracks[0].artist_id == "artist_000087" and tracks[0].path == "48/948.mp3" and tracks[0].duration == 94.8
    assert tracks[2].line == 4
    assert all("\r" not in cell for t in tracks for cell in (t.track_id, t.path, *t.tags))


def test_tags_file_read_in_order(fixture_root: Path) -> None:
    assert read_tags_file(fixture_root / "data/tags/moodtheme_split.txt") == TAGS


def test_split_labels_in_official_order(fixture_root: Path) -> None:
    dataset = open_dataset(NAME, fixture_root)
    assert isinstance(dataset, MTGJamendoDataset)
    part = dataset.split("split-0", "test")
    assert part.item_ids == ("track_0003005", "track_0003106", "track_0003207")
    assert part.tags == TAGS
    expected = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]], dtype=bool)
    np.testing.assert_array_equal(part.labels, expected)
    assert part.labels.dtype == bool
    assert dataset.split(1, "test").item_ids == ("track_0001001", "track_0001102")
    assert [dataset.spec.short_tag(t) for t in dataset.tags] == ["calm", "happy", "sad"]
    with pytest.raises(UnknownNameError, match="split-1"):
        dataset.split("split-7", "test")


def test_tags_file_must_match_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_root(tmp_path / "mtg")
    reordered = (TAGS[1], TAGS[0], TAGS[2])
    register(tmp_path / "registry", monkeypatch, registry_toml(root, tags=reordered))
    with pytest.raises(FormatError, match=r"moodtheme_split\.txt.*line 1.*mood/theme---calm"):
        open_dataset(NAME, root).split("split-0", "test")


# --- bad rows: file and line -----------------------------------------------------------------------------


def test_unknown_tag_names_file_and_line(tmp_path: Path) -> None:
    text = tsv_text([(1, 1, ("calm",)), (2, 2, ("calm", "angry"))])
    path = write_split(tmp_path, text)
    with pytest.raises(FormatError, match=rf"{path}:3: unknown tag 'mood/theme---angry'"):
        read_split_tsv(path, TAGS)


def test_duplicate_id_names_file_and_line(tmp_path: Path) -> None:
    path = write_split(tmp_path, tsv_text([(1, 1, ("calm",)), (2, 2, ("sad",)), (1, 3, ("happy",))]))
    with pytest.raises(FormatError, match=rf"{path}:4: duplicate TRACK_ID 'track_0000001' \(first on line 2\)"):
        read_split_tsv(path, TAGS)


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("track_0000009\tartist_000001", "2 column"),
        ("garbage", "1 column"),
        ("9\tartist_000001\talbum_000001\t09/9.mp3\t1.0\tmood/theme---calm", "TRACK_ID '9' is malformed"),
        (
            "track_0000009\tartist_000001\talbum_000001\t09/9.mp3\tlong\tmood/theme---calm",
            "DURATION 'long' is not a number",
        ),
        ("track_0000009\tartist_000001\talbum_000001\t09/9.mp3\t1.0\tmood/theme---calm\t", "column 7 is an empty tag"),
        ("track_0000009\tartist_000001\talbum_000001\t/abs/9.mp3\t1.0\tmood/theme---calm", "PATH '/abs/9.mp3'"),
    ],
)
def test_malformed_row_names_file_and_line(tmp_path: Path, bad_row: str, message: str) -> None:
    good = tsv_text([(1, 1, ("calm",)), (2, 2, ("sad",))])
    path = write_split(tmp_path, good + bad_row + "\r\n")
    with pytest.raises(FormatError) as info:
        read_split_tsv(path, TAGS)
    assert f"{path}:4:" in info.value.message and message in info.value.message


def test_bad_header_and_empty_file(tmp_path: Path) -> None:
    path = write_split(tmp_path, "TRACK\tARTIST\r\n" + tsv_row(1, 1, ("calm",)) + "\r\n")
    with pytest.raises(FormatError, match=rf"{path}:1: header"):
        read_split_tsv(path, TAGS)
    path.write_bytes(b"")
    with pytest.raises(FormatError, match="empty file"):
        read_split_tsv(path, TAGS)


def test_bad_row_through_the_cli_is_one_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = {"split-0": {s: list(rows) for s, rows in PARTS["split-0"].items()}}
    root = write_root(tmp_path / "mtg", parts)
    register(tmp_path / "registry", monkeypatch, registry_toml(root, folds=("split-0",)))
    bad = root / split_path("split-0", "test")
    bad.write_bytes(bad.read_bytes() + (tsv_row(9, 9, ("calm",)) + "\tmood/theme---angry\r\n").encode())
    # re-pin so the checksum passes and the parser meets the bad row
    register(tmp_path / "registry", monkeypatch, _repinned(tmp_path / "registry", bad, root))
    out = tmp_path / "gt.npy"
    result = runner.invoke(
        app,
        ["datasets", "groundtruth", NAME, "--fold", "split-0", "--split", "test", "-o", str(out), "--root", str(root)],
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and f"{bad}:5: unknown tag 'mood/theme---angry'" in " ".join(
        result.output.split()
    )
    assert not out.exists()


def _repinned(registry: Path, changed: Path, root: Path) -> str:
    text = (registry / NAME / "dataset.toml").read_text()
    relative = changed.relative_to(root).as_posix()
    lines = text.splitlines()
    at = lines.index(f'path = "{relative}"')
    lines[at + 1] = f'sha256 = "{sha256_file(changed)}"'
    return "\n".join(lines) + "\n"


# --- verify -------------------------------------------------------------------------------------------------


def _failed(findings) -> list:
    return [f for f in findings if not f.ok]


def test_verify_clean_fixture(fixture_root: Path) -> None:
    findings = open_dataset(NAME, fixture_root).verify()
    assert not _failed(findings), _failed(findings)
    checks = [f.check for f in findings]
    assert sum(c.startswith("checksum ") for c in checks) == 7  # 6 split files and the tags file
    assert "split-1: no artist in both train and test" in checks
    assert "split-0: test has 3 tracks" in checks
    assert "split-0: every tag has positives in validation" in checks


def test_verify_detects_artist_leak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = {fold: {s: list(rows) for s, rows in splits.items()} for fold, splits in PARTS.items()}
    parts["split-0"]["test"][0] = (3005, 87, ("sad", "calm"))  # artist 87 is also in train
    root = write_root(tmp_path / "mtg", parts)
    register(tmp_path / "registry", monkeypatch, registry_toml(root))
    failed = _failed(open_dataset(NAME, root).verify())
    assert [f.check for f in failed] == ["split-0: no artist in both train and test"]
    assert "artist_000087" in failed[0].detail


def test_verify_detects_item_in_two_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = {fold: {s: list(rows) for s, rows in splits.items()} for fold, splits in PARTS.items()}
    parts["split-1"]["test"].append((2003, 92, ("happy",)))  # also in split-1 train
    root = write_root(tmp_path / "mtg", parts)
    register(tmp_path / "registry", monkeypatch, registry_toml(root))
    failed = {f.check: f.detail for f in _failed(open_dataset(NAME, root).verify())}
    assert set(failed) == {"split-1: no item in both train and test", "split-1: no artist in both train and test"}
    assert "track_0002003" in failed["split-1: no item in both train and test"]


def test_verify_detects_missing_tag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = {fold: {s: list(rows) for s, rows in splits.items()} for fold, splits in PARTS.items()}
    parts["split-0"]["validation"] = [(2003, 92, ("happy",)), (2104, 93, ("calm",))]  # no sad
    root = write_root(tmp_path / "mtg", parts)
    register(tmp_path / "registry", monkeypatch, registry_toml(root))
    failed = _failed(open_dataset(NAME, root).verify())
    assert [f.check for f in failed] == ["split-0: every tag has positives in validation"]
    assert "mood/theme---sad" in failed[0].detail


def test_verify_detects_checksum_mismatch_and_still_audits(fixture_root: Path) -> None:
    changed = fixture_root / split_path("split-1", "validation")
    expected = sha256_file(changed)
    changed.write_bytes(changed.read_bytes() + (tsv_row(4000, 99, ("calm",)) + "\r\n").encode())
    dataset = open_dataset(NAME, fixture_root)
    failed = {f.check: f.detail for f in _failed(dataset.verify())}
    detail = failed["checksum data/splits/split-1/autotagging_moodtheme-validation.tsv"]
    assert expected in detail and sha256_file(changed) in detail
    assert f"harness datasets fetch {NAME} --root {fixture_root}" in detail
    assert failed["split-1: validation has 2 tracks"] == "3 tracks"  # the fold was still read and audited
    assert len(failed) == 2
    with pytest.raises(DataMissingError, match=f"expected sha256 {expected}, got {sha256_file(changed)}"):
        dataset.split("split-1", "validation")
    assert len(dataset.split("split-0", "test")) == 3  # other files still load


def test_verify_missing_file_names_fetch_command(fixture_root: Path) -> None:
    (fixture_root / split_path("split-0", "validation")).unlink()
    failed = {f.check: f.detail for f in _failed(open_dataset(NAME, fixture_root).verify())}
    assert (
        f"harness datasets fetch {NAME} --root {fixture_root}"
        in failed["checksum data/splits/split-0/autotagging_moodtheme-validation.tsv"]
    )
    assert "split-0: split files readable" in failed
    assert not any(c.startswith("split-1") for c in failed)


def test_verify_counts_against_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_root(tmp_path / "mtg")
    text = registry_toml(root).replace('"split-0" = { train = 4,', '"split-0" = { train = 5,')
    register(tmp_path / "registry", monkeypatch, text)
    failed = _failed(open_dataset(NAME, root).verify())
    assert [(f.check, f.detail) for f in failed] == [("split-0: train has 5 tracks", "4 tracks")]


def test_verify_cli_exit_codes(fixture_root: Path) -> None:
    ok = runner.invoke(app, ["datasets", "verify", NAME, "--root", str(fixture_root)])
    assert ok.exit_code == 0, ok.output
    (fixture_root / split_path("split-0", "test")).write_bytes(tsv_text(PARTS["split-0"]["test"][:1]).encode())
    bad = runner.invoke(app, ["datasets", "verify", NAME, "--root", str(fixture_root)])
    assert bad.exit_code == 1 and "FAIL" in bad.output


# --- source, audio, checksum ---------------------------------------------------------------------------------


def test_ensure_source_names_fetch_command(fixture_root: Path) -> None:
    dataset = open_dataset(NAME, fixture_root)
    calls: list[tuple[int, int]] = []
    dataset.ensure_source(lambda done, total: calls.append((done, total)))
    assert calls[-1] == (7, 7)
    (fixture_root / "data/tags/moodtheme_split.txt").unlink()
    with pytest.raises(DataMissingError, match=f"harness datasets fetch {NAME} --root {fixture_root}"):
        open_dataset(NAME, fixture_root).ensure_source()
    with pytest.raises(DataMissingError, match="moodtheme_split.txt not found"):
        open_dataset(NAME, fixture_root).split("split-0", "test")


def test_ensure_source_rejects_changed_file(fixture_root: Path) -> None:
    path = fixture_root / split_path("split-0", "train")
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))
    with pytest.raises(DataMissingError, match="checksum mismatch"):
        open_dataset(NAME, fixture_root).ensure_source()


def test_audio_and_melspec_files(fixture_root: Path) -> None:
    dataset = open_dataset(NAME, fixture_root)
    audio = dataset.audio_files()
    assert len(audio) == len({t for part in PARTS["split-0"].values() for t, _, _ in part}) == 9
    assert audio[0] == ("track_0000948", fixture_root / "audio" / "48" / "948.mp3")
    assert dict(dataset.melspec_files())["track_0003207"] == fixture_root / "melspecs" / "07" / "3207.npy"


def test_source_checksum_digests_the_pins(fixture_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = open_dataset(NAME, fixture_root)
    lines = sorted((p.path, p.sha256) for p in dataset.source.files)
    expected = hashlib.sha256("".join(f"{digest}  {path}\n" for path, digest in lines).encode()).hexdigest()
    assert dataset.source_checksum() == expected
    other = write_root(tmp_path / "other", {"split-0": PARTS["split-1"], "split-1": PARTS["split-0"]})
    register(tmp_path / "registry2", monkeypatch, registry_toml(other))
    assert open_dataset(NAME, other).source_checksum() != expected


# --- CLI ---------------------------------------------------------------------------------------------------------


def test_groundtruth_cli(fixture_root: Path, tmp_path: Path) -> None:
    out, ids = tmp_path / "gt.npy", tmp_path / "ids.txt"
    result = runner.invoke(
        app,
        [
            "datasets",
            "groundtruth",
            NAME,
            "--fold",
            "split-0",
            "--split",
            "test",
            "-o",
            str(out),
            "--ids-out",
            str(ids),
            "--root",
            str(fixture_root),
        ],
    )
    assert result.exit_code == 0, result.output
    gt = np.load(out)
    assert gt.dtype == bool and gt.shape == (3, 3)
    np.testing.assert_array_equal(gt, open_dataset(NAME, fixture_root).split(0, "test").labels)
    assert ids.read_text().split() == ["track_0003005", "track_0003106", "track_0003207"]


def test_show_cli_uses_short_names(fixture_root: Path) -> None:
    result = runner.invoke(app, ["datasets", "show", NAME, "--fold", "1", "--root", str(fixture_root)])
    assert result.exit_code == 0, result.output
    assert "happy" in result.output and "mood/theme---happy" not in result.output
    assert "split-1" in result.output and "calm" in result.output and "sad" in result.output


def test_fetch_what_archives_not_pinned(fixture_root: Path) -> None:
    dataset = open_dataset(NAME, fixture_root)
    with pytest.raises(BadInputError, match=r"no \[source.melspecs\] archive checksums are pinned"):
        dataset.fetch("melspecs", "http://127.0.0.1:9/")
    with pytest.raises(UnknownNameError, match="splits, melspecs, audio"):
        dataset.fetch("stems")


# --- the real registry (no reference data needed) ------------------------------------------------------------


def test_real_registry_shape() -> None:
    spec = load_spec(NAME)
    assert spec.family == "mtg-jamendo" and spec.primary_metric == "PR-AUC-macro"
    assert len(spec.tags) == 56 and list(spec.tags) == sorted(spec.tags)
    assert all(t.startswith("mood/theme---") for t in spec.tags)
    assert spec.short_tag("mood/theme---happy") == "happy"
    assert spec.folds == tuple(f"split-{i}" for i in range(5))
    assert spec.protocol.feature == "mel96" and spec.protocol.max_epochs is None
    assert (spec.protocol.eval_crops_validation, spec.protocol.eval_crops_test) == (10, 20)
    assert "Bogdanov" in spec.citation and "CC BY-NC-SA 4.0" in spec.licence
    dataset = open_dataset(NAME, Path("/nonexistent"))
    source = dataset.source
    assert source.commit == "1b4fa8c32e076c73b5175c1703ae805b4109309d"
    assert source.base_url == f"https://raw.githubusercontent.com/MTG/mtg-jamendo-dataset/{source.commit}/"
    assert sorted(p.path for p in source.files) == sorted(dataset.source_files())
    assert len(source.files) == 16
    assert dataset.expected_counts["split-0"] == {"train": 9949, "validation": 3802, "test": 4231}
    for kind in ("melspecs", "audio"):
        archives = source.archive_sets[kind].archives
        assert [a.path for a in archives] == [f"autotagging_moodtheme_{kind}-{i:02d}.tar" for i in range(100)]
        assert len({a.sha256 for a in archives}) == 100
