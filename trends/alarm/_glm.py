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


_LOG_EPS = float(np.log(_EPS))
_KEEP = ("mu", "weights", "level", "slope", "group_weight", "group_time", "time_ss")


class _Store:
    """Per-fit results, written when a fit stops (converged or out of iterations)."""

    def __init__(self, B: int, n: int, G: int) -> None:
        self.mu = np.zeros((B, n))
        self.weights = np.zeros((B, n))
        self.level = np.zeros((B, G))
        self.slope = np.zeros(B)
        self.group_weight = np.zeros((B, G))
        self.group_time = np.zeros((B, G))
        self.time_ss = np.full(B, np.nan)
        self.converged = np.zeros(B, dtype=bool)

    def put(self, rows: np.ndarray, **values: np.ndarray) -> None:
        for name, value in values.items():
            getattr(self, name)[rows] = value


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

    Fits that stop (converged, or at 25 iterations) leave the working set, so later
    iterations cost only what is still running. Without the time term the linear
    predictor is constant within a group from the second iteration on, and the
    iterations run on per-group sums.
    """
    y = np.asarray(y, dtype=float)
    B, n = y.shape
    valid = np.isfinite(y)
    y0 = np.where(valid, y, 0.0)
    pw = np.ones_like(y0) if prior_weights is None else np.asarray(prior_weights, dtype=float)
    pw = np.where(valid, pw, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y0 > 0, y0 * np.log(y0), 0.0)
    onehot = np.zeros((n, n_groups))
    onehot[np.arange(n), groups] = 1.0
    t = np.asarray(time, dtype=float)
    store = _Store(B, n, n_groups)

    # working set: the fits still iterating, and their data
    act = np.arange(B)
    Y, PW, YL = y0, pw, ylogy
    eta = np.log(Y + 0.1)  # R's poisson()$initialize: mustart = y + 0.1
    mu = np.maximum(np.exp(eta), _EPS)
    dev_old = _poisson_deviance(Y, mu, PW)
    for it in range(MAXIT):
        w = PW * mu  # working weights: mu.eta^2 / V(mu) = mu under the log link
        z = eta + Y / mu - 1.0
        level, beta, gw, gt, tss = _wls(w, z, onehot, groups, t, slope)
        if not slope and it == 0:
            # from here on eta is constant within each group: iterate on group sums
            _per_group(store, act, level, w, Y, PW, YL, onehot, groups, dev_old, it)
            break
        eta = np.take(level, groups, axis=1) + beta[:, None] * t[None, :]
        mu = np.maximum(np.exp(eta), _EPS)
        dev = 2.0 * np.sum(PW * (YL - Y * np.maximum(eta, _LOG_EPS) - Y + mu), axis=1)
        done = np.abs(dev - dev_old) / (np.abs(dev) + 0.1) < EPSILON
        stop = done | ~np.isfinite(dev) | (it == MAXIT - 1)
        if stop.any():
            rows = act[stop]
            store.put(
                rows,
                mu=mu[stop],
                weights=w[stop],
                level=level[stop],
                slope=beta[stop],
                group_weight=gw[stop],
                group_time=gt[stop],
                time_ss=tss[stop],
                converged=done[stop],
            )
            keep = ~stop
            act, Y, PW, YL = act[keep], Y[keep], PW[keep], YL[keep]
            eta, mu, dev = eta[keep], mu[keep], dev[keep]
            if act.size == 0:
                break
        dev_old = dev
    return _finish(store, y0, pw, valid, onehot, groups, t, slope)


def _per_group(store, act, level, w1, Y, PW, YL, onehot, groups, dev_old, it0) -> None:
    """Iterations 2.. of a model without the time term, on per-group sums: with ``eta``
    constant within group ``g`` (``mu_g``), the weighted mean of the working response is
    ``eta_g + sum(pw y) / (mu_g sum(pw)) - 1`` and the deviance a sum over groups."""
    P = PW @ onehot  # (Bw, G)
    Yg = (PW * Y) @ onehot
    YLg = (PW * YL) @ onehot
    has = P > 0
    safe_p = np.where(has, P, 1.0)
    eta = level  # after the first least-squares step
    mu = np.maximum(np.exp(eta), _EPS)
    dev = 2.0 * np.sum(np.where(has, YLg - Yg * np.maximum(eta, _LOG_EPS) - Yg + P * mu, 0), 1)
    # the first step's results, in case the fit stops right there
    w_old_g = None  # working weights of the last step, per group (None: the first step's w)
    for it in range(it0, MAXIT):
        if it > it0:
            w_old_g = mu
            zbar = eta + Yg / (mu * safe_p) - 1.0
            eta = np.where(has, zbar, 0.0)
            mu = np.maximum(np.exp(eta), _EPS)
            dev = 2.0 * np.sum(
                np.where(has, YLg - Yg * np.maximum(eta, _LOG_EPS) - Yg + P * mu, 0), 1
            )
        done = np.abs(dev - dev_old) / (np.abs(dev) + 0.1) < EPSILON
        stop = done | ~np.isfinite(dev) | (it == MAXIT - 1)
        if stop.any():
            rows = act[stop]
            if w_old_g is None:
                w_stop = w1[stop]
            else:
                w_stop = PW[stop] * w_old_g[stop][:, groups]
            store.put(
                rows,
                mu=mu[stop][:, groups],
                weights=w_stop,
                level=eta[stop],
                group_weight=w_stop @ onehot,
                converged=done[stop],
            )
            keep = ~stop
            act, P, Yg, YLg, has, safe_p, PW = (
                act[keep],
                P[keep],
                Yg[keep],
                YLg[keep],
                has[keep],
                safe_p[keep],
                PW[keep],
            )
            eta, mu, dev, w1 = eta[keep], mu[keep], dev[keep], w1[keep]
            if w_old_g is not None:
                w_old_g = w_old_g[keep]
            if act.size == 0:
                return
        dev_old = dev


def _finish(store, y0, pw, valid, onehot, groups, t, slope) -> GroupedFit:
    """Dispersion, degrees of freedom and hat values from the stored last steps."""
    B = y0.shape[0]
    w, mu = store.weights, store.mu
    gw = store.group_weight
    n_ok = np.sum(pw > 0, axis=1)
    rank = np.sum(gw > 0, axis=1) + (1 if slope else 0)
    df = n_ok - rank
    with np.errstate(divide="ignore", invalid="ignore"):
        resid = np.where(valid, (y0 - mu) / mu, 0.0)
        dispersion = np.where(df > 0, np.sum(w * resid**2, axis=1) / df, np.nan)
        hat = w / gw[:, groups]
        if slope:
            dt = t[None, :] - store.group_time[:, groups]
            hat = hat + w * dt**2 / store.time_ss[:, None]
        else:
            store.group_time = (w * t[None, :]) @ onehot / np.where(gw > 0, gw, 1.0)
    hat = np.where(valid, hat, np.nan)
    hat = np.where(hat > 1 - 10 * _EPS, 1.0, hat)  # as R's lm.influence rounds them
    return GroupedFit(
        mu=np.where(valid, mu, np.nan),
        converged=store.converged,
        weights=w,
        level=np.where(gw > 0, store.level, np.nan),
        slope=store.slope,
        group_weight=gw,
        group_time=store.group_time,
        time_ss=store.time_ss if slope else np.full(B, np.nan),
        dispersion=dispersion,
        df=df,
        hat=hat,
        with_slope=slope,
    )


def _wls(
    w: np.ndarray,
    z: np.ndarray,
    onehot: np.ndarray,
    groups: np.ndarray,
    t: np.ndarray,
    slope: bool,
):
    """Weighted least squares of ``z`` on group levels (+ a common slope in ``t``)."""
    B = w.shape[0]
    if slope:
        sums = np.concatenate([w, w * z, w * t[None, :]]) @ onehot  # one product: (3B, G)
        gw, swz, swt = sums[:B], sums[B : 2 * B], sums[2 * B :]
    else:
        sums = np.concatenate([w, w * z]) @ onehot
        gw, swz = sums[:B], sums[B:]
    safe = np.where(gw > 0, gw, 1.0)
    zbar = swz / safe
    if slope:
        tbar = swt / safe
        dt = t[None, :] - np.take(tbar, groups, axis=1)
        wdt = w * dt
        tss = np.einsum("ij,ij->i", wdt, dt)
        with np.errstate(divide="ignore", invalid="ignore"):
            beta = np.einsum("ij,ij->i", wdt, z - np.take(zbar, groups, axis=1)) / tss
        level = zbar - beta[:, None] * tbar
    else:
        tbar = np.zeros_like(gw)
        tss = np.full(B, np.nan)
        beta = np.zeros(B)
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
