"""Hostile registries, item lists, dataset roots and feature stores, through the real CLI (issue 13).

Every bad registry or item file gets one ``error:`` line naming the file (and line) and the fix,
exit 2; a broken registry does not hide the others in ``datasets list``; a tsv dataset's store is
rebuilt when its items or audio change; two prepares of one root at once both succeed with one
store; an unwritable data folder or output is refused before any work.
"""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hostile import assert_clean_error, cli, snapshot, start_process

# -- a tsv dataset: registry + items + tiny audio ---------------------------------------------------

TOML = """name = "moods"
family = "tsv"
title = "My moods"
citation = "me"
licence = "CC0-1.0"
primary_metric = "PR-AUC-macro"
[tags]
names = ["happy", "sad", "calm"]
[folds]
names = ["split-0"]
[source]
items = "items.tsv"
[protocol]
feature = "mel96"
eval_crops_validation = 10
eval_crops_test = 20
max_epochs = 2
selection_metric = "PR-AUC-macro"
"""

ITEMS = "id\tpath\ttags\tsplit\n" + "".join(
    f"s{i}\taudio/s{i}.wav\t{tags}\t{split}\n"
    for i, (tags, split) in enumerate(
        [("happy", "train"), ("sad,calm", "train"), ("calm", "validation"), ("happy,sad", "test"), ("calm", "test")]
    )
)


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$HARNESS_REGISTRY`` holding a good ``moods`` tsv registry; returns its folder."""
    folder = tmp_path / "registry" / "moods"
    folder.mkdir(parents=True)
    (folder / "dataset.toml").write_text(TOML)
    (folder / "items.tsv").write_text(ITEMS)
    monkeypatch.setenv("HARNESS_REGISTRY", str(folder.parent))
    return folder


@pytest.fixture
def audio_root(tmp_path: Path) -> Path:
    """A dataset root with the five short WAV files ``ITEMS`` names."""
    root = tmp_path / "root"
    (root / "audio").mkdir(parents=True)
    rng = np.random.default_rng(5)
    for i in range(5):
        sf.write(root / "audio" / f"s{i}.wav", (0.1 * rng.normal(size=6000 + 500 * i)).astype(np.float32), 12000)
    return root


def _set(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


# -- 1. registry and items files --------------------------------------------------------------------

ENCODED: dict[str, tuple[str, bytes, tuple[str, ...]]] = {
    "toml-utf16-le": (
        "dataset.toml",
        TOML.encode("utf-16"),
        ("dataset.toml", "UTF-16 text (byte-order mark FF FE); save it as UTF-8"),
    ),
    "toml-utf16-be": (
        "dataset.toml",
        b"\xfe\xff" + TOML.encode("utf-16-be"),
        ("dataset.toml", "UTF-16 text (byte-order mark FE FF)"),
    ),
    "toml-utf32": (
        "dataset.toml",
        TOML.encode("utf-32"),
        ("dataset.toml", "UTF-32 text (byte-order mark FF FE 00 00)"),
    ),
    "toml-latin1": (
        "dataset.toml",
        TOML.replace('citation = "me"', 'citation = "Andr\xe9"').encode("latin-1"),
        ("dataset.toml:4: not UTF-8 text (byte 0xE9", "save it as UTF-8"),
    ),
    "items-utf16": (
        "items.tsv",
        ITEMS.encode("utf-16"),
        ("items.tsv", "UTF-16 text (byte-order mark FF FE); save it as UTF-8"),
    ),
    "items-latin1": (
        "items.tsv",
        ITEMS.replace("s3\t", "s\xe73\t").encode("latin-1"),
        ("items.tsv:5: not UTF-8 text (byte 0xE7", "save it as UTF-8"),
    ),
    "items-huge-field": (
        "items.tsv",
        (ITEMS + 's9\t"' + "x" * (csv.field_size_limit() + 10) + "\thappy\ttrain\n").encode(),
        ("items.tsv:7: field larger than field limit", "unbalanced"),
    ),
    "items-control-id": (
        "items.tsv",
        ITEMS.replace("s2\t", "s\x1b[2J2\t").encode(),
        ("items.tsv:4: id", "control character"),
    ),
}


@pytest.mark.parametrize("case", list(ENCODED))
def test_an_unreadable_registry_or_items_file_is_one_line(registry: Path, case: str) -> None:
    name, data, needles = ENCODED[case]
    (registry / name).write_bytes(data)
    before = snapshot(registry)
    assert_clean_error(cli("datasets", "show", "moods"), *needles)
    assert snapshot(registry) == before


def test_a_tsv_folds_file_in_utf16_is_one_line(registry: Path) -> None:
    (registry / "dataset.toml").write_text(
        _set(
            _set(TOML, 'names = ["split-0"]', 'names = ["a"]'),
            'items = "items.tsv"',
            'items = "items.tsv"\nfolds = "folds.tsv"',
        )
    )
    (registry / "folds.tsv").write_bytes("id\tfold\tsplit\ns0\ta\ttrain\n".encode("utf-16"))
    assert_clean_error(cli("datasets", "show", "moods"), "folds.tsv", "UTF-16 text (byte-order mark FF FE)")


def test_a_utf8_byte_order_mark_is_accepted_and_the_header_read(registry: Path) -> None:
    """Excel's "CSV UTF-8" starts the file with EF BB BF: valid UTF-8, and ``id`` must still be found."""
    (registry / "items.tsv").write_bytes(b"\xef\xbb\xbf" + ITEMS.encode())
    (registry / "dataset.toml").write_bytes(b"\xef\xbb\xbf" + TOML.encode())
    out = cli("datasets", "show", "moods")
    assert out.code == 0, out
    assert "My moods" in out.stdout and "happy" in out.stdout


