"""``alarms()``: is this period unusual? One row per region x period, any registered method.

The cell table becomes a matrix of series (one per region, or per stretch of a region
between declared breaks), the method runs on all of them at once, and the rows come
back with the coverage gate and the plain-words verdict.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .. import verdicts
from ..cells import as_cells, cells_period
from ..checks import check_choice, check_known, check_number
from ..errors import OptionError
from ..periods import PERIODS_PER_YEAR, period_range, to_period_end_label, to_period_label
from ._common import NOT_ESTIMABLE as NOT_ESTIMABLE_CODE
from ._common import TOO_SHORT, Detection
from .registry import ALIASES, METHODS, AlarmMethod
from .sources import reporting_artefacts

__all__ = ["alarms", "DIRECTIONS", "VERDICTS"]

logger = logging.getLogger(__name__)

DIRECTIONS = ("high", "low", "both")
#: Every verdict an ``alarms()`` row can carry.
VERDICTS = (
    *verdicts.words("alarm"),
    verdicts.INCONCLUSIVE,
    verdicts.NOT_COVERED,
    verdicts.TOO_SHORT,
    verdicts.NOT_ESTIMABLE,
)


def alarms(
    cells: pd.DataFrame,
    *,
    method: str = "noufaily",
    direction: str = "high",
    start: str | None = None,
    end: str | None = None,
    restart: str | Iterable[Any] | None = None,
    breaks: pd.DataFrame | None = None,
    fdr: float | None = None,
    rules: Any = "default",
    **options: Any,
) -> pd.DataFrame:
    """Flag the periods whose count is unusual against each region's own past.

    Parameters
    ----------
    cells : DataFrame
        A cell table (:mod:`trends.cells`): ``region``, ``period``, ``count`` (missing, or
        ``covered`` False, outside the data's coverage: "not covered", and never used as
        a baseline value), optional ``exposure``, ``source_counts`` and coverage columns.
        Weeks, months, quarters or years; each region is a series from its first to its
        last period. Counts are compared as counts, as surveillance does without a
        population offset: ``exposure`` is not an offset (months differ by up to 10% in
        days; the ACLED rules use it only for their events-a-week floor). Weeks count 52
        to the year by position, as surveillance counts them: after an ISO year of 53
        weeks the seasonal windows of the Farrington methods sit one week early.
    method : str
        A name of :data:`trends.alarm.METHODS` (``farrington``, ``noufaily``,
        ``ears-c1``, ``ears-c2``, ``ears-c3``, ``glr-poisson``, ``glr-nb``, ``bayes``,
        ``surge``, ``threat``, ``trendfinder``) or an alias (``ears``: C1, ``glr``: NB).
        The default, ``noufaily``, holds its false-alarm level better than ``farrington``
        (see :func:`trends.alarm.default_method`); a report takes ``bayes`` where the
        series are too short for it.
    direction : {"high", "low", "both"}
        Which alarms to raise. ``low`` and ``both`` use the method's lower bound and
        lower-tail p-value (methods without one raise :class:`~trends.errors.OptionError`);
        ``both`` makes ``pvalue`` two-sided (twice the smaller tail).
    start, end : str, optional
        Report only these periods (labels or dates, inclusive); earlier periods still
        serve as baseline.
    restart : list of period labels or dates, or "joinpoints", optional
        Declared breaks (a new source, a ceasefire, a redrawn boundary): the baseline may
        not reach back across a break; each region's series restarts there, and until
        the method has enough periods after the break its rows say so ("too short to
        call") and raise no alarm. A list applies to every region; ``"joinpoints"``
        takes each region's joinpoints from ``breaks``.
    breaks : DataFrame, optional
        :func:`trends.joinpoints` output (``region``, ``segment``,
        ``segment_start_period``), with ``restart="joinpoints"``: every segment after the
        first starts a new baseline.
    fdr : float, optional
        For a retrospective scan: alarm where the Benjamini-Hochberg q-value over every
        reported region x period p-value is at most ``fdr`` (and the method's own side
        rules allow one), instead of the per-period level. Needs a method with p-values.
    rules : str, CoverageRules or dict
        Coverage rules for :func:`trends.coverage_model.coverage` (``"default"``,
        ``"nchs"``, ``"strict"``, ``"lenient"`` or thresholds).
    **options
        The method's options (e.g. ``alpha=0.01``, ``b=5``, ``w=3``); see
        ``trends.alarm.METHODS[name].options`` and the method's module. Unknown
        options raise :class:`~trends.errors.OptionError` listing the valid ones.

    Returns
    -------
    DataFrame
        One row per region x reported period, in region and period order:

        ``region``, ``period``
            the cell.
        ``observed``
            its count (NaN outside coverage).
        ``expected``
            the baseline's expected count (the method's prediction, baseline mean or
            in-control mean).
        ``upperbound``, ``lowerbound``
            the count above which the period is unusually high / below which unusually
            low (NaN where the method has none; for ``glr-nb`` ``upperbound`` is the GLR
            statistic, as in R).
        ``score``
            the method's statistic (Farrington: R's ``(y - mu) / (U - mu)``; EARS: C1,
            C2 or the C3 sum; GLR: the statistic; ACLED rules: the percent change).
        ``pvalue``
            in the direction asked (NaN for methods without one).
        ``qvalue``
            Benjamini-Hochberg over the reported rows with a p-value.
        ``alarm``
            bool: the method's decision (with ``fdr``: ``qvalue <= fdr``), before the
            coverage gate.
        ``method``, ``parameters``
            the method and its options as text.
        ``coverage``, ``coverage_reasons``
            the cell's coverage status (:func:`trends.coverage_model.coverage`) and why,
            with the reporting-artefact rules added (see :mod:`trends.alarm.sources`).
        ``verdict``
            ``unusually high``, ``unusually low``, ``not unusual``, ``inconclusive (thin
            coverage)``, ``not covered``, ``too short to call`` or ``not estimable``.
        ``note``
            why a row has no result or no alarm, and what else the method noted.
        Method extras: ``dispersion`` and ``trend`` (Farrington, Noufaily: the bound's
        dispersion and whether the time trend was kept), ``band`` (trendfinder).

        ``attrs``: ``method``, ``period``, ``options``, ``false_alarm_level`` (per
        period and region; NaN for methods without one), ``periods_per_year``,
        ``n_regions``, ``expected_false_alarms_per_year`` (regions x periods a year x
        level: what the scan produces under no change), ``fdr``.

    Raises
    ------
    OptionError
        Unknown method, direction or option, or a bad value (the message repeats it and
        lists the valid ones).
    CellsError
        A bad cell table.
    """
    m = _method(method)
    check_choice("direction", direction, m.directions)
    if fdr is not None:
        fdr = check_number("fdr", fdr, low=0, high=1, low_open=True, high_open=True)
        if m.level is None or m.name == "ears-c3":
            raise OptionError(
                f"fdr needs p-values and method {m.name!r} gives none; methods with "
                f"p-values: {', '.join(n for n, x in METHODS.items() if _has_p(x))}"
            )
    table = as_cells(cells)
    kind = cells_period(table)
    check_known(options, m.options, m.name)
    opts = m.validate({**m.defaults(kind), **options}, period=kind)

    series = _Series(table, kind, _breaks(restart, breaks, table, kind))
    det = m.detect(
        series.y, period=kind, options=opts, exposure=series.exposure, lower=direction != "high"
    )
    report = series.reported(start, end)
    out = _rows(table, series, det, report, direction, fdr)
    out.insert(out.columns.get_loc("alarm") + 1, "method", m.name)
    out.insert(
        out.columns.get_loc("method") + 1, "parameters", _parameters(opts, direction, fdr, restart)
    )
    out = _gate(out, table.iloc[report], series, det, report, rules)
    verdicts.warn_withheld(out.loc[out["alarm"], "verdict"].tolist(), "alarm")
    for col in ("method", "parameters", "coverage", "coverage_reasons", "verdict", "notes"):
        out[col] = out[col].astype("string")
    level = float(opts[m.level]) * (2 if direction == "both" else 1) if m.level else math.nan
    per_year = PERIODS_PER_YEAR[kind]
    n_regions = int(table["region"].nunique())
    out.attrs.update(
        method=m.name,
        period=kind,
        options=opts,
        false_alarm_level=level,
        periods_per_year=per_year,
        n_regions=n_regions,
        expected_false_alarms_per_year=n_regions * per_year * level,
        fdr=fdr,
    )
    logger.info("alarms (%s): %d rows, %d alarms", m.name, len(out), int(out["alarm"].sum()))
    return out


def _has_p(m: AlarmMethod) -> bool:
    return m.level is not None and m.name != "ears-c3"


def _method(name: Any) -> AlarmMethod:
    key = ALIASES.get(name, name) if isinstance(name, str) else name
    if key not in METHODS:
        valid = [*METHODS, *ALIASES]
        raise OptionError(f"method={name!r} is not one of {', '.join(map(repr, valid))}")
    return METHODS[key]


# ---------------------------------------------------------------------------- the series


def _breaks(
    restart: Any, breaks: pd.DataFrame | None, table: pd.DataFrame, kind: str
) -> dict[str, list[str]] | list[str]:
    """Break labels: one list for every region, or a dict of lists by region."""
    if restart is None:
        if breaks is not None:
            raise OptionError("breaks= is used with restart='joinpoints'; restart is None")
        return []
    if isinstance(restart, str):
        if restart != "joinpoints":
            raise OptionError(
                f"restart={restart!r} must be 'joinpoints' or a list of period labels or dates"
            )
        need = {"region", "segment", "segment_start_period"}
        if not isinstance(breaks, pd.DataFrame) or not need <= set(breaks.columns):
            raise OptionError(
                "restart='joinpoints' needs breaks=trends.joinpoints(...) output "
                f"(columns {sorted(need)})"
            )
        later = breaks[pd.to_numeric(breaks["segment"]) > 1]
        out: dict[str, list[str]] = {}
        for region, label in zip(later["region"], later["segment_start_period"], strict=True):
            out.setdefault(str(region), []).append(to_period_label(str(label), kind))
        return out
    if isinstance(restart, (pd.Timestamp, np.datetime64)) or not isinstance(restart, Iterable):
        restart = [restart]
    return [to_period_label(v, kind) for v in restart]


class _Series:
    """The cell table as a matrix of series: one row per region, or per region's stretch
    between breaks; columns are periods from the stretch's start."""

    def __init__(self, table: pd.DataFrame, kind: str, breaks: Any) -> None:
        labels = table["period"].astype(str).to_numpy()
        timeline = period_range(
            table.loc[table["period_start"].idxmin(), "period"],
            table.loc[table["period_start"].idxmax(), "period"],
            kind,
        )
        where = {label: i for i, label in enumerate(timeline)}
        self.timeline = timeline
        self.gpos = np.array([where[x] for x in labels])
        codes, regions = pd.factorize(table["region"], sort=False)
        self.regions = np.asarray(regions, dtype=object)
        self.rcode = codes
        R, G = len(regions), len(timeline)
        count = table["count"].to_numpy(dtype=float)
        covered = np.isfinite(count)
        if "covered" in table.columns:
            covered &= table["covered"].astype("boolean").fillna(True).to_numpy(dtype=bool)
        self.covered = covered
        yg = np.full((R, G), np.nan)
        yg[codes, self.gpos] = np.where(covered, count, np.nan)
        eg = np.full((R, G), np.nan)
        eg[codes, self.gpos] = table["exposure"].to_numpy(dtype=float)
        lo = np.full(R, G)
        hi = np.full(R, -1)
        np.minimum.at(lo, codes, self.gpos)
        np.maximum.at(hi, codes, self.gpos)
        # stretches: region, first and last global position, the break that opened it
        seg_region, seg_lo, seg_hi, seg_break = [], [], [], []
        for r in range(R):
            cuts = breaks.get(str(regions[r]), []) if isinstance(breaks, dict) else breaks
            pos = sorted({where[c] for c in cuts if c in where and lo[r] < where[c] <= hi[r]})
            starts = [lo[r], *pos]
            ends = [*(p - 1 for p in pos), hi[r]]
            for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
                seg_region.append(r)
                seg_lo.append(a)
                seg_hi.append(b)
                seg_break.append(timeline[a] if i > 0 else "")
        self.seg_region = np.array(seg_region)
        self.seg_lo = np.array(seg_lo)
        self.seg_break = np.array(seg_break, dtype=object)
        length = np.array(seg_hi) - self.seg_lo + 1
        T = int(length.max())
        t = np.arange(T)
        pos = self.seg_lo[:, None] + t[None, :]
        inside = t[None, :] < length[:, None]
        pos = np.where(inside, pos, 0)
        self.y = np.where(inside, yg[self.seg_region[:, None], pos], np.nan)
        self.exposure = np.where(inside, eg[self.seg_region[:, None], pos], np.nan)
        # each cell's stretch (stretches are in region, then time order) and column
        seg_key = self.seg_region * (G + 1) + self.seg_lo
        self.seg = np.searchsorted(seg_key, codes * (G + 1) + self.gpos, side="right") - 1
        self.col = self.gpos - self.seg_lo[self.seg]
        self.table = table
        self.kind = kind

    def reported(self, start: Any, end: Any) -> np.ndarray:
        """Positions (in the cell table) of the cells to report, in table order."""
        keep = np.ones(len(self.table), dtype=bool)
        where = {label: i for i, label in enumerate(self.timeline)}
        if start is not None:
            first = to_period_label(start, self.kind)
            keep &= self.gpos >= where.get(first, -1 if first < self.timeline[0] else 10**9)
        if end is not None:
            last = to_period_end_label(end, self.kind)
            keep &= self.gpos <= where.get(last, 10**9 if last > self.timeline[-1] else -1)
        return np.flatnonzero(keep)


