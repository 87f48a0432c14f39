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
from harness.leaderboard.pages import run_page_name
from harness.leaderboard.ranking import configuration_key, group_seeds, summarise_seeds
from harness.leaderboard.site_build import build_site
from harness.results.store import ResultsStore, RunRecord

XSS = "<img src=x onerror=alert(1)>"
KEYS = ("PR-AUC-macro", "ROC-AUC-macro", "F-score-macro")
DECIMALS = {"PR-AUC-macro": 4, "ROC-AUC-macro": 3, "F-score-macro": 2}  # each column its own


def toy_board(**changes) -> Board:
    columns = tuple(Column(key=k, label=k.replace("-", " "), decimals=DECIMALS[k]) for k in KEYS)
    fields = dict(name="toy", title="Toy board", dataset="toy", fold="split-0", split="test",
                  primary="PR-AUC-macro", columns=columns)
    fields.update(changes)
    return Board(**fields)


def config(seed: int | None, **changes) -> dict:
    """What the runner records: the resolved config, the seed among its keys."""
    resolved = {"dataset": "toy", "fold": "split-0", "submission": "x", "seed": seed,
                "epochs": 2, "lr": 0.001, "eval_batch_size": 64,
                "test_fingerprint": "cd" * 32}
    resolved.update(changes)
    return resolved


def run(run_id: str, submission: str, scores: dict[str, float], seed: int | None = 0,
        **changes) -> RunRecord:
    fields = dict(
        run_id=run_id, dataset="toy", fold="split-0", split="test", submission=submission,
        team="harness", run_name="seed-0" if seed is None else f"seed-{seed}",
        fingerprint="cd" * 32, scores=scores, seed=seed, created="2024-05-01T12:00:00Z",
        provenance={"git_commit": "deadbeefcafe", "device": "cpu"},
        config=config(seed),
    )
    fields.update(changes)
    return RunRecord(**fields)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def seeds_table(html: str) -> str:
    """The "Over seeds" table of a board page."""
    start = html.index('<table class="board sortable seeds" id="seeds-table">')
    return html[start:html.index("</table>", start)]


def main_table(html: str) -> str:
    start = html.index('id="board-table"')
    return html[start:html.index("</table>", start)]


def table_rows(table: str) -> list[str]:
    body = table[table.index("<tbody>"):]
    return re.findall(r"<tr[^>]*>.*?</tr>", body, flags=re.S)


def row_of(rows: list[str], name: str) -> str:
    found = [r for r in rows if re.search(f">{re.escape(name)}[< ]", r)]
    assert len(found) == 1, (name, len(found))
    return found[0]


def metric_texts(row: str, n: int = len(KEYS)) -> list[str]:
    """The texts of a row's last ``n`` cells (its metric columns)."""
    return re.findall(r"<td [^>]*>([^<]*)</td>", row)[-n:]


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
        store.record(run(f"vgg6-s{seed}", "vgg6", scores, seed=seed,
                         created=f"2024-05-0{seed + 1}T12:00:00Z",
                         provenance={"config_hash": f"hash{seed}", "intervals": {
                             "PR-AUC-macro": {"low": pr - 0.01, "high": pr + 0.01}}}))
    store.record(run("solo", "solonet", {"PR-AUC-macro": 0.55, "ROC-AUC-macro": 0.6,
                                         "F-score-macro": 0.25}, seed=0))
    out = tmp_path / "site"
    build_site(store, [toy_board()], out)
    return out, values


def test_over_seeds_shows_mean_and_std_of_every_column(seeded) -> None:
    out, values = seeded
    html = read(out / "toy.html")
    rows = table_rows(seeds_table(html))
    assert len(rows) == 2  # vgg6 once (three seeds), solonet once
    vgg6 = row_of(rows, "vgg6")
    assert metric_texts(vgg6) == [mean_std(values[k], DECIMALS[k]) for k in KEYS]
    assert ">0, 1, 2<" not in vgg6  # the seeds are links to the runs ...
    for seed in range(3):
        assert f'<a href="runs/{run_page_name(f"vgg6-s{seed}")}">{seed}</a>' in vgg6
    assert '<td class="num" data-value="3">3</td>' in vgg6  # ... and n counts them
    mean = float(np.mean(values["PR-AUC-macro"]))
    assert f'data-value="{mean!r}"' in vgg6  # sorts on the unrounded mean
    assert "sample standard deviation (ddof = 1) over 3 seeds" in vgg6


