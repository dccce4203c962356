"""Counting: incidents into region x period cells.

The counting step runs in an engine and only its small result comes back:

- :mod:`~trends.counting.sql`: the reference, SQL run by DuckDB (embedded, no
  server) over an :class:`~trends.Incidents`, a pandas frame, or a CSV/Parquet path
  read without loading it into pandas;
- :mod:`~trends.counting.lazy`: the same counting as portable dataframe expressions
  (narwhals), for a Spark DataFrame, a DuckDB relation, or a polars, SQLFrame or
  Ibis lazy frame, run where the data lives;
- :mod:`~trends.counting.assemble`: the engines' whole-number sums to the cell table,
  the same code for every engine (so the same input gives the same bits on each).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from ..checks import check_choice
from ..errors import TrendsError
from ..incidents import Incidents, make_ledger
from ..periods import (
    PERIODS,
    period_bounds,
    period_labels,
    period_range,
    to_period_end_label,
    to_period_label,
)
from .assemble import combine, densify, source_mix
from .plan import COARSE_LOCATION, OUTCOME_COUNTED, Plan

__all__ = ["count", "SPANS"]

logger = logging.getLogger(__name__)

#: How an incident whose dates run over several periods is counted.
SPANS = ("start", "split", "exclude")


def count(
    incidents: Incidents | pd.DataFrame | str | Path | Any,
    region: str = "region",
    period: str = "month",
    *,
    start: str | None = None,
    end: str | None = None,
    span: str = "start",
    coverage: tuple[str, str] | None = None,
    baseline: Incidents | pd.DataFrame | str | Path | Any | None = None,
) -> pd.DataFrame:
    """Count incidents by region and period, with what coverage assessment needs.

    Parameters
    ----------
    incidents : Incidents, DataFrame, path, or lazy frame
        Canonical incidents. A CSV or Parquet path (canonical column names) is
        counted by DuckDB without loading the file into pandas. A lazy frame of
        canonical columns (a Spark DataFrame, a DuckDB relation, a polars, SQLFrame
        or Ibis lazy frame) is counted by its own engine through narwhals, and only
        the cells come back; see ``docs/scale.md``.
    region : str, default ``"region"``
        Column to group by: ``region`` (admin-1), ``subregion`` or ``country``.
        An incident located no finer than this level is counted in a region named
        ``(unknown)`` of its country, so region totals add up to country totals.
        A region name found in several countries is written ``name, country``.
    period : {"month", "quarter", "year", "week"}
        ISO 8601 weeks run Monday to Sunday.
    start, end : str, optional
        First and last period of the table (a period label or a date). By default
        the source's coverage window. Periods outside the coverage window get a
        missing ``count`` and ``covered=False``: uncovered is not zero.
    span : {"start", "split", "exclude"}, default ``"start"``
        An incident whose dates run over several periods is counted in the period
        of its first day (``start``, UCDP's own convention for yearly totals),
        shared out over the periods in proportion to its days (``split``: counts
        become fractional), or set aside in the ledger (``exclude``).
    coverage : (first, last), optional
        Declare the coverage window (dates) instead of the source's.
    baseline : same kinds as ``incidents``, optional
        Events of all kinds from the same source (e.g. a whole GDELT export, of which
        ``incidents`` is a filtered part), counted the same way into the column
        ``events_all``, so that :func:`trends.rates` can give rates per 1,000 events
        (``per="1000 events"``). News-coded data grow with the volume of news; GDELT's
        documentation advises normalising by all events coded in the same place and
        period.

    Returns
    -------
    DataFrame
        One row per region x period in ``start``..``end``, zeros included, sorted by
        region and period, with the columns documented in :mod:`trends.cells`:
        ``country, region, period, period_start, period_end, covered, count,
        exposure`` (days of the period inside the coverage window), ``events,
        events_unknown_sources, events_single_source, events_coarse_location,
        events_coarse_date, n_sources, top_source, top_source_events,
        source_counts, fatalities``. ``.attrs["ledger"]`` (a dict reason -> rows)
        accounts for every input row (``counted`` or the reason it was set aside),
        ``.attrs["source"]`` describes the source and ``.attrs["period"]`` the period.

    Notes
    -----
    With ``span="split"`` an incident of ``d`` days adds ``o / d`` to each period it
    overlaps by ``o`` days. The engines sum the whole-day numerators ``o`` per cell
    and incident length, and each sum is divided once, in a fixed order: the same
    input gives the same bits on every engine and every run (fatalities too, where
    they are whole numbers, as in UCDP, ACLED and GTD).
    """
    check_choice("period", period, PERIODS)
    check_choice("span", span, SPANS)
    check_choice("region", region, COARSE_LOCATION)
    engine = _engine_for(incidents)
    try:
        opened = engine.open(incidents)
        window = _window(engine, opened, coverage)
        labels = _labels(window, period, start, end)
        grid_start, _ = period_bounds([labels[0]], period)
        _, grid_end = period_bounds([labels[-1]], period)
        plan = Plan(region, period, span, (grid_start[0], grid_end[0]), window)
        sums = engine.aggregate(plan)
    except engine.errors as exc:  # e.g. a damaged Parquet file, found mid-scan
        from .validate import format_error

        raise format_error(exc, engine.label) from exc
    finally:
        engine.close()
    cells = combine(sums.parts)
    mix = source_mix(sums.outlets, cells["cell"].to_numpy(), names=sums.names)
    cells = cells.drop(columns="cell").assign(**mix)
    table = densify(cells, labels, period, region, window)
    ledger_rows = {r: n for r, n in opened.reader_ledger.items() if r != "kept"}
    ledger_rows.update(
        {reason: n for reason, n in sums.outcomes.items() if reason != OUTCOME_COUNTED}
    )
    ledger = make_ledger(opened.rows_read, ledger_rows)
    # A plain dict, not a DataFrame: pandas compares attrs when concatenating frames.
    table.attrs["ledger"] = {
        (OUTCOME_COUNTED if r == "kept" else r): int(n)
        for r, n in zip(ledger["reason"], ledger["rows"], strict=True)
    }
    if baseline is not None:
        table = _with_baseline(table, baseline, region, period, span, labels, window)
    table.attrs["source"] = opened.source.as_dict()
    table.attrs["period"] = period
    table.attrs["span"] = span
    logger.info(
        "counted %s incidents into %d cells",
        f"{sums.outcomes.get(OUTCOME_COUNTED, 0):,}",
        len(table),
    )
    return table


def _with_baseline(table, baseline, region, period, span, labels, window) -> pd.DataFrame:
    """``table`` with ``events_all``: the baseline's count in each of its cells."""
    base = count(
        baseline,
        region,
        period,
        start=labels[0],
        end=labels[-1],
        span=span,
        coverage=(str(window[0].date()), str(window[1].date())),
    )
    keys = ["country", "region", "period"]
    merged = table[keys].merge(
        base[[*keys, "count"]].rename(columns={"count": "events_all"}), on=keys, how="left"
    )
    events_all = merged["events_all"].to_numpy(dtype=float, na_value=float("nan"))
    covered = table["covered"].to_numpy()
    table["events_all"] = pd.Series(events_all, index=table.index).where(
        ~covered | ~pd.isna(events_all), 0.0
    )
    return table


def _engine_for(incidents: object):
    """The engine that counts this input: DuckDB for frames and files, else narwhals."""
    if isinstance(incidents, Incidents | pd.DataFrame | str | Path):
        from .sql import DuckDBEngine

        return DuckDBEngine()
    from .lazy import LazyEngine, is_lazy_frame

    if is_lazy_frame(incidents):
        return LazyEngine()
    raise TrendsError(
        f"count() takes Incidents, a pandas DataFrame, a CSV/Parquet path or a lazy frame "
        f"(Spark, DuckDB, polars, SQLFrame, Ibis); got {type(incidents).__name__}"
    )


def _window(engine, opened, coverage) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The coverage window: declared, the source's, or the data's own date range."""
    if coverage is not None:
        return pd.Timestamp(coverage[0]), pd.Timestamp(coverage[1])
    if opened.source.coverage is not None:
        return opened.source.coverage
    window = engine.date_range()
    if window is None:
        raise TrendsError(f"{opened.source.path or 'incidents'}: no incident has a date")
    return window


def _labels(window, period: str, start: str | None, end: str | None) -> list[str]:
    """The period labels of the table, from ``start``/``end`` or the coverage window."""
    first = to_period_label(start, period) if start else period_labels([window[0]], period)[0]
    last = to_period_end_label(end, period) if end else period_labels([window[1]], period)[0]
    labels = period_range(first, last, period)
    if not labels:
        raise TrendsError(
            f"the first period {first} is after the last {last}; "
            "check start= and end= against the source's coverage"
        )
    return labels
