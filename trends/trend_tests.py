"""Is there a trend? One row per region: annual percent change, interval, p and q value.

``trend(cells, method=...)`` fits each region's series of counts over its periods and
says whether it is ``rising``, ``falling`` or ``stable`` by the rule of
:mod:`trends.verdicts`: a direction needs a Benjamini-Hochberg q-value below ``alpha``
across the regions tested and adequate reporting (:mod:`trends.coverage_model`).

Methods
-------
``quasipoisson`` (default)
    Log-linear model ``log E[count] = log(exposure) + a + b * t`` (``t`` the period
    index), fitted by iteratively reweighted least squares. Each region's dispersion
    is Pearson's chi-square over its ``n - 2`` residual degrees of freedom, as R's
    ``summary.glm(family=quasipoisson)`` estimates it, moderated across regions by
    empirical Bayes (:func:`trends.stats.dispersion.moderated_dispersion`: limma's
    ``squeezeVar``, Smyth 2004; the quasi-likelihood tests of edgeR, Lund et al. 2012,
    Chen, Lun & Smyth 2016), so that a few periods neither invent significance (a
    long run of zeros gives a dispersion near 0) nor hide it; the t reference has the
    prior's plus the residual degrees of freedom. A moderated dispersion below 1 is
    taken as 1 with a normal reference (edgeR's Poisson bound): never more confident
    than a Poisson count. Wedderburn (1974) Biometrika 61:439; McCullagh & Nelder
    (1989) *Generalized Linear Models*, 2nd ed., sections 4.5 & 9.2.
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

An annual percent change the data cannot support (beyond ``±`` :data:`trends.verdicts.MAX_APC`
%/yr, or an infinite bound: a series rising from zero counts) is ``not estimable``:
its APC and bounds are left missing and ``notes`` says why.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import verdicts
from .cells import as_cells, cells_period
from .checks import check_fraction
from .coverage_model import CoverageRules, worse
from .methods import Entry, Registry
from .periods import PERIODS_PER_YEAR, period_bounds, to_period_end_label, to_period_label
from .stats.dispersion import moderated_dispersion, source_words
from .stats.loglinear import fit_loglinear
from .stats.mann_kendall import mann_kendall

__all__ = ["METHODS", "trend", "fit_trends"]

logger = logging.getLogger(__name__)

MIN_PERIODS = 3

# Why a region has no estimate (its notes say so; its verdict is "not estimable").
NO_EXPOSURE = "no exposure in any covered period"
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
    rules: str | CoverageRules | Mapping[str, Any] = "default",
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
        Confidence level of the interval ``apc_low``..``apc_high``.
    alpha : float
        False discovery rate of the verdicts: ``rising``/``falling`` need a
        Benjamini-Hochberg q-value below it (:mod:`trends.verdicts`).
    start, end : str, optional
        Restrict the series to these periods or dates (inclusive); ``"2016"`` as
        ``end`` of a monthly table means through 2016-12.
    rules : str, CoverageRules or dict
        Coverage rules (:class:`trends.coverage_model.CoverageRules`): the series is
        judged as one window, and its second half against its first for the outlets
        (:mod:`trends.coverage_model.activity`).

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
        ``level``; missing where not estimable); ``statistic`` (z, or t for
        quasipoisson; Mann-Kendall's z); ``df`` (degrees of freedom of the t
        reference: the prior's plus the region's; missing for a normal reference);
        ``pvalue`` (two-sided); ``qvalue`` (Benjamini-Hochberg over the rows with a
        p-value); ``dispersion`` (as used: moderated Pearson dispersion for
        quasipoisson, 1 for poisson, ``1 + alpha * mean(mu)`` for negbin; missing
        for Mann-Kendall); ``dispersion_source`` (where it came from);
        ``residual_dispersion`` (the region's own Pearson estimate); ``nb_alpha``
        (negbin only); ``tau`` (Kendall's tau-b, Mann-Kendall only); ``notes`` (why
        an estimate is missing or not estimable; reliability); ``coverage``,
        ``coverage_reasons``; ``reliable`` (the series rests on at least 20 events:
        NCHS-style flag); ``verdict``: ``rising``, ``falling``, ``stable``,
        ``inconclusive (thin coverage)``, ``not covered`` or ``not estimable``
        (:func:`trends.verdicts.decide`).

    Raises
    ------
    TrendsError
        Unknown ``method``, ``level`` or ``alpha`` outside (0, 1), bad cells.

    Warns
    -----
    ThinCoverageWarning
        When some verdicts are withheld for thin coverage.
    """
    from .coverage_model import assess_windows, resolve_rules
    from .coverage_model.rules import without_mix

    r = resolve_rules(rules)
    out, table = _fit(cells, method=method, level=level, alpha=alpha, start=start, end=end)
    phi = pd.Series(out["dispersion"].fillna(1.0).to_numpy(), index=out["region"])
    assessed = assess_windows(table, dispersion=phi, rules=without_mix(r)).set_index("region")
    assessed = assessed.reindex(out["region"])
    status = assessed["status"].tolist()
    reasons = [list(x) if isinstance(x, list) else [] for x in assessed["reasons"]]
    checked = _halves_reporting(table, out, r, alpha)
    for i, region in enumerate(out["region"]):
        if region in checked:
            st, rs = checked[region]
            status[i] = worse(status[i], st)
            reasons[i] += [f"second half against the first: {x}" for x in rs]
    out["coverage"] = pd.array(status, dtype="string")
    out["coverage_reasons"] = pd.array(["; ".join(x) for x in reasons], dtype="string")
    estimated = out["pvalue"].notna().to_numpy()
    out["reliable"] = pd.array(np.where(estimated, assessed["reliable"], None), dtype="boolean")
    notes = [[n] if n else [] for n in out["notes"]]
    for i, text in enumerate(assessed["reliability"]):
        if estimated[i] and isinstance(text, str) and text:
            notes[i].append(text)
    out["notes"] = pd.array(["; ".join(n) for n in notes], dtype="string")
    out["verdict"] = _verdicts(out, alpha, status)
    verdicts.warn_withheld(out["verdict"].tolist(), "trend")
    return out


