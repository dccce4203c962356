"""trends.stats.rarefaction: exact against enumeration, against simulation, and the
"fewer outlets than expected" rule under the null of an unchanged mix."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import special

from trends.stats.rarefaction import distinct_variance, expected_distinct, fewer_outlets_test

SMALL = [[5, 3, 1, 1, 2], [1, 1, 1, 1], [7], [2, 2, 2, 4, 1, 1]]


def enumerate_distinct(counts: list[int], n: int) -> np.ndarray:
    """Distinct outlets in every n-subset of the events (brute force)."""
    labels = np.repeat(np.arange(len(counts)), counts)
    return np.array(
        [len(set(labels[list(c)])) for c in itertools.combinations(range(labels.size), n)],
        dtype=float,
    )


@pytest.mark.parametrize("counts", SMALL)
def test_exact_against_enumeration(counts):
    """Every n from 0 to N: mean and variance over all C(N, n) subsets."""
    total = sum(counts)
    for n in range(total + 1):
        s = enumerate_distinct(counts, n)
        assert expected_distinct(counts, n) == pytest.approx(s.mean(), abs=1e-12)
        assert distinct_variance(counts, n) == pytest.approx(s.var(), abs=1e-12)


def test_vectorised_over_n_and_shape_kept():
    counts = [5, 3, 1, 1, 2]
    n = np.array([[0, 1, 2], [5, 8, 12]])
    e = expected_distinct(counts, n)
    v = distinct_variance(counts, n)
    assert e.shape == v.shape == (2, 3)
    for idx in np.ndindex(n.shape):
        assert e[idx] == pytest.approx(expected_distinct(counts, int(n[idx])))
        assert v[idx] == pytest.approx(distinct_variance(counts, int(n[idx])))


def test_fractional_n_uses_the_gamma_form():
    """Fractional n: C(N - N_i, n) / C(N, n) with real n (scipy.special.binom, the
    gamma-function binomial), equal to the formula at whole n, increasing between
    whole numbers and within their values."""
    counts = np.array([40, 13, 7, 7, 3, 1, 1, 1])
    total = counts.sum()
    n = np.array([0.5, 2.25, 10.5, 33.3, 60.9, 70.5, 72.0])
    direct = np.array(
        [np.sum(1 - special.binom(total - counts, x) / special.binom(total, x)) for x in n]
    )
    # binom(a, x) with x > a is not the probability any more: q is 0 once x >= a + 1
    direct[n >= total - counts.min() + 1] = np.nan
    e = expected_distinct(counts, n)
    ok = np.isfinite(direct)
    np.testing.assert_allclose(e[ok], direct[ok], rtol=1e-10)
    grid = np.linspace(0, total, 2001)
    eg = expected_distinct(counts, grid)
    assert np.all(np.diff(eg) >= -1e-12)
    whole = expected_distinct(counts, np.arange(total + 1))
    lo = np.floor(grid).astype(int)
    hi = np.minimum(lo + 1, total)
    assert np.all(eg >= whole[lo] - 1e-12) and np.all(eg <= whole[hi] + 1e-12)
    # fractional counts (events split across periods) take the log-gamma form
    frac = expected_distinct([2.5, 1.5, 1.0], [1.0, 2.0, 4.0])
    assert np.all(np.diff(frac) > 0) and frac[0] == pytest.approx(1.0)


def test_large_counts_are_stable():
    """A million baseline events: no overflow; matches the with-replacement form
    when n is a small fraction of N, and a subsample of everything is every outlet."""
    counts = np.array([600_000, 300_000, 90_000, 9_000, 900, 90, 9, 1])
    n = np.array([1, 10, 100, 1_000, 10_000, 100_000])
    e = expected_distinct(counts, n)
    v = distinct_variance(counts, n)
    assert np.all(np.isfinite(e)) and np.all(np.isfinite(v)) and np.all(v >= 0)
    np.testing.assert_allclose(e[:4], expected_distinct(counts, n[:4], replace=True), rtol=1e-3)
    assert expected_distinct(counts, counts.sum()) == pytest.approx(counts.size)
    assert distinct_variance(counts, counts.sum()) == pytest.approx(0.0, abs=1e-9)


def test_against_simulation():
    """Larger inputs: the mean and variance of distinct outlets in 40,000 random
    subsets (multivariate hypergeometric) agree with the formulas (mean within 4
    standard errors, variance within 5%)."""
    rng = np.random.default_rng(3)
    counts = np.r_[rng.integers(1, 200, 57), 1500, 1, 1]
    reps = 40_000
    for n in (25, 400, 2_500):
        draws = rng.multivariate_hypergeometric(counts, n, size=reps, method="marginals")
        s = np.count_nonzero(draws, axis=1)
        e, v = expected_distinct(counts, n), distinct_variance(counts, n)
        assert abs(s.mean() - e) < 4 * np.sqrt(v / reps)
        assert s.var() == pytest.approx(v, rel=0.05)


def test_with_replacement_against_simulation():
    rng = np.random.default_rng(5)
    counts = np.array([50, 20, 10, 5, 5, 3, 1, 1])
    p = counts / counts.sum()
    reps = 40_000
    for n in (5, 30, 200):  # n may exceed N with replacement
        s = np.count_nonzero(rng.multinomial(n, p, size=reps), axis=1)
        e = expected_distinct(counts, n, replace=True)
        v = distinct_variance(counts, n, replace=True)
        assert abs(s.mean() - e) < 4 * np.sqrt(v / reps)
        assert s.var() == pytest.approx(v, rel=0.05)


def test_edges():
    assert np.isnan(expected_distinct([3, 2], 6))  # more events than the baseline
    assert np.isnan(distinct_variance([3, 2], 6))
    assert np.isnan(expected_distinct([3, 2], -1))
    assert expected_distinct([], 4) == 0.0
    assert expected_distinct([0, 3, 0], 2) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        expected_distinct([1, -2], 1)


# --------------------------------------------------------------------------- the rule


def zipf(k: int, a: float) -> np.ndarray:
    w = 1.0 / np.arange(1, k + 1) ** a
    return w / w.sum()


def test_rule_reports_its_reference():
    base = np.array([120, 60, 30, 10, 5, 5, 1, 1, 0])
    win = np.array([30, 0, 4, 0, 0, 0, 0, 0, 2])
    res = fewer_outlets_test(base, win, n_sim=999)
    assert res.events == 36 and res.observed == 3
    assert res.expected == pytest.approx(expected_distinct(base, 36))
    assert res.sd == pytest.approx(np.sqrt(distinct_variance(base, 36)))
    assert res.null_expected == pytest.approx(expected_distinct(base + win, 36))
    assert 0 < res.pvalue <= 1 and res.n_sim == 999
    assert fewer_outlets_test(base, win, n_sim=999).pvalue == res.pvalue  # seeded
    with pytest.raises(ValueError):
        fewer_outlets_test([1, 2], [1])


@pytest.mark.slow
def test_rule_holds_its_level_under_an_unchanged_mix():
    """Null: baseline and window drawn independently from the same outlet mix
    (Zipf shares; few and many outlets; windows from 5% to 125% of the baseline's
    events). ``pvalue <= 0.05`` fires at most at 0.05 (plus two binomial standard
    errors of the 800 replicates); the randomisation makes this hold by
    construction, the simulation checks the implementation."""
    rng = np.random.default_rng(11)
    reps = 800
    for k, a, total, n in [(30, 1.2, 400, 20), (30, 1.2, 400, 150), (6, 1.0, 300, 100),
                           (50, 0.8, 1000, 500), (12, 1.5, 80, 100)]:  # fmt: skip
        p = zipf(k, a)
        fired = 0
        for _ in range(reps):
            res = fewer_outlets_test(
                rng.multinomial(total, p), rng.multinomial(n, p), n_sim=199, seed=rng
            )
            fired += res.pvalue <= 0.05
        assert fired / reps <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / reps), (k, a, total, n, fired)


@pytest.mark.slow
def test_rule_finds_silent_outlets():
    """Alternative: the 25 smaller of 30 outlets go silent (the window's events come
    from the 5 largest); 60 window events against 400 baseline events."""
    rng = np.random.default_rng(12)
    p = zipf(30, 1.0)
    p_after = np.where(np.arange(30) < 5, p, 0.0)
    p_after /= p_after.sum()
    fired = sum(
        fewer_outlets_test(rng.multinomial(400, p), rng.multinomial(60, p_after), n_sim=199,
                           seed=rng).pvalue <= 0.05
        for _ in range(200)
    )  # fmt: skip
    assert fired / 200 > 0.9
