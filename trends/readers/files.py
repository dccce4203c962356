"""Loading a file into a raw table, before any parsing, and refusing what cannot be read.

What a reader loads:

- Only regular files: a FIFO, a device (``/dev/zero``), a socket or a directory is
  refused with a :class:`~trends.errors.FileError` before it is opened, so reading
  never hangs or streams without end.
- At most :data:`~trends.readers.parse.MAX_FILE_BYTES` bytes of data (a ``.gz``
  file decompressed, a Parquet file decoded); a larger file is a
  :class:`~trends.errors.LimitError`.
- CSV: UTF-8, with or without a byte-order mark, or UTF-16 with one; text kept as
  text (pandas' string dtype; only empty fields are missing). The records are those
  the CSV grammar (RFC 4180, pandas' C tokenizer) sees: a quoted field may span
  lines, and blank lines are no records. A duplicated column name is a
  :class:`~trends.errors.SchemaError`.
- Parquet (``.parquet``, ``.pq``): columns keep their types; duplicated names are
  refused likewise.
- Every field longer than :data:`~trends.readers.parse.MAX_FIELD_CHARS` characters
  is a LimitError naming its row and column.

The frame's index is the 0-based record number, kept when rows are set aside, so
that every later error names the record of the file.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import logging
import os
import re
import stat
import zlib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import EmptyInputError, FileError, FormatError, LimitError, SchemaError
from . import parse
from .parse import refuse_first

__all__ = [
    "RawTable",
    "read_table",
    "column_names",
    "check_names",
    "set_aside_spanning",
    "SPANNING_REASON",
    "read_tab",
    "set_aside_repeats",
    "REPEATED_REASON",
]

logger = logging.getLogger(__name__)

_PARQUET = (".parquet", ".pq")
#: The ledger reason of a record whose field swallowed lines of the file.
SPANNING_REASON = "a field spans lines of the file and holds delimiters (an unbalanced quote?)"


@dataclass
class RawTable:
    """A file's records as read: the frame, how many records the file holds, and where.

    ``set_aside`` counts records removed before parsing, by reason; ``records`` is
    ``len(frame)`` plus those.
    """

    frame: pd.DataFrame
    file: str
    records: int
    #: whether a field may hold a line break of the file (CSV files with more line
    #: breaks than records): only then can a quote have swallowed lines
    may_span: bool
    set_aside: dict[str, int] = field(default_factory=dict)


def _check_path(path: Path) -> os.stat_result:
    """The file's status; a FileError unless it is a regular file of bounded size."""
    try:
        status = path.stat()
    except FileNotFoundError:
        raise FileError("no such file", file=str(path)) from None
    except OSError as exc:
        raise FileError(f"cannot be read: {exc.strerror or exc}", file=str(path)) from None
    if not stat.S_ISREG(status.st_mode):
        raise FileError(
            "not a regular file (a directory, FIFO, device or socket); "
            "trends reads regular files only",
            file=str(path),
        )
    if status.st_size > parse.MAX_FILE_BYTES:
        raise LimitError(
            f"{status.st_size:,} bytes; a reader loads at most {parse.MAX_FILE_BYTES:,}",
            file=str(path),
        )
    return status