def _verdicts(out: pd.DataFrame, alpha: float, status: list[str]) -> pd.arrays.StringArray:
    """The rule of :func:`trends.verdicts.decide` on the rows of :func:`_fit`."""
    said = verdicts.decide(
        "trend",
        direction=out["statistic"].to_numpy(dtype=float),
        qvalue=out["qvalue"].to_numpy(dtype=float),
        alpha=alpha,
        status=status,
        estimable=out["apc"].notna().to_numpy(),
    )
    return pd.array(said, dtype="string")


def _halves_reporting(
    table: pd.DataFrame, out: pd.DataFrame, rules: CoverageRules, alpha: float
) -> dict[str, tuple[str, list[str]]]:
    """The source-mix rule and the reporting check between each series' two halves.

    A trend over a series whose main outlet went silent halfway (or that a new outlet
    joined) measures the reporting as much as the events. So the second half's outlets
    are set against the first half's (:mod:`trends.coverage_model.mix`): beyond
    ``max_mix_change`` the halves are not comparable (``thin``); beyond
    ``check_mix_change`` the trend must show among the outlets filing in both halves
    (:func:`trends.coverage_model.activity.reporting_check`). The halves split the cells
    with a known count (at least 4, some with a known source mix), in period order.
    Returns (status, reasons) for the regions where something was found.
    """
    from .coverage_model import assess_windows, mix_rules, source_activity
    from .coverage_model.activity import reporting_check

    if rules.check_mix_change is None and rules.max_mix_change is None:
        return {}
    if "source_counts" not in table.columns:
        return {}
    # table is as as_cells leaves it: sorted by region and period
    known = table[table["count"].notna()]
    by_region = known.groupby("region", sort=False)
    size = by_region["region"].transform("size").to_numpy()
    has_mix = by_region["source_counts"].transform("count").to_numpy() > 0
    second = by_region.cumcount().to_numpy() >= size // 2
    split = has_mix & (size >= 4)
    if not split.any():
        return {}
    first_half, second_half = known[split & ~second], known[split & second]
    mix = assess_windows(second_half, baseline=first_half, rules=mix_rules(rules))
    low = rules.check_mix_change if rules.check_mix_change is not None else rules.max_mix_change
    shares = mix[["silent_source_share", "new_source_share"]].max(axis=1)
    found: dict[str, tuple[str, list[str]]] = {}
    rows = out.set_index("region")
    for region, st, rs in zip(mix["region"], mix["status"], mix["reasons"], strict=True):
        if st != "adequate":
            found[region] = (st, list(rs))
    for region in mix["region"][(shares > low).to_numpy()]:
        if region in found:
            continue
        row = rows.loc[region]
        act = source_activity(
            first_half[first_half["region"] == region],
            second_half[second_half["region"] == region],
            dispersion=float(row["dispersion"]) if pd.notna(row["dispersion"]) else 1.0,
            dispersion_df=float(row["df"]) if pd.notna(row["df"]) else np.inf,
            level=1 - alpha,
            mix_alpha=rules.mix_alpha,
        )
        st, rs, _ = reporting_check(
            act,
            direction=float(row["statistic"]),
            called=bool(row["qvalue"] < alpha),
            pvalue=float(row["pvalue"]),
            alpha=alpha,
            rules=rules,
        )
        if rs:
            found[region] = (st, rs)
    return found


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
    fit_method = METHODS_REGISTRY.get(method)
    level = check_fraction("level", level)
    alpha = check_fraction("alpha", alpha)
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
    est = fit_method.func(packed, level=level)

    counts = table.groupby("region", sort=False)[["_uncov", "_noexp"]].sum()
    out = pd.DataFrame({"region": regions})
    out["method"] = method
    out["parameters"] = _parameters(fit_method, level, alpha, start, end)
    out["first_period"] = packed.first
    out["last_period"] = packed.last
    out["n_periods"] = packed.n
    out["n_uncovered"] = counts["_uncov"].reindex(regions).to_numpy(dtype=int)
    out["n_no_exposure"] = counts["_noexp"].reindex(regions).to_numpy(dtype=int)
    out["events"] = np.where(packed.n > 0, packed.events, np.nan)
    out["slope"] = est.slope
    out["slope_se"] = est.slope_se
    apc = {
        k: _to_apc(v, per_year, est.relative_to)
        for k, v in (("apc", est.slope), ("apc_low", est.low), ("apc_high", est.high))
    }
    estimable, why_not = verdicts.apc_estimable(apc["apc"], apc["apc_low"], apc["apc_high"])
    for col, values in apc.items():
        out[col] = np.where(estimable, values, np.nan)
    out["statistic"] = est.statistic
    out["df"] = est.df
    out["pvalue"] = est.pvalue
    out["qvalue"] = verdicts.adjust(est.pvalue)
    out["dispersion"] = est.dispersion
    out["dispersion_source"] = pd.array(est.dispersion_source, dtype="string")
    out["residual_dispersion"] = est.residual_dispersion
    out["nb_alpha"] = est.nb_alpha
    out["tau"] = est.tau
    out["notes"] = _notes(est.why, packed, out, why_not)
    out["verdict"] = _verdicts(out, alpha, ["adequate"] * len(out))
    n_missing = int(out["pvalue"].isna().sum())
    if n_missing:
        logger.info("trend (%s): %d of %d regions have no estimate", method, n_missing, len(out))
    out = out.sort_values("region", kind="stable").reset_index(drop=True)
    for col in ("method", "parameters", "first_period", "last_period"):
        out[col] = out[col].astype("string")
    return out, table.drop(columns=["t", "fit", "_uncov", "_noexp"])


