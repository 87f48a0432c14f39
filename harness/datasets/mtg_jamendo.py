"""The ``mtg-jamendo`` family: MTG-Jamendo's official splits (``split-0``..``split-4``), fetched, checked and audited.

Citation: Bogdanov, Won, Tovstogan, Porter and Serra, "The MTG-Jamendo Dataset for Automatic Music
Tagging", Machine Learning for Music Discovery Workshop, ICML 2019. Metadata licence CC BY-NC-SA 4.0;
audio under the tracks' own Creative Commons licences. Source: https://github.com/MTG/mtg-jamendo-dataset

The files, their root layout and the registry's ``[source]`` table are described in
:mod:`harness.datasets.mtg_jamendo_files`, which reads them.
"""

from __future__ import annotations

import hashlib
import tarfile
from functools import cached_property
from pathlib import Path

from harness import atomic
from harness.datasets.audit import audit_fold
from harness.datasets.base import Dataset, Progress
from harness.datasets.checksums import check_pin, sha256_file
from harness.datasets.fetch import download_verified, fetch_pinned, join_url
from harness.datasets.findings import Finding
from harness.datasets.mtg_jamendo_files import (
    ARCHIVE_KINDS,
    WHAT,
    ArchiveSet,
    MTGSource,
    Track,
    parse_source,
    read_split_tsv,
    read_tags_file,
)
from harness.datasets.registry import SPLITS, DatasetSpec, resolve_split
from harness.datasets.splits import SplitData, label_matrix
from harness.errors import BadInputError, DataMissingError, FormatError, HarnessError, UnknownNameError


