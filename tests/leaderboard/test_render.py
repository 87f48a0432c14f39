"""Board definitions and the static site: ranking, badges, escaping, self-containment."""

from __future__ import annotations

import re
from dataclasses import replace
from html import escape
from pathlib import Path

import numpy as np
import pytest

from harness.errors import FormatError
from harness.leaderboard import charts, ranking
from harness.leaderboard.boards import Board, Column, load_board, load_boards
from harness.leaderboard.checked_store import CheckedStore
from harness.leaderboard.pages import run_page_name
from harness.leaderboard.rank_intervals import RANK_RULE, BoardRanks
from harness.leaderboard.ranking import rank_runs
from harness.leaderboard.site_build import SitePlan, build_site, plan_site
from harness.results.store import ResultsStore, RunRecord

REPO = Path(__file__).resolve().parents[2]
XSS = "<img src=x onerror=alert(1)>"
EXTERNAL = re.compile(r"""(?:src|href|action|srcset)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def toy_board() -> Board:
    columns = tuple(
        Column(key=k, label=k.replace("-", " "), decimals=4) for k in ("PR-AUC-macro", "ROC-AUC-macro", "F-score-macro")
    )
    return Board(
        name="toy",
        title="Toy board",
        dataset="toy",
        fold="split-0",
        split="test",
        primary="PR-AUC-macro",
        columns=columns,
        description="A toy board.",
    )


def run(run_id: str, submission: str, pr_auc: float | None, **changes) -> RunRecord:
    scores = {"ROC-AUC-macro": 0.7, "F-score-macro": 0.3}
    if pr_auc is not None:
        scores["PR-AUC-macro"] = pr_auc
    fields = dict(
        run_id=run_id,
        dataset="toy",
        fold="split-0",
        split="test",
        submission=submission,
        team="harness",
        run_name="seed-0",
        fingerprint="cd" * 32,
        scores=scores,
        tag_scores={
            "mood/theme---happy": {"ROC-AUC": 0.81, "PR-AUC": 0.42},
            "mood/theme---calm": {"ROC-AUC": 0.66, "PR-AUC": 0.21, "F-score": 0.3},
        },
        seed=0,
        created="2024-05-01T12:00:00Z",
        provenance={"git_commit": "deadbeefcafe", "dirty": False, "device": "cpu", "versions": {"torch": "2.11.0"}},
        config={"epochs": 2, "lr": 0.001},
    )
    fields.update(changes)
    return RunRecord(**fields)


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, list[Path]]:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(run("r-mid", "midnet", 0.50))
    store.record(run("r-best", "bestnet", 0.75, thresholds_source="test", seed=3))
    store.record(
        run(
            "r-low/seed:1",
            "lownet",
            0.25,
            team=XSS,
            run_name=XSS,
            tag_scores={XSS: {"PR-AUC": 0.1}},
            external_data=True,
        )
    )
    store.record(run("r-other", "othernet", 0.99, dataset="cal500", fold="fold-0"))
    out = tmp_path / "site"
    return out, build_site(store, [toy_board()], out).pages


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def plan(store: ResultsStore, boards: list[Board]) -> SitePlan:
    """Every page's view model, as the build computes it, nothing written."""
    return plan_site(CheckedStore(store), boards)


def site_store(tmp_path: Path) -> ResultsStore:
    """The store the ``site`` fixture built from."""
    return ResultsStore(tmp_path / "results.sqlite")


def badge_texts(row: dict) -> list[str]:
    return [badge["text"] for badge in row["badges"]]


def test_written_paths_are_the_site(site) -> None:
    out, written = site
    assert written[0] == out / "index.html"
    assert out / "toy.html" in written
    assert {p.name for p in (out / "runs").iterdir()} == {p.name for p in written if p.parent == out / "runs"}
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


def test_board_highlights_primary_and_shows_badges(site, tmp_path: Path) -> None:
    out, _ = site
    view = plan(site_store(tmp_path), [toy_board()]).board("toy")
    primary_heads = [c["column"] for c in view["columns"] if c["primary"]]
    assert len(primary_heads) == 1 and primary_heads[0].label == "PR AUC macro"
    assert primary_heads[0].arrow == "↑"
    assert [sum(c["primary"] for c in row["cells"]) for row in view["rows"]] == [1, 1, 1]
    badges = [text for row in view["rows"] for text in badge_texts(row)]
    assert badges.count("thresholds fitted on test") == 1
    assert badges.count("external data") == 1
    html = read(out / "toy.html")  # and on the page, the heading marked
    assert re.findall(r'<th class="num metric primary"[^>]*>PR AUC macro<span class="arrow">↑</span></th>', html)
    assert html.count("thresholds fitted on test") == 1 and html.count("external data") == 1


def test_board_rows_link_to_run_pages(site) -> None:
    out, _ = site
    html = read(out / "toy.html")
    for run_id in ("r-best", "r-mid", "r-low/seed:1"):
        href = f"runs/{run_page_name(run_id)}"
        assert f'href="{href}"' in html
        assert (out / href).is_file()


def test_run_pages_show_provenance_scores_and_tags(site, tmp_path: Path) -> None:
    out, _ = site
    html = read(out / "runs" / run_page_name("r-best"))
    for text in (
        "deadbeefcafe",
        "cd" * 32,
        "2.11.0",
        "thresholds fitted on test",
        "&#34;epochs&#34;: 2",
        "ROC-AUC-macro",
        "0.7500",
    ):
        assert text in html, text
    assert 'href="../toy.html"' in html and 'href="../index.html"' in html
    view = plan(site_store(tmp_path), [toy_board()]).runs["r-best"]
    assert [(row["short"], row["tag"]) for row in view["tag_rows"]] == [
        ("happy", "mood/theme---happy"),
        ("calm", "mood/theme---calm"),
    ]
    assert view["tag_metrics"] == ["ROC-AUC", "PR-AUC", "F-score"]
    assert view["boards"] == [{"title": "Toy board", "href": "toy.html"}]


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


def test_the_script_comes_from_static_and_is_inlined(site) -> None:
    from harness.leaderboard.site_build import STATIC

    script = (STATIC / "tables.js").read_text(encoding="utf-8")
    assert "table.sortable" in script and "input.filter" in script
    _, written = site
    for path in written:  # every page carries it whole, inline: nothing to fetch from file://
        html = read(path)
        assert f"<script>\n{script}</script>" in html, path
        assert "<script src" not in html


def test_build_is_deterministic(site, tmp_path: Path) -> None:
    out, written = site
    store = ResultsStore(tmp_path / "results.sqlite")
    again = build_site(store, [toy_board()], tmp_path / "again").pages
    assert [p.relative_to(tmp_path / "again") for p in again] == [p.relative_to(out) for p in written]
    for a, b in zip(written, again):
        assert a.read_bytes() == b.read_bytes()


def test_empty_store_gives_the_friendly_line(tmp_path: Path) -> None:
    out = tmp_path / "site"
    written = build_site(ResultsStore(tmp_path / "none.sqlite"), [toy_board()], out).pages
    assert written == [out / "index.html", out / "toy.html"]
    assert "harness run submissions/vgg6" in read(out / "toy.html")
    assert "No runs yet" in read(out / "index.html")


def test_no_boards_gives_a_hint(tmp_path: Path) -> None:
    written = build_site(ResultsStore(tmp_path / "none.sqlite"), [], tmp_path / "site").pages
    assert "leaderboards/&lt;name&gt;.toml" in read(written[0])


def test_rank_runs_direction_ties_and_missing() -> None:
    board = toy_board()
    runs = [
        run("a", "a", 0.5, created="2024-01-02T00:00:00Z"),
        run("b", "b", None),
        run("c", "c", 0.5, created="2024-01-01T00:00:00Z"),
        run("d", "d", 0.9),
    ]
    ranked = rank_runs(board, runs)
    assert [(e.rank, e.run.run_id) for e in ranked] == [(1, "d"), (2, "c"), (2, "a"), (None, "b")]
    lower = replace(board, columns=(Column("PR-AUC-macro", higher_is_better=False),))
    assert [e.run.run_id for e in rank_runs(lower, runs)] == ["c", "a", "d", "b"]


def test_missing_primary_shows_a_dash_and_goes_last(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(run("unscored", "nopr", None, created="2020-01-01T00:00:00Z"))
    store.record(run("scored", "haspr", 0.1))
    rows = plan(store, [toy_board()]).board("toy")["rows"]
    assert [(row["submission"], row["rank"]) for row in rows] == [("haspr", 1), ("nopr", None)]
    missing = next(c for c in rows[1]["cells"] if c["primary"])
    assert (missing["text"], missing["value"], missing["missing"]) == ("—", "", True)
    build_site(store, [toy_board()], tmp_path / "site")
    html = read(tmp_path / "site" / "toy.html")
    assert html.index("haspr") < html.index("nopr")
    assert 'class="num primary missing" data-value="">—</td>' in html  # end to end


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


@pytest.mark.parametrize(
    "text, field",
    [
        (BOARD_TOML.format(decimals=12), "decimals"),
        (BOARD_TOML.format(decimals=2).replace('primary = "PR-AUC-macro"', 'primary = "nope"'), "primary"),
        (BOARD_TOML.format(decimals=2).replace('name = "mine"', 'name = "Not A Slug"'), "name"),
        (BOARD_TOML.format(decimals=2).replace('title = "Mine"\n', ""), "title"),
        (BOARD_TOML.format(decimals=2) + "higher_is_beter = false\n", "higher_is_beter"),
        (BOARD_TOML.format(decimals=2) + "[[columns]]\nkey = 'PR-AUC-macro'\n", "columns"),
        ("name = [", "TOML"),
    ],
)
def test_bad_board_toml_gives_format_error_naming_file_and_field(tmp_path: Path, text: str, field: str) -> None:
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
    assert (toy.dataset, toy.fold, toy.split, toy.primary) == ("toy", "split-0", "test", "PR-AUC-macro")
    assert [c.key for c in toy.columns] == [
        "PR-AUC-macro",
        "ROC-AUC-macro",
        "F-score-macro",
        "PR-AUC-micro",
        "ROC-AUC-micro",
        "F-score-micro",
    ]
    assert all(c.higher_is_better and c.decimals == 4 for c in toy.columns)


def test_fold_flags_show_as_badges(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    flag = "leaky: segments of one song in train and test"
    store.record(run("r-leaky", "leakynet", 0.6, provenance={"flags": [flag]}))
    out = tmp_path / "site"
    build_site(store, [toy_board()], out)
    board = read(out / "toy.html")
    assert f'<span class="badge warn" title="{flag}">leaky</span>' in board
    assert flag in board
    assert flag in read(out / "runs" / run_page_name("r-leaky"))


# -- ties, seeds, intervals ------------------------------------------------------------------


def fake_module(monkeypatch, module, **functions) -> None:
    """Replace these functions where ``module`` (ranking: ties; charts: curves) calls them."""
    for key, value in functions.items():
        monkeypatch.setattr(module, key, value)


def rank_cells(html: str) -> list[tuple[str, str]]:
    """(row classes, shown rank) of every board row, in page order."""
    return re.findall(
        r'<tr(?: class="([^"]*)")?[^>]*>\s*<td class="num rank"[^>]*>([^<]*)(?:<div[^>]*>[^<]*</div>)?</td>', html
    )


def shown_ranks(view: dict) -> list[int | None]:
    """The rank each row of a board view shows, in order (None: a dash)."""
    return [row["rank"] for row in view["rows"]]


def ties_store(tmp_path: Path) -> ResultsStore:
    store = ResultsStore(tmp_path / "results.sqlite")
    for run_id, value in (("a", 0.80), ("b", 0.79), ("c", 0.78), ("d", 0.60), ("e", 0.59)):
        store.record(run(run_id, f"net-{run_id}", value, seed=None))
    store.record(run("z", "net-z", None, seed=None))
    return store


def test_ranks_and_rank_intervals_come_from_board_ranks(tmp_path: Path, monkeypatch) -> None:
    seen = []

    def board_ranks(store, board, ranked):
        seen.append([e.run.run_id for e in ranked])
        shown = {"a": 1, "b": 1, "c": 1, "d": 4, "e": 4}
        return BoardRanks(shown, {"a": (1, 2), "b": (1, 3), "c": (2, 3), "d": (4, 5), "e": (4, 5)}, {}, 1000)

    fake_module(monkeypatch, ranking, joint_board_ranks=board_ranks)
    store = ties_store(tmp_path)
    view = plan(store, [toy_board()]).board("toy")
    assert seen == [["a", "b", "c", "d", "e", "z"]]  # ranked order; z (no primary metric) last, unranked
    rows = view["rows"]
    assert shown_ranks(view) == [1, 1, 1, 4, 4, None]
    assert [row["rank_interval"] for row in rows] == ["1–2", "1–3", "2–3", "4–5", "4–5", ""]
    assert [row["shared"] for row in rows] == [False, True, True, False, True, False]
    assert not view["has_bands"] and not any(row["band_class"] for row in rows)  # no chained bands
    assert view["has_rank_intervals"] and view["rank_legend"] == RANK_RULE
    assert "97.5%" in view["rank_legend"] and "95% rank interval" in view["rank_legend"]
    out = tmp_path / "site"  # end to end: the intervals and the rule on the page
    build_site(store, [toy_board()], out)
    html = read(out / "toy.html")
    assert [rank.strip() for _, rank in rank_cells(html)] == ["1", "1", "1", "4", "4", "—"]
    assert '<div class="sub rank-interval">1–3</div>' in html
    assert 'id="rank-legend"' in html and escape(RANK_RULE) in html
    assert "not significantly different from the run above" not in html


def test_a_failing_joint_bootstrap_leaves_ranks_plain_with_a_warning(tmp_path: Path, monkeypatch) -> None:
    def board_ranks(store, board, ranked):
        raise ValueError("no common items")

    fake_module(monkeypatch, ranking, joint_board_ranks=board_ranks)
    out = tmp_path / "site"
    store = ties_store(tmp_path)
    built = build_site(store, [toy_board()], out)
    view = plan(store, [toy_board()]).board("toy")
    assert shown_ranks(view) == [1, 2, 3, 4, 5, None] and not view["has_rank_intervals"]
    assert not any(row["rank_interval"] or row["band_class"] for row in view["rows"])
    assert 'id="rank-legend"' not in read(out / "toy.html")
    assert built.warnings == ["board 'toy' shows no rank intervals: the joint bootstrap failed (no common items)"]


def test_runs_without_predictions_keep_their_plain_rank(tmp_path: Path) -> None:
    view = plan(ties_store(tmp_path), [toy_board()]).board("toy")  # no run has stored predictions
    assert shown_ranks(view) == [1, 2, 3, 4, 5, None] and not view["has_rank_intervals"]


def test_unknown_run_ids_in_ranks_are_ignored(tmp_path: Path, monkeypatch) -> None:
    fake_module(monkeypatch, ranking, joint_board_ranks=lambda store, board, ranked: BoardRanks({"d": 2, "q": 1}))
    assert shown_ranks(plan(ties_store(tmp_path), [toy_board()]).board("toy")) == [1, 2, 3, 2, 5, None]


def test_seed_badge_on_every_row_of_a_multi_seed_submission(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    for seed in (0, 1, 2):
        store.record(run(f"v{seed}", "vgg6", 0.5 + seed / 100, seed=seed, run_name=f"seed-{seed}"))
    store.record(run("solo", "solonet", 0.4, seed=0))
    rows = plan(store, [toy_board()]).board("toy")["rows"]
    seeds = {row["submission"]: [b for b in badge_texts(row) if "seed" in b] for row in rows}
    assert [badge_texts(row).count("3 seeds") for row in rows if row["submission"] == "vgg6"] == [1] * 3
    assert seeds["solonet"] == []  # one seed: no badge
    out = tmp_path / "site"
    build_site(store, [toy_board()], out)
    html = read(out / "toy.html")
    assert html.count(">3 seeds<") == 3
    assert ">1 seeds<" not in html and "1 seed<" not in html


def test_intervals_show_beside_the_values(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    intervals = {
        "PR-AUC-macro": {
            "low": 0.4812,
            "high": 0.5234,
            "mean": 0.5,
            "std": 0.01,
            "replicates": 1000,
            "confidence": 0.95,
        }
    }
    store.record(run("ci", "cinet", 0.5, provenance={"intervals": intervals}))
    store.record(run("noci", "plainnet", 0.4))
    site = plan(store, [toy_board()])
    view = site.board("toy")
    notes = [(row["submission"], c["note"], c["note_title"]) for row in view["rows"] for c in row["cells"] if c["note"]]
    assert notes == [("cinet", "0.4812–0.5234", "95% bootstrap interval (1000 replicates)")]
    assert view["has_intervals"]  # the legend
    assert [s["interval"] for s in site.runs["ci"]["scores"]] == ["", "", "0.4812–0.5234"]
    assert site.runs["ci"]["has_intervals"] and not site.runs["noci"]["has_intervals"]
    out = tmp_path / "site"
    build_site(store, [toy_board()], out)
    html = read(out / "toy.html")
    assert html.count("0.4812–0.5234") == 1
    assert "95% bootstrap interval (1000 replicates)" in html
    assert "95% bootstrap intervals" in html  # the legend
    page = read(out / "runs" / run_page_name("ci"))
    assert "95% interval" in page and "0.4812–0.5234" in page
    assert "95% interval" not in read(out / "runs" / run_page_name("noci"))


def test_badges_for_flags_external_data_and_test_thresholds(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(
        run(
            "x",
            "xnet",
            0.5,
            external_data=True,
            thresholds_source="test",
            provenance={"flags": ["leaky: segments of one song in train and test"]},
        )
    )
    [row] = plan(store, [toy_board()]).board("toy")["rows"]
    assert [(b["kind"], b["text"]) for b in row["badges"]] == [
        ("warn", "thresholds fitted on test"),
        ("info", "external data"),
        ("warn", "leaky"),
    ]
    assert "Legacy" in row["badges"][0]["title"]
    assert row["badges"][2]["title"] == "leaky: segments of one song in train and test"


# -- k-fold boards ---------------------------------------------------------------------------

FOLDS = tuple(f"fold-{k}" for k in range(10))


def fold_board() -> Board:
    columns = (
        Column("F-score-macro", "F1 macro"),
        Column("PR-AUC-macro", "PR-AUC macro"),
        Column("hamming-loss", "Hamming loss", higher_is_better=False),
    )
    return Board(
        name="cal",
        title="CAL500 ten folds",
        dataset="cal500",
        split="test",
        primary="F-score-macro",
        columns=columns,
        folds=FOLDS,
    )


def fold_store(tmp_path: Path) -> tuple[ResultsStore, dict[str, np.ndarray]]:
    rng = np.random.default_rng(7)
    store = ResultsStore(tmp_path / "results.sqlite")
    values = {}
    for submission, n_folds, offset in (("full", 10, 0.1), ("partial", 7, 0.2)):
        f1 = rng.uniform(0.3, 0.5, n_folds) + offset
        values[submission] = f1
        for k in range(n_folds):
            store.record(
                run(
                    f"{submission}-{k}",
                    submission,
                    0.5,
                    dataset="cal500",
                    fold=f"fold-{k}",
                    fingerprint=f"{k:02d}" * 32,
                    scores={"F-score-macro": float(f1[k]), "PR-AUC-macro": 0.5, "hamming-loss": 0.1 + k / 100},
                )
            )
    store.record(
        run(
            "stale",
            "full",
            0.5,
            dataset="cal500",
            fold="fold-0",  # older rerun
            created="2020-01-01T00:00:00Z",
            scores={"F-score-macro": 0.01},
        )
    )
    store.record(run("other-fold", "full", 0.5, dataset="cal500", fold="split-0", scores={"F-score-macro": 0.99}))
    return store, values


def test_fold_board_rows_are_mean_and_std_over_folds(tmp_path: Path) -> None:
    store, values = fold_store(tmp_path)
    out = tmp_path / "site"
    written = build_site(store, [fold_board()], out).pages
    view = plan(store, [fold_board()]).board("cal")
    rows = {row["submission"]: row for row in view["rows"]}
    assert list(rows) == ["partial", "full"]  # higher mean F1 first
    for name, f1 in values.items():
        mean, std = np.mean(f1), np.std(f1, ddof=1)
        primary = rows[name]["cells"][0]
        assert primary["primary"] and primary["value"] == repr(float(mean)), name
        assert primary["text"] == f"{mean:.4f}" and primary["note"] == f"± {std:.4f}", name
    assert [badge_texts(row).count("7 of 10 folds") for row in rows.values()] == [1, 0]
    html = read(out / "cal.html")  # end to end: the mean, its std beneath
    mean = np.mean(values["full"])
    assert re.search(rf'data-value="{float(mean)!r}"[^>]*>{mean:.4f}<span class="ci"', html)
    assert html.count("7 of 10 folds") == 1
    assert "0.9900" not in html  # the split-0 run is not on the board
    hamming = np.mean([0.1 + k / 100 for k in range(10)])
    assert f"{hamming:.4f}" in html
    groups = [p for p in written if p.parent.name == "groups"]
    assert len(groups) == 2
    assert "stale" not in "".join(read(p) for p in groups)
    run_pages = {p.stem for p in written if p.parent.name == "runs"}
    assert len(run_pages) == 17  # one per fold of each row: 10 + 7
    assert not any("stale" in name or "other-fold" in name for name in run_pages)  # superseded, off-board


def test_fold_group_page_lists_every_fold_and_links_runs(tmp_path: Path) -> None:
    store, values = fold_store(tmp_path)
    out = tmp_path / "site"
    build_site(store, [fold_board()], out)
    site = plan(store, [fold_board()])
    href = next(row["href"] for row in site.board("cal")["rows"] if row["submission"] == "partial")
    assert href.startswith("groups/") and "#" not in href
    [section] = site.groups[href]["sections"]
    assert [f["fold"] for f in section["folds"]] == list(FOLDS)
    assert [f["href"] for f in section["folds"]] == [run_page_name(f"partial-{k}") for k in range(7)] + [
        ""
    ] * 3  # three folds have no run
    for k in range(7):
        assert section["folds"][k]["cells"][0]["text"] == f"{values['partial'][k]:.4f}"
    assert section["mean"][0]["text"] == f"{np.mean(values['partial']):.4f}"
    page = read(out / href)  # end to end: the links and the missing folds
    assert page.count("(no run)") == 3
    for k in range(7):
        assert f'href="../runs/{run_page_name(f"partial-{k}")}"' in page
        assert f"{values['partial'][k]:.4f}" in page
    run_page = read(out / "runs" / run_page_name("partial-3"))
    assert f'href="../{href}"' in run_page


def test_fold_board_in_toml(tmp_path: Path) -> None:
    text = BOARD_TOML.format(decimals=3).replace('fold = "split-0"\n', 'folds = ["a", "b"]\n')
    path = tmp_path / "k.toml"
    path.write_text(text)
    board = load_board(path)
    assert board.folds == ("a", "b") and board.fold == "" and board.is_k_fold
    for bad, field in (
        (text.replace("folds =", 'fold = "a"\nfolds ='), "fold"),
        (text.replace('folds = ["a", "b"]\n', ""), "fold"),
        (text.replace('["a", "b"]', '["a", "a"]'), "folds"),
        (text.replace('["a", "b"]', '"a"'), "folds"),
    ):
        path.write_text(bad)
        with pytest.raises(FormatError, match=field) as info:
            load_board(path)
        assert str(path) in str(info.value)


# -- run pages: provenance, charts -----------------------------------------------------------


def test_run_page_provenance_is_a_readable_table(tmp_path: Path) -> None:
    from harness.provenance import config_hash

    store = ResultsStore(tmp_path / "results.sqlite")
    provenance = {
        "git_commit": "abc123def",
        "git_dirty": True,
        "device": "cuda: NVIDIA H100",
        "libraries": {"torch": "2.11.0", "numpy": "2.1.0"},
        "duration_s": 3725.0,
        "best_epoch": 12,
    }
    record = run("p", "pnet", 0.5, provenance=provenance, seed=4)
    store.record(record)
    out = tmp_path / "site"
    build_site(store, [toy_board()], out)
    page = read(out / "runs" / run_page_name("p"))
    assert "abc123def (dirty: uncommitted changes)" in page
    assert config_hash(record.config) in page
    assert "cd" * 32 in page
    assert "cuda: NVIDIA H100" in page and "1 h 02 min" in page
    assert "{&#34;" not in page.split("<h2>Configuration</h2>")[0]  # no raw JSON above
    rows = {row["label"]: row for row in plan(store, [toy_board()]).runs["p"]["provenance"]}
    assert rows["Git commit"]["value"] == "abc123def (dirty: uncommitted changes)"
    assert rows["Git commit"]["warn"] and rows["Git commit"]["mono"]
    assert rows["Config hash"]["value"] == config_hash(record.config)
    assert rows["Split fingerprint"]["value"] == "cd" * 32
    assert rows["Library versions"]["pairs"] == [("torch", "2.11.0"), ("numpy", "2.1.0")]
    assert rows["Device"]["value"] == "cuda: NVIDIA H100" and rows["Duration"]["value"] == "1 h 02 min"
    assert rows["Best epoch"]["value"] == "12" and rows["Seed"]["value"] == "4"
    assert "<span>torch</span> 2.11.0" in page and "<th>Seed</th><td>4</td>" in page  # end to end


def test_run_page_bar_chart_of_per_tag_pr_auc(site, tmp_path: Path) -> None:
    out, _ = site
    view = plan(site_store(tmp_path), [toy_board()]).runs["r-best"]
    bars = view["bars"]
    assert [bar["label"] for bar in bars["bars"]] == ["happy", "calm"]  # sorted by PR-AUC, short names
    assert (bars["bars"][0]["tag"], bars["bars"][0]["value"]) == ("mood/theme---happy", "0.4200")
    assert bars["metric"] == "PR-AUC"
    assert [tick["label"] for tick in bars["ticks"]] == ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5"]  # to the next tenth
    assert view["curve"] is None  # no curve without predictions in the store
    page = read(out / "runs" / run_page_name("r-best"))  # end to end: an accessible SVG
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert "<title>mood/theme---happy: PR-AUC 0.4200</title>" in svg
    assert "PR-AUC per tag" in svg and ">0.5<" in svg and ">0.6<" not in svg
    assert page.count("<svg") == 1


def test_run_page_pr_curve_when_predictions_exist(tmp_path: Path, monkeypatch) -> None:
    calls = []

    def pr_curve(store, record):
        calls.append(record.run_id)
        if record.run_id == "none":
            return None
        return [(0.0, 1.0), (0.5, 0.6), (1.0, 0.2)]

    fake_module(monkeypatch, charts, pr_curve=pr_curve)
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(run("curve", "cnet", 0.5, scores={"PR-AUC-macro": 0.5, "PR-AUC-micro": 0.61}))
    store.record(run("none", "nnet", 0.4))
    site = plan(store, [toy_board()])
    assert sorted(calls) == ["curve", "none"]
    curve = site.runs["curve"]["curve"]
    points = curve["points"].split()
    assert len(points) == 3 and curve["n"] == 3
    xs = [float(p.split(",")[0]) for p in points]
    ys = [float(p.split(",")[1]) for p in points]
    assert xs == sorted(xs) and ys == sorted(ys)  # recall right, precision falls (y grows down)
    assert curve["auc"] == "0.6100"
    assert site.runs["none"]["curve"] is None
    out = tmp_path / "site"  # end to end: the curve drawn, with its axes
    build_site(store, [toy_board()], out)
    page = read(out / "runs" / run_page_name("curve"))
    assert f'<polyline class="curve" points="{curve["points"]}"' in page
    assert ">Recall<" in page and ">Precision<" in page and "PR-AUC micro 0.6100" in page
    assert "<polyline" not in read(out / "runs" / run_page_name("none"))


# -- index: dataset citation and licence ---------------------------------------------------


def test_index_shows_dataset_citation_and_licence(tmp_path: Path) -> None:
    from harness.datasets import load_spec

    spec = load_spec("toy")
    unknown = replace(toy_board(), name="mystery", dataset="no-such-dataset")
    out = tmp_path / "site"
    store = ResultsStore(tmp_path / "none.sqlite")
    build_site(store, [toy_board(), unknown], out)
    toy, mystery = plan(store, [toy_board(), unknown]).boards
    assert (toy["dataset"]["citation"], toy["dataset"]["licence"]) == (spec.citation, spec.licence)
    assert mystery["dataset"] is None and mystery["page"] == "mystery.html"  # shows without
    html = read(out / "index.html")
    assert escape(spec.citation) in html and escape(spec.licence) in html
    assert html.count("<dt>Licence</dt>") == 1
    assert 'href="mystery.html"' in html


# -- escaping everywhere ---------------------------------------------------------------------


def test_hostile_names_are_escaped_on_every_page(tmp_path: Path, monkeypatch) -> None:
    fake_module(
        monkeypatch,
        ranking,
        joint_board_ranks=lambda s, b, ranked: BoardRanks(
            {e.run.run_id: 1 for e in ranked if e.rank is not None},
            {e.run.run_id: (1, 2) for e in ranked if e.rank is not None},
            {
                e.run.run_id: [
                    {"relation": "leader", "run": o.run, "difference": 0.1, "low": 0.0, "high": 0.2}
                    | {"p_value": 0.5, "replicates": 1000}
                ]
                for e in ranked
                for o in ranked[:1]
                if e.rank is not None
            },
            1000,
        ),
    )
    fake_module(monkeypatch, charts, pr_curve=lambda s, r: [(0.0, 1.0), (1.0, 0.1)])
    store = ResultsStore(tmp_path / "results.sqlite")
    hostile = dict(
        team=XSS,
        run_name=XSS,
        tag_scores={XSS: {"PR-AUC": 0.3}},
        provenance={
            "flags": [XSS],
            "libraries": {XSS: XSS},
            XSS: XSS,
            "intervals": {"PR-AUC-macro": {"low": 0.1, "high": 0.2}},
        },
        config={XSS: XSS},
    )
    for seed in (0, 1):
        store.record(run(f"{XSS}{seed}", XSS, 0.5 - seed / 10, seed=seed, **hostile))
        store.record(
            run(
                f"k{seed}",
                XSS,
                0.5,
                dataset="cal500",
                fold=f"fold-{seed}",
                **{**hostile, "scores": {"F-score-macro": 0.4 + seed / 10}},
            )
        )
    out = tmp_path / "site"
    written = build_site(store, [toy_board(), fold_board()], out).pages
    assert len(written) == 1 + 2 + 4 + 1  # index, two boards, four runs, one group
    for path in written:
        html = read(path)
        assert "<img" not in html and XSS not in html, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, path
    board = read(out / "toy.html")
    assert board.count("&lt;img src=x onerror=alert(1)&gt;") >= 4  # submission, team, run x2
    run_page = read(next(p for p in written if p.parent.name == "runs" and "k0" not in p.name and "k1" not in p.name))
    svg = run_page[run_page.index("<svg") : run_page.index("</svg>")]
    assert "&lt;img src=x onerror=alert(1)&gt;" in svg


def test_reference_rows_are_shown_as_published_figures(tmp_path: Path) -> None:
    from harness.leaderboard.boards import Reference

    board = replace(
        toy_board(),
        references=(Reference(name="Paper <b>net</b>", citation="Someone et al. 2020", scores={"PR-AUC-macro": 0.6}),),
    )
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(run("r-hi", "highnet", 0.7))
    store.record(run("r-lo", "lownet", 0.5))
    out = tmp_path / "site"
    build_site(store, [board], out)
    page = read(out / "toy.html")
    assert page.index("highnet") < page.index("Paper &lt;b&gt;net&lt;/b&gt;") < page.index("lownet")
    assert "published" in page and "Someone et al. 2020" in page and "<b>net</b>" not in page
    rows = plan(store, [board]).board("toy")["rows"]
    assert [(row["submission"], row["rank"], row["reference"]) for row in rows] == [
        ("highnet", 1, False),
        ("Paper <b>net</b>", None, True),
        ("lownet", 2, False),
    ]  # references take no rank
    assert badge_texts(rows[1]) == ["published"] and rows[1]["run_name"] == "Someone et al. 2020"
    assert [row["position"] for row in rows] == [1, 2, 3]


def test_a_reference_above_every_run_is_not_the_leader(tmp_path: Path) -> None:
    from harness.leaderboard.boards import Reference

    board = replace(
        toy_board(),
        references=(Reference(name="Paper net", citation="Someone et al. 2020", scores={"PR-AUC-macro": 0.9}),),
    )
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(run("r-hi", "highnet", 0.7))
    store.record(run("r-lo", "lownet", 0.5))
    out = tmp_path / "site"
    build_site(store, [board], out)
    view = plan(store, [board]).board("toy")
    assert [row["submission"] for row in view["rows"]][:2] == ["Paper net", "highnet"]  # the reference sorts first ...
    assert (
        view["leader"]["submission"] == "highnet" and view["leader_value"] == "0.7000"
    )  # ... but the leader is the best run
    index = read(out / "index.html")  # end to end: the index card
    leader = index[index.index('<div class="leader') :]
    leader = leader[: leader.index("</div>")]
    assert "highnet" in leader and "0.7000" in leader
    assert "Paper net" not in leader and "No runs yet" not in index


def test_reference_with_unknown_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    path.write_text(
        'name = "b"\ntitle = "B"\ndataset = "toy"\nfold = "split-0"\nsplit = "test"\nprimary = "PR-AUC-macro"\n'
        '[[columns]]\nkey = "PR-AUC-macro"\n[[references]]\nname = "P"\ncitation = "C"\nscores = { "nope" = 0.1 }\n'
    )
    with pytest.raises(FormatError, match=r"b.toml: .*references\[0\].*nope"):
        load_board(path)


@pytest.mark.parametrize(
    "source, shown",
    [
        ("validation", "validation"),
        ("test", "test (legacy: fitted on the test labels)"),
        ("given", "given (decisions as submitted; not thresholds fitted on the test labels)"),
    ],
)
def test_run_page_says_where_the_thresholds_came_from(tmp_path: Path, source: str, shown: str) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(run("r-one", "onenet", 0.5, thresholds_source=source))
    identity = plan(store, [toy_board()]).runs["r-one"]["identity"]
    assert [row[1] for row in identity if row[0] == "Thresholds from"] == [shown]
