"""ACLED's published change rules: the Surge Tracker, the Threat Tracker, and Trendfinder's
change levels. Rules of thumb on percent changes, with no model and no p-value.

ACLED's definitions (ACLED, "Subnational Threat & Surge Trackers",
https://acleddata.com/early-warning-research-hub/subnational-threat-surge-tracker/, and
"ACLED Trendfinder", https://acleddata.com/trendfinder/, both read in 2025):

Surge Tracker
    An admin-1 unit is flagged when its violent events in the last week rose by 100% or
    more against the average number of events per week over the past month.
Threat Tracker
    Flagged when violence in the last month rose by 100% or more against the average
    per month over the past year (a later wording: the weekly average of the most
    recent month against the weekly average of the past year; the two agree).
    Both trackers are limited to units whose four-week average is at least one event,
    to keep a single event in a quiet unit from reading as a large percent change.
Trendfinder change levels
    The current week against a historical norm: the average of the four weeks before
    it ("previous month") or of the 52 weeks before it ("previous year"). Large increase:
    more than +25%; moderate increase: +10% to +25%; limited change: -25% to +10%;
    large decrease: less than -25%. Units with two events or fewer on average in the
    norm and five or fewer in the current week are "limited change" (low activity).

What is implemented here, where ACLED's text leaves a choice (our reading):

* "The past month" and "the past year" are the periods *before* the one judged (for
  weekly cells: the 4 and 52 weeks before; for monthly cells: the month before, and
  the 12 months before), as Trendfinder states for its norm. For weekly cells the
  Threat Tracker compares the mean of the 4 weeks ending with the judged week against
  the mean of the 52 weeks before those; for monthly cells the judged month against
  the 12 before it. Quarterly and yearly cells have no ACLED definition for the two
  trackers (an :class:`~trends.errors.OptionError` says so; ``baseline_periods`` sets the
  baseline length explicitly); Trendfinder's "previous year" norm is 4 quarters or 1
  year for them.
* "Increase of 100% or more" is ``observed >= 2 * baseline mean`` (inclusive), and the
  floor "four-week average of at least one" is applied to the baseline: at least
  ``floor`` events per 7 days of exposure, averaged over the baseline (for monthly
  cells, about 4.3 events a month). With a baseline mean of 0 the percent change is
  infinite and the floor withholds the flag.
* Trendfinder bands: ``change > 25``: large increase; ``10 < change <= 25``: moderate;
  ``-25 <= change <= 10``: limited; ``change < -25``: large decrease; the low-activity
  thresholds (2 and 5 events) apply to the counts of the cells as given.

Columns: ``expected`` is the baseline mean; ``score`` the percent change; ``upperbound``
the count from which the flag is raised (surge, threat: inclusive) or above which the
change is a large increase (trendfinder); ``lowerbound`` (trendfinder) the count below
which it is a large decrease. ``alarm`` is the flag (trendfinder: a large increase, or
with ``direction="low"`` a large decrease); trendfinder adds the ``band``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ..checks import check_choice, check_count, check_number
from ._common import TOO_SHORT, Detection

__all__ = ["OPTIONS", "TRENDFINDER_OPTIONS", "defaults", "validate", "detect", "BANDS"]

logger = logging.getLogger(__name__)

OPTIONS = ("baseline_periods", "recent_periods", "increase", "floor")
TRENDFINDER_OPTIONS = ("norm", "baseline_periods", "low_norm", "low_current")
BANDS = ("large increase", "moderate increase", "limited change", "large decrease")

# periods of one week / month / year of each kind (None: ACLED has no such window)
_MONTH = {"week": 4, "month": 1, "quarter": None, "year": None}
_YEAR = {"week": 52, "month": 12, "quarter": 4, "year": 1}


def defaults(period: str, *, rule: str) -> dict[str, Any]:
    if rule == "trendfinder":
        norm = "month" if _MONTH[period] is not None else "year"
        return {"norm": norm, "baseline_periods": None, "low_norm": 2.0, "low_current": 5.0}
    month = _MONTH[period]  # None: ACLED's trackers have no window for these cells
    recent = month if rule == "threat" else 1
    return {
        "baseline_periods": None
        if month is None
        else (month if rule == "surge" else _YEAR[period]),
        "recent_periods": recent if recent is not None else 1,
        "increase": 100.0,
        "floor": 1.0,
    }


def validate(options: dict[str, Any], *, period: str, rule: str) -> dict[str, Any]:
    from ..errors import OptionError

    o = dict(options)
    if rule == "trendfinder":
        check_choice("norm", o["norm"], ("month", "year"))
        if o["baseline_periods"] is None:
            o["baseline_periods"] = (_MONTH if o["norm"] == "month" else _YEAR)[period]
            if o["baseline_periods"] is None:
                raise OptionError(
                    f"norm='month' has no meaning for {period} cells (ACLED's norm is the "
                    "four weeks before the week judged); use norm='year' or give "
                    "baseline_periods"
                )
        o["baseline_periods"] = check_count("baseline_periods", o["baseline_periods"], minimum=1)
        o["low_norm"] = check_number("low_norm", o["low_norm"], low=0)
        o["low_current"] = check_number("low_current", o["low_current"], low=0)
        return o
    if o["baseline_periods"] is None:
        raise OptionError(
            f"ACLED's {rule} tracker is defined on weeks and months, not on {period} cells; "
            "give baseline_periods (and recent_periods) to apply the rule anyway"
        )
    o["baseline_periods"] = check_count("baseline_periods", o["baseline_periods"], minimum=1)
    o["recent_periods"] = check_count("recent_periods", o["recent_periods"], minimum=1)
    o["increase"] = check_number("increase", o["increase"], low=0, low_open=True)
    o["floor"] = check_number("floor", o["floor"], low=0)
    return o


def _window_sum(v: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Sum of ``v[:, first:last + 1]`` per column (NaN-free ``v``), -inf-safe indices."""
    S, T = v.shape
    c = np.concatenate([np.zeros((S, 1)), np.cumsum(v, axis=1)], axis=1)
    return c[:, np.clip(last + 1, 0, T)] - c[:, np.clip(first, 0, T)]


