"""The synthetic demo data: deterministic, labelled synthetic, and true to its ground truth."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import trends
from trends.errors import TrendsWarning


@pytest.fixture(scope="module")
def demo():
    incidents, truth = trends.datasets.simulate(return_truth=True)
    return incidents, truth, trends.count(incidents)


def test_same_seed_same_data_other_seed_other_data():
    a = trends.datasets.simulate(seed=5, months=8)
    b = trends.datasets.simulate(seed=5, months=8)
    c = trends.datasets.simulate(seed=6, months=8)
    pd.testing.assert_frame_equal(a.data, b.data)
    assert not a.data["date_start"].equals(c.data["date_start"]) or len(a.data) != len(c.data)


def test_labelled_synthetic_everywhere(demo):
    incidents, truth, _ = demo
    assert "synthetic" in incidents.source.name and "synthetic" in incidents.source.citation.lower()
    assert incidents.data["country"].str.contains("synthetic").all()
    sources = incidents.data["sources"].str.split(";").explode()
    assert sources.str.contains("synthetic").all()
    assert set(truth["scenario"]) == {"baseline", "true change", "too sparse", "source lost"}
    assert len(truth) == 15


def test_counts_follow_the_ground_truth(demo):
    _, truth, cells = demo
    truth = truth.set_index("region")
    change = truth["change_period"].iloc[0]
    before = cells[cells["period"] < change].groupby("region")["count"].mean()
    after = cells[cells["period"] >= change].groupby("region")["count"].mean()
    # Al Qasr's mean doubles; Marj loses about half of its reports; Khatt stays sparse.
    assert after["Al Qasr"] / before["Al Qasr"] == pytest.approx(2.0, rel=0.25)
    expected = truth.loc["Marj", "reported_share_after"]
    assert after["Marj"] / before["Marj"] == pytest.approx(expected, rel=0.25)
    assert before["Khatt"] + after["Khatt"] < 2
    baseline = truth.index[truth["scenario"] == "baseline"]
    # overdispersed: variance about three times the mean in the baseline regions
    ratio = (cells.groupby("region")["count"].var() / cells.groupby("region")["count"].mean())[
        baseline
    ]
    assert 1.5 < ratio.median() < 6


def test_the_pipeline_finds_what_was_planted(demo):
    _, truth, cells = demo
    before, after = trends.datasets.demo_windows(truth)
    assert (before, after) == (("2019-07", "2021-06"), ("2021-07", "2023-06"))  # whole years
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrendsWarning)
        result = trends.compare(cells, before=before, after=after).set_index("region")
    assert result.loc["Al Qasr", "verdict"] == "increase"
    assert result.loc["Marj", "verdict"] == "inconclusive (thin coverage)"
    # too sparse to call a change: the test says so, and the rates are flagged unreliable
    assert result.loc["Khatt", "verdict"] == "no significant change"
    assert not result.loc["Khatt", "reliable"]
    assert result.loc["Marj", "rate_ratio"] < 0.75  # the numbers are still shown
