"""Joinpoints on the monthly Iraq series: trends.joinpoints against R's segmented.

Runs ``joinpoints_vs_segmented.R`` (Rscript with library(segmented)) and our grid search
on the same model: Poisson counts, log link, continuous breaks, t = months since
2004-01 (2004-01 to 2018-12, 180 months). Exposure is held constant so that both fit
``count ~ t`` exactly (the library's default exposure, days per month, would add an
offset R's model lacks). For each k = 1..3 it prints segmented's breakpoints and
deviance, the deviance with those breakpoints rounded to observations (when our grid
allows them), and ours (lower is better, same model); then the number of joinpoints
each selection rule picks (ours: permutation test, BIC; segmented: selgmented BIC).

Usage: python benchmarks/joinpoints_vs_segmented.py [--r-output seg.csv] [--permutations N]
(--r-output reuses a CSV the R script wrote; otherwise R is run, about 2 minutes.)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import trends
from trends.joinpoint import fit as jfit
from trends.joinpoint import search

HERE = Path(__file__).resolve().parent
SERIES = HERE.parents[1] / "shared" / "reference" / "iraq" / "series.csv"


def poisson_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    mu = np.maximum(mu, 1e-300)
    term = np.where(y > 0, y * np.log(np.maximum(y, 1e-300) / mu), 0.0)
    return float(2 * np.sum(term - (y - mu)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--r-output", type=Path)
    parser.add_argument("--permutations", type=int, default=4499)
    args = parser.parse_args()
    if args.r_output is None:
        args.r_output = Path(tempfile.mkdtemp()) / "segmented.csv"
        cmd = ["Rscript", str(HERE / "joinpoints_vs_segmented.R"), str(SERIES), str(args.r_output)]
        subprocess.run(cmd, check=True)
    seg = pd.read_csv(args.r_output)
    data = pd.read_csv(SERIES)
    data = data[(data["month"] >= "2004-01") & (data["month"] <= "2018-12")]
    cells = data.rename(columns={"month": "period"}).assign(exposure=30.4375)

    print(
        "k  region                    segmented psi (t)      dev    | R psi on our grid     dev"
        "    | ours (t)          dev"
    )
    for region, g in cells.groupby("region", sort=False):
        y = g["count"].to_numpy(float)
        t = np.arange(len(y), dtype=float)
        expo = g["exposure"].to_numpy(float)
        grid = search.Grid(x=t, cand=np.arange(2, len(t) - 2), gap=3)
        series = jfit.Series(t, y, expo, grid, "poisson", 3)

        def deviance(knots, y=y, t=t, expo=expo):
            fit = jfit.fit_poisson(t, y, np.log(expo), np.asarray(knots, dtype=int))
            return poisson_deviance(y, np.exp(np.log(expo) + jfit.design(t, fit.knots) @ fit.beta))

        for k in (1, 2, 3):
            fit = series.fits[k]
            r = seg[(seg["region"] == region) & (seg["k"] == k)].iloc[0]
            ours = ";".join(str(int(t[i])) for i in fit.knots)
            snapped = np.round([float(v) for v in str(r["psi"]).split(";")]).astype(int)
            on_grid = np.all(np.diff(snapped) >= 3) and snapped.min() >= 2 and snapped.max() <= 177
            at_r = f"{deviance(snapped):8.1f}" if on_grid else "  (not allowed)"
            print(
                f"{k}  {region:24s}  {r['psi']!s:20s} {r['deviance']:8.1f} | "
                f"{';'.join(map(str, snapped)):16s} {at_r:>8s} | "
                f"{ours:16s} {deviance(fit.knots):8.1f}"
            )
    print("\nselected number of joinpoints")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        perm = trends.joinpoints(cells, n_permutations=args.permutations, progress=False)
        bic = trends.joinpoints(cells, selection="bic", progress=False)
    for region in pd.unique(cells["region"]):
        r = seg[(seg["region"] == region) & (seg["k"] < 0)].iloc[0]
        rows = perm[perm["region"] == region]
        where = ";".join(
            str(trends.periods.period_range("2004-01", p, "month").__len__() - 1)
            for p in rows["segment_end_period"].iloc[:-1]
        )
        print(
            f"{region:24s} segmented BIC: {-int(r['k']) - 1} ({r['psi']})  "
            f"ours BIC: {int(bic[bic['region'] == region]['n_joinpoints'].iloc[0])}  "
            f"ours permutation: {int(rows['n_joinpoints'].iloc[0])} ({where})"
        )
        print(f"    {rows['selection_detail'].iloc[0]}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
