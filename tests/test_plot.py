"""Chart functions: what each chart encodes, and the joinpoint segment fit."""

from __future__ import annotations

import warnings

import altair as alt
import numpy as np
import pandas as pd
import pytest

import trends
from trends import plot
from trends.errors import CellsError


@pytest.fixture(scope="module")
def tables():
    from report_data import hand_comparison, hand_joinpoints, synthetic_cells

    cells = synthetic_cells()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.ThinCoverageWarning)
        trend = trends.trend(cells)
    return {
        "cells": cells,
        "rates": trends.rates(cells),
        "coverage": trends.coverage(cells),
        "comparison": hand_comparison(cells),
        "trend": trend,
        "joinpoints": hand_joinpoints(),
    }


def _data(chart: alt.TopLevelMixin) -> pd.DataFrame:
    spec = chart.to_dict()
    (rows,) = spec["datasets"].values() if len(spec["datasets"]) == 1 else [None]
    return pd.DataFrame(rows)


def test_rates_small_multiples(tables) -> None:
    chart = plot.rates(
        tables["rates"], coverage=tables["coverage"], joinpoints=tables["joinpoints"]
    )
    assert isinstance(chart, alt.FacetChart)
    spec = chart.to_dict()
    # one panel per region, most events first (by a number, never a list of names),
    # each with its own y scale and its own axes (no axis under an empty slot)
    totals = tables["cells"].groupby("region")["count"].sum().sort_values(ascending=False)
    assert spec["facet"]["sort"] == {"field": "order", "op": "min"}
    data = _data(chart)
    order = data.groupby("region")["order"].first().sort_values()
    assert list(order.index) == list(totals.index)
    assert spec["resolve"]["scale"]["y"] == "independent"
    assert spec["resolve"]["axis"]["x"] == "independent"
    # uncovered periods: no rate (a gap), never zero
    homs = data[data["region"] == "Homs"]
    gap = homs["status"] == "uncovered"
    assert gap.sum() == 6 and homs.loc[gap, "rate"].isna().all()
    lines = [layer for layer in spec["spec"]["layer"] if layer["mark"]["type"] in ("line", "area")]
    assert all(layer["mark"]["invalid"] == "break-paths-filter-domains" for layer in lines)
    # thin cells are hollow (white fill), insufficient grey, adequate filled
    points = next(layer for layer in spec["spec"]["layer"] if layer["mark"]["type"] == "point")
    scale = points["encoding"]["fill"]["scale"]
    fills = dict(zip(scale["domain"], scale["range"], strict=True))
    assert fills["thin: too few events or sources (hollow)"] == "#ffffff"
    assert fills["insufficient (grey)"] == "#b0b0b0"
    assert fills["adequate (filled)"] == "#1d3557"
    # joinpoints: fitted segments for Aleppo only, a rule at 2018-03
    assert data.loc[data["region"] == "Aleppo", "fitted"].notna().all()
    assert data.loc[data["region"] != "Aleppo", "fitted"].isna().all()
    marked = data[data["joinpoint"]]
    assert list(marked["period"]) == ["2018-03"] and list(marked["region"]) == ["Aleppo"]


def every_chart(tables) -> list[alt.TopLevelMixin]:
    """One chart of each kind, on the synthetic tables."""
    return [
        plot.rates(tables["rates"], coverage=tables["coverage"], joinpoints=tables["joinpoints"]),
        plot.coverage(tables["coverage"]),
        plot.comparison(tables["comparison"]),
        plot.trends(tables["trend"]),
        plot.sources(pd.DataFrame({"source": ["constructor", "b"], "events": [3.0, 1.0]})),
    ]


