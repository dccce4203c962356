"""trends.compare under the null: rejection rates, interval coverage and run time.

Reruns the simulations of tests/test_compare_simulation.py with many more regions
(20,000 by default) and prints, for each scenario and method, the share of regions
with ``pvalue < alpha`` (nominal: alpha), the share of rate-ratio intervals covering
the true ratio 1 (nominal: level), and how long compare() took.

Scenarios (seeded NumPy, trends.testing.simulate_cells; calendar months or years; mean 5-50
events a month, or a year, per region):

* ``monthly Poisson``: 12 monthly cells, windows of 6 months, Poisson counts.
* ``monthly NB var=3``: the same, negative binomial with variance three times the mean.
* ``yearly NB var=3``: 20 yearly cells, windows of one year each (too few cells in
  the windows: the dispersion comes from the region's whole series).

Then the time of one compare() on cells that name their sources (``n_sources``,
``source_counts``): those take the per-region path through
``coverage_model.assess_window`` and ``source_activity`` (``--source-regions``).

    python benchmarks/compare_null.py [--regions 20000] [--seed 1] [--alpha 0.05]
        [--exact] [--source-regions 500]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd

from trends.comparison import compare
from trends.errors import DispersionWarning, ThinCoverageWarning
from trends.testing import simulate_cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--exact", action="store_true", help="also run exact-cond and mid-p")
    parser.add_argument("--source-regions", type=int, default=500)
    args = parser.parse_args()

    months = [f"2016-{m:02d}" for m in range(1, 13)]
    monthly = {"n_periods": 12, "start": "2016-01", "mean": (5.0, 50.0)}
    yearly = {"n_periods": 20, "start": "1999", "period": "year", "mean": (5 / 12, 50 / 12)}
    scenarios = [
        ("monthly Poisson", monthly, 1.0, ("2016-01", "2016-06"), ("2016-07", "2016-12")),
        ("monthly NB var=3", monthly, 3.0, ("2016-01", "2016-06"), ("2016-07", "2016-12")),
        ("yearly NB var=3", yearly, 3.0, ("2016", "2016"), ("2017", "2017")),
    ]
    methods = [("auto", "auto"), ("score", 1)]
    if args.exact:
        methods += [("exact-cond", 1), ("exact-cond", "auto"), ("mid-p", "auto")]
    print(f"compare() null simulation: {args.regions} regions, alpha = {args.alpha}")
    header = (
        f"{'scenario':<18} {'method':<11} {'dispersion':<10} {'reject':>7} "
        f"{'rr cover':>9} {'rd cover':>9} {'mean phi':>9} {'phi from':>10} {'seconds':>8}"
    )
    print(header)
    print("-" * len(header))
    for k, (name, layout, vr, before, after) in enumerate(scenarios):
        cells, _ = simulate_cells(args.regions, **layout, variance_ratio=vr, seed=args.seed + k)
        for method, dispersion in methods:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ThinCoverageWarning)
                warnings.simplefilter("ignore", DispersionWarning)
                res = compare(
                    cells,
                    before=before,
                    after=after,
                    method=method,
                    dispersion=dispersion,
                    alpha=args.alpha,
                )
            seconds = time.perf_counter() - start
            reject = (res["pvalue"] < args.alpha).mean()
            rr_cover = ((res["rr_low"] <= 1) & (res["rr_high"] >= 1)).mean()
            rd_cover = ((res["rd_low"] <= 0) & (res["rd_high"] >= 0)).mean()
            source = res["dispersion_source"].mode().iloc[0]
            print(
                f"{name:<18} {res['method'].iloc[0]:<11} {dispersion!s:<10} {reject:>7.4f} "
                f"{rr_cover:>9.4f} {rd_cover:>9.4f} {res['dispersion'].mean():>9.3f} "
                f"{source:>10} {seconds:>8.2f}"
            )
    power(args.regions, args.seed, args.alpha)
    if args.source_regions:
        time_source_path(args.source_regions, months, args.seed)


def power(n_regions: int, seed: int, alpha: float) -> None:
    """Share of regions whose rate truly rises 1.5x (10 -> 15 events a month, 6 months
    each side) that compare() calls significant, and calls "increase" (BH over the
    regions of the run, every region changed)."""
    print(f"\npower: 10 -> 15 events a month, 6 + 6 monthly cells, {n_regions} regions")
    for label, vr in (("Poisson", 1.0), ("NB var=3", 3.0)):
        cells, _ = simulate_cells(
            n_regions, 12, start="2016-01", mean=10.0, change_at=6, ratio=1.5,
            variance_ratio=vr, seed=seed + 10,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = compare(
                cells, before=("2016-01", "2016-06"), after=("2016-07", "2016-12"), alpha=alpha
            )
        print(
            f"{label:<10} p < {alpha}: {(res['pvalue'] < alpha).mean():.4f}   "
            f"verdict increase: {(res['verdict'] == 'increase').mean():.4f}"
        )


def time_source_path(n_regions: int, months: list[str], seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(n_regions):
        for month in months:
            mix = {"Agency A": int(rng.poisson(20)), "Outlet B": int(rng.poisson(10))}
            rows.append(
                {
                    "region": f"R{r:06d}",
                    "period": month,
                    "count": float(sum(mix.values())),
                    "n_sources": 2.0,
                    "source_counts": json.dumps(mix, sort_keys=True),
                }
            )
    cells = pd.DataFrame(rows)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThinCoverageWarning)
        res = compare(cells, before=("2016-01", "2016-06"), after=("2016-07", "2016-12"))
    seconds = time.perf_counter() - start
    print(
        f"\ncells with source columns: {n_regions} regions in {seconds:.2f} s "
        f"({1000 * seconds / n_regions:.1f} ms a region; reject {(res['pvalue'] < 0.05).mean():.3f})"
    )


if __name__ == "__main__":
    main()
