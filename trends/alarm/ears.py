"""EARS C1, C2 and C3 (Hutwagner et al. 2003), as R's ``surveillance::earsC`` computes them.

C1
    Baseline: the ``baseline`` (7) periods just before ``t``. Upper bound ``mean + z *
    sd`` (sample standard deviation, at least ``min_sigma``), ``z`` the ``1 - alpha``
    normal quantile; score ``C1 = (y - mean) / sd``.
C2
    The same with the baseline lagged by two periods (``t - 9 .. t - 3`` for a
    baseline of 7), so a slowly building outbreak does not enter its own baseline.
C3
    Built on the C2 statistics of ``t`` and the two periods before it. Hutwagner et al.
    sum the three exceedances ``max(0, C2 - 1)`` and alarm when the sum reaches ``z``.
    ``surveillance`` 1.20.3 (``c3="surveillance"``, the default, so that our numbers are
    R's) reports the bound ``y_t + sd_t * (z - E_{t-1} - E_{t-2})`` (``E`` the
    exceedances; floored at 0) and alarms when ``y_t`` exceeds it, that is when the
    exceedances of the two *previous* periods alone sum to more than ``z``: the
    current period's own C2 does not enter. ``c3="hutwagner"`` gives the published
    statistic: the bound ``mean_t + sd_t * (1 + z - E_{t-1} - E_{t-2})`` is the count
    at which ``E_t + E_{t-1} + E_{t-2}`` reaches ``z``. The score is the sum R's alarm
    compares with ``z`` (``E_{t-1} + E_{t-2}``), or the published C3.

``alpha=None`` takes R's (and CDC's) defaults: 0.001 for C1 and C2, 0.025 for C3. With
``min_sigma = 0`` and a constant baseline the standard deviation is 0: C1 and C2 then
alarm on any count above the mean (as R does); C3's bound is undefined (R: NA) and the
cell has no result. Baseline cells whose count is unknown are left out (at least 3 of
the ``baseline`` periods must be known, R's smallest baseline); R gives NA there.

References
----------
Hutwagner L, Thompson W, Seeman GM, Treadwell T (2003). The bioterrorism preparedness
and response Early Aberration Reporting System (EARS). Journal of Urban Health
80(2 Suppl 1):i89-i96.

Fricker RD, Hegler BL, Dunfee DA (2008). Comparing syndromic surveillance detection
methods: EARS' versus a CUSUM-based methodology. Statistics in Medicine 27:3407-3429.

Salmon M, Schumacher D, Höhle M (2016). Monitoring count time series in R: aberration
detection in public health surveillance. Journal of Statistical Software 70(10)
(``surveillance::earsC``, version 1.20.3).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from scipy import stats

from ..checks import check_choice, check_count, check_number
from ._common import NOT_ESTIMABLE, TOO_SHORT, Detection

__all__ = ["OPTIONS", "defaults", "validate", "detect"]

logger = logging.getLogger(__name__)

OPTIONS = ("baseline", "min_sigma", "alpha", "c3")
MIN_BASELINE = 3  # earsC: "Minimum baseline to use is 3."


def defaults(period: str, *, variant: str) -> dict[str, Any]:
    return {"baseline": 7, "min_sigma": 0.0, "alpha": None, "c3": "surveillance"}


def validate(options: dict[str, Any], *, period: str, variant: str) -> dict[str, Any]:
    o = dict(options)
    o["baseline"] = check_count("baseline", o["baseline"], minimum=MIN_BASELINE)
    o["min_sigma"] = check_number("min_sigma", o["min_sigma"], low=0)
    if o["alpha"] is None:
        o["alpha"] = 0.025 if variant == "C3" else 0.001
    o["alpha"] = check_number("alpha", o["alpha"], low=0, high=1, low_open=True, high_open=True)
    check_choice("c3", o["c3"], ("surveillance", "hutwagner"))
    return o


def _moments(y: np.ndarray, lag: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, sample sd and number of known values of ``y[t - lag - size + 1 .. t - lag]``
    for every ``t`` (NaN where fewer than 3 are known or the window leaves the series)."""
    S, T = y.shape
    known = np.isfinite(y)
    v = np.where(known, y, 0.0)
    c0 = np.concatenate([np.zeros((S, 1)), np.cumsum(known, axis=1)], axis=1)
    c1 = np.concatenate([np.zeros((S, 1)), np.cumsum(v, axis=1)], axis=1)
    # centred second moment by a shifted sum (numerically safe for counts)
    shift = np.nanmedian(np.where(known, y, np.nan), axis=1, keepdims=True)
    shift = np.nan_to_num(shift)
    c2 = np.concatenate([np.zeros((S, 1)), np.cumsum((v - shift) ** 2 * known, axis=1)], axis=1)
    t = np.arange(T)
    hi = t - lag + 1  # exclusive end, in cumsum positions
    lo = hi - size
    inside = lo >= 0
    lo_c, hi_c = np.clip(lo, 0, T), np.clip(hi, 0, T)
    n = np.where(inside, c0[:, hi_c] - c0[:, lo_c], 0)
    s1 = c1[:, hi_c] - c1[:, lo_c]
    s2 = c2[:, hi_c] - c2[:, lo_c]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / n
        d = mean - shift
        var = (s2 - n * d * d) / (n - 1)
        sd = np.sqrt(np.maximum(var, 0.0))
    ok = inside & (n >= MIN_BASELINE)
    mean = np.where(ok, mean, np.nan)
    sd = np.where(ok, sd, np.nan)
    return mean, sd, n


