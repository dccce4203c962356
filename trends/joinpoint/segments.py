"""The rows of a :func:`~trends.joinpoints` result and their verdicts.

Each fitted region gives one row per segment; a region that cannot be fitted gives one
row saying why. Every row's verdict comes from :func:`trends.verdicts.decide` (kind
``"trend"``), so segments are held to the standard of :func:`~trends.trend`:

* **One family.** The segment p-values of the whole call (every segment of every
  region) are adjusted together by Benjamini-Hochberg (:func:`trends.verdicts.adjust`);
  ``rising``/``falling`` needs a q-value below ``alpha``.
* **The coverage gate.** A segment's cells are assessed as one window
  (:func:`trends.coverage_model.assess_windows`, the rules of ``rules``), and the
  source-mix rule is applied inside each segment, wherever an outlet stopped or
  started filing, and between neighbouring segments (:func:`_mix_windows`): a segment
  across which the main outlet went silent is not read as a fall.
* **Where segments meet.** The joinpoint period begins the later segment: a segment
  runs from its first period to the period before the next joinpoint, so
  ``segment_end`` is the day before the next segment's ``segment_start`` and no period
  belongs to two segments (the fit is still continuous at the joinpoint). The coverage
  gate and the minimum length count the segment's own periods.
* **Too short to call.** A segment of fewer than :data:`MIN_SEGMENT_PERIODS` (4)
  periods gets ``too short to call`` (its numbers are shown). The NCI Joinpoint program
  fixes how close joinpoints may lie: at least ``NumObsEnd`` observations from a
  joinpoint to either end and ``NumObsBetween`` between two joinpoints, joinpoints
  excluded (Joinpoint Help, "Minimum Number of Observations Required"; 2 and 2 by
  default, as ``min_end`` and ``min_between`` here). So its shortest segment between two
  joinpoints spans 4 observations counting them; only an end segment can be shorter,
  its slope then resting on 3 observations. ``benchmarks/joinpoints_short_segments.py``
  measured the rest (Poisson, 30 events a period, 1,000 resamples): a flat series of 48
  periods fitted with one (spurious) joinpoint, whose shorter segment is truly flat, got
  that segment called at p < 0.05 in 1.7-5.3% of series for every length from 2 to 9
  periods (59-182 series a length) with the empirical intervals, and in none after BH;
  the parametric intervals, blind to the joinpoint's uncertainty, called 5-23% at every
  length; and where a fit isolated a truly flat stretch between a rise and a fall, they
  called its 3-period segments in 10 of 10 series (4-period ones in 1 of 2). No length
  stands out beyond that, so the minimum is the program's shortest segment between
  joinpoints: 4 periods.
* **Not estimable.** An APC the data cannot support has its estimate, bounds and
  p-value set to missing and the reason in ``notes`` (DESIGN.md, "Verdicts"; issue 10):
  the fitted rate falls to 0 at an end of the segment (fewer than :data:`ZERO_MEAN`
  expected events in a period: a run of zero counts where the segment starts rising or
  ends falling; the Poisson maximum likelihood is then at a rate of 0 and an infinite
  slope, and IRLS stops at some huge one: 4.7e125 %/yr for Maysan, Iraq, 1989-1991); the
  APC or a bound is infinite or overflows; a bound lies beyond +-:data:`MAX_APC` %/yr (a
  lower bound cannot pass -100 %/yr, so in practice the upper one: an interval that wide
  says the data cannot pin the slope down); or the estimate lies outside its own
  interval. The whole-series AAPC is held to the same rules, and is not estimable when
  one of the region's segments is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..verdicts import MAX_APC, NOT_COVERED, adjust, decide
from .intervals import aapc_from, fit_record, segment_apcs

__all__ = [
    "COLUMNS",
    "MAX_APC",
    "MIN_SEGMENT_PERIODS",
    "MIN_SEGMENT_YEARS",
    "min_segment_periods",
    "ZERO_MEAN",
    "Row",
    "decide_rows",
    "failed_row",
    "region_rows",
    "series_problem",
    "unfitted_row",
    "unsupported",
]

#: The columns of a joinpoints() result, in order.
COLUMNS = [
    "region", "segment", "segment_start", "segment_end", "segment_start_period",
    "segment_end_period", "n_joinpoints", "apc", "apc_low", "apc_high", "pvalue",
    "qvalue", "aapc", "aapc_low", "aapc_high", "interval", "method", "parameters",
    "selection", "selection_detail",
    "coverage", "coverage_reasons", "verdict", "notes",
]  # fmt: skip

#: Expected events in a period below which a fitted rate counts as 0.
ZERO_MEAN = 1e-6
#: Fewest periods of a segment that gets rising/falling/stable (see the module docstring).
MIN_SEGMENT_PERIODS = 4
#: Shortest span of a segment that gets rising/falling/stable, in years: in monthly and
#: weekly data a shorter segment cannot be told from the season (see the module docstring).
MIN_SEGMENT_YEARS = 1.0


def min_segment_periods(periods_per_year: float) -> int:
    """Fewest periods of a segment that gets a word: 4, and at least a year of them
    (12 months, 52 weeks, 4 quarters, 4 years)."""
    return max(MIN_SEGMENT_PERIODS, int(round(periods_per_year * MIN_SEGMENT_YEARS)))


@dataclass
class Row:
    """One result row before its verdict: the columns so far, the cells behind it, and
    what :func:`decide_rows` needs."""

    columns: dict
    cells: pd.DataFrame
    previous: pd.DataFrame | None = None  # the previous segment's cells (source-mix rule)
    estimable: bool = True
    too_short: bool = False
    not_covered: bool = False
    notes: list[str] = field(default_factory=list)


def series_problem(g: pd.DataFrame) -> tuple[str, str] | None:
    """Why a region's series cannot be fitted at all, as (kind, reason), or None.
    ``kind`` is ``not covered``, ``too short`` or ``not estimable``."""
    if len(g) == 0:
        return "not covered", "no covered cells (every count is missing)"
    if (g["exposure"] <= 0).all() or g["exposure"].isna().all():
        return "not covered", "no exposure in any covered cell: no rate to model"
    if (g["exposure"] <= 0).any():
        return "not estimable", (
            f"{int((g['exposure'] <= 0).sum())} covered cells have no exposure; "
            "drop them or give their exposure"
        )
    if len(g) < 3:
        return "too short", f"{len(g)} covered period{'' if len(g) == 1 else 's'}: a trend needs at least 3"
    if (g["count"] == 0).all():
        return "not estimable", "every count is zero: a log-linear trend has no finite estimate"
    return None


def unfitted_row(base: dict, g: pd.DataFrame) -> Row:
    """The one row of a region whose series cannot be fitted (:func:`series_problem`)."""
    kind, reason = series_problem(g)
    return Row(
        _empty_columns(base, g),
        g,
        estimable=kind != "not estimable",
        too_short=kind == "too short",
        not_covered=kind == "not covered",
        notes=[reason],
    )


def failed_row(base: dict, g: pd.DataFrame, reason: str) -> Row:
    """The one row of a region whose search or fit failed: not estimable, and why."""
    return Row(_empty_columns(base, g), g, estimable=False, notes=[reason])


def unsupported(apc: float, low: float, high: float, ends: Any = None) -> str:
    """Why the data cannot support an APC (or AAPC) and its interval, or ``""``.

    ``ends``: the fitted expected counts at the ends of the segment (Poisson fits), or
    None. See the module docstring for the rules; the first that applies is given.
    """
    if ends is not None and np.min(ends) < ZERO_MEAN:
        return "the fitted rate falls to 0 at an end of the segment (a run of zero counts)"
    values = np.array([apc, low, high], dtype=float)
    if not np.isfinite(values).all():
        return "the APC or a bound of its interval is infinite (overflow)"
    if high > MAX_APC or low < -MAX_APC:
        return f"a bound of its interval lies beyond +-{MAX_APC:,.0f} %/yr"
    if not low <= apc <= high:
        return "the APC lies outside its own interval"
    return ""


def region_rows(
    base: dict, g: pd.DataFrame, selected: tuple, kind: str, settings: dict
) -> tuple[dict, list[Row]]:
    """A fitted region's record for :func:`~trends.aapc` and its rows, one per segment."""
    grid, series, k, detail, empirical = selected
    fit = series.fits[k]
    ppy, level = settings["ppy"], settings["level"]
    with np.errstate(all="ignore"):  # overflows become "not estimable" below
        record = fit_record(fit, grid.x, ppy, g, kind)
        whole = aapc_from(record, grid.x[0], grid.x[-1], level)
        if empirical is None:
            apcs = segment_apcs(fit, ppy, level)
        else:
            apcs, low, high = empirical
            whole = {**whole, "aapc_low": low, "aapc_high": high}
    capped = []
    if series.k_max < settings["max_joinpoints"]:
        capped = [
            f"{len(g)} covered periods allow at most {series.k_max} joinpoints "
            f"(asked for {settings['max_joinpoints']})"
        ]
    knots = fit.knots.tolist()
    starts, stops = [0, *knots], [*knots, len(g)]  # each segment's own cells
    means = fit.s**2 if settings["variance"] == "poisson" else None
    rows = []
    for j in range(k + 1):
        fitted_on = [starts[j], min(stops[j], len(g) - 1)]  # from joinpoint to joinpoint
        ends = None if means is None else means[fitted_on]
        row = _segment_row(base, g, starts, stops, j, apcs[j], ends, min_segment_periods(ppy))
        row.columns.update({"n_joinpoints": k, "selection_detail": detail})
        row.notes[:0] = capped
        rows.append(row)
    aapc_columns, why = _checked_aapc(whole, rows)
    for row in rows:
        row.columns.update(aapc_columns)
        row.notes.extend([why] if why else [])
    return record, rows


