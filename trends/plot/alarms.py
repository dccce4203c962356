"""Small multiples of an alarm scan: each region's counts against what its past expects."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from .. import verdicts
from .style import (
    BAND,
    BREAK,
    LINE,
    STATUS_COLORS,
    VERDICT_COLORS,
    need,
    order_column,
    period_dates,
    plain,
    reasons_text,
    round_sig,
)
from .timeaxis import time_axis

__all__ = ["alarm_timeline", "alarm_frame", "ALARM_MARKS"]

#: How a period is marked in :func:`alarm_timeline`: mark -> (fill, stroke). Periods
#: judged not unusual, or not judged, get no mark (the line shows their count).
ALARM_MARKS: dict[str, tuple[str, str]] = {
    "unusually high": (VERDICT_COLORS["unusually high"], VERDICT_COLORS["unusually high"]),
    "unusually low": (VERDICT_COLORS["unusually low"], VERDICT_COLORS["unusually low"]),
    "alarm withheld: thin coverage (hollow)": ("#ffffff", STATUS_COLORS["thin"]),
}
#: The two lines of each panel: series -> (colour, dash).
_LINES: dict[str, tuple[str, list[int]]] = {
    "events observed": (LINE, [1, 0]),
    "expected": ("#6c757d", [4, 2]),
}


def _mark(verdict: str, alarm: bool) -> str | None:
    if verdict in (verdicts.words("alarm")[:2]):
        return verdict
    if alarm and verdict == verdicts.INCONCLUSIVE:
        return "alarm withheld: thin coverage (hollow)"
    return None


def alarm_frame(table: pd.DataFrame, *, sort: str | Sequence[str] = "alarms") -> pd.DataFrame:
    """The table :func:`alarm_timeline` draws: one row per region and period, with
    ``period_start``/``period_end``, the ``mark`` of the period (see :data:`ALARM_MARKS`;
    missing for a period with none), ``gap`` (a period outside the source's coverage:
    ``verdict`` "not covered"), the band's ends (``band_low``: the lower bound where the
    method gives one, else the expected value; ``band_high``: the upper bound) and
    ``order`` (the panel's place).

    ``sort="alarms"`` puts first the regions with the most unusual periods, then the
    most alarms withheld, then the most events; ``"total"``, ``"name"`` or a list as elsewhere.
    """
    need(table, ["region", "period", "observed", "expected", "upperbound", "verdict"], "alarms")
    data = plain(table)
    data = data[data["region"].notna() & data["period"].notna()].copy()
    data["region"] = data["region"].astype(str)
    data["period"] = data["period"].astype(str)
    data = period_dates(data.assign(count=pd.to_numeric(data["observed"], errors="coerce")))
    said = data["verdict"].astype(str)
    alarm = data["alarm"] if "alarm" in data.columns else pd.Series(False, index=data.index)
    alarm = alarm.fillna(False).astype(bool)
    data["mark"] = [_mark(v, a) for v, a in zip(said, alarm, strict=True)]
    data["gap"] = (said == verdicts.NOT_COVERED).to_numpy()
    low = data["lowerbound"] if "lowerbound" in data.columns else data["expected"]
    data["band_low"] = pd.to_numeric(low, errors="coerce").fillna(
        pd.to_numeric(data["expected"], errors="coerce")
    )
    data["band_high"] = pd.to_numeric(data["upperbound"], errors="coerce")
    for col in ("count", "expected", "band_low", "band_high"):
        values = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
        data[col] = [round_sig(v) for v in values]
    data.loc[data["gap"], ["count", "expected", "band_low", "band_high"]] = np.nan
    notes = data["notes"] if "notes" in data.columns else pd.Series("", index=data.index)
    data["why"] = [reasons_text(n) if m else "" for n, m in zip(notes, data["mark"], strict=True)]
    if isinstance(sort, str) and sort == "alarms":
        by = data.groupby("region")
        raised = by["mark"].apply(lambda m: int(m.isin(verdicts.words("alarm")[:2]).sum()))
        marked = by["mark"].count()
        totals = by["count"].sum(min_count=1).fillna(0)
        order = sorted(
            marked.index, key=lambda r: (-raised[r], -int(marked[r]), -float(totals[r]), r)
        )
    else:
        from .style import region_order

        order = region_order(data, sort)
    data["order"] = order_column(data["region"], order)
    keep = [
        "region", "period", "period_start", "period_end", "count", "expected", "band_low",
        "band_high", "verdict", "mark", "gap", "why", "order",
    ]  # fmt: skip
    data["verdict"] = said
    return data[keep].sort_values(["order", "period_start"], kind="stable").reset_index(drop=True)


def alarm_timeline(
    table: pd.DataFrame,
    *,
    sort: str | Sequence[str] = "alarms",
    columns: int = 4,
    width: int = 200,
    height: int = 110,
    bound: str = "upper bound",
) -> alt.FacetChart:
    """Small multiples of an alarm scan (:func:`trends.alarms`), one panel per region.

    Each panel shows the events observed (solid line) and the expected value (dashed)
    by period, the band between the method's lower (or the expected value) and upper
    bound, the periods judged unusually high or low (filled red or blue points), the
    alarms withheld for thin coverage (hollow orange points), and the periods outside
    the source's coverage shaded grey (gaps, not zeros). Where the method cannot judge
    a period (too short a baseline) there is no band. Each panel has its own scale.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`trends.alarms`.
    sort : {"alarms", "total", "name"} or list of regions
        Panel order (see :func:`alarm_frame`).
    columns, width, height : int
        Panels per row and the size of each panel in pixels.
    bound : str
        What the band's top is called in the tooltip.

    Returns
    -------
    altair.FacetChart
    """
    data = alarm_frame(table, sort=sort)
    axis = time_axis(data["period_start"], data["period_end"], width=width, title=None)
    # what only a point's tooltip or a gap's shading reads stays on those rows: a smaller page
    data = data.assign(
        verdict=data["verdict"].where(data["mark"].notna()),
        period_end=data["period_end"].where(data["gap"]),
    )
    x = alt.X("period_start:T", title=None, axis=axis)
    gaps = (
        alt.Chart()
        .mark_rect(color=STATUS_COLORS["uncovered"], opacity=0.45)
        .encode(x="period_start:T", x2="period_end:T")
        .transform_filter(alt.datum.gap)
    )
    band = (
        alt.Chart()
        .mark_area(color=BAND, opacity=0.55, invalid=BREAK)
        .encode(
            x=x,
            y=alt.Y("band_low:Q", title=None, axis=alt.Axis(labelFlush=True, tickCount=4)),
            y2="band_high:Q",
        )
    )
    names = list(_LINES)
    lines = (
        alt.Chart()
        .transform_fold(["count", "expected"], as_=["series_key", "value"])
        .transform_calculate(series=f"datum.series_key == 'count' ? '{names[0]}' : '{names[1]}'")
        .mark_line(strokeWidth=1.3, invalid=BREAK)
        .encode(
            x=x,
            y="value:Q",
            detail="series:N",
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(domain=names, range=[c for c, _ in _LINES.values()]),
                legend=alt.Legend(orient="top", labelLimit=300),
            ),
            strokeDash=alt.StrokeDash(
                "series:N",
                scale=alt.Scale(domain=names, range=[d for _, d in _LINES.values()]),
                legend=None,
            ),
        )
    )
    shown = [m for m in ALARM_MARKS if m in set(data["mark"].dropna())]
    points = (
        alt.Chart()
        .mark_point(filled=True, size=34, strokeWidth=1.4)
        .encode(
            x=x,
            y="count:Q",
            fill=alt.Fill(
                "mark:N",
                title="Period",
                scale=alt.Scale(domain=shown, range=[ALARM_MARKS[m][0] for m in shown]),
                legend=alt.Legend(orient="top", labelLimit=400),
            ),
            stroke=alt.Stroke(
                "mark:N",
                scale=alt.Scale(domain=shown, range=[ALARM_MARKS[m][1] for m in shown]),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("region:N", title="Region"),
                alt.Tooltip("period:N", title="Period"),
                alt.Tooltip("count:Q", title="Events", format=",.2~f"),
                alt.Tooltip("expected:Q", title="Expected", format=",.3~r"),
                alt.Tooltip("band_high:Q", title=bound.capitalize(), format=",.3~r"),
                alt.Tooltip("verdict:N", title="Verdict"),
                alt.Tooltip("why:N", title="Notes"),
            ],
        )
        .transform_filter("isValid(datum.mark)")
    )
    layers = [gaps, band, lines] + ([points] if shown else [])
    facet = alt.Facet(
        "region:N",
        sort=alt.EncodingSortField("order", op="min"),
        title=None,
        header=alt.Header(labelFontWeight="bold", labelLimit=width),
    )
    return (
        alt.layer(*layers, data=data)
        .properties(width=width, height=height)
        .facet(facet=facet, columns=columns)
        .resolve_scale(y="independent")
        .resolve_axis(x="independent")
    )
