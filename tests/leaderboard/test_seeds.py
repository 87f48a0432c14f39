"""Seeds on the leaderboard: mean ± std over seeds, per configuration, on one-fold and k-fold boards.

``harness run --seeds 0,1,2`` records one run per seed; runs alike but for the seed are one
configuration, shown in an "Over seeds" table as mean ± sample std (ddof = 1) of each column.
Expected values are computed here with numpy from the recorded inputs.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from harness.leaderboard.boards import Board, Column
from harness.leaderboard.checked_store import CheckedStore
from harness.leaderboard.grouping import configuration_key, group_seeds, summarise_seeds
from harness.leaderboard.pages import run_page_name
from harness.leaderboard.site_build import build_site, plan_site
from harness.results.store import ResultsStore, RunRecord

XSS = "<img src=x onerror=alert(1)>"
KEYS = ("PR-AUC-macro", "ROC-AUC-macro", "F-score-macro")
DECIMALS = {"PR-AUC-macro": 4, "ROC-AUC-macro": 3, "F-score-macro": 2}  # each column its own


def toy_board(**changes) -> Board:
    columns = tuple(Column(key=k, label=k.replace("-", " "), decimals=DECIMALS[k]) for k in KEYS)
    fields = dict(
        name="toy",
        title="Toy board",
        dataset="toy",
        fold="split-0",
        split="test",
        primary="PR-AUC-macro",
        columns=columns,
    )
    fields.update(changes)
    return Board(**fields)


def config(seed: int | None, **changes) -> dict:
    """What the runner records: the resolved config, the seed among its keys."""
    resolved = {
        "dataset": "toy",
        "fold": "split-0",
        "submission": "x",
        "seed": seed,
        "epochs": 2,
        "lr": 0.001,
        "eval_batch_size": 64,
        "test_fingerprint": "cd" * 32,
    }
    resolved.update(changes)
    return resolved


def run(run_id: str, submission: str, scores: dict[str, float], seed: int | None = 0, **changes) -> RunRecord:
    fields = dict(
        run_id=run_id,
        dataset="toy",
        fold="split-0",
        split="test",
        submission=submission,
        team="harness",
        run_name="seed-0" if seed is None else f"seed-{seed}",
        fingerprint="cd" * 32,
        scores=scores,
        seed=seed,
        created="2024-05-01T12:00:00Z",
        provenance={"git_commit": "deadbeefcafe", "device": "cpu"},
        config=config(seed),
    )
    fields.update(changes)
    return RunRecord(**fields)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def view_of(tmp_path: Path, board: Board | None = None) -> dict:
    """The view model of ``board`` (the toy board) from the store under ``tmp_path``."""
    board = board or toy_board()
    store = ResultsStore(tmp_path / "results.sqlite")
    return plan_site(CheckedStore(store), [board]).board(board.name)


def seeds_rows(view: dict) -> list[dict]:
    """The rows of a board's "Over seeds" table."""
    return view["over_seeds"]["rows"]


def row_of(rows: list[dict], name: str) -> dict:
    """The one row of submission, or configuration label, ``name``."""
    found = [r for r in rows if name in (r["submission"], r["label"])]
    assert len(found) == 1, (name, len(found))
    return found[0]


def metric_texts(row: dict, n: int = len(KEYS)) -> list[str]:
    """The texts of a row's last ``n`` cells (its metric columns)."""
    return [c["text"] for c in row["cells"]][-n:]


def titles(row: dict) -> str:
    return " | ".join(c["title"] for c in row["cells"])


def badge_texts(row: dict) -> list[str]:
    return [b["text"] for b in row["badges"]]


def seeds_table(html: str) -> str:
    """The "Over seeds" table of a board page."""
    start = html.index('<table class="board sortable seeds" id="seeds-table">')
    return html[start : html.index("</table>", start)]


def mean_std(values: np.ndarray, decimals: int) -> str:
    return f"{np.mean(values):.{decimals}f} ± {np.std(values, ddof=1):.{decimals}f}"


# -- one-fold board ------------------------------------------------------------------------


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """vgg6 with three seeds (intervals on its runs), solonet with one; values per column."""
    rng = np.random.default_rng(11)
    values = {key: rng.uniform(0.3, 0.8, 3) for key in KEYS}
    store = ResultsStore(tmp_path / "results.sqlite")
    for seed in range(3):
        scores = {key: float(values[key][seed]) for key in KEYS}
        pr = scores["PR-AUC-macro"]
        store.record(
            run(
                f"vgg6-s{seed}",
                "vgg6",
                scores,
                seed=seed,
                created=f"2024-05-0{seed + 1}T12:00:00Z",
                provenance={
                    "config_hash": f"hash{seed}",
                    "intervals": {"PR-AUC-macro": {"low": pr - 0.01, "high": pr + 0.01}},
                },
            )
        )
    store.record(run("solo", "solonet", {"PR-AUC-macro": 0.55, "ROC-AUC-macro": 0.6, "F-score-macro": 0.25}, seed=0))
    out = tmp_path / "site"
    build_site(store, [toy_board()], out)
    return out, values