# ---------------------------------------------------------------------------- the rows


def _rows(
    table: pd.DataFrame,
    series: _Series,
    det: Detection,
    report: np.ndarray,
    direction: str,
    fdr: float | None,
) -> pd.DataFrame:
    s, c = series.seg[report], series.col[report]
    observed = series.y[s, c]
    computed = det.computed[s, c]
    p_high, p_low = det.pvalue[s, c], det.pvalue_low[s, c]
    high, low = det.alarm_high[s, c], det.alarm_low[s, c]
    if direction == "high":
        pvalue = p_high
    elif direction == "low":
        pvalue = p_low
    else:
        pvalue = np.minimum(1.0, 2 * np.fmin(p_high, p_low))
    pvalue = np.where(computed, pvalue, np.nan)
    qvalue = verdicts.adjust(pvalue)
    if fdr is not None:
        with np.errstate(invalid="ignore"):
            hit = computed & (qvalue <= fdr)
            up = observed > det.expected[s, c]
        high = hit & det.eligible[s, c] & up & (observed != 0)
        low = hit & ~up
    high = high & computed & (direction != "low")
    low = low & computed & (direction != "high")
    alarm = high | low
    out = pd.DataFrame(
        {
            "region": table["region"].to_numpy()[report],
            "period": table["period"].to_numpy()[report],
            "observed": observed,
            "expected": det.expected[s, c],
            "upperbound": det.upperbound[s, c],
            "lowerbound": det.lowerbound[s, c],
            "score": det.score[s, c],
            "pvalue": pvalue,
            "qvalue": qvalue,
            "alarm": np.asarray(alarm & computed, dtype=bool),
        }
    )
    out["region"] = out["region"].astype("string")
    out["period"] = out["period"].astype("string")
    out.attrs.clear()
    out["_side"] = np.where(high, 1, np.where(low, -1, 0))
    out["_status"] = det.status[s, c]
    note = det.note[s, c].copy()
    brk = series.seg_break[s]
    restarted = (brk != "") & (det.status[s, c] == TOO_SHORT)
    note[restarted] = [
        f"restarted at {b}: {n}" for b, n in zip(brk[restarted], note[restarted], strict=True)
    ]
    out["_note"] = note
    for name, values in det.extra.items():
        out[name] = values[s, c]
    return out


