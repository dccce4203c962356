"""Joinpoint segment verdicts on the demo data over many seeds (issue 10).

For each seed, ``trends.datasets.simulate(seed=s)`` counted by month, then
``trends.joinpoints`` with its defaults. Prints, per seed, the segments of the stable
region Dar Salim and of Marj (whose main outlet goes silent at month 30, 2021-07) that
got a directional word, and the totals: how many seeds gave Dar Salim a rising/falling
segment, and how many gave Marj one across the silence (a segment from before 2021-07
to 2021-07 or later) or after it.

Usage: python benchmarks/joinpoints_demo_verdicts.py [--seeds 20] [--permutations 4499]
       [--resamples 1000]
"""

from __future__ import annotations

import argparse
import time
import warnings

import trends
from trends.periods import period_range
from trends.verdicts import DIRECTIONAL

MONTHS = period_range("2019-01", "2023-12", "month")
OUTAGE = MONTHS.index("2021-07")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--permutations", type=int, default=4499)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    stable_hits = marj_across = marj_after = 0
    words: dict[str, int] = {}
    start = time.perf_counter()
    for seed in range(args.seeds):
        cells = trends.count(trends.datasets.simulate(seed=seed), period="month")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", trends.errors.TrendsWarning)
            res = trends.joinpoints(
                cells, n_permutations=args.permutations, n_bootstrap=args.resamples
            )
        for word in res["verdict"]:
            words[word] = words.get(word, 0) + 1
        called = res[res["verdict"].isin(DIRECTIONAL)]
        dar = called[called["region"] == "Dar Salim"]
        marj = called[called["region"] == "Marj"]
        first = marj["segment_start_period"].map(MONTHS.index)
        last = marj["segment_end_period"].map(MONTHS.index)
        across = marj[(first < OUTAGE) & (OUTAGE <= last)]
        stable_hits += len(dar) > 0
        marj_across += len(across) > 0
        marj_after += (first >= OUTAGE).any()
        said = [
            f"{r.region} {r.segment_start_period}..{r.segment_end_period} {r.verdict}"
            for r in called.itertuples()
            if r.region in ("Dar Salim", "Marj")
        ]
        print(f"seed {seed:3d}: {len(called)} directional segments; {'; '.join(said) or '-'}")
    print(
        f"{args.seeds} seeds in {time.perf_counter() - start:.0f} s: Dar Salim (stable) called "
        f"rising/falling in {stable_hits}; Marj called across the silence in {marj_across}, "
        f"after it in {marj_after}"
    )
    print("verdicts over all segments:", dict(sorted(words.items())))


if __name__ == "__main__":
    main()
