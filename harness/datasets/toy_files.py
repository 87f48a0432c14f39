"""Generating the toy dataset's files under a root (resumable, several worker processes).

Files written under the root (all atomically):

- ``audio/toy-0000.flac`` ...: 16-bit PCM FLAC, mono, ``sample_rate`` Hz;
- ``metadata.tsv``: a header, then ``item_id``, ``split``, the tags joined by ``,`` (empty when
  none) and one 0/1 column per factor (``fast major loud bright percussive``);
- ``manifest.json``, last: the config, the generator version, the tag list and the SHA-256 of
  ``metadata.tsv``; its presence (and match) marks a complete dataset;
- ``.generation.json``: the config the audio files were made with, so an interrupted generation
  resumes and keeps only the files it can trust.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import io
import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from harness.atomic import write_bytes, write_json, write_text
from harness.datasets.toy import FACTORS, TOY_TAGS, ToyConfig, ToyItem, draw_item, item_id
from harness.datasets.toy_synth import Scratch, render_into
from harness.errors import BadInputError

GENERATOR_VERSION = "toy-3"
PREPARE_COMMAND = "harness datasets prepare toy"
METADATA_HEADER: tuple[str, ...] = ("item_id", "split", "tags", *FACTORS)
_BATCH = 8  # items per worker task: a batch shares one set of work arrays


def audio_path(root: Path, item_id: str) -> Path:
    return Path(root) / "audio" / f"{item_id}.flac"


def generate_toy(
    root: Path,
    config: ToyConfig,
    tags: Sequence[str] = TOY_TAGS,
    on_item: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> Path:
    """Write the toy dataset under ``root`` (resuming an interrupted run); return ``root``."""
    if tuple(tags) != TOY_TAGS:
        raise BadInputError(
            f"the toy registry lists tags {list(tags)} but the toy generator makes {list(TOY_TAGS)}; "
            "the registry (datasets/toy/dataset.toml) and harness/datasets/toy.py disagree"
        )
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise BadInputError(f"workers={workers!r} must be a positive integer")
    root = Path(root)
    if toy_is_complete(root, config):
        return root
    audio_dir = root / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    total = config.n_items
    ids = [item_id(i) for i in range(total)]

    generation = {"config": config.as_dict(), "generator_version": GENERATOR_VERSION}
    marker = root / ".generation.json"
    (root / "manifest.json").unlink(missing_ok=True)
    if _read_json(marker) != generation:  # audio on disk, if any, came from something else
        for stale in audio_dir.glob("toy-*.flac"):
            stale.unlink()
        write_json(marker, generation)
    for leftover in audio_dir.glob(".toy-*.tmp"):  # temporary files of a killed run
        leftover.unlink()
    expected = set(ids)
    for extra in audio_dir.glob("toy-*.flac"):
        if extra.stem not in expected:
            extra.unlink()

    pending = [i for i, name in enumerate(ids) if not audio_path(root, name).exists()]
    done = total - len(pending)
    if on_item is not None and done:
        on_item(done, total)
    batches = [pending[start : start + _BATCH] for start in range(0, len(pending), _BATCH)]
    n_workers = min(os.cpu_count() or 1, 4) if workers is None else workers
    n_workers = min(n_workers, len(batches))
    if n_workers <= 1:

        def written() -> None:
            nonlocal done
            done += 1
            if on_item is not None:
                on_item(done, total)

        _write_items(config, pending, str(root), on_written=written)
    else:
        with concurrent.futures.ProcessPoolExecutor(max_workers=n_workers, mp_context=_process_context()) as pool:
            futures = [pool.submit(_write_items, config, batch, str(root)) for batch in batches]
            try:
                for future in concurrent.futures.as_completed(futures):
                    for _ in range(future.result()):
                        done += 1
                        if on_item is not None:
                            on_item(done, total)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    metadata = _metadata_text([draw_item(config, i) for i in range(total)])
    write_text(root / "metadata.tsv", metadata)
    write_json(
        root / "manifest.json",
        {
            "dataset": "toy",
            "generator_version": GENERATOR_VERSION,
            "config": config.as_dict(),
            "tags": list(TOY_TAGS),
            "factors": list(FACTORS),
            "n_items": total,
            "metadata_sha256": hashlib.sha256(metadata.encode("utf-8")).hexdigest(),
        },
    )
    return root


def _process_context() -> multiprocessing.context.BaseContext:
    """``fork`` on Linux, ``spawn`` elsewhere.

    Forked workers start at once, where spawned ones re-import the caller's ``__main__`` (the
    ``harness`` command imports torch: seconds per worker). The workers only run numpy and
    libsndfile, so forking a process that has imported torch is safe here.
    """
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _write_items(
    config: ToyConfig, indices: Sequence[int], root: str, on_written: Callable[[], None] | None = None
) -> int:
    """Synthesise and write the FLAC files of ``indices``, reusing one set of work arrays."""
    scratch = Scratch(config.n_samples)
    audio = np.empty(config.n_samples, dtype=np.float32)
    for index in indices:
        item = draw_item(config, index)
        np.copyto(audio, render_into(item, config, scratch), casting="same_kind")
        buffer = io.BytesIO()
        sf.write(buffer, audio, config.sample_rate, format="FLAC", subtype="PCM_16")
        write_bytes(audio_path(Path(root), item.item_id), buffer.getvalue())
        if on_written is not None:
            on_written()
    return len(indices)


def _metadata_text(items: Sequence[ToyItem]) -> str:
    lines = ["\t".join(METADATA_HEADER)]
    for item in items:
        flags = ["1" if f else "0" for f in item.factors]
        lines.append("\t".join([item.item_id, item.split, ",".join(item.tags), *flags]))
    return "\n".join(lines) + "\n"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def toy_is_complete(root: Path, config: ToyConfig) -> bool:
    """True when ``root`` holds a finished generation of exactly ``config``."""
    root = Path(root)
    manifest = _read_json(root / "manifest.json")
    if not isinstance(manifest, dict):
        return False
    if (
        manifest.get("generator_version") != GENERATOR_VERSION
        or manifest.get("config") != config.as_dict()
        or manifest.get("tags") != list(TOY_TAGS)
    ):
        return False
    try:
        digest = hashlib.sha256((root / "metadata.tsv").read_bytes()).hexdigest()
    except OSError:
        return False
    if digest != manifest.get("metadata_sha256"):
        return False
    return all(audio_path(root, item_id(i)).is_file() for i in range(config.n_items))
