"""Readers: one per source format, each to the canonical incident table.

Every reader fills what its source has and leaves the rest missing; it never
invents. Every row read ends in exactly one place: kept, or set aside with a
reason in the ledger. Bad input raises an :class:`~trends.errors.InputError`
naming the file, the row (1-based, counting data rows below the header) and the
column.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from . import registry
from .errors import (
    DateError,
    DuplicateIdError,
    EmptyInputError,
    FormatError,
    SchemaError,
    TrendsError,
    ValueRangeError,
)
from .fetch import file_sha256
from .incidents import (
    CANONICAL_COLUMNS,
    DATE_PRECISIONS,
    LOCATION_PRECISIONS,
    UNKNOWN_REGION,
    Incidents,
    SourceInfo,
    make_ledger,
)

__all__ = [
    "read",
    "read_incidents",
    "read_ucdp_ged",
    "read_acled",
    "read_gtd",
    "detect_format",
    "harmonise_region",
]

logger = logging.getLogger(__name__)

# UCDP GED codebook 19.1 (Högbladh 2019), variables date_prec and where_prec.
UCDP_DATE_PRECISION = {1: "day", 2: "week", 3: "week", 4: "month", 5: "year"}
UCDP_LOCATION_PRECISION = {
    1: "exact",  # exact location
    2: "exact",  # within about 25 km of a known point
    3: "subregion",  # only the second-order administrative division (adm_2)
    4: "region",  # only the first-order administrative division (adm_1)
    5: "country",  # a part of the country larger than adm_1, or a linear feature
    6: "country",  # only the country
    7: "unknown",  # international waters or airspace
}
UCDP_VIOLENCE = {1: "state-based", 2: "non-state", 3: "one-sided"}
_UCDP_REQUIRED = (
    "id",
    "date_start",
    "date_end",
    "date_prec",
    "where_prec",
    "country",
    "adm_1",
    "number_of_sources",
    "source_office",
    "best",
)
_UCDP_MARKERS = ("where_prec", "date_prec", "dyad_new_id", "priogrid_gid")


# ----------------------------------------------------------------------------- files


def _read_table(path: Path) -> pd.DataFrame:
    """Read a CSV (text kept as text) or Parquet file, with a clear error on failure."""
    if not path.exists():
        raise TrendsError(f"{path}: no such file")
    suffixes = "".join(path.suffixes[-2:]).lower()
    try:
        if suffixes.endswith(".parquet") or suffixes.endswith(".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError as exc:
        raise EmptyInputError(
            "the file is empty: expected a header row and data rows", file=str(path)
        ) from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise FormatError(f"cannot be read as CSV or Parquet: {exc}", file=str(path)) from exc
    if frame.empty:
        raise EmptyInputError("the file has a header but no data rows", file=str(path))
    return frame


# ----------------------------------------------------------------------------- columns


def _first_bad(mask: pd.Series | np.ndarray) -> int:
    return int(np.flatnonzero(np.asarray(mask))[0])


def _parse_dates(values: pd.Series, column: str, file: str) -> pd.Series:
    """Parse ISO dates (``2014-01-24`` or ``2021-08-07 00:00:00.000``); blanks stay missing."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.normalize().astype("datetime64[ns]")
    text = values.astype("string").str.strip()
    blank = text.isna() | (text == "")
    parsed = pd.to_datetime(text.where(~blank), errors="coerce", format="ISO8601")
    bad = parsed.isna() & ~blank
    if bad.any():
        i = _first_bad(bad)
        raise DateError(
            f"{text.iloc[i]!r} is not a possible date; expected YYYY-MM-DD",
            file=file,
            row=i + 1,
            column=column,
        )
    return parsed.dt.normalize().astype("datetime64[ns]")


