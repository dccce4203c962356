"""One validation for every route in: a file is counted by the readers' rules.

``count(path)`` reads a file the way :func:`trends.read` does, or refuses it the way
:func:`trends.read` does (issue 11):

- a CSV file, or a file in a source's own layout (UCDP, ACLED, GTD, ...), is read by
  :func:`trends.read` itself (explicit date grammar, null-like text, non-finite
  numbers, field limits, quote-spanning records, the ledger) and the
  :class:`~trends.Incidents` are counted: the same parser, so the same rows and the
  same errors;
- a Parquet file in canonical columns is counted by DuckDB without loading it, but
  every value goes through the readers' own parsing functions
  (:mod:`trends.readers.parse`): DuckDB lists each column's *distinct* values, the
  readers' functions parse those (few: dates, names, precisions, numbers, outlet
  lists), and DuckDB maps every row through the result. Event ids, which are
  distinct, are checked in SQL by the same rules (:data:`~trends.readers.parse.INVISIBLE`
  and :data:`~trends.readers.parse.NULL_TOKENS`, written for RE2 as for Python).
  An error names the file, the first row holding the offending value and the column.

What differs, on purpose: the readers load a file into memory and so refuse one over
:data:`~trends.readers.parse.MAX_FILE_BYTES`; the Parquet route streams and has no
such cap. Values read as missing (null-like, not finite) are counted as missing by
both; the path route does not list them as notes.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import registry
from ..errors import FormatError, InputError, LimitError, SchemaError
from ..incidents import DATE_PRECISIONS, LOCATION_PRECISIONS, Incidents
from ..readers import canonical as canon
from ..readers import parse
from ..readers.files import column_names
from ..readers.regions import harmonise_region
from .outlets import OutletCodes, outlet_codes
from .plan import SOURCE_SEPARATOR

__all__ = ["route", "ParquetColumns"]

logger = logging.getLogger(__name__)

_PARQUET = (".parquet", ".pq")
_NESTED = ("[]", "STRUCT", "MAP", "UNION", "BLOB")


def route(path: Path) -> Incidents | Path:
    """What to count for a path: the reader's :class:`Incidents`, or a canonical Parquet path."""
    from ..readers import FORMATS, detect_format

    if path.suffix.lower() not in _PARQUET:
        return FORMATS.get(detect_format(path)).func(path)
    fmt = detect_format(path)
    if fmt != "canonical":
        return FORMATS.get(fmt).func(path)
    return path


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class ParquetColumns:
    """A canonical Parquet file's columns, parsed by the readers' rules, as a DuckDB view.

    Parameters
    ----------
    con : duckdb connection
    path : Path
        The file; ``scan`` is created over it with each row's number.
    """

    def __init__(self, con: Any, path: Path) -> None:
        self.con = con
        self.file = str(path)
        names = column_names(path)  # the readers' checks of the file and its names
        self.con.execute(
            "CREATE TEMP VIEW scan AS SELECT * FROM read_parquet("
            f"{_sql_literal(str(path))}, file_row_number=true)"
        )
        types = {r[0]: str(r[1]) for r in con.execute("DESCRIBE scan").fetchall()}
        self.types = {n: types[n] for n in names if n in types}
        for name, kind in self.types.items():
            if any(mark in kind.upper() for mark in _NESTED):
                raise SchemaError(
                    f"holds {kind} values where text or a number is expected",
                    file=self.file,
                    column=name,
                )
        for needed in ("event_id", "date_start"):
            if needed not in self.types:
                raise SchemaError(
                    f"missing column {needed!r}; counting needs canonical columns",
                    file=self.file,
                    column=needed,
                )
        self.notes = parse.Notes(self.file)
        #: whether some parsed outlet list names one outlet twice (known after :meth:`view`)
        self.repeats_names = True
        #: the outlet names' codes (after :meth:`view`; ``None`` without ``sources``)
        self.outlets: OutletCodes | None = None

    # ------------------------------------------------------------------ per column

    def _distinct(self, column: str) -> pd.Series:
        values = self.con.execute(f'SELECT DISTINCT "{column}" AS v FROM scan').fetchdf()["v"]
        return values.reset_index(drop=True)

    def _located(self, column: str, values: pd.Series, exc: InputError) -> InputError:
        """The same error, naming the first row of the file that holds the offending value."""
        if exc.row is None:
            return exc
        value = values.iloc[exc.row - 1]
        found = self.con.execute(
            f'SELECT min(file_row_number) FROM scan WHERE "{column}" IS NOT DISTINCT FROM ?',
            [None if pd.isna(value) else value],
        ).fetchone()[0]
        row = None if found is None else int(found) + 1
        return type(exc)(exc.detail, file=self.file, row=row, column=exc.column or column)

    def _mapped(self, column: str, parse_values) -> str | None:
        """Register ``column``'s distinct values with their parsed form; return the table.

        ``None`` when parsing changes no value (the common case): the column is then
        read as it is, with no join.
        """
        values = self._distinct(column)
        try:
            parsed = parse_values(values).reset_index(drop=True)
        except InputError as exc:
            raise self._located(column, values, exc) from None
        if _unchanged(values, parsed):
            return None
        table = f"map_{column}"
        self.con.register(table, pd.DataFrame({"raw": values, "value": parsed}))
        return table

    def view(self) -> None:
        """``canon``: the canonical columns, parsed, one row per row kept (see :meth:`facts`)."""
        file = self.file
        present = self.types
        parsers = {
            "date_start": lambda v: parse.parse_dates(v, "date_start", file),
            "date_end": lambda v: parse.parse_dates(v, "date_end", file),
            "date_precision": lambda v: _words(v, "date_precision", DATE_PRECISIONS, file),
            "location_precision": lambda v: _words(
                v, "location_precision", LOCATION_PRECISIONS, file
            ),
            "fatalities": lambda v: parse.parse_numbers(
                v,
                "fatalities",
                file,
                notes=self.notes,
                maximum=parse.MAX_FATALITIES,
                what="a number of fatalities",
            ),
            "n_sources": lambda v: _n_sources(v, file, self.notes),
            "sources": lambda v: self._outlets_noted(_sources(v, file)),
        }
        for name in ("country", "region", "subregion"):
            parsers[name] = lambda v, name=name: parse.clean_text(v, name, file, notes=self.notes)
        joins, columns = [], {}
        for name, parse_values in parsers.items():
            if name not in present:
                continue
            if self._typed_and_clean(name):
                columns[name] = f's."{name}"'
                continue
            table = self._mapped(name, parse_values)
            if table is None:
                columns[name] = f's."{name}"'
                continue
            joins.append(f'LEFT JOIN {table} ON s."{name}" = {table}.raw')
            columns[name] = f"{table}.value"
        region = self._regions(columns, joins)
        select = {
            "row": "s.file_row_number",
            "event_id": _clean_id("s.event_id")
            if self._untidy_ids()
            else "CAST(s.event_id AS VARCHAR)",
            "date_start": f"CAST({columns['date_start']} AS DATE)",
            "date_end": f"CAST(coalesce({columns.get('date_end', 'NULL')}, "
            f"{columns['date_start']}) AS DATE)",
            "date_precision": columns.get("date_precision", "NULL::VARCHAR"),
            "location_precision": columns.get("location_precision", "NULL::VARCHAR"),
            "country": columns.get("country", "NULL::VARCHAR"),
            "region_raw": columns.get("region", "NULL::VARCHAR"),
            "region": region,
            "subregion": columns.get("subregion", "NULL::VARCHAR"),
            "fatalities": f"CAST({columns.get('fatalities', 'NULL')} AS DOUBLE)",
            "n_sources": f"CAST({columns.get('n_sources', 'NULL')} AS BIGINT)",
            "sources": columns.get("sources", "NULL::VARCHAR"),
        }
        if "date_end" in present:
            select["date_end_given"] = f"CAST({columns['date_end']} AS DATE)"
        body = ", ".join(f"{expr} AS {name}" for name, expr in select.items())
        # Values that parsing changes are joined in, once, into a table (DuckDB spills it
        # to disk when memory runs short) rather than by each query that reads it; a file
        # whose values all stand as they are is read through a view.
        kind = "TABLE" if joins else "VIEW"
        self.con.execute(
            f"CREATE TEMP {kind} parsed AS SELECT {body} FROM scan s {' '.join(joins)}"
        )
        if "sources" not in present:
            self.repeats_names = False
        has_place = "country" in present or "region" in present
        self.no_place = (
            "date_start IS NOT NULL AND country IS NULL AND region_raw IS NULL"
            if has_place
            else "false"
        )
        self.con.execute(
            f"CREATE TEMP VIEW canon AS SELECT * FROM parsed WHERE NOT ({self.no_place})"
        )

    def _outlets_noted(self, lists: pd.Series) -> pd.Series:
        """``lists`` (the distinct parsed outlet lists), noting their names' codes
        (:func:`~trends.counting.outlets.outlet_codes`) and whether one repeats a name."""
        self.outlets = outlet_codes(pa.array(lists.astype("string"), from_pandas=True))
        self.repeats_names = self.outlets.repeats
        return lists

    def _typed_and_clean(self, name: str) -> bool:
        """A date or number column of a Parquet type whose values the readers' rules keep.

        One aggregate checks what those rules would change or refuse (dates: a time of
        day, outside :data:`~trends.readers.parse.DATE_RANGE`; numbers: not finite,
        negative or implausible); only a column that fails it is parsed value by value.
        """
        kind = self.types[name].upper()
        column = f'"{name}"'
        if name in ("date_start", "date_end") and kind in (
            "DATE",
            "TIMESTAMP",
            "TIMESTAMP_NS",
            "TIMESTAMP_MS",
            "TIMESTAMP_S",
        ):
            first, last = parse.DATE_RANGE
            odd = (
                f"{column} < DATE '{first}' OR {column} > DATE '{last}'"
                f" OR CAST({column} AS TIMESTAMP) <> CAST(CAST({column} AS DATE) AS TIMESTAMP)"
            )
        elif name in ("fatalities", "n_sources") and kind in (
            "DOUBLE",
            "FLOAT",
            "BIGINT",
            "INTEGER",
            "SMALLINT",
            "TINYINT",
            "HUGEINT",
            "UBIGINT",
            "UINTEGER",
        ):
            top = parse.MAX_FATALITIES if name == "fatalities" else parse.MAX_N_SOURCES
            low = "0" if name == "fatalities" else "-1e308"
            odd = f"isinf(CAST({column} AS DOUBLE)) OR isnan(CAST({column} AS DOUBLE)) OR {column} < {low} OR {column} > {top}"
            if name == "n_sources":  # the readers round counts and read negatives as unknown
                odd += f" OR {column} < 0 OR CAST({column} AS DOUBLE) <> round(CAST({column} AS DOUBLE))"
        else:
            return False
        return not self.con.execute(f"SELECT bool_or({odd}) FROM scan").fetchone()[0]

    def _untidy_ids(self) -> bool:
        """Whether any event id holds text the readers would trim or read as missing.

        The exact test (an invisible character, or null-like text) runs only on ids
        holding a character of :data:`_ID_SUSPECT`: every invisible character is one,
        and every null-like token holds an ``n``.
        """
        kind = self.types["event_id"].upper()
        if kind in _INTEGERS:  # decimal digits and a sign (a missing id :meth:`facts` refuses)
            return False
        if kind == "VARCHAR" and not _suspect_text(self.file, "event_id"):
            return False
        text = "CAST(event_id AS VARCHAR)"
        tokens = ", ".join(_sql_literal(t) for t in sorted(parse.NULL_TOKENS))
        exact = (
            f"regexp_matches({text}, {_sql_literal(parse.INVISIBLE)})"
            f" OR lower({text}) IN ({tokens})"
        )
        return bool(
            self.con.execute(
                f"SELECT bool_or(event_id IS NULL OR {text} = ''"
                f" OR CASE WHEN regexp_matches({text}, {_sql_literal(_ID_SUSPECT)})"
                f" THEN {exact} ELSE false END) FROM scan"
            ).fetchone()[0]
        )

    def _regions(self, columns: dict[str, str], joins: list[str]) -> str:
        """SQL for the harmonised region (the readers' alias table, on distinct pairs)."""
        if "region" not in columns:
            return "NULL::VARCHAR"
        country = columns.get("country", "NULL::VARCHAR")
        pairs = self.con.execute(
            f"SELECT DISTINCT {country} AS country, {columns['region']} AS raw FROM scan s "
            + " ".join(joins)
        ).fetchdf()
        pairs["value"] = harmonise_region(
            pairs["country"].astype("string"), pairs["raw"].astype("string")
        ).to_numpy()
        if _unchanged(pairs["raw"], pairs["value"]):
            return columns["region"]
        self.con.register("map_harmonised", pairs)
        joins.append(
            f"LEFT JOIN map_harmonised h ON h.raw IS NOT DISTINCT FROM {columns['region']}"
            f" AND h.country IS NOT DISTINCT FROM {country}"
        )
        return "h.value"

    def facts(self) -> dict[str, int]:
        """Rows of the file, rows set aside by reason; refuses bad ids with their row."""
        rows, no_place, empty_id, long_id = self.con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {self.no_place}),"
            " min(row) FILTER (WHERE event_id IS NULL),"
            f" min(row) FILTER (WHERE length(event_id) > {parse.MAX_NAME_CHARS}) FROM parsed"
        ).fetchone()
        if rows == 0:
            raise parse_empty(self.file)
        if empty_id is not None:
            raise SchemaError(
                "event id is empty or null-like; every incident needs an id",
                file=self.file,
                row=int(empty_id) + 1,
                column="event_id",
            )
        if long_id is not None:
            raise LimitError(
                f"a value over {parse.MAX_NAME_CHARS:,} characters; names are limited to "
                f"{parse.MAX_NAME_CHARS:,}",
                file=self.file,
                row=int(long_id) + 1,
                column="event_id",
            )
        return {"rows": int(rows), "location missing (no country or region)": int(no_place)}


