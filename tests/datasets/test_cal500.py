"""The cal500 family on a tiny CAL500 written here in the publisher's formats (no reference data needed)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.datasets import open_dataset
from harness.datasets.cal500 import (
    CAL500Dataset,
    agreement_rule,
    read_survey_file,
    read_surveys,
    survey_agreement,
)
from harness.datasets.fold_generators import positives_per_part
from harness.errors import BadInputError, DataMissingError, FormatError

REPO = Path(__file__).resolve().parents[2]
EMOTIONS = ("Emotion-Angry_/_Agressive", "Emotion-Happy", "Emotion-Sad")
OTHER_KEYS = ("Instrument_-_Bass", "Vocals-Breathy")
N_SONGS = 40
N_PARTS = 10
FLIPPED = ((3, 1), (7, 2))  # (song, emotion) cells where the hard file disagrees with the surveys

REGISTRY = """
name = "cal500"
family = "cal500"
title = "tiny CAL500"
citation = "test fixture"
licence = "test"
primary_metric = "F-score-macro"

[source]
obtain = "the tiny fixture"
expected_items = {n_songs}

[source.sha256]
{pins}

[tags]
names = {tags}

[folds]
names = {folds}
file = "parts.tsv"
sha256 = "{folds_sha}"
n_parts = {n_parts}
seed = 11

[folds.sets.fold]
column = "part"
method = "stratified"

[folds.sets.random]
column = "random_part"
method = "random"
"""


def song_id(i: int) -> str:
    return f"artist_{i:02d}-title_{i:02d}"


def ratings(i: int, j: int) -> list[int]:
    """Listener ratings (1..5) of song i for emotion j: a fixed pattern covering every case of the rule."""
    patterns = [
        [5, 4, 4],
        [4, 4, 2],
        [5, 3, 3],
        [1, 2, 2],
        [5, 4, 3],
        [5, 5, 4, 1],
        [3, 3, 3],
        [5, 5, 5, 5, 1],
        [2, 1, 4],
    ]
    return patterns[(3 * i + 5 * j + i // 8) % len(patterns)]


def survey_text(song: str, values: dict[str, str]) -> str:
    lines = [f'songName = "{song}.mp3"', 'PageStatus = "Annotation"']
    lines += [f'{key} = "{value}"' for key, value in values.items()]
    return "\n".join(lines) + "\n"


def write_cal500(root: Path) -> np.ndarray:
    """songNames.txt, vocab.txt, hardAnnotations.txt and annotations/ for N_SONGS songs; returns the hard matrix."""
    root.mkdir(parents=True, exist_ok=True)
    songs = [song_id(i) for i in range(N_SONGS)]
    (root / "songNames.txt").write_text("\n".join(songs) + "\n")
    vocab = [form for tag in EMOTIONS for form in (tag, "NOT-" + tag)] + ["Genre-Rock", *OTHER_KEYS]
    (root / "vocab.txt").write_text("\n".join(vocab) + "\n")
    surveys = root / "annotations"
    surveys.mkdir()
    hard = np.zeros((N_SONGS, len(vocab)), dtype=int)
    for i, song in enumerate(songs):
        per_listener = [ratings(i, j) for j in range(len(EMOTIONS))]
        n_listeners = max(len(r) for r in per_listener)
        for listener in range(n_listeners):
            values = {"Instrument_-_Bass": "Present", "Vocals-Breathy": "No"}
            for j, tag in enumerate(EMOTIONS):
                r = per_listener[j]
                values[tag] = str(r[listener] if listener < len(r) else 3)
            text = survey_text(song, values)
            if i == 0 and listener == 0:  # one file holds a second record, as 46 real files do
                text += survey_text(song, {**values, **{tag: "1" for tag in EMOTIONS}})
            (surveys / f"{song}_{listener + 1:02d}.txt").write_text(text)
        for j in range(len(EMOTIONS)):
            r = per_listener[j] + [3] * (n_listeners - len(per_listener[j]))
            yes, no = sum(v >= 4 for v in r), sum(v <= 2 for v in r)
            hard[i, 2 * j] = yes >= 2 and yes / max(yes + no, 1) >= 0.8
            hard[i, 2 * j + 1] = no >= 2 and no / max(yes + no, 1) >= 0.8
        hard[i, 6] = i % 3 == 0
    for i, j in FLIPPED:
        hard[i, 2 * j] = 1 - hard[i, 2 * j]
    (root / "hardAnnotations.txt").write_text("\n".join(",".join(str(v) for v in row) for row in hard) + "\n")
    return hard


def write_registry(
    directory: Path, root: Path | None = None, folds_sha: str = "", tags: tuple[str, ...] = EMOTIONS
) -> Path:
    """A cal500 registry; with ``root``, pin the fixture's source checksums."""
    pins = ""
    if root is not None:
        pins = "\n".join(
            f'"{name}" = "{hashlib.sha256((root / name).read_bytes()).hexdigest()}"'
            for name in ("songNames.txt", "vocab.txt", "hardAnnotations.txt")
        )
    folds = [f"fold-{k}" for k in range(N_PARTS)] + [f"random-{k}" for k in range(N_PARTS)]
    text = REGISTRY.format(
        n_songs=N_SONGS, pins=pins, tags=_toml_list(tags), folds=_toml_list(folds), folds_sha=folds_sha, n_parts=N_PARTS
    )
    (directory / "cal500").mkdir(parents=True, exist_ok=True)
    (directory / "cal500" / "dataset.toml").write_text(text)
    return directory / "cal500"


