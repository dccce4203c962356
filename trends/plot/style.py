"""What every chart shares: colours, the checks of its input, region order, rounding."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import CellsError

__all__ = [
    "STATUS_COLORS",
    "VERDICT_COLORS",
    "LINE",
    "BAND",
    "FIT",
    "BREAK",
    "need",
    "plain",
    "period_dates",
    "region_order",
    "order_column",
    "round_sig",
    "reasons_text",
]

logger = logging.getLogger(__name__)

#: Coverage status -> colour (same in every chart and in the report's tables).
STATUS_COLORS: dict[str, str] = {
    "adequate": "#3b6ea8",
    "thin": "#e0a526",
    "insufficient": "#c2552b",
    "uncovered": "#c8c8c8",
}

#: Verdict -> colour. Rises are red (more incidents is worse news), falls are blue.
VERDICT_COLORS: dict[str, str] = {
    "increase": "#c0392b",
    "rising": "#c0392b",
    "decrease": "#2471a3",
    "falling": "#2471a3",
    "unusually high": "#c0392b",
    "unusually low": "#2471a3",
    "not unusual": "#7f8c8d",
    "no significant change": "#7f8c8d",
    "stable": "#7f8c8d",
    "inconclusive (thin coverage)": "#e0a526",
    "too short to call": "#b39ddb",
    "not estimable": "#9e9e9e",
    "not covered": "#c8c8c8",
}

LINE = "#1d3557"
BAND = "#a8c5e2"
FIT = "#c0392b"
#: Missing values break a line or band (a gap), never drop it to zero or join across.
BREAK = "break-paths-filter-domains"


def need(table: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    """Raise :class:`~trends.errors.CellsError` unless ``table`` has ``columns``."""
    if not isinstance(table, pd.DataFrame):
        raise CellsError(f"{name} must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise CellsError(
            f"{name} lacks column(s) {missing}; it has {list(map(str, table.columns))}"
        )


def plain(table: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy without ``attrs`` (pandas deep-copies attrs on every operation)."""
    out = table.copy(deep=False)
    out.attrs = {}
    return out


def period_dates(table: pd.DataFrame) -> pd.DataFrame:
    """A copy with ``period_start``/``period_end`` (derived from ``period`` when absent)."""
    if "period_start" in table.columns and "period_end" in table.columns:
        out = table.copy()
        out["period_start"] = pd.to_datetime(out["period_start"])
        out["period_end"] = pd.to_datetime(out["period_end"])
        return out
    from ..cells import as_cells

    cells = table if "count" in table.columns else table.assign(count=0.0)
    out = as_cells(cells, name="table")
    return out if "count" in table.columns else out.drop(columns="count")


def region_order(table: pd.DataFrame, sort: str | Sequence[str]) -> list[str]:
    """Regions ordered for display: by total count (descending), name, or as given."""
    regions = sorted(table["region"].astype(str).unique())
    if not isinstance(sort, str):
        given = [str(r) for r in sort]
        return given + [r for r in regions if r not in given]
    if sort == "name":
        return regions
    if sort == "total":
        totals = table.groupby(table["region"].astype(str))["count"].sum(min_count=1).fillna(0)
        return sorted(regions, key=lambda r: (-float(totals.get(r, 0.0)), r))
    raise CellsError(f"sort={sort!r} is not 'total', 'name' or a list of regions")


def order_column(regions: pd.Series, order: Sequence[str]) -> np.ndarray:
    """Each row's place in ``order`` (regions absent from it go last).

    Charts sort regions by this number (``EncodingSortField``), never by a list of
    names: Vega-Lite turns a sort list into an expression that looks names up on a
    plain object, which breaks on a region called ``constructor`` or ``__proto__``.
    """
    place = {name: i for i, name in enumerate(order)}
    return np.array([place.get(str(r), len(place)) for r in regions], dtype=int)


def round_sig(value: float, digits: int = 4) -> float:
    """``value`` to ``digits`` significant digits (NaN and infinity stay as they are)."""
    if not np.isfinite(value) or value == 0:
        return value
    return round(value, digits - 1 - int(np.floor(np.log10(abs(value)))))


def reasons_text(value: object) -> str:
    """Coverage reasons as one '; '-joined sentence list, whatever form they came in."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, list | tuple | np.ndarray):
        return "; ".join(str(v) for v in value)
    return str(value)
