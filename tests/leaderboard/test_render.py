"""Board definitions and the static site: ranking, badges, escaping, self-containment."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import FormatError
from harness.leaderboard.boards import Board, Column, load_board, load_boards
from harness.leaderboard.render import build_site, rank_runs, run_page_name
from harness.results.store import ResultsStore, RunRecord

REPO = Path(__file__).resolve().parents[2]
XSS = "<img src=x onerror=alert(1)>"
EXTERNAL = re.compile(r"""(?:src|href|action|srcset)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def toy_board() -> Board:
    columns = tuple(Column(key=k, label=k.replace("-", " "), decimals=4) for k in (
        "PR-AUC-macro", "ROC-AUC-macro", "F-score-macro"))
    return Board(name="toy", title="Toy board", dataset="toy", fold="split-0", split="test",
                 primary="PR-AUC-macro", columns=columns, description="A toy board.")


def run(run_id: str, submission: str, pr_auc: float | None, **changes) -> RunRecord:
    scores = {"ROC-AUC-macro": 0.7, "F-score-macro": 0.3}
    if pr_auc is not None:
        scores["PR-AUC-macro"] = pr_auc
    fields = dict(
        run_id=run_id, dataset="toy", fold="split-0", split="test", submission=submission,
        team="harness", run_name="seed-0", fingerprint="cd" * 32, scores=scores,
        tag_scores={"mood/theme---happy": {"ROC-AUC": 0.81, "PR-AUC": 0.42},
                    "mood/theme---calm": {"ROC-AUC": 0.66, "PR-AUC": 0.21, "F-score": 0.3}},
        seed=0, created="2024-05-01T12:00:00Z",
        provenance={"git_commit": "deadbeefcafe", "dirty": False, "device": "cpu",
                    "versions": {"torch": "2.11.0"}},
        config={"epochs": 2, "lr": 0.001},
    )
    fields.update(changes)
    return RunRecord(**fields)


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, list[Path]]:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(run("r-mid", "midnet", 0.50))
    store.record(run("r-best", "bestnet", 0.75, thresholds_source="test", seed=3))
    store.record(run("r-low/seed:1", "lownet", 0.25, team=XSS, run_name=XSS,
                     tag_scores={XSS: {"PR-AUC": 0.1}}, external_data=True))
    store.record(run("r-other", "othernet", 0.99, dataset="cal500", fold="fold-0"))
    out = tmp_path / "site"
    return out, build_site(store, [toy_board()], out)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_written_paths_are_the_site(site) -> None:
    out, written = site
    assert written[0] == out / "index.html"
    assert out / "toy.html" in written
    assert {p.name for p in (out / "runs").iterdir()} == {
        p.name for p in written if p.parent == out / "runs"}
    assert all(p.is_file() for p in written)
    assert len(written) == 2 + 3  # index, board, three toy runs (not the cal500 one)
    assert not list(out.rglob("*.tmp"))


def test_index_lists_the_board(site) -> None:
    out, _ = site
    html = read(out / "index.html")
    assert 'href="toy.html"' in html
    assert "Toy board" in html
    assert "3 runs" in html
    assert "bestnet" in html  # the leader


def test_board_ranks_by_primary_descending_and_excludes_other_dataset(site) -> None:
    out, _ = site
    html = read(out / "toy.html")
    positions = [html.index(name) for name in ("bestnet", "midnet", "lownet")]
    assert positions == sorted(positions)
    assert "othernet" not in html
    assert "0.7500" in html and "0.5000" in html and "0.2500" in html


def test_board_highlights_primary_and_shows_badges(site) -> None:
    out, _ = site
    html = read(out / "toy.html")
    primary_heads = re.findall(r'<th class="[^"]*\bprimary\b[^"]*"[^>]*>(.*?)</th>', html)
    assert len(primary_heads) == 1 and "PR AUC macro" in primary_heads[0]
    assert "↑" in primary_heads[0]
    assert len(re.findall(r'<td class="num primary"', html)) == 3  # one cell per run
    assert html.count("thresholds fitted on test") == 1
    assert html.count("external data") == 1


def test_board_rows_link_to_run_pages(site) -> None:
    out, _ = site
    html = read(out / "toy.html")
    for run_id in ("r-best", "r-mid", "r-low/seed:1"):
        href = f"runs/{run_page_name(run_id)}"
        assert f'href="{href}"' in html
        assert (out / href).is_file()


def test_run_pages_show_provenance_scores_and_tags(site) -> None:
    out, _ = site
    html = read(out / "runs" / run_page_name("r-best"))
    for text in ("deadbeefcafe", "cd" * 32, "2.11.0", "thresholds fitted on test",
                 "&#34;epochs&#34;: 2", "ROC-AUC-macro", "0.7500"):
        assert text in html, text
    rows = re.findall(r'<td data-value="(\w+)" title="mood/theme---\w+">', html)
    assert rows == ["happy", "calm"]
    for metric in ("ROC-AUC", "PR-AUC", "F-score"):
        assert f">{metric}</th>" in html
    assert 'href="../toy.html"' in html and 'href="../index.html"' in html


def test_user_strings_are_escaped_everywhere(site) -> None:
    out, written = site
    for path in written:
        assert XSS not in read(path), path
    assert "&lt;img src=x onerror=alert(1)&gt;" in read(out / "toy.html")
    run_page = read(out / "runs" / run_page_name("r-low/seed:1"))
    assert run_page.count("&lt;img") >= 3  # team, run name, tag


def test_no_external_resources(site) -> None:
    _, written = site
    for path in written:
        html = read(path)
        assert not EXTERNAL.search(html), path
        assert "<link" not in html and "@import" not in html and "url(" not in html


