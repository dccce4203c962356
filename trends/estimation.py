"""Rates: incidents per unit of exposure, with confidence intervals.

Intervals for a Poisson count ``x`` observed over exposure ``E`` (rate ``x / E``):

``exact`` (default)
    Garwood (1936): the chi-square (gamma) bounds that invert the two one-sided
    exact Poisson tests; at least nominal coverage. Same as R's
    ``epitools::pois.exact`` and ``poisson.test``.
``mid-p``
    Inverts the mid-p one-sided tests (Lancaster 1961; Rothman & Greenland,
    *Modern Epidemiology*): closer to nominal, sometimes below it.
``score``
    The Wilson-type score interval ``(x + z²/2 ± z·sqrt(x + z²/4)) / E``
    (Barker 2002, *Statistics in Medicine* 21:1075).
``jeffreys``
    Quantiles of the Jeffreys posterior Gamma(x + 1/2) (Brown, Cai & DasGupta 2003);
    the lower bound is 0 at ``x = 0``.

References: Garwood F. (1936) Fiducial limits for the Poisson distribution.
Biometrika 28:437-442. Patil V.V. & Kulkarni H.V. (2012) Comparison of confidence
intervals for the Poisson mean. REVSTAT 10:211-227.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cells import as_cells
from .errors import CellsError, OptionError
from .stats.poisson import INTERVAL_METHODS, poisson_interval

__all__ = ["rates", "RATE_METHODS", "DAYS_PER", "PER_EVENTS"]

RATE_METHODS = INTERVAL_METHODS

#: Days of exposure in one unit of ``per`` (a month is 365.25 / 12 = 30.4375 days).
DAYS_PER = {"day": 1.0, "week": 7.0, "month": 30.4375, "quarter": 91.3125, "year": 365.25}

#: ``per=`` for rates per 1,000 events of all kinds (the cell table's ``events_all``).
PER_EVENTS = "1000 events"


def rates(
    cells: pd.DataFrame,
    *,
    per: str | float | None = None,
    population: pd.DataFrame | None = None,
    method: str = "exact",
    level: float = 0.95,
) -> pd.DataFrame:
    """Incident rate of each cell with its confidence interval.

    Parameters
    ----------
    cells : DataFrame
        A cell table (``region, period, count, exposure``; see :mod:`trends.cells`).
    per : {"month", "day", "week", "quarter", "year", "1000 events"} or number, optional
        Without a population table: the unit of time (default ``"month"``, i.e.
        per 30.4375 days of exposure), or ``"1000 events"``: per 1,000 events of all
        kinds coded in the same place and period (the cell table's ``events_all``,
        from ``count(..., baseline=)``; GDELT's advice for news-coded data, whose
        volume grows over the years). With a population table: a number of people
        (default 100,000); the rate is per that many people per year.
    population : DataFrame, optional
        Columns ``region``, ``year``, ``population``. Exposure becomes person-years:
        population of the period's (first day's) year x days / 365.25.
    method : {"exact", "mid-p", "score", "jeffreys"}
        Interval method (see the module docstring). ``exact`` is Garwood's.
    level : float
        Confidence level.

    Returns
    -------
    DataFrame
        The cells, plus ``rate``, ``rate_low``, ``rate_high``, ``rate_unit`` (e.g.
        ``per month``), ``rate_method`` and ``rate_level``. Uncovered cells (missing
        count) and cells without exposure get missing rates; a zero count gets rate 0
        and a positive upper bound.
    """
    table = as_cells(cells)
    if per == PER_EVENTS:
        if population is not None or "events_all" not in table.columns:
            raise OptionError(
                f"per={per!r} needs the column events_all (count(..., baseline=all_events)) "
                "and no population table"
            )
        exposure = table["events_all"].to_numpy(float)
        scale, label = 1000.0, "per 1,000 events of all kinds"
    elif population is None:
        unit = per if per is not None else "month"
        if unit not in DAYS_PER:
            raise OptionError(
                f"per={per!r} needs a population table; without one, per is one of "
                + ", ".join(map(repr, DAYS_PER))
            )
        scale = DAYS_PER[unit]
        exposure = table["exposure"].to_numpy(float)
        label = f"per {unit}"
    else:
        people = 100_000.0 if per is None else per
        if isinstance(people, str) or not people > 0:
            raise OptionError(
                f"per={per!r}: with a population table, per is a number of people, e.g. 100_000"
            )
        exposure = _person_years(table, population)
        scale = float(people)
        label = f"per {people:,.0f} people per year"
    count = table["count"].to_numpy(float)
    lower, upper = poisson_interval(count, method=method, level=level)
    with np.errstate(divide="ignore", invalid="ignore"):
        usable = exposure > 0
        table["rate"] = np.where(usable, count / exposure * scale, np.nan)
        table["rate_low"] = np.where(usable, lower / exposure * scale, np.nan)
        table["rate_high"] = np.where(usable, upper / exposure * scale, np.nan)
    table["rate_unit"] = label
    table["rate_method"] = method
    table["rate_level"] = level
    return table


def _person_years(table: pd.DataFrame, population: pd.DataFrame) -> np.ndarray:
    missing = [c for c in ("region", "year", "population") if c not in population.columns]
    if missing:
        raise CellsError(
            f"population table lacks column(s) {missing}; expected region, year, population"
        )
    pop = population.assign(
        region=population["region"].astype("string"),
        year=pd.to_numeric(population["year"], errors="coerce").astype("Int64"),
        population=pd.to_numeric(population["population"], errors="coerce"),
    )
    if pop.duplicated(["region", "year"]).any():
        row = pop[pop.duplicated(["region", "year"])].iloc[0]
        raise CellsError(
            f"population table lists region {row['region']!r} year {row['year']} twice"
        )
    keyed = table[["region"]].assign(year=table["period_start"].dt.year.astype("Int64"))
    merged = keyed.merge(pop, on=["region", "year"], how="left")
    lacking = merged["population"].isna() & table["count"].notna().to_numpy()
    if lacking.any():
        row = merged[lacking].iloc[0]
        raise CellsError(
            f"population table has no population for region {row['region']!r} in {row['year']} "
            f"({int(lacking.sum())} cell(s) lack one)"
        )
    return merged["population"].to_numpy(float) * table["exposure"].to_numpy(float) / 365.25
