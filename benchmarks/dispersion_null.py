"""Moderated quasi-Poisson dispersion by simulation: level, power, edge cases.

Two-window comparisons (before / after) of many regions, each region's counts
Poisson or overdispersed, tested by the score statistic with dispersion 1,

    z2 = (x_after - n p0)^2 / (n p0 (1 - p0)),    n = x_before + x_after,

divided by a dispersion estimate and referred to ``F(1, df)`` (chi-square(1) where
the dispersion is taken as known). Estimators compared:

* ``moderated``: :func:`trends.stats.dispersion.moderated_dispersion` on the
  regions' Pearson statistics (one rate per window), trended on the mean count per
  cell by its ``trend="auto"`` rule; ``F(1, d0 + df_g)``.
* ``+bound``: the same, never smaller than the Poisson p-value where the moderated
  dispersion is below 1 (edgeR's ``poisson.bound``).
* ``residual``: each region's own Pearson dispersion ``X2_g / df_g``; ``F(1, df_g)``
  (not available with one cell per window: Poisson there, as a silent 1 would be).
* ``poisson``: dispersion 1, chi-square(1).
* ``oracle``: the true dispersion, chi-square(1).

Rates are log-uniform between 1 and 50 events per cell (month); nulls: Poisson,
negative binomial with variance 3 times the mean (dispersion 3 at every rate), and
negative binomial of shape 5 (dispersion ``1 + mu / 5``, rising with the rate,
where only a trended prior is right for every rate). Layouts: 6 monthly cells per
window, and a mix of regions with 6 cells per window and regions with one cell per
window (those have no residual df and take the prior).

Prints, per scenario, the share of null regions with ``p < alpha`` overall and by
rate band, the power against a 1.5-fold change at 10 events a month, the p-values
of a region with 0 events before and 1 after, and the collapse 427 events over 43
months -> 42 over 12 months in an overdispersed series.

    python benchmarks/dispersion_null.py [--regions 20000] [--seed 1] [--alpha 0.05]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from trends.stats.dispersion import group_residuals, moderated_dispersion

RATE_RANGE = (1.0, 50.0)
BANDS = [(1, 3), (3, 10), (10, 25), (25, 50)]
NULLS = {
    "Poisson": lambda mu: np.ones_like(mu),
    "NB var=3mu": lambda mu: np.full_like(mu, 3.0),
    "NB shape 5": lambda mu: 1.0 + mu / 5.0,
}


def draw_counts(
    rng: np.random.Generator, mu: np.ndarray, phi: np.ndarray
) -> np.ndarray:  # fmt: skip
    """Counts with mean ``mu`` and variance ``phi * mu`` (gamma-Poisson; Poisson
    where ``phi == 1``)."""
    mu = np.asarray(mu, dtype=float)
    phi = np.broadcast_to(np.asarray(phi, dtype=float), mu.shape)
    over = phi > 1
    lam = mu.copy()
    shape = np.where(over, mu / np.where(over, phi - 1.0, 1.0), 1.0)
    lam[over] = rng.gamma(shape[over], mu[over] / shape[over])
    return rng.poisson(lam).astype(float)


def simulate(
    n_regions: int,
    null: str,
    *,
    cells: int = 6,
    seed: int = 0,
    ratio: float | np.ndarray = 1.0,
    rate: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """``n_regions`` regions of ``cells`` before and ``cells`` after cells; rate per
    cell log-uniform on ``RATE_RANGE`` (or ``rate``); the after rate is ``ratio``
    times the before rate. Returns counts, window labels, rates and true phi."""
    rng = np.random.default_rng(seed)
    if rate is None:
        rate = np.exp(rng.uniform(*np.log(RATE_RANGE), n_regions))
    ratio = np.broadcast_to(np.asarray(ratio, dtype=float), (n_regions,))
    mu = np.concatenate(
        [np.repeat(rate[:, None], cells, 1), np.repeat((rate * ratio)[:, None], cells, 1)], axis=1
    )
    phi = NULLS[null](mu)
    counts = draw_counts(rng, mu, phi)
    return {
        "counts": counts,
        "groups": np.repeat([0, 1], cells),
        "rate": rate,
        "phi": NULLS[null](rate),
    }


def score_pvalues(
    x_before: np.ndarray, x_after: np.ndarray, phi: np.ndarray, df: np.ndarray,
    e_before: float = 1.0, e_after: float = 1.0,
) -> np.ndarray:  # fmt: skip
    """Two-sided p-value of the score test of equal rates, statistic over ``phi``
    against ``F(1, df)`` (chi-square(1) where ``df`` is infinite)."""
    n = x_before + x_after
    p0 = e_after / (e_before + e_after)
    with np.errstate(divide="ignore", invalid="ignore"):
        z2 = (x_after - n * p0) ** 2 / (n * p0 * (1 - p0))
        stat = z2 / phi
    df = np.broadcast_to(np.asarray(df, dtype=float), stat.shape)
    fin = np.isfinite(df)
    p = np.where(fin, stats.f.sf(stat, 1, np.where(fin, df, 1.0)), stats.chi2.sf(stat, 1))
    return np.where(n > 0, p, np.nan)


def poisson_bound(p: np.ndarray, phi: np.ndarray, x_b: np.ndarray, x_a: np.ndarray) -> np.ndarray:
    """edgeR's ``poisson.bound``: where the dispersion is below 1, never report a
    smaller p-value than the Poisson test's."""
    p_pois = score_pvalues(x_b, x_a, np.ones_like(p), np.full_like(p, np.inf))
    return np.where(phi < 1, np.maximum(p, p_pois), p)


