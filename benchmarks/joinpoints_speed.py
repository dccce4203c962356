"""Speed of trends.joinpoints: one 180-period series, then 100 such series.

Defaults are the issue's: max_joinpoints=3, 4,499 permutations, Poisson variance,
permutation selection. Series are monthly Poisson counts (seeded): half with one
planted break, half break-free, so both the full runs (rejections need every
permutation) and the curtailed ones (a test that cannot reject stops early) count.

Usage: python benchmarks/joinpoints_speed.py [--series 100] [--permutations 4499]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import trends
from trends import joinpoint as jp
from trends.periods import period_range


def make(n_series: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    months = period_range("2004-01", "2018-12", "month")
    t = np.arange(len(months))
    frames = []
    for i in range(n_series):
        logmu = np.log(15) + 0.005 * t
        if i % 2 == 0:
            logmu += -0.03 * np.maximum(t - rng.integers(30, 150), 0)
        frames.append(
            pd.DataFrame(
                {"region": f"r{i:03d}", "period": months, "count": rng.poisson(np.exp(logmu))}
            )
        )
    return pd.concat(frames, ignore_index=True)


def timed(cells: pd.DataFrame, n_perm: int) -> tuple[float, pd.DataFrame]:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.ThinCoverageWarning)
        out = trends.joinpoints(cells, n_permutations=n_perm)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--permutations", type=int, default=4499)
    args = parser.parse_args()
    print(f"search kernel: {'numba' if jp.HAVE_NUMBA else 'numpy (install numba for ~10x)'}")
    cells = make(max(args.series, 2))
    timed(cells[cells["region"] == "r001"].head(20), 9)  # compile / warm up
    for region in ("r000", "r001"):
        kind = "planted break" if region == "r000" else "break-free"
        secs, out = timed(cells[cells["region"] == region], args.permutations)
        print(
            f"one 180-period series ({kind}): {secs:.1f} s, "
            f"{out['n_joinpoints'].iloc[0]} joinpoints; {out['selection_detail'].iloc[0]}"
        )
    secs, out = timed(cells, args.permutations)
    found = out.groupby("region")["n_joinpoints"].first()
    print(
        f"{args.series} series of 180 periods: {secs:.1f} s "
        f"({secs / args.series:.2f} s per series); joinpoints found: "
        f"{found.value_counts().sort_index().to_dict()}"
    )


if __name__ == "__main__":
    main()
