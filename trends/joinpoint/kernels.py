"""Compiled kernels of the joinpoint search and fits (numba when installed, numpy otherwise).

numba resolves a compiled function's callees from this module's globals, so the kernels
that call each other live here together: the depth-first grid search (``dfs``), the
broken-stick lower bound (``split_bound``), the exact three-joinpoint minimum
(``three_geometry``, ``three_min``), the batched Poisson IRLS deviances
(``poisson_deviances_compiled``) and ``tn`` (``A.T @ B`` without OpenBLAS threads).
See :mod:`trends.joinpoint` for the method and the references behind each shortcut.

The four largest kernels are each one compiled loop with early exits (the depth-first
search, the bounds, the IRLS): their branching is the algorithm, so ruff's complexity
limit (C901) is waived for them alone; calls out of the loop would cost the compiled
inner loop more than they would make it easier to read.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "HAVE_NUMBA",
    "W_CEIL",
    "W_FLOOR",
    "dfs",
    "dfs_numpy",
    "poisson_deviances_compiled",
    "split_bound",
    "three_geometry",
    "three_min",
    "tn",
]

_TOL = 1e-10  # relative size below which a Gram-Schmidt direction counts as degenerate


def _dfs_python(G, C, k_max, gap, track):  # noqa: C901  (one compiled loop) pragma: no cover
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


def dfs_numpy(G, C, k_max, gap, track):
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


def _split_bound_python(s, x, R, k, first, last, gap):  # noqa: C901  (one compiled loop) pragma: no cover
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
    False when some left C, or the squared norm of a side's ``x - x2`` column, is not
    positive (only rounding can make it so: weights spanning hundreds of orders of
    magnitude, as a fit heading to a rate of 0 gives); the caller then searches.
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
            if not g11 > 0.0:  # weights that rounding lost (a mean of ~0 beside large
                ok = False  # ones: a segment of zeros); the caller then searches
                continue
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


def _three_min_python(s, x, R, target, first, last, gap, left, right):  # noqa: C901  (one compiled loop) pragma: no cover
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


def _poisson_deviances_python(x, y, logexp, knot_sets, mu0, max_iter):  # noqa: C901  (one compiled loop) pragma: no cover
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
                    w[i] = min(max(math.exp(eta[i]), W_FLOOR), W_CEIL)
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


# Bounds on the IRLS weights (fitted means) when ranking joinpoint sets. A segment of
# zero counts drives its means towards 0; a start far below a positive count gives a
# huge working response and a first step to eta ~ 700, whose weights then overflow
# the normal equations (NaN; seen on Iraq's 1990-2018 series). So the IRLS starts no
# lower than a tenth of each count and weights stay within [W_FLOOR, W_CEIL]; means
# outside that range add nothing to the deviance or make it astronomically large.
W_FLOOR, W_CEIL = 1e-10, 1e20


try:  # numba is optional: same algorithm, compiled
    import numba

    # Fast-math without "nnan" and "ninf": the kernels compare with inf (empty minima,
    # pruned blocks, IRLS's first deviance), which those flags let LLVM fold away.
    _FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
    _jit = numba.njit(cache=True, nogil=True, fastmath=_FASTMATH, boundscheck=False)
    dfs = _jit(_dfs_python)
    split_bound = _jit(_split_bound_python)
    three_geometry = _jit(_three_geometry_python)
    _side_min = _jit(_side_min_python)
    three_min = _jit(_three_min_python)
    _dev_at = _jit(_dev_at_python)
    _chol_solve = _jit(_chol_solve_python)
    tn = _jit(_tn_python)
    poisson_deviances_compiled = _jit(_poisson_deviances_python)
    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - depends on the environment
    dfs = dfs_numpy
    split_bound = None  # the permutation test then searches every column
    three_min = None  # and finds three-joinpoint optima by the grid search
    poisson_deviances_compiled = None

    def tn(A, B):
        return A.T @ B

    HAVE_NUMBA = False