def _notes(
    why: np.ndarray, packed: _Packed, out: pd.DataFrame, why_not: list[str]
) -> pd.arrays.StringArray:
    """Why a region has no estimate, or an estimate the data cannot support."""
    notes = []
    no_exposure = (out["n_no_exposure"] > 0).to_numpy()
    for i in range(len(out)):
        if packed.n[i] == 0:  # nothing fitted: nothing inside coverage, or no exposure
            notes.append(NO_EXPOSURE if no_exposure[i] else "")
        else:
            notes.append(why[i] or why_not[i])
    return pd.array(notes, dtype="string")


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


def _parameters(fit_method: Entry, level: float, alpha: float, start, end) -> str:
    parts = [f"level={level:g}", f"alpha={alpha:g}", fit_method.description]
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
    dispersion_source: np.ndarray  # object: where the dispersion came from ("" none)
    residual_dispersion: np.ndarray  # the region's own estimate (quasipoisson)
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


@dataclass
class _Scale:
    """How the model-based slope standard error is scaled, and the reference."""

    factor: np.ndarray  # multiplies the variance of the slope
    df: np.ndarray  # t reference df (inf: normal)
    dispersion: np.ndarray  # reported dispersion
    source: np.ndarray  # object: where it came from
    residual: np.ndarray  # the region's own estimate (NaN: none)


def _moderated_scale(packed: _Packed, fit: dict[str, np.ndarray]) -> _Scale:
    """Quasi-Poisson: Pearson dispersions on n - 2 df, moderated across regions, with
    edgeR's Poisson bound (below 1: 1, normal reference)."""
    n = packed.n.astype(float)
    usable = (packed.n >= MIN_PERIODS) & (packed.events > 0) & np.isfinite(fit["pearson"])
    mean_rate = np.divide(packed.events, n, out=np.zeros_like(n), where=n > 0)
    mod = moderated_dispersion(
        np.where(usable, fit["pearson"], 0.0),
        np.where(usable, n - 2, 0.0),
        mean_rate=np.where(usable, mean_rate, 0.0),
    )
    phi = mod["dispersion"].to_numpy(dtype=float)
    df = mod["dispersion_df"].to_numpy(dtype=float)
    source = source_words(mod["source"].to_numpy(dtype=object), np.full(phi.shape, "residuals"))
    bound = ~(phi >= 1)  # below 1, or none
    source = np.where(bound & ~np.isnan(phi), source + ", Poisson bound", source)
    phi = np.where(bound, 1.0, phi)
    df = np.where(bound, np.inf, df)
    return _Scale(phi, df, phi, source, mod["residual_dispersion"].to_numpy(dtype=float))


