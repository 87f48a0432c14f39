"""The ``cal500`` family: CAL500 songs, their hard annotations, and the raw listener surveys.

CAL500 (Turnbull, Barrington, Torres and Lanckriet, SIGIR 2007; UC San Diego Computer Audition
Lab): 502 western popular songs, each annotated by at least three listeners. Non-commercial
research use by permission of the Computer Audition Laboratory, UC San Diego; the harness never
downloads or copies it: a user points ``--root`` at a folder holding, as the publisher ships them,

- ``songNames.txt``: 502 song ids ``artist-title``, one a line: the item ids, in this order;
- ``vocab.txt``: 174 tag names, one a line; line ``i`` is column ``i`` of the matrices. Lines 1-36
  are the 18 emotions as ``Emotion-X`` / ``NOT-Emotion-X`` pairs (``Emotion-Angry_/_Agressive``
  is spelled with one g);
- ``hardAnnotations.txt``: 502 x 174, comma-separated 0/1, no header: the labels. A song has a
  word when at least two listeners gave an opinion and at least 80% of the opinions agree;
- ``annotations/<song>_<NN>.txt`` (optional): the raw surveys, lines ``Key = "Value"``. A file
  starts with ``songName = "<song>.mp3"``; 46 of the 1,708 files hold a second survey record
  after the first (a second ``songName`` line). ``Emotion-X`` values are ratings ``"1"``..``"5"``
  of the positive form; the survey has no separate ``NOT-`` question;
- ``audio/<song>.mp3`` (for features only): the CAL500 audio, not part of the annotation files.

The registry picks tags by name from ``vocab.txt`` (default: the 18 positive emotion forms); an
unknown name is a :class:`~harness.errors.FormatError`.

Survey labels (:func:`survey_labels`): a rating of 4-5 is a yes, 1-2 a no, 3 no opinion; a song
has ``Emotion-X`` when yes >= 2 and yes / (yes + no) >= 0.8, and ``NOT-Emotion-X`` when no >= 2
and no / (yes + no) >= 0.8. Counting each survey file once (its first record, ``records="first"``,
the publisher's 1,708 annotations) reproduces every one of the 9,036 emotion cells of
``hardAnnotations.txt``; counting all 1,754 records gives 8,999 agreeing cells, and the last
record of each file 8,997. The hard file is the truth; the agreement is reported by ``verify``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from harness.datasets.base import Progress
from harness.datasets.checksums import sha256_file
from harness.datasets.committed_folds import CommittedFoldsDataset, ItemTable
from harness.datasets.findings import Finding
from harness.errors import DataMissingError, FormatError

SONG_NAMES = "songNames.txt"
VOCAB = "vocab.txt"
HARD_ANNOTATIONS = "hardAnnotations.txt"
SURVEYS = "annotations"
EMOTION_PREFIX = "Emotion-"
NOT_PREFIX = "NOT-"
RECORD_POLICIES: tuple[str, ...] = ("first", "all", "last")
OBTAIN = (
    "CAL500 from the UCSD Computer Audition Lab, http://calab1.ucsd.edu/~datasets/cal500/ "
    "(songNames.txt, vocab.txt, hardAnnotations.txt, annotations/; audio in audio/<song>.mp3)"
)

_SURVEY_LINE = re.compile(r'^(?P<key>[^\s=][^=]*?) = "(?P<value>[^"]*)"$')
_SURVEY_FILE = re.compile(r"^(?P<song>.+)_(?P<number>\d+)\.txt$")


# --- the publisher's files ---------------------------------------------------------------------


def _lines(path: Path) -> list[str]:
    """Lines of a one-entry-a-line file; a final empty line is allowed, an empty line inside is not."""
    if not path.is_file():
        raise DataMissingError(f"{path}: not found ({OBTAIN})")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not UTF-8 text ({exc})") from exc
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise FormatError(f"{path}:{number}: empty line")
        if line != line.strip():
            raise FormatError(f"{path}:{number}: leading or trailing white space in {line!r}")
    return lines


def _unique_lines(path: Path, what: str) -> tuple[str, ...]:
    """The lines of ``path`` in file order; a repeated line names both line numbers."""
    lines = _lines(path)
    first: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if line in first:
            raise FormatError(f"{path}:{number}: duplicate {what} {line!r} (first on line {first[line]})")
        first[line] = number
    return tuple(lines)


def read_song_names(path: Path) -> tuple[str, ...]:
    """The song ids of ``songNames.txt`` in file order; a duplicate names both lines."""
    songs = _unique_lines(path, "song id")
    if not songs:
        raise FormatError(f"{path}: no songs")
    return songs


def read_vocab(path: Path) -> tuple[str, ...]:
    """The tag names of ``vocab.txt`` in column order; a duplicate names both lines."""
    return _unique_lines(path, "tag")


def emotion_tags(vocab: Sequence[str], path: Path | str = VOCAB) -> tuple[str, ...]:
    """The positive forms of the ``Emotion-X`` / ``NOT-Emotion-X`` pairs at the top of the vocabulary (18 in CAL500)."""
    tags = []
    i = 0
    while i < len(vocab) and vocab[i].startswith(EMOTION_PREFIX):
        positive = vocab[i]
        negative = vocab[i + 1] if i + 1 < len(vocab) else "nothing"
        if negative != NOT_PREFIX + positive:
            raise FormatError(
                f"{path}:{i + 1}: expected an Emotion-X / NOT-Emotion-X pair, got {positive!r} / {negative!r}"
            )
        tags.append(positive)
        i += 2
    if not tags:
        raise FormatError(f"{path}:1: the vocabulary must begin with Emotion-X / NOT-Emotion-X pairs, got {vocab[:1]}")
    return tuple(tags)


def read_hard_annotations(path: Path, n_songs: int, n_tags: int) -> np.ndarray:
    """``hardAnnotations.txt`` as a bool ``(n_songs, n_tags)`` matrix; a bad row names its line."""
    if not path.is_file():
        raise DataMissingError(f"{path}: not found ({OBTAIN})")
    rows = path.read_text(encoding="ascii", errors="replace").splitlines()
    while rows and not rows[-1].strip():
        rows.pop()
    if len(rows) != n_songs:
        raise FormatError(f"{path}: {len(rows)} rows, but {SONG_NAMES} lists {n_songs} songs")
    matrix = np.zeros((n_songs, n_tags), dtype=bool)
    for number, row in enumerate(rows, start=1):
        cells = row.strip().split(",")
        if len(cells) != n_tags:
            raise FormatError(f"{path}:{number}: {len(cells)} values, {VOCAB} lists {n_tags} tags")
        try:
            values = [float(c) for c in cells]
        except ValueError:
            bad = next(c for c in cells if not _is_number(c))
            raise FormatError(f"{path}:{number}: {bad!r} is not a number") from None
        if any(v not in (0.0, 1.0) for v in values):
            bad = next(c for c, v in zip(cells, values) if v not in (0.0, 1.0))
            raise FormatError(f"{path}:{number}: value {bad!r}, expected 0 or 1")
        matrix[number - 1] = np.asarray(values) == 1.0
    return matrix


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- the raw surveys ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyRecord:
    """One listener's survey of one song: its ``Key = "Value"`` fields, and where it starts."""

    song: str
    path: Path
    line: int
    fields: dict[str, str]