class MTGJamendoDataset(Dataset):
    """MTG-Jamendo mood/theme: official folds ``split-0``..``split-4`` from the MTG repository's files.

    ``check_checksums=False`` reads the files without comparing them to their pins (what ``verify``
    uses, so it can audit a file that fails its checksum as well as report the mismatch).
    """

    def __init__(self, spec: DatasetSpec, root: Path, *, check_checksums: bool = True) -> None:
        super().__init__(spec, root)
        self.check_checksums = check_checksums
        self._tracks: dict[tuple[str, str], list[Track]] = {}
        self._checked: set[str] = set()

    # registry --------------------------------------------------------------------------------------

    @cached_property
    def source(self) -> MTGSource:
        return parse_source(self.spec)

    @cached_property
    def expected_counts(self) -> dict[str, dict[str, int]]:
        raw = self.spec.raw.get("counts", {})
        try:
            counts = {str(fold): {str(s): int(n) for s, n in parts.items()} for fold, parts in raw.items()}
        except (AttributeError, TypeError, ValueError) as exc:
            raise FormatError(
                f"{self.spec.registry_path}: [counts] must map fold -> {{split = count}} ({exc})"
            ) from exc
        for fold, parts in counts.items():
            if fold not in self.spec.folds or not set(parts) <= set(SPLITS):
                raise FormatError(f"{self.spec.registry_path}: [counts] {fold} {sorted(parts)}: unknown fold or split")
        return counts

    def fetch_command(self, what: str = "splits") -> str:
        command = f"harness datasets fetch {self.name} --root {self.root}"
        return command if what == "splits" else f"{command} --what {what}"

    def split_file(self, fold: str, split: str) -> str:
        """The split file of ``fold``/``split``, relative to the root."""
        return self.source.split_pattern.format(fold=fold, split=split)

    def source_files(self) -> list[str]:
        """Every file the splits are read from, relative to the root: split files, then the tags file."""
        files = [self.split_file(fold, split) for fold in self.spec.folds for split in SPLITS]
        return [*files, self.source.tags_file]

    # checks ------------------------------------------------------------------------------------------

    def _check_file(self, relative: str) -> None:
        """The file is present and, when pinned, has its pinned hash; else DataMissingError."""
        if relative in self._checked:
            return
        path = self.root / relative
        if not path.is_file():
            raise DataMissingError(
                f"{path} not found; `{self.fetch_command()}` downloads the MTG-Jamendo split and tag files"
            )
        pin = self.source.pin(relative)
        if pin is not None:
            check_pin(path, pin.sha256, f"`{self.fetch_command()}` fetches a good copy", download=True)
        self._checked.add(relative)

    @cached_property
    def _file_tags(self) -> tuple[str, ...]:
        """The tags file's tags, which must equal the registry's, in order."""
        if self.check_checksums:
            self._check_file(self.source.tags_file)
        path = self.root / self.source.tags_file
        tags = read_tags_file(path)
        if tags != self.spec.tags:
            first = next(
                (i for i, (a, b) in enumerate(zip(tags, self.spec.tags)) if a != b), min(len(tags), len(self.spec.tags))
            )
            got = tags[first] if first < len(tags) else "(end of file)"
            want = self.spec.tags[first] if first < len(self.spec.tags) else "(no more tags)"
            raise FormatError(
                f"{path}: {len(tags)} tags differ from the {len(self.spec.tags)} of {self.spec.registry_path} "
                f"from line {first + 1} on (file {got!r}, registry {want!r})"
            )
        return tags

    def ensure_source(self, on_progress: Progress | None = None) -> None:
        """Every split and tag file is present with its pinned hash, or DataMissingError names the fetch command."""
        files = self.source_files()
        for done, relative in enumerate(files, start=1):
            self._check_file(relative)
            if on_progress is not None:
                on_progress(done, len(files))
        _ = self._file_tags

    def source_checksum(self) -> str:
        """SHA-256 over the pinned files' paths and hashes (what the splits were read from)."""
        text = "".join(f"{p.sha256}  {p.path}\n" for p in sorted(self.source.files, key=lambda p: p.path))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    # reading -------------------------------------------------------------------------------------------

    def tracks(self, fold: str | int | None, split: str) -> list[Track]:
        """The rows of one split file, in file order."""
        key = (self.spec.resolve_fold(fold), resolve_split(split))
        fold_name, split = key
        if key not in self._tracks:
            relative = self.split_file(fold_name, split)
            tags = self._file_tags
            if self.check_checksums:
                self._check_file(relative)
            self._tracks[key] = read_split_tsv(self.root / relative, tags)
        return self._tracks[key]

    def _load_split(self, fold: str, split: str) -> SplitData:
        rows = self.tracks(fold, split)
        labels = label_matrix([row.tags for row in rows], self.spec.tags)
        return SplitData(self.name, fold, split, tuple(r.track_id for r in rows), self.spec.tags, labels)

    def all_tracks(self) -> list[Track]:
        """Every track of every split file, once, in order of first appearance (folds, then splits)."""
        seen: dict[str, Track] = {}
        for fold in self.spec.folds:
            for split in SPLITS:
                for row in self.tracks(fold, split):
                    seen.setdefault(row.track_id, row)
        return list(seen.values())

    def audio_files(self) -> list[tuple[str, Path]]:
        """(TRACK_ID, ``ROOT/audio/<PATH>``) for every track of the split files."""
        return [(t.track_id, self.root / "audio" / t.path) for t in self.all_tracks()]

    def precomputed_features(self, kind: str) -> list[tuple[str, Path]] | None:
        """The official mel spectrograms (``ROOT/melspecs``, the mel96 recipe) when they are there."""
        if kind != "mel96" or not (self.root / "melspecs").is_dir():
            return None
        files = self.melspec_files()
        missing = [path for _, path in files if not path.is_file()]
        if missing:
            raise DataMissingError(
                f"{len(missing)} of {len(files)} official mel spectrograms are missing under {self.root / 'melspecs'}, "
                f"e.g. {missing[0]}; `harness datasets fetch {self.name} --root {self.root} --what melspecs` fetches them"
            )
        return files

    def melspec_files(self) -> list[tuple[str, Path]]:
        """(TRACK_ID, ``ROOT/melspecs/<PATH with .npy>``): the official precomputed mel spectrograms."""
        return [(t.track_id, self.root / "melspecs" / Path(t.path).with_suffix(".npy")) for t in self.all_tracks()]

    # audit -----------------------------------------------------------------------------------------------

    @cached_property
    def _unchecked(self) -> MTGJamendoDataset:
        """This dataset read without comparing files to their pins, so an audit sees a changed file's content."""
        return type(self)(self.spec, self.root, check_checksums=False)

    def source_findings(self) -> tuple[list[Finding], bool]:
        """Checksums of the pinned files (a mismatch is reported, and the files still audited), then the tags file."""
        command = self.fetch_command()
        findings: list[Finding] = []
        for pin in self.source.files:
            path = self.root / pin.path
            check = f"checksum {pin.path}"
            if not path.is_file():
                findings.append(Finding(check, False, f"missing; `{command}` downloads it"))
                continue
            actual = sha256_file(path)
            ok = actual == pin.sha256
            detail = (
                f"sha256 {actual[:12]}… as pinned"
                if ok
                else f"expected sha256 {pin.sha256}, got {actual}; `{command}` fetches a good copy"
            )
            findings.append(Finding(check, ok, detail))
        try:
            tags = self._unchecked._file_tags
            findings.append(Finding("tags file matches the registry", True, f"{len(tags)} tags in order"))
        except HarnessError as exc:
            findings.append(Finding("tags file matches the registry", False, exc.message))
            return findings, False
        return findings, True

    def fold_findings(self) -> list[Finding]:
        """Per fold: its split files readable, the registry's track counts, overlap of items and artists
        between parts, and every tag present in every part."""
        unchecked = self._unchecked
        findings: list[Finding] = []
        for fold in self.spec.folds:
            try:
                parts = {split: unchecked.tracks(fold, split) for split in SPLITS}
            except HarnessError as exc:
                findings.append(Finding(f"{fold}: split files readable", False, exc.message, fold=fold))
                continue
            expected = self.expected_counts.get(fold, {})
            for split, rows in parts.items():
                if split in expected:
                    findings.append(
                        Finding(
                            f"{fold}: {split} has {expected[split]} tracks",
                            len(rows) == expected[split],
                            f"{len(rows)} tracks",
                            fold=fold,
                            split=split,
                        )
                    )
            findings += audit_fold(unchecked, fold)
            findings += _artist_findings(fold, parts)
        return findings

    # download ----------------------------------------------------------------------------------------------

    def fetch(
        self, what: str = "splits", base_url: str | None = None, on_progress: Progress | None = None
    ) -> list[Path]:
        """Download into the root, verifying every file against its pinned SHA-256.

        ``splits``: the split and tag files from the MTG repository at the pinned commit.
        ``melspecs``/``audio``: the official tar archives, each verified, unpacked into
        ``ROOT/melspecs`` or ``ROOT/audio`` and then deleted; a marker ``.<archive>.sha256`` beside
        the unpacked folders lets a later run skip it.
        """
        if what == "splits":
            base = base_url or self.source.base_url
            if not self.source.files:
                raise BadInputError(f"{self.spec.registry_path}: [source] pins no files to fetch")
            if not base:
                raise BadInputError(f"{self.spec.registry_path}: source.base_url is empty; pass --base-url")
            written = fetch_pinned(self.source.files, base, self.root, self.fetch_command(), on_progress)
            self._checked.clear()
            self._tracks.clear()
            self.__dict__.pop("_file_tags", None)
            return written
        if what in ARCHIVE_KINDS:
            archive_set = self.source.archive_sets.get(what)
            if archive_set is None or not archive_set.archives:
                raise BadInputError(
                    f"{self.spec.registry_path}: no [source.{what}] archive checksums are pinned yet, so "
                    f"`--what {what}` cannot verify a download; use the MTG repository's scripts/download/download.py"
                )
            return self._fetch_archives(archive_set, base_url, on_progress)
        raise UnknownNameError("--what", what, WHAT)

    def _fetch_archives(
        self, archive_set: ArchiveSet, base_url: str | None, on_progress: Progress | None
    ) -> list[Path]:
        base = base_url or archive_set.base_url
        if not base:
            raise BadInputError(
                f"{self.spec.registry_path}: source.{archive_set.kind}.base_url is empty; pass --base-url"
            )
        command = self.fetch_command(archive_set.kind)
        destination = self.root / archive_set.kind
        done_paths: list[Path] = []
        for done, archive in enumerate(archive_set.archives, start=1):
            tar_path = destination / archive.path
            marker = destination / f".{Path(archive.path).name}.sha256"
            if not (marker.is_file() and marker.read_text().strip() == archive.sha256):
                if not (tar_path.is_file() and sha256_file(tar_path) == archive.sha256):
                    download_verified(join_url(base, archive.path), tar_path, archive.sha256, command)
                _unpack(tar_path, destination)
                atomic.write_text(marker, archive.sha256 + "\n")
                tar_path.unlink()
            done_paths.append(tar_path)
            if on_progress is not None:
                on_progress(done, len(archive_set.archives))
        return done_paths


def _unpack(tar_path: Path, destination: Path) -> None:
    """Extract a verified archive into ``destination``; members may not leave it (tarfile's data filter)."""
    try:
        with tarfile.open(tar_path) as archive:
            archive.extractall(destination, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise FormatError(f"{tar_path}: cannot unpack ({exc})") from exc


def _artist_findings(fold: str, parts: dict[str, list[Track]]) -> list[Finding]:
    artists = {split: {t.artist_id for t in rows} for split, rows in parts.items()}
    findings = []
    for i, a in enumerate(SPLITS):
        for b in SPLITS[i + 1 :]:
            shared = artists[a] & artists[b]
            findings.append(
                Finding(
                    f"{fold}: no artist in both {a} and {b}",
                    not shared,
                    f"{len(shared)} artists shared, e.g. {sorted(shared)[:3]}" if shared else "none shared",
                    fold=fold,
                )
            )
    return findings
