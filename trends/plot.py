"""Charts of ``trends`` results, as Altair charts.

Every function takes the tidy tables the statistics return and gives back an
:class:`altair.Chart` (or a compound chart), so a notebook shows it, a script can
change it, and ``chart.save("fig.svg")`` writes it for a paper. The HTML report
embeds exactly these charts.

The charts are honest about coverage: thin cells are drawn hollow, insufficient
ones grey, and periods outside the source's coverage are gaps (shaded), never zeros.

Functions
---------
rates       small multiples, one per region: rate, interval band, coverage, joinpoints
coverage    region x period heat map of coverage status, reasons in the tooltip
comparison  forest plot of rate ratios (after / before) coloured by verdict
trends      forest plot of annual percent change coloured by verdict
sources     horizontal bars: the outlets behind most events and their share
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from .errors import CellsError

__all__ = [
    "STATUS_COLORS",
    "VERDICT_COLORS",
    "rates",
    "coverage",
    "comparison",
    "trends",
    "sources",
    "segment_fit",
    "reasons_text",
]

logger = logging.getLogger(__name__)

#: Coverage status -> colour (same in every chart and in the report's tables).
STATUS_COLORS: dict[str, str] = {
    "adequate": "#3b6ea8",
    "thin": "#e0a526",
    "insufficient": "#c2552b",
    "uncovered": "#c8c8c8",
}

#: Verdict -> colour. Rises are red (more incidents is worse news), falls are blue.
VERDICT_COLORS: dict[str, str] = {
    "increase": "#c0392b",
    "rising": "#c0392b",
    "decrease": "#2471a3",
    "falling": "#2471a3",
    "no significant change": "#7f8c8d",
    "stable": "#7f8c8d",
    "inconclusive (thin coverage)": "#e0a526",
    "not covered": "#c8c8c8",
}

_LINE = "#1d3557"
_BAND = "#a8c5e2"
_FIT = "#c0392b"
#: Missing values break a line or band (a gap), never drop it to zero or join across.
_BREAK = "break-paths-filter-domains"

#: How each coverage status is drawn in :func:`rates`, as the legend says it.
_POINT_STYLE = {
    "adequate": ("adequate (filled)", _LINE),
    "thin": ("thin: too few events or sources (hollow)", "#ffffff"),
    "insufficient": ("insufficient (grey)", "#b0b0b0"),
    "unknown": ("not assessed (filled)", _LINE),
}


def _need(table: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise CellsError(f"{name} must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise CellsError(
            f"{name} lacks column(s) {missing}; it has {list(map(str, table.columns))}"
        )


def _period_dates(table: pd.DataFrame) -> pd.DataFrame:
    """A copy with ``period_start``/``period_end`` (derived from ``period`` when absent)."""
    if "period_start" in table.columns and "period_end" in table.columns:
        out = table.copy()
        out["period_start"] = pd.to_datetime(out["period_start"])
        out["period_end"] = pd.to_datetime(out["period_end"])
        return out
    from .cells import as_cells

    cells = table if "count" in table.columns else table.assign(count=0.0)
    out = as_cells(cells, name="table")
    return out if "count" in table.columns else out.drop(columns="count")


def _region_order(table: pd.DataFrame, sort: str | Sequence[str]) -> list[str]:
    """Regions ordered for display: by total count (descending), name, or as given."""
    regions = sorted(table["region"].astype(str).unique())
    if not isinstance(sort, str):
        given = [str(r) for r in sort]
        return given + [r for r in regions if r not in given]
    if sort == "name":
        return regions
    if sort == "total":
        totals = table.groupby(table["region"].astype(str))["count"].sum(min_count=1).fillna(0)
        return sorted(regions, key=lambda r: (-float(totals.get(r, 0.0)), r))
    raise CellsError(f"sort={sort!r} is not 'total', 'name' or a list of regions")


def _coverage_columns(table: pd.DataFrame, coverage: pd.DataFrame | None) -> pd.DataFrame:
    """Add ``status`` and ``reasons`` (from a ``coverage()`` table or the table itself)."""
    out = table.copy()
    if coverage is not None:
        _need(coverage, ["region", "period", "status"], "coverage")
        cov = _plain(coverage)[["region", "period", "status"]].copy()
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


def reasons_text(value: object) -> str:
    """Coverage reasons as one '; '-joined sentence list, whatever form they came in."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, list | tuple | np.ndarray):
        return "; ".join(str(v) for v in value)
    return str(value)


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
        ``series``; NaN where the count is missing.
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
    from .joinpoint.fit import design, fit_poisson

    y = series["count"].to_numpy(dtype=float)
    offset = np.log(np.maximum(series["exposure"].to_numpy(dtype=float), 1e-12))
    ok = np.isfinite(y)
    fitted = np.full(len(series), np.nan)
    x = t[ok]
    knots = np.array([i for tau in taus for i in np.flatnonzero(x == tau)[:1]], dtype=int)
    if ok.sum() < len(knots) + 2 or len(knots) < len(taus):
        return fitted  # too few cells, or a joinpoint off the covered periods
    with np.errstate(all="ignore"):  # a fit heading to a rate of 0 overflows on its way
        fit = fit_poisson(x, y[ok], offset[ok], knots)
        fitted[ok] = np.exp(design(x, knots) @ fit.beta) * 30.4375
    return fitted


