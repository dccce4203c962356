"""trends.trend at scale: type I error, interval coverage and run time on 20,000 regions.

Reruns the checks of tests/test_trend_simulation.py with 20,000 seeded regions of 60
months each and prints, per method and scenario, the rejection rate under the null
(alpha = 0.05) and the coverage of the true APC (10% a year) by the 95% interval. Then
times the vectorised IRLS against statsmodels' GLM fitted region by region (on a
subsample, extrapolated), checks that they agree, and times trend() with its
per-region coverage assessment.

    python benchmarks/trend_null.py                      # default and poisson
    python benchmarks/trend_null.py --methods all        # every method (slower)
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trends.errors import ThinCoverageWarning  # noqa: E402
from trends.testing import simulate_cells  # noqa: E402
from trends.trend_tests import METHODS, fit_trends, trend  # noqa: E402

SCENARIOS = [  # (label, mean events per month, variance / mean)
    ("Poisson, mean 10", 10.0, 1.0),
    ("Poisson, mean 3", 3.0, 1.0),
    ("NB var=3*mean, mean 10", 10.0, 3.0),
    ("NB var=3*mean, mean 3", 3.0, 3.0),
]
TRUE_APC = 10.0


def simulate(n_regions: int, n_months: int, mean: float, apc: float, var_ratio: float, seed):
    """Monthly counts from 2015-01 (trends.testing.simulate_cells, as the tests use)."""
    cells, _ = simulate_cells(
        n_regions, n_months, mean=mean, apc=apc, variance_ratio=var_ratio, seed=seed
    )
    return cells


def level_and_coverage(methods: list[str], n_regions: int, n_months: int) -> None:
    print(f"\n## Rejection at alpha=0.05 (null) and 95% coverage of APC={TRUE_APC:g}%")
    print(f"{n_regions:,} regions x {n_months} months per cell of the table; binomial SE of a")
    print(f"rate near 0.05 is {np.sqrt(0.05 * 0.95 / n_regions):.4f}\n")
    print(f"{'method':<17} {'scenario':<24} {'reject':>7} {'cover':>7} {'no est':>7} {'fit s':>7}")
    for s, (label, mean, var_ratio) in enumerate(SCENARIOS):
        null = simulate(n_regions, n_months, mean, 0.0, var_ratio, seed=100 + s)
        rising = simulate(n_regions, n_months, mean, TRUE_APC, var_ratio, seed=200 + s)
        for method in methods:
            t0 = time.perf_counter()
            r0 = fit_trends(null, method=method)
            seconds = time.perf_counter() - t0
            r1 = fit_trends(rising, method=method)
            reject = (r0["pvalue"] < 0.05).mean()
            if method.startswith("mann-kendall"):
                cover = "n/a"  # Sen's APC is a linear trend relative to the mean rate
            else:
                ok = (r1["apc_low"] <= TRUE_APC) & (r1["apc_high"] >= TRUE_APC)
                cover = f"{ok.mean():.4f}"
            missing = int(r0["pvalue"].isna().sum() + r1["pvalue"].isna().sum())
            print(
                f"{method:<17} {label:<24} {reject:>7.4f} {cover:>7} {missing:>7} {seconds:>7.2f}"
            )


def against_statsmodels(n_regions: int, n_months: int, n_sub: int) -> None:
    import statsmodels.api as sm

    print(f"\n## Vectorised IRLS vs statsmodels GLM, quasi-Poisson ({n_months} months)")
    cells = simulate(n_regions, n_months, 10.0, TRUE_APC, 3.0, seed=300)
    t0 = time.perf_counter()
    ours = fit_trends(cells)
    t_ours = time.perf_counter() - t0
    sub = ours.iloc[:n_sub]
    periods = pd.period_range("2015-01", periods=n_months, freq="M")
    t = (periods.year * 12 + periods.month).to_numpy(float)
    x = sm.add_constant(t - t.mean())
    days = periods.days_in_month.to_numpy(float)
    counts = cells["count"].to_numpy().reshape(n_regions, n_months)
    slopes, ses = [], []
    t0 = time.perf_counter()
    for i in range(n_sub):
        fit = sm.GLM(counts[i], x, family=sm.families.Poisson(), exposure=days).fit(scale="X2")
        slopes.append(fit.params[1])
        ses.append(fit.bse[1])
    t_sm = (time.perf_counter() - t0) * n_regions / n_sub
    d_slope = np.max(np.abs(sub["slope"].to_numpy() - slopes))
    # statsmodels' scale is the region's own Pearson dispersion; ours is moderated
    own = np.sqrt(sub["residual_dispersion"].to_numpy() / sub["dispersion"].to_numpy())
    d_se = np.max(np.abs(sub["slope_se"].to_numpy() * own / ses - 1))
    print(f"fit_trends, {n_regions:,} regions:                 {t_ours:8.2f} s")
    print(f"statsmodels GLM one by one ({n_sub} timed, scaled): {t_sm:8.2f} s")
    print(f"max |slope difference| over {n_sub} regions:  {d_slope:.2e} (log rate per month)")
    print(f"max |se ratio - 1| over {n_sub} regions:      {d_se:.2e}")


def with_gate(n_regions: int, n_months: int) -> None:
    print("\n## trend() with the per-region coverage assessment")
    cells = simulate(n_regions, n_months, 10.0, 0.0, 3.0, seed=400)
    t0 = time.perf_counter()
    fit_trends(cells)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThinCoverageWarning)
        res = trend(cells)
    t_all = time.perf_counter() - t0
    print(f"{n_regions:,} regions: fit_trends {t_fit:.2f} s, trend() {t_all:.2f} s")
    print(f"  ({(t_all - t_fit) / n_regions * 1e3:.2f} ms per region in the coverage gate)")
    print("  verdicts:", res["verdict"].value_counts().to_dict())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--methods", default="quasipoisson,poisson", help="comma list or all")
    parser.add_argument("--statsmodels-sample", type=int, default=500)
    parser.add_argument("--gate-regions", type=int, default=2_000)
    args = parser.parse_args()
    methods = list(METHODS) if args.methods == "all" else args.methods.split(",")
    level_and_coverage(methods, args.regions, args.months)
    against_statsmodels(args.regions, args.months, args.statsmodels_sample)
    power(methods, args.regions)
    with_gate(args.gate_regions, args.months)


def power(methods: list[str], n_regions: int) -> None:
    """Share of regions with a rate rising 1.5x over two years (10 -> 15 events a
    month over 24 months, APC +22.5%/yr) whose trend is significant at 0.05."""
    apc = 100 * (1.5 ** (12 / 23) - 1)
    print(f"\n## Power: 10 -> 15 events a month over 24 months (APC {apc:+.1f}%/yr)")
    for label, var_ratio in (("Poisson", 1.0), ("NB var=3*mean", 3.0)):
        cells = simulate(n_regions, 24, 10.0, apc, var_ratio, seed=500)
        for method in methods:
            res = fit_trends(cells, method=method)
            print(f"{method:<17} {label:<14} p < 0.05: {(res['pvalue'] < 0.05).mean():.4f}")


if __name__ == "__main__":
    main()
