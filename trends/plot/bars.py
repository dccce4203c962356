"""Bar charts: the outlets behind most events."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .style import LINE, need

__all__ = ["sources"]


def sources(
    shares: pd.DataFrame,
    *,
    top: int = 10,
    width: int = 420,
    title: str | None = None,
) -> alt.Chart:
    """Horizontal bars of the outlets behind most events, labelled with their share.

    Parameters
    ----------
    shares : DataFrame
        ``source`` and ``events`` (events naming the outlet); ``share`` (of all
        events) is computed from ``events`` when absent.
    top : int
        How many outlets to show (the largest).
    width : int
    title : str, optional

    Returns
    -------
    altair.Chart
    """
    need(shares, ["source", "events"], "shares")
    data = shares[["source", "events"] + (["share"] if "share" in shares.columns else [])].copy()
    data["source"] = data["source"].astype(str)
    if "share" not in data.columns:
        data["share"] = data["events"] / data["events"].sum()
    data = data.sort_values(["events", "source"], ascending=[False, True]).head(top)
    data = data.reset_index(drop=True)
    data["order"] = range(len(data))
    base = alt.Chart(data).encode(
        y=alt.Y(
            "source:N",
            sort=alt.EncodingSortField("order", op="min"),
            title=None,
            axis=alt.Axis(labelLimit=220),
        ),
        x=alt.X("share:Q", title="Share of events naming the outlet", axis=alt.Axis(format="%")),
        tooltip=[
            alt.Tooltip("source:N", title="Source"),
            alt.Tooltip("events:Q", title="Events", format=",.2~f"),
            alt.Tooltip("share:Q", title="Share", format=".1%"),
        ],
    )
    bars = base.mark_bar(color=LINE)
    labels = base.mark_text(align="left", dx=3, fontSize=10).encode(
        text=alt.Text("share:Q", format=".1%")
    )
    chart = (bars + labels).properties(width=width, height=alt.Step(18))
    if title:
        chart = chart.properties(title=title)
    return chart
