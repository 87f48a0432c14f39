"""Hostile prediction files and careless options of ``score`` and ``compare`` (issue 13, helper C).

Every bad prediction file (as the scored file, as ``--decisions``, as ``--thresholds-from``, as
either side of ``compare``) is one ``error:`` line naming the file, exit 2, no traceback, and
nothing reaches the results store. ``--bootstrap`` has a ceiling, ``--record`` never overwrites a
run silently, ``--name`` refuses control characters, and user text prints as text.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hostile import assert_clean_error, cli, snapshot, store_rows

from harness.datasets import open_dataset
from harness.datasets.splits import SplitData
from harness.results.predictions import save_predictions
from harness.results.store import ResultsStore
from harness.scoring import MAX_BOOTSTRAP


def _tsv_dataset(registry: Path, name: str, tags: list[str], n_items: int = 60) -> None:
    """A one-fold tsv dataset (a quarter validation, half test): read from one file, no audio made."""
    folder = registry / name
    folder.mkdir(parents=True)
    (folder / "dataset.toml").write_text(
        f'name = "{name}"\nfamily = "tsv"\n[tags]\nnames = {json.dumps(tags)}\n[folds]\nnames = ["split-0"]\n'
        '[source]\nitems = "items.tsv"\n'
    )
    rng = np.random.default_rng(0)
    rows = ["id\tpath\ttags\tsplit"]
    for i in range(n_items):
        on = [t for t in tags if rng.random() < 0.4] or [tags[i % len(tags)]]
        rows.append(f"i{i}\ti{i}.wav\t{','.join(on)}\t{['train', 'validation', 'test', 'test'][i % 4]}")
    (folder / "items.tsv").write_text("\n".join(rows) + "\n")


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, SplitData]:
    """The validation and test splits of ``toy``, a small tsv dataset of 8 tags (quick to open)."""
    _tsv_dataset(
        tmp_path / "registry",
        "toy",
        ["energetic", "calm", "happy", "sad", "dark", "uplifting", "aggressive", "relaxing"],
    )
    monkeypatch.setenv("HARNESS_REGISTRY", str(tmp_path / "registry"))
    data = open_dataset("toy")
    return {name: data.split(0, name) for name in ("validation", "test")}


def _scores(split: SplitData, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(split.labels.shape).astype(np.float32)


def _meta(split: SplitData) -> dict[str, str]:
    return {"dataset": split.dataset, "fold": split.fold, "split": split.split, "fingerprint": split.fingerprint}


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def _npz(path: Path, split: SplitData, **override: object) -> None:
    """A harness .npz for ``split`` with some members replaced (an array, or raw .npy bytes)."""
    members: dict[str, object] = {
        "scores": _scores(split),
        "item_ids": np.asarray(split.item_ids),
        "tags": np.asarray(split.tags),
        "meta": np.asarray(json.dumps(_meta(split))),
    }
    members.update(override)
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in members.items():
            archive.writestr(f"{name}.npy", value if isinstance(value, bytes) else _npy_bytes(np.asarray(value)))


def _huge_header(array: np.ndarray) -> bytes:
    """A .npy whose header claims (10**9, 10**6) float64, followed by a few bytes."""
    raw = _npy_bytes(array.astype(np.float64))
    claimed = raw.replace(repr(array.shape).encode(), b"(1000000000, 1000000)")
    assert claimed != raw
    return claimed


# name -> (suffix, writer(path, split), needles of the error line)
Maker = Callable[[Path, SplitData], None]
CASES: dict[str, tuple[str, Maker, tuple[str, ...]]] = {
    "meta-json-list": (".npz", lambda p, s: _npz(p, s, meta=np.asarray("[1, 2]")), ("meta is a JSON array",)),
    "meta-json-string": (".npz", lambda p, s: _npz(p, s, meta=np.asarray('"toy"')), ("meta is a JSON string",)),
    "meta-not-json": (".npz", lambda p, s: _npz(p, s, meta=np.asarray("{dataset: toy")), ("meta is not valid JSON",)),
    "meta-nested-deep": (".npz", lambda p, s: _npz(p, s, meta=np.asarray("[" * 100_000)), ("meta is not valid JSON",)),
    "meta-1d": (".npz", lambda p, s: _npz(p, s, meta=np.asarray(["{}"])), ("meta has shape (1,)", "0-d")),
    "meta-number": (".npz", lambda p, s: _npz(p, s, meta=np.asarray(3)), ("(meta)", "int64", "unicode strings")),
    "meta-fold-number": (
        ".npz",
        lambda p, s: _npz(p, s, meta=np.asarray('{"dataset": "toy", "fold": 0}')),
        ("meta fold is 0", "string"),
    ),
    "item-ids-0d": (".npz", lambda p, s: _npz(p, s, item_ids=np.asarray("x")), ("item_ids has shape ()", "1-d")),
    "tags-0d": (".npz", lambda p, s: _npz(p, s, tags=np.asarray("x")), ("tags has shape ()", "1-d")),
    "item-ids-short": (
        ".npz",
        lambda p, s: _npz(p, s, item_ids=np.asarray(s.item_ids[:-1])),
        ("item_ids has shape", "one per row"),
    ),
    "item-ids-numbers": (
        ".npz",
        lambda p, s: _npz(p, s, item_ids=np.arange(len(s))),
        ("(item_ids)", "unicode strings"),
    ),
    "tags-2d": (".npz", lambda p, s: _npz(p, s, tags=np.asarray([s.tags])), ("tags has shape (1,", "1-d")),
    "item-ids-pickle": (
        ".npz",
        lambda p, s: _npz(p, s, item_ids=np.asarray(s.item_ids, dtype=object)),
        ("(item_ids)", "Python objects"),
    ),
    "npz-huge-header": (".npz", lambda p, s: _npz(p, s, scores=_huge_header(_scores(s))), ("(1000000000, 1000000)",)),
    "npz-not-a-zip": (".npz", lambda p, s: p.write_bytes(b"scores,1,2\n"), ("not a readable .npz",)),
    "npz-damaged-zip": (".npz", lambda p, s: p.write_bytes(b"PK\x03\x04" + b"\0" * 40), ("not a readable .npz",)),
    "npz-missing-meta": (".npz", lambda p, s: np.savez(p, scores=_scores(s)), ("missing arrays", "meta")),
    "npy-named-npz": (".npz", lambda p, s: p.write_bytes(_npy_bytes(_scores(s))), ("this is a .npy file named .npz",)),
    "npz-named-npy": (".npy", lambda p, s: _npz(p, s), ("this is a .npz file named .npy",)),
    "npy-huge-header": (".npy", lambda p, s: p.write_bytes(_huge_header(_scores(s))), ("(1000000000, 1000000)",)),
    "npy-truncated": (".npy", lambda p, s: p.write_bytes(_npy_bytes(_scores(s))[:-7]), ("truncated",)),
    "npy-empty-file": (".npy", lambda p, s: p.write_bytes(b""), ("empty file",)),
    "npy-text": (".npy", lambda p, s: p.write_text("0.1,0.2\n"), ("no .npy header",)),
    "npy-pickle": (".npy", lambda p, s: p.write_bytes(_npy_bytes(_scores(s).astype(object))), ("Python objects",)),
    "npy-complex": (".npy", lambda p, s: np.save(p, _scores(s) + 1j), ("complex", "real numbers")),
    "npy-timedelta": (".npy", lambda p, s: np.save(p, (_scores(s) * 100).astype("timedelta64[s]")), ("timedelta64",)),
    "npy-datetime": (".npy", lambda p, s: np.save(p, (_scores(s) * 100).astype("datetime64[D]")), ("datetime64",)),
    "npy-strings": (".npy", lambda p, s: np.save(p, _scores(s).astype(str)), ("real numbers",)),
    "npy-nan": (".npy", lambda p, s: np.save(p, np.where(_scores(s) > 0.5, np.nan, _scores(s))), ("NaN",)),
    "npy-inf": (".npy", lambda p, s: np.save(p, np.where(_scores(s) > 0.5, np.inf, _scores(s))), ("infinite",)),
    "npy-0-size": (".npy", lambda p, s: np.save(p, _scores(s)[:0]), ("(0, 8)",)),
    "npy-1d": (".npy", lambda p, s: np.save(p, _scores(s)[0]), ("1 dimension",)),
    "npy-3d": (".npy", lambda p, s: np.save(p, _scores(s)[None]), ("3 dimension",)),
    "beyond-float32-high": (
        ".npy",
        lambda p, s: np.save(p, np.where(_scores(s) > 0.9, 4e38, _scores(s).astype(np.float64))),
        ("float32 range",),
    ),
    "beyond-float32-low": (
        ".npy",
        lambda p, s: np.save(p, np.where(_scores(s) > 0.9, -4e38, _scores(s).astype(np.float64))),
        ("float32 range",),
    ),
    "a-folder": (".npy", lambda p, s: p.mkdir(), ("is a folder",)),
}


def _bad(tmp_path: Path, case: str, split: SplitData) -> tuple[Path, tuple[str, ...]]:
    suffix, make, needles = CASES[case]
    path = tmp_path / f"bad-{case}{suffix}"
    make(path, split)
    return path, needles


def _good(tmp_path: Path, split: SplitData, seed: int = 0, name: str | None = None) -> Path:
    path = tmp_path / (name or f"good-{split.split}-{seed}.npy")
    np.save(path, _scores(split, seed))
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_prediction_file_is_one_line(case: str, toy: dict[str, SplitData], tmp_path: Path) -> None:
    path, needles = _bad(tmp_path, case, toy["test"])
    assert_clean_error(cli("score", path, "--dataset", "toy"), path.name, *needles)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_decisions_file_is_one_line(case: str, toy: dict[str, SplitData], tmp_path: Path) -> None:
    path, needles = _bad(tmp_path, case, toy["test"])
    good = _good(tmp_path, toy["test"])
    assert_clean_error(cli("score", good, "--dataset", "toy", "--decisions", path), path.name, *needles)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_thresholds_from_file_is_one_line(case: str, toy: dict[str, SplitData], tmp_path: Path) -> None:
    path, needles = _bad(tmp_path, case, toy["validation"])
    good = _good(tmp_path, toy["test"])
    assert_clean_error(cli("score", good, "--dataset", "toy", "--thresholds-from", path), path.name, *needles)


@pytest.mark.parametrize(
    "case", ["meta-json-list", "npy-huge-header", "npy-pickle", "npy-complex", "beyond-float32-high"]
)
@pytest.mark.parametrize("side", ["A", "B"])
def test_compare_bad_file_is_one_line(case: str, side: str, toy: dict[str, SplitData], tmp_path: Path) -> None:
    path, needles = _bad(tmp_path, case, toy["test"])
    good = _good(tmp_path, toy["test"])
    pair = (path, good) if side == "A" else (good, path)
    assert_clean_error(cli("compare", *pair, "--dataset", "toy", "--bootstrap", "10"), path.name, *needles)


@pytest.fixture
def recorded(toy: dict[str, SplitData], tmp_path: Path) -> Path:
    """A store holding one run, recorded through the CLI."""
    store = tmp_path / "runs" / "results.sqlite"
    out = cli(
        "score", _good(tmp_path, toy["test"]), "--dataset", "toy", "--record", "--name", "team/first", "--store", store
    )
    assert out.code == 0, out
    return store


@pytest.mark.parametrize(
    "case", ["beyond-float32-high", "beyond-float32-low", "npy-nan", "meta-json-list", "npy-huge-header"]
)
def test_bad_file_with_record_leaves_the_store_intact(
    case: str, recorded: Path, toy: dict[str, SplitData], tmp_path: Path
) -> None:
    """The reported bug: +-4e38 was scored, stored as inf, and broke every later build and run."""
    path, needles = _bad(tmp_path, case, toy["test"])
    before, rows = snapshot(recorded), store_rows(recorded)
    out = cli("score", path, "--dataset", "toy", "--record", "--name", "team/bad", "--store", recorded)
    assert_clean_error(out, path.name, *needles)
    assert snapshot(recorded) == before and store_rows(recorded) == rows
    assert [r.run_id for r in ResultsStore(recorded).list_runs()] == ["team/first@toy/split-0/test"]


def test_beyond_float32_names_the_range(toy: dict[str, SplitData], tmp_path: Path) -> None:
    path, _ = _bad(tmp_path, "beyond-float32-high", toy["test"])
    line = assert_clean_error(cli("score", path, "--dataset", "toy", "--json"), str(path))
    assert "3.402823e+38" in line and "rescale" in line


def test_nan_message_names_the_file(toy: dict[str, SplitData], tmp_path: Path) -> None:
    """validate_scores said "scores of shape ... hold 3 NaN" without saying which file."""
    path, _ = _bad(tmp_path, "npy-nan", toy["test"])
    line = assert_clean_error(cli("score", path, "--dataset", "toy"), str(path), "NaN")
    assert line.index(str(path)) < line.index("NaN")


@pytest.mark.parametrize("command", ["score", "compare"])
def test_bootstrap_above_the_ceiling_is_one_line(command: str, toy: dict[str, SplitData], tmp_path: Path) -> None:
    good = _good(tmp_path, toy["test"])
    files = (good,) if command == "score" else (good, _good(tmp_path, toy["test"], seed=1))
    out = cli(command, *files, "--dataset", "toy", "--bootstrap", str(MAX_BOOTSTRAP + 1))
    assert_clean_error(out, f"--bootstrap {MAX_BOOTSTRAP + 1}", f"at most {MAX_BOOTSTRAP}")
    huge = cli(command, *files, "--dataset", "toy", "--bootstrap", str(10**12))
    assert_clean_error(huge, "--bootstrap", f"at most {MAX_BOOTSTRAP}")


@pytest.mark.parametrize("command", ["score", "compare"])
def test_bootstrap_ceiling_is_in_the_help(command: str) -> None:
    out = cli(command, "--help")
    assert out.code == 0 and str(MAX_BOOTSTRAP) in " ".join(out.stdout.split()), out


def test_second_record_of_the_same_name_needs_replace(
    recorded: Path, toy: dict[str, SplitData], tmp_path: Path
) -> None:
    other = _good(tmp_path, toy["test"], seed=5)
    before, rows = snapshot(recorded), store_rows(recorded)
    out = cli("score", other, "--dataset", "toy", "--record", "--name", "team/first", "--store", recorded)
    assert_clean_error(out, "team/first@toy/split-0/test", "--replace")
    assert snapshot(recorded) == before and store_rows(recorded) == rows
    replaced = cli(
        "score",
        other,
        "--dataset",
        "toy",
        "--record",
        "--replace",
        "--name",
        "team/first",
        "--json",
        "--store",
        recorded,
    )
    assert replaced.code == 0, replaced
    doc = json.loads(replaced.stdout)
    runs = ResultsStore(recorded).list_runs()
    assert [r.run_id for r in runs] == ["team/first@toy/split-0/test"]
    assert runs[0].scores["PR-AUC-macro"] == pytest.approx(doc["PR-AUC-macro"])
    np.testing.assert_array_equal(ResultsStore(recorded).predictions(runs[0].run_id), np.load(other))
    assert store_rows(recorded) != rows


@pytest.mark.parametrize("option", [["--replace"], ["--name", "team/run"], ["--external-data"]])
def test_record_options_without_record_are_one_line(
    option: list[str], toy: dict[str, SplitData], tmp_path: Path
) -> None:
    out = cli("score", _good(tmp_path, toy["test"]), "--dataset", "toy", *option)
    assert_clean_error(out, option[0], "--record")


BAD_NAMES = {
    "newline": "team/run\nsecond line",
    "ansi-escape": "team/\x1b[31mrun",
    "nul": "te\x00am/run",
    "tab": "team\t/run",
    "carriage-return": "team/run\r",
    "leading-space": " team/run",
    "trailing-space": "team/run ",
    "space-around-slash": "team /run",
    "no-slash": "teamrun",
    "empty-run": "team/",
}


@pytest.mark.parametrize("case", sorted(BAD_NAMES))
def test_bad_name_is_refused_before_any_work(
    case: str, recorded: Path, toy: dict[str, SplitData], tmp_path: Path
) -> None:
    before, rows = snapshot(recorded), store_rows(recorded)
    out = cli(
        "score",
        _good(tmp_path, toy["test"], seed=3),
        "--dataset",
        "toy",
        "--record",
        "--name",
        BAD_NAMES[case],
        "--store",
        recorded,
    )
    assert_clean_error(out, "--name")
    assert snapshot(recorded) == before and store_rows(recorded) == rows


def test_markup_name_is_legal_text(toy: dict[str, SplitData], tmp_path: Path) -> None:
    store = tmp_path / "runs" / "results.sqlite"
    out = cli(
        "score",
        _good(tmp_path, toy["test"]),
        "--dataset",
        "toy",
        "--record",
        "--name",
        "TEAM[/]x/run[/bold]",
        "--store",
        store,
    )
    assert out.code == 0 and "recorded as TEAM[/]x/run[/bold]@toy/split-0/test" in out.stdout, out


def test_a_file_whose_meta_names_a_control_character_run_is_refused(toy: dict[str, SplitData], tmp_path: Path) -> None:
    """Without --name the run name comes from the file's meta: it is held to the same rule."""
    path = tmp_path / "test.npz"
    save_predictions(
        path,
        _scores(toy["test"]),
        toy["test"].item_ids,
        toy["test"].tags,
        {**_meta(toy["test"]), "submission": "sub\x1b[2J", "run_id": "r1"},
    )
    store = tmp_path / "runs" / "results.sqlite"
    assert_clean_error(cli("score", path, "--record", "--store", store), str(path), "--name TEAM/RUN")
    assert store_rows(store) == []


