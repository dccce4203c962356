"""Shared parsing of source columns: dates, numbers, codes, text and source lists.

Every reader turns its raw columns into canonical values with these functions, so
that one rule has one home. The rules themselves are data (the constants below),
so that another route in (``count(path)`` in SQL) can apply the same ones; the
patterns are written so that Python's ``re`` and RE2 (DuckDB's ``regexp_matches``)
read them alike:

- :data:`DATE_PATTERN`: the only text dates read, ``YYYY-MM-DD`` with an optional
  time and an optional zone suffix; the zone is dropped, so the date is the local
  calendar date the source wrote (``2014-01-24T23:30:00-05:00`` is 24 January, not
  the 25th in UTC). Dates outside :data:`DATE_RANGE` are refused.
- :data:`NUMBER_PATTERN`: the only text numbers read; :data:`NON_FINITE_TOKENS`
  and numbers too large for a double (``1e400``) are not finite.
- :data:`NULL_TOKENS` and :data:`INVISIBLE`: text that means "no value".
- :data:`MAX_NAME_CHARS`, :data:`MAX_FIELD_CHARS`, :data:`MAX_FILE_BYTES`: sizes a
  reader refuses to load.

What happens to an odd value:

======================================  ==============================================
value                                   outcome
======================================  ==============================================
blank, white space only                 missing (as always)
null-like text or invisible characters  missing, with a note (:class:`Notes`)
non-finite number where one is needed   missing, with a note
not a date, not a number                :class:`~trends.errors.DateError` /
                                        :class:`~trends.errors.ValueRangeError`
date outside :data:`DATE_RANGE`         :class:`~trends.errors.DateError`
count above its plausible maximum       :class:`~trends.errors.ValueRangeError`
name over :data:`MAX_NAME_CHARS`        :class:`~trends.errors.LimitError`
list, struct or bytes where text is     :class:`~trends.errors.SchemaError`
======================================  ==============================================

Every error names the file, the row (1-based, counting data records below the
header: the index of the frame read) and the column.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Mapping

import numpy as np
import pandas as pd

from .. import registry
from ..errors import DateError, InputError, LimitError, SchemaError, ValueRangeError

__all__ = [
    "DATE_PATTERN",
    "DATE_RANGE",
    "NUMBER_PATTERN",
    "NON_FINITE_TOKENS",
    "NULL_TOKENS",
    "INVISIBLE",
    "MAX_NAME_CHARS",
    "MAX_FIELD_CHARS",
    "MAX_FILE_BYTES",
    "MAX_N_SOURCES",
    "MAX_FATALITIES",
    "Notes",
    "refuse_first",
    "no_nested_values",
    "parse_dates",
    "parse_numbers",
    "parse_codes",
    "clean_text",
    "normalise_sources",
    "outlets_named",
    "finest_place",
]

logger = logging.getLogger(__name__)

#: A text date: ``YYYY-MM-DD``, optionally followed by a time (``T`` or a space, then
#: ``HH:MM``, ``HH:MM:SS`` or ``HH:MM:SS.fff``) and a zone (``Z``, ``UTC`` or ``±HH:MM``
#: / ``±HHMM``). Group ``day`` is the calendar date as written; the time and the zone
#: are dropped (ISO 8601; UCDP writes ``2021-08-07 00:00:00.000`` in Candidate files).
DATE_PATTERN = (
    r"(?P<day>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?)?"
    r"(?:\s*(?:Z|UTC|[+-](?:[01]\d|2[0-3]):?[0-5]\d))?"
)
#: The first and last dates a reader accepts (inclusive): the whole years that
#: nanosecond timestamps hold (pandas' bounds are 1677-09-21 and 2262-04-11).
DATE_RANGE = ("1678-01-01", "2261-12-31")
#: A text number: optional sign, digits with an optional decimal part, optional exponent.
NUMBER_PATTERN = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
#: Words for infinity (compared case-insensitively, after an optional sign).
NON_FINITE_TOKENS = frozenset({"inf", "infinity"})
#: Text that spreadsheets, databases and pandas write for "no value" (compared
#: case-insensitively, after trimming): read as missing, never as a name or number.
NULL_TOKENS = frozenset(
    {"null", "nan", "-nan", "none", "n/a", "#n/a", "na", "#na", "<na>", "nat", "nil", "(null)"}
)
#: White space, control and format characters (zero-width spaces and joiners, the
#: byte-order mark, bidirectional marks, soft hyphen): invisible, so a name made only
#: of them is no name, and they are trimmed from both ends of every name. A regular
#: expression class holding the characters themselves, so that Python's ``re`` and RE2
#: (DuckDB's ``regexp_*`` functions) read it alike.
INVISIBLE = (
    "[\\s\\x00-\\x1f\\x7f-\\x9f"
    "\u00a0\u00ad\u061c\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u2066-\u206f"
    "\u3000\ufeff\ufff9-\ufffb]"
)
#: Longest name (event id, country, region, subregion, event type, actor), in characters.
MAX_NAME_CHARS = 1_000
#: Longest field of any column, in characters (UCDP's longest, a source article, is ~5,000).
MAX_FIELD_CHARS = 100_000
#: Largest file a reader loads, in bytes (after decompression).
MAX_FILE_BYTES = 1 << 30
#: Most sources one incident can cite (UCDP's ``number_of_sources``); above is an error.
MAX_N_SOURCES = 10_000
#: Most fatalities one incident can have; above is an error.
MAX_FATALITIES = 10_000_000

_DATE_RE = re.compile(f"^{DATE_PATTERN}$")
_NUMBER_RE = f"^{NUMBER_PATTERN}$"
_EDGES = f"^{INVISIBLE}+|{INVISIBLE}+$"


class Notes:
    """Values read as missing, by column and reason: the ledger's companion.

    The ledger accounts for rows (kept or set aside); a kept row can still have a
    value that was read as missing because it was null-like text or not a finite
    number. Readers record those here; :meth:`table` counts them among the rows kept.

    Parameters
    ----------
    file : str
        The file, for the logged warning.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self._masks: dict[tuple[str, str], pd.Series] = {}

    def add(self, column: str, reason: str, mask: pd.Series, values: pd.Series) -> None:
        """Note the rows of ``mask`` (``values`` shows an example in the reason)."""
        if not mask.any():
            return
        example = values[mask].iloc[0]
        key = (column, f"{reason} (e.g. {str(example)[:40]!r}), read as missing")
        old = self._masks.get(key)
        self._masks[key] = (
            mask if old is None else (old | mask.reindex(old.index, fill_value=False))
        )

    def table(self, kept: pd.Index) -> pd.DataFrame:
        """Columns ``column``, ``reason``, ``rows`` (rows among ``kept``), in column order."""
        rows = []
        for (column, reason), mask in self._masks.items():
            n = int(mask.reindex(kept, fill_value=False).sum())
            if n:
                rows.append((column, reason, n))
                logger.warning("%s: column %r: %d value(s) %s", self.file, column, n, reason)
        return pd.DataFrame(rows, columns=["column", "reason", "rows"]).astype(
            {"column": "string", "reason": "string", "rows": "int64"}
        )


