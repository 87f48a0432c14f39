"""Options that mean one thing everywhere: the fixed choices, ``--bootstrap``, ``--bootstrap-seed``, ``--out``/``-o``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from harness.cli import app
from harness.cli.choices import DEVICES, DataPath, Device, FeatureKind, FetchWhat, Precision
from harness.datasets.mtg_jamendo import WHAT
from harness.features.kinds import FEATURE_KINDS
from harness.protocol.config import PRECISIONS
from harness.protocol.request import DATA_PATHS
from harness.scoring import MAX_BOOTSTRAP, MIN_BOOTSTRAP

runner = CliRunner()
ROOT_COMMAND = typer.main.get_command(app)

# (command path, arguments before the option, option, its choices)
CHOICE_OPTIONS = [
    (["run"], ["vgg6"], "--device", DEVICES),
    (["run"], ["vgg6"], "--precision", ("auto", *PRECISIONS)),
    (["run"], ["vgg6"], "--data-path", DATA_PATHS),
    (["datasets", "prepare"], ["toy"], "--device", DEVICES),
    (["datasets", "prepare"], ["toy"], "--kind", FEATURE_KINDS),
    (["datasets", "fetch"], ["toy", "--root", "nowhere"], "--what", WHAT),
    (["features", "extract"], ["a.wav", "-o", "a.npy"], "--kind", FEATURE_KINDS),
]
CHOICE_IDS = [f"{' '.join(path)} {option}" for path, _, option, _ in CHOICE_OPTIONS]


def _command(path: list[str]):  # noqa: ANN202 - Typer's click command
    command = ROOT_COMMAND
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return command


def _all_commands() -> list[tuple[str, object]]:
    found = []

    def walk(command: object, prefix: str) -> None:
        subs = getattr(command, "commands", None)
        if subs is None:
            found.append((prefix, command))
        for name, sub in (subs or {}).items():
            walk(sub, f"{prefix} {name}".strip())

    walk(ROOT_COMMAND, "")
    return found


def test_choices_are_the_library_tuples() -> None:
    """The enums are made from the library's own tuples, not copies; commands hand their .value on."""
    assert [c.value for c in FeatureKind] == list(FEATURE_KINDS)
    assert [c.value for c in DataPath] == list(DATA_PATHS)
    assert [c.value for c in FetchWhat] == list(WHAT)
    assert [c.value for c in Precision] == ["auto", *PRECISIONS]
    assert [c.value for c in Device] == list(DEVICES) == ["auto", "cpu", "cuda"]
    assert all(isinstance(c, str) for enum in (FeatureKind, DataPath, FetchWhat, Precision, Device) for c in enum)