@pytest.mark.parametrize(
    ("option", "mark"),
    [
        ("--thresholds-from", "[thresholds from validation]"),
        ("--thresholds-on-test", "[thresholds fitted on test]"),
        ("--decisions", "[given decisions]"),
    ],
)
def test_the_thresholds_mark_is_printed(option: str, mark: str, toy: dict[str, SplitData], tmp_path: Path) -> None:
    """ " [thresholds fitted on test]" was read by rich as a style tag: the mark never showed."""
    good = _good(tmp_path, toy["test"])
    args = {
        "--thresholds-from": [option, _good(tmp_path, toy["validation"])],
        "--thresholds-on-test": [option],
        "--decisions": [option, _decisions(tmp_path, toy["test"])],
    }[option]
    out = cli("score", good, "--dataset", "toy", *args)
    assert out.code == 0, out
    title = out.stdout.splitlines()[0]
    assert title.startswith("# toy split-0 test") and title.endswith(mark), out


def _decisions(tmp_path: Path, split: SplitData) -> Path:
    path = tmp_path / "decisions.npy"
    np.save(path, _scores(split, 9) > 0.5)
    return path


def test_the_thresholds_mark_on_a_terminal(
    toy: dict[str, SplitData], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    from harness.cli import score

    terminal = Console(file=io.StringIO(), force_terminal=True, width=200, color_system=None)
    monkeypatch.setattr(score, "console", terminal)
    out = cli("score", _good(tmp_path, toy["test"]), "--dataset", "toy", "--thresholds-on-test")
    assert out.code == 0, out
    assert "[thresholds fitted on test]" in terminal.file.getvalue()


def test_markup_and_escapes_in_a_path_print_as_text(toy: dict[str, SplitData], tmp_path: Path) -> None:
    """The out-of-range warning names the file: its markup printed, its escape shown, never sent."""
    path = tmp_path / "[red]logits\x1b[2J.npy"
    np.save(path, _scores(toy["test"]) * 10 - 5)
    out = cli("score", path, "--dataset", "toy")
    assert out.code == 0, out
    warning = next(line for line in out.stderr.splitlines() if "outside [0, 1]" in line)
    assert "[red]logits\\x1b[2J.npy" in warning
    assert "\x1b" not in out.stderr + out.stdout


@pytest.fixture
def marked_tags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tsv dataset whose tag names hold markup."""
    _tsv_dataset(tmp_path / "registry", "marked", ["[bold]loud", "calm[/]", "[red]"])
    monkeypatch.setenv("HARNESS_REGISTRY", str(tmp_path / "registry"))
    return tmp_path


def test_tag_names_with_markup_print_as_text(marked_tags: Path) -> None:
    split = open_dataset("marked").split(0, "test")
    path = marked_tags / "marked.npy"
    np.save(path, np.random.default_rng(1).random(split.labels.shape))
    out = cli("score", path, "--dataset", "marked", "--per-tag")
    assert out.code == 0, out
    for tag in ("[bold]loud", "calm[/]", "[red]"):
        assert f"\t{tag}\t" in out.stdout, out
