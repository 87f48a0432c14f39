"""Render the static leaderboard site from the results store.

The site is self-contained: plain HTML with one inline stylesheet, inline SVG charts and a small
inline script (click-to-sort, filter box), no external URL anywhere, readable from ``file://``::

    index.html              every board: title, dataset (title, citation, licence), runs, leader
    <board>.html            the board's rows ranked by its primary metric
    runs/<slug>.html        one run: badges, scores with intervals, per-tag table and chart,
                            precision-recall curve, provenance, config
    groups/<slug>.html      on a k-fold board, one configuration's per-fold scores with mean ± std,
                            one section per seed, and mean ± std over its seeds when it has several

A one-fold board ranks runs; runs whose paired bootstrap test against the run above is not
significant share a rank band (:func:`harness.leaderboard.ties.rank_bands`, when installed). A
k-fold board (``folds = [...]``) ranks (submission, team, run name, seed, configuration) rows by
the mean of the primary metric over the folds present
(:func:`harness.metrics.folds.aggregate_folds`); runs of different seeds are never pooled into
one row's fold mean.

Seeds: ``harness run --seeds 0,1,2`` records one run per seed, alike but for the seed. Runs of one
(team, submission, configuration) make a :class:`SeedGroup`, the configuration being the run's
``config`` less its seed (:func:`configuration_key`; published runs have no config, so theirs is
their (team, submission), and runs without a seed are each their own group). When a board has a
group of two or more seeds, an "Over seeds" table under the main one shows every group once, each
column as mean ± sample standard deviation (``ddof=1``) over its seeds (of the per-seed fold
means on a k-fold board), ranked by the primary column's mean; the "N seeds" badge of the main
rows links to it. The main table keeps one row per run (one-fold) or per seed (k-fold): ties and
intervals are computed on runs.

Pages are rendered with jinja2 from ``templates/`` beside this module with autoescaping on for
every template, so team, run, submission and tag names always show as text (in SVG too). Values
are formatted and charts laid out here, the templates only place them. Output is deterministic
(no build time in it): building twice from the same store gives the same bytes.

The site is built whole beside the output folder and swapped in when every page is written
(:mod:`harness.leaderboard.site_folder`): a build that fails or is killed leaves the previous site
as it was. One run never breaks a board: the store is read through
:class:`~harness.leaderboard.checked_store.CheckedStore`, and a run that cannot be read, or whose
predictions cannot be used, or a part of a run page that cannot be drawn, is left out with a
warning naming the run (:attr:`SiteBuild.warnings`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from harness import __version__, atomic
from harness.errors import HarnessError
from harness.leaderboard import site_folder
from harness.leaderboard.boards import Board, Column
from harness.leaderboard.checked_store import CheckedStore
from harness.results.store import ResultsStore, RunRecord

if TYPE_CHECKING:  # the metrics import scikit-learn; the one-fold site does not need it
    from harness.metrics.folds import FoldSummary

TEMPLATES = Path(__file__).resolve().parent / "templates"
RUNS_DIR = "runs"
GROUPS_DIR = "groups"
MAX_SLUG = 80
# Per-tag metrics shown first and in this order when present; any others follow.
TAG_METRIC_ORDER = ("ROC-AUC", "PR-AUC", "precision", "recall", "F-score")
SCORE_DECIMALS = 4
BADGE_TEST_THRESHOLDS = "thresholds fitted on test"
BADGE_EXTERNAL_DATA = "external data"
TIE_LEGEND = ("shared rank = not significantly different from the run above "
              "(paired bootstrap, p ≥ 0.05)")
CHART_METRIC = "PR-AUC"  # the per-tag metric of the bar chart
CHART_LABEL_CHARS = 24
# Config keys that do not make a configuration: the seed, and the evaluation batch size (a device
# detail, which the config hash leaves out too). Across folds, also the fold and its fingerprints.
NOT_CONFIGURATION = frozenset({"seed", "eval_batch_size"})
PER_FOLD_CONFIG = frozenset({"fold", "train_fingerprint", "validation_fingerprint",
                             "test_fingerprint"})
SEEDS_ANCHOR = "over-seeds"
# What drawing a part of a run page from odd (but readable) recorded values may raise: the part is
# left out with a warning, the page and the board are still built.
_DRAWING_ERRORS = (HarnessError, ArithmeticError, LookupError, TypeError, ValueError, AttributeError)


@dataclass(frozen=True)
class SiteBuild:
    """What :func:`build_site` did: the pages written (under the folder it was given) and the
    warnings about runs it left out in part or whole, each naming the run."""

    pages: list[Path]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RankedRun:
    """A run's place on a board: ``rank`` is None when it lacks the primary metric."""

    rank: int | None
    run: RunRecord


@dataclass(frozen=True)
class FoldGroup:
    """One row of a k-fold board: one seed of a (submission, team, run name, configuration), with
    at most one run per fold."""

    submission: str
    team: str
    run_name: str
    seed: int | None
    configuration: str  # configuration_key(config, across_folds=True) of its runs
    runs: dict[str, RunRecord]  # fold -> run, in the board's fold order
    summary: FoldSummary

    @property
    def key(self) -> str:
        seed = "" if self.seed is None else str(self.seed)
        return "\x1f".join((self.submission, self.team, self.run_name, seed, self.configuration))

    @property
    def created(self) -> str:
        return max(r.created for r in self.runs.values())


@dataclass(frozen=True)
class SeedSummary:
    """Mean and sample standard deviation (``ddof=1``) of each key over seeds.

    ``mean`` holds the keys every seed has; ``std`` the same keys when there are two seeds or more
    (one seed has no spread: never NaN); ``missing`` maps a key some seeds lack to those seeds.
    """

    seeds: tuple[int | None, ...]
    mean: dict[str, float]
    std: dict[str, float]
    missing: dict[str, tuple[int | None, ...]]

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)


