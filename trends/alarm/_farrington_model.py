"""The model and bound of Farrington's methods for a batch of baselines: R's
``algo.farrington.fitGLM.flexible``, ``algo.farrington.glm`` and the two threshold
functions (``algo.farrington.threshold.farrington`` and ``...threshold.noufaily``) of
surveillance 1.20.3, for every baseline of a batch at once. See :mod:`.farrington`.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ._common import nb_cdf, nb_sf, qnbinom, qpois
from ._glm import GroupedFit, grouped_quasipoisson

__all__ = ["final_model", "bounds"]

_EPS = np.finfo(float).eps


class _Final:
    """The quantities of a final (reweighted) model that the bound needs."""

    def __init__(self, n: int) -> None:
        self.ok = np.zeros(n, dtype=bool)  # R's model is not NULL
        self.slope = np.zeros(n, dtype=bool)  # model has the time term
        self.eta0 = np.full(n, np.nan)  # linear predictor at k
        self.var0 = np.full(n, np.nan)  # its unscaled variance
        self.disp = np.full(n, np.nan)  # Pearson dispersion (the bound's phi: max(1, disp))
        self.disp_summary = np.full(n, np.nan)  # what summary.glm/predict.glm see (below)
        self.slope_p = np.full(n, np.nan)
        self.trend_failed = np.zeros(n, dtype=bool)  # the fit with the trend did not converge
        self.refit_failed = np.zeros(n, dtype=bool)  # the reweighted refit did not converge

    def put(self, rows: np.ndarray, other: _Final) -> None:
        names = ("ok", "slope", "eta0", "var0", "disp", "disp_summary", "slope_p")
        for name in (*names, "trend_failed", "refit_failed"):
            getattr(self, name)[rows] = getattr(other, name)


def _anscombe_weights(y: np.ndarray, fit: GroupedFit, threshold: float) -> np.ndarray:
    """Farrington's weights from Anscombe residuals (surveillance's ``anscombe.residuals``
    and ``algo.farrington.assign.weights``): ``s^-2`` above ``threshold``, scaled to sum
    to the number of cells."""
    phi = np.maximum(fit.dispersion, 1.0)[:, None]
    mu = fit.mu
    with np.errstate(divide="ignore", invalid="ignore"):
        s = 1.5 * (y ** (2 / 3) * mu ** (-1 / 6) - np.sqrt(mu)) / np.sqrt(phi * (1 - fit.hat))
        high = s > threshold
        raw = np.where(high, s**-2.0, 1.0)
        valid = np.isfinite(y)
        gamma = np.sum(valid, axis=1) / np.sum(np.where(valid, raw, 0.0), axis=1)
    return np.where(valid, gamma[:, None] * raw, np.nan)


def _fit_fun(
    y: np.ndarray, groups: np.ndarray, time: np.ndarray, n_groups: int, slope: bool, o: dict
) -> _Final:
    """surveillance's ``algo.farrington.fitGLM.flexible``: fit (without the trend if it
    does not converge with it), then refit with Anscombe weights."""
    out = _Final(y.shape[0])
    ref = n_groups - 1
    fit = grouped_quasipoisson(y, groups, time, n_groups, slope=slope)
    ok = fit.converged
    if slope and not ok.all():
        retry = np.flatnonzero(~ok)
        out.put(retry, _fit_fun(y[retry], groups, time, n_groups, False, o))
        out.trend_failed[retry] = True
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return out
    if o["reweight"]:
        sub = _subset(fit, rows)
        omega = _anscombe_weights(y[rows], sub, o["weights_threshold"])
        fit = grouped_quasipoisson(
            y[rows], groups, time, n_groups, prior_weights=omega, slope=slope
        )  # R does not check this refit's convergence
        out.refit_failed[rows] = ~fit.converged
    else:
        fit = _subset(fit, rows)
    out.ok[rows] = True
    out.slope[rows] = slope
    out.eta0[rows] = fit.level[:, ref]
    out.var0[rows] = fit.link_variance(ref)
    out.disp[rows] = fit.dispersion
    # surveillance stores the Anscombe weights in model$weights after the refit, so
    # summary.glm (the trend's t-test) and predict.glm (se.fit) compute the dispersion
    # as sum(omega * working residual^2) / df rather than from the working weights.
    if o["reweight"]:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = (y[rows] - fit.mu) / fit.mu
            ss = np.nansum(omega * r * r, axis=1)
            out.disp_summary[rows] = np.where(fit.df > 0, ss / fit.df, np.nan)
    else:
        out.disp_summary[rows] = fit.dispersion
    if slope:
        out.slope_p[rows] = fit.slope_pvalue(out.disp_summary[rows])
    return out


def _subset(fit: GroupedFit, rows: np.ndarray) -> GroupedFit:
    fields = {
        name: getattr(fit, name)[rows]
        for name in (
            "mu",
            "converged",
            "weights",
            "level",
            "slope",
            "group_weight",
            "group_time",
            "time_ss",
            "dispersion",
            "df",
            "hat",
        )
    }
    return GroupedFit(**fields, with_slope=fit.with_slope)


def final_model(y: np.ndarray, groups: np.ndarray, time: np.ndarray, n_groups: int, o: dict):
    """surveillance's ``algo.farrington.glm``: the final model of each baseline."""
    fin = _fit_fun(y, groups, time, n_groups, bool(o["trend"]), o)
    if o["trend"]:
        mu0 = np.maximum(np.exp(fin.eta0), _EPS)
        # With p_threshold_trend >= 1 (Noufaily) R's test "p < 1" keeps the trend unless
        # its slope estimate is exactly 0.0, which in a baseline symmetric in time (a
        # slope of 0 in exact arithmetic) is decided by floating-point rounding; we keep
        # it there too, as R does whenever the rounding leaves any slope.
        with np.errstate(invalid="ignore"):
            significant = (fin.slope_p < o["p_threshold_trend"]) | (
                (o["p_threshold_trend"] >= 1) & np.isfinite(fin.slope_p)
            )
            keep = fin.slope & (o["b"] >= 3) & significant & (mu0 <= np.nanmax(y, axis=1))
        redo = np.flatnonzero(fin.ok & fin.slope & ~keep)
        if redo.size:
            fin.put(redo, _fit_fun(y[redo], groups, time, n_groups, False, o))
    return fin


