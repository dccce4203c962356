"""read_polecat(): POLECAT event files in the published layout (files made here, no network)."""

from __future__ import annotations

import pandas as pd
import pytest

import trends
from trends.cli import main
from trends.readers import POLECAT_COLUMNS, detect_format
from trends.readers.files import REPEATED_REASON

FORMULA = '=HYPERLINK("http://x.example","click")'


def _row(i: int, **change: str) -> dict[str, str]:
    """One record as the Dataverse files write it: ``None`` for no value, ``;`` between
    several values."""
    row = dict.fromkeys(POLECAT_COLUMNS, "None")
    row.update(
        {
            "Event ID": f"20230{i % 9 + 1}01-{i:04d}-4e08_ASSAULT_R",
            "Event Date": f"2023-{i % 9 + 1:02d}-{i % 27 + 1:02d}",
            "Event Type": ["ASSAULT", "PROTEST", "ACCUSE"][i % 3],
            "Event Mode": ["firearms", "demo", "None"][i % 3],
            "Event Intensity": ["-9.0", "-5.0", "-2.0"][i % 3],
            "Quad Code": ["MATERIAL CONFLICT", "MATERIAL CONFLICT", "VERBAL CONFLICT"][i % 3],
            "Contexts": "military;terrorism" if i % 2 else "political_violence",
            "Actor Name": "Islamic State",
            "Actor Country": "IRQ;SYR",
            "Actor COW": "645; 652",
            "Recipient Name": "Iraqi Army",
            "City": "Mosul" if i % 4 else "None",
            "District": "Mosul" if i % 4 else "None",
            "Province": "Nineveh" if i % 5 else "None",
            "Country": "IRQ",
            "Latitude": "36.335",
            "Longitude": "43.119",
            "Source": ["Shafaq News", "BBC Monitoring", "Rudaw"][i % 3],
            "Publication Date": "2023-01-06",
            "Version": "NGEC_coder-Vers001-b1-Run-001",
        }
    )
    row.update(change)
    return row


