"""POLECAT event data (Harvard Dataverse, doi:10.7910/DVN/AJGVIT), as published.

POLECAT is the successor of ICEWS: events coded by the NGEC coder into the PLOVER
ontology (Halterman et al. 2023, "PLOVER and POLECAT: A New Political Event Ontology
and Dataset"; documentation doi:10.7910/DVN/LMFPIP). The weekly files
(``ngecEvents.20230103111842.Release603.DV.txt``) and the monthly or yearly files in
the archives (``ngecEventsDV-2022.txt.zip``, ``ngecEvents.DV.2023.txt``) are
tab-separated with a header of forty columns, in this order: ``Event ID``, ``Event
Date``, ``Event Type``, ``Event Mode``, ``Event Intensity``, ``Quad Code``,
``Contexts``, ``Actor Name``, ``Actor Country``, ``Actor COW``, ``Primary Actor
Sector``, ``Actor Sectors``, ``Actor Title``, ``Actor Name Raw``, ``Wikipedia Actor
ID``, ``Recipient Name``, ``Recipient Country``, ``Recipient COW``, ``Primary
Recipient Sector``, ``Recipient Sectors``, ``Recipient Title``, ``Recipient Name
Raw``, ``Wikipedia Recipient ID``, ``Placename``, ``City``, ``District``,
``Province``, ``Country``, ``Latitude``, ``Longitude``, ``GeoNames ID``, ``Raw
Placename``, ``Feature Type``, ``Source``, ``Publication Date``, ``Story People``,
``Story Organizations``, ``Story Locations``, ``Language``, ``Version``.

How the layout was established (the codebook itself could not be read offline):

- Names and order, two independent sources agreeing column for column: a literal
  tab-separated header quoted in a temporal-knowledge-graph preprocessing script
  (``load_csv_raw``; by its form and the ``tkgl-polecat`` data set, the Temporal
  Graph Benchmark's), and the column list in an R pipeline that reads every
  Dataverse file (``write_polecat_csv``, a World Bank country-risk project). The
  repositories of both were inferred from their content, not named by the index.
  The field names of the NGEC coder's records (ahalterman/NGEC, ``formatter.py``:
  ``publisher``, ``pub_date``, ``story_people``, ``version``...) match in meaning.
- ``Intensity`` instead of ``Event Intensity`` in some releases: the TGB header
  has ``Intensity``; the CRM code renames ``Intensity`` to ``Event Intensity`` when
  reading. Both are accepted; the column is passed through as ``Event Intensity``.
- Some releases carry further columns (``Headline``, ``Event Text``, ``Feed``,
  ``Story ID``: the CRM code drops them when present); they pass through.
- Tab-separated with one header row, ``Event Date`` as ``YYYY-MM-DD`` (TGB parses
  ``%Y-%m-%d``; a POLECAT parser in a forecasting pipeline uses
  ``date.fromisoformat``).
- Missing values written as the text ``None`` (TGB and the CRM code both filter
  ``None``; an audit script of the Dataverse files replaces it): read as missing.
- Several values in one field separated by ``;`` (``Contexts``, ``Actor Country``,
  ``Actor COW``; the CRM code splits on ``"; "``, a clustering study on ``;``;
  rpolecat's README for ``context``).
- ``Country`` is an ISO 3166-1 alpha-3 code (a POLECAT parser maps it from ISO-3 to
  FIPS; the CRM code joins it with ``iso3c`` codes). It is kept as the code.
- Malformed files on Dataverse (Andreas Beger, "POLECAT Event Data", 2024,
  andybeger.com; rpolecat ``read.R``): stray trailing tabs, which are dropped, and
  headers naming more columns than the records hold, which are refused with the
  row (the values would sit under the wrong names).

Not confirmed: whether ``Source`` names the outlet or a feed (NGEC's ``publisher``
field holds feed codes such as ``translateme2-pt``); it is the only field naming
where a story came from, and is read as the outlet. That ``Province`` and
``District`` are the first- and second-order divisions follows ICEWS, whose place
columns POLECAT kept.

The duplicate-id guard, as for ICEWS: a record repeated with the same values is
counted once and the repeats are set aside in the ledger (``repeated record (same
Event ID and values)``; an audit of the Dataverse annual files found "a small number
of repeated Event ID rows"); two different records sharing an id are refused
(:class:`~trends.errors.DuplicateIdError`).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import pandas as pd

from .. import registry
from ..errors import SchemaError
from ..incidents import Incidents
from . import lazy
from .canonical import canonicalise, source_info
from .files import RawTable, read_tab, set_aside_repeats
from .parse import Notes, finest_place, outlets_named

__all__ = [
    "POLECAT_COLUMNS",
    "POLECAT_PLACES",
    "looks_like_polecat",
    "polecat_lazy",
    "read_polecat",
]

#: The forty columns of a POLECAT event file (its header), in order.
POLECAT_COLUMNS = (
    "Event ID", "Event Date", "Event Type", "Event Mode", "Event Intensity", "Quad Code",
    "Contexts", "Actor Name", "Actor Country", "Actor COW", "Primary Actor Sector",
    "Actor Sectors", "Actor Title", "Actor Name Raw", "Wikipedia Actor ID",
    "Recipient Name", "Recipient Country", "Recipient COW", "Primary Recipient Sector",
    "Recipient Sectors", "Recipient Title", "Recipient Name Raw", "Wikipedia Recipient ID",
    "Placename", "City", "District", "Province", "Country", "Latitude", "Longitude",
    "GeoNames ID", "Raw Placename", "Feature Type", "Source", "Publication Date",
    "Story People", "Story Organizations", "Story Locations", "Language", "Version",
)  # fmt: skip
#: Place columns, coarsest first, with the location precision each gives.
POLECAT_PLACES = (("Country", "country"), ("Province", "region"), ("District", "subregion"),
                  ("City", "exact"))  # fmt: skip
#: The columns the reader maps (the rest pass through as they come).
_USED = ("Event ID", "Event Date", "Event Type", "Event Mode", "Quad Code", "Actor Name",
         "City", "District", "Province", "Country", "Source")  # fmt: skip
#: Columns passed through for filters (event type, mode, quad class, contexts, intensity).
_FILTERS = ("Event Type", "Event Mode", "Quad Code", "Contexts", "Event Intensity")


def looks_like_polecat(names: Collection[str]) -> bool:
    """A POLECAT file's header, read as one comma-separated record, starts with these."""
    return any(str(n).startswith("Event ID\tEvent Date\tEvent Type") for n in names)


