"""Segment APCs, the AAPC (:func:`aapc`), and the empirical-quantile intervals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import TrendsError
from ..periods import period_range, to_period_end_label, to_period_label
from . import kernels
from .fit import Fit, design
from .search import Grid, both_cores, geometry, search, without_line

__all__ = [
    "aapc",
    "aapc_from",
    "best_sets",
    "empirical_apc",
    "empirical_intervals",
    "fit_record",
    "resample_slopes",
    "segment_apcs",
    "segment_slopes",
]


def aapc(
    result: pd.DataFrame,
    *,
    start: str | None = None,
    end: str | None = None,
    level: float | None = None,
) -> pd.DataFrame:
    """Average annual percent change over a range, from a :func:`joinpoints` result.

    AAPC = 100 (exp(sum_i w_i b_i / sum_i w_i * periods_per_year) - 1), with b_i the
    slopes of the segments and w_i the length of each inside the range (Clegg,
    Hankey, Tiwari, Feuer and Edwards 2009, Stat Med 28:3670). When the range lies
    within one segment the AAPC is that segment's APC with its t interval; otherwise
    the interval is normal, from the slopes' covariance, as the Joinpoint program does.
    These are the parametric intervals, conditional on the joinpoints, whatever
    ``interval`` the result was fitted with; so over the whole series they differ from
    the result's ``aapc_low`` / ``aapc_high`` when those are empirical.

    Parameters
    ----------
    result : DataFrame
        The output of :func:`joinpoints` (it carries the fits in ``attrs["fits"]``).
    start, end : str, optional
        First and last period of the range (labels or dates); default each region's
        first and last covered period.
    level : float, optional
        Confidence level; default the one the result was fitted with.

    Returns
    -------
    DataFrame
        One row per region: ``region``, ``aapc_start``, ``aapc_end`` (periods),
        ``aapc``, ``aapc_low``, ``aapc_high``, ``pvalue``, ``n_segments`` (segments the
        range touches), ``notes``.
    """
    fits = result.attrs.get("fits") if isinstance(result, pd.DataFrame) else None
    if fits is None:
        raise TrendsError("aapc() takes the DataFrame returned by trends.joinpoints()")
    level = result.attrs.get("level", 0.95) if level is None else level
    rows = []
    for region in pd.unique(result["region"]):
        rec = fits.get(str(region))
        if rec is None:
            rows.append({"region": region, "notes": "no joinpoint fit for this region"})
            continue
        labels, x = rec["periods"], np.asarray(rec["x"])
        kind = rec["kind"]
        lo_lab = to_period_label(start, kind) if start is not None else labels[0]
        hi_lab = to_period_end_label(end, kind) if end is not None else labels[-1]
        lo_x, hi_x = _x_of(lo_lab, labels, x, kind), _x_of(hi_lab, labels, x, kind)
        if not (x[0] <= lo_x < hi_x <= x[-1]):
            raise TrendsError(
                f"AAPC range {lo_lab!r} to {hi_lab!r} must lie inside region {region!r}'s "
                f"fitted series {labels[0]!r} to {labels[-1]!r} and span at least two periods"
            )
        rows.append(
            {
                "region": region,
                "aapc_start": lo_lab,
                "aapc_end": hi_lab,
                **aapc_from(rec, lo_x, hi_x, level, full=True),
                "notes": "",
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "region",
            "aapc_start",
            "aapc_end",
            "aapc",
            "aapc_low",
            "aapc_high",
            "pvalue",
            "n_segments",
            "notes",
        ],
    )


def segment_slopes(fit: Fit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slope of each segment (b1 + sum of earlier changes), their standard errors and
    covariance."""
    k = len(fit.knots)
    L = np.zeros((k + 1, len(fit.beta)))
    for j in range(k + 1):
        L[j, 1 : 2 + j] = 1.0
    cov = L @ fit.cov @ L.T
    return L @ fit.beta, np.sqrt(np.maximum(np.diag(cov), 0.0)), cov


def segment_apcs(fit: Fit, ppy: float, level: float) -> list[tuple[float, ...]]:
    """(APC, low, high, p-value) of each segment: t interval and test with the fit's
    residual df, conditional on the joinpoints (the Joinpoint program's parametric
    method), on the annual scale 100 (exp(slope * periods_per_year) - 1)."""
    slopes, ses, _ = segment_slopes(fit)
    tq = stats.t.ppf(0.5 + level / 2, fit.df)
    out = []
    for b, se in zip(slopes, ses, strict=True):
        pvalue = float(2 * stats.t.sf(abs(b / se), fit.df)) if se > 0 else np.nan
        apc, low, high = (float(100 * np.expm1(v * ppy)) for v in (b, b - tq * se, b + tq * se))
        out.append((apc, low, high, pvalue))
    return out


