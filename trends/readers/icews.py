"""ICEWS coded event data (Harvard Dataverse, doi:10.7910/DVN/28075), as published.

Yearly and weekly files are tab-separated with a header of twenty columns: ``Event ID``,
``Event Date``, ``Source Name``, ``Source Sectors``, ``Source Country``, ``Event
Text``, ``CAMEO Code``, ``Intensity``, ``Target Name``, ``Target Sectors``, ``Target
Country``, ``Story ID``, ``Sentence Number``, ``Publisher``, ``City``, ``District``,
``Province``, ``Country``, ``Latitude``, ``Longitude`` (ICEWS Coded Event Data
codebook, Boschee et al. 2015).

The duplicate-id guard: ``Event ID`` is not unique in the published files (the same
record appears again in overlapping weekly and yearly files). A record repeated with
the same values is counted once and the repeats are set aside in the ledger
(``repeated record (same Event ID and values)``); two different records sharing an
id are refused, as in every reader (:class:`~trends.errors.DuplicateIdError`).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import SchemaError
from ..incidents import Incidents
from . import lazy
from .canonical import canonicalise, source_info
from .files import REPEATED_REASON, RawTable, read_tab, set_aside_repeats
from .parse import Notes, finest_place, outlets_named

__all__ = ["ICEWS_COLUMNS", "REPEATED_REASON", "icews_lazy", "looks_like_icews", "read_icews"]

#: The columns every ICEWS event file has (its header), in order.
ICEWS_COLUMNS = (
    "Event ID", "Event Date", "Source Name", "Source Sectors", "Source Country",
    "Event Text", "CAMEO Code", "Intensity", "Target Name", "Target Sectors",
    "Target Country", "Story ID", "Sentence Number", "Publisher", "City", "District",
    "Province", "Country", "Latitude", "Longitude",
)  # fmt: skip
#: Place columns, coarsest first, with the location precision each gives.
ICEWS_PLACES = (("Country", "country"), ("Province", "region"), ("District", "subregion"),
                ("City", "exact"))  # fmt: skip


def looks_like_icews(names: Collection[str]) -> bool:
    """An ICEWS file's header, read as one comma-separated record, starts with these."""
    return any(str(n).startswith("Event ID\tEvent Date\tSource Name") for n in names)


#: ICEWS columns a lazy frame keeps beside the canonical ones (the others are mapped, or
#: would clash with a canonical name in engines that ignore case, as Spark does).
_PASSED_LAZY = ("Intensity", "Event Text", "Story ID", "Sentence Number", "Source Sectors",
                "Source Country", "Target Name", "Target Sectors", "Target Country")  # fmt: skip


def read_icews(
    path: str | Path | Any, *, coverage: tuple[str, str] | None = None
) -> Incidents | Any:
    """Read an ICEWS event file (``events.2016.*.tab``, tab-separated with a header).

    Parameters
    ----------
    path : str, Path, or a lazy frame
        A file; or the file as a Spark DataFrame (``spark.read.csv(path, sep="\t",
        header=True)``), a DuckDB relation or another lazy frame narwhals reaches,
        with ICEWS's column names. A frame gives back a frame of the same engine in
        canonical columns, for :func:`trends.count` to count where it lives (see
        :func:`icews_lazy`).
    coverage : (first, last), optional
        The window the file covers; by default its own date range.

    Returns
    -------
    Incidents
        ``region`` from ``Province``, ``subregion`` from ``District``, the outlet
        (``sources``) from ``Publisher`` (``n_sources``: the outlets named, one),
        ``event_type`` the CAMEO code, ``actor`` the source actor; every ICEWS column
        passes through (``Intensity``, ``Story ID`` ...).
    """
    if not isinstance(path, str | Path):
        return icews_lazy(path)
    path = Path(path)
    file = str(path)
    frame = read_tab(path, "an ICEWS event file")
    absent = [c for c in ICEWS_COLUMNS if c not in frame.columns]
    if absent:
        raise SchemaError(
            f"missing column {absent[0]!r}, which every ICEWS event file has",
            file=file,
            column=absent[0],
        )
    records = len(frame)
    frame, repeats = set_aside_repeats(frame)
    derived = pd.DataFrame(
        {
            "event_id": frame["Event ID"],
            "date_start": frame["Event Date"],
            "country": frame["Country"],
            "region": frame["Province"],
            "subregion": frame["District"],
            "event_type": frame["CAMEO Code"],
            "actor": frame["Source Name"],
            "sources": frame["Publisher"],
        }
    )
    precisions = {
        "date_precision": pd.Series("day", index=frame.index, dtype="string"),
        "location_precision": finest_place(frame, ICEWS_PLACES),
    }
    table = RawTable(
        frame=pd.concat([derived, frame], axis=1),
        file=file,
        records=records,
        may_span=False,
        set_aside=repeats,
    )
    rename = {c: c for c in derived.columns}
    canon = canonicalise(table, rename=rename, precisions=precisions, notes=Notes(file))
    data = canon.data
    data["n_sources"] = outlets_named(data["sources"])
    return canon.incidents(source_info(path, None, None, data, coverage), data)


def icews_lazy(native: Any) -> Any:
    """An ICEWS event file held by an engine (Spark, DuckDB, polars) in canonical columns.

    The same mapping as :func:`read_icews`, as narwhals expressions
    (:mod:`trends.readers.lazy`), with the same duplicate-id guard: a record repeated
    with the same values is counted once and its repeats go to the ledger (the column
    :data:`~trends.counting.lazy.SET_ASIDE`); two different records sharing an id are
    refused by the count (:class:`~trends.errors.DuplicateIdError`). Provinces and
    publishers are rewritten where the readers' alias tables change them. Returns the
    engine's own frame.
    """
    import narwhals as nw

    frame = nw.from_native(native)
    names = frame.collect_schema().names()
    absent = [c for c in ICEWS_COLUMNS if c not in names]
    if absent:
        raise SchemaError(
            f"missing column {absent[0]!r}, which every ICEWS event file has",
            file=f"{str(frame.implementation.name).lower()} frame",
            column=absent[0],
        )
    given = {c: lazy.named(nw.col(c)) for c in ICEWS_COLUMNS}
    fields = {
        "event_id": given["Event ID"],
        "date_start": given["Event Date"].str.to_date("%Y-%m-%d"),
        "country": given["Country"],
        "region": given["Province"],
        "subregion": given["District"],
        "event_type": given["CAMEO Code"],
        "actor": given["Source Name"],
        "sources": given["Publisher"],
    }
    passed = [nw.col(c).cast(nw.String) for c in _PASSED_LAZY]
    return lazy.day_events(frame, fields, places=ICEWS_PLACES, columns=ICEWS_COLUMNS, passed=passed)