def _segment_row(
    base: dict,
    g: pd.DataFrame,
    starts: list[int],
    stops: list[int],
    j: int,
    apc,
    ends,
    shortest: int,
) -> Row:
    """Segment ``j``'s row (cells ``starts[j]`` to ``stops[j] - 1``)."""
    lo, stop = starts[j], stops[j]
    value, low, high, pvalue = (float(v) for v in apc)
    why = unsupported(value, low, high, ends)
    if why:
        value = low = high = pvalue = np.nan
    start = g["period_start"].iloc[lo]
    if stop < len(g):  # the day before the next segment's first day
        end = g["period_start"].iloc[stop] - pd.Timedelta(days=1)
        end_period = str(g["period"].iloc[stop - 1])
    else:
        end, end_period = g["period_end"].iloc[-1], str(g["period"].iloc[-1])
    columns = {
        **base,
        "segment": j + 1,
        "segment_start": start,
        "segment_end": end,
        "segment_start_period": str(g["period"].iloc[lo]),
        "segment_end_period": end_period,
        "apc": value,
        "apc_low": low,
        "apc_high": high,
        "pvalue": pvalue,
    }
    cells = g.iloc[lo:stop]
    return Row(
        columns,
        cells,
        previous=g.iloc[starts[j - 1] : lo] if j > 0 else None,
        estimable=not why,
        too_short=len(cells) < shortest,
        notes=[f"APC not estimable: {why}"] if why else [],
    )


