"""read_icews(): ICEWS event files in the published layout (files made here)."""

from __future__ import annotations

import pandas as pd
import pytest

import trends
from trends.readers import ICEWS_COLUMNS, detect_format
from trends.readers.icews import REPEATED_REASON


def _row(i: int, **change) -> list[str]:
    row = dict.fromkeys(ICEWS_COLUMNS, "")
    row.update(
        {
            "Event ID": str(20_000_000 + i),
            "Event Date": f"2016-03-{i % 28 + 1:02d}",
            "Source Name": "Militant (Syria)",
            "Source Sectors": "Insurgents",
            "Source Country": "Syria",
            "Event Text": "Use conventional military force",
            "CAMEO Code": "190",
            "Intensity": "-10.0",
            "Target Name": "Citizen (Syria)",
            "Story ID": str(30_000_000 + i),
            "Sentence Number": "1",
            "Publisher": ["Agence France-Presse", "BBC Monitoring", "Xinhua"][i % 3],
            "City": "Aleppo" if i % 4 else "",
            "District": "Mount Simeon" if i % 4 else "",
            "Province": "Aleppo" if i % 5 else "",
            "Country": "Syria",
        }
    )
    row.update(change)
    return [row[c] for c in ICEWS_COLUMNS]


def _write(path, rows) -> None:
    lines = ["\t".join(ICEWS_COLUMNS), *("\t".join(r) for r in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_an_icews_file_reads_and_counts(tmp_path):
    path = tmp_path / "events.2016.20170206.tab"
    _write(path, [_row(i) for i in range(40)])
    assert detect_format(path) == "icews"
    inc = trends.read(path)
    data = inc.data
    assert len(data) == 40
    assert set(data["location_precision"]) == {"exact", "region", "country"}
    assert data.loc[4, "location_precision"] == "region"  # no city, no district: province
    assert data.loc[0, "location_precision"] == "country"
    assert data.loc[1, "sources"] == "BBC Monitoring" and data.loc[1, "n_sources"] == 1
    assert data.loc[0, "event_type"] == "190" and "Intensity" in data.columns
    cells = trends.count(inc, period="month")
    assert cells["count"].sum() == 40


def test_the_duplicate_id_guard(tmp_path):
    path = tmp_path / "events.tab"
    rows = [_row(i) for i in range(10)]
    _write(path, rows + [rows[3], rows[3], rows[7]])  # a weekly file repeating records
    inc = trends.read(path)
    assert len(inc.data) == 10
    ledger = dict(zip(inc.ledger["reason"], inc.ledger["rows"], strict=True))
    assert ledger[REPEATED_REASON] == 3 and inc.rows_read == 13
    _write(path, rows + [_row(3, **{"CAMEO Code": "193"})])  # the same id, another record
    with pytest.raises(trends.errors.DuplicateIdError, match="20000003"):
        trends.read(path)


def _icews_file(tmp_path):
    """A weekly file repeating records, with a province the alias table renames."""
    rows = [_row(i) for i in range(60)]
    rows[5] = _row(5, Country="Iraq", Province="Anbar province")
    rows[6] = _row(6, Country="Iraq", Province="Al Anbar", Publisher="NULL")
    path = tmp_path / "events.2016.tab"
    _write(path, rows + [rows[3], rows[3], rows[7], rows[5]])
    return path


def _same_count(reference, other) -> None:
    pd.testing.assert_frame_equal(reference, other, check_exact=True)
    assert reference.attrs["ledger"] == other.attrs["ledger"]
    assert reference.attrs["ledger"][REPEATED_REASON] == 4


def test_an_icews_file_counted_in_duckdb_gives_the_readers_cells(tmp_path):
    import duckdb

    path = _icews_file(tmp_path)
    reference = trends.count(trends.read_icews(path), period="month")
    assert "Al Anbār" in set(reference["region"])  # both spellings, harmonised
    rel = duckdb.read_csv(str(path), delimiter="\t", header=True, all_varchar=True, quotechar="")
    _same_count(reference, trends.count(trends.read_icews(rel), period="month"))
    # a different record under a repeated id is refused, as the reader refuses it
    rows = [_row(i) for i in range(10)] + [_row(3, **{"CAMEO Code": "193"})]
    _write(path, rows)
    rel = duckdb.read_csv(str(path), delimiter="\t", header=True, all_varchar=True, quotechar="")
    with pytest.raises(trends.errors.DuplicateIdError, match="20000003"):
        trends.count(trends.read_icews(rel))
    with pytest.raises(trends.errors.SchemaError, match="missing column 'Event Date'"):
        trends.read_icews(duckdb.sql('SELECT 1 AS "Event ID"'))


@pytest.mark.spark
def test_an_icews_file_counted_on_spark_gives_the_readers_cells(spark, tmp_path):
    path = _icews_file(tmp_path)
    reference = trends.count(trends.read_icews(path), period="quarter")
    on_spark = spark.read.csv(str(path), sep="\t", header=True)
    _same_count(reference, trends.count(trends.read_icews(on_spark), period="quarter"))
