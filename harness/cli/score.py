"""``harness score``: the official MediaEval metric set for a prediction file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from harness import paths
from harness.cli._common import (
    BOOTSTRAP_HELP,
    BOOTSTRAP_SEED_HELP,
    RootOption,
    StoreOption,
    console,
    err_console,
    handle_errors,
    safe,
    with_old_name,
)
from harness.errors import BadInputError

if TYPE_CHECKING:
    from harness.scoring import FoldsReport, ScoreReport


@handle_errors
def score_command(
    ctx: typer.Context,
    predictions: Annotated[
        list[Path],
        typer.Argument(
            help="Prediction file(s): harness .npz or MediaEval .npy (items x tags); one per fold with --fold all."
        ),
    ],
    dataset: Annotated[str | None, typer.Option("--dataset", help="Dataset (needed for a bare .npy).")] = None,
    fold: Annotated[
        str | None, typer.Option("--fold", help="Fold name or index; `all`: one file per fold, mean ± std and pooled.")
    ] = None,
    split: Annotated[
        str | None, typer.Option("--split", help="train, validation or test (default: the file's, else test).")
    ] = None,
    decisions: Annotated[
        Path | None, typer.Option("--decisions", help="Given 0/1 decisions (.npy or .npz) of the same shape.")
    ] = None,
    thresholds_from: Annotated[
        Path | None,
        typer.Option("--thresholds-from", help="Validation predictions to fit one F1-maximising threshold per tag on."),
    ] = None,
    thresholds_on_test: Annotated[
        bool,
        typer.Option(
            "--thresholds-on-test",
            help="Legacy: fit thresholds on the scored split's own labels, as the 2019 task scripts did; marked as such everywhere.",
        ),
    ] = False,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="With --record: TEAM/RUN to record the scores under (no control characters, no surrounding spaces).",
        ),
    ] = None,
    record: Annotated[
        bool, typer.Option("--record", help="Record the scores (and predictions) in the results store.")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="With --record: replace the run already recorded under this TEAM/RUN and split."
        ),
    ] = False,
    external_data: Annotated[
        bool,
        typer.Option("--external-data", help="With --record: the run was trained with data beyond the training split."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    per_tag: Annotated[
        bool, typer.Option("--per-tag", help="Show every tag, not only the top and bottom five.")
    ] = False,
    bootstrap: Annotated[int | None, typer.Option("--bootstrap", help=BOOTSTRAP_HELP)] = None,
    bootstrap_seed: Annotated[int, typer.Option("--bootstrap-seed", min=0, help=BOOTSTRAP_SEED_HELP)] = 0,
    old_seed: Annotated[int | None, typer.Option("--seed", min=0, hidden=True)] = None,
    root: RootOption = None,
    store: StoreOption = None,
) -> None:
    """Score PREDICTIONS against a split with the official MediaEval keys (the CAL500 set for CAL500 datasets)."""
    from harness.scoring import RECORD_BOOTSTRAP, check_bootstrap, score_file, score_folds

    check_bootstrap(bootstrap, allow_zero=True)
    seed = with_old_name(ctx, bootstrap_seed, old_seed, "bootstrap_seed", "--bootstrap-seed", "--seed")
    _check_record_options(record, name, replace, external_data)
    if fold == "all":
        if decisions is not None or thresholds_from is not None:
            raise BadInputError("--fold all takes decisions from each run's validation file or --thresholds-on-test")
        folds_report = score_folds(predictions, dataset, split, root, thresholds_on_test)
        reports = list(folds_report.reports)
    elif len(predictions) > 1:
        raise BadInputError(
            f"{len(predictions)} prediction files: score one at a time, or one per fold with --fold all"
        )
    else:
        folds_report = None
        reports = [
            score_file(predictions[0], dataset, fold, split, root, decisions, thresholds_from, thresholds_on_test)
        ]
        # --record bootstraps by default, for the intervals the board shows; --bootstrap 0 skips it.
        n = bootstrap if bootstrap is not None else RECORD_BOOTSTRAP if record else 0
        if n:
            reports = [_with_bootstrap(reports[0], n, seed, asked=bootstrap is not None)]
    if bootstrap and folds_report is not None:
        raise BadInputError("--bootstrap applies to one prediction file; score folds one at a time for intervals")
    run_ids = _record_all(reports, name, store, external_data, replace) if record else []
    _warn(reports)  # after recording: a refused record is one line, not warnings and then the error
    if as_json:
        doc = folds_report.to_json() if folds_report is not None else reports[0].to_json()
        if run_ids:
            doc["run_ids" if folds_report is not None else "run_id"] = (
                run_ids if folds_report is not None else run_ids[0]
            )
        console.print_json(json.dumps(doc))
        return
    if folds_report is not None:
        _print_folds(folds_report)
    else:
        _print_scores(reports[0])
        _print_tags(reports[0], all_tags=per_tag)
    for run_id in run_ids:
        console.print(f"recorded as {safe(run_id)}")


def _with_bootstrap(report: ScoreReport, n: int, seed: int, asked: bool) -> ScoreReport:
    """The report with intervals; by default (not ``asked``) one whose items cannot be resampled is recorded without."""
    from harness.errors import HarnessError

    try:
        return report.with_bootstrap(n, seed)
    except HarnessError as exc:
        if asked:
            raise
        err_console.print(f"[yellow]warning:[/] no intervals recorded: {safe(exc.message)}", soft_wrap=True)
        return report


def _warn(reports: list[ScoreReport]) -> None:
    first = reports[0]
    for warning in dict.fromkeys(w for r in reports for w in (*r.warnings, *r.scores.warnings)):
        err_console.print(f"[yellow]warning:[/] {safe(warning)}", soft_wrap=True)
    if first.thresholds_source == "test":
        how = "the given decisions equal thresholds" if first.decisions_from else "thresholds"
        err_console.print(
            f"[bold yellow]warning:[/] {how} fitted on the test labels (legacy MediaEval 2019 procedure): "
            "the decision metrics are optimistic and not comparable with validation-fitted ones"
        )
    if first.thresholds_source == "none":
        err_console.print(
            "[yellow]warning:[/] no decisions: pass --decisions or --thresholds-from for precision, recall and F-score"
        )
    for flag in dict.fromkeys(f for r in reports for f in r.flags):
        err_console.print(f"[bold yellow]warning:[/] {safe(flag)}", soft_wrap=True)


def _check_record_options(record: bool, name: str | None, replace: bool, external_data: bool) -> None:
    """Options that only mean something with --record are refused without it, and --name is checked, before any work."""
    if not record:
        given = [
            flag
            for flag, value in (
                ("--name", name is not None),
                ("--replace", replace),
                ("--external-data", external_data),
            )
            if value
        ]
        if given:
            raise BadInputError(f"{', '.join(given)} only apply with --record; add --record to record the scores")
    if name is not None:
        _split_name(name)


def _record_all(
    reports: list[ScoreReport], name: str | None, store: Path | None, external_data: bool, replace: bool
) -> list[str]:
    """Record every report, or none: with --fold all, a fold already recorded is found before the first write."""
    from harness.results.store import ResultsStore
    from harness.scoring import record_report

    store_path = store or paths.store_path()
    names = [_team_and_run(name, r.predictions.meta, r.predictions.path) for r in reports]
    if len(reports) > 1 and not replace and store_path.is_file():
        ids = {
            f"{team}/{run}@{r.split.dataset}/{r.split.fold}/{r.split.split}" for (team, run), r in zip(names, reports)
        }
        taken = sorted(ids & {run.run_id for run in ResultsStore(store_path).list_runs()})
        if taken:
            raise BadInputError(
                f"run {taken[0]!r} is already recorded in {store_path}; pass --replace to record the folds again, "
                "or `harness runs delete RUN_ID` first"
            )
    return [
        record_report(r, store_path, team, run, external_data=external_data, replace=replace)
        for (team, run), r in zip(names, reports)
    ]


# Escaped: "[thresholds fitted on test]" unescaped is a rich style tag, and the mark vanished from the title.
_MARKS = {
    key: safe(text)
    for key, text in {
        "test": " [thresholds fitted on test]",
        "given": " [given decisions]",
        "validation": " [thresholds from validation]",
    }.items()
}


def _print_scores(report: ScoreReport) -> None:
    target = report.split
    title = f"{safe(target.dataset)} {safe(target.fold)} {safe(target.split)} ({len(target)} items){_MARKS.get(report.thresholds_source, '')}"
    columns = (
        ("key", "value", f"{round(100 * report.bootstrap['confidence'])}% interval")
        if report.intervals
        else ("key", "value")
    )
    table = Table(*columns, title=title)
    for key, value in report.scores.values.items():
        interval = report.intervals.get(key)
        cells = [safe(f"[{interval.low:.4f}, {interval.high:.4f}]") if interval else "—"] if report.intervals else []
        table.add_row(safe(key), f"{value:.6f}", *cells)
    console.print(table)
    if report.intervals:
        console.print(
            f"[dim]bootstrap: {report.bootstrap['n']} replicates over items, seed {report.bootstrap['seed']}[/]"
        )


def _print_folds(folds: FoldsReport) -> None:
    """Rows are keys: mean ± std over the folds, the pooled score and the range; per-fold values in --json."""
    first = folds.reports[0]
    table = Table(
        "key",
        "mean ± std",
        "pooled",
        "min – max",
        title=f"{safe(first.split.dataset)} {safe(first.split.split)}, {len(folds.reports)} folds{_MARKS.get(first.thresholds_source, '')}",
    )
    for key in first.scores.values:
        values = [r.scores.values[key] for r in folds.reports if key in r.scores.values]
        mean, std = folds.summary.mean.get(key), folds.summary.std.get(key)
        table.add_row(
            safe(key),
            "—" if mean is None else f"{mean:.4f} ± {std:.4f}" if std is not None else f"{mean:.4f}",
            f"{folds.pooled[key]:.4f}" if folds.pooled and key in folds.pooled else "—",
            f"{min(values):.4f} – {max(values):.4f}" if values else "—",
        )
    console.print(table)
    console.print(f"[dim]{safe(folds.pooled_note)}; std over folds with ddof=1; per-fold values with --json[/]")


def _print_tags(report: ScoreReport, all_tags: bool) -> None:
    """Per-tag results: the top and bottom five tags by PR-AUC (or every tag with --per-tag)."""
    short = lambda tag: tag.rsplit("---", 1)[-1]  # noqa: E731
    fmt = lambda v: "—" if v is None else f"{v:.4f}"  # noqa: E731
    table = Table("", "tag", "positives", "ROC-AUC", "PR-AUC", "precision", "recall", "F1", title="per tag")
    top, bottom = report.top_bottom()
    assert report.tag_table is not None
    groups = [("", report.tag_table.rows)] if all_tags else [("top", top), ("bottom", bottom)]
    for label, rows in groups:
        for i, row in enumerate(rows):
            table.add_row(
                label if i == 0 else "",
                safe(short(row.tag)),
                str(row.positives),
                fmt(row.roc_auc),
                fmt(row.pr_auc),
                fmt(row.precision),
                fmt(row.recall),
                fmt(row.f1),
                end_section=i == len(rows) - 1,
            )
    console.print(table)
    if report.tag_table.no_positive_tags:
        left_out = ", ".join(map(short, report.tag_table.no_positive_tags))
        console.print(f"[yellow]no positives, left out:[/] {safe(left_out)}")


def _team_and_run(name: str | None, meta: dict[str, object], path: Path | None) -> tuple[str, str]:
    """TEAM and RUN from --name, else from the file: its submission and run id, or its name."""
    if name is not None:
        return _split_name(name)
    stem = path.stem if path is not None else "predictions"
    if meta.get("submission"):
        team, run_name = "harness", f"{meta['submission']}:{meta.get('run_id', stem)}"
    else:
        team, run_name = "anonymous", stem
    problem = _name_problem(team) or _name_problem(run_name)
    if problem:
        raise BadInputError(f"{path}: the run name {run_name!r} it gives {problem}; pass --name TEAM/RUN")
    return team, run_name


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _name_problem(part: str) -> str | None:
    """Why ``part`` cannot be a team or run name (None if it can).

    A name is recorded for good and printed by every later command and on the leaderboard: control
    characters (newlines, ANSI escapes, NUL) and surrounding spaces are refused; markup characters
    such as ``[`` are legal text and are printed as such.
    """
    if _CONTROL.search(part):
        return "holds a control character (newline, tab, escape or NUL)"
    if part != part.strip():
        return "starts or ends with whitespace"
    return None


def _split_name(name: str) -> tuple[str, str]:
    team, sep, run_name = name.partition("/")
    if not sep or not team or not run_name:
        raise BadInputError(f"--name {name!r}: expected TEAM/RUN, e.g. YL-UTokyo/run1")
    problem = _name_problem(team) or _name_problem(run_name)
    if problem:
        raise BadInputError(f"--name {name!r} {problem}; use a plain TEAM/RUN, e.g. YL-UTokyo/run1")
    return team, run_name
