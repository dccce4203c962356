"""coverage(): the status of every cell, with its reasons and measures."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..cells import as_cells, source_counts
from ..errors import TrendsError
from .arrays import covered_mask, divide, optional_column
from .judge import judge
from .measures import cell_events, distinct_sources, pooled_sources, relative_widths
from .rules import CoverageRules, resolve_rules
from .windows import check_dispersion

logger = logging.getLogger(__name__)


def estimate_dispersion(counts: np.ndarray, exposure: np.ndarray | None = None) -> float:
    """Dispersion (variance / mean) of a series of counts, robust to a smooth trend.

    The mean square successive difference (von Neumann et al. 1941, *Ann. Math.
    Statist.* 12:153): with a mean that changes slowly from one period to the next,
    ``E[(y[t+1] - r y[t])^2] ~ phi (mu[t+1] + r^2 mu[t])`` where ``r`` is the ratio of
    exposures, so ``phi = sum (y[t+1] - r y[t])^2 / sum (y[t+1] + r^2 y[t])``.
    Floored at 1 (underdispersion is not credited); 1 when fewer than 6 successive
    pairs with events exist. Missing counts break the series (no pair across them).
    """
    y = np.asarray(counts, dtype=float)
    e = np.ones_like(y) if exposure is None else np.asarray(exposure, dtype=float)
    y0, y1, e0, e1 = y[:-1], y[1:], e[:-1], e[1:]
    ok = ~(np.isnan(y0) | np.isnan(y1)) & (e0 > 0) & (e1 > 0)
    r = np.where(ok, e1 / np.where(e0 > 0, e0, 1.0), 0.0)
    num = np.where(ok, (y1 - r * y0) ** 2, 0.0).sum()
    den = np.where(ok, y1 + r**2 * y0, 0.0).sum()
    pairs = int((ok & ((y0 + y1) > 0)).sum())
    if pairs < 6 or den <= 0:
        return 1.0
    return float(max(1.0, num / den))


def coverage(
    cells: pd.DataFrame,
    rules: str | CoverageRules | Mapping[str, Any] = "default",
    *,
    baseline: pd.DataFrame | tuple[str, str] | None = None,
    dispersion: str | float = 1.0,
    **overrides: Any,
) -> pd.DataFrame:
    """Coverage status of every cell, with the reasons and the measures behind them.

    Parameters
    ----------
    cells : DataFrame
        A cell table (see :mod:`trends.cells`); optional coverage columns that are
        absent are unknown, not bad.
    rules : {"default", "nchs", "strict", "lenient"}, CoverageRules or dict
        The rule set (see :data:`PRESETS` and :class:`CoverageRules` for each
        threshold and its reference).
    baseline : DataFrame or (first, last) period labels, optional
        Baseline of the source-mix change: cells (matched by region), or a window of
        periods of ``cells`` itself. Each cell's source mix is set against its
        region's pooled baseline mix. None: the source-mix change is not assessed.
    dispersion : float or "auto", default 1
        Variance / mean of the counts. The default, 1, judges each cell's events as
        the NCHS rules do: a cell describes what was reported in that period, and
        the month-to-month swings of a conflict (an offensive, a lull) are signal,
        not noise, so they should not shrink a cell's effective events. (With
        "auto", most Syria months of the UCDP Syria dataset came out insufficient:
        Aleppo, 2016-03, 93 events, dispersion 10.) Where a result is *tested*,
        compare() and trend() pass the dispersion their test estimated to
        :func:`assess_window`. "auto" estimates it per region from the
        region's covered series of week or month cells (:func:`estimate_dispersion`).
        Quarter and year cells are too long for that: from one period to the next
        the count changes mostly because the conflict did, not by chance, so "auto"
        uses 1 for them; pass the dispersion of the monthly cells to apply it (a
        sum of independent months keeps their dispersion). A number applies to
        every region.
    **overrides
        Any threshold of :class:`CoverageRules`, e.g. ``min_events=30``; None
        switches a rule off.

    Returns
    -------
    DataFrame
        One row per cell, in the order of :func:`trends.cells.as_cells`:

        ``region``, ``period``, ``period_start``, ``period_end``
            the cell.
        ``status``
            ``adequate``, ``thin``, ``insufficient`` or ``uncovered``.
        ``reasons``
            list of plain sentences: every rule that fired, and what was unknown.
        ``covered``
            inside the data set's coverage window.
        ``count``, ``events``
            counted events (what rates use), and incidents in the cell (``events``
            column, else ``count``).
        ``dispersion``, ``effective_events``
            the region's dispersion and ``count / dispersion``.
        ``rse``, ``relative_width``
            relative standard error ``sqrt(dispersion / count)``, and the width of
            the exact (Garwood) interval of the effective events over them.
        ``n_sources``, ``top_source``, ``top_source_share``
            distinct outlets, the outlet behind most events and its share of events.
        ``single_source_share``
            share of the events with a known number of sources that have one source.
        ``unknown_sources_share``
            share of events whose number of sources is unknown.
        ``coarse_location_share``, ``coarse_date_share``
            share of events located only coarser than the region / dated less
            precisely than the period.
        ``new_source_share``, ``silent_source_share``, ``n_sources_change``
            against the baseline: share of the cell's source mentions from outlets
            absent in the baseline; share of the baseline's mentions from outlets
            silent in the cell; change in the number of distinct outlets.

        Shares are NaN where the data set does not have the measure.
    """
    r = resolve_rules(rules, **overrides)
    cells = as_cells(cells)
    n = len(cells)
    covered = covered_mask(cells)
    count = pd.to_numeric(cells["count"], errors="coerce").to_numpy(dtype=float)
    events = cell_events(cells)
    regions = cells["region"].astype("string").to_numpy()

    # dispersion per region
    if isinstance(dispersion, str):
        if dispersion != "auto":
            raise TrendsError(f"dispersion={dispersion!r} must be 'auto' or a positive number")
        phi = np.ones(n)
        short = cells.attrs.get("period") in ("week", "month")
        for region in pd.unique(regions) if short else []:
            idx = np.flatnonzero(regions == region)
            y = np.where(covered[idx], count[idx], np.nan)
            phi[idx] = estimate_dispersion(y, cells["exposure"].to_numpy(dtype=float)[idx])
    else:
        phi = np.full(n, check_dispersion(dispersion))

    safe = np.where(covered, count, 0.0)
    effective = safe / phi
    with np.errstate(divide="ignore"):
        rse = np.where(effective > 0, np.sqrt(1.0 / np.where(effective > 0, effective, 1)), np.inf)
    rel_width = relative_widths(effective, r.level)

    # sources
    mixes = source_counts(cells)
    n_src = optional_column(cells, "n_sources")
    from_mix = np.array(
        [np.nan if m is None else float(sum(v > 0 for v in m.values())) for m in mixes]
    )
    n_src = np.where(np.isnan(n_src), from_mix, n_src)
    top = (
        cells["top_source"].astype("string").fillna("").to_numpy(dtype=object)
        if "top_source" in cells.columns
        else np.full(n, "", dtype=object)
    )
    top_ev = optional_column(cells, "top_source_events")
    for i, m in enumerate(mixes):
        if m and (not top[i] or np.isnan(top_ev[i])):
            name = max(sorted(m), key=lambda k: m[k])
            top[i], top_ev[i] = name, m[name]

    def share(col: str, denom: np.ndarray) -> np.ndarray:
        num = optional_column(cells, col)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denom > 0, num / np.where(denom > 0, denom, 1), np.nan)

    unknown = optional_column(cells, "events_unknown_sources")
    known_denom = events - np.nan_to_num(unknown)

    out = pd.DataFrame(
        {
            "region": cells["region"],
            "period": cells["period"],
            "period_start": cells["period_start"],
            "period_end": cells["period_end"],
            "covered": covered,
            "count": np.where(covered, count, np.nan),
            "events": np.where(covered, events, np.nan),
            "dispersion": phi,
            "effective_events": np.where(covered, effective, np.nan),
            "rse": np.where(covered, rse, np.nan),
            "relative_width": np.where(covered, rel_width, np.nan),
            "n_sources": n_src,
            "top_source": pd.array(top, dtype="string"),
            "top_source_share": np.where(top != "", divide(top_ev, events), np.nan),
            "single_source_share": share("events_single_source", known_denom),
            "unknown_sources_share": share("events_unknown_sources", events),
            "coarse_location_share": share("events_coarse_location", events),
            "coarse_date_share": share("events_coarse_date", events),
            "new_source_share": np.nan,
            "silent_source_share": np.nan,
            "n_sources_change": np.nan,
        }
    )
    out.loc[out["top_source"] == "", "top_source"] = pd.NA

    base_mix = _baseline_mixes(cells, baseline)
    mix_known = np.array([m is not None for m in mixes])
    if base_mix is not None:
        new = np.full(n, np.nan)
        silent = np.full(n, np.nan)
        change = np.full(n, np.nan)
        for i, m in enumerate(mixes):
            region = regions[i]
            if region not in base_mix:
                continue
            bm, bn = base_mix[region]
            change[i] = n_src[i] - bn
            if m is None or bm is None:
                continue
            now, before = sum(m.values()), sum(bm.values())
            if now > 0:
                new[i] = sum(v for k, v in m.items() if k not in bm) / now
            if before > 0:
                silent[i] = sum(v for k, v in bm.items() if k not in m or m[k] <= 0) / before
        out["new_source_share"] = new
        out["silent_source_share"] = silent
        out["n_sources_change"] = change

    statuses: list[str] = []
    reasons: list[list[str]] = []
    uncovered_text = _uncovered_texts(cells, covered)
    records = out.to_dict("records")
    for i, rec in enumerate(records):
        if not covered[i]:
            statuses.append("uncovered")
            reasons.append([uncovered_text[i]])
            continue
        rec["top_source"] = "" if pd.isna(rec["top_source"]) else str(rec["top_source"])
        rec["source_mix_known"] = bool(mix_known[i])
        if base_mix is not None and regions[i] in base_mix:
            rec["baseline_mix_known"] = base_mix[regions[i]][0] is not None
        status, why = judge(rec, r)
        statuses.append(status)
        reasons.append(why)
    out.insert(4, "status", pd.array(statuses, dtype="string"))
    out.insert(5, "reasons", pd.Series(reasons, index=out.index, dtype=object))
    logger.debug("coverage: %s", out["status"].value_counts().to_dict())
    return out


def _baseline_mixes(
    cells: pd.DataFrame, baseline: pd.DataFrame | tuple[str, str] | None
) -> dict[str, tuple[dict[str, float] | None, float]] | None:
    """Each region's pooled baseline source mix and number of distinct sources."""
    if baseline is None:
        return None
    if isinstance(baseline, tuple | list) and len(baseline) == 2:
        from ..periods import period_range

        kind = cells.attrs.get("period")
        labels = set(period_range(str(baseline[0]), str(baseline[1]), kind))
        if not labels:
            raise TrendsError(f"baseline={baseline!r} holds no period (is it reversed?)")
        base = cells[cells["period"].astype("string").isin(labels)]
    elif isinstance(baseline, pd.DataFrame):
        base = as_cells(baseline, name="baseline")
    else:
        raise TrendsError(
            f"baseline={baseline!r} must be None, a cell table, or (first, last) period labels"
        )
    out: dict[str, tuple[dict[str, float] | None, float]] = {}
    for region, group in base.groupby("region", sort=True, observed=True):
        inside = group[covered_mask(group)]
        mix = pooled_sources(inside)
        n, _ = distinct_sources(inside, mix)
        out[str(region)] = (mix, n)
    return out


