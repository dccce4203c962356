"""Joinpoint regression: segmented log-linear trends in rates, as the NCI program fits them.

The model (Kim, Fay, Feuer and Midthune 2000) for region *r* with observations at
times ``x_1 < ... < x_n`` (period index) is

    log(rate_i) = b0 + b1 x_i + d_1 (x_i - t_1)^+ + ... + d_k (x_i - t_k)^+ ,

a line that bends at ``k`` joinpoints ``t_j`` and stays continuous there. Joinpoints
lie on observed periods ("grid search" at the data points, the Joinpoint program's
default), with at least ``min_end`` observations between a joinpoint and either end
and ``min_between`` observations between two joinpoints (joinpoints excluded; both 2
by default, as in the Joinpoint program).

Variance (``variance=``):

* ``"poisson"`` (default): counts are Poisson with mean ``exposure * rate``; the
  coefficients at the chosen joinpoints are the Poisson maximum-likelihood ones
  (iteratively reweighted least squares). Zero counts need no special handling. With
  one joinpoint every grid point is fitted; with more, an exchange search (move one
  joinpoint at a time to its best grid point, every alternative fitted) runs from
  several starts (see ``_Series._fit_k``). It is not exhaustive, so tests check it
  against every allowed set on small series; on the six Iraq series of the R
  reference (180 months) it found the exhaustive optimum for k = 2 and 3. Intervals
  use the quasi-Poisson scale ``max(1, Pearson X^2 / df)``, so overdispersed counts
  do not get falsely narrow intervals.
* ``"constant"``: ordinary least squares on ``log(count / exposure)``
  (homoscedastic errors). A zero count has no logarithm; as the Joinpoint program
  does ("Adding 0.5 to zero counts"), a zero count is replaced by 0.5 for this model.

Number of joinpoints (``selection=``):

* ``"permutation"``: the sequential permutation tests of Kim et al. (2000): test
  H0: k = ka against H1: k = kb starting from ka = 0, kb = max_joinpoints; reject
  (ka += 1) or not (kb -= 1) until ka == kb. The statistic is SSE(ka) / SSE(kb); the
  permutation data are the null fit plus its permuted (Pearson, for Poisson)
  residuals; the p-value is (1 + #{permuted ratio >= observed}) / (N + 1). Each test
  is at level alpha / (max_joinpoints - ka), the over-fitting control the Joinpoint
  program has used since version 3.0. For Poisson variance the permutation data are
  refitted on the linearisation at the null fit (one IRLS step), which keeps the
  observed and permuted statistics computed the same way.
* ``"bic"``: BIC(k) = ln(SSE/n) + (2k + 2) ln(n) / n (Kim, Yu and Feuer 2009).
* ``"wbic"``: the weighted BIC of Kim et al. (2023, J Appl Stat 50:1992):
  ln(SSE/n) + ((2 + R2max) k + 2) ln(n) / n, R2max the largest partial R^2 of a
  slope change within its two neighbouring segments.

APC of a segment is ``100 (exp(slope * periods_per_year) - 1)``: an *annual* percent
change whatever the period length. The AAPC (Clegg, Hankey, Tiwari, Feuer and Edwards
2009, Stat Med 28:3670) is the exponentiated length-weighted mean slope over a range.
Intervals (``interval=``):

* ``"empirical"`` (default): the empirical-quantile intervals of Kim, Chen, Byrne,
  Wheeler and Feuer (2022, Stat Med 41:3102; for the AAPC Kim et al. 2017, Stat Med
  36:3059). ``n_bootstrap`` data sets are drawn from the chosen k-joinpoint fit
  (fitted values plus resampled residuals), the k-joinpoint model is refitted to each
  with its joinpoints re-estimated on the grid, and the interval of a segment's APC
  is the empirical quantiles of the resamples' APCs of their own segment j; the
  whole-series AAPC's interval comes from the same resamples. The p-value is twice
  the smaller share of resamples on either side of 0. Departures from the paper: the
  resamples live on the weighted linearisation at the fit (Pearson residuals on the
  IRLS working response for Poisson variance, as for the permutation data) and are
  refitted by weighted least squares with the fit's weights, not by a full Poisson
  refit; the residuals are centred and rescaled to the parametric scale (quasi-Poisson
  ``max(1, X^2 / df)``, or ``SSE / df``); the quantiles are taken at the t-adjusted
  probabilities of Hesterberg's (2015) expanded percentile interval (see
  ``_empirical_apc``), which matter only for short series; and the default of 1000
  resamples is ours (we could not check the program's default). In simulation
  (tests) the segments of a clear reversal with an estimated joinpoint were covered
  in 94.9-95.6% of series (1000 series per setting; the parametric intervals:
  87.8-90.3%). Without joinpoints the interval agrees with the GLM t interval to
  Monte Carlo error.
* ``"parametric"``: t intervals and tests with n - k - 2 degrees of freedom,
  conditional on the joinpoints (the Joinpoint program's parametric method); the
  AAPC's interval is normal from the slopes' covariance when the range spans more than
  one segment. Nominal given the joinpoints, they ignore the uncertainty of an
  estimated joinpoint, and undercover then.

:func:`aapc` over an arbitrary range always gives the parametric interval.

Speed: for each candidate set of joinpoints the fit improvement over a straight line
splits into one-dimensional Gram-Schmidt steps, so the whole grid (every model with
up to ``max_joinpoints`` joinpoints) is searched in one depth-first pass whose inner
loop runs over all permutation data sets at once (numba-compiled when numba is
installed; a numpy version otherwise, without the shortcuts below: 20 to 40 times slower). The permutation test
needs only whether each permuted SSE ratio reaches the observed one. For three
joinpoints (the default maximum) that is decided without the O(n^3) search: fixing
the middle joinpoint and the fitted value there splits the model into two
one-joinpoint fits whose SSE are quadratics in that value, so every set's SSE costs
O(1) after O(n^2) of prefix sums; giving up continuity at the middle joinpoint bounds
each middle position (and each block of them) from below, so only the few positions
whose bound reaches the target are searched (``_three_min_python``; the bootstrap
refits use it too, by branch and bound). For more joinpoints a continuous fit is
bounded below by separate lines between the joinpoints, whose best SSE dynamic
programming finds in O(k n^2) (Bellman 1961; the segment neighbourhood method of
Auger and Lawrence 1989); the grid search runs only where that bound leaves the
comparison open. A test that cannot reject stops early (curtailed sampling, see
``_perm_test``). Regions are fitted two at a time (the compiled kernels release the
GIL), each with its own random streams, so a region's result does not depend on the
others. ``benchmarks/joinpoints_speed.py`` measures it. With more than three
joinpoints allowed, the grid search's O(n^k) cost returns (``max_joinpoints``).
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import zlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from .cells import as_cells, cells_period
from .errors import CellsError, TrendsError
from .periods import PERIODS_PER_YEAR, period_range, to_period_end_label, to_period_label

if TYPE_CHECKING:
    from .coverage_model import CoverageRules

__all__ = ["joinpoints", "aapc"]

logger = logging.getLogger(__name__)

VARIANCES = ("poisson", "constant")
SELECTIONS = ("permutation", "bic", "wbic")
INTERVALS = ("empirical", "parametric")

_TOL = 1e-10  # relative size below which a Gram-Schmidt direction counts as degenerate


# --------------------------------------------------------------------------- search kernel


def _dfs_python(G, C, k_max, gap, track):  # pragma: no cover - compiled by numba when present
    """Best fit improvement over a line for every model size 1..k_max, per data column.

    G: Gram matrix (m x m) of the candidate hinge columns after projecting out the line;
    C: their inner products with each data column (m x B). Returns ``best`` ((k_max + 1)
    x B; row d is the largest drop in SSE with d joinpoints) and, when ``track``, the
    candidate indices achieving it (``arg``: (k_max + 1) x B x k_max, -1 padded).
    """
    m, n_cols = C.shape
    best = np.zeros((k_max + 1, n_cols))
    arg = np.full((k_max + 1, n_cols if track else 1, max(k_max, 1)), -1, dtype=np.int64)
    proj = np.zeros((max(k_max, 1), m))  # proj[q, l]: <r_l, e_q>, e_q the q-th orthonormal dir
    coef = np.zeros((max(k_max, 1), n_cols))  # coef[q, b]: <e_q, y_b>
    gain = np.zeros((k_max + 1, n_cols))  # gain[d, b]: SSE drop of the current path's first d
    chosen = np.full(max(k_max, 1), -1, dtype=np.int64)
    next_l = np.zeros(k_max + 1, dtype=np.int64)
    v = np.zeros(n_cols)
    d = 0
    while d >= 0:
        l = next_l[d]  # noqa: E741 (l: candidate index, as in the docstring)
        if l >= m or k_max == 0:
            d -= 1
            continue
        next_l[d] = l + 1
        nrm = G[l, l]
        for q in range(d):
            nrm -= proj[q, l] * proj[q, l]
        if nrm <= _TOL * G[l, l] or nrm <= 0.0:
            continue
        inv = 1.0 / math.sqrt(nrm)
        chosen[d] = l
        # v[b] = <e_d, y_b>: the new orthonormal direction's coefficient. The three
        # shallowest depths are written out so the compiler can vectorise them.
        if d == 0:
            for b in range(n_cols):
                v[b] = C[l, b] * inv
        elif d == 1:
            p0 = proj[0, l]
            for b in range(n_cols):
                v[b] = (C[l, b] - p0 * coef[0, b]) * inv
        elif d == 2:
            p0, p1 = proj[0, l], proj[1, l]
            for b in range(n_cols):
                v[b] = (C[l, b] - p0 * coef[0, b] - p1 * coef[1, b]) * inv
        else:
            for b in range(n_cols):
                acc = C[l, b]
                for q in range(d):
                    acc -= proj[q, l] * coef[q, b]
                v[b] = acc * inv
        if track:
            for b in range(n_cols):
                g = gain[d, b] + v[b] * v[b]
                if g > best[d + 1, b]:
                    best[d + 1, b] = g
                    for q in range(d + 1):
                        arg[d + 1, b, q] = chosen[q]
        else:
            for b in range(n_cols):
                best[d + 1, b] = max(best[d + 1, b], gain[d, b] + v[b] * v[b])
        if d + 1 < k_max and l + gap < m:
            for b in range(n_cols):
                coef[d, b] = v[b]
                gain[d + 1, b] = gain[d, b] + v[b] * v[b]
            for l2 in range(l + gap, m):
                acc = G[l, l2]
                for q in range(d):
                    acc -= proj[q, l] * proj[q, l2]
                proj[d, l2] = acc * inv
            d += 1
            next_l[d] = l + gap
    return best, arg


def _dfs_numpy(G, C, k_max, gap, track):
    """The same search as :func:`_dfs_python`, vectorised over candidates and columns."""
    m, n_cols = C.shape
    best = np.zeros((k_max + 1, n_cols))
    arg = np.full((k_max + 1, n_cols if track else 1, max(k_max, 1)), -1, dtype=np.int64)
    diag = np.diag(G).copy()

    def visit(d, first, proj, coef, gain, chosen):
        cand = np.arange(first, m)
        if cand.size == 0:
            return
        nrm = diag[cand] - (proj[:, cand] ** 2).sum(axis=0)
        ok = (nrm > _TOL * diag[cand]) & (nrm > 0)
        cand, nrm = cand[ok], nrm[ok]
        if cand.size == 0:
            return
        inv = 1.0 / np.sqrt(nrm)
        v = (C[cand] - proj[:, cand].T @ coef) * inv[:, None]  # (len(cand), B)
        g = gain[None, :] + v * v
        top = g.argmax(axis=0)
        gbest = g[top, np.arange(n_cols)]
        better = gbest > best[d + 1]
        best[d + 1] = np.where(better, gbest, best[d + 1])
        if track and better.any():
            cols = np.flatnonzero(better)
            arg[d + 1, cols, :d] = chosen
            arg[d + 1, cols, d] = cand[top[cols]]
        if d + 1 >= k_max:
            return
        for j, l in enumerate(cand):  # noqa: E741
            if l + gap >= m:
                break
            row = (G[l] - proj[:, l] @ proj) * inv[j]
            visit(
                d + 1,
                l + gap,
                np.vstack([proj, row[None, :]]),
                np.vstack([coef, v[j][None, :]]),
                g[j],
                [*chosen, l],
            )

    if k_max > 0:
        visit(0, 0, np.zeros((0, m)), np.zeros((0, n_cols)), np.zeros(n_cols), [])
    return best, arg


def _split_bound_python(s, x, R, k, first, last, gap):  # pragma: no cover - numba
    """Lower bound on the smallest weighted SSE with k joinpoints, per column of ``R``.

    A line continuous at joinpoints ``t_1 < ... < t_k`` is, on the pieces
    ``[0, t_1], [t_1 + 1, t_2], ..., [t_k + 1, n - 1]`` of the observations, one line per
    piece; so its SSE is at least that of the best fit by separate lines on the pieces
    (a "broken-stick" fit), which dynamic programming finds exactly in O(k n^2) instead
    of the O(n^k) of the grid search. ``R`` (n x B) holds the weighted data (with any
    multiple of the weighted line removed: the bound does not change), ``s`` the square
    root weights; joinpoints may lie at observation indices ``first..last``, at least
    ``gap`` apart. One sweep over the first observation ``i`` of a piece: the best
    split of ``0..i-1`` is final by then, and each piece's SSE is updated in O(1) as
    its end ``j`` moves on. Columns go in panels of 8 so the inner loops vectorise.
    """
    n, n_cols = R.shape
    xc = x - x.mean()
    # per piece [i, j]: inverse of the 2 x 2 weighted cross-product matrix of (1, x)
    a = np.zeros((n, n))
    b = np.zeros((n, n))
    c = np.zeros((n, n))
    for i in range(n):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        for j in range(i, n):
            w = s[j] * s[j]
            s0 += w
            s1 += w * xc[j]
            s2 += w * xc[j] * xc[j]
            det = s0 * s2 - s1 * s1
            if j > i and det > 1e-12 * s0 * s2:
                a[i, j] = s2 / det
                b[i, j] = -2.0 * s1 / det
                c[i, j] = s0 / det
    P = 8
    out = np.empty(n_cols)
    D = np.empty((k, n, P))  # D[L - 1, e]: best SSE of 0..e in L pieces, e a joinpoint
    ty = np.empty(P)
    txy = np.empty(P)
    tyy = np.empty(P)
    cost = np.empty(P)
    final = np.empty(P)
    panel = np.zeros((n, P))
    for b0 in range(0, n_cols, P):
        width = min(P, n_cols - b0)
        panel[:] = 0.0
        panel[:, :width] = R[:, b0 : b0 + width]
        D[:] = np.inf
        final[:] = np.inf
        for i in range(n):  # i: first observation of a piece; e0 = i - 1 ends the last
            e0 = i - 1
            if i > 0 and not (first <= e0 <= last):
                continue
            ty[:] = 0.0
            txy[:] = 0.0
            tyy[:] = 0.0
            for j in range(i, n):
                sj = s[j]
                sxj = s[j] * xc[j]
                aa = a[i, j]
                bb = b[i, j]
                cc = c[i, j]
                for p in range(P):
                    r = panel[j, p]
                    u = ty[p] + sj * r
                    v = txy[p] + sxj * r
                    q = tyy[p] + r * r
                    ty[p] = u
                    txy[p] = v
                    tyy[p] = q
                    cost[p] = max(q - (aa * u * u + bb * u * v + cc * v * v), 0.0)
                if i == 0:
                    if first <= j <= last:
                        for p in range(P):
                            D[0, j, p] = cost[p]
                    continue
                if j == n - 1:
                    for p in range(P):
                        final[p] = min(final[p], D[k - 1, e0, p] + cost[p])
                if j <= last and j - e0 >= gap:
                    for lev in range(1, k):
                        for p in range(P):
                            D[lev, j, p] = min(D[lev, j, p], D[lev - 1, e0, p] + cost[p])
        for p in range(width):
            out[b0 + p] = final[p]
    return out


def _three_geometry_python(s, x, first, last, gap):  # pragma: no cover - numba
    """Weights-only part of :func:`_three_min_python`.

    With the middle joinpoint ``l2`` and the fitted value ``h`` there fixed, the
    continuous three-joinpoint model splits into two independent least-squares fits:
    on observations ``0..l2`` the line ``h + b (x - x2) + d (x1 - x)^+`` and on
    ``l2 + 1..n - 1`` the line ``h + b' (x - x2) + d' (x - x3)^+``. For each pair
    (``l1``, ``l2``) and (``l2``, ``l3``) this returns what does not depend on the
    data: the inverse of the 2 x 2 cross-product matrix of the two columns (entries
    0-2), their inner products with the weights ``s`` (3-4), ``1 / C`` (5) and C (6),
    C the squared norm of ``s`` after projecting them out, the curvature in ``h``. ``ok`` is
    False when some left C is not positive (it holds at least the weight of
    observation ``l2``, so only rounding can make it so); the caller then searches.
    Right-side C is 0 when ``s`` lies in the span (``min_between`` 0): entries 5-6 are
    then 0.
    """
    n = len(x)
    xs = x - x[0]
    W = np.zeros((n + 1, 3))  # prefix sums of s^2, s^2 x, s^2 x^2
    for t in range(n):
        w = s[t] * s[t]
        W[t + 1, 0] = W[t, 0] + w
        W[t + 1, 1] = W[t, 1] + w * xs[t]
        W[t + 1, 2] = W[t, 2] + w * xs[t] * xs[t]
    left = np.zeros((n, n, 7))  # [l2, l1]
    right = np.zeros((n, n, 7))  # [l2, l3]
    ok = True
    for l2 in range(first + gap, last - gap + 1):
        x2 = xs[l2]
        for side in range(2):
            lo, hi = (0, l2 + 1) if side == 0 else (l2 + 1, n)  # the fit's range [lo, hi)
            a0 = W[hi, 0] - W[lo, 0]
            a1 = W[hi, 1] - W[lo, 1]
            a2 = W[hi, 2] - W[lo, 2]
            g11 = a2 - 2.0 * x2 * a1 + x2 * x2 * a0  # column x - x2
            d1 = a1 - x2 * a0
            # every knot on the side, not only those gap away: the block bounds of
            # _three_min_python use the nearer ones
            k_lo, k_hi = (first, l2 - 1) if side == 0 else (l2 + 1, last)
            for k in range(k_lo, k_hi + 1):
                xk = xs[k]
                if side == 0:  # column (xk - x)^+, support [0, k)
                    b0, b1, b2 = W[k, 0], W[k, 1], W[k, 2]
                    g22 = b2 - 2.0 * xk * b1 + xk * xk * b0
                    g12 = -b2 + (xk + x2) * b1 - xk * x2 * b0
                    d2 = xk * b0 - b1
                else:  # column (x - xk)^+, support (k, n)
                    b0 = W[n, 0] - W[k + 1, 0]
                    b1 = W[n, 1] - W[k + 1, 1]
                    b2 = W[n, 2] - W[k + 1, 2]
                    g22 = b2 - 2.0 * xk * b1 + xk * xk * b0
                    g12 = b2 - (xk + x2) * b1 + xk * x2 * b0
                    d2 = b1 - xk * b0
                det = g11 * g22 - g12 * g12
                if det > 1e-12 * g11 * g22:
                    i11, i12, i22 = g22 / det, -g12 / det, g11 / det
                else:  # the second column adds nothing (right side, a knot at its start)
                    i11, i12, i22 = 1.0 / g11, 0.0, 0.0
                c = a0 - (i11 * d1 * d1 + 2.0 * i12 * d1 * d2 + i22 * d2 * d2)
                out = left[l2, k] if side == 0 else right[l2, k]
                out[0], out[1], out[2], out[3], out[4] = i11, i12, i22, d1, d2
                if c > 1e-9 * a0:
                    out[5], out[6] = 1.0 / c, c
                elif side == 0:
                    ok = False
    return left, right, ok


def _side_min_python(Y, C2, geo, side, l2, k_lo, k_hi, xs, n, P, out):  # pragma: no cover
    """For each of the P columns of a panel: the smallest SSE over knots k_lo..k_hi of
    the one-joinpoint fit on one side of ``l2`` (side 0: observations 0..l2, side 1:
    l2 + 1..n - 1), the value at ``l2`` free. Written into ``out``; see
    :func:`_three_min_python` for ``Y`` and ``C2``."""
    lo, hi = (0, l2 + 1) if side == 0 else (l2 + 1, n)
    x2 = xs[l2]
    y0 = np.empty(P)
    yy = np.empty(P)
    c1 = np.empty(P)
    for p in range(P):
        out[p] = np.inf
        y0[p] = Y[hi, 0, p] - Y[lo, 0, p]
        yy[p] = Y[hi, 2, p] - Y[lo, 2, p]
        c1[p] = Y[hi, 1, p] - Y[lo, 1, p] - x2 * y0[p]
    for k in range(k_lo, k_hi + 1):
        g0, g1, g2, g3, g4, g5, _ = geo[l2, k]
        for p in range(P):
            c2 = C2[side, k, p]
            a = yy[p] - (g0 * c1[p] * c1[p] + 2.0 * g1 * c1[p] * c2 + g2 * c2 * c2)
            bb = y0[p] - (g0 * c1[p] * g3 + g1 * (c1[p] * g4 + c2 * g3) + g2 * c2 * g4)
            # g5 == 0: s in the span, the side's SSE does not depend on h
            out[p] = min(out[p], a - bb * bb * g5)


_BLOCK = 16  # middle joinpoints per block in _three_min_python's first bound


def _three_min_python(s, x, R, target, first, last, gap, left, right):  # pragma: no cover
    """Smallest weighted SSE of a continuous fit with three joinpoints, and the
    joinpoints (observation indices), per column of ``R``; a column stops early with
    the first set whose SSE is at most its ``target`` (pass -inf for the minimum).

    Exact, and much cheaper than the grid search: with the middle joinpoint ``l2`` and
    the fitted value ``h`` there fixed the model splits in two (see
    :func:`_three_geometry_python`), each side's SSE a quadratic ``A - 2 B h + C h^2``
    in ``h``. So a set (l1, l2, l3) has SSE ``A_L + A_R - (B_L + B_R)^2 / (C_L + C_R)``
    (minimised over h), O(1) once each side's A and B are known, and those take O(n^2)
    in all from prefix sums. Minimising each side over h separately gives a lower bound
    for every l2 (continuity at l2 given up). The pairs (l1, l3) are visited only for
    the l2 whose bound is below the best SSE found so far (branch and bound, smallest
    bound first) and, when a target is given, below the target. The permutation test
    needs only whether a permuted SSE reaches its target, the bootstrap the minimum.
    Columns run in panels of 8 for the O(n^2) part.
    """
    n, n_cols = R.shape
    xs = x - x[0]
    P = 8
    out = np.zeros(n_cols)
    knots = np.full((n_cols, 3), -1, dtype=np.int64)
    Y = np.zeros((n + 1, 3, P))  # prefix sums of s r, s x r, r^2
    A = np.empty((2, n))  # one column's A and B of each side's fits at one l2
    B = np.empty((2, n))
    bound = np.full((P, n), np.inf)  # per column, lower bound for each l2
    lo_side = np.empty(P)
    hi_side = np.empty(P)
    C2 = np.empty((2, n, P))  # <hinge column of knot k, r>: left (xk - x)^+, right (x - xk)^+
    for b0 in range(0, n_cols, P):
        width = min(P, n_cols - b0)
        for t in range(n):
            for p in range(P):
                r = R[t, b0 + p] if p < width else 0.0
                Y[t + 1, 0, p] = Y[t, 0, p] + s[t] * r
                Y[t + 1, 1, p] = Y[t, 1, p] + s[t] * xs[t] * r
                Y[t + 1, 2, p] = Y[t, 2, p] + r * r
        for k in range(n):  # each knot's column against the data, left and right
            for p in range(P):
                C2[0, k, p] = xs[k] * Y[k, 0, p] - Y[k, 1, p]
                C2[1, k, p] = (Y[n, 1, p] - Y[k + 1, 1, p]) - xs[k] * (Y[n, 0, p] - Y[k + 1, 0, p])
        # Blocks of middle joinpoints first: for l2 in [u, v] the fit restricted to
        # observations 0..u has one joinpoint at most, and so has its restriction to
        # v + 1..n - 1; the best such pair of fits bounds the whole block from below
        # for O(n) instead of O(n W). A block whose bound exceeds every column's
        # target needs no per-l2 bounds (a permutation far from its target: most).
        prune = False
        limit = np.full(P, -np.inf)
        for p in range(width):
            t_p = target[b0 + p]
            limit[p] = t_p + 1e-9 * abs(t_p) if t_p > -np.inf else np.inf
            prune = prune or limit[p] < np.inf
        for u in range(first + gap, last - gap + 1, _BLOCK):
            v = min(u + _BLOCK - 1, last - gap)
            if prune:
                _side_min(Y, C2, left, 0, u, first, u - 1, xs, n, P, lo_side)
                _side_min(Y, C2, right, 1, v, v + 1, last, xs, n, P, hi_side)
                open_ = False
                for p in range(width):
                    low = lo_side[p] + hi_side[p]
                    open_ = open_ or low - 1e-9 * abs(low) <= limit[p]
                if not open_:
                    for l2 in range(u, v + 1):
                        for p in range(P):
                            bound[p, l2] = np.inf
                    continue
            for l2 in range(u, v + 1):
                _side_min(Y, C2, left, 0, l2, first, l2 - gap, xs, n, P, lo_side)
                _side_min(Y, C2, right, 1, l2, l2 + gap, last, xs, n, P, hi_side)
                for p in range(P):
                    bound[p, l2] = lo_side[p] + hi_side[p]
        for p in range(width):
            t_p = target[b0 + p]
            best = np.inf
            order = np.argsort(bound[p])
            for l2 in order:
                if best <= t_p:  # a set reaches the target: enough
                    break
                if bound[p, l2] == np.inf:  # outside the grid, or its block was pruned
                    break
                # the bounds are exact up to rounding; the slack keeps ties in play
                cut = bound[p, l2] - 1e-9 * abs(bound[p, l2])
                if cut > best:
                    break
                if t_p > -np.inf and cut > t_p + 1e-9 * abs(t_p):
                    break
                x2 = xs[l2]
                for side in range(2):  # this column's A and B again, now kept
                    lo, hi = (0, l2 + 1) if side == 0 else (l2 + 1, n)
                    k_lo, k_hi = (first, l2 - gap) if side == 0 else (l2 + gap, last)
                    geo = left if side == 0 else right
                    y0p = Y[hi, 0, p] - Y[lo, 0, p]
                    yyp = Y[hi, 2, p] - Y[lo, 2, p]
                    c1p = Y[hi, 1, p] - Y[lo, 1, p] - x2 * y0p
                    for k in range(k_lo, k_hi + 1):
                        g0, g1, g2, g3, g4, _, _ = geo[l2, k]
                        c2 = C2[side, k, p]
                        A[side, k] = yyp - (g0 * c1p * c1p + 2.0 * g1 * c1p * c2 + g2 * c2 * c2)
                        B[side, k] = y0p - (
                            g0 * c1p * g3 + g1 * (c1p * g4 + c2 * g3) + g2 * c2 * g4
                        )
                for l1 in range(first, l2 - gap + 1):
                    a_l = A[0, l1]
                    b_l = B[0, l1]
                    c_l = left[l2, l1, 6]
                    for l3 in range(l2 + gap, last + 1):
                        b = b_l + B[1, l3]
                        sse = a_l + A[1, l3] - b * b / (c_l + right[l2, l3, 6])
                        if sse < best:
                            best = sse
                            knots[b0 + p, 0] = l1
                            knots[b0 + p, 1] = l2
                            knots[b0 + p, 2] = l3
                            if best <= t_p:
                                break
                    if best <= t_p:
                        break
            out[b0 + p] = max(best, 0.0)
    return out, knots


def _poisson_deviances_python(x, y, logexp, knot_sets, mu0, max_iter):  # pragma: no cover
    """:func:`_poisson_deviances` one model at a time (compiled with numba), at most
    ``max_iter`` IRLS steps each. Returns the deviances and each run's relative change
    in its last step (each step's deviance is that of a feasible fit, so a run stopped
    early gives an upper bound)."""
    n_sets, k = knot_sets.shape
    n, p = len(x), k + 2
    out = np.empty(n_sets)
    last = np.zeros(n_sets)  # relative deviance change of the last step
    X = np.empty((n, p))
    A = np.empty((p, p))
    rhs = np.empty(p)
    eta = np.empty(n)
    w = mu0.copy()  # IRLS weights and working response, first at the starting means
    z = np.log(mu0) - logexp + (y - mu0) / mu0
    for si in range(n_sets):
        for i in range(n):
            X[i, 0] = 1.0
            X[i, 1] = x[i]
            for j in range(k):
                X[i, 2 + j] = max(x[i] - x[knot_sets[si, j]], 0.0)
        beta = np.zeros(p)
        dev = np.inf
        for it in range(max_iter):
            if it > 0:
                for i in range(n):
                    w[i] = min(max(math.exp(eta[i]), _W_FLOOR), _W_CEIL)
                    z[i] = eta[i] - logexp[i] + (y[i] - w[i]) / w[i]
            A[:] = 0.0
            rhs[:] = 0.0
            for i in range(n):
                for a in range(p):
                    xa = X[i, a] * w[i]
                    rhs[a] += xa * z[i]
                    for b in range(a + 1):
                        A[a, b] += xa * X[i, b]
            new = _chol_solve(A, rhs)
            new_dev = _dev_at(X, new, y, logexp, eta)
            for _ in range(30):  # step halving while the deviance rises
                if new_dev <= dev + 1e-9 * (1.0 + abs(dev)):
                    break
                new = (new + beta) / 2
                new_dev = _dev_at(X, new, y, logexp, eta)
            change = dev - new_dev
            beta, dev = new, new_dev
            if abs(change) < 1e-10 * (1.0 + abs(dev)):
                break
        out[si] = dev
        last[si] = abs(change) / (1.0 + abs(dev))
        w[:] = mu0
        z[:] = np.log(mu0) - logexp + (y - mu0) / mu0
    return out, last


def _chol_solve_python(A, rhs):  # pragma: no cover - numba
    """Solve A b = rhs for a small symmetric positive (semi)definite A given by its
    lower triangle (Cholesky, with a ridge of 1e-12 trace(A) against singularity)."""
    p = len(rhs)
    ridge = 0.0
    for a in range(p):
        ridge += A[a, a]
    ridge *= 1e-12
    L = np.zeros((p, p))
    for a in range(p):
        for b in range(a + 1):
            v = A[a, b] + (ridge if a == b else 0.0)
            for c in range(b):
                v -= L[a, c] * L[b, c]
            L[a, b] = math.sqrt(max(v, 1e-300)) if a == b else v / L[b, b]
    u = np.zeros(p)
    for a in range(p):
        v = rhs[a]
        for c in range(a):
            v -= L[a, c] * u[c]
        u[a] = v / L[a, a]
    for a in range(p - 1, -1, -1):
        v = u[a]
        for c in range(a + 1, p):
            v -= L[c, a] * u[c]
        u[a] = v / L[a, a]
    return u


def _dev_at_python(X, beta, y, logexp, eta):  # pragma: no cover - numba
    """Poisson deviance at ``beta``; leaves the linear predictor in ``eta``."""
    total = 0.0
    for i in range(X.shape[0]):
        e = logexp[i]
        for a in range(X.shape[1]):
            e += X[i, a] * beta[a]
        e = min(e, 700.0)
        eta[i] = e
        total += math.exp(e) - y[i]
        if y[i] > 0:
            total += y[i] * (math.log(y[i]) - e)
    return 2.0 * total


def _tn_python(A, B):  # pragma: no cover - numba
    """``A.T @ B`` in plain loops. Compiled, it keeps OpenBLAS's own threads out of the
    permutation loop, where they would fight numba's for the same cores."""
    n, a = A.shape
    out = np.zeros((a, B.shape[1]))
    for t in range(n):
        for i in range(a):
            v = A[t, i]
            for j in range(B.shape[1]):
                out[i, j] += v * B[t, j]
    return out