def _exact_sd(y: np.ndarray, lag: int, size: int, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Recompute the sd exactly where the running sums leave rounding (near-constant
    baselines, where R's ``sd`` gives exactly 0)."""
    S, T = y.shape
    fix = np.isfinite(sd) & (sd < 1e-6 * np.maximum(np.abs(mean), 1.0))
    for s, t in zip(*np.nonzero(fix), strict=True):
        window = y[s, t - lag - size + 1 : t - lag + 1]
        window = window[np.isfinite(window)]
        sd[s, t] = float(np.std(window, ddof=1))
    return sd


def detect(
    y: np.ndarray,
    *,
    period: str,
    options: dict[str, Any],
    variant: str,
    exposure: np.ndarray | None = None,
    lower: bool = True,
) -> Detection:
    """EARS ``variant`` (``C1``, ``C2`` or ``C3``) on every series (rows) and period."""
    o = options
    size = o["baseline"]
    z = stats.norm.ppf(1 - o["alpha"])
    out = Detection(y.shape)
    lag = 1 if variant == "C1" else 3
    mean, sd, n = _moments(y, lag, size)
    sd = _exact_sd(y, lag, size, mean, sd)
    sigma = np.maximum(sd, o["min_sigma"])
    S, T = y.shape
    t = np.arange(T)[None, :]
    known = np.isfinite(y)
    first_needed = size + lag - 1 + (2 if variant == "C3" else 0)
    early = known & (t < first_needed)
    out.mark(
        early, TOO_SHORT, f"needs {first_needed} earlier periods for the EARS {variant} baseline"
    )
    few = known & ~early & ~np.isfinite(mean)
    out.mark(
        few, TOO_SHORT, f"fewer than {MIN_BASELINE} known counts in the {size}-period baseline"
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (y - mean) / sigma
    first = np.maximum(t - lag - size + 1, 0)
    flat = known & (sigma == 0) & (variant != "C3")
    out.add_note(
        flat,
        "baseline constant (standard deviation 0"
        + (", min_sigma 0)" if o["min_sigma"] == 0 else ")")
        + ": any count above its mean is beyond the bound",
    )
    if variant in ("C1", "C2"):
        upper = mean + z * sigma
        lower = np.maximum(mean - z * sigma, 0.0)
        ok = known & np.isfinite(upper)
        out.expected = np.where(ok, mean, np.nan)
        out.upperbound = np.where(ok, upper, np.nan)
        out.lowerbound = np.where(ok, lower, np.nan)
        out.score = np.where(ok, c, np.nan)
        with np.errstate(invalid="ignore"):
            out.pvalue = np.where(ok & (sigma > 0), stats.norm.sf(c), np.nan)
            out.pvalue_low = np.where(ok & (sigma > 0), stats.norm.cdf(c), np.nan)
        out.computed = ok
        with np.errstate(invalid="ignore"):
            out.alarm_high = ok & (y > upper)
            out.alarm_low = ok & (y < lower)
        out.base_first = np.where(ok, first, -1)
        out.base_last = np.where(ok, t - lag, -1)
        return out
    # C3: exceedances max(0, C2 - 1) of the two previous periods. As in R, a C2 of NaN
    # (sd 0 and y = mean) makes the bound NaN, +Inf (sd 0, y > mean) drives it to 0. A
    # previous period with an unknown count (R has none) counts as no exceedance.
    with np.errstate(invalid="ignore"):
        exceed = np.maximum(c - 1, 0.0)
    exceed = np.where(known, exceed, 0.0)
    lags = np.full_like(exceed, np.nan)
    lags[:, 2:] = exceed[:, 1:-1] + exceed[:, :-2]
    with np.errstate(invalid="ignore"):
        if o["c3"] == "surveillance":
            upper = np.maximum(y + sigma * (z - lags), 0.0)
            score = lags
        else:
            upper = np.maximum(mean + sigma * (1 + z - lags), 0.0)
            score = exceed + lags
    ok = known & np.isfinite(mean) & np.isfinite(upper)
    undefined = known & np.isfinite(mean) & ~ok
    out.mark(undefined, NOT_ESTIMABLE, "C3 bound undefined: a baseline standard deviation is 0")
    out.expected = np.where(ok, mean, np.nan)
    out.upperbound = np.where(ok, upper, np.nan)
    out.score = np.where(ok, score, np.nan)
    out.computed = ok
    with np.errstate(invalid="ignore"):
        out.alarm_high = ok & (y > upper)
    out.base_first = np.where(ok, np.maximum(t - 2 - lag - size + 1, 0), -1)
    out.base_last = np.where(ok, t - lag, -1)
    return out
