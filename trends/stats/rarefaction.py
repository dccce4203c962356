"""How many distinct outlets should ``n`` events show? Rarefaction of the outlet mix.

A window with fewer events than its baseline shows fewer distinct outlets even when
no outlet went silent: with 400 baseline events from 30 outlets, 40 events drawn
from the same mix show about 15 of them. Judging "outlets went silent" from the raw
count of outlets would therefore cry wolf whenever the number of events falls. The
reference is the rarefied number of outlets: the expected number of distinct
outlets among ``n`` events drawn at random, without replacement, from the baseline's
events (Sanders 1968; Hurlbert 1971),

    E[S_n] = sum_i [1 - C(N - N_i, n) / C(N, n)],

with ``N_i`` the baseline events of outlet ``i`` and ``N`` their total, and its
variance (Heck, van Belle & Simberloff 1975),

    Var[S_n] = sum_i q_i (1 - q_i) + 2 sum_{i<j} (q_ij - q_i q_j),
    q_i = C(N - N_i, n) / C(N, n),   q_ij = C(N - N_i - N_j, n) / C(N, n).

References
----------
Sanders, H. L. (1968). Marine benthic diversity: a comparative study. *American
    Naturalist* 102, 243-282.
Hurlbert, S. H. (1971). The nonconcept of species diversity: a critique and
    alternative parameters. *Ecology* 52, 577-586.
Heck, K. L., van Belle, G. & Simberloff, D. (1975). Explicit calculation of the
    rarefaction diversity measurement and the determination of sufficient sample
    size. *Ecology* 56, 1459-1461.
Colwell, R. K., Chao, A., Gotelli, N. J. et al. (2012). Models and estimators
    linking individual-based and sample-based rarefaction, extrapolation and
    comparison of assemblages. *Journal of Plant Ecology* 5, 3-21 (the
    with-replacement, multinomial, form).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

__all__ = [
    "absent_probability",
    "expected_distinct",
    "distinct_variance",
    "fewer_outlets_test",
    "OutletTest",
]

#: Largest number of cumulative-sum cells (distinct counts x values of ``n``) the
#: exact product form may use before the log-gamma form takes over.
_PRODUCT_CELLS = 20_000_000


def _counts(counts_by_outlet: ArrayLike) -> np.ndarray:
    c = np.asarray(counts_by_outlet, dtype=float).ravel()
    if np.any(~np.isfinite(c)) or np.any(c < 0):
        raise ValueError("counts_by_outlet must be finite and non-negative")
    return c[c > 0]


def _prepared(
    counts_by_outlet: ArrayLike, n: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The outlets' positive counts, ``n`` as an array, flattened, and the total events."""
    c = _counts(counts_by_outlet)
    n_arr = np.asarray(n, dtype=float)
    return c, n_arr, n_arr.ravel(), float(c.sum())


