"""rates(): Poisson rate intervals against R and statsmodels, and by simulation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trends
from trends.errors import CellsError, TrendsError
from trends.estimation import DAYS_PER
from trends.stats.poisson import poisson_interval

HERE = Path(__file__).resolve().parent


def _cells(count, exposure):
    n = len(count)
    return pd.DataFrame(
        {
            "region": [f"r{i:04d}" for i in range(n)],
            "period": "2016-01",
            "count": count,
            "exposure": exposure,
        }
    )


@pytest.mark.parametrize("series", ["iraq", "agona"])
def test_exact_interval_equals_r_to_1e9(series):
    # R 4.2.2: lower = qgamma(0.025, x) / pt, upper = qgamma(0.975, x + 1) / pt, and the
    # same bounds by uniroot(tol = 1e-14) on epitools' equations
    # (tests/reference/make_poisson_ci.R, on the counts of ../shared/reference).
    ref = pd.read_csv(HERE / "reference" / f"poisson_exact_ci_precise_{series}.csv")
    out = trends.rates(_cells(ref["count"], ref["exposure"]), per="day")
    assert (ref["count"] == 0).any()
    for ours, theirs in (("rate_low", "lower"), ("rate_high", "upper")):
        np.testing.assert_allclose(out[ours], ref[theirs], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(out[ours], ref[theirs + "_uniroot"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("series", ["iraq", "agona"])
def test_exact_interval_matches_the_shared_epitools_file(reference_dir, series):
    # epitools::pois.exact(x, pt) solves with uniroot at R's default tolerance
    # (.Machine$double.eps^0.25), so its bounds are good to about 1e-4 of the mean
    # count: we agree to that, and to 1e-9 with the exact solution above.
    ref = pd.read_csv(reference_dir / series / "poisson_exact_ci.csv")
    out = trends.rates(_cells(ref["count"], ref["exposure"]), per="day")
    scale = np.maximum(ref["count"], 1) / ref["exposure"]
    assert np.max(np.abs(out["rate_low"] - ref["lower"]) / scale) < 1.2e-4
    assert np.max(np.abs(out["rate_high"] - ref["upper"]) / scale) < 1.2e-4


@pytest.mark.parametrize(
    ("ours", "statsmodels_name"),
    [("exact", "exact-c"), ("mid-p", "midp-c"), ("score", "score"), ("jeffreys", "jeff")],
)
def test_intervals_agree_with_statsmodels(ours, statsmodels_name):
    from statsmodels.stats.rates import confint_poisson

    counts = np.array([1, 2, 5, 17, 100, 1234], dtype=float)
    lower, upper = poisson_interval(counts, method=ours)
    expected = np.array([confint_poisson(x, 1.0, method=statsmodels_name) for x in counts])
    np.testing.assert_allclose(lower, expected[:, 0], rtol=1e-7)
    np.testing.assert_allclose(upper, expected[:, 1], rtol=1e-7)


def test_zero_counts():
    for method in ("exact", "mid-p", "score", "jeffreys"):
        lower, upper = poisson_interval(np.array([0.0]), method=method)
        assert lower[0] == 0 and upper[0] > 0
    # a zero count's exact upper bound is -log(0.025): R qgamma(0.975, 1) = 3.688879454113936
    assert poisson_interval(np.array([0.0]))[1][0] == pytest.approx(3.688879454113936, rel=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["exact", "mid-p", "score", "jeffreys"])
def test_interval_coverage_by_simulation(method):
    # Coverage over means from 0.5 to 60: the exact interval never falls below 95%; the
    # others stay near it on average (they trade guaranteed coverage for width).
    rng = np.random.default_rng(1)
    means = np.array([0.5, 2, 5, 12, 30, 60])
    draws = rng.poisson(means, size=(20_000, len(means))).astype(float)
    lower, upper = poisson_interval(draws.ravel(), method=method)
    covered = ((lower <= np.tile(means, 20_000)) & (np.tile(means, 20_000) <= upper)).reshape(
        draws.shape
    )
    coverage = covered.mean(axis=0)
    if method == "exact":
        assert coverage.min() >= 0.95
    else:
        assert coverage.mean() >= 0.94 and coverage.min() >= 0.90


def test_rate_units_and_population():
    cells = _cells([30.0, 0.0], [30.4375, 30.4375])
    assert trends.rates(cells)["rate"].tolist() == [30.0, 0.0]
    assert trends.rates(cells, per="year")["rate"].iloc[0] == pytest.approx(
        30 * DAYS_PER["year"] / 30.4375
    )
    pop = pd.DataFrame(
        {"region": ["r0000", "r0001"], "year": [2016, 2016], "population": [1e6, 2e6]}
    )
    out = trends.rates(cells, per=100_000, population=pop)
    person_years = 1e6 * 30.4375 / 365.25
    assert out["rate"].iloc[0] == pytest.approx(30 / person_years * 1e5)
    assert out["rate_unit"].iloc[0] == "per 100,000 people per year"
    with pytest.raises(CellsError, match="no population for region 'r0001'"):
        trends.rates(cells, per=100_000, population=pop.iloc[:1])
    with pytest.raises(TrendsError, match="needs a population table"):
        trends.rates(cells, per=1000)
    with pytest.raises(TrendsError, match="method='wald' is not one of"):
        trends.rates(cells, method="wald")


def test_any_frame_with_the_cell_columns_works():
    plain = pd.DataFrame({"region": ["a", "a"], "period": ["2016Q1", "2016Q2"], "count": [3, 0]})
    out = trends.rates(plain)
    assert out["exposure"].tolist() == [91.0, 91.0]  # derived from the quarter
    assert out["period_start"].iloc[1] == pd.Timestamp("2016-04-01")


def test_uncovered_cells_get_missing_rates():
    cells = trends.count(trends.datasets.simulate(seed=1, months=6), start="2018-12")
    out = trends.rates(cells)
    uncovered = out[~out["covered"]]
    assert (
        len(uncovered) > 0
        and uncovered["rate"].isna().all()
        and uncovered["rate_high"].isna().all()
    )
    assert out.loc[out["covered"], "rate"].notna().all()


def test_bad_cell_tables_are_named():
    with pytest.raises(CellsError, match="lacks column"):
        trends.rates(pd.DataFrame({"region": ["a"], "period": ["2016-01"]}))
    with pytest.raises(CellsError, match="negative"):
        trends.rates(_cells([-1.0], [31.0]))
    with pytest.raises(CellsError, match="non-number"):
        trends.rates(_cells(["lots"], [31.0]))
    with pytest.raises(CellsError, match="twice"):
        trends.rates(
            pd.DataFrame({"region": ["a", "a"], "period": ["2016-01"] * 2, "count": [1, 2]})
        )
