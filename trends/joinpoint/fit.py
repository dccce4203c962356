"""Model fits at given joinpoints (Poisson IRLS, least squares) and a region's series
of best fits with 0..k_max joinpoints (the Poisson exchange search)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import kernels
from .search import Grid, both_cores, search

__all__ = ["Fit", "Series", "design", "deviance", "fit_constant", "fit_poisson"]


@dataclass
class Fit:
    knots: np.ndarray  # observation indices of the joinpoints
    beta: np.ndarray  # intercept, slope, slope changes
    cov: np.ndarray  # covariance of beta (scaled)
    df: int
    sse: float  # weighted SSE (Pearson X^2 for Poisson)
    s: np.ndarray  # sqrt weights of the fit
    ytil: np.ndarray  # weighted (working) response at the fit

    @property
    def finite(self) -> bool:
        """Whether the coefficients and their covariance are finite numbers."""
        return bool(np.isfinite(self.beta).all() and np.isfinite(self.cov).all())


def design(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    cols = [np.ones_like(x), x] + [np.maximum(x - x[k], 0.0) for k in knots]
    return np.column_stack(cols)


def _wls(X, s, ytil):
    Xs = X * s[:, None]
    beta, *_ = np.linalg.lstsq(Xs, ytil, rcond=None)
    r = ytil - Xs @ beta
    return beta, Xs, float(r @ r)


def fit_constant(x, logy, knots) -> Fit:
    s = np.ones_like(x)
    X = design(x, knots)
    beta, Xs, sse = _wls(X, s, logy)
    df = len(x) - X.shape[1]
    sigma2 = sse / df if df > 0 else np.nan
    cov = sigma2 * np.linalg.pinv(Xs.T @ Xs)
    return Fit(np.asarray(knots, dtype=int), beta, cov, df, sse, s, logy)


def fit_poisson(x, y, logexp, knots) -> Fit:
    """Poisson GLM with log link and offset log(exposure), by IRLS with step halving.

    A segment of zero counts has its maximum likelihood at a rate of 0; step halving
    keeps every iterate finite, and the fit stops at a very small rate with a very
    wide interval rather than overflowing; when no halved step lowers the deviance the
    iterations stop where they are (a working response of NaN would otherwise reach
    LAPACK, which fails with "SVD did not converge").
    """
    X = design(x, knots)
    eta = np.log(np.maximum(y, 0.5))
    beta, *_ = np.linalg.lstsq(X, eta - logexp, rcond=None)
    eta = logexp + X @ beta
    dev = deviance(y, eta)
    for _ in range(100):
        mu = np.maximum(np.exp(eta), 1e-300)
        s = np.sqrt(mu)
        z = eta - logexp + (y - mu) / mu
        new, *_ = np.linalg.lstsq(X * s[:, None], s * z, rcond=None)
        for _ in range(30):  # step halving until the deviance does not rise
            new_eta = logexp + X @ new
            new_dev = deviance(y, new_eta)
            if np.isfinite(new_dev) and new_dev <= dev + 1e-9 * (1 + abs(dev)):
                break
            new = (new + beta) / 2
        else:  # no step lowers the deviance (or each overflows): the fit stays where it is
            break
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
    return Fit(np.asarray(knots, dtype=int), beta, cov, df, pearson, s, ytil)


def deviance(y: np.ndarray, eta: np.ndarray) -> float:
    """Poisson deviance at linear predictor ``eta`` (inf when it overflows)."""
    with np.errstate(over="ignore", invalid="ignore"):
        mu = np.exp(eta)
        term = np.where(y > 0, y * (np.log(np.maximum(y, 1e-300)) - eta), 0.0) - (y - mu)
    total = float(2 * term.sum())
    return total if np.isfinite(total) else np.inf


def _poisson_deviances(x, y, logexp, knot_sets: np.ndarray, mu0: np.ndarray) -> np.ndarray:
    """Poisson deviance of the maximum-likelihood fit at each row of ``knot_sets`` (S x k
    observation indices), by IRLS with step halving run on all S models at once.

    Used to rank joinpoint sets; the chosen set is then refitted by :func:`fit_poisson`.
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
        # bounded as the compiled kernel bounds them
        mu = np.clip(np.exp(eta), kernels.W_FLOOR, kernels.W_CEIL)
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


