"""The Global Terrorism Database (GTD), as START distributes it."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DateError, FormatError, SchemaError
from ..incidents import Incidents
from .canonical import canonicalise, source_info
from .files import read_table, set_aside_spanning
from .parse import DATE_RANGE, Notes, parse_codes, parse_dates, parse_numbers, refuse_first

__all__ = ["read_gtd", "looks_like_gtd", "GTD_LOCATION_PRECISION"]

# GTD codebook (START 2021), specificity: 1 the city itself, 2 the city, coordinates of a
# larger area, 3 the smallest known administrative area, 4 only the province, 5 only
# the country.
GTD_LOCATION_PRECISION = {1: "exact", 2: "subregion", 3: "subregion", 4: "region", 5: "country"}
_GTD_NEEDED = ("eventid", "iyear", "imonth", "iday", "country_txt")


def looks_like_gtd(names: Collection[str]) -> bool:
    """A GTD file has ``eventid``, ``iyear``, ``imonth`` and ``iday``."""
    return {"eventid", "iyear", "imonth", "iday"} <= set(names)


def _date_part(frame: pd.DataFrame, column: str, top: float, file: str, notes: Notes) -> pd.Series:
    """A whole number from 0 to ``top`` (0: unknown); else a DateError."""
    values = parse_numbers(frame[column], column, file, notes=notes, minimum=None)
    refuse_first(
        values.notna() & ((values < 0) | (values > top) | (values % 1 != 0)),
        DateError,
        lambda i: f"{values.iloc[i]:g} is not a {column[1:]} (0 for unknown, or 1-{top:g})",
        file=file,
        column=column,
    )
    return values


def _gtd_dates(
    frame: pd.DataFrame, file: str, notes: Notes
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Start, end and date precision from ``iyear``/``imonth``/``iday`` (0 = unknown)."""
    first, last = (int(d[:4]) for d in DATE_RANGE)
    year = parse_numbers(frame["iyear"], "iyear", file, notes=notes, minimum=None)
    refuse_first(
        year.notna() & ((year < first) | (year > last) | (year % 1 != 0)),
        DateError,
        lambda i: f"{year.iloc[i]:g} is not a year trends reads (a whole year, {first}-{last})",
        file=file,
        column="iyear",
    )
    month = _date_part(frame, "imonth", 12, file, notes)
    day = _date_part(frame, "iday", 31, file, notes)
    known_month, known_day = month > 0, (day > 0) & (month > 0)
    start_text = (
        year.astype("Int64").astype("string")
        + "-"
        + month.where(known_month, 1).astype("Int64").astype("string").str.zfill(2)
        + "-"
        + day.where(known_day, 1).astype("Int64").astype("string").str.zfill(2)
    )
    start = parse_dates(start_text, "iday", file)
    end = start + pd.offsets.MonthEnd(0)
    end = end.where(known_month, start + pd.offsets.YearEnd(0)).where(~known_day, start)
    if "extended" in frame.columns and "resolution" in frame.columns:
        resolved = parse_dates(frame["resolution"], "resolution", file)
        extended = pd.to_numeric(frame["extended"].astype("string"), errors="coerce") == 1
        end = end.where(~(extended & resolved.notna()), resolved)
    precision = pd.Series(
        np.where(known_day, "day", np.where(known_month, "month", "year")),
        index=frame.index,
        dtype="string",
    )
    return start, end, precision


def read_gtd(path: str | Path, *, coverage: tuple[str, str] | None = None) -> Incidents:
    """Read the Global Terrorism Database (GTD) as START distributes it (CSV or Parquet).

    The date comes from ``iyear``, ``imonth`` and ``iday``; an unknown day (0) makes
    a month-precise date, an unknown month a year-precise one, spanning the month or
    year. Extended incidents (``extended`` 1) end on ``resolution`` when it is
    given. ``specificity`` maps onto the location precision (GTD Codebook, START
    2021); ``provstate`` is the region and ``city`` the subregion; ``nkill`` the
    fatalities. The GTD names no outlets in a form that can be counted (its
    ``scite`` columns are free-text citations), so ``sources`` and ``n_sources`` are
    left missing: unknown, which coverage treats as unknown, not as thin.
    """
    path = Path(path)
    table = read_table(path)
    file = table.file
    missing = [c for c in _GTD_NEEDED if c not in table.frame.columns]
    if len(missing) == len(_GTD_NEEDED):
        raise FormatError(
            "not a GTD file: it has none of eventid, iyear, imonth, iday, country_txt", file=file
        )
    if missing:
        raise SchemaError(
            f"missing column {missing[0]!r}, which every GTD file has", file=file, column=missing[0]
        )
    rename = {"event_id": "eventid", "date_start": "_start", "date_end": "_end"}
    optional = {
        "country": "country_txt",
        "region": "provstate",
        "subregion": "city",
        "event_type": "attacktype1_txt",
        "actor": "gname",
        "fatalities": "nkill",
    }
    rename.update({k: v for k, v in optional.items() if v in table.frame.columns})
    table = set_aside_spanning(
        table, [*rename.values(), *_GTD_NEEDED, "extended", "resolution", "specificity"]
    )
    frame, notes = table.frame, Notes(file)
    start, end, precision = _gtd_dates(frame, file, notes)
    precisions = {"date_precision": precision}
    if "specificity" in frame.columns:
        precisions["location_precision"] = parse_codes(
            frame["specificity"],
            GTD_LOCATION_PRECISION,
            file=file,
            column="specificity",
            notes=notes,
        )
    table.frame = frame.assign(_start=start, _end=end)
    canon = canonicalise(table, rename=rename, precisions=precisions, notes=notes)
    data = canon.data.drop(columns=["_start", "_end"], errors="ignore")
    return canon.incidents(source_info(path, "gtd", None, data, coverage), data)
