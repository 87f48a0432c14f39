"""``harness datasets``: list, show, prepare, verify and export ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from harness import atomic, paths
from harness.cli._common import (
    RootOption,
    console,
    counter_callback,
    err_console,
    extraction_callback,
    handle_errors,
    print_build_summary,
    progress_bar,
    require,
    safe,
    with_old_name,
)
from harness.cli.choices import Device, FeatureKind, FetchWhat
from harness.datasets import list_datasets, load_spec, open_dataset
from harness.datasets.registry import SPLITS
from harness.errors import BadInputError, HarnessError, RunFailedError

app = typer.Typer(help="Dataset registries: list, inspect, prepare and audit them.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_command() -> None:
    """List the registered datasets; a registry that cannot be read shows as broken, with its reason."""
    table = Table(title="datasets (licences and citations: `harness datasets show NAME`)")
    table.add_column("dataset", no_wrap=True, min_width=21)
    table.add_column("tags", justify="right", min_width=4)
    table.add_column("folds", no_wrap=True, min_width=14)
    table.add_column("primary metric", no_wrap=True, min_width=13)
    table.add_column("title", overflow="fold")
    broken = 0
    for name in list_datasets():
        try:
            spec = load_spec(name)
        except HarnessError as exc:  # one bad folder must not hide the others
            broken += 1
            table.add_row(safe(name), "", "", "", f"[red]broken:[/] {safe(_one_line(exc.message))}")
            continue
        folds = spec.folds[0] if len(spec.folds) == 1 else f"{len(spec.folds)}: {spec.folds[0]} .."
        table.add_row(safe(name), str(len(spec.tags)), safe(folds), safe(spec.primary_metric), safe(spec.title))
    console.print(table)
    if broken:
        what = "registry is" if broken == 1 else "registries are"
        err_console.print(f"[yellow]{broken} {what} broken; `harness datasets show NAME` gives the whole reason[/]")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


@app.command("show")
@handle_errors
def show_command(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. toy.")],
    fold: Annotated[str | None, typer.Option("--fold", help="Fold name or index (default: the first).")] = None,
    root: RootOption = None,
) -> None:
    """Counts, tags and positives per tag per split of one fold."""
    dataset = open_dataset(name, root)
    spec = dataset.spec
    fold_name = spec.resolve_fold(fold)
    parts = {split: dataset.split(fold_name, split) for split in SPLITS}
    console.print(f"[bold]{safe(spec.title)}[/] ({safe(spec.name)}, {safe(fold_name)}); licence: {safe(spec.licence)}")
    console.print(f"citation: {safe(spec.citation)}")
    for flag in dataset.fold_flags(fold_name):
        console.print(f"[bold yellow]{safe(flag)}[/]")
    counts = Table("split", "items", title="parts")
    counts.add_column("fingerprint (SHA-256)", overflow="fold")
    for split, part in parts.items():
        counts.add_row(split, str(len(part)), part.fingerprint)
    console.print(counts)
    table = Table("tag", *SPLITS, title="positives per tag")
    positives = {split: part.positives_per_tag() for split, part in parts.items()}
    for i, tag in enumerate(spec.tags):
        cells = [str(int(positives[split][i])) if positives[split][i] else "[red]0[/]" for split in SPLITS]
        table.add_row(safe(spec.short_tag(tag)), *cells)
    console.print(table)
    for split in SPLITS:
        degenerate = [safe(spec.short_tag(t)) for t, n in zip(spec.tags, positives[split]) if n == 0]
        if degenerate:
            console.print(f"[yellow]no positives in {split}:[/] {', '.join(degenerate)}")


@app.command("prepare")
@handle_errors
def prepare_command(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. toy.")],
    root: RootOption = None,
    kind: Annotated[FeatureKind | None, typer.Option("--kind", help="Feature kind (default: the dataset's).")] = None,
    size: Annotated[
        int | None, typer.Option("--size", help="stft-square: K of the K x K image (default: the dataset's).")
    ] = None,
    device: Annotated[
        Device, typer.Option("--device", help="Where to extract (auto: cuda when there is one).")
    ] = Device.auto,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Extract everything again, even if the store is current.")
    ] = False,
) -> None:
    """Make the dataset's sources present (toy: generate them), then build its feature store.

    The build is resumable: run the same command again after an interruption and it continues.
    Audio that cannot be decoded, is empty or is too short is reported by name and skipped.
    """
    from harness.features.extract import prepare_features, square_params_for
    from harness.protocol.device import pick_device

    dataset = open_dataset(name, root)
    feature = kind.value if kind is not None else dataset.spec.protocol.feature
    with progress_bar() as progress:
        store = prepare_features(
            dataset,
            feature,
            pick_device(device.value),
            on_source=counter_callback(progress, f"generating {safe(name)}", "items"),
            on_item=extraction_callback(progress, f"{safe(feature)} features"),
            rebuild=rebuild,
            square=square_params_for(dataset.spec, feature, size),
            on_wait=lambda message: progress.console.print(safe(message), soft_wrap=True),
        )
    _remember_root(name, dataset.root)
    print_build_summary(name, store)


def _remember_root(name: str, root: Path) -> None:
    """Record the root for later commands; best effort: the work is done, an unwritable $HARNESS_DATA only warns."""
    try:
        paths.remember_root(name, root)
    except OSError as exc:
        err_console.print(
            f"[yellow]warning:[/] could not record {safe(root)} as the root of {safe(name)} in "
            f"{safe(paths.data_home() / 'roots.json')} ({safe(exc.strerror or exc)}); pass --root {safe(root)} to later commands",
            soft_wrap=True,
        )


@app.command("fetch")
@handle_errors
def fetch_command(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. mtg-jamendo-moodtheme.")],
    root: Annotated[Path, typer.Option("--root", help="Folder to download into.")],
    what: Annotated[
        FetchWhat, typer.Option("--what", help="The split files, or the files of an archive (melspecs, audio).")
    ] = FetchWhat.splits,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Download from this mirror instead.")] = None,
) -> None:
    """Download a dataset's source files into ROOT, verifying each against its pinned SHA-256."""
    dataset = open_dataset(name, root)
    with progress_bar() as progress:
        written = dataset.fetch(
            what.value, base_url, counter_callback(progress, f"fetching {safe(name)} {safe(what.value)}", "files")
        )
    _remember_root(name, dataset.root)
    console.print(f"{safe(name)}: {len(written)} files verified in {safe(dataset.root)}")


