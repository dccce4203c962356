"""Speed of trends.joinpoints: one 180-period series, then 100 such series.

Defaults are the issue's: max_joinpoints=3, 4,499 permutations, Poisson variance,
permutation selection. Series are monthly Poisson counts (seeded): half with one
planted break, half break-free, so both the full runs (rejections need every
permutation) and the curtailed ones (a test that cannot reject stops early) count.

With ``--worst-case`` every series instead has three clear joinpoints: each
permutation test then runs all its permutations and the bootstrap refits three
joinpoints, the slowest path.

Usage: python benchmarks/joinpoints_speed.py [--series 100] [--permutations 4499] [--worst-case]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import trends
from trends.joinpoint import kernels
from trends.periods import period_range

MONTHS = period_range("2004-01", "2018-12", "month")
period_index = {p: i for i, p in enumerate(MONTHS)}


def make(n_series: int, seed: int = 1) -> tuple[pd.DataFrame, dict[str, int | None]]:
    """Cells of ``n_series`` monthly series and each one's planted joinpoint (or None)."""
    rng = np.random.default_rng(seed)
    months = MONTHS
    t = np.arange(len(months))
    frames, planted = [], {}
    for i in range(n_series):
        region = f"r{i:03d}"
        logmu = np.log(15) + 0.005 * t
        planted[region] = None
        if i % 2 == 0:
            planted[region] = int(rng.integers(30, 150))
            logmu += -0.03 * np.maximum(t - planted[region], 0)
        frames.append(
            pd.DataFrame({"region": region, "period": months, "count": rng.poisson(np.exp(logmu))})
        )
    return pd.concat(frames, ignore_index=True), planted


def timed(cells: pd.DataFrame, n_perm: int) -> tuple[float, pd.DataFrame]:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.ThinCoverageWarning)
        out = trends.joinpoints(cells, n_permutations=n_perm)
    return time.perf_counter() - start, out


def make_three_breaks(n_series: int, seed: int = 2) -> pd.DataFrame:
    """Cells of ``n_series`` monthly series, each rising, falling, flat, then rising."""
    rng = np.random.default_rng(seed)
    t = np.arange(len(MONTHS))
    frames = []
    for i in range(n_series):
        knots = np.sort(rng.choice(np.arange(30, 150, 10), size=3, replace=False))
        logmu = np.log(30) + 0.03 * t - 0.07 * np.maximum(t - knots[0], 0)
        logmu += 0.04 * np.maximum(t - knots[1], 0) + 0.03 * np.maximum(t - knots[2], 0)
        frames.append(
            pd.DataFrame(
                {"region": f"w{i:03d}", "period": MONTHS, "count": rng.poisson(np.exp(logmu))}
            )
        )
    return pd.concat(frames, ignore_index=True)


def run_all(cells: pd.DataFrame, args: argparse.Namespace, what: str) -> pd.DataFrame:
    """Time joinpoints on every series and print the figures; returns the result."""
    cpu = time.process_time()
    secs, out = timed(cells, args.permutations)
    cpu = time.process_time() - cpu
    found = out.groupby("region")["n_joinpoints"].first()
    print(
        f"{what.format(args.series)}: {secs:.1f} s wall, {cpu:.1f} s CPU "
        f"({secs / args.series:.2f} s per series); joinpoints found: "
        f"{found.value_counts().sort_index().to_dict()}"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--permutations", type=int, default=4499)
    parser.add_argument("--worst-case", action="store_true")
    args = parser.parse_args()
    print(
        f"search kernel: {'numba' if kernels.HAVE_NUMBA else 'numpy (install numba: 20-40x faster)'}"
    )
    if args.worst_case:
        cells = make_three_breaks(args.series)
        timed(cells[cells["region"] == "w000"].head(20), 9)  # compile / warm up
        run_all(cells, args, "worst case, {} series with three joinpoints")
        return
    cells, planted = make(max(args.series, 2))
    timed(cells[cells["region"] == "r001"].head(20), 9)  # compile / warm up
    for region in ("r000", "r001"):
        kind = "planted break" if region == "r000" else "break-free"
        secs, out = timed(cells[cells["region"] == region], args.permutations)
        print(
            f"one 180-period series ({kind}): {secs:.1f} s, "
            f"{out['n_joinpoints'].iloc[0]} joinpoints; {out['selection_detail'].iloc[0]}"
        )
    out = run_all(cells, args, "{} series of 180 periods")
    found = out.groupby("region")["n_joinpoints"].first()
    free = [r for r, at in planted.items() if at is None]
    false = int((found[free] > 0).sum())
    print(
        f"break-free series with a false joinpoint: {false} of {len(free)} ({false / len(free):.1%})"
    )
    hits = 0
    broken = [r for r, at in planted.items() if at is not None]
    for region in broken:
        rows = out[out["region"] == region]
        ends = [period_index[p] for p in rows["segment_end_period"].iloc[:-1]]
        hits += any(abs(e - planted[region]) <= 2 for e in ends)
    print(
        f"planted-break series with a joinpoint within 2 periods of the break: {hits} of "
        f"{len(broken)} ({hits / len(broken):.1%})"
    )


if __name__ == "__main__":
    main()