@dataclass(frozen=True)
class SeedGroup:
    """One configuration of a submission on a board: its runs (one-fold board) or rows (k-fold
    board) that differ only in seed.

    ``members`` holds them all (seed ascending, newest first within a seed); ``per_seed`` the
    newest of each seed, which the summary is over.
    """

    submission: str
    team: str
    key: str
    config: dict[str, Any]  # the configuration, less the seed (and the per-fold keys)
    distinctions: dict[str, str]  # what else sets it apart: truth, thresholds, external data
    members: tuple[RunRecord | FoldGroup, ...]
    per_seed: dict[int | None, RunRecord | FoldGroup]
    summary: SeedSummary

    @property
    def seeded(self) -> bool:
        """True when its members have seeds (runs without one are each a group of their own)."""
        return None not in self.per_seed

    @property
    def multi_seed(self) -> bool:
        return self.seeded and len(self.per_seed) >= 2


@dataclass(frozen=True)
class RankedGroup:
    rank: int | None
    group: FoldGroup


def rank_runs(board: Board, runs: Iterable[RunRecord]) -> list[RankedRun]:
    """Runs ranked by the board's primary metric, best first, in its column's direction.

    Equal values share a rank (1, 2, 2, 4); among equals the earlier run comes first. Runs
    without the primary metric come last, unranked.
    """
    return [RankedRun(rank, run) for rank, run in _rank(
        board, runs, lambda r: r.scores.get(board.primary), lambda r: (r.created, r.run_id))]


def configuration_key(config: Mapping[str, Any], *, across_folds: bool = False) -> str:
    """The configuration a run was made with, less its seed: canonical JSON of ``config``.

    Left out: the seed and the evaluation batch size (:data:`NOT_CONFIGURATION`); with
    ``across_folds``, also the fold and its split fingerprints (:data:`PER_FOLD_CONFIG`), which
    differ between the folds of one k-fold run.
    """
    drop = NOT_CONFIGURATION | (PER_FOLD_CONFIG if across_folds else frozenset())
    return json.dumps({k: v for k, v in config.items() if k not in drop}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))


def group_fold_runs(board: Board, runs: Iterable[RunRecord]) -> list[FoldGroup]:
    """The runs of a k-fold board as (submission, team, run name, seed, configuration) groups,
    one run per fold.

    Runs of different seeds (or configurations) are never one group: a fold mean mixing seeds
    would hide which seed each fold had and drop the other seeds' runs. Runs of folds the board
    does not list are left out; where a group has several runs of one fold, the newest counts.
    Groups come sorted by submission, team, run name, seed (none first) and configuration.
    """
    from harness.metrics.folds import aggregate_folds

    order = {fold: i for i, fold in enumerate(board.folds)}
    newest: dict[tuple[str, str, str, int | None, str], dict[str, RunRecord]] = {}
    for run in sorted((r for r in runs if r.fold in order),
                      key=lambda r: (r.created, r.run_id), reverse=True):
        key = (run.submission, run.team, run.run_name, run.seed,
               configuration_key(run.config, across_folds=True))
        newest.setdefault(key, {}).setdefault(run.fold, run)
    groups = []
    for key in sorted(newest, key=lambda k: (k[0], k[1], k[2], _seed_order(k[3]), k[4])):
        by_fold = newest[key]
        folds = {f: by_fold[f] for f in board.folds if f in by_fold}
        summary = aggregate_folds({f: r.scores for f, r in folds.items()})
        groups.append(FoldGroup(*key, runs=folds, summary=summary))
    return groups


def summarise_seeds(per_seed: Mapping[int | None, Mapping[str, float]]) -> SeedSummary:
    """Mean and sample standard deviation (``ddof=1``) of each key over the seeds given, as
    :func:`harness.metrics.folds.aggregate_folds` computes them over folds.

    Keys some seeds lack are left out of ``mean`` and ``std`` and listed in ``missing``; with one
    seed, ``std`` is empty.
    """
    from harness.metrics.folds import aggregate_folds

    seeds = tuple(sorted(per_seed, key=_seed_order))
    summary = aggregate_folds({str(i): per_seed[seed] for i, seed in enumerate(seeds)})
    missing = {key: tuple(seeds[int(i)] for i in lacking) for key, lacking in summary.missing.items()}
    return SeedSummary(seeds, summary.mean, summary.std, missing)


def group_seeds(members: Iterable[RunRecord | FoldGroup]) -> list[SeedGroup]:
    """Runs (one-fold board) or rows (k-fold board) grouped by (team, submission, configuration).

    A group is what differs only in seed: same team, submission and configuration
    (:func:`configuration_key`), and also the same ground truth, threshold source and use of
    external data (a one-fold run), so that nothing else is averaged over. A member without a seed
    is a group of its own. Within a group the newest member of each seed counts. Groups come in
    order of first appearance.
    """
    found: dict[tuple[str, ...], list[RunRecord | FoldGroup]] = {}
    described: dict[tuple[str, ...], tuple[dict[str, Any], dict[str, str]]] = {}
    for member in members:
        runs = list(member.runs.values()) if isinstance(member, FoldGroup) else [member]
        if isinstance(member, FoldGroup):
            config = json.loads(member.configuration)
        else:
            config = json.loads(configuration_key(member.config))
        distinctions = {
            "truth": ", ".join(sorted({r.fingerprint for r in runs}))
                     if not isinstance(member, FoldGroup) else "",
            "thresholds from": ", ".join(sorted({r.thresholds_source for r in runs})),
            "external data": "yes" if any(r.external_data for r in runs) else "no",
        }
        if member.seed is None:  # not one of several seeds: on its own
            key = ("single", member.team, member.submission, _member_id(member))
        else:
            key = ("seeds", member.team, member.submission,
                   json.dumps(config, sort_keys=True, ensure_ascii=False),
                   json.dumps(distinctions, sort_keys=True, ensure_ascii=False))
        found.setdefault(key, []).append(member)
        described.setdefault(key, (config, distinctions))
    groups = []
    for key, listed in found.items():
        listed.sort(key=lambda m: (m.created, _member_id(m)), reverse=True)  # newest first,
        listed.sort(key=lambda m: _seed_order(m.seed))  # then (a stable sort) seed ascending
        per_seed: dict[int | None, RunRecord | FoldGroup] = {}
        for member in listed:
            per_seed.setdefault(member.seed, member)
        summary = summarise_seeds({seed: _member_scores(m) for seed, m in per_seed.items()})
        config, distinctions = described[key]
        groups.append(SeedGroup(listed[0].submission, listed[0].team, "\x1f".join(key), config,
                                distinctions, tuple(listed), per_seed, summary))
    return groups


