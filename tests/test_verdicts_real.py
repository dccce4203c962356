"""The verdict rules on the real shared UCDP files: the cases issue 10 was written from.

* IS events in Iraq by province, 2014-06..2017-12 against 2018: Arbīl goes from 0
  events to 1, which must never be significant (it was p = 0.0001 with an estimated
  dispersion of 0.2); Iraq as a whole, 427 events against 42, is a decrease, with
  UNAMI's silence named beside it (it was withheld as "insufficient").
* Syria 2018 against 2019 by month, quarter and year: the verdicts never point in
  opposite directions, and a coarser table never calls a change that a finer one finds
  far from significant (by year it called 4 increases and 3 decreases at p down to
  1e-93 with a silent Poisson dispersion).
* No trend prints an APC beyond ±10,000 %/yr or an infinite bound without saying it
  is not estimable.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import trends
from trends import verdicts
from trends.incidents import Incidents

pytestmark = pytest.mark.shared

SYRIA_WINDOWS = {
    "month": (("2018-01", "2018-12"), ("2019-01", "2019-11")),
    "quarter": (("2018Q1", "2018Q4"), ("2019Q1", "2019Q4")),
    "year": (("2018", "2018"), ("2019", "2019")),
}


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.TrendsWarning)
        return func(*args, **kwargs)


@pytest.fixture(scope="module")
def iraq_is(ucdp_dir) -> Incidents:
    inc = trends.read(ucdp_dir / "ged191_iraq.csv")
    data = inc.data[inc.data["actor"] == "IS"].reset_index(drop=True)
    return Incidents(data=data, ledger=inc.ledger, source=inc.source)


@pytest.fixture(scope="module")
def syria(ucdp_dir) -> dict[str, pd.DataFrame]:
    inc = trends.read(ucdp_dir / "ged_syria_652_1601_1911.csv")
    out = {}
    for period, (before, after) in SYRIA_WINDOWS.items():
        cells = trends.count(inc, region="region", period=period)
        out[period] = _quiet(trends.compare, cells, before=before, after=after)
    return out


def _is_compare(iraq_is: Incidents, region: str) -> pd.DataFrame:
    cells = trends.count(iraq_is, region=region, period="month", start="2014-06", end="2018-12")
    res = _quiet(trends.compare, cells, before=("2014-06", "2017-12"), after=("2018-01", "2018-12"))
    return res.set_index("region")


def test_zero_to_one_event_is_never_significant(iraq_is):
    res = _is_compare(iraq_is, "region")
    one = res[(res["count_before"] + res["count_after"] == 1)]
    assert "Arbīl" in one.index and one.loc["Arbīl", "count_after"] == 1
    assert (one["pvalue"] >= 0.05).all(), one["pvalue"]
    assert not one["verdict"].isin(verdicts.DIRECTIONAL).any()
    # and the trend of that single event is not estimable, not +12,666 %/yr
    cells = trends.count(iraq_is, region="region", period="month", start="2014-06", end="2018-12")
    arbil = _quiet(trends.trend, cells).set_index("region").loc["Arbīl"]
    assert arbil["verdict"] == "not estimable" and np.isnan(arbil["apc"])
    assert arbil["pvalue"] >= 0.05


def test_iraq_wide_collapse_is_a_decrease_with_the_silent_outlet_named(iraq_is):
    row = _is_compare(iraq_is, "country").loc["Iraq"]
    assert (row["count_before"], row["count_after"]) == (427, 42)
    assert row["rate_ratio"] == pytest.approx(0.353, abs=0.001)
    assert row["verdict"] == "decrease" and row["coverage"] == "adequate"
    assert row["silent_sources"] == "UNAMI"
    assert "UNAMI" in row["coverage_reasons"]
    assert "the change holds among the 4 outlets filing in both windows" in row["coverage_reasons"]


def test_syria_verdicts_agree_across_month_quarter_year(syria):
    table = pd.DataFrame({p: r.set_index("region")["verdict"] for p, r in syria.items()})
    pvalues = pd.DataFrame({p: r.set_index("region")["pvalue"] for p, r in syria.items()})
    up, down = {"increase"}, {"decrease"}
    for region, words in table.iterrows():
        said = set(words)
        assert not (said & up and said & down), (region, dict(words))
    order = list(SYRIA_WINDOWS)
    for finer, coarser in zip(order, order[1:], strict=False):
        for region in table.index:
            if table.loc[region, coarser] in verdicts.DIRECTIONAL:
                assert pvalues.loc[region, finer] < 0.5, (region, finer, coarser)
    # the same events in the same windows: the same counts and ratios at every grain
    ratios = pd.DataFrame({p: r.set_index("region")["rate_ratio"] for p, r in syria.items()})
    np.testing.assert_allclose(ratios["month"], ratios["quarter"], rtol=0.05)
    # by year a single cell per window no longer falls back to a silent dispersion of 1
    assert not syria["year"]["dispersion_source"].str.startswith("none").any()


def test_rif_dimashq_collapse_is_called(syria):
    row = syria["month"].set_index("region").loc["Rif Dimashq"]
    assert row["count_before"] > 450 and row["count_after"] < 20
    assert row["verdict"] == "decrease"


@pytest.mark.parametrize("file", ["ged191_iraq.csv", "ged_syria_652_1601_1911.csv"])
@pytest.mark.parametrize("period", ["month", "quarter", "year"])
def test_no_trend_prints_an_apc_the_data_cannot_support(ucdp_dir, file, period):
    inc = trends.read(ucdp_dir / file)
    cells = trends.count(inc, region="region", period=period)
    res = _quiet(trends.trend, cells)
    for col in ("apc", "apc_low", "apc_high"):
        values = res[col].dropna()
        assert np.isfinite(values).all() and (values.abs() <= verdicts.MAX_APC).all(), col
    unsupported = res["apc"].isna() & res["pvalue"].notna()
    assert (res.loc[unsupported, "verdict"] == "not estimable").all()
    assert res.loc[unsupported, "notes"].str.len().gt(0).all()
