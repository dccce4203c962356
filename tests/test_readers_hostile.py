"""Hostile input: every reader either reads a file with a ledger that adds up, or refuses it
with a ``trends`` InputError that names the file (and the row and column where known).

Example tests pin each promise of issue 11; the property tests at the end generate hostile
CSV and Parquet files (encodings, byte-order marks, quoting, embedded line breaks, null-like
and invisible text, extreme and non-finite numbers, odd and huge names, duplicate columns,
mixed line endings) and check the invariant on every one. A grid of hostile cells in every
column of every format is in ``test_readers_other.py``; the checks on the shared UCDP files
are in ``test_readers.py``.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import trends
from trends.errors import (
    DateError,
    FileError,
    FormatError,
    InputError,
    LimitError,
    SchemaError,
    ValueRangeError,
)
from trends.readers import FORMATS, detect_format, parse
from trends.readers.files import SPANNING_REASON

HEADER = (
    "id,date_start,date_end,date_prec,where_prec,country,adm_1,number_of_sources,source_office,best"
)
GOOD = "1,2016-01-05,2016-01-05,1,1,Iraq,Nīnawá province,2,A;B,3"


def _row(event: int, *, region: str = "Anbar", best: str = "1", sources: str = "1") -> str:
    return f"{event},2016-01-06,2016-01-06,1,1,Iraq,{region},{sources},A,{best}"


def _write(tmp_path: Path, lines: list[str], name: str = "ged.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")
    return path


def _located(exc: InputError, path: Path, *, row: int | None, column: str | None) -> None:
    assert exc.file == str(path) and str(path) in str(exc)
    if row is not None:
        assert exc.row == row and f"row {row}" in str(exc)
    if column is not None:
        assert exc.column == column and repr(column) in str(exc)


def _reconciles(inc: trends.Incidents, records: int) -> None:
    assert int(inc.ledger["rows"].sum()) == records == inc.rows_read
    assert inc.ledger["reason"].iloc[0] == "kept"
    assert int(inc.ledger["rows"].iloc[0]) == len(inc.data)


# ---------------------------------------------------------------------------- odd values

NULL_LIKE = [
    "NULL",
    "null",
    "nan",
    "NaN",
    "None",
    "N/A",
    "#N/A",
    "\u200b",
    "\ufeff",
    "\u200d\u2060",
]


@pytest.mark.parametrize("token", NULL_LIKE)
def test_null_like_region_names_are_missing_with_a_note(tmp_path, token):
    inc = trends.read(_write(tmp_path, [HEADER, GOOD, _row(2, region=token)]))
    _reconciles(inc, 2)
    row = inc.data.loc[inc.data["event_id"] == "2"].iloc[0]
    assert pd.isna(row["region_raw"]) and row["region"] == "(unknown)"
    assert inc.notes["column"].tolist() == ["adm_1"]
    assert inc.notes["rows"].tolist() == [1]
    assert "null-like" in inc.notes["reason"].iloc[0]


@pytest.mark.parametrize("token", ["", "   "])
def test_blank_regions_are_missing_as_always_without_a_note(tmp_path, token):
    inc = trends.read(_write(tmp_path, [HEADER, GOOD, _row(2, region=token)]))
    assert inc.data["region"].tolist() == ["Nīnawá", "(unknown)"]
    assert inc.notes.empty


@pytest.mark.parametrize("token", ["inf", "Infinity", "-inf", "+INF", "1e400", "nan", "NULL"])
def test_non_finite_numbers_are_missing_with_a_note_never_inf(tmp_path, token):
    inc = trends.read(_write(tmp_path, [HEADER, GOOD, _row(2, best=token)]))
    _reconciles(inc, 2)
    assert inc.data["fatalities"].isna().tolist() == [False, True]
    assert np.isfinite(inc.data["fatalities"].dropna()).all()
    assert inc.notes["column"].tolist() == ["best"]


def test_non_finite_numbers_in_parquet_are_missing_with_a_note(tmp_path):
    path = tmp_path / "inf.parquet"
    frame = pd.DataFrame(
        {
            "event_id": ["a", "b"],
            "date_start": ["2020-01-01"] * 2,
            "country": ["Iraq"] * 2,
            "fatalities": [np.inf, 2.0],
        }
    )
    frame.to_parquet(path)
    inc = trends.read(path)
    assert inc.data["fatalities"].isna().tolist() == [True, False]
    assert inc.notes["reason"].str.contains("not a finite number").all()


@pytest.mark.parametrize(
    ("cell", "column"),
    [(dict(sources="1e30"), "number_of_sources"), (dict(best="1e30"), "best")],
)
def test_absurd_counts_are_an_error_naming_row_and_column(tmp_path, cell, column):
    path = _write(tmp_path, [HEADER, GOOD, _row(2, **cell)])
    with pytest.raises(ValueRangeError, match="not a plausible value") as info:
        trends.read(path)
    _located(info.value, path, row=2, column=column)


def test_names_and_fields_over_the_size_limits_are_refused(tmp_path):
    long_name = "x" * (parse.MAX_NAME_CHARS + 1)
    path = _write(tmp_path, [HEADER, GOOD, _row(2, region=long_name)])
    with pytest.raises(LimitError) as info:
        trends.read(path)
    _located(info.value, path, row=2, column="adm_1")
    path = _write(tmp_path, [HEADER + "," + long_name, GOOD + ",a"], "name.csv")
    with pytest.raises(LimitError, match="column 11 has 1,001 characters"):
        trends.read(path)
    huge = "y" * (parse.MAX_FIELD_CHARS + 1)
    path = _write(tmp_path, [HEADER + ",notes", GOOD + ",a", _row(2) + "," + huge], "huge.csv")
    with pytest.raises(LimitError) as info:
        trends.read(path)
    _located(info.value, path, row=2, column="notes")


def test_files_over_the_size_limit_are_refused_before_they_are_read(tmp_path, monkeypatch):
    path = _write(tmp_path, [HEADER, GOOD, _row(2)])
    gz = tmp_path / "ged.csv.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    parquet = tmp_path / "ged.parquet"
    rows = 2_000
    pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(rows)],
            "date_start": ["2020-01-01"] * rows,
            "notes": ["x" * 4_000] * rows,
        }
    ).to_parquet(parquet)
    assert parquet.stat().st_size < 100_000  # 8 MB of text, stored once in a dictionary
    monkeypatch.setattr(parse, "MAX_FILE_BYTES", 64)
    for target in (path, gz):
        with pytest.raises(LimitError, match="at most 64") as info:
            trends.read(target, format="ucdp")
        assert info.value.file == str(target)
    monkeypatch.setattr(parse, "MAX_FILE_BYTES", 1_000_000)
    with pytest.raises(LimitError, match="once decoded"):
        trends.read(parquet)
    monkeypatch.setattr(parse, "MAX_FILE_BYTES", 10_000_000)
    assert len(trends.read(parquet)) == rows


def test_a_compressed_parquet_field_over_the_limit_is_refused(tmp_path):
    path = tmp_path / "long.parquet"
    long = "x" * (parse.MAX_FIELD_CHARS + 1)
    pd.DataFrame(
        {"event_id": ["a", "b"], "date_start": ["2020-01-01"] * 2, "notes": ["short", long]}
    ).to_parquet(path)
    assert path.stat().st_size < parse.MAX_FIELD_CHARS
    with pytest.raises(LimitError) as info:
        trends.read(path)
    _located(info.value, path, row=2, column="notes")


# ---------------------------------------------------------------------------- structure


def test_a_duplicated_column_name_is_an_error_naming_it(tmp_path):
    path = _write(tmp_path, [HEADER + ",best", GOOD + ",4"])
    with pytest.raises(SchemaError, match="appears twice") as info:
        trends.read(path)
    _located(info.value, path, row=None, column="best")
    table = pa.table(
        [pa.array(["a"]), pa.array(["2020-01-01"]), pa.array(["x"]), pa.array(["y"])],
        names=["event_id", "date_start", "region", "region"],
    )
    pq.write_table(table, tmp_path / "dup.parquet")
    with pytest.raises(SchemaError, match="appears twice") as info:
        trends.read(tmp_path / "dup.parquet")
    _located(info.value, tmp_path / "dup.parquet", row=None, column="region")


@pytest.mark.parametrize(
    "values",
    [
        pa.array([["Al Anbār", "x"], ["y"]]),
        pa.array([{"name": "Al Anbār"}, {"name": "y"}]),
        pa.array([b"Al Anb", b"y"]),
    ],
    ids=["list", "struct", "binary"],
)
def test_parquet_nested_values_where_text_is_expected_are_an_error(tmp_path, values):
    table = pa.table(
        {
            "event_id": ["a", "b"],
            "date_start": ["2020-01-01"] * 2,
            "country": ["Iraq"] * 2,
            "region": values,
        }
    )
    path = tmp_path / "nested.parquet"
    pq.write_table(table, path)
    with pytest.raises(SchemaError, match="where text or a number is expected") as info:
        trends.read(path)
    _located(info.value, path, row=1, column="region")


def test_a_quote_spanning_rows_sets_the_record_aside_and_the_ledger_counts_records(tmp_path):
    lines = [HEADER] + [_row(i) for i in range(1, 301)]
    lines[10] = _row(10, region='"Anbar')  # opens a quote ...
    lines[14] = _row(14, region='Anbar"')  # ... closed four rows below
    inc = trends.read(_write(tmp_path, lines))
    # rows 10-14 of the file are one record as the CSV grammar reads it
    _reconciles(inc, 296)
    assert dict(zip(inc.ledger["reason"], inc.ledger["rows"], strict=True)) == {
        "kept": 295,
        SPANNING_REASON: 1,
    }
    assert not inc.data["region_raw"].str.contains("\n|2016", regex=True).any()
    assert not inc.data["event_id"].isin([str(i) for i in range(10, 15)]).any()


def test_a_quote_in_free_text_that_swallows_whole_records_is_set_aside(tmp_path):
    header = HEADER + ",source_article"
    lines = [header] + [_row(i) + ",plain text" for i in range(1, 11)]
    lines[3] = _row(3) + ',"opens'
    lines[6] = _row(6) + ',closes"'
    inc = trends.read(_write(tmp_path, lines))
    _reconciles(inc, 7)
    assert inc.ledger.set_index("reason")["rows"].get(SPANNING_REASON) == 1


def test_multi_line_free_text_with_commas_is_kept(tmp_path):
    header = HEADER + ",source_article"
    lines = [header, GOOD + ',"line one, with a comma\nline two, and another"', _row(2) + ",x"]
    inc = trends.read(_write(tmp_path, lines))
    assert list(inc.ledger["reason"]) == ["kept"] and len(inc) == 2


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (HEADER + "\n" + GOOD + "\n" + GOOD + ",extra\n", "Expected 10 fields"),
        (HEADER + "\n" + GOOD + ",extra\n", "more fields than the header"),
        (HEADER + "\n" + GOOD.replace("Iraq", '"Iraq') + "\n", "EOF inside string"),
        ("event_id,date_start\na,2020-01-01\x00\n", "NUL"),
    ],
    ids=["ragged", "first record ragged", "unclosed quote", "nul"],
)
def test_malformed_csv_is_a_format_error_naming_the_file(tmp_path, raw, match):
    path = tmp_path / "bad.csv"
    path.write_text(raw, encoding="utf-8", newline="")
    with pytest.raises(FormatError, match=match) as info:
        trends.read(path, format="ucdp" if raw.startswith("id") else "canonical")
    assert info.value.file == str(path)


def test_damaged_files_are_a_format_error_naming_the_file(tmp_path):
    frame = pd.DataFrame({"event_id": ["a"], "date_start": ["2020-01-01"], "country": ["Iraq"]})
    frame.to_parquet(tmp_path / "ok.parquet")
    data = (tmp_path / "ok.parquet").read_bytes()
    cases = {
        "cut.parquet": data[: len(data) // 2],
        "cut.csv.gz": gzip.compress(CANONICAL.encode())[:20],
        "plain.csv.gz": CANONICAL.encode(),
        "odd.csv": CANONICAL.encode("utf-16") + b"\x00",
    }
    for name, raw in cases.items():
        path = tmp_path / name
        path.write_bytes(raw)
        for fmt in (None, "canonical"):
            with pytest.raises(FormatError) as info:
                trends.read(path, format=fmt)
            assert info.value.file == str(path)


def test_a_data_frame_with_a_duplicated_column_is_an_error():
    frame = pd.DataFrame([["a", "2020-01-01", "b"]], columns=["event_id", "date_start", "event_id"])
    with pytest.raises(SchemaError, match="appears twice") as info:
        trends.read_incidents(frame)
    assert info.value.column == "event_id"


def test_text_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("event_id,date_start,region\na,2020-01-01,Anbâr\n".encode("latin-1"))
    with pytest.raises(FormatError, match="line 2 of the file is not UTF-8"):
        trends.read(path, format="canonical")


# ---------------------------------------------------------------------------- dates


def test_timezone_suffixed_dates_read_as_the_local_calendar_date(tmp_path):
    lines = [
        HEADER,
        GOOD,
        "2,2016-01-06T23:30:00-05:00,2016-01-07 01:00:00Z,1,1,Iraq,A,1,A,1",
        "3,2016-01-06 00:00:00.000+0300,2016-01-06T00:00Z,1,1,Iraq,A,1,A,1",
    ]
    inc = trends.read(_write(tmp_path, lines))
    assert inc.data["date_start"].dt.strftime("%Y-%m-%d").tolist() == [
        "2016-01-05",
        "2016-01-06",
        "2016-01-06",
    ]
    assert inc.data["date_end"].dt.strftime("%Y-%m-%d").tolist()[1:] == ["2016-01-07", "2016-01-06"]


def test_parquet_timestamps_with_a_zone_read_as_the_local_calendar_date(tmp_path):
    utc = dt.datetime(2020, 1, 1, 22, 0, tzinfo=dt.UTC)  # 2 January, 01:00 in Baghdad
    table = pa.table(
        {
            "event_id": ["a"],
            "date_start": pa.array([utc], pa.timestamp("ns", tz="Asia/Baghdad")),
            "country": ["Iraq"],
        }
    )
    pq.write_table(table, tmp_path / "tz.parquet")
    inc = trends.read(tmp_path / "tz.parquet")
    assert inc.data["date_start"].tolist() == [pd.Timestamp("2020-01-02")]
    assert inc.data["date_start"].dtype == "datetime64[ns]"


@pytest.mark.parametrize("day", ["1500-01-06", "1677-09-21", "2262-04-12", "9999-12-31"])
def test_dates_outside_the_range_are_a_date_error_with_a_location(tmp_path, day):
    path = _write(tmp_path, [HEADER, GOOD, f"2,{day},{day},1,1,Iraq,A,1,A,1"])
    with pytest.raises(DateError, match="outside the dates trends reads") as info:
        trends.read(path)
    _located(info.value, path, row=2, column="date_start")


def test_parquet_dates_outside_the_range_are_a_date_error_with_a_location(tmp_path):
    table = pa.table(
        {
            "event_id": ["a", "b"],
            "date_start": pa.array(
                [dt.datetime(2000, 1, 1), dt.datetime(1500, 1, 1)], pa.timestamp("us")
            ),
            "country": ["Iraq"] * 2,
        }
    )
    pq.write_table(table, tmp_path / "old.parquet")
    with pytest.raises(DateError, match="1500-01-01 is outside") as info:
        trends.read(tmp_path / "old.parquet")
    _located(info.value, tmp_path / "old.parquet", row=2, column="date_start")


def test_dates_follow_the_explicit_grammar(tmp_path):
    for text in ("2016-01", "20160106", "6/1/2016", "2016-01-06T25:00"):
        path = _write(tmp_path, [HEADER, GOOD, f"2,{text},,1,1,Iraq,A,1,A,1"])
        with pytest.raises(DateError, match="is not a possible date"):
            trends.read(path)


# ---------------------------------------------------------------------------- files

CANONICAL = "event_id,date_start,country,region\na,2020-01-01,Iraq,Anbar\nb,2020-02-01,Iraq,Anbar\n"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("bom.csv", codecs.BOM_UTF8 + CANONICAL.encode()),
        ("utf16.csv", CANONICAL.encode("utf-16")),
        ("plain.csv.gz", gzip.compress(CANONICAL.encode())),
        ("bom.csv.gz", gzip.compress(codecs.BOM_UTF8 + CANONICAL.encode())),
    ],
)
def test_bom_utf16_and_gzip_files_are_detected_and_read(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    assert detect_format(path) == "canonical"
    inc = trends.read(path)
    _reconciles(inc, 2)
    assert inc.data["region"].tolist() == ["Al Anbār"] * 2


class _Hang(Exception):
    pass


def _alarm(signum, frame):  # pragma: no cover - only runs if reading hangs
    raise _Hang


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_fifos_and_devices_are_refused_without_hanging_or_reading(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(10)
    try:
        for path, fmt in (
            (fifo, None),
            (fifo, "canonical"),
            (Path("/dev/zero"), "ucdp"),
            (Path("/dev/zero"), None),
            (tmp_path, "gtd"),
        ):
            with pytest.raises(FileError, match="not a regular file") as info:
                trends.read(path, format=fmt)
            assert info.value.file == str(path)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_a_missing_file_is_a_file_error(tmp_path):
    for fmt in (None, "ucdp", "acled", "gtd", "canonical"):
        with pytest.raises(FileError, match="no such file"):
            trends.read(tmp_path / "absent.csv", format=fmt)


def test_the_format_registry_feeds_read_detect_and_the_cli(capsys):
    from trends.cli import main

    assert FORMATS.names() == ("ucdp", "acled", "gtd", "gdelt", "icews", "polecat", "canonical")
    assert all(entry.description and entry.reference for entry in FORMATS)
    assert main(["rates", "x.csv", "--format", "xls"]) == 2
    assert "'ucdp', 'acled', 'gtd', 'gdelt', 'icews', 'polecat', 'canonical'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="format='xls' is not one of 'ucdp'"):
        trends.read("x.csv", format="xls")


# ---------------------------------------------------------------------------- properties


def _mostly(benign, hostile, odds: int = 6):
    """``benign`` most of the time, ``hostile`` one time in ``odds``."""
    return st.integers(1, odds).flatmap(lambda k: hostile if k == odds else benign)


NAMES = _mostly(
    st.sampled_from(["Anbar", "Al Başrah province", "Nīnawá", "Kirkūk", "Baghdad", "Iraq"]),
    st.one_of(
        st.sampled_from(["NULL", "nan", "None", "N/A", "", "  ", "\u200b", "\ufeff", "\t"]),
        st.sampled_from(['=HYPERLINK("x")', "+cmd|' /C calc'!A0", "@SUM(1)", "constructor"]),
        st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            max_size=12,
        ),
        st.sampled_from(["a\nb", 'say "hi", then', "x,y", "line\r\nbreak", "'", '"', "a\n,b"]),
        st.just("z" * (parse.MAX_NAME_CHARS + 5)),
    ),
)
NUMBERS = _mostly(
    st.integers(0, 500).map(str),
    st.one_of(
        st.sampled_from(
            [
                "",
                "inf",
                "-inf",
                "Infinity",
                "1e400",
                "nan",
                "NULL",
                "-1",
                "1e30",
                "2.5",
                "many",
                " 3 ",
                "1_000",
                "0x10",
                "1e-400",
                "-0",
            ]
        ),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    ),
)
DATES = _mostly(
    st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)).map(str),
    st.one_of(
        st.sampled_from(
            [
                "",
                "NULL",
                "2016-02-30",
                "1500-01-01",
                "2300-06-01",
                "06/01/2016",
                "2016-01-06T23:30:00Z",
                "2016-01-06 10:00:00+03:00",
                "2016-13-01",
            ]
        ),
        st.datetimes(dt.datetime(1678, 1, 1), dt.datetime(2261, 12, 31)).map(str),
    ),
)


@st.composite
def hostile_rows(draw):
    n = draw(st.integers(1, 8))
    rows = []
    for i in range(n):
        event = draw(_mostly(st.just(f"e{i}"), st.sampled_from(["", "NULL", "e0", "\u200b"]), 20))
        rows.append(
            [
                event,
                draw(DATES),
                draw(NAMES),
                draw(NAMES),
                draw(NUMBERS),
                draw(NUMBERS),
                draw(NAMES),
            ]
        )
    return rows


COLUMNS = ["event_id", "date_start", "country", "region", "fatalities", "n_sources", "sources"]


@st.composite
def hostile_csv(draw):
    rows = draw(hostile_rows())
    names = list(COLUMNS)
    if draw(st.integers(0, 7)) == 0:
        names.append(draw(st.sampled_from(COLUMNS)))  # a duplicated name
        rows = [row + [row[0]] for row in rows]
    endings = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=2, max_size=2))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    buffer = io.StringIO(newline="")
    # the header and the rows may end their lines differently (mixed line endings)
    csv.writer(buffer, lineterminator=endings[0], quoting=quoting).writerow(names)
    writer = csv.writer(buffer, lineterminator=endings[1], quoting=quoting)
    records = 0
    for row in rows:
        writer.writerow(row)
        records += 1
        if draw(st.integers(0, 9)) == 0:
            buffer.write(endings[1])  # a blank line: no record
    text = buffer.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    data = text.encode(encoding)
    compress = draw(st.booleans())
    return (gzip.compress(data, mtime=0) if compress else data), compress, records


def _check_outcome(path: Path, records: int, *, fmt: str | None = None) -> None:
    """The invariant: a located InputError, or a ledger that adds up and cells that do too."""
    try:
        inc = trends.read(path, format=fmt)
    except InputError as exc:
        event(f"refused: {type(exc).__name__} {exc.detail[:30]}")
        assert exc.file == str(path), exc
        assert str(path) in str(exc)
        return
    event("read")
    _reconciles(inc, records)
    numbers = inc.data[["fatalities", "fatalities_low", "fatalities_high"]].to_numpy(float)
    assert not np.isinf(numbers).any()
    regions = inc.data["region"].dropna()
    assert not regions.str.casefold().isin(parse.NULL_TOKENS).any()
    assert (regions.str.strip() != "").all()
    assert (inc.notes["rows"] <= len(inc.data)).all()
    if len(inc.data):
        cells = trends.count(inc, period="year")
        ledger = cells.attrs["ledger"]
        assert sum(ledger.values()) == records
        assert cells["count"].sum() == pytest.approx(ledger.get("counted", 0))


SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(case=hostile_csv())
def test_property_hostile_csv_is_read_with_a_ledger_or_refused_with_a_location(tmp_path, case):
    data, compressed, records = case
    path = tmp_path / ("hostile.csv.gz" if compressed else "hostile.csv")
    path.write_bytes(data)
    _check_outcome(path, records)


@st.composite
def hostile_parquet(draw):
    rows = draw(hostile_rows())
    frame = pd.DataFrame(rows, columns=COLUMNS)
    arrays = {c: pa.array(frame[c].tolist(), pa.string()) for c in COLUMNS}
    kind = draw(
        st.sampled_from(["text", "text", "numbers", "timestamps", "tz", "tz", "list", "duplicate"])
    )
    if kind == "numbers":
        values = draw(
            st.lists(
                st.floats(allow_nan=True, allow_infinity=True),
                min_size=len(rows),
                max_size=len(rows),
            )
        )
        arrays["fatalities"] = pa.array(values, pa.float64())
    elif kind in ("timestamps", "tz"):
        moments = _mostly(
            st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 12, 31)),
            st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31)),
        )
        stamps = draw(st.lists(moments, min_size=len(rows), max_size=len(rows)))
        zone = "America/New_York" if kind == "tz" else None
        arrays["date_start"] = pa.array(stamps, pa.timestamp("us", tz=zone))
    elif kind == "list":
        arrays["region"] = pa.array([[r] for r in frame["region"]], pa.list_(pa.string()))
    names = list(arrays)
    columns = list(arrays.values())
    if kind == "duplicate":
        names.append("region")
        columns.append(arrays["region"])
    return pa.table(columns, names=names), len(rows)


@SETTINGS
@given(case=hostile_parquet())
def test_property_hostile_parquet_is_read_with_a_ledger_or_refused_with_a_location(tmp_path, case):
    table, records = case
    path = tmp_path / "hostile.parquet"
    pq.write_table(table, path)
    _check_outcome(path, records)
