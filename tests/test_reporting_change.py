"""Could the change be reporting? The three-region scenario, end to end through compare.

Regions built here, month by month, outlet by outlet (seeded Poisson counts):

* ``lost, one left``: the main outlet (80% of events) stops filing at mid-year; one
  minor outlet keeps filing as before.
* ``lost, two left``: the same, with two minor outlets that keep filing.
* ``true halving``: three outlets keep filing, and each files half as much.
* ``too sparse``: a handful of events a month.
* ``steady``: nothing changes.

A fall made by an outlet going silent must never come out as a ``decrease``; a real
halving must; a rate on few events is flagged unreliable beside its verdict; nothing
changing is no change.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import trends
from trends.coverage_model import coverage, source_activity
from trends.errors import ThinCoverageWarning

MONTHS = [f"2016-{m:02d}" for m in range(1, 13)]
BEFORE, AFTER = ("2016-01", "2016-06"), ("2016-07", "2016-12")

# mean events per month by outlet, before and after mid-year
SCENARIO = {
    "lost, one left": ({"MAIN": 40, "A": 10}, {"A": 10}),
    "lost, two left": ({"MAIN": 40, "A": 5, "B": 5}, {"A": 5, "B": 5}),
    "true halving": ({"X": 20, "Y": 15, "Z": 15}, {"X": 10, "Y": 7.5, "Z": 7.5}),
    "too sparse": ({"A": 1, "B": 1}, {"A": 0.5, "B": 0.5}),
    "steady": ({"A": 20, "B": 15, "C": 15}, {"A": 20, "B": 15, "C": 15}),
}


def scenario_cells(seed: int = 20160701) -> pd.DataFrame:
    """A cell table with the source columns count() makes (each event has one outlet);
    no ``covered`` column: every cell is covered."""
    rng = np.random.default_rng(seed)
    rows = []
    for region, (before, after) in SCENARIO.items():
        for i, period in enumerate(MONTHS):
            means = before if i < 6 else after
            mix = {k: int(v) for k, v in zip(means, rng.poisson(list(means.values())), strict=True)}
            mix = {k: v for k, v in mix.items() if v > 0}
            events = float(sum(mix.values()))
            top = max(sorted(mix), key=lambda k: mix[k]) if mix else None
            rows.append(
                {
                    "region": region,
                    "period": period,
                    "count": events,
                    "events": events,
                    "events_unknown_sources": 0.0,
                    "events_single_source": events,
                    "events_coarse_location": 0.0,
                    "events_coarse_date": 0.0,
                    "n_sources": float(len(mix)),
                    "top_source": top,
                    "top_source_events": float(mix[top]) if top else 0.0,
                    "source_counts": json.dumps(mix, sort_keys=True),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def compared() -> pd.DataFrame:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = trends.compare(scenario_cells(), before=BEFORE, after=AFTER)
    withheld = [w for w in caught if issubclass(w.category, ThinCoverageWarning)]
    assert len(withheld) == 1  # one warning says how many verdicts were withheld
    return out.set_index("region")


def test_lost_main_source_is_never_a_decrease(compared):
    for region in ("lost, one left", "lost, two left"):
        row = compared.loc[region]
        assert row["rate_ratio"] < 0.4  # the counts did collapse ...
        assert row["pvalue"] < 1e-6  # ... significantly, and the numbers are still shown
        assert row["verdict"] == "inconclusive (thin coverage)"
        assert row["coverage"] == "thin"
        assert "came from outlets silent now (MAIN)" in row["coverage_reasons"]
        assert row["silent_sources"] == "MAIN"
        assert row["n_sources_before"] > row["n_sources_after"]


def test_true_halving_is_a_decrease(compared):
    row = compared.loc["true halving"]
    assert row["verdict"] == "decrease"
    assert row["coverage"] == "adequate"
    assert row["rate_ratio"] == pytest.approx(0.5, abs=0.15)
    assert row["reporting_change_suspected"] is not True
    assert pd.isna(row["silent_sources"]) and pd.isna(row["new_sources"])
    assert row["n_sources_before"] == row["n_sources_after"] == 3


def test_too_sparse_is_flagged_unreliable_not_withheld(compared):
    row = compared.loc["too sparse"]
    assert row["coverage"] == "adequate"  # two outlets filing throughout
    assert not row["reliable"]
    assert "unreliable:" in row["notes"] and "fewer than 20" in row["notes"]
    assert row["verdict"] in ("decrease", "no significant change")  # the test decides


def test_steady_is_no_change(compared):
    row = compared.loc["steady"]
    assert row["verdict"] == "no significant change"
    assert row["coverage"] == "adequate"


def test_per_cell_coverage_marks_the_silent_outlet():
    cov = coverage(scenario_cells(), baseline=BEFORE)
    after = cov[cov["period"] >= "2016-07"].groupby("region")["silent_source_share"].min()
    assert after["lost, one left"] > 0.7 and after["lost, two left"] > 0.7
    assert after["true halving"] == 0 and after["steady"] == 0
    lost = cov[(cov["period"] >= "2016-07") & (cov["region"] == "lost, two left")]
    assert set(lost["status"]) <= {"thin", "insufficient"}


@pytest.mark.parametrize(
    ("region", "silent", "continuing_changed"),
    [("lost, one left", "MAIN", False), ("lost, two left", "MAIN", False), ("true halving", "", True)],
)
def test_source_activity_tells_reporting_from_real_change(region, silent, continuing_changed):
    cells = scenario_cells()
    cells = cells[cells["region"] == region]
    act = source_activity(cells[cells["period"] <= "2016-06"], cells[cells["period"] > "2016-06"])
    assert act["silent_sources"] == silent
    assert (act["continuing_pvalue"] < 0.05) is continuing_changed


def test_compare_accepts_a_covered_column():
    cells = scenario_cells().assign(covered=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThinCoverageWarning)
        out = trends.compare(cells, before=BEFORE, after=AFTER).set_index("region")
    assert out.loc["true halving", "verdict"] == "decrease"
    assert out.loc["lost, two left", "verdict"] == "inconclusive (thin coverage)"
