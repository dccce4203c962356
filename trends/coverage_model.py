"""Is the reporting good enough to support a conclusion? Coverage status of cells.

A fall in reported incidents can be a real fall, or an outlet going quiet. This
module labels cells, and the windows behind a result, with one of four statuses:

``adequate``
    enough events, from enough sources, precisely enough located and dated.
``thin``
    usable as a description, but a statistical verdict on it could be produced by
    the reporting itself (few events, one outlet, coarse data, a changed source mix).
``insufficient``
    too few (effective) events for any rate to be stable.
``uncovered``
    outside the data set's coverage window: not a zero, not data at all.

Default rules (each a parameter of :class:`CoverageRules`, with the reference behind it):

* ``insufficient``: effective events below 10 (``min_effective_events``), or a
  relative width of the exact 95% interval above 160% (``max_relative_width``).
  National Center for Health Statistics (2023), *Data presentation standards for
  rates and counts* (NCHS Vital Health Stat 2): a rate is not presented when it rests
  on fewer than 10 events or its confidence interval is wider than 160% of it.
* ``thin``: fewer than 20 events (``min_events``; the "unstable rate" flag of CDC's
  WISQARS and NCHS vital statistics, which mark rates on fewer than 20 deaths as
  unreliable); relative standard error of 30% or more (``max_rse``; the NCHS/NCHS
  Health, United States reliability rule); a single distinct source
  (``min_sources`` = 2); more than half the events with location coarser than the
  region or dates coarser than the period (``max_coarse_share``); a source-mix change
  above 50% against a baseline (``max_mix_change``).
* ``uncovered``: outside the coverage window (``covered`` is False, or ``count`` is
  missing).

Measures a data set does not have (no source names, unknown number of sources) are
not evidence of thin coverage: the status rests on what is known, and the reasons
say what was unknown.

Counts that are overdispersed carry less information than their number suggests:
with dispersion ``phi`` (variance / mean), ``effective events = events / phi``, and
the relative standard error and exact interval are computed on effective events
(the quasi-Poisson scaling; McCullagh & Nelder 1989, *Generalized Linear Models*,
section 4.5).

The exact interval is Garwood's (1936, *Biometrika* 28:437): for ``x`` events,
``[gamma.ppf(a/2, x), gamma.ppf(1 - a/2, x + 1)]``.

Interface for the other statistics (compare, trend, joinpoints):
:func:`assess_window`, :func:`gate`, :func:`warn_withheld`, :func:`source_activity`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .cells import as_cells, source_counts
from .errors import CellsError, ThinCoverageWarning, TrendsError

__all__ = [
    "STATUSES",
    "PRESETS",
    "CoverageRules",
    "assess_window",
    "gate",
    "warn_withheld",
    "resolve_rules",
    "window_measures",
]

logger = logging.getLogger(__name__)

#: Statuses from best to worst.
STATUSES = ("adequate", "thin", "insufficient", "uncovered")
_RANK = {s: i for i, s in enumerate(STATUSES)}

INCONCLUSIVE = "inconclusive (thin coverage)"
NOT_COVERED = "not covered"


@dataclass(frozen=True)
class CoverageRules:
    """Thresholds of the coverage rules. ``None`` switches a rule off.

    Attributes
    ----------
    min_effective_events : float or None
        ``insufficient`` when effective events (events / dispersion) are below this.
        Default 10 (NCHS data presentation standards for rates and counts).
    max_relative_width : float or None
        ``insufficient`` when the exact interval's width divided by the count exceeds
        this (1.6 = 160%; NCHS data presentation standards for rates and counts).
    min_events : float or None
        ``thin`` below this many events. Default 20 (CDC WISQARS / NCHS "unstable
        rate" flag).
    max_rse : float or None
        ``thin`` when the relative standard error ``sqrt(dispersion / events)`` is at
        or above this. Default 0.30 (NCHS reliability criterion).
    min_sources : int or None
        ``thin`` when fewer distinct sources than this feed the events. Default 2
        (a single outlet cannot be cross-checked; its silence looks like a fall).
    max_coarse_share : float or None
        ``thin`` when more than this share of the events has location coarser than
        the region, or dates coarser than the period. Default 0.5.
    max_mix_change : float or None
        ``thin`` when, against the baseline, more than this share of the events
        comes from sources absent in the baseline, or more than this share of the
        baseline's events came from sources now silent. Default 0.5.
    level : float
        Confidence level of the exact interval behind ``max_relative_width``.
    """

    min_effective_events: float | None = 10.0
    max_relative_width: float | None = 1.6
    min_events: float | None = 20.0
    max_rse: float | None = 0.30
    min_sources: int | None = 2
    max_coarse_share: float | None = 0.5
    max_mix_change: float | None = 0.5
    level: float = 0.95


#: Named rule sets. ``default`` is the issue's rule set. ``nchs`` keeps only the
#: count-based NCHS rules (for data without source information, or to reproduce NCHS
#: flagging). ``strict`` and ``lenient`` move every threshold one notch.
PRESETS: dict[str, CoverageRules] = {
    "default": CoverageRules(),
    "nchs": CoverageRules(min_sources=None, max_coarse_share=None, max_mix_change=None),
    "strict": CoverageRules(
        min_effective_events=20.0,
        max_relative_width=1.0,
        min_events=50.0,
        max_rse=0.20,
        min_sources=3,
        max_coarse_share=0.25,
        max_mix_change=0.30,
    ),
    "lenient": CoverageRules(
        min_effective_events=5.0,
        max_relative_width=2.5,
        min_events=10.0,
        max_rse=0.50,
        min_sources=None,
        max_coarse_share=0.75,
        max_mix_change=0.75,
    ),
}
_FIELDS = tuple(f.name for f in dataclasses.fields(CoverageRules))


def resolve_rules(rules: str | CoverageRules | Mapping[str, Any] = "default", **overrides: Any):
    """Turn ``rules`` (a preset name, a :class:`CoverageRules`, or a dict) and keyword
    overrides into one :class:`CoverageRules`; unknown names raise with the valid ones."""
    if isinstance(rules, CoverageRules):
        base = rules
    elif isinstance(rules, str):
        if rules not in PRESETS:
            raise TrendsError(f"rules={rules!r} is not one of {', '.join(map(repr, PRESETS))}")
        base = PRESETS[rules]
    elif isinstance(rules, Mapping):
        overrides = {**dict(rules), **overrides}
        base = PRESETS["default"]
    else:
        raise TrendsError(
            f"rules={rules!r} must be a preset name ({', '.join(map(repr, PRESETS))}), "
            "a CoverageRules or a dict of thresholds"
        )
    bad = [k for k in overrides if k not in _FIELDS]
    if bad:
        raise TrendsError(f"unknown coverage rule(s) {bad}; valid: {', '.join(_FIELDS)}")
    for key, value in overrides.items():
        if value is None and key != "level":
            continue
        if not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(
            float(value)
        ):
            raise TrendsError(f"{key}={value!r} must be a finite number or None")
        if float(value) < 0:
            raise TrendsError(f"{key}={value!r} must not be negative")
    if "level" in overrides and not 0 < float(overrides["level"]) < 1:
        raise TrendsError(f"level={overrides['level']!r} must lie strictly between 0 and 1")
    return dataclasses.replace(base, **overrides)


# --------------------------------------------------------------------------- measures


def exact_relative_width(events: float, level: float = 0.95) -> float:
    """Width of Garwood's exact interval for ``events`` divided by ``events``.

    Non-integer event numbers (effective events, split counts) use the gamma form
    of the interval. Zero events give ``inf``.
    """
    if not events > 0:
        return math.inf
    alpha = 1.0 - level
    low = float(stats.gamma.ppf(alpha / 2, events))
    high = float(stats.gamma.ppf(1 - alpha / 2, events + 1))
    return (high - low) / events


def _num(value: Any) -> float:
    """A float, NaN for missing."""
    if value is None or value is pd.NA:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _col_sum(cells: pd.DataFrame, col: str) -> float:
    """Sum of a measure over cells; NaN when the column is absent or wholly missing."""
    if col not in cells.columns:
        return math.nan
    values = pd.to_numeric(cells[col], errors="coerce")
    if values.notna().sum() == 0:
        return math.nan
    return float(values.sum())


def _covered_mask(cells: pd.DataFrame) -> np.ndarray:
    """True where a cell is inside the coverage window (missing ``covered`` = covered;
    a missing count means outside)."""
    if "covered" in cells.columns:
        cov = cells["covered"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    else:
        cov = np.ones(len(cells), dtype=bool)
    counts = pd.to_numeric(cells["count"], errors="coerce")
    return cov & counts.notna().to_numpy()


def _pooled_sources(cells: pd.DataFrame) -> dict[str, float] | None:
    """The source mix of a set of cells, summed; None if any cell with events has an
    unknown mix (then the pooled mix would be wrong)."""
    mixes = source_counts(cells)
    events = _events(cells)
    total: dict[str, float] = {}
    for mix, ev in zip(mixes, events, strict=True):
        if mix is None:
            if ev > 0 or math.isnan(ev):
                return None
            continue
        for key, value in mix.items():
            if value > 0:
                total[key] = total.get(key, 0.0) + value
    return total


def _events(cells: pd.DataFrame) -> np.ndarray:
    """Events per cell: the ``events`` column where known, else ``count``."""
    count = pd.to_numeric(cells["count"], errors="coerce").to_numpy(dtype=float)
    if "events" in cells.columns:
        ev = pd.to_numeric(cells["events"], errors="coerce").to_numpy(dtype=float)
        return np.where(np.isnan(ev), count, ev)
    return count


def _distinct_sources(cells: pd.DataFrame, mix: dict[str, float] | None) -> tuple[float, str]:
    """Distinct sources behind the cells, and the top source (``""`` if unknown).

    From the pooled source mix when known; else from ``n_sources`` and ``top_source``:
    one cell's ``n_sources`` when only one cell has events, the maximum as a lower
    bound when that is already 2 or more, 1 when every cell with events has one
    source and all name the same ``top_source``; NaN when it cannot be told.
    """
    if mix is not None:
        top = max(sorted(mix), key=lambda k: mix[k]) if mix else ""
        return float(len(mix)), top
    events = _events(cells)
    has = events > 0
    if "n_sources" not in cells.columns or not has.any():
        return math.nan, ""
    n = pd.to_numeric(cells["n_sources"], errors="coerce").to_numpy(dtype=float)[has]
    tops = (
        cells["top_source"].astype("string").to_numpy()[has]
        if "top_source" in cells.columns
        else np.array([pd.NA] * int(has.sum()), dtype=object)
    )
    if np.isnan(n).any():
        known = n[~np.isnan(n)]
        if known.size and known.max() >= 2:
            return float(known.max()), ""  # at least that many
        return math.nan, ""
    top = str(tops[0]) if tops.size and tops[0] is not pd.NA and not pd.isna(tops[0]) else ""
    if n.size == 1:
        return float(n[0]), top
    if n.max() >= 2:
        return float(n.max()), ""
    names = {str(t) for t in tops if t is not pd.NA and not pd.isna(t)}
    if len(names) == 1 and all(not pd.isna(t) for t in tops):
        return 1.0, names.pop()
    return math.nan, ""


def window_measures(
    cells: pd.DataFrame,
    *,
    tested_count: float | None = None,
    dispersion: float = 1.0,
    baseline: pd.DataFrame | None = None,
    level: float = 0.95,
) -> dict[str, Any]:
    """The coverage measures of a set of cells taken together (one cell, or a window).

    Count-based measures use ``tested_count`` (default: the covered cells' total
    count); source-based measures pool the covered cells. Returns a dict with the
    keys of :func:`coverage`'s measure columns.
    """
    covered = _covered_mask(cells)
    inside = cells[covered]
    count = (
        float(pd.to_numeric(inside["count"]).sum()) if tested_count is None else float(tested_count)
    )
    phi = float(dispersion)
    effective = count / phi
    events = _events(inside)
    n_events = float(events.sum()) if events.size else 0.0
    mix = _pooled_sources(inside)
    n_sources, top = _distinct_sources(inside, mix)
    top_events = math.nan
    if mix is not None and mix:
        top_events = mix[top]
    elif top and "top_source_events" in inside.columns and len(inside) >= 1:
        tops = inside["top_source"].astype("string")
        top_events = _col_sum(inside[tops == top], "top_source_events")

    def share(col: str, denom: float) -> float:
        num = _col_sum(inside, col)
        return num / denom if denom > 0 and not math.isnan(num) else math.nan

    unknown = _col_sum(inside, "events_unknown_sources")
    known_denom = n_events - (0.0 if math.isnan(unknown) else unknown)
    out: dict[str, Any] = {
        "count": count,
        "events": n_events,
        "dispersion": phi,
        "effective_events": effective,
        "rse": math.sqrt(1.0 / effective) if effective > 0 else math.inf,
        "relative_width": exact_relative_width(effective, level),
        "n_sources": n_sources,
        "top_source": top,
        "top_source_share": top_events / n_events if n_events > 0 else math.nan,
        "single_source_share": share("events_single_source", known_denom),
        "unknown_sources_share": share("events_unknown_sources", n_events),
        "coarse_location_share": share("events_coarse_location", n_events),
        "coarse_date_share": share("events_coarse_date", n_events),
        "new_source_share": math.nan,
        "silent_source_share": math.nan,
        "n_sources_change": math.nan,
        "n_cells": int(len(cells)),
        "n_uncovered": int((~covered).sum()),
        "source_mix_known": mix is not None,
    }
    if baseline is not None:
        base_in = baseline[_covered_mask(baseline)]
        base_mix = _pooled_sources(base_in)
        if mix is not None and base_mix is not None:
            now = sum(mix.values())
            before = sum(base_mix.values())
            if now > 0:
                out["new_source_share"] = sum(v for k, v in mix.items() if k not in base_mix) / now
            if before > 0:
                out["silent_source_share"] = (
                    sum(v for k, v in base_mix.items() if k not in mix) / before
                )
        base_n, _ = _distinct_sources(base_in, base_mix)
        out["n_sources_change"] = n_sources - base_n
        out["baseline_mix_known"] = base_mix is not None
    return out


# --------------------------------------------------------------------------- judgement


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _fmt(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def judge(m: Mapping[str, Any], rules: CoverageRules) -> tuple[str, list[str]]:
    """Status and reasons from measures (as made by :func:`window_measures`).

    Every rule that fires adds a reason; the status is the worst. Unknown measures
    add a reason saying so and never worsen the status.
    """
    status = "adequate"
    reasons: list[str] = []

    def hit(level: str, reason: str) -> None:
        nonlocal status
        if _RANK[level] > _RANK[status]:
            status = level
        reasons.append(reason)

    count, eff, phi = m["count"], m["effective_events"], m["dispersion"]
    # count-based rules
    if rules.min_effective_events is not None and eff < rules.min_effective_events:
        if phi != 1:
            hit(
                "insufficient",
                f"{_fmt(eff)} effective events (dispersion {phi:.2f}), "
                f"fewer than {_fmt(rules.min_effective_events)}",
            )
        else:
            hit(
                "insufficient",
                f"{_fmt(count)} events, fewer than {_fmt(rules.min_effective_events)}",
            )
    if rules.max_relative_width is not None and m["relative_width"] > rules.max_relative_width:
        width = "infinite" if math.isinf(m["relative_width"]) else _pct(m["relative_width"])
        hit(
            "insufficient",
            f"relative width of the exact interval {width}, above {_pct(rules.max_relative_width)}",
        )
    if rules.min_events is not None and count < rules.min_events:
        hit("thin", f"{_fmt(count)} events, fewer than {_fmt(rules.min_events)}")
    if rules.max_rse is not None and m["rse"] >= rules.max_rse:
        rse = "infinite" if math.isinf(m["rse"]) else _pct(m["rse"])
        hit("thin", f"relative standard error {rse}, at least {_pct(rules.max_rse)}")
    # source-based rules: only where there are events to have sources
    if m["events"] > 0:
        n = m["n_sources"]
        if rules.min_sources is not None and not math.isnan(n) and n < rules.min_sources:
            who = f" ({m['top_source']})" if m["top_source"] and n == 1 else ""
            word = "source" if n == 1 else "sources"
            hit("thin", f"{_fmt(n)} distinct {word}{who}")
        if rules.max_coarse_share is not None:
            loc, dat = m["coarse_location_share"], m["coarse_date_share"]
            if not math.isnan(loc) and loc > rules.max_coarse_share:
                hit("thin", f"{_pct(loc)} of events located only coarser than the region")
            if not math.isnan(dat) and dat > rules.max_coarse_share:
                hit("thin", f"{_pct(dat)} of events dated less precisely than the period")
        if rules.max_mix_change is not None:
            new, silent = m["new_source_share"], m["silent_source_share"]
            if not math.isnan(new) and new > rules.max_mix_change:
                hit(
                    "thin",
                    f"source mix changed: {_pct(new)} of events from outlets absent "
                    "in the baseline",
                )
            if not math.isnan(silent) and silent > rules.max_mix_change:
                hit(
                    "thin",
                    f"source mix changed: {_pct(silent)} of the baseline's events came "
                    "from outlets now silent",
                )
        # what was unknown (never worsens the status)
        if math.isnan(n):
            reasons.append("number of distinct sources unknown")
        unknown = m["unknown_sources_share"]
        if not math.isnan(unknown) and unknown > 0:
            reasons.append(f"number of sources unknown for {_pct(unknown)} of events")
        if "baseline_mix_known" in m and not (m["source_mix_known"] and m["baseline_mix_known"]):
            reasons.append("source names unknown: source-mix change not assessed")
    return status, reasons


def _uncovered_reason(cells: pd.DataFrame, covered: np.ndarray) -> str:
    """'outside the data set's coverage (starts 2016-01)' and the like."""
    if covered.any():
        inside = cells[covered].sort_values("period_start")
        first, last = str(inside["period"].iloc[0]), str(inside["period"].iloc[-1])
        out_starts = cells.loc[~covered, "period_start"]
        before = bool((out_starts < inside["period_start"].iloc[0]).any())
        after = bool((out_starts > inside["period_start"].iloc[-1]).any())
        if before and not after:
            return f"outside the data set's coverage (starts {first})"
        if after and not before:
            return f"outside the data set's coverage (ends {last})"
        return f"outside the data set's coverage ({first} to {last})"
    return "outside the data set's coverage"


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
        Variance / mean of the counts (1 = Poisson); must be positive.
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
    phi = _check_dispersion(dispersion)
    cells = _as_window(cells, "cells")
    if baseline is not None:
        baseline = _as_window(baseline, "baseline")
    covered = _covered_mask(cells)
    if len(cells) == 0:
        return "uncovered", ["no cells in the window"]
    if not covered.any():
        return "uncovered", [_uncovered_reason(cells, covered)]
    m = window_measures(
        cells, tested_count=tested_count, dispersion=phi, baseline=baseline, level=r.level
    )
    status, reasons = judge(m, r)
    if not covered.all():
        n_out = int((~covered).sum())
        reasons.append(f"{n_out} of {len(cells)} periods outside the data set's coverage")
    return status, reasons


def _as_window(cells: pd.DataFrame, name: str) -> pd.DataFrame:
    if not isinstance(cells, pd.DataFrame):
        raise CellsError(f"{name} must be a pandas DataFrame, got {type(cells).__name__}")
    if len(cells) == 0:
        return cells
    return as_cells(cells, name=name)


def _check_dispersion(dispersion: Any) -> float:
    phi = _num(dispersion)
    if not (phi > 0 and math.isfinite(phi)):
        raise TrendsError(f"dispersion={dispersion!r} must be a positive finite number")
    return phi


def gate(verdict: str, status: str) -> str:
    """The verdict after coverage.

    ``uncovered`` -> ``"not covered"``; ``thin`` or ``insufficient`` ->
    ``"inconclusive (thin coverage)"``; ``adequate`` -> ``verdict`` unchanged.
    """
    if status not in _RANK:
        raise TrendsError(f"status={status!r} is not one of {', '.join(map(repr, STATUSES))}")
    if status == "uncovered":
        return NOT_COVERED
    if status in ("thin", "insufficient"):
        return INCONCLUSIVE
    return verdict


def warn_withheld(n_withheld: int, n_total: int, what: str) -> None:
    """Issue one :class:`~trends.errors.ThinCoverageWarning` saying how many of
    ``n_total`` ``what`` verdicts were withheld (nothing when none was)."""
    if n_withheld <= 0:
        return
    warnings.warn(
        f"{n_withheld} of {n_total} {what} verdicts withheld: coverage is thin, "
        "insufficient or missing (see the coverage and coverage_reasons columns); "
        "estimates and p-values are still shown",
        ThinCoverageWarning,
        stacklevel=3,
    )
