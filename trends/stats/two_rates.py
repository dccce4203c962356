"""Two Poisson rates compared: conditional tests and intervals, with a dispersion.

Conditional on the total ``n = x1 + x2``, ``x1`` is binomial with ``p0 = e1 / (e1 +
e2)`` when the rates are equal (Przyborowski & Wilenski 1940; Gu, Ng, Tang & Schucany
2008, *Biometrical Journal* 50(2):283-298). A dispersion ``phi`` (variance / mean)
enters the quasi-Poisson way: counts carry the information of ``x / phi`` effective
events (McCullagh & Nelder 1989, *Generalized Linear Models*, section 4.5); with an
estimated ``phi`` on ``df`` degrees of freedom the score statistic is referred to
``F(1, df)``. :func:`trends.compare` documents each method.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from ..checks import check_fraction
from ..methods import Registry
from .poisson import poisson_interval

__all__ = ["PHI_FLOOR", "TESTS", "two_sample_rates"]


#: Numerical floor on the dispersion where it divides (a Pearson estimate can be 0
#: when every count equals its fitted value).
PHI_FLOOR = 1e-6


@dataclass(frozen=True)
class _Counts:
    """The two samples of :func:`two_sample_rates`, broadcast, with what every test uses."""

    x1: np.ndarray
    e1: np.ndarray
    x2: np.ndarray
    e2: np.ndarray
    phi: np.ndarray  # dispersion as given
    df: np.ndarray  # its residual df (inf: fixed)
    level: float

    @property
    def n(self) -> np.ndarray:
        return self.x1 + self.x2

    @property
    def ok(self) -> np.ndarray:
        return (self.e1 > 0) & (self.e2 > 0)

    @property
    def test_ok(self) -> np.ndarray:
        return self.ok & (self.n > 0)

    @property
    def p0(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.ok, self.e1 / (self.e1 + self.e2), np.nan)

    @property
    def phi_eff(self) -> np.ndarray:
        return np.maximum(self.phi, PHI_FLOOR)

    @property
    def estimated(self) -> np.ndarray:
        return np.isfinite(self.df)

    @property
    def crit(self) -> np.ndarray:
        """Critical value on the chi-square(1) scale: F(1, df) when phi is estimated."""
        df = np.where(self.estimated, self.df, 1.0)
        return np.where(
            self.estimated, stats.f.ppf(self.level, 1, df), stats.chi2.ppf(self.level, 1)
        )

    @property
    def effective(self) -> tuple[np.ndarray, np.ndarray]:
        """``x1 / phi`` and ``n / phi``: the effective counts (quasi-Poisson scaling)."""
        return self.x1 / self.phi_eff, self.n / self.phi_eff

    @property
    def integral(self) -> np.ndarray:
        """Poisson with whole counts: where the exact (minimum-likelihood) forms apply."""
        return (self.phi == 1.0) & (self.x1 == np.round(self.x1)) & (self.x2 == np.round(self.x2))

    def score(self) -> np.ndarray:
        """The score statistic ``z = (x1 - n p0) / sqrt(phi n p0 (1 - p0))``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (self.x1 - self.n * self.p0) / np.sqrt(self.phi * self.n * self.p0 * (1 - self.p0))
        return np.where(self.test_ok, z, np.nan)


def _score_test(c: _Counts) -> tuple:
    z = c.score()
    df = np.where(c.estimated, c.df, 1.0)
    pvalue = np.where(c.estimated, stats.f.sf(z**2, 1, df), 2 * stats.norm.sf(np.abs(z)))
    reference = np.where(
        c.estimated, [f"F(1, {d:g})" for d in np.where(c.estimated, c.df, 0)], "normal"
    )
    return z, pvalue, *_wilson(*c.effective, c.crit), reference.astype(object)


def _etest_test(c: _Counts) -> tuple:
    k, _ = c.effective
    pvalue = _etest(k, c.e1 / c.phi_eff, c.x2 / c.phi_eff, c.e2 / c.phi_eff, c.test_ok)
    reference = np.full(k.shape, "poisson (E-test)", dtype=object)
    return c.score(), pvalue, *_wilson(*c.effective, c.crit), reference