def pvalues(
    counts: np.ndarray, groups: np.ndarray, cells: np.ndarray, true_phi: np.ndarray,
    **kwargs,
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:  # fmt: skip
    """p-values of every estimator for regions whose windows hold ``cells`` cells
    each (counts padded with NaN beyond them)."""
    res = group_residuals(counts, groups)
    mod = moderated_dispersion(res.pearson, res.df, mean_rate=res.mean_count, **kwargs)
    before = np.nansum(np.where(groups == 0, counts, 0), axis=1)
    after = np.nansum(np.where(groups == 1, counts, 0), axis=1)
    # equal exposure per cell: the windows' exposures are their numbers of cells
    e = cells.astype(float)
    disp = mod["dispersion"].to_numpy()
    p_mod = score_pvalues(before, after, disp, mod["dispersion_df"].to_numpy(), e, e)
    has = res.df > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        resid = np.where(has, res.pearson / res.df, 1.0)
    p_res = score_pvalues(
        before, after, np.maximum(resid, 1e-6), np.where(has, res.df, np.inf), e, e
    )
    p_poi = score_pvalues(before, after, np.ones_like(disp), np.full_like(disp, np.inf), e, e)
    p_orc = score_pvalues(before, after, true_phi, np.full_like(disp, np.inf), e, e)
    out = {
        "moderated": p_mod,
        "+bound": poisson_bound(p_mod, disp, before, after),
        "residual": p_res,
        "poisson": p_poi,
        "oracle": p_orc,
    }
    return out, mod


def mixed_layout(sims: list[dict[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack simulations with different cells per window into one NaN-padded matrix
    with a per-row group matrix."""
    width = max(s["counts"].shape[1] for s in sims)
    rows, groups, cells = [], [], []
    for s in sims:
        c = s["counts"]
        pad = width - c.shape[1]
        rows.append(np.pad(c, ((0, 0), (0, pad)), constant_values=np.nan))
        g = np.pad(s["groups"], (0, pad), constant_values=-1)
        groups.append(np.repeat(g[None, :], c.shape[0], 0))
        cells.append(np.full(c.shape[0], c.shape[1] // 2))
    return np.vstack(rows), np.vstack(groups), np.concatenate(cells)


def run_scenario(
    n_regions: int, null: str, layout: str, seed: int, alpha: float
) -> tuple[dict[str, dict[str, float]], pd.DataFrame, np.ndarray, np.ndarray]:  # fmt: skip
    """Rejection rates by estimator, for the whole null and by rate band; the
    moderation result, the regions' rates and true dispersions."""
    if layout == "6+6":
        sim = simulate(n_regions, null, cells=6, seed=seed)
        counts, groups = sim["counts"], np.broadcast_to(sim["groups"], sim["counts"].shape)
        cells = np.full(n_regions, 6)
        rate, phi = sim["rate"], sim["phi"]
    else:  # half the regions 6+6, half 1+1
        a = simulate(n_regions // 2, null, cells=6, seed=seed)
        b = simulate(n_regions - n_regions // 2, null, cells=1, seed=seed + 1)
        counts, groups, cells = mixed_layout([a, b])
        rate, phi = np.r_[a["rate"], b["rate"]], np.r_[a["phi"], b["phi"]]
    p, mod = pvalues(counts, groups, cells, phi)
    table: dict[str, dict[str, float]] = {}
    subsets = {"all": np.ones(rate.size, bool)}
    if layout != "6+6":
        subsets = {"6+6 cells": cells == 6, "1+1 cells": cells == 1}
    for name, sub in subsets.items():
        for est, pv in p.items():
            ok = sub & np.isfinite(pv)
            row = {"all": float(np.mean(pv[ok] < alpha))}
            for lo, hi in BANDS:
                band = ok & (rate >= lo) & (rate < hi)
                row[f"{lo}-{hi}"] = float(np.mean(pv[band] < alpha)) if band.any() else np.nan
            table[f"{name}|{est}"] = row
    return table, mod, rate, phi


def power(
    n_regions: int, null: str, seed: int, alpha: float, share: float = 0.1
) -> dict[str, float]:  # fmt: skip
    """Share of regions detected among the ``share`` that change 1.5-fold at 10
    events a month (6 cells per window), the others null at rates 1-50."""
    rng = np.random.default_rng(seed)
    rate = np.exp(rng.uniform(*np.log(RATE_RANGE), n_regions))
    changed = np.zeros(n_regions, bool)
    changed[: int(n_regions * share)] = True
    rate[changed] = 10.0
    sim = simulate(
        n_regions, null, cells=6, seed=seed + 7, ratio=np.where(changed, 1.5, 1.0), rate=rate
    )
    groups = np.broadcast_to(sim["groups"], sim["counts"].shape)
    p, _ = pvalues(sim["counts"], groups, np.full(n_regions, 6), sim["phi"])
    return {est: float(np.mean(pv[changed] < alpha)) for est, pv in p.items()}


def zero_then_one(null: str, seed: int, n_regions: int = 2000) -> dict[str, float]:
    """Smallest p-value of regions with 0 events before and 1 after (6+6 cells and
    1+1 cells), moderated among ``n_regions`` null regions of the mixed layout."""
    a = simulate(n_regions // 2, null, cells=6, seed=seed)
    b = simulate(n_regions // 2, null, cells=1, seed=seed + 1)
    k = 50
    z6 = {
        "counts": np.zeros((k, 12)),
        "groups": np.repeat([0, 1], 6),
        "rate": np.full(k, 1 / 12),
        "phi": np.ones(k),
    }
    z6["counts"][np.arange(k), 6 + np.arange(k) % 6] = 1.0
    z1 = {
        "counts": np.tile([0.0, 1.0], (k, 1)),
        "groups": np.array([0, 1]),
        "rate": np.full(k, 0.5),
        "phi": np.ones(k),
    }
    counts, groups, cells = mixed_layout([a, b, z6, z1])
    phi = np.r_[a["phi"], b["phi"], z6["phi"], z1["phi"]]
    p, _ = pvalues(counts, groups, cells, phi)
    n = a["counts"].shape[0] + b["counts"].shape[0]
    return {
        "6+6 moderated": float(np.min(p["moderated"][n : n + k])),
        "1+1 moderated": float(np.min(p["moderated"][n + k :])),
        "6+6 residual": float(np.min(p["residual"][n : n + k])),
    }


def collapse(seed: int, n_regions: int = 2000) -> dict[str, float]:
    """427 events over 43 months then 42 over 12, counts overdispersed (variance 3x
    the mean), among ``n_regions`` null regions of the same layout (NB var=3mu)."""
    rng = np.random.default_rng(seed)
    before = draw_counts(rng, np.full(43, 427 / 43), 3.0)
    after = draw_counts(rng, np.full(12, 42 / 12), 3.0)
    before = _rescale(before, 427)
    after = _rescale(after, 42)
    rate = np.exp(rng.uniform(*np.log(RATE_RANGE), n_regions))
    mu = np.repeat(rate[:, None], 55, 1)
    others = draw_counts(rng, mu, 3.0)
    counts = np.vstack([np.r_[before, after][None, :], others])
    groups = np.r_[np.zeros(43, int), np.ones(12, int)]
    res = group_residuals(counts, groups)
    out: dict[str, float] = {"residual dispersion": float(res.pearson[0] / res.df[0])}
    for robust in (False, True):
        mod = moderated_dispersion(res.pearson, res.df, mean_rate=res.mean_count, robust=robust)
        p = score_pvalues(
            np.array([427.0]), np.array([42.0]), mod["dispersion"].to_numpy()[:1],
            mod["dispersion_df"].to_numpy()[:1], 43.0, 12.0,
        )  # fmt: skip
        tag = "robust" if robust else "moderated"
        out[f"{tag} dispersion"] = float(mod["dispersion"].iloc[0])
        out[f"{tag} p"] = float(p[0])
    out["residual p"] = float(
        score_pvalues(np.array([427.0]), np.array([42.0]), np.array([out["residual dispersion"]]),
                      res.df[:1], 43.0, 12.0)[0]
    )  # fmt: skip
    return out


def _rescale(x: np.ndarray, total: int) -> np.ndarray:
    """Counts proportional to ``x`` (whole numbers) adding up to ``total``."""
    share = x / x.sum() * total
    out = np.floor(share)
    rest = int(total - out.sum())
    out[np.argsort(share - out)[::-1][:rest]] += 1
    return out


def _fmt(v: float) -> str:
    return "   -  " if not np.isfinite(v) else f"{v:6.4f}"


def main(argv: list[str] | None = None, printer: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--alpha", type=float, default=0.05)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    printer(f"moderated dispersion, null simulation: {args.regions} regions, alpha = {args.alpha}")
    printer("share of null regions with p < alpha, overall and by rate band (events per cell)")
    head = f"{'null':12s} {'layout':7s} {'regions':10s} {'estimator':10s} {'all':>6s} " + " ".join(
        f"{f'{lo}-{hi}':>6s}" for lo, hi in BANDS
    )
    printer(head)
    for i, null in enumerate(NULLS):
        for j, layout in enumerate(("6+6", "mixed")):
            table, mod, rate, truth = run_scenario(
                args.regions, null, layout, args.seed + 10 * i + j, args.alpha
            )
            for key, row in table.items():
                sub, est = key.split("|")
                printer(
                    f"{null:12s} {layout:7s} {sub:10s} {est:10s} {_fmt(row['all'])} "
                    + " ".join(_fmt(row[f"{lo}-{hi}"]) for lo, hi in BANDS)
                )
            ratio = mod["dispersion"].to_numpy() / truth
            printer(
                f"{'':12s} {'':7s} moderated / true dispersion, median by band: "
                + " ".join(
                    f"{np.median(ratio[(rate >= lo) & (rate < hi)]):.3f}" for lo, hi in BANDS
                )
            )
            printer(
                f"{'':12s} {'':7s} prior: trend={mod.attrs['trend']} "
                f"(trend p={mod.attrs['trend_pvalue']:.2g}), d0 median "
                f"{np.median(mod['prior_df']):.3g}, prior dispersion "
                f"{np.min(mod['prior_dispersion']):.3g}-{np.max(mod['prior_dispersion']):.3g}"
            )
    printer("")
    printer(
        "power: 1.5-fold change at 10 events a month, 6 cells per window (10% of regions change)"
    )
    for i, null in enumerate(NULLS):
        pw = power(args.regions, null, args.seed + 100 + i, args.alpha)
        printer(f"  {null:12s} " + "  ".join(f"{k} {v:.3f}" for k, v in pw.items()))
    printer("")
    printer("0 events before, 1 after (equal windows): smallest p-value over 50 such regions")
    for i, null in enumerate(NULLS):
        z = zero_then_one(null, args.seed + 200 + i)
        printer(f"  {null:12s} " + "  ".join(f"{k} {v:.3f}" for k, v in z.items()))
    printer("")
    printer("collapse: 427 events / 43 months -> 42 / 12 months, variance 3x the mean")
    for s in range(3):
        c = collapse(args.seed + 300 + s)
        printer("  " + "  ".join(f"{k} {v:.3g}" for k, v in c.items()))
    printer(f"\n{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