def _unchanged(raw: pd.Series, parsed: pd.Series) -> bool:
    """Whether parsing left every value as it was (text as text, dates as the same day)."""
    if pd.api.types.is_datetime64_any_dtype(raw) or pd.api.types.is_datetime64_any_dtype(parsed):
        if not pd.api.types.is_datetime64_any_dtype(raw):
            return False
        if getattr(raw.dt, "tz", None) is not None:
            return False
        left = raw.astype("datetime64[ns]")
        return bool(((left == parsed) | (left.isna() & parsed.isna())).all()) and bool(
            (left.dropna() == left.dropna().dt.normalize()).all()
        )
    if pd.api.types.is_numeric_dtype(raw) != pd.api.types.is_numeric_dtype(parsed):
        return False
    if pd.api.types.is_numeric_dtype(raw):
        a, b = raw.astype("float64"), parsed.astype("float64")
        return bool(((a == b) | (a.isna() & b.isna())).all())
    a, b = raw.astype("string"), parsed.astype("string")
    return bool(((a == b).fillna(False) | (a.isna() & b.isna())).all())


def parse_empty(file: str) -> InputError:
    from ..errors import EmptyInputError

    return EmptyInputError("the file has a header but no data rows", file=file)


def _words(values: pd.Series, column: str, allowed: tuple[str, ...], file: str) -> pd.Series:
    """A precision column of canonical words (the readers' rule)."""
    return canon._precision(column, allowed, {column: values}, {column: column}, file, values.index)


