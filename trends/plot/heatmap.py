"""The coverage heat map: regions down, periods across, coloured by coverage status."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from .style import (
    STATUS_COLORS,
    need,
    order_column,
    period_dates,
    plain,
    reasons_text,
    region_order,
)
from .timeaxis import time_axis

__all__ = ["coverage", "coverage_runs"]


def coverage_runs(data: pd.DataFrame) -> pd.DataFrame:
    """Consecutive cells of a region with the same status merged into one run.

    A 30-year weekly series is 1,560 cells a region; drawn as runs it is a few dozen
    rectangles that look the same. Each run keeps ``period`` (``first`` or ``first to
    last``), ``n_cells``, the events (``count``) summed, and the reasons when the run
    is one cell (else how many cells it spans).
    """
    data = data.sort_values(["region", "period_start"], kind="stable").reset_index(drop=True)
    region = data["region"].to_numpy()
    status = data["status"].to_numpy()
    new_run = np.ones(len(data), dtype=bool)
    new_run[1:] = (region[1:] != region[:-1]) | (status[1:] != status[:-1])
    run = np.cumsum(new_run) - 1
    grouped = data.groupby(run, sort=True)
    out = grouped.agg(
        region=("region", "first"),
        status=("status", "first"),
        period_start=("period_start", "min"),
        period_end=("period_end", "max"),
        first=("period", "first"),
        last=("period", "last"),
        n_cells=("period", "size"),
        count=("count", lambda c: c.sum(min_count=1)),
        reasons=("reasons", "first"),
    )
    single = out["n_cells"] == 1
    out["period"] = np.where(single, out["first"], out["first"] + " to " + out["last"])
    out["reasons"] = np.where(
        single, out["reasons"], out["n_cells"].map(lambda n: f"{n:,} cells in a row")
    )
    return out.drop(columns=["first", "last"]).reset_index(drop=True)


def coverage(
    coverage: pd.DataFrame,
    *,
    sort: str | Sequence[str] = "total",
    width: int = 900,
    cell_height: int = 16,
    title: str | None = None,
) -> alt.Chart:
    """Heat map of coverage status, regions down, periods across; reasons on hover.

    When a cell would be narrower than 4 pixels, runs of cells with the same status
    are drawn as one rectangle (:func:`coverage_runs`), which looks the same and
    keeps long series small.

    Parameters
    ----------
    coverage : DataFrame
        Output of :func:`trends.coverage`: ``region``, ``period``, ``status``
        (``adequate``, ``thin``, ``insufficient``, ``uncovered``), ``reasons``;
        ``count`` is shown in the tooltip and used to sort when present.
    sort : {"total", "name"} or list of regions
        Row order.
    width, cell_height : int
        Chart width and the height of one region's row, in pixels.
    title : str, optional

    Returns
    -------
    altair.Chart
    """
    need(coverage, ["region", "period", "status"], "coverage")
    data = period_dates(plain(coverage))
    data["reasons"] = data["reasons"].map(reasons_text) if "reasons" in data.columns else ""
    if "count" not in data.columns:
        data["count"] = np.nan
    order = region_order(data, sort)
    data = data[["region", "period", "period_start", "period_end", "status", "reasons", "count"]]
    data = data.assign(
        region=data["region"].astype(str),
        period=data["period"].astype(str),
        status=data["status"].astype(str),
    )
    if data.groupby("region")["period"].size().max() > width / 4:  # cells under 4 px
        data = coverage_runs(data)
    data["order"] = order_column(data["region"], order)
    present = [s for s in STATUS_COLORS if s in set(data["status"])]
    axis = time_axis(data["period_start"], data["period_end"], width=width, title=None)
    chart = (
        alt.Chart(data)
        .mark_rect(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("period_start:T", title=None, axis=axis),
            x2="period_end:T",
            y=alt.Y(
                "region:N",
                sort=alt.EncodingSortField("order", op="min"),
                title=None,
                axis=alt.Axis(labelLimit=220),
            ),
            color=alt.Color(
                "status:N",
                title="Coverage",
                scale=alt.Scale(domain=present, range=[STATUS_COLORS[s] for s in present]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("region:N", title="Region"),
                alt.Tooltip("period:N", title="Period"),
                alt.Tooltip("count:Q", title="Events", format=",.2~f"),
                alt.Tooltip("status:N", title="Coverage"),
                alt.Tooltip("reasons:N", title="Why"),
            ],
        )
        .properties(width=width, height=alt.Step(cell_height))
    )
    if title:
        chart = chart.properties(title=title)
    return chart