def _gate(
    out: pd.DataFrame,
    cells: pd.DataFrame,
    series: _Series,
    det: Detection,
    report: np.ndarray,
    rules: Any,
) -> pd.DataFrame:
    """Add the coverage, reasons and verdict columns."""
    import dataclasses

    from ..coverage_model import coverage, resolve_rules, worse

    r = resolve_rules(rules)
    # an alarm tests a period against its baseline: the count rule applies to both
    # together (observed and expected), not to the period alone, or a quiet month could
    # never be called unusually low
    cov = coverage(cells.reset_index(drop=True), rules=dataclasses.replace(r, min_events=None))
    if not (
        (cov["region"].to_numpy() == out["region"].to_numpy()).all()
        and (cov["period"].astype(str).to_numpy() == out["period"].astype(str).to_numpy()).all()
    ):
        cov = (
            cov.set_index(["region", "period"])
            .loc[list(zip(out["region"], out["period"], strict=True))]
            .reset_index()
        )
    status = cov["status"].astype(str).to_numpy(dtype=object)
    reasons = [list(r) for r in cov["reasons"]]
    if r.min_events is not None:
        tested = out["observed"].fillna(0).to_numpy() + out["expected"].fillna(0).to_numpy()
        for i in np.flatnonzero(tested < r.min_events):
            status[i] = worse(status[i], "insufficient")
            reasons[i] = [
                *reasons[i],
                f"{tested[i]:.0f} events observed and expected, fewer than {r.min_events:g}",
            ]
    uncovered = ~series.covered[report]
    status[uncovered] = "uncovered"
    flagged = reporting_artefacts(out, series, det, report)
    for i, why in flagged.items():
        status[i] = worse(status[i], "thin")
        reasons[i] = [*reasons[i], why]
        out.iloc[i, out.columns.get_loc("_note")] = "; ".join(
            x for x in (out["_note"].iloc[i], why) if x
        )
    out["coverage"] = status
    out["coverage_reasons"] = ["; ".join(r) for r in reasons]
    out["verdict"] = words(out["_side"].to_numpy(), out["_status"].to_numpy(), status)
    out["notes"] = out.pop("_note")
    out = out.drop(columns=["_status", "_side"])
    tail = ("coverage", "coverage_reasons", "verdict", "notes")
    cols = [c for c in out.columns if c not in tail]
    at = cols.index("parameters") + 1
    out = out[[*cols[:at], *tail, *cols[at:]]]
    return out