def _parse_numbers(
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
            i = _first_bad(bad)
            raise ValueRangeError(
                f"{text.iloc[i]!r} is not a number", file=file, row=i + 1, column=column
            )
    if minimum is not None:
        low = numbers < minimum
        if low.any():
            i = _first_bad(low)
            raise ValueRangeError(
                f"{numbers.iloc[i]:g} is negative; expected a count of 0 or more",
                file=file,
                row=i + 1,
                column=column,
            )
    return numbers


def _parse_codes(
    values: pd.Series, mapping: Mapping[int, str], column: str, file: str
) -> pd.Series:
    """Map integer codes to words; blanks and codes outside ``mapping`` become missing."""
    numbers = _parse_numbers(values, column, file, minimum=None)
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


def _clean_text(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    text = text.str.replace(r"\s+", " ", regex=True)
    return text.where(text != "")


def _normalise_sources(values: pd.Series) -> pd.Series:
    """``;``-separated outlet names, trimmed, spellings of one outlet merged through the
    alias table (:func:`trends.registry.source_name`), duplicates removed, order kept."""

    def one(value: object) -> object:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return pd.NA
        names = [registry.source_name(" ".join(part.split())) for part in str(value).split(";")]
        names = list(dict.fromkeys(name for name in names if name))
        return ";".join(names) if names else pd.NA

    codes, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)
    cleaned = pd.array([one(u) for u in uniques] + [pd.NA], dtype="string")
    return pd.Series(cleaned[codes], index=values.index, dtype="string")


# ----------------------------------------------------------------------------- regions

_SUFFIXES = ("governorate", "province", "muhafazat", "region", "state")


def _region_key(name: str) -> str:
    """Spelling-insensitive key: no accents, case, apostrophe style, spacing or suffix."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'").casefold()
    text = " ".join(text.replace("-", " ").split())
    for suffix in _SUFFIXES:
        if text.endswith(" " + suffix):
            text = text[: -len(suffix) - 1]
    return text


def _display_name(name: str) -> str:
    """A raw name tidied for display: spacing collapsed, administrative suffix dropped."""
    text = " ".join(unicodedata.normalize("NFC", name).split())
    for suffix in _SUFFIXES:
        if text.casefold().endswith(" " + suffix):
            return text[: -len(suffix) - 1]
    return text


def _alias_table() -> dict[tuple[str, str], str]:
    table = registry.region_aliases()
    out: dict[tuple[str, str], str] = {}
    for country, region, alias in table.itertuples(index=False):
        out[(str(country).casefold(), _region_key(str(region)))] = str(region)
        out[(str(country).casefold(), _region_key(str(alias)))] = str(region)
    return out


def harmonise_region(country: pd.Series, raw: pd.Series) -> pd.Series:
    """Harmonised admin-1 names: the alias table's name where known, else the tidied raw name.

    ``Al Başrah  province``, ``Al Basrah`` and ``Basra`` (Iraq) all become
    ``Al Başrah``; ``At-Ta'mim province`` becomes ``Kirkūk``.
    """
    aliases = _alias_table()
    pairs = pd.DataFrame({"country": country.astype("string"), "raw": raw.astype("string")})
    mapping: dict[tuple[object, object], object] = {}
    for c, r in pairs.drop_duplicates().itertuples(index=False):
        if r is pd.NA or r is None:
            mapping[(c, r)] = pd.NA
            continue
        key = ("" if c is pd.NA else str(c).casefold(), _region_key(str(r)))
        mapping[(c, r)] = aliases.get(key, _display_name(str(r)))
    lookup = pd.DataFrame(
        [(c, r, v) for (c, r), v in mapping.items()], columns=["country", "raw", "harmonised"]
    ).astype("string")
    merged = pairs.merge(lookup, on=["country", "raw"], how="left")
    return pd.Series(merged["harmonised"].to_numpy(), index=raw.index, dtype="string")


# ----------------------------------------------------------------------------- canonical


def _canonicalise(
    frame: pd.DataFrame,
    *,
    file: str,
    rename: Mapping[str, str],
    precisions: Mapping[str, pd.Series] | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Build canonical columns from ``frame`` and set aside unusable rows.

    ``rename`` maps canonical name -> source column. Returns the kept rows and the
    set-aside reasons with their row counts.
    """
    missing = [src for src in rename.values() if src not in frame.columns]
    if missing:
        raise SchemaError(
            f"missing column {missing[0]!r} (expected columns: {sorted(set(rename.values()))})",
            file=file,
            column=missing[0],
        )
    n = len(frame)
    out = pd.DataFrame(index=frame.index)
    src = {canon: frame[col] for canon, col in rename.items()}

    if "event_id" not in src:
        raise SchemaError("no column is mapped to 'event_id'", file=file)
    event_id = _clean_text(src["event_id"])
    if event_id.isna().any():
        i = _first_bad(event_id.isna())
        raise SchemaError(
            "event id is empty; every incident needs an id",
            file=file,
            row=i + 1,
            column=rename["event_id"],
        )
    dup = event_id.duplicated(keep=False)
    if dup.any():
        ids = list(dict.fromkeys(event_id[dup].tolist()))
        first = _first_bad(event_id.duplicated())
        raise DuplicateIdError(
            f"{len(ids)} event id(s) appear more than once: {', '.join(map(str, ids[:10]))}"
            + (" ..." if len(ids) > 10 else ""),
            file=file,
            row=first + 1,
            column=rename["event_id"],
        )
    out["event_id"] = event_id

    if "date_start" not in src:
        raise SchemaError("no column is mapped to 'date_start'", file=file)
    out["date_start"] = _parse_dates(src["date_start"], rename["date_start"], file)
    if "date_end" in src:
        end = _parse_dates(src["date_end"], rename["date_end"], file)
        backwards = end < out["date_start"]
        if backwards.any():
            i = _first_bad(backwards)
            raise DateError(
                f"date_end {end.iloc[i].date()} is before date_start "
                f"{out['date_start'].iloc[i].date()}; expected date_end >= date_start",
                file=file,
                row=i + 1,
                column=rename["date_end"],
            )
        out["date_end"] = end.fillna(out["date_start"])
    else:
        out["date_end"] = out["date_start"]

    precisions = dict(precisions or {})
    for canon, allowed in (
        ("date_precision", DATE_PRECISIONS),
        ("location_precision", LOCATION_PRECISIONS),
    ):
        if canon in precisions:
            out[canon] = precisions[canon].astype("string")
        elif canon in src:
            words = _clean_text(src[canon]).str.lower()
            bad = words.notna() & ~words.isin(allowed)
            if bad.any():
                i = _first_bad(bad)
                raise ValueRangeError(
                    f"{words.iloc[i]!r} is not one of {list(allowed)}",
                    file=file,
                    row=i + 1,
                    column=rename[canon],
                )
            out[canon] = words
        else:
            out[canon] = pd.Series(pd.NA, index=frame.index, dtype="string")

    for canon in ("country", "subregion", "event_type", "actor"):
        out[canon] = (
            _clean_text(src[canon])
            if canon in src
            else pd.Series(pd.NA, index=frame.index, dtype="string")
        )
    raw_region = (
        _clean_text(src["region"])
        if "region" in src
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    )
    out["region_raw"] = raw_region
    out["region"] = harmonise_region(out["country"], raw_region)

    for canon in ("fatalities", "fatalities_low", "fatalities_high"):
        out[canon] = (
            _parse_numbers(src[canon], rename[canon], file)
            if canon in src
            else pd.Series(np.nan, index=frame.index)
        )
    if "n_sources" in src:
        counts = _parse_numbers(src["n_sources"], rename["n_sources"], file, minimum=None)
        # A negative count of sources is a code for "unknown" (UCDP writes -1).
        counts = counts.where(counts >= 0)
        out["n_sources"] = counts.round().astype("Int64")
    else:
        out["n_sources"] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    out["sources"] = (
        _normalise_sources(src["sources"])
        if "sources" in src
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    )
    out["sources_raw"] = (
        _clean_text(src["sources"])
        if "sources" in src
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    )

    # Where the location is no finer than the country, the incident belongs to the
    # country's "(unknown)" region, so that region totals add up to the country's.
    coarse = out["location_precision"].isin(["country", "unknown"]) | out["region"].isna()
    out["region"] = out["region"].where(~coarse, UNKNOWN_REGION).astype("string")

    set_aside: dict[str, int] = {}
    no_date = out["date_start"].isna()
    set_aside["date missing"] = int(no_date.sum())
    no_place = ~no_date & out["country"].isna() & out["region_raw"].isna()
    if "country" in src or "region" in src:
        set_aside["location missing (no country or region)"] = int(no_place.sum())
    else:
        no_place[:] = False
    keep = ~(no_date | no_place)

    # Original columns pass through (UCDP's ``best``, ``adm_1``, ``deaths_b`` ...), except
    # those that are already canonical under their own name.
    passthrough = frame.loc[:, [c for c in frame.columns if rename.get(c) != c]]
    clash = [c for c in passthrough.columns if c in CANONICAL_COLUMNS]
    passthrough = passthrough.rename(columns={c: f"{c}_source" for c in clash})
    data = pd.concat([out.loc[:, list(CANONICAL_COLUMNS)], passthrough], axis=1)
    data = data.loc[keep].reset_index(drop=True)
    assert len(data) + sum(set_aside.values()) == n
    return data, set_aside


# ----------------------------------------------------------------------------- UCDP


def _ucdp_family(columns: pd.Index) -> str:
    if "relid" in columns or "code_status" in columns:
        return "ucdp-candidate"
    if "gwnoa" not in columns and "start_year" not in columns:
        return "ucdp-ged-syria"
    return "ucdp-ged"


def read_ucdp_ged(
    path: str | Path,
    *,
    dataset: str | None = None,
    version: str | None = None,
    coverage: tuple[str, str] | None = None,
) -> Incidents:
    """Read a UCDP GED file (global, the Syria dataset, or a Candidate release).

    Parameters
    ----------
    path : str or Path
        A UCDP GED CSV (or Parquet) file as UCDP publishes it.
    dataset, version : str, optional
        Registry id (``ucdp-ged``, ``ucdp-ged-syria``, ``ucdp-candidate``) and
        release. By default the family is told from the columns (Candidate files
        have ``relid``; the Syria dataset lacks ``gwnoa``) and the version is the
        registry release whose coverage window holds the data's dates.
    coverage : (first, last), optional
        Declare the coverage window instead of the registry's.

    Returns
    -------
    Incidents
        Canonical columns (UCDP's ``date_prec``, ``where_prec``,
        ``number_of_sources``, ``source_office``, ``low``/``best``/``high`` and
        ``adm_1``/``adm_2`` mapped onto them; ``number_of_sources`` -1 is read as
        unknown; UCDP's world ``region`` passes through as ``world_region``), a
        ledger and the source.

    Notes
    -----
    Codes follow the UCDP GED Codebook 19.1 (Högbladh 2019): ``date_prec`` 1 is a
    day, 2-3 a week, 4 a month, 5 a year; ``where_prec`` 1-2 exact, 3 adm_2, 4
    adm_1, 5-6 coarser than adm_1, 7 international waters or airspace. Codes
    outside these are read as unknown, with a logged warning.
    """
    path = Path(path)
    frame = _read_table(path)
    file = str(path)
    present = [c for c in _UCDP_MARKERS if c in frame.columns]
    if not present:
        raise FormatError(
            "not a UCDP GED file: it has none of the UCDP columns "
            f"{list(_UCDP_MARKERS)}; use read_incidents() with a column map",
            file=file,
        )
    missing = [c for c in _UCDP_REQUIRED if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"missing column {missing[0]!r}, which every UCDP GED file has",
            file=file,
            column=missing[0],
        )
    family = dataset or _ucdp_family(frame.columns)
    precisions = {
        "date_precision": _parse_codes(
            frame["date_prec"], UCDP_DATE_PRECISION, file=file, column="date_prec"
        ),
        "location_precision": _parse_codes(
            frame["where_prec"], UCDP_LOCATION_PRECISION, file=file, column="where_prec"
        ),
    }
    rename = {
        "event_id": "id",
        "date_start": "date_start",
        "date_end": "date_end",
        "country": "country",
        "region": "adm_1",
        "n_sources": "number_of_sources",
        "sources": "source_office",
        "fatalities": "best",
    }
    optional = {
        "subregion": "adm_2",
        "actor": "side_a",
        "fatalities_low": "low",
        "fatalities_high": "high",
    }
    rename.update({k: v for k, v in optional.items() if v in frame.columns})
    data, set_aside = _canonicalise(frame, file=file, rename=rename, precisions=precisions)
    if "type_of_violence" in data.columns:
        codes = pd.to_numeric(data["type_of_violence"], errors="coerce")
        data["event_type"] = codes.map(UCDP_VIOLENCE).astype("string")
    if "region_source" in data.columns:
        data = data.rename(columns={"region_source": "world_region"})
    source = _source_info(path, family, version, data, coverage)
    return Incidents(data=data, ledger=make_ledger(len(frame), set_aside), source=source)


def _source_info(
    path: Path | None,
    dataset: str | None,
    version: str | None,
    data: pd.DataFrame,
    coverage: tuple[str, str] | None,
) -> SourceInfo:
    """Registry facts for the data set, and its coverage window."""
    first, last = data["date_start"].min(), data["date_end"].max()
    entry = registry.get(dataset) if dataset and registry.has(dataset) else None
    window, origin = None, "data"
    if entry is not None:
        if version is None:
            version = registry.version_for_dates(dataset, data["date_start"])
        window = registry.coverage(dataset, version) if version else None
        origin = "registry"
    if coverage is not None:
        window, origin = (pd.Timestamp(coverage[0]), pd.Timestamp(coverage[1])), "declared"
        if window[1] < window[0]:
            raise TrendsError(f"coverage={coverage!r} ends before it starts")
    elif window is None:
        window, origin = ((first, last) if pd.notna(first) else None), "data"
    return SourceInfo(
        name=entry["name"] if entry else (path.name if path else "data frame"),
        version=version,
        dataset_id=dataset,
        citation=entry.get("citation") if entry else None,
        licence=entry.get("licence") if entry else None,
        path=str(path) if path else None,
        sha256=file_sha256(path) if path else None,
        coverage=window,
        coverage_from=origin,
        caveats=tuple(entry.get("caveats", ())) if entry else (),
    )


# ----------------------------------------------------------------------------- generic


def read_incidents(
    path_or_frame: str | Path | pd.DataFrame,
    columns: Mapping[str, str] | None = None,
    *,
    name: str | None = None,
    coverage: tuple[str, str] | None = None,
) -> Incidents:
    """Read any CSV, Parquet or DataFrame with a column map onto the canonical names.

    Parameters
    ----------
    path_or_frame : path or DataFrame
    columns : mapping, optional
        Canonical name -> your column, e.g. ``{"event_id": "id", "date_start": "day",
        "region": "province"}``. Canonical names already present need no entry.
        ``event_id`` and ``date_start`` are required; ``date_end`` defaults to
        ``date_start``; ``date_precision`` takes ``day``/``week``/``month``/``year``
        and ``location_precision`` ``exact``/``subregion``/``region``/``country``/
        ``unknown``.
    name : str, optional
        Name of the data set, for reports.
    coverage : (first, last), optional
        The window the data covers; by default the data's own date range.

    Returns
    -------
    Incidents
    """
    if isinstance(path_or_frame, pd.DataFrame):
        path, frame, file = None, path_or_frame.reset_index(drop=True), "data frame"
        if frame.empty:
            raise EmptyInputError("the data frame has no rows", file=file)
    else:
        path = Path(path_or_frame)
        frame, file = _read_table(path), str(path_or_frame)
    columns = dict(columns or {})
    derived = ("region_raw", "sources_raw")  # kept by the reader, never mapped
    unknown = [k for k in columns if k not in CANONICAL_COLUMNS or k in derived]
    if unknown:
        raise TrendsError(
            f"columns= maps {unknown[0]!r}, which is not a canonical column; "
            f"valid: {[c for c in CANONICAL_COLUMNS if c not in derived]}"
        )
    rename = {c: c for c in CANONICAL_COLUMNS if c in frame.columns and c not in derived}
    rename.update(columns)
    data, set_aside = _canonicalise(frame, file=file, rename=rename)
    source = _source_info(path, None, None, data, coverage)
    if name:
        source = SourceInfo(**{**source.__dict__, "name": name})
    return Incidents(data=data, ledger=make_ledger(len(frame), set_aside), source=source)


# ----------------------------------------------------------------------------- ACLED, GTD

# ACLED codebook (2023): time_precision 1 day, 2 week, 3 month; geo_precision 1 the
# town itself, 2 a nearby or partly named place, 3 only the larger region.
ACLED_DATE_PRECISION = {1: "day", 2: "week", 3: "month"}
ACLED_LOCATION_PRECISION = {1: "exact", 2: "subregion", 3: "region"}
# GTD codebook (START 2021), specificity: 1 the city itself, 2 the city, coordinates of a
# larger area, 3 the smallest known administrative area, 4 only the province, 5 only
# the country.
GTD_LOCATION_PRECISION = {1: "exact", 2: "subregion", 3: "subregion", 4: "region", 5: "country"}


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
    frame = _read_table(path)
    file = str(path)
    entry = registry.get("acled")
    columns = dict(entry["columns"])
    if columns["event_id"] not in frame.columns or columns["date_start"] not in frame.columns:
        raise FormatError("not an ACLED export: it lacks event_id_cnty or event_date", file=file)
    precisions = {
        "date_precision": _parse_codes(
            frame[columns.pop("date_precision")],
            ACLED_DATE_PRECISION,
            file=file,
            column="time_precision",
        ),
        "location_precision": _parse_codes(
            frame[columns.pop("location_precision")],
            ACLED_LOCATION_PRECISION,
            file=file,
            column="geo_precision",
        ),
    }
    frame = frame.assign(event_date=_acled_dates(frame["event_date"], file))
    data, set_aside = _canonicalise(frame, file=file, rename=columns, precisions=precisions)
    named = data["sources"].str.count(";").add(1)
    data["n_sources"] = named.astype("Int64")
    source = _source_info(path, "acled", None, data, coverage)
    return Incidents(data=data, ledger=make_ledger(len(frame), set_aside), source=source)


def _acled_dates(values: pd.Series, file: str) -> pd.Series:
    """ACLED writes ``2020-01-15`` in new exports and ``15 January 2020`` in old ones."""
    text = values.astype("string").str.strip()
    iso = pd.to_datetime(text, errors="coerce", format="ISO8601")
    spelled = pd.to_datetime(text, errors="coerce", format="%d %B %Y")
    parsed = iso.fillna(spelled)
    bad = parsed.isna() & text.notna() & (text != "")
    if bad.any():
        i = _first_bad(bad)
        raise DateError(
            f"{text.iloc[i]!r} is not a date; expected YYYY-MM-DD or '15 January 2020'",
            file=file,
            row=i + 1,
            column="event_date",
        )
    return parsed


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
    frame = _read_table(path)
    file = str(path)
    needed = ["eventid", "iyear", "imonth", "iday", "country_txt"]
    missing = [c for c in needed if c not in frame.columns]
    if len(missing) == len(needed):
        raise FormatError(
            "not a GTD file: it has none of eventid, iyear, imonth, iday, country_txt", file=file
        )
    if missing:
        raise SchemaError(
            f"missing column {missing[0]!r}, which every GTD file has", file=file, column=missing[0]
        )
    year = _parse_numbers(frame["iyear"], "iyear", file)
    month = _parse_numbers(frame["imonth"], "imonth", file)
    day = _parse_numbers(frame["iday"], "iday", file)
    for name, values, top in (("imonth", month, 12), ("iday", day, 31)):
        bad = values > top
        if bad.any():
            i = _first_bad(bad)
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
    start = _parse_dates(start_text, "iday", file)
    end = start + pd.offsets.MonthEnd(0)
    end = end.where(known_month, start + pd.offsets.YearEnd(0)).where(~known_day, start)
    if "extended" in frame.columns and "resolution" in frame.columns:
        resolved = _parse_dates(frame["resolution"], "resolution", file)
        extended = pd.to_numeric(frame["extended"], errors="coerce") == 1
        end = end.where(~(extended & resolved.notna()), resolved)
    precision = pd.Series(
        np.where(known_day, "day", np.where(known_month, "month", "year")),
        index=frame.index,
        dtype="string",
    )
    location = (
        _parse_codes(frame["specificity"], GTD_LOCATION_PRECISION, file=file, column="specificity")
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
    data, set_aside = _canonicalise(frame, file=file, rename=rename, precisions=precisions)
    data = data.drop(columns=["_start", "_end"], errors="ignore")
    source = _source_info(path, "gtd", None, data, coverage)
    return Incidents(data=data, ledger=make_ledger(len(frame), set_aside), source=source)


# ----------------------------------------------------------------------------- dispatch

FORMATS = ("ucdp", "acled", "gtd", "canonical")


def detect_format(path: str | Path) -> str:
    """``ucdp`` for UCDP GED files, ``canonical`` for files already in canonical columns."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        names = set(pq.read_schema(path).names)
    else:
        if not path.exists():
            raise TrendsError(f"{path}: no such file")
        with path.open(encoding="utf-8", errors="replace") as handle:
            header = handle.readline()
        if not header.strip():
            raise EmptyInputError("the file is empty: expected a header row", file=str(path))
        names = {n.strip().strip('"') for n in header.rstrip("\r\n").split(",")}
    if any(m in names for m in _UCDP_MARKERS):
        return "ucdp"
    if {"event_id_cnty", "event_date"} <= names:
        return "acled"
    if {"eventid", "iyear", "imonth", "iday"} <= names:
        return "gtd"
    if {"event_id", "date_start"} <= names:
        return "canonical"
    raise FormatError(
        "format not recognised: not a UCDP GED file (no where_prec/date_prec columns) "
        "nor ACLED (event_id_cnty, event_date) nor GTD (eventid, iyear, imonth, iday), "
        "and not a canonical table (needs event_id and date_start); name it with "
        f"--format (one of {list(FORMATS)}) or give a column map",
        file=str(path),
    )


def read(path: str | Path, *, format: str | None = None, **options: object) -> Incidents:
    """Read an incident file of any supported format (detected from its columns)."""
    fmt = format or detect_format(path)
    if fmt == "ucdp":
        return read_ucdp_ged(path, **options)  # type: ignore[arg-type]
    if fmt == "acled":
        return read_acled(path, **options)  # type: ignore[arg-type]
    if fmt == "gtd":
        return read_gtd(path, **options)  # type: ignore[arg-type]
    if fmt == "canonical":
        return read_incidents(path, **options)  # type: ignore[arg-type]
    raise TrendsError(f"format={fmt!r} is not one of {list(FORMATS)}")
