"""The GLR detector for an increase in the intercept (Höhle and Paul 2008), as R's
``surveillance::glrnb`` computes it with ``change = "intercept"``, ``dir = "inc"``,
``Mtilde = 1`` and ``M = -1``.

In-control means ``mu0_t`` come from a log-linear model of the first ``train`` periods
of each series (default two years, at least 8 periods; R's default model: intercept and
one harmonic of the year, no trend; none for yearly cells), Poisson when ``alpha = 0``, else negative binomial with variance ``mu +
alpha mu^2`` (R's ``glm(family = negative.binomial(1 / alpha))``). From the next period
on, at each time ``n`` the statistic is the generalised likelihood ratio of "from some
``k`` on, every mean was ``exp(kappa) mu0``" against "no change":

``GLR_n = max_{k <= n} sup_{kappa >= 0} sum_{t=k}^{n} log f(x_t; e^kappa mu0_t) / f(x_t; mu0_t)``

(for the Poisson, ``kappa = max(0, log(sum x / sum mu0))`` in closed form; for the
negative binomial by Newton's method). An alarm sounds when ``GLR_n >= c_arl``; the
statistic then restarts from the next period (R's reset after each alarm).

``ret = "cases"`` (Poisson only here): ``upperbound`` is the smallest count at ``n`` that
sounds the alarm (an alarm when ``observed >= upperbound``); ``ret = "value"``:
``upperbound`` is the GLR statistic itself. ``score`` is always the statistic;
``expected`` is ``mu0``. There is no p-value: the detector's false-alarm rate is set
by ``c_arl`` (through the in-control average run length), not by a per-period level.

Unknown counts inside the monitored stretch are skipped (the statistic carries over);
the in-control model is fitted on the known counts of the training periods. A series
with fewer than 3 known training counts, or whose fit does not converge in 25
iterations, is "not estimable". A series without events in its training periods gets
an in-control mean of about 0 (R's fit reports convergence there too): every event then
sounds the alarm, and the note says so. (R's negative binomial statistic overflows in
that case and reads 0; see ``tests/test_alarms_reference.py``.)

References
----------
Höhle M, Paul M (2008). Count data regression charts for the monitoring of surveillance
time series. Computational Statistics and Data Analysis 52(9):4357-4368.

Höhle M (2010). Online change-point detection in categorical time series. In Kneib T,
Tutz G (eds), Statistical Modelling and Regression Structures, Springer, 377-397.

Salmon M, Schumacher D, Höhle M (2016). Monitoring count time series in R. Journal of
Statistical Software 70(10) (``surveillance::glrnb``, version 1.20.3).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ..checks import check_bool, check_choice, check_count, check_number
from ._common import FREQUENCY, NOT_ESTIMABLE, TOO_SHORT, Detection
from ._glm import harmonic_glm

__all__ = ["OPTIONS", "defaults", "validate", "detect"]

logger = logging.getLogger(__name__)

OPTIONS = ("alpha", "c_arl", "ret", "train", "harmonics", "trend")


def defaults(period: str, *, variant: str) -> dict[str, Any]:
    poisson = variant == "poisson"
    return {
        "alpha": 0.0 if poisson else 0.5,
        "c_arl": 5.0,
        "ret": "cases" if poisson else "value",
        "train": max(2 * FREQUENCY[period], 8),  # two years (R's reference), at least 8
        "harmonics": 1 if FREQUENCY[period] > 2 else 0,  # a year of years has no season
        "trend": False,
    }


def validate(options: dict[str, Any], *, period: str) -> dict[str, Any]:
    from ..errors import OptionError

    o = dict(options)
    o["alpha"] = check_number("alpha", o["alpha"], low=0)
    o["c_arl"] = check_number("c_arl", o["c_arl"], low=0, low_open=True)
    check_choice("ret", o["ret"], ("cases", "value"))
    o["train"] = check_count("train", o["train"], minimum=2)
    o["harmonics"] = check_count("harmonics", o["harmonics"], minimum=0)
    if 2 * o["harmonics"] >= FREQUENCY[period] and o["harmonics"] > 0:
        raise OptionError(
            f"harmonics={o['harmonics']} needs more than {2 * o['harmonics']} periods a year; "
            f"{period} cells have {FREQUENCY[period]}: use at most "
            f"{max((FREQUENCY[period] - 1) // 2, 0)}"
        )
    check_bool("trend", o["trend"])
    if o["ret"] == "cases" and o["alpha"] > 0:
        raise OptionError(
            f"ret='cases' with alpha={o['alpha']!r}: the number of cases that sounds the "
            "alarm is implemented for the Poisson GLR (alpha=0) only; use ret='value'"
        )
    return o


def _design(t: np.ndarray, freq: int, harmonics: int, trend: bool) -> np.ndarray:
    cols = [np.ones_like(t)]
    if trend:
        cols.append(t)
    for s in range(1, harmonics + 1):
        cols += [np.cos(2 * s * np.pi / freq * t), np.sin(2 * s * np.pi / freq * t)]
    return np.column_stack(cols)


def _poisson_llr(sx: np.ndarray, smu: np.ndarray) -> np.ndarray:
    """``sup_{kappa >= 0}`` of the Poisson log likelihood ratio of windows with sums
    ``sx`` (counts) and ``smu`` (in-control means), as R's ``glr()`` computes it."""
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.maximum(0.0, np.log(sx / smu))
        kappa = np.where(np.isfinite(kappa), kappa, 0.0)
        return kappa * sx + (1 - np.exp(kappa)) * smu


