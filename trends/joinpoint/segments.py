"""The rows of a :func:`~trends.joinpoints` result: one per segment of each fitted
region, and one saying why for a region that could not be fitted; which estimates the
data can support.

An APC the data cannot support is reported as ``not estimable``, its estimate, bounds
and p-value missing and the reason in the notes (DESIGN.md, "Verdicts"; issue 10):

* the fitted rate falls to 0 at an end of the segment (fewer than :data:`ZERO_MEAN`
  expected events in a period: a run of zero counts where the segment starts rising or
  ends falling). The Poisson maximum likelihood then lies at a rate of 0, where the
  slope is infinite; IRLS stops at some huge slope (an APC of 4.7e125 %/yr for Maysan,
  Iraq, 1989-1991), a number of no meaning;
* the APC, or a bound of its interval, is infinite or overflows;
* a bound lies beyond +-:data:`MAX_APC` %/yr (an APC's lower bound cannot pass
  -100 %/yr, so in practice the upper bound), the limit issue 10 sets: an interval
  that wide says the data cannot pin the slope down;
* the estimate lies outside its own interval (the resampled fits do not support it).

The whole-series AAPC is held to the same rules, and is not estimable when one of the
region's segments is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..verdicts import INCONCLUSIVE, NOT_COVERED, NOT_ESTIMABLE, gate
from .intervals import aapc_from, fit_record, segment_apcs

__all__ = [
    "COLUMNS",
    "MAX_APC",
    "ZERO_MEAN",
    "failed_row",
    "region_rows",
    "series_problem",
    "unfitted_row",
    "unsupported",
]

#: The columns of a joinpoints() result, in order.
COLUMNS = [
    "region", "segment", "segment_start", "segment_end", "segment_start_period",
    "segment_end_period", "n_joinpoints", "apc", "apc_low", "apc_high", "pvalue",
    "aapc", "aapc_low", "aapc_high", "interval", "method", "parameters", "selection",
    "selection_detail",
    "coverage", "coverage_reasons", "verdict", "note",
]  # fmt: skip

#: Largest APC bound (%/yr, either sign) an estimate is shown with.
MAX_APC = 1000.0
#: Expected events in a period below which a fitted rate counts as 0.
ZERO_MEAN = 1e-6


def series_problem(g: pd.DataFrame) -> tuple[str, str] | None:
    """Why a region's series cannot be fitted at all, or None."""
    if len(g) == 0:
        return "not covered", "no covered cells (every count is missing)"
    if (g["exposure"] <= 0).all() or g["exposure"].isna().all():
        return "not covered", "no exposure in any covered cell: no rate to model"
    if (g["exposure"] <= 0).any():
        return "thin", (
            f"{int((g['exposure'] <= 0).sum())} covered cells have no exposure; "
            "drop them or give their exposure"
        )
    if len(g) < 3:
        return "thin", f"{len(g)} covered periods: a trend needs at least 3"
    if (g["count"] == 0).all():
        return "thin", "every count is zero: a log-linear trend has no finite estimate"
    return None


def unfitted_row(base: dict, g: pd.DataFrame, rules: Any) -> dict:
    """The one row of a region whose series cannot be fitted (:func:`series_problem`),
    saying why."""
    from ..coverage_model import assess_window

    problem = series_problem(g)
    status, reasons = (
        assess_window(g, rules=rules) if len(g) else ("uncovered", ["no covered cells"])
    )
    verdict = NOT_COVERED if problem[0] == "not covered" else gate("stable", status)
    if verdict == "stable":
        verdict = INCONCLUSIVE
    return _empty_row(base, g, status, reasons, verdict, problem[1])


def failed_row(base: dict, g: pd.DataFrame, rules: Any, reason: str) -> dict:
    """The one row of a region whose search or fit failed: ``not estimable``, the
    reason in the notes."""
    from ..coverage_model import assess_window

    status, reasons = assess_window(g, rules=rules)
    verdict = NOT_COVERED if status == "uncovered" else NOT_ESTIMABLE
    return _empty_row(base, g, status, reasons, verdict, reason)


def unsupported(apc: float, low: float, high: float, ends: Any = None) -> str:
    """Why the data cannot support an APC (or AAPC) and its interval, or ``""``.

    ``ends``: the fitted expected counts at the ends of the segment (Poisson fits), or
    None. See the module docstring for the rules; the first that applies is given.
    """
    if ends is not None and np.min(ends) < ZERO_MEAN:
        return "the fitted rate falls to 0 at an end of the segment (a run of zero counts)"
    values = np.array([apc, low, high], dtype=float)
    if not np.isfinite(values).all():
        return "the APC or a bound of its interval is infinite (overflow)"
    if high > MAX_APC or low < -MAX_APC:
        return f"a bound of its interval lies beyond +-{MAX_APC:,.0f} %/yr"
    if not low <= apc <= high:
        return "the APC lies outside its own interval"
    return ""


