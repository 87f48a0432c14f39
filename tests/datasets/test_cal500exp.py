"""The cal500exp family on tiny SegLabelHard CSVs written here in the publisher's format (CRLF, unsorted rows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.datasets import open_dataset
from harness.datasets.cal500exp import LEAKY_FLAG, CAL500expDataset, segment_id
from harness.datasets.checksums import tree_sha256
from harness.datasets.fold_generators import groups_in_several_parts, positives_per_part
from harness.errors import DataMissingError, FormatError

HEADER_TAGS = (
    "Emotion-Angry_/_Agressive",
    "Emotion-Happy",
    "Emotion-Sad",
    "Instrument_-_Bass",
    "Instrument_-_Piano-Solo",
)
EMOTIONS = HEADER_TAGS[:3]
N_SONGS = 30
N_PARTS = 10

REGISTRY = """
name = "{name}"
family = "cal500exp"
title = "tiny CAL500exp"
citation = "test fixture"
licence = "test"
primary_metric = "F-score-macro"

[source]
obtain = "the tiny fixture"
expected_items = {n_items}
expected_groups = {n_songs}

[source.tree_sha256]
{pins}

[tags]
names = {tags}

[folds]
names = {folds}
file = "parts.tsv"
n_parts = {n_parts}
seed = 3

[folds.sets.fold]
column = "part"
method = "grouped-stratified"