def _checked_aapc(whole: dict, rows: list[Row]) -> tuple[dict, str]:
    """The whole-series AAPC columns, missing when not estimable, and why."""
    values = {c: float(whole[c]) for c in ("aapc", "aapc_low", "aapc_high")}
    if not all(row.estimable for row in rows):
        why = "a segment's APC is not estimable"
    else:
        why = unsupported(values["aapc"], values["aapc_low"], values["aapc_high"])
    if not why:
        return values, ""
    return dict.fromkeys(values, np.nan), f"AAPC not estimable: {why}"


def decide_rows(rows: list[Row], *, rules: Any, alpha: float) -> pd.DataFrame:
    """The result table: every row's coverage (the gate, with the source-mix rule),
    its q-value across the call, its verdict (:func:`trends.verdicts.decide`) and
    notes."""
    from ..coverage_model import mix_rules, resolve_rules, worse
    from ..coverage_model.rules import mix_rules_untested

    status, reasons = _assess([r.cells for r in rows], None, rules)
    mixed: set[int] = set()  # rows whose source mix changed
    judged: set[tuple[int, str]] = set()  # (row, label) already found changed
    least = resolve_rules(rules).min_events
    for label, pairs in _mix_windows(rows, mix_rules(rules), least).items():
        # at a joinpoint the change is the level's, with no re-test among the outlets
        # that kept filing: any material change of outlets counts
        mix = mix_rules_untested(rules) if label == _AT_JOINPOINT else mix_rules(rules)
        found = _assess([c for _, c, _ in pairs], [b for _, _, b in pairs], mix)
        for (i, cells, _), st, why in zip(pairs, *found, strict=True):
            if st == "adequate" or (i, label) in judged:
                continue  # a segment's first change of outlets inside it is named
            judged.add((i, label))
            said = label
            if label == _WITHIN:
                said = f"{label}, from {cells['period'].iloc[0]}"
            # a change at a joinpoint taints the segments on both sides of it
            sides = [(i, said)]
            if label == _AT_JOINPOINT:
                sides.append((i - 1, "against the next segment"))
            for row, where in sides:
                status[row] = worse(status[row], st)
                reasons[row] = [*reasons[row], *(f"{where}: {r}" for r in why)]
                mixed.add(row)
    _break_bends_the_region(rows, status, reasons, mixed)
    out = pd.DataFrame([r.columns for r in rows], columns=COLUMNS)
    out["qvalue"] = adjust(out["pvalue"].to_numpy(float))
    out["coverage"] = status
    out["coverage_reasons"] = ["; ".join(r) for r in reasons]
    verdicts = decide(
        "trend",
        direction=out["apc"].to_numpy(float),
        qvalue=out["qvalue"].to_numpy(float),
        alpha=alpha,
        status=status,
        estimable=[r.estimable for r in rows],
        too_short=[r.too_short for r in rows],
    )
    verdicts[[r.not_covered for r in rows]] = NOT_COVERED
    out["verdict"] = verdicts
    out["notes"] = ["; ".join(r.notes) for r in rows]
    return out


