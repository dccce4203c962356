"""The canonical incident table: canonicalisation, the ledger, and the generic reader.

Every format's reader maps its columns onto the canonical names of DESIGN.md and
hands the frame to :func:`canonicalise`, which parses and checks each column, sets
aside the rows that cannot be used (each with a reason in the ledger) and passes
the source's other columns through.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from .. import registry
from ..errors import (
    DateError,
    DuplicateIdError,
    EmptyInputError,
    OptionError,
    SchemaError,
    ValueRangeError,
)
from ..fetch import file_sha256
from ..incidents import (
    CANONICAL_COLUMNS,
    DATE_PRECISIONS,
    LOCATION_PRECISIONS,
    UNKNOWN_REGION,
    Incidents,
    SourceInfo,
    make_ledger,
)
from .files import RawTable, check_names, read_table, set_aside_spanning
from .parse import (
    MAX_FATALITIES,
    MAX_N_SOURCES,
    Notes,
    clean_text,
    normalise_sources,
    parse_dates,
    parse_numbers,
    refuse_first,
)
from .regions import harmonise_region

__all__ = ["Canonical", "canonicalise", "source_info", "read_incidents"]

logger = logging.getLogger(__name__)


class Canonical(NamedTuple):
    """What :func:`canonicalise` makes: the kept rows, the ledger and the notes."""

    data: pd.DataFrame
    ledger: pd.DataFrame
    notes: pd.DataFrame

    def incidents(self, source: SourceInfo, data: pd.DataFrame | None = None) -> Incidents:
        """The :class:`~trends.incidents.Incidents` of these rows (or of ``data``)."""
        return Incidents(
            data=self.data if data is None else data,
            ledger=self.ledger,
            source=source,
            notes=self.notes,
        )


def _missing(index: pd.Index, dtype: str = "string") -> pd.Series:
    return pd.Series(pd.NA if dtype != "float64" else np.nan, index=index, dtype=dtype)


def _event_ids(src: Mapping[str, pd.Series], rename: Mapping[str, str], file: str) -> pd.Series:
    """Event ids: present on every row and unique."""
    if "event_id" not in src:
        raise SchemaError("no column is mapped to 'event_id'", file=file)
    column = rename["event_id"]
    event_id = clean_text(src["event_id"], column, file)
    refuse_first(
        event_id.isna(),
        SchemaError,
        lambda i: "event id is empty or null-like; every incident needs an id",
        file=file,
        column=column,
    )
    dup = event_id.duplicated(keep=False)
    if dup.any():
        ids = list(dict.fromkeys(event_id[dup].tolist()))
        listed = ", ".join(map(str, ids[:10])) + (" ..." if len(ids) > 10 else "")
        refuse_first(
            event_id.duplicated(),
            DuplicateIdError,
            lambda i: f"{len(ids)} event id(s) appear more than once: {listed}",
            file=file,
            column=column,
        )
    return event_id


def _dates(
    src: Mapping[str, pd.Series], rename: Mapping[str, str], file: str
) -> tuple[pd.Series, pd.Series]:
    """``date_start`` and ``date_end`` (the start where the end is missing or absent)."""
    if "date_start" not in src:
        raise SchemaError("no column is mapped to 'date_start'", file=file)
    start = parse_dates(src["date_start"], rename["date_start"], file)
    if "date_end" not in src:
        return start, start
    end = parse_dates(src["date_end"], rename["date_end"], file)
    refuse_first(
        (end < start).fillna(False),
        DateError,
        lambda i: (
            f"date_end {end.iloc[i].date()} is before date_start "
            f"{start.iloc[i].date()}; expected date_end >= date_start"
        ),
        file=file,
        column=rename["date_end"],
    )
    return start, end.fillna(start)


def _precision(
    canon: str,
    allowed: tuple[str, ...],
    src: Mapping[str, pd.Series],
    rename: Mapping[str, str],
    file: str,
    index: pd.Index,
) -> pd.Series:
    """A precision column given as canonical words (``day``, ``region`` ...)."""
    if canon not in src:
        return _missing(index)
    words = clean_text(src[canon], rename[canon], file).str.lower()
    refuse_first(
        (words.notna() & ~words.isin(allowed)).fillna(False),
        ValueRangeError,
        lambda i: f"{words.iloc[i]!r} is not one of {list(allowed)}",
        file=file,
        column=rename[canon],
    )
    return words


def _numbers(
    src: Mapping[str, pd.Series],
    rename: Mapping[str, str],
    file: str,
    index: pd.Index,
    notes: Notes,
) -> dict[str, pd.Series]:
    """Fatalities (best, low, high) and the number of sources."""
    out: dict[str, pd.Series] = {}
    for canon in ("fatalities", "fatalities_low", "fatalities_high"):
        out[canon] = (
            parse_numbers(
                src[canon],
                rename[canon],
                file,
                notes=notes,
                maximum=MAX_FATALITIES,
                what="a number of fatalities",
            )
            if canon in src
            else _missing(index, "float64")
        )
    if "n_sources" not in src:
        out["n_sources"] = _missing(index, "Int64")
        return out
    counts = parse_numbers(
        src["n_sources"],
        rename["n_sources"],
        file,
        notes=notes,
        minimum=None,
        maximum=MAX_N_SOURCES,
        what="a number of sources",
    )
    # A negative count of sources is a code for "unknown" (UCDP writes -1).
    counts = counts.where(counts >= 0)
    out["n_sources"] = counts.round().astype("Int64")
    return out


def _set_aside(out: pd.DataFrame, has_place: bool) -> tuple[pd.Series, dict[str, int]]:
    """The rows kept, and the rows set aside by reason."""
    set_aside: dict[str, int] = {}
    no_date = out["date_start"].isna()
    set_aside["date missing"] = int(no_date.sum())
    no_place = ~no_date & out["country"].isna() & out["region_raw"].isna()
    if has_place:
        set_aside["location missing (no country or region)"] = int(no_place.sum())
    else:
        no_place[:] = False
    return ~(no_date | no_place), set_aside


def _labels(
    src: Mapping[str, pd.Series], rename: Mapping[str, str], file: str, index, notes: Notes
) -> dict[str, pd.Series]:
    """The names: country, subregion, event type, actor, and the raw region."""
    out = {}
    for canon in ("country", "region", "subregion", "event_type", "actor"):
        out[canon] = (
            clean_text(src[canon], rename[canon], file, notes=notes)
            if canon in src
            else _missing(index)
        )
    return out


def canonicalise(
    table: RawTable,
    *,
    rename: Mapping[str, str],
    notes: Notes,
    precisions: Mapping[str, pd.Series] | None = None,
) -> Canonical:
    """Build canonical columns from ``table`` and set aside unusable rows.

    ``rename`` maps canonical name -> source column; ``precisions`` gives precision
    columns a reader has already decoded from its codebook; ``notes`` collects the
    values read as missing. Returns the kept rows, the ledger (rows of the file:
    kept, or set aside with a reason) and the notes counted among the rows kept.
    """
    frame, file = table.frame, table.file
    missing = [src for src in rename.values() if src not in frame.columns]
    if missing:
        raise SchemaError(
            f"missing column {missing[0]!r} (expected columns: {sorted(set(rename.values()))})",
            file=file,
            column=missing[0],
        )
    index = frame.index
    out = pd.DataFrame(index=index)
    src = {canon: frame[col] for canon, col in rename.items()}

    out["event_id"] = _event_ids(src, rename, file)
    out["date_start"], out["date_end"] = _dates(src, rename, file)
    precisions = dict(precisions or {})
    for canon, allowed in (
        ("date_precision", DATE_PRECISIONS),
        ("location_precision", LOCATION_PRECISIONS),
    ):
        out[canon] = (
            precisions[canon].astype("string")
            if canon in precisions
            else _precision(canon, allowed, src, rename, file, index)
        )
    labels = _labels(src, rename, file, index, notes)
    for canon in ("country", "subregion", "event_type", "actor"):
        out[canon] = labels[canon]
    out["region_raw"] = labels["region"]
    out["region"] = harmonise_region(out["country"], labels["region"])
    for canon, values in _numbers(src, rename, file, index, notes).items():
        out[canon] = values
    out["sources"] = (
        normalise_sources(src["sources"], rename["sources"], file)
        if "sources" in src
        else _missing(index)
    )
    out["sources_raw"] = (  # as the file spells the outlets, before the alias table
        clean_text(src["sources"], rename["sources"], file) if "sources" in src else _missing(index)
    )

    # Where the location is no finer than the country, the incident belongs to the
    # country's "(unknown)" region, so that region totals add up to the country's.
    coarse = out["location_precision"].isin(["country", "unknown"]) | out["region"].isna()
    out["region"] = out["region"].where(~coarse, UNKNOWN_REGION).astype("string")

    keep, set_aside = _set_aside(out, "country" in src or "region" in src)

    # Original columns pass through (UCDP's ``best``, ``adm_1``, ``deaths_b`` ...), except
    # those that are already canonical under their own name.
    passthrough = frame.loc[:, [c for c in frame.columns if rename.get(c) != c]]
    clash = [c for c in passthrough.columns if c in CANONICAL_COLUMNS]
    passthrough = passthrough.rename(columns={c: f"{c}_source" for c in clash})
    data = pd.concat([out.loc[:, list(CANONICAL_COLUMNS)], passthrough], axis=1)
    kept = data.index[keep.to_numpy()]
    data = data.loc[keep].reset_index(drop=True)
    for reason, n in table.set_aside.items():
        set_aside[reason] = set_aside.get(reason, 0) + n
    ledger = make_ledger(table.records, set_aside)
    assert int(ledger["rows"].sum()) == table.records and len(data) == ledger["rows"].iloc[0]
    return Canonical(data, ledger, notes.table(kept))


def source_info(
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
            raise OptionError(f"coverage={coverage!r} ends before it starts")
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
        path, frame = None, path_or_frame.reset_index(drop=True)
        if frame.empty:
            raise EmptyInputError("the data frame has no rows", file="data frame")
        check_names([str(c) for c in frame.columns], "data frame")
        table = RawTable(frame, "data frame", len(frame), may_span=False)
    else:
        path = Path(path_or_frame)
        table = read_table(path)
        table.file = str(path_or_frame)
    columns = dict(columns or {})
    derived = ("region_raw", "sources_raw")  # kept by the reader, never mapped
    unknown = [k for k in columns if k not in CANONICAL_COLUMNS or k in derived]
    if unknown:
        raise OptionError(
            f"columns= maps {unknown[0]!r}, which is not a canonical column; "
            f"valid: {[c for c in CANONICAL_COLUMNS if c not in derived]}"
        )
    rename = {c: c for c in CANONICAL_COLUMNS if c in table.frame.columns and c not in derived}
    rename.update(columns)
    table = set_aside_spanning(table, rename.values())
    canon = canonicalise(table, rename=rename, notes=Notes(table.file))
    source = source_info(path, None, None, canon.data, coverage)
    if name:
        source = SourceInfo(**{**source.__dict__, "name": name})
    return canon.incidents(source)