def _baseline(y: np.ndarray, exposure: np.ndarray | None, lo: np.ndarray, hi: np.ndarray):
    """Mean count, number of known cells and days over columns ``lo..hi`` of each series."""
    known = np.isfinite(y)
    n = _window_sum(known.astype(float), lo, hi)
    total = _window_sum(np.where(known, y, 0.0), lo, hi)
    if exposure is None:
        days = n * 7.0
    else:
        days = _window_sum(np.where(known, np.nan_to_num(exposure), 0.0), lo, hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / n
    return mean, n, days, total


def detect(
    y: np.ndarray,
    *,
    period: str,
    options: dict[str, Any],
    rule: str,
    exposure: np.ndarray | None = None,
    lower: bool = True,
) -> Detection:
    """Apply ``rule`` (``surge``, ``threat`` or ``trendfinder``) to every series and period."""
    o = options
    out = Detection(y.shape)
    S, T = y.shape
    t = np.arange(T)
    recent = o.get("recent_periods", 1)
    base = o["baseline_periods"]
    need = base + recent - 1
    known = np.isfinite(y)
    early = known & (t[None, :] < need)
    out.mark(early, TOO_SHORT, f"needs {need} earlier periods for ACLED's {rule} baseline")
    lo, hi = t - recent + 1 - base, t - recent
    mean, n, days, total = _baseline(y, exposure, lo, hi)
    ok = known & ~early & (n >= 1)
    out.mark(known & ~early & (n < 1), TOO_SHORT, "no known count in the baseline")
    if rule == "trendfinder":
        _bands(y, mean, ok, o, out)
    else:
        recent_sum = _window_sum(np.where(known, y, 0.0), t - recent + 1, t)
        recent_mean = recent_sum / recent
        with np.errstate(divide="ignore", invalid="ignore"):
            change = 100.0 * (recent_mean / mean - 1.0)
            rate = 7.0 * total / days
        factor = 1 + o["increase"] / 100
        floor_ok = rate >= o["floor"]
        out.expected = np.where(ok, mean, np.nan)
        out.score = np.where(ok, change, np.nan)
        # the count this period needs for the recent mean to reach factor x baseline
        bound = np.maximum(factor * mean * recent - (recent_sum - np.where(known, y, 0.0)), 0.0)
        out.upperbound = np.where(ok, bound, np.nan)
        out.eligible = floor_ok
        low = ok & ~floor_ok
        out.add_note(
            low,
            f"baseline below {o['floor']:g} event a week (ACLED's low-activity floor): no flag",
        )
        with np.errstate(invalid="ignore"):
            out.alarm_high = ok & floor_ok & (recent_mean >= factor * mean)
        out.inclusive_bound = True
    out.computed = ok
    out.base_first = np.where(ok, np.maximum(lo, 0)[None, :], -1)
    out.base_last = np.where(ok, hi[None, :], -1)
    return out


def _bands(y: np.ndarray, norm: np.ndarray, ok: np.ndarray, o: dict, out: Detection) -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(norm > 0, 100.0 * (y / norm - 1.0), np.where(y > 0, np.inf, 0.0))
    quiet = (norm <= o["low_norm"]) & (y <= o["low_current"])
    band = np.full(y.shape, "", dtype=object)
    band[change > 25] = BANDS[0]
    band[(change > 10) & (change <= 25)] = BANDS[1]
    band[(change >= -25) & (change <= 10)] = BANDS[2]
    band[change < -25] = BANDS[3]
    band[quiet] = BANDS[2]
    band[~ok] = ""
    out.expected = np.where(ok, norm, np.nan)
    out.score = np.where(ok, change, np.nan)
    upper = np.where(norm <= o["low_norm"], np.maximum(1.25 * norm, o["low_current"]), 1.25 * norm)
    lower = np.where(norm <= o["low_norm"], 0.0, 0.75 * norm)
    out.upperbound = np.where(ok, upper, np.nan)
    out.lowerbound = np.where(ok, lower, np.nan)
    out.alarm_high = ok & (band == BANDS[0])
    out.alarm_low = ok & (band == BANDS[3])
    out.add_note(ok & quiet & (change != np.clip(change, -25, 10)), "low activity: limited change")
    out.extra["band"] = band