def fit_record(fit: Fit, x: np.ndarray, ppy: float, g: pd.DataFrame, kind: str) -> dict:
    slopes, _, cov = segment_slopes(fit)
    return {
        "x": x.tolist(),
        "periods": [str(p) for p in g["period"]],
        "kind": kind,
        "knots_x": x[fit.knots].tolist(),
        "slopes": slopes.tolist(),
        "slope_cov": cov.tolist(),
        "df": int(fit.df),
        "ppy": float(ppy),
    }


def _x_of(label: str, labels: list[str], x: np.ndarray, kind: str) -> float:
    """Period index of ``label`` on the region's time axis (x[0] is its first period)."""
    return float(x[0]) + len(period_range(labels[0], label, kind)) - 1


def aapc_from(rec: dict, lo: float, hi: float, level: float, full: bool = False) -> dict:
    """Clegg et al. (2009) AAPC over [lo, hi] (period-index units)."""
    edges = [rec["x"][0], *rec["knots_x"], rec["x"][-1]]
    w = np.array(
        [max(0.0, min(hi, b) - max(lo, a)) for a, b in zip(edges, edges[1:], strict=False)]
    )
    slopes, cov, ppy = np.asarray(rec["slopes"]), np.asarray(rec["slope_cov"]), rec["ppy"]
    w = w / w.sum()
    b = float(w @ slopes)
    se = float(np.sqrt(max(w @ cov @ w, 0.0)))
    touched = int((w > 0).sum())
    q = stats.t.ppf(0.5 + level / 2, rec["df"]) if touched == 1 else stats.norm.ppf(0.5 + level / 2)
    if se > 0:
        ref = stats.t(rec["df"]) if touched == 1 else stats.norm()
        pvalue = float(2 * ref.sf(abs(b / se)))
    else:
        pvalue = np.nan
    out = {
        "aapc": float(100 * np.expm1(b * ppy)),
        "aapc_low": float(100 * np.expm1((b - q * se) * ppy)),
        "aapc_high": float(100 * np.expm1((b + q * se) * ppy)),
    }
    if full:
        out.update({"pvalue": pvalue, "n_segments": touched})
    return out


def resample_slopes(grid: Grid, fit: Fit, variance: str, n_boot: int, rng):
    """Segment slopes and whole-series mean slope in ``n_boot`` resamples of the fitted model.

    The empirical-quantile method of Kim, Chen, Byrne, Wheeler and Feuer (2022, Stat Med
    41:3102; Kim et al. 2017, Stat Med 36:3059 for the AAPC): data are drawn from the
    fitted k-joinpoint model (fitted values plus residuals drawn with replacement), the
    model with k joinpoints is refitted to each with the joinpoints re-estimated, and
    the statistics are recomputed from each refit. Here the data are those of the
    weighted linearisation at the fit (for Poisson variance the IRLS working response, so
    the residuals are Pearson residuals; for constant variance the log rates), as the
    permutation test uses; every resample is refitted on it with the fit's weights: the
    exact grid search (:func:`search`) for the joinpoints, then weighted least squares.
    The residuals are centred and rescaled so that their mean square is the scale the
    parametric intervals use (``max(1, X^2 / df)`` for Poisson, ``SSE / df`` for constant
    variance): with fixed joinpoints the resampled slopes then have exactly the
    parametric covariance, and an underdispersed sample does not narrow the interval.
    The number of resamples the Joinpoint program uses by default was not stated in the
    sources we could reach; ``joinpoints`` defaults to 1000, enough for 2.5% and 97.5%
    quantiles (Monte Carlo SE about 0.08 standard errors of the slope).

    The statistic is the slope of each resample's j-th segment, between its own
    joinpoints: the quantity the point estimate is. (The slope over the *original*
    segment's range, an AAPC, varies less: it undercovered in simulation, 0.92-0.94.)

    Returns ``slopes`` ((k + 1) x n_boot): the slope of each resample's j-th segment,
    between *its own* joinpoints, and ``whole`` (n_boot): its mean slope over the whole
    series, the length-weighted mean of its segment slopes (Clegg et al. 2009), which
    for a continuous fit is ``(eta(x_last) - eta(x_first)) / (x_last - x_first)``.
    """
    x, s = grid.x, fit.s
    n, k = len(x), len(fit.knots)
    fitted = (design(x, fit.knots) * s[:, None]) @ fit.beta
    resid = fit.ytil - fitted
    resid = resid - resid.mean()
    mean_sq = float(resid @ resid) / n
    scale = fit.sse / fit.df if fit.df > 0 else 0.0
    if variance == "poisson":
        scale = max(1.0, scale)
    resid = resid * (math.sqrt(scale / mean_sq) if mean_sq > 0 else 0.0)
    Y = fitted[:, None] + resid[rng.integers(0, n, size=(n, n_boot))]

    knots = np.broadcast_to(fit.knots, (n_boot, k)).copy()
    if k:
        found = np.sort(best_sets(grid, s, Y, k), axis=1)
        ok = (found >= 0).all(axis=1)  # -1: no allowed set (degenerate weights)
        knots[ok] = found[ok]

    # batched weighted least squares on [1, x - mean, hinges], columns scaled to unit norm
    X = np.empty((n_boot, n, k + 2))
    X[:, :, 0] = 1.0
    X[:, :, 1] = x - x.mean()
    for j in range(k):
        X[:, :, 2 + j] = np.maximum(x[None, :] - x[knots[:, j]][:, None], 0.0)
    Xs = X * s[None, :, None]
    A = np.einsum("bnp,bnq->bpq", Xs, Xs)
    rhs = np.einsum("bnp,nb->bp", Xs, Y)
    norm = np.sqrt(np.maximum(np.einsum("bpp->bp", A), 1e-300))
    A = A / (norm[:, :, None] * norm[:, None, :]) + 1e-12 * np.eye(k + 2)
    beta = np.linalg.solve(A, (rhs / norm)[..., None])[..., 0] / norm

    slopes = np.cumsum(beta[:, 1:], axis=1).T
    eta_ends = np.einsum("bep,bp->eb", X[:, [0, n - 1], :], beta)
    whole = (eta_ends[1] - eta_ends[0]) / (x[-1] - x[0])
    return slopes, whole


