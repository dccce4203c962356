"""The Bayes system of the Robert Koch Institute, as R's ``surveillance::algo.bayes`` computes it.

With a Poisson count of unknown mean and the improper prior ``Gamma(1/2, 0)`` (Jeffreys'),
the posterior after ``n`` baseline counts summing to ``S`` is ``Gamma(S + 1/2, n)`` and
the next count's predictive distribution is negative binomial with ``size = S + 1/2``
and ``prob = n / (n + 1)``. The upper bound is its ``1 - alpha`` quantile; an alarm
sounds when the count exceeds it. ``pvalue = P(Y >= y)`` under the predictive
distribution, ``expected`` its mean ``(S + 1/2) / n``, ``score`` ``(y - expected) /
(upperbound - expected)``.

The baseline is the ``w`` periods before ``t`` (``act_y``) and, for ``b >= 1``, windows
of ``2w + 1`` periods around ``t - f, ..., t - bf`` (``f`` periods a year). Unknown counts
are left out (R's ``na.rm``). Defaults (b = 0, w = 6, alpha = 0.05) are R's.

References
----------
Riebler A (2004). Empirischer Vergleich von statistischen Methoden zur Ausbruchserkennung
bei Surveillance Daten. Bachelor's thesis, LMU Munich.

Höhle M (2007). surveillance: an R package for the monitoring of infectious diseases.
Computational Statistics 22(4):571-582 (``surveillance::algo.bayes``, version 1.20.3).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ..checks import check_bool, check_count, check_number
from ._common import (
    FREQUENCY,
    TOO_SHORT,
    Detection,
    nb_cdf,
    nb_sf,
    qnbinom,
)

__all__ = ["OPTIONS", "defaults", "validate", "detect"]

logger = logging.getLogger(__name__)

OPTIONS = ("b", "w", "act_y", "alpha")


def defaults(period: str) -> dict[str, Any]:
    return {"b": 0, "w": 6, "act_y": True, "alpha": 0.05}


def validate(options: dict[str, Any], *, period: str) -> dict[str, Any]:
    o = dict(options)
    o["b"] = check_count("b", o["b"], minimum=0)
    o["w"] = check_count("w", o["w"], minimum=0)
    check_bool("act_y", o["act_y"])
    o["alpha"] = check_number("alpha", o["alpha"], low=0, high=1, low_open=True, high_open=True)
    if not o["act_y"] and o["b"] == 0:
        from ..errors import OptionError

        raise OptionError("act_y=False with b=0 leaves no baseline; give b >= 1 or act_y=True")
    return o


def detect(
    y: np.ndarray,
    *,
    period: str,
    options: dict[str, Any],
    exposure: np.ndarray | None = None,
    lower: bool = True,
) -> Detection:
    """The Bayes bound for every series (rows) and period (columns)."""
    o = options
    freq = FREQUENCY[period]
    b, w = o["b"], o["w"]
    offsets = list(range(-w, 0)) if o["act_y"] else []
    for i in range(1, b + 1):
        offsets += list(range(-i * freq - w, -i * freq + w + 1))
    offsets = np.array(sorted(set(offsets)))  # R repeats none for sensible b, w
    S, T = y.shape
    out = Detection(y.shape)
    known = np.isfinite(y)
    need = b * freq + w
    t = np.arange(T)
    early = known & (t[None, :] < need)
    out.mark(early, TOO_SHORT, f"needs {need} earlier periods for the baseline")
    rows = known & ~early
    pos = t[:, None] + offsets[None, :]  # (T, n)
    inside = (pos >= 0) & (pos < T)
    base = np.where(inside[None], y[:, np.clip(pos, 0, T - 1)], np.nan)  # (S, T, n)
    total = np.nansum(base, axis=2)
    n = np.sum(np.isfinite(base), axis=2)
    none = rows & (n == 0)
    out.mark(none, TOO_SHORT, "no known count in the baseline")
    ok = rows & (n > 0)
    size = np.where(ok, total + 0.5, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        prob = np.where(ok, n / (n + 1.0), np.nan)
        upper = qnbinom(1 - o["alpha"], size, prob)
        low = qnbinom(o["alpha"], size, prob) if lower else np.full_like(upper, np.nan)
        expected = size / np.where(ok, n, 1)
        out.expected = np.where(ok, expected, np.nan)
        out.upperbound = np.where(ok, upper, np.nan)
        out.lowerbound = np.where(ok, low, np.nan)
        out.pvalue = np.where(ok, nb_sf(np.where(ok, y, 0.0), size, prob), np.nan)
        out.pvalue_low = np.where(ok, nb_cdf(np.where(ok, y, 0.0), size, prob), np.nan)
        out.score = np.where(ok, (y - expected) / (upper - expected), np.nan)
        out.alarm_high = ok & (y > upper)
        out.alarm_low = ok & (y < low)
    out.computed = ok
    out.base_first = np.where(ok, np.maximum(t + offsets[0], 0)[None, :], -1)
    out.base_last = np.where(ok, (t + offsets[-1])[None, :], -1)
    return out
