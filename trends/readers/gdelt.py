"""GDELT 2.0 event exports (tab-separated, no header, 61 columns).

Column order from the GDELT 2.0 Event Database codebook (V2.0, 2015): the event id
and dates, two actor blocks of ten fields, the CAMEO event codes and ``QuadClass``,
the Goldstein scale, mentions, sources, articles and tone, three geography blocks
(actor 1, actor 2, action) of eight fields, ``DATEADDED`` and ``SOURCEURL``.

The place of an event is its *action* geography: ``ActionGeo_CountryCode`` and
``ActionGeo_ADM1Code`` are FIPS 10-4 codes, named from ``datasets/fips10_4_adm1.csv``
(an unknown code is kept as the name); ``ActionGeo_Type`` gives the location
precision (1 country, 2 US state, 3 US city, 4 world city, 5 world state, i.e.
first-order division). The outlet is the domain of ``SOURCEURL``; ``NumSources`` is
the number of sources behind the event. ``IsRootEvent``, the CAMEO codes
(``EventCode``, ``EventBaseCode``, ``EventRootCode``), ``QuadClass``, ``NumArticles``
and ``NumMentions`` pass through for filters.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from ..errors import FormatError
from ..incidents import Incidents
from ..registry import data_dir
from .canonical import canonicalise, source_info
from .files import RawTable, read_tab
from .parse import Notes, parse_codes, parse_dates

__all__ = [
    "gdelt_lazy",
    "GDELT_COLUMNS",
    "GDELT_LOCATION_PRECISION",
    "looks_like_gdelt",
    "read_gdelt",
    "fips_names",
]

_ACTOR = (
    "Code", "Name", "CountryCode", "KnownGroupCode", "EthnicCode", "Religion1Code",
    "Religion2Code", "Type1Code", "Type2Code", "Type3Code",
)  # fmt: skip
_GEO = ("Type", "FullName", "CountryCode", "ADM1Code", "ADM2Code", "Lat", "Long", "FeatureID")

#: The 61 columns of a GDELT 2.0 event export, in order (GDELT 2.0 Event Codebook).
GDELT_COLUMNS = (
    ("GLOBALEVENTID", "SQLDATE", "MonthYear", "Year", "FractionDate")
    + tuple(f"Actor1{f}" for f in _ACTOR)
    + tuple(f"Actor2{f}" for f in _ACTOR)
    + (
        "IsRootEvent",
        "EventCode",
        "EventBaseCode",
        "EventRootCode",
        "QuadClass",
        "GoldsteinScale",
        "NumMentions",
        "NumSources",
        "NumArticles",
        "AvgTone",
    )  # fmt: skip
    + tuple(f"Actor1Geo_{f}" for f in _GEO)
    + tuple(f"Actor2Geo_{f}" for f in _GEO)
    + tuple(f"ActionGeo_{f}" for f in _GEO)
    + ("DATEADDED", "SOURCEURL")
)

#: ``ActionGeo_Type``: 1 country, 2 US state, 3 US city, 4 world city, 5 world state (ADM1).
GDELT_LOCATION_PRECISION = {1: "country", 2: "region", 3: "exact", 4: "exact", 5: "region"}


def looks_like_gdelt(names: Collection[str]) -> bool:
    """A GDELT export has no header: its first record, read as one, holds 60 tabs."""
    return sum(str(n).count("\t") for n in names) == len(GDELT_COLUMNS) - 1


@cache
def fips_names() -> tuple[dict[str, str], dict[str, str]]:
    """FIPS 10-4 country names and first-order division names.

    From ``datasets/fips10_4_adm1.csv``: every entry of FIPS PUB 10-4, "Countries,
    Dependencies, Areas of Special Sovereignty, and Their Principal Administrative
    Divisions" (NIST, 1995, with its change notices), written by
    ``datasets/make_fips10_4.py``, whose docstring gives the source and its fixes.

    Returns
    -------
    (dict, dict)
        Country code -> name (``IZ`` -> ``Iraq``); division code -> name
        (``IZ07`` -> ``Baghdad``).
    """
    table = pd.read_csv(data_dir() / "fips10_4_adm1.csv", dtype="string", keep_default_na=False)
    countries = dict(zip(table["country_code"], table["country"], strict=True))
    adm1 = table[table["adm1_code"] != ""]
    return countries, dict(zip(adm1["adm1_code"], adm1["adm1_name"], strict=True))


def _outlet(url: object) -> object:
    """The domain of a source URL, without ``www.`` (missing when there is none)."""
    if not isinstance(url, str) or not url.strip():
        return pd.NA
    host = urlsplit(url.strip()).hostname or ""
    host = host.removeprefix("www.")
    return host or pd.NA


def _read(path: Path) -> pd.DataFrame:
    """The export's records under GDELT's names (a short record is refused by read_tab)."""
    return read_tab(path, "a GDELT 2.0 event export", names=list(GDELT_COLUMNS))


def read_gdelt(
    path: str | Path | Any, *, coverage: tuple[str, str] | None = None
) -> Incidents | Any:
    """Read a GDELT 2.0 event export (``*.export.CSV``: tab-separated, no header).

    Parameters
    ----------
    path : str, Path, or a lazy frame
        A file; or the export as a Spark DataFrame (``spark.read.csv(path,
        sep="\t")``), a DuckDB relation or another lazy frame narwhals reaches, with
        GDELT's column names or positional ones (``_c0``.., ``column0``..). A frame
        gives back a frame of the same engine in canonical columns, for
        :func:`trends.count` to count where it lives (see :func:`gdelt_lazy`).
    coverage : (first, last), optional
        The window the file covers; by default its own date range.

    Returns
    -------
    Incidents
        Canonical columns (``region``: the FIPS 10-4 first-order division of the
        action, named; ``sources``: the outlet's domain; ``n_sources``:
        ``NumSources``), with every GDELT column passed through.

    Notes
    -----
    GDELT codes events from news, and its volume grows over the years: compare rates
    per 1,000 events of all kinds in the same place and period, as GDELT's own
    documentation advises, rather than raw counts.
    """
    if not isinstance(path, str | Path):
        return gdelt_lazy(path)
    path = Path(path)
    file = str(path)
    frame = _read(path)
    notes = Notes(file)
    countries, adm1 = fips_names()
    code = frame["ActionGeo_CountryCode"].str.strip()
    division = frame["ActionGeo_ADM1Code"].str.strip()
    division = division.where(division != code)  # "IZ": the country itself, no division
    derived = pd.DataFrame(
        {
            "event_id": frame["GLOBALEVENTID"],
            "date_start": parse_dates(
                frame["SQLDATE"], "SQLDATE", file, formats=("%Y%m%d",), expected="YYYYMMDD"
            ),
            "country": code.map(lambda c: countries.get(c, c), na_action="ignore"),
            "region": division.map(lambda c: adm1.get(c, c), na_action="ignore"),
            "outlet": frame["SOURCEURL"].map(_outlet).astype("string"),
        }
    )
    precisions = {
        "date_precision": pd.Series("day", index=frame.index, dtype="string"),
        "location_precision": parse_codes(
            frame["ActionGeo_Type"], GDELT_LOCATION_PRECISION, "ActionGeo_Type", file, notes=notes
        ),
    }
    rename = {
        "event_id": "event_id",
        "date_start": "date_start",
        "country": "country",
        "region": "region",
        "event_type": "EventCode",
        "actor": "Actor1Name",
        "n_sources": "NumSources",
        "sources": "outlet",
    }
    table = RawTable(
        frame=pd.concat([derived, frame], axis=1), file=file, records=len(frame), may_span=False
    )
    canon = canonicalise(table, rename=rename, precisions=precisions, notes=notes)
    data = canon.data.drop(columns=["event_id_source", "date_start_source", "country_source",
                                    "region_source"], errors="ignore")  # fmt: skip
    return canon.incidents(source_info(path, None, None, data, coverage), data)


@cache
def _harmonised_divisions() -> dict[str, str]:
    """FIPS first-order division code -> the name :func:`read_gdelt` gives it (aliases applied)."""
    from .regions import harmonise_region

    countries, adm1 = fips_names()
    codes = list(adm1)
    names = harmonise_region(
        pd.Series([countries.get(c[:2], c[:2]) for c in codes], dtype="string"),
        pd.Series([adm1[c] for c in codes], dtype="string"),
    )
    return dict(zip(codes, names.astype(str), strict=True))


def _lookup(expr: Any, mapping: dict[str, str], *, leaf: int = 32) -> Any:
    """``expr`` mapped through ``mapping`` (unknown values kept), as engine expressions.

    A binary search: ``CASE WHEN expr < key`` halves the sorted keys down to maps of
    at most ``leaf`` keys (DuckDB ``map``, Spark ``create_map``, which the engines
    scan key by key). The FIPS table has some 4,000 codes: one ``WHEN`` per code
    nests too deep for the expression builders, and one map of them all costs
    thousands of comparisons a row; this costs seven and a scan of 32 keys at most.
    """
    import narwhals as nw

    keys = sorted(mapping)

    def search(lo: int, hi: int) -> Any:
        if hi - lo <= leaf:
            part = {key: mapping[key] for key in keys[lo:hi]}
            return expr.replace_strict(part, default=expr, return_dtype=nw.String)
        mid = (lo + hi) // 2
        return nw.when(expr < keys[mid]).then(search(lo, mid)).otherwise(search(mid, hi))

    return search(0, len(keys)) if keys else expr


def gdelt_lazy(native: Any) -> Any:
    """A GDELT export held by an engine (Spark, DuckDB, polars) in canonical columns.

    The same mapping as :func:`read_gdelt`, as narwhals expressions: FIPS names
    (with the readers' region aliases), ``ActionGeo_Type`` as location precision,
    the outlet as the URL's host without ``www.`` (lower case, no port or user),
    ``NumSources`` as ``n_sources``; ``IsRootEvent``, the CAMEO codes, ``QuadClass``
    and ``NumArticles`` pass through. Returns the engine's own frame.
    """
    import narwhals as nw

    frame = nw.from_native(native)
    names = frame.collect_schema().names()
    if "GLOBALEVENTID" not in names:
        if len(names) != len(GDELT_COLUMNS):
            raise FormatError(
                f"not a GDELT 2.0 event export: {len(names)} columns, not {len(GDELT_COLUMNS)}"
            )
        frame = frame.rename(dict(zip(names, GDELT_COLUMNS, strict=True)))
    text = {c: nw.col(c).cast(nw.String) for c in GDELT_COLUMNS}
    countries, _ = fips_names()
    code = text["ActionGeo_CountryCode"].str.strip_chars()
    division = text["ActionGeo_ADM1Code"].str.strip_chars()
    kind = text["ActionGeo_Type"].str.strip_chars()
    precision = nw.lit(None, nw.String)
    for number, word in GDELT_LOCATION_PRECISION.items():
        precision = nw.when(kind == str(number)).then(nw.lit(word)).otherwise(precision)
    host = text["SOURCEURL"].str.strip_chars().str.to_lowercase()
    for pattern in (r"^[a-z][a-z0-9+.\-]*://", r"^[^/?#]*@", r"[/?#:].*$", r"^www\."):
        host = host.str.replace_all(pattern, "")
    country = _lookup(code, countries)
    region = nw.when(division != code).then(_lookup(division, _harmonised_divisions()))
    out = frame.select(
        text["GLOBALEVENTID"].str.strip_chars().alias("event_id"),
        text["SQLDATE"].str.strip_chars().str.to_date("%Y%m%d").alias("date_start"),
        nw.lit("day").alias("date_precision"),
        country.alias("country"),
        region.alias("region"),
        precision.alias("location_precision"),
        text["EventCode"].alias("event_type"),
        text["Actor1Name"].alias("actor"),
        text["NumSources"].cast(nw.Int64).alias("n_sources"),
        nw.when(host != "").then(host).alias("sources"),
        *(
            text[c]
            for c in (
                "IsRootEvent",
                "EventCode",
                "EventBaseCode",
                "EventRootCode",
                "QuadClass",
                "NumArticles",
            )
        ),  # fmt: skip
    )
    return out.to_native()
