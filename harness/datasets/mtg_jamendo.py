"""The ``mtg-jamendo`` family: MTG-Jamendo's official splits, read exactly as the MTG repository ships them.

Citation: Bogdanov, Won, Tovstogan, Porter and Serra, "The MTG-Jamendo Dataset for Automatic Music
Tagging", Machine Learning for Music Discovery Workshop, ICML 2019. Metadata licence CC BY-NC-SA 4.0;
audio under the tracks' own Creative Commons licences. Source: https://github.com/MTG/mtg-jamendo-dataset

Root layout (that of the MTG repository, plus the optional archives beside it)::

    ROOT/data/splits/split-N/autotagging_moodtheme-{train,validation,test}.tsv
    ROOT/data/tags/moodtheme_split.txt       the tags, one a line, in the official column order
    ROOT/melspecs/XX/ID.npy                  `harness datasets fetch NAME --root ROOT --what melspecs`
    ROOT/audio/XX/ID.mp3                     `harness datasets fetch NAME --root ROOT --what audio`

Split files are tab-separated with CRLF line ends, a header ``TRACK_ID ARTIST_ID ALBUM_ID PATH
DURATION TAGS`` and then one column per tag (ragged rows). They are read as the official
``scripts/commons.py`` reads them, with ``csv.reader(..., delimiter='\\t')`` on a file opened with
``newline=''``, so the last tag never keeps its ``\\r``. Item ids are the ``TRACK_ID`` strings in
row order, which is the official prediction-row order; columns follow the registry's tags, which
must equal the tags file line for line.

The registry's ``[source]`` table pins what is downloaded and audited::

    [source]
    commit = "<MTG repository commit>"
    base_url = "https://raw.githubusercontent.com/MTG/mtg-jamendo-dataset/<commit>/"
    tags_file = "data/tags/moodtheme_split.txt"                          # default
    split_pattern = "data/splits/{fold}/autotagging_moodtheme-{split}.tsv" # default
    [[source.files]]                       # every split file and the tags file
    path = "data/splits/split-0/autotagging_moodtheme-test.tsv"
    sha256 = "<64 hex digits>"
    [source.melspecs]                      # and [source.audio]: the official tar archives
    base_url = "https://cdn.freesound.org/mtg-jamendo/autotagging_moodtheme/melspecs/"
    mirror_url = "..."                     # informational: another official host, for --base-url
    checksums_source = "..."               # informational: where the archive checksums were published
    archives = [{ path = "autotagging_moodtheme_melspecs-00.tar", sha256 = "<64 hex digits>" }, ...]

and ``[counts]`` the expected tracks per fold and split (``split-0 = { train = 9949, ... }``).
"""

from __future__ import annotations

import csv
import hashlib
import re
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from harness import atomic
from harness.datasets.base import Dataset, Progress
from harness.datasets.fetch import PinnedFile, download_verified, fetch_pinned, join_url, sha256_file
from harness.datasets.registry import SPLITS, DatasetSpec, resolve_split
from harness.datasets.splits import SplitData, label_matrix
from harness.errors import BadInputError, DataMissingError, FormatError, HarnessError, UnknownNameError

if TYPE_CHECKING:
    from harness.datasets.audit import Finding

HEADER: tuple[str, ...] = ("TRACK_ID", "ARTIST_ID", "ALBUM_ID", "PATH", "DURATION", "TAGS")
DEFAULT_TAGS_FILE = "data/tags/moodtheme_split.txt"
DEFAULT_SPLIT_PATTERN = "data/splits/{fold}/autotagging_moodtheme-{split}.tsv"
ARCHIVE_KINDS: tuple[str, ...] = ("melspecs", "audio")
WHAT: tuple[str, ...] = ("splits", *ARCHIVE_KINDS)

_ID_PATTERNS = {"TRACK_ID": re.compile(r"track_\d+"), "ARTIST_ID": re.compile(r"artist_\d+"), "ALBUM_ID": re.compile(r"album_\d+")}
_ID_EXAMPLES = {"TRACK_ID": "track_0000948", "ARTIST_ID": "artist_000087", "ALBUM_ID": "album_000149"}


@dataclass(frozen=True)
class Track:
    """One row of a split file."""

    track_id: str
    artist_id: str
    album_id: str
    path: str  # relative audio path, e.g. ``48/948.mp3``
    duration: float
    tags: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class ArchiveSet:
    """The official tar archives of one kind (``melspecs`` or ``audio``) and their published checksums."""

    kind: str
    base_url: str
    archives: tuple[PinnedFile, ...]
    checksums_source: str = ""


@dataclass(frozen=True)
class MTGSource:
    """The registry's ``[source]`` table, validated."""

    commit: str
    base_url: str
    tags_file: str
    split_pattern: str
    files: tuple[PinnedFile, ...]
    archive_sets: dict[str, ArchiveSet]

    def pin(self, path: str) -> PinnedFile | None:
        return next((p for p in self.files if p.path == path), None)