def _n_sources(values: pd.Series, file: str, notes: parse.Notes) -> pd.Series:
    """Numbers of sources (the readers' rule: negative means unknown)."""
    numbers = canon._numbers(
        {"n_sources": values}, {"n_sources": "n_sources"}, file, values.index, notes
    )
    return numbers["n_sources"]


#: An outlet list the readers would leave as it is, but for repeated names (which the
#: counting drops itself): names without invisible characters, runs of spaces, or
#: spaces at their ends, separated by single ``;``.
_TIDY_SOURCES = re.compile(r"[^; ](?:[^;]*[^; ])?(?:;[^; ](?:[^;]*[^; ])?)*")


def _as_read(names: list[str]) -> bool:
    """Whether the readers leave these outlet names as they are: none is null-like,
    none another spelling of an outlet in the alias table."""
    return not any(n.casefold() in parse.NULL_TOKENS or registry.source_name(n) != n for n in names)


def _sources(values: pd.Series, file: str) -> pd.Series:
    """Outlet lists by the readers' rule, applied only to the values it would change."""
    text = values.astype("string")
    tidy = text.str.fullmatch(_TIDY_SOURCES).fillna(False).astype(bool)
    tidy &= ~text.str.replace(" ", "", regex=False).str.contains(parse.INVISIBLE).fillna(True)
    tidy &= ~text.str.contains("  ", regex=False).fillna(True)
    # each distinct name is looked up once (a file has far fewer names than lists);
    # the lists are split by Arrow's kernels, all at once
    split = pc.split_pattern(pa.array(text[tidy], pa.string(), from_pandas=True), SOURCE_SEPARATOR)
    names = pc.list_flatten(split)
    unread = [n for n in pc.unique(names).to_pylist() if not _as_read([n])]
    hit = pc.is_in(names, value_set=pa.array(unread, pa.string())).to_numpy(zero_copy_only=False)
    has_unread = np.zeros(len(split), dtype=bool)
    has_unread[pc.list_parent_indices(split).to_numpy()[hit]] = True
    tidy[tidy.to_numpy()] = ~has_unread
    out = text.copy()
    if (~tidy).any():
        out[~tidy] = parse.normalise_sources(values[~tidy], "sources", file)
    return out