@app.command("verify")
@handle_errors
def verify_command(name: Annotated[str, typer.Argument(help="Dataset name.")], root: RootOption = None) -> None:
    """Audit the dataset: checksums and counts where the registry pins them, no item in two parts, every tag in every part."""
    dataset = open_dataset(name, root)
    failed = 0
    for finding in dataset.verify():
        mark = "[green]ok[/]" if finding.ok else "[red]FAIL[/]"
        console.print(f"{mark} {safe(finding.check)}: {safe(finding.detail)}")
        failed += not finding.ok
    if failed:
        raise RunFailedError(f"{name}: {failed} audit checks failed")


@app.command("groundtruth")
@handle_errors
def groundtruth_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    fold: Annotated[str, typer.Option("--fold", help="Fold name or index.")],
    split: Annotated[str, typer.Option("--split", help="train, validation or test.")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="File to write (required): .npy, bool (items x tags), official order."),
    ] = None,
    ids_out: Annotated[
        Path | None, typer.Option("--ids-out", help="Also write the item ids to this file, one a line.")
    ] = None,
    root: RootOption = None,
    old_out: Annotated[Path | None, typer.Option("--out", hidden=True)] = None,
) -> None:
    """Write a split's labels as a bool matrix in official row and column order."""
    out = require(ctx, with_old_name(ctx, output, old_out, "output", "-o/--output", "--out"), "'-o' / '--output'")
    for path, option in ((out, "-o"), (ids_out, "--ids-out")):
        if path is not None:
            _check_output_file(path, option)
    part = open_dataset(name, root).split(fold, split)
    atomic.write_npy(out, part.labels.astype(bool))
    if ids_out is not None:
        atomic.write_text(ids_out, "\n".join(part.item_ids) + "\n")
    console.print(
        f"{safe(out)}: {part.labels.shape[0]} items x {part.labels.shape[1]} tags ({int(np.sum(part.labels))} positives)"
    )


def _check_output_file(path: Path, option: str) -> None:
    """Refuse an output that is a folder or lies in one that cannot be written, before anything is written."""
    if path.is_dir():
        raise BadInputError(f"{path}: is a folder; {option} must name the file to write")
    paths.ensure_writable_dir(path.parent, option)
