"""Coverage measures of a set of cells taken together: events, outlets, shares, mix change."""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from .arrays import CellArrays, sum_known
from .mix import mix_change

logger = logging.getLogger(__name__)


def exact_relative_width(events: float, level: float = 0.95) -> float:
    """Width of Garwood's exact interval for ``events`` divided by ``events``.

    Non-integer event numbers (effective events, split counts) use the gamma form
    of the interval. Zero events give ``inf``.
    """
    return float(relative_widths(np.array([events], dtype=float), level)[0])


def relative_widths(events: np.ndarray, level: float) -> np.ndarray:
    """:func:`exact_relative_width` of each of an array of event numbers.

    ``gammaincinv(a, q)`` is what ``scipy.stats.gamma.ppf(q, a)`` computes, without
    its argument checks (a tenth of a millisecond per call).
    """
    alpha = 1.0 - level
    x = np.asarray(events, dtype=float)
    pos = x > 0
    safe = np.where(pos, x, 1.0)
    low = special.gammaincinv(safe, alpha / 2)
    high = special.gammaincinv(safe + 1, 1 - alpha / 2)
    return np.where(pos, (high - low) / safe, math.inf)


def pool(c: CellArrays, rows: np.ndarray) -> dict[str, float] | None:
    """The source mix of cells ``rows``, summed; None if any cell with events has an
    unknown mix (then the pooled mix would be wrong)."""
    events = c.events[rows]
    if c.mixes is None:  # known only when no cell has events (or unknown events)
        return {} if (events <= 0).all() else None
    total: dict[str, float] = {}
    for i, ev in zip(rows, events, strict=True):
        mix = c.mixes[i]
        if mix is None:
            if ev > 0 or math.isnan(ev):
                return None
            continue
        for key, value in mix.items():
            if value > 0:
                total[key] = total.get(key, 0.0) + value
    return total


def distinct(c: CellArrays, rows: np.ndarray, mix: dict[str, float] | None) -> tuple[float, str]:
    """Distinct sources behind cells ``rows``, and the top source (``""`` if unknown).

    From the pooled source mix when known; else from ``n_sources`` and ``top_source``:
    one cell's ``n_sources`` when only one cell has events, the maximum as a lower
    bound when that is already 2 or more, 1 when every cell with events has one
    source and all name the same ``top_source``; NaN when it cannot be told.
    """
    if mix is not None:
        top = max(sorted(mix), key=lambda k: mix[k]) if mix else ""
        return float(len(mix)), top
    if "n_sources" not in c.numeric:
        return math.nan, ""
    has = rows[c.events[rows] > 0]
    if has.size == 0:
        return math.nan, ""
    n = c.numeric["n_sources"][has]
    tops = c.top_source[has] if c.top_source is not None else np.full(has.size, None)
    if np.isnan(n).any():
        known = n[~np.isnan(n)]
        if known.size and known.max() >= 2:
            return float(known.max()), ""  # at least that many
        return math.nan, ""
    top = str(tops[0]) if tops[0] is not None else ""
    if n.size == 1:
        return float(n[0]), top
    if n.max() >= 2:
        return float(n.max()), ""
    names = {t for t in tops if t is not None}
    if len(names) == 1 and all(t is not None for t in tops):
        return 1.0, names.pop()
    return math.nan, ""


def pooled_sources(cells: pd.DataFrame) -> dict[str, float] | None:
    """:func:`pool` of every row of a frame."""
    return pool(CellArrays.read(cells), np.arange(len(cells)))


def distinct_sources(cells: pd.DataFrame, mix: dict[str, float] | None) -> tuple[float, str]:
    """:func:`distinct` of every row of a frame."""
    return distinct(CellArrays.read(cells), np.arange(len(cells)), mix)


def cell_events(cells: pd.DataFrame) -> np.ndarray:
    """Events per cell: the ``events`` column where known, else ``count``."""
    return CellArrays.read(cells).events


def window_measures(
    cells: pd.DataFrame,
    *,
    tested_count: float | None = None,
    dispersion: float = 1.0,
    baseline: pd.DataFrame | None = None,
    level: float = 0.95,
    mix_alpha: float = 0.01,
) -> dict[str, Any]:
    """The coverage measures of a set of cells taken together (one cell, or a window).

    Count-based measures use ``tested_count`` (default: the covered cells' total
    count); source-based measures pool the covered cells. Returns a dict with the
    keys of :func:`coverage`'s measure columns.
    """
    base = None
    if baseline is not None:
        base = (CellArrays.read(baseline), np.arange(len(baseline)))
    return measures(
        CellArrays.read(cells),
        np.arange(len(cells)),
        tested_count=tested_count,
        dispersion=dispersion,
        baseline=base,
        level=level,
        mix_alpha=mix_alpha,
    )