BAD_TOML: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # case: (old, new, needles); every line also names dataset.toml
    "items-not-a-string": ('items = "items.tsv"', "items = 5", ("[source] items = 5", "file name in quotes")),
    "folds-file-not-a-string": ('items = "items.tsv"', 'items = "items.tsv"\nfolds = true', ("[source] folds = True",)),
    "tags-mixed-types": ('names = ["happy", "sad", "calm"]', 'names = ["happy", 1]', ("tags.names holds 1",)),
    "tags-a-string": ('names = ["happy", "sad", "calm"]', 'names = "sad"', ("tags.names = 'sad'", "non-empty list")),
    "tags-empty": ('names = ["happy", "sad", "calm"]', "names = []", ("tags.names = []",)),
    "tags-empty-name": ('names = ["happy", "sad", "calm"]', 'names = ["happy", ""]', ("tags.names holds ''",)),
    "tags-duplicate": (
        'names = ["happy", "sad", "calm"]',
        'names = ["happy", "sad", "happy"]',
        ("'happy' more than once",),
    ),
    "tags-missing": ('names = ["happy", "sad", "calm"]', 'list = ["happy"]', ("missing field 'tags.names'",)),
    "folds-a-string": ('names = ["split-0"]', 'names = "split-0"', ("folds.names = 'split-0'",)),
    "tags-not-a-table": ('[tags]\nnames = ["happy", "sad", "calm"]\n', "", ()),  # filled in below
    "crops-zero": (
        "eval_crops_test = 20",
        "eval_crops_test = 0",
        ("eval_crops_test must be a positive integer", "got 0"),
    ),
    "crops-negative": ("eval_crops_test = 20", "eval_crops_test = -3", ("eval_crops_test", "got -3")),
    "crops-float": ("eval_crops_test = 20", "eval_crops_test = 20.0", ("eval_crops_test", "got 20.0")),
    "crops-string": ("eval_crops_test = 20", 'eval_crops_test = "20"', ("eval_crops_test", "got '20'")),
    "crops-bool": ("eval_crops_validation = 10", "eval_crops_validation = true", ("eval_crops_validation", "got True")),
    "crops-inf": ("eval_crops_test = 20", "eval_crops_test = inf", ("eval_crops_test", "got inf")),
    "epochs-zero": ("max_epochs = 2", "max_epochs = 0", ("max_epochs must be a positive integer", "got 0")),
    "epochs-bool": ("max_epochs = 2", "max_epochs = true", ("max_epochs", "got True")),
    "square-bool": ("max_epochs = 2", "max_epochs = 2\nsquare_size = true", ("square_size must be one of", "got True")),
    "all-folds-string": ("max_epochs = 2", 'max_epochs = 2\nall_folds = "yes"', ("all_folds must be true or false",)),
    "unknown-protocol-field": (
        "max_epochs = 2",
        "max_epochs = 2\ncrops = 3",
        ("[protocol] has no field 'crops'", "known: feature"),
    ),
    "unknown-feature": (
        'feature = "mel96"',
        'feature = "mfcc"',
        ("feature must be one of mel96, stft-square", "'mfcc'"),
    ),
    "unknown-primary-metric": (
        'primary_metric = "PR-AUC-macro"',
        'primary_metric = "accuracy"',
        ("primary_metric 'accuracy'", "known: ROC-AUC-macro"),
    ),
    "selection-metric-of-another-set": (
        'selection_metric = "PR-AUC-macro"',
        'selection_metric = "hamming-loss"',
        ("selection_metric 'hamming-loss' is not a metric of the 'official' set",),
    ),
    "name-not-a-string": ('name = "moods"', "name = 5", ("name = 5", "text in quotes")),
    "family-a-list": ('family = "tsv"', 'family = ["tsv"]', ("family = ['tsv']",)),
    "title-a-number": ('title = "My moods"', "title = 3", ("title = 3",)),
    "citation-a-table": ('citation = "me"', 'citation = { by = "me" }', ("citation = {'by': 'me'}",)),
    "licence-a-bool": ('licence = "CC0-1.0"', "licence = true", ("licence = True",)),
    "audio-not-a-table": (
        'licence = "CC0-1.0"',
        'licence = "CC0-1.0"\naudio = 3',
        ("audio = 3", "must be a table ([audio])"),
    ),
    "not-toml": ('name = "moods"', 'name = "moods', ("not a readable TOML registry",)),
}
BAD_TOML["tags-not-a-table"] = (
    '[tags]\nnames = ["happy", "sad", "calm"]\n',
    'tags = "happy"\n',
    ("tags = 'happy'", "must be a table"),
)