def test_single_seed_gets_no_std_and_nothing_is_nan(seeded) -> None:
    out, _ = seeded
    html = read(out / "toy.html")
    solo = row_of(table_rows(seeds_table(html)), "solonet")
    assert metric_texts(solo) == ["0.5500", "0.600", "0.25"]
    assert "±" not in solo and "one seed: no standard deviation" in solo
    assert '<td class="num" data-value="1">1</td>' in solo
    for path in out.rglob("*.html"):
        assert not re.search(r"\bnan\b", read(path), flags=re.I), path


def test_over_seeds_is_ranked_by_the_primary_mean(seeded, tmp_path: Path) -> None:
    out, values = seeded
    html = read(out / "toy.html")
    rows = table_rows(seeds_table(html))
    vgg6_first = np.mean(values["PR-AUC-macro"]) > 0.55
    assert [">vgg6<" in r for r in rows] == [vgg6_first, not vgg6_first]
    ranks = [re.search(r'class="num rank over"[^>]*>([^<]*)<', r).group(1) for r in rows]
    assert ranks == ["1", "2"]
    # Lower is better: the order turns round.
    lower = toy_board(columns=tuple(replace(c, higher_is_better=c.key != "PR-AUC-macro")
                                    for c in toy_board().columns))
    build_site(ResultsStore(tmp_path / "results.sqlite"), [lower], tmp_path / "lower")
    rows = table_rows(seeds_table(read(tmp_path / "lower" / "toy.html")))
    assert [">vgg6<" in r for r in rows] == [not vgg6_first, vgg6_first]


def test_main_table_keeps_one_row_per_run_with_linked_seed_badges(seeded) -> None:
    out, values = seeded
    html = read(out / "toy.html")
    main = main_table(html)
    assert len(table_rows(main)) == 4  # three vgg6 runs and solonet, as before
    for pr in values["PR-AUC-macro"]:
        assert f"{pr - 0.01:.4f}–{pr + 0.01:.4f}" in main  # per-run intervals stay
    badges = re.findall(r'<a class="badge seed" href="#(seeds-[0-9a-f]+)" title="[^"]*">3 seeds</a>',
                        main)
    assert len(badges) == 3 and len(set(badges)) == 1
    assert f'<tr id="{badges[0]}"' in row_of(table_rows(seeds_table(html)), "vgg6")
    assert '<h2 id="over-seeds">Over seeds</h2>' in html and 'href="#over-seeds"' in html
    page = read(out / "runs" / run_page_name("vgg6-s1"))
    assert f'href="../toy.html#{badges[0]}">mean ± std over the seeds</a>' in page
    assert "seeds of this configuration" not in read(out / "runs" / run_page_name("solo"))


def test_over_seeds_table_is_accessible(seeded) -> None:
    out, _ = seeded
    table = seeds_table(read(out / "toy.html"))
    assert re.search(r"<caption>Toy board: mean ± std over seeds, 2 configurations, 1 with "
                     r"several seeds</caption>", table)
    heads = re.findall(r"<th ([^>]*)>", table[:table.index("</thead>")])
    assert heads and all('scope="col"' in h for h in heads)
    assert table.count('<th scope="row"') == 2


