"""``harness features``: extract features from one audio file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness import atomic, paths
from harness.cli._common import console, handle_errors, safe
from harness.errors import BadInputError, DataMissingError

app = typer.Typer(help="Audio features (mel96, stft-square).", no_args_is_help=True)


@app.command("extract")
@handle_errors
def extract_command(
    audio: Annotated[Path, typer.Argument(help="Audio file (WAV, FLAC, OGG, MP3).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output .npy, float32 (bins, frames).")],
    kind: Annotated[str, typer.Option("--kind", help="Feature kind: mel96 or stft-square.")] = "mel96",
    size: Annotated[int, typer.Option("--size", help="stft-square: K (129, 257, 513, 1025) for a K x K image.")] = 257,
) -> None:
    """Extract the features of one audio file to a .npy file: mel96 (96, T) or stft-square (K, K)."""
    from harness.features.extract import extract_file
    from harness.features.stft import SquareParams

    if not audio.is_file():
        raise DataMissingError(f"{audio}: no such audio file")
    if out.is_dir():
        raise BadInputError(f"{out}: is a folder; -o must name the .npy file to write, e.g. {out / (audio.stem + '.npy')}")
    paths.ensure_writable_dir(out.parent, "-o")  # before extracting, not after
    features = extract_file(audio, kind, square=SquareParams(size=size) if kind == "stft-square" else None)
    atomic.write_npy(out, features)
    console.print(f"{safe(out)}: {safe(kind)} {features.shape[0]} x {features.shape[1]} float32")