def refuse_first(
    bad: pd.Series,
    error: type[InputError],
    message: Callable[[int], str],
    *,
    file: str,
    column: str | None,
) -> None:
    """Raise ``error`` at the first true row of ``bad``, if any.

    ``message`` takes the position (0-based) of that row; the row named is its
    index label + 1 (the frame's index is the 0-based record number of the file).
    """
    if not bad.any():
        return
    i = int(np.flatnonzero(bad.to_numpy(dtype=bool))[0])
    raise error(message(i), file=file, row=int(bad.index[i]) + 1, column=column)


_KINDS = {"dict": "struct (mapping)", "bytes": "bytes value", "set": "set"}


def no_nested_values(values: pd.Series, column: str, file: str) -> None:
    """A SchemaError if a column holds lists, structs, maps or bytes (as Parquet can)."""
    if values.dtype != object:
        return
    nested = values.map(lambda v: isinstance(v, list | tuple | dict | set | bytes | np.ndarray))
    refuse_first(
        nested.astype(bool),
        SchemaError,
        lambda i: (
            f"holds a {_KINDS.get(type(values.iloc[i]).__name__, 'list')} where text or "
            "a number is expected"
        ),
        file=file,
        column=column,
    )


class _Distinct:
    """A column's distinct values, trimmed, so that each rule runs once per value.

    ``text`` holds the distinct values trimmed of invisible characters at both ends
    (inner white space collapsed with ``collapse``); ``blank`` marks those empty or white
    space only (missing, as always) and ``null`` the other ones that trim to nothing
    (invisible characters) or to one of :data:`NULL_TOKENS`. :meth:`expand` maps a
    per-value result back onto the rows.
    """

    def __init__(self, values: pd.Series, column: str, file: str, *, collapse: bool = False):
        no_nested_values(values, column, file)
        self.index = values.index
        self.codes, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)
        raw = pd.Series(uniques, dtype="string")
        text = raw.str.replace(_EDGES, "", regex=True)
        if collapse:
            text = text.str.replace(r"\s+", " ", regex=True)
        self.text = text
        self.blank = (raw.str.strip() == "").fillna(True).astype(bool)
        self.null = ~self.blank & ((text == "") | text.str.casefold().isin(NULL_TOKENS)).fillna(
            False
        ).astype(bool)

    @property
    def unusable(self) -> pd.Series:
        """Per distinct value: blank or null-like."""
        return self.blank | self.null

    def expand(self, per_value: pd.Series, fill: object = None) -> pd.Series:
        """Per-value results onto the rows (rows with no value get ``fill``, or missing)."""
        taken = pd.Series(per_value).array.take(self.codes, allow_fill=True)
        out = pd.Series(taken, index=self.index)
        return out if fill is None else out.fillna(fill).astype(type(fill))