def _sort_lists(node, path="") -> list[str]:
    """Where a spec sorts by a list of values (Vega-Lite compiles it into an object
    lookup that breaks on names such as ``constructor``)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "sort" and isinstance(value, list):
                found.append(path)
            found += _sort_lists(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _sort_lists(value, f"{path}/{i}")
    return found


def test_no_chart_sorts_by_a_list_of_names(tables) -> None:
    """Prototype-safe: no chart orders regions by a list, and none looks labels up
    in an object literal (``{...}[datum.label]``)."""
    for chart in every_chart(tables):
        spec = chart.to_dict()
        assert _sort_lists(spec) == []
        assert "[datum.label]" not in str(spec)


def test_rates_without_coverage_says_not_assessed(tables) -> None:
    data = _data(plot.rates(tables["rates"]))
    assert set(data["status"]) == {"unknown", "uncovered"}
    assert (data.loc[data["count"].notna(), "status"] == "unknown").all()


def test_rates_needs_its_columns() -> None:
    with pytest.raises(CellsError, match=r"lacks column\(s\) \['rate'"):
        plot.rates(pd.DataFrame({"region": ["a"], "period": ["2016-01"], "count": [1.0]}))
    with pytest.raises(CellsError, match="sort='size'"):
        plot.coverage(
            pd.DataFrame({"region": ["a"], "period": ["2016-01"], "status": ["thin"]}), sort="size"
        )


def test_segment_fit_matches_statsmodels_glm() -> None:
    """Continuous hinge Poisson fit == statsmodels GLM(Poisson) with the same design."""
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    n = 40
    t = np.arange(n, dtype=float)
    exposure = np.where(np.arange(n) % 2, 31.0, 30.0)
    mu = exposure * np.exp(0.5 + 0.04 * t - 0.09 * np.clip(t - 22, 0, None))
    counts = rng.poisson(mu).astype(float)
    counts[5] = np.nan  # an uncovered period stays out of the fit
    starts = pd.date_range("2016-01-01", periods=n, freq="MS")
    series = pd.DataFrame({"period_start": starts, "count": counts, "exposure": exposure})
    fitted = plot.segment_fit(series, [starts[22]])
    ok = ~np.isnan(counts)
    X = np.column_stack([np.ones(n), t, np.clip(t - 22, 0, None)])[ok]
    glm = sm.GLM(counts[ok], X, family=sm.families.Poisson(), offset=np.log(exposure[ok])).fit()
    expected = np.exp(X @ glm.params) * 30.4375
    np.testing.assert_allclose(fitted[ok], expected, rtol=1e-7)
    assert np.isnan(fitted[5])
    # a period absent from the series (not just missing) keeps its place on the time axis
    keep = np.arange(n) != 30
    gapped = plot.segment_fit(series[keep].reset_index(drop=True), [starts[22]], t=t[keep])
    ok2 = ok & keep
    X2 = np.column_stack([np.ones(n), t, np.clip(t - 22, 0, None)])[ok2]
    glm2 = sm.GLM(counts[ok2], X2, family=sm.families.Poisson(), offset=np.log(exposure[ok2]))
    expected2 = np.exp(X2 @ glm2.fit().params) * 30.4375
    np.testing.assert_allclose(gapped[~np.isnan(gapped)], expected2, rtol=1e-7)


def test_segment_fit_that_cannot_be_made_is_missing() -> None:
    """All zeros before a joinpoint: the hinge fit diverges; no line rather than a crash."""
    starts = pd.date_range("2016-01-01", periods=12, freq="MS")
    series = pd.DataFrame(
        {"period_start": starts, "count": [0.0] * 10 + [5.0, 0.0], "exposure": 30.0}
    )
    with np.errstate(all="raise"):
        fitted = plot.segment_fit(series, [starts[5], starts[9]])
    assert np.isnan(fitted).all() or np.isfinite(fitted).all()


def _formats(node) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "format" and isinstance(v, str)]
        return found + [f for v in node.values() for f in _formats(v)]
    if isinstance(node, list):
        return [f for v in node for f in _formats(v)]
    return []


def test_chart_numbers_never_scientific(tables) -> None:
    """Tooltips and axes format numbers in decimal notation (d3 "r" or "f", never "g"
    or "e", which print 1140 as 1.14e+3)."""
    formats = [f for chart in every_chart(tables) for f in _formats(chart.to_dict())]
    numeric = [f for f in formats if not f.startswith("%")]
    assert numeric and all(f[-1] in "rf%" for f in numeric), numeric


def test_coverage_heat_map(tables) -> None:
    chart = plot.coverage(tables["coverage"])
    spec = chart.to_dict()
    enc = spec["encoding"]
    assert enc["color"]["scale"]["domain"] == ["adequate", "thin", "insufficient", "uncovered"]
    assert enc["color"]["scale"]["range"] == [
        plot.STATUS_COLORS[s] for s in enc["color"]["scale"]["domain"]
    ]
    assert enc["y"]["sort"] == {"field": "order", "op": "min"}
    assert any(t["field"] == "reasons" for t in enc["tooltip"])
    data = _data(chart)
    assert len(data) == len(tables["coverage"])  # 36 months: one rectangle per cell
    assert data["reasons"].map(type).eq(str).all()  # lists joined into sentences


def test_coverage_heat_map_merges_runs_of_a_long_series() -> None:
    """Thirty years of weeks are drawn as runs of one status, not 1,560 cells a row."""
    weeks = pd.date_range("1989-01-02", "2018-12-31", freq="7D")
    status = np.where((np.arange(len(weeks)) // 200) % 2 == 0, "insufficient", "adequate")
    cov = pd.DataFrame(
        {
            "region": "A",
            "period": [f"p{i}" for i in range(len(weeks))],
            "period_start": weeks,
            "period_end": weeks + pd.Timedelta(days=6),
            "status": status,
            "count": 1.0,
        }
    )
    data = _data(plot.coverage(cov))
    assert len(data) == 8  # 1,565 weeks in 8 runs
    assert list(data["n_cells"]) == [200] * 7 + [len(weeks) - 1400]
    assert data["count"].sum() == len(weeks)
    assert data["period"].iloc[0] == "p0 to p199"


def test_forest_plots(tables) -> None:
    cmp_spec = plot.comparison(tables["comparison"]).to_dict()
    rules = [layer for layer in cmp_spec["layer"] if layer["mark"]["type"] == "rule"]
    assert rules[1]["encoding"]["x"]["scale"]["type"] == "log"
    assert rules[1]["encoding"]["y"]["sort"] == {"field": "order", "op": "min"}
    (rows,) = [v for v in cmp_spec["datasets"].values() if "order" in v[0]]
    first = min(rows, key=lambda r: r["order"])
    assert first["region"] == "Idlib"  # largest ratio first
    tr_spec = plot.trends(tables["trend"]).to_dict()
    colour = tr_spec["layer"][1]["encoding"]["color"]["scale"]
    assert dict(zip(colour["domain"], colour["range"], strict=True))["rising"] == "#c0392b"


def test_forest_frame_says_what_it_cannot_draw() -> None:
    """Ratios of 0 or infinity have no place on a log axis; not estimable or not
    covered rows are not drawn; a bound at 0 or infinity is drawn to the axis edge."""
    table = pd.DataFrame(
        {
            "region": ["zero", "inf", "none", "ok", "open", "noest"],
            "rate_ratio": [0.0, np.inf, np.nan, 1.5, 0.5, 2.0],
            "rr_low": [0.0, 1.2, np.nan, 1.1, 0.0, 1.5],
            "rr_high": [0.8, np.inf, np.nan, 2.0, 0.9, 2.5],
            "verdict": ["decrease", "increase", "not covered", "increase", "decrease",
                        "not estimable"],
        }
    )  # fmt: skip
    frame = plot.forest_frame(table, estimate="rate_ratio", low="rr_low", high="rr_high", log=True)
    why = dict(zip(frame["region"], frame["why"], strict=True))
    assert why["zero"] == "estimate 0, which a log scale cannot show"
    assert why["inf"] == "infinite estimate"
    assert why["none"] == "not covered"
    assert why["noest"] == "not estimable"
    assert why["ok"] == why["open"] == ""
    drawn = frame.set_index("region")
    assert drawn.loc["open", "clipped"]
    assert drawn.loc["open", "x_low"] == 0.5  # the smallest value drawn: the axis edge
    assert not drawn.loc["ok", "clipped"]
    spec = plot.comparison(table).to_dict()
    (rows,) = [v for v in spec["datasets"].values() if "region" in v[0]]
    assert sorted(r["region"] for r in rows) == ["ok", "open"]


def test_time_axis_fits_the_series() -> None:
    """Enough labels for a 12-month panel, few gridlines for 30 years of quarters."""
    months = pd.date_range("2019-01-01", "2019-12-01", freq="MS")
    ticks, fmt = plot.tick_dates(months, months + pd.offsets.MonthEnd(0), width=200)
    assert fmt == "%b %Y" and len(ticks) >= 3  # not just "2019"
    quarters = pd.date_range("1989-01-01", "2018-10-01", freq="QS")
    ticks, fmt = plot.tick_dates(quarters, width=200)
    assert fmt == "%Y" and 2 <= len(ticks) <= 5  # not 120 gridlines
    ticks, fmt = plot.tick_dates(quarters, width=720)
    assert 6 <= len(ticks) <= 16
    weeks = pd.date_range("2022-02-07", "2022-02-28", freq="7D")  # one month of weeks
    ticks, _ = plot.tick_dates(weeks, width=200)
    assert len(ticks) >= 1
    one = plot.tick_dates([pd.Timestamp("2022-01-01")], width=200)[0]
    assert one == [pd.Timestamp("2022-01-01")]
    axis = plot.time_axis(months, width=200).to_dict()
    assert axis["values"][0] == {"year": 2019, "month": 1, "date": 1}
    assert axis["format"] == "%b %Y"


def test_sources_bars() -> None:
    shares = pd.DataFrame({"source": ["b", "a", "c"], "events": [5.0, 10.0, 5.0]})
    chart = plot.sources(shares, top=2)
    data = _data(chart)
    assert list(data["source"]) == ["a", "b"]
    np.testing.assert_allclose(data["share"], [0.5, 0.25])


def test_charts_save_as_svg(tables, tmp_path) -> None:
    path = tmp_path / "coverage.svg"
    plot.coverage(tables["coverage"]).save(path)
    assert path.read_text().startswith("<svg")
