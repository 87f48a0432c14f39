"""A user's dataset: dataset.toml + items.tsv (+ folds.tsv), no Python; toy goes through the same reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.datasets import open_dataset
from harness.errors import DataMissingError, FormatError

runner = CliRunner()

TOML = """
name = "moods"
family = "tsv"
title = "My moods"
citation = "me"
licence = "CC0-1.0"
[tags]
names = ["happy", "sad", "calm"]
[folds]
names = {folds}
[source]
items = "items.tsv"
{folds_line}
"""


def _register(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, items: str, folds: str | None = None) -> Path:
    registry = tmp_path / "registry"
    (registry / "moods").mkdir(parents=True)
    fold_names = '["a", "b"]' if folds else '["split-0"]'
    (registry / "moods" / "dataset.toml").write_text(
        TOML.format(folds=fold_names, folds_line='folds = "folds.tsv"' if folds else "")
    )
    (registry / "moods" / "items.tsv").write_text(items)
    if folds:
        (registry / "moods" / "folds.tsv").write_text(folds)
    monkeypatch.setenv("HARNESS_REGISTRY", str(registry))
    return registry / "moods"


ITEMS = "id\tpath\ttags\tsplit\n" + "".join(
    f"s{i}\taudio/s{i}.wav\t{tags}\t{split}\n"
    for i, (tags, split) in enumerate(
        [("happy", "train"), ("sad,calm", "train"), ("", "validation"), ("happy,sad", "test"), ("calm", "test")]
    )
)


def test_single_fold_from_split_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(tmp_path, monkeypatch, ITEMS)
    dataset = open_dataset("moods", tmp_path / "root")
    test = dataset.split(0, "test")
    assert test.item_ids == ("s3", "s4")
    assert test.labels.tolist() == [[True, True, False], [False, False, True]]
    assert dataset.split("split-0", "validation").labels.sum() == 0
    assert dataset.audio_files()[0] == ("s0", tmp_path / "root" / "audio" / "s0.wav")
    with pytest.raises(DataMissingError, match="5 of 5 audio files"):
        dataset.ensure_source()


def test_folds_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = "id\tpath\ttags\n" + "".join(f"s{i}\ts{i}.wav\thappy\n" for i in range(3))
    folds = "id\tfold\tsplit\n" + "".join(
        f"s{i}\t{fold}\t{split}\n"
        for fold, order in (("a", (0, 1, 2)), ("b", (1, 2, 0)))
        for i, split in zip(order, ("train", "validation", "test"))
    )
    _register(tmp_path, monkeypatch, items, folds)
    dataset = open_dataset("moods")
    assert dataset.split("a", "test").item_ids == ("s2",)
    assert dataset.split(1, "test").item_ids == ("s0",)


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (ITEMS.replace("happy,sad", "happy,angry"), "items.tsv:5: unknown tag 'angry'"),
        (ITEMS.replace("s4\t", "s0\t"), "items.tsv:6: duplicate id 's0' (first on line 2)"),
        (ITEMS.replace("\ttest\n", "\tholdout\n", 1), "items.tsv:5: split 'holdout'"),
        ("name\ttags\n", "header must name the columns id, path and tags"),
        (ITEMS + "s9\taudio/s9.wav\n", "items.tsv:7: 2 columns"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, items: str, message: str) -> None:
    _register(tmp_path, monkeypatch, items)
    with pytest.raises(FormatError) as error:
        open_dataset("moods").split(0, "train")
    assert message in str(error.value)
    result = runner.invoke(app, ["datasets", "show", "moods"])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_show_lists_degenerate_tags_and_fingerprints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(tmp_path, monkeypatch, ITEMS)
    result = runner.invoke(app, ["datasets", "show", "moods"])
    assert result.exit_code == 0, result.output
    assert "no positives in validation: happy, sad, calm" in result.output
    fingerprint = open_dataset("moods").split(0, "test").fingerprint
    assert fingerprint in result.output.replace("\n", "").replace("│", "").replace(" ", "")
    verify = runner.invoke(app, ["datasets", "verify", "moods"])
    assert verify.exit_code == 1 and "FAIL" in verify.output


def test_toy_reads_through_the_tsv_family(tiny_toy: Path) -> None:
    from harness.datasets.tsv import TsvDataset

    dataset = open_dataset("toy")
    assert isinstance(dataset, TsvDataset)
    train = dataset.split(0, "train")
    assert len(train) == 6 and train.labels.dtype == np.bool_


# -- what the feature store's "current" check sees (issue 13) ----------------------------------------


def _with_audio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folds: str | None = None) -> tuple[Path, Path]:
    items = ITEMS if folds is None else "id\tpath\ttags\n" + "".join(f"s{i}\taudio/s{i}.wav\thappy\n" for i in range(3))
    registry = _register(tmp_path, monkeypatch, items, folds)
    root = tmp_path / "root"
    (root / "audio").mkdir(parents=True)
    for i in range(5):
        (root / "audio" / f"s{i}.wav").write_bytes(b"RIFF" + bytes([i]) * 100)
    return registry, root


def test_source_checksum_follows_items_paths_and_audio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    registry, root = _with_audio(tmp_path, monkeypatch)
    first = open_dataset("moods", root).source_checksum()
    assert len(first) == 64 and first == open_dataset("moods", root).source_checksum()  # stable when nothing changed

    (registry / "items.tsv").write_text(ITEMS.replace("audio/s1.wav", "audio/s2.wav"))
    moved = open_dataset("moods", root).source_checksum()
    assert moved != first
    (registry / "items.tsv").write_text(ITEMS)
    assert open_dataset("moods", root).source_checksum() == first

    audio = root / "audio" / "s3.wav"
    stat = audio.stat()
    audio.write_bytes(b"RIFF" + b"\x09" * 100)  # same size, new content
    os.utime(audio, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert open_dataset("moods", root).source_checksum() not in (first, moved)


def test_source_checksum_follows_the_folds_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folds = "id\tfold\tsplit\n" + "".join(
        f"s{i}\ta\t{split}\n" for i, split in enumerate(("train", "validation", "test"))
    )
    registry, root = _with_audio(tmp_path, monkeypatch, folds + "".join(f"s{i}\tb\ttrain\n" for i in range(3)))
    first = open_dataset("moods", root).source_checksum()
    (registry / "folds.tsv").write_text(folds)
    assert open_dataset("moods", root).source_checksum() != first


def test_a_utf8_bom_items_file_keeps_its_id_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _register(tmp_path, monkeypatch, ITEMS)
    (registry / "items.tsv").write_bytes(b"\xef\xbb\xbf" + ITEMS.encode())
    assert open_dataset("moods").split(0, "test").item_ids == ("s3", "s4")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (ITEMS.encode("utf-16"), "items.tsv: UTF-16 text (byte-order mark FF FE); save it as UTF-8"),
        (ITEMS.replace("s2\t", "s\xe92\t").encode("latin-1"), "items.tsv:4: not UTF-8 text (byte 0xE9"),
        (
            (ITEMS + 's9\t"unclosed\thappy\ttrain\n' + "x" * 200_000 + "\n").encode(),
            "items.tsv:7: field larger than field limit",
        ),
    ],
)
def test_unreadable_items_files_name_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes, message: str
) -> None:
    registry = _register(tmp_path, monkeypatch, ITEMS)
    (registry / "items.tsv").write_bytes(data)
    with pytest.raises(FormatError) as error:
        open_dataset("moods").split(0, "train")
    assert message in str(error.value)


def test_a_non_string_items_entry_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _register(tmp_path, monkeypatch, ITEMS)
    toml = (registry / "dataset.toml").read_text().replace('items = "items.tsv"', "items = 5")
    (registry / "dataset.toml").write_text(toml)
    with pytest.raises(FormatError, match=r"\[source\] items = 5; it must be a file name in quotes"):
        open_dataset("moods").split(0, "train")
