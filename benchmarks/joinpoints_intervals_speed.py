"""Extra time of the empirical-quantile intervals of trends.joinpoints, per series.

For k = 0..3 joinpoints on a 180-period monthly Poisson series (seeded, k planted
breaks), times ``_resample_slopes`` (resampling, the k-joinpoint grid search on every
resample, batched least squares): the time ``interval="empirical"`` adds to a region
whose chosen model has k joinpoints. Best of a few runs, after a warm-up (numba).
Then, with ``--iraq PATH`` (reference/iraq/series.csv), the whole of
``trends.joinpoints`` on the six Iraq series (2004-01 to 2018-12) with each interval
method: real series, where k = 3 is common.

Usage: python benchmarks/joinpoints_intervals_speed.py [--resamples 1000] [--repeat 3]
       [--iraq /work/shared/reference/iraq/series.csv]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import trends
from trends.joinpoint import intervals, kernels, search
from trends.joinpoint.fit import Series


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--iraq", default=None)
    args = parser.parse_args()
    print(
        f"search kernel: {'numba' if kernels.HAVE_NUMBA else 'numpy'}; {args.resamples} resamples"
    )
    n = 180
    t = np.arange(n, dtype=float)
    grid = search.Grid(x=t, cand=np.arange(2, n - 2), gap=3)
    expo = np.full(n, 30.4375)
    rng = np.random.default_rng(1)
    for k in range(4):
        logmu = np.log(15) + 0.01 * t
        for j, at in enumerate((60, 100, 140)[:k]):
            logmu += (-0.03 if j % 2 == 0 else 0.03) * np.maximum(t - at, 0)
        y = rng.poisson(np.exp(logmu)).astype(float)
        fit = Series(t, y, expo, grid, "poisson", k).fits[k]
        intervals.resample_slopes(grid, fit, "poisson", 64, rng)  # warm-up
        best = np.inf
        for _ in range(args.repeat):
            start = time.perf_counter()
            intervals.resample_slopes(grid, fit, "poisson", args.resamples, rng)
            best = min(best, time.perf_counter() - start)
        print(f"k = {k}: {best:.3f} s per series")
    if args.iraq:
        data = pd.read_csv(args.iraq)
        cells = data[(data["month"] >= "2004-01") & (data["month"] <= "2018-12")].rename(
            columns={"month": "period"}
        )
        for interval in ("parametric", "empirical"):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", trends.errors.ThinCoverageWarning)
                out = trends.joinpoints(cells, interval=interval, n_bootstrap=args.resamples)
            secs = time.perf_counter() - start
            ks = out.groupby("region")["n_joinpoints"].first().tolist()
            print(f"six Iraq series, interval={interval!r}: {secs:.1f} s; joinpoints {ks}")


if __name__ == "__main__":
    main()