def _break_bends_the_region(
    rows: list[Row], status: list[str], reasons: list[list[str]], mixed: set[int]
) -> None:
    """A reporting break in one segment withholds every segment of its region (in place).

    The joinpoint fit is continuous: a step in the counts where an outlet went silent is
    met by slopes on either side of it, bending segments that contain no change of their
    own (the demo's Marj: its segment before the silence came out "falling").
    """
    from ..coverage_model import worse

    broken: dict[Any, str] = {}
    for i in sorted(mixed):
        broken.setdefault(rows[i].columns["region"], f"segment {rows[i].columns['segment']}")
    for i, row in enumerate(rows):
        where = broken.get(row.columns["region"])
        if where is None or i in mixed:
            continue
        status[i] = worse(status[i], "thin")
        reasons[i] = [
            *reasons[i],
            f"the source mix changed in {where}: the continuous fit bends this segment too",
        ]


#: The labels of the source-mix checks inside a segment and against the one before it.
_WITHIN, _AT_JOINPOINT = "within the segment", "against the previous segment"


def _mix_windows(rows: list[Row], mix: Any, least: float | None) -> dict[str, list[tuple]]:
    """The source-mix checks of each segment, as (row index, cells, baseline) by label.

    A segment across which the main outlet went silent (or a new one started) measures
    the reporting as much as the events, and so does a joinpoint where that happened.
    So a segment of at least 4 periods is judged between its halves and at each period
    where an outlet could have gone silent or started with at least ``least`` events
    (``min_events`` of the rules) on each side (:func:`_splits`): the periods from there
    on against the segment's periods before, with the source-mix rule of ``rules``
    alone (beyond ``max_mix_change``). Halves alone are not enough: a segment that runs
    across the silence off-centre pools the silent stretch with the outlet's own periods
    and dilutes its share (demo seed 619, Marj: 2020-05..2023-12 with the silence from
    2021-07, 0.44 of the reports between halves, under 0.5). Without the minimum, a
    baseline of a month or two with a few events and one outlet reads as a source-mix
    change wherever that outlet stops (27 more segments withheld on the UCDP candidate
    file of 2021 by month, most of them such stretches). The segment is also judged
    against the one before it with that rule untested
    (:func:`trends.coverage_model.rules.mix_rules_untested`: the change at a joinpoint
    is a change of level with no like-for-like re-test among the outlets that kept
    filing, as a comparison or a trend has, so any material change of outlets beyond
    chance, above ``check_mix_change``, counts). Such a change makes the segment at
    least ``thin``, and a change between two segments makes both so
    (:func:`decide_rows`), and then every segment of the region
    (:func:`_break_bends_the_region`):
    a joinpoint placed a period after the outlet went silent leaves the silent period
    at the end of the earlier segment (demo seed 3, Marj 2021-04..2021-07 was called
    falling). Cells without ``source_counts`` are not judged.
    """
    checks: dict[str, list[tuple]] = {_WITHIN: [], _AT_JOINPOINT: []}
    if mix.max_mix_change is None:
        return checks
    for i, row in enumerate(rows):
        cells = row.cells
        if "source_counts" not in cells.columns or cells["source_counts"].isna().all():
            continue
        if pd.isna(row.columns["n_joinpoints"]):
            continue  # a region without a fit has no segments to compare
        for k in _splits(cells, least):
            checks[_WITHIN].append((i, cells.iloc[k:], cells.iloc[:k]))
        if row.previous is not None:
            checks[_AT_JOINPOINT].append((i, cells, row.previous))
    return checks


