"""Coverage of the cells behind one result: a comparison window, a series, a segment."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..cells import as_cells
from ..errors import CellsError, OptionError
from .arrays import CellArrays, is_checked, num
from .judge import judge, reliability
from .measures import TEXT_COLUMNS, WINDOW_COLUMNS, measures, relative_widths
from .rules import CoverageRules, resolve_rules

logger = logging.getLogger(__name__)


def assess_window(
    cells: pd.DataFrame,
    *,
    tested_count: float | None = None,
    dispersion: float = 1.0,
    baseline: pd.DataFrame | None = None,
    rules: str | CoverageRules | Mapping[str, Any] = "default",
) -> tuple[str, list[str]]:
    """Coverage status of the cells behind one result (a comparison window, a series).

    Gating rule, as applied by compare(), trend() and joinpoints():

    1. ``uncovered`` when every cell lies outside the coverage window (``covered`` is
       False or ``count`` missing), or there are no cells. A window partly outside is
       judged on its covered cells and the reason names the uncovered periods.
    2. Count-based rules (effective events, relative interval width, events, relative
       standard error) apply to what is tested: ``tested_count`` (default: the total
       count of the covered cells), with ``dispersion`` (effective events =
       tested_count / dispersion).
    3. Source-based rules apply to the cells inside the window, pooled: distinct
       sources in the window, shares of events with coarse location or dates, and,
       when ``baseline`` cells are given, the source-mix change against them in both
       directions (outlets that appear, outlets that go silent). For a comparison,
       pass the *before* window's cells as ``baseline`` when assessing the *after*
       window. Optional cell columns that are absent are unknown, not bad.

    Parameters
    ----------
    cells : DataFrame
        Cell rows of the window (a cell table, see :mod:`trends.cells`).
    tested_count : float, optional
        What is tested (e.g. a window's total); default the covered cells' total.
    dispersion : float
        Variance / mean of the counts (1 = Poisson); must be positive. Values below 1
        are taken as 1: underdispersion is not credited with more than the events.
    baseline : DataFrame, optional
        Cells of the baseline window, for the source-mix change.
    rules : str, CoverageRules or dict
        Preset name (``"default"``, ``"nchs"``, ``"strict"``, ``"lenient"``), rules,
        or a dict of thresholds overriding the default.

    Returns
    -------
    (status, reasons)
        ``status`` in ``adequate``, ``thin``, ``insufficient``, ``uncovered``;
        ``reasons`` plain sentences such as ``"12 events, fewer than 20"``.
    """
    r = resolve_rules(rules)
    phi = max(check_dispersion(dispersion), 1.0)
    c = CellArrays.checked(cells, "cells")
    base = None
    if baseline is not None:
        b = CellArrays.checked(baseline, "baseline")
        base = (b, np.arange(len(b.count)))
    status, reasons, _ = _assess(
        c, np.arange(len(c.count)), tested_count=tested_count, phi=phi, baseline=base, rules=r
    )
    return status, reasons


def assess_windows(
    cells: pd.DataFrame,
    *,
    tested_count: float | pd.Series | None = None,
    dispersion: float | pd.Series = 1.0,
    baseline: pd.DataFrame | None = None,
    rules: str | CoverageRules | Mapping[str, Any] = "default",
) -> pd.DataFrame:
    """:func:`assess_window` of every region's cells at once: one window per region.

    Gives for each region what ``assess_window(cells of the region, ...)`` gives (the
    same statuses and reasons), with the measures behind them, reading the table
    once instead of once per region: trend() assesses 20,000 series this way.

    Parameters
    ----------
    cells : DataFrame
        A cell table (see :mod:`trends.cells`); each region's rows are its window.
    tested_count : float or Series indexed by region, optional
        What is tested in each region's window; default (or NaN) the covered total.
    dispersion : float or Series indexed by region
        Variance / mean of each region's counts; must be positive; below 1 is taken
        as 1.
    baseline : DataFrame, optional
        Baseline cells for the source-mix change; each region is set against its own
        baseline cells (none: an empty baseline, as ``assess_window`` would be given).
    rules : str, CoverageRules or dict
        As for :func:`assess_window`.

    Returns
    -------
    DataFrame
        One row per region, sorted by region:

        ``region``
            the region.
        ``status``
            ``adequate``, ``thin``, ``insufficient`` or ``uncovered``.
        ``reasons``
            list of plain sentences, as :func:`assess_window` gives them.
        ``n_cells``, ``n_uncovered``
            cells in the window, and those outside the coverage window.
        ``count``, ``events``, ``dispersion``, ``effective_events``, ``rse``,
        ``relative_width``, ``n_sources``, ``top_source``, ``top_source_share``,
        ``single_source_share``, ``unknown_sources_share``,
        ``coarse_location_share``, ``coarse_date_share``, ``new_source_share``,
        ``silent_source_share``, ``n_sources_change``
            the window's measures, as :func:`coverage` defines them for a cell but
            pooled over the window's covered cells (:func:`window_measures`); count
            measures use the tested count. Missing for a window with no covered cell.

    Raises
    ------
    TrendsError
        Bad rules or dispersion, a Series missing regions of ``cells``.
    CellsError
        Bad cells or baseline.
    """
    r = resolve_rules(rules)
    c = CellArrays.checked(cells, "cells")
    regions, rows = c.windows()
    tested = per_region(tested_count, regions, "tested_count")
    phi = per_region(dispersion, regions, "dispersion")
    bad = ~((phi > 0) & np.isfinite(phi))
    if bad.any():
        value = dispersion if not isinstance(dispersion, pd.Series) else phi[bad][0]
        raise OptionError(f"dispersion={value!r} must be a positive finite number")
    phi = np.maximum(phi, 1.0)
    base_of: dict[Any, tuple[CellArrays, np.ndarray]] | None = None
    if baseline is not None:
        b = CellArrays.checked(baseline, "baseline")
        b_regions, b_rows = b.windows()
        base_of = dict(zip(b_regions, ((b, idx) for idx in b_rows), strict=True))
        no_rows = (b, np.zeros(0, dtype=int))
    # the exact intervals of every window at once (scipy per call is slow)
    totals = np.array(
        [
            float(c.count[idx[c.covered[idx]]].sum()) if np.isnan(t) else t
            for idx, t in zip(rows, tested, strict=True)
        ]
    )
    widths = relative_widths(totals / phi, r.level)
    records = []
    for i, idx in enumerate(rows):
        status, reasons, m = _assess(
            c,
            idx,
            tested_count=None if np.isnan(tested[i]) else float(tested[i]),
            phi=float(phi[i]),
            baseline=None if base_of is None else base_of.get(regions[i], no_rows),
            rules=r,
            relative_width=float(widths[i]),
        )
        record = {"status": status, "reasons": reasons}
        if m is None:
            covered = c.covered[idx]
            m = {"n_cells": int(idx.size), "n_uncovered": int((~covered).sum())}
        records.append({**record, **m})
    out = pd.DataFrame.from_records(records, columns=["status", "reasons", *WINDOW_COLUMNS])
    out.insert(0, "region", pd.array(regions, dtype="string"))
    out["status"] = out["status"].astype("string")
    for col in WINDOW_COLUMNS:
        if col in TEXT_COLUMNS:
            out[col] = out[col].astype("string")
        elif col == "reliable":
            out[col] = out[col].astype("boolean")
        elif col not in ("n_cells", "n_uncovered"):
            out[col] = out[col].astype(float)
    return out


def per_region(value: Any, regions: np.ndarray, name: str) -> np.ndarray:
    """A number per region (NaN: none) from a number, None, or a Series by region."""
    if isinstance(value, pd.Series):
        missing = [str(g) for g in regions[~pd.Index(regions).isin(value.index)]]
        if missing:
            raise OptionError(
                f"{name} has no value for region(s) {missing[:5]}; give one per region"
            )
        return value.reindex(pd.Index(regions, dtype=object)).to_numpy(dtype=float)
    return np.full(len(regions), num(value))


def _assess(
    c: CellArrays,
    rows: np.ndarray,
    *,
    tested_count: float | None,
    phi: float,
    baseline: tuple[CellArrays, np.ndarray] | None,
    rules: CoverageRules,
    relative_width: float | None = None,
) -> tuple[str, list[str], dict[str, Any] | None]:
    """:func:`assess_window` of the cells ``rows`` of ``c``, with the measures behind
    it (None for a window with no covered cell)."""
    if rows.size == 0:
        return "uncovered", ["no cells in the window"], None
    covered = c.covered[rows]
    if not covered.any():
        return "uncovered", ["outside the data set's coverage"], None
    m = measures(
        c,
        rows,
        tested_count=tested_count,
        dispersion=phi,
        baseline=baseline,
        level=rules.level,
        relative_width=relative_width,
        mix_alpha=rules.mix_alpha,
    )
    status, reasons = judge(m, rules)
    m["reliable"], m["reliability"] = reliability(m, rules)
    n_out = m["n_uncovered"]
    if n_out:
        reasons.append(f"{n_out} of {rows.size} periods outside the data set's coverage")
    return status, reasons, m


def as_window(cells: pd.DataFrame, name: str) -> pd.DataFrame:
    if not isinstance(cells, pd.DataFrame):
        raise CellsError(f"{name} must be a pandas DataFrame, got {type(cells).__name__}")
    if len(cells) == 0:
        return cells
    if "exposure" in cells.columns and is_checked(cells) is not None:
        return cells  # already as as_cells leaves it (a window of a checked table)
    return as_cells(cells, name=name)


def check_dispersion(dispersion: Any) -> float:
    phi = num(dispersion)
    if not (phi > 0 and math.isfinite(phi)):
        raise OptionError(f"dispersion={dispersion!r} must be a positive finite number")
    return phi