@pytest.mark.parametrize("case", list(BAD_TOML))
def test_a_bad_registry_field_is_one_line_naming_the_file(registry: Path, case: str) -> None:
    old, new, needles = BAD_TOML[case]
    (registry / "dataset.toml").write_text(_set(TOML, old, new))
    assert_clean_error(cli("datasets", "show", "moods"), "moods/dataset.toml", *needles)


def test_every_shipped_registry_still_loads() -> None:
    out = cli("datasets", "list")
    assert out.code == 0, out
    assert "broken" not in out.stdout + out.stderr
    for name in ("toy", "mtg-jamendo-moodtheme", "cal500", "cal500exp"):
        assert name in out.stdout


# -- 2. datasets list with a broken folder ----------------------------------------------------------


def test_one_broken_registry_does_not_hide_the_others(registry: Path) -> None:
    broken = registry.parent / "broken"
    broken.mkdir()
    (broken / "dataset.toml").write_bytes(TOML.replace('"moods"', '"broken"').encode("utf-16"))
    markup = registry.parent / "x[red]y"
    markup.mkdir()
    (markup / "dataset.toml").write_text(
        _set(TOML, 'name = "moods"', 'name = "x[red]y"').replace("My moods", "Bad [/] \\u001b[2Jtitle")
    )
    out = cli("datasets", "list")
    assert out.code == 0, out
    rows = {line.split("\t")[0]: line for line in out.stdout.splitlines()}
    assert "moods" in rows and "My moods" in rows["moods"]
    assert "broken" in rows["broken"] and "UTF-16 text (byte-order mark FF FE); save it as UTF-8" in rows["broken"]
    assert "Bad [/] \\x1b[2Jtitle" in rows["x[red]y"]  # as text: not markup, not an escape
    assert "\x1b" not in out.stdout + out.stderr and "Traceback" not in out.stdout + out.stderr
    assert_clean_error(cli("datasets", "show", "broken"), "broken/dataset.toml", "UTF-16 text")


def test_show_prints_titles_tags_and_folds_as_text(registry: Path, audio_root: Path) -> None:
    toml = (
        TOML.replace("My moods", "My [bold]moods[/] \\u001b[31m")
        .replace('"sad"', '"[sad]"')
        .replace('"split-0"', '"[/]split"')
    )
    (registry / "dataset.toml").write_text(toml)
    (registry / "items.tsv").write_text(ITEMS.replace("sad", "[sad]"))
    out = cli("datasets", "show", "moods", "--root", audio_root)
    assert out.code == 0, out
    assert "My [bold]moods[/] \\x1b[31m" in out.stdout
    assert "[sad]" in out.stdout and "[/]split" in out.stdout
    assert "\x1b" not in out.stdout + out.stderr


# -- 3. a tsv dataset's store follows its items and audio ------------------------------------------


def _prepare(root: Path) -> str:
    out = cli("datasets", "prepare", "moods", "--root", root, "--device", "cpu")
    assert out.code == 0, out
    return out.stdout