def _toml_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


@pytest.fixture
def cal500(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, np.ndarray]:
    """(registry folder, data root, hard matrix) with a committed parts.tsv made by the family."""
    root = tmp_path / "cal500-data"
    hard = write_cal500(root)
    registry = tmp_path / "registry"
    folder = write_registry(registry, root)
    monkeypatch.setenv("HARNESS_REGISTRY", str(registry))
    dataset = open_dataset("cal500", root)
    text = dataset.make_fold_text()
    (folder / "parts.tsv").write_text(text)
    write_registry(registry, root, folds_sha=hashlib.sha256(text.encode()).hexdigest())
    return folder, root, hard


def test_items_tags_and_hard_labels(cal500: tuple[Path, Path, np.ndarray]) -> None:
    _, root, hard = cal500
    dataset = open_dataset("cal500", root)
    assert isinstance(dataset, CAL500Dataset)
    assert dataset.items.item_ids == tuple(song_id(i) for i in range(N_SONGS))
    assert dataset.tags == EMOTIONS
    assert np.array_equal(dataset.items.labels, hard[:, [0, 2, 4]].astype(bool))


def test_registry_picks_any_vocab_tags_by_name(cal500: tuple[Path, Path, np.ndarray]) -> None:
    folder, root, hard = cal500
    write_registry(folder.parent, root, tags=("Genre-Rock", "NOT-Emotion-Happy"))
    dataset = open_dataset("cal500", root)
    assert np.array_equal(dataset.items.labels, hard[:, [6, 3]].astype(bool))


def test_agreement_rule() -> None:
    yes = np.array([2, 1, 4, 3, 4, 0])
    no = np.array([0, 0, 1, 1, 0, 0])
    assert agreement_rule(yes, no).tolist() == [True, False, True, False, True, False]


