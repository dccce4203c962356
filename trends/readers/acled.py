"""ACLED (Armed Conflict Location & Event Data) exports."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from .. import registry
from ..errors import FormatError, SchemaError
from ..incidents import Incidents
from .canonical import canonicalise, source_info
from .files import read_table, set_aside_spanning
from .parse import Notes, outlets_named, parse_codes, parse_dates

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
    table = read_table(path)
    file = table.file
    columns = dict(registry.get("acled")["columns"])
    if not looks_like_acled(table.frame.columns):
        raise FormatError("not an ACLED export: it lacks event_id_cnty or event_date", file=file)
    codes = {canon: columns.pop(canon) for canon in ("date_precision", "location_precision")}
    absent = [c for c in codes.values() if c not in table.frame.columns]
    if absent:
        raise SchemaError(
            f"missing column {absent[0]!r}, which every ACLED export has",
            file=file,
            column=absent[0],
        )
    table = set_aside_spanning(table, [*columns.values(), *codes.values()])
    frame, notes = table.frame, Notes(file)
    precisions = {
        canon: parse_codes(frame[column], mapping, file=file, column=column, notes=notes)
        for canon, column, mapping in (
            ("date_precision", codes["date_precision"], ACLED_DATE_PRECISION),
            ("location_precision", codes["location_precision"], ACLED_LOCATION_PRECISION),
        )
    }
    dates = parse_dates(
        frame["event_date"],
        "event_date",
        file,
        formats=("%d %B %Y",),
        expected="YYYY-MM-DD or '15 January 2020'",
    )
    table.frame = frame.assign(event_date=dates)
    canon = canonicalise(table, rename=columns, precisions=precisions, notes=notes)
    data = canon.data
    data["n_sources"] = outlets_named(data["sources"])
    return canon.incidents(source_info(path, "acled", None, data, coverage), data)
