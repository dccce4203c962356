"""Log-linear rate models by iteratively reweighted least squares, many series at once.

``log E[y] = log(exposure) + a + b t`` for Poisson, quasi-Poisson and negative binomial
(NB2) counts: Wedderburn (1974) Biometrika 61:439; McCullagh & Nelder (1989)
*Generalized Linear Models*, 2nd ed., sections 4.5 & 9.2; Venables & Ripley (2002)
*Modern Applied Statistics with S*, 4th ed., section 7.4 (``MASS::glm.nb``).
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["fit_loglinear"]


def fit_loglinear(
    y: np.ndarray,
    exposure: np.ndarray,
    t: np.ndarray,
    mask: np.ndarray,
    *,
    family: str = "poisson",
    max_iter: int = 100,
    tol: float = 1e-10,
) -> dict[str, np.ndarray]:
    """Fit ``log E[y] = log(exposure) + a + b*t`` to many series at once by IRLS.

    Every argument is a (series x periods) array; ``mask`` marks the real cells.
    ``family`` is ``'poisson'`` or ``'negbin'`` (NB2, ``alpha`` by maximum likelihood,
    alternating with the coefficients as ``MASS::glm.nb`` does). Convergence is
    R's ``glm.fit`` rule: relative change of the deviance below ``tol``.

    Returns
    -------
    dict of arrays, one entry per series
        ``intercept``, ``slope``, ``slope_se`` (model-based, dispersion 1),
        ``pearson`` (Pearson chi-square), ``nb_alpha`` (0 for poisson), ``mu``
        (fitted means), ``converged``.
    """
    w_mask = mask.astype(float)
    log_e = np.log(np.where(mask, exposure, 1.0))
    # R's poisson start: mu = y + 0.1, eta = log(mu)
    eta = np.log(np.where(mask, y, 0.0) + 0.1)
    mu = np.exp(eta)
    log_theta = np.full(y.shape[0], np.inf)  # NB2 theta = 1/alpha; inf: Poisson
    nb_alpha = np.zeros(y.shape[0])
    dev_old = np.full(y.shape[0], np.inf)
    converged = np.zeros(y.shape[0], dtype=bool)
    a, b = np.zeros(y.shape[0]), np.zeros(y.shape[0])
    for _ in range(max_iter):
        # Only the rows still moving are updated: a converged fit stays where it stopped.
        act = np.flatnonzero(~converged)
        if act.size == 0:
            break
        ya, ma, la, ta = y[act], mask[act], log_e[act], t[act]
        eta_old, mu_old, alpha_old = eta[act], mu[act], nb_alpha[act]
        w = w_mask[act] * mu_old / (1.0 + alpha_old[:, None] * mu_old)
        a[act], b[act] = _wls_line(ta, eta_old - la + (ya - mu_old) / mu_old, w)
        eta_new = np.clip(a[act][:, None] + b[act][:, None] * ta + la, -700, 700)
        eta[act] = eta_new
        mu[act] = np.exp(eta_new)
        if family == "negbin":
            log_theta[act] = _nb_log_theta_ml(ya, mu[act], ma, log_theta[act])
            nb_alpha[act] = np.exp(-log_theta[act])
        dev = _deviance(ya, mu[act], ma, nb_alpha[act])
        with np.errstate(invalid="ignore"):
            # R's rule on the deviance, or the linear predictor no longer moving
            steady = np.abs(dev - dev_old[act]) / (np.abs(dev) + 0.1) < tol
            steady |= np.max(np.abs(np.where(ma, eta_new - eta_old, 0.0)), axis=1) < 1e-9
            # alpha acts through the variance factor 1 + alpha * mu: settled when that
            # factor moves by less than 1e-6 (near alpha = 0 the likelihood is so flat
            # that alternating fits would creep for hundreds of iterations)
            mean_mu = np.where(ma, mu[act], 0.0).sum(1) / np.maximum(ma.sum(1), 1)
            steady &= np.abs(nb_alpha[act] - alpha_old) * mean_mu <= 1e-6
        converged[act] = steady
        dev_old[act] = dev
    var_factor = 1.0 + nb_alpha[:, None] * mu
    w = w_mask * mu / var_factor
    sw, swt, swtt = w.sum(1), (w * t).sum(1), (w * t * t).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope_se = np.sqrt(sw / (sw * swtt - swt**2))
        pearson = (w_mask * (y - mu) ** 2 / (mu * var_factor)).sum(1)
    return {
        "intercept": a,
        "slope": b,
        "slope_se": slope_se,
        "pearson": pearson,
        "nb_alpha": nb_alpha,
        "mu": mu,
        "converged": converged,
    }


def _wls_line(t: np.ndarray, z: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares line ``z ~ a + b t`` for each row."""
    sw = w.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tbar = (w * t).sum(1) / sw
        zbar = (w * z).sum(1) / sw
        dt = t - tbar[:, None]
        b = (w * dt * (z - zbar[:, None])).sum(1) / (w * dt * dt).sum(1)
    b = np.where(np.isfinite(b), b, 0.0)
    a = np.where(np.isfinite(zbar), zbar - b * np.where(np.isfinite(tbar), tbar, 0.0), 0.0)
    return a, b