def _uncovered_texts(cells: pd.DataFrame, covered: np.ndarray) -> list[str]:
    """Per cell, 'outside the data set's coverage (starts 2016-01)' or similar, using
    the covered periods of the cell's region (of the whole table if it has none)."""
    texts = [""] * len(cells)
    if covered.all():
        return texts
    regions = cells["region"].astype("string").to_numpy()
    starts = cells["period_start"].to_numpy()
    periods = cells["period"].astype("string").to_numpy()

    def span(mask: np.ndarray) -> tuple[Any, Any, str, str] | None:
        if not mask.any():
            return None
        idx = np.flatnonzero(mask)
        lo, hi = idx[np.argmin(starts[idx])], idx[np.argmax(starts[idx])]
        return starts[lo], starts[hi], str(periods[lo]), str(periods[hi])

    whole = span(covered)
    for i in np.flatnonzero(~covered):
        s = span(covered & (regions == regions[i])) or whole
        if s is None:
            texts[i] = "outside the data set's coverage"
        elif starts[i] < s[0]:
            texts[i] = f"outside the data set's coverage (starts {s[2]})"
        elif starts[i] > s[1]:
            texts[i] = f"outside the data set's coverage (ends {s[3]})"
        else:
            texts[i] = f"outside the data set's coverage ({s[2]} to {s[3]})"
    return texts