def test_survey_labels_and_agreement(cal500: tuple[Path, Path, np.ndarray]) -> None:
    _, root, _ = cal500
    dataset = open_dataset("cal500", root)
    first = dataset.survey_agreement("first")
    assert (first.total, first.agree) == (N_SONGS * 3, N_SONGS * 3 - len(FLIPPED))
    assert {(s, t) for s, t, _ in first.disagreements} == {(song_id(i), EMOTIONS[j]) for i, j in FLIPPED}
    # The second record of song 0's first file rates every emotion 1: it counts only with records="all"/"last".
    assert dataset.survey_agreement("all").agree < first.agree
    records = read_survey_file(root / "annotations" / f"{song_id(0)}_01.txt")
    assert len(records) == 2 and records[1].line == len(records[0].fields) + 1
    surveys = read_surveys(root / "annotations")
    assert len(surveys[song_id(0)]) == max(len(ratings(0, j)) for j in range(len(EMOTIONS)))
    tags_with_not = ("Emotion-Happy", "NOT-Emotion-Happy")
    hard = np.loadtxt(root / "hardAnnotations.txt", delimiter=",").astype(bool)[:, [2, 3]]
    both = survey_agreement([song_id(i) for i in range(N_SONGS)], tags_with_not, hard, surveys)
    assert both.total == 2 * N_SONGS and both.agree == 2 * N_SONGS - 1  # the flipped (3, Happy) cell


def test_folds_partition_rotation_and_coverage(cal500: tuple[Path, Path, np.ndarray]) -> None:
    folder, root, _ = cal500
    dataset = open_dataset("cal500", root)
    fold_set = dataset.folds_config.default
    parts = dataset.parts(fold_set)
    counts = positives_per_part(dataset.items.labels, parts, N_PARTS)
    reachable = dataset.items.labels.sum(axis=0) >= N_PARTS
    assert (counts[:, reachable] >= 1).all()
    all_ids = set(dataset.items.item_ids)
    for k in range(N_PARTS):
        split = {s: dataset.split(f"fold-{k}", s) for s in ("train", "validation", "test")}
        assert set().union(*(set(p.item_ids) for p in split.values())) == all_ids
        assert sum(len(p) for p in split.values()) == N_SONGS
        assert set(split["test"].item_ids) == {i for i, p in zip(dataset.items.item_ids, parts) if p == k}
        assert split["validation"].item_ids == dataset.split(f"fold-{(k + 1) % N_PARTS}", "test").item_ids
        assert list(split["test"].item_ids) == sorted(split["test"].item_ids, key=dataset.items.item_ids.index)
    assert dataset.split(0, "test").item_ids == dataset.split("fold-0", "test").item_ids
    assert dataset.spec.resolve_fold(10) == "random-0"
    assert dataset.fold_flags("fold-3") == () and dataset.fold_flags("random-3") == ()


