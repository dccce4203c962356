"""Readers: one per source format, each to the canonical incident table.

Every reader fills what its source has and leaves the rest missing; it never
invents. Every row read ends in exactly one place: kept, or set aside with a
reason in the ledger. Bad input raises an :class:`~trends.errors.InputError`
naming the file, the row (1-based, counting data rows below the header) and the
column.

The formats live in one registry, :data:`FORMATS`: each registers its name, its
reader, a detector (a function of the file's column names), a one-line description
and the documentation behind it. :func:`read`, :func:`detect_format` and the command
line's ``--format`` choices all come from it. Adding a format is one module here and
one ``FORMATS.add_format(...)`` call below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from ..errors import FormatError
from ..incidents import Incidents
from ..methods import Registry
from .acled import ACLED_DATE_PRECISION, ACLED_LOCATION_PRECISION, looks_like_acled, read_acled
from .canonical import read_incidents
from .files import column_names
from .gdelt import GDELT_COLUMNS, GDELT_LOCATION_PRECISION, looks_like_gdelt, read_gdelt
from .gtd import GTD_LOCATION_PRECISION, looks_like_gtd, read_gtd
from .icews import ICEWS_COLUMNS, looks_like_icews, read_icews
from .polecat import POLECAT_COLUMNS, looks_like_polecat, read_polecat
from .regions import harmonise_region
from .ucdp import (
    UCDP_DATE_PRECISION,
    UCDP_LOCATION_PRECISION,
    UCDP_VIOLENCE,
    looks_like_ucdp,
    read_ucdp_ged,
)

__all__ = [
    "read",
    "read_incidents",
    "read_ucdp_ged",
    "read_acled",
    "read_gtd",
    "read_gdelt",
    "read_icews",
    "read_polecat",
    "ICEWS_COLUMNS",
    "POLECAT_COLUMNS",
    "GDELT_COLUMNS",
    "GDELT_LOCATION_PRECISION",
    "detect_format",
    "harmonise_region",
    "FORMATS",
    "FormatRegistry",
    "UCDP_DATE_PRECISION",
    "UCDP_LOCATION_PRECISION",
    "UCDP_VIOLENCE",
    "ACLED_DATE_PRECISION",
    "ACLED_LOCATION_PRECISION",
    "GTD_LOCATION_PRECISION",
]

logger = logging.getLogger(__name__)


class FormatRegistry(Registry):
    """The input formats: a :class:`~trends.methods.Registry` whose entries also detect.

    Each entry's ``func`` is the reader (a path and keyword options to
    :class:`~trends.incidents.Incidents`); its detector says, from the set of the
    file's column names, whether the file is of that format. Formats are tried in
    the order they were added, so a specific format comes before a general one.
    """

    def __init__(self) -> None:
        super().__init__("input format", option="format")
        self._detectors: dict[str, Callable[[Collection[str]], bool]] = {}

    def add_format(
        self,
        name: str,
        reader: Callable[..., Incidents],
        *,
        detect: Callable[[Collection[str]], bool],
        description: str,
        reference: str = "",
    ) -> None:
        """Register ``reader`` under ``name`` with its detector."""
        self.add(name, reader, description=description, reference=reference)
        self._detectors[name] = detect

    def detect(self, names: Collection[str]) -> str | None:
        """The first format whose detector accepts ``names``, or None."""
        names = set(names)
        return next((name for name, test in self._detectors.items() if test(names)), None)


def _looks_canonical(names: Collection[str]) -> bool:
    """A canonical table has at least ``event_id`` and ``date_start``."""
    return {"event_id", "date_start"} <= set(names)


FORMATS = FormatRegistry()
FORMATS.add_format(
    "ucdp",
    read_ucdp_ged,
    detect=looks_like_ucdp,
    description="UCDP GED: the global file, the Syria dataset and Candidate releases",
    reference="UCDP GED Codebook 19.1 (Högbladh 2019)",
)
FORMATS.add_format(
    "acled",
    read_acled,
    detect=looks_like_acled,
    description="ACLED export (Data Export Tool or API CSV)",
    reference="ACLED Codebook (2023)",
)
FORMATS.add_format(
    "gtd",
    read_gtd,
    detect=looks_like_gtd,
    description="Global Terrorism Database as START distributes it",
    reference="GTD Codebook (START 2021)",
)
FORMATS.add_format(
    "gdelt",
    read_gdelt,
    detect=looks_like_gdelt,
    description="GDELT 2.0 event export (tab-separated, no header, 61 columns)",
    reference="GDELT 2.0 Event Database Codebook (V2.0, 2015); FIPS 10-4 for places",
)
FORMATS.add_format(
    "icews",
    read_icews,
    detect=looks_like_icews,
    description="ICEWS coded event data (Dataverse yearly or weekly .tab files)",
    reference="ICEWS Coded Event Data (Boschee et al. 2015, doi:10.7910/DVN/28075)",
)
FORMATS.add_format(
    "polecat",
    read_polecat,
    detect=looks_like_polecat,
    description="POLECAT event data (Dataverse weekly or yearly ngecEvents .txt files)",
    reference="POLECAT Weekly Data (doi:10.7910/DVN/AJGVIT); PLOVER (Halterman et al. 2023)",
)
FORMATS.add_format(
    "canonical",
    read_incidents,
    detect=_looks_canonical,
    description="a table already in the canonical columns (event_id, date_start, ...)",
    reference="DESIGN.md, 'The canonical incident table'",
)


def detect_format(path: str | Path) -> str:
    """The name of the format of ``path``, told from its column names (see :data:`FORMATS`)."""
    path = Path(path)
    fmt = FORMATS.detect(column_names(path))
    if fmt is not None:
        return fmt
    raise FormatError(
        "format not recognised: not a UCDP GED file (no where_prec/date_prec columns) "
        "nor ACLED (event_id_cnty, event_date) nor GTD (eventid, iyear, imonth, iday), "
        "nor a GDELT export, nor an ICEWS or POLECAT event file (Event ID, Event Date...), "
        "and not a canonical table (needs event_id and date_start); name it with "
        f"--format (one of {list(FORMATS.names())}) or give a column map",
        file=str(path),
    )


def read(path: str | Path, *, format: str | None = None, **options: Any) -> Incidents:
    """Read an incident file of any supported format (detected from its columns).

    Parameters
    ----------
    path : str or Path
        A CSV or Parquet file.
    format : str, optional
        One of :data:`FORMATS` (``ucdp``, ``acled``, ``gtd``, ``gdelt``, ``icews``,
        ``polecat``, ``canonical``); by
        default detected from the file's column names.
    **options
        Passed to the format's reader (e.g. ``coverage=``).

    Returns
    -------
    Incidents
    """
    fmt = format or detect_format(path)
    return FORMATS.get(fmt).func(path, **options)
