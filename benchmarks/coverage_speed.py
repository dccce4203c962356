"""Speed of the coverage gate: assess_window per call, and trend()/compare() on many regions.

Prints, for the package found on the import path (run it from the checkout, or with
PYTHONPATH pointing at one, to compare two versions):

* ``assess_window`` per call on a 180-month window of one region: a window of a
  checked cell table without source columns (as trend() and joinpoints() pass
  them), the same window as a plain frame (region, period, count, exposure), and a
  window of the demo data with every source column (``trends.datasets.simulate``),
  alone and against a baseline window;
* ``trend()`` with the coverage gate, ``fit_trends()`` (the statistics alone) and
  ``compare()`` on ``--regions`` regions x 120 months from
  ``trends.testing.simulate_cells``.

Usage: python benchmarks/coverage_speed.py [--regions 20000] [--calls 200]
"""

from __future__ import annotations

import argparse
import time
import warnings

import trends
from trends.cells import as_cells
from trends.coverage_model import assess_window
from trends.testing import simulate_cells
from trends.trend_tests import fit_trends


def per_call(fn, calls: int) -> float:
    """Milliseconds per call of ``fn`` (after one warm-up call)."""
    fn()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e3


def timed(label: str, fn) -> None:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.ThinCoverageWarning)
        fn()
    print(f"{label:<52} {time.perf_counter() - start:8.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    print(f"trends from {trends.__file__}")

    raw, _ = simulate_cells(1, 180, seed=1)
    checked = as_cells(raw)
    demo = trends.count(trends.datasets.simulate(months=180))
    region = demo.groupby("region")["count"].sum().idxmax()
    sourced = demo[demo["region"] == region]
    cases = {
        "checked window, no source columns": lambda: assess_window(checked),
        "plain frame (region, period, count, exposure)": lambda: assess_window(raw),
        "demo window with source columns": lambda: assess_window(sourced),
        "demo, second half against the first": lambda: assess_window(
            sourced.iloc[90:], baseline=sourced.iloc[:90]
        ),
    }
    print(f"assess_window, 180-row windows, ms per call ({args.calls} calls):")
    for label, fn in cases.items():
        print(f"  {label:<50} {per_call(fn, args.calls):8.2f} ms", flush=True)

    cells, _ = simulate_cells(args.regions, 120, mean=(2.0, 40.0), seed=2)
    print(f"{args.regions:,} regions x 120 months ({len(cells):,} cells):")
    timed("  fit_trends (statistics alone)", lambda: fit_trends(cells))
    timed("  trend (with the coverage gate)", lambda: trends.trend(cells))
    timed(
        "  compare (2018 against 2016)",
        lambda: trends.compare(cells, before=("2016", "2016"), after=("2018", "2018")),
    )


if __name__ == "__main__":
    main()
