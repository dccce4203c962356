"""Empirical Bayes moderation of residual variances and quasi-Poisson dispersions.

A region's quasi-Poisson dispersion ``phi_g = X2_g / df_g`` (Pearson statistic over
its residual degrees of freedom) rests on few cells: with 10 residual df an
estimate of 0.4 or 2.5 is common when the true value is 1. Tested against
``F(1, df_g)`` such an estimate is valid but weak, and used as if known it either
invents significance (a small estimate) or hides it (a large one). Moderation
borrows strength across regions: every region's estimate is a scaled chi-square
draw around a prior that is itself scaled-inverse-chi-square,

    df_g * s2_g / sigma2_g  ~  chi2(df_g),        1 / sigma2_g  ~  chi2(d0) / (d0 * s0^2),

so the posterior mean of ``sigma2_g`` is ``(d0 s0^2 + df_g s2_g) / (d0 + df_g)``
and the moderated statistic is referred to ``F(1, d0 + df_g)`` (Smyth 2004). The
prior ``(s0^2, d0)`` is estimated from all regions by matching the mean and
variance of ``log s2_g`` (limma's ``fitFDist``), optionally with ``s0^2`` a smooth
function of a covariate (the abundance trend of edgeR's quasi-likelihood pipeline:
Lund, Nettleton, McCarthy & Smyth 2012; Chen, Lun & Smyth 2016).

References
----------
Smyth, G. K. (2004). Linear models and empirical Bayes methods for assessing
    differential expression in microarray experiments. *Statistical Applications in
    Genetics and Molecular Biology* 3(1), Article 3.
Phipson, B., Lee, S., Majewski, I. J., Alexander, W. S. & Smyth, G. K. (2016).
    Robust hyperparameter estimation protects against hypervariable genes and
    improves power to detect differential expression. *Annals of Applied
    Statistics* 10(2), 946-963.
Lund, S. P., Nettleton, D., McCarthy, D. J. & Smyth, G. K. (2012). Detecting
    differential expression in RNA-sequence data using quasi-likelihood with shrunken
    dispersion estimates. *Statistical Applications in Genetics and Molecular
    Biology* 11(5), Article 8.
Chen, Y., Lun, A. T. L. & Smyth, G. K. (2016). From reads to genes to pathways:
    differential expression analysis of RNA-Seq experiments using Rsubread and the
    edgeR quasi-likelihood pipeline. *F1000Research* 5, 1438.

Notes
-----
:func:`fit_f_dist`, :func:`fit_f_dist_robustly` and :func:`squeeze_var` reproduce
R's ``limma::fitFDist``, ``limma:::fitFDistRobustly`` and ``limma::squeezeVar`` of
limma 3.54 (R 4.x), written anew in Python from the published methods and the
documented behaviour of those functions; ``tests/reference/make_limma_reference.R``
records the R calls the tests compare against. Later limma releases (3.60 on)
changed ``fitFDist`` for unequal ``df`` (``legacy = FALSE``); the results here are
those of the classic method, which is also what edgeR 3.x's ``glmQLFit`` uses.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from ..errors import DispersionWarning
from .fdist import as_vector, fit_f_dist, fit_f_dist_robustly, log_variance_scores, spline_df
from .rnumerics import NaturalSpline

__all__ = [
    "SqueezeVarResult",
    "GroupResiduals",
    "squeeze_var",
    "moderated_dispersion",
    "group_residuals",
    "source_words",
    "TREND_ALPHA",
]

#: Level of the F test that decides, with ``trend="auto"``, whether the prior
#: dispersion follows the mean rate (see :func:`moderated_dispersion`).
TREND_ALPHA = 0.05


# --------------------------------------------------------------------------- results


class SqueezeVarResult(NamedTuple):
    """Posterior variances (limma's ``squeezeVar`` value).

    Attributes
    ----------
    var_post : ndarray
        Posterior variances ``(df * s2 + d0 * s0^2) / (df + d0)`` (``s0^2`` where
        ``d0`` is infinite); limma's ``var.post``.
    prior_var : float or ndarray
        ``s0^2`` (limma's ``var.prior``).
    prior_df : float or ndarray
        ``d0`` (limma's ``df.prior``); per variance with ``robust=True``.
    """

    var_post: np.ndarray
    prior_var: float | np.ndarray
    prior_df: float | np.ndarray


class GroupResiduals(NamedTuple):
    """Residual statistics of a one-rate-per-group Poisson model, per row.

    Attributes
    ----------
    pearson : ndarray
        Pearson statistic ``sum((y - mu)^2 / mu)`` over cells with ``mu > 0``.
    deviance : ndarray
        Poisson deviance ``2 sum(y log(y / mu) - (y - mu))``.
    df : ndarray
        Residual df: cells minus groups, counting only groups with events (a group
        with no events is fitted exactly by a zero rate and leaves no residual df,
        as edgeR's ``glmQLFit`` counts them).
    mean_count : ndarray
        Mean count per cell, the abundance covariate for
        :func:`moderated_dispersion`.
    """

    pearson: np.ndarray
    deviance: np.ndarray
    df: np.ndarray
    mean_count: np.ndarray


# --------------------------------------------------------------------------- helpers


# --------------------------------------------------------------------------- fitFDist


# --------------------------------------------------------------------------- robust


# --------------------------------------------------------------------------- squeezeVar


def _posterior(
    var: np.ndarray, df: np.ndarray, prior_var: Any, prior_df: Any
) -> np.ndarray:  # fmt: skip
    n = var.size
    prior_var = np.broadcast_to(np.asarray(prior_var, dtype=float), (n,))
    prior_df = np.broadcast_to(np.asarray(prior_df, dtype=float), (n,))
    df = np.broadcast_to(df, (n,))
    fin = np.isfinite(prior_df)
    post = prior_var.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        mixed = (df[fin] * var[fin] + prior_df[fin] * prior_var[fin]) / (df[fin] + prior_df[fin])
    post[fin] = mixed
    return post


def squeeze_var(
    s2: ArrayLike,
    df: ArrayLike,
    *,
    covariate: ArrayLike | None = None,
    robust: bool = False,
    winsor_tail_p: tuple[float, float] = (0.05, 0.1),
) -> SqueezeVarResult:
    """Squeeze residual variances towards a common (or trended) prior.

    Empirical Bayes posterior variances ``(df * s2 + d0 * s0^2) / (df + d0)`` with
    the prior from :func:`fit_f_dist` (or :func:`fit_f_dist_robustly` with
    ``robust=True``). Same results as R's ``limma::squeezeVar(var = s2, df = df,
    covariate = covariate, robust = robust)`` of limma 3.54 (Smyth 2004, section 4;
    Phipson et al. 2016 for ``robust``).

    Parameters
    ----------
    s2 : array_like
        Residual variances, one per unit.
    df : array_like
        Their df (one value or one per unit). With per-unit df, units with
        ``df == 0`` get variance 0, stay out of the fit, and their posterior is the
        prior.
    covariate : array_like, optional
        Abundance covariate for a trended prior (see :func:`fit_f_dist`).
    robust : bool
        Robust prior: outlying variances get a smaller prior df.
    winsor_tail_p : (float, float)
        Winsorized tail proportions with ``robust=True``.

    Returns
    -------
    SqueezeVarResult
        ``var_post``, ``prior_var``, ``prior_df``.

    Raises
    ------
    ValueError
        When ``s2`` is empty or the prior df cannot be estimated (no usable unit),
        as limma stops.

    Notes
    -----
    One unit: nothing to squeeze; ``var_post = s2``, ``prior_var = s2``,
    ``prior_df = 0`` (as limma). Infinite ``d0``: every posterior is the prior.
    """
    var = as_vector(s2).copy()
    n = var.size
    if n == 0:
        raise ValueError("s2 is empty")
    if n == 1:
        return SqueezeVarResult(var.copy(), float(var[0]), 0.0)
    df_arr = as_vector(df)
    if df_arr.size > 1:
        if df_arr.size != n:
            raise ValueError("s2 and df have different lengths")
        var[df_arr == 0] = 0.0
    if robust:
        rfit = fit_f_dist_robustly(var, df_arr, covariate=covariate, winsor_tail_p=winsor_tail_p)
        prior_var, prior_df = rfit.prior_var, rfit.prior_df_shrunk
    else:
        fit = fit_f_dist(var, df_arr, covariate=covariate)
        prior_var, prior_df = fit.prior_var, fit.prior_df
    if np.any(np.isnan(prior_df)):
        raise ValueError("Could not estimate prior df")
    post = _posterior(var, df_arr, prior_var, prior_df)
    return SqueezeVarResult(post, prior_var, prior_df)


# --------------------------------------------------------------------------- quasi-Poisson


def group_residuals(
    counts: ArrayLike, groups: ArrayLike, exposure: ArrayLike | None = None
) -> GroupResiduals:  # fmt: skip
    """Pearson and deviance residual statistics of a one-rate-per-group Poisson fit.

    Each row (region) of ``counts`` is fitted with one rate per group of columns
    (for a two-window comparison: the before cells and the after cells), the
    quasi-Poisson model of :func:`trends.comparison.compare`; the fitted value of a
    cell is its exposure times its group's events over its group's exposure.

    Parameters
    ----------
    counts : array_like, shape (n_rows, n_cells)
        Counts; NaN marks a missing cell (left out).
    groups : array_like, shape (n_cells,) or (n_rows, n_cells)
        Group label of each cell (negative: the cell is left out).
    exposure : array_like, optional
        Exposure of each cell (same shape as ``counts`` or broadcastable); equal
        exposures when omitted.

    Returns
    -------
    GroupResiduals
        ``pearson``, ``deviance``, ``df`` and ``mean_count`` per row. Groups with
        no events contribute neither to the statistics nor to the df.
    """
    y = np.atleast_2d(np.asarray(counts, dtype=float))
    g = np.broadcast_to(np.asarray(groups), y.shape)
    e = (
        np.ones_like(y)
        if exposure is None
        else np.broadcast_to(np.asarray(exposure, float), y.shape)
    )
    use = np.isfinite(y) & (g >= 0) & (e > 0)
    labels = np.unique(g[use])
    pearson = np.zeros(y.shape[0])
    deviance = np.zeros(y.shape[0])
    dfr = np.zeros(y.shape[0])
    for lab in labels:
        cell = use & (g == lab)
        yg = np.where(cell, y, 0.0)
        eg = np.where(cell, e, 0.0)
        tot, expo, k = yg.sum(1), eg.sum(1), cell.sum(1)
        with np.errstate(divide="ignore", invalid="ignore"):
            mu = eg * (tot / expo)[:, None]
            pr = np.where(cell & (mu > 0), (yg - mu) ** 2 / mu, 0.0)
            ylogy = np.where(cell & (yg > 0), yg * np.log(yg / mu), 0.0)
        dv = 2.0 * np.where(cell, ylogy - (yg - mu), 0.0)
        pearson += pr.sum(1)
        deviance += np.where(tot > 0, dv.sum(1), 0.0)
        dfr += np.where((tot > 0) & (k > 0), k - 1, 0)
    n_cells = use.sum(1)
    total = np.where(use, y, 0.0).sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_count = np.where(n_cells > 0, total / n_cells, np.nan)
    return GroupResiduals(pearson, np.maximum(deviance, 0.0), dfr, mean_count)


_SOURCES = {
    "moderated": "moderated",
    "infinite": "prior (prior df infinite)",
    "no_df": "prior (no residual df)",
    "no_events": "prior (no events)",
    "few": "residual (too few regions to moderate)",
    "none": "none (no residual df, too few regions for a prior)",
}


def _trend_pvalue(s2: np.ndarray, df: np.ndarray, cov: np.ndarray) -> tuple[float, int]:
    """F test of the spline trend of ``e = log s2 - digamma(df/2) + log(df/2)`` on
    the covariate against a constant, on the units :func:`fit_f_dist` would use,
    with the spline it would fit. Returns (p-value, spline df); NaN when no trend
    can be fitted."""
    n_ok = s2.size
    n_df = spline_df(n_ok, cov)
    if n_df < 2:
        return np.nan, n_df
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DispersionWarning)
        _, e = log_variance_scores(s2, df)
    try:
        design = NaturalSpline(cov, n_df).basis(cov)
    except ValueError:
        return np.nan, 1
    coef, _, rank, _ = np.linalg.lstsq(design, e, rcond=None)
    rss1 = float(np.sum((e - design @ coef) ** 2))
    rss0 = float(np.sum((e - e.mean()) ** 2))
    df_num, df_den = rank - 1, n_ok - rank
    if df_num < 1 or df_den < 1 or rss1 <= 0:
        return np.nan, n_df
    fstat = ((rss0 - rss1) / df_num) / (rss1 / df_den)
    return float(stats.f.sf(fstat, df_num, df_den)), n_df


def moderated_dispersion(
    pearson_chi2: ArrayLike,
    df_resid: ArrayLike,
    *,
    mean_rate: ArrayLike | None = None,
    trend: Literal["auto"] | bool = "auto",
    robust: bool = True,
    trend_alpha: float = TREND_ALPHA,
) -> pd.DataFrame:
    """Quasi-Poisson dispersions moderated across regions by empirical Bayes.

    Each region's residual dispersion ``phi_g = X2_g / df_g`` (Pearson statistic over
    residual df) is squeezed towards a prior estimated from all regions, as edgeR's
    quasi-likelihood pipeline squeezes its QL dispersions (``glmQLFit``: Lund et al.
    2012; Chen, Lun & Smyth 2016) with limma's ``squeezeVar`` (Smyth 2004). A
    region's change is then tested by its score (or likelihood-ratio) statistic
    with dispersion 1 divided by ``dispersion``, against ``F(1, dispersion_df)``
    (edgeR's ``glmQLFTest``).

    Parameters
    ----------
    pearson_chi2 : array_like
        Pearson statistic of each region's quasi-Poisson fit (any residual
        dispersion numerator works: edgeR uses the deviance). A pandas Series keeps
        its index in the result.
    df_resid : array_like
        Residual df of each region (cells minus fitted rates). Count only cells
        whose fitted value is positive: a window with no events leaves no residual
        df (as edgeR's ``glmQLFit`` does; :func:`group_residuals` counts them so).
        ``0`` where the windows hold one cell each: the region then takes the prior.
    mean_rate : array_like, optional
        Each region's mean count per cell, the abundance covariate (edgeR's
        ``AveLogCPM``; any positive multiple gives the same trend, the trend being
        on its log). ``0`` marks a region without events: its residual df is set to
        0 and it takes the prior at the lowest observed rate.
    trend : "auto", True or False
        Whether the prior dispersion follows ``log(mean_rate)``. ``"auto"`` (the
        default) decides by the rule below; ``True`` always (as edgeR's
        ``abundance.trend = TRUE``), ``False`` never. Ignored without ``mean_rate``.
    robust : bool
        Robust prior (limma's ``fitFDistRobustly``; Phipson et al. 2016), the
        default, as in the edgeR quasi-likelihood workflow of Chen, Lun & Smyth
        (2016, ``glmQLFit(robust = TRUE)``): a region whose dispersion is an outlier
        (a series with a burst) gets a smaller prior df, so it keeps most of its
        own dispersion instead of being pulled to the prior, and the other regions'
        prior df does not collapse because of it. Falls back to the non-robust fit
        when the robust one cannot be made (more than half the dispersions zero).
        ``False`` is edgeR's ``glmQLFit`` default.
    trend_alpha : float
        Level of the trend test of ``trend="auto"``.

    Returns
    -------
    pandas.DataFrame
        One row per region:

        ``dispersion``
            Posterior dispersion ``(d0 s0^2 + df_g phi_g) / (d0 + df_g)``.
        ``dispersion_df``
            ``d0 + df_g``, at most the pooled residual df of all regions (as
            ``glmQLFTest`` caps it): the denominator df of the F test.
        ``prior_dispersion``, ``prior_df``
            ``s0^2`` (at the region's rate when trended) and ``d0``.
        ``residual_dispersion``, ``residual_df``
            ``phi_g`` and the df used (0 where none).
        ``source``
            ``"moderated"``; ``"prior (prior df infinite)"`` (the dispersions vary
            no more than sampling explains: every region gets the prior, with the
            pooled df); ``"prior (no residual df)"``; ``"prior (no events)"``;
            ``"residual (too few regions to moderate)"`` (fewer than two regions
            with residual df: no prior can be estimated, the residual dispersion
            is used alone); ``"none (no residual df, too few regions for a
            prior)"`` (dispersion NaN: the caller must say it cannot test).

        ``attrs`` holds ``trend`` (whether the prior is trended),
        ``trend_pvalue``, ``n_moderated`` (regions with residual df),
        ``pooled_df`` and ``robust`` (whether the robust fit was used).

    Notes
    -----
    *Trend rule* (``trend="auto"``): the trend is used when at least three regions
    have residual df, their rates take at least two values, and the natural-spline
    trend that limma would fit (``1 + (n >= 3) + (n >= 6) + (n >= 30)`` df) explains
    the log dispersions ``e_g = log phi_g - digamma(df_g/2) + log(df_g/2)`` better
    than a constant by an F test at ``trend_alpha`` (0.05). The test treats the
    ``e_g`` as homoscedastic, which they are only when the df are equal; it decides
    a modelling choice, not a verdict. With many regions a trend is cheap (a few
    spline df against thousands of regions), so the rule mainly keeps a handful of
    regions from spending their df on a trend they cannot show.

    *Sparse windows*: the Pearson dispersion of a window with few events
    underestimates an overdispersed (gamma-Poisson) count's dispersion: its
    expectation is about ``phi T / (T + phi - 1)`` for a window of ``T`` events
    (0.75 ``phi`` at 1 event a cell, 6 cells and ``phi = 3``). The trend then
    follows the biased estimates, and at 1-3 events a cell with variance 3 times
    the mean the moderated score F test rejects at 0.06-0.07 instead of 0.05
    (``benchmarks/dispersion_null.py``; 0.046-0.053 from 3 events a cell up, and
    over all rates 1-50). Such windows (under 20 events) are thin by the coverage
    rules anyway.

    *Underdispersion*: the posterior can be below 1. edgeR (``glmQLFTest``,
    ``poisson.bound = TRUE``) then never reports a p-value smaller than the
    Poisson test's; callers should do the same (``max(p_F, p_Poisson)`` where
    ``dispersion < 1``).

    Examples
    --------
    >>> res = moderated_dispersion([12.0, 25.0, 9.0, 14.0], [10, 10, 10, 0])
    >>> list(res.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['dispersion', 'dispersion_df', 'prior_dispersion', 'prior_df',
     'residual_dispersion', 'residual_df', 'source']
    """
    index = pearson_chi2.index if isinstance(pearson_chi2, pd.Series) else None
    chi2 = as_vector(pearson_chi2)
    n = chi2.size
    dfr = np.broadcast_to(as_vector(df_resid), (n,)).astype(float)
    if np.any(dfr < 0) or np.any(np.isnan(dfr)):
        raise ValueError("df_resid must be non-negative")
    if np.any(chi2 < 0):
        raise ValueError("pearson_chi2 must be non-negative")
    rate = None
    no_events = np.zeros(n, dtype=bool)
    if mean_rate is not None:
        rate = np.broadcast_to(as_vector(mean_rate), (n,)).astype(float)
        if np.any(~np.isfinite(rate)) or np.any(rate < 0):
            raise ValueError("mean_rate must be finite and non-negative")
        no_events = rate == 0
    df_eff = np.where(no_events | ~np.isfinite(chi2), 0.0, dfr)
    has_df = df_eff > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        residual = np.where(has_df, chi2 / df_eff, np.nan)
    n_mod = int(has_df.sum())
    pooled = float(dfr[np.isfinite(chi2) & ~no_events].sum())
    attrs: dict[str, Any] = {
        "trend": False, "trend_pvalue": np.nan, "n_moderated": n_mod, "pooled_df": pooled,
        "robust": bool(robust),
    }  # fmt: skip

    if n_mod < 2:
        out = pd.DataFrame(
            {
                "dispersion": residual,
                "dispersion_df": np.where(has_df, df_eff, np.nan),
                "prior_dispersion": np.nan,
                "prior_df": np.nan,
                "residual_dispersion": residual,
                "residual_df": df_eff,
                "source": np.where(has_df, _SOURCES["few"], _SOURCES["none"]).astype(object),
            },
            index=index,
        )
        out.attrs.update(attrs)
        return out

    cov = None
    if rate is not None and trend is not False:
        positive = rate > 0
        log_rate = np.log(np.where(positive, rate, rate[positive].min() if positive.any() else 1.0))
        if trend is True:
            use_trend = spline_df(n_mod, log_rate[has_df]) >= 2
        else:
            p, _ = _trend_pvalue(residual[has_df], df_eff[has_df], log_rate[has_df])
            attrs["trend_pvalue"] = p
            use_trend = bool(np.isfinite(p) and p < trend_alpha)
        if use_trend:
            cov = log_rate
    attrs["trend"] = cov is not None

    s2 = np.where(has_df, residual, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DispersionWarning)
        sq = None
        for rob, c in ((robust, cov), (False, cov), (False, None)):
            try:
                sq = squeeze_var(s2, df_eff, covariate=c, robust=rob)
            except ValueError:  # robust: variances mostly 0; trend: knots coincide
                continue
            attrs["robust"], attrs["trend"] = bool(rob), c is not None
            break
        if sq is None:  # pragma: no cover - the constant non-robust fit always exists here
            raise ValueError("could not estimate a prior dispersion")
    prior_var = np.broadcast_to(np.asarray(sq.prior_var, dtype=float), (n,)).copy()
    prior_df = np.broadcast_to(np.asarray(sq.prior_df, dtype=float), (n,)).copy()
    total = np.minimum(prior_df + df_eff, pooled)
    source = np.where(
        has_df,
        np.where(np.isinf(prior_df), _SOURCES["infinite"], _SOURCES["moderated"]),
        np.where(no_events, _SOURCES["no_events"], _SOURCES["no_df"]),
    ).astype(object)
    out = pd.DataFrame(
        {
            "dispersion": sq.var_post,
            "dispersion_df": total,
            "prior_dispersion": prior_var,
            "prior_df": prior_df,
            "residual_dispersion": residual,
            "residual_df": df_eff,
            "source": source,
        },
        index=index,
    )
    out.attrs.update(attrs)
    return out


#: How moderated_dispersion's sources read in a result ({own}: windows or series).
_SOURCE_WORDS = {
    "moderated": "{own} (moderated across regions)",
    "prior (prior df infinite)": "{own} (moderated: every region shares the prior)",
    "prior (no residual df)": "prior across regions",
    "prior (no events)": "prior across regions",
    "residual (too few regions to moderate)": "{own} (too few regions to moderate)",
}


def source_words(sources: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Where each dispersion of :func:`moderated_dispersion` came from, in words for a
    result table (``own``: what the region's residuals came from, e.g. "windows");
    "none (1 used)" where it came from nowhere."""
    return np.array(
        [
            _SOURCE_WORDS.get(s, "none (1 used)").format(own=o)
            for s, o in zip(sources, own, strict=True)
        ],
        dtype=object,
    )