def test_over_seeds_shows_mean_and_std_of_every_column(seeded, tmp_path: Path) -> None:
    out, values = seeded
    rows = seeds_rows(view_of(tmp_path))
    assert len(rows) == 2  # vgg6 once (three seeds), solonet once
    vgg6 = row_of(rows, "vgg6")
    assert metric_texts(vgg6) == [mean_std(values[k], DECIMALS[k]) for k in KEYS]
    assert vgg6["seeds"] == [
        {"text": str(seed), "href": f"runs/{run_page_name(f'vgg6-s{seed}')}"} for seed in range(3)
    ]  # the seeds are links to the runs ...
    assert vgg6["n"] == 3  # ... and n counts them
    mean = float(np.mean(values["PR-AUC-macro"]))
    assert vgg6["cells"][0]["value"] == repr(mean)  # sorts on the unrounded mean
    assert "sample standard deviation (ddof = 1) over 3 seeds" in titles(vgg6)
    table = seeds_table(read(out / "toy.html"))  # end to end: links, n, the sort value
    assert f'<a href="runs/{run_page_name("vgg6-s1")}">1</a>' in table and ">0, 1, 2<" not in table
    assert '<td class="num" data-value="3">3</td>' in table and f'data-value="{mean!r}"' in table


def test_single_seed_gets_no_std_and_nothing_is_nan(seeded, tmp_path: Path) -> None:
    out, _ = seeded
    solo = row_of(seeds_rows(view_of(tmp_path)), "solonet")
    assert metric_texts(solo) == ["0.5500", "0.600", "0.25"]
    assert "±" not in " ".join(metric_texts(solo)) and "one seed: no standard deviation" in titles(solo)
    assert solo["n"] == 1
    for path in out.rglob("*.html"):
        assert not re.search(r"\bnan\b", read(path), flags=re.I), path


def test_over_seeds_is_ranked_by_the_primary_mean(seeded, tmp_path: Path) -> None:
    out, values = seeded
    rows = seeds_rows(view_of(tmp_path))
    vgg6_first = np.mean(values["PR-AUC-macro"]) > 0.55
    assert [r["submission"] == "vgg6" for r in rows] == [vgg6_first, not vgg6_first]
    assert [r["rank"] for r in rows] == [1, 2]
    # Lower is better: the order turns round.
    lower = toy_board(columns=tuple(replace(c, higher_is_better=c.key != "PR-AUC-macro") for c in toy_board().columns))
    rows = seeds_rows(view_of(tmp_path, lower))
    assert [r["submission"] == "vgg6" for r in rows] == [not vgg6_first, vgg6_first]


def test_main_table_keeps_one_row_per_run_with_linked_seed_badges(seeded, tmp_path: Path) -> None:
    out, values = seeded
    view = view_of(tmp_path)
    main = view["rows"]
    assert len(main) == 4  # three vgg6 runs and solonet, as before
    notes = [c["note"] for row in main for c in row["cells"]]
    for pr in values["PR-AUC-macro"]:
        assert f"{pr - 0.01:.4f}–{pr + 0.01:.4f}" in notes  # per-run intervals stay
    badges = [b for row in main for b in row["badges"] if b["kind"] == "seed"]
    assert [b["text"] for b in badges] == ["3 seeds"] * 3
    anchors = {b["href"] for b in badges}
    assert len(anchors) == 1
    anchor = anchors.pop()[1:]
    assert anchor.startswith("seeds-") and row_of(seeds_rows(view), "vgg6")["anchor"] == anchor
    assert view["seeds_anchor"] == "over-seeds"
    html = read(out / "toy.html")  # end to end: the badge links to the row
    assert f'<a class="badge seed" href="#{anchor}"' in html and f'<tr id="{anchor}"' in html
    assert '<h2 id="over-seeds">Over seeds</h2>' in html and 'href="#over-seeds"' in html
    runs = plan_site(CheckedStore(ResultsStore(tmp_path / "results.sqlite")), [toy_board()]).runs
    assert runs["vgg6-s1"]["seed_groups"] == [{"href": f"toy.html#{anchor}", "board": "Toy board", "n": 3}]
    assert runs["solo"]["seed_groups"] == []
    page = read(out / "runs" / run_page_name("vgg6-s1"))
    assert f'href="../toy.html#{anchor}">mean ± std over the seeds</a>' in page
    assert "seeds of this configuration" not in read(out / "runs" / run_page_name("solo"))