def _fitted_column(table: pd.DataFrame, joinpoints: pd.DataFrame | None) -> pd.DataFrame:
    """Add ``fitted`` (joinpoint segments) and ``joinpoint`` (bool) per cell."""
    out = table.sort_values(["region", "period_start"], kind="stable").reset_index(drop=True)
    fitted = np.full(len(out), np.nan)
    marked = np.zeros(len(out), dtype=bool)
    if joinpoints is not None and len(joinpoints) and "count" in out.columns:
        _need(joinpoints, ["region", "segment", "segment_start"], "joinpoints")
        jp = _plain(joinpoints)
        jp = jp[pd.to_numeric(jp["segment"], errors="coerce").notna()]
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


def _round(value: float, digits: int = 4) -> float:
    """``value`` to ``digits`` significant digits (NaN stays NaN)."""
    if not np.isfinite(value) or value == 0:
        return value
    return round(value, digits - 1 - int(np.floor(np.log10(abs(value)))))


def _plain(table: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy without ``attrs`` (pandas deep-copies attrs on every operation)."""
    out = table.copy(deep=False)
    out.attrs = {}
    return out


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
    cell styled by coverage (filled: adequate; hollow: thin; grey: insufficient),
    shaded gaps for periods the source does not cover (no line is drawn through
    them: they are not zeros), and, when ``joinpoints`` is given, the fitted joinpoint
    segments (dashed red) and the joinpoints (vertical rules).

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
    _need(rates, ["region", "period", "count", "rate", "rate_low", "rate_high"], "rates")
    data = _period_dates(_plain(rates))
    data = _coverage_columns(data, coverage)
    data = _fitted_column(data, joinpoints)
    data.loc[data["status"] == "uncovered", ["rate", "rate_low", "rate_high"]] = np.nan
    for col in ("rate", "rate_low", "rate_high", "fitted"):  # 4 digits: a smaller page
        data[col] = [_round(v) for v in data[col].to_numpy(dtype=float)]
    order = _region_order(data, sort)
    keep = [
        "region", "period", "period_start", "period_end", "count", "rate", "rate_low",
        "rate_high", "status", "reasons", "fitted", "joinpoint",
    ]  # fmt: skip
    data = data[keep].sort_values(["region", "period_start"], kind="stable")
    data["region"] = data["region"].astype(str)
    data["period"] = data["period"].astype(str)
    data = data.reset_index(drop=True)

    x = alt.X("period_start:T", title=None, axis=alt.Axis(format="%Y", tickCount="year"))
    base = alt.Chart().encode(x=x)
    tooltip = [
        alt.Tooltip("region:N", title="Region"),
        alt.Tooltip("period:N", title="Period"),
        alt.Tooltip("count:Q", title="Events", format=",.4~g"),
        alt.Tooltip("rate:Q", title="Rate per month", format=",.3~g"),
        alt.Tooltip("rate_low:Q", title="Lower bound", format=",.3~g"),
        alt.Tooltip("rate_high:Q", title="Upper bound", format=",.3~g"),
        alt.Tooltip("status:N", title="Coverage"),
        alt.Tooltip("reasons:N", title="Why"),
    ]
    gaps = (
        alt.Chart()
        .mark_rect(color=STATUS_COLORS["uncovered"], opacity=0.45)
        .encode(x="period_start:T", x2="period_end:T")
        .transform_filter("datum.status === 'uncovered'")
    )
    band = base.mark_area(color=_BAND, opacity=0.55, invalid=_BREAK).encode(
        y=alt.Y("rate_low:Q", title=None, axis=alt.Axis(labelFlush=True, tickCount=4)),
        y2="rate_high:Q",
    )
    line = base.mark_line(color=_LINE, strokeWidth=1.4, invalid=_BREAK).encode(y="rate:Q")
    shown = [s for s in _POINT_STYLE if s in set(data["status"])]
    labels = "{" + ", ".join(f"{s!r}: {_POINT_STYLE[s][0]!r}" for s in shown) + "}"
    points = base.mark_point(filled=True, size=16, stroke=_LINE, strokeWidth=0.8).encode(
        y="rate:Q",
        fill=alt.Fill(
            "status:N",
            title="Cell coverage",
            scale=alt.Scale(domain=shown, range=[_POINT_STYLE[s][1] for s in shown]),
            legend=alt.Legend(
                orient="top",
                symbolStrokeColor=_LINE,
                labelLimit=400,
                labelExpr=f"{labels}[datum.label] || datum.label",
            ),
        ),
        tooltip=tooltip,
    )
    layers = [gaps, band, line, points]
    if data["fitted"].notna().any():
        fit = base.mark_line(color=_FIT, strokeDash=[4, 2], strokeWidth=1.3, invalid=_BREAK)
        jrule = (
            alt.Chart()
            .mark_rule(color=_FIT, strokeDash=[2, 2], opacity=0.7)
            .encode(x="period_start:T")
            .transform_filter("datum.joinpoint")
        )
        layers += [fit.encode(y="fitted:Q"), jrule]
    chart = (
        alt.layer(*layers, data=data)
        .properties(width=width, height=height)
        .facet(
            facet=alt.Facet(
                "region:N", sort=order, title=None, header=alt.Header(labelFontWeight="bold")
            ),
            columns=columns,
        )
        .resolve_scale(y="independent")
    )
    if title:
        chart = chart.properties(title=title)
    return chart


def coverage(
    coverage: pd.DataFrame,
    *,
    sort: str | Sequence[str] = "total",
    width: int = 900,
    cell_height: int = 16,
    title: str | None = None,
) -> alt.Chart:
    """Heat map of coverage status, regions down, periods across; reasons on hover.

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
    _need(coverage, ["region", "period", "status"], "coverage")
    data = _period_dates(_plain(coverage))
    data["reasons"] = data["reasons"].map(reasons_text) if "reasons" in data.columns else ""
    if "count" not in data.columns:
        data["count"] = np.nan
    order = _region_order(data, sort)
    data = data[["region", "period", "period_start", "period_end", "status", "reasons", "count"]]
    data = data.assign(region=data["region"].astype(str), period=data["period"].astype(str))
    data = data.sort_values(["region", "period_start"], kind="stable").reset_index(drop=True)
    present = [s for s in STATUS_COLORS if s in set(data["status"])]
    chart = (
        alt.Chart(data)
        .mark_rect(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("period_start:T", title=None, axis=alt.Axis(format="%Y", tickCount="year")),
            x2="period_end:T",
            y=alt.Y("region:N", sort=order, title=None),
            color=alt.Color(
                "status:N",
                title="Coverage",
                scale=alt.Scale(domain=present, range=[STATUS_COLORS[s] for s in present]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("region:N", title="Region"),
                alt.Tooltip("period:N", title="Period"),
                alt.Tooltip("count:Q", title="Events", format=",.4~g"),
                alt.Tooltip("status:N", title="Coverage"),
                alt.Tooltip("reasons:N", title="Why"),
            ],
        )
        .properties(width=width, height=alt.Step(cell_height))
    )
    if title:
        chart = chart.properties(title=title)
    return chart


def _forest(
    table: pd.DataFrame,
    *,
    estimate: str,
    low: str,
    high: str,
    axis_title: str,
    log: bool,
    reference: float,
    sort: Sequence[str],
    width: int,
    title: str | None,
) -> alt.LayerChart:
    data = _plain(table)
    data["region"] = data["region"].astype(str)
    data["verdict"] = data["verdict"].astype(str)
    cols = ["region", estimate, low, high, "verdict"]
    extra = [c for c in ("pvalue", "qvalue", "coverage") if c in data.columns]
    data = data[cols + extra]
    for c in (estimate, low, high):
        data[c] = pd.to_numeric(data[c], errors="coerce")
    if log:  # a log scale cannot show zero or negative bounds
        for c in (estimate, low, high):
            data.loc[~(data[c] > 0), c] = np.nan
    present = [v for v in VERDICT_COLORS if v in set(data["verdict"])]
    present += sorted(set(data["verdict"]) - set(present))
    scale = alt.Scale(domain=present, range=[VERDICT_COLORS.get(v, "#444444") for v in present])
    y = alt.Y("region:N", sort=list(sort), title=None)
    xscale = alt.Scale(type="log") if log else alt.Scale(zero=False)
    xaxis = alt.Axis(values=_log_ticks(data[[low, high]].to_numpy())) if log else alt.Axis()
    tooltip = [
        alt.Tooltip("region:N", title="Region"),
        alt.Tooltip(f"{estimate}:Q", title=axis_title, format=",.3~g"),
        alt.Tooltip(f"{low}:Q", title="Lower bound", format=",.3~g"),
        alt.Tooltip(f"{high}:Q", title="Upper bound", format=",.3~g"),
        *[alt.Tooltip(f"{c}:Q", format=".3~g") for c in extra if c != "coverage"],
        alt.Tooltip("verdict:N", title="Verdict"),
    ]
    base = alt.Chart(data).encode(y=y)
    ref = alt.Chart(pd.DataFrame({"ref": [reference]})).mark_rule(color="#555555").encode(x="ref:Q")
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X(f"{low}:Q", scale=xscale, title=axis_title, axis=xaxis),
        x2=f"{high}:Q",
        color=alt.Color("verdict:N", scale=scale, title="Verdict", legend=alt.Legend(orient="top")),
        tooltip=tooltip,
    )
    dots = base.mark_point(filled=True, size=50).encode(
        x=f"{estimate}:Q", color=alt.Color("verdict:N", scale=scale), tooltip=tooltip
    )
    chart = alt.layer(ref, bars, dots).properties(width=width, height=alt.Step(18))
    if title:
        chart = chart.properties(title=title)
    return chart


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


def comparison(
    comparison: pd.DataFrame,
    *,
    sort: str | Sequence[str] = "estimate",
    width: int = 420,
    title: str | None = None,
) -> alt.LayerChart:
    """Forest plot of rate ratios (after / before) with intervals, coloured by verdict.

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
    _need(comparison, ["region", "rate_ratio", "rr_low", "rr_high", "verdict"], "comparison")
    return _forest(
        comparison,
        estimate="rate_ratio",
        low="rr_low",
        high="rr_high",
        axis_title="Rate ratio (after / before)",
        log=True,
        reference=1.0,
        sort=_estimate_order(comparison, "rate_ratio", sort),
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
    _need(trend, ["region", "apc", "apc_low", "apc_high", "verdict"], "trend")
    return _forest(
        trend,
        estimate="apc",
        low="apc_low",
        high="apc_high",
        axis_title="Annual percent change",
        log=False,
        reference=0.0,
        sort=_estimate_order(trend, "apc", sort),
        width=width,
        title=title,
    )


def _estimate_order(table: pd.DataFrame, column: str, sort: str | Sequence[str]) -> list[str]:
    if sort == "estimate":
        est = pd.to_numeric(table[column], errors="coerce").fillna(-np.inf).to_numpy()
        regions = table["region"].astype(str).to_numpy()
        return [
            regions[i] for i in sorted(range(len(regions)), key=lambda i: (-est[i], regions[i]))
        ]
    if sort == "name":
        return sorted(table["region"].astype(str))
    if isinstance(sort, str):
        raise CellsError(f"sort={sort!r} is not 'estimate', 'name' or a list of regions")
    return [str(r) for r in sort]


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
    _need(shares, ["source", "events"], "shares")
    data = shares[["source", "events"] + (["share"] if "share" in shares.columns else [])].copy()
    data["source"] = data["source"].astype(str)
    if "share" not in data.columns:
        data["share"] = data["events"] / data["events"].sum()
    data = data.sort_values(["events", "source"], ascending=[False, True]).head(top)
    data = data.reset_index(drop=True)
    base = alt.Chart(data).encode(
        y=alt.Y("source:N", sort=list(data["source"]), title=None),
        x=alt.X("share:Q", title="Share of events naming the outlet", axis=alt.Axis(format="%")),
        tooltip=[
            alt.Tooltip("source:N", title="Source"),
            alt.Tooltip("events:Q", title="Events", format=",.4~g"),
            alt.Tooltip("share:Q", title="Share", format=".1%"),
        ],
    )
    bars = base.mark_bar(color=_LINE)
    labels = base.mark_text(align="left", dx=3, fontSize=10).encode(
        text=alt.Text("share:Q", format=".1%")
    )
    chart = (bars + labels).properties(width=width, height=alt.Step(18))
    if title:
        chart = chart.properties(title=title)
    return chart
