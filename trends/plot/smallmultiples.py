"""Small multiples of the rate, one panel per region, and the joinpoint segments drawn."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from .style import (
    BAND,
    BREAK,
    FIT,
    LINE,
    STATUS_COLORS,
    need,
    order_column,
    period_dates,
    plain,
    reasons_text,
    region_order,
    round_sig,
)
from .timeaxis import time_axis

__all__ = ["rates", "rates_frame", "segment_fit", "POINTS_UP_TO", "POINT_STYLE"]

logger = logging.getLogger(__name__)

#: How each coverage status is drawn in :func:`rates`: (legend label, fill colour).
POINT_STYLE: dict[str, tuple[str, str]] = {
    "adequate": ("adequate (filled)", LINE),
    "thin": ("thin: too few events or sources (hollow)", "#ffffff"),
    "insufficient": ("insufficient (grey)", "#b0b0b0"),
    "unknown": ("not assessed (filled)", LINE),
}
#: Series longer than this many periods are drawn without a point per cell (at 215
#: pixels a point per cell would be a smear); the coverage heat map shows each cell.
POINTS_UP_TO = 240


def _coverage_columns(table: pd.DataFrame, coverage: pd.DataFrame | None) -> pd.DataFrame:
    """Add ``status`` and ``reasons`` (from a ``coverage()`` table or the table itself)."""
    out = table.copy()
    if coverage is not None:
        need(coverage, ["region", "period", "status"], "coverage")
        cov = plain(coverage)[["region", "period", "status"]].copy()
        cov["reasons"] = coverage["reasons"] if "reasons" in coverage.columns else ""
        cov["region"] = cov["region"].astype(str)
        cov["period"] = cov["period"].astype(str)
        out["region"] = out["region"].astype(str)
        out["period"] = out["period"].astype(str)
        out = out.drop(columns=["status", "reasons"], errors="ignore")
        out = out.merge(cov, on=["region", "period"], how="left")
    if "status" not in out.columns:
        out["status"] = "unknown"
    if "reasons" not in out.columns:
        out["reasons"] = ""
    out["status"] = out["status"].astype(object).where(out["status"].notna(), "unknown")
    out["reasons"] = out["reasons"].map(reasons_text)
    if "covered" in out.columns:
        out.loc[out["covered"].eq(False).fillna(False).astype(bool), "status"] = "uncovered"
    if "count" in out.columns:
        out.loc[out["count"].isna(), "status"] = "uncovered"
    return out


def segment_fit(
    series: pd.DataFrame, breaks: Sequence[pd.Timestamp], t: np.ndarray | None = None
) -> np.ndarray:
    """Fitted rate per period of a continuous piecewise log-linear Poisson model.

    Draws the segments of a joinpoint model: given the joinpoint dates (as the
    ``segment_start`` of every segment after the first), the model
    ``log E[count] = log(exposure) + b0 + b1 t + sum_k c_k (t - tau_k)+`` is fitted
    by the joinpoint package's Poisson fit (:func:`trends.joinpoint.fit.fit_poisson`:
    IRLS with step halving; Kim, Fay, Feuer and Midthune 2000, "Permutation tests for
    joinpoint regression", Statistics in Medicine 19:335-351, use this continuous hinge
    parametrisation). ``t`` is the period index.

    Parameters
    ----------
    series : DataFrame
        One region's cells, sorted by period, with ``count``, ``exposure``,
        ``period_start``; cells with missing count (uncovered) are left out of the fit.
    breaks : sequence of dates
        Joinpoints: the first day of each segment after the first.
    t : array, optional
        Period index of each row (consecutive periods differ by 1; a period missing
        from ``series`` leaves a gap). Default ``0, 1, 2, ...`` along the rows.

    Returns
    -------
    ndarray
        Fitted rate per 30.4375 days (the ``rates()`` scale) for every row of
        ``series``; NaN where the count is missing, and everywhere when the fit
        cannot be made (fewer cells than parameters, a singular design, no
        convergence to finite values).
    """
    t = np.arange(len(series), dtype=float) if t is None else np.asarray(t, dtype=float)
    starts = pd.to_datetime(series["period_start"]).to_numpy()
    taus = [
        float(
            np.interp(
                np.datetime64(pd.Timestamp(b), "ns").astype(float),
                starts.astype("datetime64[ns]").astype(float),
                t,
            )
        )
        for b in breaks
    ]
    from ..joinpoint.fit import design, fit_poisson

    y = series["count"].to_numpy(dtype=float)
    offset = np.log(np.maximum(series["exposure"].to_numpy(dtype=float), 1e-12))
    ok = np.isfinite(y)
    fitted = np.full(len(series), np.nan)
    x = t[ok]
    knots = np.array([i for tau in taus for i in np.flatnonzero(x == tau)[:1]], dtype=int)
    if ok.sum() < len(knots) + 2 or len(knots) < len(taus):
        return fitted  # too few cells, or a joinpoint off the covered periods
    with np.errstate(all="ignore"):  # a fit heading to a rate of 0 overflows on its way
        try:
            fit = fit_poisson(x, y[ok], offset[ok], knots)
        except np.linalg.LinAlgError as exc:
            logger.info("joinpoint segments not drawn: %s", exc)
            return fitted
        values = np.exp(design(x, knots) @ fit.beta) * 30.4375
    if not np.all(np.isfinite(values)):
        return fitted
    fitted[ok] = values
    return fitted


def _fitted_column(table: pd.DataFrame, joinpoints: pd.DataFrame | None) -> pd.DataFrame:
    """Add ``fitted`` (joinpoint segments) and ``joinpoint`` (bool) per cell."""
    out = table.sort_values(["region", "period_start"], kind="stable").reset_index(drop=True)
    fitted = np.full(len(out), np.nan)
    marked = np.zeros(len(out), dtype=bool)
    if joinpoints is not None and len(joinpoints) and "count" in out.columns:
        need(joinpoints, ["region", "segment", "segment_start"], "joinpoints")
        jp = plain(joinpoints)
        jp = jp[pd.to_numeric(jp["segment"], errors="coerce").notna()]
        jp = jp[pd.to_datetime(jp["segment_start"], errors="coerce").notna()]
        jp = jp.assign(region=jp["region"].astype(str)).sort_values(["region", "segment"])
        breaks_of = {
            region: list(pd.to_datetime(segs["segment_start"]).iloc[1:])
            for region, segs in jp.groupby("region", sort=True)
        }
        regions = out["region"].astype(str).to_numpy()
        all_starts = np.unique(out["period_start"].to_numpy())  # the shared time axis
        index = np.searchsorted(all_starts, out["period_start"].to_numpy())
        for region, rows in pd.Series(np.arange(len(out))).groupby(regions):
            if region not in breaks_of:
                continue
            idx = rows.to_numpy()
            series = out.iloc[idx]
            fitted[idx] = segment_fit(series, breaks_of[region], t=index[idx])
            starts = series["period_start"].to_numpy()
            for b in breaks_of[region]:
                marked[idx[starts == np.datetime64(pd.Timestamp(b))]] = True
    return out.assign(fitted=fitted, joinpoint=marked)


def rates_frame(
    rates: pd.DataFrame,
    *,
    coverage: pd.DataFrame | None = None,
    joinpoints: pd.DataFrame | None = None,
    sort: str | Sequence[str] = "total",
) -> pd.DataFrame:
    """The table :func:`rates` draws: one row per cell, with its coverage status and
    reasons, the fitted joinpoint segment, whether it starts a segment, and ``order``
    (the panel's place). Rates of uncovered cells are missing (gaps, not zeros)."""
    need(rates, ["region", "period", "count", "rate", "rate_low", "rate_high"], "rates")
    data = period_dates(plain(rates))
    data = _coverage_columns(data, coverage)
    data = _fitted_column(data, joinpoints)
    data.loc[data["status"] == "uncovered", ["rate", "rate_low", "rate_high"]] = np.nan
    for col in ("rate", "rate_low", "rate_high", "fitted"):  # 4 digits: a smaller page
        data[col] = [round_sig(v) for v in data[col].to_numpy(dtype=float)]
    order = region_order(data, sort)
    keep = [
        "region", "period", "period_start", "period_end", "count", "rate", "rate_low",
        "rate_high", "status", "reasons", "fitted", "joinpoint",
    ]  # fmt: skip
    data = data[keep].sort_values(["region", "period_start"], kind="stable")
    data["region"] = data["region"].astype(str)
    data["period"] = data["period"].astype(str)
    data["order"] = order_column(data["region"], order)
    return data.reset_index(drop=True)


def _points(data: pd.DataFrame, base: alt.Chart, tooltip: list) -> alt.Chart:
    shown = [s for s in POINT_STYLE if s in set(data["status"])]
    labels = [POINT_STYLE[s][0] for s in shown]
    return base.mark_point(filled=True, size=16, stroke=LINE, strokeWidth=0.8).encode(
        y="rate:Q",
        fill=alt.Fill(
            "style:N",
            title="Cell coverage",
            scale=alt.Scale(domain=labels, range=[POINT_STYLE[s][1] for s in shown]),
            legend=alt.Legend(orient="top", symbolStrokeColor=LINE, labelLimit=400),
        ),
        tooltip=tooltip,
    )


def rates(
    rates: pd.DataFrame,
    *,
    coverage: pd.DataFrame | None = None,
    joinpoints: pd.DataFrame | None = None,
    sort: str | Sequence[str] = "total",
    columns: int = 4,
    width: int = 215,
    height: int = 120,
    title: str | None = None,
) -> alt.FacetChart:
    """Small multiples of the rate by period, one panel per region.

    Each panel shows the rate (line), its confidence interval (band), one point per
    cell styled by coverage (filled: adequate; hollow: thin; grey: insufficient;
    series longer than :data:`POINTS_UP_TO` periods have no points), shaded gaps for
    periods the source does not cover (no line is drawn through them: they are not
    zeros), and, when ``joinpoints`` is given, the fitted joinpoint segments (dashed
    red) and the joinpoints (vertical rules). The time axis is labelled for the
    span drawn (:func:`trends.plot.timeaxis.tick_dates`); each panel has its own
    axes, so no axis stands under an empty slot.

    Parameters
    ----------
    rates : DataFrame
        Output of :func:`trends.rates`: ``region``, ``period``, ``count``, ``rate``,
        ``rate_low``, ``rate_high`` (``exposure``, ``period_start``/``period_end``
        used when present; ``exposure`` needed for joinpoint segments).
    coverage : DataFrame, optional
        Output of :func:`trends.coverage` (``region``, ``period``, ``status``,
        ``reasons``). Without it points are drawn filled and marked "not assessed".
    joinpoints : DataFrame, optional
        Output of :func:`trends.joinpoints` (``region``, ``segment``,
        ``segment_start``, ...).
    sort : {"total", "name"} or list of regions
        Panel order: by total count (most first), alphabetically, or as listed.
    columns, width, height : int
        Panels per row and the size of each panel in pixels.
    title : str, optional
        Chart title.

    Returns
    -------
    altair.FacetChart
    """
    data = rates_frame(rates, coverage=coverage, joinpoints=joinpoints, sort=sort)
    data["style"] = [POINT_STYLE.get(s, (s, ""))[0] for s in data["status"]]
    axis = time_axis(data["period_start"], data["period_end"], width=width, title=None)
    base = alt.Chart().encode(x=alt.X("period_start:T", title=None, axis=axis))
    tooltip = [
        alt.Tooltip("region:N", title="Region"),
        alt.Tooltip("period:N", title="Period"),
        alt.Tooltip("count:Q", title="Events", format=",.2~f"),
        alt.Tooltip("rate:Q", title="Rate per month", format=",.3~r"),
        alt.Tooltip("rate_low:Q", title="Lower bound", format=",.3~r"),
        alt.Tooltip("rate_high:Q", title="Upper bound", format=",.3~r"),
        alt.Tooltip("status:N", title="Coverage"),
        alt.Tooltip("reasons:N", title="Why"),
    ]
    gaps = (
        alt.Chart()
        .mark_rect(color=STATUS_COLORS["uncovered"], opacity=0.45)
        .encode(x="period_start:T", x2="period_end:T")
        .transform_filter(alt.datum.status == "uncovered")
    )
    band = base.mark_area(color=BAND, opacity=0.55, invalid=BREAK).encode(
        y=alt.Y("rate_low:Q", title=None, axis=alt.Axis(labelFlush=True, tickCount=4)),
        y2="rate_high:Q",
    )
    line = base.mark_line(color=LINE, strokeWidth=1.4, invalid=BREAK).encode(y="rate:Q")
    layers = [gaps, band, line]
    if data.groupby("region")["period"].size().max() <= POINTS_UP_TO:
        layers.append(_points(data, base, tooltip))
    else:  # no points, no tooltips: only what the lines, bands and gaps draw
        gap = data["status"] == "uncovered"
        data = data.assign(
            status=data["status"].where(gap, None), period_end=data["period_end"].where(gap)
        )
        data = data.drop(columns=["count", "period", "reasons", "style"])
    if data["fitted"].notna().any():
        fit = base.mark_line(color=FIT, strokeDash=[4, 2], strokeWidth=1.3, invalid=BREAK)
        jrule = (
            alt.Chart()
            .mark_rule(color=FIT, strokeDash=[2, 2], opacity=0.7)
            .encode(x="period_start:T")
            .transform_filter(alt.datum.joinpoint)
        )
        layers += [fit.encode(y="fitted:Q"), jrule]
    facet = alt.Facet(
        "region:N",
        sort=alt.EncodingSortField("order", op="min"),
        title=None,
        header=alt.Header(labelFontWeight="bold", labelLimit=width),
    )
    chart = (
        alt.layer(*layers, data=data)
        .properties(width=width, height=height)
        .facet(facet=facet, columns=columns)
        .resolve_scale(y="independent")
        .resolve_axis(x="independent")
    )
    if title:
        chart = chart.properties(title=title)
    return chart