def _deviance(y: np.ndarray, mu: np.ndarray, mask: np.ndarray, nb_alpha: np.ndarray):
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
        if not np.any(nb_alpha > 0):
            unit = 2 * (ylogy - (y - mu))
        else:
            al = np.maximum(nb_alpha, 1e-300)[:, None]
            nb = 2 * (ylogy - (y + 1 / al) * (np.log1p(al * y) - np.log1p(al * mu)))
            unit = np.where(nb_alpha[:, None] > 0, nb, 2 * (ylogy - (y - mu)))
    return np.where(mask, unit, 0.0).sum(1)


def _nb_log_theta_ml(
    y: np.ndarray, mu: np.ndarray, mask: np.ndarray, start: np.ndarray
) -> np.ndarray:
    """Maximum-likelihood ``log(theta)`` (NB2 ``alpha = 1/theta``) of each row given the
    means, by Newton's method on the score in ``u = log(theta)``, kept inside a bracket
    that bisection shrinks whenever a Newton step leaves it. ``start``: previous values
    (``inf`` for none). Rows whose score in ``alpha`` at 0 is not positive (no
    overdispersion to fit) get ``inf`` (Poisson), as do rows whose ``alpha * mean(mu)``
    is below 1e-3; ``theta`` is kept below ``1e7``.
    """
    lo = np.full(y.shape[0], np.log(1e-6))
    hi = np.full(y.shape[0], np.log(1e7))

    def score_and_slope(u: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        th = np.exp(u)[:, None]
        yy, mm, ok = y[rows], mu[rows], mask[rows]
        s = (
            special.digamma(yy + th)
            - special.digamma(th)
            + np.log(th)
            + 1
            - np.log(th + mm)
            - (yy + th) / (th + mm)
        )
        ds = (
            special.polygamma(1, yy + th)
            - special.polygamma(1, th)
            + 1 / th
            - 2 / (th + mm)
            + (yy + th) / (th + mm) ** 2
        )
        return np.where(ok, s, 0.0).sum(1), np.exp(u) * np.where(ok, ds, 0.0).sum(1)

    # Score in alpha at alpha = 0 is sum((y - mu)^2 - y) / 2: no overdispersion to fit
    poisson_like = np.where(mask, (y - mu) ** 2 - y, 0.0).sum(1) <= 0
    u = np.where(np.isfinite(start), np.clip(start, lo, hi), 0.5 * (lo + hi))
    active = np.flatnonzero(~poisson_like)
    for _ in range(60):
        if active.size == 0:
            break
        ua, lo_a, hi_a = u[active], lo[active], hi[active]
        score, slope = score_and_slope(ua, active)
        lo_a = np.where(score > 0, ua, lo_a)  # likelihood still rising in theta
        hi_a = np.where(score > 0, hi_a, ua)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = ua - score / slope
        inside = (slope < 0) & (newton > lo_a) & (newton < hi_a)
        u_new = np.where(inside, newton, 0.5 * (lo_a + hi_a))
        u[active], lo[active], hi[active] = u_new, lo_a, hi_a
        done = (np.abs(u_new - ua) < 1e-10) | (hi_a - lo_a < 1e-10)
        active = active[~done]
    # An alpha that moves the variance by less than 0.1% of the mean is Poisson (the
    # slope's standard error moves by under 0.05%); snapping it
    # to 0 stops fits at the boundary flipping between 0 and a vanishing alpha.
    mean_mu = np.where(mask, mu, 0.0).sum(1) / np.maximum(mask.sum(1), 1)
    vanishing = np.exp(-u) * mean_mu < 1e-3
    return np.where(poisson_like | vanishing, np.inf, u)
