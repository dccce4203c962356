"""count() on every engine gives the DuckDB reference's cells, bit for bit.

The reference counts a pandas frame with DuckDB SQL (:mod:`trends.counting.sql`);
the portable path (:mod:`trends.counting.lazy`) counts the same rows held by Spark
(local mode, one shared session: ``spark`` in ``conftest.py``), a DuckDB relation
or a polars lazy frame. Hypothesis makes hostile incident tables: empty and
whitespace-only outlet lists, repeated and trailing separators, outlet names with
``|`` (a regular expression's "or" to Spark's ``split``), nulls everywhere, Unicode
names, incidents over many periods, and dates around ISO week 53 (2015 and 2020
have one).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trends
from trends.counting import SPANS

REGIONS = ["Anbar", "Nineveh", "Ḥalab", "Dayr az Zawr", "  padded  ", "A|B", None]
OUTLETS = ["AFP", "AP", "AFP|AP", "Reuters", "BBC Monitoring", "Al-Jazīra", "  ", ""]

_sources = st.one_of(
    st.none(),
    st.lists(st.sampled_from(OUTLETS), max_size=4).map(";".join),
    st.lists(st.sampled_from(OUTLETS), min_size=1, max_size=3).map(lambda x: ";".join(x) + ";"),
    st.lists(st.sampled_from(OUTLETS), min_size=1, max_size=3).map(lambda x: " ; ;".join(x)),
)
_incident = st.fixed_dictionaries(
    {
        # 2015-12-14 .. 2021-01-17: ISO weeks 2015-W53 and 2020-W53 inside
        "offset": st.one_of(st.integers(0, 1861), st.sampled_from([14, 20, 21, 1841, 1847])),
        "length": st.one_of(st.just(0), st.integers(0, 10), st.integers(0, 400)),
        "has_end": st.booleans(),
        "country": st.sampled_from(["Iraq", "Syria", "Sūriyā", None]),
        "region": st.sampled_from(REGIONS),
        "location_precision": st.sampled_from(["exact", "region", "country", "unknown", None]),
        "date_precision": st.sampled_from(["day", "week", "month", "year", None]),
        "n_sources": st.one_of(st.none(), st.integers(1, 3)),
        "sources": _sources,
        "fatalities": st.one_of(st.none(), st.integers(0, 50).map(float)),
    }
)
_FIRST = dt.date(2015, 12, 14)


def _frame(rows: list[dict], *, missing_date: bool = False) -> pd.DataFrame:
    start = [_FIRST + dt.timedelta(days=r["offset"]) for r in rows]
    end = [
        s + dt.timedelta(days=r["length"]) if r["has_end"] else None
        for s, r in zip(start, rows, strict=True)
    ]
    if missing_date and rows:
        start[0] = None
    frame = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(len(rows))],
            "date_start": pd.to_datetime(pd.Series(start, dtype="object")),
            "date_end": pd.to_datetime(pd.Series(end, dtype="object")),
        }
    )
    for name in ("country", "region", "location_precision", "date_precision", "sources"):
        frame[name] = pd.array([r[name] for r in rows], dtype="string")
    frame["n_sources"] = pd.array([r["n_sources"] for r in rows], dtype="Int64")
    frame["fatalities"] = pd.array([r["fatalities"] for r in rows], dtype="Float64").astype(float)
    return frame


def _to_spark(spark, frame: pd.DataFrame, *, text_dates: bool = False):
    """A Spark DataFrame of the same rows, through Arrow (nulls stay null, not 'NaN')."""
    if text_dates:
        frame = frame.assign(
            date_start=frame["date_start"].dt.strftime("%Y-%m-%d"),
            date_end=frame["date_end"].dt.strftime("%Y-%m-%d"),
        )
    return spark.createDataFrame(pa.Table.from_pandas(frame, preserve_index=False))


def _same(reference: pd.DataFrame, other: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(reference, other, check_exact=True)
    assert reference.attrs["ledger"] == other.attrs["ledger"]
    assert reference.attrs["period"] == other.attrs["period"]


def _count_or_error(data, **options):
    try:
        return trends.count(data, **options)
    except trends.errors.TrendsError as exc:
        return type(exc)


settings.register_profile(
    "engines",
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.spark
@settings(settings.get_profile("engines"))
@given(
    rows=st.lists(_incident, max_size=30),
    period=st.sampled_from(["week", "month", "quarter", "year"]),
    text_dates=st.booleans(),
    missing_date=st.booleans(),
)
def test_spark_counts_as_duckdb(spark, rows, period, text_dates, missing_date):
    frame = _frame(rows, missing_date=missing_date)
    on_spark = _to_spark(spark, frame, text_dates=text_dates)
    for span in SPANS:
        reference = _count_or_error(frame, period=period, span=span)
        other = _count_or_error(on_spark, period=period, span=span)
        if isinstance(reference, type):  # no incident counted: the same refusal
            assert other is reference
        else:
            _same(reference, other)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_incident, max_size=30), period=st.sampled_from(["week", "month", "year"]))
def test_duckdb_relations_and_polars_count_as_duckdb(rows, period):
    import duckdb

    frame = _frame(rows)
    con = duckdb.connect()
    frames = [con.from_arrow(pa.Table.from_pandas(frame, preserve_index=False))]
    try:
        import polars as pl

        frames.append(pl.from_pandas(frame).lazy())
    except ImportError:
        pass
    for span in SPANS:
        reference = _count_or_error(frame, period=period, span=span)
        for other in frames:
            got = _count_or_error(other, period=period, span=span)
            if isinstance(reference, type):
                assert got is reference
            else:
                _same(reference, got)


@pytest.mark.spark
@pytest.mark.shared
@pytest.mark.parametrize(
    ("name", "region", "period", "span"),
    [
        ("ged_syria_652_1601_1911.csv", "region", "week", "split"),
        ("ged_syria_652_1601_1911.csv", "region", "month", "start"),
        ("ged_candidate_21_01_21_12.csv", "country", "month", "split"),
        ("ged_candidate_21_01_21_12.csv", "region", "quarter", "exclude"),
    ],
)
def test_shared_files_count_the_same_on_spark(
    spark, ucdp_dir, tmp_path, name, region, period, span
):
    inc = trends.read(ucdp_dir / name)
    reference = trends.count(inc, region=region, period=period, span=span)
    path = tmp_path / "incidents.parquet"
    # Spark reads microsecond timestamps, not pandas' nanoseconds
    inc.data.to_parquet(path, index=False, coerce_timestamps="us")
    on_spark = spark.read.parquet(str(path))  # dates as Spark timestamps, read by Spark
    window = reference.attrs["source"]
    other = trends.count(
        on_spark,
        region=region,
        period=period,
        span=span,
        coverage=(window["coverage_start"], window["coverage_end"]),
    )
    _same(reference, other)


@pytest.mark.spark
def test_spark_refuses_duplicate_ids_and_backward_dates(spark):
    rows = [("a", "2020-01-05", "2020-01-02"), ("b", "2020-01-01", None)]
    frame = spark.createDataFrame(rows, "event_id string, date_start string, date_end string")
    with pytest.raises(trends.errors.DateError, match="event a: date_end 2020-01-02"):
        trends.count(frame)
    frame = spark.createDataFrame(
        [("a", "2020-01-05"), ("a", "2020-01-06")], "event_id string, date_start string"
    )
    with pytest.raises(trends.errors.DuplicateIdError, match="more than once: a"):
        trends.count(frame)
