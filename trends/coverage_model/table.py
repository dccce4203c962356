"""coverage(): the status of every cell, with its reasons and measures."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..cells import as_cells, source_counts
from ..errors import OptionError
from .arrays import covered_mask, divide, optional_column
from .judge import judge, reliability
from .measures import cell_events, distinct_sources, pooled_sources, relative_widths
from .mix import mix_change
from .rules import CoverageRules, resolve_rules
from .windows import check_dispersion, per_region

logger = logging.getLogger(__name__)


def coverage(
    cells: pd.DataFrame,
    *,
    rules: str | CoverageRules | Mapping[str, Any] = "default",
    baseline: pd.DataFrame | tuple[str, str] | None = None,
    dispersion: float | pd.Series = 1.0,
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
    dispersion : float or Series by region, default 1
        Variance / mean of the counts, for the reliability measures (``rse``,
        ``effective_events``) alone: a cell describes what was reported in that period,
        and the month-to-month swings of a conflict are signal there, not noise. A
        test's moderated dispersion (``compare()``'s ``dispersion`` column, say) can
        be passed as a Series indexed by region. Below 1 is taken as 1.
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

    if isinstance(dispersion, pd.Series):
        phi = per_region(dispersion, regions.astype(object), "dispersion")
    else:
        phi = np.full(n, check_dispersion(dispersion))
    phi = np.maximum(phi, 1.0)

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
            "new_sources": pd.array([pd.NA] * n, dtype="string"),
            "silent_sources": pd.array([pd.NA] * n, dtype="string"),
            "n_sources_expected": np.nan,
            "n_sources_change": np.nan,
        }
    )
    out.loc[out["top_source"] == "", "top_source"] = pd.NA

    base_mix = _baseline_mixes(cells, baseline)
    mix_known = np.array([m is not None for m in mixes])
    if base_mix is not None:
        _mix_columns(out, mixes, regions, n_src, base_mix, r.mix_alpha)

    statuses: list[str] = []
    reasons: list[list[str]] = []
    reliable = np.ones(n, dtype=bool)
    unreliable_why = [""] * n
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
        for key in ("silent_sources", "new_sources"):
            rec[key] = "" if pd.isna(rec[key]) else rec[key]
        status, why = judge(rec, r)
        statuses.append(status)
        reasons.append(why)
        reliable[i], unreliable_why[i] = reliability(rec, r)
    out.insert(4, "status", pd.array(statuses, dtype="string"))
    out.insert(5, "reasons", pd.Series(reasons, index=out.index, dtype=object))
    out["reliable"] = pd.array(np.where(covered, reliable, None), dtype="boolean")
    out["reliability"] = pd.array(unreliable_why, dtype="string")
    logger.debug("coverage: %s", out["status"].value_counts().to_dict())
    return out


def _mix_columns(
    out: pd.DataFrame,
    mixes: list,
    regions: np.ndarray,
    n_src: np.ndarray,
    base_mix: dict[str, tuple[dict[str, float] | None, float]],
    alpha: float,
) -> None:
    """Each cell's outlets silent or new beyond chance against its region's baseline."""
    keys = ("new_source_share", "silent_source_share", "n_sources_expected", "n_sources_change")
    cols = {k: np.full(len(out), np.nan) for k in keys}
    names: dict[str, list] = {k: [pd.NA] * len(out) for k in ("new_sources", "silent_sources")}
    for i, m in enumerate(mixes):
        if regions[i] not in base_mix:
            continue
        bm, bn = base_mix[regions[i]]
        cols["n_sources_change"][i] = n_src[i] - bn
        if m is None or bm is None:
            continue
        change = mix_change(bm, m, alpha=alpha)
        cols["new_source_share"][i] = change.new_share
        cols["silent_source_share"][i] = change.silent_share
        cols["n_sources_expected"][i] = change.expected_sources
        names["new_sources"][i] = "; ".join(change.new)
        names["silent_sources"][i] = "; ".join(change.silent)
    for key, values in cols.items():
        out[key] = values
    for key, values in names.items():
        out[key] = pd.array(values, dtype="string")


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
            raise OptionError(f"baseline={baseline!r} holds no period (is it reversed?)")
        base = cells[cells["period"].astype("string").isin(labels)]
    elif isinstance(baseline, pd.DataFrame):
        base = as_cells(baseline, name="baseline")
    else:
        raise OptionError(
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
