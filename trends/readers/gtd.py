"""The Global Terrorism Database (GTD), as START distributes it."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DateError, FormatError, SchemaError
from ..incidents import Incidents, make_ledger
from .canonical import canonicalise, source_info
from .files import read_table
from .parse import first_bad, parse_codes, parse_dates, parse_numbers

__all__ = ["read_gtd", "looks_like_gtd", "GTD_LOCATION_PRECISION"]

# GTD codebook (START 2021), specificity: 1 the city itself, 2 the city, coordinates of a
# larger area, 3 the smallest known administrative area, 4 only the province, 5 only
# the country.
GTD_LOCATION_PRECISION = {1: "exact", 2: "subregion", 3: "subregion", 4: "region", 5: "country"}
_GTD_NEEDED = ("eventid", "iyear", "imonth", "iday", "country_txt")


def looks_like_gtd(names: Collection[str]) -> bool:
    """A GTD file has ``eventid``, ``iyear``, ``imonth`` and ``iday``."""
    return {"eventid", "iyear", "imonth", "iday"} <= set(names)


def _gtd_dates(frame: pd.DataFrame, file: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Start, end and date precision from ``iyear``/``imonth``/``iday`` (0 = unknown)."""
    year = parse_numbers(frame["iyear"], "iyear", file)
    month = parse_numbers(frame["imonth"], "imonth", file)
    day = parse_numbers(frame["iday"], "iday", file)
    for name, values, top in (("imonth", month, 12), ("iday", day, 31)):
        bad = values > top
        if bad.any():
            i = first_bad(bad)
            raise DateError(
                f"{values.iloc[i]:g} is not a {name[1:]} (0 for unknown, or 1-{top})",
                file=file,
                row=i + 1,
                column=name,
            )
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
        extended = pd.to_numeric(frame["extended"], errors="coerce") == 1
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
    frame = read_table(path)
    file = str(path)
    missing = [c for c in _GTD_NEEDED if c not in frame.columns]
    if len(missing) == len(_GTD_NEEDED):
        raise FormatError(
            "not a GTD file: it has none of eventid, iyear, imonth, iday, country_txt", file=file
        )
    if missing:
        raise SchemaError(
            f"missing column {missing[0]!r}, which every GTD file has", file=file, column=missing[0]
        )
    start, end, precision = _gtd_dates(frame, file)
    location = (
        parse_codes(frame["specificity"], GTD_LOCATION_PRECISION, file=file, column="specificity")
        if "specificity" in frame.columns
        else None
    )
    frame = frame.assign(_start=start, _end=end)
    rename = {
        "event_id": "eventid",
        "date_start": "_start",
        "date_end": "_end",
        "country": "country_txt",
    }
    optional = {
        "region": "provstate",
        "subregion": "city",
        "event_type": "attacktype1_txt",
        "actor": "gname",
        "fatalities": "nkill",
    }
    rename.update({k: v for k, v in optional.items() if v in frame.columns})
    precisions = {"date_precision": precision}
    if location is not None:
        precisions["location_precision"] = location
    data, set_aside = canonicalise(frame, file=file, rename=rename, precisions=precisions)
    data = data.drop(columns=["_start", "_end"], errors="ignore")
    source = source_info(path, "gtd", None, data, coverage)
    return Incidents(data=data, ledger=make_ledger(len(frame), set_aside), source=source)
