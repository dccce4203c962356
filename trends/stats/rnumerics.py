"""R's numeric routines that limma's results depend on, written anew in Python.

Matching limma to 1e-6 needs R's own numerics where they differ from scipy's: the
natural-spline basis of ``splines::ns``, the Brent root finder of ``uniroot``
(``R_zeroin2``, which stops at R's tolerance) and ``lowess`` (Cleveland 1979, JASA
74:829; statsmodels' version differs from R's by 3e-5).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import interpolate

__all__ = ["NaturalSpline", "zeroin", "lowess"]


class NaturalSpline:
    """Natural cubic spline basis with an intercept, as ``splines::ns(x, df,
    intercept = TRUE)`` builds it: boundary knots at the range of ``x``,
    ``df - 2`` interior knots at equally spaced quantiles (R's type 7), cubic
    B-splines constrained to zero second derivative at both boundary knots, and
    linear continuation beyond them (``predict.ns``).

    The basis spans the same space as R's (the columns may differ by an invertible
    linear map), so least-squares fitted values and predictions are the same.
    """

    def __init__(self, x: np.ndarray, df: int) -> None:
        lo, hi = float(np.min(x)), float(np.max(x))
        n_interior = df - 2
        if n_interior > 0:
            probs = np.linspace(0.0, 1.0, n_interior + 2)[1:-1]
            interior = np.quantile(x, probs)
        else:
            interior = np.empty(0)
        if not lo < hi or np.any(interior <= lo) or np.any(interior >= hi):
            raise ValueError("Problem with covariate: knots coincide")
        self.lo, self.hi = lo, hi
        self.knots = np.r_[[lo] * 4, interior, [hi] * 4]
        n_basis = len(self.knots) - 4
        self._spline = interpolate.BSpline(self.knots, np.eye(n_basis), 3, extrapolate=True)
        d2 = self._spline.derivative(2)
        const = np.vstack([d2(lo), d2(hi)])  # 2 x n_basis
        q, _ = np.linalg.qr(const.T, mode="complete")
        self._null = q[:, 2:]  # n_basis x df: B-spline combinations with the constraints
        d1 = self._spline.derivative(1)
        self._edge = {
            "lo": (self._spline(lo) @ self._null, d1(lo) @ self._null),
            "hi": (self._spline(hi) @ self._null, d1(hi) @ self._null),
        }

    def basis(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        out = np.empty((x.size, self._null.shape[1]))
        inside = (x >= self.lo) & (x <= self.hi)
        if inside.any():
            out[inside] = self._spline(x[inside]) @ self._null
        for side, mask, pivot in (("lo", x < self.lo, self.lo), ("hi", x > self.hi, self.hi)):
            if mask.any():
                value, slope = self._edge[side]
                out[mask] = value[None, :] + (x[mask] - pivot)[:, None] * slope[None, :]
        return out


def zeroin(
    f: Callable[[float], float], a: float, b: float, fa: float, fb: float, tol: float,
    maxit: int = 1000,
) -> float:  # fmt: skip
    """Brent's (1973) root finder in the classic ``zeroin`` form, the algorithm of
    R's ``uniroot``: inverse quadratic or secant steps kept inside the bracket,
    bisection otherwise, stopping when the bracket is within
    ``2 eps |b| + tol / 2``. Following the same steps keeps the root where
    ``uniroot(tol = tol)`` leaves it, not only within ``tol`` of the exact root."""
    eps = np.finfo(float).eps
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):  # make b the best approximation so far
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2.0 * eps * abs(b) + tol / 2.0
        new_step = (c - b) / 2.0
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:  # secant
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:  # inverse quadratic interpolation
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2.0) and p < abs(prev_step * q / 2.0):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _lowest(
    x: np.ndarray, y: np.ndarray, xs: float, nleft: int, nright: int, rw: np.ndarray | None
) -> float | None:
    """One local linear fit of Cleveland's lowess at ``xs`` over the neighbours
    ``nleft..nright`` (and ties beyond), tricube weights times robustness weights
    ``rw``; ``None`` when every weight is zero."""
    n = x.size
    span = x[n - 1] - x[0]
    h = max(xs - x[nleft], x[nright] - xs)
    h9, h1 = 0.999 * h, 0.001 * h
    r = np.abs(x[nleft:] - xs)
    beyond = np.flatnonzero((r > h9) & (x[nleft:] > xs))
    stop = nleft + (beyond[0] if beyond.size else n - nleft)
    r = r[: stop - nleft]
    w = np.where(r <= h9, np.where(r <= h1, 1.0, (1.0 - (r / h) ** 3) ** 3), 0.0)
    if rw is not None:
        w = w * rw[nleft:stop]
    a = w.sum()
    if a <= 0:
        return None
    w = w / a
    xx = x[nleft:stop]
    if h > 0:
        centre = np.sum(w * xx)
        c = np.sum(w * (xx - centre) ** 2)
        if np.sqrt(c) > 0.001 * span:
            b = (xs - centre) / c
            w = w * (b * (xx - centre) + 1.0)
    return float(np.sum(w * y[nleft:stop]))


def _lowess_pass(
    x: np.ndarray, y: np.ndarray, ys: np.ndarray, ns: int, delta: float, rw: np.ndarray | None
) -> None:
    """One pass of ``clowess``: fits ``ys`` (in place) at points ``delta`` apart with
    ``ns`` neighbours and robustness weights ``rw``, interpolating between them."""
    n = x.size
    nleft, nright, last, i = 0, ns - 1, -1, 0
    while True:
        if nright < n - 1 and x[i] - x[nleft] > x[nright + 1] - x[i]:
            nleft += 1
            nright += 1
            continue
        fit = _lowest(x, y, float(x[i]), nleft, nright, rw)
        ys[i] = y[i] if fit is None else fit
        if last < i - 1:
            j = np.arange(last + 1, i)
            alpha = (x[j] - x[last]) / (x[i] - x[last])
            ys[j] = alpha * ys[i] + (1.0 - alpha) * ys[last]
        last = i
        cut = x[last] + delta
        i = last + 1
        while i < n and x[i] <= cut:
            if x[i] == x[last]:
                ys[i] = ys[last]
                last = i
            i += 1
        i = max(last + 1, i - 1)
        if last >= n - 1:
            return


def _clowess(x: np.ndarray, y: np.ndarray, f: float, nsteps: int, delta: float) -> np.ndarray:
    """Cleveland's (1979) robust locally weighted regression on sorted ``x``, the
    algorithm and conventions of R's ``lowess`` (``clowess``): ``floor(f n)``
    neighbours (at least 2), fits at points ``delta`` apart with linear
    interpolation between, ties given the fit of the first, ``nsteps`` robustness
    iterations with bisquare weights at six median absolute residuals, weights 1 and
    0 within 0.1% of the ends of the tricube and bisquare windows."""
    n = x.size
    if n < 2:
        return y.astype(float).copy()
    ns = max(2, min(n, int(f * n + 1e-7)))
    ys = np.empty(n)
    rw: np.ndarray | None = None
    for step in range(nsteps + 1):
        _lowess_pass(x, y, ys, ns, delta, rw)
        res = y - ys
        if step == nsteps:
            break
        scale = np.mean(np.abs(res))
        cmad = 6.0 * float(np.median(np.abs(res)))
        if cmad < 1e-7 * scale:
            break
        r = np.abs(res)
        rw = np.where(
            r <= 0.001 * cmad, 1.0, np.where(r <= 0.999 * cmad, (1.0 - (r / cmad) ** 2) ** 2, 0.0)
        )
    return ys


def lowess(z: np.ndarray, x: np.ndarray, span: float, iterations: int) -> np.ndarray:
    """Fitted values of R's ``lowess(x, z, f = span, iter = iterations - 1)`` with its
    default ``delta`` (the unweighted branch of limma's ``loessFit``), in the input
    order."""
    o = np.argsort(x, kind="stable")
    delta = 0.01 * float(np.ptp(x))
    fitted = np.empty(x.size)
    fitted[o] = _clowess(x[o], z[o], span, iterations - 1, delta)
    return fitted
