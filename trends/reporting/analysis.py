"""Run every statistic a report shows, once, and keep the results together.

:func:`analyse` goes from incidents to :class:`Results`: cells, coverage, rates,
the comparison, the trend test, the alarms, joinpoints, the top sources. The report's sections
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

from .. import periods, verdicts
from ..cells import as_cells, cells_period
from ..checks import check_choice
from ..errors import OptionError, ThinCoverageWarning, TrendsError

__all__ = ["Results", "analyse", "default_windows", "top_sources", "by_region"]

logger = logging.getLogger(__name__)

#: The false-discovery rate of the report's words: the default of compare and trend
#: (joinpoints take theirs from ``joinpoint_options``), and of the family of all their
#: tests together (:func:`trends.verdicts.one_family`).
ALPHA = 0.05


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
    warnings: list[str] = field(default_factory=list)  # warnings raised, as text
    skipped: dict[str, str] = field(default_factory=dict)  # step -> why it was not computed
    alarms: pd.DataFrame | None = None  # trends.alarms(); its attrs in options["alarms"]

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

    def latest_alarms(self) -> tuple[str | None, pd.DataFrame | None]:
        """The latest complete period and its alarm rows (one per region, and a row for
        each region the alarms could not be computed for), or ``(None, None)``.

        The latest *complete* period (:func:`trends.periods.complete_periods`): a period
        the source covers only in part has too few events to compare with the past.
        """
        if self.alarms is None or not len(self.alarms):
            return None, None
        said = self.alarms["period"].astype("string")
        complete = [p for p in periods.complete_periods(self.cells) if p in set(said.dropna())]
        label = complete[-1] if complete else None
        if label is None:
            return None, None
        return label, self.alarms[(said == label).fillna(False) | said.isna()]


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
        raise OptionError(f"a window is a period or a (first, last) pair, got {value!r}")
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
    alarm_method: str | None = None,
) -> Results:
    """Count, assess coverage, estimate rates, compare, test trends, raise alarms, find
    joinpoints.

    ``incidents`` is a :class:`trends.Incidents`, a path (read with
    :func:`trends.read`), a DataFrame of incidents in canonical columns (read with
    :func:`trends.read_incidents`), or a cell table (a DataFrame with ``count``; then
    ``region``/``period`` are the cells'). ``rules`` is resolved once
    (:func:`trends.coverage_model.resolve_rules`) and the resolved
    :class:`~trends.coverage_model.CoverageRules` is what every step gets and what
    ``Results.options["rules"]`` keeps. ``alarm_method`` names the method of
    :func:`trends.alarms` (an alias is taken as its method); None (the default) takes
    :func:`trends.alarm.default_method`: Noufaily, or Bayes for years and for series
    too short for Farrington's baseline. ``Results.options["alarms"]`` keeps the method,
    whether it was ``given`` or the ``default``, and the attrs of the alarm table (the
    false-alarm level, the expected false alarms a year...).

    The comparison, trend and joinpoint tables are held to one family
    (:func:`trends.verdicts.one_family`): a word stands only where its q-value across
    every test of the three tables is below alpha as well (``qvalue_report``).

    The report never fails for one region or one step: a comparison, trend or
    joinpoint search that fails on some regions is run again without them, and
    their rows say why (:func:`by_region`); a step that cannot run at all (one
    period only, series too short for joinpoints) is left out and
    ``Results.skipped`` says why. Bad options still raise
    :class:`~trends.errors.OptionError`. Seconds spent in each step are kept in
    ``Results.timings``. Warnings raised by the steps are kept in
    ``Results.warnings`` for the report to state, not printed (the
    :class:`~trends.errors.ThinCoverageWarning` counts are left out: the summary
    says them in its own words).
    """
    import trends

    from ..coverage_model import resolve_rules
    from .methods import rules_label

    if isinstance(incidents, str | Path):
        incidents = trends.read(incidents)
    elif isinstance(incidents, pd.DataFrame) and "count" not in incidents.columns:
        incidents = trends.read_incidents(incidents)  # incidents, not cells
    resolved = resolve_rules(rules)
    steps = _Steps()
    if isinstance(incidents, pd.DataFrame):
        cells = steps.run("count", lambda: as_cells(incidents))
    else:
        cells = steps.run("count", lambda: as_cells(trends.count(
            incidents, region=region, period=period, start=start, end=end, span=span
        )))  # fmt: skip
    before_w, after_w = _windows(before, after, cells, steps.skipped)
    jp_options = dict(joinpoint_options or {})
    options: dict[str, Any] = {
        "region": region if not isinstance(incidents, pd.DataFrame) else "region",
        "period": cells_period(cells),
        "before": before_w,
        "after": after_w,
        "windows": "given" if before is not None or after is not None else "default",
        "rules": resolved,
        "rules_label": rules_label(rules, resolved),
        "level": level,
        "rate_method": "exact",
        "trend_method": trend_method,
        "joinpoints": jp_options,
        "span": span,
    }
    cov = steps.run("coverage", lambda: trends.coverage(cells, rules=resolved))
    rates = steps.run("rates", lambda: trends.rates(cells, level=level, method="exact"))
    comparison = None
    if "compare" not in steps.skipped:
        comparison = steps.guarded("compare", cells, lambda c: trends.compare(
            c, before=before_w, after=after_w, level=level, rules=resolved
        ))  # fmt: skip
    trend = steps.guarded(
        "trend", cells, lambda c: trends.trend(c, method=trend_method, level=level, rules=resolved)
    )
    alarms, options["alarms"] = _alarms(steps, cells, alarm_method, resolved)
    joinpoints = steps.guarded(
        "joinpoints",
        cells,
        lambda c: trends.joinpoints(c, level=level, rules=resolved, **jp_options),
    )
    steps.bar.close()
    comparison, trend, joinpoints = verdicts.one_family([
        (comparison, "change", ALPHA),
        (trend, "trend", ALPHA),
        (joinpoints, "trend", float(jp_options.get("alpha", ALPHA))),
    ])  # fmt: skip
    return Results(
        cells=cells,
        rates=rates,
        coverage=cov,
        comparison=comparison,
        trend=trend,
        joinpoints=joinpoints,
        sources=top_sources(incidents, cells),
        options=options,
        filters=_filters(incidents, start, end, span),
        source=None if isinstance(incidents, pd.DataFrame) else getattr(incidents, "source", None),
        ledger=None if isinstance(incidents, pd.DataFrame) else getattr(incidents, "ledger", None),
        timings=steps.timings,
        warnings=list(dict.fromkeys(steps.raised)),
        skipped=steps.skipped,
        alarms=alarms,
    )


def _alarms(
    steps: _Steps, cells: pd.DataFrame, method: str | None, rules: Any
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """The alarm table (guarded per region, as every step) and what the report says of
    it: the method, whether it was given or the default, and the table's attrs."""
    import trends
    from trends.alarm import ALIASES, METHODS, default_method

    chosen = "default" if method is None else "given"
    if method is None:
        name = default_method(cells_period(cells), int(cells["period"].nunique()))
    else:  # checked before any work: a bad name is the caller's error
        name = ALIASES.get(method, method)
        check_choice("alarm_method", name, [*METHODS, *ALIASES])
    attrs: dict[str, Any] = {}

    def run(part: pd.DataFrame) -> pd.DataFrame:
        out = trends.alarms(part, method=name, rules=rules)
        attrs.update(out.attrs)  # the last call is the one whose rows are kept
        return out

    table = steps.guarded("alarms", cells, run)
    return table, {**(attrs if table is not None else {}), "method": name, "chosen": chosen}


def _filters(incidents: Any, start: str | None, end: str | None, span: str) -> list[str]:
    """The filters the incidents carry, and the restrictions of ``count()``, in words."""
    if isinstance(incidents, pd.DataFrame):
        return []
    filters = [str(f) for f in (getattr(incidents, "filters", None) or [])]
    if start is not None or end is not None:
        filters.append(f"periods from {start or 'the first'} to {end or 'the last'}")
    if span != "start":
        filters.append(f"events spanning periods counted by span={span!r}")
    return filters


def _windows(before: Any, after: Any, cells: pd.DataFrame, skipped: dict[str, str]):
    """The comparison's windows: those given, else the default ones; when there are
    none (one period only), ``skipped["compare"]`` says why."""
    before_w, after_w = _window(before), _window(after)
    if before_w is None or after_w is None:
        try:
            default_before, default_after = default_windows(cells)
            before_w, after_w = before_w or default_before, after_w or default_after
        except TrendsError as exc:
            skipped["compare"] = f"no default windows: {exc}"
    return before_w, after_w


class _Steps:
    """Runs the report's steps: times them, keeps their warnings as text, and
    (:meth:`guarded`) keeps a failing step from taking the report down."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.raised: list[str] = []
        self.skipped: dict[str, str] = {}
        self.bar = _progress(7)

    def run(self, name: str, func):
        from ..errors import TrendsWarning

        self.bar.set_postfix_str(name)
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = func()
        self.raised.extend(
            f"{name}: {w.message}" if issubclass(w.category, TrendsWarning)
            else f"{name}: {w.category.__name__}: {w.message}"
            for w in caught
            if not issubclass(w.category, ThinCoverageWarning)
        )  # fmt: skip
        self.timings[name] = time.perf_counter() - t0
        logger.info("report: %s took %.2f s", name, self.timings[name])
        self.bar.update()
        return out

    def guarded(self, name: str, cells: pd.DataFrame, func):
        """The step's table (regions it fails on get a row saying why, see
        :func:`by_region`), or None with the reason in ``skipped``; bad options raise."""
        try:
            return self.run(name, lambda: by_region(func, cells, name))
        except OptionError:
            raise
        except Exception as exc:
            self.skipped[name] = _reason(exc)
            logger.warning("report: %s not computed: %s", name, self.skipped[name])
            self.bar.update()
            return None


def _reason(exc: BaseException) -> str:
    """An exception as one line for a reader: the message, with the kind of failure
    when it is not a ``trends`` error (``LinAlgError: SVD did not converge``)."""
    text = " ".join(str(exc).split()) or "no message"
    return text if isinstance(exc, TrendsError) else f"{type(exc).__name__}: {text}"


def by_region(run, cells: pd.DataFrame, what: str) -> pd.DataFrame:
    """``run(cells)``, or, when it fails, ``run`` on the regions it does not fail on,
    with a row for each region it fails on saying why.

    A region a statistic cannot handle (a singular fit, a degenerate series) must not
    take the report down: each region is tried alone to find those that fail, then
    ``run`` is called once on the others (so q-values are adjusted across them), and
    each failed region gets a row whose verdict is ``not estimable`` and whose notes
    say what failed. A :class:`~trends.errors.TrendsError` of the whole call (bad
    input, a series too short) and a failure no single region explains are raised.
    """
    try:
        return run(cells)
    except (TrendsError, KeyboardInterrupt):
        raise
    except Exception as exc:
        first = exc
    failed: dict[str, str] = {}
    for name, part in cells.groupby(cells["region"].astype(str), sort=True):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                run(part)
        except OptionError:
            raise
        except Exception as exc:
            failed[name] = _reason(exc)
    if not failed:
        raise first
    logger.warning("report: %s failed on %d region(s): %s", what, len(failed), failed)
    rest = cells[~cells["region"].astype(str).isin(failed)]
    out = run(rest) if len(rest) else pd.DataFrame({"region": pd.Series([], dtype=str)})
    notes = "notes" if "notes" in out.columns or "note" not in out.columns else "note"
    rows = pd.DataFrame(
        {
            "region": list(failed),
            "verdict": verdicts.NOT_ESTIMABLE,
            notes: [f"{what} could not be computed: {why}" for why in failed.values()],
        }
    )
    return pd.concat([out, rows], ignore_index=True)
