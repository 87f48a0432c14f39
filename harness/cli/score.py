"""``harness score``: the official MediaEval metric set for a prediction file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from harness import paths
from harness.cli._common import RootOption, StoreOption, console, err_console, handle_errors
from harness.errors import BadInputError

if TYPE_CHECKING:
    from harness.scoring import FoldsReport, ScoreReport


@handle_errors
def score_command(
    predictions: Annotated[
        list[Path], typer.Argument(help="Prediction file(s): harness .npz or MediaEval .npy (items x tags); one per fold with --fold all.")
    ],
    dataset: Annotated[str | None, typer.Option("--dataset", help="Dataset (needed for a bare .npy).")] = None,
    fold: Annotated[str | None, typer.Option("--fold", help="Fold name or index; `all`: one file per fold, mean ± std and pooled.")] = None,
    split: Annotated[str | None, typer.Option("--split", help="train, validation or test (default: the file's, else test).")] = None,
    decisions: Annotated[Path | None, typer.Option("--decisions", help="Given 0/1 decisions (.npy or .npz) of the same shape.")] = None,
    thresholds_from: Annotated[
        Path | None, typer.Option("--thresholds-from", help="Validation predictions to fit one F1-maximising threshold per tag on.")
    ] = None,
    thresholds_on_test: Annotated[
        bool,
        typer.Option(
            "--thresholds-on-test",
            help="Legacy: fit thresholds on the scored split's own labels, as the 2019 task scripts did; marked as such everywhere.",
        ),
    ] = False,
    name: Annotated[str | None, typer.Option("--name", help="TEAM/RUN to record the scores under.")] = None,
    record: Annotated[bool, typer.Option("--record", help="Record the scores (and predictions) in the results store.")] = False,
    external_data: Annotated[
        bool, typer.Option("--external-data", help="With --record: the run was trained with data beyond the training split.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    per_tag: Annotated[bool, typer.Option("--per-tag", help="Show every tag, not only the top and bottom five.")] = False,
    bootstrap: Annotated[
        int | None, typer.Option("--bootstrap", min=1, help="Replicates for 95% percentile intervals over items (e.g. 1000).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the bootstrap resampling.")] = 0,
    root: RootOption = None,
    store: StoreOption = None,
) -> None:
    """Score PREDICTIONS against a split with the official MediaEval keys (the CAL500 set for CAL500 datasets)."""
    from harness.scoring import score_file, score_folds

    if fold == "all":
        if decisions is not None or thresholds_from is not None:
            raise BadInputError("--fold all takes decisions from each run's validation file or --thresholds-on-test")
        folds_report = score_folds(predictions, dataset, split, root, thresholds_on_test)
        reports = list(folds_report.reports)
    elif len(predictions) > 1:
        raise BadInputError(f"{len(predictions)} prediction files: score one at a time, or one per fold with --fold all")
    else:
        folds_report = None
        reports = [score_file(predictions[0], dataset, fold, split, root, decisions, thresholds_from, thresholds_on_test)]
        if bootstrap:
            reports = [reports[0].with_bootstrap(bootstrap, seed)]
    if bootstrap and folds_report is not None:
        raise BadInputError("--bootstrap applies to one prediction file; score folds one at a time for intervals")
    _warn(reports)
    run_ids = [_record(r, name, store, external_data) for r in reports] if record else []
    if as_json:
        doc = folds_report.to_json() if folds_report is not None else reports[0].to_json()
        if run_ids:
            doc["run_ids" if folds_report is not None else "run_id"] = run_ids if folds_report is not None else run_ids[0]
        console.print_json(json.dumps(doc))
        return
    if folds_report is not None:
        _print_folds(folds_report)
    else:
        _print_scores(reports[0])
        _print_tags(reports[0], all_tags=per_tag)
    for run_id in run_ids:
        console.print(f"recorded as {run_id}")


def _warn(reports: list[ScoreReport]) -> None:
    first = reports[0]
    for warning in dict.fromkeys(w for r in reports for w in (*r.warnings, *r.scores.warnings)):
        err_console.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
    if first.thresholds_source == "test":
        err_console.print(
            "[bold yellow]warning:[/] thresholds fitted on the test labels (legacy MediaEval 2019 procedure): "
            "the decision metrics are optimistic and not comparable with validation-fitted ones"
        )
    if first.thresholds_source == "none":
        err_console.print("[yellow]warning:[/] no decisions: pass --decisions or --thresholds-from for precision, recall and F-score")
    for flag in dict.fromkeys(f for r in reports for f in r.flags):
        err_console.print(f"[bold yellow]warning:[/] {flag}")


def _record(report: ScoreReport, name: str | None, store: Path | None, external_data: bool = False) -> str:
    from harness.scoring import record_report

    team, run_name = _team_and_run(name, report.predictions.meta, report.predictions.path)
    return record_report(report, store or paths.store_path(), team, run_name, external_data=external_data)


_MARKS = {"test": " [thresholds fitted on test]", "given": " [given decisions]", "validation": " [thresholds from validation]"}


def _print_scores(report: ScoreReport) -> None:
    target = report.split
    title = f"{target.dataset} {target.fold} {target.split} ({len(target)} items){_MARKS.get(report.thresholds_source, '')}"
    columns = ("key", "value", f"{round(100 * report.bootstrap['confidence'])}% interval") if report.intervals else ("key", "value")
    table = Table(*columns, title=title)
    for key, value in report.scores.values.items():
        interval = report.intervals.get(key)
        cells = [f"[{interval.low:.4f}, {interval.high:.4f}]" if interval else "—"] if report.intervals else []
        table.add_row(key, f"{value:.6f}", *cells)
    console.print(table)
    if report.intervals:
        console.print(f"[dim]bootstrap: {report.bootstrap['n']} replicates over items, seed {report.bootstrap['seed']}[/]")


def _print_folds(folds: FoldsReport) -> None:
    """Rows are keys: mean ± std over the folds, the pooled score and the range; per-fold values in --json."""
    first = folds.reports[0]
    table = Table(
        "key", "mean ± std", "pooled", "min – max",
        title=f"{first.split.dataset} {first.split.split}, {len(folds.reports)} folds{_MARKS.get(first.thresholds_source, '')}",
    )
    for key in first.scores.values:
        values = [r.scores.values[key] for r in folds.reports if key in r.scores.values]
        mean, std = folds.summary.mean.get(key), folds.summary.std.get(key)
        table.add_row(
            key,
            "—" if mean is None else f"{mean:.4f} ± {std:.4f}" if std is not None else f"{mean:.4f}",
            f"{folds.pooled[key]:.4f}" if folds.pooled and key in folds.pooled else "—",
            f"{min(values):.4f} – {max(values):.4f}" if values else "—",
        )
    console.print(table)
    console.print(f"[dim]{folds.pooled_note}; std over folds with ddof=1; per-fold values with --json[/]")


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
                label if i == 0 else "", short(row.tag), str(row.positives), fmt(row.roc_auc), fmt(row.pr_auc),
                fmt(row.precision), fmt(row.recall), fmt(row.f1), end_section=i == len(rows) - 1,
            )
    console.print(table)
    if report.tag_table.no_positive_tags:
        console.print(f"[yellow]no positives, left out:[/] {', '.join(map(short, report.tag_table.no_positive_tags))}")


def _team_and_run(name: str | None, meta: dict[str, object], path: Path | None) -> tuple[str, str]:
    if name:
        team, sep, run_name = name.partition("/")
        if not sep or not team or not run_name:
            raise BadInputError(f"--name {name!r}: expected TEAM/RUN, e.g. YL-UTokyo/run1")
        return team, run_name
    stem = path.stem if path is not None else "predictions"
    if meta.get("submission"):
        return "harness", f"{meta['submission']}:{meta.get('run_id', stem)}"
    return "anonymous", stem