def read_survey_file(path: Path) -> list[SurveyRecord]:
    """The survey records of one ``annotations/<song>_<NN>.txt`` (usually one; some files hold two)."""
    match = _SURVEY_FILE.match(path.name)
    if not match:
        raise FormatError(f"{path}: survey file names must be <song>_<NN>.txt")
    song = match.group("song")
    records: list[SurveyRecord] = []
    fields: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        parsed = _SURVEY_LINE.match(line.rstrip("\r"))
        if not parsed:
            raise FormatError(f'{path}:{number}: expected Key = "Value", got {line[:60]!r}')
        key, value = parsed.group("key"), parsed.group("value")
        if key == "songName":
            if value != f"{song}.mp3":
                raise FormatError(f"{path}:{number}: songName {value!r}, the file name says {song}.mp3")
            fields = {}
            records.append(SurveyRecord(song, path, number, fields))
        elif not records:
            raise FormatError(f"{path}:{number}: {key!r} before the first songName line")
        if key.startswith(EMOTION_PREFIX) and value not in {"1", "2", "3", "4", "5"}:
            raise FormatError(f"{path}:{number}: {key} = {value!r}, expected a rating 1..5")
        fields[key] = value
    if not records:
        raise FormatError(f"{path}: no survey record (no songName line)")
    return records