def test_the_store_is_rebuilt_when_items_or_audio_change(registry: Path, audio_root: Path) -> None:
    assert "this build: 5 extracted" in _prepare(audio_root)
    assert "the store was current" in _prepare(audio_root)  # unchanged: reused
    store = audio_root / "features" / "mel96"
    first = np.load(store / "features.npy")

    # the same id now points at another file: the store must not serve s0's old features
    sf.write(audio_root / "audio" / "other.wav", np.zeros(9000, dtype=np.float32) + 0.01, 12000)
    (registry / "items.tsv").write_text(ITEMS.replace("audio/s0.wav", "audio/other.wav"))
    assert "this build: 5 extracted" in _prepare(audio_root)
    assert not np.array_equal(np.load(store / "features.npy"), first)

    # an audio file rewritten in place (same name)
    rng = np.random.default_rng(11)
    sf.write(audio_root / "audio" / "s3.wav", (0.2 * rng.normal(size=7000)).astype(np.float32), 12000)
    assert "this build: 5 extracted" in _prepare(audio_root)
    assert "the store was current" in _prepare(audio_root)


# -- 4. two prepares of one root at once; a crash's leftovers ----------------------------------------


def test_two_prepares_at_once_both_succeed_with_one_store(tiny_toy: Path, tmp_path: Path) -> None:
    root = tmp_path / "data" / "toy"
    env = {"HARNESS_REGISTRY": str(tiny_toy)}
    procs = [start_process("datasets", "prepare", "toy", "--device", "cpu", env=env) for _ in range(2)]
    outputs = [proc.communicate(timeout=600) for proc in procs]
    for proc, (stdout, stderr) in zip(procs, outputs):
        assert proc.returncode == 0, (stdout, stderr)
        assert "Traceback" not in stderr and "toy: 12 items, mel96 features" in stdout
    assert sum("nothing extracted" in stdout for stdout, _ in outputs) == 1  # the second reused the first's store
    features = root / "features"
    assert sorted(p.name for p in features.iterdir()) == ["mel96"]  # no .mel96.building, no .mel96.old
    built = np.load(features / "mel96" / "features.npy")
    out = cli("datasets", "prepare", "toy", "--device", "cpu", "--rebuild", env=env)
    assert out.code == 0, out
    np.testing.assert_array_equal(np.load(features / "mel96" / "features.npy"), built)


def test_two_first_runs_on_an_empty_data_folder_share_one_generation_and_store(tiny_toy: Path, tmp_path: Path) -> None:
    """Both generate the toy through ``ensure_source`` and build through ``prepare_features``: one waits."""
    env = {"HARNESS_REGISTRY": str(tiny_toy)}
    procs = [start_process("run", "submissions/tag-frequency", "--device", "cpu", env=env) for _ in range(2)]
    outputs = [proc.communicate(timeout=600) for proc in procs]
    for proc, (stdout, stderr) in zip(procs, outputs):
        assert proc.returncode == 0, (stdout, stderr)
        assert "Traceback" not in stderr and "PR-AUC-macro" in stdout
    scores = [[line for line in stdout.splitlines() if line.startswith(("ROC-AUC", "PR-AUC"))] for stdout, _ in outputs]
    assert scores[0] == scores[1] and len(scores[0]) == 4
    root = tmp_path / "data" / "toy"
    assert sorted(p.name for p in (root / "features").iterdir()) == ["mel96"]
    assert not list((root / "audio").glob(".*.tmp"))


def test_a_run_with_an_unwritable_harness_data_stops_at_prepare(tiny_toy: Path, under_a_file: Path) -> None:
    out = cli("run", "submissions/tag-frequency", "--device", "cpu", env={"HARNESS_DATA": str(under_a_file)})
    assert_clean_error(out, "$HARNESS_DATA", "cannot write here", only_line=False)


def test_a_crash_between_the_swaps_leaves_a_store_the_next_prepare_restores(registry: Path, audio_root: Path) -> None:
    _prepare(audio_root)
    store = audio_root / "features" / "mel96"
    store.rename(store.with_name(".mel96.old"))  # killed after moving the old store away
    assert "the store was current" in _prepare(audio_root)
    assert sorted(p.name for p in store.parent.iterdir()) == ["mel96"]
    (store.parent / ".mel96.old").mkdir()  # killed after the new store was in place
    (store.parent / ".mel96.old" / "features.npy").write_bytes(b"stale")
    _prepare(audio_root)
    assert sorted(p.name for p in store.parent.iterdir()) == ["mel96"]


# -- 5. unwritable data folders ----------------------------------------------------------------------


def test_prepare_into_an_unwritable_harness_data_is_refused_first(tiny_toy: Path, under_a_file: Path) -> None:
    out = cli("datasets", "prepare", "toy", "--device", "cpu", env={"HARNESS_DATA": str(under_a_file)})
    assert_clean_error(out, str(under_a_file / "toy"), "$HARNESS_DATA", "cannot write here")