def _exact_test(c: _Counts) -> tuple:
    k, m = c.effective
    pvalue = np.full(k.shape, np.nan)
    whole = c.test_ok & c.integral
    pvalue[whole] = _minlike_pvalue(c.x1[whole], c.n[whole], c.p0[whole])
    lower_tail = _binom_cdf(k, m, c.p0)
    upper_tail = 1.0 - _binom_cdf(k - 1, m, c.p0)
    central = np.minimum(1.0, 2 * np.minimum(lower_tail, upper_tail))
    pvalue = np.where(c.test_ok & ~c.integral, central, pvalue)
    statistic = np.full(k.shape, np.nan)
    reference = np.full(k.shape, "binomial", dtype=object)
    return statistic, pvalue, *_clopper_pearson(k, m, 1.0 - c.level), reference


def _midp_test(c: _Counts) -> tuple:
    k, m = c.effective
    pvalue = np.full(k.shape, np.nan)
    whole = c.test_ok & c.integral
    xw, nw, pw = c.x1[whole], c.n[whole], c.p0[whole]
    pvalue[whole] = _minlike_pvalue(xw, nw, pw) - 0.5 * stats.binom.pmf(xw, nw, pw)
    mid_lower = _mid_cdf(k, m, c.p0)
    central = np.minimum(1.0, 2 * np.minimum(mid_lower, 1.0 - mid_lower))
    pvalue = np.where(c.test_ok & ~c.integral, central, pvalue)
    statistic = np.full(k.shape, np.nan)
    reference = np.full(k.shape, "binomial (mid-p)", dtype=object)
    return statistic, pvalue, *_midp_limits(k, m, 1.0 - c.level), reference


#: The tests of :func:`two_sample_rates`, found by name: each function of the counts
#: returns (statistic, p-value, lower and upper limit of p = x1 / n, reference
#: distribution); the description and reference are what the report's methods print.
TESTS = Registry("compare method")
TESTS.add(
    "score",
    _score_test,
    description="the conditional score test of the rate ratio, its interval the inverted test",
    reference="Gu et al. 2008",
)
TESTS.add(
    "exact-cond",
    _exact_test,
    description="the exact conditional (binomial) test, as R's poisson.test",
    reference="Fay 2010",
)
TESTS.add(
    "mid-p",
    _midp_test,
    description="the mid-p exact conditional test",
    reference="Lancaster 1961",
)
TESTS.add(
    "etest",
    _etest_test,
    description="the E-test with the score statistic",
    reference="Krishnamoorthy & Thomson 2004",
)