def read_surveys(directory: Path) -> dict[str, list[list[SurveyRecord]]]:
    """``song -> [records of each survey file]`` for every ``*.txt`` of the folder, files in name order."""
    if not directory.is_dir():
        raise DataMissingError(f"{directory}: survey folder not found ({OBTAIN})")
    surveys: dict[str, list[list[SurveyRecord]]] = {}
    for path in sorted(directory.glob("*.txt"), key=lambda p: p.name):
        records = read_survey_file(path)
        surveys.setdefault(records[0].song, []).append(records)
    if not surveys:
        raise FormatError(f"{directory}: no survey files (<song>_<NN>.txt)")
    return surveys


def survey_votes(
    surveys: dict[str, list[list[SurveyRecord]]], songs: Sequence[str], emotion: str, records: str = "first"
) -> tuple[np.ndarray, np.ndarray]:
    """Yes (rating 4-5) and no (rating 1-2) votes per song for the survey question ``emotion``."""
    if records not in RECORD_POLICIES:
        raise ValueError(f"records={records!r}, expected one of {', '.join(RECORD_POLICIES)}")
    yes = np.zeros(len(songs), dtype=np.int64)
    no = np.zeros(len(songs), dtype=np.int64)
    for i, song in enumerate(songs):
        for file_records in surveys.get(song, []):
            chosen = {"first": file_records[:1], "all": file_records, "last": file_records[-1:]}[records]
            for record in chosen:
                if emotion not in record.fields:
                    raise FormatError(f"{record.path}:{record.line}: the survey record has no {emotion!r}")
                rating = int(record.fields[emotion])
                yes[i] += rating >= 4
                no[i] += rating <= 2
    return yes, no


def agreement_rule(votes_for: np.ndarray, votes_against: np.ndarray) -> np.ndarray:
    """CAL500's hard rule: at least two votes for, and at least 80% of the opinions for."""
    opinions = votes_for + votes_against
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(opinions > 0, votes_for / np.maximum(opinions, 1), 0.0)
    return (votes_for >= 2) & (share >= 0.8)


def survey_question(tag: str) -> tuple[str, bool] | None:
    """``(survey key, positive?)`` for an emotion tag (``Emotion-X`` or ``NOT-Emotion-X``), else None."""
    if tag.startswith(EMOTION_PREFIX):
        return tag, True
    if tag.startswith(NOT_PREFIX + EMOTION_PREFIX):
        return tag[len(NOT_PREFIX) :], False
    return None


def survey_labels(
    surveys: dict[str, list[list[SurveyRecord]]], songs: Sequence[str], tags: Sequence[str], records: str = "first"
) -> tuple[np.ndarray, list[str]]:
    """Labels derived from the surveys for the emotion tags among ``tags``: ``(bool (songs, derivable), derivable tags)``."""
    derivable = [t for t in tags if survey_question(t) is not None]
    labels = np.zeros((len(songs), len(derivable)), dtype=bool)
    for j, tag in enumerate(derivable):
        key, positive = survey_question(tag)  # type: ignore[misc]
        yes, no = survey_votes(surveys, songs, key, records)
        labels[:, j] = agreement_rule(yes, no) if positive else agreement_rule(no, yes)
    return labels, derivable


@dataclass(frozen=True)
class SurveyAgreement:
    """How many (song, tag) cells of the survey-derived labels equal the hard labels."""

    agree: int
    total: int
    records: str
    tags: tuple[str, ...]
    disagreements: tuple[tuple[str, str, bool], ...]  # (song, tag, hard label)
    songs_without_survey: tuple[str, ...]
    surveys_without_song: tuple[str, ...]


def survey_agreement(
    songs: Sequence[str],
    tags: Sequence[str],
    hard: np.ndarray,
    surveys: dict[str, list[list[SurveyRecord]]],
    records: str = "first",
) -> SurveyAgreement:
    """Compare the survey-derived labels with ``hard`` (bool ``(songs, tags)``) on the derivable tags."""
    derived, derivable = survey_labels(surveys, songs, tags, records)
    columns = [list(tags).index(t) for t in derivable]
    truth = np.asarray(hard, dtype=bool)[:, columns]
    differ = np.argwhere(derived != truth)
    return SurveyAgreement(
        agree=int((derived == truth).sum()),
        total=int(truth.size),
        records=records,
        tags=tuple(derivable),
        disagreements=tuple((songs[i], derivable[j], bool(truth[i, j])) for i, j in differ),
        songs_without_survey=tuple(s for s in songs if s not in surveys),
        surveys_without_song=tuple(sorted(set(surveys) - set(songs))),
    )


