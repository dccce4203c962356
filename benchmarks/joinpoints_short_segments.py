"""How often a truly flat joinpoint segment of 2..12 periods gets a rising/falling word
when no minimum length is imposed: the simulation behind ``MIN_SEGMENT_PERIODS`` in
``trends/joinpoint/segments.py``.

Each simulated series rises for 24 periods (+5% a period), stays flat for L periods,
then falls for 24 periods (-5% a period): Poisson counts, 30 expected events a period on
the flat stretch. The model with the true number of joinpoints (two) is fitted as
``trends.joinpoints`` fits it (Poisson grid search, joinpoints at least 3 periods apart),
and the middle segment gets its empirical-quantile interval and p-value (1,000
resamples, joinpoints re-estimated in each). The middle segment is truly flat; it gets a
rising/falling word, were no minimum imposed, when its p-value is below 0.05 (``raw``)
or its Benjamini-Hochberg q-value across the middle segments of all series of all
lengths is below 0.05 (``bh``); ``parametric raw``: the t interval's p-value of the same
fit, conditional on its joinpoints (``interval="parametric"``). Rows by the true flat length L, and by the fitted
middle segment's length (periods from its first joinpoint to the period before the
second) for series whose fitted middle segment lies within the flat stretch +-1 period.

A second design: flat series of 48 periods (Poisson, 30 a period) fitted with one
joinpoint, which is then spurious and often near an end (as Dar Salim's 4-month first
segment in the demo, or Idlib's 6 months in Syria, issue 10); its shorter segment is
truly flat, tabulated by its fitted length. Its BH family is those segments.

Usage: python benchmarks/joinpoints_short_segments.py [--series 200] [--resamples 1000]
       [--seed 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from trends.joinpoint.fit import Series
from trends.joinpoint.intervals import empirical_intervals, segment_apcs
from trends.joinpoint.search import Grid
from trends.verdicts import adjust

LENGTHS = range(2, 13)
RISE, FALL, LEVEL, SLOPE = 24, 24, 30.0, 0.05


def one(rng: np.random.Generator, length: int, n_boot: int, seed: int) -> dict:
    """Fit one rise-flat-fall series; the middle segment's p-value and fitted place."""
    n = RISE + length + FALL
    t = np.arange(n, dtype=float)
    first, stop = RISE, RISE + length  # the flat segment's periods: first..stop - 1
    log_mu = np.log(LEVEL) + SLOPE * np.minimum(t - first, 0) - SLOPE * np.maximum(t - stop, 0)
    y = rng.poisson(np.exp(log_mu)).astype(float)
    grid = Grid(x=t, cand=np.arange(2, n - 2), gap=3)
    fit = Series(t, y, np.full(n, 30.4375), grid, "poisson", 2).fits[2]
    apcs, _, _ = empirical_intervals(f"s{seed}", grid, fit, "poisson", n_boot, seed, 12, 0.95)
    lo, hi = (int(k) for k in fit.knots)
    return {
        "length": length,
        "pvalue": apcs[1][3],
        "parametric": segment_apcs(fit, 12, 0.95)[1][3],
        "fitted_length": hi - lo,
        "within": first - 1 <= lo and hi <= stop + 1,
    }


def null_end(rng: np.random.Generator, n: int, n_boot: int, seed: int) -> dict:
    """Fit one joinpoint to a flat series (Poisson, 30 a period, ``n`` periods): the
    joinpoint is spurious and often near an end; the shorter segment is truly flat."""
    t = np.arange(n, dtype=float)
    y = rng.poisson(LEVEL, n).astype(float)
    grid = Grid(x=t, cand=np.arange(2, n - 2), gap=3)
    fit = Series(t, y, np.full(n, 30.4375), grid, "poisson", 1).fits[1]
    apcs, _, _ = empirical_intervals(f"n{seed}", grid, fit, "poisson", n_boot, seed, 12, 0.95)
    knot = int(fit.knots[0])
    short = 0 if knot <= n - knot else 1  # segments: 0..knot - 1 and knot..n - 1
    return {
        "fitted_length": min(knot, n - knot),
        "pvalue": apcs[short][3],
        "parametric": segment_apcs(fit, 12, 0.95)[short][3],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    with np.errstate(all="ignore"):
        rows = [
            one(rng, length, args.resamples, i) for length in LENGTHS for i in range(args.series)
        ]
    sims = pd.DataFrame(rows)
    sims["qvalue"] = adjust(sims["pvalue"])
    print(
        f"{args.series} series per flat length, {args.resamples} resamples, "
        f"{time.perf_counter() - start:.0f} s; a truly flat middle segment called:"
    )
    with np.errstate(all="ignore"):
        ends = pd.DataFrame(
            [null_end(rng, 48, args.resamples, i) for i in range(len(LENGTHS) * args.series)]
        )
    ends["qvalue"] = adjust(ends["pvalue"])
    print("rise, flat for L periods, fall; two joinpoints fitted:")
    for by in ("length", "fitted_length"):
        table = sims if by == "length" else sims[sims["within"]]
        print(
            f"{'true' if by == 'length' else 'fitted'} length  series  raw (p<0.05)  "
            "bh (q<0.05)  parametric raw"
        )
        for length, g in table.groupby(by):
            if length in LENGTHS:
                raw, bh = (g["pvalue"] < 0.05).mean(), (g["qvalue"] < 0.05).mean()
                par = (g["parametric"] < 0.05).mean()
                print(f"{length:11d}  {len(g):6d}  {raw:12.1%}  {bh:11.1%}  {par:14.1%}")
    print("flat series of 48 periods, one (spurious) joinpoint fitted; its shorter segment:")
    print("fitted length  series  raw (p<0.05)  bh (q<0.05)  parametric raw")
    for length, g in ends.groupby("fitted_length"):
        if length in LENGTHS:
            raw, bh = (g["pvalue"] < 0.05).mean(), (g["qvalue"] < 0.05).mean()
            par = (g["parametric"] < 0.05).mean()
            print(f"{length:13d}  {len(g):6d}  {raw:12.1%}  {bh:11.1%}  {par:14.1%}")


if __name__ == "__main__":
    main()
