"""Building the feature store: resumable after an interruption, atomic, and tolerant of bad audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from harness.cli import app
from harness.datasets import open_dataset
from harness.errors import FormatError
from harness.features import store as store_module
from harness.features.extract import extract_file, prepare_features
from harness.features.store import JOURNAL_FILE, FeatureStore, StoreBuilder
from harness.protocol.crops import CropGatherer

runner = CliRunner()


def _items(n: int = 6) -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [(f"item-{i}", rng.normal(-40, 10, size=(96, 20 + 3 * i)).astype(np.float32)) for i in range(n)]


def _assert_store_holds(store: FeatureStore, items: list[tuple[str, np.ndarray]]) -> None:
    assert store.index.item_ids == tuple(i for i, _ in items)
    for item_id, feats in items:
        np.testing.assert_allclose(store.item(item_id), feats, atol=0.05)


def test_an_interrupted_build_continues_from_its_journal(tmp_path: Path) -> None:
    items = _items()
    order = [i for i, _ in items]
    first = StoreBuilder(tmp_path / "mel96", "mel96", {"p": 1}, "sum", chunk_items=2)
    for item_id, feats in items[:5]:
        first.add(item_id, feats)  # items 0-3 are flushed in two chunks; item 4 is only buffered
    del first  # the process dies here
    assert not (tmp_path / "mel96").exists()  # a reader sees no store at all, never half of one

    again = StoreBuilder(tmp_path / "mel96", "mel96", {"p": 1}, "sum", chunk_items=2)
    assert again.resumed == 4
    assert again.pending(order) == ["item-4", "item-5"]
    for item_id, feats in items[4:]:
        again.add(item_id, feats)
    store = again.finish(order)
    _assert_store_holds(store, items)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mel96"]  # the build folder is gone


def test_a_torn_journal_line_and_an_orphan_chunk_are_not_trusted(tmp_path: Path) -> None:
    items = _items(4)
    order = [i for i, _ in items]
    builder = StoreBuilder(tmp_path / "s", "mel96", {}, chunk_items=2)
    for item_id, feats in items[:2]:
        builder.add(item_id, feats)  # chunk-00000: item-0 (20 frames), then item-1 (23 frames)
    tmp = tmp_path / ".s.building"
    (tmp / JOURNAL_FILE).write_text(
        "item-0\tchunk-00000.npy\t0\t20\n"
        "item-2\tchunk-00007.npy\t0\t26\n"  # dangling: its chunk was never written
        "item-1\tchunk-00000.npy\t20\t2"  # torn by the crash inside "23\n": it still parses, and fits the chunk
    )
    np.save(tmp / "chunk-00003.npy", np.zeros((5, 96), dtype=np.float16))  # orphan: never journalled
    again = StoreBuilder(tmp_path / "s", "mel96", {}, chunk_items=1)
    assert again.pending(order) == ["item-1", "item-2", "item-3"]
    for item_id, feats in items[1:]:
        again.add(item_id, feats)  # journalled at once: the first line appended goes where the torn one was
    del again
    last = StoreBuilder(tmp_path / "s", "mel96", {})
    assert last.pending(order) == []
    _assert_store_holds(last.finish(order), items)


def test_a_build_of_other_parameters_is_discarded(tmp_path: Path) -> None:
    items = _items(3)
    old = StoreBuilder(tmp_path / "s", "mel96", {"hop": 256}, chunk_items=1)
    old.add("item-0", np.zeros((96, 5), dtype=np.float32))
    new = StoreBuilder(tmp_path / "s", "mel96", {"hop": 128})
    assert new.resumed == 0 and new.pending(["item-0"]) == ["item-0"]
    for item_id, feats in items:
        new.add(item_id, feats)
    _assert_store_holds(new.finish([i for i, _ in items]), items)


def test_store_round_trip_keeps_dataset_order_and_crops_at_the_edges(tmp_path: Path) -> None:
    items = _items(5)
    builder = StoreBuilder(tmp_path / "s", "mel96", {}, chunk_items=2)
    for item_id, feats in reversed(items):  # extracted in another order than the dataset's
        builder.add(item_id, feats)
    store = builder.finish([i for i, _ in items])
    _assert_store_holds(store, items)
    features = store.to_tensor()
    crop = 8
    gatherer = CropGatherer(features, store.index.offsets, store.index.n_frames, crop, torch.device("cpu"))
    for row, (_item_id, feats) in enumerate(items):
        n = feats.shape[1]
        first_last = gatherer.gather(np.array([row, row]), np.array([0, n - crop]))  # the first and the last crop
        expected = np.stack([feats[:, :crop], feats[:, n - crop :]]).astype(np.float16).astype(np.float32)
        np.testing.assert_array_equal(first_last[:, 0].numpy(), expected)
    # a crop longer than the item tiles it: frame t of the crop is frame t mod n of the item
    long = CropGatherer(features, store.index.offsets, store.index.n_frames, 50, torch.device("cpu"))
    tiled = long.gather(np.array([0]), np.array([0]))[0, 0].numpy()
    reference = items[0][1].astype(np.float16).astype(np.float32)
    np.testing.assert_array_equal(tiled, reference[:, np.arange(50) % reference.shape[1]])


# -- bad audio in a dataset -------------------------------------------------------------------------

DATASET_TOML = """
name = "moods"
family = "tsv"
title = "Moods with some bad audio"
citation = "test fixture"
licence = "CC0-1.0"
[tags]
names = ["happy", "sad"]
[folds]
names = ["split-0"]
[source]
items = "items.tsv"
"""

GOOD = ("g0", "g1", "g2", "g3")
BAD = {
    "corrupt": "cannot decode audio",
    "empty": "empty",
    "short": "too short for mel96",
    "notaudio": "cannot decode audio",
}


def _bad_audio_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    registry = tmp_path / "registry" / "moods"
    registry.mkdir(parents=True)
    (registry / "dataset.toml").write_text(DATASET_TOML)
    rows = ["id\tpath\ttags\tsplit"]
    for i, item in enumerate(GOOD + tuple(BAD)):
        rows.append(
            f"{item}\taudio/{item}.{'mp3' if item == 'notaudio' else 'wav'}\t{'happy' if i % 2 else 'sad'}\t{'train' if i < 6 else 'validation'}"
        )
    (registry / "items.tsv").write_text("\n".join(rows) + "\n")
    monkeypatch.setenv("HARNESS_REGISTRY", str(registry.parent))
    root = tmp_path / "root"
    audio = root / "audio"
    audio.mkdir(parents=True)
    rng = np.random.default_rng(3)
    for i, item in enumerate(GOOD):
        sf.write(audio / f"{item}.wav", (0.1 * rng.normal(size=24000 + 1000 * i)).astype(np.float32), 24000)
    (audio / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage")
    sf.write(audio / "empty.wav", np.zeros(0, dtype=np.float32), 12000)
    sf.write(audio / "short.wav", np.zeros(100, dtype=np.float32), 12000)  # 8 ms < one 512-sample window
    (audio / "notaudio.mp3").write_text("this is a text file\n")
    return root


def test_bad_audio_is_reported_skipped_and_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _bad_audio_dataset(tmp_path, monkeypatch)
    store = prepare_features(open_dataset("moods", root))
    assert store.index.item_ids == GOOD
    skipped = {entry["item_id"]: entry["reason"] for entry in store.skipped}
    assert set(skipped) == set(BAD)
    for item, reason in skipped.items():
        assert BAD[item] in reason, (item, reason)
        assert f"{item}." in reason  # the file is named
    assert store.last_build.skipped == len(BAD) and store.last_build.done == len(GOOD) + len(BAD)


def test_prepare_prints_a_summary_with_the_skipped_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _bad_audio_dataset(tmp_path, monkeypatch)
    result = runner.invoke(app, ["datasets", "prepare", "moods", "--root", str(root), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "moods: 4 items, mel96 features" in result.output
    assert "4 items skipped" in result.output
    for item in BAD:
        assert f"{item}:" in result.output
    assert "Traceback" not in result.output
    again = runner.invoke(app, ["datasets", "prepare", "moods", "--root", str(root), "--device", "cpu"])
    assert again.exit_code == 0 and "nothing extracted" in again.output


def test_an_interrupted_prepare_extracts_only_what_is_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _bad_audio_dataset(tmp_path, monkeypatch)
    monkeypatch.setattr(store_module, "CHUNK_ITEMS", 1)
    dataset = open_dataset("moods", root)

    def interrupt(state) -> None:  # noqa: ANN001
        if state.done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        prepare_features(dataset, on_item=interrupt)
    assert not dataset.features_dir("mel96").exists()
    store = prepare_features(dataset)
    assert store.last_build.resumed == 3  # g0, g1, g2: not decoded again
    assert store.index.item_ids == GOOD and len(store.skipped) == len(BAD)
    with pytest.raises(KeyboardInterrupt):
        prepare_features(dataset, on_item=interrupt, rebuild=True)
    fresh = prepare_features(dataset, rebuild=True)
    assert fresh.last_build.resumed == 0  # a rebuild discards the interrupted build: everything extracted again
    np.testing.assert_array_equal(np.asarray(fresh.features), np.asarray(store.features))


def test_features_extract_names_a_too_short_file(tmp_path: Path) -> None:
    sf.write(tmp_path / "blip.wav", np.zeros(300, dtype=np.float32), 12000)
    with pytest.raises(FormatError, match=r"blip.wav: too short for mel96 \(300 samples"):
        extract_file(tmp_path / "blip.wav")
    result = runner.invoke(app, ["features", "extract", str(tmp_path / "blip.wav"), "-o", str(tmp_path / "o.npy")])
    assert result.exit_code == 2 and "too short" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o.npy").exists()


# -- leftovers of a crash, and one prepare at a time (issue 13) ---------------------------------------


def test_a_store_moved_aside_by_a_crash_is_put_back(tmp_path: Path) -> None:
    from harness.features.store import recover_interrupted_swap

    items = _items(2)
    builder = StoreBuilder(tmp_path / "mel96", "mel96", {}, "sum")
    for item_id, feats in items:
        builder.add(item_id, feats)
    builder.finish([i for i, _ in items])
    (tmp_path / "mel96").rename(tmp_path / ".mel96.old")  # killed between finish's two renames
    recover_interrupted_swap(tmp_path / "mel96")
    _assert_store_holds(FeatureStore(tmp_path / "mel96"), items)
    (tmp_path / ".mel96.old").mkdir()  # killed after both renames, before the old one was deleted
    StoreBuilder(tmp_path / "mel96", "mel96", {}, "sum")  # the next build cleans it up
    assert not (tmp_path / ".mel96.old").exists()


def test_a_second_prepare_waits_for_the_first_and_reuses_its_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from harness.datasets.lock import prepare_lock

    root = _bad_audio_dataset(tmp_path, monkeypatch)
    dataset = open_dataset("moods", root)
    waits: list[str] = []
    with prepare_lock(root):  # another process is preparing this root
        worker = threading.Thread(target=lambda: waits.append(prepare_features(dataset, on_wait=waits.append).kind))
        worker.start()
        worker.join(timeout=2)
        assert worker.is_alive() and len(waits) == 1 and "waiting for another prepare" in waits[0]
    worker.join(timeout=120)
    assert waits[1:] == ["mel96"]
    assert sorted(p.name for p in (root / "features").iterdir()) == ["mel96"]
    assert prepare_features(dataset).last_build is None  # current: nothing extracted again