def best_sets(grid: Grid, s: np.ndarray, Y: np.ndarray, k: int) -> np.ndarray:
    """Joinpoints (observation indices; -1 where no set is allowed) of the best fit
    with exactly ``k`` joinpoints for each column of the weighted data ``Y``: one row
    per column. Three joinpoints by :func:`.kernels._three_min_python`, else the grid search."""
    first, last = int(grid.cand[0]), int(grid.cand[-1])
    if k == 3 and kernels.three_min is not None:
        left, right, ok = kernels.three_geometry(s, grid.x, first, last, grid.gap)
        if ok:
            q, _ = np.linalg.qr(np.column_stack([s, s * grid.x]))
            R = without_line(q, Y)  # the weighted line changes no SSE: removed, for accuracy
            minimum = np.full(Y.shape[1], -np.inf)  # no target: the minimum itself

            def best(part, t):  # (k, columns): both_cores joins columns
                found = kernels.three_min(s, grid.x, part, t, first, last, grid.gap, left, right)
                return found[1].T

            return both_cores(best, R, minimum).T
    geom = geometry(grid, s)
    return both_cores(
        lambda part: search(grid, s, part, k, track=True, geom=geom)[1][k, :, :k].T, Y
    ).T


def empirical_intervals(region, grid, fit, variance, n_boot, seed, ppy, level):
    """Empirical-quantile (APC, low, high, p-value) of each segment, and the low and high
    ends of the whole-series AAPC's interval, from the same resamples.

    The resamples come from the region's own random stream, seeded by ``seed`` and the
    region's name (and apart from the permutations' streams): a region's intervals do not
    depend on the other regions, and the chosen models not on the interval method.
    """
    rng = np.random.default_rng([seed, 1, *str(region).encode("utf-8")])
    draws, whole_draws = resample_slopes(grid, fit, variance, n_boot, rng)
    slopes, _, _ = segment_slopes(fit)
    apcs = [empirical_apc(d, b, ppy, level, fit.df) for d, b in zip(draws, slopes, strict=True)]
    _, low, high, _ = empirical_apc(whole_draws, 0.0, ppy, level, fit.df)
    return apcs, low, high


def empirical_apc(draws: np.ndarray, slope: float, ppy: float, level: float, df: int) -> tuple:
    """(APC, low, high, p-value) from resampled slopes ``draws``.

    The interval is the empirical quantiles of the draws at probabilities ``1 - p`` and
    ``p``, ``p = Phi(t_{df, (1 + level) / 2})``: the t-adjusted probabilities of the
    "expanded percentile" interval (Hesterberg 2015, Am Stat 69:371; without its
    sqrt(n / (n - 1)) factor, as the residuals are already rescaled to the residual df),
    so that with fixed joinpoints (k = 0) it is the t interval with the fit's residual df
    rather than a normal one (at 176 df, p = 0.9758 instead of 0.975; at 10 df, 0.9871).
    The two-sided p-value is twice the smaller share of draws on either side of 0, each
    ``(1 + count) / (B + 1)``.
    """
    n_boot = draws.size
    p = float(stats.norm.cdf(stats.t.ppf((1 + level) / 2, df)))
    low, high = np.quantile(draws, [1 - p, p])
    tail = min(int((draws <= 0).sum()), int((draws >= 0).sum()))
    pvalue = min(1.0, 2 * (1 + tail) / (n_boot + 1))
    apc, low, high = (float(100 * np.expm1(v * ppy)) for v in (slope, low, high))
    return apc, low, high, pvalue
