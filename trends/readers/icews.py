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
from .canonical import canonicalise, source_info
from .files import RawTable, read_tab
from .parse import Notes, normalise_sources
from .regions import harmonise_region

__all__ = ["ICEWS_COLUMNS", "REPEATED_REASON", "icews_lazy", "looks_like_icews", "read_icews"]

#: The columns every ICEWS event file has (its header), in order.
ICEWS_COLUMNS = (
    "Event ID", "Event Date", "Source Name", "Source Sectors", "Source Country",
    "Event Text", "CAMEO Code", "Intensity", "Target Name", "Target Sectors",
    "Target Country", "Story ID", "Sentence Number", "Publisher", "City", "District",
    "Province", "Country", "Latitude", "Longitude",
)  # fmt: skip
REPEATED_REASON = "repeated record (same Event ID and values)"


def looks_like_icews(names: Collection[str]) -> bool:
    """An ICEWS file's header, read as one comma-separated record, starts with these."""
    return any(str(n).startswith("Event ID\tEvent Date\tSource Name") for n in names)


#: The place columns from the coarsest to the finest, with the precision each gives.
_PLACES = (("Country", "country"), ("Province", "region"), ("District", "subregion"),
           ("City", "exact"))  # fmt: skip
#: ICEWS columns a lazy frame keeps beside the canonical ones (the others are mapped, or
#: would clash with a canonical name in engines that ignore case, as Spark does).
_PASSED_LAZY = ("Intensity", "Event Text", "Story ID", "Sentence Number", "Source Sectors",
                "Source Country", "Target Name", "Target Sectors", "Target Country")  # fmt: skip


def _precision(frame: pd.DataFrame) -> pd.Series:
    """The finest place named: city (exact), district, province (region) or country."""
    out = pd.Series("unknown", index=frame.index, dtype="string")
    for column, word in _PLACES:
        named = frame[column].fillna("").str.strip() != ""
        out = out.where(~named, word)
    return out


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
    repeated = frame.duplicated(keep="first")
    frame = frame.loc[~repeated]
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
        "location_precision": _precision(frame),
    }
    table = RawTable(
        frame=pd.concat([derived, frame], axis=1),
        file=file,
        records=records,
        may_span=False,
        set_aside={REPEATED_REASON: int(repeated.sum())} if repeated.any() else {},
    )
    rename = {c: c for c in derived.columns}
    canon = canonicalise(table, rename=rename, precisions=precisions, notes=Notes(file))
    data = canon.data
    data["n_sources"] = data["sources"].notna().astype("Int64").where(data["sources"].notna())
    return canon.incidents(source_info(path, None, None, data, coverage), data)


def icews_lazy(native: Any) -> Any:
    """An ICEWS event file held by an engine (Spark, DuckDB, polars) in canonical columns.

    The same mapping as :func:`read_icews`, as narwhals expressions, with the same
    duplicate-id guard: a record repeated with the same values is kept once, and its
    repeats carry the reason :data:`REPEATED_REASON` in the column
    :data:`~trends.counting.lazy.SET_ASIDE`, which :func:`trends.count` puts in the
    ledger; two different records sharing an id are refused by the count
    (:class:`~trends.errors.DuplicateIdError`). Province names are harmonised as the
    reader harmonises them: the distinct (country, province) pairs are collected from
    the engine (a small result) and only the names the alias table changes are
    rewritten. Returns the engine's own frame.
    """
    import narwhals as nw

    from ..counting.lazy import SET_ASIDE

    frame = nw.from_native(native)
    names = frame.collect_schema().names()
    absent = [c for c in ICEWS_COLUMNS if c not in names]
    if absent:
        raise SchemaError(
            f"missing column {absent[0]!r}, which every ICEWS event file has",
            file=f"{str(frame.implementation.name).lower()} frame",
            column=absent[0],
        )
    text = {c: nw.col(c).cast(nw.String) for c in ICEWS_COLUMNS}
    given = {c: nw.when(text[c].str.strip_chars() != "").then(text[c]) for c in ICEWS_COLUMNS}
    precision = nw.lit("unknown")
    for column, word in _PLACES:
        precision = nw.when(~given[column].is_null()).then(nw.lit(word)).otherwise(precision)
    # a row's copy number among rows equal in every column (the order among equal rows
    # does not matter): the first is kept, the others set aside
    one = nw.col("Event ID").is_null().cast(nw.Int64) * 0 + 1  # a window needs a column
    copy = one.cum_sum().over(*ICEWS_COLUMNS, order_by="Event ID")
    out = frame.select(
        given["Event ID"].str.strip_chars().alias("event_id"),
        given["Event Date"].str.strip_chars().str.to_date("%Y-%m-%d").alias("date_start"),
        nw.lit("day").alias("date_precision"),
        given["Country"].alias("country"),
        given["Province"].alias("region"),
        given["District"].alias("subregion"),
        precision.alias("location_precision"),
        given["CAMEO Code"].alias("event_type"),
        given["Source Name"].alias("actor"),
        given["Publisher"].alias("sources"),
        nw.when(copy > 1).then(nw.lit(REPEATED_REASON)).alias(SET_ASIDE),
        *(text[c] for c in _PASSED_LAZY),
    )
    out = _rewritten(
        out, "region", lambda pairs: harmonise_region(pairs["country"], pairs["region"])
    )
    out = _rewritten(
        out, "sources", lambda pairs: normalise_sources(pairs["sources"], "Publisher", "frame")
    )
    named = nw.when(~nw.col("sources").is_null()).then(nw.lit(1)).cast(nw.Int64)
    return out.with_columns(named.alias("n_sources")).to_native()


def _rewritten(frame: Any, column: str, rule: Any) -> Any:
    """``frame`` with ``column`` rewritten by a readers' ``rule`` where it changes a value.

    ``rule`` is applied in pandas to the distinct (``country``, ``column``) pairs,
    collected from the engine (a small result); only the values it changes become
    engine expressions.
    """
    import narwhals as nw

    pairs = frame.select("country", column).unique().collect().to_pandas().astype("string")
    pairs["value"] = rule(pairs).to_numpy()
    value, raw = pairs["value"], pairs[column]
    changed = pairs[~((value == raw).fillna(False) | (value.isna() & raw.isna()))]
    out = nw.col(column)
    for country, raw, value in changed.itertuples(index=False):
        same_country = (
            nw.col("country").is_null() if pd.isna(country) else nw.col("country") == country
        )
        out = (
            nw.when(same_country & (nw.col(column) == raw))
            .then(nw.lit(None, nw.String) if pd.isna(value) else nw.lit(value))
            .otherwise(out)
        )
    return frame.with_columns(out.alias(column))
