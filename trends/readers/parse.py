"""Shared parsing of source columns: dates, numbers, codes, text and source lists.

Every reader turns its raw text columns into canonical values with these
functions, so that one rule has one home. Bad values raise an
:class:`~trends.errors.InputError` naming the file, the row (1-based, counting data
rows below the header) and the column.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import DateError, ValueRangeError

__all__ = [
    "first_bad",
    "parse_dates",
    "parse_numbers",
    "parse_codes",
    "clean_text",
    "normalise_sources",
]

logger = logging.getLogger(__name__)


def first_bad(mask: pd.Series | np.ndarray) -> int:
    """Position (0-based) of the first true value of ``mask``."""
    return int(np.flatnonzero(np.asarray(mask))[0])


def parse_dates(values: pd.Series, column: str, file: str) -> pd.Series:
    """Parse ISO dates (``2014-01-24`` or ``2021-08-07 00:00:00.000``); blanks stay missing."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.normalize().astype("datetime64[ns]")
    text = values.astype("string").str.strip()
    blank = text.isna() | (text == "")
    parsed = pd.to_datetime(text.where(~blank), errors="coerce", format="ISO8601")
    bad = parsed.isna() & ~blank
    if bad.any():
        i = first_bad(bad)
        raise DateError(
            f"{text.iloc[i]!r} is not a possible date; expected YYYY-MM-DD",
            file=file,
            row=i + 1,
            column=column,
        )
    return parsed.dt.normalize().astype("datetime64[ns]")


def parse_numbers(
    values: pd.Series, column: str, file: str, *, minimum: float | None = 0.0
) -> pd.Series:
    """Parse numbers; blanks stay missing; below ``minimum`` is an error."""
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("float64")
    else:
        text = values.astype("string").str.strip()
        blank = text.isna() | (text == "")
        numbers = pd.to_numeric(text.where(~blank), errors="coerce").astype("float64")
        bad = numbers.isna() & ~blank
        if bad.any():
            i = first_bad(bad)
            raise ValueRangeError(
                f"{text.iloc[i]!r} is not a number", file=file, row=i + 1, column=column
            )
    if minimum is not None:
        low = numbers < minimum
        if low.any():
            i = first_bad(low)
            raise ValueRangeError(
                f"{numbers.iloc[i]:g} is negative; expected a count of 0 or more",
                file=file,
                row=i + 1,
                column=column,
            )
    return numbers


def parse_codes(
    values: pd.Series, mapping: Mapping[int, str], column: str, file: str
) -> pd.Series:
    """Map integer codes to words; blanks and codes outside ``mapping`` become missing."""
    numbers = parse_numbers(values, column, file, minimum=None)
    words = numbers.map({float(k): v for k, v in mapping.items()})  # non-integer codes: unknown
    unknown = numbers.notna() & words.isna()
    if unknown.any():
        logger.warning(
            "%s: column %r holds %d value(s) outside the codebook (%s), read as unknown",
            file,
            column,
            int(unknown.sum()),
            sorted(set(numbers[unknown].astype(int)))[:5],
        )
    return words.astype("string")


def clean_text(values: pd.Series) -> pd.Series:
    """Text trimmed, inner runs of white space collapsed to one space; empty is missing."""
    text = values.astype("string").str.strip()
    text = text.str.replace(r"\s+", " ", regex=True)
    return text.where(text != "")


def normalise_sources(values: pd.Series) -> pd.Series:
    """``;``-separated outlet names, trimmed, duplicates removed, order kept."""

    def one(value: object) -> object:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return pd.NA
        names = [" ".join(part.split()) for part in str(value).split(";")]
        names = list(dict.fromkeys(name for name in names if name))
        return ";".join(names) if names else pd.NA

    codes, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)
    cleaned = pd.array([one(u) for u in uniques] + [pd.NA], dtype="string")
    return pd.Series(cleaned[codes], index=values.index, dtype="string")
