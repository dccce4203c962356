"""A time axis fitted to the series: enough labels, few enough gridlines.

Vega-Lite picks "nice" ticks from the pixel width alone: a 12-month panel gets one
label ("2019"), a 30-year quarterly panel a gridline every quarter. Here the step is
chosen from the span of the data and the room for labels, as Cleveland (1985, *The
Elements of Graphing Data*, ch. 2) and Wilkinson (2005, *The Grammar of Graphics*,
§6.2, nice numbers) recommend: the smallest calendar step (1, 2 weeks; 1, 2, 3, 4, 6
months; 1, 2, 5, 10, 20 years) that gives no more labels than fit, with gridlines
only at the labels, and labels that say the month when the step is shorter than a
year.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import altair as alt
import pandas as pd

__all__ = ["tick_dates", "time_axis"]

#: Calendar steps, shortest first: (unit, size).
STEPS: tuple[tuple[str, int], ...] = (
    ("day", 7),
    ("day", 14),
    ("month", 1),
    ("month", 2),
    ("month", 3),
    ("month", 4),
    ("month", 6),
    ("month", 12),
    ("month", 24),
    ("month", 60),
    ("month", 120),
    ("month", 240),
)
#: Pixels a label needs: "Jan 2019" or "12 Jan" (short steps), "2019" (a year or more).
LABEL_PX = {"day": 55, "month": 60, "year": 45}


def _ticks(first: pd.Timestamp, last: pd.Timestamp, unit: str, size: int) -> list[pd.Timestamp]:
    if unit == "day":
        start = first.normalize() + pd.Timedelta(days=(7 - first.day_of_week) % 7)  # Mondays
        return list(pd.date_range(start, last, freq=f"{size}D"))
    months = first.year * 12 + first.month - 1
    aligned = math.ceil(months / size) * size
    if first.day > 1 or first.hour or first.minute:  # the first whole period after `first`
        aligned = max(aligned, math.ceil((months + 1) / size) * size)
    out = []
    while True:
        year, month = divmod(aligned, 12)
        tick = pd.Timestamp(year=year, month=month + 1, day=1)
        if tick > last:
            return out
        out.append(tick)
        aligned += size


def tick_dates(starts: Sequence, ends: Sequence | None = None, *, width: int = 215):
    """Tick dates and their label format for a time axis of ``width`` pixels.

    Parameters
    ----------
    starts, ends : sequences of dates
        Where the periods drawn begin and end (``ends`` default ``starts``).
    width : int
        Width of the axis in pixels.

    Returns
    -------
    (list of Timestamp, str)
        The ticks (at least one) and the d3 time format of their labels.
    """
    starts = pd.to_datetime(pd.Series(list(starts))).dropna()
    ends = starts if ends is None else pd.to_datetime(pd.Series(list(ends))).dropna()
    if starts.empty:
        return [], "%Y"
    first, last = starts.min(), max(ends.max(), starts.max())
    best: tuple[list[pd.Timestamp], str] | None = None
    for unit, size in STEPS:
        kind = "day" if unit == "day" else ("year" if size >= 12 else "month")
        ticks = _ticks(first, last, unit, size)
        room = max(1, int(width // LABEL_PX[kind]))
        fmt = {"day": "%d %b", "month": "%b %Y", "year": "%Y"}[kind]
        if ticks and best is None:
            best = (ticks, fmt)  # the finest step with a tick: the fallback
        if ticks and len(ticks) <= room:
            return ticks, fmt
    if best is None:  # a span shorter than any step: one tick at its start
        return [first], "%d %b %Y"
    ticks, fmt = best
    stride = math.ceil(len(ticks) / max(1, int(width // LABEL_PX["year"])))
    return ticks[::stride], fmt


def time_axis(starts: Sequence, ends: Sequence | None = None, *, width: int = 215, **kw):
    """An :class:`altair.Axis` whose ticks, gridlines and labels come from
    :func:`tick_dates`; keyword arguments pass on to the axis."""
    ticks, fmt = tick_dates(starts, ends, width=width)
    values = [alt.DateTime(year=t.year, month=t.month, date=t.day) for t in ticks]
    return alt.Axis(values=values, format=fmt, labelOverlap=True, **kw)