def _poisson_cases(a: np.ndarray, smu: np.ndarray, c: float, window: np.ndarray) -> np.ndarray:
    """Smallest whole count ``x`` at the current time with ``max_k llr(a_k + x, smu_k) >=
    c`` (``a_k``: counts of the window before the current time)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        # solve smu * (u log u - u + 1) = c for u > 1 (Newton from an upper start)
        target = c / smu
        u = 1.0 + np.sqrt(2 * target) + target
        for _ in range(60):
            h = u * np.log(u) - u + 1 - target
            step = h / np.log(u)
            u = np.where(np.isfinite(step), u - step, u)
            if np.nanmax(np.abs(step / u)) < 1e-14:
                break
        need = np.ceil(u * smu - a - 1e-9)
    need = np.where(window & np.isfinite(need), np.maximum(need, 0.0), np.inf)
    x = need.min(axis=-1)
    # settle the rounding: the smallest x whose statistic reaches c, as R's search finds it
    for _ in range(3):
        hit = np.max(np.where(window, _poisson_llr(a + x[:, None], smu), -np.inf), axis=1) >= c
        below = np.max(np.where(window, _poisson_llr(a + x[:, None] - 1, smu), -np.inf), axis=1)
        lower = (x >= 1) & (below >= c)
        x = np.where(~hit, x + 1, np.where(lower, x - 1, x))
    return x


def _nb_llr(
    x: np.ndarray, mu: np.ndarray, alpha: float, w: np.ndarray, kappa: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``sup_{kappa >= 0}`` of the negative binomial log likelihood ratio (dispersion
    ``alpha``) for every window: ``w`` (S, K, I) marks the periods ``i`` of window ``k``;
    ``x``, ``mu`` are (S, I). Newton's method on the concave log likelihood in kappa,
    from ``kappa`` (S, K) (the previous period's estimates); returns the statistic and
    the unclamped estimates."""
    X = x[:, None, :]
    M = mu[:, None, :]
    for _ in range(200):
        e = np.exp(kappa)[..., None]
        denom = 1 + alpha * e * M
        score = np.sum(w * (X - e * M) / denom, axis=2)
        info = np.sum(w * M * (alpha * X + 1) / denom**2, axis=2) * np.exp(kappa)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.clip(score / info, -2.0, 2.0)
        step = np.where(np.isfinite(step), step, 0.0)
        new = np.maximum(kappa + step, -30.0)
        moved = np.abs(new - kappa)
        kappa = new
        if np.max(moved, initial=0.0) < 1e-10:
            break
    k = np.maximum(kappa, 0.0)[..., None]
    term = k * X + (X + 1 / alpha) * np.log((1 + alpha * M) / (1 + alpha * M * np.exp(k)))
    return np.sum(w * term, axis=2), kappa


