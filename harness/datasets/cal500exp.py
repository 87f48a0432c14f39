"""The ``cal500exp`` family: CAL500 expansion, time-varying segment labels of CAL500 songs.

CAL500exp (J.-C. Wang, S.-Y. Wang, Y.-H. Yang, H.-M. Wang, "Towards time-varying music
auto-tagging based on CAL500 expansion", IEEE ICME 2014; Academia Sinica): 3,223 segments of 500
CAL500 songs (CAL500's 502 less ``crosby_stills_and_nash-guinnevere`` and
``radiohead-karma_police``). Research use with attribution; the harness never downloads or
copies it. The root holds, as the publisher ships them,

- ``SegLabelHard/<song id>.csv``: one file per song, CRLF, a header
  ``Start_Time,End_Time,<67 tags>``, then one row per segment (times in seconds, tag values
  ``0.000000``/``1.000000``). Rows are *not* sorted by time. The 67 tags are the 18 CAL500
  emotions (positive forms, spelled exactly as in CAL500's ``vocab.txt``, ``Agressive``
  included), 24 ``Instrument_-_*``, 16 ``Vocals-*`` and 9 ``Instrument_-_*-Solo``;
- ``audio/<song id>.mp3`` (for features only): the CAL500 song audio; segments are cut from it.

Items: segment ids ``<song id>/<start>-<end>``, times in seconds with three decimals, in a stable
documented order: songs by file name (code-point order, which is CAL500's ``songNames.txt``
order), then segments by ``(start, end)``. The registry picks tags by name from the header
(default: the 18 emotions; ``cal500exp-67``: all 67); an unknown name is a FormatError.

Groups: the song of each segment. The default folds keep every song whole (no song in two parts);
the CNN paper's segment-random folds are a variant whose scores carry the flag
``leaky: segments of one song in train and test``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from harness.datasets.base import AudioSource, Progress
from harness.datasets.checksums import tree_sha256
from harness.datasets.committed_folds import CommittedFoldsDataset, ItemTable
from harness.errors import DataMissingError, FormatError

SEGMENTS_DIR = "SegLabelHard"
TIME_COLUMNS = ("Start_Time", "End_Time")
LEAKY_FLAG = "leaky: segments of one song in train and test"
OBTAIN = (
    "CAL500exp from http://slam.iis.sinica.edu.tw/demo/CAL500exp/ (SegLabelHard/<song>.csv); "
    "audio: the CAL500 mp3s in audio/<song>.mp3"
)


@dataclass(frozen=True)
class Segment:
    """One labelled segment of a CAL500 song, where it was read from."""

    item_id: str
    song: str
    start: float
    end: float
    path: Path
    line: int


def segment_id(song: str, start: float, end: float) -> str:
    return f"{song}/{start:.3f}-{end:.3f}"


def read_segment_file(path: Path, tags: tuple[str, ...]) -> tuple[list[Segment], np.ndarray]:
    """The segments of one ``SegLabelHard/<song>.csv`` in file order, and their labels over ``tags``."""
    song = path.stem
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not UTF-8 text ({exc})") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or tuple(header[:2]) != TIME_COLUMNS:
        raise FormatError(
            f"{path}:1: header must start with Start_Time,End_Time (got {','.join((header or [])[:2])!r})"
        )
    names = header[2:]
    position: dict[str, int] = {}
    for j, name in enumerate(names):
        if name in position:
            raise FormatError(f"{path}:1: tag {name!r} appears twice in the header")
        position[name] = j + 2
    unknown = [t for t in tags if t not in position]
    if unknown:
        raise FormatError(
            f"{path}:1: tag {unknown[0]!r} of the registry is not in the header "
            f"(the header has {len(names)} tags, e.g. {names[0] if names else 'none'!r})"
        )
    columns = [position[t] for t in tags]
    segments: list[Segment] = []
    rows: list[list[bool]] = []
    for line, cells in enumerate(reader, start=2):
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise FormatError(f"{path}:{line}: {len(cells)} values, the header has {len(header)} columns")
        try:
            start, end = float(cells[0]), float(cells[1])
        except ValueError:
            raise FormatError(f"{path}:{line}: times {cells[0]!r}, {cells[1]!r} are not numbers") from None
        if not (0 <= start < end):
            raise FormatError(f"{path}:{line}: segment {start}-{end} s: need 0 <= start < end")
        row = []
        for j in columns:
            cell = cells[j].strip()
            try:
                value = float(cell)
            except ValueError:
                value = -1.0
            if value not in (0.0, 1.0):
                raise FormatError(f"{path}:{line}: {header[j]} = {cell!r}, expected 0 or 1")
            row.append(value == 1.0)
        segments.append(Segment(segment_id(song, start, end), song, start, end, path, line))
        rows.append(row)
    if not segments:
        raise FormatError(f"{path}: no segments")
    return segments, np.asarray(rows, dtype=bool).reshape(len(segments), len(tags))


def read_segments(directory: Path, tags: tuple[str, ...]) -> tuple[list[Segment], np.ndarray]:
    """Every segment of a ``SegLabelHard`` folder in item order (song file name, then start and end time)."""
    if not directory.is_dir():
        raise DataMissingError(f"{directory}: not found ({OBTAIN})")
    files = sorted(directory.glob("*.csv"), key=lambda p: p.name)
    if not files:
        raise DataMissingError(f"{directory}: no <song>.csv files ({OBTAIN})")
    segments: list[Segment] = []
    blocks: list[np.ndarray] = []
    for path in files:
        song_segments, labels = read_segment_file(path, tags)
        order = sorted(range(len(song_segments)), key=lambda i: (song_segments[i].start, song_segments[i].end))
        segments += [song_segments[i] for i in order]
        blocks.append(labels[order])
    first: dict[str, Segment] = {}
    for segment in segments:
        if segment.item_id in first:
            other = first[segment.item_id]
            raise FormatError(
                f"{segment.path}:{segment.line}: duplicate segment id {segment.item_id!r} "
                f"(also {other.path.name}:{other.line})"
            )
        first[segment.item_id] = segment
    return segments, np.concatenate(blocks)


class CAL500expDataset(CommittedFoldsDataset):
    """CAL500exp segments with the registry's tags (picked by name from the CSV headers)."""

    tree_patterns = {SEGMENTS_DIR: "*.csv"}
    default_obtain = OBTAIN

    @cached_property
    def segments(self) -> list[Segment]:
        """Every segment in item order, with its song and its (start, end) in seconds."""
        return self._segments_and_labels[0]

    @cached_property
    def _segments_and_labels(self) -> tuple[list[Segment], np.ndarray]:
        directory = self.require(SEGMENTS_DIR)
        self.check_pins([SEGMENTS_DIR])
        return read_segments(directory, self.spec.tags)

    def segment(self, item_id: str) -> Segment:
        return self._by_id[item_id]

    @cached_property
    def _by_id(self) -> dict[str, Segment]:
        return {s.item_id: s for s in self.segments}

    def _read_items(self) -> ItemTable:
        segments, labels = self._segments_and_labels
        return ItemTable(tuple(s.item_id for s in segments), labels, tuple(s.song for s in segments))

    def audio_files(self) -> list[tuple[str, Path]]:
        """(segment id, path of its *song's* audio); cut it with :meth:`segment_times`."""
        return [(s.item_id, self.audio_path(s.song)) for s in self.segments]

    def audio_sources(self) -> list[AudioSource]:
        """Each segment as ``[start, end)`` of its song's audio: the feature store cuts it there."""
        return [AudioSource(s.item_id, self.audio_path(s.song), s.start, s.end) for s in self.segments]

    def segment_times(self) -> list[tuple[str, float, float]]:
        """(segment id, start s, end s) in item order: what to cut from each song's audio."""
        return [(s.item_id, s.start, s.end) for s in self.segments]

    def ensure_source(self, on_progress: Progress | None = None) -> None:
        songs = sorted({s.song for s in self.segments})
        missing = [self.audio_path(song) for song in songs if not self.audio_path(song).is_file()]
        if missing:
            raise DataMissingError(
                f"{len(missing)} of {len(songs)} CAL500 song audio files are missing, e.g. {missing[0]}; "
                f"put the CAL500 mp3s in {self.audio_dir()} as <song id>.mp3 (CAL500exp segments are cut from them)"
            )

    def source_checksum(self) -> str:
        return tree_sha256(self.require(SEGMENTS_DIR), self.tree_patterns[SEGMENTS_DIR])
