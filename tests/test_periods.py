"""Period labels, bounds and ranges."""

from __future__ import annotations

import pandas as pd
import pytest

from trends.errors import TrendsError
from trends.periods import (
    infer_period,
    period_bounds,
    period_labels,
    period_range,
    to_period_end_label,
    to_period_label,
)


def test_labels_of_each_kind():
    dates = pd.to_datetime(["2016-01-03", "2016-01-04", "2016-12-31"])
    assert list(period_labels(dates, "week")) == ["2015-W53", "2016-W01", "2016-W52"]
    assert list(period_labels(dates, "month")) == ["2016-01", "2016-01", "2016-12"]
    assert list(period_labels(dates, "quarter")) == ["2016Q1", "2016Q1", "2016Q4"]
    assert list(period_labels(dates, "year")) == ["2016", "2016", "2016"]


def test_bounds_are_inclusive_and_cover_the_period():
    start, end = period_bounds(["2016-02"], "month")
    assert (start[0], end[0]) == (pd.Timestamp("2016-02-01"), pd.Timestamp("2016-02-29"))
    start, end = period_bounds(["2015-W53"], "week")
    assert (start[0], end[0]) == (pd.Timestamp("2015-12-28"), pd.Timestamp("2016-01-03"))
    start, end = period_bounds(["2016Q4"], "quarter")
    assert (start[0], end[0]) == (pd.Timestamp("2016-10-01"), pd.Timestamp("2016-12-31"))


def test_range_spans_whole_longer_periods():
    assert period_range("2016", "2016", "month")[-1] == "2016-12"
    assert len(period_range("2016", "2017", "quarter")) == 8
    assert period_range("2017-01", "2016-01", "month") == []
    assert to_period_end_label("2016Q2", "month") == "2016-06"
    assert to_period_label("2016-07-15", "quarter") == "2016Q3"


def test_bad_labels_are_named():
    with pytest.raises(TrendsError, match="2016-13"):
        infer_period(["2016-13"])
    with pytest.raises(TrendsError, match="mix"):
        infer_period(["2016-01", "2016"])
    with pytest.raises(TrendsError, match="'fortnight'"):
        period_labels(pd.to_datetime(["2016-01-01"]), "fortnight")


def test_a_week_the_year_does_not_have_is_a_clear_error():
    # ISO 2015 has 53 weeks, 2016 has 52
    assert to_period_label("2015-W53", "week") == "2015-W53"
    with pytest.raises(TrendsError, match="ISO year 2016 has no week 53"):
        to_period_label("2016-W53", "month")


@pytest.mark.parametrize("period", ["week", "month", "quarter", "year"])
def test_simulated_cells_of_every_period_kind(period):
    """trends.testing.simulate_cells makes consecutive labels of any kind."""
    from trends.testing import simulate_cells

    cells, _ = simulate_cells(2, 6, period=period, start="2016-01-04")
    labels = list(dict.fromkeys(cells["period"]))
    assert labels == period_range(labels[0], labels[-1], period) and len(labels) == 6
    assert infer_period(labels) == period
