"""trends.compare by simulation: type I error under Poisson and overdispersed nulls,
interval coverage, power. Seeded NumPy, vectorised; benchmarks/compare_null.py reruns
the null scenarios with 20,000 regions."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from trends.comparison import compare
from trends.errors import DispersionWarning, ThinCoverageWarning
from trends.testing import simulate_cells

pytestmark = pytest.mark.slow

N_REGIONS = 2_000


def simulate(n_regions: int, variance_ratio: float, seed: int, ratio: float = 1.0) -> pd.DataFrame:
    """12 months of 2016, mean 5-50 a month per region; the after half's rate is
    ``ratio`` times the before half's; variance ``variance_ratio`` times the mean."""
    cells, _ = simulate_cells(
        n_regions, 12, start="2016-01", mean=(5.0, 50.0), change_at=6, ratio=ratio,
        variance_ratio=variance_ratio, seed=seed,
    )  # fmt: skip
    return cells


def run(cells: pd.DataFrame, **kwargs) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThinCoverageWarning)
        warnings.simplefilter("ignore", DispersionWarning)
        return compare(cells, before=("2016-01", "2016-06"), after=("2016-07", "2016-12"), **kwargs)


@pytest.mark.parametrize("variance_ratio, seed", [(1.0, 101), (3.0, 202)])
def test_default_holds_its_level(variance_ratio, seed):
    res = run(simulate(N_REGIONS, variance_ratio, seed))
    assert res["pvalue"].notna().all()
    rate = float((res["pvalue"] < 0.05).mean())
    # binomial sd at 2,000 regions is 0.0049; the band is 0.035-0.065
    assert 0.035 <= rate <= 0.065, rate
    # interval coverage of the true ratio (1) at least nominal, within simulation error
    covered = ((res["rr_low"] <= 1) & (res["rr_high"] >= 1)).mean()
    assert covered >= 0.94, covered
    # the rate-difference interval covers 0 as often
    assert ((res["rd_low"] <= 0) & (res["rd_high"] >= 0)).mean() >= 0.94
    # false-discovery control: under the complete null BH rejects almost nothing
    assert (res["qvalue"] < 0.05).mean() <= 0.005


def test_yearly_cells_hold_the_level_with_the_series_dispersion():
    # one-year windows hold one cell each: the dispersion comes from the 20-year series
    cells, _ = simulate_cells(
        N_REGIONS, 20, start="1999", period="year", mean=(5 / 12, 50 / 12), variance_ratio=3.0,
        seed=606,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThinCoverageWarning)
        res = compare(cells, before=("2016", "2016"), after=("2017", "2017"))
    assert res["dispersion_source"].str.startswith("series (moderated").all()
    rate = float((res["pvalue"] < 0.05).mean())
    assert 0.035 <= rate <= 0.065, rate


def test_poisson_only_methods_fail_under_overdispersion():
    # why the default estimates the dispersion: with phi fixed at 1 (statsmodels'
    # tests, R's poisson.test), overdispersed counts are rejected far too often
    res = run(simulate(N_REGIONS, 3.0, 303), method="score", dispersion=1)
    assert (res["pvalue"] < 0.05).mean() > 0.15


def test_poisson_null_with_known_dispersion_exact_methods():
    cells = simulate(N_REGIONS, 1.0, 404)
    for method in ("exact-cond", "score"):
        res = run(cells, method=method, dispersion=1)
        rate = float((res["pvalue"] < 0.05).mean())
        # exact-cond is conservative by construction (discrete): 0.044 at 20,000 regions
        assert 0.03 <= rate <= 0.065, (method, rate)
        covered = ((res["rr_low"] <= 1) & (res["rr_high"] >= 1)).mean()
        assert covered >= 0.94, (method, covered)  # nominal less 2 sd


def test_power_for_a_halving():
    res = run(simulate(500, 3.0, 505, ratio=0.5))
    # a halving of 5-50 a month over six months, variance three times the mean: the
    # quasi-Poisson score test with F(1, 10) finds about 72% (seed 505)
    assert (res["pvalue"] < 0.05).mean() > 0.6
    found = res[res["pvalue"] < 0.05]
    assert (found["rate_ratio"] < 1).all()
    assert not res["verdict"].eq("increase").any()