# --- the family --------------------------------------------------------------------------------


class CAL500Dataset(CommittedFoldsDataset):
    """CAL500 songs with the registry's tags (picked by name from ``vocab.txt``), hard labels."""

    tree_patterns = {SURVEYS: "*.txt"}
    default_obtain = OBTAIN

    def source_files(self) -> tuple[str, ...]:
        return (SONG_NAMES, VOCAB, HARD_ANNOTATIONS)

    @cached_property
    def songs(self) -> tuple[str, ...]:
        return read_song_names(self.require(SONG_NAMES))

    @cached_property
    def vocab(self) -> tuple[str, ...]:
        return read_vocab(self.require(VOCAB))

    @cached_property
    def hard_annotations(self) -> np.ndarray:
        """All ``(songs, vocab)`` hard labels."""
        return read_hard_annotations(self.require(HARD_ANNOTATIONS), len(self.songs), len(self.vocab))

    def tag_columns(self) -> list[int]:
        """Column of every registry tag in ``vocab.txt``; an unknown tag names the registry and the file."""
        position = {tag: j for j, tag in enumerate(self.vocab)}
        unknown = [t for t in self.spec.tags if t not in position]
        if unknown:
            raise FormatError(
                f"{self.spec.registry_path}: tag {unknown[0]!r} is not in {self.root / VOCAB} "
                f"(tags are spelled as in vocab.txt, e.g. {self.vocab[0]!r})"
            )
        return [position[t] for t in self.spec.tags]

    def _read_items(self) -> ItemTable:
        for rel in self.source_files():
            self.require(rel)
        self.check_pins(self.source_files())
        emotion_tags(self.vocab, self.root / VOCAB)
        labels = self.hard_annotations[:, self.tag_columns()]
        return ItemTable(self.songs, labels)

    def survey_agreement(self, records: str = "first") -> SurveyAgreement:
        """Survey-derived labels against the hard labels, on the registry's emotion tags."""
        surveys = read_surveys(self.require(SURVEYS))
        return survey_agreement(self.items.item_ids, self.spec.tags, self.items.labels, surveys, records)

    def audio_files(self) -> list[tuple[str, Path]]:
        return [(song, self.audio_path(song)) for song in self.items.item_ids]

    def ensure_source(self, on_progress: Progress | None = None) -> None:
        self.items  # noqa: B018 - reads and checks the annotation files
        missing = [path for _, path in self.audio_files() if not path.is_file()]
        if missing:
            raise DataMissingError(
                f"{len(missing)} of {len(self.items.item_ids)} CAL500 audio files are missing, e.g. {missing[0]}; "
                f"put the CAL500 mp3s in {self.audio_dir()} as <song id>.mp3 ({self.obtain_hint()})"
            )

    def source_checksum(self) -> str:
        return sha256_file(self.require(SONG_NAMES))

    def _source_findings_extra(self) -> list[Finding]:
        findings = []
        emotions = [t for t in self.spec.tags if survey_question(t) is not None]
        if not emotions:
            return findings
        if not (self.root / SURVEYS).is_dir():
            return [
                Finding(
                    "survey labels agree with the hard labels (informational)",
                    True,
                    f"no {SURVEYS}/ folder under {self.root}; skipped",
                )
            ]
        try:
            results = {policy: self.survey_agreement(policy) for policy in RECORD_POLICIES}
        except FormatError as exc:
            return [Finding("surveys readable", False, exc.message)]
        first = results["first"]
        detail = (
            f"{first.agree} of {first.total} cells agree with {HARD_ANNOTATIONS} counting each survey file once "
            f"(its first record); all records: {results['all'].agree}, last record per file: {results['last'].agree}"
        )
        if first.disagreements:
            song, tag, truth = first.disagreements[0]
            detail += f"; e.g. {song} {tag}: hard {int(truth)}"
        if first.surveys_without_song:
            detail += f"; surveys of songs not in {SONG_NAMES}: {', '.join(first.surveys_without_song)}"
        if first.songs_without_survey:
            detail += f"; songs without surveys: {len(first.songs_without_survey)}"
        # Informational: the hard file is the truth, whatever the surveys say.
        return [Finding("survey labels agree with the hard labels (informational)", True, detail)]
