"""UCDP Georeferenced Event Dataset (GED): the global file, the Syria dataset, Candidate releases."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pandas as pd

from ..errors import FormatError, SchemaError
from ..incidents import Incidents
from .canonical import canonicalise, source_info
from .files import read_table, set_aside_spanning
from .parse import Notes, parse_codes

__all__ = [
    "read_ucdp_ged",
    "looks_like_ucdp",
    "UCDP_DATE_PRECISION",
    "UCDP_LOCATION_PRECISION",
    "UCDP_VIOLENCE",
]

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


def looks_like_ucdp(names: Collection[str]) -> bool:
    """A UCDP GED file has at least one of UCDP's own columns (``where_prec`` ...)."""
    return any(m in names for m in _UCDP_MARKERS)


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
    table = read_table(path)
    frame, file = table.frame, table.file
    if not looks_like_ucdp(frame.columns):
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
    table = set_aside_spanning(table, [*rename.values(), "date_prec", "where_prec"])
    frame, notes = table.frame, Notes(file)
    precisions = {
        "date_precision": parse_codes(
            frame["date_prec"], UCDP_DATE_PRECISION, file=file, column="date_prec", notes=notes
        ),
        "location_precision": parse_codes(
            frame["where_prec"],
            UCDP_LOCATION_PRECISION,
            file=file,
            column="where_prec",
            notes=notes,
        ),
    }
    canon = canonicalise(table, rename=rename, precisions=precisions, notes=notes)
    data = canon.data
    if "type_of_violence" in data.columns:
        codes = pd.to_numeric(data["type_of_violence"].astype("string"), errors="coerce")
        data["event_type"] = codes.map(UCDP_VIOLENCE).astype("string")
    if "region_source" in data.columns:
        data = data.rename(columns={"region_source": "world_region"})
    return canon.incidents(source_info(path, family, version, data, coverage), data)
