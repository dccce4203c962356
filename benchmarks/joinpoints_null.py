"""False joinpoints under break-free nulls: how often trends.joinpoints finds a break
in series that have none, with Poisson and with overdispersed counts.

Series come from trends.testing.simulate_cells (a constant rate, mean 10 a month;
``variance_ratio`` 3 gives negative-binomial counts with variance three times the
mean). Defaults are joinpoints' own: up to 3 joinpoints, 4,499 permutations, overall
alpha 0.05, so about 5% of series (or fewer) should show a joinpoint.

Usage: python benchmarks/joinpoints_null.py [--regions 1000] [--periods 120]
       [--max-joinpoints 3] [--permutations 4499]
(``--regions 6 --max-joinpoints 4`` times the grid search beyond three joinpoints.)
"""

from __future__ import annotations

import argparse
import time
import warnings

import trends


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--regions", type=int, default=1000)
    parser.add_argument("--periods", type=int, default=120)
    parser.add_argument("--max-joinpoints", type=int, default=3)
    parser.add_argument("--permutations", type=int, default=4499)
    args = parser.parse_args()
    print(
        f"{args.regions} break-free monthly series of {args.periods} periods each, "
        f"max_joinpoints={args.max_joinpoints}, {args.permutations} permutations"
    )
    for label, ratio in (("Poisson", 1.0), ("NB var=3*mean", 3.0)):
        cells, _ = trends.testing.simulate_cells(
            args.regions, args.periods, seed=4, variance_ratio=ratio
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", trends.errors.ThinCoverageWarning)
            out = trends.joinpoints(
                cells, max_joinpoints=args.max_joinpoints, n_permutations=args.permutations
            )
        seconds = time.perf_counter() - start
        found = out.groupby("region")["n_joinpoints"].first()
        false = int((found > 0).sum())
        print(
            f"{label:>14}: a false joinpoint in {false} of {args.regions} series "
            f"({false / args.regions:.1%}; binomial SE at 5%: "
            f"{(0.05 * 0.95 / args.regions) ** 0.5:.1%}); {seconds:.1f} s "
            f"({seconds / args.regions:.2f} s a region)"
        )


if __name__ == "__main__":
    main()
