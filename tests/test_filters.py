"""Incidents.filter / where: conditions, the ledger reasons, the recorded filters."""

from __future__ import annotations

import pandas as pd
import pytest

import trends
from trends.errors import OptionError
from trends.incidents import LOOKUPS, parse_condition


@pytest.fixture()
def incidents() -> trends.Incidents:
    frame = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(8)],
            "date_start": [
                "2013-12-31",
                "2014-01-01",
                "2015-06-15",
                "2016-07-01",
                "2016-07-31",
                "2018-12-31",
                "2019-01-01",
                "2017-03-03",
            ],
            "country": "Iraq",
            "region": [
                "Nīnawá",
                "Nīnawá",
                "Kirkūk",
                "Kirkūk",
                "Baghdād",
                "Baghdād",
                "Nīnawá",
                "Kirkūk",
            ],
            "actor": ["IS", "IS", "Government of Iraq", "IS", "ISIS cell", None, "IS", "KDP"],
            "type_of_violence": ["1", "3", "1", "2", "3", "1", "3", "2"],
            "fatalities": [1, 5, 12, 0, 30, 2, 7, 10],
        }
    )
    return trends.read_incidents(frame, coverage=("2013-01-01", "2019-12-31"))


def reasons(inc: trends.Incidents) -> dict[str, int]:
    return dict(zip(inc.ledger["reason"], inc.ledger["rows"], strict=True))


def test_equality_keeps_matches_and_the_ledger_says_why(incidents):
    out = incidents.where(actor="IS")
    assert sorted(out.data["event_id"]) == ["e0", "e1", "e3", "e6"]
    assert reasons(out) == {
        "kept": 4,
        "filtered out: actor != IS": 3,
        "filtered out: actor missing": 1,
    }
    assert out.rows_read == incidents.rows_read == 8
    assert out.filters == ("actor=IS",)
    assert out.source == incidents.source  # citation and coverage window travel along


def test_filter_and_where_are_one_method(incidents):
    assert trends.Incidents.where is trends.Incidents.filter
    assert incidents.filter(actor="IS").data.equals(incidents.where(actor="IS").data)


def test_membership_with_numbers_on_a_text_column(incidents):
    out = incidents.where(type_of_violence=[1, 3])
    assert sorted(out.data["event_id"]) == ["e0", "e1", "e2", "e4", "e5", "e6"]
    assert reasons(out)["filtered out: type_of_violence not in {1,3}"] == 2
    assert out.filters == ("type_of_violence__in=1,3",)
    # the text form (--where) gives the same rows
    key, value = parse_condition("type_of_violence__in=1,3")
    assert incidents.where(**{key: value}).data.equals(out.data)


def test_substring_regex_and_case(incidents):
    assert len(incidents.where(actor__contains="IS")) == 5  # IS x4 and "ISIS cell"
    assert len(incidents.where(actor__contains="is")) == 0
    assert len(incidents.where(actor__icontains="is")) == 5
    out = incidents.where(actor__regex=r"^IS$")
    assert len(out) == 4
    assert "filtered out: actor does not match ^IS$" in reasons(out)


def test_date_ranges_take_periods_as_bounds(incidents):
    out = incidents.where(date_start__between=("2014", "2018"))
    # 2014-01-01 and 2018-12-31 are in; 2013-12-31 and 2019-01-01 are out
    assert sorted(out.data["event_id"]) == ["e1", "e2", "e3", "e4", "e5", "e7"]
    assert reasons(out) == {"kept": 6, "filtered out: date_start outside 2014-01-01..2018-12-31": 2}
    assert out.filters == ("date_start__between=2014..2018",)
    assert sorted(incidents.where(date_start="2016-07").data["event_id"]) == ["e3", "e4"]
    assert len(incidents.where(date_start__lte="2014")) == 2
    assert len(incidents.where(date_start__gt="2018")) == 1
    assert len(incidents.where(date_start__gte="2016-07-31")) == 4


def test_numbers_compare_as_numbers(incidents):
    out = incidents.where(fatalities__gte="10")  # text from the command line
    assert sorted(out.data["event_id"]) == ["e2", "e4", "e7"]
    assert "filtered out: fatalities < 10" in reasons(out)
    assert len(incidents.where(fatalities__between="5..12")) == 4


def test_negations(incidents):
    out = incidents.where(actor__ne="IS")
    assert sorted(out.data["event_id"]) == ["e2", "e4", "e7"]  # missing is not "not IS"
    assert reasons(out)["filtered out: actor = IS"] == 4
    assert len(incidents.where(region__notin=["Kirkūk", "Baghdād"])) == 3


def test_filters_chain_and_the_ledger_keeps_adding_up(incidents):
    out = incidents.where(actor="IS").where(date_start__between="2014..2018", region="Kirkūk")
    assert list(out.data["event_id"]) == ["e3"]
    assert out.filters == ("actor=IS", "date_start__between=2014..2018", "region=Kirkūk")
    assert out.ledger["rows"].sum() == 8
    assert out.ledger["reason"].iloc[0] == "kept"


def test_count_works_on_filtered_incidents_and_keeps_the_window(incidents):
    out = incidents.where(actor="IS")
    cells = trends.count(out, period="year")
    assert cells["count"].sum() == 4
    assert cells["period"].min() == "2013" and cells["period"].max() == "2019"  # source window
    ledger = cells.attrs["ledger"]
    assert ledger["counted"] == 4 and ledger["filtered out: actor != IS"] == 3
    assert sum(ledger.values()) == 8


def test_bad_conditions_raise_option_errors_naming_them(incidents):
    with pytest.raises(OptionError, match="no column 'side_z'"):
        incidents.where(side_z="IS")
    with pytest.raises(OptionError, match="lookup 'like' is not one of"):
        incidents.where(actor__like="IS")
    with pytest.raises(OptionError, match="not a date or period"):
        incidents.where(date_start__gte="soon")
    with pytest.raises(OptionError, match="not a number"):
        incidents.where(fatalities="many")
    with pytest.raises(OptionError, match="regex"):
        incidents.where(actor__regex="(")
    with pytest.raises(OptionError, match="COLUMN=VALUE"):
        parse_condition("actor")
    with pytest.raises(OptionError, match="FIRST..LAST"):
        incidents.where(date_start__between="2014")


def test_every_lookup_is_documented():
    doc = trends.Incidents.filter.__doc__
    for name in LOOKUPS.names():
        assert f"``{name}``" in doc
