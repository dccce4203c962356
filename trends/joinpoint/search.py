"""The grid of joinpoint candidates, its geometry, the exact grid search, and the thread
pool that splits a kernel's columns over two cores."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from . import kernels

__all__ = ["Grid", "LOCAL", "both_cores", "geometry", "search", "without_line"]


@dataclass
class Grid:
    """Everything the search needs that does not depend on the data values."""

    x: np.ndarray  # observation times (period index)
    cand: np.ndarray  # observation indices allowed as joinpoints
    gap: int  # minimum difference between consecutive candidate positions


def geometry(grid: Grid, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the search needs from the weights alone: an orthonormal basis ``q`` of the
    weighted line, the hinge columns with the line projected out, and their Gram matrix."""
    x, cand = grid.x, grid.cand
    q, _ = np.linalg.qr(np.column_stack([s, s * x]))
    hinge = s[:, None] * np.maximum(x[:, None] - x[cand][None, :], 0.0)
    resid = np.ascontiguousarray(hinge - q @ (q.T @ hinge))
    if resid.shape[0] * resid.shape[1] ** 2 > _BLAS_FROM:
        gram = resid.T @ resid  # a long series: BLAS (seconds instead of minutes)
    else:
        gram = kernels.tn(resid, resid)
    return np.ascontiguousarray(q), resid, gram


#: Work (n m^2) above which the Gram matrix is left to BLAS: a weekly series of 30 years
#: (1,567 periods) took 4 s a call in ``kernels.tn``'s plain loops, 0.1-0.3 s in BLAS.
#: Below it (every series of up to about 370 periods) the loops keep OpenBLAS's threads
#: out of the way of the region threads, and the results as they were.
_BLAS_FROM = 5e7


def search(grid: Grid, s: np.ndarray, Y: np.ndarray, k_max: int, track: bool, geom=None):
    """Smallest weighted SSE with 0..k_max joinpoints for each column of ``Y`` (n x B).

    The data are already weighted: ``Y = sqrt(w) * response`` and ``s = sqrt(w)``;
    ``geom`` is ``geometry(grid, s)`` when the caller keeps it between calls.
    Returns (sse: (k_max + 1) x B, arg: candidate *observation* indices per size).
    """
    cand = grid.cand
    q, resid, gram = geometry(grid, s) if geom is None else geom
    Y = np.ascontiguousarray(Y)
    inner = kernels.tn(resid, Y)
    sse_line = (Y * Y).sum(axis=0) - (kernels.tn(q, Y) ** 2).sum(axis=0)
    k_eff = min(k_max, _max_k(len(cand), grid.gap))
    if kernels.HAVE_NUMBA and not track:
        best = both_cores(lambda part: kernels.dfs(gram, part, k_eff, grid.gap, False)[0], inner)
        arg = np.full((k_eff + 1, 1, max(k_eff, 1)), -1, dtype=np.int64)
    else:
        best, arg = kernels.dfs(gram, np.ascontiguousarray(inner), k_eff, grid.gap, track)
    sse = np.full((k_max + 1, Y.shape[1]), np.inf)
    sse[: k_eff + 1] = np.maximum(sse_line[None, :] - best, 0.0)
    arg = np.where(arg >= 0, cand[np.maximum(arg, 0)], -1)
    return sse, arg


_MIN_SHARE = 32  # columns (or models) worth a thread of their own
_POOL: ThreadPoolExecutor | None = None
LOCAL = threading.local()  # one_core: set in threads that already have a core each


def both_cores(func, *arrays: np.ndarray) -> np.ndarray:
    """``func(*arrays)`` for a function of columns (returning columns last) run on two
    halves of the arrays' columns (last axis) in two threads: the compiled kernels
    release the GIL. The pool is made once and kept."""
    global _POOL
    n_cols = arrays[0].shape[-1]
    if n_cols < 2 * _MIN_SHARE or getattr(LOCAL, "one_core", False):
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


def without_line(q: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``Y`` with its projection on the weighted line (orthonormal basis ``q``) removed."""
    qY = kernels.tn(q, Y)
    return Y - q[:, :1] * qY[0] - q[:, 1:] * qY[1]