[folds.sets.segment-random]
column = "segment_random_part"
method = "random"
flags = ["{flag}"]
"""


def song_id(i: int) -> str:
    return f"band_{i:02d}-song_{i:02d}"


def song_segments(i: int) -> list[tuple[float, float, list[int]]]:
    """(start, end, labels over HEADER_TAGS) of song i, in time order."""
    rng = np.random.default_rng(i)
    out = []
    t = float(rng.uniform(0, 30))
    for _ in range(3 + i % 4):
        length = float(rng.uniform(3, 16))
        labels = (rng.random(len(HEADER_TAGS)) < [0.4, 0.5, 0.3, 0.6, 0.0]).astype(int).tolist()
        labels[4] = int(i < 4)  # Piano-Solo: only four songs have it (fewer songs than parts)
        out.append((round(t, 6), round(t + length, 6), labels))
        t += length + float(rng.uniform(0, 20))
    return out


def write_seglabelhard(root: Path) -> dict[str, list[tuple[float, float, list[int]]]]:
    folder = root / "SegLabelHard"
    folder.mkdir(parents=True, exist_ok=True)
    songs = {}
    for i in reversed(range(N_SONGS)):  # creation order must not matter
        segments = song_segments(i)
        rows = [f"{s:.6f},{e:.6f}," + ",".join(f"{v:.6f}" for v in labels) for s, e, labels in segments]
        rows = rows[1::2] + rows[::2]  # not sorted by time, as the real files
        text = "\r\n".join(["Start_Time,End_Time," + ",".join(HEADER_TAGS), *rows]) + "\r\n"
        (folder / f"{song_id(i)}.csv").write_bytes(text.encode())
        songs[song_id(i)] = segments
    return songs


def write_registry(
    directory: Path, root: Path | None, name: str = "cal500exp", tags: tuple[str, ...] = EMOTIONS
) -> Path:
    pins = f'"SegLabelHard" = "{tree_sha256(root / "SegLabelHard", "*.csv")}"' if root is not None else ""
    folds = [f"fold-{k}" for k in range(N_PARTS)] + [f"segment-random-{k}" for k in range(N_PARTS)]
    n_items = sum(len(song_segments(i)) for i in range(N_SONGS))
    text = REGISTRY.format(
        name=name,
        n_items=n_items,
        n_songs=N_SONGS,
        pins=pins,
        tags=_toml_list(tags),
        folds=_toml_list(folds),
        n_parts=N_PARTS,
        flag=LEAKY_FLAG,
    )
    (directory / name).mkdir(parents=True, exist_ok=True)
    (directory / name / "dataset.toml").write_text(text)
    return directory / name


def _toml_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


@pytest.fixture
def exp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, dict]:
    """(registry folder, data root, segments by song) with parts.tsv made for both registries."""
    root = tmp_path / "exp-data"
    songs = write_seglabelhard(root)
    registry = tmp_path / "registry"
    monkeypatch.setenv("HARNESS_REGISTRY", str(registry))
    for name, tags in (("cal500exp", EMOTIONS), ("cal500exp-all", HEADER_TAGS)):
        folder = write_registry(registry, root, name, tags)
        (folder / "parts.tsv").write_text(open_dataset(name, root).make_fold_text())
    return registry / "cal500exp", root, songs


def test_segments_order_ids_and_labels(exp: tuple[Path, Path, dict]) -> None:
    _, root, songs = exp
    dataset = open_dataset("cal500exp", root)
    assert isinstance(dataset, CAL500expDataset)
    expected = [(song, s, e, labels) for song in sorted(songs) for s, e, labels in songs[song]]
    assert dataset.items.item_ids == tuple(f"{song}/{s:.3f}-{e:.3f}" for song, s, e, _ in expected)
    assert dataset.items.groups == tuple(song for song, *_ in expected)
    assert np.array_equal(dataset.items.labels, np.array([labels[:3] for *_, labels in expected], dtype=bool))
    first = dataset.segments[0]
    assert (first.song, first.start, first.end) == (expected[0][0], expected[0][1], expected[0][2])
    assert segment_id("a-b", 12.0163, 19.0759) == "a-b/12.016-19.076"


def test_variant_registry_reads_every_header_tag(exp: tuple[Path, Path, dict]) -> None:
    _, root, songs = exp
    dataset = open_dataset("cal500exp-all", root)
    assert dataset.tags == HEADER_TAGS
    assert dataset.items.labels[:, 4].sum() == sum(len(songs[song_id(i)]) for i in range(4))


def test_audio_is_the_song_and_times_cut_it(exp: tuple[Path, Path, dict]) -> None:
    _, root, songs = exp
    dataset = open_dataset("cal500exp", root)
    song = sorted(songs)[0]
    item, path = dataset.audio_files()[0]
    assert path == root / "audio" / f"{song}.mp3" and item.startswith(song + "/")
    assert dataset.segment_times()[0] == (item, songs[song][0][0], songs[song][0][1])
    assert dataset.segment(item).song == song
    with pytest.raises(DataMissingError, match="CAL500 song audio files are missing"):
        dataset.ensure_source()


def test_grouped_folds_keep_songs_whole_and_reach_every_part(exp: tuple[Path, Path, dict]) -> None:
    _, root, _ = exp
    for name in ("cal500exp", "cal500exp-all"):
        dataset = open_dataset(name, root)
        items = dataset.items
        parts = dataset.parts(dataset.folds_config.default)
        assert groups_in_several_parts(items.groups, parts) == []
        counts = positives_per_part(items.labels, parts, N_PARTS, items.groups)
        song_positives = np.array(
            [len({g for g, y in zip(items.groups, items.labels[:, j]) if y}) for j in range(len(dataset.tags))]
        )
        assert (counts[:, song_positives >= N_PARTS] >= 1).all()
        for k in range(N_PARTS):
            split = {s: dataset.split(f"fold-{k}", s) for s in ("train", "validation", "test")}
            songs_of = {s: {i.split("/")[0] for i in p.item_ids} for s, p in split.items()}
            assert not songs_of["train"] & songs_of["test"] and not songs_of["validation"] & songs_of["test"]
            assert sum(len(p) for p in split.values()) == len(items.item_ids)


def test_segment_random_folds_are_flagged_as_leaky(exp: tuple[Path, Path, dict]) -> None:
    _, root, _ = exp
    dataset = open_dataset("cal500exp", root)
    assert dataset.fold_flags("segment-random-0") == ("leaky: segments of one song in train and test",)
    assert dataset.fold_flags("fold-0") == ()
    parts = dataset.parts(dataset.folds_config.sets[1])
    assert groups_in_several_parts(dataset.items.groups, parts)  # it leaks, as the paper's folds did
    assert dataset.spec.resolve_fold(0) == "fold-0"


def test_verify(exp: tuple[Path, Path, dict]) -> None:
    _, root, _ = exp
    findings = open_dataset("cal500exp-all", root).verify()
    by_check = {f.check: f for f in findings}
    assert all(f.ok for f in findings), [f for f in findings if not f.ok]
    assert by_check["count of items"].ok and by_check["count of groups"].ok
    assert by_check["fold-*: no group in two parts"].ok
    leak = next(f for f in findings if f.check.startswith("segment-random-*: leak flagged"))
    assert (
        "leaky: segments of one song in train and test" in leak.check
        and "groups have items in more than one part" in leak.detail
    )
    coverage = by_check["fold-*: every tag has positives in every test part"]
    assert "impossible (fewer than 10 positive groups): Instrument_-_Piano-Solo" in coverage.detail


def test_make_fold_text_is_deterministic(exp: tuple[Path, Path, dict]) -> None:
    folder, root, _ = exp
    assert open_dataset("cal500exp", root).make_fold_text().encode() == (folder / "parts.tsv").read_bytes()


def test_cli_show_and_verify(exp: tuple[Path, Path, dict]) -> None:
    _, root, _ = exp
    runner = CliRunner()
    shown = runner.invoke(app, ["datasets", "show", "cal500exp", "--root", str(root), "--fold", "segment-random-2"])
    assert shown.exit_code == 0, shown.output
    verified = runner.invoke(app, ["datasets", "verify", "cal500exp", "--root", str(root)])
    assert verified.exit_code == 0, verified.output
    assert "no group in two parts" in verified.output


# --- bad input --------------------------------------------------------------------------------


def _edit(root: Path, song: int, edit) -> Path:  # noqa: ANN001
    path = root / "SegLabelHard" / f"{song_id(song)}.csv"
    lines = path.read_bytes().decode().split("\r\n")
    path.write_bytes("\r\n".join(edit(lines)).encode())
    return path


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda ls: ["Start,End," + ls[0].split(",", 2)[2], *ls[1:]], ":1: header must start with Start_Time,End_Time"),
        (lambda ls: [ls[0], ls[1] + ",0.000000", *ls[2:]], ":2: 8 values, the header has 7 columns"),
        (
            lambda ls: [ls[0], ls[1][: ls[1].rindex(",")] + ",0.500000", *ls[2:]],
            ":2: Instrument_-_Piano-Solo = '0.500000'",
        ),
        (lambda ls: [ls[0], "abc," + ls[1].split(",", 1)[1], *ls[2:]], ":2: times 'abc'"),
        (lambda ls: [ls[0], "20.0,10.0," + ls[1].split(",", 2)[2], *ls[2:]], ":2: segment 20.0-10.0 s"),
        (lambda ls: [ls[0], ls[1], ls[1], *ls[2:]], ":3: duplicate segment id"),
        (lambda ls: [ls[0].replace("Emotion-Sad", "Emotion-Happy")], ":1: tag 'Emotion-Happy' appears twice"),
        (lambda ls: [ls[0], ""], ": no segments"),
    ],
)
def test_malformed_csv_names_file_and_line(exp: tuple[Path, Path, dict], edit, needle: str) -> None:  # noqa: ANN001
    folder, root, _ = exp
    path = _edit(root, 5, edit)
    write_registry(folder.parent, None, "cal500exp-all", HEADER_TAGS)  # unpinned: the parser speaks
    with pytest.raises(FormatError) as info:
        open_dataset("cal500exp-all", root).split(0, "test")
    assert f"{path}{needle}" in info.value.message


def test_changed_csv_fails_the_pin(exp: tuple[Path, Path, dict]) -> None:
    folder, root, _ = exp
    _edit(root, 7, lambda ls: [ls[0], ls[2], ls[1], *ls[3:]])  # reordered rows: same data, other bytes
    with pytest.raises(FormatError, match=r"SegLabelHard/: tree SHA-256 .* the registry pins"):
        open_dataset("cal500exp", root).split(0, "test")
    assert [f.check for f in open_dataset("cal500exp", root).verify() if not f.ok] == ["checksum SegLabelHard/ (tree)"]


def test_unknown_tag_names_the_header(exp: tuple[Path, Path, dict]) -> None:
    folder, root, _ = exp
    write_registry(folder.parent, None, "cal500exp", ("Emotion-Angry_/_Aggressive",))
    with pytest.raises(
        FormatError,
        match=r"band_00-song_00.csv:1: tag 'Emotion-Angry_/_Aggressive' of the registry is not in the header",
    ):
        open_dataset("cal500exp", root).split(0, "test")


def test_missing_folder_names_it_and_the_source(exp: tuple[Path, Path, dict], tmp_path: Path) -> None:
    with pytest.raises(DataMissingError, match=r"SegLabelHard: not found.*the tiny fixture"):
        open_dataset("cal500exp", tmp_path / "empty").split(0, "test")
    result = CliRunner().invoke(app, ["datasets", "verify", "cal500exp", "--root", str(tmp_path / "empty")])
    assert result.exit_code == 1 and "SegLabelHard" in result.output and "Traceback" not in result.output


def test_folds_for_other_segments_are_refused(exp: tuple[Path, Path, dict]) -> None:
    folder, root, _ = exp
    path = folder / "parts.tsv"
    lines = path.read_text().splitlines()
    lines[1] = "band_99-song_99/1.000-4.000" + lines[1][lines[1].index("\t") :]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match="'band_99-song_99/1.000-4.000' is not in the source files"):
        open_dataset("cal500exp", root).split(0, "test")


def test_prepare_cuts_each_segment_from_its_song(exp: tuple[Path, Path, dict]) -> None:
    """The feature store holds one item per segment, cut by its start and end from the song's audio."""
    import soundfile as sf

    from harness.features.extract import prepare_features

    folder, root, songs = exp
    with open(folder / "dataset.toml", "a") as toml:
        toml.write('\n[audio]\nsuffix = ".wav"\n')
    sr = 12000
    for song, segments in songs.items():
        duration = max(end for _, end, _ in segments) + 1.0
        t = np.arange(int(duration * sr)) / sr
        (root / "audio").mkdir(exist_ok=True)
        # a tone whose level rises with time, so a segment's mean level tells where it was cut
        sf.write(root / "audio" / f"{song}.wav", (0.01 + 0.02 * t / duration) * np.sin(2 * np.pi * 440 * t), sr)
    dataset = open_dataset("cal500exp", root)
    store = prepare_features(dataset)
    assert store.index.item_ids == dataset.items.item_ids
    by_song: dict[str, list[tuple[float, float]]] = {}
    for segment, n in zip(dataset.segments, store.index.n_frames):
        # the segment's samples [round(start * sr), round(end * sr)), framed as Essentia frames them
        assert n == -(-(round(segment.end * sr) - round(segment.start * sr)) // 256) + 1
        by_song.setdefault(segment.song, []).append((segment.start, float(store.item(segment.item_id).max())))
    for levels in by_song.values():
        peaks = [peak for _, peak in sorted(levels)]
        assert peaks == sorted(peaks)  # later segments are louder: they were cut later in the song
