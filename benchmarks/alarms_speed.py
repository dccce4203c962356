"""trends.alarms against R's surveillance::farringtonFlexible: run time on 1,000 series.

1,000 monthly series of 156 months (negative binomial, variance twice the mean, means
between 2 and 40 events a month), both Farrington presets (``farrington`` and
``noufaily``, the control lists of ../shared/reference/r_reference.R), every month from
the 39th monitored (R's ``range = 39:156``; 118 months a series, 118,000 baselines a
preset). Times, for each preset:

* ours: the numeric kernel (the numbers R computes), and the whole ``trends.alarms()``
  call (which adds the per-cell coverage assessment and the verdicts);
* R: ``farringtonFlexible`` series by series, in one Rscript run, timed inside R.

Wall-clock and CPU times are both printed: on a shared machine the wall clock swings
with the load, CPU time much less. The script also checks that the two agree (upper
bounds, alarms) on the series R ran.

    python benchmarks/alarms_speed.py                    # R on all 1,000 series (1-2 h)
    python benchmarks/alarms_speed.py --r-series 50      # R on 50, scaled to 1,000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trends  # noqa: E402
from trends.alarm import METHODS  # noqa: E402
from trends.testing import simulate_cells  # noqa: E402

PRESETS = ("farrington", "noufaily")
R_CODE = r"""
suppressMessages(library(surveillance))
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1], stringsAsFactors = FALSE)
w <- 2L
presets <- list(
  farrington = list(b = 3, w = w, reweight = TRUE, weightsThreshold = 1, trend = TRUE,
    pThresholdTrend = 0.05, alpha = 0.05, noPeriods = 1, powertrans = "2/3",
    pastWeeksNotIncluded = w, thresholdMethod = "delta", limit54 = c(5, 4)),
  noufaily = list(b = 3, w = w, reweight = TRUE, weightsThreshold = 2.58, trend = TRUE,
    pThresholdTrend = 1, alpha = 0.05, noPeriods = 10, powertrans = "2/3",
    pastWeeksNotIncluded = 6L, thresholdMethod = "nbPlugin", limit54 = c(5, 4)))
regions <- unique(d$region)
out <- list()
for (p in names(presets)) {
  t0 <- proc.time()
  for (reg in regions) {
    s <- d[d$region == reg, ]
    sts <- new("sts", observed = matrix(s$count, ncol = 1), start = c(2015, 1), freq = 12)
    rng <- 39:nrow(s)
    r <- suppressWarnings(farringtonFlexible(sts, control = c(presets[[p]], list(range = rng))))
    out[[length(out) + 1]] <- data.frame(region = reg, period = s$period[rng], method = p,
      upperbound = as.numeric(upperbound(r)), alarm = as.integer(alarms(r)))
  }
  t1 <- proc.time() - t0
  cat(sprintf("TIME %s %.3f %.3f\n", p, t1[["elapsed"]], t1[["user.self"]] + t1[["sys.self"]]))
}
write.csv(do.call(rbind, out), a[2], row.names = FALSE)
"""


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--months", type=int, default=156)
    parser.add_argument("--r-series", type=int, default=None, help="series R runs (default all)")
    parser.add_argument("--no-r", action="store_true", help="time ours only")
    args = parser.parse_args()
    n_r = args.series if args.r_series is None else min(args.r_series, args.series)

    cells, _ = simulate_cells(
        args.series, args.months, mean=(2.0, 40.0), variance_ratio=2.0, seed=20240611
    )
    y = cells["count"].to_numpy(float).reshape(args.series, args.months)
    print(f"{args.series:,} monthly series x {args.months} months; months 39.. monitored")
    ours: dict[str, tuple[float, float, float, float]] = {}
    results = {}
    for preset in PRESETS:
        m = METHODS[preset]
        opts = m.validate(m.defaults("month"), period="month")
        _, kw, kc = timed(lambda m=m, o=opts: m.detect(y, period="month", options=o))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res, aw, ac = timed(lambda p=preset: trends.alarms(cells, method=p, start="2018-03"))
        results[preset] = res
        ours[preset] = (kw, kc, aw, ac)
        print(
            f"ours {preset:<10} kernel {kw:7.2f} s wall {kc:7.2f} s CPU | "
            f"alarms() {aw:7.2f} s wall {ac:7.2f} s CPU"
        )
    if args.no_r:
        return

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        keep = cells["region"].isin(cells["region"].unique()[:n_r])
        cells[keep][["region", "period", "count"]].to_csv(tmp / "series.csv", index=False)
        (tmp / "time.R").write_text(R_CODE)
        print(f"\nR: farringtonFlexible on {n_r:,} series (one Rscript run) ...", flush=True)
        wall0 = time.perf_counter()
        run = subprocess.run(
            ["Rscript", str(tmp / "time.R"), str(tmp / "series.csv"), str(tmp / "r.csv")],
            capture_output=True,
            text=True,
            check=True,
        )
        print(f"(Rscript ran {time.perf_counter() - wall0:.0f} s in all)")
        r_out = pd.read_csv(tmp / "r.csv")
    scale = args.series / n_r
    r_times = {}
    for line in run.stdout.splitlines():
        if line.startswith("TIME"):
            _, preset, wall, cpu = line.split()
            r_times[preset] = (float(wall) * scale, float(cpu) * scale)

    print(
        f"\n{'preset':<11} {'R wall':>9} {'R CPU':>9} {'ours wall':>10} {'ours CPU':>9} "
        f"{'x wall':>8} {'x CPU':>8}   (kernel; R scaled x{scale:g})"
    )
    tot = np.zeros(4)
    for preset in PRESETS:
        rw, rc = r_times[preset]
        kw, kc, _, _ = ours[preset]
        tot += (rw, rc, kw, kc)
        print(
            f"{preset:<11} {rw:8.1f}s {rc:8.1f}s {kw:9.2f}s {kc:8.2f}s {rw / kw:7.0f}x {rc / kc:7.0f}x"
        )
    print(
        f"{'both':<11} {tot[0]:8.1f}s {tot[1]:8.1f}s {tot[2]:9.2f}s {tot[3]:8.2f}s "
        f"{tot[0] / tot[2]:7.0f}x {tot[1] / tot[3]:7.0f}x"
    )
    aw = sum(v[2] for v in ours.values())
    ac = sum(v[3] for v in ours.values())
    print(
        f"whole alarms() calls, both presets: {aw:.1f} s wall, {ac:.1f} s CPU: "
        f"{tot[0] / aw:.0f}x (wall), {tot[1] / ac:.0f}x (CPU) faster than R"
    )

    # do the two agree on the series R ran?
    for preset in PRESETS:
        r = r_out[r_out["method"] == preset]
        x = r.merge(results[preset], on=["region", "period"], suffixes=("_R", ""))
        fin = x["upperbound_R"].notna()
        rel = np.abs(x["upperbound"][fin] - x["upperbound_R"][fin]) / x["upperbound_R"][fin]
        same = (x["alarm"].astype(bool) == x["alarm_R"].astype(bool)).mean()
        print(
            f"agreement {preset:<10} {len(x):,} periods: identical alarms {same:.4%}, "
            f"max relative upper-bound difference {rel.max():.1e}"
        )


if __name__ == "__main__":
    main()
