"""How many joinpoints: the sequential permutation tests (Kim et al. 2000), BIC and WBIC."""

from __future__ import annotations

import logging
import math

import numpy as np

from . import kernels
from .fit import Fit, Series, design
from .search import both_cores, geometry, search, without_line

__all__ = ["select_k"]

logger = logging.getLogger(__name__)


def _perm_test(series: Series, ka: int, kb: int, n_perm: int, level: float, rng):
    """Kim et al. (2000) permutation test of ka against kb joinpoints.

    Returns (p-value, permutations run, decided early). Permutations run in blocks;
    once so many permuted ratios reach the observed one that the p-value cannot fall
    below ``level`` whatever the rest give, the test stops (curtailed sampling): the
    decision is the one the full run would make, and the p-value returned is then
    a lower bound, (1 + exceedances so far) / (n_perm + 1).

    A permuted ratio SSE(ka) / SSE(kb) only matters through whether it reaches the
    observed one. SSE(ka) is found exactly by the grid search (cheap: ka < kb). With
    kb = 3, :func:`.kernels._three_min_python` decides exactly whether SSE(kb) is small enough;
    with kb > 3 SSE(kb) is first bounded below by the broken-stick fit
    (:func:`.kernels._split_bound_python`) and the grid search runs only for the permutations
    whose bound leaves the comparison open; with kb < 3 the grid search is as cheap as
    any bound. The exceedance count, and so the p-value, is the one the full search
    gives (``tests/test_joinpoints.py`` checks both shortcuts against it).
    """
    grid, null = series.grid, series.fits[ka]
    s = null.s
    X = design(series.x, null.knots)
    fitted = (X * s[:, None]) @ null.beta
    resid = null.ytil - fitted
    geom = geometry(grid, s)
    obs_sse, _ = search(grid, s, null.ytil[:, None], kb, track=False, geom=geom)
    ratio = obs_sse[ka, 0] / max(obs_sse[kb, 0], 1e-300)
    threshold = ratio * (1 - 1e-9)  # a permuted ratio this large counts as reaching it
    enough = math.ceil(level * (n_perm + 1) - 1 - 1e-9)  # exceedances that forbid rejection
    q = geom[0]
    first, last = int(grid.cand[0]), int(grid.cand[-1])

    reach_3 = kb == 3 and kernels.three_min is not None
    if reach_3:
        left, right, ok = kernels.three_geometry(s, series.x, first, last, grid.gap)
        reach_3 = bool(ok)

    exceed, done, searched, block = 0, 0, 0, _FIRST_BLOCK
    while done < n_perm:
        rows = rng.permuted(np.tile(np.arange(len(resid)), (min(block, n_perm - done), 1)), axis=1)
        Y = fitted[:, None] + resid[rows].T
        sse_a = search(grid, s, Y, ka, track=False, geom=geom)[0][ka]
        if reach_3:
            # the permuted ratio reaches the threshold iff SSE(kb) <= sse_a / threshold;
            # the weighted line changes no SSE: it is removed, for accuracy
            target = sse_a / threshold
            sse_b = both_cores(
                lambda part, t: kernels.three_min(
                    s, series.x, part, t, first, last, grid.gap, left, right
                )[0],
                without_line(q, Y),
                target,
            )
            exceed += int((sse_b <= target).sum())
        else:
            todo = np.arange(Y.shape[1])
            if kernels.split_bound is not None and kb >= _BOUND_FROM:
                low = both_cores(
                    lambda part: kernels.split_bound(s, series.x, part, kb, first, last, grid.gap),
                    without_line(q, Y),
                )
                # ratio <= sse_a / low: below the threshold (with room for rounding) it
                # cannot reach the observed ratio, whatever the grid search finds
                todo = todo[~(sse_a < threshold * (1 - 1e-7) * low)]
            if len(todo):
                sse_b = search(grid, s, Y[:, todo], kb, track=False, geom=geom)[0][kb]
                exceed += int((sse_a[todo] / np.maximum(sse_b, 1e-300) >= threshold).sum())
            searched += len(todo)
        done += len(rows)
        if exceed >= enough and done < n_perm:
            logger.debug("%d vs %d: grid search on %d of %d permutations", ka, kb, searched, done)
            return (1 + exceed) / (n_perm + 1), done, True
        block = min(2 * block, _MAX_BLOCK)
    logger.debug("%d vs %d: grid search on %d of %d permutations", ka, kb, searched, done)
    return (1 + exceed) / (n_perm + 1), done, False


_BOUND_FROM = 3  # fewer joinpoints: the grid search costs no more than a bound


_FIRST_BLOCK, _MAX_BLOCK = 128, 256  # permutations per pass: few, for early stops


def _partial_r2_max(series: Series, fit: Fit) -> float:
    """Largest partial R^2 of a slope change within its neighbouring segments (WBIC)."""
    knots = list(fit.knots)
    edges = [0, *knots, len(series.x) - 1]
    out = 0.0
    for i, kn in enumerate(knots):
        lo, hi = edges[i], edges[i + 2]
        sl = slice(lo, hi + 1)
        s, yt, x = fit.s[sl], fit.ytil[sl], series.x[sl]
        q, _ = np.linalg.qr(np.column_stack([s, s * x]))
        z = s * np.maximum(x - series.x[kn], 0.0)
        ry, rz = yt - q @ (q.T @ yt), z - q @ (q.T @ z)
        den = (ry @ ry) * (rz @ rz)
        if den > 0:
            out = max(out, float((ry @ rz) ** 2 / den))
    return out


def select_k(series: Series, selection: str, n_perm: int, alpha: float, rng):
    """Number of joinpoints and a one-line account of how it was chosen."""
    n, k_max = len(series.x), series.k_max
    if selection == "permutation":
        ka, kb, steps = 0, k_max, []
        while ka < kb:
            level = alpha / (k_max - ka)
            p, used, early = _perm_test(series, ka, kb, n_perm, level, rng)
            sign = ">=" if early else "="
            runs = f", decided after {used} permutations" if early else ""
            steps.append(f"{ka} vs {kb}: p{sign}{p:.4g} (level {level:.4g}{runs})")
            if p < level:
                ka += 1
            else:
                kb -= 1
        return ka, "; ".join(steps)
    scores = []
    for k, fit in enumerate(series.fits):
        penalty = 2 * k + 2
        if selection == "wbic" and k > 0:
            penalty = (2 + _partial_r2_max(series, fit)) * k + 2
        scores.append(math.log(max(fit.sse, 1e-300) / n) + penalty * math.log(n) / n)
    k = int(np.argmin(scores))
    return k, f"{selection.upper()} " + ", ".join(f"k={i}: {v:.4g}" for i, v in enumerate(scores))
