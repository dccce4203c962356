"""ACLED (Armed Conflict Location & Event Data) exports."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pandas as pd

from .. import registry
from ..errors import DateError, FormatError
from ..incidents import Incidents, make_ledger
from .canonical import canonicalise, source_info
from .files import read_table
from .parse import first_bad, parse_codes

__all__ = ["read_acled", "looks_like_acled", "ACLED_DATE_PRECISION", "ACLED_LOCATION_PRECISION"]

# ACLED codebook (2023): time_precision 1 day, 2 week, 3 month; geo_precision 1 the
# town itself, 2 a nearby or partly named place, 3 only the larger region.
ACLED_DATE_PRECISION = {1: "day", 2: "week", 3: "month"}
ACLED_LOCATION_PRECISION = {1: "exact", 2: "subregion", 3: "region"}


def looks_like_acled(names: Collection[str]) -> bool:
    """An ACLED export has ``event_id_cnty`` and ``event_date``."""
    return {"event_id_cnty", "event_date"} <= set(names)


def read_acled(path: str | Path, *, coverage: tuple[str, str] | None = None) -> Incidents:
    """Read an ACLED export (Data Export Tool or API CSV).

    ``event_id_cnty``, ``event_date``, ``time_precision``, ``geo_precision``,
    ``admin1``/``admin2``, ``event_type``, ``actor1``, ``fatalities`` and
    ``source`` (outlets separated by ``;``) map onto the canonical columns;
    ``n_sources`` is the number of outlets the row names (ACLED has no separate
    count). Precision codes follow the ACLED Codebook (2023). ACLED's coverage
    starts at different dates in different countries: by default the window is
    the data's own date range; declare one with ``coverage=``.
    """
    path = Path(path)
    frame = read_table(path)
    file = str(path)
    entry = registry.get("acled")
    columns = dict(entry["columns"])
    if columns["event_id"] not in frame.columns or columns["date_start"] not in frame.columns:
        raise FormatError("not an ACLED export: it lacks event_id_cnty or event_date", file=file)
    precisions = {
        "date_precision": parse_codes(
            frame[columns.pop("date_precision")],
            ACLED_DATE_PRECISION,
            file=file,
            column="time_precision",
        ),
        "location_precision": parse_codes(
            frame[columns.pop("location_precision")],
            ACLED_LOCATION_PRECISION,
            file=file,
            column="geo_precision",
        ),
    }
    frame = frame.assign(event_date=_acled_dates(frame["event_date"], file))
    data, set_aside = canonicalise(frame, file=file, rename=columns, precisions=precisions)
    named = data["sources"].str.count(";").add(1)
    data["n_sources"] = named.astype("Int64")
    source = source_info(path, "acled", None, data, coverage)
    return Incidents(data=data, ledger=make_ledger(len(frame), set_aside), source=source)


def _acled_dates(values: pd.Series, file: str) -> pd.Series:
    """ACLED writes ``2020-01-15`` in new exports and ``15 January 2020`` in old ones."""
    text = values.astype("string").str.strip()
    iso = pd.to_datetime(text, errors="coerce", format="ISO8601")
    spelled = pd.to_datetime(text, errors="coerce", format="%d %B %Y")
    parsed = iso.fillna(spelled)
    bad = parsed.isna() & text.notna() & (text != "")
    if bad.any():
        i = first_bad(bad)
        raise DateError(
            f"{text.iloc[i]!r} is not a date; expected YYYY-MM-DD or '15 January 2020'",
            file=file,
            row=i + 1,
            column="event_date",
        )
    return parsed
