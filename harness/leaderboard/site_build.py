"""Build the static leaderboard site from the results store.

The site is self-contained: plain HTML with one inline stylesheet, inline SVG charts and a small
inline script (click-to-sort, filter box: ``static/tables.js``, written into every page), no
external URL anywhere, readable from ``file://``::

    index.html              every board: title, dataset (title, citation, licence), runs, leader
    <board>.html            the board's rows ranked by its primary metric
    runs/<slug>.html        one run: badges, scores with intervals, per-tag table and chart,
                            precision-recall curve, provenance, config
    groups/<slug>.html      on a k-fold board, one configuration's per-fold scores with mean ± std,
                            one section per seed, and mean ± std over its seeds when it has several

:func:`plan_site` groups and ranks each board's runs (:mod:`~harness.leaderboard.grouping`,
:mod:`~harness.leaderboard.ranking`) and computes every page's view model
(:mod:`~harness.leaderboard.board_view`, :mod:`~harness.leaderboard.run_page`,
:mod:`~harness.leaderboard.group_page`); :func:`build_site` renders them with jinja2 from
``templates/`` beside this module, autoescaping on for every template, so team, run, submission
and tag names always show as text (in SVG too). Output is deterministic (no build time in it):
building twice from the same store gives the same bytes.

The site is built whole beside the output folder and swapped in when every page is written
(:mod:`harness.leaderboard.site_folder`): a build that fails or is killed leaves the previous site
as it was. One run never breaks a board: the store is read through
:class:`~harness.leaderboard.checked_store.CheckedStore`, and a run that cannot be read, or whose
predictions cannot be used, or a part of a run page that cannot be drawn, is left out with a
warning naming the run (:attr:`SiteBuild.warnings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from harness import __version__, atomic
from harness.leaderboard import site_folder
from harness.leaderboard.board_view import board_view, fold_board_view
from harness.leaderboard.boards import Board
from harness.leaderboard.checked_store import CheckedStore
from harness.leaderboard.group_page import group_view
from harness.leaderboard.grouping import group_fold_runs, group_seeds
from harness.leaderboard.pages import GROUPS_DIR, group_page_names, run_href, section_ids, seed_anchor
from harness.leaderboard.ranking import board_ranks, rank_groups, rank_runs
from harness.leaderboard.run_page import run_view
from harness.results.store import ResultsStore, RunRecord

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
SCRIPTS = ("tables.js",)  # written, in this order, into the one inline script of every page


@dataclass(frozen=True)
class SiteBuild:
    """What :func:`build_site` did: the pages written (under the folder it was given) and the
    warnings about runs it left out in part or whole, each naming the run."""

    pages: list[Path]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SitePlan:
    """Every page's view model: the boards (in the order given), the runs they show (by run id,
    sorted) and the k-fold configuration pages (by path under the site)."""

    boards: list[dict[str, Any]]
    runs: dict[str, dict[str, Any]]
    groups: dict[str, dict[str, Any]]

    def board(self, name: str) -> dict[str, Any]:
        """The view of the board called ``name``."""
        return next(view for view in self.boards if view["board"].name == name)


def build_site(store: ResultsStore, boards: list[Board], out_dir: Path) -> SiteBuild:
    """Render ``index.html``, one page per board, per run shown and per k-fold configuration.

    Only runs that appear on a board get a page. The pages are written into a new folder beside
    ``out_dir`` that then replaces it whole (:func:`harness.leaderboard.site_folder.building`), so
    pages of runs no longer shown do not linger, and an interrupted build changes nothing.
    ``out_dir`` must be new, empty or a site a build made (else :class:`BadInputError`).
    """
    checked = CheckedStore(store)
    with site_folder.building(out_dir) as folder:
        written = _write_site(plan_site(checked, boards), folder)
    return SiteBuild([Path(out_dir) / path.relative_to(folder) for path in written], list(checked.warnings))


def plan_site(store: CheckedStore, boards: list[Board]) -> SitePlan:
    """The view model of every page of the site, nothing written; warnings go to ``store``."""
    board_views, runs_by_id, boards_of_run = [], {}, {}
    groups_of_run: dict[str, list[dict[str, Any]]] = {}
    seeds_of_run: dict[str, list[dict[str, Any]]] = {}
    comparisons_of_run: dict[str, list[dict[str, Any]]] = {}
    group_pages: dict[str, dict[str, Any]] = {}
    for board in boards:
        if board.is_k_fold:
            ranked_groups = rank_groups(
                board, group_fold_runs(board, store.list_runs(board.dataset, None, board.split))
            )
            # the runs the board shows: one per fold and row (a superseded rerun gets no page)
            runs = [run for entry in ranked_groups for run in entry.group.runs.values()]
            seed_groups = group_seeds(e.group for e in ranked_groups)
            names = group_page_names(board, seed_groups)
            pages = {g.key: f"{GROUPS_DIR}/{names[g.key]}" for g in seed_groups}
            links = {}  # row key -> its page, and its section there when the page has several
            for group in seed_groups:
                for member, section in zip(group.members, section_ids(group)):
                    links[member.key] = pages[group.key] + (f"#{section}" if len(group.members) > 1 else "")
            view = fold_board_view(board, ranked_groups, seed_groups, links, pages)
            ranks = {e.group.key: e.rank for e in ranked_groups}
            for group in seed_groups:
                group_pages[pages[group.key]] = group_view(board, group, ranks)
                for member in group.members:
                    for run in member.runs.values():
                        groups_of_run.setdefault(run.run_id, []).append(
                            {"href": links[member.key], "board": board.title, "seed": member.seed}
                        )
        else:
            ranked = rank_runs(board, store.list_runs(board.dataset, board.fold, board.split))
            runs = [e.run for e in ranked]
            ranks = board_ranks(store, board, ranked)
            for run_id, found in ranks.comparisons.items():
                comparisons_of_run.setdefault(run_id, []).append({"board": board, "comparisons": found})
            seed_groups = group_seeds(runs)
            view = board_view(board, ranked, ranks, seed_groups)
            for group in seed_groups:
                if group.multi_seed:
                    for run in group.members:
                        seeds_of_run.setdefault(run.run_id, []).append(
                            {
                                "href": f"{board.page_name}#{seed_anchor(group)}",
                                "board": board.title,
                                "n": len(group.per_seed),
                            }
                        )
        board_views.append(view)
        for run in runs:
            runs_by_id[run.run_id] = run
            boards_of_run.setdefault(run.run_id, []).append(board)
    run_views = {}
    for run_id in sorted(runs_by_id):
        run: RunRecord = runs_by_id[run_id]
        run_views[run_id] = run_view(
            store,
            run,
            boards_of_run[run_id],
            groups_of_run.get(run_id, []),
            seeds_of_run.get(run_id, []),
            comparisons_of_run.get(run_id, []),
        )
    return SitePlan(board_views, run_views, group_pages)


def _write_site(plan: SitePlan, out_dir: Path) -> list[Path]:
    """Render every page of ``plan`` into ``out_dir``; returns the paths written."""
    env = environment()
    site = {"version": __version__, "script": script()}
    written: list[Path] = []

    def write(relative: str, template: str, **context: Any) -> None:
        path = out_dir / relative
        html = env.get_template(template).render(site=site, **context)
        atomic.write_text(path, html)
        written.append(path)

    write("index.html", "index.html", boards=plan.boards, root="", total_runs=len(plan.runs))
    for view in plan.boards:
        write(view["page"], "board.html", board=view, root="")
    for run_id, view in plan.runs.items():
        write(run_href(run_id), "run.html", root="../", run=view)
    for page, view in plan.groups.items():
        write(page, "group.html", root="../", group=view)
    return written


def environment() -> Environment:
    """The jinja2 environment of the templates: autoescaping on everywhere, undefined refused."""
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def script() -> Markup:
    """The site's script (:data:`SCRIPTS` from ``static/``), to be placed inside a ``<script>``."""
    text = "".join((STATIC / name).read_text(encoding="utf-8") for name in SCRIPTS)
    if "</script" in text.lower():  # would end the inline element early
        raise ValueError("a static script contains '</script'")
    return Markup(text)
