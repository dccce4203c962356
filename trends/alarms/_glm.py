"""Batched log-link GLMs for the alarm methods: many small fits at once, as R's ``glm.fit`` runs them.

Two kernels, both iteratively reweighted least squares (IRLS) vectorised over a batch:

:func:`grouped_quasipoisson`
    The Farrington models: a quasi-Poisson GLM whose linear predictor is one level per
    seasonal group plus, optionally, a linear time term. Every fit of a batch shares the
    same layout (which baseline position belongs to which group, at which time offset),
    because the layout of Farrington's baseline depends only on ``b``, ``w``, the
    frequency and the number of groups, not on the monitored period. So the weighted
    least-squares step of each iteration has a closed form: per-group weighted means
    and one within-group slope, ``O(n x groups)`` per fit, and the hat values and the
    covariance of the prediction follow from the same sums. A batch is all regions x
    all monitored periods.

:func:`harmonic_glm`
    The in-control mean of the GLR detectors: a Poisson or negative binomial (fixed
    ``theta``) GLM on a small dense design (intercept and harmonics), solved by the
    normal equations, batched over regions.

Both follow R's ``glm.fit`` step by step (McCullagh and Nelder 1989, section 2.5; R Core
Team, ``stats::glm.fit``): the same starting values (``mu = y + 0.1`` for the Poisson
families, ``y + (y == 0) / 6`` for the negative binomial), the log link's inverse
floored at the machine epsilon, at most 25 iterations, and convergence when the
relative change of the deviance, ``|dev - dev_old| / (|dev| + 0.1)``, falls below
``1e-8``. R's hat values, dispersion and prediction standard errors use the working
weights of the *last* iteration's least-squares step (computed from the fitted values
before that step), while the fitted values and residuals come after it; these kernels
keep the same pairing, so their numbers match R's to rounding, including fits R stops
at 25 iterations without convergence. Parameterisation does not matter (IRLS iterates
depend only on the column space), so time is measured from the monitored period and
each group has its own level, which keeps the arithmetic well conditioned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

__all__ = ["GroupedFit", "grouped_quasipoisson", "harmonic_glm", "MAXIT", "EPSILON"]

logger = logging.getLogger(__name__)

MAXIT = 25  # glm.control()$maxit
EPSILON = 1e-8  # glm.control()$epsilon
_EPS = np.finfo(float).eps  # the floor of R's log-link inverse (.Machine$double.eps)


@dataclass
class GroupedFit:
    """Result of :func:`grouped_quasipoisson` for a batch of ``B`` fits of ``n`` cells.

    Attributes
    ----------
    mu : (B, n)
        Fitted means after the last iteration (NaN where the cell is missing).
    converged : (B,)
        R's ``model$converged``.
    weights : (B, n)
        Working weights of the last least-squares step (R's ``model$weights``).
    level, slope : (B, G), (B,)
        Each group's log mean at time offset 0 and the time coefficient (0 without a
        time term); a group without cells has level NaN.
    group_weight, group_time : (B, G)
        Per group: sum of the working weights, and their weighted mean time offset.
    time_ss : (B,)
        Within-group weighted sum of squares of time (the slope's information; NaN
        without a time term).
    dispersion : (B,)
        Pearson dispersion ``sum(w * r^2) / df`` (R's ``summary.glm(model)$dispersion``).
    df : (B,)
        Residual degrees of freedom (cells with positive prior weight minus rank).
    hat : (B, n)
        Hat values (R's ``hatvalues(model)``).
    """

    mu: np.ndarray
    converged: np.ndarray
    weights: np.ndarray
    level: np.ndarray
    slope: np.ndarray
    group_weight: np.ndarray
    group_time: np.ndarray
    time_ss: np.ndarray
    dispersion: np.ndarray
    df: np.ndarray
    hat: np.ndarray
    with_slope: bool

    def link_variance(self, group: int) -> np.ndarray:
        """Unscaled variance of the linear predictor at time offset 0 in ``group``:
        ``x0' (X'WX)^-1 x0`` (multiply by the dispersion for R's ``se.fit^2``)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            v = 1.0 / self.group_weight[:, group]
            if self.with_slope:
                v = v + self.group_time[:, group] ** 2 / self.time_ss
        return v

    def slope_pvalue(self, dispersion: np.ndarray | None = None) -> np.ndarray:
        """Two-sided t-test p-value of the time coefficient, as ``summary.glm`` gives it
        for a quasi family (standard error scaled by the estimated dispersion, or by
        ``dispersion`` when given)."""
        from scipy import stats

        disp = self.dispersion if dispersion is None else dispersion
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(disp / self.time_ss)
            t = self.slope / se
            p = 2.0 * stats.t.sf(np.abs(t), self.df)
        return np.where(self.df > 0, p, np.nan)


def _poisson_deviance(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Row sums of R's ``poisson()$dev.resids`` (0 where ``w`` is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)
    return 2.0 * np.sum(np.where(w > 0, w * term, 0.0), axis=1)


def grouped_quasipoisson(
    y: np.ndarray,
    groups: np.ndarray,
    time: np.ndarray,
    n_groups: int,
    *,
    prior_weights: np.ndarray | None = None,
    slope: bool = True,
) -> GroupedFit:
    """Fit ``B`` quasi-Poisson GLMs ``log mu = level[group] + slope * time`` at once.

    Parameters
    ----------
    y : (B, n) float
        Counts; NaN marks a missing cell (left out of the fit, as R drops NA rows).
    groups : (n,) int
        Group of each position, in ``0 .. n_groups - 1`` (shared by the batch).
    time : (n,) float
        Time offset of each position (shared by the batch).
    prior_weights : (B, n), optional
        R's ``weights`` argument (default 1).
    slope : bool
        Whether the model has the time term.
    """
    y = np.asarray(y, dtype=float)
    B, n = y.shape
    valid = np.isfinite(y)
    y0 = np.where(valid, y, 0.0)
    pw = np.ones_like(y0) if prior_weights is None else np.asarray(prior_weights, dtype=float)
    pw = np.where(valid, pw, 0.0)
    onehot = np.zeros((n, n_groups))
    onehot[np.arange(n), groups] = 1.0
    t = np.asarray(time, dtype=float)

    eta = np.log(y0 + 0.1)  # R's poisson()$initialize: mustart = y + 0.1
    mu = np.maximum(np.exp(eta), _EPS)
    dev_old = _poisson_deviance(y0, mu, pw)
    active = np.ones(B, dtype=bool)
    converged = np.zeros(B, dtype=bool)
    keep = {
        name: np.zeros(shape)
        for name, shape in (
            ("weights", (B, n)),
            ("level", (B, n_groups)),
            ("slope", (B,)),
            ("group_weight", (B, n_groups)),
            ("group_time", (B, n_groups)),
            ("time_ss", (B,)),
        )
    }
    for _ in range(MAXIT):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        w = pw[idx] * mu[idx]  # working weights: mu.eta^2 / V(mu) = mu under the log link
        z = eta[idx] + (y0[idx] - mu[idx]) / mu[idx]
        level, beta, gw, gt, tss = _wls(w, z, onehot, t, slope)
        eta_new = level @ onehot.T + beta[:, None] * t[None, :]
        mu_new = np.maximum(np.exp(eta_new), _EPS)
        dev = _poisson_deviance(y0[idx], mu_new, pw[idx])
        eta[idx], mu[idx] = eta_new, mu_new
        for name, value in (
            ("weights", w),
            ("level", level),
            ("slope", beta),
            ("group_weight", gw),
            ("group_time", gt),
            ("time_ss", tss),
        ):
            keep[name][idx] = value
        done = np.abs(dev - dev_old[idx]) / (np.abs(dev) + 0.1) < EPSILON
        bad = ~np.isfinite(dev)
        if bad.any():  # R halves the step here; so rare in count data that we stop instead
            logger.debug("grouped_quasipoisson: %d fits with a non-finite deviance", bad.sum())
        converged[idx[done]] = True
        active[idx[done | bad]] = False
        dev_old[idx] = dev

    w = keep["weights"]
    gw, gt, tss = keep["group_weight"], keep["group_time"], keep["time_ss"]
    n_ok = np.sum(pw > 0, axis=1)
    rank = np.sum(gw > 0, axis=1) + (1 if slope else 0)
    df = n_ok - rank
    with np.errstate(divide="ignore", invalid="ignore"):
        resid = np.where(valid, (y0 - mu) / mu, 0.0)
        dispersion = np.where(df > 0, np.sum(w * resid**2, axis=1) / df, np.nan)
        gw_cell = gw @ onehot.T  # each cell's group total, (B, n)
        hat = w / gw_cell
        if slope:
            dt = t[None, :] - gt @ onehot.T
            hat = hat + w * dt**2 / tss[:, None]
    hat = np.where(valid, hat, np.nan)
    hat = np.where(hat > 1 - 10 * _EPS, 1.0, hat)  # as R's lm.influence rounds them
    level = np.where(gw > 0, keep["level"], np.nan)
    return GroupedFit(
        mu=np.where(valid, mu, np.nan),
        converged=converged,
        weights=w,
        level=level,
        slope=keep["slope"],
        group_weight=gw,
        group_time=gt,
        time_ss=tss if slope else np.full(B, np.nan),
        dispersion=dispersion,
        df=df,
        hat=hat,
        with_slope=slope,
    )


def _wls(w: np.ndarray, z: np.ndarray, onehot: np.ndarray, t: np.ndarray, slope: bool):
    """Weighted least squares of ``z`` on group levels (+ a common slope in ``t``)."""
    gw = w @ onehot  # (B, G)
    safe = np.where(gw > 0, gw, 1.0)
    zbar = (w * z) @ onehot / safe
    tbar = (w * t[None, :]) @ onehot / safe
    if slope:
        dt = t[None, :] - tbar @ onehot.T
        dz = z - zbar @ onehot.T
        tss = np.sum(w * dt * dt, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            beta = np.sum(w * dt * dz, axis=1) / tss
        level = zbar - beta[:, None] * tbar
    else:
        tss = np.full(w.shape[0], np.nan)
        beta = np.zeros(w.shape[0])
        level = zbar
    level = np.where(gw > 0, level, 0.0)
    return level, beta, gw, tbar, tss


def harmonic_glm(
    y: np.ndarray, x: np.ndarray, *, theta: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``B`` log-link GLMs sharing the design ``x``: Poisson, or negative binomial
    with known ``theta`` (variance ``mu + mu^2 / theta``, R's ``MASS::negative.binomial``).

    Parameters
    ----------
    y : (B, n) float
        Counts of complete training windows (no missing values).
    x : (n, p) float
        Design matrix.
    theta : float, optional
        Negative binomial size; None for Poisson.

    Returns
    -------
    (coefficients (B, p), converged (B,))
    """
    y = np.asarray(y, dtype=float)
    B, n = y.shape
    if theta is None:
        mu = y + 0.1
    else:
        mu = y + (y == 0) / 6.0  # MASS::negative.binomial()$initialize
    eta = np.log(mu)
    mu = np.maximum(np.exp(eta), _EPS)
    dev_old = _deviance(y, mu, theta)
    beta = np.zeros((B, x.shape[1]))
    active = np.ones(B, dtype=bool)
    converged = np.zeros(B, dtype=bool)
    for _ in range(MAXIT):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        m = mu[idx]
        var = m if theta is None else m + m * m / theta
        w = m * m / var
        z = eta[idx] + (y[idx] - m) / m
        xtwx = np.einsum("ni,bn,nj->bij", x, w, x)
        xtwz = np.einsum("ni,bn->bi", x, w * z)
        b = np.linalg.solve(xtwx, xtwz[..., None])[..., 0]
        eta_new = b @ x.T
        mu_new = np.maximum(np.exp(eta_new), _EPS)
        dev = _deviance(y[idx], mu_new, theta)
        eta[idx], mu[idx], beta[idx] = eta_new, mu_new, b
        done = np.abs(dev - dev_old[idx]) / (np.abs(dev) + 0.1) < EPSILON
        converged[idx[done]] = True
        active[idx[done | ~np.isfinite(dev)]] = False
        dev_old[idx] = dev
    return beta, converged


def _deviance(y: np.ndarray, mu: np.ndarray, theta: float | None) -> np.ndarray:
    if theta is None:
        return _poisson_deviance(y, mu, np.ones_like(y))
    with np.errstate(divide="ignore", invalid="ignore"):
        term = y * np.log(np.maximum(y, 1.0) / mu) - (y + theta) * np.log(
            (y + theta) / (mu + theta)
        )
    return 2.0 * np.sum(term, axis=1)
