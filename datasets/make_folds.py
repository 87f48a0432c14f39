#!/usr/bin/env python
"""Make a registry's committed ``parts.tsv`` (its part assignment) from the source files (CAL500, CAL500exp and variants).

    python datasets/make_folds.py cal500 --root /data/cal500            # writes datasets/cal500/parts.tsv
    python datasets/make_folds.py cal500exp --root /data/cal500exp --check   # compare, write nothing

Reads the registry ``datasets/<name>/dataset.toml`` (or ``$HARNESS_REGISTRY/<name>/``): its tags,
``[folds]`` (n_parts, seed, one column per fold set and the method that makes it) and its family,
which reads the source files under ``--root``. Writes the TSV atomically (``--out`` elsewhere),
then prints the SHA-256 digests to pin in the registry: ``[folds] sha256`` and ``[source.sha256]``
/ ``[source.tree_sha256]``. The same source files always give the same bytes; the generators are
in ``harness.datasets.fold_generators``. Exit status: 0 written (or equal with ``--check``), 1 ``--check``
found a difference, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness import atomic
from harness.datasets import open_dataset
from harness.datasets.checksums import sha256_bytes
from harness.datasets.committed_folds import CommittedFoldsDataset
from harness.errors import HarnessError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="registry name, e.g. cal500, cal500exp, cal500exp-67")
    parser.add_argument("--root", required=True, type=Path, help="folder holding the dataset's source files")
    parser.add_argument("--out", type=Path, help="write here instead of the registry's folds file")
    parser.add_argument("--check", action="store_true", help="compare with the committed file; write nothing")
    args = parser.parse_args(argv)
    try:
        dataset = open_dataset(args.name, args.root)
        if not isinstance(dataset, CommittedFoldsDataset):
            raise HarnessError(f"{args.name}: family {dataset.spec.family!r} has no committed folds")
        text = dataset.make_fold_text()
        target = args.out or dataset.folds_file
        digest = sha256_bytes(text.encode("utf-8"))
        if args.check:
            same = target.is_file() and target.read_bytes() == text.encode("utf-8")
            print(f"{target}: {'identical' if same else 'DIFFERS from what the sources make'} (made: {digest})")
            return 0 if same else 1
        atomic.write_text(target, text)
        print(f"{target}: {len(dataset.items.item_ids)} items, sha256 {digest}")
        print("pin in the registry:")
        print(f'  [folds] sha256 = "{digest}"')
        for rel, value in dataset.source_digests().items():
            table = "source.tree_sha256" if rel.endswith("/") else "source.sha256"
            print(f'  [{table}] "{rel.rstrip("/")}" = "{value}"')
        return 0
    except HarnessError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