def _write(path, rows, columns=POLECAT_COLUMNS, *, trailing: str = "") -> None:
    lines = ["\t".join(columns) + trailing]
    lines += ["\t".join(r.get(c, "None") for c in columns) + trailing for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_polecat_file_reads_cell_by_cell(tmp_path):
    rows = [_row(i) for i in range(12)]
    rows[1].update({"Actor Name": "Ṣalāḥ ad-Dīn Brigade", "Province": "Ṣalāḥ ad-Dīn",
                    "Source": "Al-Sumaria; Rudaw"})  # fmt: skip
    rows[2]["Actor Name"] = FORMULA
    rows[3]["Province"] = "None"  # no admin-1: the city and district still give a place
    path = tmp_path / "ngecEvents.20230103111842.Release603.DV.txt"
    _write(path, rows)
    assert detect_format(path) == "polecat"
    inc = trends.read(path)
    data = inc.data
    assert len(data) == 12 and inc.rows_read == 12
    first = data.loc[1]
    assert first["event_id"] == "20230201-0001-4e08_ASSAULT_R"
    assert first["date_start"] == pd.Timestamp("2023-02-02")
    assert first["date_precision"] == "day"
    assert first["country"] == "IRQ"
    assert first["region"] == "Ṣalāḥ ad-Dīn" and first["subregion"] == "Mosul"
    assert first["location_precision"] == "exact"
    assert first["event_type"] == "PROTEST" and first["Event Mode"] == "demo"
    assert first["Quad Code"] == "MATERIAL CONFLICT" and first["Event Intensity"] == "-5.0"
    assert first["Contexts"] == "military;terrorism"
    assert first["actor"] == "Ṣalāḥ ad-Dīn Brigade"
    assert first["sources"] == "Al-Sumaria;Rudaw" and first["n_sources"] == 2
    assert first["Actor Country"] == "IRQ;SYR" and first["Actor COW"] == "645; 652"
    assert data.loc[2, "actor"] == FORMULA  # text from data is kept; outputs neutralise it
    assert data.loc[2, "Event Mode"] == "None"  # other columns pass through as written
    assert data.loc[3, "location_precision"] == "exact" and data.loc[3, "region"] == "(unknown)"
    assert data.loc[0, "location_precision"] == "country"  # City, District, Province None
    assert data.loc[0, "region"] == "(unknown)" and pd.isna(data.loc[0, "subregion"])
    assert data.loc[5, "location_precision"] == "exact" and data.loc[5, "region"] == "(unknown)"
    assert data.loc[4, "location_precision"] == "region"  # no city, no district: province
    assert data.loc[0, "sources"] == "Shafaq News" and data.loc[0, "n_sources"] == 1
    assert inc.source.dataset_id == "polecat" and "AJGVIT" in inc.source.citation
    cells = trends.count(inc, period="month")
    assert cells["count"].sum() == 12


def test_the_duplicate_id_guard(tmp_path):
    path = tmp_path / "ngecEventsDV-2023.txt"
    rows = [_row(i) for i in range(10)]
    _write(path, rows + [rows[3], rows[3], rows[7]])  # a weekly file repeating records
    inc = trends.read(path)
    assert len(inc.data) == 10 and inc.rows_read == 13
    ledger = dict(zip(inc.ledger["reason"], inc.ledger["rows"], strict=True))
    assert ledger[REPEATED_REASON] == 3 and ledger["kept"] == 10
    _write(path, rows + [_row(3, **{"Event Type": "COERCE"})])  # the same id, another record
    with pytest.raises(trends.errors.DuplicateIdError, match="20230401-0003-4e08_ASSAULT_R"):
        trends.read(path)


def test_releases_that_say_intensity_and_carry_more_columns(tmp_path):
    columns = [c if c != "Event Intensity" else "Intensity" for c in POLECAT_COLUMNS]
    columns += ["Headline", "Story ID"]
    rows = [{**_row(i), "Intensity": "-9.0", "Headline": "Clashes", "Story ID": f"S{i}"}
            for i in range(4)]  # fmt: skip
    path = tmp_path / "ngecEvents.DV.2019.txt"
    _write(path, rows, columns, trailing="\t\t")  # and stray tabs at every line's end
    data = trends.read(path).data
    assert list(data["Event Intensity"]) == ["-9.0"] * 4
    assert list(data["Story ID"]) == ["S0", "S1", "S2", "S3"]
    assert not any(str(c).startswith("Unnamed") for c in data.columns)


def test_a_header_naming_more_columns_than_the_records_is_refused(tmp_path):
    """Beger (2024): some files' headers name columns (Headline ...) their records lack."""
    path = tmp_path / "ngecEvents.20230801.txt"
    rows = [_row(i) for i in range(3)]
    lines = ["\t".join([*POLECAT_COLUMNS, "Headline"])]
    lines += ["\t".join(r[c] for c in POLECAT_COLUMNS) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(trends.errors.FormatError, match="row 1") as caught:
        trends.read(path)
    assert "40 tab-separated fields where the header names 41" in str(caught.value)


def test_a_missing_column_and_a_bad_date_name_file_row_and_column(tmp_path):
    path = tmp_path / "no_source.txt"
    columns = [c for c in POLECAT_COLUMNS if c != "Source"]
    _write(path, [_row(0)], columns)
    with pytest.raises(trends.errors.SchemaError, match="'Source'"):
        trends.read_polecat(path)
    _write(path, [_row(0), _row(1, **{"Event Date": "05/01/2023"})])
    with pytest.raises(trends.errors.DateError, match="row 2, column 'Event Date'"):
        trends.read_polecat(path)


def test_the_command_line_counts_it_and_refuses_a_bad_file_in_one_line(tmp_path, capsys):
    path = tmp_path / "ngecEvents.DV.2023.txt"
    rows = [_row(i) for i in range(30)]
    rows[4]["Province"] = FORMULA
    _write(path, rows)
    out = tmp_path / "cells.csv"
    argv = ["count", str(path), "--period", "month", "--where", "Quad Code=MATERIAL CONFLICT",
            "-o", str(out)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    cells = pd.read_csv(out, dtype={"region": "string"})
    assert cells["count"].sum() == 20  # ASSAULT and PROTEST; ACCUSE is verbal conflict
    assert cells["region"].str.contains("HYPERLINK", regex=False).any()
    assert not cells["region"].str.startswith("=").any()  # the formula is neutralised
    _write(path, [*rows, _row(40, **{"Event Date": "2023-13-01"})])
    assert main(["count", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("trends: ") and "Traceback" not in err
    assert path.name in err and "row 31" in err and "Event Date" in err


def test_a_polecat_file_counted_in_duckdb_gives_the_readers_cells(tmp_path):
    import duckdb

    rows = _rows_to_rewrite()
    path = tmp_path / "ngecEvents.DV.2023.txt"
    _write(path, [*rows, rows[5]])
    reference = trends.count(trends.read_polecat(path), period="month")
    rel = duckdb.read_csv(str(path), delimiter="\t", header=True, all_varchar=True, quotechar="")
    other = trends.count(trends.read_polecat(rel), period="month")
    _same_count(reference, other)


def _rows_to_rewrite() -> list[dict[str, str]]:
    """Records with a province and an outlet the readers' rules rewrite."""
    rows = [_row(i) for i in range(60)]
    rows[7] = _row(7, Province="Nineveh  Province", Source="Xinhua; BBC Monitoring")
    return rows


def _same_count(reference: pd.DataFrame, other: pd.DataFrame) -> None:
    """Equal cells and ledgers, the repeat in both, the rewritten names in both."""
    pd.testing.assert_frame_equal(reference, other, check_exact=True)
    assert reference.attrs["ledger"] == other.attrs["ledger"]
    assert reference.attrs["ledger"][REPEATED_REASON] == 1
    assert other["source_counts"].str.contains("Xinhua News Agency").any()


@pytest.mark.spark
def test_a_polecat_file_counted_on_spark_gives_the_readers_cells(spark, tmp_path):
    rows = _rows_to_rewrite()
    path = tmp_path / "ngecEvents.DV.2023.txt"
    _write(path, [*rows, rows[5]])
    reference = trends.count(trends.read_polecat(path), region="region", period="quarter")
    on_spark = spark.read.csv(str(path), sep="\t", header=True, quote="")
    other = trends.count(trends.read_polecat(on_spark), region="region", period="quarter")
    _same_count(reference, other)
    conflicting = [*rows, _row(5, **{"Event Type": "COERCE"})]
    _write(path, conflicting)
    on_spark = spark.read.csv(str(path), sep="\t", header=True, quote="")
    with pytest.raises(trends.errors.DuplicateIdError, match="20230601-0005"):
        trends.count(trends.read_polecat(on_spark), period="quarter")
