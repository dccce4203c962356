"""trends.joinpoints / trends.aapc: exact grid search, fits, selection, bad input.

Unit tests use few permutations (199); speed is measured by benchmarks/joinpoints_speed.py.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

import trends
from trends.errors import TrendsError
from trends.joinpoint import kernels
from trends.joinpoint.fit import Series, design, deviance, fit_constant, fit_poisson
from trends.joinpoint.intervals import (
    empirical_apc,
    resample_slopes,
    segment_apcs,
    segment_slopes,
)
from trends.joinpoint.search import Grid, search
from trends.periods import period_range

MONTHS = period_range("2004-01", "2018-12", "month")


def _cells(counts, region="A", labels=None, exposure=None) -> pd.DataFrame:
    labels = MONTHS[: len(counts)] if labels is None else labels
    out = pd.DataFrame({"region": region, "period": labels, "count": np.asarray(counts, float)})
    if exposure is not None:
        out["exposure"] = exposure
    return out


def _run(cells, **kw):
    kw.setdefault("n_permutations", 199)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.ThinCoverageWarning)
        warnings.simplefilter("ignore", trends.errors.EstimationWarning)
        return trends.joinpoints(cells, **kw)


def _brute(x, s, Y, cand, k, gap):
    """Smallest weighted SSE over every allowed set of k joinpoints, by lstsq."""
    best = np.full(Y.shape[1], np.inf)
    for combo in itertools.combinations(cand, k):
        if any(b - a < gap for a, b in itertools.pairwise(combo)):
            continue
        X = design(x, np.array(combo, dtype=int)) * s[:, None]
        beta, *_ = np.linalg.lstsq(X, Y, rcond=None)
        best = np.minimum(best, ((Y - X @ beta) ** 2).sum(axis=0))
    return best


@pytest.mark.parametrize("kernel", ["compiled", "numpy"])
def test_grid_search_is_exact(kernel, monkeypatch):
    if kernel == "numpy":
        monkeypatch.setattr(kernels, "dfs", kernels.dfs_numpy)
    elif not kernels.HAVE_NUMBA:
        pytest.skip("numba is not installed: the numpy case covers the search")
    rng = np.random.default_rng(1)
    n = 26
    x = np.arange(n, dtype=float)
    x[15:] += 2  # a gap in the series (two uncovered periods)
    s = rng.uniform(0.5, 2.0, n)
    Y = rng.normal(size=(n, 4)) + np.maximum(x - 10, 0)[:, None] * 0.3
    grid = Grid(x=x, cand=np.arange(2, n - 2), gap=3)
    sse, arg = search(grid, s, Y, 3, track=True)
    for k in range(4):
        np.testing.assert_allclose(sse[k], _brute(x, s, Y, grid.cand, k, 3), rtol=1e-9)
    # the tracked joinpoints reproduce the best SSE
    for k in (1, 2, 3):
        X = design(x, arg[k, 0, :k]) * s[:, None]
        beta, *_ = np.linalg.lstsq(X, Y[:, 0], rcond=None)
        assert ((Y[:, 0] - X @ beta) ** 2).sum() == pytest.approx(sse[k, 0], rel=1e-9)


def test_broken_stick_bound_is_below_the_grid_optimum():
    """The permutation test skips the grid search where the broken-stick SSE already
    settles the comparison: it must never exceed the exact continuous optimum."""
    if kernels.split_bound is None:
        pytest.skip("the bound is used only with numba")
    rng = np.random.default_rng(8)
    n = 30
    x = np.arange(n, dtype=float)
    s = rng.uniform(0.5, 2.0, n)
    Y = rng.normal(size=(n, 6)) + np.maximum(x - 12, 0)[:, None] * 0.4
    grid = Grid(x=x, cand=np.arange(2, n - 2), gap=3)
    for k in (1, 2, 3):
        exact = _brute(x, s, Y, grid.cand, k, 3)
        low = kernels.split_bound(s, x, Y, k, 2, n - 3, 3)
        assert np.all(low <= exact * (1 + 1e-9))
        assert np.all(low >= 0.5 * exact)  # and it is not trivially loose


@pytest.mark.parametrize("gap", [1, 2, 3])
def test_three_joinpoint_shortcut_matches_brute_force(gap):
    """_three_min (the k = 3 permutation step and bootstrap refits) gives the smallest
    SSE with three joinpoints and a set achieving it, and with a target says whether
    some set reaches it: exactly what trying every allowed set by least squares says,
    with targets just above and below the optimum, weights far from 1 and a gap in the
    time axis."""
    if kernels.three_min is None:
        pytest.skip("used only with numba")
    rng = np.random.default_rng(30 + gap)
    n = 28
    x = np.arange(n, dtype=float)
    x[17:] += 3
    s = np.sqrt(rng.uniform(0.5, 400.0, n))
    Y = rng.normal(size=(n, 24)) * s[:, None] + s[:, None] * np.maximum(x - 9, 0)[:, None]
    cand = np.arange(2, n - 2)
    exact = _brute(x, s, Y, cand, 3, gap)
    q, _ = np.linalg.qr(np.column_stack([s, s * x]))
    R = np.ascontiguousarray(Y - q @ (q.T @ Y))  # as the callers pass it: the line removed
    left, right, ok = kernels.three_geometry(s, x, 2, n - 3, gap)
    assert ok
    sse, knots = kernels.three_min(
        s, x, R, np.full(Y.shape[1], -np.inf), 2, n - 3, gap, left, right
    )
    np.testing.assert_allclose(sse, exact, rtol=1e-9)
    for b in range(Y.shape[1]):  # the set returned has that SSE and is allowed
        assert np.all(np.diff(knots[b]) >= gap) and knots[b, 0] >= 2 and knots[b, 2] <= n - 3
        X = design(x, knots[b]) * s[:, None]
        beta, *_ = np.linalg.lstsq(X, Y[:, b], rcond=None)
        assert ((Y[:, b] - X @ beta) ** 2).sum() == pytest.approx(exact[b], rel=1e-9)
    for factor in (1 - 1e-6, 1 + 1e-6, 0.9, 1.5):
        target = exact * factor
        got, _ = kernels.three_min(s, x, R, target, 2, n - 3, gap, left, right)
        np.testing.assert_array_equal(got <= target, exact <= target)


def test_three_joinpoint_shortcut_matches_the_grid_search_on_long_series():
    """The same on 150 observations (several blocks of middle joinpoints, most pruned
    when the target is far below the optimum), against the exact grid search."""
    if kernels.three_min is None:
        pytest.skip("used only with numba")
    rng = np.random.default_rng(5)
    n = 150
    x = np.arange(n, dtype=float)
    s = np.sqrt(rng.uniform(5.0, 50.0, n))
    trend = 0.02 * x - 0.05 * np.maximum(x - 40, 0) + 0.06 * np.maximum(x - 95, 0)
    Y = s[:, None] * (trend[:, None] + rng.normal(scale=0.3, size=(n, 40)))
    grid = Grid(x=x, cand=np.arange(2, n - 2), gap=3)
    exact = search(grid, s, Y, 3, track=False)[0][3]
    q, _ = np.linalg.qr(np.column_stack([s, s * x]))
    R = np.ascontiguousarray(Y - q @ (q.T @ Y))
    left, right, ok = kernels.three_geometry(s, x, 2, n - 3, 3)
    assert ok
    sse, _ = kernels.three_min(s, x, R, np.full(40, -np.inf), 2, n - 3, 3, left, right)
    np.testing.assert_allclose(sse, exact, rtol=1e-9)
    for factor in (0.3, 0.95, 1 - 1e-6, 1 + 1e-6, 2.0):
        target = exact * factor
        got, _ = kernels.three_min(s, x, R, target, 2, n - 3, 3, left, right)
        np.testing.assert_array_equal(got <= target, exact <= target)


def test_bounds_do_not_change_the_permutation_pvalues(monkeypatch):
    """The bound only skips grid searches whose outcome it settles: the p-values (and
    where the tests stop) are those of the grid search on every permutation."""
    if kernels.split_bound is None:
        pytest.skip("the bound is used only with numba")
    rng = np.random.default_rng(21)
    cells = pd.concat(
        [
            _cells(_series(rng, 60, 30, level=30, change=-0.05), region="break"),
            _cells(_series(rng, 60, level=30, slope=0.01), region="flat"),
            _cells(_series(rng, 60, 20, level=30, change=0.04), region="late"),
        ]
    )
    with_bounds = _run(cells, max_joinpoints=3, n_permutations=499)
    monkeypatch.setattr(kernels, "three_min", None)
    only_split = _run(cells, max_joinpoints=3, n_permutations=499)
    monkeypatch.setattr(kernels, "split_bound", None)
    without = _run(cells, max_joinpoints=3, n_permutations=499)
    pd.testing.assert_series_equal(with_bounds["selection_detail"], without["selection_detail"])
    pd.testing.assert_series_equal(only_split["selection_detail"], without["selection_detail"])


def test_poisson_screening_without_its_compiled_kernel_gives_the_same_fits(monkeypatch):
    """The numpy Poisson screening (used without numba) chooses what the compiled one does."""
    rng = np.random.default_rng(13)
    n = 40
    x = np.arange(n, dtype=float)
    y = rng.poisson(np.exp(2.5 + 0.04 * x - 0.1 * np.maximum(x - 22, 0))).astype(float)
    grid = Grid(x=x, cand=np.arange(2, n - 2), gap=3)
    compiled = Series(x, y, np.full(n, 30.0), grid, "poisson", 2)
    monkeypatch.setattr(kernels, "poisson_deviances_compiled", None)
    plain = Series(x, y, np.full(n, 30.0), grid, "poisson", 2)
    for a, b in zip(compiled.fits, plain.fits, strict=True):
        np.testing.assert_array_equal(a.knots, b.knots)
        np.testing.assert_allclose(a.beta, b.beta, rtol=1e-8)


def test_poisson_search_finds_the_best_grid_deviance():
    """Poisson joinpoints against every allowed set, each fitted by IRLS."""
    rng = np.random.default_rng(12)
    n = 36
    x = np.arange(n, dtype=float)
    expo = np.full(n, 30.0)
    for trial in range(3):
        logmu = 2.5 + 0.05 * x - 0.12 * np.maximum(x - rng.integers(8, 28), 0)
        y = rng.poisson(np.exp(logmu)).astype(float)
        grid = Grid(x=x, cand=np.arange(2, n - 2), gap=3)
        series = Series(x, y, expo, grid, "poisson", 2)
        for k in (1, 2):
            sets = [c for c in itertools.combinations(grid.cand, k)
                    if all(b - a >= 3 for a, b in itertools.pairwise(c))]  # fmt: skip
            devs = [deviance(y, np.log(expo) + design(x, np.array(c)) @
                                 fit_poisson(x, y, np.log(expo), np.array(c)).beta)
                    for c in sets]  # fmt: skip
            fit = series.fits[k]
            ours = deviance(y, np.log(expo) + design(x, fit.knots) @ fit.beta)
            assert ours == pytest.approx(min(devs), rel=1e-8), (trial, k)


# R 4.2.2, segmented 1.6.2, on reference/iraq/series.csv from 2004-01 to 2018-12
# (t = months since 2004-01, from 0), per region and k (benchmarks/joinpoints_vs_segmented.R):
#   fit0 <- glm(count ~ t, family = poisson, data = g); set.seed(1)
#   s <- segmented(fit0, seg.Z = ~t, npsi = k, control = seg.control(n.boot = 20))
#   paste(round(sort(s$psi[, "Est."]), 2), collapse = ";"); deviance(s)
SEGMENTED = {
    "Al Anbār province": [("149", 1247.468193), ("94;143.61", 820.648269),
                          ("33.62;48.86;145.14", 564.760146)],
    "Baghdād province": [("148.19", 867.363538), ("82;136.21", 748.545883),
                         ("52;56.11;124.1", 661.766525)],
    "Diyālá province": [("127", 446.744608), ("129;151.77", 408.884817),
                        ("108.66;127;146.52", 372.257150)],
    "Kirkūk province": [("126", 264.520447), ("129.74;157", 256.205280),
                        ("29.93;53;112.57", 227.980098)],
    "Nīnawá province": [("161", 1882.205723), ("140.23;158.35", 1229.080013),
                        ("82.77;84.25;159", 766.709988)],
    "Şalāḩ ad Dīn province": [("132", 522.655768), ("91.95;126", 403.566951),
                              ("12;83.48;126", 354.002288)],
}  # fmt: skip


def test_long_series_with_decades_of_zeros_fits(reference_dir):
    """Regression: Kirkūk's full 1990-2018 series (348 months, the first 198 zero)
    crashed the Poisson screening with a ZeroDivisionError: a start far below a
    positive count sent the first IRLS step to eta ~ 700 and the weights overflowed."""
    data = pd.read_csv(reference_dir / "iraq" / "series.csv")
    cells = data[data["region"] == "Kirkūk province"].rename(columns={"month": "period"})
    assert len(cells) == 348 and (cells["count"].iloc[:198] == 0).all()
    res = _run(cells, n_permutations=99, interval="parametric")
    assert res["n_joinpoints"].iloc[0] >= 1
    assert np.isfinite(res["apc"]).all() and np.isfinite(res["aapc"]).all()
    # the rate rises out of the zero years: the first segment's APC is positive
    assert res["apc"].iloc[0] > 0


def test_poisson_joinpoints_against_r_segmented(reference_dir):
    """Our grid optimum against segmented's continuous breakpoints (Muggeo 2003).

    segmented moves breakpoints between observations and can stop at a local optimum;
    our joinpoints lie on observations, at least 3 apart. So: where segmented's
    breakpoints are observations, both fit the same model and the deviances agree;
    ours is never worse than segmented's breakpoints moved to the nearest allowed
    observations; and the grid costs at most a few deviance units (Nīnawá, k = 3: R's
    82.77;84.25 are closer than our grid allows)."""
    data = pd.read_csv(reference_dir / "iraq" / "series.csv")
    data = data[(data["month"] >= "2004-01") & (data["month"] <= "2018-12")]
    t = np.arange(180, dtype=float)
    expo = np.full(180, 30.4375)
    grid = Grid(x=t, cand=np.arange(2, 178), gap=3)
    same_model = 0
    for region, ref in SEGMENTED.items():
        y = data.loc[data["region"] == region, "count"].to_numpy(float)
        assert len(y) == 180
        series = Series(t, y, expo, grid, "poisson", 3)

        def dev_at(knots, y=y):
            fit = fit_poisson(t, y, np.log(expo), np.asarray(knots, dtype=int))
            return deviance(y, np.log(expo) + design(t, fit.knots) @ fit.beta)

        for k, (psi, r_dev) in enumerate(ref, start=1):
            ours = dev_at(series.fits[k].knots)
            r_psi = np.array([float(v) for v in psi.split(";")])
            snapped = np.round(r_psi).astype(int)
            if np.allclose(r_psi, snapped):  # a breakpoint at an observation
                assert dev_at(snapped) == pytest.approx(r_dev, rel=1e-6), (region, k)
                same_model += 1
            if np.all(np.diff(snapped) >= 3) and np.all((snapped >= 2) & (snapped <= 177)):
                assert ours <= dev_at(snapped) * (1 + 1e-9), (region, k)
            assert ours <= r_dev + 5.0, (region, k)
    assert same_model >= 5


def test_fixed_knot_fits_match_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(3)
    x = np.arange(40, dtype=float)
    expo = rng.uniform(28, 31, 40)
    y = rng.poisson(expo * np.exp(-2 + 0.03 * x - 0.05 * np.maximum(x - 20, 0))).astype(float)
    knots = np.array([20])
    X = design(x, knots)
    pois = fit_poisson(x, y, np.log(expo), knots)
    ref = sm.GLM(y, X, family=sm.families.Poisson(), offset=np.log(expo)).fit()
    np.testing.assert_allclose(pois.beta, ref.params, rtol=1e-7)
    phi = max(1.0, ref.pearson_chi2 / ref.df_resid)
    np.testing.assert_allclose(pois.cov, ref.cov_params() * phi, rtol=1e-6)
    logy = np.log(np.where(y > 0, y, 0.5) / expo)
    const = fit_constant(x, logy, knots)
    ols = sm.OLS(logy, X).fit()
    np.testing.assert_allclose(const.beta, ols.params, rtol=1e-9)
    np.testing.assert_allclose(const.cov, ols.cov_params(), rtol=1e-9)


def test_result_columns_and_apc_scale():
    t = np.arange(120)
    mu = 20 * np.exp(np.where(t < 60, 0.02 * t, 1.2 - 0.03 * (t - 60)))
    counts = np.random.default_rng(5).poisson(mu)
    res = _run(_cells(counts), max_joinpoints=2)
    for col in ("region", "segment", "segment_start", "segment_end", "apc", "apc_low",
                "apc_high", "pvalue", "n_joinpoints", "verdict", "coverage",
                "coverage_reasons", "method", "selection", "aapc"):  # fmt: skip
        assert col in res.columns
    assert res["parameters"].iloc[0] == (
        "max_joinpoints=2; min_end=2; min_between=2; alpha=0.05; selection_alpha=0.05; "
        "level=0.95; "
        "n_permutations=199; n_bootstrap=1000; seed=0"
    )
    assert res["n_joinpoints"].iloc[0] == 1
    assert list(res["verdict"]) == ["rising", "falling"]
    jp_period = MONTHS.index(res["segment_end_period"].iloc[0])
    assert abs(jp_period - 60) <= 2
    # monthly slope 0.02 -> annual percent change 100 (exp(0.24) - 1) = 27.1%
    assert res["apc_low"].iloc[0] < 27.12 < res["apc_high"].iloc[0]
    assert res["apc_low"].iloc[1] < 100 * np.expm1(-0.36) < res["apc_high"].iloc[1]
    # segments meet without sharing a period: the joinpoint period begins the second
    assert res["segment_end"].iloc[0] == res["segment_start"].iloc[1] - pd.Timedelta(days=1)
    assert MONTHS.index(res["segment_end_period"].iloc[0]) + 1 == MONTHS.index(
        res["segment_start_period"].iloc[1]
    )


def _series(rng, n, break_at=None, level=15.0, slope=0.0, change=0.0):
    t = np.arange(n)
    logmu = np.log(level) + slope * t
    if break_at is not None:
        logmu = logmu + change * np.maximum(t - break_at, 0)
    return rng.poisson(np.exp(logmu))


@pytest.mark.slow
def test_simulation_planted_break_found():
    """A planted reversal (+3%/month -> -5%/month, 40 events/month) is found within 2
    periods. Smaller slope changes are found less precisely: with 0 -> -4%/month at 20
    events a month, the Poisson maximum-likelihood joinpoint itself (checked by brute
    force) lies within 2 periods in only about half of such series."""
    rng = np.random.default_rng(20260101)
    hits = 0
    n_sim = 20
    for _ in range(n_sim):
        at = int(rng.integers(15, 45))
        counts = _series(rng, 60, at, level=40, slope=0.03, change=-0.08)
        res = _run(_cells(counts), max_joinpoints=2)
        found = [MONTHS.index(p) for p in res["segment_end_period"].iloc[:-1]]
        hits += any(abs(f - at) <= 2 for f in found)
    assert hits >= 0.85 * n_sim  # 19 of 20 with this seed


@pytest.mark.slow
@pytest.mark.parametrize("variance", ["poisson", "constant"])
def test_simulation_no_break_in_break_free_series(variance):
    """Break-free series (a steady 1%/month rise): no joinpoint in at least 90%."""
    rng = np.random.default_rng(7)
    n_sim = 40
    cells = pd.concat(
        [_cells(_series(rng, 48, level=30, slope=0.01), region=f"r{i}") for i in range(n_sim)]
    )
    res = _run(cells, max_joinpoints=2, variance=variance)
    found = res.groupby("region")["n_joinpoints"].first()
    assert (found == 0).mean() >= 0.9


def _apc_coverage(rng, reps, n, level, slope, change, k, variance="poisson", size=None,
                  knot=None):  # fmt: skip
    """Share of simulated series whose APC intervals cover the true APC, per segment:
    the joinpoint at ``n // 2`` estimated (``knot=None``) or given."""
    t = np.arange(n, dtype=float)
    expo = np.full(n, 30.0)
    mu = np.exp(np.log(level) + slope * t + change * np.maximum(t - n // 2, 0))
    true = 100 * np.expm1(12 * np.array([slope, slope + change]))[: k + 1]
    grid = Grid(x=t, cand=np.arange(2, n - 2), gap=3)
    hits = np.zeros(k + 1)
    for _ in range(reps):
        y = rng.poisson(mu) if size is None else rng.negative_binomial(size, size / (size + mu))
        y = y.astype(float)
        if knot is None:
            fit = Series(t, y, expo, grid, variance, k).fits[k]
        else:
            fit = fit_poisson(t, y, np.log(expo), np.array([knot]))
        apcs = np.array(segment_apcs(fit, 12, 0.95))
        hits += (apcs[:, 1] <= true) & (true <= apcs[:, 2])
    return hits / reps


@pytest.mark.slow
def test_apc_intervals_cover_nominally():
    """95% APC intervals cover the true APC in at least 93% of simulated series: a
    log-linear trend (k = 0) with Poisson counts, overdispersed negative binomial counts
    (size 5: the quasi-Poisson scale widens the interval) and constant variance; and a
    reversal with the joinpoint at its true place. Seeded; 500 and 400 series."""
    rng = np.random.default_rng(2026)
    for variance, size in (("poisson", None), ("poisson", 5.0), ("constant", None)):
        cov = _apc_coverage(rng, 500, 48, 30, 0.01, 0.0, 0, variance, size)
        assert cov[0] >= 0.93, (variance, size, cov)
    for level, change in ((30, -0.06), (200, -0.10)):
        cov = _apc_coverage(rng, 400, 60, level, 0.02, change, 1, knot=30)
        assert np.all(cov >= 0.93), (level, change, cov)


def _coverage_both(rng, reps, n, level, slope, change, n_boot):
    """Coverage of the true segment APCs by the parametric and by the empirical-quantile
    intervals, on the same simulated series: Poisson counts, one joinpoint at ``n // 2``,
    estimated (k = 1 given)."""
    t = np.arange(n, dtype=float)
    expo = np.full(n, 30.0)
    mu = np.exp(np.log(level) + slope * t + change * np.maximum(t - n // 2, 0))
    true = 100 * np.expm1(12 * np.array([slope, slope + change]))
    grid = Grid(x=t, cand=np.arange(2, n - 2), gap=3)
    hits = np.zeros((2, 2))
    for _ in range(reps):
        fit = Series(t, rng.poisson(mu).astype(float), expo, grid, "poisson", 1).fits[1]
        parametric = np.array(segment_apcs(fit, 12, 0.95))
        draws, _ = resample_slopes(grid, fit, "poisson", n_boot, rng)
        slopes, _, _ = segment_slopes(fit)
        empirical = np.array([empirical_apc(draws[j], slopes[j], 12, 0.95, fit.df) for j in (0, 1)])
        for row, apcs in enumerate((parametric, empirical)):
            hits[row] += (apcs[:, 1] <= true) & (true <= apcs[:, 2])
    return hits / reps


@pytest.mark.slow
def test_empirical_intervals_cover_where_parametric_ones_undercover():
    """With an estimated joinpoint the parametric intervals (conditional on the
    joinpoints) miss its uncertainty; the empirical-quantile intervals (Kim et al. 2022,
    Stat Med 41:3102) refit the joinpoints in each resample and cover nominally.

    A +2%/month reversal to -8%/month at 200 events a month and to -4%/month at 30, 60
    months, 400 series each (Monte Carlo SE of a coverage near 0.95: 0.011), 500
    resamples. This seed: parametric 0.910, 0.905 and 0.880, 0.883; empirical 0.948,
    0.965 and 0.963, 0.958. With 1000 series (seeds 11, 12; MC SE 0.007): parametric
    0.903, 0.894 and 0.884, 0.878; empirical 0.951, 0.949 and 0.954, 0.956."""
    rng = np.random.default_rng(2027)
    for level, change in ((200, -0.10), (30, -0.06)):
        (parametric, empirical) = _coverage_both(rng, 400, 60, level, 0.02, change, 500)
        assert np.all(empirical >= 0.93), (level, change, empirical)
        assert np.all(parametric < empirical), (level, change, parametric, empirical)
        assert np.all((parametric >= 0.80) & (parametric <= 0.935)), (level, change, parametric)


def test_empirical_interval_without_joinpoints_matches_glm_t_interval():
    """k = 0: no joinpoint to re-estimate, so the resampled slope's distribution is that
    of the weighted least-squares slope, with the quasi-Poisson scale: its quantiles
    agree with the GLM's t interval (statsmodels, scale = Pearson X^2 / df) to within
    Monte Carlo error (SE of the 2.2% quantile with 4000 resamples: 0.044 standard
    errors; the bound below is 4.5 of them)."""
    sm = pytest.importorskip("statsmodels.api")
    from scipy import stats

    rng = np.random.default_rng(31)
    n, size = 48, 5.0
    t = np.arange(n, dtype=float)
    mu = 30 * np.exp(0.01 * t)
    counts = rng.negative_binomial(size, size / (size + mu)).astype(float)
    res = _run(_cells(counts, exposure=30.0), max_joinpoints=0, n_bootstrap=4000)
    X = np.column_stack([np.ones(n), t])
    glm = sm.GLM(counts, X, family=sm.families.Poisson(), offset=np.full(n, np.log(30.0)))
    ref = glm.fit(scale="X2")
    assert ref.scale > 1  # overdispersed: our scale max(1, X^2 / df) is the GLM's
    b, se = ref.params[1], ref.bse[1]
    tq = stats.t.ppf(0.975, ref.df_resid)
    row = res.iloc[0]
    assert row["interval"] == "empirical" and row["n_joinpoints"] == 0
    assert row["apc"] == pytest.approx(100 * np.expm1(12 * b), rel=1e-6)
    low, high = (np.log1p(row[c] / 100) / 12 for c in ("apc_low", "apc_high"))
    assert abs(low - (b - tq * se)) < 0.2 * se, (low, b - tq * se, se)
    assert abs(high - (b + tq * se)) < 0.2 * se, (high, b + tq * se, se)
    # the whole-series AAPC is the APC here, from the same resamples
    assert row["aapc_low"] == pytest.approx(row["apc_low"], rel=1e-12)


def test_interval_method_does_not_change_the_model():
    """Resamples come from each region's own random stream: the permutations, the
    chosen joinpoints and the APCs are the same whichever interval is asked for, and a
    region's empirical intervals do not depend on the other regions."""
    rng = np.random.default_rng(17)
    cells = pd.concat(
        [_cells(_series(rng, 60, 30, level=30, change=-0.06), region=r) for r in "AB"]
    )
    emp, par = _run(cells, max_joinpoints=2), _run(cells, max_joinpoints=2, interval="parametric")
    pd.testing.assert_series_equal(emp["selection_detail"], par["selection_detail"])
    pd.testing.assert_series_equal(emp["apc"], par["apc"])
    assert (emp["interval"] == "empirical").all() and (par["interval"] == "parametric").all()
    assert not np.allclose(emp["apc_low"], par["apc_low"])
    alone = _run(cells[cells["region"] == "B"], max_joinpoints=2)
    cols = ["apc_low", "apc_high", "aapc_low", "aapc_high"]
    pd.testing.assert_frame_equal(
        alone[cols].reset_index(drop=True),
        emp.loc[emp["region"] == "B", cols].reset_index(drop=True),
    )


@pytest.mark.parametrize("selection", ["bic", "wbic"])
def test_information_criteria_select_planted_break(selection):
    rng = np.random.default_rng(11)
    res = _run(_cells(_series(rng, 72, 36, level=25, change=-0.06)), selection=selection)
    assert res["n_joinpoints"].iloc[0] >= 1
    assert res["selection_detail"].iloc[0].startswith(selection.upper())


def test_same_seed_same_output():
    rng = np.random.default_rng(2)
    cells = _cells(_series(rng, 50, 25, level=10, change=0.05))
    a, b = _run(cells, seed=4), _run(cells, seed=4)
    pd.testing.assert_frame_equal(a, b)


def test_aapc_whole_series_and_range():
    t = np.arange(96)
    counts = np.round(30 * np.exp(np.where(t < 48, 0.02 * t, 0.96 - 0.01 * (t - 48))))
    res = _run(_cells(counts), max_joinpoints=1, variance="constant", interval="parametric")
    rec = res.attrs["fits"]["A"]
    (k,) = rec["knots_x"]
    slopes = np.array(rec["slopes"])
    # whole series: slopes weighted by segment length (Clegg et al. 2009)
    b = (slopes[0] * k + slopes[1] * (95 - k)) / 95
    assert res["aapc"].iloc[0] == pytest.approx(100 * np.expm1(12 * b), rel=1e-9)
    # a range inside one segment gives that segment's APC and interval
    inside = trends.aapc(res, start="2004-03", end="2005-06")
    assert inside["n_segments"].iloc[0] == 1
    assert inside["aapc"].iloc[0] == pytest.approx(res["apc"].iloc[0], rel=1e-9)
    assert inside["aapc_low"].iloc[0] == pytest.approx(res["apc_low"].iloc[0], rel=1e-9)
    with pytest.raises(TrendsError, match="inside"):
        trends.aapc(res, start="2001-01", end="2005-06")
    with pytest.raises(TrendsError, match="joinpoints"):
        trends.aapc(pd.DataFrame({"region": ["A"]}))


def test_too_few_periods_is_a_clear_error():
    with pytest.raises(TrendsError, match=r"max_joinpoints=3 needs at least 11 covered periods"):
        _run(_cells([5, 6, 7, 8, 9, 10, 11, 12]), max_joinpoints=3)


def test_short_region_is_capped_and_says_so():
    long = _cells(np.arange(30) + 5, region="long")
    short = _cells([5, 6, 7, 8, 9, 10, 11, 12], region="short")
    res = _run(pd.concat([long, short]), max_joinpoints=3)
    note = res.loc[res["region"] == "short", "notes"].iloc[0]
    assert "allow at most 2 joinpoints" in note


def test_all_zero_series_and_no_exposure_give_rows_not_nan_crashes():
    zero = _cells(np.zeros(24), region="zero", exposure=30.0)
    none = _cells(np.zeros(24), region="noexp", exposure=0.0)
    good = _cells(np.random.default_rng(0).poisson(20, 24), region="good", exposure=30.0)
    uncovered = _cells([np.nan] * 24, region="gone")
    res = _run(pd.concat([zero, none, good, uncovered]), max_joinpoints=1)
    by = res.set_index("region")
    assert "every count is zero" in by.loc["zero", "notes"]
    assert by.loc["zero", "verdict"] == "not estimable"
    assert np.isnan(by.loc["zero", "apc"])
    assert "no exposure" in by.loc["noexp", "notes"]
    assert by.loc["noexp", "verdict"] == "not covered"
    assert by.loc["gone", "verdict"] == "not covered"
    assert np.isfinite(by.loc["good", "apc"])


def test_missing_counts_are_left_out_and_keep_the_time_axis():
    rng = np.random.default_rng(9)
    counts = _series(rng, 60, 30, level=20, change=-0.05).astype(float)
    counts[10:14] = np.nan  # outside coverage
    res = _run(_cells(counts), max_joinpoints=1)
    assert res["n_joinpoints"].iloc[0] == 1
    assert abs(MONTHS.index(res["segment_end_period"].iloc[0]) - 30) <= 2


def test_bad_options_repeat_value_and_list_valid_ones():
    cells = _cells(np.arange(20) + 1)
    with pytest.raises(TrendsError, match=r"selection='aic' is not one of 'permutation'"):
        _run(cells, selection="aic")
    with pytest.raises(TrendsError, match=r"variance='normal' is not one of 'poisson'"):
        _run(cells, variance="normal")
    with pytest.raises(TrendsError, match=r"interval='bca' is not one of 'empirical', 'param"):
        _run(cells, interval="bca")
    with pytest.raises(TrendsError, match="n_bootstrap=0"):
        _run(cells, n_bootstrap=0)
    with pytest.raises(TrendsError, match="max_joinpoints=-1"):
        _run(cells, max_joinpoints=-1)
    with pytest.raises(trends.errors.CellsError, match="exposure 0"):
        _run(_cells([1, 2, 3, 4, 5], exposure=[0, 31, 30, 31, 30]))


def test_thin_segments_are_gated():
    counts = np.r_[
        np.tile([0, 1], 15), np.round(np.exp(0.12 * np.arange(30)))
    ]  # 15 events, then a rise
    with pytest.warns(trends.errors.ThinCoverageWarning):
        res = trends.joinpoints(
            _cells(counts), max_joinpoints=1, n_permutations=99, rules={"min_events": 20}
        )
    assert res["n_joinpoints"].iloc[0] == 1
    assert res["coverage"].iloc[0] != "adequate"
    assert res["verdict"].iloc[0] == "inconclusive (thin coverage)"
    assert np.isfinite(res["apc"].iloc[0])  # estimates are still shown
    # the coverage rules are the caller's: 15 events pass the default (10) and lenient (5)
    lenient = _run(_cells(counts), max_joinpoints=1, n_permutations=99, rules="lenient")
    assert lenient["coverage"].iloc[0] == "adequate"
    assert lenient["verdict"].iloc[0] in ("rising", "falling", "stable")
    own = _run(_cells(counts), max_joinpoints=1, n_permutations=99, rules={"min_events": 10})
    assert own["coverage"].iloc[0] == "adequate"
    with pytest.raises(TrendsError, match=r"rules='loose' is not one of 'default'"):
        _run(_cells(counts), rules="loose")


def test_leading_run_of_zeros_does_not_overflow():
    """A segment of zero counts has its Poisson MLE at rate 0 (Kirkuk before 2006)."""
    rng = np.random.default_rng(4)
    counts = np.r_[np.zeros(30), rng.poisson(2, 60)]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        res = _run(_cells(counts), max_joinpoints=2, n_permutations=99)
    # the zero run's segment is not estimable, with the reason (its APC was about
    # 1e125 %/yr); the others are finite
    first, rest = res.iloc[0], res.iloc[1:]
    assert MONTHS.index(first["segment_end_period"]) in range(27, 34)
    assert first["verdict"] == "not estimable" and np.isnan(first["apc"])
    assert "a run of zero counts" in first["notes"]
    assert len(rest) and np.isfinite(rest[["apc", "apc_low", "apc_high"]]).all(axis=None)


def test_segment_where_the_main_outlet_went_silent_is_withheld():
    """Demo region Marj loses its main outlet (about 90% of its reports) at month 30:
    the joinpoint search finds the drop, and no segment across it is called falling.
    The drop itself is a segment of 3 months (too short to call); the segment after it
    is withheld by the source-mix rule against the previous segment. Without source
    columns the same segments are judged on their counts alone."""
    cells = trends.count(trends.datasets.simulate(), period="month")
    marj = cells[cells["region"] == "Marj"]
    res = _run(marj, n_permutations=499)
    months = period_range("2019-01", "2023-12", "month")
    outage = months.index("2021-07")  # month 30, counting from 0
    first = res["segment_start_period"].map(months.index)
    last = res["segment_end_period"].map(months.index)
    across = res[(first < outage) & (outage <= last)]
    assert len(across) == 1
    row = across.iloc[0]
    assert row["apc_high"] < 0  # the counts do fall
    assert row["verdict"] in ("too short to call", "inconclusive (thin coverage)")
    after = res[first > outage].iloc[0]
    assert after["verdict"] == "inconclusive (thin coverage)"
    assert "against the previous segment: source mix changed" in after["coverage_reasons"]
    assert not res["verdict"].isin(["rising", "falling"]).any()
    counts_only = _run(marj[["region", "period", "count"]], n_permutations=499)
    assert (counts_only["coverage"] == "adequate").all()
    assert list(counts_only["segment_start_period"]) == list(res["segment_start_period"])


def test_a_segment_across_the_silence_off_centre_is_withheld():
    """Regression (demo seeds 571, 579 and 619 of 1,000): a segment that runs across
    Marj's outlet silence (2021-07) off-centre pooled the silent stretch with the
    outlet's own months in its halves, diluting its share of the reports under
    max_mix_change, and was called falling. From 2020-05, with no joinpoint, the
    segment's halves split at 2022-03: the split where the outlet went silent names it."""
    cells = trends.count(trends.datasets.simulate(), period="month")
    marj = cells[(cells["region"] == "Marj") & (cells["period"].astype(str) >= "2020-05")]
    res = _run(marj, max_joinpoints=0, n_permutations=99, n_bootstrap=50)
    row = res.iloc[0]
    assert row["qvalue"] < 0.05 and row["apc"] < 0  # the counts do fall
    assert row["verdict"] == "inconclusive (thin coverage)"
    assert row["coverage_reasons"].startswith(
        "within the segment, from 2021-07: source mix changed: 57% of the baseline's reports "
        "came from outlets silent now (Monitor Network (synthetic))"
    )


def test_a_region_whose_only_event_is_in_the_first_period_gets_a_row():
    """Regression: the three-joinpoint geometry divided by zero (weights that rounding
    lost beside a fitted mean of ~1: the ZeroDivisionError of ged_candidate_21_01_21_12
    and of Kirkuk in the first 300 rows of ged191_iraq). Both ends, and three events."""
    counts = {"first": [1] + [0] * 11, "last": [0] * 11 + [1], "three": [3] + [0] * 11}
    cells = pd.concat([_cells(c, region=r) for r, c in counts.items()])
    cells = pd.concat([cells, _cells(np.arange(12) + 20, region="good")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", trends.errors.TrendsWarning)
        res = trends.joinpoints(cells, max_joinpoints=3, n_permutations=99, n_bootstrap=50)
    assert set(res["region"]) == {"first", "last", "three", "good"}
    lone = res[res["region"] != "good"]
    assert (lone["verdict"] == "not estimable").all() and lone["apc"].isna().all()
    assert lone["notes"].str.contains("falls to 0 at an end of the segment").all()


def test_a_failed_fit_gives_its_region_a_row_and_one_warning(monkeypatch):
    """A numerical failure in one region's search or fit (here a LAPACK error) gives that
    region one row saying why, one EstimationWarning, and leaves the others alone."""
    import trends.joinpoint.api as api

    real = api.select_k

    def failing(series, *args):
        if series.y.sum() > 1000:
            raise np.linalg.LinAlgError("SVD did not converge in Linear Least Squares")
        return real(series, *args)

    monkeypatch.setattr(api, "select_k", failing)
    rng = np.random.default_rng(3)
    cells = pd.concat(
        [_cells(rng.poisson(50, 30), region="big"), _cells(rng.poisson(5, 30), region="small")]
    )
    with pytest.warns(trends.errors.EstimationWarning, match="1 of 2 regions could not be fitted"):
        res = trends.joinpoints(cells, max_joinpoints=1, n_permutations=99, n_bootstrap=50)
    big = res[res["region"] == "big"].iloc[0]
    assert big["verdict"] == "not estimable" and np.isnan(big["apc"])
    assert "SVD did not converge" in big["notes"]
    assert res.loc[res["region"] == "small", "apc"].notna().all()


def test_segment_verdicts_follow_the_decision_rule():
    """Segment q-values are Benjamini-Hochberg across every segment of the call, and
    each verdict is what trends.verdicts.decide says: rising/falling only with q below
    alpha, adequate coverage and at least MIN_SEGMENT_PERIODS periods. Quarterly
    series, so that a short segment's interval stays within +-1,000 %/yr."""
    from trends.joinpoint.segments import MIN_SEGMENT_PERIODS
    from trends.verdicts import DIRECTIONAL, TOO_SHORT, adjust

    quarters = period_range("1990Q1", "2009Q4", "quarter")
    rng = np.random.default_rng(40)
    turn = _series(rng, 60, 30, level=40, slope=0.03, change=-0.08)
    late = np.round(200 * np.exp(0.1 * np.maximum(np.arange(40) - 37, 0)))  # 3 quarters up
    flat = _series(rng, 60, level=40)
    cells = pd.concat(
        [
            _cells(c, region=r, labels=quarters[: len(c)])
            for r, c in (("turn", turn), ("late", late), ("flat", flat))
        ]
    )
    res = _run(cells, max_joinpoints=2)
    np.testing.assert_allclose(res["qvalue"], adjust(res["pvalue"]), equal_nan=True)
    res["periods"] = [
        len(period_range(a, b, "quarter"))
        for a, b in zip(res["segment_start_period"], res["segment_end_period"], strict=True)
    ]
    called = res[res["verdict"].isin(DIRECTIONAL)]
    assert len(called) >= 2  # the turn is found and called
    assert (called["qvalue"] < 0.05).all() and (called["coverage"] == "adequate").all()
    assert (called["periods"] >= MIN_SEGMENT_PERIODS).all()
    assert (np.sign(called["apc"]) == called["verdict"].map({"rising": 1, "falling": -1})).all()
    short = res[(res["periods"] < MIN_SEGMENT_PERIODS) & res["apc"].notna()]
    assert len(short) and (short["verdict"] == TOO_SHORT).all()  # the late rise
    # a stricter false-discovery rate can only withhold words
    strict = _run(cells, max_joinpoints=2, alpha=0.001)
    assert strict["verdict"].isin(DIRECTIONAL).sum() <= len(called)