def _bounded_dates(parsed: pd.Series, column: str, file: str) -> pd.Series:
    """Dates within :data:`DATE_RANGE` as ``datetime64[ns]`` at midnight; else a DateError."""
    first, last = (pd.Timestamp(d) for d in DATE_RANGE)
    years = parsed.dt.year
    refuse_first(
        ((years < first.year) | (years > last.year)).fillna(False),
        DateError,
        lambda i: (
            f"{parsed.iloc[i].date()} is outside the dates trends reads "
            f"({DATE_RANGE[0]} to {DATE_RANGE[1]})"
        ),
        file=file,
        column=column,
    )
    return parsed.dt.normalize().astype("datetime64[ns]")


def parse_dates(
    values: pd.Series,
    column: str,
    file: str,
    *,
    formats: Collection[str] = (),
    expected: str = "YYYY-MM-DD",
) -> pd.Series:
    """Parse dates; blanks and null-like text stay missing.

    Text must match :data:`DATE_PATTERN` or one of ``formats`` (``strptime``
    formats, e.g. ACLED's ``%d %B %Y``); the time and zone are dropped, keeping the
    local calendar date as written. Timestamp columns (Parquet) with a zone are
    read as their local wall time, likewise. An impossible date (``2016-02-30``) or
    one outside :data:`DATE_RANGE` is a :class:`~trends.errors.DateError`.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        return _bounded_dates(values, column, file)
    distinct = _Distinct(values, column, file)
    unique = distinct.text.where(~distinct.unusable)
    day = unique.str.extract(_DATE_RE, expand=False)
    parsed = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
    for fmt in formats:
        parsed = parsed.fillna(pd.to_datetime(unique, format=fmt, errors="coerce"))
    refuse_first(
        distinct.expand(parsed.isna() & ~distinct.unusable, False),
        DateError,
        lambda i: (
            f"{distinct.expand(distinct.text).iloc[i]!r} is not a possible date; "
            f"expected {expected}"
        ),
        file=file,
        column=column,
    )
    dates = distinct.expand(parsed)
    return _bounded_dates(dates, column, file)


def _text_numbers(values: pd.Series, column: str, file: str, notes: Notes) -> pd.Series:
    """Numbers from text by :data:`NUMBER_PATTERN`; null-like text is missing, with a note."""
    distinct = _Distinct(values, column, file)
    text = distinct.text
    notes.add(column, "null-like", distinct.expand(distinct.null, False), values)
    infinite = text.str.casefold().str.lstrip("+-").isin(NON_FINITE_TOKENS).fillna(False)
    grammar = text.str.fullmatch(_NUMBER_RE).fillna(False).astype(bool)
    refuse_first(
        distinct.expand(~(distinct.unusable | infinite | grammar), False),
        ValueRangeError,
        lambda i: f"{distinct.expand(text).iloc[i]!r} is not a number",
        file=file,
        column=column,
    )
    numbers = pd.to_numeric(text.where(grammar | infinite), errors="coerce").astype("float64")
    return distinct.expand(numbers, np.nan).astype("float64")


def parse_numbers(
    values: pd.Series,
    column: str,
    file: str,
    *,
    notes: Notes,
    minimum: float | None = 0.0,
    maximum: float | None = None,
    what: str = "a count",
) -> pd.Series:
    """Parse numbers; blanks stay missing; null-like and non-finite values are missing
    with a note; below ``minimum`` or above ``maximum`` is a ValueRangeError."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = pd.Series(
            values.astype("Float64").to_numpy(dtype="float64", na_value=np.nan),
            index=values.index,
        )
    else:
        numbers = _text_numbers(values, column, file, notes)
    infinite = pd.Series(np.isinf(numbers.to_numpy()), index=numbers.index)
    notes.add(column, "not a finite number", infinite, values)
    numbers = numbers.where(~infinite)
    if minimum is not None:
        refuse_first(
            numbers < minimum,
            ValueRangeError,
            lambda i: f"{numbers.iloc[i]:g} is negative; expected {what} of {minimum:g} or more",
            file=file,
            column=column,
        )
    if maximum is not None:
        refuse_first(
            numbers > maximum,
            ValueRangeError,
            lambda i: (
                f"{numbers.iloc[i]:g} is not a plausible value; expected {what} "
                f"of at most {maximum:,.0f}"
            ),
            file=file,
            column=column,
        )
    return numbers


