"""The canonical incident table and its ledger.

:class:`Incidents` is what every reader returns and what :func:`trends.count`
takes: one row per incident in the canonical columns of DESIGN.md (other columns
pass through), a ledger that accounts for every input row, and what is known of
the source.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import OptionError
from .methods import Registry

__all__ = [
    "CANONICAL_COLUMNS",
    "DATE_PRECISIONS",
    "LOCATION_PRECISIONS",
    "LOOKUPS",
    "Incidents",
    "SourceInfo",
    "parse_condition",
]

#: Canonical column names, in order (DESIGN.md, "The canonical incident table").
CANONICAL_COLUMNS = (
    "event_id",
    "date_start",
    "date_end",
    "date_precision",
    "country",
    "region",
    "region_raw",
    "subregion",
    "location_precision",
    "event_type",
    "actor",
    "fatalities",
    "fatalities_low",
    "fatalities_high",
    "n_sources",
    "sources",
    "sources_raw",
)

#: From most to least precise.
DATE_PRECISIONS = ("day", "week", "month", "year")
LOCATION_PRECISIONS = ("exact", "subregion", "region", "country", "unknown")

#: The name of the region that holds a country's incidents located no finer than the country.
UNKNOWN_REGION = "(unknown)"


@dataclass(frozen=True)
class SourceInfo:
    """What is known of where the incidents came from.

    ``coverage`` is the inclusive (first, last) date the data set covers, and
    ``coverage_from`` says where that comes from: ``registry`` (the release's
    documented window), ``declared`` (by whoever read the data) or ``data`` (the
    data's own date range, for data the registry does not know).
    """

    name: str
    version: str | None = None
    dataset_id: str | None = None
    citation: str | None = None
    licence: str | None = None
    path: str | None = None
    sha256: str | None = None
    coverage: tuple[pd.Timestamp, pd.Timestamp] | None = None
    coverage_from: str = "data"
    caveats: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        start, end = self.coverage if self.coverage else (None, None)
        return {
            "name": self.name,
            "version": self.version,
            "dataset_id": self.dataset_id,
            "citation": self.citation,
            "licence": self.licence,
            "path": self.path,
            "sha256": self.sha256,
            "coverage_start": None if start is None else start.date().isoformat(),
            "coverage_end": None if end is None else end.date().isoformat(),
            "coverage_from": self.coverage_from,
        }


@dataclass(frozen=True)
class Incidents:
    """Canonical incidents, the ledger of every input row, and the source.

    Attributes
    ----------
    data : DataFrame
        One row per kept incident; canonical columns first, original columns after.
    ledger : DataFrame
        Columns ``reason`` and ``rows``: one row per outcome (``kept`` first), whose
        ``rows`` add up to the rows read.
        The rows are the records of the file as the CSV grammar sees them (a quoted
        field may span lines; blank lines are no records), or a Parquet file's rows.
    source : SourceInfo
        Data set name, version, citation, licence, the file's sha256, coverage window.
    notes : DataFrame
        Columns ``column``, ``reason`` and ``rows``: values of kept rows read as
        missing (null-like text such as ``NULL``, or a number that is not finite),
        by source column. The ledger's companion: these rows are among the ``kept``.
    filters : tuple of str
        The filters applied with :meth:`filter`, in order, each in the form the
        method and ``trends --where`` take (``"side_a=IS"``,
        ``"date_start__between=2014..2018"``); empty when none was.
    """

    data: pd.DataFrame
    ledger: pd.DataFrame
    source: SourceInfo = field(default_factory=lambda: SourceInfo(name="unnamed"))
    notes: pd.DataFrame = field(default_factory=lambda: no_notes())
    filters: tuple[str, ...] = ()

    @property
    def rows_read(self) -> int:
        return int(self.ledger["rows"].sum())

    def __len__(self) -> int:
        return len(self.data)

    def filter(self, **conditions: Any) -> Incidents:
        """Keep the incidents that meet every condition; the ledger says what was set aside.

        Each keyword is a column, optionally followed by ``__`` and a lookup (the
        grammar of Django's field lookups, which pandas users meet in
        ``DataFrame.query``'s place)::

            inc.filter(side_a="IS")                      # equality
            inc.filter(type_of_violence=[1, 3])          # membership (a list, tuple or set)
            inc.filter(side_a__contains="IS")            # substring (icontains: any case)
            inc.filter(actor__regex=r"^IS\b")            # regular expression (re.search)
            inc.filter(date_start__between=("2014", "2018"))   # inclusive range
            inc.filter(fatalities__gte=10, country__ne="Syria")

        Lookups: ``eq`` (the default), ``ne``, ``in``, ``notin``, ``contains``,
        ``icontains``, ``regex``, ``gt``, ``gte``, ``lt``, ``lte``, ``between``
        (see :data:`LOOKUPS`). On date columns a bound may be a period: ``"2018"``
        as an upper bound means 31 December 2018, as a lower bound 1 January, and
        ``date_start="2016-07"`` keeps July 2016. A number compares with a text
        column's values read as numbers (UCDP's ``type_of_violence``). A row whose
        value is missing meets no condition (``ne`` and ``notin`` included).

        Returns
        -------
        Incidents
            The kept rows, the same source (citation, coverage window: filtering
            does not change what the source covered), the ledger with one reason per
            condition (``filtered out: side_a != IS``, ``filtered out: side_a
            missing``) whose rows still add up to the rows read, and ``filters``
            extended by the conditions in the text form ``trends --where`` takes.

        Raises
        ------
        OptionError
            A column the data lack, an unknown lookup, or a value of the wrong kind.
        """
        data = self.data
        keep = np.ones(len(data), dtype=bool)
        set_aside = {
            str(r): int(n)
            for r, n in zip(self.ledger["reason"], self.ledger["rows"], strict=True)
            if r != "kept"
        }
        recorded = list(self.filters)
        for key, value in conditions.items():
            column, lookup = _split_key(key, data)
            values = data[column]
            missing = values.isna().to_numpy()
            meets, shown, negated = LOOKUPS.get(lookup).func(values, value, column)
            meets = np.asarray(meets, dtype=bool) & ~missing
            for reason, mask in (
                (f"filtered out: {column} missing", keep & missing),
                (f"filtered out: {negated}", keep & ~missing & ~meets),
            ):
                if mask.any():
                    set_aside[reason] = set_aside.get(reason, 0) + int(mask.sum())
            keep &= meets
            recorded.append(shown)
        kept = data.loc[keep].reset_index(drop=True)
        return dataclasses.replace(
            self,
            data=kept,
            ledger=make_ledger(self.rows_read, set_aside),
            filters=tuple(recorded),
        )

    where = filter

    def __repr__(self) -> str:
        set_aside = self.rows_read - len(self.data)
        version = f" {self.source.version}" if self.source.version else ""
        return (
            f"<Incidents {self.source.name}{version}: {len(self.data):,} kept, "
            f"{set_aside:,} set aside of {self.rows_read:,} read>"
        )


def no_notes() -> pd.DataFrame:
    """An empty notes table (columns ``column``, ``reason``, ``rows``)."""
    return pd.DataFrame({"column": [], "reason": [], "rows": []}).astype(
        {"column": "string", "reason": "string", "rows": "int64"}
    )


def make_ledger(rows_read: int, set_aside: dict[str, int]) -> pd.DataFrame:
    """A ledger: ``kept`` first, then each reason with its rows, adding up to ``rows_read``."""
    kept = rows_read - sum(set_aside.values())
    if kept < 0:
        raise AssertionError("ledger: more rows set aside than read")
    reasons = [("kept", kept)] + sorted((r, n) for r, n in set_aside.items() if n)
    return pd.DataFrame(reasons, columns=["reason", "rows"]).astype(
        {"reason": "string", "rows": "int64"}
    )


# ----------------------------------------------------------------------------- filters

#: Filter lookups: ``column__lookup=value`` in :meth:`Incidents.filter`. Each function
#: takes the column, the value and the column's name, and returns the rows that meet
#: the condition, the condition in ``--where`` form, and its negation in words.
LOOKUPS = Registry("filter lookup", option="lookup")

Lookup = Callable[[pd.Series, Any, str], tuple[np.ndarray, str, str]]


def _split_key(key: str, data: pd.DataFrame) -> tuple[str, str]:
    column, lookup = key, "eq"
    if "__" in key and key not in data.columns:
        column, lookup = key.rsplit("__", 1)
        if lookup not in LOOKUPS:
            raise OptionError(
                f"filter {key}=...: lookup {lookup!r} is not one of "
                f"{', '.join(map(repr, LOOKUPS.names()))}"
            )
    if column not in data.columns:
        shown = ", ".join(map(repr, list(data.columns)[:40]))
        raise OptionError(f"filter {key}=...: no column {column!r}; the columns are {shown}")
    return column, lookup


def parse_condition(text: str) -> tuple[str, Any]:
    """``"side_a=IS"`` -> ``("side_a", "IS")``: the text form of one filter condition.

    The form is ``column[__lookup]=value``, as the keywords of
    :meth:`Incidents.filter`; ``in`` and ``notin`` take comma-separated values
    (``type_of_violence__in=1,3``) and ``between`` takes ``FIRST..LAST``
    (``date_start__between=2014..2018``).
    """
    key, sep, value = str(text).partition("=")
    key = key.strip()
    if not sep or not key:
        raise OptionError(
            f"filter {text!r} is not COLUMN=VALUE or COLUMN__LOOKUP=VALUE "
            "(e.g. side_a=IS, type_of_violence__in=1,3, date_start__between=2014..2018)"
        )
    lookup = key.rsplit("__", 1)[1] if "__" in key else "eq"
    if lookup in ("in", "notin"):
        return key, [v.strip() for v in value.split(",")]
    if lookup == "between":
        return key, _range(value, key)
    return key, value


def _range(value: Any, key: str) -> tuple[Any, Any]:
    if isinstance(value, str):
        first, sep, last = value.partition("..")
        if sep and first.strip() and last.strip():
            return first.strip(), last.strip()
    elif isinstance(value, list | tuple) and len(value) == 2:
        return value[0], value[1]
    raise OptionError(f"filter {key}={value!r}: a range is FIRST..LAST or a (first, last) pair")


def _text(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else str(value)
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _numeric_text(value: Any) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _operands(
    values: pd.Series, given: list[Any], column: str, *, upper: bool = False, ordered: bool = False
):
    """The column and the given values in one comparable type (dates, numbers or text).

    A text column is compared as numbers when the values are numbers, or, for an
    ordering (``gte``, ``between`` ...), when they are text that reads as a number.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values, [_date_bound(v, column, upper=upper) for v in given]
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values, [_number(v, column) for v in given]
    if given and all(_is_number(v) or (ordered and _numeric_text(v)) for v in given):
        return pd.to_numeric(values, errors="coerce"), [float(v) for v in given]
    return values.astype("string"), [str(v) for v in given]


def _number(value: Any, column: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise OptionError(f"filter on {column}: {value!r} is not a number") from None


def _date_bound(value: Any, column: str, *, upper: bool) -> pd.Timestamp:
    """A date, or the first (last, for an upper bound) day of a period label."""
    from .periods import period_span

    try:
        first, last = period_span(value)
    except ValueError:
        raise OptionError(
            f"filter on {column}: {value!r} is not a date or period (2016, 2016Q3, "
            "2016-07, 2016-W27, 2016-07-15)"
        ) from None
    return last if upper else first


def _mask(result: Any) -> np.ndarray:
    return np.asarray(pd.Series(result).fillna(False), dtype=bool)


def _equal(values: pd.Series, value: Any, column: str) -> tuple[np.ndarray, str, str]:
    if isinstance(value, list | tuple | set | frozenset):
        return _member(values, list(value), column)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        first, last = (
            _date_bound(value, column, upper=False),
            _date_bound(value, column, upper=True),
        )
        meets = _mask((values >= first) & (values <= last))
        if first != last:
            return meets, f"{column}={value}", f"{column} outside {_text(first)}..{_text(last)}"
        return meets, f"{column}={value}", f"{column} != {value}"
    col, (v,) = _operands(values, [value], column)
    return _mask(col == v), f"{column}={value}", f"{column} != {value}"


def _member(values: pd.Series, given: list[Any], column: str) -> tuple[np.ndarray, str, str]:
    col, vals = _operands(values, given, column)
    listed = ",".join(map(str, given))
    return _mask(col.isin(vals)), f"{column}__in={listed}", f"{column} not in {{{listed}}}"


LOOKUPS.add("eq", _equal, description="equal to the value (a list: one of the values)")
LOOKUPS.add("in", lambda s, v, c: _member(s, _listed(v), c), description="one of the values")


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple | set | frozenset) else [value]


@LOOKUPS.register("ne", description="not equal to the value")
def _not_equal(values: pd.Series, value: Any, column: str) -> tuple[np.ndarray, str, str]:
    meets, _, negated = _equal(values, value, column)
    return ~meets, f"{column}__ne={value}", negated.replace(" != ", " = ", 1)


@LOOKUPS.register("notin", description="none of the values")
def _not_member(values: pd.Series, value: Any, column: str) -> tuple[np.ndarray, str, str]:
    given = _listed(value)
    meets, _, _ = _member(values, given, column)
    listed = ",".join(map(str, given))
    return ~meets, f"{column}__notin={listed}", f"{column} in {{{listed}}}"


def _search(kind: str, case: bool, regex: bool) -> Lookup:
    def run(values: pd.Series, value: Any, column: str) -> tuple[np.ndarray, str, str]:
        pattern = str(value)
        if regex:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise OptionError(f"filter {column}__regex={pattern!r}: {exc}") from None
        text = values.astype("string")
        meets = _mask(text.str.contains(pattern, case=case, regex=regex))
        word = "match" if regex else "contain"
        return meets, f"{column}__{kind}={pattern}", f"{column} does not {word} {pattern}"

    return run


LOOKUPS.add(
    "contains", _search("contains", True, False), description="holds the text (case matters)"
)
LOOKUPS.add("icontains", _search("icontains", False, False), description="holds the text, any case")
LOOKUPS.add(
    "regex", _search("regex", True, True), description="matches the regular expression (re.search)"
)


def _compare(kind: str, symbol: str, opposite: str, op: Callable[[Any, Any], Any]) -> Lookup:
    upper = kind in ("lte", "gt")  # "<= 2018" and "> 2018" mean the end of 2018

    def run(values: pd.Series, value: Any, column: str) -> tuple[np.ndarray, str, str]:
        col, (v,) = _operands(values, [value], column, upper=upper, ordered=True)
        shown = _text(v) if isinstance(v, pd.Timestamp) else value
        return _mask(op(col, v)), f"{column}__{kind}={value}", f"{column} {opposite} {shown}"

    LOOKUPS.add(kind, run, description=f"{symbol} the value")
    return run


_compare("gt", ">", "<=", lambda a, b: a > b)
_compare("gte", ">=", "<", lambda a, b: a >= b)
_compare("lt", "<", ">=", lambda a, b: a < b)
_compare("lte", "<=", ">", lambda a, b: a <= b)


@LOOKUPS.register("between", description="inside the inclusive range FIRST..LAST")
def _between(values: pd.Series, value: Any, column: str) -> tuple[np.ndarray, str, str]:
    first, last = _range(value, column + "__between")
    col, (lo,) = _operands(values, [first], column, ordered=True)
    _, (hi,) = _operands(values, [last], column, upper=True, ordered=True)
    shown = f"{column}__between={first}..{last}"
    return _mask((col >= lo) & (col <= hi)), shown, f"{column} outside {_text(lo)}..{_text(hi)}"
