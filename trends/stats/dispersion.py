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
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import interpolate, special, stats

from ..errors import DispersionWarning

__all__ = [
    "FDistFit",
    "FDistRobustFit",
    "SqueezeVarResult",
    "GroupResiduals",
    "trigamma_inverse",
    "fit_f_dist",
    "fit_f_dist_robustly",
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


class _NaturalSpline:
    """Natural cubic spline basis with an intercept, as ``splines::ns(x, df,
    intercept = TRUE)`` builds it: boundary knots at the range of ``x``,
    ``df - 2`` interior knots at equally spaced quantiles (R's type 7), cubic
    B-splines constrained to zero second derivative at both boundary knots, and
    linear continuation beyond them (``predict.ns``).

    The basis spans the same space as R's (the columns may differ by an invertible
    linear map), so least-squares fitted values and predictions are the same.
    """

    def __init__(self, x: np.ndarray, df: int) -> None:
        lo, hi = float(np.min(x)), float(np.max(x))
        n_interior = df - 2
        if n_interior > 0:
            probs = np.linspace(0.0, 1.0, n_interior + 2)[1:-1]
            interior = np.quantile(x, probs)
        else:
            interior = np.empty(0)
        if not lo < hi or np.any(interior <= lo) or np.any(interior >= hi):
            raise ValueError("Problem with covariate: knots coincide")
        self.lo, self.hi = lo, hi
        self.knots = np.r_[[lo] * 4, interior, [hi] * 4]
        n_basis = len(self.knots) - 4
        self._spline = interpolate.BSpline(self.knots, np.eye(n_basis), 3, extrapolate=True)
        d2 = self._spline.derivative(2)
        const = np.vstack([d2(lo), d2(hi)])  # 2 x n_basis
        q, _ = np.linalg.qr(const.T, mode="complete")
        self._null = q[:, 2:]  # n_basis x df: B-spline combinations with the constraints
        d1 = self._spline.derivative(1)
        self._edge = {
            "lo": (self._spline(lo) @ self._null, d1(lo) @ self._null),
            "hi": (self._spline(hi) @ self._null, d1(hi) @ self._null),
        }

    def basis(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        out = np.empty((x.size, self._null.shape[1]))
        inside = (x >= self.lo) & (x <= self.hi)
        if inside.any():
            out[inside] = self._spline(x[inside]) @ self._null
        for side, mask, pivot in (("lo", x < self.lo, self.lo), ("hi", x > self.hi, self.hi)):
            if mask.any():
                value, slope = self._edge[side]
                out[mask] = value[None, :] + (x[mask] - pivot)[:, None] * slope[None, :]
        return out


def _spline_df(n_ok: int, covariate: np.ndarray) -> int:
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


def _log_variance_scores(x: np.ndarray, df1: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
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


def _as_vector(v: ArrayLike) -> np.ndarray:
    return np.atleast_1d(np.asarray(v, dtype=float)).ravel()


# --------------------------------------------------------------------------- fitFDist


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
    x = _as_vector(s2)
    n = x.size
    if n == 0:
        return FDistFit(np.nan, np.nan)
    if n == 1:
        return FDistFit(float(x[0]), 0.0)
    df1 = _as_vector(df)
    if df1.size == 1:
        if not (np.isfinite(df1[0]) and df1[0] > 1e-15):
            return FDistFit(np.nan, np.nan)
        ok = np.ones(n, dtype=bool)
        df1_all: np.ndarray | float = float(df1[0])
    elif df1.size != n:
        raise ValueError("s2 and df have different lengths")
    else:
        ok = np.isfinite(df1) & (df1 > 1e-15)
        df1_all = df1
    cov = None if covariate is None else _finite_covariate(covariate, n)
    with np.errstate(invalid="ignore"):
        ok &= np.isfinite(x) & (x > -1e-15)
    n_ok = int(ok.sum())
    if n_ok == 1:
        return FDistFit(float(x[ok][0]), 0.0)
    if n_ok == 0:
        return FDistFit(np.nan, np.nan)
    all_ok = n_ok == n
    x_ok = x[ok]
    df_ok = df1_all if np.ndim(df1_all) == 0 else df1_all[ok]
    if cov is not None:
        cov_ok = cov[ok]
        spline_df = _spline_df(n_ok, cov_ok)
        if spline_df < 2:
            fit = fit_f_dist(x_ok, df_ok)
            return FDistFit(np.full(n, fit.prior_var), fit.prior_df)
    x_ok, e = _log_variance_scores(x_ok, df_ok)
    if cov is None:
        emean: float | np.ndarray = float(np.mean(e))
        evar = float(np.sum((e - emean) ** 2) / (n_ok - 1))
    else:
        spline = _NaturalSpline(cov_ok, spline_df)
        design = spline.basis(cov_ok)
        coef, _, rank, _ = np.linalg.lstsq(design, e, rcond=None)
        fitted = design @ coef
        evar = float(np.sum((e - fitted) ** 2) / (n_ok - rank))
        if all_ok:
            emean = fitted
        else:
            emean = np.empty(n)
            emean[ok] = fitted
            emean[~ok] = spline.basis(cov[~ok]) @ coef
    evar -= float(np.mean(special.polygamma(1, np.asarray(df_ok) / 2.0)))
    if evar > 0:
        d0 = 2.0 * float(trigamma_inverse(evar))
        s20 = np.exp(np.asarray(emean) + special.digamma(d0 / 2.0) - np.log(d0 / 2.0))
    else:
        d0 = np.inf
        s20 = np.asarray(np.mean(x_ok) if cov is None else np.exp(emean))
    return FDistFit(float(s20) if s20.ndim == 0 else s20, d0)


# --------------------------------------------------------------------------- robust


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


def _zeroin(
    f: Callable[[float], float], a: float, b: float, fa: float, fb: float, tol: float,
    maxit: int = 1000,
) -> float:  # fmt: skip
    """Brent's (1973) root finder in the classic ``zeroin`` form, the algorithm of
    R's ``uniroot``: inverse quadratic or secant steps kept inside the bracket,
    bisection otherwise, stopping when the bracket is within
    ``2 eps |b| + tol / 2``. Following the same steps keeps the root where
    ``uniroot(tol = tol)`` leaves it, not only within ``tol`` of the exact root."""
    eps = np.finfo(float).eps
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):  # make b the best approximation so far
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2.0 * eps * abs(b) + tol / 2.0
        new_step = (c - b) / 2.0
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:  # secant
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:  # inverse quadratic interpolation
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2.0) and p < abs(prev_step * q / 2.0):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _lowest(
    x: np.ndarray, y: np.ndarray, xs: float, nleft: int, nright: int, rw: np.ndarray | None
) -> float | None:
    """One local linear fit of Cleveland's lowess at ``xs`` over the neighbours
    ``nleft..nright`` (and ties beyond), tricube weights times robustness weights
    ``rw``; ``None`` when every weight is zero."""
    n = x.size
    span = x[n - 1] - x[0]
    h = max(xs - x[nleft], x[nright] - xs)
    h9, h1 = 0.999 * h, 0.001 * h
    r = np.abs(x[nleft:] - xs)
    beyond = np.flatnonzero((r > h9) & (x[nleft:] > xs))
    stop = nleft + (beyond[0] if beyond.size else n - nleft)
    r = r[: stop - nleft]
    w = np.where(r <= h9, np.where(r <= h1, 1.0, (1.0 - (r / h) ** 3) ** 3), 0.0)
    if rw is not None:
        w = w * rw[nleft:stop]
    a = w.sum()
    if a <= 0:
        return None
    w = w / a
    xx = x[nleft:stop]
    if h > 0:
        centre = np.sum(w * xx)
        c = np.sum(w * (xx - centre) ** 2)
        if np.sqrt(c) > 0.001 * span:
            b = (xs - centre) / c
            w = w * (b * (xx - centre) + 1.0)
    return float(np.sum(w * y[nleft:stop]))


def _clowess(x: np.ndarray, y: np.ndarray, f: float, nsteps: int, delta: float) -> np.ndarray:
    """Cleveland's (1979) robust locally weighted regression on sorted ``x``, the
    algorithm and conventions of R's ``lowess`` (``clowess``): ``floor(f n)``
    neighbours (at least 2), fits at points ``delta`` apart with linear
    interpolation between, ties given the fit of the first, ``nsteps`` robustness
    iterations with bisquare weights at six median absolute residuals, weights 1 and
    0 within 0.1% of the ends of the tricube and bisquare windows."""
    n = x.size
    if n < 2:
        return y.astype(float).copy()
    ns = max(2, min(n, int(f * n + 1e-7)))
    ys = np.empty(n)
    rw: np.ndarray | None = None
    for step in range(nsteps + 1):
        nleft, nright, last, i = 0, ns - 1, -1, 0
        while True:
            if nright < n - 1:
                if x[i] - x[nleft] > x[nright + 1] - x[i]:
                    nleft += 1
                    nright += 1
                    continue
            fit = _lowest(x, y, float(x[i]), nleft, nright, rw)
            ys[i] = y[i] if fit is None else fit
            if last < i - 1:
                denom = x[i] - x[last]
                j = np.arange(last + 1, i)
                alpha = (x[j] - x[last]) / denom
                ys[j] = alpha * ys[i] + (1.0 - alpha) * ys[last]
            last = i
            cut = x[last] + delta
            i = last + 1
            while i < n:
                if x[i] > cut:
                    break
                if x[i] == x[last]:
                    ys[i] = ys[last]
                    last = i
                i += 1
            i = max(last + 1, i - 1)
            if last >= n - 1:
                break
        res = y - ys
        if step == nsteps:
            break
        scale = np.mean(np.abs(res))
        cmad = 6.0 * float(np.median(np.abs(res)))
        if cmad < 1e-7 * scale:
            break
        r = np.abs(res)
        rw = np.where(
            r <= 0.001 * cmad, 1.0, np.where(r <= 0.999 * cmad, (1.0 - (r / cmad) ** 2) ** 2, 0.0)
        )
    return ys


def _lowess(z: np.ndarray, x: np.ndarray, span: float, iterations: int) -> np.ndarray:
    """Fitted values of R's ``lowess(x, z, f = span, iter = iterations - 1)`` with its
    default ``delta`` (the unweighted branch of limma's ``loessFit``), in the input
    order."""
    o = np.argsort(x, kind="stable")
    delta = 0.01 * float(np.ptp(x))
    fitted = np.empty(x.size)
    fitted[o] = _clowess(x[o], z[o], span, iterations - 1, delta)
    return fitted


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
    x = _as_vector(s2).copy()
    n = x.size
    if n < 2:
        return FDistRobustFit(np.nan, np.nan, np.full(n, np.nan))
    if n == 2:
        fit = fit_f_dist(x, df, covariate=covariate)
        return FDistRobustFit(fit.prior_var, fit.prior_df, np.full(n, fit.prior_df))
    df1 = _as_vector(df)
    if df1.size not in (1, n):
        raise ValueError("s2 and df are different lengths")
    cov = None
    if covariate is not None:
        cov = _as_vector(covariate)
        if cov.size != n:
            raise ValueError("s2 and covariate are different lengths")
        if not np.isfinite(cov).all():
            raise ValueError("covariate contains NA or infinite values")
    tail_p = np.resize(np.asarray(winsor_tail_p, dtype=float), 2)
    ok = ~np.isnan(x) & np.isfinite(df1) & (df1 > 1e-6)
    ok = np.broadcast_to(ok, (n,))
    if not ok.all():
        sub = fit_f_dist_robustly(
            x[ok], df1 if df1.size == 1 else df1[ok],
            covariate=None if cov is None else cov[ok], winsor_tail_p=winsor_tail_p,
        )  # fmt: skip
        shrunk = np.empty(n)
        shrunk[ok] = sub.prior_df_shrunk
        shrunk[~ok] = sub.prior_df
        if cov is None:
            scale: float | np.ndarray = sub.prior_var
        else:
            scale = np.empty(n)
            scale[ok] = sub.prior_var
            xs, inv = np.unique(cov[ok], return_inverse=True)  # approx(ties = mean)
            ys = np.bincount(inv, weights=np.log(sub.prior_var)) / np.bincount(inv)
            scale[~ok] = np.exp(np.interp(cov[~ok], xs, ys))
        return FDistRobustFit(scale, sub.prior_df, shrunk)

    m = float(np.median(x))
    if m <= 0:
        raise ValueError("Variances are mostly <= 0")
    tiny = x < m * 1e-12
    if tiny.any():
        warnings.warn(
            f"{int(tiny.sum())} very small variance(s) detected, have been offset away from zero",
            DispersionWarning,
            stacklevel=2,
        )
        x[tiny] = m * 1e-12
    nonrobust = fit_f_dist(x, df1, covariate=cov)
    if np.all(tail_p < 1.0 / n):
        return FDistRobustFit(
            nonrobust.prior_var, nonrobust.prior_df, np.full(n, nonrobust.prior_df)
        )
    prob = np.array([tail_p[0], 1.0 - tail_p[1]])
    if df1.size > 1:
        df1max = float(df1.max())
        lower = df1 < df1max - 1e-14
        if lower.any():
            # variances on fewer df moved to the same tail probability on df1max
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
            d1: float = df1max
        else:
            d1 = float(df1[0])
    else:
        d1 = float(df1[0])

    z = np.log(x)
    if cov is None:
        ztrend: float | np.ndarray = float(stats.trim_mean(z, tail_p[1]))
    else:
        ztrend = _lowess(z, cov, span=0.4, iterations=4)
    zresid = z - ztrend
    zrq = np.quantile(zresid, prob)
    zwins = np.clip(zresid, zrq[0], zrq[1])
    zwmean = float(np.mean(zwins))
    zwvar = float(np.mean((zwins - zwmean) ** 2) * n / (n - 1))

    mom_mean, mom_var = _winsorized_moments(d1, np.inf, tail_p)
    funval_inf = np.log(zwvar / mom_var)
    if funval_inf <= 0:
        ztc = ztrend + zwmean - mom_mean
        s20 = np.exp(ztc)
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
        return FDistRobustFit(_scalar_or_array(s20), np.inf, shrunk)

    if np.isinf(nonrobust.prior_df):
        return FDistRobustFit(nonrobust.prior_var, np.inf, np.full(n, np.inf))

    def moment_equation(u: float) -> float:
        return float(np.log(zwvar / _winsorized_moments(d1, u / (1.0 - u), tail_p)[1]))

    rbx = nonrobust.prior_df / (1.0 + nonrobust.prior_df)
    funval_low = moment_equation(rbx)
    if funval_low >= 0:
        d0 = nonrobust.prior_df
    else:
        root = _zeroin(moment_equation, rbx, 1.0, funval_low, funval_inf, tol=1e-8)
        d0 = root / (1.0 - root)
    mom_mean, _ = _winsorized_moments(d1, d0, tail_p)
    ztc = ztrend + zwmean - mom_mean
    s20 = np.exp(ztc)
    fstat = np.exp(z - ztc)
    log_tail = _f_logsf(fstat, d1, d0)
    r = stats.rankdata(fstat)
    log_not_outlier = np.minimum(log_tail - (np.log(n - r + 0.5) - np.log(n)), 0.0)
    not_outlier = np.exp(log_not_outlier)
    outlier = -np.expm1(log_not_outlier)
    if np.any(log_not_outlier < 0):
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
        shrunk = np.empty(n)
        shrunk[o] = np.maximum.accumulate(ordered)
    else:
        shrunk = np.full(n, d0)
    return FDistRobustFit(_scalar_or_array(s20), float(d0), shrunk)


def _scalar_or_array(v: Any) -> float | np.ndarray:
    v = np.asarray(v, dtype=float)
    return float(v) if v.ndim == 0 else v


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
    var = _as_vector(s2).copy()
    n = var.size
    if n == 0:
        raise ValueError("s2 is empty")
    if n == 1:
        return SqueezeVarResult(var.copy(), float(var[0]), 0.0)
    df_arr = _as_vector(df)
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
    spline_df = _spline_df(n_ok, cov)
    if spline_df < 2:
        return np.nan, spline_df
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DispersionWarning)
        _, e = _log_variance_scores(s2, df)
    try:
        design = _NaturalSpline(cov, spline_df).basis(cov)
    except ValueError:
        return np.nan, 1
    coef, _, rank, _ = np.linalg.lstsq(design, e, rcond=None)
    rss1 = float(np.sum((e - design @ coef) ** 2))
    rss0 = float(np.sum((e - e.mean()) ** 2))
    df_num, df_den = rank - 1, n_ok - rank
    if df_num < 1 or df_den < 1 or rss1 <= 0:
        return np.nan, spline_df
    fstat = ((rss0 - rss1) / df_num) / (rss1 / df_den)
    return float(stats.f.sf(fstat, df_num, df_den)), spline_df


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
    chi2 = _as_vector(pearson_chi2)
    n = chi2.size
    dfr = np.broadcast_to(_as_vector(df_resid), (n,)).astype(float)
    if np.any(dfr < 0) or np.any(np.isnan(dfr)):
        raise ValueError("df_resid must be non-negative")
    if np.any(chi2 < 0):
        raise ValueError("pearson_chi2 must be non-negative")
    rate = None
    no_events = np.zeros(n, dtype=bool)
    if mean_rate is not None:
        rate = np.broadcast_to(_as_vector(mean_rate), (n,)).astype(float)
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
            use_trend = _spline_df(n_mod, log_rate[has_df]) >= 2
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