def test_over_seeds_table_is_accessible(seeded) -> None:
    out, _ = seeded
    table = seeds_table(read(out / "toy.html"))
    assert re.search(
        r"<caption>Toy board: mean ± std over seeds, 2 configurations, 1 with "
        r"several seeds</caption>",
        table,
    )
    heads = re.findall(r"<th ([^>]*)>", table[: table.index("</thead>")])
    assert heads and all('scope="col"' in h for h in heads)
    assert table.count('<th scope="row"') == 2


def test_no_over_seeds_without_a_configuration_of_two_seeds(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(run("a", "anet", {"PR-AUC-macro": 0.5}, seed=0))
    store.record(run("b", "bnet", {"PR-AUC-macro": 0.4}, seed=1))
    store.record(run("c", "cnet", {"PR-AUC-macro": 0.3}, seed=None, config={}))
    view = view_of(tmp_path)
    assert view["over_seeds"] is None
    assert not any(b["kind"] == "seed" for row in view["rows"] for b in row["badges"])
    build_site(store, [toy_board()], tmp_path / "site")
    html = read(tmp_path / "site" / "toy.html")
    assert "Over seeds" not in html and "seeds-table" not in html and "seeds<" not in html


def test_configurations_are_not_averaged_together(tmp_path: Path) -> None:
    """Two seeds at 2 epochs and two at 20: two rows, each over its own seeds. The seed and the
    evaluation batch size (a device detail) do not make a configuration."""
    store = ResultsStore(tmp_path / "results.sqlite")
    values = {2: [0.40, 0.44], 20: [0.60, 0.70]}
    for epochs, pr in values.items():
        for seed, value in enumerate(pr):
            store.record(
                run(
                    f"e{epochs}-s{seed}",
                    "vgg6",
                    {"PR-AUC-macro": value},
                    seed=seed,
                    config=config(seed, epochs=epochs, eval_batch_size=16 * (seed + 1)),
                )
            )
    rows = seeds_rows(view_of(tmp_path))
    assert len(rows) == 2
    for row, epochs in zip(rows, (20, 2)):  # ranked: 20 epochs first
        assert row["label"] == f"epochs = {epochs}"
        assert metric_texts(row, 3)[0] == mean_std(np.array(values[epochs]), 4)
    assert configuration_key(config(0)) == configuration_key(config(5, eval_batch_size=8))
    assert configuration_key(config(0)) != configuration_key(config(0, lr=0.01))


def test_newest_run_of_a_seed_counts(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(run("s0", "vgg6", {"PR-AUC-macro": 0.50}, seed=0))
    store.record(run("s1-old", "vgg6", {"PR-AUC-macro": 0.10}, seed=1, created="2024-01-01T00:00:00Z"))
    store.record(run("s1-new", "vgg6", {"PR-AUC-macro": 0.54}, seed=1, created="2024-06-01T00:00:00Z"))
    view = view_of(tmp_path)
    assert len(view["rows"]) == 3  # every run still has its row
    assert [badge_texts(row).count("2 seeds") for row in view["rows"]] == [1, 1, 1]
    row = row_of(seeds_rows(view), "vgg6")
    assert metric_texts(row, 3)[0] == mean_std(np.array([0.50, 0.54]), 4)
    hrefs = [seed["href"] for seed in row["seeds"]]
    assert f"runs/{run_page_name('s1-new')}" in hrefs and f"runs/{run_page_name('s1-old')}" not in hrefs


def test_runs_without_seed_or_config(tmp_path: Path) -> None:
    """Published runs (no seed, no config) stay apart; seeded runs without a config group by
    (team, submission)."""
    store = ResultsStore(tmp_path / "results.sqlite")
    for i, value in enumerate((0.3, 0.35)):  # one team's two published runs: two systems
        store.record(
            run(f"pub{i}", "team-a", {"PR-AUC-macro": value}, seed=None, config={}, team="team-a", run_name=f"run{i}")
        )
    for seed, value in enumerate((0.5, 0.6, 0.7)):
        store.record(
            run(
                f"imp{seed}",
                "imported",
                {"PR-AUC-macro": value},
                seed=seed,
                config={},
                team="team-b",
                run_name="ensemble",
            )
        )
    groups = group_seeds(store.list_runs())
    assert sorted(len(g.members) for g in groups) == [1, 1, 3]
    rows = seeds_rows(view_of(tmp_path))
    assert len(rows) == 3
    imported = row_of(rows, "imported")
    assert imported["label"] == "ensemble"  # the run name its seeds share
    assert metric_texts(imported, 3)[0] == mean_std(np.array([0.5, 0.6, 0.7]), 4)
    published = row_of(rows, "run1")
    assert metric_texts(published, 3)[0] == "0.3500" and "±" not in " ".join(metric_texts(published))
    assert [seed["text"] for seed in published["seeds"]] == ["—"]  # no seed


def test_a_metric_some_seeds_lack_shows_a_dash(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(run("s0", "vgg6", {"PR-AUC-macro": 0.5, "F-score-macro": 0.3}, seed=0))
    store.record(run("s1", "vgg6", {"PR-AUC-macro": 0.6}, seed=1))
    row = row_of(seeds_rows(view_of(tmp_path)), "vgg6")
    assert metric_texts(row) == [mean_std(np.array([0.5, 0.6]), 4), "—", "—"]
    assert "missing for 1 of 2 seeds (1)" in titles(row)


def test_summarise_seeds_with_numpy() -> None:
    summary = summarise_seeds({2: {"a": 0.5, "b": 1.0}, 0: {"a": 0.7}, 1: {"a": 0.9}})
    assert summary.seeds == (0, 1, 2)
    assert summary.mean == {"a": pytest.approx(0.7)}
    assert summary.std == {"a": pytest.approx(np.std([0.5, 0.7, 0.9], ddof=1))}
    assert summary.missing == {"b": (0, 1)}
    one = summarise_seeds({4: {"a": 0.5}})
    assert one.mean == {"a": 0.5} and one.std == {}


def test_hostile_names_in_the_over_seeds_table_are_escaped(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    for seed in (0, 1):
        store.record(
            run(
                f"{XSS}{seed}",
                XSS,
                {"PR-AUC-macro": 0.5 + seed / 10},
                seed=seed,
                team=XSS,
                run_name=XSS,
                config={XSS: XSS, "seed": seed},
                provenance={"flags": [XSS]},
            )
        )
    written = build_site(store, [toy_board()], tmp_path / "site").pages
    for path in written:
        html = read(path)
        assert "<img" not in html and XSS not in html, path
    table = seeds_table(read(tmp_path / "site" / "toy.html"))
    assert table.count("&lt;img src=x onerror=alert(1)&gt;") >= 3  # submission, team, name


def test_build_with_seeds_is_deterministic(seeded, tmp_path: Path) -> None:
    out, _ = seeded
    again = tmp_path / "again"
    build_site(ResultsStore(tmp_path / "results.sqlite"), [toy_board()], again)
    assert read(out / "toy.html") == read(again / "toy.html")


# -- k-fold boards ---------------------------------------------------------------------------

FOLDS = tuple(f"fold-{k}" for k in range(10))


def fold_board() -> Board:
    columns = (Column("F-score-macro", "F1 macro"), Column("PR-AUC-macro", "PR-AUC macro", decimals=3))
    return Board(
        name="cal",
        title="CAL500 ten folds",
        dataset="cal500",
        split="test",
        primary="F-score-macro",
        columns=columns,
        folds=FOLDS,
    )


def fold_run(submission: str, seed: int, k: int, f1: float, pr: float, **changes) -> RunRecord:
    return run(
        f"{submission}-s{seed}-f{k}",
        submission,
        {"F-score-macro": f1, "PR-AUC-macro": pr},
        seed=seed,
        dataset="cal500",
        fold=f"fold-{k}",
        fingerprint=f"{k:02d}" * 32,
        config=config(seed, dataset="cal500", fold=f"fold-{k}", test_fingerprint=f"{k:02d}" * 32),
        **changes,
    )


@pytest.fixture
def folded(tmp_path: Path) -> tuple[Path, dict[int, np.ndarray]]:
    """cnn: three seeds on every fold, all under one run name (so only the seed tells them
    apart); solo: one seed. Returns cnn's (F1, PR-AUC) per seed as (10, 2) arrays."""
    rng = np.random.default_rng(5)
    store = ResultsStore(tmp_path / "results.sqlite")
    values = {}
    for seed in range(3):
        values[seed] = rng.uniform(0.3, 0.6, (10, 2))
        for k in range(10):
            store.record(fold_run("cnn", seed, k, *map(float, values[seed][k]), run_name="cnn"))
    for k in range(10):
        store.record(fold_run("solo", 0, k, 0.2, 0.25))
    out = tmp_path / "site"
    build_site(store, [fold_board()], out)
    return out, values


def test_k_fold_rows_are_one_seed_each(folded, tmp_path: Path) -> None:
    out, values = folded
    rows = view_of(tmp_path, fold_board())["rows"]
    cnn = [r for r in rows if r["submission"] == "cnn"]
    assert len(cnn) == 3 and len(rows) == 4  # not one row mixing the three seeds
    for seed, f1 in values.items():
        mean, std = np.mean(f1[:, 0]), np.std(f1[:, 0], ddof=1)
        [row] = [r for r in cnn if r["seed_value"] == str(seed)]
        assert row["cells"][0]["text"] == f"{mean:.4f}" and row["cells"][0]["note"] == f"± {std:.4f}"
        assert "10 of 10 folds" not in badge_texts(row) and "3 seeds" in badge_texts(row)


def test_k_fold_over_seeds_is_over_the_per_seed_fold_means(folded, tmp_path: Path) -> None:
    out, values = folded
    view = view_of(tmp_path, fold_board())
    rows = seeds_rows(view)
    assert len(rows) == 2
    per_seed_means = np.array([values[s].mean(axis=0) for s in range(3)])  # (seeds, columns)
    cnn = row_of(rows, "cnn")
    assert metric_texts(cnn, 2) == [mean_std(per_seed_means[:, 0], 4), mean_std(per_seed_means[:, 1], 3)]
    assert "of the means over folds" in titles(cnn)
    assert metric_texts(row_of(rows, "solo"), 2) == ["0.2000", "0.250"]
    assert "folds differ" not in read(out / "cal.html")


def test_k_fold_page_of_a_configuration_has_every_seed(folded, tmp_path: Path) -> None:
    out, values = folded
    site = plan_site(CheckedStore(ResultsStore(tmp_path / "results.sqlite")), [fold_board()])
    rows = site.board("cal")["rows"]
    hrefs = [r["href"].split("#") for r in rows if r["submission"] == "cnn"]
    assert sorted(s for _, s in hrefs) == ["seed-0", "seed-1", "seed-2"]
    assert len({page for page, _ in hrefs}) == 1  # one page for the configuration
    page_name = hrefs[0][0]
    assert page_name.startswith("groups/")
    group = site.groups[page_name]
    assert [(s["id"], s["seed"]) for s in group["sections"]] == [("seed-0", "0"), ("seed-1", "1"), ("seed-2", "2")]
    per_seed_means = np.array([values[s].mean(axis=0) for s in range(3)])
    for seed, section in enumerate(group["sections"]):
        assert section["fold_cells"][0]["text"] == f"{np.mean(values[seed][:, 0]):.4f}"
        assert [f["href"] for f in section["folds"]] == [run_page_name(f"cnn-s{seed}-f{k}") for k in range(10)]
    assert group["over_seeds"][0]["text"] == mean_std(per_seed_means[:, 0], 4)
    assert site.runs["cnn-s2-f4"]["groups"] == [{"href": f"{page_name}#seed-2", "board": "CAL500 ten folds", "seed": 2}]
    page = read(out / page_name)  # end to end: the sections, the links, the mean over seeds
    for seed in range(3):
        assert f'<h2 id="seed-{seed}">Seed {seed}' in page
        assert f'href="../runs/{run_page_name(f"cnn-s{seed}-f0")}"' in page
    assert mean_std(per_seed_means[:, 0], 4) in page
    run = read(out / "runs" / run_page_name("cnn-s2-f4"))
    assert f'href="../{page_name}#seed-2"' in run and "(seed 2)" in run
    solo = next(r["href"] for r in rows if r["submission"] == "solo")
    assert "#" not in solo and len(site.groups[solo]["sections"]) == 1
    assert "Over seeds" not in read(out / solo)


def test_k_fold_seeds_on_different_folds_are_flagged(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    for k in range(10):
        store.record(fold_run("cnn", 0, k, 0.5, 0.5))
    for k in range(7):
        store.record(fold_run("cnn", 1, k, 0.4, 0.4))
    view = view_of(tmp_path, fold_board())
    assert [badge_texts(row).count("7 of 10 folds") for row in view["rows"]] == [0, 1]  # the seed-1 row
    row = row_of(seeds_rows(view), "cnn")
    assert badge_texts(row)[0] == "folds differ"
    assert "seed 0: 10 of 10; seed 1: 7 of 10" in row["badges"][0]["title"]
    assert metric_texts(row, 2)[0] == mean_std(np.array([0.5, 0.4]), 4)
    build_site(store, [fold_board()], tmp_path / "site")
    html = read(tmp_path / "site" / "cal.html")
    assert html.count("7 of 10 folds") == 1 and ">folds differ<" in html
