"""trends.alarms under known truth: false alarms, detection of planted surges, level shifts.

Monthly series of 156 months; every method judges months 49..156 (108 months a series,
so all methods are compared on the same months, after every baseline is complete).

1. False-alarm rate per monitored month under a stationary negative binomial null
   (mean 10 or 3 events a month, variance twice the mean), with independent months or
   with AR(1) dependence: a latent Gaussian AR(1) with lag-one correlation 0.3 sets
   each month's gamma multiplier through its quantile (a Gaussian copula), so the
   marginal distribution stays the same negative binomial.
2. Detection of planted surges: from month 131 the mean is 2x or 3x for 1 or 3 months
   (mean 10, independent months). "Detected" = an alarm in a surge month; the delay is
   months from the surge's start to the first alarm in it, among detected surges.
3. A level shift: the mean doubles from month 97 on and stays (a new source, or a new
   phase of a conflict). Alarms per month in the first 12 months after the shift and
   in months 37-60 after it, without and with ``restart`` at the shift (with a restart,
   methods that need years of baseline are "too short to call" until they have them).

The statistical kernels run directly (the numbers ``alarms()`` returns, without the
coverage gate); the restart runs go through ``alarms()``. The GLR with a negative
binomial in-control model computes its statistic for every (start, end) window and is
run on fewer series. Takes a couple of minutes on two cores.

    python benchmarks/alarms_null.py [--series 400] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trends  # noqa: E402
from trends.alarm import METHODS  # noqa: E402

T = 156
FIRST = 48  # 0-based index of the first judged month
SURGE_AT = 130
SHIFT_AT = 96
SLOW = {"glr-nb": 12}  # methods run on fewer series


def simulate(
    n: int, mean: float, rho: float, rng: np.random.Generator, factor: np.ndarray | None = None
) -> np.ndarray:
    """Counts (n, T): Poisson(mean * factor_t * G_t), G_t ~ Gamma(k, 1/k) with k = mean
    (variance = 2 x mean), the G_t of a series AR(1)-dependent through a Gaussian copula."""
    k = mean  # var = mu + mu^2 / k = 2 mu
    e = rng.standard_normal((n, T))
    x = np.empty((n, T))
    x[:, 0] = e[:, 0]
    for t in range(1, T):
        x[:, t] = rho * x[:, t - 1] + np.sqrt(1 - rho**2) * e[:, t]
    g = stats.gamma.ppf(stats.norm.cdf(x), k, scale=1 / k)
    mu = mean * g * (1.0 if factor is None else factor[None, :])
    return rng.poisson(mu).astype(float)


def kernel(name: str, y: np.ndarray):
    m = METHODS[name]
    opts = m.validate(m.defaults("month"), period="month")
    return m.detect(
        y, period="month", options=opts, exposure=np.full(y.shape, 30.4375), lower=False
    )


def false_alarms(series: int, rng: np.random.Generator) -> None:
    print("## 1. False alarms per monitored month (null: negative binomial, var = 2 x mean)")
    print(
        f"{series} series x {T - FIRST} months each (GLR-NB: {SLOW['glr-nb']} series); "
        "nominal level where the method has one\n"
    )
    scenarios = [(10.0, 0.0), (10.0, 0.3), (3.0, 0.0), (3.0, 0.3)]
    data = {s: simulate(series, s[0], s[1], rng) for s in scenarios}
    head = " ".join(f"{f'mean {m:g}, rho {r:g}':>17}" for m, r in scenarios)
    print(f"{'method':<12} {'level':>6} {head} {'s':>6}")
    for name, m in METHODS.items():
        t0 = time.perf_counter()
        cells = []
        for s in scenarios:
            y = data[s][: SLOW.get(name, series)]
            d = kernel(name, y)
            judged = d.computed[:, FIRST:]
            rate = d.alarm_high[:, FIRST:][judged].mean() if judged.any() else np.nan
            cells.append(f"{rate:17.4f}")
        level = m.validate(m.defaults("month"), period="month").get(m.level) if m.level else None
        lv = f"{level:6.3f}" if level is not None else f"{'-':>6}"
        print(f"{name:<12} {lv} {' '.join(cells)} {time.perf_counter() - t0:6.1f}")


def surges(series: int, rng: np.random.Generator) -> None:
    print("\n## 2. Planted surges (mean 10, var = 2 x mean, independent months)")
    print("P(detect): an alarm in a surge month; delay: months to the first such alarm\n")
    plans = [(2.0, 1), (2.0, 3), (3.0, 1), (3.0, 3)]
    data = {}
    for f, d in plans:
        factor = np.ones(T)
        factor[SURGE_AT : SURGE_AT + d] = f
        data[(f, d)] = simulate(series, 10.0, 0.0, rng, factor)
    head = " ".join(f"{f'{f:g}x, {d} month' + ('s' if d > 1 else ''):>20}" for f, d in plans)
    print(f"{'method':<12} {head}")
    print(f"{'':<12} " + " ".join(f"{'P(detect)  delay':>20}" for _ in plans))
    for name in METHODS:
        cells = []
        for f, d in plans:
            y = data[(f, d)][: SLOW.get(name, series)]
            det = kernel(name, y)
            hit = det.alarm_high[:, SURGE_AT : SURGE_AT + d]
            found = hit.any(axis=1)
            delay = np.argmax(hit, axis=1)[found].mean() if found.any() else np.nan
            cells.append(f"{found.mean():9.3f} {delay:10.2f}")
        print(f"{name:<12} " + " ".join(cells))


def shift(series: int, rng: np.random.Generator) -> None:
    print("\n## 3. A level shift: the mean doubles (10 -> 20) from month 97 and stays")
    print("alarms per judged month after the shift; 'judged' = share of months with a result\n")
    factor = np.where(np.arange(T) >= SHIFT_AT, 2.0, 1.0)
    n = min(series, 200)
    y = simulate(n, 10.0, 0.0, rng, factor)
    periods = pd.period_range("2010-01", periods=T, freq="M").astype(str)
    cells = pd.DataFrame(
        {
            "region": np.repeat([f"R{i:03d}" for i in range(n)], T),
            "period": np.tile(periods, n),
            "count": y.ravel(),
        }
    )
    windows = {
        "months 1-12 after": (SHIFT_AT, SHIFT_AT + 12),
        "months 37-60 after": (SHIFT_AT + 36, T),
    }
    print(f"{'method':<12} {'restart':<8} " + " ".join(f"{w:>26}" for w in windows))
    print(f"{'':<21} " + " ".join(f"{'alarm rate   judged':>26}" for _ in windows))
    for name in ("farrington", "noufaily", "ears-c1", "bayes", "glr-poisson", "surge"):
        for restart in (None, [periods[SHIFT_AT]]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = trends.alarms(cells, method=name, restart=restart, rules="lenient")
            alarm = out["alarm"].to_numpy().reshape(n, T)
            judged = out["verdict"].isin(["too short to call", "not estimable"]).to_numpy()
            judged = ~judged.reshape(n, T)
            parts = []
            for lo, hi in windows.values():
                a, j = alarm[:, lo:hi], judged[:, lo:hi]
                rate = a[j].mean() if j.any() else np.nan
                parts.append(f"{rate:13.3f} {j.mean():12.2f}")
            label = "no" if restart is None else "yes"
            print(f"{name:<12} {label:<8} " + " ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    t0, c0 = time.perf_counter(), time.process_time()
    false_alarms(args.series, rng)
    surges(args.series, rng)
    shift(args.series, rng)
    print(f"\n{time.perf_counter() - t0:.0f} s in all ({time.process_time() - c0:.0f} s CPU)")


if __name__ == "__main__":
    main()