try:  # numba is optional: same algorithm, compiled
    import numba

    # Fast-math without "nnan" and "ninf": the kernels compare with inf (empty minima,
    # pruned blocks, IRLS's first deviance), which those flags let LLVM fold away.
    _FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
    _jit = numba.njit(cache=True, nogil=True, fastmath=_FASTMATH, boundscheck=False)
    _dfs = _jit(_dfs_python)
    _split_bound = _jit(_split_bound_python)
    _three_geometry = _jit(_three_geometry_python)
    _side_min = _jit(_side_min_python)
    _three_min = _jit(_three_min_python)
    _dev_at = _jit(_dev_at_python)
    _chol_solve = _jit(_chol_solve_python)
    _tn = _jit(_tn_python)
    _poisson_deviances_compiled = _jit(_poisson_deviances_python)
    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - depends on the environment
    _dfs = _dfs_numpy
    _split_bound = None  # the permutation test then searches every column
    _three_min = None  # and finds three-joinpoint optima by the grid search
    _poisson_deviances_compiled = None

    def _tn(A, B):
        return A.T @ B

    HAVE_NUMBA = False


@dataclass
class _Grid:
    """Everything the search needs that does not depend on the data values."""

    x: np.ndarray  # observation times (period index)
    cand: np.ndarray  # observation indices allowed as joinpoints
    gap: int  # minimum difference between consecutive candidate positions