def two_sample_rates(
    x1: np.ndarray,
    e1: np.ndarray,
    x2: np.ndarray,
    e2: np.ndarray,
    *,
    phi: np.ndarray | float = 1.0,
    df: np.ndarray | float = np.inf,
    method: str = "score",
    level: float = 0.95,
) -> dict[str, np.ndarray]:
    """Compare rate 1 (``x1 / e1``) with rate 2, elementwise over arrays.

    ``method`` is one of :data:`TESTS` (:func:`trends.compare` documents each);
    ``df`` is the residual df of an estimated dispersion (``inf``: fixed). Returns
    arrays ``rate_ratio`` (rate1 / rate2), ``rr_low``, ``rr_high``, ``rate_diff``
    (rate1 - rate2 per unit exposure), ``rd_low``, ``rd_high``, ``statistic``,
    ``pvalue`` and ``reference``. Undefined entries (no exposure, no events) are NaN;
    the caller explains them.
    """
    test = TESTS.get(method).func
    x1, e1, x2, e2 = (np.asarray(v, dtype=float) for v in (x1, e1, x2, e2))
    shape = x1.shape
    c = _Counts(
        x1,
        e1,
        x2,
        e2,
        np.broadcast_to(np.asarray(phi, dtype=float), shape),
        np.broadcast_to(np.asarray(df, dtype=float), shape),
        check_fraction("level", level),
    )
    ok, test_ok = c.ok, c.test_ok
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(test_ok, (x1 / e1) / (x2 / e2), np.nan)
        ratio = np.where(test_ok & (x2 == 0), np.inf, ratio)
        ratio = np.where(test_ok & (x1 == 0), 0.0, ratio)
    statistic, pvalue, p_lo, p_hi, reference = test(c)
    pvalue = np.where(test_ok, np.clip(pvalue, 0.0, 1.0), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = e2 / e1
        rr_low = np.where(test_ok, p_lo / (1 - p_lo) * scale, np.nan)
        rr_high = np.where(test_ok, np.where(p_hi >= 1, np.inf, p_hi / (1 - p_hi) * scale), np.nan)
    # t instead of z for an estimated dispersion: phi times (t / z) ** 2
    phi_mover = c.phi_eff * c.crit / stats.chi2.ppf(c.level, 1)
    rd, rd_low, rd_high = _mover_difference(x1, e1, x2, e2, phi_mover, 1.0 - c.level)
    return {
        "rate_ratio": ratio,
        "rr_low": rr_low,
        "rr_high": rr_high,
        "rate_diff": np.where(ok, rd, np.nan),
        "rd_low": np.where(ok, rd_low, np.nan),
        "rd_high": np.where(ok, rd_high, np.nan),
        "statistic": statistic,
        "pvalue": pvalue,
        "reference": np.where(test_ok, reference, ""),
    }


def _minlike_pvalue(x: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Two-sided binomial p-value by the minimum-likelihood rule, vectorised.

    The rule of R's ``binom.test`` (and scipy's ``binomtest``): the probability of
    every outcome no more likely than ``x`` (relative tolerance 1e-7). The outcomes
    on the far side of the mean form a run from the tail (the pmf is monotone there),
    whose end is found by bisection for all rows at once.
    """
    x, n, p = (np.asarray(v, dtype=float) for v in (x, n, p))
    if x.size == 0:
        return np.empty(0)
    d = stats.binom.pmf(x, n, p) * (1 + 1e-7)
    mean = n * p
    below = x < mean
    # far side: [ceil(mean), n] (pmf non-increasing) when x is below the mean,
    # [0, floor(mean)] (pmf non-decreasing) when above
    lo = np.where(below, np.ceil(mean), 0.0)
    hi = np.where(below, n, np.floor(mean))
    # first i in the run with pmf(i) <= d (below), last i with pmf(i) <= d (above)
    a, b = lo.copy(), hi.copy()
    a = np.where(below, a, a - 1)  # search state: below -> smallest ok in [a, b+1]
    b = np.where(below, b + 1, b)  #               above -> largest ok in [a-1, b]
    for _ in range(64):
        active = b - a > 1
        if not active.any():
            break
        mid = np.floor((a + b) / 2)
        ok = stats.binom.pmf(mid, n, p) <= d
        # below: ok at mid -> answer <= mid; above: ok at mid -> answer >= mid
        b = np.where(active & below & ok, mid, b)
        a = np.where(active & below & ~ok, mid, a)
        a = np.where(active & ~below & ok, mid, a)
        b = np.where(active & ~below & ~ok, mid, b)
    # finish the one-element bracket
    first_ok = np.where(stats.binom.pmf(a, n, p) <= d, a, b)  # below
    first_ok = np.where(a < lo, b, first_ok)
    last_ok = np.where(stats.binom.pmf(b, n, p) <= d, b, a)  # above
    last_ok = np.where(b > hi, a, last_ok)
    y_below = np.maximum(hi - first_ok + 1, 0)  # outcomes in the run at least as unlikely
    y_above = np.maximum(last_ok - lo + 1, 0)
    p_below = stats.binom.cdf(x, n, p) + stats.binom.sf(n - y_below, n, p)
    p_above = stats.binom.cdf(y_above - 1, n, p) + stats.binom.sf(x - 1, n, p)
    out = np.where(below, p_below, p_above)
    return np.where(x == mean, 1.0, np.minimum(out, 1.0))


def _wilson(k: np.ndarray, m: np.ndarray, crit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score (Wilson 1927) limits for a binomial proportion, ``k`` of ``m`` (may be
    fractional), critical value ``crit`` on the chi-square scale."""
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = (k + crit / 2) / (m + crit)
        half = np.sqrt(crit) / (m + crit) * np.sqrt(k * (m - k) / m + crit / 4)
    low = np.where(k <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k >= m, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


def _binom_cdf(k: np.ndarray, m: np.ndarray, p: np.ndarray) -> np.ndarray:
    """P(X <= k) for X binomial(m, p), continued to real k and m by the incomplete
    beta function (equal to the binomial CDF at whole numbers)."""
    k, m, p = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (k, m, p)))
    out = np.where(k < 0, 0.0, 1.0)
    inner = (k >= 0) & (k < m)
    with np.errstate(invalid="ignore"):
        val = special.betainc(np.where(inner, m - k, 1.0), np.where(inner, k + 1, 1.0), 1 - p)
    return np.where(inner, val, out)


