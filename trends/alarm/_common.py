"""What every alarm method shares: the per-cell result of a method, option checks, and
R-compatible discrete quantiles.

A method's kernel takes a matrix of counts, one row per series (a region, or a region's
stretch between two declared breaks) and one column per period, NaN where a cell is
missing or outside the data's coverage, and returns a :class:`Detection`: arrays of the
same shape, filled where the method could judge the cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

__all__ = [
    "Detection",
    "FREQUENCY",
    "qnbinom",
    "qpois",
    "nb_sf",
    "nb_cdf",
]

#: Periods per year of each kind of period, as R's ``sts@freq`` counts them (weeks: 52,
#: by position, as surveillance does for an ``sts`` without dates).
FREQUENCY = {"week": 52, "month": 12, "quarter": 4, "year": 1}

# Codes of why a cell has no result (the ``note`` column spells them out).
TOO_SHORT = "too short"
NOT_ESTIMABLE = "not estimable"


@dataclass
class Detection:
    """Per-cell output of a method on an ``(S, T)`` matrix of counts.

    ``pvalue`` is the upper-tail p-value (``P(Y >= y)`` under the baseline), ``pvalue_low``
    the lower-tail one; ``alarm_high`` and ``alarm_low`` the method's own decisions
    (``alarm_low`` is False where the method has no low alarm). ``computed`` marks cells
    with a result; ``status`` is ``""`` there, else ``"too short"`` or ``"not
    estimable"``, and ``note`` says why in words (also where a result exists, e.g. a
    rule that withheld the alarm). ``base_first``/``base_last`` give each cell's baseline
    span (column positions, inclusive; -1 where none), for the source-mix rules.
    ``eligible`` marks cells where the method's own side rules allow an alarm at all
    (R's 5-in-4 rule for Farrington); with ``fdr`` the alarm is ``eligible`` and a small
    q-value. ``extra`` holds method-specific columns. ``inclusive_bound``: the alarm is
    ``observed >= upperbound`` (else ``>``); ``bound_is_count``: ``upperbound`` is a count
    (False where R reports a statistic there, the GLR's ``ret="value"``).
    """

    shape: tuple[int, int]
    expected: np.ndarray = field(init=False)
    upperbound: np.ndarray = field(init=False)
    lowerbound: np.ndarray = field(init=False)
    score: np.ndarray = field(init=False)
    pvalue: np.ndarray = field(init=False)
    pvalue_low: np.ndarray = field(init=False)
    alarm_high: np.ndarray = field(init=False)
    alarm_low: np.ndarray = field(init=False)
    eligible: np.ndarray = field(init=False)
    computed: np.ndarray = field(init=False)
    status: np.ndarray = field(init=False)
    note: np.ndarray = field(init=False)
    base_first: np.ndarray = field(init=False)
    base_last: np.ndarray = field(init=False)
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    inclusive_bound: bool = False
    bound_is_count: bool = True

    def __post_init__(self) -> None:
        for name in ("expected", "upperbound", "lowerbound", "score", "pvalue", "pvalue_low"):
            setattr(self, name, np.full(self.shape, np.nan))
        for name in ("alarm_high", "alarm_low", "computed"):
            setattr(self, name, np.zeros(self.shape, dtype=bool))
        self.eligible = np.ones(self.shape, dtype=bool)
        self.status = np.full(self.shape, "", dtype=object)
        self.note = np.full(self.shape, "", dtype=object)
        self.base_first = np.full(self.shape, -1, dtype=np.int64)
        self.base_last = np.full(self.shape, -1, dtype=np.int64)

    def add_note(self, mask: np.ndarray, text: str | np.ndarray) -> None:
        """Append ``text`` to the note of the cells in ``mask`` (one text, or an array of
        texts shaped like the matrix)."""
        if not np.any(mask):
            return
        current = self.note[mask]
        text = np.asarray(text, dtype=object)
        texts = text[mask] if text.shape == self.shape else np.broadcast_to(text, current.shape)
        self.note[mask] = [f"{c}; {t}" if c else t for c, t in zip(current, texts, strict=True)]

    def mark(self, mask: np.ndarray, status: str, text: str | np.ndarray) -> None:
        """Cells in ``mask`` (not yet judged) get no result: ``status`` and the reason
        ``text`` (one text, or an array of texts shaped like the matrix)."""
        mask = mask & ~self.computed & (self.status == "")
        self.status[mask] = status
        self.add_note(mask, text)


# ------------------------------------------------------------------ R's discrete quantiles

_FUZZ = 1 - 64 * np.finfo(float).eps  # R's qnbinom/qpois search accepts F(y) >= p * (1 - 64 eps)


def qnbinom(p: float | np.ndarray, size: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """R's ``qnbinom(p, size, prob)``: the smallest ``y`` with ``F(y) >= p`` (R's fuzz
    included). ``size`` 0 is a point mass at 0, as in R."""
    size, prob = np.broadcast_arrays(np.asarray(size, float), np.asarray(prob, float))
    p = np.broadcast_to(np.asarray(p, float), size.shape)
    out = np.full(size.shape, np.nan)
    ok = np.isfinite(size) & np.isfinite(prob) & (size > 0) & (prob > 0) & (prob <= 1)
    if ok.any():
        q = stats.nbinom.ppf(p[ok], size[ok], prob[ok])
        below = np.maximum(q - 1, 0)
        back = (q >= 1) & (stats.nbinom.cdf(below, size[ok], prob[ok]) >= p[ok] * _FUZZ)
        out[ok] = np.where(back, below, q)
    out[(size == 0) & np.isfinite(prob)] = 0.0
    return out


def qpois(p: float | np.ndarray, mu: np.ndarray) -> np.ndarray:
    """R's ``qpois(p, mu)`` (same search and fuzz as :func:`qnbinom`)."""
    mu = np.asarray(mu, float)
    p = np.broadcast_to(np.asarray(p, float), mu.shape)
    out = np.full(mu.shape, np.nan)
    ok = np.isfinite(mu) & (mu > 0)
    if ok.any():
        q = stats.poisson.ppf(p[ok], mu[ok])
        below = np.maximum(q - 1, 0)
        back = (q >= 1) & (stats.poisson.cdf(below, mu[ok]) >= p[ok] * _FUZZ)
        out[ok] = np.where(back, below, q)
    out[mu == 0] = 0.0
    return out


def nb_sf(y: np.ndarray, size: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """``P(Y >= y)`` for the negative binomial (R's ``pnbinom(y - 1, lower.tail = FALSE)``)."""
    size, prob, y = np.broadcast_arrays(np.asarray(size, float), np.asarray(prob, float), y)
    out = np.where(y <= 0, 1.0, np.nan)
    ok = np.isfinite(size) & (size > 0) & np.isfinite(y) & (y > 0)
    out[ok] = stats.nbinom.sf(y[ok] - 1, size[ok], prob[ok])
    out[(size == 0) & (y > 0)] = 0.0
    return out


def nb_cdf(y: np.ndarray, size: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """``P(Y <= y)`` for the negative binomial (``size`` 0: a point mass at 0)."""
    size, prob, y = np.broadcast_arrays(np.asarray(size, float), np.asarray(prob, float), y)
    out = np.full(size.shape, np.nan)
    ok = np.isfinite(size) & (size > 0) & np.isfinite(y)
    out[ok] = stats.nbinom.cdf(y[ok], size[ok], prob[ok])
    out[(size == 0) & np.isfinite(y)] = 1.0
    return out
