"""MTG-Jamendo's official split and tag files, read exactly as the MTG repository ships them, and the registry's ``[source]`` table.

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
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.datasets.checksums import sha256_file
from harness.datasets.fetch import PinnedFile
from harness.datasets.registry import SPLITS, DatasetSpec
from harness.errors import DataMissingError, FormatError

HEADER: tuple[str, ...] = ("TRACK_ID", "ARTIST_ID", "ALBUM_ID", "PATH", "DURATION", "TAGS")
DEFAULT_TAGS_FILE = "data/tags/moodtheme_split.txt"
DEFAULT_SPLIT_PATTERN = "data/splits/{fold}/autotagging_moodtheme-{split}.tsv"
ARCHIVE_KINDS: tuple[str, ...] = ("melspecs", "audio")
WHAT: tuple[str, ...] = ("splits", *ARCHIVE_KINDS)

_ID_PATTERNS = {
    "TRACK_ID": re.compile(r"track_\d+"),
    "ARTIST_ID": re.compile(r"artist_\d+"),
    "ALBUM_ID": re.compile(r"album_\d+"),
}
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
                    raise FormatError(
                        f"{path}:{line}: duplicate TRACK_ID {track.track_id!r} (first on line {seen[track.track_id]})"
                    )
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
        raise FormatError(
            f"{where}: {len(cells)} column(s); a row needs TRACK_ID, ARTIST_ID, ALBUM_ID, PATH, DURATION, then its tags"
        )
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
            raise FormatError(
                f"{where}: unknown tag {tag!r} for {cells[0]} (not one of the registry's {len(known)} tags)"
            )
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
                archive_sets[kind] = ArchiveSet(
                    kind, str(table.get("base_url", "")), archives, str(table.get("checksums_source", ""))
                )
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