def _mid_cdf(k: np.ndarray, m: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Mid-p lower tail: P(X < k) + P(X = k) / 2 at whole k, continued to real k."""
    return 0.5 * (_binom_cdf(k, m, p) + _binom_cdf(k - 1, m, p))


def _clopper_pearson(k: np.ndarray, m: np.ndarray, a: float) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson limits (as R's ``binom.test``), valid for real ``k`` and ``m``."""
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, stats.beta.ppf(a / 2, np.maximum(k, 1e-300), m - k + 1), 0.0)
        high = np.where(k < m, stats.beta.ppf(1 - a / 2, k + 1, np.maximum(m - k, 1e-300)), 1.0)
    return low, high


def _midp_limits(k: np.ndarray, m: np.ndarray, a: float) -> tuple[np.ndarray, np.ndarray]:
    """Central mid-p limits for a binomial proportion by vectorised bisection."""

    def solve(target_upper: bool) -> np.ndarray:
        lo, hi = np.zeros_like(k), np.ones_like(k)
        for _ in range(60):
            mid = (lo + hi) / 2
            tail = _mid_cdf(k, m, mid)
            # lower limit: upper tail 1 - tail = a/2 (rises with p);
            # upper limit: lower tail = a/2 (falls with p)
            too_low = (1 - tail < a / 2) if not target_upper else (tail > a / 2)
            lo = np.where(too_low, mid, lo)
            hi = np.where(too_low, hi, mid)
        return (lo + hi) / 2

    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, solve(False), 0.0)
        high = np.where(k < m, solve(True), 1.0)
    return low, high


def _etest(
    k1: np.ndarray, e1: np.ndarray, k2: np.ndarray, e2: np.ndarray, ok: np.ndarray
) -> np.ndarray:
    """E-test p-values (statsmodels' ``etest_poisson_2indep``, score statistic)."""
    from statsmodels.stats.rates import etest_poisson_2indep

    out = np.full(k1.shape, np.nan)
    for i in np.flatnonzero(ok):
        out[i] = etest_poisson_2indep(k1[i], e1[i], k2[i], e2[i], method="score")[1]
    return out


def _mover_difference(x1, e1, x2, e2, phi, a):
    """Rate difference (per unit exposure) and its MOVER interval from Jeffreys
    intervals on the effective counts ``x / phi`` over ``e / phi``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r1, r2 = x1 / e1, x2 / e2
        lims = []
        for x, e in ((x1, e1), (x2, e2)):
            low, high = poisson_interval(x / phi, method="jeffreys", level=1 - a)
            lims.append((low * phi / e, high * phi / e))
        (l1, u1), (l2, u2) = lims
        d = r1 - r2
        low = d - np.sqrt((r1 - l1) ** 2 + (u2 - r2) ** 2)
        high = d + np.sqrt((u1 - r1) ** 2 + (r2 - l2) ** 2)
    return d, low, high