def words(side: np.ndarray, result_status: np.ndarray, coverage_status: np.ndarray) -> np.ndarray:
    """The plain words of each row, by the rule of :func:`trends.verdicts.decide`.

    ``side``: +1 a high alarm, -1 a low alarm, 0 none (the method's own decision, or
    the q-value's with ``fdr``); ``result_status``: ``""`` where the method gave a
    result, else ``"too short"`` or ``"not estimable"``; ``coverage_status``: the cell's
    coverage.
    """
    return verdicts.decide(
        "alarm",
        direction=side,
        called=side != 0,
        status=list(coverage_status),
        estimable=result_status != NOT_ESTIMABLE_CODE,
        too_short=result_status == TOO_SHORT,
    )


def _parameters(opts: Mapping[str, Any], direction: str, fdr: float | None, restart: Any) -> str:
    parts = [f"{k}={_fmt(v)}" for k, v in opts.items()]
    parts.append(f"direction={direction}")
    if fdr is not None:
        parts.append(f"fdr={fdr:g}")
    if restart is not None:
        shown = restart if isinstance(restart, str) else ",".join(map(str, restart))
        parts.append(f"restart={shown}")
    return "; ".join(parts)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, tuple):
        return "(" + ",".join(map(_fmt, v)) + ")"
    return str(v)