def _geometry(grid: _Grid, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the search needs from the weights alone: an orthonormal basis ``q`` of the
    weighted line, the hinge columns with the line projected out, and their Gram matrix."""
    x, cand = grid.x, grid.cand
    q, _ = np.linalg.qr(np.column_stack([s, s * x]))
    hinge = s[:, None] * np.maximum(x[:, None] - x[cand][None, :], 0.0)
    resid = np.ascontiguousarray(hinge - q @ (q.T @ hinge))
    return np.ascontiguousarray(q), resid, _tn(resid, resid)


def _search(grid: _Grid, s: np.ndarray, Y: np.ndarray, k_max: int, track: bool, geom=None):
    """Smallest weighted SSE with 0..k_max joinpoints for each column of ``Y`` (n x B).

    The data are already weighted: ``Y = sqrt(w) * response`` and ``s = sqrt(w)``;
    ``geom`` is ``_geometry(grid, s)`` when the caller keeps it between calls.
    Returns (sse: (k_max + 1) x B, arg: candidate *observation* indices per size).
    """
    cand = grid.cand
    q, resid, gram = _geometry(grid, s) if geom is None else geom
    Y = np.ascontiguousarray(Y)
    inner = _tn(resid, Y)
    sse_line = (Y * Y).sum(axis=0) - (_tn(q, Y) ** 2).sum(axis=0)
    k_eff = min(k_max, _max_k(len(cand), grid.gap))
    if HAVE_NUMBA and not track:
        best = _both_cores(lambda part: _dfs(gram, part, k_eff, grid.gap, False)[0], inner)
        arg = np.full((k_eff + 1, 1, max(k_eff, 1)), -1, dtype=np.int64)
    else:
        best, arg = _dfs(gram, np.ascontiguousarray(inner), k_eff, grid.gap, track)
    sse = np.full((k_max + 1, Y.shape[1]), np.inf)
    sse[: k_eff + 1] = np.maximum(sse_line[None, :] - best, 0.0)
    arg = np.where(arg >= 0, cand[np.maximum(arg, 0)], -1)
    return sse, arg


_MIN_SHARE = 32  # columns (or models) worth a thread of their own
_POOL: ThreadPoolExecutor | None = None
_LOCAL = threading.local()  # one_core: set in threads that already have a core each


def _both_cores(func, *arrays: np.ndarray) -> np.ndarray:
    """``func(*arrays)`` for a function of columns (returning columns last) run on two
    halves of the arrays' columns (last axis) in two threads: the compiled kernels
    release the GIL. The pool is made once and kept."""
    global _POOL
    n_cols = arrays[0].shape[-1]
    if n_cols < 2 * _MIN_SHARE or getattr(_LOCAL, "one_core", False):
        return func(*(np.ascontiguousarray(a) for a in arrays))
    half = n_cols // 2
    if _POOL is None:
        _POOL = ThreadPoolExecutor(2, thread_name_prefix="trends-joinpoint")
    parts = [
        [np.ascontiguousarray(a[..., :half]) for a in arrays],
        [np.ascontiguousarray(a[..., half:]) for a in arrays],
    ]
    done = list(_POOL.map(lambda args: func(*args), parts))
    return np.concatenate(done, axis=-1)


def _max_k(n_cand: int, gap: int) -> int:
    """Most joinpoints that fit among ``n_cand`` consecutive candidates ``gap`` apart."""
    return 0 if n_cand <= 0 else 1 + (n_cand - 1) // gap


# --------------------------------------------------------------------------- model fits


@dataclass
class _Fit:
    knots: np.ndarray  # observation indices of the joinpoints
    beta: np.ndarray  # intercept, slope, slope changes
    cov: np.ndarray  # covariance of beta (scaled)
    df: int
    sse: float  # weighted SSE (Pearson X^2 for Poisson)
    s: np.ndarray  # sqrt weights of the fit
    ytil: np.ndarray  # weighted (working) response at the fit


def _design(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    cols = [np.ones_like(x), x] + [np.maximum(x - x[k], 0.0) for k in knots]
    return np.column_stack(cols)


def _wls(X, s, ytil):
    Xs = X * s[:, None]
    beta, *_ = np.linalg.lstsq(Xs, ytil, rcond=None)
    r = ytil - Xs @ beta
    return beta, Xs, float(r @ r)


def _fit_constant(x, logy, knots) -> _Fit:
    s = np.ones_like(x)
    X = _design(x, knots)
    beta, Xs, sse = _wls(X, s, logy)
    df = len(x) - X.shape[1]
    sigma2 = sse / df if df > 0 else np.nan
    cov = sigma2 * np.linalg.pinv(Xs.T @ Xs)
    return _Fit(np.asarray(knots, dtype=int), beta, cov, df, sse, s, logy)


def _fit_poisson(x, y, logexp, knots) -> _Fit:
    """Poisson GLM with log link and offset log(exposure), by IRLS with step halving.

    A segment of zero counts has its maximum likelihood at a rate of 0; step halving
    keeps every iterate finite, and the fit stops at a very small rate with a very
    wide interval rather than overflowing.
    """
    X = _design(x, knots)
    eta = np.log(np.maximum(y, 0.5))
    beta, *_ = np.linalg.lstsq(X, eta - logexp, rcond=None)
    eta = logexp + X @ beta
    dev = _deviance(y, eta)
    for _ in range(100):
        mu = np.maximum(np.exp(eta), 1e-300)
        s = np.sqrt(mu)
        z = eta - logexp + (y - mu) / mu
        new, *_ = np.linalg.lstsq(X * s[:, None], s * z, rcond=None)
        for _ in range(30):  # step halving until the deviance does not rise
            new_eta = logexp + X @ new
            new_dev = _deviance(y, new_eta)
            if np.isfinite(new_dev) and new_dev <= dev + 1e-9 * (1 + abs(dev)):
                break
            new = (new + beta) / 2
        step = np.max(np.abs(new - beta))
        beta, eta, old, dev = new, logexp + X @ new, dev, new_dev
        if step < 1e-10 * (1 + np.max(np.abs(beta))) or abs(old - dev) < 1e-12 * (1 + dev):
            break
    mu = np.maximum(np.exp(eta), 1e-300)  # a zero-count segment's rate tends to 0
    s = np.sqrt(mu)
    ytil = s * (eta - logexp + (y - mu) / mu)
    Xs = X * s[:, None]
    pearson = float((((y - mu) / s) ** 2).sum())
    df = len(x) - X.shape[1]
    phi = max(1.0, pearson / df) if df > 0 else np.nan
    cov = phi * np.linalg.pinv(Xs.T @ Xs)
    return _Fit(np.asarray(knots, dtype=int), beta, cov, df, pearson, s, ytil)


def _deviance(y: np.ndarray, eta: np.ndarray) -> float:
    """Poisson deviance at linear predictor ``eta`` (inf when it overflows)."""
    with np.errstate(over="ignore", invalid="ignore"):
        mu = np.exp(eta)
        term = np.where(y > 0, y * (np.log(np.maximum(y, 1e-300)) - eta), 0.0) - (y - mu)
    total = float(2 * term.sum())
    return total if np.isfinite(total) else np.inf


def _poisson_deviances(x, y, logexp, knot_sets: np.ndarray, mu0: np.ndarray) -> np.ndarray:
    """Poisson deviance of the maximum-likelihood fit at each row of ``knot_sets`` (S x k
    observation indices), by IRLS with step halving run on all S models at once.

    Used to rank joinpoint sets; the chosen set is then refitted by :func:`_fit_poisson`.
    """
    n_sets, k = knot_sets.shape
    X = np.empty((n_sets, len(x), k + 2))
    X[:, :, 0] = 1.0
    X[:, :, 1] = x
    for j in range(k):
        X[:, :, 2 + j] = np.maximum(x[None, :] - x[knot_sets[:, j]][:, None], 0.0)

    def solve(X, w, z):  # one IRLS step for each model (rows of X)
        A = np.einsum("snp,sn,snq->spq", X, w, X)
        rhs = np.einsum("snp,sn->sp", X, w * z)
        A += 1e-12 * np.trace(A, axis1=1, axis2=2)[:, None, None] * np.eye(k + 2)
        return np.linalg.solve(A, rhs[..., None])[..., 0]

    def deviance(beta):
        eta = np.minimum(logexp + np.einsum("snp,sp->sn", X, beta), 700.0)
        mu = np.exp(eta)
        term = np.where(y > 0, y * (np.log(np.maximum(y, 1e-300)) - eta), 0.0) - (y - mu)
        return 2 * term.sum(axis=1)

    z0 = np.log(mu0) - logexp + (y - mu0) / mu0
    beta = solve(X, np.broadcast_to(mu0, (n_sets, len(x))), z0)
    dev = deviance(beta)
    active = np.ones(n_sets, dtype=bool)
    for _ in range(100):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        Xa = X[idx]
        eta = np.minimum(logexp + np.einsum("snp,sp->sn", Xa, beta[idx]), 700.0)
        mu = np.clip(np.exp(eta), _W_FLOOR, _W_CEIL)  # as the compiled kernel bounds them
        new = solve(Xa, mu, eta - logexp + (y - mu) / mu)
        full = beta.copy()
        for _ in range(30):  # step halving where the deviance rose
            full[idx] = new
            new_dev = deviance(full)[idx]
            worse = ~(new_dev <= dev[idx] + 1e-9 * (1 + np.abs(dev[idx])))
            if not worse.any():
                break
            new[worse] = (new[worse] + beta[idx][worse]) / 2
        change = dev[idx] - new_dev
        beta[idx], dev[idx] = new, new_dev
        active[idx] = ~(np.abs(change) < 1e-10 * (1 + np.abs(new_dev)))
    return dev


# Bounds on the IRLS weights (fitted means) when ranking joinpoint sets. A segment of
# zero counts drives its means towards 0; a start far below a positive count gives a
# huge working response and a first step to eta ~ 700, whose weights then overflow
# the normal equations (NaN; seen on Iraq's 1990-2018 series). So the IRLS starts no
# lower than a tenth of each count and weights stay within [_W_FLOOR, _W_CEIL]; means
# outside that range add nothing to the deviance or make it astronomically large.
_W_FLOOR, _W_CEIL = 1e-10, 1e20
_SCREEN_STEPS, _SCREEN_KEEP = 3, 8  # IRLS steps for every set; sets then fitted fully


class _Fits(Sequence):
    """A series' best fits with 0..k_max joinpoints, each made when first asked for.

    The permutation tests need only the null fits they test from and the chosen one
    (a break-free series: the line alone), BIC and WBIC need them all; fit k starts
    from fit k - 1, so asking for k makes the smaller ones too.
    """

    def __init__(self, series: _Series):
        self._series = series
        self._made: dict[int, _Fit] = {}

    def __len__(self) -> int:
        return self._series.k_max + 1

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(len(self))[k]]
        k = k + len(self) if k < 0 else k
        if not 0 <= k < len(self):
            raise IndexError(k)
        if k not in self._made:
            self._made[k] = self._series._fit_k(k)
        return self._made[k]


class _Series:
    """One region's covered observations and the fits of every model size."""

    def __init__(self, x, y, exposure, grid: _Grid, variance: str, k_max: int):
        self.x, self.y, self.exposure = x, y, exposure
        self.grid, self.variance, self.k_max = grid, variance, k_max
        self.logexp = np.log(exposure)
        self._screened: dict[tuple, tuple[float, float]] = {}  # set -> (deviance, last change)
        self._converged: dict[tuple, float] = {}  # set -> converged deviance
        self.fits = _Fits(self)

    def _fit_k(self, k: int) -> _Fit:
        """Best fit with k joinpoints on the grid.

        Constant variance: the exact grid search. Poisson: for k = 1 every grid point
        is fitted; for k > 1 an exchange search (move one joinpoint at a time to its
        best grid point, all alternatives fitted) starts from the exact search on the
        log rates, from the exact search on the IRLS linearisation at that fit, and
        from the k - 1 solution plus its best added joinpoint; the lowest deviance
        wins. Fits are ranked after a few IRLS steps from the k - 1 fit (see
        :meth:`_devs`), the best of them run to convergence.
        """
        x, y, logexp = self.x, self.y, self.logexp
        logy = np.log(np.where(y > 0, y, 0.5)) - logexp
        knots = self._best_knots(np.ones_like(x), logy, k)
        if self.variance == "constant":
            return _fit_constant(x, logy, knots)
        if k == 0:
            return _fit_poisson(x, y, logexp, knots)
        prev = self.fits[k - 1]
        mu0 = prev.s**2  # fitted means of the k - 1 model: where every IRLS run starts
        added = self._with_each(prev.knots)  # k = 1: every grid point
        devs = self._devs(added, mu0) if len(added) else np.zeros(0)
        if k == 1:
            return _fit_poisson(x, y, logexp, added[int(np.argmin(devs))])
        lin = _fit_poisson(x, y, logexp, knots)
        starts = {tuple(knots), tuple(self._best_knots(lin.s, lin.ytil, k))}
        if len(added):
            starts.add(tuple(added[int(np.argmin(devs))]))
        best, best_dev = None, np.inf
        for start in sorted(starts):
            kn, dev = self._exchange(np.array(start, dtype=int), mu0)
            if dev < best_dev:
                best, best_dev = kn, dev
        return _fit_poisson(x, y, logexp, best)

    def _devs(self, sets: np.ndarray, mu0: np.ndarray) -> np.ndarray:
        """Poisson deviance of each joinpoint set (rows), IRLS started at means ``mu0``.

        All sets get a few IRLS steps (an upper bound on their deviance, and already
        converged from a nearby start); the best few, and any still moving (a segment
        whose rate heads to 0 converges slowly), are then run to convergence.
        """
        sets = np.ascontiguousarray(sets, dtype=np.int64)
        mu0 = np.maximum(mu0, np.maximum(0.1 * self.y, _W_FLOOR))
        if _poisson_deviances_compiled is None:
            return _poisson_deviances(self.x, self.y, self.logexp, sets, mu0)
        args = (self.x, self.y, self.logexp)

        def run(rows, steps):  # the models as columns, so _both_cores can split them
            return np.stack(
                _poisson_deviances_compiled(*args, np.ascontiguousarray(rows.T), mu0, steps)
            )

        # The exchange search meets the same sets again (mu0 is fixed for each model
        # size, and a set's length is its size): each set is screened at most once and
        # run to convergence at most once, with the results it would get afresh.
        keys = [tuple(row) for row in sets.tolist()]
        unseen = [i for i, key in enumerate(keys) if key not in self._screened]
        unseen = list({keys[i]: i for i in unseen}.values())  # one row per new set
        if unseen:
            devs, last = _both_cores(lambda part: run(part, _SCREEN_STEPS), sets[unseen].T)
            for i, dev, change in zip(unseen, devs, last, strict=True):
                self._screened[keys[i]] = (float(dev), float(change))
        devs = np.array([self._screened[key][0] for key in keys])
        redo = np.array([self._screened[key][1] > 1e-7 for key in keys], dtype=bool)
        redo[np.argsort(devs, kind="stable")[:_SCREEN_KEEP]] = True
        todo = [i for i in np.flatnonzero(redo) if keys[i] not in self._converged]
        todo = list({keys[i]: i for i in todo}.values())
        if todo:
            for i, dev in zip(todo, run(sets[todo].T, 100)[0], strict=True):
                self._converged[keys[i]] = float(dev)
        for i in np.flatnonzero(redo):
            devs[i] = self._converged[keys[i]]
        return devs

    def _with_each(self, others: np.ndarray) -> np.ndarray:
        """Sorted joinpoint sets (rows): ``others`` plus each allowed grid point."""
        cand = self.grid.cand
        far = np.ones(len(cand), dtype=bool)
        for o in others:
            far &= np.abs(cand - o) >= self.grid.gap
        sets = np.column_stack([np.broadcast_to(others, (int(far.sum()), len(others))), cand[far]])
        return np.sort(sets, axis=1).astype(np.int64)

    def _exchange(self, knots: np.ndarray, mu0: np.ndarray) -> tuple[np.ndarray, float]:
        """Move one joinpoint at a time to the grid point that most lowers the Poisson
        deviance (every alternative position fitted), until no move lowers it."""
        cur, cur_dev = knots, float(self._devs(knots[None, :], mu0)[0])
        improved = True
        while improved:
            improved = False
            for j in range(len(cur)):
                sets = self._with_each(np.delete(cur, j))
                if not len(sets):
                    continue
                devs = self._devs(sets, mu0)
                i = int(np.argmin(devs))
                if devs[i] < cur_dev - 1e-9 * (1 + cur_dev):
                    cur, cur_dev, improved = sets[i], float(devs[i]), True
        return cur, cur_dev

    def _best_knots(self, s, ytil, k) -> np.ndarray:
        if k == 0:
            return np.zeros(0, dtype=int)
        _, arg = _search(self.grid, s, ytil[:, None], k, track=True)
        return np.sort(arg[k, 0, :k])


# --------------------------------------------------------------------------- selection


def _perm_test(series: _Series, ka: int, kb: int, n_perm: int, level: float, rng):
    """Kim et al. (2000) permutation test of ka against kb joinpoints.

    Returns (p-value, permutations run, decided early). Permutations run in blocks;
    once so many permuted ratios reach the observed one that the p-value cannot fall
    below ``level`` whatever the rest give, the test stops (curtailed sampling): the
    decision is the one the full run would make, and the p-value returned is then
    a lower bound, (1 + exceedances so far) / (n_perm + 1).

    A permuted ratio SSE(ka) / SSE(kb) only matters through whether it reaches the
    observed one. SSE(ka) is found exactly by the grid search (cheap: ka < kb). With
    kb = 3, :func:`_three_min_python` decides exactly whether SSE(kb) is small enough;
    with kb > 3 SSE(kb) is first bounded below by the broken-stick fit
    (:func:`_split_bound_python`) and the grid search runs only for the permutations
    whose bound leaves the comparison open; with kb < 3 the grid search is as cheap as
    any bound. The exceedance count, and so the p-value, is the one the full search
    gives (``tests/test_joinpoints.py`` checks both shortcuts against it).
    """
    grid, null = series.grid, series.fits[ka]
    s = null.s
    X = _design(series.x, null.knots)
    fitted = (X * s[:, None]) @ null.beta
    resid = null.ytil - fitted
    geom = _geometry(grid, s)
    obs_sse, _ = _search(grid, s, null.ytil[:, None], kb, track=False, geom=geom)
    ratio = obs_sse[ka, 0] / max(obs_sse[kb, 0], 1e-300)
    threshold = ratio * (1 - 1e-9)  # a permuted ratio this large counts as reaching it
    enough = math.ceil(level * (n_perm + 1) - 1 - 1e-9)  # exceedances that forbid rejection
    q = geom[0]
    first, last = int(grid.cand[0]), int(grid.cand[-1])

    reach_3 = kb == 3 and _three_min is not None
    if reach_3:
        left, right, ok = _three_geometry(s, series.x, first, last, grid.gap)
        reach_3 = bool(ok)

    exceed, done, searched, block = 0, 0, 0, _FIRST_BLOCK
    while done < n_perm:
        rows = rng.permuted(np.tile(np.arange(len(resid)), (min(block, n_perm - done), 1)), axis=1)
        Y = fitted[:, None] + resid[rows].T
        sse_a = _search(grid, s, Y, ka, track=False, geom=geom)[0][ka]
        if reach_3:
            # the permuted ratio reaches the threshold iff SSE(kb) <= sse_a / threshold;
            # the weighted line changes no SSE: it is removed, for accuracy
            target = sse_a / threshold
            sse_b = _both_cores(
                lambda part, t: _three_min(
                    s, series.x, part, t, first, last, grid.gap, left, right
                )[0],
                _without_line(q, Y),
                target,
            )
            exceed += int((sse_b <= target).sum())
        else:
            todo = np.arange(Y.shape[1])
            if _split_bound is not None and kb >= _BOUND_FROM:
                low = _both_cores(
                    lambda part: _split_bound(s, series.x, part, kb, first, last, grid.gap),
                    _without_line(q, Y),
                )
                # ratio <= sse_a / low: below the threshold (with room for rounding) it
                # cannot reach the observed ratio, whatever the grid search finds
                todo = todo[~(sse_a < threshold * (1 - 1e-7) * low)]
            if len(todo):
                sse_b = _search(grid, s, Y[:, todo], kb, track=False, geom=geom)[0][kb]
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


def _without_line(q: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``Y`` with its projection on the weighted line (orthonormal basis ``q``) removed."""
    qY = _tn(q, Y)
    return Y - q[:, :1] * qY[0] - q[:, 1:] * qY[1]


_FIRST_BLOCK, _MAX_BLOCK = 128, 256  # permutations per pass: few, for early stops


def _partial_r2_max(series: _Series, fit: _Fit) -> float:
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


def _select(series: _Series, selection: str, n_perm: int, alpha: float, rng):
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


# --------------------------------------------------------------------------- public API


def joinpoints(
    cells: pd.DataFrame,
    *,
    max_joinpoints: int = 3,
    n_permutations: int = 4499,
    selection: str = "permutation",
    variance: str = "poisson",
    interval: str = "empirical",
    n_bootstrap: int = 1000,
    min_end: int = 2,
    min_between: int = 2,
    alpha: float = 0.05,
    level: float = 0.95,
    seed: int = 0,
    rules: str | CoverageRules | Mapping[str, Any] = "default",
    progress: bool | None = None,
) -> pd.DataFrame:
    """Joinpoint regression of each region's rate: segments, their APC and the AAPC.

    Fits segmented log-linear models continuous at the joinpoints (Kim, Fay, Feuer
    and Midthune 2000, Stat Med 19:335; the NCI Joinpoint Regression Program) and
    chooses the number of joinpoints by the sequential permutation test, BIC or WBIC.
    See the module docstring for the model, the variance options and the search.

    Parameters
    ----------
    cells : DataFrame
        Cell table (``region``, ``period``, ``count``, ``exposure``; see
        :mod:`trends.cells`). Cells with a missing count lie outside the source's
        coverage and are left out (the time axis keeps its gaps).
    max_joinpoints : int
        Most joinpoints to consider (capped per region by what its length allows;
        the ``note`` column says so). Up to 3 is fast (see the module docstring);
        beyond, the permutation tests run the O(n^k) grid search. On 6 simulated
        break-free regions of 120 months (``benchmarks/joinpoints_null.py --regions 6
        --max-joinpoints 4``): 4 to 14 s a region for 4 joinpoints; for 5, about a
        minute a region with only 199 permutations.
    n_permutations : int
        Permutation data sets per test (``selection="permutation"``).
    selection : {"permutation", "bic", "wbic"}
        How the number of joinpoints is chosen.
    variance : {"poisson", "constant"}
        Poisson counts (maximum likelihood) or constant variance of the log rate
        (least squares; zero counts taken as 0.5, as the Joinpoint program does).
    interval : {"empirical", "parametric"}
        APC and AAPC intervals and APC p-values: empirical quantiles of refits to
        resampled data with the joinpoints re-estimated (Kim et al. 2022), or t
        intervals conditional on the joinpoints. See the module docstring.
    n_bootstrap : int
        Resampled data sets per region for ``interval="empirical"``.
    min_end, min_between : int
        Fewest observations between a joinpoint and either end, and between two
        joinpoints (joinpoints themselves excluded).
    alpha : float
        Overall level of the sequential permutation procedure.
    level : float
        Confidence level of the APC and AAPC intervals.
    seed : int
        Seed of the permutations and resamples (same input and seed, same output).
    rules : str, CoverageRules or dict
        Coverage rules passed to :func:`trends.coverage_model.assess_window` for each
        segment (a preset name, a :class:`~trends.coverage_model.CoverageRules`, or a
        dict of thresholds overriding the default preset).
    progress : bool or None
        Progress bar on stderr; ``None`` shows it only when stderr is a terminal.

    Returns
    -------
    DataFrame
        One row per segment per region:

        - ``region``; ``segment`` (1, 2, ...); ``segment_start``, ``segment_end``
          (dates: first day of the segment's first period, last day of its last
          period; neighbouring segments share the joinpoint period);
          ``segment_start_period``, ``segment_end_period`` (period labels)
        - ``n_joinpoints``: joinpoints in the region's chosen model
        - ``apc``, ``apc_low``, ``apc_high``: annual percent change of the rate and
          its ``level`` confidence interval; ``pvalue``: two-sided test of APC = 0
          (empirical: from the resamples, so at least ``2 / (n_bootstrap + 1)``)
        - ``aapc``, ``aapc_low``, ``aapc_high``: average annual percent change over
          the region's whole series (Clegg et al. 2009); :func:`aapc` gives it over
          any range (with the parametric interval)
        - ``interval``: how the intervals and p-values were made, ``empirical`` or
          ``parametric``
        - ``method`` (``joinpoint-poisson`` or ``joinpoint-constant``),
          ``parameters`` (the options behind the row, ``name=value; ...``),
          ``selection`` and ``selection_detail`` (the tests or criteria behind the
          choice)
        - ``coverage``, ``coverage_reasons``: coverage status of the segment's
          cells (:func:`trends.coverage_model.assess_window`), with the source-mix
          rule applied between the segment's halves and against the previous
          segment (a segment whose main outlet went silent is not read as a fall)
        - ``verdict``: ``rising`` / ``falling`` (the APC interval excludes 0),
          ``stable``, or after coverage gating ``inconclusive (thin coverage)`` /
          ``not covered``
        - ``note``: why an estimate is missing or a setting was changed, else empty

        ``attrs["fits"]`` keeps each region's fitted slopes and covariance for
        :func:`aapc`.
    """
    from tqdm.auto import tqdm

    from .coverage_model import assess_window, resolve_rules
    from .verdicts import gate, warn_withheld

    resolve_rules(rules)  # a bad preset name or threshold fails here, before any fitting

    _check_choice("selection", selection, SELECTIONS)
    _check_choice("variance", variance, VARIANCES)
    _check_choice("interval", interval, INTERVALS)
    for name, value, low in (
        ("max_joinpoints", max_joinpoints, 0),
        ("n_permutations", n_permutations, 1),
        ("n_bootstrap", n_bootstrap, 1),
        ("min_end", min_end, 1),
        ("min_between", min_between, 0),
    ):
        if not isinstance(value, int | np.integer) or value < low:
            raise TrendsError(f"{name}={value!r} must be an integer >= {low}")
    if not 0 < alpha < 1 or not 0 < level < 1:
        raise TrendsError(f"alpha={alpha!r} and level={level!r} must lie strictly between 0 and 1")

    data = as_cells(cells)
    kind = cells_period(data)
    ppy = PERIODS_PER_YEAR[kind]
    labels = period_range(data["period"].min(), data["period"].max(), kind)
    index_of = {lab: i for i, lab in enumerate(labels)}
    data["_x"] = data["period"].map(index_of).astype(float)
    bad = data["count"].notna() & (data["exposure"] <= 0) & (data["count"] > 0)
    if bad.any():
        row = data[bad].iloc[0]
        raise CellsError(
            f"region {row['region']!r}, period {row['period']!r}: count {row['count']:g} "
            "with exposure 0; a rate needs exposure > 0"
        )

    regions = list(pd.unique(data["region"]))
    covered = data[data["count"].notna()]
    by_region = {key: g for key, g in covered.groupby("region", sort=False, observed=True)}
    longest = max((len(g) for g in by_region.values()), default=0)
    needed = _periods_needed(max_joinpoints, min_end, min_between)
    if longest < needed:
        raise TrendsError(
            f"max_joinpoints={max_joinpoints} needs at least {needed} covered periods "
            f"(min_end={min_end}, min_between={min_between}); the longest region has "
            f"{longest}. Valid: max_joinpoints <= "
            f"{_k_allowed(longest, min_end, min_between)}"
        )

    groups = {r: by_region.get(r, covered.iloc[:0]).reset_index(drop=True) for r in regions}
    fittable = [r for r in regions if not _series_problem(groups[r])]
    settings = {
        "max_joinpoints": max_joinpoints,
        "min_end": min_end,
        "min_between": min_between,
        "variance": variance,
        "selection": selection,
        "n_permutations": n_permutations,
        "alpha": alpha,
        "seed": seed,
        "interval": interval,
        "n_bootstrap": n_bootstrap,
        "ppy": ppy,
        "level": level,
    }
    bar = tqdm(
        total=len(fittable),
        desc="joinpoints",
        unit="region",
        file=sys.stderr,
        disable=(not progress) if progress is not None else None,
    )
    with bar:
        selected = _fit_regions({r: groups[r] for r in fittable}, settings, bar.update)
    parameters = "; ".join(
        [
            f"max_joinpoints={max_joinpoints}",
            f"min_end={min_end}",
            f"min_between={min_between}",
            f"alpha={alpha:g}",
            f"level={level:g}",
            *([f"n_permutations={n_permutations}"] if selection == "permutation" else []),
            *([f"n_bootstrap={n_bootstrap}"] if interval == "empirical" else []),
            f"seed={seed}",
        ]
    )
    rows: list[dict] = []
    fits: dict[str, dict] = {}
    for region in regions:
        g = groups[region]
        base = {
            "region": region,
            "method": f"joinpoint-{variance}",
            "parameters": parameters,
            "selection": selection,
            "interval": interval,
        }
        if region not in selected:
            problem = _series_problem(g)
            status, reasons = (
                assess_window(g, rules=rules) if len(g) else ("uncovered", ["no covered cells"])
            )
            verdict = "not covered" if problem[0] == "not covered" else gate("stable", status)
            if verdict == "stable":
                verdict = "inconclusive (thin coverage)"
            rows.append(_empty_row(base, g, status, reasons, verdict, problem[1]))
            continue
        grid, series, k, detail, empirical = selected[region]
        note = ""
        if series.k_max < max_joinpoints:
            note = (
                f"{len(g)} covered periods allow at most {series.k_max} joinpoints "
                f"(asked for {max_joinpoints})"
            )
        fit = series.fits[k]
        fits[str(region)] = _fit_record(fit, grid.x, ppy, g, kind)
        whole = _aapc_from(fits[str(region)], grid.x[0], grid.x[-1], level)
        edges = [0, *fit.knots.tolist(), len(g) - 1]
        if empirical is None:
            apcs = _segment_apcs(fit, ppy, level)
        else:
            apcs, low, high = empirical
            whole = {**whole, "aapc_low": low, "aapc_high": high}
        for j in range(k + 1):
            lo, hi = edges[j], edges[j + 1]
            apc, low, high, pvalue = apcs[j]
            raw = "rising" if low > 0 else "falling" if high < 0 else "stable"
            status, reasons = assess_window(g.iloc[lo : hi + 1], rules=rules)
            previous = g.iloc[edges[j - 1] : lo + 1] if j > 0 else None
            status, reasons = _mix_gate(g.iloc[lo : hi + 1], previous, status, reasons, rules)
            rows.append(
                {
                    **base,
                    "segment": j + 1,
                    "segment_start": g["period_start"].iloc[lo],
                    "segment_end": g["period_end"].iloc[hi],
                    "segment_start_period": str(g["period"].iloc[lo]),
                    "segment_end_period": str(g["period"].iloc[hi]),
                    "n_joinpoints": k,
                    "apc": float(apc),
                    "apc_low": float(low),
                    "apc_high": float(high),
                    "pvalue": pvalue,
                    **whole,
                    "selection_detail": detail,
                    "coverage": status,
                    "coverage_reasons": "; ".join(reasons),
                    "verdict": gate(raw, status),
                    "note": note,
                }
            )
    out = pd.DataFrame(rows, columns=_COLUMNS)
    for col in ("segment", "n_joinpoints"):
        out[col] = out[col].astype("Int64")
    warn_withheld(out["verdict"].tolist(), "joinpoint segment")
    out.attrs["fits"] = fits
    out.attrs["level"] = level
    return out


def _fit_regions(groups: dict, settings: dict, done) -> dict:
    """Fit and select the model of every region (``groups``: region -> its covered
    cells), two regions at a time when numba's kernels can run side by side.

    Each region's permutations come from its own stream, seeded by ``seed`` and the
    region's name, so a region's result does not depend on the others or their order.
    ``done(1)`` is called as each region finishes (the progress bar).
    """
    regions = list(groups)
    if not HAVE_NUMBA or len(regions) < 2:
        out = {}
        for region in regions:
            out[region] = _fit_region(region, groups[region], settings)
            done(1)
        return out

    lock = threading.Lock()

    def work(region):
        _LOCAL.one_core = True  # this thread has a core; do not split kernels further
        result = _fit_region(region, groups[region], settings)
        with lock:
            done(1)
        return result

    with ThreadPoolExecutor(2, thread_name_prefix="trends-joinpoint-region") as pool:
        return dict(zip(regions, pool.map(work, regions), strict=True))


def _fit_region(region, g: pd.DataFrame, settings: dict) -> tuple:
    """One region's grid, fits for 0..k joinpoints, chosen k, how it was chosen, and
    the empirical-quantile intervals of the chosen fit (None unless asked for)."""
    min_end, min_between = settings["min_end"], settings["min_between"]
    k_allowed = min(settings["max_joinpoints"], _k_allowed(len(g), min_end, min_between))
    grid = _Grid(
        x=g["_x"].to_numpy(float),
        cand=np.arange(min_end, len(g) - min_end),
        gap=min_between + 1,
    )
    series = _Series(
        grid.x,
        g["count"].to_numpy(float),
        g["exposure"].to_numpy(float),
        grid,
        settings["variance"],
        k_allowed,
    )
    rng = np.random.default_rng([settings["seed"], zlib.crc32(str(region).encode("utf-8"))])
    k, detail = _select(
        series, settings["selection"], settings["n_permutations"], settings["alpha"], rng
    )
    empirical = None
    if settings["interval"] == "empirical":
        empirical = _empirical_intervals(
            region,
            grid,
            series.fits[k],
            settings["variance"],
            settings["n_bootstrap"],
            settings["seed"],
            settings["ppy"],
            settings["level"],
        )
    return grid, series, k, detail, empirical


def aapc(
    result: pd.DataFrame,
    *,
    start: str | None = None,
    end: str | None = None,
    level: float | None = None,
) -> pd.DataFrame:
    """Average annual percent change over a range, from a :func:`joinpoints` result.

    AAPC = 100 (exp(sum_i w_i b_i / sum_i w_i * periods_per_year) - 1), with b_i the
    slopes of the segments and w_i the length of each inside the range (Clegg,
    Hankey, Tiwari, Feuer and Edwards 2009, Stat Med 28:3670). When the range lies
    within one segment the AAPC is that segment's APC with its t interval; otherwise
    the interval is normal, from the slopes' covariance, as the Joinpoint program does.
    These are the parametric intervals, conditional on the joinpoints, whatever
    ``interval`` the result was fitted with; so over the whole series they differ from
    the result's ``aapc_low`` / ``aapc_high`` when those are empirical.

    Parameters
    ----------
    result : DataFrame
        The output of :func:`joinpoints` (it carries the fits in ``attrs["fits"]``).
    start, end : str, optional
        First and last period of the range (labels or dates); default each region's
        first and last covered period.
    level : float, optional
        Confidence level; default the one the result was fitted with.

    Returns
    -------
    DataFrame
        One row per region: ``region``, ``aapc_start``, ``aapc_end`` (periods),
        ``aapc``, ``aapc_low``, ``aapc_high``, ``pvalue``, ``n_segments`` (segments the
        range touches), ``note``.
    """
    fits = result.attrs.get("fits") if isinstance(result, pd.DataFrame) else None
    if fits is None:
        raise TrendsError("aapc() takes the DataFrame returned by trends.joinpoints()")
    level = result.attrs.get("level", 0.95) if level is None else level
    rows = []
    for region in pd.unique(result["region"]):
        rec = fits.get(str(region))
        if rec is None:
            rows.append({"region": region, "note": "no joinpoint fit for this region"})
            continue
        labels, x = rec["periods"], np.asarray(rec["x"])
        kind = rec["kind"]
        lo_lab = to_period_label(start, kind) if start is not None else labels[0]
        hi_lab = to_period_end_label(end, kind) if end is not None else labels[-1]
        lo_x, hi_x = _x_of(lo_lab, labels, x, kind), _x_of(hi_lab, labels, x, kind)
        if not (x[0] <= lo_x < hi_x <= x[-1]):
            raise TrendsError(
                f"AAPC range {lo_lab!r} to {hi_lab!r} must lie inside region {region!r}'s "
                f"fitted series {labels[0]!r} to {labels[-1]!r} and span at least two periods"
            )
        rows.append(
            {
                "region": region,
                "aapc_start": lo_lab,
                "aapc_end": hi_lab,
                **_aapc_from(rec, lo_x, hi_x, level, full=True),
                "note": "",
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "region",
            "aapc_start",
            "aapc_end",
            "aapc",
            "aapc_low",
            "aapc_high",
            "pvalue",
            "n_segments",
            "note",
        ],
    )


# --------------------------------------------------------------------------- helpers

_COLUMNS = [
    "region", "segment", "segment_start", "segment_end", "segment_start_period",
    "segment_end_period", "n_joinpoints", "apc", "apc_low", "apc_high", "pvalue",
    "aapc", "aapc_low", "aapc_high", "interval", "method", "parameters", "selection",
    "selection_detail",
    "coverage", "coverage_reasons", "verdict", "note",
]  # fmt: skip


def _check_choice(name: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise TrendsError(f"{name}={value!r} is not one of {', '.join(map(repr, valid))}")


def _periods_needed(k: int, min_end: int, min_between: int) -> int:
    """Fewest observations that allow k joinpoints (and a line with 1 residual df)."""
    if k == 0:
        return 3
    return max(2 * min_end + 1 + (k - 1) * (min_between + 1), k + 3)


def _k_allowed(n: int, min_end: int, min_between: int) -> int:
    k = 0
    while _periods_needed(k + 1, min_end, min_between) <= n:
        k += 1
    return k


def _series_problem(g: pd.DataFrame) -> tuple[str, str] | None:
    """Why a region's series cannot be fitted at all, or None."""
    if len(g) == 0:
        return "not covered", "no covered cells (every count is missing)"
    if (g["exposure"] <= 0).all() or g["exposure"].isna().all():
        return "not covered", "no exposure in any covered cell: no rate to model"
    if (g["exposure"] <= 0).any():
        return "thin", (
            f"{int((g['exposure'] <= 0).sum())} covered cells have no exposure; "
            "drop them or give their exposure"
        )
    if len(g) < 3:
        return "thin", f"{len(g)} covered periods: a trend needs at least 3"
    if (g["count"] == 0).all():
        return "thin", "every count is zero: a log-linear trend has no finite estimate"
    return None


def _mix_gate(
    segment: pd.DataFrame,
    previous: pd.DataFrame | None,
    status: str,
    reasons: list[str],
    rules: Any,
) -> tuple[str, list[str]]:
    """Add the source-mix rule to a segment's coverage, as :func:`trends.trend` does.

    A segment across which the main outlet went silent (or a new one started) measures
    the reporting as much as the events, and so does a joinpoint where that happened.
    So the segment's second half is judged against its first half (segments of at least
    4 periods), and the segment against the one before it, each with the source-mix
    rule of ``rules`` alone (:func:`trends.coverage_model.mix_rules`: the count rules
    judged the segment already). A change beyond the threshold makes the segment at
    least ``thin``. Cells without ``source_counts`` leave the status as it is.
    """
    from .coverage_model import assess_window, mix_rules, worse

    mix = mix_rules(rules)
    if (
        mix.max_mix_change is None
        or "source_counts" not in segment.columns
        or segment["source_counts"].isna().all()
    ):
        return status, reasons
    half = len(segment) // 2
    checks = []
    if len(segment) >= 4:
        checks.append(("second half against the first", segment.iloc[half:], segment.iloc[:half]))
    if previous is not None:
        checks.append(("against the previous segment", segment, previous))
    for label, cells, baseline in checks:
        mix_status, mix_reasons = assess_window(cells, baseline=baseline, rules=mix)
        if mix_status != "adequate":
            status = worse(status, mix_status)
            reasons = [*reasons, *(f"{label}: {r}" for r in mix_reasons)]
    return status, reasons


def _empty_row(base, g, status, reasons, verdict, note) -> dict:
    row = dict.fromkeys(_COLUMNS, np.nan)
    row.update(base)
    row.update({
        "segment": 1, "n_joinpoints": pd.NA, "selection_detail": "",
        "segment_start": g["period_start"].iloc[0] if len(g) else pd.NaT,
        "segment_end": g["period_end"].iloc[-1] if len(g) else pd.NaT,
        "segment_start_period": str(g["period"].iloc[0]) if len(g) else pd.NA,
        "segment_end_period": str(g["period"].iloc[-1]) if len(g) else pd.NA,
        "coverage": status, "coverage_reasons": "; ".join(reasons),
        "verdict": verdict, "note": note,
    })  # fmt: skip
    return row


def _segment_slopes(fit: _Fit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slope of each segment (b1 + sum of earlier changes), their standard errors and
    covariance."""
    k = len(fit.knots)
    L = np.zeros((k + 1, len(fit.beta)))
    for j in range(k + 1):
        L[j, 1 : 2 + j] = 1.0
    cov = L @ fit.cov @ L.T
    return L @ fit.beta, np.sqrt(np.maximum(np.diag(cov), 0.0)), cov


def _segment_apcs(fit: _Fit, ppy: float, level: float) -> list[tuple[float, ...]]:
    """(APC, low, high, p-value) of each segment: t interval and test with the fit's
    residual df, conditional on the joinpoints (the Joinpoint program's parametric
    method), on the annual scale 100 (exp(slope * periods_per_year) - 1)."""
    slopes, ses, _ = _segment_slopes(fit)
    tq = stats.t.ppf(0.5 + level / 2, fit.df)
    out = []
    for b, se in zip(slopes, ses, strict=True):
        pvalue = float(2 * stats.t.sf(abs(b / se), fit.df)) if se > 0 else np.nan
        apc, low, high = (float(100 * np.expm1(v * ppy)) for v in (b, b - tq * se, b + tq * se))
        out.append((apc, low, high, pvalue))
    return out


def _fit_record(fit: _Fit, x: np.ndarray, ppy: float, g: pd.DataFrame, kind: str) -> dict:
    slopes, _, cov = _segment_slopes(fit)
    return {
        "x": x.tolist(),
        "periods": [str(p) for p in g["period"]],
        "kind": kind,
        "knots_x": x[fit.knots].tolist(),
        "slopes": slopes.tolist(),
        "slope_cov": cov.tolist(),
        "df": int(fit.df),
        "ppy": float(ppy),
    }


def _x_of(label: str, labels: list[str], x: np.ndarray, kind: str) -> float:
    """Period index of ``label`` on the region's time axis (x[0] is its first period)."""
    return float(x[0]) + len(period_range(labels[0], label, kind)) - 1


def _aapc_from(rec: dict, lo: float, hi: float, level: float, full: bool = False) -> dict:
    """Clegg et al. (2009) AAPC over [lo, hi] (period-index units)."""
    edges = [rec["x"][0], *rec["knots_x"], rec["x"][-1]]
    w = np.array(
        [max(0.0, min(hi, b) - max(lo, a)) for a, b in zip(edges, edges[1:], strict=False)]
    )
    slopes, cov, ppy = np.asarray(rec["slopes"]), np.asarray(rec["slope_cov"]), rec["ppy"]
    w = w / w.sum()
    b = float(w @ slopes)
    se = float(np.sqrt(max(w @ cov @ w, 0.0)))
    touched = int((w > 0).sum())
    q = stats.t.ppf(0.5 + level / 2, rec["df"]) if touched == 1 else stats.norm.ppf(0.5 + level / 2)
    if se > 0:
        ref = stats.t(rec["df"]) if touched == 1 else stats.norm()
        pvalue = float(2 * ref.sf(abs(b / se)))
    else:
        pvalue = np.nan
    out = {
        "aapc": float(100 * np.expm1(b * ppy)),
        "aapc_low": float(100 * np.expm1((b - q * se) * ppy)),
        "aapc_high": float(100 * np.expm1((b + q * se) * ppy)),
    }
    if full:
        out.update({"pvalue": pvalue, "n_segments": touched})
    return out


# --------------------------------------------------------------------------- empirical intervals


def _resample_slopes(grid: _Grid, fit: _Fit, variance: str, n_boot: int, rng):
    """Segment slopes and whole-series mean slope in ``n_boot`` resamples of the fitted model.

    The empirical-quantile method of Kim, Chen, Byrne, Wheeler and Feuer (2022, Stat Med
    41:3102; Kim et al. 2017, Stat Med 36:3059 for the AAPC): data are drawn from the
    fitted k-joinpoint model (fitted values plus residuals drawn with replacement), the
    model with k joinpoints is refitted to each with the joinpoints re-estimated, and
    the statistics are recomputed from each refit. Here the data are those of the
    weighted linearisation at the fit (for Poisson variance the IRLS working response, so
    the residuals are Pearson residuals; for constant variance the log rates), as the
    permutation test uses; every resample is refitted on it with the fit's weights: the
    exact grid search (:func:`_search`) for the joinpoints, then weighted least squares.
    The residuals are centred and rescaled so that their mean square is the scale the
    parametric intervals use (``max(1, X^2 / df)`` for Poisson, ``SSE / df`` for constant
    variance): with fixed joinpoints the resampled slopes then have exactly the
    parametric covariance, and an underdispersed sample does not narrow the interval.
    The number of resamples the Joinpoint program uses by default was not stated in the
    sources we could reach; ``joinpoints`` defaults to 1000, enough for 2.5% and 97.5%
    quantiles (Monte Carlo SE about 0.08 standard errors of the slope).

    The statistic is the slope of each resample's j-th segment, between its own
    joinpoints: the quantity the point estimate is. (The slope over the *original*
    segment's range, an AAPC, varies less: it undercovered in simulation, 0.92-0.94.)

    Returns ``slopes`` ((k + 1) x n_boot): the slope of each resample's j-th segment,
    between *its own* joinpoints, and ``whole`` (n_boot): its mean slope over the whole
    series, the length-weighted mean of its segment slopes (Clegg et al. 2009), which
    for a continuous fit is ``(eta(x_last) - eta(x_first)) / (x_last - x_first)``.
    """
    x, s = grid.x, fit.s
    n, k = len(x), len(fit.knots)
    fitted = (_design(x, fit.knots) * s[:, None]) @ fit.beta
    resid = fit.ytil - fitted
    resid = resid - resid.mean()
    mean_sq = float(resid @ resid) / n
    scale = fit.sse / fit.df if fit.df > 0 else 0.0
    if variance == "poisson":
        scale = max(1.0, scale)
    resid = resid * (math.sqrt(scale / mean_sq) if mean_sq > 0 else 0.0)
    Y = fitted[:, None] + resid[rng.integers(0, n, size=(n, n_boot))]

    knots = np.broadcast_to(fit.knots, (n_boot, k)).copy()
    if k:
        found = np.sort(_best_sets(grid, s, Y, k), axis=1)
        ok = (found >= 0).all(axis=1)  # -1: no allowed set (degenerate weights)
        knots[ok] = found[ok]

    # batched weighted least squares on [1, x - mean, hinges], columns scaled to unit norm
    X = np.empty((n_boot, n, k + 2))
    X[:, :, 0] = 1.0
    X[:, :, 1] = x - x.mean()
    for j in range(k):
        X[:, :, 2 + j] = np.maximum(x[None, :] - x[knots[:, j]][:, None], 0.0)
    Xs = X * s[None, :, None]
    A = np.einsum("bnp,bnq->bpq", Xs, Xs)
    rhs = np.einsum("bnp,nb->bp", Xs, Y)
    norm = np.sqrt(np.maximum(np.einsum("bpp->bp", A), 1e-300))
    A = A / (norm[:, :, None] * norm[:, None, :]) + 1e-12 * np.eye(k + 2)
    beta = np.linalg.solve(A, (rhs / norm)[..., None])[..., 0] / norm

    slopes = np.cumsum(beta[:, 1:], axis=1).T
    eta_ends = np.einsum("bep,bp->eb", X[:, [0, n - 1], :], beta)
    whole = (eta_ends[1] - eta_ends[0]) / (x[-1] - x[0])
    return slopes, whole


def _best_sets(grid: _Grid, s: np.ndarray, Y: np.ndarray, k: int) -> np.ndarray:
    """Joinpoints (observation indices; -1 where no set is allowed) of the best fit
    with exactly ``k`` joinpoints for each column of the weighted data ``Y``: one row
    per column. Three joinpoints by :func:`_three_min_python`, else the grid search."""
    first, last = int(grid.cand[0]), int(grid.cand[-1])
    if k == 3 and _three_min is not None:
        left, right, ok = _three_geometry(s, grid.x, first, last, grid.gap)
        if ok:
            q, _ = np.linalg.qr(np.column_stack([s, s * grid.x]))
            R = _without_line(q, Y)  # the weighted line changes no SSE: removed, for accuracy
            minimum = np.full(Y.shape[1], -np.inf)  # no target: the minimum itself

            def best(part, t):  # (k, columns): _both_cores joins columns
                return _three_min(s, grid.x, part, t, first, last, grid.gap, left, right)[1].T

            return _both_cores(best, R, minimum).T
    geom = _geometry(grid, s)
    return _both_cores(
        lambda part: _search(grid, s, part, k, track=True, geom=geom)[1][k, :, :k].T, Y
    ).T


def _empirical_intervals(region, grid, fit, variance, n_boot, seed, ppy, level):
    """Empirical-quantile (APC, low, high, p-value) of each segment, and the low and high
    ends of the whole-series AAPC's interval, from the same resamples.

    The resamples come from the region's own random stream, seeded by ``seed`` and the
    region's name (and apart from the permutations' streams): a region's intervals do not
    depend on the other regions, and the chosen models not on the interval method.
    """
    rng = np.random.default_rng([seed, 1, *str(region).encode("utf-8")])
    draws, whole_draws = _resample_slopes(grid, fit, variance, n_boot, rng)
    slopes, _, _ = _segment_slopes(fit)
    apcs = [_empirical_apc(d, b, ppy, level, fit.df) for d, b in zip(draws, slopes, strict=True)]
    _, low, high, _ = _empirical_apc(whole_draws, 0.0, ppy, level, fit.df)
    return apcs, low, high


def _empirical_apc(draws: np.ndarray, slope: float, ppy: float, level: float, df: int) -> tuple:
    """(APC, low, high, p-value) from resampled slopes ``draws``.

    The interval is the empirical quantiles of the draws at probabilities ``1 - p`` and
    ``p``, ``p = Phi(t_{df, (1 + level) / 2})``: the t-adjusted probabilities of the
    "expanded percentile" interval (Hesterberg 2015, Am Stat 69:371; without its
    sqrt(n / (n - 1)) factor, as the residuals are already rescaled to the residual df),
    so that with fixed joinpoints (k = 0) it is the t interval with the fit's residual df
    rather than a normal one (at 176 df, p = 0.9758 instead of 0.975; at 10 df, 0.9871).
    The two-sided p-value is twice the smaller share of draws on either side of 0, each
    ``(1 + count) / (B + 1)``.
    """
    n_boot = draws.size
    p = float(stats.norm.cdf(stats.t.ppf((1 + level) / 2, df)))
    low, high = np.quantile(draws, [1 - p, p])
    tail = min(int((draws <= 0).sum()), int((draws >= 0).sum()))
    pvalue = min(1.0, 2 * (1 + tail) / (n_boot + 1))
    apc, low, high = (float(100 * np.expm1(v * ppy)) for v in (slope, low, high))
    return apc, low, high, pvalue
