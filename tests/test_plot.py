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
    from test_report import hand_comparison, hand_joinpoints, synthetic_cells

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
    # one panel per region, most events first, each with its own y scale
    totals = tables["cells"].groupby("region")["count"].sum().sort_values(ascending=False)
    assert spec["facet"]["sort"] == list(totals.index)
    assert spec["resolve"]["scale"]["y"] == "independent"
    data = _data(chart)
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
    assert fills["thin"] == "#ffffff" and fills["insufficient"] == "#b0b0b0"
    assert fills["adequate"] == "#1d3557"
    assert "too few events or sources (hollow)" in points["encoding"]["fill"]["legend"]["labelExpr"]
    # joinpoints: fitted segments for Aleppo only, a rule at 2018-03
    assert data.loc[data["region"] == "Aleppo", "fitted"].notna().all()
    assert data.loc[data["region"] != "Aleppo", "fitted"].isna().all()
    marked = data[data["joinpoint"]]
    assert list(marked["period"]) == ["2018-03"] and list(marked["region"]) == ["Aleppo"]


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


def test_coverage_heat_map(tables) -> None:
    chart = plot.coverage(tables["coverage"])
    spec = chart.to_dict()
    enc = spec["encoding"]
    assert enc["color"]["scale"]["domain"] == ["adequate", "thin", "insufficient", "uncovered"]
    assert enc["color"]["scale"]["range"] == [
        plot.STATUS_COLORS[s] for s in enc["color"]["scale"]["domain"]
    ]
    assert any(t["field"] == "reasons" for t in enc["tooltip"])
    data = _data(chart)
    assert len(data) == len(tables["coverage"])
    assert data["reasons"].map(type).eq(str).all()  # lists joined into sentences


def test_forest_plots(tables) -> None:
    cmp_spec = plot.comparison(tables["comparison"]).to_dict()
    rules = [layer for layer in cmp_spec["layer"] if layer["mark"]["type"] == "rule"]
    assert rules[1]["encoding"]["x"]["scale"]["type"] == "log"
    assert rules[1]["encoding"]["y"]["sort"][0] == "Idlib"  # largest ratio first
    tr_spec = plot.trends(tables["trend"]).to_dict()
    colour = tr_spec["layer"][1]["encoding"]["color"]["scale"]
    assert dict(zip(colour["domain"], colour["range"], strict=True))["rising"] == "#c0392b"


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
