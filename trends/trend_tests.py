"""Is there a trend? One row per region: annual percent change, interval, p and q value.

``trend(cells, method=...)`` fits each region's series of counts over its periods and
says whether it is ``rising``, ``falling`` or ``stable`` (the interval of the annual
percent change lies above, below or across 0, as the US State Cancer Profiles label
trends), after the coverage gate of :mod:`trends.coverage_model`.

Methods
-------
``quasipoisson`` (default)
    Log-linear model ``log E[count] = log(exposure) + a + b * t`` (``t`` the period
    index), fitted by iteratively reweighted least squares, with the dispersion
    estimated by Pearson's chi-square over the residual degrees of freedom and a t
    reference distribution on ``n - 2`` degrees of freedom, as R's
    ``summary.glm(family=quasipoisson)`` does. Wedderburn (1974) Biometrika 61:439;
    McCullagh & Nelder (1989) *Generalized Linear Models*, 2nd ed., sections 4.5 & 9.2.
``poisson``
    The same model with the dispersion fixed at 1 and a normal reference. Too
    confident on overdispersed counts: on counts with variance three times the mean
    its 95% interval covers the true APC about 74% of the time (its standard error is
    sqrt(3) too small; benchmarks/trend_null.py).
``negbin``
    The same model with negative binomial (NB2) variance ``mu + alpha * mu**2``;
    ``alpha`` by maximum likelihood, alternating with the IRLS fit of the
    coefficients as R's ``MASS::glm.nb`` does (Venables & Ripley 2002, *Modern
    Applied Statistics with S*, 4th ed., section 7.4); Wald intervals.
``mann-kendall``
    Mann (1945) Econometrica 13:245 and Kendall (1975) *Rank Correlation Methods*:
    Kendall's S of the rates against time, its variance corrected for ties, normal
    approximation with continuity correction. Slope by Sen (1968) JASA 63:1379, with
    its rank-based interval (Gilbert 1987, *Statistical Methods for Environmental
    Pollution Monitoring*, section 16.5).
``mann-kendall-hr``
    Mann-Kendall with the variance of S inflated for serial correlation as Hamed & Rao
    (1998) J. Hydrology 204:182 prescribe: from the autocorrelation of the ranks of the
    Sen-detrended series at the lags significant at the 5% level. The correction is
    never allowed to shrink the variance (factor floored at 1; see
    ``_hamed_rao_factor``).

The annual percent change is ``100 * (exp(k * b) - 1)`` with ``k`` the periods per
year (12 for months, 4 for quarters, 1 for years, 365.2425/7 for ISO weeks). For the
Mann-Kendall methods, whose Sen slope is additive, ``apc`` is the Sen slope per year
as a percent of the series' mean rate (the relative trend of Yue & Hashino 2003,
J. Hydrology 278:160).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .cells import as_cells, cells_period
from .errors import TrendsError
from .periods import PERIODS_PER_YEAR, period_bounds, to_period_end_label, to_period_label
from .stats.loglinear import fit_loglinear
from .stats.mann_kendall import mann_kendall
from .stats.multiplicity import benjamini_hochberg
from .verdicts import NOT_COVERED

__all__ = ["METHODS", "trend", "fit_trends"]

logger = logging.getLogger(__name__)

METHODS = ("quasipoisson", "poisson", "negbin", "mann-kendall", "mann-kendall-hr")
MIN_PERIODS = 3

# Verdicts of rows without an estimate: they say why.
NO_EXPOSURE = "no exposure"
TOO_FEW = f"too few periods (fewer than {MIN_PERIODS})"
NO_EVENTS = "no events"
NO_VARIATION = "no variation (every period has the same rate)"
END_ONLY = "no finite estimate (all events in the first or last period)"
NOT_CONVERGED = "fit did not converge"


def trend(
    cells: pd.DataFrame,
    *,
    method: str = "quasipoisson",
    level: float = 0.95,
    alpha: float = 0.05,
    start: str | None = None,
    end: str | None = None,
    rules: str = "default",
) -> pd.DataFrame:
    """Test every region's series for a trend and estimate its annual percent change.

    Parameters
    ----------
    cells : DataFrame
        A cell table (see :mod:`trends.cells`): ``region``, ``period``, ``count``,
        ``exposure`` (days; derived from the period when absent). Cells whose count is
        missing or whose ``covered`` is False lie outside the source's coverage and are
        left out of the fit, as are cells with zero exposure.
    method : {'quasipoisson', 'poisson', 'negbin', 'mann-kendall', 'mann-kendall-hr'}
        See the module docstring for each method and its reference.
    level : float
        Confidence level of the interval ``apc_low``..``apc_high``; the verdict is
        ``rising``/``falling`` when this interval lies above/below 0 (for the
        Mann-Kendall methods: when the test's p-value is below ``1 - level``, in the
        direction of S, since Sen's interval is not the inversion of the test).
    alpha : float
        False discovery rate for ``discovery`` (Benjamini-Hochberg ``qvalue <= alpha``).
    start, end : str, optional
        Restrict the series to these periods or dates (inclusive); ``"2016"`` as
        ``end`` of a monthly table means through 2016-12.
    rules : str
        Coverage rules passed to :func:`trends.coverage_model.assess_window`.

    Returns
    -------
    DataFrame
        One row per region, sorted by region:

        ``region``; ``method``; ``parameters`` (the method's options, as text);
        ``first_period``, ``last_period`` (first and last fitted period);
        ``n_periods`` (cells fitted); ``n_uncovered`` (cells outside coverage, left
        out); ``n_no_exposure`` (cells with zero exposure, left out); ``events``
        (sum of fitted counts);
        ``slope`` (log-rate change per period for the log-linear methods; Sen's slope
        of the rate per day of exposure per period for Mann-Kendall); ``slope_se``
        (its standard error; missing for Mann-Kendall);
        ``apc``, ``apc_low``, ``apc_high`` (annual percent change and its interval at
        ``level``); ``statistic`` (z, or t for quasipoisson; Mann-Kendall's z);
        ``df`` (residual degrees of freedom of the t reference; missing otherwise);
        ``pvalue`` (two-sided); ``qvalue`` (Benjamini-Hochberg over the rows with a
        p-value); ``discovery`` (``qvalue <= alpha``); ``dispersion`` (Pearson
        dispersion for quasipoisson, 1 for poisson, ``1 + alpha * mean(mu)`` for
        negbin; missing for Mann-Kendall); ``nb_alpha`` (negbin only); ``tau``
        (Kendall's tau-b, Mann-Kendall only); ``coverage``, ``coverage_reasons``;
        ``verdict``: ``rising``, ``falling``, ``stable``, ``inconclusive (thin
        coverage)``, ``not covered``, or, where no estimate exists, why (``no
        events``, ``no exposure``, ``too few periods (fewer than 3)``, ...).

    Raises
    ------
    TrendsError
        Unknown ``method``, ``level`` or ``alpha`` outside (0, 1), bad cells.

    Warns
    -----
    ThinCoverageWarning
        When some verdicts are withheld for thin coverage.
    """
    from .coverage_model import assess_windows
    from .verdicts import gate, warn_withheld

    out, table = _fit(cells, method=method, level=level, alpha=alpha, start=start, end=end)
    # Underdispersion estimates are mostly noise: never let them inflate the
    # effective number of events the count-based rules judge.
    disp = out["dispersion"].to_numpy(dtype=float)
    phi = pd.Series(np.where(disp > 0, np.maximum(disp, 1.0), 1.0), index=out["region"])
    assessed = assess_windows(table, dispersion=phi, rules=rules).set_index("region")
    assessed = _halves_mix(table, assessed, rules).reindex(out["region"])
    status = assessed["status"].tolist()
    verdicts = [
        gate(raw, st) if raw in ("rising", "falling", "stable") else raw
        for raw, st in zip(out["verdict"], status, strict=True)
    ]
    out["coverage"] = pd.array(status, dtype="string")
    out["coverage_reasons"] = pd.array(
        ["; ".join(why) for why in assessed["reasons"]], dtype="string"
    )
    out["verdict"] = pd.array(verdicts, dtype="string")
    warn_withheld(verdicts, "trend")
    return out


def _halves_mix(table: pd.DataFrame, assessed: pd.DataFrame, rules: Any) -> pd.DataFrame:
    """Add the source-mix rule between each series' two halves to its coverage.

    A trend over a series whose main outlet went silent halfway (or that a new outlet
    joined) measures the reporting as much as the events. So the second half's source
    mix is judged against the first half's, with only the source-mix rule of
    ``rules`` (the count rules already judged the whole series); a change beyond its
    threshold makes the series at least ``thin``. The halves split the cells with a
    known count (at least 4, some with a known source mix), in period order.

    ``assessed``: :func:`~trends.coverage_model.assess_windows` of ``table`` indexed by
    region; returns it with ``status`` and ``reasons`` updated.
    """
    from .coverage_model import assess_windows, mix_rules, resolve_rules, worse

    base = resolve_rules(rules)
    if base.max_mix_change is None or "source_counts" not in table.columns:
        return assessed
    # table is as as_cells leaves it: sorted by region and period
    known = table[table["count"].notna()]
    by_region = known.groupby("region", sort=False)
    size = by_region["region"].transform("size").to_numpy()
    has_mix = by_region["source_counts"].transform("count").to_numpy() > 0
    second = by_region.cumcount().to_numpy() >= size // 2
    split = has_mix & (size >= 4)
    if not split.any():
        return assessed
    mix = assess_windows(
        known[split & second], baseline=known[split & ~second], rules=mix_rules(base)
    ).set_index("region")
    changed = mix[mix["status"] != "adequate"]
    if changed.empty:
        return assessed
    position = {region: i for i, region in enumerate(assessed.index)}
    status, reasons = assessed["status"].tolist(), assessed["reasons"].tolist()
    for region, mix_status, mix_reasons in zip(
        changed.index, changed["status"], changed["reasons"], strict=True
    ):
        i = position[region]
        status[i] = worse(status[i], mix_status)
        reasons[i] = [*reasons[i], *(f"second half against the first: {r}" for r in mix_reasons)]
    assessed = assessed.copy()
    assessed["status"] = pd.array(status, dtype="string")
    assessed["reasons"] = pd.Series(reasons, index=assessed.index, dtype=object)
    return assessed


def fit_trends(
    cells: pd.DataFrame,
    *,
    method: str = "quasipoisson",
    level: float = 0.95,
    alpha: float = 0.05,
    start: str | None = None,
    end: str | None = None,
) -> pd.DataFrame:
    """:func:`trend` without the coverage gate: the statistics alone.

    Same arguments and columns as :func:`trend` except ``coverage`` and
    ``coverage_reasons``; ``verdict`` is the statistical verdict before the gate.
    For simulations and benchmarks, where the per-region coverage assessment would
    dominate the run time; analysts should call :func:`trend`.
    """
    return _fit(cells, method=method, level=level, alpha=alpha, start=start, end=end)[0]


def _fit(
    cells: pd.DataFrame,
    *,
    method: str,
    level: float,
    alpha: float,
    start: str | None,
    end: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The result table (verdict before the coverage gate) and the region's cells."""
    if method not in METHODS:
        raise TrendsError(f"method={method!r} is not one of {', '.join(map(repr, METHODS))}")
    for name, value in (("level", level), ("alpha", alpha)):
        if not 0 < value < 1:
            raise TrendsError(f"{name}={value!r} must lie strictly between 0 and 1")
    table = as_cells(cells)
    kind = cells_period(table)
    table = _restrict(table, kind, start, end)
    table["t"] = _period_index(table["period_start"], kind)
    covered = table["count"].notna()
    if "covered" in table.columns:
        covered &= table["covered"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    has_exposure = table["exposure"].fillna(0.0) > 0
    table["fit"] = covered & has_exposure
    table["_uncov"] = ~covered
    table["_noexp"] = covered & ~has_exposure

    regions = pd.Index(pd.unique(table["region"]), dtype="string")
    packed = _pack(table[table["fit"]], regions)
    per_year = PERIODS_PER_YEAR[kind]
    if method.startswith("mann-kendall"):
        est = _mann_kendall_all(packed, level=level, hr=method == "mann-kendall-hr")
    else:
        est = _loglinear_all(packed, method=method, level=level)

    counts = table.groupby("region", sort=False)[["_uncov", "_noexp"]].sum()
    out = pd.DataFrame({"region": regions})
    out["method"] = method
    out["parameters"] = _parameters(method, level, alpha, start, end)
    out["first_period"] = packed.first
    out["last_period"] = packed.last
    out["n_periods"] = packed.n
    out["n_uncovered"] = counts["_uncov"].reindex(regions).to_numpy(dtype=int)
    out["n_no_exposure"] = counts["_noexp"].reindex(regions).to_numpy(dtype=int)
    out["events"] = np.where(packed.n > 0, packed.events, np.nan)
    out["slope"] = est.slope
    out["slope_se"] = est.slope_se
    for col, values in (("apc", est.slope), ("apc_low", est.low), ("apc_high", est.high)):
        out[col] = _to_apc(values, per_year, est.relative_to)
    out["statistic"] = est.statistic
    out["df"] = est.df
    out["pvalue"] = est.pvalue
    out["qvalue"] = benjamini_hochberg(est.pvalue)
    out["discovery"] = (out["qvalue"] <= alpha).to_numpy()
    out["dispersion"] = est.dispersion
    out["nb_alpha"] = est.nb_alpha
    out["tau"] = est.tau

    out["verdict"] = pd.array(_raw_verdicts(out, packed, est, level), dtype="string")
    n_missing = int(out["pvalue"].isna().sum())
    if n_missing:
        logger.info("trend (%s): %d of %d regions have no estimate", method, n_missing, len(out))
    out = out.sort_values("region", kind="stable").reset_index(drop=True)
    for col in ("method", "parameters", "first_period", "last_period"):
        out[col] = out[col].astype("string")
    return out, table.drop(columns=["t", "fit", "_uncov", "_noexp"])


# --------------------------------------------------------------------------------------
# Preparing the series


@dataclass
class _Packed:
    """Regions' fitted series in padded arrays (regions x longest series)."""

    y: np.ndarray  # counts (0 where padded)
    exposure: np.ndarray  # exposure (1 where padded)
    t: np.ndarray  # period index, centred per region (0 where padded)
    mask: np.ndarray  # True where a real cell
    n: np.ndarray  # cells per region
    events: np.ndarray  # sum of counts
    first: list[str | None]
    last: list[str | None]


def _restrict(table: pd.DataFrame, kind: str, start: str | None, end: str | None) -> pd.DataFrame:
    keep = np.ones(len(table), dtype=bool)
    if start is not None:
        first = period_bounds([to_period_label(start, kind)], kind)[0].iloc[0]
        keep &= (table["period_start"] >= first).to_numpy()
    if end is not None:
        last = period_bounds([to_period_end_label(end, kind)], kind)[0].iloc[0]
        keep &= (table["period_start"] <= last).to_numpy()
    return table[keep].reset_index(drop=True)


def _period_index(period_start: pd.Series, kind: str) -> np.ndarray:
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


def _pack(fitted: pd.DataFrame, regions: pd.Index) -> _Packed:
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
    return _Packed(y, exposure, t, mask, n, y.sum(axis=1), first, last)


def _parameters(method: str, level: float, alpha: float, start, end) -> str:
    parts = [f"level={level:g}", f"alpha={alpha:g}"]
    if method == "quasipoisson":
        parts.append("dispersion=Pearson chi2/(n-2), t reference")
    elif method == "poisson":
        parts.append("dispersion=1, normal reference")
    elif method == "negbin":
        parts.append("variance=mu+alpha*mu^2, alpha by ML, Wald normal")
    elif method == "mann-kendall":
        parts.append("ties corrected, continuity corrected, Sen slope on rate")
    else:
        parts.append("Hamed-Rao 1998 variance, lags significant at 5%, Sen slope on rate")
    if start is not None:
        parts.append(f"start={start}")
    if end is not None:
        parts.append(f"end={end}")
    return "; ".join(parts)


# --------------------------------------------------------------------------------------
# Estimates


@dataclass
class _Estimates:
    slope: np.ndarray
    slope_se: np.ndarray
    low: np.ndarray
    high: np.ndarray
    statistic: np.ndarray
    df: np.ndarray
    pvalue: np.ndarray
    dispersion: np.ndarray
    nb_alpha: np.ndarray
    tau: np.ndarray
    relative_to: np.ndarray | None  # Mann-Kendall: the mean rate the slope is relative to
    why: np.ndarray  # object array: why a region has no estimate (None: it has one)


def _to_apc(slope: np.ndarray, per_year: float, relative_to: np.ndarray | None) -> np.ndarray:
    if relative_to is None:
        return 100.0 * np.expm1(per_year * slope)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * per_year * slope / relative_to


def _empty(n: int) -> dict[str, np.ndarray]:
    return {k: np.full(n, np.nan) for k in ("slope", "se", "low", "high", "stat", "df", "p")}


def _basic_why(packed: _Packed) -> np.ndarray:
    """Why each region has no estimate whatever the method (None: no reason yet).
    Regions with no fitted cell are left to the caller (not covered / no exposure)."""
    why = np.full(packed.n.shape, None, dtype=object)
    why[(packed.n > 0) & (packed.events <= 0)] = NO_EVENTS
    why[(packed.n > 0) & (packed.n < MIN_PERIODS)] = TOO_FEW
    return why


def _loglinear_all(packed: _Packed, *, method: str, level: float) -> _Estimates:
    n_regions = packed.y.shape[0]
    fit = fit_loglinear(
        packed.y,
        packed.exposure,
        packed.t,
        packed.mask,
        family="negbin" if method == "negbin" else "poisson",
    )
    n = packed.n.astype(float)
    df_resid = n - 2
    if method == "quasipoisson":
        with np.errstate(invalid="ignore", divide="ignore"):
            dispersion = fit["pearson"] / df_resid
        se = fit["slope_se"] * np.sqrt(dispersion)
        crit = stats.t.ppf(0.5 + level / 2, np.maximum(df_resid, 1))
        df = df_resid
    elif method == "poisson":
        dispersion = np.ones(n_regions)
        se = fit["slope_se"]
        crit = np.full(n_regions, stats.norm.ppf(0.5 + level / 2))
        df = np.full(n_regions, np.nan)
    else:
        mean_mu = np.where(packed.mask, fit["mu"], 0.0).sum(1) / np.maximum(n, 1)
        dispersion = 1 + fit["nb_alpha"] * mean_mu
        se = fit["slope_se"]
        crit = np.full(n_regions, stats.norm.ppf(0.5 + level / 2))
        df = np.full(n_regions, np.nan)
    slope = fit["slope"]
    with np.errstate(invalid="ignore", divide="ignore"):
        statistic = slope / se
    if method == "quasipoisson":
        pvalue = 2 * stats.t.sf(np.abs(statistic), np.maximum(df_resid, 1))
    else:
        pvalue = 2 * stats.norm.sf(np.abs(statistic))

    why = _basic_why(packed)
    # All events in the first or last period: the likelihood rises without end
    t_obs = np.where(packed.mask, packed.t, np.nan)
    t_events = np.where(packed.mask & (packed.y > 0), packed.t, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: no events
        end_only = (np.nanmin(t_events, axis=1) == np.nanmax(t_obs, axis=1)) | (
            np.nanmax(t_events, axis=1) == np.nanmin(t_obs, axis=1)
        )
    unsettled = ~fit["converged"] | ~np.isfinite(se) | ~(se > 0)
    open_rows = (packed.n > 0) & np.equal(why, None)
    why[open_rows & unsettled] = NOT_CONVERGED
    why[open_rows & end_only] = END_ONLY
    bad = (packed.n == 0) | ~np.equal(why, None)

    def clean(values: np.ndarray) -> np.ndarray:
        return np.where(bad, np.nan, values)

    return _Estimates(
        slope=clean(slope),
        slope_se=clean(se),
        low=clean(slope - crit * se),
        high=clean(slope + crit * se),
        statistic=clean(statistic),
        df=clean(df),
        pvalue=clean(pvalue),
        dispersion=clean(dispersion),
        nb_alpha=clean(fit["nb_alpha"]) if method == "negbin" else np.full(n_regions, np.nan),
        tau=np.full(n_regions, np.nan),
        relative_to=None,
        why=why,
    )


def _mann_kendall_all(packed: _Packed, *, level: float, hr: bool) -> _Estimates:
    n_regions = packed.y.shape[0]
    res = _empty(n_regions)
    tau = np.full(n_regions, np.nan)
    mean_rate = np.full(n_regions, np.nan)
    why = _basic_why(packed)
    for i in np.flatnonzero((packed.n > 0) & np.equal(why, None)):
        idx = np.flatnonzero(packed.mask[i])
        rate = packed.y[i, idx] / packed.exposure[i, idx]
        if np.ptp(rate) == 0:
            why[i] = NO_VARIATION
            continue
        mk = mann_kendall(packed.t[i, idx], rate, level=level, hamed_rao=hr)
        res["slope"][i], res["low"][i], res["high"][i] = mk["sen"], mk["low"], mk["high"]
        res["stat"][i], res["p"][i], tau[i] = mk["z"], mk["pvalue"], mk["tau"]
        mean_rate[i] = rate.mean()
    return _Estimates(
        slope=res["slope"],
        slope_se=np.full(n_regions, np.nan),
        low=res["low"],
        high=res["high"],
        statistic=res["stat"],
        df=np.full(n_regions, np.nan),
        pvalue=res["p"],
        dispersion=np.full(n_regions, np.nan),
        nb_alpha=np.full(n_regions, np.nan),
        tau=tau,
        relative_to=mean_rate,
        why=why,
    )


def _raw_verdicts(out: pd.DataFrame, packed: _Packed, est: _Estimates, level: float) -> list[str]:
    """The statistical verdict of each region, before the coverage gate."""
    if est.relative_to is not None:
        # Mann-Kendall: Sen's interval is not the inversion of the test (and sits on 0
        # when many rates tie, as zero counts do), so the test decides.
        significant = (out["pvalue"] < 1 - level).to_numpy()
        up = significant & (out["statistic"] > 0).to_numpy()
        down = significant & (out["statistic"] < 0).to_numpy()
    else:
        up = (out["apc_low"] > 0).to_numpy()
        down = (out["apc_high"] < 0).to_numpy()
    verdict = np.where(up, "rising", np.where(down, "falling", "stable")).astype(object)
    has_why = ~np.equal(est.why, None)
    verdict[has_why] = est.why[has_why]
    nothing = packed.n == 0  # nothing fitted: nothing inside coverage, or no exposure
    no_exposure = (out["n_no_exposure"] > 0).to_numpy()
    verdict[nothing] = np.where(no_exposure[nothing], NO_EXPOSURE, NOT_COVERED)
    return verdict.tolist()
