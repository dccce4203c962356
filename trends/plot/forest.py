"""Forest plots: rate ratios and annual percent changes with their intervals, by region."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from ..errors import CellsError
from ..verdicts import apc_estimable
from .style import VERDICT_COLORS, need, order_column, plain

__all__ = ["comparison", "trends", "forest_frame"]

#: Verdicts whose estimate is not drawn (the number does not stand for a change).
UNDRAWN_VERDICTS = ("not estimable", "not covered")


def _why_not(estimate: float, verdict: str, log: bool) -> str:
    """Why a row's estimate cannot be drawn ("" when it can)."""
    if verdict in UNDRAWN_VERDICTS:
        return verdict
    if np.isnan(estimate):
        return "no estimate"
    if np.isinf(estimate):
        return "infinite estimate"
    if log and estimate <= 0:
        return "estimate 0, which a log scale cannot show"
    return ""


def forest_frame(
    table: pd.DataFrame,
    *,
    estimate: str,
    low: str,
    high: str,
    log: bool,
    sort: str | Sequence[str] = "estimate",
    estimable: Sequence[bool] | None = None,
) -> pd.DataFrame:
    """The rows a forest plot draws, and why the others are not drawn.

    Returns one row per region: ``region``, ``verdict``, ``estimate``, ``low``,
    ``high`` (as given), ``x``, ``x_low``, ``x_high`` (what is drawn: a bound that is
    infinite, or not positive on a log scale, is drawn to the edge of the axis and
    flagged in ``clipped``), ``drawn`` and ``why`` (the reason a row is not drawn:
    ``not estimable``, ``not covered``, ``no estimate``, ``infinite estimate`` or an
    estimate of 0 on a log scale), ``order`` (its place on the axis). Rows where
    ``estimable`` is False are ``not estimable`` whatever their verdict.
    """
    data = plain(table)
    out = pd.DataFrame(
        {
            "region": data["region"].astype(str).to_numpy(),
            "verdict": data["verdict"].astype(str).to_numpy(),
            "estimate": pd.to_numeric(data[estimate], errors="coerce").to_numpy(dtype=float),
            "low": pd.to_numeric(data[low], errors="coerce").to_numpy(dtype=float),
            "high": pd.to_numeric(data[high], errors="coerce").to_numpy(dtype=float),
        }
    )
    for extra in ("pvalue", "qvalue", "coverage"):
        if extra in data.columns:
            out[extra] = data[extra].to_numpy()
    out["why"] = [_why_not(e, v, log) for e, v in zip(out["estimate"], out["verdict"], strict=True)]
    if estimable is not None:
        out.loc[~np.asarray(estimable, dtype=bool), "why"] = "not estimable"
    out["drawn"] = out["why"] == ""
    shown = out.loc[out["drawn"], ["estimate", "low", "high"]].to_numpy().ravel()
    finite = shown[np.isfinite(shown) & ((shown > 0) if log else True)]
    lo, hi = (finite.min(), finite.max()) if finite.size else ((0.5, 2.0) if log else (-1, 1))
    out["x"] = np.where(out["drawn"], out["estimate"], np.nan)
    low_v, high_v = out["low"].to_numpy(), out["high"].to_numpy()
    bad_low = np.isinf(low_v) | ((low_v <= 0) if log else False)  # NaN: no bound, no rule
    bad_high = np.isinf(high_v)
    out["x_low"] = np.where(out["drawn"], np.where(bad_low, lo, out["low"]), np.nan)
    out["x_high"] = np.where(out["drawn"], np.where(bad_high, hi, out["high"]), np.nan)
    out["clipped"] = out["drawn"] & (bad_low | bad_high)
    out["order"] = order_column(out["region"], _estimate_order(out, sort))
    return out


def _estimate_order(frame: pd.DataFrame, sort: str | Sequence[str]) -> list[str]:
    regions = frame["region"].to_numpy()
    if sort == "estimate":
        est = np.nan_to_num(frame["estimate"].to_numpy(dtype=float), nan=-np.inf)
        return [
            regions[i] for i in sorted(range(len(regions)), key=lambda i: (-est[i], regions[i]))
        ]
    if sort == "name":
        return sorted(regions)
    if isinstance(sort, str):
        raise CellsError(f"sort={sort!r} is not 'estimate', 'name' or a list of regions")
    return [str(r) for r in sort]


def _log_ticks(values: np.ndarray) -> list[float]:
    """Ticks of a log axis: powers of ten over the data, with 0.5 and 2 near 1."""
    finite = values[np.isfinite(values) & (values > 0)]
    if finite.size == 0:
        return [0.5, 1.0, 2.0]
    lo = int(np.floor(np.log10(finite.min())))
    hi = int(np.ceil(np.log10(finite.max())))
    ticks = {10.0**k for k in range(min(lo, 0), max(hi, 0) + 1)}
    if hi - lo <= 3:
        ticks |= {0.5, 2.0}
    return sorted(ticks)


