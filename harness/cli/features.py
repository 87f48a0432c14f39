"""``harness features``: extract features from one audio file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness import atomic, paths
from harness.cli._common import console, handle_errors, require, safe, with_old_name
from harness.cli.choices import FeatureKind
from harness.errors import BadInputError, DataMissingError

app = typer.Typer(help="Audio features (mel96, stft-square).", no_args_is_help=True)


@app.command("extract")
@handle_errors
def extract_command(
    ctx: typer.Context,
    audio: Annotated[Path, typer.Argument(help="Audio file (WAV, FLAC, OGG, MP3).")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (required): .npy, float32 (bins, frames).")
    ] = None,
    kind: Annotated[FeatureKind, typer.Option("--kind", help="Feature kind.")] = FeatureKind.mel96,
    size: Annotated[int, typer.Option("--size", help="stft-square: K (129, 257, 513, 1025) for a K x K image.")] = 257,
    old_out: Annotated[Path | None, typer.Option("--out", hidden=True)] = None,
) -> None:
    """Extract the features of one audio file to a .npy file: mel96 (96, T) or stft-square (K, K)."""
    out = require(ctx, with_old_name(ctx, output, old_out, "output", "-o/--output", "--out"), "'-o' / '--output'")

    from harness.features.extract import extract_file
    from harness.features.stft import SquareParams

    if not audio.is_file():
        raise DataMissingError(f"{audio}: no such audio file")
    if out.is_dir():
        raise BadInputError(
            f"{out}: is a folder; -o must name the .npy file to write, e.g. {out / (audio.stem + '.npy')}"
        )
    paths.ensure_writable_dir(out.parent, "-o")  # before extracting, not after
    features = extract_file(audio, kind.value, square=SquareParams(size=size) if kind.value == "stft-square" else None)
    atomic.write_npy(out, features)
    console.print(f"{safe(out)}: {safe(kind.value)} {features.shape[0]} x {features.shape[1]} float32")
