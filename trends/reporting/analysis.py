"""Run every statistic a report shows, once, and keep the results together.

:func:`analyse` goes from incidents to :class:`Results`: cells, coverage, rates,
the comparison, the trend test, joinpoints, the top sources. The report's sections
only read a :class:`Results`; they never compute statistics.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import periods
from ..cells import as_cells, cells_period
from ..errors import TrendsError, TrendsWarning

__all__ = ["Results", "analyse", "default_windows", "top_sources"]

logger = logging.getLogger(__name__)


@dataclass
class Results:
    """Everything a report shows. Tables are the public functions' outputs, unchanged."""

    cells: pd.DataFrame
    rates: pd.DataFrame
    coverage: pd.DataFrame
    comparison: pd.DataFrame | None
    trend: pd.DataFrame | None
    joinpoints: pd.DataFrame | None
    sources: pd.DataFrame  # source, events, share
    options: dict[str, Any]
    source: Any = None  # trends.incidents.SourceInfo, when the input was Incidents
    ledger: pd.DataFrame | None = None
    filters: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step
    warnings: list[str] = field(default_factory=list)  # TrendsWarnings raised, as text

    def plain(self) -> Results:
        """A shallow copy whose tables carry no ``attrs`` (which pandas deep-copies on
        every operation: slow with joinpoint fits); the period kind is kept."""
        period = self.period
        tables = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, pd.DataFrame):
                value = value.copy(deep=False)
                value.attrs = {"period": period} if f.name == "cells" else {}
            tables[f.name] = value
        return dataclasses.replace(self, **tables)

    @property
    def period(self) -> str:
        return cells_period(self.cells)

    @property
    def regions(self) -> list[str]:
        return sorted(self.cells["region"].astype(str).unique())


def default_windows(cells: pd.DataFrame) -> tuple[tuple[str, str], tuple[str, str]]:
    """The default comparison windows: :func:`trends.periods.default_windows`."""
    return periods.default_windows(cells)