def _checked(frame: Any, names: Collection[str], file: str) -> dict[str, str]:
    """``Intensity`` -> ``Event Intensity`` where a release names it so; a SchemaError
    naming the first column the reader needs that the file lacks."""
    rename = {"Intensity": "Event Intensity"} if "Event Intensity" not in names else {}
    absent = [c for c in _USED if c not in names]
    if absent:
        raise SchemaError(
            f"missing column {absent[0]!r}, which every POLECAT event file has",
            file=file,
            column=absent[0],
        )
    return {k: v for k, v in rename.items() if k in names}


def read_polecat(
    path: str | Path | Any, *, coverage: tuple[str, str] | None = None
) -> Incidents | Any:
    """Read a POLECAT event file (``ngecEvents*.txt``, tab-separated with a header).

    Parameters
    ----------
    path : str, Path, or a lazy frame
        A file (``.txt``, or ``.txt.gz``); or the file as a Spark DataFrame
        (``spark.read.csv(path, sep="\\t", header=True, quote="")``), a DuckDB
        relation or another lazy frame narwhals reaches, with the file's column
        names: a frame gives back a frame of the same engine in canonical columns,
        for :func:`trends.count` to count where it lives (see :func:`polecat_lazy`).
    coverage : (first, last), optional
        The window the file covers; by default its own date range.

    Returns
    -------
    Incidents
        ``event_type`` the PLOVER event type, ``actor`` the actor's name,
        ``country`` the ISO-3 code of ``Country``, ``region`` from ``Province``,
        ``subregion`` from ``District``, ``location_precision`` from the finest place
        named (city exact, district, province, country), ``sources`` from
        ``Source`` (``n_sources``: the outlets it names); every POLECAT column passes
        through (``Event Mode``, ``Quad Code``, ``Contexts``, ``Event Intensity``...).
    """
    if not isinstance(path, str | Path):
        return polecat_lazy(path)
    path = Path(path)
    file = str(path)
    frame = read_tab(path, "a POLECAT event file")
    frame = frame.rename(columns=_checked(frame, list(frame.columns), file))
    records = len(frame)
    frame, repeats = set_aside_repeats(frame)
    precisions = {
        "date_precision": pd.Series("day", index=frame.index, dtype="string"),
        "location_precision": finest_place(frame, POLECAT_PLACES),
    }
    table = RawTable(frame=frame, file=file, records=records, may_span=False, set_aside=repeats)
    rename = dict(registry.get("polecat")["columns"])  # canonical -> the file's column
    del rename["location_precision"]  # from the finest place named, above
    canon = canonicalise(table, rename=rename, precisions=precisions, notes=Notes(file))
    data = canon.data
    data["n_sources"] = outlets_named(data["sources"])
    return canon.incidents(source_info(path, "polecat", None, data, coverage), data)


def polecat_lazy(native: Any) -> Any:
    """A POLECAT file held by an engine (Spark, DuckDB, polars) in canonical columns.

    The mapping of :func:`read_polecat` as narwhals expressions
    (:mod:`trends.readers.lazy`), with the same duplicate-id guard: a record repeated
    field for field is counted once and its repeats go to the ledger (the column
    :data:`~trends.counting.lazy.SET_ASIDE`); two records sharing an id are refused
    by the count (:class:`~trends.errors.DuplicateIdError`). Provinces and outlets
    are rewritten where the readers' rules change them (alias tables, spacing, an
    administrative suffix). Returns the engine's own frame.
    """
    import narwhals as nw

    frame = nw.from_native(native)
    names = frame.collect_schema().names()
    frame = frame.rename(_checked(frame, names, "a lazy frame"))
    names = frame.collect_schema().names()
    col = {c: lazy.named(nw.col(c)) for c in _USED}
    fields = {
        "event_id": col["Event ID"],
        "date_start": col["Event Date"].str.slice(0, 10).str.to_date("%Y-%m-%d"),
        "country": col["Country"],
        "region": col["Province"],
        "subregion": col["District"],
        "event_type": col["Event Type"],
        "actor": col["Actor Name"],
        "sources": col["Source"],
    }
    passed = [nw.col(c).cast(nw.String) for c in _FILTERS if c in names]
    return lazy.day_events(frame, fields, places=POLECAT_PLACES, columns=names, passed=passed)