def region_rows(
    base: dict, g: pd.DataFrame, selected: tuple, kind: str, settings: dict, rules: Any
) -> tuple[dict, list[dict]]:
    """A fitted region's record for :func:`~trends.aapc` and its rows, one per segment."""
    grid, series, k, detail, empirical = selected
    fit = series.fits[k]
    ppy, level = settings["ppy"], settings["level"]
    with np.errstate(all="ignore"):  # overflows become "not estimable" below
        record = fit_record(fit, grid.x, ppy, g, kind)
        whole = aapc_from(record, grid.x[0], grid.x[-1], level)
        if empirical is None:
            apcs = segment_apcs(fit, ppy, level)
        else:
            apcs, low, high = empirical
            whole = {**whole, "aapc_low": low, "aapc_high": high}
    note = ""
    if series.k_max < settings["max_joinpoints"]:
        note = (
            f"{len(g)} covered periods allow at most {series.k_max} joinpoints "
            f"(asked for {settings['max_joinpoints']})"
        )
    edges = [0, *fit.knots.tolist(), len(g) - 1]
    means = fit.s**2 if settings["variance"] == "poisson" else None
    rows = []
    for j in range(k + 1):
        lo, hi = edges[j], edges[j + 1]
        ends = None if means is None else means[[lo, hi]]
        row = _segment_row(base, g, edges, j, apcs[j], ends, rules)
        rows.append({**row, "n_joinpoints": k, "selection_detail": detail, "note": note})
    whole = _checked_aapc(whole, rows)
    for row in rows:
        row.update(whole["values"])
        row["note"] = _joined(row["note"], row.pop("_why"), whole["why"])
    return record, rows


def _segment_row(
    base: dict, g: pd.DataFrame, edges: list[int], j: int, apc: tuple, ends: Any, rules: Any
) -> dict:
    """Segment ``j``'s row (``_why``: why its APC is not estimable, or empty)."""
    from ..coverage_model import assess_window

    lo, hi = edges[j], edges[j + 1]
    value, low, high, pvalue = (float(v) for v in apc)
    raw = "rising" if low > 0 else "falling" if high < 0 else "stable"
    status, reasons = assess_window(g.iloc[lo : hi + 1], rules=rules)
    previous = g.iloc[edges[j - 1] : lo + 1] if j > 0 else None
    status, reasons = _mix_gate(g.iloc[lo : hi + 1], previous, status, reasons, rules)
    verdict = gate(raw, status)
    why = unsupported(value, low, high, ends)
    if why:
        value = low = high = pvalue = np.nan
        verdict = NOT_COVERED if status == "uncovered" else NOT_ESTIMABLE
    return {
        **base,
        "segment": j + 1,
        "segment_start": g["period_start"].iloc[lo],
        "segment_end": g["period_end"].iloc[hi],
        "segment_start_period": str(g["period"].iloc[lo]),
        "segment_end_period": str(g["period"].iloc[hi]),
        "apc": value,
        "apc_low": low,
        "apc_high": high,
        "pvalue": pvalue,
        "coverage": status,
        "coverage_reasons": "; ".join(reasons),
        "verdict": verdict,
        "_why": why and f"APC not estimable: {why}",
    }


def _checked_aapc(whole: dict, rows: list[dict]) -> dict:
    """The whole-series AAPC columns, missing (with the reason) when not estimable."""
    values = {c: float(whole[c]) for c in ("aapc", "aapc_low", "aapc_high")}
    if any(row["_why"] for row in rows):
        why = "a segment's APC is not estimable"
    else:
        why = unsupported(values["aapc"], values["aapc_low"], values["aapc_high"])
    if why:
        values = dict.fromkeys(values, np.nan)
        why = f"AAPC not estimable: {why}"
    return {"values": values, "why": why}


def _mix_gate(
    segment: pd.DataFrame,
    previous: pd.DataFrame | None,
    status: str,
    reasons: list[str],
    rules: Any,
) -> tuple[str, list[str]]:
    """Add the source-mix rule to a segment's coverage, as :func:`trends.trend` does.

    A segment across which the main outlet went silent (or a new one started) measures
    the reporting as much as the events, and so does a joinpoint where that happened.
    So the segment's second half is judged against its first half (segments of at least
    4 periods), and the segment against the one before it, each with the source-mix
    rule of ``rules`` alone (:func:`trends.coverage_model.mix_rules`: the count rules
    judged the segment already). A change beyond the threshold makes the segment at
    least ``thin``. Cells without ``source_counts`` leave the status as it is.
    """
    from ..coverage_model import assess_window, mix_rules, worse

    mix = mix_rules(rules)
    if (
        mix.max_mix_change is None
        or "source_counts" not in segment.columns
        or segment["source_counts"].isna().all()
    ):
        return status, reasons
    half = len(segment) // 2
    checks = []
    if len(segment) >= 4:
        checks.append(("second half against the first", segment.iloc[half:], segment.iloc[:half]))
    if previous is not None:
        checks.append(("against the previous segment", segment, previous))
    for label, cells, baseline in checks:
        mix_status, mix_reasons = assess_window(cells, baseline=baseline, rules=mix)
        if mix_status != "adequate":
            status = worse(status, mix_status)
            reasons = [*reasons, *(f"{label}: {r}" for r in mix_reasons)]
    return status, reasons


def _joined(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _empty_row(base, g, status, reasons, verdict, note) -> dict:
    row = dict.fromkeys(COLUMNS, np.nan)
    row.update(base)
    row.update({
        "segment": 1, "n_joinpoints": pd.NA, "selection_detail": "",
        "segment_start": g["period_start"].iloc[0] if len(g) else pd.NaT,
        "segment_end": g["period_end"].iloc[-1] if len(g) else pd.NaT,
        "segment_start_period": str(g["period"].iloc[0]) if len(g) else pd.NA,
        "segment_end_period": str(g["period"].iloc[-1]) if len(g) else pd.NA,
        "coverage": status, "coverage_reasons": "; ".join(reasons),
        "verdict": verdict, "note": note,
    })  # fmt: skip
    return row