#: A character other than printable ASCII, or an ``n`` (any case): an id without one
#: holds no invisible character and is no null-like token (see ``_untidy_ids``).
_ID_SUSPECT = "[^!-MO-mo-~]"


#: Integer types: their text is decimal digits and a sign.
_INTEGERS = frozenset(
    "TINYINT SMALLINT INTEGER BIGINT HUGEINT UTINYINT USMALLINT UINTEGER UBIGINT UHUGEINT".split()
)
#: The UTF-8 bytes of the characters of :data:`_ID_SUSPECT`: ASCII ones, and every byte
#: of a character beyond ASCII (0x80 and above).
_SUSPECT_BYTE = np.array(
    [b >= 0x80 or re.fullmatch(_ID_SUSPECT, chr(b)) is not None for b in range(256)]
)


def _suspect_text(path: str, column: str) -> bool:
    """Whether a text column of a Parquet file has a missing or empty value, or a
    character of :data:`_ID_SUSPECT`: a look at the bytes of its values (read a
    million at a time with Arrow), with no regular expression per value."""
    import pyarrow.parquet as pq

    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1 << 20, columns=[column]):
            if _suspect_values(batch.column(0)):
                return True
    except (pa.ArrowException, OSError):  # damaged: DuckDB's exact test names the fault
        return True
    return False


