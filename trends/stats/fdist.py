"""limma's prior for residual variances: ``fitFDist`` and ``fitFDistRobustly``.

The scaled-F prior ``(s0^2, d0)`` of a set of residual variances, by matching the mean
and variance of their logs (Smyth 2004), optionally trended on a covariate (a natural
spline, as limma fits it), and its robust version that lets outlying variances have a
prior of their own (Phipson, Lee, Majewski, Alexander & Smyth 2016, Annals of Applied
Statistics 10:946). :mod:`trends.stats.dispersion` squeezes variances towards it.
Written anew from the published methods and the documented behaviour of limma 3.54
(R 4.x); ``tests/reference/make_limma_reference.R`` records the R calls the tests
compare against.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from ..errors import DispersionWarning
from .rnumerics import NaturalSpline, lowess, zeroin

__all__ = ["FDistFit", "FDistRobustFit", "trigamma_inverse", "fit_f_dist", "fit_f_dist_robustly"]


class FDistFit(NamedTuple):
    """Prior of the residual variances (limma's ``fitFDist`` value).

    Attributes
    ----------
    prior_var : float or ndarray
        ``s0^2``, the prior (scale) variance; limma's ``scale``. One value, or one
        per variance when a covariate was used.
    prior_df : float
        ``d0``, the prior degrees of freedom; limma's ``df2``. ``inf`` when the
        variances vary no more than sampling alone explains; ``0`` when a single
        usable variance leaves nothing to estimate it from; ``nan`` when nothing is
        usable.
    """

    prior_var: float | np.ndarray
    prior_df: float


class FDistRobustFit(NamedTuple):
    """Robust prior of the residual variances (limma's ``fitFDistRobustly`` value).

    Attributes
    ----------
    prior_var : float or ndarray
        ``s0^2`` (limma's ``scale``).
    prior_df : float
        ``d0`` fitted to the Winsorized variances (limma's ``df2``).
    prior_df_shrunk : ndarray
        Per-variance prior df, smaller for likely outliers (limma's ``df2.shrunk``);
        the df the posterior uses.
    """

    prior_var: float | np.ndarray
    prior_df: float
    prior_df_shrunk: np.ndarray


def trigamma_inverse(x: ArrayLike) -> np.ndarray:
    """Solve ``trigamma(y) = x`` for ``y`` (limma's ``trigammaInverse``).

    Newton's method on ``1 / trigamma(y) = 1 / x`` from ``y = 0.5 + 1 / x``, which
    converges monotonically (Smyth 2004, appendix). As limma does, ``1 / sqrt(x)`` is
    returned for ``x > 1e7`` and ``1 / x`` for ``x < 1e-6`` (the asymptotes), and NaN
    for negative ``x``.

    Parameters
    ----------
    x : array_like
        Positive values.

    Returns
    -------
    ndarray
        ``y`` with ``trigamma(y) = x``, same shape as ``x``.
    """
    x = np.asarray(x, dtype=float)
    y = np.full(x.shape, np.nan)
    big = x > 1e7
    small = (x < 1e-6) & (x >= 0)
    y[big] = 1.0 / np.sqrt(x[big])
    y[small] = 1.0 / x[small]
    mid = (x >= 1e-6) & (x <= 1e7)
    if mid.any():
        xm = x[mid]
        ym = 0.5 + 1.0 / xm
        active = np.ones(xm.shape, dtype=bool)
        for _ in range(60):
            tri = special.polygamma(1, ym[active])
            step = tri * (1.0 - tri / xm[active]) / special.polygamma(2, ym[active])
            ym[active] = ym[active] + step
            done = np.abs(step) / ym[active] < 1e-13
            idx = np.flatnonzero(active)
            active[idx[done]] = False
            if not active.any():
                break
        y[mid] = ym
    return y


def spline_df(n_ok: int, covariate: np.ndarray) -> int:
    """limma's choice of spline df for the covariate trend: 1 + (n >= 3) + (n >= 6)
    + (n >= 30), at most the number of distinct covariate values."""
    k = 1 + (n_ok >= 3) + (n_ok >= 6) + (n_ok >= 30)
    return int(min(k, np.unique(covariate).size))


def _finite_covariate(covariate: ArrayLike, n: int) -> np.ndarray:
    """limma's treatment of a covariate: NaN is an error, -inf / inf are moved one
    unit beyond the finite range (to -1 / 1 when no value is finite)."""
    cov = np.asarray(covariate, dtype=float).ravel().copy()
    if cov.size != n:
        raise ValueError("s2 and covariate must be of the same length")
    if np.isnan(cov).any():
        raise ValueError("NA covariate values not allowed")
    fin = np.isfinite(cov)
    if not fin.all():
        if fin.any():
            lo, hi = cov[fin].min(), cov[fin].max()
            cov[cov == -np.inf] = lo - 1.0
            cov[cov == np.inf] = hi + 1.0
        else:
            cov = np.sign(cov)
    return cov


def log_variance_scores(x: np.ndarray, df1: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Floored variances and ``e = log s2 - digamma(df/2) + log(df/2)`` (limma): the
    variances are floored at 0, then at 1e-5 times their median (1e-5 when more
    than half are zero), with a warning when any was zero."""
    x = np.maximum(x, 0.0)
    m = float(np.median(x))
    if m == 0.0:
        warnings.warn(
            "More than half of residual variances are exactly zero: eBayes unreliable",
            DispersionWarning,
            stacklevel=3,
        )
        m = 1.0
    elif np.any(x == 0):
        warnings.warn(
            "Zero sample variances detected, have been offset away from zero",
            DispersionWarning,
            stacklevel=3,
        )
    x = np.maximum(x, 1e-5 * m)
    e = np.log(x) - special.digamma(np.asarray(df1) / 2.0) + np.log(np.asarray(df1) / 2.0)
    return x, e


def as_vector(v: ArrayLike) -> np.ndarray:
    return np.atleast_1d(np.asarray(v, dtype=float)).ravel()


def fit_f_dist(s2: ArrayLike, df: ArrayLike, *, covariate: ArrayLike | None = None) -> FDistFit:
    """Moment estimates of the scaled F distribution of residual variances.

    Fits ``s2_g ~ s0^2 F(df_g, d0)`` to variances ``s2_g`` on ``df_g`` degrees of
    freedom by matching the mean and variance of ``e_g = log s2_g - digamma(df_g/2)
    + log(df_g/2)``: ``Var(e) - mean(trigamma(df_g/2)) = trigamma(d0/2)``, solved by
    :func:`trigamma_inverse` (Smyth 2004, section 6.2). Same results as R's
    ``limma::fitFDist(x = s2, df1 = df, covariate = covariate)`` (limma 3.54).

    Parameters
    ----------
    s2 : array_like
        Residual variances (dispersions), one per unit.
    df : array_like
        Their residual degrees of freedom: one value for all, or one per unit.
        Units with ``df <= 1e-15`` or non-finite ``df`` or ``s2`` (or ``s2 < 0``)
        do not enter the fit.
    covariate : array_like, optional
        When given, ``log s0^2`` is a natural cubic spline in it: ``splines::ns``
        with ``1 + (n >= 3) + (n >= 6) + (n >= 30)`` df (``n`` usable units, at
        most the number of distinct covariate values; a constant prior below 2),
        knots at equally spaced quantiles, fitted to ``e`` by least squares;
        excluded units get the spline's prediction (linear beyond the range).

    Returns
    -------
    FDistFit
        ``prior_var`` (``s0^2``; an array, one per unit, when a covariate was used)
        and ``prior_df`` (``d0``, possibly ``inf``).

    Notes
    -----
    As in limma: zero variances are offset to ``1e-5`` times the median variance
    with a :class:`~trends.errors.DispersionWarning` (more than half zero: offset
    ``1e-5``, and the fit is unreliable); when ``Var(e)`` does not exceed the
    sampling variance ``d0`` is infinite and ``s0^2`` is the mean of the (floored)
    variances, or ``exp`` of the trend with a covariate; a single usable unit gives
    ``s0^2`` = its variance and ``d0 = 0``; one unit in all gives the same.
    """
    x = as_vector(s2)
    n = x.size
    if n < 2:
        return FDistFit(float(x[0]), 0.0) if n == 1 else FDistFit(np.nan, np.nan)
    usable = _usable(x, as_vector(df))
    if usable is None:
        return FDistFit(np.nan, np.nan)
    ok, df1_all = usable
    cov = None if covariate is None else _finite_covariate(covariate, n)
    n_ok = int(ok.sum())
    if n_ok < 2:
        return FDistFit(float(x[ok][0]), 0.0) if n_ok == 1 else FDistFit(np.nan, np.nan)
    x_ok = x[ok]
    df_ok = df1_all if np.ndim(df1_all) == 0 else df1_all[ok]
    if cov is not None and spline_df(n_ok, cov[ok]) < 2:
        fit = fit_f_dist(x_ok, df_ok)
        return FDistFit(np.full(n, fit.prior_var), fit.prior_df)
    x_ok, e = log_variance_scores(x_ok, df_ok)
    emean, evar = _log_moments(e, ok, cov)
    evar -= float(np.mean(special.polygamma(1, np.asarray(df_ok) / 2.0)))
    if evar > 0:
        d0 = 2.0 * float(trigamma_inverse(evar))
        s20 = np.exp(np.asarray(emean) + special.digamma(d0 / 2.0) - np.log(d0 / 2.0))
    else:
        d0 = np.inf
        s20 = np.asarray(np.mean(x_ok) if cov is None else np.exp(emean))
    return FDistFit(float(s20) if s20.ndim == 0 else s20, d0)


def _usable(x: np.ndarray, df1: np.ndarray) -> tuple[np.ndarray, np.ndarray | float] | None:
    """Which units enter the fit (finite, non-negative variance on positive df) and
    their df (a number when one for all); None when the one df given is unusable."""
    n = x.size
    if df1.size == 1:
        if not (np.isfinite(df1[0]) and df1[0] > 1e-15):
            return None
        ok = np.ones(n, dtype=bool)
        df1_all: np.ndarray | float = float(df1[0])
    elif df1.size != n:
        raise ValueError("s2 and df have different lengths")
    else:
        ok = np.isfinite(df1) & (df1 > 1e-15)
        df1_all = df1
    with np.errstate(invalid="ignore"):
        ok &= np.isfinite(x) & (x > -1e-15)
    return ok, df1_all


def _log_moments(
    e: np.ndarray, ok: np.ndarray, cov: np.ndarray | None
) -> tuple[float | np.ndarray, float]:
    """Mean (per unit, from the natural-spline trend, with a covariate) and residual
    variance of the log-variance scores ``e`` of the usable units ``ok``."""
    n_ok = e.size
    if cov is None:
        emean = float(np.mean(e))
        return emean, float(np.sum((e - emean) ** 2) / (n_ok - 1))
    spline = NaturalSpline(cov[ok], spline_df(n_ok, cov[ok]))
    design = spline.basis(cov[ok])
    coef, _, rank, _ = np.linalg.lstsq(design, e, rcond=None)
    fitted = design @ coef
    evar = float(np.sum((e - fitted) ** 2) / (n_ok - rank))
    if ok.all():
        return fitted, evar
    full = np.empty(ok.size)
    full[ok] = fitted
    full[~ok] = spline.basis(cov[~ok]) @ coef
    return full, evar


def _f_logsf(x: np.ndarray, d1: Any, d2: float) -> np.ndarray:
    if np.isinf(d2):
        return stats.chi2.logsf(np.asarray(x) * d1, d1)
    return stats.f.logsf(x, d1, d2)


def _f_logcdf(x: np.ndarray, d1: Any, d2: float) -> np.ndarray:
    if np.isinf(d2):
        return stats.chi2.logcdf(np.asarray(x) * d1, d1)
    return stats.f.logcdf(x, d1, d2)


def _f_ppf(p: np.ndarray, d1: float, d2: float) -> np.ndarray:
    if np.isinf(d2):
        return stats.chi2.ppf(p, d1) / d1
    return stats.f.ppf(p, d1, d2)


def _f_isf(p: np.ndarray, d1: float, d2: float) -> np.ndarray:
    if np.isinf(d2):
        return stats.chi2.isf(p, d1) / d1
    return stats.f.isf(p, d1, d2)


def _f_pdf(x: np.ndarray, d1: float, d2: float) -> np.ndarray:
    if np.isinf(d2):
        return stats.chi2.pdf(x * d1, d1) * d1
    return stats.f.pdf(x, d1, d2)


_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(128)
_GAUSS_NODES = (_GAUSS_NODES + 1.0) / 2.0  # Gauss-Legendre on [0, 1], weights sum to 1


_GAUSS_WEIGHTS = _GAUSS_WEIGHTS / 2.0


def _winsorized_moments(d1: float, d2: float, tail_p: np.ndarray) -> tuple[float, float]:
    """Mean and variance of ``log F(d1, d2)`` Winsorized at the ``tail_p`` tails,
    by 128-point Gauss-Legendre quadrature on the scale ``F / (1 + F)`` (Phipson et
    al. 2016; as limma's ``fitFDistRobustly``)."""
    fq = np.r_[_f_ppf(tail_p[0], d1, d2), _f_isf(tail_p[1], d1, d2)]
    zq = np.log(fq)
    q = fq / (1.0 + fq)
    q21 = q[1] - q[0]
    nodes = q[0] + q21 * _GAUSS_NODES
    fnodes = nodes / (1.0 - nodes)
    znodes = np.log(fnodes)
    dens = _f_pdf(fnodes, d1, d2) / (1.0 - nodes) ** 2
    m = q21 * np.sum(_GAUSS_WEIGHTS * dens * znodes) + np.sum(zq * tail_p)
    v = q21 * np.sum(_GAUSS_WEIGHTS * dens * (znodes - m) ** 2) + np.sum((zq - m) ** 2 * tail_p)
    return float(m), float(v)


def fit_f_dist_robustly(
    s2: ArrayLike,
    df: ArrayLike,
    *,
    covariate: ArrayLike | None = None,
    winsor_tail_p: tuple[float, float] = (0.05, 0.1),
) -> FDistRobustFit:
    """Robust estimate of the scaled F distribution of residual variances.

    Phipson et al. (2016): ``d0`` matched to the variance of the Winsorized
    ``log s2`` (Winsorized at ``winsor_tail_p``, lower and upper), with the
    Winsorized moments of ``log F(df, d0)`` by quadrature; then each unit's prior df
    is shrunk by its probability of being an outlier. The algorithm of R's
    ``limma:::fitFDistRobustly(x = s2, df1 = df, covariate, winsor.tail.p)``
    (limma 3.54), including the transformation of variances on fewer df to the
    largest df, the trimmed-mean trend (``lowess`` with span 0.4 and a covariate)
    and the root of the moment equation found by Brent's method with
    ``tol = 1e-8`` as ``uniroot`` does.

    Parameters
    ----------
    s2, df : array_like
        Residual variances and their df (one value or one per unit). Units with
        ``df <= 1e-6`` (or non-finite) do not enter the fit and get ``d0``.
    covariate : array_like, optional
        Abundance covariate: the trend is ``lowess`` with span 0.4 and 3
        robustness iterations (limma's ``loessFit``), as R computes it.
    winsor_tail_p : (float, float)
        Lower and upper tail proportions Winsorized.

    Returns
    -------
    FDistRobustFit
        ``prior_var``, ``prior_df`` and the per-unit ``prior_df_shrunk``.

    Notes
    -----
    With exactly two units limma returns the non-robust fit without
    ``df2.shrunk`` (so ``squeezeVar(robust = TRUE)`` returns an empty vector);
    here ``prior_df_shrunk`` is then ``d0`` for both. Median variance ``<= 0`` is
    an error, as in limma.
    """
    x = as_vector(s2).copy()
    n = x.size
    if n < 2:
        return FDistRobustFit(np.nan, np.nan, np.full(n, np.nan))
    if n == 2:
        fit = fit_f_dist(x, df, covariate=covariate)
        return FDistRobustFit(fit.prior_var, fit.prior_df, np.full(n, fit.prior_df))
    df1 = as_vector(df)
    if df1.size not in (1, n):
        raise ValueError("s2 and df are different lengths")
    cov = None if covariate is None else _robust_covariate(covariate, n)
    tail_p = np.resize(np.asarray(winsor_tail_p, dtype=float), 2)
    ok = np.broadcast_to(~np.isnan(x) & np.isfinite(df1) & (df1 > 1e-6), (n,))
    if not ok.all():
        return _on_usable(x, df1, cov, ok, winsor_tail_p)
    _offset_tiny(x)
    nonrobust = fit_f_dist(x, df1, covariate=cov)
    if np.all(tail_p < 1.0 / n):
        return FDistRobustFit(
            nonrobust.prior_var, nonrobust.prior_df, np.full(n, nonrobust.prior_df)
        )
    d1 = _to_largest_df(x, df1, nonrobust, cov)
    z = np.log(x)
    ztrend, zwmean, zwvar = _winsorized_log(z, cov, tail_p)
    mom_mean, mom_var = _winsorized_moments(d1, np.inf, tail_p)
    funval_inf = np.log(zwvar / mom_var)
    if funval_inf <= 0:
        return _infinite_prior(z, ztrend + zwmean - mom_mean, d1)
    if np.isinf(nonrobust.prior_df):
        return FDistRobustFit(nonrobust.prior_var, np.inf, np.full(n, np.inf))

    def moment_equation(u: float) -> float:
        return float(np.log(zwvar / _winsorized_moments(d1, u / (1.0 - u), tail_p)[1]))

    rbx = nonrobust.prior_df / (1.0 + nonrobust.prior_df)
    funval_low = moment_equation(rbx)
    if funval_low >= 0:
        d0 = nonrobust.prior_df
    else:
        root = zeroin(moment_equation, rbx, 1.0, funval_low, funval_inf, tol=1e-8)
        d0 = root / (1.0 - root)
    mom_mean, _ = _winsorized_moments(d1, d0, tail_p)
    ztc = ztrend + zwmean - mom_mean
    fstat = np.exp(z - ztc)
    return FDistRobustFit(_scalar_or_array(np.exp(ztc)), float(d0), _shrunk_df(fstat, d1, d0))


def _robust_covariate(covariate: ArrayLike, n: int) -> np.ndarray:
    cov = as_vector(covariate)
    if cov.size != n:
        raise ValueError("s2 and covariate are different lengths")
    if not np.isfinite(cov).all():
        raise ValueError("covariate contains NA or infinite values")
    return cov


def _on_usable(
    x: np.ndarray,
    df1: np.ndarray,
    cov: np.ndarray | None,
    ok: np.ndarray,
    winsor_tail_p: tuple[float, float],
) -> FDistRobustFit:
    """The robust fit of the usable units; the others get the prior df (and the prior
    variance interpolated on the covariate, as R's ``approx(ties = mean)``)."""
    n = x.size
    sub = fit_f_dist_robustly(
        x[ok], df1 if df1.size == 1 else df1[ok],
        covariate=None if cov is None else cov[ok], winsor_tail_p=winsor_tail_p,
    )  # fmt: skip
    shrunk = np.empty(n)
    shrunk[ok] = sub.prior_df_shrunk
    shrunk[~ok] = sub.prior_df
    if cov is None:
        return FDistRobustFit(sub.prior_var, sub.prior_df, shrunk)
    scale = np.empty(n)
    scale[ok] = sub.prior_var
    xs, inv = np.unique(cov[ok], return_inverse=True)
    ys = np.bincount(inv, weights=np.log(sub.prior_var)) / np.bincount(inv)
    scale[~ok] = np.exp(np.interp(cov[~ok], xs, ys))
    return FDistRobustFit(scale, sub.prior_df, shrunk)


def _offset_tiny(x: np.ndarray) -> None:
    """Variances below 1e-12 of the median are raised to it (in place), as limma does."""
    m = float(np.median(x))
    if m <= 0:
        raise ValueError("Variances are mostly <= 0")
    tiny = x < m * 1e-12
    if tiny.any():
        warnings.warn(
            f"{int(tiny.sum())} very small variance(s) detected, have been offset away from zero",
            DispersionWarning,
            stacklevel=3,
        )
        x[tiny] = m * 1e-12


def _to_largest_df(
    x: np.ndarray, df1: np.ndarray, nonrobust: FDistFit, cov: np.ndarray | None
) -> float:
    """Variances on fewer df moved (in place) to the same tail probability on the
    largest df; returns that df."""
    if df1.size == 1:
        return float(df1[0])
    df1max = float(df1.max())
    lower = df1 < df1max - 1e-14
    if not lower.any():
        return float(df1[0])
    s = nonrobust.prior_var if cov is None else np.asarray(nonrobust.prior_var)[lower]
    f = x[lower] / s
    d2 = nonrobust.prior_df
    p_up = _f_logsf(f, df1[lower], d2)
    p_low = _f_logcdf(f, df1[lower], d2)
    up = p_up < p_low
    f = np.where(
        up,
        _f_isf(np.exp(np.where(up, p_up, -1.0)), df1max, d2),
        _f_ppf(np.exp(np.where(up, -1.0, p_low)), df1max, d2),
    )
    x[lower] = f * s
    return df1max


def _winsorized_log(
    z: np.ndarray, cov: np.ndarray | None, tail_p: np.ndarray
) -> tuple[float | np.ndarray, float, float]:
    """The trend of the log variances (a trimmed mean, or ``lowess`` on the covariate)
    and the mean and variance of the Winsorized residuals about it."""
    n = z.size
    if cov is None:
        ztrend: float | np.ndarray = float(stats.trim_mean(z, tail_p[1]))
    else:
        ztrend = lowess(z, cov, span=0.4, iterations=4)
    zresid = z - ztrend
    zrq = np.quantile(zresid, np.array([tail_p[0], 1.0 - tail_p[1]]))
    zwins = np.clip(zresid, zrq[0], zrq[1])
    zwmean = float(np.mean(zwins))
    zwvar = float(np.mean((zwins - zwmean) ** 2) * n / (n - 1))
    return ztrend, zwmean, zwvar


def _infinite_prior(z: np.ndarray, ztc: float | np.ndarray, d1: float) -> FDistRobustFit:
    """The Winsorized variance is no more than sampling explains: ``d0`` infinite, with
    each unit's df shrunk by its chance of being an outlier against chi-square(d1)."""
    n = z.size
    fstat = np.exp(z - ztc)
    tail = stats.chi2.sf(fstat * d1, d1)
    r = stats.rankdata(fstat)
    not_outlier = np.minimum(tail / ((n - r + 0.5) / n), 1.0)
    shrunk = np.full(n, np.inf)
    out = not_outlier < 1
    if out.any():
        shrunk[out] = not_outlier[out] * (n * d1)
        o = np.argsort(tail, kind="stable")
        shrunk[o] = np.maximum.accumulate(shrunk[o])
    return FDistRobustFit(_scalar_or_array(np.exp(ztc)), np.inf, shrunk)


def _shrunk_df(fstat: np.ndarray, d1: float, d0: float) -> np.ndarray:
    """Each unit's prior df, shrunk by its probability of being an outlier
    (Phipson et al. 2016), made monotone in the tail probability as limma does."""
    n = fstat.size
    log_tail = _f_logsf(fstat, d1, d0)
    r = stats.rankdata(fstat)
    log_not_outlier = np.minimum(log_tail - (np.log(n - r + 0.5) - np.log(n)), 0.0)
    if not np.any(log_not_outlier < 0):
        return np.full(n, d0)
    not_outlier = np.exp(log_not_outlier)
    outlier = -np.expm1(log_not_outlier)
    min_log_tail = float(np.min(log_tail))
    if min_log_tail == -np.inf:
        shrunk = not_outlier * d0
    else:
        d0_outlier = np.log(0.5) / min_log_tail * d0
        new_log_tail = float(_f_logsf(np.max(fstat), d1, d0_outlier))
        d0_outlier = np.log(0.5) / new_log_tail * d0_outlier
        shrunk = not_outlier * d0 + outlier * d0_outlier
    o = np.argsort(log_tail, kind="stable")
    ordered = shrunk[o]
    running = np.cumsum(ordered) / np.arange(1, n + 1)
    imin = int(np.argmin(running))
    ordered[: imin + 1] = running[imin]
    out = np.empty(n)
    out[o] = np.maximum.accumulate(ordered)
    return out


def _scalar_or_array(v: Any) -> float | np.ndarray:
    v = np.asarray(v, dtype=float)
    return float(v) if v.ndim == 0 else v