# ------------------------------------------------------------------------------ bounds


def bounds(fin: _Final, y: np.ndarray, o: dict, lower_too: bool = True) -> dict[str, np.ndarray]:
    """The bound, p-values and expected count from the final model (surveillance's
    ``algo.farrington.threshold.farrington`` and ``...threshold.noufaily``)."""
    alpha = o["alpha"]
    z = stats.norm.ppf(1 - alpha)
    phi = np.maximum(fin.disp, 1.0)
    se_eta = np.sqrt(fin.var0 * fin.disp_summary)  # predict.glm's se.fit
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if o["threshold_method"] == "delta":
            mu0 = np.maximum(np.exp(fin.eta0), _EPS)
            se_mu = se_eta * mu0
            tau = phi + se_mu**2 / mu0
            e = {"2/3": 2 / 3, "1/2": 1 / 2, "none": 1.0}[o["powertrans"]]
            sd = {
                "2/3": np.sqrt(4 / 9 * mu0 ** (1 / 3) * tau),
                "1/2": np.sqrt(tau / 4),
                "none": np.sqrt(mu0 * tau),
            }[o["powertrans"]]
            upper = (mu0**e + z * sd) ** (1 / e)
            base = mu0**e - z * sd
            lower = np.where(base < 0, 0.0 if e != 0.5 else base**2, base ** (1 / e))
            lower = np.maximum(np.nan_to_num(lower, nan=0.0), 0.0)
            pvalue = stats.norm.sf(y**e, loc=mu0**e, scale=sd)
            pvalue_low = stats.norm.cdf(y**e, loc=mu0**e, scale=sd)
            expected = mu0
        else:
            expected = np.exp(fin.eta0)
            if o["threshold_method"] == "nbPlugin":
                mq = expected
            else:
                mq = np.exp(fin.eta0 + z * se_eta)
            nb = phi > 1
            size = np.where(nb, mq / (phi - 1), np.nan)
            prob = 1 / phi
            upper = _quantile(1 - alpha, nb, size, prob, mq)
            pvalue = np.where(nb, nb_sf(y, size, prob), stats.poisson.sf(y - 1, mq))
            if lower_too:
                lower = _quantile(alpha, nb, size, prob, mq)
                pvalue_low = np.where(nb, nb_cdf(y, size, prob), stats.poisson.cdf(y, mq))
            else:
                lower = np.full_like(upper, np.nan)
                pvalue_low = np.full_like(upper, np.nan)
            inf = ~np.isfinite(mq)
            upper[inf] = lower[inf] = pvalue[inf] = pvalue_low[inf] = np.nan
        # R's score: (y - prediction) / (bound - prediction), the prediction on the scale
        # it was made on (the mean for delta, the log mean for the quantile methods).
        pred = expected if o["threshold_method"] == "delta" else fin.eta0
        score = (y - pred) / (upper - pred)
    return {
        "expected": expected,
        "upperbound": upper,
        "lowerbound": lower,
        "pvalue": pvalue,
        "pvalue_low": pvalue_low,
        "score": score,
        "phi": phi,
    }


def _quantile(p: float, nb: np.ndarray, size: np.ndarray, prob, mq: np.ndarray) -> np.ndarray:
    """R's qnbinom where ``nb``, qpois elsewhere (each computed only where it applies)."""
    out = np.full(nb.shape, np.nan)
    prob = np.broadcast_to(prob, nb.shape)
    out[nb] = qnbinom(p, size[nb], prob[nb])
    out[~nb] = qpois(p, mq[~nb])
    return out