def rank_seed_groups(board: Board, groups: Iterable[SeedGroup]
                     ) -> list[tuple[int | None, SeedGroup]]:
    """(rank, group) by the mean over seeds of the primary metric, best first; equal means share
    a rank; groups without the primary metric come last, unranked."""
    return _rank(board, groups, lambda g: g.summary.mean.get(board.primary), lambda g: g.key)


def _rank(board: Board, items: Iterable[Any], value: Any, order: Any) -> list[tuple[int | None, Any]]:
    """(rank, item) by ``value(item)`` in the primary column's direction, then by ``order(item)``.

    Equal values share a rank (1, 2, 2, 4); items whose value is None come last, unranked, by
    ``order``.
    """
    sign = -1.0 if board.primary_column.higher_is_better else 1.0
    items = list(items)
    scored = sorted((i for i in items if value(i) is not None), key=lambda i: (sign * value(i), order(i)))
    ranked: list[tuple[int | None, Any]] = []
    rank = 0
    for position, item in enumerate(scored):
        if position == 0 or value(item) != value(scored[position - 1]):
            rank = position + 1
        ranked.append((rank, item))
    return ranked + [(None, i) for i in sorted((i for i in items if value(i) is None), key=order)]


def _seed_order(seed: int | None) -> tuple[int, int]:
    return (0, 0) if seed is None else (1, seed)


def _member_id(member: RunRecord | FoldGroup) -> str:
    return member.key if isinstance(member, FoldGroup) else member.run_id


def _member_scores(member: RunRecord | FoldGroup) -> dict[str, float]:
    return dict(member.summary.mean) if isinstance(member, FoldGroup) else dict(member.scores)


def seed_anchor(group: SeedGroup) -> str:
    """The id of a seed group's row in a board's "Over seeds" table."""
    return f"seeds-{_short_hash(group.key)}"


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def _section_ids(group: SeedGroup) -> list[str]:
    """Ids of the members' sections on a k-fold group page: ``seed-3``, ``seed-3-2`` for a
    second row of seed 3, ``run`` for a row without a seed."""
    ids, seen = [], {}
    for member in group.members:
        base = "run" if member.seed is None else f"seed-{member.seed}"
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


def rank_groups(board: Board, groups: Iterable[FoldGroup]) -> list[RankedGroup]:
    """Groups ranked by the mean of the primary metric over their folds, best first."""
    return [RankedGroup(rank, group) for rank, group in _rank(
        board, groups, lambda g: g.summary.mean.get(board.primary), lambda g: g.key)]


def run_page_name(run_id: str) -> str:
    """A file name for the run's page, safe on any file system and unique per run id.

    Ids made only of lower-case letters, digits, '.', '_' and '-' are kept as they are; any
    other id is slugged and given a short hash of the id, so distinct ids never collide.
    """
    slug = re.sub(r"[^a-z0-9._-]+", "-", run_id.lower()).strip(".-_")[:MAX_SLUG] or "run"
    if slug != run_id:
        slug = f"{slug}-{_short_hash(run_id)}"
    return f"{slug}.html"


def group_page_names(board: Board, groups: Iterable[SeedGroup]) -> dict[str, str]:
    """File names (under ``groups/``) of a k-fold board's pages, one per seed group, by its key.

    A page of one row is named after the row's submission, team and run name, a page of several
    seeds after ``seeds``; a name two pages would share gets the group's key hashed into it.
    """
    groups = list(groups)
    bases = {g.key: f"{board.name}/{g.submission}/{g.team}/"
                    + (g.members[0].run_name if len(g.members) == 1 else "seeds")
             for g in groups}
    counts: dict[str, int] = {}
    for base in bases.values():
        counts[base] = counts.get(base, 0) + 1
    return {key: run_page_name(base if counts[base] == 1 else f"{base}/{_short_hash(key)}")
            for key, base in bases.items()}


def build_site(store: ResultsStore, boards: list[Board], out_dir: Path) -> SiteBuild:
    """Render ``index.html``, one page per board, per run shown and per k-fold configuration.

    Only runs that appear on a board get a page. The pages are written into a new folder beside
    ``out_dir`` that then replaces it whole (:func:`harness.leaderboard.site_folder.building`), so
    pages of runs no longer shown do not linger, and an interrupted build changes nothing.
    ``out_dir`` must be new, empty or a site a build made (else :class:`BadInputError`).
    """
    checked = CheckedStore(store)
    with site_folder.building(out_dir) as folder:
        written = _render_site(checked, boards, folder)
    return SiteBuild([Path(out_dir) / path.relative_to(folder) for path in written], list(checked.warnings))


def _render_site(store: CheckedStore, boards: list[Board], out_dir: Path) -> list[Path]:
    """Write every page into ``out_dir``; returns the paths written."""
    env = _environment()
    site = {"version": __version__}
    written: list[Path] = []

    board_views, runs_by_id, boards_of_run, groups_of_run = [], {}, {}, {}
    seeds_of_run: dict[str, list[dict[str, Any]]] = {}
    group_pages = []
    for board in boards:
        if board.is_k_fold:
            ranked_groups = rank_groups(
                board, group_fold_runs(board, store.list_runs(board.dataset, None, board.split)))
            # the runs the board shows: one per fold and row (a superseded rerun gets no page)
            runs = [run for entry in ranked_groups for run in entry.group.runs.values()]
            seed_groups = group_seeds(e.group for e in ranked_groups)
            names = group_page_names(board, seed_groups)
            pages = {g.key: f"{GROUPS_DIR}/{names[g.key]}" for g in seed_groups}
            links = {}  # row key -> its page, and its section there when the page has several
            for group in seed_groups:
                for member, section in zip(group.members, _section_ids(group)):
                    links[member.key] = pages[group.key] + (
                        f"#{section}" if len(group.members) > 1 else "")
            view = _fold_board_view(board, ranked_groups, seed_groups, links, pages)
            ranks = {e.group.key: e.rank for e in ranked_groups}
            for group in seed_groups:
                group_pages.append((pages[group.key], _group_view(board, group, ranks)))
                for member in group.members:
                    for run in member.runs.values():
                        groups_of_run.setdefault(run.run_id, []).append(
                            {"href": links[member.key], "board": board.title,
                             "seed": member.seed})
        else:
            ranked = rank_runs(board, store.list_runs(board.dataset, board.fold, board.split))
            runs = [e.run for e in ranked]
            bands = _rank_bands(store, board, [e.run for e in ranked if e.rank is not None])
            seed_groups = group_seeds(runs)
            view = _board_view(board, ranked, bands, seed_groups)
            for group in seed_groups:
                if group.multi_seed:
                    for run in group.members:
                        seeds_of_run.setdefault(run.run_id, []).append(
                            {"href": f"{board.page_name}#{seed_anchor(group)}",
                             "board": board.title, "n": len(group.per_seed)})
        board_views.append(view)
        for run in runs:
            runs_by_id[run.run_id] = run
            boards_of_run.setdefault(run.run_id, []).append(board)

    def write(relative: str, template: str, **context: Any) -> None:
        path = out_dir / relative
        html = env.get_template(template).render(site=site, **context)
        atomic.write_text(path, html)
        written.append(path)

    write("index.html", "index.html", boards=board_views, root="",
          total_runs=len(runs_by_id))
    for view in board_views:
        write(view["page"], "board.html", board=view, root="")
    for run_id in sorted(runs_by_id):
        run = runs_by_id[run_id]
        write(f"{RUNS_DIR}/{run_page_name(run_id)}", "run.html", root="../",
              run=_run_view(store, run, boards_of_run[run_id], groups_of_run.get(run_id, []),
                            seeds_of_run.get(run_id, [])))
    for page, view in group_pages:
        write(page, "group.html", root="../", group=view)
    return written