def measures(
    c: CellArrays,
    rows: np.ndarray,
    *,
    tested_count: float | None,
    dispersion: float,
    baseline: tuple[CellArrays, np.ndarray] | None,
    level: float,
    relative_width: float | None = None,
    mix_alpha: float = 0.01,
) -> dict[str, Any]:
    """:func:`window_measures` of the cells ``rows`` of ``c`` (against the cells
    ``baseline[1]`` of ``baseline[0]``); ``relative_width`` when already computed."""
    covered = c.covered[rows]
    inside = rows[covered]
    count = float(c.count[inside].sum()) if tested_count is None else float(tested_count)
    phi = float(dispersion)
    effective = count / phi
    events = c.events[inside]
    n_events = float(events.sum()) if events.size else 0.0
    mix = pool(c, inside)
    n_sources, top = distinct(c, inside, mix)
    top_events = math.nan
    if mix is not None and mix:
        top_events = mix[top]
    elif top and "top_source_events" in c.numeric and inside.size >= 1:
        tops = c.top_source[inside] if c.top_source is not None else np.full(inside.size, None)
        top_events = sum_known(c.numeric["top_source_events"][inside[tops == top]])

    def share(col: str, denom: float) -> float:
        num = sum_known(c.numeric[col][inside]) if col in c.numeric else math.nan
        return num / denom if denom > 0 and not math.isnan(num) else math.nan

    unknown = (
        sum_known(c.numeric["events_unknown_sources"][inside])
        if "events_unknown_sources" in c.numeric
        else math.nan
    )
    known_denom = n_events - (0.0 if math.isnan(unknown) else unknown)
    if relative_width is None:
        relative_width = exact_relative_width(effective, level)
    out: dict[str, Any] = {
        "count": count,
        "events": n_events,
        "dispersion": phi,
        "effective_events": effective,
        "rse": math.sqrt(1.0 / effective) if effective > 0 else math.inf,
        "relative_width": relative_width,
        "n_sources": n_sources,
        "top_source": top,
        "top_source_share": top_events / n_events if n_events > 0 else math.nan,
        "single_source_share": share("events_single_source", known_denom),
        "unknown_sources_share": share("events_unknown_sources", n_events),
        "coarse_location_share": share("events_coarse_location", n_events),
        "coarse_date_share": share("events_coarse_date", n_events),
        "new_source_share": math.nan,
        "silent_source_share": math.nan,
        "new_sources": "",
        "silent_sources": "",
        "n_sources_expected": math.nan,
        "n_sources_change": math.nan,
        "n_cells": int(rows.size),
        "n_uncovered": int((~covered).sum()),
        "source_mix_known": mix is not None,
    }
    if baseline is not None:
        b, b_rows = baseline
        base_in = b_rows[b.covered[b_rows]]
        base_mix = pool(b, base_in)
        if mix is not None and base_mix is not None:
            change = mix_change(base_mix, mix, alpha=mix_alpha)
            out["silent_source_share"] = change.silent_share
            out["new_source_share"] = change.new_share
            out["silent_sources"] = "; ".join(change.silent)
            out["new_sources"] = "; ".join(change.new)
            out["n_sources_expected"] = change.expected_sources
            out["continuing_sources"] = change.continuing
        base_n, _ = distinct(b, base_in, base_mix)
        out["n_sources_change"] = n_sources - base_n
        out["baseline_mix_known"] = base_mix is not None
    return out


MEASURES = (
    "count",
    "events",
    "dispersion",
    "effective_events",
    "rse",
    "relative_width",
    "n_sources",
    "top_source",
    "top_source_share",
    "single_source_share",
    "unknown_sources_share",
    "coarse_location_share",
    "coarse_date_share",
    "new_source_share",
    "silent_source_share",
    "new_sources",
    "silent_sources",
    "n_sources_expected",
    "n_sources_change",
)

#: Measure columns of :func:`assess_windows`.
WINDOW_COLUMNS = ("n_cells", "n_uncovered", *MEASURES, "reliable", "reliability")
#: The measures that are text (empty: none or unknown).
TEXT_COLUMNS = ("top_source", "new_sources", "silent_sources", "reliability")