def test_prepare_into_a_read_only_harness_data_is_refused_first(tiny_toy: Path, readonly_dir: Path) -> None:
    out = cli("datasets", "prepare", "toy", "--device", "cpu", env={"HARNESS_DATA": str(readonly_dir)})
    assert_clean_error(out, "$HARNESS_DATA", "cannot write here")
    assert list(readonly_dir.iterdir()) == []


def test_prepare_with_an_unwritable_root_names_the_option(tiny_toy: Path, under_a_file: Path) -> None:
    out = cli("datasets", "prepare", "toy", "--device", "cpu", "--root", under_a_file)
    assert_clean_error(out, str(under_a_file), "--root must name a folder you can write to")


def test_prepare_elsewhere_with_an_unwritable_harness_data_warns_but_succeeds(
    registry: Path, audio_root: Path, under_a_file: Path
) -> None:
    out = cli(
        "datasets", "prepare", "moods", "--root", audio_root, "--device", "cpu", env={"HARNESS_DATA": str(under_a_file)}
    )
    assert out.code == 0, out
    assert "moods: 5 items" in out.stdout
    assert "warning: could not record" in out.stderr and f"--root {audio_root}" in out.stderr.replace("\n", "")
    assert "Traceback" not in out.stderr


def test_a_current_store_under_a_read_only_root_is_used(registry: Path, audio_root: Path, tmp_path: Path) -> None:
    """A shared, read-only copy of a prepared dataset still works; only a build needs to write."""
    _prepare(audio_root)
    before = snapshot(audio_root)
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(audio_root), str(audio_root)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot bind-mount read-only here")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(audio_root)], capture_output=True)
        assert "the store was current" in _prepare(audio_root)
        out = cli("datasets", "prepare", "moods", "--root", audio_root, "--device", "cpu", "--rebuild")
        assert_clean_error(out, str(audio_root), "--root must name a folder you can write to")
    finally:
        subprocess.run(["umount", str(audio_root)], capture_output=True)
    assert snapshot(audio_root) == before


# -- 6. features extract -o ---------------------------------------------------------------------------


def test_extract_into_an_unwritable_folder_is_refused_before_extracting(tmp_path: Path, under_a_file: Path) -> None:
    sf.write(tmp_path / "a.wav", np.zeros(6000, dtype=np.float32), 12000)
    out = cli("features", "extract", tmp_path / "a.wav", "-o", under_a_file / "a.npy")
    assert_clean_error(out, str(under_a_file), "-o must name a folder you can write to")


def test_extract_into_a_read_only_folder_is_refused(tmp_path: Path, readonly_dir: Path) -> None:
    sf.write(tmp_path / "a.wav", np.zeros(6000, dtype=np.float32), 12000)
    out = cli("features", "extract", tmp_path / "a.wav", "-o", readonly_dir / "a.npy")
    assert_clean_error(out, str(readonly_dir), "cannot write here")


def test_extract_to_a_folder_is_refused(tmp_path: Path) -> None:
    sf.write(tmp_path / "a.wav", np.zeros(6000, dtype=np.float32), 12000)
    out = cli("features", "extract", tmp_path / "a.wav", "-o", tmp_path)
    assert_clean_error(out, "is a folder", "a.npy")


def test_extract_prints_the_output_path_as_text(tmp_path: Path) -> None:
    sf.write(tmp_path / "a.wav", np.zeros(6000, dtype=np.float32), 12000)
    target = tmp_path / "x[/]y" / "o.npy"
    out = cli("features", "extract", tmp_path / "a.wav", "-o", target)
    assert out.code == 0, out
    assert "x[/]y" in out.stdout and np.load(target).shape[0] == 96


def test_show_toy_on_an_unwritable_harness_data_is_one_line(tiny_toy: Path, under_a_file: Path) -> None:
    out = cli("datasets", "show", "toy", env={"HARNESS_DATA": str(under_a_file)})
    assert_clean_error(out, "$HARNESS_DATA", "cannot write here")


@pytest.mark.parametrize("option", ["-o", "--ids-out"])
def test_groundtruth_into_an_unwritable_folder_writes_nothing(
    registry: Path, tmp_path: Path, under_a_file: Path, option: str
) -> None:
    good = {"-o": tmp_path / "out" / "gt.npy", "--ids-out": tmp_path / "out" / "ids.txt"}
    good[option] = under_a_file / "x"
    out = cli(
        "datasets",
        "groundtruth",
        "moods",
        "--fold",
        "0",
        "--split",
        "test",
        "-o",
        good["-o"],
        "--ids-out",
        good["--ids-out"],
    )
    assert_clean_error(out, str(under_a_file), f"{option} must name a folder you can write to")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