def _window(value: Any) -> tuple[str, str] | None:
    """``"2016"`` -> ``("2016", "2016")``; a pair stays a pair; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value, value)
    pair = tuple(str(v) for v in value)
    if len(pair) != 2:
        raise TrendsError(f"a window is a period or a (first, last) pair, got {value!r}")
    return pair  # type: ignore[return-value]


def top_sources(incidents: Any, cells: pd.DataFrame) -> pd.DataFrame:
    """Outlets by the number of events naming them, and their share of those events.

    Reads the incidents' ``sources`` column (``;``-separated) when there is one, else
    pools the cells' ``source_counts``. The share is of the events that name at least
    one outlet, so shares add up to more than 1 when events name several.
    """
    counter: Counter[str] = Counter()
    named = 0.0
    data = getattr(incidents, "data", None)
    if isinstance(data, pd.DataFrame) and "sources" in data.columns:
        for value in data["sources"].dropna().astype(str):
            outlets = {s.strip() for s in value.split(";") if s.strip()}
            if outlets:
                named += 1
                counter.update(outlets)
    elif "source_counts" in cells.columns:
        from ..cells import source_counts

        for mix in source_counts(cells):
            for outlet, events in (mix or {}).items():
                counter[outlet] += events
        named = (
            float(cells["events"].sum())
            if "events" in cells.columns
            else float(sum(counter.values()))
        )
    rows = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    out = pd.DataFrame(rows, columns=["source", "events"])
    out["share"] = out["events"] / named if named else np.nan
    return out


def _progress(total: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="report", unit="step", file=sys.stderr, leave=False,
                disable=not sys.stderr.isatty())  # fmt: skip


def analyse(
    incidents: Any,
    *,
    region: str = "region",
    period: str = "month",
    before: Any = None,
    after: Any = None,
    rules: Any = "default",
    level: float = 0.95,
    trend_method: str = "quasipoisson",
    joinpoint_options: dict[str, Any] | None = None,
    start: str | None = None,
    end: str | None = None,
    span: str = "start",
) -> Results:
    """Count, assess coverage, estimate rates, compare, test trends, find joinpoints.

    ``incidents`` is a :class:`trends.Incidents`, a path (read with
    :func:`trends.read`), a DataFrame of incidents in canonical columns (read with
    :func:`trends.read_incidents`), or a cell table (a DataFrame with ``count``; then
    ``region``/``period`` are the cells').
    Seconds spent in each step are kept in ``Results.timings``. Warnings of
    ``trends`` (:class:`~trends.errors.TrendsWarning`) raised by the steps are kept
    in ``Results.warnings`` for the report to state, not printed; others pass on.
    """
    import trends

    if isinstance(incidents, str | Path):
        incidents = trends.read(incidents)
    elif isinstance(incidents, pd.DataFrame) and "count" not in incidents.columns:
        incidents = trends.read_incidents(incidents)  # incidents, not cells
    timings: dict[str, float] = {}
    raised: list[str] = []
    bar = _progress(6)

    def step(name: str, run):
        bar.set_postfix_str(name)
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = run()
        for w in caught:
            if issubclass(w.category, TrendsWarning):
                raised.append(f"{name}: {w.message}")
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        timings[name] = time.perf_counter() - t0
        logger.info("report: %s took %.2f s", name, timings[name])
        bar.update()
        return out

    if isinstance(incidents, pd.DataFrame):
        cells = step("count", lambda: as_cells(incidents))
        source, ledger, filters = None, None, []
    else:
        cells = step("count", lambda: as_cells(trends.count(
            incidents, region=region, period=period, start=start, end=end, span=span
        )))  # fmt: skip
        source = getattr(incidents, "source", None)
        ledger = getattr(incidents, "ledger", None)
        filters = list(getattr(incidents, "filters", None) or [])
        if start is not None or end is not None:
            filters.append(f"periods from {start or 'the first'} to {end or 'the last'}")
        if span != "start":
            filters.append(f"events spanning periods counted by span={span!r}")
    default_before, default_after = default_windows(cells)
    before_w = _window(before) or default_before
    after_w = _window(after) or default_after
    jp_options = dict(joinpoint_options or {})
    options: dict[str, Any] = {
        "region": region if not isinstance(incidents, pd.DataFrame) else "region",
        "period": cells_period(cells),
        "before": before_w,
        "after": after_w,
        "windows": "given" if before is not None or after is not None else "default",
        "rules": rules if isinstance(rules, str) else repr(rules),
        "level": level,
        "trend_method": trend_method,
        "joinpoints": jp_options,
        "span": span,
    }
    cov = step("coverage", lambda: trends.coverage(cells, rules=rules))
    rates = step("rates", lambda: trends.rates(cells, level=level))
    comparison = step("compare", lambda: trends.compare(
        cells, before=before_w, after=after_w, level=level, rules=rules
    ))  # fmt: skip
    trend = step(
        "trend", lambda: trends.trend(cells, method=trend_method, level=level, rules=rules)
    )
    joinpoints = step(
        "joinpoints",
        lambda: _joinpoints(cells, {"level": level, "rules": rules, **jp_options}, raised),
    )
    bar.close()
    return Results(
        cells=cells,
        rates=rates,
        coverage=cov,
        comparison=comparison,
        trend=trend,
        joinpoints=joinpoints,
        sources=top_sources(incidents, cells),
        options=options,
        source=source,
        ledger=ledger,
        filters=filters,
        timings=timings,
        warnings=list(dict.fromkeys(raised)),
    )


def _joinpoints(
    cells: pd.DataFrame, options: dict[str, Any], raised: list[str]
) -> pd.DataFrame | None:
    """Joinpoints, or None (said in ``raised``) when the series are too short for any.

    Too few periods for the default number of joinpoints (four years of yearly
    cells, say) is no reason to fail the whole report: the trend section still
    stands. A ``max_joinpoints`` the caller chose, or any other bad option, raises.
    """
    import trends

    try:
        return trends.joinpoints(cells, **options)
    except TrendsError as exc:
        if "max_joinpoints" in options or "max_joinpoints" not in str(exc):
            raise
        raised.append(f"joinpoints: not fitted: {exc}")
        return None
