"""One validation for every route in: count(path) reads a file as trends.read() does.

Each hostile file goes through ``count(read(path))`` and ``count(path)``, as CSV and
as Parquet (text columns): the same cells and ledger, or the same kind of error
naming the file (issue 11).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import trends
from trends.errors import InputError, TrendsError

HEADER = "event_id,date_start,date_end,country,region,fatalities,sources\n"


def _rows(n: int = 30, **change) -> list[list[str]]:
    rows = []
    for i in range(n):
        row = {
            "event_id": f"e{i}",
            "date_start": f"2014-01-{i % 28 + 1:02d}",
            "date_end": "",
            "country": "Iraq",
            "region": ["Anbar", "Nineveh", "Basra"][i % 3],
            "fatalities": str(i % 4),
            "sources": "AFP;Reuters" if i % 2 else "BBC",
        }
        row.update({k: v(i) if callable(v) else v for k, v in change.items()})
        rows.append(list(row.values()))
    return rows


def _csv(path, rows, *, newline="\n", header=HEADER) -> None:
    text = header + "".join(",".join(r) + newline for r in rows)
    path.write_bytes(text.encode("utf-8"))


def _outcome(make):
    try:
        cells = make()
    except TrendsError as exc:
        assert isinstance(exc, InputError | TrendsError)
        return type(exc), str(exc)
    return cells


def _same_route(path) -> object:
    """count(read(path)) and count(path): equal cells and ledgers, or the same error."""
    via_reader = _outcome(lambda: trends.count(trends.read(path)))
    via_path = _outcome(lambda: trends.count(path))
    if isinstance(via_reader, tuple):
        assert isinstance(via_path, tuple), f"read() refused ({via_reader}); count(path) counted"
        assert via_path[0] is via_reader[0], (via_reader, via_path)
        assert str(path) in via_path[1]
        return via_reader[0]
    assert not isinstance(via_path, tuple), f"count(path) refused: {via_path}"
    pd.testing.assert_frame_equal(via_reader, via_path, check_exact=True)
    assert via_reader.attrs["ledger"] == via_path.attrs["ledger"]
    return via_reader


def _as_parquet(csv_path, tmp_path):
    frame = pd.read_csv(csv_path, dtype="string", keep_default_na=False)
    path = tmp_path / (csv_path.stem + ".parquet")
    frame.to_parquet(path, index=False)
    return path


CASES = {
    # month/day/year with every day <= 12: DuckDB's sniffer swapped day and month
    "us-dates": dict(date_start=lambda i: f"01/{i % 12 + 1:02d}/2014"),
    "empty-id": dict(event_id=lambda i: "" if i == 7 else f"e{i}"),
    "null-like-id": dict(event_id=lambda i: "NULL" if i == 3 else f"e{i}"),
    "untidy-ids": dict(
        event_id=lambda i: [f" e{i}", f"e{i}\u200b", f"e\t{i}", f"E{i}", f"nE{i}"][i % 5]
    ),
    "null-like-id-lower": dict(event_id=lambda i: {3: "nan", 4: "None"}.get(i, f"n{i}")),
    "no-place": dict(
        country=lambda i: "" if i % 5 == 0 else "Iraq",
        region=lambda i: "" if i % 5 == 0 else "Anbar",
    ),
    "null-like-regions": dict(region=lambda i: ["NULL", "N/A", "  ", "\u200b", "Anbar"][i % 5]),
    "non-finite": dict(fatalities=lambda i: ["inf", "Infinity", "1e400", "-inf", "2"][i % 5]),
    "negative": dict(fatalities=lambda i: "-1" if i == 9 else "0"),
    "bad-date-last": dict(date_start=lambda i: "2014-02-30" if i == 29 else "2014-01-05"),
    "zoned-dates": dict(date_start=lambda i: "2014-01-24T23:30:00-05:00"),
    "backward": dict(date_end=lambda i: "2013-12-01" if i == 4 else ""),
    "duplicate-id": dict(event_id=lambda i: "e1" if i in (1, 2) else f"e{i}"),
    "messy-sources": dict(
        sources=lambda i: [" AFP ;; AFP;", ";", "NULL;BBC", "  ", "A|B;C"][i % 5]
    ),
    "repeated-outlet": dict(sources=lambda i: ["Alpha;Alpha", "Alpha;Beta", "Beta"][i % 3]),
    "unicode": dict(region=lambda i: ["Ḥalab", "Dayr az Zawr", "Al Anbār"][i % 3]),
}


def test_the_id_shortcut_misses_no_untidy_id():
    """Ids are checked in full only when they hold a character of ``_ID_SUSPECT``:
    every invisible character must be one, and every null-like token hold one."""
    import re
    import sys

    from trends.counting.validate import _ID_SUSPECT
    from trends.readers import parse

    every = "".join(map(chr, range(sys.maxunicode + 1)))
    invisible = re.findall(parse.INVISIBLE, every)
    assert invisible and all(re.fullmatch(_ID_SUSPECT, c) for c in invisible)
    assert all(re.search(_ID_SUSPECT, t) for t in parse.NULL_TOKENS)
    # the same test on a Parquet text column looks at bytes: a character is suspect
    # exactly when one of its UTF-8 bytes is
    from trends.counting.validate import _SUSPECT_BYTE

    for c in every:
        if 0xD800 <= ord(c) <= 0xDFFF:  # surrogates have no UTF-8 form
            continue
        by_bytes = bool(_SUSPECT_BYTE[list(c.encode())].any())
        assert by_bytes == (re.fullmatch(_ID_SUSPECT, c) is not None), hex(ord(c))


@pytest.mark.parametrize(
    "ids",
    [
        pa.array([3, None, 5], pa.int64()),
        pa.array([3, 4, 5], pa.int32()),
        pa.array(["a1", "", "a3"], pa.large_string()),
        pa.array(["a1", "nan", "a3"], pa.large_string()),
        pa.array(["a1", " a2", "a3"], pa.string()),
        pa.array(["a1", "a2", "a3"], pa.large_string()),
    ],
)
def test_typed_ids_are_checked_as_the_reader_checks_them(tmp_path, ids):
    """Integer ids (only a missing one is untidy) and text ids (looked at byte by
    byte) on the Parquet route: the reader's cells or the reader's error."""
    path = tmp_path / "typed.parquet"
    table = pa.table(
        {
            "event_id": ids,
            "date_start": pa.array(pd.to_datetime(["2020-01-02", "2020-01-05", "2020-02-01"])),
            "country": ["Iraq"] * 3,
            "region": ["Anbar"] * 3,
        }
    )
    pq.write_table(table, path)
    _same_route(path)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_hostile_file_reads_the_same_by_both_routes(tmp_path, case, kind):
    path = tmp_path / f"{case}.csv"
    _csv(path, _rows(**CASES[case]))
    if kind == "parquet":
        path = _as_parquet(path, tmp_path)
    _same_route(path)


def test_us_dates_are_refused_not_swapped(tmp_path):
    path = tmp_path / "us.csv"
    _csv(path, _rows(25, date_start=lambda i: f"01/{i % 12 + 1:02d}/2014"))
    with pytest.raises(trends.errors.DateError, match="us.csv, row 1, column 'date_start'"):
        trends.count(path)


def test_mixed_line_endings_and_long_lines(tmp_path):
    mixed = tmp_path / "mixed.csv"
    text = HEADER + "".join(
        ",".join(r) + ("\r\n" if i % 2 else "\n") for i, r in enumerate(_rows())
    )
    mixed.write_bytes(text.encode())
    assert _same_route(mixed) is not None
    long = tmp_path / "long.csv"
    _csv(long, _rows(region=lambda i: "x" * 2_500_000 if i == 5 else "Anbar"))
    assert _same_route(long) is trends.errors.LimitError


def test_a_bad_date_far_down_names_its_row(tmp_path):
    path = tmp_path / "far.csv"
    n = 50_000
    _csv(path, _rows(n, date_start=lambda i: "2014-13-01" if i == n - 1 else "2014-01-02"))
    with pytest.raises(trends.errors.DateError, match=f"row {n}, column 'date_start'"):
        trends.count(path)
    parquet = _as_parquet(path, tmp_path)
    with pytest.raises(trends.errors.DateError, match=f"row {n}, column 'date_start'"):
        trends.count(parquet)


def test_nested_and_damaged_parquet_are_refused_by_both(tmp_path):
    nested = tmp_path / "nested.parquet"
    pq.write_table(
        pa.table(
            {
                "event_id": ["a", "b"],
                "date_start": ["2020-01-01", "2020-01-02"],
                "region": [["Al Anbār", "x"], ["y"]],
            }
        ),
        nested,
    )
    assert _same_route(nested) is trends.errors.SchemaError
    damaged = tmp_path / "damaged.parquet"
    good = tmp_path / "good.parquet"
    pd.DataFrame({"event_id": ["a"] * 1 + ["b"], "date_start": ["2020-01-01"] * 2}).to_parquet(good)
    damaged.write_bytes(good.read_bytes()[:-30])
    for route in (lambda: trends.read(damaged), lambda: trends.count(damaged)):
        with pytest.raises(InputError, match="damaged.parquet"):
            route()


def test_text_ids_of_a_damaged_parquet_file_are_left_to_duckdb(tmp_path):
    """The byte look at text ids reads the file with Arrow; a page Arrow cannot read
    leaves the verdict to DuckDB's exact test, so the error is the route's FormatError."""
    from trends.counting.validate import _suspect_text

    path = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"event_id": [f"e{i}" for i in range(5000)]}), path)
    assert _suspect_text(str(path), "event_id") is False
    data = bytearray(path.read_bytes())
    data[200:4000] = bytes(3800)  # the column's pages, not the footer
    path.write_bytes(bytes(data))
    with pytest.raises(OSError):  # Arrow cannot read the pages
        list(pq.ParquetFile(path).iter_batches(columns=["event_id"]))
    assert _suspect_text(str(path), "event_id") is True