def _suspect_values(values: pa.Array) -> bool:
    """:func:`_suspect_text` for one batch of values."""
    if pa.types.is_string(values.type):
        width = np.int32
    elif pa.types.is_large_string(values.type):
        width = np.int64
    else:  # another layout of text: the caller's exact test decides
        return True
    if values.null_count:
        return True
    _, offsets, data = values.buffers()
    ends = np.frombuffer(offsets, dtype=width)[values.offset : values.offset + len(values) + 1]
    if (ends[1:] == ends[:-1]).any():
        return True
    text = np.frombuffer(data, dtype=np.uint8)[ends[0] : ends[-1]] if data else []
    return bool(_SUSPECT_BYTE[text].any())


def _clean_id(column: str) -> str:
    """SQL: an event id trimmed of invisible characters, inner white space collapsed;
    empty or null-like text is missing (the readers' ``clean_text``)."""
    text = f"CAST({column} AS VARCHAR)"
    edges = _sql_literal(f"^{parse.INVISIBLE}+|{parse.INVISIBLE}+$")
    trimmed = f"regexp_replace(regexp_replace({text}, {edges}, '', 'g'), '\\s+', ' ', 'g')"
    tokens = ", ".join(_sql_literal(t) for t in sorted(parse.NULL_TOKENS))
    clean = f"CASE WHEN regexp_matches({text}, {_sql_literal(parse.INVISIBLE)}) THEN {trimmed} ELSE {text} END"
    return f"(CASE WHEN lower({clean}) IN ({tokens}) OR {clean} = '' THEN NULL ELSE {clean} END)"


def format_error(exc: Exception, file: str) -> FormatError:
    """An engine's error reading a file, as a trends error naming the file."""
    return FormatError(f"cannot be read: {str(exc).splitlines()[0]}", file=file)
