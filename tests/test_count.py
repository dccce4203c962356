"""count(): region x period cells, zeros in, uncovered marked, the ledger complete."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import trends
from trends.errors import DuplicateIdError, TrendsError


def _incidents(rows: list[dict], **options) -> trends.Incidents:
    frame = pd.DataFrame(rows)
    frame.insert(0, "event_id", [f"e{i}" for i in range(len(frame))])
    return trends.read_incidents(frame, **options)


BASE = [
    {
        "date_start": "2020-01-10",
        "country": "Iraq",
        "region": "Anbar",
        "sources": "A;B",
        "n_sources": 2,
    },
    {
        "date_start": "2020-01-20",
        "country": "Iraq",
        "region": "Anbar",
        "sources": "A",
        "n_sources": 1,
    },
    {
        "date_start": "2020-03-05",
        "country": "Iraq",
        "region": "Nineveh",
        "sources": "C",
        "n_sources": 1,
    },
    {
        "date_start": "2020-03-06",
        "country": "Iraq",
        "region": None,
        "location_precision": "country",
        "n_sources": None,
    },
]


def test_zero_cells_inside_the_window_are_zeros():
    cells = trends.count(_incidents(BASE), period="month")
    table = cells.pivot(index="region", columns="period", values="count")
    assert table.loc["Al Anbār"].tolist() == [2.0, 0.0, 0.0]
    assert table.loc["Nīnawá"].tolist() == [0.0, 0.0, 1.0]
    assert table.loc["(unknown)"].tolist() == [0.0, 0.0, 1.0]
    assert cells["covered"].all()
    assert cells.loc[cells["period"] == "2020-02", "exposure"].unique().tolist() == [29.0]


def test_periods_outside_the_window_are_missing_not_zero():
    cells = trends.count(_incidents(BASE), period="month", start="2019-11", end="2020-04")
    anbar = cells[cells["region"] == "Al Anbār"].set_index("period")
    assert anbar.loc["2019-11", "covered"] == False  # noqa: E712 - numpy bool
    assert np.isnan(anbar.loc["2019-11", "count"]) and np.isnan(anbar.loc["2020-04", "count"])
    assert anbar.loc["2020-02", "count"] == 0.0
    assert anbar.loc["2019-11", "exposure"] == 0.0


def test_window_clipping_gives_partial_exposure():
    cells = trends.count(_incidents(BASE), period="quarter")
    # the data cover 2020-01-10 .. 2020-03-06: 57 days of the first quarter
    assert cells["exposure"].unique().tolist() == [57.0]
    declared = trends.count(
        _incidents(BASE, coverage=("2020-01-01", "2020-12-31")), period="quarter"
    )
    assert declared.loc[declared["period"] == "2020Q1", "exposure"].unique().tolist() == [91.0]


def test_coverage_measures():
    cells = trends.count(_incidents(BASE), period="month").set_index(["region", "period"])
    anbar = cells.loc[("Al Anbār", "2020-01")]
    assert anbar["events_single_source"] == 1 and anbar["n_sources"] == 2
    assert anbar["top_source"] == "A" and anbar["top_source_events"] == 2
    assert json.loads(anbar["source_counts"]) == {"A": 2.0, "B": 1.0}
    unknown = cells.loc[("(unknown)", "2020-03")]
    assert unknown["events_coarse_location"] == 1 and unknown["events_unknown_sources"] == 1
    assert np.isnan(unknown["n_sources"])  # events, but none names an outlet: unknown
    empty = cells.loc[("Nīnawá", "2020-02")]
    assert empty["n_sources"] == 0 and empty["events"] == 0


def test_span_rules():
    rows = [
        {"date_start": "2020-01-25", "date_end": "2020-02-03", "country": "X", "region": "R"},
        {"date_start": "2020-02-10", "country": "X", "region": "R"},
    ]
    inc = _incidents(rows)
    start = trends.count(inc, span="start").set_index("period")["count"]
    assert start.to_dict() == {"2020-01": 1.0, "2020-02": 1.0}
    split = trends.count(inc, span="split").set_index("period")["count"]
    assert split["2020-01"] == pytest.approx(7 / 10) and split["2020-02"] == pytest.approx(
        1 + 3 / 10
    )
    excluded = trends.count(inc, span="exclude")
    assert excluded["count"].sum() == 1.0
    ledger = excluded.attrs["ledger"]
    assert ledger["spans several periods (span=exclude)"] == 1 and sum(ledger.values()) == 2


def test_events_outside_the_range_are_in_the_ledger():
    cells = trends.count(_incidents(BASE), start="2020-02", end="2020-03")
    ledger = cells.attrs["ledger"]
    assert ledger["outside period range"] == 2 and ledger["counted"] == 2
    assert cells["count"].sum() == 2


def test_iso_weeks_and_years():
    rows = [
        {"date_start": d, "country": "X", "region": "R"}
        for d in ("2015-12-31", "2016-01-03", "2016-01-04")
    ]
    weeks = trends.count(_incidents(rows), period="week").set_index("period")["count"]
    assert weeks.to_dict() == {"2015-W53": 2.0, "2016-W01": 1.0}
    years = trends.count(_incidents(rows), period="year").set_index("period")["count"]
    assert years.to_dict() == {"2015": 1.0, "2016": 2.0}


def test_a_region_name_in_two_countries_is_qualified():
    rows = [
        {
            "date_start": "2020-01-01",
            "country": "Iraq",
            "region": None,
            "location_precision": "country",
        },
        {
            "date_start": "2020-01-02",
            "country": "Syria",
            "region": None,
            "location_precision": "country",
        },
        {"date_start": "2020-01-02", "country": "Syria", "region": "Homs"},
    ]
    regions = set(trends.count(_incidents(rows))["region"])
    assert regions == {"(unknown), Iraq", "(unknown), Syria", "Homs"}


def test_grouping_by_country():
    cells = trends.count(_incidents(BASE), region="country")
    assert cells.groupby("region")["count"].sum().to_dict() == {"Iraq": 4.0}


def test_a_canonical_file_is_counted_by_duckdb_like_the_frame(tmp_path):
    inc, _ = trends.datasets.simulate(seed=7, months=12, return_truth=True)
    from_frame = trends.count(inc, period="quarter")
    data = inc.data.drop(columns=["region_raw"])
    parquet, csv = tmp_path / "inc.parquet", tmp_path / "inc.csv"
    data.to_parquet(parquet)
    data.to_csv(csv, index=False)
    for path in (parquet, csv):
        from_file = trends.count(path, period="quarter")
        columns = [
            "region",
            "period",
            "count",
            "events",
            "n_sources",
            "top_source",
            "source_counts",
        ]
        assert from_file[columns].astype(str).to_dict("records") == from_frame[columns].astype(
            str
        ).to_dict("records")
        assert sum(from_file.attrs["ledger"].values()) == len(data)


def test_a_file_with_duplicate_ids_is_refused(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text(
        "event_id,date_start,region\n1,2020-01-01,A\n1,2020-01-02,A\n", encoding="utf-8"
    )
    with pytest.raises(DuplicateIdError, match="1"):
        trends.count(path)


def test_bad_options_list_the_valid_ones():
    inc = _incidents(BASE)
    with pytest.raises(TrendsError, match="'fortnight' is not one of"):
        trends.count(inc, period="fortnight")
    with pytest.raises(TrendsError, match="span='middle' is not one of"):
        trends.count(inc, span="middle")
    with pytest.raises(TrendsError, match="after the last"):
        trends.count(inc, start="2021-01")


def test_same_input_same_cells():
    a = trends.count(trends.datasets.simulate(seed=3, months=12))
    b = trends.count(trends.datasets.simulate(seed=3, months=12))
    pd.testing.assert_frame_equal(a, b)


def test_source_mix_keys_sorted_ties_to_the_first_name():
    rows = [
        {"date_start": "2020-01-02", "country": "X", "region": "R", "sources": "Zeta; Äpfel"},
        {"date_start": "2020-01-03", "country": "X", "region": "R", "sources": 'Ä"pfel;Zeta;;'},
        {"date_start": "2020-01-04", "country": "X", "region": "R", "sources": "Äpfel;Äpfel"},
        {"date_start": "2020-01-05", "country": "X", "region": "R", "sources": "a\\b"},
        {"date_start": "2020-01-06", "country": "X", "region": "R", "sources": None},
    ]
    cell = trends.count(_incidents(rows)).iloc[0]
    mix = json.loads(cell["source_counts"])
    assert mix == {"Zeta": 2.0, "a\\b": 1.0, 'Ä"pfel': 1.0, "Äpfel": 2.0}
    assert list(mix) == sorted(mix)  # code point order, as json.dumps(sort_keys=True)
    assert cell["source_counts"] == json.dumps(mix, sort_keys=True, ensure_ascii=False)
    # "Zeta" and "Äpfel" tie at 2 events: the first name in code point order wins
    assert cell["n_sources"] == 4 and cell["top_source"] == "Zeta"
    tied = trends.count(_incidents(rows[:2])).iloc[0]
    assert tied["top_source"] == "Zeta" and tied["top_source_events"] == 2.0
    tie = [{"date_start": "2020-01-02", "country": "X", "region": "R", "sources": s} for s in "BA"]
    assert trends.count(_incidents(tie)).iloc[0]["top_source"] == "A"


def test_split_weights_in_the_source_mix(tmp_path):
    rows = [
        {
            "date_start": "2020-01-30",
            "date_end": "2020-02-01",
            "country": "X",
            "region": "R",
            "sources": "A;B",
        },
        {"date_start": "2020-01-02", "country": "X", "region": "R", "sources": "A"},
    ]
    cells = trends.count(_incidents(rows), span="split").set_index("period")
    assert json.loads(cells.loc["2020-01", "source_counts"]) == {"A": 1.666666667, "B": 0.666666667}
    assert json.loads(cells.loc["2020-02", "source_counts"]) == {"A": 0.333333333, "B": 0.333333333}
    assert cells.loc["2020-01", "top_source"] == "A"


def test_a_cell_id_collision_is_retried_with_another_salt(monkeypatch):
    from trends.counting import sql

    inc = trends.datasets.simulate(seed=5, months=6)
    expected = trends.count(inc)
    # every cell gets the same id on the first try, distinct ones after
    monkeypatch.setattr(
        sql,
        "_CELL_ID",
        "CASE WHEN {salt} = 0 THEN 0::UBIGINT ELSE hash(country, region, p, {salt}) END",
    )
    pd.testing.assert_frame_equal(trends.count(inc), expected)


def test_a_file_without_outlets_or_optional_columns(tmp_path):
    path = tmp_path / "bare.parquet"
    pd.DataFrame(
        {
            "event_id": ["a", "b"],
            "date_start": pd.to_datetime(["2020-01-01", "2020-03-01"]),
            "region": ["R", "R"],
            "country": ["X", "X"],
        }
    ).to_parquet(path)
    cells = trends.count(path)
    assert cells["count"].tolist() == [1.0, 0.0, 1.0]
    assert cells["source_counts"].isna().all() and cells["top_source"].isna().all()
    # events but no outlet named: unknown; no events: none
    assert cells["n_sources"].isna().tolist() == [True, False, True]


def test_a_file_with_dates_running_backwards_is_refused(tmp_path):
    path = tmp_path / "back.csv"
    path.write_text(
        "event_id,date_start,date_end,region\n1,2020-01-05,2020-01-02,A\n2,2020-01-01,,A\n",
        encoding="utf-8",
    )
    # a CSV is read by the reader: the same error as trends.read(), with its row
    with pytest.raises(
        trends.errors.DateError, match="row 1, column 'date_end': date_end 2020-01-02"
    ):
        trends.count(path)
    parquet = tmp_path / "back.parquet"
    pd.read_csv(path, dtype="string").to_parquet(parquet)
    with pytest.raises(trends.errors.DateError, match="event 1: date_end 2020-01-02"):
        trends.count(parquet)


def test_sort_helpers_match_numpy():
    from trends.counting.assemble import _argsort, _round9

    rng = np.random.default_rng(0)
    for high in (5, 2**40, 2**62):
        key = rng.integers(0, high, 10_000)
        np.testing.assert_array_equal(_argsort(key), np.argsort(key, kind="stable"))
    x = np.concatenate(
        [
            rng.integers(0, 50, 1000).astype(float),
            rng.random(1000) * 9,
            (np.arange(1, 1000) + 0.5) / 1e9,
        ]
    )
    np.testing.assert_array_equal(_round9(x), [round(v, 9) for v in x.tolist()])


def test_split_counts_are_the_same_bits_every_run(tmp_path):
    # many row groups, so DuckDB would read them on several threads in any order
    rng = np.random.default_rng(1)
    n = 200_000
    start = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    frame = pd.DataFrame(
        {
            "event_id": np.arange(n).astype(str),
            "date_start": start,
            "date_end": start + pd.to_timedelta(rng.integers(0, 90, n), unit="D"),
            "country": "X",
            "region": rng.choice(["A", "B", "C"], n),
            "fatalities": rng.poisson(2.0, n).astype(float),
            "sources": rng.choice(["P", "Q;P", "R"], n),
        }
    )
    path = tmp_path / "split.parquet"
    frame.to_parquet(path, row_group_size=2_000)
    first = trends.count(path, span="split", period="week")
    pd.testing.assert_frame_equal(
        trends.count(path, span="split", period="week"), first, check_exact=True
    )
