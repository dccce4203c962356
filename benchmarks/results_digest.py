"""Digests of every result table on the demo data and the shared UCDP files.

A refactoring must leave results byte-identical: run this before and after and
compare the two outputs (``diff``). Each line is ``name sha256 rows``, the digest of
the table written as CSV. The joinpoint search runs with few permutations and
bootstrap draws to keep the run short; the digests are of these settings.

    python benchmarks/results_digest.py > before.txt
    ... change the code ...
    python benchmarks/results_digest.py | diff before.txt -

``--shared DIR`` names the shared folder (default ``../shared`` beside the checkout).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import warnings
from pathlib import Path

import pandas as pd

import trends

REPO = Path(__file__).resolve().parents[1]
_FAST = {"max_joinpoints": 2, "n_permutations": 99, "n_bootstrap": 50}


def digest(name: str, table: pd.DataFrame) -> None:
    text = table.to_csv(index=False, lineterminator="\n")
    print(f"{name} {hashlib.sha256(text.encode()).hexdigest()[:16]} {len(table)}", flush=True)


def analyse(name: str, cells: pd.DataFrame, before, after, *, joinpoints: bool = True) -> None:
    digest(f"{name}/cells", cells)
    digest(f"{name}/coverage", trends.coverage(cells))
    digest(f"{name}/rates", trends.rates(cells))
    digest(f"{name}/compare", trends.compare(cells, before=before, after=after))
    for method in ("quasipoisson", "poisson", "negbin", "mann-kendall"):
        digest(f"{name}/trend-{method}", trends.trend(cells, method=method))
    if joinpoints:
        jp = trends.joinpoints(cells, **_FAST)
        digest(f"{name}/joinpoints", jp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    demo = trends.datasets.simulate(seed=2024)
    cells = trends.count(demo, region="region", period="month")
    analyse("demo/month", cells, ("2019-01", "2020-12"), ("2021-01", "2023-12"))
    cells = trends.count(demo, region="region", period="quarter")
    analyse("demo/quarter", cells, ("2019Q1", "2020Q4"), ("2021Q1", "2023Q4"))

    ucdp = args.shared / "data" / "ucdp"
    if not ucdp.is_dir():
        sys.exit(f"{ucdp} is absent: the shared files are needed")
    syria = trends.read(ucdp / "ged_syria_652_1601_1911.csv")
    for period, before, after in (
        ("month", ("2018-01", "2018-12"), ("2019-01", "2019-11")),
        ("quarter", ("2018Q1", "2018Q4"), ("2019Q1", "2019Q3")),
        ("year", ("2017", "2017"), ("2018", "2018")),
    ):
        cells = trends.count(syria, region="region", period=period)
        analyse(f"syria/{period}", cells, before, after, joinpoints=period != "year")
    iraq = trends.read(ucdp / "ged191_iraq.csv")
    cells = trends.count(iraq, region="region", period="quarter", start="2004", end="2018")
    analyse("iraq/quarter", cells, ("2014Q1", "2016Q4"), ("2017Q1", "2018Q4"))
    cand = trends.read(ucdp / "ged_candidate_21_01_21_12.csv")
    cells = trends.count(cand, region="country", period="month")
    analyse("candidate21/country-month", cells, ("2021-01", "2021-06"), ("2021-07", "2021-12"),
            joinpoints=False)

    from trends.reproduction import list_recipes

    with tempfile.TemporaryDirectory() as tmp:
        path = trends.report(demo, path=Path(tmp) / "demo.html", joinpoint_options=_FAST)
        html = path.read_bytes()
        print(f"demo/report.html {hashlib.sha256(html).hexdigest()[:16]} {len(html)}")

    for recipe in list_recipes()["id"]:
        result = trends.reproduce(recipe, data_dir=args.shared / "data")
        digest(f"reproduce/{recipe}", result.table)


if __name__ == "__main__":
    main()