_SCREEN_STEPS, _SCREEN_KEEP = 3, 8  # IRLS steps for every set; sets then fitted fully


class _Fits(Sequence):
    """A series' best fits with 0..k_max joinpoints, each made when first asked for.

    The permutation tests need only the null fits they test from and the chosen one
    (a break-free series: the line alone), BIC and WBIC need them all; fit k starts
    from fit k - 1, so asking for k makes the smaller ones too.
    """

    def __init__(self, series: Series):
        self._series = series
        self._made: dict[int, Fit] = {}

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


class Series:
    """One region's covered observations and the fits of every model size."""

    def __init__(self, x, y, exposure, grid: Grid, variance: str, k_max: int):
        self.x, self.y, self.exposure = x, y, exposure
        self.grid, self.variance, self.k_max = grid, variance, k_max
        self.logexp = np.log(exposure)
        self._screened: dict[tuple, tuple[float, float]] = {}  # set -> (deviance, last change)
        self._converged: dict[tuple, float] = {}  # set -> converged deviance
        self.fits = _Fits(self)

    def _fit_k(self, k: int) -> Fit:
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
            return fit_constant(x, logy, knots)
        if k == 0:
            return fit_poisson(x, y, logexp, knots)
        prev = self.fits[k - 1]
        mu0 = prev.s**2  # fitted means of the k - 1 model: where every IRLS run starts
        added = self._with_each(prev.knots)  # k = 1: every grid point
        devs = self._devs(added, mu0) if len(added) else np.zeros(0)
        if k == 1:
            return fit_poisson(x, y, logexp, added[int(np.argmin(devs))])
        lin = fit_poisson(x, y, logexp, knots)
        starts = {tuple(knots), tuple(self._best_knots(lin.s, lin.ytil, k))}
        if len(added):
            starts.add(tuple(added[int(np.argmin(devs))]))
        best, best_dev = None, np.inf
        for start in sorted(starts):
            kn, dev = self._exchange(np.array(start, dtype=int), mu0)
            if dev < best_dev:
                best, best_dev = kn, dev
        return fit_poisson(x, y, logexp, best)

    def _devs(self, sets: np.ndarray, mu0: np.ndarray) -> np.ndarray:
        """Poisson deviance of each joinpoint set (rows), IRLS started at means ``mu0``.

        All sets get a few IRLS steps (an upper bound on their deviance, and already
        converged from a nearby start); the best few, and any still moving (a segment
        whose rate heads to 0 converges slowly), are then run to convergence.
        """
        sets = np.ascontiguousarray(sets, dtype=np.int64)
        mu0 = np.maximum(mu0, np.maximum(0.1 * self.y, kernels.W_FLOOR))
        if kernels.poisson_deviances_compiled is None:
            return _poisson_deviances(self.x, self.y, self.logexp, sets, mu0)
        args = (self.x, self.y, self.logexp)

        def run(rows, steps):  # the models as columns, so both_cores can split them
            return np.stack(
                kernels.poisson_deviances_compiled(*args, np.ascontiguousarray(rows.T), mu0, steps)
            )

        # The exchange search meets the same sets again (mu0 is fixed for each model
        # size, and a set's length is its size): each set is screened at most once and
        # run to convergence at most once, with the results it would get afresh.
        keys = [tuple(row) for row in sets.tolist()]
        unseen = [i for i, key in enumerate(keys) if key not in self._screened]
        unseen = list({keys[i]: i for i in unseen}.values())  # one row per new set
        if unseen:
            devs, last = both_cores(lambda part: run(part, _SCREEN_STEPS), sets[unseen].T)
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
        _, arg = search(self.grid, s, ytil[:, None], k, track=True)
        return np.sort(arg[k, 0, :k])