def _log_absent(total: float, c: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``log q(c, n)``: log probability that ``n`` events drawn without replacement
    from ``total`` miss every one of ``c`` given events, for each ``c`` (rows) and
    ``n`` (columns).

    ``q = prod_{j < c} (total - n - j) / (total - j)`` (``= C(total - c, n) /
    C(total, n)``), a polynomial in ``n``, extended to real ``n`` by the gamma form
    ``Gamma(total - c + 1) Gamma(total - n + 1) / (Gamma(total - c - n + 1)
    Gamma(total + 1))`` and set to 0 once ``n >= total - c + 1`` (where it is 0 at
    whole ``n``); continuous and decreasing in ``n``. Whole ``c`` use the product
    (sums of ``log1p``, accurate to rounding, so that ``q_ij - q_i q_j`` keeps its
    digits); fractional ``c`` the log-gamma form."""
    c = np.asarray(c, dtype=float)
    n = np.asarray(n, dtype=float)
    out = np.full((c.size, n.size), -np.inf)
    whole = c == np.round(c)
    cmax = int(c[whole].max()) if whole.any() else 0
    if whole.any() and (cmax + 1) * n.size <= _PRODUCT_CELLS:
        j = np.arange(cmax)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = n[None, :] / (total - j)
            term = np.where(ratio < 1, np.log1p(-np.minimum(ratio, 1.0)), -np.inf)
        cum = np.vstack([np.zeros((1, n.size)), np.cumsum(term, axis=0)])
        # the last factor (j = c - 1) may be in (0, 1) for fractional n: the cumsum
        # of log1p covers it; a factor <= 0 gives -inf, and -inf stays
        out[whole] = cum[c[whole].astype(int)]
        rest = ~whole
    else:
        rest = np.ones(c.size, dtype=bool)
    if rest.any():
        cr = c[rest][:, None]
        arg = total - cr - n[None, :] + 1.0
        with np.errstate(invalid="ignore"):
            val = (
                special.gammaln(total - cr + 1.0)
                + special.gammaln(total - n[None, :] + 1.0)
                - special.gammaln(np.where(arg > 0, arg, 1.0))
                - special.gammaln(total + 1.0)
            )
        out[rest] = np.where(arg > 0, val, -np.inf)
    return out


def expected_distinct(
    counts_by_outlet: ArrayLike, n: ArrayLike, *, replace: bool = False
) -> np.ndarray:  # fmt: skip
    """Expected number of distinct outlets among ``n`` events from the baseline mix.

    Hurlbert's (1971) rarefaction: ``sum_i [1 - C(N - N_i, n) / C(N, n)]`` for ``n``
    events drawn without replacement from the baseline's ``N`` events, ``N_i`` of
    them from outlet ``i``; computed in log space (sums of ``log1p`` for whole
    counts, log-gamma otherwise), never with factorials, so any ``N`` works.

    Parameters
    ----------
    counts_by_outlet : array_like
        Baseline events per outlet (zeros ignored; may be fractional).
    n : array_like
        Number(s) of events, any shape; may be fractional (events split across
        periods): the gamma-function continuation of the binomial ratio is used,
        which equals the formula at whole ``n``, is smooth and increasing between
        them, and stays within the values at the neighbouring whole numbers.
    replace : bool
        ``True``: draws with replacement (multinomial with the baseline shares
        ``p_i = N_i / N``; ``sum_i [1 - (1 - p_i)^n]``), defined for any ``n``
        (Colwell et al. 2012).

    Returns
    -------
    ndarray
        Same shape as ``n``. NaN where ``n < 0``, and where ``n > N`` without
        replacement (a baseline cannot be subsampled beyond its size); 0 for an
        empty baseline.
    """
    c, n_arr, flat, total = _prepared(counts_by_outlet, n)
    if c.size == 0:
        return np.where(flat >= 0, 0.0, np.nan).reshape(n_arr.shape)
    if replace:
        p = c / total
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0): one outlet
            absent = np.exp(flat[None, :] * np.log1p(-p)[:, None])
        absent = np.where(np.isnan(absent), 1.0, absent)  # 0 * log(0) at n = 0: none drawn
        out = np.sum(1.0 - absent, axis=0)
    else:
        values, mult = np.unique(c, return_counts=True)
        absent = np.exp(_log_absent(total, values, flat))
        out = np.sum(mult[:, None] * (1.0 - absent), axis=0)
        out = np.where(flat > total, np.nan, out)
    out = np.where(flat < 0, np.nan, out)
    return out.reshape(n_arr.shape)


def absent_probability(
    counts_by_outlet: ArrayLike, n: float, *, replace: bool = True
) -> np.ndarray:
    """Probability that each outlet is absent from ``n`` events drawn from the mix.

    With replacement (the default, defined for any ``n``): ``(1 - p_i) ** n`` with
    ``p_i = N_i / N``; without: ``C(N - N_i, n) / C(N, n)`` (NaN for ``n > N``). The
    terms :func:`expected_distinct` sums. Outlets with no events get 1.
    """
    c = np.asarray(counts_by_outlet, dtype=float).ravel()
    pos = _counts(c)
    total = float(pos.sum())
    out = np.ones(c.size)
    if total <= 0 or n <= 0:
        return out if n >= 0 else np.full(c.size, np.nan)
    has = c > 0
    if replace:
        with np.errstate(divide="ignore"):  # an outlet behind every report: log(0)
            out[has] = np.exp(float(n) * np.log1p(-c[has] / total))
    elif n > total:
        out[has] = np.nan
    else:
        out[has] = np.exp(_log_absent(total, c[has], np.array([float(n)]))[:, 0])
    return out


def distinct_variance(
    counts_by_outlet: ArrayLike, n: ArrayLike, *, replace: bool = False
) -> np.ndarray:  # fmt: skip
    """Variance of the number of distinct outlets among ``n`` events.

    Heck, van Belle & Simberloff (1975): ``sum_i q_i (1 - q_i) + 2 sum_{i<j} (q_ij
    - q_i q_j)`` with ``q_i`` the probability that outlet ``i`` is missed and
    ``q_ij`` that both are (the exact variance of a sum of dependent indicators);
    the variance over random subsamples of the baseline, i.e. conditional on it.
    Outlets with equal counts are grouped, so the double sum runs over distinct
    counts; ``q_ij - q_i q_j`` is computed as ``q_i q_j expm1(log q_ij - log q_i -
    log q_j)`` to keep its digits.

    Parameters
    ----------
    counts_by_outlet, n, replace
        As :func:`expected_distinct` (with replacement: ``q_i = (1 - p_i)^n``,
        ``q_ij = (1 - p_i - p_j)^n``).

    Returns
    -------
    ndarray
        Same shape as ``n``; NaN where :func:`expected_distinct` is NaN.
    """
    c, n_arr, flat, total = _prepared(counts_by_outlet, n)
    if c.size == 0:
        return np.where(flat >= 0, 0.0, np.nan).reshape(n_arr.shape)
    values, mult = np.unique(c, return_counts=True)
    k = values.size
    ia, ib = np.triu_indices(k)  # pairs of distinct counts, a <= b
    if replace:
        logp = np.log1p(-values / total)
        log_q = flat[None, :] * logp[:, None]
        pair_share = np.minimum((values[ia] + values[ib]) / total, 1.0)
        with np.errstate(divide="ignore"):
            log_qq = flat[None, :] * np.log1p(-pair_share)[:, None]
        log_qq = np.where((pair_share >= 1)[:, None] & (flat[None, :] == 0), 0.0, log_qq)
    else:
        both = np.unique(values[ia] + values[ib])
        table = _log_absent(total, np.r_[values, both], flat)
        log_q = table[:k]
        pos = np.searchsorted(both, values[ia] + values[ib])
        log_qq = table[k:][pos]
    q = np.exp(log_q)
    single = np.sum(mult[:, None] * q * (1.0 - q), axis=0)
    with np.errstate(invalid="ignore"):
        cov = np.exp(log_q[ia] + log_q[ib]) * np.expm1(log_qq - log_q[ia] - log_q[ib])
    # q_ij = 0 with q_i q_j > 0: the covariance is -q_i q_j; both 0: nothing
    cov = np.where(np.isfinite(log_qq), cov, -np.exp(log_q[ia] + log_q[ib]))
    cov = np.where(np.isneginf(log_q[ia]) | np.isneginf(log_q[ib]), 0.0, cov)
    pairs = np.where(ia == ib, mult[ia] * (mult[ia] - 1.0), 2.0 * mult[ia] * mult[ib])
    out = single + np.sum(pairs[:, None] * cov, axis=0)
    out = np.maximum(out, 0.0)
    if not replace:
        out = np.where(flat > total, np.nan, out)
    out = np.where(flat < 0, np.nan, out)
    return out.reshape(n_arr.shape)


class OutletTest(NamedTuple):
    """Result of :func:`fewer_outlets_test`.

    Attributes
    ----------
    events : float
        Events in the window (``n``).
    observed : int
        Distinct outlets among them.
    expected : float
        Distinct outlets expected for ``n`` events under the baseline mix
        (Hurlbert's rarefaction of the baseline; NaN when ``n`` exceeds the
        baseline's events).
    sd : float
        Its standard deviation (Heck et al. 1975), conditional on the baseline.
    null_expected, null_sd : float
        Mean and standard deviation of the reference distribution of the test: the
        distinct outlets of ``n`` events drawn at random from the pooled baseline
        and window events.
    pvalue : float
        One-sided Monte Carlo p-value, ``(1 + #{S* <= observed}) / (1 + n_sim)``.
    n_sim : int
        Number of random splits drawn.
    """

    events: float
    observed: int
    expected: float
    sd: float
    null_expected: float
    null_sd: float
    pvalue: float
    n_sim: int


def fewer_outlets_test(
    baseline_counts: ArrayLike,
    window_counts: ArrayLike,
    *,
    n_sim: int = 9999,
    seed: int | np.random.Generator | None = 0,
) -> OutletTest:
    """Does the window show fewer distinct outlets than its number of events implies?

    The rule: under an unchanged mix, the baseline's and the window's events are
    exchangeable, so conditional on all of them (pooled by outlet) the window's
    ``n`` events are a random subset of size ``n`` of the pooled events (a
    permutation test, like Fisher's exact test). The p-value is the probability
    that such a subset shows no more distinct outlets than the window does,
    estimated from ``n_sim`` random subsets (multivariate hypergeometric draws) as
    ``(1 + #{S* <= observed}) / (1 + n_sim)``, which is a valid p-value for any
    ``n_sim``: the rule ``pvalue <= alpha`` fires at most at rate ``alpha`` when the
    mix is unchanged (``tests/test_rarefaction.py`` checks it by simulation).
    A normal approximation with the Hurlbert-Heck mean and variance is not used for
    the decision: the number of distinct outlets is bounded above and its lower
    tail is long when nearly every outlet is expected, where the normal tail is
    too thin.

    Parameters
    ----------
    baseline_counts, window_counts : array_like
        Events per outlet in the baseline and in the window, aligned (the same
        outlet at the same position; 0 where an outlet has none). Fractional counts
        are rounded to whole events for the random subsets (the expected value and
        its SD use them as they are).
    n_sim : int
        Random subsets drawn.
    seed : int, Generator or None
        Seed (the default makes the p-value reproducible).

    Returns
    -------
    OutletTest
        ``events``, ``observed``, ``expected``, ``sd`` (rarefaction of the
        baseline), ``null_expected``, ``null_sd`` (the pooled reference),
        ``pvalue``, ``n_sim``.

    Notes
    -----
    Exchangeability is the null: events from outlets that report in bursts make the
    window's mix vary more than random subsets do, and the rule then fires more
    often than ``alpha``. Outlets new in the window count among its distinct
    outlets, so many new outlets can hide silent ones; report them separately.
    """
    base = np.asarray(baseline_counts, dtype=float).ravel()
    win = np.asarray(window_counts, dtype=float).ravel()
    if base.shape != win.shape:
        raise ValueError("baseline_counts and window_counts must be aligned (same length)")
    if (
        np.any(~np.isfinite(base))
        or np.any(~np.isfinite(win))
        or (base < 0).any()
        or (win < 0).any()
    ):
        raise ValueError("counts must be finite and non-negative")
    n = float(win.sum())
    observed = int(np.sum(win > 0))
    expected = float(expected_distinct(base, n)) if base.sum() > 0 else np.nan
    sd = float(np.sqrt(distinct_variance(base, n))) if base.sum() > 0 else np.nan
    pooled = np.round(base + win).astype(np.int64)
    n_whole = int(round(n))
    null_expected = float(expected_distinct(pooled, n_whole))
    null_sd = float(np.sqrt(distinct_variance(pooled, n_whole)))
    keep = pooled > 0
    colors = pooled[keep]
    rng = np.random.default_rng(seed)
    if colors.size == 0 or n_whole == 0:
        return OutletTest(n, observed, expected, sd, null_expected, null_sd, 1.0, 0)
    draws = rng.multivariate_hypergeometric(colors, n_whole, size=n_sim, method="marginals")
    distinct = np.count_nonzero(draws, axis=1)
    pvalue = (1.0 + np.sum(distinct <= observed)) / (1.0 + n_sim)
    return OutletTest(n, observed, expected, sd, null_expected, null_sd, float(pvalue), n_sim)