# -- view models: every value formatted, every string still raw (jinja2 escapes it) ----------


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _rank_bands(store: CheckedStore, board: Board, runs: list[RunRecord]) -> dict[str, int]:
    """run id -> tie band, from :mod:`harness.leaderboard.ties` when it is installed.

    The checked store gives the tests only usable predictions; should a test fail all the same,
    the board is shown without bands (each run its own rank), with a warning, rather than not at all.
    """
    if len(runs) < 2:
        return {}
    try:
        from harness.leaderboard.ties import rank_bands
    except ImportError:
        return {}
    try:
        return dict(rank_bands(store, board, runs))
    except (HarnessError, ArithmeticError, ValueError) as exc:
        message = exc.message if isinstance(exc, HarnessError) else str(exc)
        store.warn(f"board {board.name!r} shows no tie bands: a paired test failed ({message})")
        return {}


def _dataset_info(name: str) -> dict[str, str] | None:
    """Title, citation, licence and homepage of a registry dataset; None when it is unknown."""
    try:
        from harness.datasets import load_spec

        spec = load_spec(name)
    except (ImportError, HarnessError):
        return None
    return {"title": spec.title, "citation": spec.citation, "licence": spec.licence,
            "homepage": spec.homepage}


def _board_common(board: Board, rows: list[dict[str, Any]],
                  over_seeds: dict[str, Any] | None) -> dict[str, Any]:
    _add_seed_badges(rows)
    primary = board.primary_column
    leader = next((row for row in rows if row["rank"] is not None), None)  # not a reference row
    return {
        "board": board,
        "page": board.page_name,
        "k_fold": board.is_k_fold,
        "dataset": _dataset_info(board.dataset),
        "columns": [{"column": c, "primary": c.key == board.primary} for c in board.columns],
        "rows": rows,
        "leader": leader,
        "leader_value": leader["primary_text"] if leader else "",
        "primary": primary,
        "make_run": _make_run_command(board),
        "has_intervals": not board.is_k_fold and any(c["note"] for r in rows for c in r["cells"]),
        "has_bands": any(r["band_class"] for r in rows),
        "has_seeds": any(r["seed_value"] for r in rows),
        "over_seeds": over_seeds,
        "seeds_anchor": SEEDS_ANCHOR,
    }


def _board_view(board: Board, ranked: list[RankedRun], bands: Mapping[str, int],
                seed_groups: list[SeedGroup]) -> dict[str, Any]:
    group_of = {run.run_id: g for g in seed_groups for run in g.members}
    rows = []
    band_rank: dict[int, int] = {}  # band -> the rank shown for it (its first run's rank)
    for position, entry in enumerate(ranked):
        run = entry.run
        band = bands.get(run.run_id) if entry.rank is not None else None
        rank = entry.rank
        shared = False
        if band is not None:
            if band in band_rank:
                rank, shared = band_rank[band], True
            else:
                band_rank[band] = rank
        rows.append(_member_row(
            board, run, group_of[run.run_id], rank, position, band=band, shared=shared,
            href=f"{RUNS_DIR}/{run_page_name(run.run_id)}", badges=_badges(run),
            cells=[_cell(column, run.scores.get(column.key), column.key == board.primary,
                         _interval(run, column.key)) for column in board.columns],
            fingerprint=run.fingerprint))
    _mark_bands(rows)
    rows = _with_references(board, rows)
    over_seeds = _over_seeds_view(
        board, seed_groups, lambda run: f"{RUNS_DIR}/{run_page_name(run.run_id)}", {})
    view = _board_common(board, rows, over_seeds)
    fingerprints = sorted({entry.run.fingerprint for entry in ranked})
    view.update(fingerprints=fingerprints, tie_legend=TIE_LEGEND)
    return view


def _fold_board_view(board: Board, ranked: list[RankedGroup], seed_groups: list[SeedGroup],
                     links: Mapping[str, str], pages: Mapping[str, str]) -> dict[str, Any]:
    group_of = {member.key: g for g in seed_groups for member in g.members}
    rows = []
    n_folds = len(board.folds)
    for position, entry in enumerate(ranked):
        group, summary = entry.group, entry.group.summary
        badges = _merged_badges(list(group.runs.values()))
        if len(group.runs) < n_folds:
            missing = [f for f in board.folds if f not in group.runs]
            badges.insert(0, {"kind": "warn", "text": f"{len(group.runs)} of {n_folds} folds",
                              "title": "Incomplete: no run for " + ", ".join(missing)
                                       + "; the mean is over the folds present."})
        rows.append(_member_row(
            board, group, group_of[group.key], entry.rank, position, href=links[group.key],
            badges=badges, cells=[_fold_cell(column, summary, column.key == board.primary)
                                  for column in board.columns]))
    _mark_bands(rows)
    rows = _with_references(board, rows)
    over_seeds = _over_seeds_view(board, seed_groups, lambda member: links[member.key], pages)
    view = _board_common(board, rows, over_seeds)
    view.update(fingerprints=[], tie_legend="")
    return view