def test_no_over_seeds_without_a_configuration_of_two_seeds(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(run("a", "anet", {"PR-AUC-macro": 0.5}, seed=0))
    store.record(run("b", "bnet", {"PR-AUC-macro": 0.4}, seed=1))
    store.record(run("c", "cnet", {"PR-AUC-macro": 0.3}, seed=None, config={}))
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
            store.record(run(f"e{epochs}-s{seed}", "vgg6", {"PR-AUC-macro": value}, seed=seed,
                             config=config(seed, epochs=epochs, eval_batch_size=16 * (seed + 1))))
    build_site(store, [toy_board()], tmp_path / "site")
    rows = table_rows(seeds_table(read(tmp_path / "site" / "toy.html")))
    assert len(rows) == 2
    for row, epochs in zip(rows, (20, 2)):  # ranked: 20 epochs first
        assert f">epochs = {epochs}<" in row
        assert metric_texts(row, 3)[0] == mean_std(np.array(values[epochs]), 4)
    assert configuration_key(config(0)) == configuration_key(config(5, eval_batch_size=8))
    assert configuration_key(config(0)) != configuration_key(config(0, lr=0.01))


def test_newest_run_of_a_seed_counts(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(run("s0", "vgg6", {"PR-AUC-macro": 0.50}, seed=0))
    store.record(run("s1-old", "vgg6", {"PR-AUC-macro": 0.10}, seed=1,
                     created="2024-01-01T00:00:00Z"))
    store.record(run("s1-new", "vgg6", {"PR-AUC-macro": 0.54}, seed=1,
                     created="2024-06-01T00:00:00Z"))
    build_site(store, [toy_board()], tmp_path / "site")
    html = read(tmp_path / "site" / "toy.html")
    assert len(table_rows(main_table(html))) == 3  # every run still has its row
    assert html.count(">2 seeds<") == 3
    row = row_of(table_rows(seeds_table(html)), "vgg6")
    assert metric_texts(row, 3)[0] == mean_std(np.array([0.50, 0.54]), 4)
    assert run_page_name("s1-new") in row and run_page_name("s1-old") not in row


def test_runs_without_seed_or_config(tmp_path: Path) -> None:
    """Published runs (no seed, no config) stay apart; seeded runs without a config group by
    (team, submission)."""
    store = ResultsStore(tmp_path / "results.sqlite")
    for i, value in enumerate((0.3, 0.35)):  # one team's two published runs: two systems
        store.record(run(f"pub{i}", "team-a", {"PR-AUC-macro": value}, seed=None, config={},
                         team="team-a", run_name=f"run{i}"))
    for seed, value in enumerate((0.5, 0.6, 0.7)):
        store.record(run(f"imp{seed}", "imported", {"PR-AUC-macro": value}, seed=seed,
                         config={}, team="team-b", run_name="ensemble"))
    groups = group_seeds(store.list_runs())
    assert sorted(len(g.members) for g in groups) == [1, 1, 3]
    build_site(store, [toy_board()], tmp_path / "site")
    rows = table_rows(seeds_table(read(tmp_path / "site" / "toy.html")))
    assert len(rows) == 3
    imported = row_of(rows, "imported")
    assert ">ensemble<" in imported  # the run name its seeds share
    assert metric_texts(imported, 3)[0] == mean_std(np.array([0.5, 0.6, 0.7]), 4)
    published = row_of(rows, "run1")
    assert metric_texts(published, 3)[0] == "0.3500" and "±" not in published
    assert ">—</a>" in published  # no seed


def test_a_metric_some_seeds_lack_shows_a_dash(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(run("s0", "vgg6", {"PR-AUC-macro": 0.5, "F-score-macro": 0.3}, seed=0))
    store.record(run("s1", "vgg6", {"PR-AUC-macro": 0.6}, seed=1))
    build_site(store, [toy_board()], tmp_path / "site")
    row = row_of(table_rows(seeds_table(read(tmp_path / "site" / "toy.html"))), "vgg6")
    assert metric_texts(row) == [mean_std(np.array([0.5, 0.6]), 4), "—", "—"]
    assert "missing for 1 of 2 seeds (1)" in row


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
        store.record(run(f"{XSS}{seed}", XSS, {"PR-AUC-macro": 0.5 + seed / 10}, seed=seed,
                         team=XSS, run_name=XSS, config={XSS: XSS, "seed": seed},
                         provenance={"flags": [XSS]}))
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
    return Board(name="cal", title="CAL500 ten folds", dataset="cal500", split="test",
                 primary="F-score-macro", columns=columns, folds=FOLDS)


def fold_run(submission: str, seed: int, k: int, f1: float, pr: float, **changes) -> RunRecord:
    return run(f"{submission}-s{seed}-f{k}", submission,
               {"F-score-macro": f1, "PR-AUC-macro": pr}, seed=seed, dataset="cal500",
               fold=f"fold-{k}", fingerprint=f"{k:02d}" * 32,
               config=config(seed, dataset="cal500", fold=f"fold-{k}",
                             test_fingerprint=f"{k:02d}" * 32), **changes)


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


def test_k_fold_rows_are_one_seed_each(folded) -> None:
    out, values = folded
    html = read(out / "cal.html")
    rows = table_rows(main_table(html))
    cnn = [r for r in rows if ">cnn<" in r]
    assert len(cnn) == 3 and len(rows) == 4  # not one row mixing the three seeds
    for seed, f1 in values.items():
        mean, std = np.mean(f1[:, 0]), np.std(f1[:, 0], ddof=1)
        row = next(r for r in cnn if f'<td class="num" data-value="{seed}">{seed}</td>' in r)
        assert f">{mean:.4f}<span" in row and f"± {std:.4f}" in row
        assert "10 of 10 folds" not in row and "3 seeds<" in row


def test_k_fold_over_seeds_is_over_the_per_seed_fold_means(folded) -> None:
    out, values = folded
    html = read(out / "cal.html")
    rows = table_rows(seeds_table(html))
    assert len(rows) == 2
    per_seed_means = np.array([values[s].mean(axis=0) for s in range(3)])  # (seeds, columns)
    cnn = row_of(rows, "cnn")
    assert metric_texts(cnn, 2) == [mean_std(per_seed_means[:, 0], 4),
                                    mean_std(per_seed_means[:, 1], 3)]
    assert "of the means over folds" in cnn
    assert metric_texts(row_of(rows, "solo"), 2) == ["0.2000", "0.250"]
    assert "folds differ" not in html


def test_k_fold_page_of_a_configuration_has_every_seed(folded) -> None:
    out, values = folded
    html = read(out / "cal.html")
    hrefs = re.findall(r'href="(groups/[^"#]+)#(seed-\d)">cnn<', main_table(html))
    assert sorted(s for _, s in hrefs) == ["seed-0", "seed-1", "seed-2"]
    assert len({page for page, _ in hrefs}) == 1  # one page for the configuration
    page = read(out / hrefs[0][0])
    for seed in range(3):
        assert f'<h2 id="seed-{seed}">Seed {seed}' in page
        assert f"{np.mean(values[seed][:, 0]):.4f}" in page
        for k in range(10):
            assert f'href="../runs/{run_page_name(f"cnn-s{seed}-f{k}")}"' in page
    per_seed_means = np.array([values[s].mean(axis=0) for s in range(3)])
    assert mean_std(per_seed_means[:, 0], 4) in page
    run = read(out / "runs" / run_page_name("cnn-s2-f4"))
    assert f'href="../{hrefs[0][0]}#seed-2"' in run and "(seed 2)" in run
    solo = re.search(r'href="(groups/[^"]+)">solo<', html).group(1)
    assert "#" not in solo and "Over seeds" not in read(out / solo)


def test_k_fold_seeds_on_different_folds_are_flagged(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    for k in range(10):
        store.record(fold_run("cnn", 0, k, 0.5, 0.5))
    for k in range(7):
        store.record(fold_run("cnn", 1, k, 0.4, 0.4))
    build_site(store, [fold_board()], tmp_path / "site")
    html = read(tmp_path / "site" / "cal.html")
    assert html.count("7 of 10 folds") == 1  # the seed-1 row
    row = row_of(table_rows(seeds_table(html)), "cnn")
    assert ">folds differ<" in row and "seed 0: 10 of 10; seed 1: 7 of 10" in row
    assert metric_texts(row, 2)[0] == mean_std(np.array([0.5, 0.4]), 4)
