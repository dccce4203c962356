"""trends.trend by simulation: type I error under Poisson and overdispersed nulls, and
coverage of the true annual percent change. 2,000 seeded regions per scenario.

The statistics are run through ``fit_trends`` (trend() without the per-region coverage
assessment, which would dominate the run time and does not change the estimates);
``benchmarks/trend_null.py`` reruns these with 20,000 regions.
"""

from __future__ import annotations

import pandas as pd
import pytest

from trends.testing import simulate_cells
from trends.trend_tests import fit_trends

pytestmark = pytest.mark.slow

N_REGIONS = 2_000
N_MONTHS = 60


def simulate(
    n_regions: int, n_months: int, *, mean: float, apc: float, var_ratio: float, seed: int
) -> pd.DataFrame:
    """Monthly counts from 2015-01 (trends.testing.simulate_cells): ``mean`` events per
    average month growing by ``apc`` percent a year, variance ``var_ratio`` x the mean."""
    cells, _ = simulate_cells(
        n_regions, n_months, mean=mean, apc=apc, variance_ratio=var_ratio, seed=seed
    )
    return cells


def rejection(res: pd.DataFrame) -> float:
    assert res["pvalue"].notna().all()
    return float((res["pvalue"] < 0.05).mean())


def coverage(res: pd.DataFrame, apc: float) -> float:
    return float(((res["apc_low"] <= apc) & (res["apc_high"] >= apc)).mean())


@pytest.mark.parametrize(("var_ratio", "mean"), [(1, 10), (1, 3), (3, 10), (3, 3)])
def test_default_holds_its_level_and_covers(var_ratio, mean):
    null = fit_trends(simulate(N_REGIONS, N_MONTHS, mean=mean, apc=0, var_ratio=var_ratio, seed=1))
    assert (null["method"] == "quasipoisson").all()
    assert 0.035 <= rejection(null) <= 0.065
    rising = simulate(N_REGIONS, N_MONTHS, mean=mean, apc=10, var_ratio=var_ratio, seed=2)
    assert coverage(fit_trends(rising), 10.0) >= 0.93


def test_plain_poisson_undercovers_overdispersed_counts():
    counts = simulate(N_REGIONS, N_MONTHS, mean=10, apc=10, var_ratio=3, seed=3)
    poisson = fit_trends(counts, method="poisson")
    # its standard error is sqrt(3) too small: P(|Z| < 1.96 / sqrt(3)) = 0.74
    assert coverage(poisson, 10.0) < 0.8
    assert coverage(fit_trends(counts), 10.0) >= 0.93


def test_negbin_holds_its_level_on_overdispersed_counts():
    null = fit_trends(
        simulate(N_REGIONS, N_MONTHS, mean=10, apc=0, var_ratio=3, seed=4), method="negbin"
    )
    assert 0.035 <= rejection(null) <= 0.07
    rising = simulate(N_REGIONS, N_MONTHS, mean=10, apc=10, var_ratio=3, seed=5)
    assert coverage(fit_trends(rising, method="negbin"), 10.0) >= 0.92


@pytest.mark.parametrize("method", ["mann-kendall", "mann-kendall-hr"])
def test_mann_kendall_level_on_independent_counts(method):
    counts = simulate(1_000, 48, mean=3, apc=0, var_ratio=3, seed=6)
    rate = rejection(fit_trends(counts, method=method))
    assert (0.03 if method == "mann-kendall" else 0.02) <= rate <= 0.07
