"""The cell table: one row per region x period, the input of every statistic.

``count()`` produces it, but any DataFrame with the four core columns works:

========================  =====================================================
column                    meaning
========================  =====================================================
``region``                region name (string)
``period``                period label: ``2016``, ``2016Q3``, ``2016-07``, ``2016-W27``
``count``                 incidents counted (float; fractional with ``span="split"``;
                          missing where the period is outside the data's coverage)
``exposure``              days of observation (or person-time with a population table);
                          derived as the period's length in days when absent
========================  =====================================================

Optional columns, filled by ``count()``; a table without them is *unknown*, not bad:

========================  =====================================================
``period_start``          first day of the period (derived from ``period`` if absent)
``period_end``            last day of the period, inclusive (derived likewise)
``country``               country of the region
``covered``               bool: the period lies inside the source's coverage window
``events``                incidents in the cell (same weights as ``count``)
``events_unknown_sources``  events whose number of sources is unknown
``events_single_source``  events reported by exactly one source
``events_coarse_location``  events located only coarser than the region level
``events_coarse_date``    events whose date is known less precisely than the period
``n_sources``             distinct outlets named by the cell's events (missing: unknown)
``top_source``            the outlet behind most of the cell's events
``top_source_events``     events naming ``top_source``
``source_counts``         JSON object ``{"outlet": events, ...}`` (keys sorted),
                          the cell's source mix; missing when the data names no outlets
``fatalities``            sum of best fatality estimates (missing if none known)
``events_all``            events of all kinds in the cell (``count(..., baseline=)``),
                          the denominator of rates per 1,000 events
========================  =====================================================
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .errors import CellsError
from .periods import infer_period, period_bounds

__all__ = ["CORE_COLUMNS", "as_cells", "cells_period", "source_counts"]

CORE_COLUMNS = ("region", "period", "count", "exposure")


def as_cells(cells: pd.DataFrame, *, name: str = "cells") -> pd.DataFrame:
    """Check a cell table and return a tidy copy, sorted by region and period.

    Derives ``period_start``/``period_end`` from ``period`` and ``exposure`` (days)
    from them when absent. Raises :class:`~trends.errors.CellsError` naming the
    column and the first bad row when a core column is missing or invalid.
    """
    if not isinstance(cells, pd.DataFrame):
        raise CellsError(f"{name} must be a pandas DataFrame, got {type(cells).__name__}")
    missing = [c for c in ("region", "period", "count") if c not in cells.columns]
    if missing:
        raise CellsError(
            f"{name} lacks column(s) {missing}; a cell table needs "
            f"{list(CORE_COLUMNS)} (exposure may be derived from the period)"
        )
    out = cells.copy()
    out["period"] = out["period"].astype("string")
    if out["period"].isna().any():
        raise CellsError(
            f"{name}: column 'period' is missing in row {_first(out['period'].isna())}"
        )
    kind = infer_period(out["period"])
    if "period_start" not in out.columns or "period_end" not in out.columns:
        start, end = period_bounds(out["period"], kind)
        out["period_start"] = start.to_numpy()
        out["period_end"] = end.to_numpy()
    else:
        out["period_start"] = pd.to_datetime(out["period_start"]).astype("datetime64[ns]")
        out["period_end"] = pd.to_datetime(out["period_end"]).astype("datetime64[ns]")
    if "exposure" not in out.columns:
        out["exposure"] = (out["period_end"] - out["period_start"]).dt.days + 1.0
    for col in ("count", "exposure"):
        values = pd.to_numeric(out[col], errors="coerce")
        bad = values.isna() & out[col].notna()
        if bad.any():
            raise CellsError(
                f"{name}: column {col!r} holds a non-number in row {_first(bad)}: "
                f"{out[col][bad].iloc[0]!r}"
            )
        out[col] = values.astype(float)
    if (out["count"] < 0).any():
        raise CellsError(f"{name}: column 'count' is negative in row {_first(out['count'] < 0)}")
    if (out["exposure"] < 0).any():
        raise CellsError(
            f"{name}: column 'exposure' is negative in row {_first(out['exposure'] < 0)}"
        )
    out["region"] = out["region"].astype("string")
    if out["region"].isna().any():
        raise CellsError(
            f"{name}: column 'region' is missing in row {_first(out['region'].isna())}"
        )
    dup = out.duplicated(["region", "period"])
    if dup.any():
        row = out[dup].iloc[0]
        raise CellsError(
            f"{name}: region {row['region']!r} has period {row['period']!r} twice; "
            "a cell table has one row per region and period"
        )
    out = out.sort_values(["region", "period_start"], kind="stable").reset_index(drop=True)
    out.attrs["period"] = kind
    return out


def cells_period(cells: pd.DataFrame) -> str:
    """The kind of period (``week``, ``month``, ``quarter``, ``year``) of a cell table."""
    return cells.attrs.get("period") or infer_period(cells["period"])


def source_counts(cells: pd.DataFrame) -> list[dict[str, float] | None]:
    """Parse the ``source_counts`` column into one dict (or ``None``: unknown) per cell."""
    if "source_counts" not in cells.columns:
        return [None] * len(cells)
    out: list[dict[str, float] | None] = []
    for value in cells["source_counts"]:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            out.append(None)
        else:
            out.append({str(k): float(v) for k, v in json.loads(value).items()})
    return out


def _first(mask: pd.Series) -> int:
    """1-based position of the first True in ``mask``."""
    return int(np.flatnonzero(np.asarray(mask))[0]) + 1
