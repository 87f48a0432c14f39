"""Names that could poison later commands, ``harness runs delete``, and tables in pipes (issue 13).

A team, run or submission name is user text: whatever it holds (rich markup, ANSI escapes), every
later command prints it as the text it is, and none of them fails because of it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hostile import assert_clean_error, cli, cli_process, store_rows

from harness.results.store import ResultsStore, RunRecord

MARKUP = "TEAM[/]x"
MARKUP_RUN = "run[/bold]"
ANSI = "\x1b[31mred\x1b[2J"


def _record(store: Path, run_id: str, team: str = "team", run_name: str = "run", submission: str = "sub") -> None:
    ResultsStore(store).record(
        RunRecord(
            run_id=run_id,
            dataset="toy",
            fold="split-0",
            split="test",
            submission=submission,
            team=team,
            run_name=run_name,
            fingerprint="f" * 64,
            scores={"PR-AUC-macro": 0.5, "ROC-AUC-macro": 0.6},
        )
    )


@pytest.fixture
def poisoned_store(tmp_path: Path) -> Path:
    """A store holding names that rich would read as markup, and names with terminal escapes.

    Written through the library, as an older harness (or a script) could have: the CLI must print
    them as text, whatever the recording side allows today.
    """
    store = tmp_path / "runs" / "results.sqlite"
    _record(store, f"{MARKUP}/{MARKUP_RUN}@toy/split-0/test", team=MARKUP, run_name=MARKUP_RUN, submission="[bold]sub")
    _record(store, f"{ANSI}/x@toy/split-0/test", team=ANSI, run_name="x", submission=f"sub{ANSI}")
    _record(store, "plain/run@toy/split-0/test")
    return store


def test_runs_list_prints_markup_names_as_text(poisoned_store: Path) -> None:
    out = cli("runs", "list", "--store", poisoned_store)
    assert out.code == 0, out
    assert f"{MARKUP}/{MARKUP_RUN}@toy/split-0/test" in out.stdout  # whole (TSV off a terminal), not styled away
    assert "[bold]sub" in out.stdout
    assert "\x1b" not in out.stdout and "\\x1b[31mred" in out.stdout  # the escape shown, not sent


@pytest.mark.parametrize("run_id", [f"{MARKUP}/{MARKUP_RUN}@toy/split-0/test", f"{ANSI}/x@toy/split-0/test"])
def test_runs_show_prints_names_as_text(poisoned_store: Path, run_id: str) -> None:
    out = cli("runs", "show", run_id, "--store", poisoned_store)
    assert out.code == 0, out
    assert "\x1b" not in out.stdout + out.stderr
    assert (MARKUP_RUN in out.stdout) if "[/bold]" in run_id else ("\\x1b[31mred" in out.stdout)


def test_unknown_run_with_markup_and_escapes_is_one_line(poisoned_store: Path) -> None:
    line = assert_clean_error(cli("runs", "show", f"no[/]such{ANSI}", "--store", poisoned_store), "unknown run")
    assert "no[/]such" in line and "\\x1b[31mred" in line


def test_score_record_with_a_markup_name_then_list_and_show(tiny_toy: Path, tmp_path: Path) -> None:
    """The reported crash: `score --record --name 'TEAM[/]x/run[/bold]'` failed after writing the row,
    and `runs list` / `runs show` failed for everyone after it."""
    from harness.datasets import open_dataset

    test = open_dataset("toy").split(0, "test")
    preds = tmp_path / "preds.npy"
    np.save(preds, np.random.default_rng(0).random(test.labels.shape).astype(np.float32))
    store = tmp_path / "runs" / "results.sqlite"
    name = f"{MARKUP}/{MARKUP_RUN}"
    out = cli("score", preds, "--dataset", "toy", "--record", "--name", name, "--json", "--store", store)
    assert out.code == 0, out
    run_id = json.loads(out.stdout)["run_id"]
    assert run_id == f"{name}@toy/split-0/test"
    plain = cli("score", preds, "--dataset", "toy", "--record", "--name", "other/run", "--store", store)
    assert plain.code == 0 and "recorded as other/run@toy/split-0/test" in plain.stdout, plain
    listed = cli("runs", "list", "--store", store)
    assert listed.code == 0 and run_id in listed.stdout, listed
    shown = cli("runs", "show", run_id, "--store", store)
    assert shown.code == 0 and name in shown.stdout, shown


def test_runs_delete(poisoned_store: Path) -> None:
    before = store_rows(poisoned_store)
    assert_clean_error(cli("runs", "delete", "nope", "--store", poisoned_store), "unknown run 'nope'", "plain/run")
    assert store_rows(poisoned_store) == before  # a refused delete changes nothing
    run_id = f"{MARKUP}/{MARKUP_RUN}@toy/split-0/test"
    out = cli("runs", "delete", run_id, "--store", poisoned_store)
    assert out.code == 0 and f"deleted {run_id}" in out.stdout, out
    left = {r.run_id for r in ResultsStore(poisoned_store).list_runs()}
    assert left == {f"{ANSI}/x@toy/split-0/test", "plain/run@toy/split-0/test"}
    assert_clean_error(cli("runs", "delete", run_id, "--store", poisoned_store), "unknown run")


def test_runs_delete_of_a_missing_store_is_one_line(tmp_path: Path) -> None:
    assert_clean_error(cli("runs", "delete", "x", "--store", tmp_path / "absent.sqlite"), "unknown run 'x'")
    assert not (tmp_path / "absent.sqlite").exists()  # deleting from nothing creates nothing


def test_tables_in_a_pipe_keep_whole_names() -> None:
    """`harness submissions list | cat` printed `cnn-spec…`; off a terminal, tables are TSV with whole values."""
    out = cli_process("submissions", "list")
    assert out.code == 0, out
    lines = out.stdout.splitlines()
    assert lines[0].startswith("# ") or lines[0].startswith("submission\t")
    header = next(line for line in lines if line.startswith("submission\t"))
    assert header.split("\t")[:3] == ["submission", "title", "feature"]
    names = [line.split("\t")[0] for line in lines[lines.index(header) + 1 :]]
    assert {"cnn-spectrogram-simple", "cnn-spectrogram-complex", "mediaeval-baseline", "resnet18-timm"} <= set(names)
    assert "…" not in out.stdout


def test_runs_list_in_a_pipe_keeps_long_run_ids(tmp_path: Path) -> None:
    store = tmp_path / "runs" / "results.sqlite"
    long_id = "a-very-long-team-name-indeed/and-an-even-longer-run-name-of-many-words@toy/split-0/test"
    _record(store, long_id)
    out = cli_process("runs", "list", "--store", store)
    assert out.code == 0, out
    assert long_id in out.stdout.split("\n")[2].split("\t")  # header, then the row: the id as one field


REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"


@pytest.mark.reference
@pytest.mark.skipif(
    not (REFERENCE / "mediaeval2019" / "submissions").is_dir(),
    reason=f"licensed MediaEval 2019 submissions not found under {REFERENCE}",
)
def test_recording_mediaeval2019_twice_needs_replace(tmp_path: Path) -> None:
    """A second `record_mediaeval2019.py` was a silent overwrite of all 29 runs; now it is refused before
    any write, and `--replace` records them again."""
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "leaderboards" / "record_mediaeval2019.py"
    spec = importlib.util.spec_from_file_location("record_mediaeval2019", script)
    recorder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recorder)
    store = tmp_path / "results.sqlite"
    assert recorder.main(["--store", str(store)]) == 0
    before = store_rows(store)
    assert len({row[0] for row in before}) == 29
    assert recorder.main(["--store", str(store)]) == 2
    assert store_rows(store) == before
    assert recorder.main(["--store", str(store), "--replace"]) == 0
    after = store_rows(store)
    assert [row[:4] for row in after if len(row) == 5] == [row[:4] for row in before if len(row) == 5]
