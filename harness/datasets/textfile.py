"""Reading the text files a person writes by hand (``dataset.toml``, ``items.tsv``, ``folds.tsv``).

Registries and item lists are UTF-8. Editors and spreadsheets save other things too, and the
mistake should say so in one line, naming the file and the fix, instead of a decoder's traceback:

- a UTF-8 byte-order mark (what Excel writes for "CSV UTF-8") is valid UTF-8: it is dropped, so
  the first header cell reads ``id``, not ``\\ufeffid``;
- a UTF-16 or UTF-32 byte-order mark names the encoding and its mark (``UTF-16 text (byte-order
  mark FF FE); save it as UTF-8``);
- any other undecodable byte names its offset and line.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path

from harness.errors import DataMissingError, FormatError

# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_FOREIGN_MARKS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def decode_utf8(path: Path, data: bytes) -> str:
    """``data`` (the bytes of ``path``) as text: UTF-8, with or without a UTF-8 byte-order mark."""
    for mark, encoding in _FOREIGN_MARKS:
        if data.startswith(mark):
            shown = " ".join(f"{b:02X}" for b in mark)
            raise FormatError(f"{path}: {encoding} text (byte-order mark {shown}); save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FormatError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02X} at offset {exc.start}); save it as UTF-8"
        ) from None


def read_utf8(path: Path, what: str = "file") -> str:
    """The text of ``path`` (see :func:`decode_utf8`); a missing or unreadable file names itself."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise DataMissingError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    return decode_utf8(Path(path), data)


def tsv_rows(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of tab-separated ``text``; a row the csv module refuses names ``path:line``.

    The csv module caps a field at ``csv.field_size_limit()`` characters; a field that long is in
    practice an unbalanced ``"`` that swallowed the rest of the file, which the message says.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t")
    ended = 0  # the physical line the previous row ended on (a quoted field may span lines)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            hint = ' (an unbalanced " quote?)' if "field limit" in str(exc) else ""
            raise FormatError(f"{path}:{ended + 1}: {exc}{hint}; fix that line") from None
        start, ended = ended + 1, reader.line_num
        yield start, cells