def _member_row(board: Board, member: RunRecord | FoldGroup, seed_group: SeedGroup,
                rank: int | None, position: int, *, href: str, badges: list[dict[str, str]],
                cells: list[dict[str, Any]], band: int | None = None, shared: bool = False,
                fingerprint: str = "") -> dict[str, Any]:
    """A main-table row: a run (one-fold board) or one seed's fold means (k-fold board) at
    ``position`` (from 0) in the ranking."""
    seed = "" if member.seed is None else str(member.seed)
    primary = next(cell for cell in cells if cell["primary"])
    return {
        "rank": rank, "position": position + 1, "band": band, "shared": shared,
        "seed_group": _seed_badge_info(seed_group), "href": href,
        "submission": member.submission, "team": member.team, "run_name": member.run_name,
        "seed": seed or "—", "seed_value": seed, "badges": badges, "cells": cells,
        "primary_text": primary["text"], "date": member.created[:10], "created": member.created,
        "fingerprint": fingerprint,
    }


def _with_references(board: Board, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert the board's published reference rows where their primary value sorts; ranks stay the runs'."""
    primary = board.primary_column
    sign = -1.0 if primary.higher_is_better else 1.0
    merged = [{**row, "reference": False} for row in rows]
    for reference in board.references:
        value = reference.scores.get(board.primary)
        row = {
            "rank": None, "position": 0, "band": None, "shared": False, "reference": True,
            "seed_group": None, "href": "",
            "submission": reference.name, "team": "", "run_name": reference.citation,
            "seed": "—", "seed_value": "", "band_class": "",
            "badges": [{"kind": "info", "text": "published", "title": "A published figure: no predictions in the store"
                        + (f"; {reference.note}" if reference.note else "")}],
            "cells": [{**_cell(column, reference.scores.get(column.key), column.key == board.primary),
                       "title": "published figure"} for column in board.columns],
            "primary_text": primary.format(value), "date": "", "created": "", "fingerprint": "",
        }
        at = len(merged)
        if value is not None:
            for i, other in enumerate(merged):
                other_value = next((c["raw"] for c in other["cells"] if c.get("primary")), None)
                if other_value is not None and sign * value < sign * other_value:
                    at = i
                    break
        merged.insert(at, row)
    for position, row in enumerate(merged, start=1):
        row["position"] = position
    return merged


def _mark_bands(rows: list[dict[str, Any]]) -> None:
    """CSS classes for rows in a tie band of two or more: first, middle, last; bands alternate."""
    sizes: dict[int, int] = {}
    for row in rows:
        if row["band"] is not None:
            sizes[row["band"]] = sizes.get(row["band"], 0) + 1
    shown = 0
    for i, row in enumerate(rows):
        band = row["band"]
        if band is None or sizes[band] < 2:
            row["band_class"] = ""
            continue
        first = i == 0 or rows[i - 1]["band"] != band
        last = i == len(rows) - 1 or rows[i + 1]["band"] != band
        if first:
            shown += 1
        classes = ["band", "band-a" if shown % 2 else "band-b"]
        classes += ["band-first"] if first else []
        classes += ["band-last"] if last else []
        row["band_class"] = " ".join(classes)


def _seed_badge_info(group: SeedGroup) -> dict[str, Any] | None:
    """What the "N seeds" badge of a group's rows says; None when it has fewer than two seeds."""
    if not group.multi_seed:
        return None
    return {"n": len(group.per_seed), "anchor": seed_anchor(group),
            "seeds": ", ".join(str(s) for s in group.per_seed)}


def _add_seed_badges(rows: list[dict[str, Any]]) -> None:
    """"N seeds" on every row of a configuration that has runs of N ≥ 2 seeds here, linking to
    its row of the "Over seeds" table."""
    for row in rows:
        info = row.get("seed_group")
        if info:
            row["badges"].append({
                "kind": "seed", "text": f"{info['n']} seeds", "href": f"#{info['anchor']}",
                "title": f"{row['submission']} has runs of {info['n']} seeds of this "
                         f"configuration on this board ({info['seeds']}): mean ± std over them "
                         "in the Over seeds table"})


def _cell(column: Column, value: float | None, primary: bool,
          interval: dict[str, float] | None = None) -> dict[str, Any]:
    note, note_title = "", ""
    if interval is not None and value is not None:
        note = f"{column.format(interval['low'])}–{column.format(interval['high'])}"
        confidence = interval.get("confidence", 0.95)
        note_title = f"{round(100 * confidence)}% bootstrap interval"
        if interval.get("replicates"):
            note_title += f" ({int(interval['replicates'])} replicates)"
    return {"text": column.format(value), "value": "" if value is None else repr(value), "raw": value,
            "primary": primary, "missing": value is None, "note": note,
            "note_title": note_title, "title": "" if value is None else repr(value)}


def _fold_cell(column: Column, summary: FoldSummary, primary: bool) -> dict[str, Any]:
    mean = summary.mean.get(column.key)
    cell = _cell(column, mean, primary)
    if mean is not None and column.key in summary.std:
        cell["note"] = f"± {column.format(summary.std[column.key])}"
        cell["note_title"] = f"sample standard deviation over {summary.n_folds} folds"
    elif column.key in summary.missing:
        cell["title"] = (f"missing in {len(summary.missing[column.key])} of "
                         f"{summary.n_folds} folds")
    return cell


def _seed_cell(column: Column, summary: SeedSummary, primary: bool, k_fold: bool
               ) -> dict[str, Any]:
    """``mean ± std`` over seeds; the mean alone for one seed; a dash where a seed lacks it."""
    mean = summary.mean.get(column.key)
    cell = _cell(column, mean, primary)
    of = " of the means over folds" if k_fold else ""
    if mean is not None and column.key in summary.std:
        std = summary.std[column.key]
        cell["text"] = f"{column.format(mean)} ± {column.format(std)}"
        cell["title"] = (f"mean{of} ± sample standard deviation (ddof = 1) over "
                         f"{summary.n_seeds} seeds: {mean!r} ± {std!r}")
    elif mean is not None:
        cell["title"] = f"one {'seed' if summary.seeds[0] is not None else 'run'}" \
                        f": no standard deviation ({mean!r})"
    elif column.key in summary.missing:
        lacking = summary.missing[column.key]
        cell["title"] = (f"missing for {len(lacking)} of {summary.n_seeds} seeds ("
                         + ", ".join("—" if s is None else str(s) for s in lacking) + ")")
    return cell


def _over_seeds_view(board: Board, groups: list[SeedGroup],
                     member_href: Any, pages: Mapping[str, str]) -> dict[str, Any] | None:
    """The "Over seeds" table: every configuration once, ranked by its mean over seeds.

    None when no configuration on the board has two seeds or more.
    """
    if not any(g.multi_seed for g in groups):
        return None
    labels = _configuration_labels(groups)
    rows = []
    for position, (rank, group) in enumerate(rank_seed_groups(board, groups), start=1):
        counted = list(group.per_seed.values())
        runs = [r for m in counted for r in (m.runs.values() if isinstance(m, FoldGroup) else [m])]
        badges = _merged_badges(runs)
        if board.is_k_fold:
            fold_sets = {tuple(m.runs) for m in counted}
            n_folds = len(board.folds)
            if len(fold_sets) > 1:
                badges.insert(0, {"kind": "warn", "text": "folds differ", "title":
                                  "The seeds were run on different folds ("
                                  + "; ".join(f"seed {m.seed}: {len(m.runs)} of {n_folds}"
                                              for m in counted)
                                  + "): each seed's mean is over its own folds."})
            elif len(next(iter(fold_sets))) < n_folds:
                badges.insert(0, {"kind": "warn",
                                  "text": f"{len(next(iter(fold_sets)))} of {n_folds} folds",
                                  "title": "Incomplete: the means are over the folds present."})
        label, label_title = labels[group.key]
        rows.append({
            "rank": rank, "position": position, "anchor": seed_anchor(group),
            "submission": group.submission, "team": group.team,
            "href": pages.get(group.key, ""), "label": label, "label_title": label_title,
            "seeds": [{"text": "—" if seed is None else str(seed), "href": member_href(member)}
                      for seed, member in group.per_seed.items()],
            "seeds_value": ",".join("" if s is None else str(s) for s in group.per_seed),
            "n": group.summary.n_seeds, "badges": badges,
            "cells": [_seed_cell(c, group.summary, c.key == board.primary, board.is_k_fold)
                      for c in board.columns],
        })
    return {"rows": rows, "has_labels": any(r["label"] for r in rows),
            "n_multi": sum(g.multi_seed for g in groups)}


def _configuration_labels(groups: list[SeedGroup]) -> dict[str, tuple[str, str]]:
    """(label, tooltip) per group: what tells it from the same submission's other configurations.

    A run without a seed is labelled with its run name; a seeded configuration with the run name
    its runs share, else with the config values (and the truth, threshold source or external
    data) that differ from the submission's other configurations, else nothing.
    """
    seeded: dict[tuple[str, str], list[SeedGroup]] = {}
    for group in groups:
        if group.seeded:
            seeded.setdefault((group.team, group.submission), []).append(group)
    labels: dict[str, tuple[str, str]] = {}
    for group in groups:
        title = json.dumps(group.config, sort_keys=True, ensure_ascii=False) if group.config else ""
        names = {m.run_name for m in group.members}
        if not group.seeded or len(names) == 1:
            labels[group.key] = (sorted(names)[0], title)
            continue
        siblings = seeded[(group.team, group.submission)]
        if len(siblings) < 2:
            labels[group.key] = ("", title)
            continue
        parts = []
        for key in sorted({k for g in siblings for k in g.config}):
            if len({json.dumps(g.config.get(key), sort_keys=True) for g in siblings}) > 1:
                parts.append(f"{key} = {_plain(group.config.get(key))}")
        for name, value in group.distinctions.items():
            if len({g.distinctions.get(name) for g in siblings}) > 1:
                parts.append(f"{name} {value[:8] if name == 'truth' else value}")
        labels[group.key] = (", ".join(parts) or f"configuration {_short_hash(group.key)[:8]}",
                             title)
    return labels


def _interval(run: RunRecord, key: str) -> dict[str, float] | None:
    """The recorded interval of ``key``: its finite numbers (low and high at least), else None."""
    intervals = run.provenance.get("intervals")
    if not isinstance(intervals, Mapping):
        return None
    found = intervals.get(key)
    if not isinstance(found, Mapping):
        return None
    numbers = {k: v for k, v in found.items() if _is_finite_number(v)}
    if "low" not in numbers or "high" not in numbers:
        return None
    if not 0 < numbers.get("confidence", 0.95) < 1:  # a share, shown as a percentage
        del numbers["confidence"]
    return numbers


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _flags(run: RunRecord) -> list[str]:
    """The run's fold warnings (provenance ``flags``), as a list of texts whatever was recorded."""
    flags = run.provenance.get("flags")
    if flags is None or isinstance(flags, bool) or (isinstance(flags, (str, list, tuple, Mapping)) and not flags):
        return []  # none recorded: nothing, a yes/no, an empty list or text
    if isinstance(flags, (list, tuple)):
        return [str(flag) for flag in flags]
    return [str(flags)]  # one flag recorded bare (a string, a number): shown as it is


def _badges(run: RunRecord) -> list[dict[str, str]]:
    badges = []
    if run.thresholds_source == "test":
        badges.append({"kind": "warn", "text": BADGE_TEST_THRESHOLDS,
                       "title": "Legacy: decision thresholds were fitted on the test labels, "
                                "which flatters the F-scores; not comparable with "
                                "validation-fitted thresholds."})
    if run.external_data:
        badges.append({"kind": "info", "text": BADGE_EXTERNAL_DATA,
                       "title": "Trained with data beyond this dataset's training split."})
    for flag in _flags(run):  # fold warnings, e.g. a leaky fold set
        badges.append({"kind": "warn", "text": str(flag).split(":", 1)[0], "title": str(flag)})
    return badges


def _merged_badges(runs: list[RunRecord]) -> list[dict[str, str]]:
    """The badges of any of the runs, each once."""
    seen, badges = set(), []
    for run in runs:
        for badge in _badges(run):
            if badge["text"] not in seen:
                seen.add(badge["text"])
                badges.append(badge)
    return badges


def _make_run_command(board: Board) -> str:
    fold = "all" if board.is_k_fold else board.fold
    return f"harness run submissions/vgg6 --dataset {board.dataset} --fold {fold}"


def _group_view(board: Board, group: SeedGroup, ranks: Mapping[str, int | None]
                ) -> dict[str, Any]:
    """A k-fold configuration's page: per seed, its per-fold scores with mean ± std over folds;
    with several seeds, first a table of the seeds' means and their mean ± std over seeds."""
    columns = [{"column": c, "primary": c.key == board.primary} for c in board.columns]
    sections = []
    for member, section in zip(group.members, _section_ids(group)):
        summary = member.summary
        folds = []
        for fold in board.folds:
            run = member.runs.get(fold)
            folds.append({
                "fold": fold,
                "href": f"{run_page_name(run.run_id)}" if run else "",
                "cells": [_cell(c, run.scores.get(c.key) if run else None, c.key == board.primary)
                          for c in board.columns],
            })
        counted = group.per_seed.get(member.seed) is member
        sections.append({
            "id": section, "seed": "—" if member.seed is None else str(member.seed),
            "run_name": member.run_name, "rank": ranks.get(member.key), "counted": counted,
            "folds": folds, "n_present": len(member.runs), "n_folds": len(board.folds),
            "fold_cells": [_fold_cell(c, summary, c.key == board.primary) for c in board.columns],
            "mean": [_cell(c, summary.mean.get(c.key), c.key == board.primary)
                     for c in board.columns],
            "std": [_cell(c, summary.std.get(c.key), c.key == board.primary)
                    for c in board.columns],
            "warnings": list(summary.warnings),
        })
    runs = [r for m in group.members for r in m.runs.values()]
    first = group.members[0]
    return {
        "board": board, "submission": group.submission, "team": group.team,
        "run_name": first.run_name if len(group.members) == 1 else "",
        "rank": ranks.get(first.key) if len(group.members) == 1 else None,
        "badges": _merged_badges(runs),
        "columns": columns, "sections": sections,
        "n_present": len(first.runs), "n_folds": len(board.folds),
        "seeds": ", ".join(str(s) for s in group.per_seed),
        "n_seeds": len(group.per_seed),
        "over_seeds": [_seed_cell(c, group.summary, c.key == board.primary, True)
                       for c in board.columns] if group.multi_seed else [],
        "config": json.dumps(group.config, indent=2, sort_keys=True, ensure_ascii=False)
                  if group.config else "",
    }


def _run_view(store: CheckedStore, run: RunRecord, boards: list[Board],
              groups: list[dict[str, Any]], seed_groups: list[dict[str, Any]]) -> dict[str, Any]:
    identity = [
        ("Run id", run.run_id, True),
        ("Submission", run.submission, False),
        ("Team", run.team, False),
        ("Run name", run.run_name, False),
        ("Dataset", run.dataset, False),
        ("Fold / split", f"{run.fold} / {run.split}", False),
        ("Seed", "—" if run.seed is None else str(run.seed), False),
        ("Created", run.created, False),
        ("Thresholds from", run.thresholds_source
         + (" (legacy: fitted on the test labels)" if run.thresholds_source == "test" else ""),
         False),
        ("External data", "yes" if run.external_data else "no", False),
    ]
    identity += [("Flag", flag, False) for flag in _flags(run)]
    if run.run_dir:
        identity.append(("Run directory", run.run_dir, True))

    tag_metrics: list[str] = [m for m in TAG_METRIC_ORDER
                              if any(m in ms for ms in run.tag_scores.values())]
    for metrics in run.tag_scores.values():
        tag_metrics += [m for m in metrics if m not in tag_metrics]
    tag_rows = [{
        "tag": tag,
        "short": short_tag(tag),
        "cells": [_plain_cell(metrics.get(m)) for m in tag_metrics],
    } for tag, metrics in run.tag_scores.items()]

    scores = []
    for metric, value in run.scores.items():
        interval = _interval(run, metric)
        scores.append({"metric": metric, **_plain_cell(value),
                       "interval": (f"{interval['low']:.{SCORE_DECIMALS}f}–"
                                    f"{interval['high']:.{SCORE_DECIMALS}f}") if interval else ""})
    return {
        "record": run,
        "badges": _badges(run),
        "boards": [{"title": b.title, "href": b.page_name} for b in boards],
        "groups": groups,
        "seed_groups": seed_groups,
        "scores": scores,
        "has_intervals": any(s["interval"] for s in scores),
        "identity": identity,
        "provenance": _drawn(store, run, "provenance table", _provenance_rows, []),
        "config": json.dumps(run.config, indent=2, sort_keys=True, ensure_ascii=False),
        "tag_metrics": tag_metrics,
        "tag_rows": tag_rows,
        "bars": _drawn(store, run, "per-tag chart", _bar_chart, None),
        "curve": _drawn(store, run, "precision-recall curve", lambda r: _pr_curve_chart(store, r), None),
    }


def _drawn(store: CheckedStore, run: RunRecord, part: str, draw: Any, default: Any) -> Any:
    """``draw(run)``, or ``default`` with a warning naming the run when its recorded values defeat it."""
    try:
        return draw(run)
    except _DRAWING_ERRORS as exc:
        message = exc.message if isinstance(exc, HarnessError) else f"{type(exc).__name__}: {exc}"
        store.warn(f"run {run.run_id!r}: its page has no {part} ({message})")
        return default


def short_tag(tag: str) -> str:
    """``happy`` for ``mood/theme---happy``; other names as they are."""
    return tag.rsplit("---", 1)[-1] or tag


# -- provenance, readably ---------------------------------------------------------------------

_PROVENANCE_SHOWN_ELSEWHERE = frozenset({"intervals", "flags"})
_PROVENANCE_LABELS = {
    "scored_at": "Scored at", "predictions": "Predictions file",
    "predictions_sha256": "Predictions SHA-256", "decisions_from": "Decisions from",
    "best_epoch": "Best epoch", "epochs_run": "Epochs run", "precision": "Precision",
    "platform": "Platform", "bootstrap": "Bootstrap",
}
_MONO_KEYS = frozenset({"predictions", "predictions_sha256", "decisions_from", "platform"})


def _provenance_rows(run: RunRecord) -> list[dict[str, Any]]:
    """(label, value) rows: code version, config, data, libraries, device, duration, rest."""
    p = dict(run.provenance)
    rows: list[dict[str, Any]] = []

    def add(label: str, value: str, mono: bool = False, items: list | None = None,
            warn: bool = False) -> None:
        rows.append({"label": label, "value": value, "mono": mono, "pairs": items or [],
                     "warn": warn})

    if "git_commit" in p or "git_dirty" in p:
        commit, dirty = p.pop("git_commit", None), p.pop("git_dirty", None)
        state = {True: "dirty: uncommitted changes", False: "clean"}.get(dirty, "state unknown")
        add("Git commit", f"{commit or 'unknown'} ({state})", mono=True, warn=dirty is True)
    if "config_hash" in p:
        add("Config hash", _plain(p.pop("config_hash")), mono=True)
    elif run.config:
        from harness.provenance import config_hash

        add("Config hash", config_hash(run.config), mono=True)
    add("Split fingerprint", run.fingerprint, mono=True)
    if run.seed is not None:
        add("Seed", str(run.seed))
    for key in ("libraries", "versions"):
        libraries = p.pop(key, None)
        if isinstance(libraries, Mapping):
            add("Library versions", "", items=[(str(k), _plain(v))
                                               for k, v in libraries.items()])
        elif libraries is not None:
            add("Library versions", _plain(libraries))
    if "device" in p:
        add("Device", _plain(p.pop("device")))
    if "duration_s" in p:
        add("Duration", _duration(p.pop("duration_s")))
    for key in sorted(p):
        if key in _PROVENANCE_SHOWN_ELSEWHERE:
            continue
        value = p[key]
        label = _PROVENANCE_LABELS.get(key, key.replace("_", " ").capitalize())
        if isinstance(value, Mapping) and all(not isinstance(v, (dict, list))
                                              for v in value.values()):
            add(label, "", items=[(str(k), _plain(v)) for k, v in value.items()])
        else:
            add(label, _plain(value), mono=key in _MONO_KEYS)
    return rows


def _duration(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return _plain(value)
    seconds = float(value)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


# -- charts: geometry here, drawing in the templates ------------------------------------------


def _bar_chart(run: RunRecord) -> dict[str, Any] | None:
    """Per-tag PR-AUC as horizontal bars, best first, on a 0..1 axis."""
    values = [(tag, m[CHART_METRIC]) for tag, m in run.tag_scores.items() if CHART_METRIC in m]
    if not values:
        return None
    values.sort(key=lambda tv: (-tv[1], tv[0]))
    label_w, plot_w, right, top, bar_h, gap, bottom = 150, 440, 56, 26, 13, 4, 46
    # The axis ends at the first tenth above the best tag (PR-AUC of mood tags is often < 0.5).
    axis_max = min(1.0, max(0.1, math.ceil(round(values[0][1] * 10, 6)) / 10))
    step = 0.1 if axis_max <= 0.6 else 0.2
    n_ticks = round(axis_max / step)
    axis_max = n_ticks * step
    height = top + len(values) * (bar_h + gap) + bottom
    bars = []
    for i, (tag, value) in enumerate(values):
        short = short_tag(tag)
        if len(short) > CHART_LABEL_CHARS:
            short = short[:CHART_LABEL_CHARS - 1] + "…"
        y = top + i * (bar_h + gap)
        width = round(min(max(value, 0.0), axis_max) / axis_max * plot_w, 2)
        bars.append({"tag": tag, "label": short, "value": f"{value:.{SCORE_DECIMALS}f}",
                     "x": label_w, "y": y, "w": width, "h": bar_h,
                     "text_y": y + bar_h - 2.5, "value_x": label_w + width + 4})
    axis_y = top + len(values) * (bar_h + gap) + 2
    ticks = [{"x": round(label_w + t * plot_w / n_ticks, 2), "label": f"{t * step:.1f}"}
             for t in range(n_ticks + 1)]
    mean = run.scores.get(f"{CHART_METRIC}-macro")
    mean_line = None
    if mean is not None and 0 <= mean <= axis_max:
        mean_line = {"x": round(label_w + mean / axis_max * plot_w, 2),
                     "label": f"macro mean {mean:.{SCORE_DECIMALS}f}"}
    return {"width": label_w + plot_w + right, "height": height, "bars": bars, "ticks": ticks,
            "left": label_w, "plot_w": plot_w, "top": top, "axis_y": axis_y,
            "axis_label_x": label_w + plot_w / 2, "axis_label_y": axis_y + 34,
            "mean": mean_line, "metric": CHART_METRIC, "n": len(bars),
            "id": "bars-" + _short_hash(run.run_id)[:8]}


def _pr_curve_chart(store: CheckedStore, run: RunRecord) -> dict[str, Any] | None:
    """The micro-averaged precision-recall curve, from :mod:`harness.leaderboard.curves`."""
    try:
        from harness.leaderboard.curves import pr_curve
    except ImportError:
        return None
    points = pr_curve(store, run)
    if not points:
        return None
    left, top, size, bottom, right = 56, 16, 300, 48, 20
    xy = []
    for recall, precision in points:
        if not (math.isfinite(recall) and math.isfinite(precision)):
            continue
        x = left + min(max(recall, 0.0), 1.0) * size
        y = top + (1.0 - min(max(precision, 0.0), 1.0)) * size
        xy.append(f"{x:.1f},{y:.1f}")
    if not xy:
        return None
    ticks = [{"value": f"{t / 5:.1f}", "x": left + t * size / 5, "y": top + size - t * size / 5}
             for t in range(6)]
    auc = run.scores.get("PR-AUC-micro")
    return {"width": left + size + right, "height": top + size + bottom, "left": left,
            "top": top, "size": size, "right_x": left + size, "bottom_y": top + size,
            "points": " ".join(xy), "ticks": ticks, "n": len(xy),
            "auc": "" if auc is None else f"{auc:.{SCORE_DECIMALS}f}",
            "id": "pr-" + _short_hash(run.run_id)[:8]}


def _plain_cell(value: float | None) -> dict[str, Any]:
    if value is None:
        return {"text": "—", "value": "", "missing": True, "full": ""}
    return {"text": f"{value:.{SCORE_DECIMALS}f}", "value": repr(value), "missing": False,
            "full": repr(value)}


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        return ", ".join(_plain(v) for v in value) or "—"
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
