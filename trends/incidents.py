"""The canonical incident table and its ledger.

:class:`Incidents` is what every reader returns and what :func:`trends.count`
takes: one row per incident in the canonical columns of DESIGN.md (other columns
pass through), a ledger that accounts for every input row, and what is known of
the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["CANONICAL_COLUMNS", "DATE_PRECISIONS", "LOCATION_PRECISIONS", "Incidents", "SourceInfo"]

#: Canonical column names, in order (DESIGN.md, "The canonical incident table").
CANONICAL_COLUMNS = (
    "event_id",
    "date_start",
    "date_end",
    "date_precision",
    "country",
    "region",
    "region_raw",
    "subregion",
    "location_precision",
    "event_type",
    "actor",
    "fatalities",
    "fatalities_low",
    "fatalities_high",
    "n_sources",
    "sources",
)

#: From most to least precise.
DATE_PRECISIONS = ("day", "week", "month", "year")
LOCATION_PRECISIONS = ("exact", "subregion", "region", "country", "unknown")

#: The name of the region that holds a country's incidents located no finer than the country.
UNKNOWN_REGION = "(unknown)"


@dataclass(frozen=True)
class SourceInfo:
    """What is known of where the incidents came from.

    ``coverage`` is the inclusive (first, last) date the data set covers, and
    ``coverage_from`` says where that comes from: ``registry`` (the release's
    documented window), ``declared`` (by whoever read the data) or ``data`` (the
    data's own date range, for data the registry does not know).
    """

    name: str
    version: str | None = None
    dataset_id: str | None = None
    citation: str | None = None
    licence: str | None = None
    path: str | None = None
    sha256: str | None = None
    coverage: tuple[pd.Timestamp, pd.Timestamp] | None = None
    coverage_from: str = "data"
    caveats: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        start, end = self.coverage if self.coverage else (None, None)
        return {
            "name": self.name,
            "version": self.version,
            "dataset_id": self.dataset_id,
            "citation": self.citation,
            "licence": self.licence,
            "path": self.path,
            "sha256": self.sha256,
            "coverage_start": None if start is None else start.date().isoformat(),
            "coverage_end": None if end is None else end.date().isoformat(),
            "coverage_from": self.coverage_from,
        }


@dataclass(frozen=True)
class Incidents:
    """Canonical incidents, the ledger of every input row, and the source.

    Attributes
    ----------
    data : DataFrame
        One row per kept incident; canonical columns first, original columns after.
    ledger : DataFrame
        Columns ``reason`` and ``rows``: one row per outcome (``kept`` first), whose
        ``rows`` add up to the rows read.
        The rows are the records of the file as the CSV grammar sees them (a quoted
        field may span lines; blank lines are no records), or a Parquet file's rows.
    source : SourceInfo
        Data set name, version, citation, licence, the file's sha256, coverage window.
    notes : DataFrame
        Columns ``column``, ``reason`` and ``rows``: values of kept rows read as
        missing (null-like text such as ``NULL``, or a number that is not finite),
        by source column. The ledger's companion: these rows are among the ``kept``.
    """

    data: pd.DataFrame
    ledger: pd.DataFrame
    source: SourceInfo = field(default_factory=lambda: SourceInfo(name="unnamed"))
    notes: pd.DataFrame = field(default_factory=lambda: no_notes())

    @property
    def rows_read(self) -> int:
        return int(self.ledger["rows"].sum())

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        set_aside = self.rows_read - len(self.data)
        version = f" {self.source.version}" if self.source.version else ""
        return (
            f"<Incidents {self.source.name}{version}: {len(self.data):,} kept, "
            f"{set_aside:,} set aside of {self.rows_read:,} read>"
        )


def no_notes() -> pd.DataFrame:
    """An empty notes table (columns ``column``, ``reason``, ``rows``)."""
    return pd.DataFrame({"column": [], "reason": [], "rows": []}).astype(
        {"column": "string", "reason": "string", "rows": "int64"}
    )


def make_ledger(rows_read: int, set_aside: dict[str, int]) -> pd.DataFrame:
    """A ledger: ``kept`` first, then each reason with its rows, adding up to ``rows_read``."""
    kept = rows_read - sum(set_aside.values())
    if kept < 0:
        raise AssertionError("ledger: more rows set aside than read")
    reasons = [("kept", kept)] + sorted((r, n) for r, n in set_aside.items() if n)
    return pd.DataFrame(reasons, columns=["reason", "rows"]).astype(
        {"reason": "string", "rows": "int64"}
    )