# --- reading the official files -------------------------------------------------------------------


def read_tags_file(path: Path) -> tuple[str, ...]:
    """The tags of a tags file (one a line; LF or CRLF), in file order."""
    if not path.is_file():
        raise DataMissingError(f"{path}: tags file not found")
    tags: list[str] = []
    seen: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    for line, text in enumerate(lines, start=1):
        tag = text.strip()
        if not tag:
            raise FormatError(f"{path}:{line}: blank line among the tags")
        if tag in seen:
            raise FormatError(f"{path}:{line}: duplicate tag {tag!r} (first on line {seen[tag]})")
        seen[tag] = line
        tags.append(tag)
    if not tags:
        raise FormatError(f"{path}: no tags")
    return tuple(tags)


def read_split_tsv(path: Path, known_tags: Sequence[str]) -> list[Track]:
    """The tracks of one official split file, validated; a bad row raises naming file and line."""
    if not path.is_file():
        raise DataMissingError(f"{path}: split file not found")
    known = set(known_tags)
    tracks: list[Track] = []
    seen: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        try:
            header = next(reader, None)
            if header is None:
                raise FormatError(f"{path}: empty file; expected the header {' '.join(HEADER)}")
            if tuple(header) != HEADER:
                raise FormatError(f"{path}:1: header is {header!r}, expected the tab-separated {' '.join(HEADER)}")
            for cells in reader:
                line = reader.line_num
                if not cells:
                    continue
                track = _parse_row(path, line, cells, known)
                if track.track_id in seen:
                    raise FormatError(f"{path}:{line}: duplicate TRACK_ID {track.track_id!r} (first on line {seen[track.track_id]})")
                seen[track.track_id] = line
                tracks.append(track)
        except csv.Error as exc:
            raise FormatError(f"{path}:{reader.line_num}: not a readable TSV row ({exc})") from exc
        except UnicodeDecodeError as exc:
            raise FormatError(f"{path}: not UTF-8 text ({exc})") from exc
    if not tracks:
        raise FormatError(f"{path}: no tracks after the header")
    return tracks


def _parse_row(path: Path, line: int, cells: list[str], known: set[str]) -> Track:
    where = f"{path}:{line}"
    if len(cells) < len(HEADER) - 1:
        raise FormatError(f"{where}: {len(cells)} column(s); a row needs TRACK_ID, ARTIST_ID, ALBUM_ID, PATH, DURATION, then its tags")
    for column, value in zip(HEADER[:3], cells[:3]):
        if not _ID_PATTERNS[column].fullmatch(value):
            raise FormatError(f"{where}: {column} {value!r} is malformed (expected e.g. {_ID_EXAMPLES[column]})")
    audio = cells[3]
    if not audio or audio.startswith("/") or ".." in Path(audio).parts:
        raise FormatError(f"{where}: PATH {audio!r} must be a relative path such as 48/948.mp3")
    try:
        duration = float(cells[4])
    except ValueError:
        raise FormatError(f"{where}: DURATION {cells[4]!r} is not a number") from None
    tags = tuple(cells[5:])
    for column, tag in enumerate(tags, start=6):
        if not tag:
            raise FormatError(f"{where}: column {column} is an empty tag")
        if tag not in known:
            raise FormatError(f"{where}: unknown tag {tag!r} for {cells[0]} (not one of the registry's {len(known)} tags)")
    return Track(cells[0], cells[1], cells[2], audio, duration, tags, line)


# --- the registry's [source] table -----------------------------------------------------------------


def parse_source(spec: DatasetSpec) -> MTGSource:
    """Validate the registry's ``[source]`` table (see the module docstring)."""
    where = spec.registry_path
    raw = spec.raw.get("source", {})
    if not isinstance(raw, dict):
        raise FormatError(f"{where}: [source] must be a table")
    try:
        files = tuple(PinnedFile(str(f["path"]), str(f["sha256"])) for f in raw.get("files", []))
        archive_sets = {}
        for kind in ARCHIVE_KINDS:
            if kind in raw:
                table = raw[kind]
                archives = tuple(PinnedFile(str(a["path"]), str(a["sha256"])) for a in table.get("archives", []))
                archive_sets[kind] = ArchiveSet(kind, str(table.get("base_url", "")), archives, str(table.get("checksums_source", "")))
    except (KeyError, TypeError) as exc:
        raise FormatError(f"{where}: [source] pinned files need path and sha256 ({exc})") from exc
    except ValueError as exc:
        raise FormatError(f"{where}: [source]: {exc}") from exc
    paths = [f.path for f in files]
    if len(set(paths)) != len(paths):
        raise FormatError(f"{where}: [source] pins a path twice")
    pattern = str(raw.get("split_pattern", DEFAULT_SPLIT_PATTERN))
    if "{fold}" not in pattern or "{split}" not in pattern:
        raise FormatError(f"{where}: source.split_pattern must contain {{fold}} and {{split}}, got {pattern!r}")
    return MTGSource(
        commit=str(raw.get("commit", "")),
        base_url=str(raw.get("base_url", "")),
        tags_file=str(raw.get("tags_file", DEFAULT_TAGS_FILE)),
        split_pattern=pattern,
        files=files,
        archive_sets=archive_sets,
    )


