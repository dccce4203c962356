"""Helpers for testing code that uses ``trends``, and for checking ``trends`` itself.

``simulate_cells`` makes cell tables with a known truth (as ruptures' generators
do), so a test or a benchmark can check a method's level, power or coverage
against it. ``cells_strategy`` is a hypothesis strategy for small valid cell tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import OptionError
from .estimation import DAYS_PER
from .periods import PERIODS_PER_YEAR, period_bounds, period_range, to_period_label

__all__ = ["simulate_cells", "cells_strategy", "assert_cells_equal", "formula_cells"]


def simulate_cells(
    n_regions: int,
    n_periods: int = 60,
    *,
    start: str = "2015-01",
    period: str = "month",
    mean: float | tuple[float, float] = 10.0,
    apc: float = 0.0,
    change_at: int | None = None,
    ratio: float = 1.0,
    variance_ratio: float = 1.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cell tables of counts whose truth is known.

    Parameters
    ----------
    n_regions, n_periods : int
    start, period : str
        First period label and the kind of period.
    mean : float or (low, high)
        Expected events per month (30.4375 days) at the start; a pair draws each
        region's mean uniformly between the two.
    apc : float
        True annual percent change of the rate.
    change_at, ratio : int, float
        From period index ``change_at`` on, the rate is ``ratio`` times what it was.
    variance_ratio : float
        Variance over mean of each count: 1 is Poisson, above 1 gamma-Poisson
        (negative binomial).
    seed : int

    Returns
    -------
    cells : DataFrame
        ``region, period, count, exposure`` (exposure: days of the period).
    truth : DataFrame
        One row per region: ``region``, ``mean`` (events per month at the start),
        ``apc``, ``change_at``, ``ratio``, ``variance_ratio``.
    """
    if variance_ratio < 1:
        raise OptionError(f"variance_ratio={variance_ratio!r} must be at least 1")
    rng = np.random.default_rng(seed)
    labels = _labels(start, n_periods, period)
    first, last = period_bounds(labels, period)
    days = ((last - first).dt.days + 1).to_numpy(float)
    if isinstance(mean, tuple):
        base = rng.uniform(mean[0], mean[1], n_regions)
    else:
        base = np.full(n_regions, float(mean))
    years = np.arange(n_periods) / PERIODS_PER_YEAR[period]
    shape = (1 + apc / 100) ** years
    if change_at is not None:
        shape = shape * np.where(np.arange(n_periods) >= change_at, ratio, 1.0)
    mu = base[:, None] * (days / DAYS_PER["month"] * shape)[None, :]
    if variance_ratio == 1:
        counts = rng.poisson(mu)
    else:
        k = mu / (variance_ratio - 1)  # variance = mu + mu^2 / k = variance_ratio * mu
        counts = rng.poisson(rng.gamma(k, mu / k))
    regions = [f"R{i:06d}" for i in range(n_regions)]
    cells = pd.DataFrame(
        {
            "region": np.repeat(regions, n_periods),
            "period": np.tile(labels, n_regions),
            "count": counts.ravel().astype(float),
            "exposure": np.tile(days, n_regions),
        }
    )
    truth = pd.DataFrame(
        {
            "region": regions,
            "mean": base,
            "apc": apc,
            "change_at": change_at,
            "ratio": ratio,
            "variance_ratio": variance_ratio,
        }
    )
    return cells, truth


def _labels(start: str, n: int, period: str) -> list[str]:
    """``n`` consecutive period labels from ``start`` (a label or date of any kind)."""
    start = to_period_label(start, period)
    first, _ = period_bounds([start], period)
    # a range long enough for n periods of any kind, then cut
    span_days = int(n * 366 / PERIODS_PER_YEAR[period]) + 400
    end = (first[0] + pd.Timedelta(days=span_days)).strftime("%Y-%m-%d")
    labels = period_range(start, end, period)
    return labels[:n]


def assert_cells_equal(left: pd.DataFrame, right: pd.DataFrame, **options) -> None:
    """Assert two cell tables hold the same cells, whatever their row order."""
    keys = ["region", "period"]
    a = left.sort_values(keys, kind="stable").reset_index(drop=True)
    b = right.sort_values(keys, kind="stable").reset_index(drop=True)
    a.attrs, b.attrs = {}, {}
    pd.testing.assert_frame_equal(a, b, **options)


def cells_strategy(max_regions: int = 4, max_periods: int = 12, period: str = "month"):
    """A hypothesis strategy for small valid cell tables (needs ``hypothesis``)."""
    from hypothesis import strategies as st

    @st.composite
    def build(draw):
        n_regions = draw(st.integers(1, max_regions))
        n_periods = draw(st.integers(1, max_periods))
        labels = _labels("2016-01-04", n_periods, period)  # a Monday: weeks start there
        counts = draw(
            st.lists(
                st.integers(0, 500), min_size=n_regions * n_periods, max_size=n_regions * n_periods
            )
        )
        return pd.DataFrame(
            {
                "region": np.repeat([f"region {i}" for i in range(n_regions)], n_periods),
                "period": np.tile(labels, n_regions),
                "count": np.asarray(counts, dtype=float),
            }
        )

    return build()


def formula_cells(text: str) -> list[str]:
    """The cells of a CSV text a spreadsheet would read as a formula: text starting with
    one of :data:`trends.output.FORMULA_PREFIXES` that is not a plain number."""
    import csv
    import io

    from .output import FORMULA_PREFIXES

    bad = []
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            if cell.startswith(FORMULA_PREFIXES):
                try:
                    float(cell)
                except ValueError:
                    bad.append(cell)
    return bad