def _poisson_scale(packed: _Packed, fit: dict[str, np.ndarray]) -> _Scale:
    ones = np.ones(packed.n.shape)
    return _Scale(
        ones,
        np.full(ones.shape, np.inf),
        ones,
        np.full(ones.shape, "fixed", dtype=object),
        np.full(ones.shape, np.nan),
    )


def _negbin_scale(packed: _Packed, fit: dict[str, np.ndarray]) -> _Scale:
    """Negative binomial: the fit's standard error is already NB's; the dispersion
    reported is the variance factor at the mean fitted count."""
    scale = _poisson_scale(packed, fit)
    n = np.maximum(packed.n, 1)
    mean_mu = np.where(packed.mask, fit["mu"], 0.0).sum(1) / n
    scale.dispersion = 1 + fit["nb_alpha"] * mean_mu
    scale.source = np.full(n.shape, "negative binomial (alpha by ML)", dtype=object)
    return scale


def _loglinear_all(packed: _Packed, *, family: str, scale_of, level: float) -> _Estimates:
    n_regions = packed.y.shape[0]
    fit = fit_loglinear(packed.y, packed.exposure, packed.t, packed.mask, family=family)
    scale = scale_of(packed, fit)
    se = fit["slope_se"] * np.sqrt(scale.factor)
    finite_df = np.isfinite(scale.df)
    t_df = np.where(finite_df, scale.df, 1.0)
    crit = np.where(finite_df, stats.t.ppf(0.5 + level / 2, t_df), stats.norm.ppf(0.5 + level / 2))
    slope = fit["slope"]
    with np.errstate(invalid="ignore", divide="ignore"):
        statistic = slope / se
    pvalue = np.where(
        finite_df, 2 * stats.t.sf(np.abs(statistic), t_df), 2 * stats.norm.sf(np.abs(statistic))
    )

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
        df=clean(np.where(finite_df, scale.df, np.nan)),
        pvalue=clean(pvalue),
        dispersion=clean(scale.dispersion),
        nb_alpha=clean(fit["nb_alpha"]) if family == "negbin" else np.full(n_regions, np.nan),
        tau=np.full(n_regions, np.nan),
        dispersion_source=np.where(bad, "", scale.source).astype(object),
        residual_dispersion=clean(scale.residual),
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
        dispersion_source=np.full(n_regions, "", dtype=object),
        residual_dispersion=np.full(n_regions, np.nan),
        relative_to=mean_rate,
        why=why,
    )


#: The methods of :func:`trend`, found by name.
METHODS_REGISTRY = Registry("trend method")
METHODS_REGISTRY.add(
    "quasipoisson",
    partial(_loglinear_all, family="poisson", scale_of=_moderated_scale),
    description="log-linear, Pearson dispersion moderated across regions, t reference",
    reference="Wedderburn 1974; McCullagh & Nelder 1989; Smyth 2004; Lund et al. 2012",
)
METHODS_REGISTRY.add(
    "poisson",
    partial(_loglinear_all, family="poisson", scale_of=_poisson_scale),
    description="log-linear, dispersion 1, normal reference",
    reference="McCullagh & Nelder 1989",
)
METHODS_REGISTRY.add(
    "negbin",
    partial(_loglinear_all, family="negbin", scale_of=_negbin_scale),
    description="log-linear, variance mu + alpha mu^2, alpha by ML, Wald normal",
    reference="Venables & Ripley 2002 (MASS::glm.nb)",
)
METHODS_REGISTRY.add(
    "mann-kendall",
    partial(_mann_kendall_all, hr=False),
    description="Mann-Kendall, ties and continuity corrected, Sen slope on the rate",
    reference="Mann 1945; Kendall 1975; Sen 1968",
)
METHODS_REGISTRY.add(
    "mann-kendall-hr",
    partial(_mann_kendall_all, hr=True),
    description="Mann-Kendall with the Hamed-Rao variance (lags significant at 5%), Sen slope",
    reference="Hamed & Rao 1998",
)
#: Names of the methods of :func:`trend`.
METHODS = METHODS_REGISTRY.names()
