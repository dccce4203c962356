"""What every counting engine is asked to compute, and what it hands back.

The counting runs in an engine (DuckDB, the reference; or any lazy frame narwhals
reaches: Spark, polars, ...). Each engine gets a :class:`Plan` and returns an
:class:`Aggregates`: small tables of *whole-number* sums, one row per cell and
incident length, that :mod:`trends.counting.assemble` turns into the cell table.

Why whole numbers: with ``span="split"`` an incident of ``den`` days contributes
``o / den`` to each period it overlaps by ``o`` days. Summing those fractions gives
bits that depend on the order of the terms, which differs between engines and
threads. Each engine instead sums the whole-day numerators ``o`` per cell and ``den``
(exact in any order), and the division happens once, in one place, in a fixed order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from ..incidents import SourceInfo

__all__ = [
    "COARSE_DATE",
    "COARSE_LOCATION",
    "NUMERATORS",
    "OUTCOME_COUNTED",
    "SOURCE_SEPARATOR",
    "WHITESPACE",
    "WHITESPACE_CLASS",
    "Aggregates",
    "Opened",
    "Plan",
]

#: Date precisions coarser than each period.
COARSE_DATE = {
    "week": ("month", "year"),
    "month": ("year",),
    "quarter": ("year",),
    "year": (),
}
#: Location precisions coarser than each grouping level.
COARSE_LOCATION = {
    "subregion": ("region", "country", "unknown"),
    "region": ("country", "unknown"),
    "country": ("unknown",),
}
#: Outlets in a ``sources`` value are separated by this character (a literal, never a
#: regular expression), trimmed of these ASCII whitespace characters; empty names are
#: dropped and a name repeated within one incident counts once.
SOURCE_SEPARATOR = ";"
WHITESPACE = " \t\n\r\f\v"
#: The same characters as a regular-expression class that Java (Spark), RE2 (DuckDB),
#: Rust (polars) and Python read alike (Java reads ``\v`` as a wider class: ``\x0B``).
WHITESPACE_CLASS = r"[ \t\n\r\f\x0B]"

OUTCOME_COUNTED = "counted"

#: The per-cell sums an engine returns, each a sum over the cell's incident parts of
#: the overlap in days ``o`` where a condition holds (``num_count``: always;
#: ``num_fatalities``: ``o * fatalities``).
NUMERATORS = {
    "count": "num_count",
    "events_unknown_sources": "num_unknown_sources",
    "events_single_source": "num_single_source",
    "events_coarse_location": "num_coarse_location",
    "events_coarse_date": "num_coarse_date",
    "fatalities": "num_fatalities",
}


@dataclass(frozen=True)
class Plan:
    """One counting request, as every engine sees it.

    ``grid`` is the first and last day of the periods asked for, ``window`` the
    coverage window; both are inclusive. ``lo``/``hi`` are the days both allow.
    """

    region: str
    period: str
    span: str
    grid: tuple[pd.Timestamp, pd.Timestamp]
    window: tuple[pd.Timestamp, pd.Timestamp]

    @property
    def lo(self) -> pd.Timestamp:
        return max(self.grid[0], self.window[0])

    @property
    def hi(self) -> pd.Timestamp:
        return min(self.grid[1], self.window[1])


@dataclass
class Opened:
    """An input an engine has opened: what is known of it before counting."""

    source: SourceInfo
    reader_ledger: dict[str, int]
    rows_read: int


@dataclass
class Aggregates:
    """What an engine hands back; every number a whole number except fatalities.

    ``outcomes``
        reason -> incidents (``counted`` or why an incident was set aside).
    ``parts``
        One row per cell and incident length: ``cell`` (an integer id), ``country``,
        ``region``, ``p`` (the period's first day, ``datetime64``), ``den`` (the
        incident's length in days with ``span="split"``, else 1), ``events`` (parts
        counted), ``named`` (parts naming an outlet), ``fatalities_known`` (parts
        with a fatality figure) and the sums of :data:`NUMERATORS`.
    ``outlets``
        Rows of ``cell``, ``source``, ``den`` and ``num`` (overlap days, a whole
        number): one per cell, outlet and ``den`` (``num`` summed over the cell's
        parts naming the outlet), or several, which
        :func:`~trends.counting.assemble.source_mix` adds up exactly.
        ``source`` is the outlet's name, or, with ``names``, its code: its position
        in ``names``.
    ``names``
        Every outlet name in code-point order, when ``outlets`` holds codes.
    """

    outcomes: dict[str, int]
    parts: pd.DataFrame
    outlets: pd.DataFrame | pa.Table
    names: np.ndarray | None = None
