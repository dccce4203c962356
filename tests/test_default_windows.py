"""The default comparison: the last year of complete periods against the year before."""

from __future__ import annotations

import pandas as pd
import pytest

import trends
from trends.errors import TrendsError
from trends.periods import default_windows, describe_windows


def cells_for(first: str, last: str, period: str, *, coverage=None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "event_id": ["a", "b"],
            "date_start": [first, last],
            "region": ["R", "R"],
        }
    )
    return trends.count(trends.read_incidents(frame, coverage=coverage), period=period)


@pytest.mark.parametrize(
    ("period", "before", "after"),
    [
        ("month", ("2017-01", "2017-12"), ("2018-01", "2018-12")),
        ("quarter", ("2017Q1", "2017Q4"), ("2018Q1", "2018Q4")),
        ("year", ("2017", "2017"), ("2018", "2018")),
        ("week", ("2017-W01", "2017-W52"), ("2018-W01", "2018-W52")),
    ],
)
def test_a_year_against_the_year_before(period, before, after):
    cells = cells_for("2015-01-01", "2018-12-30", period, coverage=("2015-01-01", "2018-12-31"))
    assert default_windows(cells) == (before, after)
    # the week of 31 December 2018 runs into 2019: incomplete, so never compared


def test_an_incomplete_last_period_is_not_compared():
    cells = cells_for("2015-01-01", "2018-12-17", "month")  # the data end on 17 December
    assert default_windows(cells) == (("2016-12", "2017-11"), ("2017-12", "2018-11"))
    text = describe_windows(*default_windows(cells), "month")
    assert text == ("the last 12 complete months (2017-12 to 2018-11) against the 12 before "
                    "(2016-12 to 2017-11)")  # fmt: skip


def test_short_series_are_split_in_halves_and_one_period_is_refused():
    cells = cells_for("2018-01-01", "2018-10-31", "month")
    assert default_windows(cells) == (("2018-01", "2018-05"), ("2018-06", "2018-10"))
    assert describe_windows(("2018", "2018"), ("2019", "2019"), "year") == (
        "the last 1 complete year (2019) against the 1 before (2018)"
    )
    with pytest.raises(TrendsError, match=r"only one complete month \(\d{4}-\d{2}\) inside"):
        default_windows(cells_for("2018-01-01", "2018-01-31", "month"))


def test_the_report_uses_the_same_default():
    from trends.reporting.analysis import default_windows as report_default

    cells = cells_for("2015-01-01", "2018-12-17", "month")
    assert report_default(cells) == default_windows(cells)
