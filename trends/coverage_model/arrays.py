"""A cell table's coverage columns as arrays, read once and measured window by window."""

from __future__ import annotations

import functools
import json
import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..cells import as_cells
from ..errors import CellsError, TrendsError
from ..periods import PERIODS, infer_period

logger = logging.getLogger(__name__)


def num(value: Any) -> float:
    """A float, NaN for missing."""
    if value is None or value is pd.NA:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def covered_mask(cells: pd.DataFrame) -> np.ndarray:
    """True where a cell is inside the coverage window (missing ``covered`` = covered;
    a missing count means outside)."""
    return CellArrays.read(cells).covered


#: Optional numeric cell columns that the window measures read.
NUMERIC = (
    "n_sources",
    "top_source_events",
    "events_single_source",
    "events_unknown_sources",
    "events_coarse_location",
    "events_coarse_date",
)


@dataclass(frozen=True)
class CellArrays:
    """The columns of a cell table that the coverage measures read, as arrays.

    Read once per table (:meth:`read`, or :meth:`checked` to validate first), so that
    its windows (arrays of row positions) are measured without building a frame per
    window; ``source_counts`` JSON is parsed once per distinct text (:func:`parse_mix_value`).
    """

    region: np.ndarray  # str objects
    count: np.ndarray  # float, NaN where missing
    covered: np.ndarray  # bool: inside the coverage window and count known
    events: np.ndarray  # float: the events column where known, else count
    numeric: dict[str, np.ndarray]  # the columns of NUMERIC present, as floats
    top_source: np.ndarray | None  # str objects, None where missing; None: no column
    mixes: list[dict[str, float] | None] | None  # parsed source_counts; None: no column

    @classmethod
    def read(cls, cells: pd.DataFrame, region: np.ndarray | None = None) -> CellArrays:
        """The arrays of ``cells`` as they are (no check, rows in the given order);
        ``region``: its region column as objects, when already read."""
        n = len(cells)
        if n == 0 and "count" not in cells.columns:
            count = np.zeros(0)
        else:
            count = floats(cells["count"])
        covered = ~np.isnan(count)
        if "covered" in cells.columns:
            flag = cells["covered"]
            if flag.dtype != bool:
                flag = flag.astype("boolean").fillna(True)
            covered &= flag.to_numpy(dtype=bool)
        events = count
        if "events" in cells.columns:
            ev = floats(cells["events"])
            events = np.where(np.isnan(ev), count, ev)
        numeric = {c: floats(cells[c]) for c in NUMERIC if c in cells.columns}
        top = None
        if "top_source" in cells.columns:
            top = cells["top_source"].astype("string").to_numpy(dtype=object, na_value=None)
        mixes = None
        if "source_counts" in cells.columns:
            mixes = [parse_mix_value(v) for v in cells["source_counts"].to_numpy(dtype=object)]
        if region is None:
            region = (
                cells["region"].to_numpy(dtype=object)
                if "region" in cells.columns
                else np.full(n, "", dtype=object)
            )
        return cls(region, count, covered, events, numeric, top, mixes)

    @classmethod
    def checked(cls, cells: Any, name: str) -> CellArrays:
        """The arrays of ``cells`` checked and ordered as :func:`~trends.cells.as_cells`
        leaves them; a table that already is (a cell table, or rows of one) is read as
        it is, any other goes through ``as_cells`` (and its errors)."""
        if not isinstance(cells, pd.DataFrame):
            raise CellsError(f"{name} must be a pandas DataFrame, got {type(cells).__name__}")
        if cells.attrs:
            # a view without attrs: pandas deep-copies attrs into every column read
            kind = cells.attrs.get("period")
            cells = pd.DataFrame(cells, copy=False)
            if kind is not None:
                cells.attrs["period"] = kind
        if len(cells) == 0:
            return cls.read(cells)
        region = is_checked(cells)
        if region is not None:
            return cls.read(cells, region)
        return cls.read(as_cells(cells, name=name))

    def windows(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """The regions (in table order) and each one's row positions."""
        n = len(self.region)
        if n == 0:
            return np.array([], dtype=object), []
        starts = np.flatnonzero(np.r_[True, self.region[1:] != self.region[:-1]])
        ends = np.r_[starts[1:], n]
        return self.region[starts], [np.arange(a, b) for a, b in zip(starts, ends, strict=True)]


def floats(column: pd.Series) -> np.ndarray:
    """A column as floats, NaN where missing or not a number."""
    if column.dtype == np.float64:
        return column.to_numpy()
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


@functools.lru_cache(maxsize=65536)
def _parse_mix_text(text: str) -> dict[str, float]:
    return {str(k): float(v) for k, v in json.loads(text).items()}


def parse_mix_value(value: Any) -> dict[str, float] | None:
    """One ``source_counts`` value parsed (None: unknown), as
    :func:`trends.cells.source_counts` does; the dict is shared, never change it."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return _parse_mix_text(value)


def is_checked(cells: pd.DataFrame) -> np.ndarray | None:
    """The region column (as objects) if ``as_cells`` would return ``cells`` unchanged
    in everything the coverage measures read, else None.

    That is: core columns of its dtypes, no missing region or period, valid period
    labels of one kind (trusted when ``attrs["period"]`` names the kind, as
    ``as_cells`` and ``count()`` leave it), no negative count or exposure, and rows
    sorted by region and period with no region-period twice. A cheap check: a few
    vectorised comparisons instead of a copy, a sort and a duplicate search.
    """
    dtypes = dict(zip(cells.columns, cells.dtypes, strict=True))
    if not all(c in dtypes for c in ("region", "period", "count")):
        return None
    if not (
        isinstance(dtypes["region"], pd.StringDtype)
        and isinstance(dtypes["period"], pd.StringDtype)
        and dtypes["count"] == np.float64
        and dtypes.get("exposure", np.float64) == np.float64
        and all(dtypes.get(c, _NS) == _NS for c in ("period_start", "period_end"))
    ):
        return None
    for col in ("count", "exposure") if "exposure" in dtypes else ("count",):
        if (cells[col].to_numpy() < 0).any():
            return None
    region = cells["region"].to_numpy(dtype=object)
    period = cells["period"].to_numpy(dtype=object)
    if pd.isna(region).any() or pd.isna(period).any():
        return None
    if cells.attrs.get("period") not in PERIODS:
        try:
            infer_period(set(period))  # each distinct label once
        except TrendsError:
            return None  # as_cells raises it
    same = region[1:] == region[:-1]
    if not np.all(same | (region[:-1] < region[1:])):
        return None
    # within a region, labels (which sort as their periods do) strictly increase;
    # period_start, where given, must agree (as_cells sorts by it)
    if not np.all(~same | (period[:-1] < period[1:])):
        return None
    if "period_start" in dtypes:
        start = cells["period_start"].to_numpy()
        if not np.all(~same | (start[:-1] < start[1:])):
            return None
    return region


_NS = np.dtype("datetime64[ns]")


def sum_known(values: np.ndarray) -> float:
    """Sum of the known values; NaN when none is known."""
    known = ~np.isnan(values)
    if not known.any():
        return math.nan
    return float(np.where(known, values, 0.0).sum())


def optional_column(cells: pd.DataFrame, col: str) -> np.ndarray:
    """An optional numeric column as floats (NaN where absent or missing)."""
    if col not in cells.columns:
        return np.full(len(cells), np.nan)
    return pd.to_numeric(cells[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