def _is_gzip(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def _is_parquet(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(_PARQUET)


def _raw_bytes(path: Path, limit: int | None = None) -> bytes:
    """The file's bytes (decompressed for ``.gz``), at most ``limit`` (default: all)."""
    cap = parse.MAX_FILE_BYTES if limit is None else limit
    try:
        opener = gzip.open if _is_gzip(path) else open
        with opener(path, "rb") as handle:
            data = handle.read(cap + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise FormatError(f"cannot be read: {exc}", file=str(path)) from None
    if len(data) > cap and limit is None:
        raise LimitError(
            f"more than {cap:,} bytes once decompressed; a reader loads at most {cap:,}",
            file=str(path),
        )
    return data[:cap]


def _encoding(data: bytes) -> tuple[str, str]:
    """The codec and its name: UTF-16 when the data opens with its mark, else UTF-8."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16"
    return "utf-8-sig", "UTF-8"


def _decode(data: bytes, file: str, *, partial: bool = False) -> str:
    """UTF-8 (a byte-order mark dropped) or UTF-16 with its mark; else a FormatError."""
    encoding, label = _encoding(data)
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
        text = decoder.decode(data, final=not partial)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FormatError(
            f"byte {data[exc.start]:#04x} on line {line} of the file is not {label} text; "
            "save the file as UTF-8",
            file=file,
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise FormatError(f"line {line} of the file holds a NUL character", file=file)
    return text


def _header(text: str) -> list[str]:
    """The header record's names as the CSV grammar splits them."""
    try:
        return next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error:
        return []


def check_names(names: list[str], file: str) -> None:
    """A SchemaError naming the first column name that appears twice; a LimitError for a
    name longer than MAX_NAME_CHARS."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if len(name) > parse.MAX_NAME_CHARS:
            raise LimitError(
                f"the name of column {i + 1} has {len(name):,} characters; column names "
                f"are limited to {parse.MAX_NAME_CHARS:,}",
                file=file,
            )
        if name.strip() == "":
            continue
        if name in seen:
            raise SchemaError(
                f"the column name appears twice in the header (columns {seen[name] + 1} "
                f"and {i + 1}); every column needs its own name",
                file=file,
                column=name,
            )
        seen[name] = i


def _parser_error(exc: Exception, file: str) -> FormatError:
    message = str(exc).replace("Error tokenizing data. C error: ", "").strip()
    message = re.sub(r"\bline (\d+)\b", r"line \1 of the file", message)
    return FormatError(f"cannot be read as CSV: {message}", file=file)


def _line_breaks(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _read_csv(path: Path, file: str) -> tuple[pd.DataFrame, bool]:
    """The records of a CSV file, and whether a field may hold a line break."""
    text = _decode(_raw_bytes(path), file)
    if not text or text.isspace():
        raise EmptyInputError("the file is empty: expected a header row and data rows", file=file)
    check_names(_header(text[: 1 << 20]), file)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype="string",
            keep_default_na=False,
            na_values=[""],
            engine="c",
        )
    except pd.errors.EmptyDataError as exc:
        raise EmptyInputError(
            "the file is empty: expected a header row and data rows", file=file
        ) from exc
    except (pd.errors.ParserError, ValueError, OverflowError, MemoryError) as exc:
        raise _parser_error(exc, file) from exc
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas takes the first column as the index when the first record has one
        # field more than the header: the columns would be silently shifted.
        raise FormatError(
            f"the first record has more fields than the header ({len(frame.columns)}); "
            "the columns do not line up",
            file=file,
            row=1,
        )
    # the header and each record end with at most one line break; any more are blank
    # lines or line breaks inside fields
    return frame, _line_breaks(text) > len(frame) + 1


def _parquet_size(path: Path) -> int:
    """Bytes a Parquet file's data takes once decoded, counted without decoding it all.

    Stored size first (pages uncompressed, still encoded); then text and bytes columns
    are read one row group at a time as dictionaries, whose decoded size is the sum of
    the lengths of the values their indices point to, so a small file of one long
    string repeated millions of times cannot exhaust memory.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    cap = parse.MAX_FILE_BYTES
    meta = pq.read_metadata(path)
    total = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if total > cap:
        return total
    schema = pq.read_schema(path)
    text = [
        f.name
        for f in schema
        if pa.types.is_string(f.type)
        or pa.types.is_binary(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_large_binary(f.type)
    ]
    if not text:
        return total
    handle = pq.ParquetFile(path, read_dictionary=text)
    decoded = 0
    for group in range(handle.num_row_groups):
        table = handle.read_row_group(group, columns=text)
        for column in table.columns:
            for chunk in column.chunks:
                if pa.types.is_dictionary(chunk.type):
                    lengths = pc.binary_length(chunk.dictionary).take(chunk.indices)
                    decoded += int(pc.sum(lengths).as_py() or 0) + 8 * len(chunk)
                else:
                    decoded += chunk.nbytes
        if total + decoded > cap:
            break
    return total + decoded


def _read_parquet(path: Path, file: str) -> pd.DataFrame:
    import pyarrow as pa

    check_names(column_names(path), file)
    try:
        size = _parquet_size(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise FormatError(f"cannot be read as Parquet: {exc}", file=file) from None
    if size > parse.MAX_FILE_BYTES:
        raise LimitError(
            f"more than {parse.MAX_FILE_BYTES:,} bytes once decoded; a reader loads at most "
            f"{parse.MAX_FILE_BYTES:,}",
            file=file,
        )
    try:
        frame = pd.read_parquet(path)
    except (pa.ArrowException, OSError, ValueError, OverflowError) as exc:
        raise FormatError(f"cannot be read as Parquet: {exc}", file=file) from None
    return frame.reset_index(drop=True)


def _check_field_sizes(frame: pd.DataFrame, file: str) -> None:
    """A LimitError at the first field longer than MAX_FIELD_CHARS characters."""
    limit = parse.MAX_FIELD_CHARS
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_string_dtype(values) and values.dtype != object:
            lengths = values.str.len().fillna(0)
        elif values.dtype == object:
            lengths = values.map(lambda v: len(v) if isinstance(v, str | bytes) else 0)
        else:
            continue
        refuse_first(
            lengths > limit,
            LimitError,
            lambda i, lengths=lengths, limit=limit: (
                f"a field of {lengths.iloc[i]:,} characters; fields are limited to {limit:,}"
            ),
            file=file,
            column=str(name),
        )


def read_table(path: str | Path) -> RawTable:
    """Read a CSV (text kept as text) or Parquet file, refusing what cannot be read safely."""
    path = Path(path)
    file = str(path)
    _check_path(path)
    if _is_parquet(path):
        frame, breaks = _read_parquet(path, file), False
    else:
        frame, breaks = _read_csv(path, file)
    if frame.empty:
        raise EmptyInputError("the file has a header but no data rows", file=file)
    # a plain CSV of fewer bytes than the limit holds no field over it
    if path.stat().st_size > parse.MAX_FIELD_CHARS or _is_gzip(path) or _is_parquet(path):
        _check_field_sizes(frame, file)
    return RawTable(frame=frame, file=file, records=len(frame), may_span=breaks)


def column_names(path: str | Path) -> list[str]:
    """The column names of a CSV (its header record) or Parquet file (its schema)."""
    path = Path(path)
    file = str(path)
    _check_path(path)
    if _is_parquet(path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise FormatError(f"cannot be read as Parquet: {exc}", file=file) from None
    text = _decode(_raw_bytes(path, limit=1 << 20), file, partial=True)
    names = [name.strip() for name in _header(text)]
    if not any(names):
        raise EmptyInputError("the file is empty: expected a header row", file=file)
    return names


def _swallowed(values: pd.Series, width: int) -> pd.Series:
    """True where an inner line of a field holds a whole record (``width - 1`` commas)."""

    def one(value: str) -> bool:
        lines = value.splitlines()
        return any(line.count(",") >= width - 1 for line in lines[1:-1])

    return values.map(one, na_action="ignore").fillna(False).astype(bool)


def set_aside_spanning(table: RawTable, single_line: Collection[str]) -> RawTable:
    """Set aside the CSV records whose fields swallowed lines of the file.

    An unbalanced quote (a cell that opens a quote another cell, rows below, closes)
    makes one field of everything between: the rows become part of a name. A field
    of a ``single_line`` column (a name, a date, a number) that holds a line break and
    a comma, or a field of any column with an inner line holding a whole record,
    marks such a record; it is set aside with :data:`SPANNING_REASON` (and a logged
    warning naming its row and column). Free text with line breaks elsewhere is kept.
    """
    if not table.may_span:
        return table
    frame = table.frame
    width = len(frame.columns)
    span = pd.Series(False, index=frame.index)
    first: tuple[int, str] | None = None
    for name in frame.columns:
        values = frame[name]
        if not pd.api.types.is_string_dtype(values):
            continue
        broken = (
            (values.str.contains("\n", regex=False) | values.str.contains("\r", regex=False))
            .fillna(False)
            .astype(bool)
        )
        if not broken.any():
            continue
        if name in single_line:
            hit = broken & values.str.contains(",", regex=False).fillna(False).astype(bool)
        else:
            hit = broken & _swallowed(values.where(broken), width)
        if hit.any() and first is None:
            first = (int(hit.index[hit.to_numpy()][0]) + 1, str(name))
        span |= hit
    if first is None:
        return table
    n = int(span.sum())
    logger.warning(
        "%s: %d record(s) set aside: %s (first: row %d, column %r)",
        table.file,
        n,
        SPANNING_REASON,
        first[0],
        first[1],
    )
    set_aside = {**table.set_aside, SPANNING_REASON: table.set_aside.get(SPANNING_REASON, 0) + n}
    return RawTable(frame.loc[~span], table.file, table.records, True, set_aside)


def _tab_width(path: Path, what: str, width: int | None) -> int:
    """The number of fields every record must have; a FormatError at the first that differs.

    ``width`` for a file without a header; else the header's fields, trailing blank
    names not counted (a file whose lines end in stray tabs). A record may end in
    extra *empty* fields (stray tabs); a record with fewer fields than the width, or
    with text beyond it, would put values under the wrong names, and is refused
    with its row (1-based, counting data records below the header).
    """
    file = str(path)
    layout = "the layout has" if width else "the header names"
    opener = gzip.open if _is_gzip(path) else open
    try:
        with opener(path, "rb") as handle:
            if width is None:
                header = handle.readline().rstrip(b"\r\n").split(b"\t")
                while len(header) > 1 and not header[-1].strip():
                    header.pop()
                width = len(header)
            row = 0
            for line in handle:
                line = line.rstrip(b"\r\n")
                fields = line.count(b"\t") + 1
                if fields == 1 and not line.strip():
                    continue  # a blank line is no record
                row += 1
                if fields == width:
                    continue
                if fields < width:
                    raise FormatError(
                        f"{fields} tab-separated fields where {layout} {width}: "
                        "the values would sit under the wrong column names",
                        file=file,
                        row=row,
                    )
                if line.split(b"\t", width)[width].strip(b"\t \r"):
                    raise FormatError(
                        f"{fields} tab-separated fields, text beyond the {width} columns of {what}",
                        file=file,
                        row=row,
                    )
    except (OSError, EOFError, zlib.error) as exc:
        raise FormatError(f"cannot be read: {exc}", file=file) from None
    return width


def read_tab(path: Path, what: str, *, names: list[str] | None = None) -> pd.DataFrame:
    """A tab-separated file (GDELT, ICEWS, POLECAT) as text, no quoting, blanks missing.

    ``names`` for a file without a header. The path gets the readers' checks first
    (a regular file, its size); every record must have the width of the header (or of
    ``names``): stray trailing tabs are dropped, a record with fewer fields or more
    text is a FormatError naming its row (see :func:`_tab_width`).
    """
    column_names(path)
    width = _tab_width(path, what, len(names) if names else None)
    try:
        frame = pd.read_csv(
            path,
            sep="\t",
            header=None if names else "infer",
            names=names,
            usecols=range(width),
            index_col=False,
            dtype="string",
            quoting=csv.QUOTE_NONE,
            keep_default_na=False,
            na_values=[""],
            on_bad_lines="error",
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise FormatError(f"cannot be read as {what}: {exc}", file=str(path)) from None
    return frame


#: The ledger reason of a record that repeats an earlier one field for field.
REPEATED_REASON = "repeated record (same Event ID and values)"


def set_aside_repeats(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """The frame without records that repeat an earlier one in every field, and their count.

    News-coded event files (ICEWS, POLECAT) write the same record again in
    overlapping weekly and yearly files; a repeat is counted once and the others go
    to the ledger under :data:`REPEATED_REASON`. Two *different* records sharing an
    id stay, for :func:`~trends.readers.canonical.canonicalise` to refuse
    (:class:`~trends.errors.DuplicateIdError`).
    """
    repeated = frame.duplicated(keep="first")
    n = int(repeated.sum())
    return frame.loc[~repeated], ({REPEATED_REASON: n} if n else {})