def test_build_is_deterministic(site, tmp_path: Path) -> None:
    out, written = site
    store = ResultsStore(tmp_path / "results.sqlite")
    again = build_site(store, [toy_board()], tmp_path / "again")
    assert [p.relative_to(tmp_path / "again") for p in again] == [
        p.relative_to(out) for p in written]
    for a, b in zip(written, again):
        assert a.read_bytes() == b.read_bytes()


def test_empty_store_gives_the_friendly_line(tmp_path: Path) -> None:
    out = tmp_path / "site"
    written = build_site(ResultsStore(tmp_path / "none.sqlite"), [toy_board()], out)
    assert written == [out / "index.html", out / "toy.html"]
    assert "harness run submissions/vgg6" in read(out / "toy.html")
    assert "No runs yet" in read(out / "index.html")


def test_no_boards_gives_a_hint(tmp_path: Path) -> None:
    written = build_site(ResultsStore(tmp_path / "none.sqlite"), [], tmp_path / "site")
    assert "leaderboards/&lt;name&gt;.toml" in read(written[0])


def test_rank_runs_direction_ties_and_missing() -> None:
    board = toy_board()
    runs = [run("a", "a", 0.5, created="2024-01-02T00:00:00Z"),
            run("b", "b", None),
            run("c", "c", 0.5, created="2024-01-01T00:00:00Z"),
            run("d", "d", 0.9)]
    ranked = rank_runs(board, runs)
    assert [(e.rank, e.run.run_id) for e in ranked] == [(1, "d"), (2, "c"), (2, "a"), (None, "b")]
    lower = replace(board, columns=(Column("PR-AUC-macro", higher_is_better=False),))
    assert [e.run.run_id for e in rank_runs(lower, runs)] == ["c", "a", "d", "b"]


def test_missing_primary_shows_a_dash_and_goes_last(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(run("unscored", "nopr", None, created="2020-01-01T00:00:00Z"))
    store.record(run("scored", "haspr", 0.1))
    build_site(store, [toy_board()], tmp_path / "site")
    html = read(tmp_path / "site" / "toy.html")
    assert html.index("haspr") < html.index("nopr")
    assert 'class="num primary missing" data-value="">—</td>' in html


def test_run_page_names_are_safe_and_distinct() -> None:
    assert run_page_name("toy-vgg6-seed0") == "toy-vgg6-seed0.html"
    names = {run_page_name(i) for i in ("a/b", "a:b", "a b", "A-b", "a-b", "../x", ".")}
    assert len(names) == 7
    for name in names:
        assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*\.html", name), name


BOARD_TOML = """
name = "mine"
title = "Mine"
dataset = "toy"
fold = "split-0"
split = "test"
primary = "PR-AUC-macro"
[[columns]]
key = "PR-AUC-macro"
decimals = {decimals}
"""


def test_load_board_reads_a_good_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(BOARD_TOML.format(decimals=3))
    board = load_board(path)
    assert board.name == "mine"
    assert board.primary_column == Column("PR-AUC-macro", "PR-AUC-macro", True, 3)


@pytest.mark.parametrize("text, field", [
    (BOARD_TOML.format(decimals=12), "decimals"),
    (BOARD_TOML.format(decimals=2).replace('primary = "PR-AUC-macro"', 'primary = "nope"'),
     "primary"),
    (BOARD_TOML.format(decimals=2).replace('name = "mine"', 'name = "Not A Slug"'), "name"),
    (BOARD_TOML.format(decimals=2).replace('title = "Mine"\n', ""), "title"),
    (BOARD_TOML.format(decimals=2) + "higher_is_beter = false\n", "higher_is_beter"),
    (BOARD_TOML.format(decimals=2) + "[[columns]]\nkey = 'PR-AUC-macro'\n", "columns"),
    ("name = [", "TOML"),
])
def test_bad_board_toml_gives_format_error_naming_file_and_field(tmp_path: Path, text: str,
                                                                 field: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(FormatError) as info:
        load_board(path)
    assert str(path) in str(info.value)
    assert field in str(info.value)


def test_load_boards_sorts_and_rejects_duplicates(tmp_path: Path) -> None:
    (tmp_path / "b.toml").write_text(BOARD_TOML.format(decimals=2).replace('"mine"', '"zeta"'))
    (tmp_path / "a.toml").write_text(BOARD_TOML.format(decimals=2).replace('"mine"', '"alpha"'))
    assert [b.name for b in load_boards(tmp_path)] == ["alpha", "zeta"]
    (tmp_path / "c.toml").write_text(BOARD_TOML.format(decimals=2).replace('"mine"', '"zeta"'))
    with pytest.raises(FormatError, match="zeta"):
        load_boards(tmp_path)


def test_the_real_toy_board_loads() -> None:
    boards = load_boards(REPO / "leaderboards")
    toy = next(b for b in boards if b.name == "toy")
    assert toy == load_board(REPO / "leaderboards" / "toy.toml")
    assert (toy.dataset, toy.fold, toy.split, toy.primary) == (
        "toy", "split-0", "test", "PR-AUC-macro")
    assert [c.key for c in toy.columns] == ["PR-AUC-macro", "ROC-AUC-macro", "F-score-macro",
                                            "PR-AUC-micro", "ROC-AUC-micro", "F-score-micro"]
    assert all(c.higher_is_better and c.decimals == 4 for c in toy.columns)


def test_fold_flags_show_as_badges(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    flag = "leaky: segments of one song in train and test"
    store.record(run("r-leaky", "leakynet", 0.6, provenance={"flags": [flag]}))
    out = tmp_path / "site"
    build_site(store, [toy_board()], out)
    board = read(out / "toy.html")
    assert ">leaky<" in board.replace(" ", "") or "leaky</" in board
    assert flag in board
    assert flag in read(out / "runs" / run_page_name('r-leaky'))