def _forest(
    frame: pd.DataFrame,
    *,
    axis_title: str,
    log: bool,
    reference: float,
    width: int,
    title: str | None,
) -> alt.LayerChart:
    data = frame[frame["drawn"]].drop(columns=["drawn", "why"]).reset_index(drop=True)
    present = [v for v in VERDICT_COLORS if v in set(data["verdict"])]
    present += sorted(set(data["verdict"]) - set(present))
    scale = alt.Scale(domain=present, range=[VERDICT_COLORS.get(v, "#444444") for v in present])
    y = alt.Y(
        "region:N",
        sort=alt.EncodingSortField("order", op="min"),
        title=None,
        axis=alt.Axis(labelLimit=200),
    )
    xscale = alt.Scale(type="log") if log else alt.Scale(zero=False)
    values = data[["x_low", "x_high"]].to_numpy()
    xaxis = alt.Axis(values=_log_ticks(values), format=",~r") if log else alt.Axis(format=",~r")
    extra = [c for c in ("pvalue", "qvalue") if c in data.columns]
    tooltip = [
        alt.Tooltip("region:N", title="Region"),
        alt.Tooltip("estimate:Q", title=axis_title, format=",.3~r"),
        alt.Tooltip("low:Q", title="Lower bound", format=",.3~r"),
        alt.Tooltip("high:Q", title="Upper bound", format=",.3~r"),
        *[alt.Tooltip(f"{c}:Q", format=".3~r") for c in extra],
        alt.Tooltip("verdict:N", title="Verdict"),
    ]
    base = alt.Chart(data).encode(y=y)
    ref = alt.Chart(pd.DataFrame({"ref": [reference]})).mark_rule(color="#555555").encode(x="ref:Q")
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("x_low:Q", scale=xscale, title=axis_title, axis=xaxis),
        x2="x_high:Q",
        color=alt.Color("verdict:N", scale=scale, title="Verdict", legend=alt.Legend(orient="top")),
        strokeDash=alt.condition(alt.datum.clipped, alt.value([3, 2]), alt.value([1, 0])),
        tooltip=tooltip,
    )
    dots = base.mark_point(filled=True, size=50).encode(
        x="x:Q", color=alt.Color("verdict:N", scale=scale), tooltip=tooltip
    )
    chart = alt.layer(ref, bars, dots).properties(width=width, height=alt.Step(18))
    if title:
        chart = chart.properties(title=title)
    return chart


def comparison(
    comparison: pd.DataFrame,
    *,
    sort: str | Sequence[str] = "estimate",
    width: int = 420,
    title: str | None = None,
) -> alt.LayerChart:
    """Forest plot of rate ratios (after / before) with intervals, coloured by verdict.

    A ratio of 0 or infinity (no events in one window) has no place on the log axis
    and is not drawn (see :func:`forest_frame`, whose ``why`` says so); an interval
    reaching 0 or infinity is drawn dashed to the edge of the axis.

    Parameters
    ----------
    comparison : DataFrame
        Output of :func:`trends.compare`: ``region``, ``rate_ratio``, ``rr_low``,
        ``rr_high``, ``verdict`` (``pvalue``, ``qvalue`` shown when present).
    sort : {"estimate", "name"} or list of regions
        Row order: by rate ratio (largest first), alphabetically, or as listed.
    width : int
    title : str, optional

    Returns
    -------
    altair.LayerChart
        The x axis is logarithmic; the grey rule marks no change (ratio 1).
    """
    need(comparison, ["region", "rate_ratio", "rr_low", "rr_high", "verdict"], "comparison")
    frame = forest_frame(
        comparison, estimate="rate_ratio", low="rr_low", high="rr_high", log=True, sort=sort
    )
    return _forest(
        frame,
        axis_title="Rate ratio (after / before)",
        log=True,
        reference=1.0,
        width=width,
        title=title,
    )


def trends(
    trend: pd.DataFrame,
    *,
    sort: str | Sequence[str] = "estimate",
    width: int = 420,
    title: str | None = None,
) -> alt.LayerChart:
    """Forest plot of the annual percent change (APC) by region, coloured by verdict.

    Rows whose verdict is ``not estimable`` or ``not covered``, with no finite APC,
    or with an APC the data cannot support (:func:`trends.verdicts.apc_estimable`:
    beyond ±1,000%/yr or an infinite bound) are not drawn (see :func:`forest_frame`).

    Parameters
    ----------
    trend : DataFrame
        Output of :func:`trends.trend`: ``region``, ``apc``, ``apc_low``,
        ``apc_high``, ``verdict``.
    sort : {"estimate", "name"} or list of regions
    width : int
    title : str, optional

    Returns
    -------
    altair.LayerChart
        The grey rule marks no change (APC 0).
    """
    need(trend, ["region", "apc", "apc_low", "apc_high", "verdict"], "trend")
    ok, _ = apc_estimable(trend["apc"], trend["apc_low"], trend["apc_high"])
    frame = forest_frame(
        trend, estimate="apc", low="apc_low", high="apc_high", log=False, sort=sort, estimable=ok
    )
    return _forest(
        frame,
        axis_title="Annual percent change",
        log=False,
        reference=0.0,
        width=width,
        title=title,
    )