def detect(
    y: np.ndarray,
    *,
    period: str,
    options: dict[str, Any],
    exposure: np.ndarray | None = None,
    lower: bool = True,
) -> Detection:
    """The GLR detector on every series (rows) from period ``train`` on."""
    o = options
    freq = FREQUENCY[period]
    out = Detection(y.shape)
    out.inclusive_bound = True  # an alarm when the count reaches the cases (GLR >= c_arl)
    out.bound_is_count = o["ret"] == "cases"
    S, T = y.shape
    n0 = o["train"]
    known = np.isfinite(y)
    early = known & (np.arange(T)[None, :] < n0)
    out.mark(early, TOO_SHORT, f"training period of the in-control model (first {n0} periods)")
    if T <= n0:
        return out
    train_known = known[:, :n0].sum(axis=1)
    fit_rows = np.flatnonzero(train_known >= 3)
    mu0 = np.full((S, T), np.nan)
    conv = np.zeros(S, dtype=bool)
    if fit_rows.size:
        # missing training cells: fit each pattern of known cells as its own batch
        patterns: dict[bytes, list[int]] = {}
        for s in fit_rows:
            patterns.setdefault(known[s, :n0].tobytes(), []).append(int(s))
        for rows in patterns.values():
            rows_a = np.array(rows)
            cols = np.flatnonzero(known[rows_a[0], :n0])
            m, ok = _mu0_at(y[rows_a][:, cols], cols, T, freq, o)
            mu0[rows_a] = m
            conv[rows_a] = ok
    few = np.zeros(S, dtype=bool)
    few[train_known < 3] = True
    out.mark(
        known & ~early & few[:, None],
        NOT_ESTIMABLE,
        f"fewer than 3 known counts in the {n0} training periods",
    )
    out.mark(
        known & ~early & ~conv[:, None],
        NOT_ESTIMABLE,
        "the in-control model did not converge on the training periods",
    )
    live = np.flatnonzero(conv)
    if live.size == 0:
        return out
    silent = live[np.nansum(y[live, :n0], axis=1) == 0]
    if silent.size:
        mask = np.zeros(out.shape, dtype=bool)
        mask[silent, n0:] = True
        out.add_note(
            mask & known,
            "no events in the training periods: the in-control mean is about 0, so any "
            "event sounds the alarm",
        )
    chunk = live.size if o["alpha"] == 0 else 32  # the NB statistic needs (S, n, n) arrays
    for lo in range(0, live.size, chunk):
        part = live[lo : lo + chunk]
        _run(y[part], mu0[part], n0, o, out, part)
    return out


def _mu0_at(
    train: np.ndarray, cols: np.ndarray, T: int, freq: int, o: dict
) -> tuple[np.ndarray, np.ndarray]:
    t_all = np.arange(1, T + 1, dtype=float)
    x = _design(t_all, freq, o["harmonics"], o["trend"])
    theta = None if o["alpha"] == 0 else 1.0 / o["alpha"]
    beta, ok = harmonic_glm(train, x[cols], theta=theta)
    return np.exp(beta @ x.T), ok


def _run(y: np.ndarray, mu0: np.ndarray, n0: int, o: dict, out: Detection, rows: np.ndarray):
    """The sequential detector from column ``n0`` on, with a restart after each alarm."""
    S, T = y.shape
    # compress each series to its known monitored cells
    known = np.isfinite(y[:, n0:])
    L = int(known.sum(axis=1).max()) if known.size else 0
    if L == 0:
        return
    pos = np.full((S, L), -1)
    for s in range(S):
        p = np.flatnonzero(known[s]) + n0
        pos[s, : p.size] = p
    valid = pos >= 0
    x = np.where(valid, y[np.arange(S)[:, None], np.maximum(pos, 0)], 0.0)
    mu = np.where(valid, mu0[np.arange(S)[:, None], np.maximum(pos, 0)], 0.0)
    cx = np.concatenate([np.zeros((S, 1)), np.cumsum(x, axis=1)], axis=1)
    cm = np.concatenate([np.zeros((S, 1)), np.cumsum(mu, axis=1)], axis=1)
    start = np.zeros(S, dtype=int)  # first compressed index of the current run
    k = np.arange(L)
    kappa = np.full((S, L), 0.5)  # NB: each window's estimate, carried to the next period
    c = o["c_arl"]
    for j in range(L):
        here = valid[:, j]
        window = (k[None, :] >= start[:, None]) & (k[None, :] <= j)
        if o["alpha"] == 0:
            sx = cx[:, j + 1 : j + 2] - cx[:, :L]
            smu = cm[:, j + 1 : j + 2] - cm[:, :L]
            stat = np.max(np.where(window, _poisson_llr(sx, smu), -np.inf), axis=1)
            if o["ret"] == "cases":
                bound = _poisson_cases(sx - x[:, j : j + 1], smu, c, window)
            else:
                bound = stat
        else:
            w = (
                window[:, :, None]
                & (k[None, None, :] >= k[None, :, None])
                & (k[None, None, :] <= j)
            )
            llr, kap = _nb_llr(
                x[:, : j + 1],
                mu[:, : j + 1],
                o["alpha"],
                w[:, : j + 1, : j + 1],
                kappa[:, : j + 1],
            )
            kappa[:, : j + 1] = np.where(window[:, : j + 1], kap, 0.5)
            stat = np.max(np.where(window[:, : j + 1], llr, -np.inf), axis=1)
            bound = stat
        alarm = here & (stat >= c)
        cells = (rows[here], pos[here, j])
        out.score[cells] = stat[here]
        out.upperbound[cells] = np.maximum(np.nan_to_num(bound[here]), 0.0)
        out.expected[cells] = mu[here, j]
        out.alarm_high[cells] = alarm[here]
        out.computed[cells] = True
        out.base_first[cells] = 0
        out.base_last[cells] = n0 - 1
        start = np.where(alarm, j + 1, start)