def parse_codes(
    values: pd.Series, mapping: Mapping[int, str], column: str, file: str, *, notes: Notes
) -> pd.Series:
    """Map integer codes to words; blanks and codes outside ``mapping`` become missing."""
    numbers = parse_numbers(values, column, file, notes=notes, minimum=None)
    words = numbers.map({float(k): v for k, v in mapping.items()})  # non-integer codes: unknown
    unknown = numbers.notna() & words.isna()
    if unknown.any():
        logger.warning(
            "%s: column %r holds %d value(s) outside the codebook (%s), read as unknown",
            file,
            column,
            int(unknown.sum()),
            ", ".join(f"{x:g}" for x in sorted(set(numbers[unknown]))[:5]),
        )
    return words.astype("string")


def clean_text(
    values: pd.Series,
    column: str,
    file: str,
    *,
    notes: Notes | None = None,
    limit: int = MAX_NAME_CHARS,
) -> pd.Series:
    """A name: trimmed, inner white space collapsed to one space; empty is missing.

    Null-like text (:data:`NULL_TOKENS`, or only invisible characters) is missing,
    noted in ``notes``; a name longer than ``limit`` characters is a LimitError.
    """
    distinct = _Distinct(values, column, file, collapse=True)
    if notes is not None:
        notes.add(column, "null-like", distinct.expand(distinct.null, False), values)
    lengths = distinct.text.str.len().fillna(0)
    refuse_first(
        distinct.expand(lengths > limit, False),
        LimitError,
        lambda i: (
            f"a value of {distinct.expand(lengths).iloc[i]:,} characters; "
            f"names are limited to {limit:,}"
        ),
        file=file,
        column=column,
    )
    return distinct.expand(distinct.text.where(~distinct.unusable)).astype("string")


def normalise_sources(values: pd.Series, column: str, file: str) -> pd.Series:
    """``;``-separated outlet names, trimmed, spellings of one outlet merged through the
    alias table (:func:`trends.registry.source_name`), duplicates removed, order kept.

    A part that is null-like or only invisible characters names no outlet.
    """
    no_nested_values(values, column, file)
    edges = re.compile(_EDGES)

    def one(value: object) -> object:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return pd.NA
        names = [" ".join(edges.sub("", part).split()) for part in str(value).split(";")]
        names = [registry.source_name(n) for n in names if n and n.casefold() not in NULL_TOKENS]
        names = list(dict.fromkeys(names))
        return ";".join(names) if names else pd.NA

    codes, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)
    cleaned = pd.array([one(u) for u in uniques] + [pd.NA], dtype="string")
    return pd.Series(cleaned[codes], index=values.index, dtype="string")


def outlets_named(sources: pd.Series) -> pd.Series:
    """How many outlets each row's normalised ``sources`` names (missing where none).

    For files that give the outlets but no count of them (ACLED, ICEWS, POLECAT).
    """
    return sources.str.count(";").add(1).astype("Int64")


def finest_place(frame: pd.DataFrame, levels: Collection[tuple[str, str]]) -> pd.Series:
    """Location precision from the finest place a record names.

    ``levels`` pairs each place column with its precision word, coarsest first
    (``("Country", "country"), ("Province", "region"), ...``); a record's precision
    is the word of the last column it fills. Blank, null-like (:data:`NULL_TOKENS`,
    e.g. POLECAT's ``None``) or invisible text names no place; a record naming none
    is ``unknown``. Used by the readers whose files give places as names, not a
    precision code (ICEWS, POLECAT).
    """
    out = pd.Series("unknown", index=frame.index, dtype="string")
    for column, word in levels:
        text = frame[column].astype("string").str.replace(INVISIBLE, "", regex=True)
        named = text.notna() & (text != "") & ~text.str.casefold().isin(NULL_TOKENS)
        out = out.where(~named.fillna(False).astype(bool), word)
    return out