@pytest.mark.parametrize(("path", "before", "option", "choices"), CHOICE_OPTIONS, ids=CHOICE_IDS)
def test_help_lists_the_choices(path: list[str], before: list[str], option: str, choices: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "|".join(choices) in result.output


@pytest.mark.parametrize(("path", "before", "option", "choices"), CHOICE_OPTIONS, ids=CHOICE_IDS)
def test_a_word_outside_the_choices_is_a_usage_error(
    path: list[str],
    before: list[str],
    option: str,
    choices: tuple[str, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [*path, *before, option, "nonsense"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and f"'{option}'" in result.output and "'nonsense'" in result.output
    assert all(f"'{choice}'" in result.output for choice in choices)
    assert not Path("nowhere").exists() and not Path("a.npy").exists()


@pytest.mark.parametrize("command", ["score", "compare"])
def test_bootstrap_has_one_meaning_and_one_help(command: str) -> None:
    """--bootstrap is a count of replicates in both commands: the same help, the same bounds."""
    helps = {
        name: next(p for p in _command([name]).params if p.name == "bootstrap").help for name in ("score", "compare")
    }
    assert helps["score"] == helps["compare"]
    assert f"{MIN_BOOTSTRAP} to {MAX_BOOTSTRAP}" in helps["score"]
    files = ["a.npz"] if command == "score" else ["a.npz", "b.npz"]
    for n in (MIN_BOOTSTRAP - 1, -5) if command == "score" else (MIN_BOOTSTRAP - 1, 0, -5):  # score: 0 is "none"
        result = runner.invoke(app, [command, *files, "--dataset", "toy", "--bootstrap", str(n)])
        assert result.exit_code == 2 and f"--bootstrap {n}: at least {MIN_BOOTSTRAP}" in result.output, result.output
    result = runner.invoke(app, [command, *files, "--dataset", "toy", "--bootstrap", str(MAX_BOOTSTRAP + 1)])
    assert result.exit_code == 2 and f"at most {MAX_BOOTSTRAP}" in result.output, result.output


@pytest.mark.parametrize("command", ["score", "compare"])
def test_bootstrap_seed_and_its_hidden_old_name(command: str) -> None:
    help_text = " ".join(runner.invoke(app, [command, "--help"]).output.split())
    assert "--bootstrap-seed" in help_text and "--seed " not in help_text.replace("`--seed`", "")
    files = ["a.npz"] if command == "score" else ["a.npz", "b.npz"]
    both = runner.invoke(app, [command, *files, "--dataset", "toy", "--bootstrap-seed", "1", "--seed", "2"])
    assert both.exit_code == 2 and "--seed 2 and --bootstrap-seed 1" in both.output, both.output
    assert "Traceback" not in both.output
    negative = runner.invoke(app, [command, *files, "--dataset", "toy", "--seed", "-1"])
    assert negative.exit_code == 2 and "--seed" in negative.output


def test_out_is_a_folder_and_o_a_file() -> None:
    """Every visible --out names a folder; every -o is -o/--output and names the file to write."""
    seen_out, seen_o = [], []
    for name, command in _all_commands():
        for param in command.params:  # type: ignore[attr-defined]
            opts = set(getattr(param, "opts", ()))
            if "--out" in opts and not param.hidden:
                seen_out.append(name)
                assert "folder" in param.help.lower(), (name, param.help)
            if "-o" in opts:
                seen_o.append(name)
                assert opts == {"-o", "--output"} and param.help.startswith("File to write"), (name, opts, param.help)
            if "--output" in opts:
                assert "-o" in opts, name
    assert sorted(seen_out) == ["leaderboard build", "leaderboard serve"]
    assert sorted(seen_o) == ["datasets groundtruth", "features extract", "runs export"]


def test_groundtruth_output_and_the_old_out(tiny_toy: Path, tmp_path: Path) -> None:
    args = ["datasets", "groundtruth", "toy", "--fold", "0", "--split", "test"]
    new = runner.invoke(app, [*args, "--output", str(tmp_path / "new.npy")])
    old = runner.invoke(app, [*args, "--out", str(tmp_path / "old.npy")])  # the old spelling still works
    assert new.exit_code == 0 and old.exit_code == 0, (new.output, old.output)
    np.testing.assert_array_equal(np.load(tmp_path / "new.npy"), np.load(tmp_path / "old.npy"))
    same = runner.invoke(app, [*args, "-o", str(tmp_path / "same.npy"), "--out", str(tmp_path / "same.npy")])
    assert same.exit_code == 0 and (tmp_path / "same.npy").is_file()
    clash = runner.invoke(app, [*args, "-o", str(tmp_path / "a.npy"), "--out", str(tmp_path / "b.npy")])
    assert clash.exit_code == 2 and "--out" in clash.output and "-o/--output" in clash.output
    assert not (tmp_path / "a.npy").exists() and not (tmp_path / "b.npy").exists()
    missing = runner.invoke(app, args)
    assert missing.exit_code == 2 and "Missing option '-o' / '--output'" in missing.output


def test_features_extract_needs_an_output() -> None:
    result = runner.invoke(app, ["features", "extract", "a.wav"])
    assert result.exit_code == 2 and "Missing option '-o' / '--output'" in result.output
    clash = runner.invoke(app, ["features", "extract", "a.wav", "-o", "a.npy", "--out", "b.npy"])
    assert clash.exit_code == 2 and "--out b.npy and -o/--output a.npy" in clash.output
