"""``harness features``: extract features from one audio file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness import atomic
from harness.cli._common import console, handle_errors
from harness.errors import DataMissingError

app = typer.Typer(help="Audio features (mel96).", no_args_is_help=True)


@app.command("extract")
@handle_errors
def extract_command(
    audio: Annotated[Path, typer.Argument(help="Audio file (WAV, FLAC, OGG, MP3).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output .npy, float32 (bins, frames).")],
    kind: Annotated[str, typer.Option("--kind", help="Feature kind: mel96.")] = "mel96",
) -> None:
    """Extract the features of one audio file to a .npy file."""
    from harness.features.extract import extract_file

    if not audio.is_file():
        raise DataMissingError(f"{audio}: no such audio file")
    features = extract_file(audio, kind)
    atomic.write_npy(out, features)
    console.print(f"{out}: {kind} {features.shape[0]} x {features.shape[1]} float32")