def _splits(cells: pd.DataFrame, least: float | None) -> list[int]:
    """Where to split a segment's cells to look for a change of outlets inside it: the
    middle, and the period after each outlet's last report and the period of each
    outlet's first where both sides hold at least ``least`` events (None: any number);
    both sides keep at least 2 periods (no split in a segment shorter than 4).
    """
    from ..coverage_model.arrays import parse_mix_value

    n = len(cells)
    if n < 4:
        return []
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for k, value in enumerate(cells["source_counts"].to_numpy(dtype=object)):
        for outlet, reports in (parse_mix_value(value) or {}).items():
            if reports > 0:
                first.setdefault(outlet, k)
                last[outlet] = k
    events = cells["events" if "events" in cells.columns else "count"].to_numpy(
        dtype=float, na_value=0.0
    )
    before = np.concatenate([[0.0], np.cumsum(events)])  # events before split k
    enough = np.ones(n + 1, dtype=bool)
    if least:
        enough = (before >= least) & (before[-1] - before >= least)
    candidates = {k for k in (*first.values(), *(k + 1 for k in last.values())) if enough[k]}
    candidates.add(n // 2)
    return sorted(k for k in candidates if 2 <= k <= n - 2)


def _assess(
    windows: list[pd.DataFrame], baselines: list[pd.DataFrame] | None, rules: Any
) -> tuple[list[str], list[list[str]]]:
    """:func:`trends.coverage_model.assess_window` of each window (against its baseline),
    read in one pass by :func:`~trends.coverage_model.assess_windows`: each window is
    given a region key of its own."""
    from ..coverage_model import assess_windows

    status = ["uncovered"] * len(windows)
    reasons: list[list[str]] = [["no covered cells"] for _ in windows]
    todo = [i for i, w in enumerate(windows) if len(w)]
    if not todo:
        return status, reasons
    keys = [f"{i:09d}" for i in todo]

    def keyed(frames: list[pd.DataFrame]) -> pd.DataFrame:
        out = pd.concat([frames[i] for i in todo], ignore_index=True)
        lengths = [len(frames[i]) for i in todo]
        out["region"] = pd.array(np.repeat(keys, lengths), dtype="string")
        return out

    baseline = None if baselines is None else keyed(baselines)
    found = assess_windows(keyed(windows), baseline=baseline, rules=rules).set_index("region")
    for i, key in zip(todo, keys, strict=True):
        status[i] = str(found.at[key, "status"])
        reasons[i] = list(found.at[key, "reasons"])
    return status, reasons


def _empty_columns(base: dict, g: pd.DataFrame) -> dict:
    columns = dict.fromkeys(COLUMNS, np.nan)
    columns.update(base)
    columns.update({
        "segment": 1, "n_joinpoints": pd.NA, "selection_detail": "",
        "segment_start": g["period_start"].iloc[0] if len(g) else pd.NaT,
        "segment_end": g["period_end"].iloc[-1] if len(g) else pd.NaT,
        "segment_start_period": str(g["period"].iloc[0]) if len(g) else pd.NA,
        "segment_end_period": str(g["period"].iloc[-1]) if len(g) else pd.NA,
    })  # fmt: skip
    return columns
