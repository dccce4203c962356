"""Each region's series of covered cells, packed into arrays for fitting many at once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..periods import period_bounds, to_period_end_label, to_period_label

logger = logging.getLogger(__name__)


MIN_PERIODS = 3

# Why a region has no estimate (its notes say so; its verdict is "not estimable").
NO_EXPOSURE = "no exposure in any covered period"
TOO_FEW = f"too few periods (fewer than {MIN_PERIODS})"
NO_EVENTS = "no events"
NO_VARIATION = "no variation (every period has the same rate)"
END_ONLY = "no finite estimate (all events in the first or last period)"
NOT_CONVERGED = "fit did not converge"


@dataclass
class Packed:
    """Regions' fitted series in padded arrays (regions x longest series)."""

    y: np.ndarray  # counts (0 where padded)
    exposure: np.ndarray  # exposure (1 where padded)
    t: np.ndarray  # period index, centred per region (0 where padded)
    mask: np.ndarray  # True where a real cell
    n: np.ndarray  # cells per region
    events: np.ndarray  # sum of counts
    first: list[str | None]
    last: list[str | None]


def restrict(table: pd.DataFrame, kind: str, start: str | None, end: str | None) -> pd.DataFrame:
    keep = np.ones(len(table), dtype=bool)
    if start is not None:
        first = period_bounds([to_period_label(start, kind)], kind)[0].iloc[0]
        keep &= (table["period_start"] >= first).to_numpy()
    if end is not None:
        last = period_bounds([to_period_end_label(end, kind)], kind)[0].iloc[0]
        keep &= (table["period_start"] <= last).to_numpy()
    return table[keep].reset_index(drop=True)


def period_index(period_start: pd.Series, kind: str) -> np.ndarray:
    """Consecutive integers along consecutive periods (gaps stay gaps)."""
    d = pd.DatetimeIndex(period_start)
    if kind == "month":
        return (d.year * 12 + d.month - 1).to_numpy(dtype=float)
    if kind == "quarter":
        return (d.year * 4 + (d.month - 1) // 3).to_numpy(dtype=float)
    if kind == "year":
        return d.year.to_numpy(dtype=float)
    monday = pd.Timestamp("1970-01-05")  # ISO weeks start on Mondays
    return np.asarray((d - monday).days // 7, dtype=float)


def pack(fitted: pd.DataFrame, regions: pd.Index) -> Packed:
    n_regions = len(regions)
    code = regions.get_indexer(fitted["region"])
    pos = fitted.groupby("region", sort=False).cumcount().to_numpy()
    n = np.bincount(code, minlength=n_regions)
    width = max(int(n.max()) if n_regions else 0, 1)
    y = np.zeros((n_regions, width))
    exposure = np.ones((n_regions, width))
    t = np.zeros((n_regions, width))
    mask = np.zeros((n_regions, width), dtype=bool)
    y[code, pos] = fitted["count"].to_numpy(dtype=float)
    exposure[code, pos] = fitted["exposure"].to_numpy(dtype=float)
    t[code, pos] = fitted["t"].to_numpy(dtype=float)
    mask[code, pos] = True
    with np.errstate(invalid="ignore"):
        centre = np.where(n > 0, (t * mask).sum(axis=1) / np.maximum(n, 1), 0.0)
    t = np.where(mask, t - centre[:, None], 0.0)
    periods = fitted["period"].astype(str).to_numpy()
    first: list[str | None] = [None] * n_regions
    last: list[str | None] = [None] * n_regions
    ends = np.cumsum(n)  # rows come sorted by region, then period
    for i in np.flatnonzero(n):
        first[i] = periods[ends[i] - n[i]]
        last[i] = periods[ends[i] - 1]
    return Packed(y, exposure, t, mask, n, y.sum(axis=1), first, last)
