"""Is the reporting good enough to support a conclusion? Coverage status of cells.

A fall in reported incidents can be a real fall, or an outlet going quiet. This
module labels cells, and the windows behind a result, with one of four statuses:

``adequate``
    enough events, from enough sources, precisely enough located and dated.
``thin``
    usable as a description, but a statistical verdict on it could be produced by
    the reporting itself (few events, one outlet, coarse data, a changed source mix).
``insufficient``
    too few (effective) events for any rate to be stable.
``uncovered``
    outside the data set's coverage window: not a zero, not data at all.

Default rules (each a parameter of :class:`CoverageRules`, with the reference behind it):

* ``insufficient``: effective events below 10 (``min_effective_events``), or a
  relative width of the exact 95% interval above 160% (``max_relative_width``).
  NCHS data presentation standards for rates: a rate is statistically reliable when
  its (effective) sample size is 10 or more and its 95% interval is no wider than
  160% of it. See "Evaluation of the National Center for Health Statistics Data
  Presentation Standards for Rates From Vital Statistics and Sample Surveys"
  (NCHS, https://stacks.cdc.gov/view/cdc/123462), and Parker et al. (2017), NCHS
  Data Presentation Standards for Proportions, Vital Health Stat 2(175), for the
  effective-sample-size reasoning.
* ``thin``: fewer than 20 events (``min_events``; the "unstable rate" flag of CDC's
  WISQARS and of NCHS vital statistics reports, which call rates on fewer than 20
  deaths unreliable); relative standard error of 30% or more (``max_rse``; the
  NCHS reliability criterion that preceded the interval-based standards); a single
  distinct source (``min_sources`` = 2); more than half the events with location
  coarser than the region or dates coarser than the period (``max_coarse_share``);
  a source-mix change above 50% against a baseline (``max_mix_change``).
* ``uncovered``: outside the coverage window (``covered`` is False, or ``count`` is
  missing).

Measures a data set does not have (no source names, unknown number of sources) are
not evidence of thin coverage: the status rests on what is known, and the reasons
say what was unknown.

Counts that are overdispersed carry less information than their number suggests:
with dispersion ``phi`` (variance / mean), ``effective events = events / phi``, and
the relative standard error and exact interval are computed on effective events
(the quasi-Poisson scaling; McCullagh & Nelder 1989, *Generalized Linear Models*,
section 4.5).

The exact interval is Garwood's (1936, *Biometrika* 28:437): for ``x`` events,
``[gamma.ppf(a/2, x), gamma.ppf(1 - a/2, x + 1)]``.

Interface for the other statistics (compare, trend, joinpoints):
:func:`assess_window`, :func:`assess_windows`, :func:`source_activity`; the verdict
words and the gate are :mod:`trends.verdicts`'.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from .cells import as_cells, source_counts
from .errors import CellsError, TrendsError
from .periods import PERIODS, infer_period

__all__ = [
    "STATUSES",
    "PRESETS",
    "CoverageRules",
    "assess_window",
    "assess_windows",
    "worse",
    "resolve_rules",
    "mix_rules",
    "coverage",
    "source_activity",
    "estimate_dispersion",
    "window_measures",
    "judge",
    "exact_relative_width",
]

logger = logging.getLogger(__name__)

#: Statuses from best to worst.
STATUSES = ("adequate", "thin", "insufficient", "uncovered")
_RANK = {s: i for i, s in enumerate(STATUSES)}


@dataclass(frozen=True)
class CoverageRules:
    """Thresholds of the coverage rules. ``None`` switches a rule off.

    Attributes
    ----------
    min_effective_events : float or None
        ``insufficient`` when effective events (events / dispersion) are below this.
        Default 10 (NCHS data presentation standards for rates).
    max_relative_width : float or None
        ``insufficient`` when the exact interval's width divided by the count exceeds
        this (1.6 = 160%; NCHS data presentation standards for rates).
    min_events : float or None
        ``thin`` below this many events. Default 20 (CDC WISQARS / NCHS "unstable
        rate" flag).
    max_rse : float or None
        ``thin`` when the relative standard error ``sqrt(dispersion / events)`` is at
        or above this. Default 0.30 (NCHS reliability criterion).
    min_sources : int or None
        ``thin`` when fewer distinct sources than this feed the events. Default 2
        (a single outlet cannot be cross-checked; its silence looks like a fall).
    max_coarse_share : float or None
        ``thin`` when more than this share of the events has location coarser than
        the region, or dates coarser than the period. Default 0.5.
    max_mix_change : float or None
        ``thin`` when, against the baseline, more than this share of the events
        comes from sources absent in the baseline, or more than this share of the
        baseline's events came from sources now silent. Default 0.5.
    level : float
        Confidence level of the exact interval behind ``max_relative_width``.
    """

    min_effective_events: float | None = 10.0
    max_relative_width: float | None = 1.6
    min_events: float | None = 20.0
    max_rse: float | None = 0.30
    min_sources: int | None = 2
    max_coarse_share: float | None = 0.5
    max_mix_change: float | None = 0.5
    level: float = 0.95


#: Named rule sets. ``default`` is the issue's rule set. ``nchs`` keeps only the
#: count-based NCHS rules (for data without source information, or to reproduce NCHS
#: flagging). ``strict`` and ``lenient`` move every threshold one notch.
PRESETS: dict[str, CoverageRules] = {
    "default": CoverageRules(),
    "nchs": CoverageRules(min_sources=None, max_coarse_share=None, max_mix_change=None),
    "strict": CoverageRules(
        min_effective_events=20.0,
        max_relative_width=1.0,
        min_events=50.0,
        max_rse=0.20,
        min_sources=3,
        max_coarse_share=0.25,
        max_mix_change=0.30,
    ),
    "lenient": CoverageRules(
        min_effective_events=5.0,
        max_relative_width=2.5,
        min_events=10.0,
        max_rse=0.50,
        min_sources=None,
        max_coarse_share=0.75,
        max_mix_change=0.75,
    ),
}
_FIELDS = tuple(f.name for f in dataclasses.fields(CoverageRules))


def resolve_rules(rules: str | CoverageRules | Mapping[str, Any] = "default", **overrides: Any):
    """Turn ``rules`` (a preset name, a :class:`CoverageRules`, or a dict) and keyword
    overrides into one :class:`CoverageRules`; unknown names raise with the valid ones."""
    if isinstance(rules, CoverageRules):
        base = rules
    elif isinstance(rules, str):
        if rules not in PRESETS:
            raise TrendsError(f"rules={rules!r} is not one of {', '.join(map(repr, PRESETS))}")
        base = PRESETS[rules]
    elif isinstance(rules, Mapping):
        overrides = {**dict(rules), **overrides}
        base = PRESETS["default"]
    else:
        raise TrendsError(
            f"rules={rules!r} must be a preset name ({', '.join(map(repr, PRESETS))}), "
            "a CoverageRules or a dict of thresholds"
        )
    bad = [k for k in overrides if k not in _FIELDS]
    if bad:
        raise TrendsError(f"unknown coverage rule(s) {bad}; valid: {', '.join(_FIELDS)}")
    for key, value in overrides.items():
        if value is None and key != "level":
            continue
        if not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(
            float(value)
        ):
            raise TrendsError(f"{key}={value!r} must be a finite number or None")
        if float(value) < 0:
            raise TrendsError(f"{key}={value!r} must not be negative")
    if "level" in overrides and not 0 < float(overrides["level"]) < 1:
        raise TrendsError(f"level={overrides['level']!r} must lie strictly between 0 and 1")
    return dataclasses.replace(base, **overrides)


# --------------------------------------------------------------------------- measures


def mix_rules(rules: str | CoverageRules | Mapping[str, Any] = "default") -> CoverageRules:
    """The source-mix rule of ``rules`` alone (every other threshold switched off).

    For judging one stretch of a series against the stretch before it (a trend's two
    halves, a joinpoint segment against the previous one) where the count rules have
    already judged each stretch on its own.
    """
    return dataclasses.replace(
        resolve_rules(rules),
        min_effective_events=None,
        max_relative_width=None,
        min_events=None,
        max_rse=None,
        min_sources=None,
        max_coarse_share=None,
    )


def exact_relative_width(events: float, level: float = 0.95) -> float:
    """Width of Garwood's exact interval for ``events`` divided by ``events``.

    Non-integer event numbers (effective events, split counts) use the gamma form
    of the interval. Zero events give ``inf``.
    """
    return float(_relative_widths(np.array([events], dtype=float), level)[0])


def _relative_widths(events: np.ndarray, level: float) -> np.ndarray:
    """:func:`exact_relative_width` of each of an array of event numbers.

    ``gammaincinv(a, q)`` is what ``scipy.stats.gamma.ppf(q, a)`` computes, without
    its argument checks (a tenth of a millisecond per call).
    """
    alpha = 1.0 - level
    x = np.asarray(events, dtype=float)
    pos = x > 0
    safe = np.where(pos, x, 1.0)
    low = special.gammaincinv(safe, alpha / 2)
    high = special.gammaincinv(safe + 1, 1 - alpha / 2)
    return np.where(pos, (high - low) / safe, math.inf)


def _num(value: Any) -> float:
    """A float, NaN for missing."""
    if value is None or value is pd.NA:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _covered_mask(cells: pd.DataFrame) -> np.ndarray:
    """True where a cell is inside the coverage window (missing ``covered`` = covered;
    a missing count means outside)."""
    return _Cells.read(cells).covered


# --------------------------------------------------------------------------- cells as arrays

#: Optional numeric cell columns that the window measures read.
_NUMERIC = (
    "n_sources",
    "top_source_events",
    "events_single_source",
    "events_unknown_sources",
    "events_coarse_location",
    "events_coarse_date",
)


@dataclass(frozen=True)
class _Cells:
    """The columns of a cell table that the coverage measures read, as arrays.

    Read once per table (:meth:`read`, or :meth:`checked` to validate first), so that
    its windows (arrays of row positions) are measured without building a frame per
    window; ``source_counts`` JSON is parsed once per distinct text (:func:`_mix`).
    """

    region: np.ndarray  # str objects
    count: np.ndarray  # float, NaN where missing
    covered: np.ndarray  # bool: inside the coverage window and count known
    events: np.ndarray  # float: the events column where known, else count
    numeric: dict[str, np.ndarray]  # the columns of _NUMERIC present, as floats
    top_source: np.ndarray | None  # str objects, None where missing; None: no column
    mixes: list[dict[str, float] | None] | None  # parsed source_counts; None: no column

    @classmethod
    def read(cls, cells: pd.DataFrame, region: np.ndarray | None = None) -> _Cells:
        """The arrays of ``cells`` as they are (no check, rows in the given order);
        ``region``: its region column as objects, when already read."""
        n = len(cells)
        if n == 0 and "count" not in cells.columns:
            count = np.zeros(0)
        else:
            count = _floats(cells["count"])
        covered = ~np.isnan(count)
        if "covered" in cells.columns:
            flag = cells["covered"]
            if flag.dtype != bool:
                flag = flag.astype("boolean").fillna(True)
            covered &= flag.to_numpy(dtype=bool)
        events = count
        if "events" in cells.columns:
            ev = _floats(cells["events"])
            events = np.where(np.isnan(ev), count, ev)
        numeric = {c: _floats(cells[c]) for c in _NUMERIC if c in cells.columns}
        top = None
        if "top_source" in cells.columns:
            top = cells["top_source"].astype("string").to_numpy(dtype=object, na_value=None)
        mixes = None
        if "source_counts" in cells.columns:
            mixes = [_mix(v) for v in cells["source_counts"].to_numpy(dtype=object)]
        if region is None:
            region = (
                cells["region"].to_numpy(dtype=object)
                if "region" in cells.columns
                else np.full(n, "", dtype=object)
            )
        return cls(region, count, covered, events, numeric, top, mixes)

    @classmethod
    def checked(cls, cells: Any, name: str) -> _Cells:
        """The arrays of ``cells`` checked and ordered as :func:`~trends.cells.as_cells`
        leaves them; a table that already is (a cell table, or rows of one) is read as
        it is, any other goes through ``as_cells`` (and its errors)."""
        if not isinstance(cells, pd.DataFrame):
            raise CellsError(f"{name} must be a pandas DataFrame, got {type(cells).__name__}")
        if cells.attrs:
            # a view without attrs: pandas deep-copies attrs into every column read
            kind = cells.attrs.get("period")
            cells = pd.DataFrame(cells, copy=False)
            if kind is not None:
                cells.attrs["period"] = kind
        if len(cells) == 0:
            return cls.read(cells)
        region = _is_checked(cells)
        if region is not None:
            return cls.read(cells, region)
        return cls.read(as_cells(cells, name=name))

    def windows(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """The regions (in table order) and each one's row positions."""
        n = len(self.region)
        if n == 0:
            return np.array([], dtype=object), []
        starts = np.flatnonzero(np.r_[True, self.region[1:] != self.region[:-1]])
        ends = np.r_[starts[1:], n]
        return self.region[starts], [np.arange(a, b) for a, b in zip(starts, ends, strict=True)]


def _floats(column: pd.Series) -> np.ndarray:
    """A column as floats, NaN where missing or not a number."""
    if column.dtype == np.float64:
        return column.to_numpy()
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


@functools.lru_cache(maxsize=65536)
def _parse_mix(text: str) -> dict[str, float]:
    return {str(k): float(v) for k, v in json.loads(text).items()}


def _mix(value: Any) -> dict[str, float] | None:
    """One ``source_counts`` value parsed (None: unknown), as
    :func:`trends.cells.source_counts` does; the dict is shared, never change it."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return _parse_mix(value)


def _is_checked(cells: pd.DataFrame) -> np.ndarray | None:
    """The region column (as objects) if ``as_cells`` would return ``cells`` unchanged
    in everything the coverage measures read, else None.

    That is: core columns of its dtypes, no missing region or period, valid period
    labels of one kind (trusted when ``attrs["period"]`` names the kind, as
    ``as_cells`` and ``count()`` leave it), no negative count or exposure, and rows
    sorted by region and period with no region-period twice. A cheap check: a few
    vectorised comparisons instead of a copy, a sort and a duplicate search.
    """
    dtypes = dict(zip(cells.columns, cells.dtypes, strict=True))
    if not all(c in dtypes for c in ("region", "period", "count")):
        return None
    if not (
        isinstance(dtypes["region"], pd.StringDtype)
        and isinstance(dtypes["period"], pd.StringDtype)
        and dtypes["count"] == np.float64
        and dtypes.get("exposure", np.float64) == np.float64
        and all(dtypes.get(c, _NS) == _NS for c in ("period_start", "period_end"))
    ):
        return None
    for col in ("count", "exposure") if "exposure" in dtypes else ("count",):
        if (cells[col].to_numpy() < 0).any():
            return None
    region = cells["region"].to_numpy(dtype=object)
    period = cells["period"].to_numpy(dtype=object)
    if pd.isna(region).any() or pd.isna(period).any():
        return None
    if cells.attrs.get("period") not in PERIODS:
        try:
            infer_period(set(period))  # each distinct label once
        except TrendsError:
            return None  # as_cells raises it
    same = region[1:] == region[:-1]
    if not np.all(same | (region[:-1] < region[1:])):
        return None
    # within a region, labels (which sort as their periods do) strictly increase;
    # period_start, where given, must agree (as_cells sorts by it)
    if not np.all(~same | (period[:-1] < period[1:])):
        return None
    if "period_start" in dtypes:
        start = cells["period_start"].to_numpy()
        if not np.all(~same | (start[:-1] < start[1:])):
            return None
    return region


_NS = np.dtype("datetime64[ns]")


def _sum_known(values: np.ndarray) -> float:
    """Sum of the known values; NaN when none is known."""
    known = ~np.isnan(values)
    if not known.any():
        return math.nan
    return float(np.where(known, values, 0.0).sum())


def _pool(c: _Cells, rows: np.ndarray) -> dict[str, float] | None:
    """The source mix of cells ``rows``, summed; None if any cell with events has an
    unknown mix (then the pooled mix would be wrong)."""
    events = c.events[rows]
    if c.mixes is None:  # known only when no cell has events (or unknown events)
        return {} if (events <= 0).all() else None
    total: dict[str, float] = {}
    for i, ev in zip(rows, events, strict=True):
        mix = c.mixes[i]
        if mix is None:
            if ev > 0 or math.isnan(ev):
                return None
            continue
        for key, value in mix.items():
            if value > 0:
                total[key] = total.get(key, 0.0) + value
    return total


def _distinct(c: _Cells, rows: np.ndarray, mix: dict[str, float] | None) -> tuple[float, str]:
    """Distinct sources behind cells ``rows``, and the top source (``""`` if unknown).

    From the pooled source mix when known; else from ``n_sources`` and ``top_source``:
    one cell's ``n_sources`` when only one cell has events, the maximum as a lower
    bound when that is already 2 or more, 1 when every cell with events has one
    source and all name the same ``top_source``; NaN when it cannot be told.
    """
    if mix is not None:
        top = max(sorted(mix), key=lambda k: mix[k]) if mix else ""
        return float(len(mix)), top
    if "n_sources" not in c.numeric:
        return math.nan, ""
    has = rows[c.events[rows] > 0]
    if has.size == 0:
        return math.nan, ""
    n = c.numeric["n_sources"][has]
    tops = c.top_source[has] if c.top_source is not None else np.full(has.size, None)
    if np.isnan(n).any():
        known = n[~np.isnan(n)]
        if known.size and known.max() >= 2:
            return float(known.max()), ""  # at least that many
        return math.nan, ""
    top = str(tops[0]) if tops[0] is not None else ""
    if n.size == 1:
        return float(n[0]), top
    if n.max() >= 2:
        return float(n.max()), ""
    names = {t for t in tops if t is not None}
    if len(names) == 1 and all(t is not None for t in tops):
        return 1.0, names.pop()
    return math.nan, ""


def _pooled_sources(cells: pd.DataFrame) -> dict[str, float] | None:
    """:func:`_pool` of every row of a frame."""
    return _pool(_Cells.read(cells), np.arange(len(cells)))


def _distinct_sources(cells: pd.DataFrame, mix: dict[str, float] | None) -> tuple[float, str]:
    """:func:`_distinct` of every row of a frame."""
    return _distinct(_Cells.read(cells), np.arange(len(cells)), mix)


def _events(cells: pd.DataFrame) -> np.ndarray:
    """Events per cell: the ``events`` column where known, else ``count``."""
    return _Cells.read(cells).events


def window_measures(
    cells: pd.DataFrame,
    *,
    tested_count: float | None = None,
    dispersion: float = 1.0,
    baseline: pd.DataFrame | None = None,
    level: float = 0.95,
) -> dict[str, Any]:
    """The coverage measures of a set of cells taken together (one cell, or a window).

    Count-based measures use ``tested_count`` (default: the covered cells' total
    count); source-based measures pool the covered cells. Returns a dict with the
    keys of :func:`coverage`'s measure columns.
    """
    base = None
    if baseline is not None:
        base = (_Cells.read(baseline), np.arange(len(baseline)))
    return _measures(
        _Cells.read(cells),
        np.arange(len(cells)),
        tested_count=tested_count,
        dispersion=dispersion,
        baseline=base,
        level=level,
    )


def _measures(
    c: _Cells,
    rows: np.ndarray,
    *,
    tested_count: float | None,
    dispersion: float,
    baseline: tuple[_Cells, np.ndarray] | None,
    level: float,
    relative_width: float | None = None,
) -> dict[str, Any]:
    """:func:`window_measures` of the cells ``rows`` of ``c`` (against the cells
    ``baseline[1]`` of ``baseline[0]``); ``relative_width`` when already computed."""
    covered = c.covered[rows]
    inside = rows[covered]
    count = float(c.count[inside].sum()) if tested_count is None else float(tested_count)
    phi = float(dispersion)
    effective = count / phi
    events = c.events[inside]
    n_events = float(events.sum()) if events.size else 0.0
    mix = _pool(c, inside)
    n_sources, top = _distinct(c, inside, mix)
    top_events = math.nan
    if mix is not None and mix:
        top_events = mix[top]
    elif top and "top_source_events" in c.numeric and inside.size >= 1:
        tops = c.top_source[inside] if c.top_source is not None else np.full(inside.size, None)
        top_events = _sum_known(c.numeric["top_source_events"][inside[tops == top]])

    def share(col: str, denom: float) -> float:
        num = _sum_known(c.numeric[col][inside]) if col in c.numeric else math.nan
        return num / denom if denom > 0 and not math.isnan(num) else math.nan

    unknown = (
        _sum_known(c.numeric["events_unknown_sources"][inside])
        if "events_unknown_sources" in c.numeric
        else math.nan
    )
    known_denom = n_events - (0.0 if math.isnan(unknown) else unknown)
    if relative_width is None:
        relative_width = exact_relative_width(effective, level)
    out: dict[str, Any] = {
        "count": count,
        "events": n_events,
        "dispersion": phi,
        "effective_events": effective,
        "rse": math.sqrt(1.0 / effective) if effective > 0 else math.inf,
        "relative_width": relative_width,
        "n_sources": n_sources,
        "top_source": top,
        "top_source_share": top_events / n_events if n_events > 0 else math.nan,
        "single_source_share": share("events_single_source", known_denom),
        "unknown_sources_share": share("events_unknown_sources", n_events),
        "coarse_location_share": share("events_coarse_location", n_events),
        "coarse_date_share": share("events_coarse_date", n_events),
        "new_source_share": math.nan,
        "silent_source_share": math.nan,
        "n_sources_change": math.nan,
        "n_cells": int(rows.size),
        "n_uncovered": int((~covered).sum()),
        "source_mix_known": mix is not None,
    }
    if baseline is not None:
        b, b_rows = baseline
        base_in = b_rows[b.covered[b_rows]]
        base_mix = _pool(b, base_in)
        if mix is not None and base_mix is not None:
            now = sum(mix.values())
            before = sum(base_mix.values())
            if now > 0:
                out["new_source_share"] = sum(v for k, v in mix.items() if k not in base_mix) / now
            if before > 0:
                out["silent_source_share"] = (
                    sum(v for k, v in base_mix.items() if k not in mix) / before
                )
        base_n, _ = _distinct(b, base_in, base_mix)
        out["n_sources_change"] = n_sources - base_n
        out["baseline_mix_known"] = base_mix is not None
    return out


# --------------------------------------------------------------------------- judgement


def _pct(x: float, against: float | None = None) -> str:
    """``x`` as a percentage; one decimal when rounding would make it equal ``against``."""
    text = f"{100 * x:.0f}%"
    if against is not None and x != against and text == f"{100 * against:.0f}%":
        text = f"{100 * x:.1f}%"
    return text


def _fmt(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def _n_events(x: float) -> str:
    return "1 event" if x == 1 else f"{_fmt(x)} events"


def judge(m: Mapping[str, Any], rules: CoverageRules) -> tuple[str, list[str]]:
    """Status and reasons from measures (as made by :func:`window_measures`).

    Every rule that fires adds a reason; the status is the worst. Unknown measures
    add a reason saying so and never worsen the status.
    """
    status = "adequate"
    reasons: list[str] = []

    def hit(level: str, reason: str) -> None:
        nonlocal status
        if _RANK[level] > _RANK[status]:
            status = level
        reasons.append(reason)

    count, eff, phi = m["count"], m["effective_events"], m["dispersion"]
    # count-based rules (a cell with no events gets one plain reason, not four)
    if count == 0:
        if rules.min_effective_events is not None or rules.max_relative_width is not None:
            hit("insufficient", "no events")
        elif rules.min_events is not None or rules.max_rse is not None:
            hit("thin", "no events")
    elif rules.min_effective_events is not None and eff < rules.min_effective_events:
        if phi != 1:
            hit(
                "insufficient",
                f"{_fmt(eff)} effective events (dispersion {phi:.2f}), "
                f"fewer than {_fmt(rules.min_effective_events)}",
            )
        else:
            hit(
                "insufficient",
                f"{_n_events(count)}, fewer than {_fmt(rules.min_effective_events)}",
            )
    if (
        count > 0
        and rules.max_relative_width is not None
        and m["relative_width"] > rules.max_relative_width
    ):
        rw = m["relative_width"]
        width = "infinite" if math.isinf(rw) else _pct(rw, rules.max_relative_width)
        hit(
            "insufficient",
            f"relative width of the exact interval {width}, above {_pct(rules.max_relative_width)}",
        )
    # (the thin count rules add nothing once a count rule found it insufficient)
    count_insufficient = status == "insufficient" or count == 0
    if not count_insufficient and rules.min_events is not None and count < rules.min_events:
        hit("thin", f"{_n_events(count)}, fewer than {_fmt(rules.min_events)}")
    if not count_insufficient and rules.max_rse is not None and m["rse"] >= rules.max_rse:
        rse = "infinite" if math.isinf(m["rse"]) else _pct(m["rse"], rules.max_rse)
        hit("thin", f"relative standard error {rse}, at least {_pct(rules.max_rse)}")
    # source-based rules: only where there are events to have sources
    if m["events"] > 0:
        n = m["n_sources"]
        if rules.min_sources is not None and not math.isnan(n) and n < rules.min_sources:
            who = f" ({m['top_source']})" if m["top_source"] and n == 1 else ""
            word = "source" if n == 1 else "sources"
            hit("thin", f"{_fmt(n)} distinct {word}{who}")
        if rules.max_coarse_share is not None:
            loc, dat = m["coarse_location_share"], m["coarse_date_share"]
            if not math.isnan(loc) and loc > rules.max_coarse_share:
                hit(
                    "thin",
                    f"{_pct(loc, rules.max_coarse_share)} of events located only coarser "
                    "than the region",
                )
            if not math.isnan(dat) and dat > rules.max_coarse_share:
                hit(
                    "thin",
                    f"{_pct(dat, rules.max_coarse_share)} of events dated less precisely "
                    "than the period",
                )
        if rules.max_mix_change is not None:
            new, silent = m["new_source_share"], m["silent_source_share"]
            if not math.isnan(new) and new > rules.max_mix_change:
                hit(
                    "thin",
                    f"source mix changed: {_pct(new)} of events from outlets absent "
                    "in the baseline",
                )
            if not math.isnan(silent) and silent > rules.max_mix_change:
                hit(
                    "thin",
                    f"source mix changed: {_pct(silent)} of the baseline's events came "
                    "from outlets now silent",
                )
        # what was unknown (never worsens the status)
        unknown = m["unknown_sources_share"]
        if math.isnan(n) and not unknown >= 1:
            reasons.append("number of distinct sources unknown")
        if unknown >= 1:
            reasons.append("number of sources unknown for every event")
        elif unknown > 0:
            reasons.append(f"number of sources unknown for {_pct(unknown)} of events")
        if "baseline_mix_known" in m and not (m["source_mix_known"] and m["baseline_mix_known"]):
            reasons.append("source names unknown: source-mix change not assessed")
    return status, reasons


def assess_window(
    cells: pd.DataFrame,
    *,
    tested_count: float | None = None,
    dispersion: float = 1.0,
    baseline: pd.DataFrame | None = None,
    rules: str | CoverageRules | Mapping[str, Any] = "default",
) -> tuple[str, list[str]]:
    """Coverage status of the cells behind one result (a comparison window, a series).

    Gating rule, as applied by compare(), trend() and joinpoints():

    1. ``uncovered`` when every cell lies outside the coverage window (``covered`` is
       False or ``count`` missing), or there are no cells. A window partly outside is
       judged on its covered cells and the reason names the uncovered periods.
    2. Count-based rules (effective events, relative interval width, events, relative
       standard error) apply to what is tested: ``tested_count`` (default: the total
       count of the covered cells), with ``dispersion`` (effective events =
       tested_count / dispersion).
    3. Source-based rules apply to the cells inside the window, pooled: distinct
       sources in the window, shares of events with coarse location or dates, and,
       when ``baseline`` cells are given, the source-mix change against them in both
       directions (outlets that appear, outlets that go silent). For a comparison,
       pass the *before* window's cells as ``baseline`` when assessing the *after*
       window. Optional cell columns that are absent are unknown, not bad.

    Parameters
    ----------
    cells : DataFrame
        Cell rows of the window (a cell table, see :mod:`trends.cells`).
    tested_count : float, optional
        What is tested (e.g. a window's total); default the covered cells' total.
    dispersion : float
        Variance / mean of the counts (1 = Poisson); must be positive. Values below 1
        are taken as 1: underdispersion is not credited with more than the events.
    baseline : DataFrame, optional
        Cells of the baseline window, for the source-mix change.
    rules : str, CoverageRules or dict
        Preset name (``"default"``, ``"nchs"``, ``"strict"``, ``"lenient"``), rules,
        or a dict of thresholds overriding the default.

    Returns
    -------
    (status, reasons)
        ``status`` in ``adequate``, ``thin``, ``insufficient``, ``uncovered``;
        ``reasons`` plain sentences such as ``"12 events, fewer than 20"``.
    """
    r = resolve_rules(rules)
    phi = max(_check_dispersion(dispersion), 1.0)
    c = _Cells.checked(cells, "cells")
    base = None
    if baseline is not None:
        b = _Cells.checked(baseline, "baseline")
        base = (b, np.arange(len(b.count)))
    status, reasons, _ = _assess(
        c, np.arange(len(c.count)), tested_count=tested_count, phi=phi, baseline=base, rules=r
    )
    return status, reasons


def assess_windows(
    cells: pd.DataFrame,
    *,
    tested_count: float | pd.Series | None = None,
    dispersion: float | pd.Series = 1.0,
    baseline: pd.DataFrame | None = None,
    rules: str | CoverageRules | Mapping[str, Any] = "default",
) -> pd.DataFrame:
    """:func:`assess_window` of every region's cells at once: one window per region.

    Gives for each region what ``assess_window(cells of the region, ...)`` gives (the
    same statuses and reasons), with the measures behind them, reading the table
    once instead of once per region: trend() assesses 20,000 series this way.

    Parameters
    ----------
    cells : DataFrame
        A cell table (see :mod:`trends.cells`); each region's rows are its window.
    tested_count : float or Series indexed by region, optional
        What is tested in each region's window; default (or NaN) the covered total.
    dispersion : float or Series indexed by region
        Variance / mean of each region's counts; must be positive; below 1 is taken
        as 1.
    baseline : DataFrame, optional
        Baseline cells for the source-mix change; each region is set against its own
        baseline cells (none: an empty baseline, as ``assess_window`` would be given).
    rules : str, CoverageRules or dict
        As for :func:`assess_window`.

    Returns
    -------
    DataFrame
        One row per region, sorted by region:

        ``region``
            the region.
        ``status``
            ``adequate``, ``thin``, ``insufficient`` or ``uncovered``.
        ``reasons``
            list of plain sentences, as :func:`assess_window` gives them.
        ``n_cells``, ``n_uncovered``
            cells in the window, and those outside the coverage window.
        ``count``, ``events``, ``dispersion``, ``effective_events``, ``rse``,
        ``relative_width``, ``n_sources``, ``top_source``, ``top_source_share``,
        ``single_source_share``, ``unknown_sources_share``,
        ``coarse_location_share``, ``coarse_date_share``, ``new_source_share``,
        ``silent_source_share``, ``n_sources_change``
            the window's measures, as :func:`coverage` defines them for a cell but
            pooled over the window's covered cells (:func:`window_measures`); count
            measures use the tested count. Missing for a window with no covered cell.

    Raises
    ------
    TrendsError
        Bad rules or dispersion, a Series missing regions of ``cells``.
    CellsError
        Bad cells or baseline.
    """
    r = resolve_rules(rules)
    c = _Cells.checked(cells, "cells")
    regions, rows = c.windows()
    tested = _per_region(tested_count, regions, "tested_count")
    phi = _per_region(dispersion, regions, "dispersion")
    bad = ~((phi > 0) & np.isfinite(phi))
    if bad.any():
        value = dispersion if not isinstance(dispersion, pd.Series) else phi[bad][0]
        raise TrendsError(f"dispersion={value!r} must be a positive finite number")
    phi = np.maximum(phi, 1.0)
    base_of: dict[Any, tuple[_Cells, np.ndarray]] | None = None
    if baseline is not None:
        b = _Cells.checked(baseline, "baseline")
        b_regions, b_rows = b.windows()
        base_of = dict(zip(b_regions, ((b, idx) for idx in b_rows), strict=True))
        no_rows = (b, np.zeros(0, dtype=int))
    # the exact intervals of every window at once (scipy per call is slow)
    totals = np.array(
        [
            float(c.count[idx[c.covered[idx]]].sum()) if np.isnan(t) else t
            for idx, t in zip(rows, tested, strict=True)
        ]
    )
    widths = _relative_widths(totals / phi, r.level)
    records = []
    for i, idx in enumerate(rows):
        status, reasons, m = _assess(
            c,
            idx,
            tested_count=None if np.isnan(tested[i]) else float(tested[i]),
            phi=float(phi[i]),
            baseline=None if base_of is None else base_of.get(regions[i], no_rows),
            rules=r,
            relative_width=float(widths[i]),
        )
        record = {"status": status, "reasons": reasons}
        if m is None:
            covered = c.covered[idx]
            m = {"n_cells": int(idx.size), "n_uncovered": int((~covered).sum())}
        records.append({**record, **m})
    out = pd.DataFrame.from_records(records, columns=["status", "reasons", *_WINDOW_COLUMNS])
    out.insert(0, "region", pd.array(regions, dtype="string"))
    out["status"] = out["status"].astype("string")
    out["top_source"] = out["top_source"].astype("string").replace("", pd.NA)
    for col in _WINDOW_COLUMNS:
        if col not in ("n_cells", "n_uncovered", "top_source"):
            out[col] = out[col].astype(float)
    return out


_MEASURES = (
    "count",
    "events",
    "dispersion",
    "effective_events",
    "rse",
    "relative_width",
    "n_sources",
    "top_source",
    "top_source_share",
    "single_source_share",
    "unknown_sources_share",
    "coarse_location_share",
    "coarse_date_share",
    "new_source_share",
    "silent_source_share",
    "n_sources_change",
)

#: Measure columns of :func:`assess_windows`.
_WINDOW_COLUMNS = ("n_cells", "n_uncovered", *_MEASURES)


def _per_region(value: Any, regions: np.ndarray, name: str) -> np.ndarray:
    """A number per region (NaN: none) from a number, None, or a Series by region."""
    if isinstance(value, pd.Series):
        missing = [str(g) for g in regions[~pd.Index(regions).isin(value.index)]]
        if missing:
            raise TrendsError(
                f"{name} has no value for region(s) {missing[:5]}; give one per region"
            )
        return value.reindex(pd.Index(regions, dtype=object)).to_numpy(dtype=float)
    return np.full(len(regions), _num(value))


def _assess(
    c: _Cells,
    rows: np.ndarray,
    *,
    tested_count: float | None,
    phi: float,
    baseline: tuple[_Cells, np.ndarray] | None,
    rules: CoverageRules,
    relative_width: float | None = None,
) -> tuple[str, list[str], dict[str, Any] | None]:
    """:func:`assess_window` of the cells ``rows`` of ``c``, with the measures behind
    it (None for a window with no covered cell)."""
    if rows.size == 0:
        return "uncovered", ["no cells in the window"], None
    covered = c.covered[rows]
    if not covered.any():
        return "uncovered", ["outside the data set's coverage"], None
    m = _measures(
        c,
        rows,
        tested_count=tested_count,
        dispersion=phi,
        baseline=baseline,
        level=rules.level,
        relative_width=relative_width,
    )
    status, reasons = judge(m, rules)
    n_out = m["n_uncovered"]
    if n_out:
        reasons.append(f"{n_out} of {rows.size} periods outside the data set's coverage")
    return status, reasons, m


def _as_window(cells: pd.DataFrame, name: str) -> pd.DataFrame:
    if not isinstance(cells, pd.DataFrame):
        raise CellsError(f"{name} must be a pandas DataFrame, got {type(cells).__name__}")
    if len(cells) == 0:
        return cells
    if "exposure" in cells.columns and _is_checked(cells) is not None:
        return cells  # already as as_cells leaves it (a window of a checked table)
    return as_cells(cells, name=name)


def _check_dispersion(dispersion: Any) -> float:
    phi = _num(dispersion)
    if not (phi > 0 and math.isfinite(phi)):
        raise TrendsError(f"dispersion={dispersion!r} must be a positive finite number")
    return phi


def worse(*statuses: str) -> str:
    """The worst of coverage ``statuses`` (order of :data:`STATUSES`)."""
    return max(statuses, key=_RANK.__getitem__)


# --------------------------------------------------------------------------- reporting change


def source_activity(
    cells_before: pd.DataFrame,
    cells_after: pd.DataFrame,
    *,
    dispersion: float = 1.0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Could a change between two windows be reporting? Activity of the sources behind it.

    For compare(): call once per region with the region's cells in each window (cells
    outside the coverage window are ignored) and copy the keys below into the result
    row. Pair it with ``assess_window(cells_after, baseline=cells_before, ...)``,
    whose source-mix rule catches a main outlet that went silent.

    Two tests of "did the sources report less, or did fewer sources report?":

    * **events per active source** (the issue's test): events / (active sources x
      exposure days) after against before. Conditional on the two windows' total,
      the after-window's events are binomial with ``p0 = w_after / (w_before +
      w_after)``, ``w = n_sources x exposure``; exact (two-sided, as R's
      ``binom.test``) for whole counts and ``dispersion`` 1, else the score test
      with variance scaled by ``dispersion`` (Przyborowski & Wilenski 1940; the
      conditional test of two Poisson rates, as in R's ``poisson.test``).
    * **continuing sources**: the same test on the events naming the outlets active
      in *both* windows (needs ``source_counts``), with ``w`` = exposure. If the
      outlets that kept filing file as much as before, a fall in the total comes
      from the outlets that stopped.

    ``reporting_change_suspected`` is True when the number of active sources moved
    in the same direction as the rate of events, and the events of the sources
    that kept filing (when source names are known; else the events per active
    source) did not change significantly at ``1 - level``. It is None when the
    numbers of sources are unknown.

    Returns
    -------
    dict with keys
        ``n_sources_before``, ``n_sources_after`` : distinct active sources (NaN unknown)
        ``events_before``, ``events_after`` : total count of the covered cells
        ``exposure_before``, ``exposure_after`` : days
        ``events_per_source_before``, ``events_per_source_after`` : events / sources
        ``per_source_ratio``, ``per_source_pvalue`` : ratio of events per source-day
        (after / before) and the test's p-value (NaN when unknown)
        ``n_continuing_sources`` : outlets active in both windows (NaN unknown)
        ``continuing_ratio``, ``continuing_pvalue`` : the same for the events of the
        continuing outlets (per day)
        ``reporting_change_suspected`` : bool, or None when unknown
    """
    phi = _check_dispersion(dispersion)
    if not 0 < level < 1:
        raise TrendsError(f"level={level!r} must lie strictly between 0 and 1")
    sides = {}
    for name, cells in (("before", cells_before), ("after", cells_after)):
        cells = _as_window(cells, f"cells_{name}")
        inside = cells[_covered_mask(cells)] if len(cells) else cells
        mix = _pooled_sources(inside) if len(inside) else {}
        n, _ = _distinct_sources(inside, mix) if len(inside) else (math.nan, "")
        sides[name] = {
            "events": float(pd.to_numeric(inside["count"]).sum()) if len(inside) else 0.0,
            "exposure": float(inside["exposure"].sum()) if len(inside) else 0.0,
            "n": n,
            "mix": mix,
        }
    b, a = sides["before"], sides["after"]
    out: dict[str, Any] = {
        "n_sources_before": b["n"],
        "n_sources_after": a["n"],
        "events_before": b["events"],
        "events_after": a["events"],
        "exposure_before": b["exposure"],
        "exposure_after": a["exposure"],
        "events_per_source_before": b["events"] / b["n"] if b["n"] > 0 else math.nan,
        "events_per_source_after": a["events"] / a["n"] if a["n"] > 0 else math.nan,
        "per_source_ratio": math.nan,
        "per_source_pvalue": math.nan,
        "n_continuing_sources": math.nan,
        "continuing_ratio": math.nan,
        "continuing_pvalue": math.nan,
        "reporting_change_suspected": None,
    }
    if b["n"] > 0 and a["n"] > 0 and b["exposure"] > 0 and a["exposure"] > 0:
        out["per_source_ratio"], out["per_source_pvalue"] = _two_rate_test(
            b["events"], a["events"], b["n"] * b["exposure"], a["n"] * a["exposure"], phi
        )
    if b["mix"] is not None and a["mix"] is not None and b["exposure"] > 0 and a["exposure"] > 0:
        both = sorted(set(b["mix"]) & set(a["mix"]))
        out["n_continuing_sources"] = float(len(both))
        if both:
            eb = sum(b["mix"][k] for k in both)
            ea = sum(a["mix"][k] for k in both)
            out["continuing_ratio"], out["continuing_pvalue"] = _two_rate_test(
                eb, ea, b["exposure"], a["exposure"], phi
            )
    if math.isnan(b["n"]) or math.isnan(a["n"]) or b["exposure"] <= 0 or a["exposure"] <= 0:
        return out
    source_move = np.sign(a["n"] - b["n"])
    rate_move = np.sign(a["events"] / a["exposure"] - b["events"] / b["exposure"])
    if not math.isnan(out["continuing_pvalue"]):
        p = out["continuing_pvalue"]
    elif out["n_continuing_sources"] == 0:
        p = 1.0  # every outlet was replaced: the change cannot be told from reporting
    else:
        p = out["per_source_pvalue"]
    alpha = 1 - level
    out["reporting_change_suspected"] = bool(
        source_move != 0 and source_move == rate_move and not (p < alpha)
    )
    return out


def _two_rate_test(y0: float, y1: float, w0: float, w1: float, phi: float) -> tuple[float, float]:
    """Ratio of rates ``(y1 / w1) / (y0 / w0)`` and the two-sided p-value of the
    conditional test that it is 1 (exact binomial for whole counts and ``phi`` 1,
    else the score test with variance scaled by ``phi``)."""
    total = y0 + y1
    ratio = (y1 / w1) / (y0 / w0) if y0 > 0 else (math.inf if y1 > 0 else math.nan)
    if total <= 0:
        return ratio, 1.0
    p0 = w1 / (w0 + w1)
    if phi == 1 and float(y1).is_integer() and float(total).is_integer():
        return ratio, float(stats.binomtest(int(y1), int(total), p0).pvalue)
    z = (y1 - total * p0) / math.sqrt(phi * total * p0 * (1 - p0))
    return ratio, float(2 * stats.norm.sf(abs(z)))


# --------------------------------------------------------------------------- per cell


def estimate_dispersion(counts: np.ndarray, exposure: np.ndarray | None = None) -> float:
    """Dispersion (variance / mean) of a series of counts, robust to a smooth trend.

    The mean square successive difference (von Neumann et al. 1941, *Ann. Math.
    Statist.* 12:153): with a mean that changes slowly from one period to the next,
    ``E[(y[t+1] - r y[t])^2] ~ phi (mu[t+1] + r^2 mu[t])`` where ``r`` is the ratio of
    exposures, so ``phi = sum (y[t+1] - r y[t])^2 / sum (y[t+1] + r^2 y[t])``.
    Floored at 1 (underdispersion is not credited); 1 when fewer than 6 successive
    pairs with events exist. Missing counts break the series (no pair across them).
    """
    y = np.asarray(counts, dtype=float)
    e = np.ones_like(y) if exposure is None else np.asarray(exposure, dtype=float)
    y0, y1, e0, e1 = y[:-1], y[1:], e[:-1], e[1:]
    ok = ~(np.isnan(y0) | np.isnan(y1)) & (e0 > 0) & (e1 > 0)
    r = np.where(ok, e1 / np.where(e0 > 0, e0, 1.0), 0.0)
    num = np.where(ok, (y1 - r * y0) ** 2, 0.0).sum()
    den = np.where(ok, y1 + r**2 * y0, 0.0).sum()
    pairs = int((ok & ((y0 + y1) > 0)).sum())
    if pairs < 6 or den <= 0:
        return 1.0
    return float(max(1.0, num / den))


def coverage(
    cells: pd.DataFrame,
    rules: str | CoverageRules | Mapping[str, Any] = "default",
    *,
    baseline: pd.DataFrame | tuple[str, str] | None = None,
    dispersion: str | float = 1.0,
    **overrides: Any,
) -> pd.DataFrame:
    """Coverage status of every cell, with the reasons and the measures behind them.

    Parameters
    ----------
    cells : DataFrame
        A cell table (see :mod:`trends.cells`); optional coverage columns that are
        absent are unknown, not bad.
    rules : {"default", "nchs", "strict", "lenient"}, CoverageRules or dict
        The rule set (see :data:`PRESETS` and :class:`CoverageRules` for each
        threshold and its reference).
    baseline : DataFrame or (first, last) period labels, optional
        Baseline of the source-mix change: cells (matched by region), or a window of
        periods of ``cells`` itself. Each cell's source mix is set against its
        region's pooled baseline mix. None: the source-mix change is not assessed.
    dispersion : float or "auto", default 1
        Variance / mean of the counts. The default, 1, judges each cell's events as
        the NCHS rules do: a cell describes what was reported in that period, and
        the month-to-month swings of a conflict (an offensive, a lull) are signal,
        not noise, so they should not shrink a cell's effective events. (With
        "auto", most Syria months of the UCDP Syria dataset came out insufficient:
        Aleppo, 2016-03, 93 events, dispersion 10.) Where a result is *tested*,
        compare() and trend() pass the dispersion their test estimated to
        :func:`assess_window`. "auto" estimates it per region from the
        region's covered series of week or month cells (:func:`estimate_dispersion`).
        Quarter and year cells are too long for that: from one period to the next
        the count changes mostly because the conflict did, not by chance, so "auto"
        uses 1 for them; pass the dispersion of the monthly cells to apply it (a
        sum of independent months keeps their dispersion). A number applies to
        every region.
    **overrides
        Any threshold of :class:`CoverageRules`, e.g. ``min_events=30``; None
        switches a rule off.

    Returns
    -------
    DataFrame
        One row per cell, in the order of :func:`trends.cells.as_cells`:

        ``region``, ``period``, ``period_start``, ``period_end``
            the cell.
        ``status``
            ``adequate``, ``thin``, ``insufficient`` or ``uncovered``.
        ``reasons``
            list of plain sentences: every rule that fired, and what was unknown.
        ``covered``
            inside the data set's coverage window.
        ``count``, ``events``
            counted events (what rates use), and incidents in the cell (``events``
            column, else ``count``).
        ``dispersion``, ``effective_events``
            the region's dispersion and ``count / dispersion``.
        ``rse``, ``relative_width``
            relative standard error ``sqrt(dispersion / count)``, and the width of
            the exact (Garwood) interval of the effective events over them.
        ``n_sources``, ``top_source``, ``top_source_share``
            distinct outlets, the outlet behind most events and its share of events.
        ``single_source_share``
            share of the events with a known number of sources that have one source.
        ``unknown_sources_share``
            share of events whose number of sources is unknown.
        ``coarse_location_share``, ``coarse_date_share``
            share of events located only coarser than the region / dated less
            precisely than the period.
        ``new_source_share``, ``silent_source_share``, ``n_sources_change``
            against the baseline: share of the cell's source mentions from outlets
            absent in the baseline; share of the baseline's mentions from outlets
            silent in the cell; change in the number of distinct outlets.

        Shares are NaN where the data set does not have the measure.
    """
    r = resolve_rules(rules, **overrides)
    cells = as_cells(cells)
    n = len(cells)
    covered = _covered_mask(cells)
    count = pd.to_numeric(cells["count"], errors="coerce").to_numpy(dtype=float)
    events = _events(cells)
    regions = cells["region"].astype("string").to_numpy()

    # dispersion per region
    if isinstance(dispersion, str):
        if dispersion != "auto":
            raise TrendsError(f"dispersion={dispersion!r} must be 'auto' or a positive number")
        phi = np.ones(n)
        short = cells.attrs.get("period") in ("week", "month")
        for region in pd.unique(regions) if short else []:
            idx = np.flatnonzero(regions == region)
            y = np.where(covered[idx], count[idx], np.nan)
            phi[idx] = estimate_dispersion(y, cells["exposure"].to_numpy(dtype=float)[idx])
    else:
        phi = np.full(n, _check_dispersion(dispersion))

    safe = np.where(covered, count, 0.0)
    effective = safe / phi
    with np.errstate(divide="ignore"):
        rse = np.where(effective > 0, np.sqrt(1.0 / np.where(effective > 0, effective, 1)), np.inf)
    rel_width = _relative_widths(effective, r.level)

    # sources
    mixes = source_counts(cells)
    n_src = _optional(cells, "n_sources")
    from_mix = np.array(
        [np.nan if m is None else float(sum(v > 0 for v in m.values())) for m in mixes]
    )
    n_src = np.where(np.isnan(n_src), from_mix, n_src)
    top = (
        cells["top_source"].astype("string").fillna("").to_numpy(dtype=object)
        if "top_source" in cells.columns
        else np.full(n, "", dtype=object)
    )
    top_ev = _optional(cells, "top_source_events")
    for i, m in enumerate(mixes):
        if m and (not top[i] or np.isnan(top_ev[i])):
            name = max(sorted(m), key=lambda k: m[k])
            top[i], top_ev[i] = name, m[name]

    def share(col: str, denom: np.ndarray) -> np.ndarray:
        num = _optional(cells, col)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denom > 0, num / np.where(denom > 0, denom, 1), np.nan)

    unknown = _optional(cells, "events_unknown_sources")
    known_denom = events - np.nan_to_num(unknown)

    out = pd.DataFrame(
        {
            "region": cells["region"],
            "period": cells["period"],
            "period_start": cells["period_start"],
            "period_end": cells["period_end"],
            "covered": covered,
            "count": np.where(covered, count, np.nan),
            "events": np.where(covered, events, np.nan),
            "dispersion": phi,
            "effective_events": np.where(covered, effective, np.nan),
            "rse": np.where(covered, rse, np.nan),
            "relative_width": np.where(covered, rel_width, np.nan),
            "n_sources": n_src,
            "top_source": pd.array(top, dtype="string"),
            "top_source_share": np.where(top != "", _div(top_ev, events), np.nan),
            "single_source_share": share("events_single_source", known_denom),
            "unknown_sources_share": share("events_unknown_sources", events),
            "coarse_location_share": share("events_coarse_location", events),
            "coarse_date_share": share("events_coarse_date", events),
            "new_source_share": np.nan,
            "silent_source_share": np.nan,
            "n_sources_change": np.nan,
        }
    )
    out.loc[out["top_source"] == "", "top_source"] = pd.NA

    base_mix = _baseline_mixes(cells, baseline)
    mix_known = np.array([m is not None for m in mixes])
    if base_mix is not None:
        new = np.full(n, np.nan)
        silent = np.full(n, np.nan)
        change = np.full(n, np.nan)
        for i, m in enumerate(mixes):
            region = regions[i]
            if region not in base_mix:
                continue
            bm, bn = base_mix[region]
            change[i] = n_src[i] - bn
            if m is None or bm is None:
                continue
            now, before = sum(m.values()), sum(bm.values())
            if now > 0:
                new[i] = sum(v for k, v in m.items() if k not in bm) / now
            if before > 0:
                silent[i] = sum(v for k, v in bm.items() if k not in m or m[k] <= 0) / before
        out["new_source_share"] = new
        out["silent_source_share"] = silent
        out["n_sources_change"] = change

    statuses: list[str] = []
    reasons: list[list[str]] = []
    uncovered_text = _uncovered_texts(cells, covered)
    records = out.to_dict("records")
    for i, rec in enumerate(records):
        if not covered[i]:
            statuses.append("uncovered")
            reasons.append([uncovered_text[i]])
            continue
        rec["top_source"] = "" if pd.isna(rec["top_source"]) else str(rec["top_source"])
        rec["source_mix_known"] = bool(mix_known[i])
        if base_mix is not None and regions[i] in base_mix:
            rec["baseline_mix_known"] = base_mix[regions[i]][0] is not None
        status, why = judge(rec, r)
        statuses.append(status)
        reasons.append(why)
    out.insert(4, "status", pd.array(statuses, dtype="string"))
    out.insert(5, "reasons", pd.Series(reasons, index=out.index, dtype=object))
    logger.debug("coverage: %s", out["status"].value_counts().to_dict())
    return out


def _optional(cells: pd.DataFrame, col: str) -> np.ndarray:
    """An optional numeric column as floats (NaN where absent or missing)."""
    if col not in cells.columns:
        return np.full(len(cells), np.nan)
    return pd.to_numeric(cells[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _baseline_mixes(
    cells: pd.DataFrame, baseline: pd.DataFrame | tuple[str, str] | None
) -> dict[str, tuple[dict[str, float] | None, float]] | None:
    """Each region's pooled baseline source mix and number of distinct sources."""
    if baseline is None:
        return None
    if isinstance(baseline, tuple | list) and len(baseline) == 2:
        from .periods import period_range

        kind = cells.attrs.get("period")
        labels = set(period_range(str(baseline[0]), str(baseline[1]), kind))
        if not labels:
            raise TrendsError(f"baseline={baseline!r} holds no period (is it reversed?)")
        base = cells[cells["period"].astype("string").isin(labels)]
    elif isinstance(baseline, pd.DataFrame):
        base = as_cells(baseline, name="baseline")
    else:
        raise TrendsError(
            f"baseline={baseline!r} must be None, a cell table, or (first, last) period labels"
        )
    out: dict[str, tuple[dict[str, float] | None, float]] = {}
    for region, group in base.groupby("region", sort=True, observed=True):
        inside = group[_covered_mask(group)]
        mix = _pooled_sources(inside)
        n, _ = _distinct_sources(inside, mix)
        out[str(region)] = (mix, n)
    return out


def _uncovered_texts(cells: pd.DataFrame, covered: np.ndarray) -> list[str]:
    """Per cell, 'outside the data set's coverage (starts 2016-01)' or similar, using
    the covered periods of the cell's region (of the whole table if it has none)."""
    texts = [""] * len(cells)
    if covered.all():
        return texts
    regions = cells["region"].astype("string").to_numpy()
    starts = cells["period_start"].to_numpy()
    periods = cells["period"].astype("string").to_numpy()

    def span(mask: np.ndarray) -> tuple[Any, Any, str, str] | None:
        if not mask.any():
            return None
        idx = np.flatnonzero(mask)
        lo, hi = idx[np.argmin(starts[idx])], idx[np.argmax(starts[idx])]
        return starts[lo], starts[hi], str(periods[lo]), str(periods[hi])

    whole = span(covered)
    for i in np.flatnonzero(~covered):
        s = span(covered & (regions == regions[i])) or whole
        if s is None:
            texts[i] = "outside the data set's coverage"
        elif starts[i] < s[0]:
            texts[i] = f"outside the data set's coverage (starts {s[2]})"
        elif starts[i] > s[1]:
            texts[i] = f"outside the data set's coverage (ends {s[3]})"
        else:
            texts[i] = f"outside the data set's coverage ({s[2]} to {s[3]})"
    return texts