def test_make_folds_script_is_deterministic(cal500: tuple[Path, Path, np.ndarray], tmp_path: Path) -> None:
    folder, root, _ = cal500
    script = REPO / "datasets" / "make_folds.py"
    out = tmp_path / "again.tsv"
    done = subprocess.run(
        [sys.executable, str(script), "cal500", "--root", str(root), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == (folder / "parts.tsv").read_bytes()
    assert "sha256" in done.stdout and "songNames.txt" in done.stdout
    check = subprocess.run(
        [sys.executable, str(script), "cal500", "--root", str(root), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0 and "identical" in check.stdout
    (folder / "parts.tsv").write_text((folder / "parts.tsv").read_text().replace("\t0\t", "\t1\t", 1))
    check = subprocess.run(
        [sys.executable, str(script), "cal500", "--root", str(root), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 1 and "DIFFERS" in check.stdout


def test_verify_all_ok_with_survey_finding(cal500: tuple[Path, Path, np.ndarray]) -> None:
    _, root, _ = cal500
    findings = open_dataset("cal500", root).verify()
    assert all(f.ok for f in findings if not f.check.startswith("random")), [f for f in findings if not f.ok]
    survey = next(f for f in findings if f.check.startswith("survey labels"))
    assert f"{N_SONGS * 3 - len(FLIPPED)} of {N_SONGS * 3} cells agree" in survey.detail
    assert any(f.check == "checksum hardAnnotations.txt" and f.ok for f in findings)
    assert any(f.check == "count of items" and f.ok for f in findings)


def test_verify_reports_a_changed_source(cal500: tuple[Path, Path, np.ndarray]) -> None:
    _, root, _ = cal500
    hard = root / "hardAnnotations.txt"
    hard.write_text(hard.read_text().replace("0", "1", 1))
    findings = open_dataset("cal500", root).verify()
    bad = [f for f in findings if not f.ok]
    assert [f.check for f in bad] == ["checksum hardAnnotations.txt"] and "expected" in bad[0].detail
    with pytest.raises(FormatError, match=r"hardAnnotations.txt: SHA-256 [0-9a-f]{64}, the registry pins [0-9a-f]{64}"):
        open_dataset("cal500", root).split(0, "test")


def test_edited_parts_tsv_is_refused(cal500: tuple[Path, Path, np.ndarray]) -> None:
    folder, root, _ = cal500
    path = folder / "parts.tsv"
    path.write_text(path.read_text().replace("\t0\t", "\t1\t", 1))
    with pytest.raises(FormatError, match="committed folds were changed"):
        open_dataset("cal500", root).split(0, "test")


def test_parts_tsv_missing_an_item(cal500: tuple[Path, Path, np.ndarray]) -> None:
    folder, root, _ = cal500
    path = folder / "parts.tsv"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    write_registry(folder.parent, root)  # unpinned, so the content check speaks
    with pytest.raises(FormatError, match="1 items of .* have no part"):
        open_dataset("cal500", root).split(0, "test")


def test_parts_tsv_under_its_former_name_is_named_in_the_error(cal500: tuple[Path, Path, np.ndarray]) -> None:
    folder, root, _ = cal500
    (folder / "parts.tsv").rename(folder / "folds.tsv")
    with pytest.raises(
        DataMissingError, match=r"parts.tsv: folds file not found; .* rename .*folds.tsv, its former name, to parts.tsv"
    ):
        open_dataset("cal500", root).split(0, "test")


def test_audio_paths_and_missing_audio(cal500: tuple[Path, Path, np.ndarray]) -> None:
    _, root, _ = cal500
    dataset = open_dataset("cal500", root)
    assert dataset.audio_files()[0] == (song_id(0), root / "audio" / f"{song_id(0)}.mp3")
    with pytest.raises(DataMissingError, match=f"40 of 40 CAL500 audio files are missing.*{root / 'audio'}"):
        dataset.ensure_source()
    with pytest.raises(BadInputError, match="cannot be downloaded"):
        dataset.fetch()


# --- bad input --------------------------------------------------------------------------------


def _reopen(root: Path, registry: Path) -> CAL500Dataset:
    write_registry(registry, None)  # no pins: the parsers speak
    dataset = open_dataset("cal500", root)
    assert isinstance(dataset, CAL500Dataset)
    return dataset


def test_missing_file_names_it_and_the_source(cal500: tuple[Path, Path, np.ndarray]) -> None:
    folder, root, _ = cal500
    (root / "songNames.txt").unlink()
    with pytest.raises(DataMissingError, match=r"songNames.txt: not found.*the tiny fixture"):
        _reopen(root, folder.parent).split(0, "test")


@pytest.mark.parametrize(
    ("file", "edit", "needle"),
    [
        (
            "hardAnnotations.txt",
            lambda t: t.replace("\n", ",0\n", 1),
            "hardAnnotations.txt:1: 10 values, vocab.txt lists 9 tags",
        ),
        (
            "hardAnnotations.txt",
            lambda t: "\n".join(t.splitlines()[:5] + ["0,1,x" + t.splitlines()[5][5:]] + t.splitlines()[6:]) + "\n",
            "hardAnnotations.txt:6: 'x' is not a number",
        ),
        ("hardAnnotations.txt", lambda t: t.replace("0", "2", 1), "hardAnnotations.txt:1: value '2', expected 0 or 1"),
        (
            "hardAnnotations.txt",
            lambda t: "".join(t.splitlines(keepends=True)[:-1]),
            "hardAnnotations.txt: 39 rows, but songNames.txt lists 40",
        ),
        (
            "songNames.txt",
            lambda t: t.replace(song_id(5), song_id(2)),
            f"songNames.txt:6: duplicate song id '{song_id(2)}' (first on line 3)",
        ),
        ("songNames.txt", lambda t: t.replace("\n", "\n\n", 1), "songNames.txt:2: empty line"),
        (
            "vocab.txt",
            lambda t: t.replace("NOT-Emotion-Happy", "Emotion-Happy2"),
            "vocab.txt:3: expected an Emotion-X / NOT-Emotion-X pair",
        ),
        (
            "vocab.txt",
            lambda t: t.replace("Genre-Rock", "Emotion-Sad"),
            "vocab.txt:7: duplicate tag 'Emotion-Sad' (first on line 5)",
        ),
    ],
)
def test_malformed_files_name_file_and_line(
    cal500: tuple[Path, Path, np.ndarray], file: str, edit, needle: str
) -> None:  # noqa: ANN001
    folder, root, _ = cal500
    path = root / file
    path.write_text(edit(path.read_text()))
    with pytest.raises(FormatError) as info:
        _reopen(root, folder.parent).split(0, "test")
    assert needle in info.value.message


def test_unknown_registry_tag(cal500: tuple[Path, Path, np.ndarray]) -> None:
    folder, root, _ = cal500
    write_registry(folder.parent, None, tags=("Emotion-Angry_/_Aggressive", "Emotion-Happy"))
    with pytest.raises(FormatError, match=r"tag 'Emotion-Angry_/_Aggressive' is not in .*vocab.txt"):
        open_dataset("cal500", root).split(0, "test")


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda t: t.replace('Emotion-Sad = "', 'Emotion-Sad = "9', 1), ":{line}: Emotion-Sad = '9"),
        (lambda t: t.replace("PageStatus = ", "PageStatus: ", 1), ':2: expected Key = "Value"'),
        (lambda t: t.replace(".mp3", "x.mp3", 1), ":1: songName"),
        (lambda t: "\n".join(t.splitlines()[1:]) + "\n", ":1: 'PageStatus' before the first songName line"),
    ],
)
def test_malformed_survey_names_file_and_line(cal500: tuple[Path, Path, np.ndarray], edit, needle: str) -> None:  # noqa: ANN001
    folder, root, _ = cal500
    path = root / "annotations" / f"{song_id(4)}_02.txt"
    text = path.read_text()
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if row.startswith("Emotion-Sad"))
    path.write_text(edit(text))
    with pytest.raises(FormatError) as info:
        _reopen(root, folder.parent).survey_agreement()
    assert f"{song_id(4)}_02.txt" + needle.format(line=line) in info.value.message
    findings = _reopen(root, folder.parent).verify()
    assert any(f.check == "surveys readable" and not f.ok for f in findings)


# --- command line -----------------------------------------------------------------------------


def test_cli_show_and_verify(cal500: tuple[Path, Path, np.ndarray]) -> None:
    _, root, _ = cal500
    runner = CliRunner()
    shown = runner.invoke(app, ["datasets", "show", "cal500", "--root", str(root), "--fold", "3"])
    assert shown.exit_code == 0, shown.output
    assert "fold-3" in shown.output and "Emotion-Happy" in shown.output
    verified = runner.invoke(app, ["datasets", "verify", "cal500", "--root", str(root)])
    assert verified.exit_code == 0, verified.output
    assert "FAIL" not in verified.output, [line for line in verified.output.splitlines() if "FAIL" in line]
    assert "cells agree" in " ".join(verified.output.split())


def test_cli_missing_root_is_one_line(tmp_path: Path, cal500: tuple[Path, Path, np.ndarray]) -> None:
    result = CliRunner().invoke(app, ["datasets", "show", "cal500", "--root", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "songNames.txt" in result.output