def describe_root(
    root: Path, folds: Sequence[str], tags_file: str = DEFAULT_TAGS_FILE, split_pattern: str = DEFAULT_SPLIT_PATTERN
) -> tuple[list[PinnedFile], dict[str, dict[str, int]]]:
    """Pins (path, SHA-256) and track counts of the split and tag files under ``root``.

    This is how a registry's ``[[source.files]]`` and ``[counts]`` are made: computed from the
    files, never typed.
    """
    tags = read_tags_file(root / tags_file)
    pins: list[PinnedFile] = []
    counts: dict[str, dict[str, int]] = {}
    for fold in folds:
        counts[fold] = {}
        for split in SPLITS:
            relative = split_pattern.format(fold=fold, split=split)
            pins.append(PinnedFile(relative, sha256_file(root / relative)))
            counts[fold][split] = len(read_split_tsv(root / relative, tags))
    pins.append(PinnedFile(tags_file, sha256_file(root / tags_file)))
    return pins, counts


def source_toml(pins: Iterable[PinnedFile], counts: dict[str, dict[str, int]]) -> str:
    """The ``[[source.files]]`` entries and the ``[counts]`` table as TOML text (for generating registries)."""
    lines: list[str] = []
    for pin in pins:
        lines += ["[[source.files]]", f'path = "{pin.path}"', f'sha256 = "{pin.sha256}"', ""]
    lines.append("[counts]")
    for fold, parts in counts.items():
        lines.append(f'"{fold}" = {{ ' + ", ".join(f"{split} = {n}" for split, n in parts.items()) + " }")
    return "\n".join(lines) + "\n"


# --- the family ----------------------------------------------------------------------------------------


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
            raise FormatError(f"{self.spec.registry_path}: [counts] must map fold -> {{split = count}} ({exc})") from exc
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
            raise DataMissingError(f"{path} not found; `{self.fetch_command()}` downloads the MTG-Jamendo split and tag files")
        pin = self.source.pin(relative)
        if pin is not None:
            actual = sha256_file(path)
            if actual != pin.sha256:
                raise DataMissingError(
                    f"{path}: checksum mismatch: expected sha256 {pin.sha256}, got {actual}; "
                    f"`{self.fetch_command()}` fetches a good copy"
                )
        self._checked.add(relative)

    @cached_property
    def _file_tags(self) -> tuple[str, ...]:
        """The tags file's tags, which must equal the registry's, in order."""
        if self.check_checksums:
            self._check_file(self.source.tags_file)
        path = self.root / self.source.tags_file
        tags = read_tags_file(path)
        if tags != self.spec.tags:
            first = next((i for i, (a, b) in enumerate(zip(tags, self.spec.tags)) if a != b), min(len(tags), len(self.spec.tags)))
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

    def verify(self) -> list[Finding]:
        """Checksums of the pinned files, the tags file, counts, and per fold: overlap of items and
        artists between parts and every tag present in every part. Problems are findings, not errors."""
        from harness.datasets.audit import Finding, audit_fold

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
            detail = f"sha256 {actual[:12]}… as pinned" if ok else f"expected sha256 {pin.sha256}, got {actual}; `{command}` fetches a good copy"
            findings.append(Finding(check, ok, detail))

        unchecked = type(self)(self.spec, self.root, check_checksums=False)
        try:
            tags = unchecked._file_tags
            findings.append(Finding("tags file matches the registry", True, f"{len(tags)} tags in order"))
        except HarnessError as exc:
            findings.append(Finding("tags file matches the registry", False, exc.message))
            return findings

        for fold in self.spec.folds:
            try:
                parts = {split: unchecked.tracks(fold, split) for split in SPLITS}
            except HarnessError as exc:
                findings.append(Finding(f"{fold}: split files readable", False, exc.message))
                continue
            expected = self.expected_counts.get(fold, {})
            for split, rows in parts.items():
                if split in expected:
                    findings.append(
                        Finding(f"{fold}: {split} has {expected[split]} tracks", len(rows) == expected[split], f"{len(rows)} tracks")
                    )
            findings += audit_fold(unchecked, fold)
            findings += _artist_findings(fold, parts)
        return findings

    # download ----------------------------------------------------------------------------------------------

    def fetch(self, what: str = "splits", base_url: str | None = None, on_progress: Progress | None = None) -> list[Path]:
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

    def _fetch_archives(self, archive_set: ArchiveSet, base_url: str | None, on_progress: Progress | None) -> list[Path]:
        base = base_url or archive_set.base_url
        if not base:
            raise BadInputError(f"{self.spec.registry_path}: source.{archive_set.kind}.base_url is empty; pass --base-url")
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
    from harness.datasets.audit import Finding

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
                )
            )
    return findings
