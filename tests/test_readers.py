"""Readers: every shared UCDP file reads into the canonical table, and bad input is named."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

import trends
from trends.errors import (
    DateError,
    DuplicateIdError,
    EmptyInputError,
    FormatError,
    InputError,
    SchemaError,
    ValueRangeError,
)
from trends.incidents import CANONICAL_COLUMNS
from trends.readers.files import SPANNING_REASON

UCDP_FILES = {
    # file: (rows, dataset id, version)
    "ged191_iraq.csv": (7473, "ucdp-ged", "19.1"),
    "ged_syria_652_1601_1911.csv": (16566, "ucdp-ged-syria", "652.1601.1911"),
    "ged_candidate_21_01_21_12.csv": (17407, "ucdp-candidate", "21.01.21.12"),
    "ged_candidate_22_0_2.csv": (984, "ucdp-candidate", "22.0.2"),
}


@pytest.fixture(scope="module")
def iraq(ucdp_dir):
    return trends.read_ucdp_ged(ucdp_dir / "ged191_iraq.csv")


@pytest.mark.parametrize("name", sorted(UCDP_FILES))
def test_every_ucdp_file_reads_and_the_ledger_adds_up(ucdp_dir, name):
    rows, dataset, version = UCDP_FILES[name]
    inc = trends.read_ucdp_ged(ucdp_dir / name)
    assert list(inc.data.columns[: len(CANONICAL_COLUMNS)]) == list(CANONICAL_COLUMNS)
    assert inc.ledger["rows"].sum() == rows == inc.rows_read
    assert inc.ledger.loc[inc.ledger["reason"] == "kept", "rows"].item() == len(inc.data)
    assert (inc.source.dataset_id, inc.source.version) == (dataset, version)
    assert inc.source.coverage_from == "registry"
    assert len(inc.source.sha256) == 64
    assert inc.data["event_id"].is_unique
    assert (inc.data["date_end"] >= inc.data["date_start"]).all()
    # counted cells add up to the incidents kept, or the count ledger says where the rest went
    cells = trends.count(inc, period="month")
    ledger = cells.attrs["ledger"]
    assert sum(ledger.values()) == rows
    counted = ledger["counted"]
    assert cells["count"].sum() == pytest.approx(counted)


def test_candidate_release_keeps_late_events_out_of_its_window(ucdp_dir):
    # Candidate 22.0.2 is February 2022, but carries 18 events coded late from January.
    inc = trends.read_ucdp_ged(ucdp_dir / "ged_candidate_22_0_2.csv")
    ledger = trends.count(inc).attrs["ledger"]
    assert ledger["outside the coverage window"] == 18
    assert ledger["counted"] == 966


def test_unknown_number_of_sources_is_missing_never_zero_or_one(iraq):
    assert iraq.data["n_sources"].isna().sum() == 3942
    assert (iraq.data["n_sources"].dropna() >= 1).all()


def test_codes_map_to_canonical_words(iraq):
    data = iraq.data
    raw = data[["date_prec", "where_prec"]].astype(int)
    assert set(data.loc[raw["date_prec"] == 1, "date_precision"]) == {"day"}
    assert set(data.loc[raw["date_prec"] == 5, "date_precision"]) == {"year"}
    assert set(data.loc[raw["where_prec"] == 4, "location_precision"]) == {"region"}
    assert set(data.loc[raw["where_prec"] == 6, "location_precision"]) == {"country"}
    # location no finer than the country: the country's "(unknown)" region
    assert set(data.loc[raw["where_prec"] >= 6, "region"]) == {"(unknown)"}
    assert data["fatalities"].sum() == pd.to_numeric(data["best"]).sum()
    assert set(data["event_type"].dropna()) == {"state-based", "non-state", "one-sided"}


def test_region_names_are_harmonised_and_raw_names_kept(ucdp_dir, iraq):
    located = iraq.data[iraq.data["region"] != "(unknown)"]
    pairs = located[["region_raw", "region"]].drop_duplicates().dropna()
    mapping = dict(zip(pairs["region_raw"], pairs["region"], strict=True))
    assert mapping["Al Başrah province"] == "Al Başrah"  # raw had two spaces
    assert mapping["At-Ta'mim province"] == "Kirkūk"
    assert mapping["Kirkūk province"] == "Kirkūk"
    assert mapping["As Sulaymānīyah province"] == "Sulaymānīyah"
    candidate = trends.read_ucdp_ged(ucdp_dir / "ged_candidate_21_01_21_12.csv").data
    syria = trends.read_ucdp_ged(ucdp_dir / "ged_syria_652_1601_1911.csv").data
    cand_syria = set(candidate.loc[candidate["country"] == "Syria", "region"]) - {"(unknown)"}
    assert cand_syria <= set(syria["region"])  # "Governorate" and "governorate" agree
    cand_iraq = set(candidate.loc[candidate["country"] == "Iraq", "region"])
    assert "Sulaymānīyah" in cand_iraq and "Al Başrah" in cand_iraq
    assert cand_iraq <= set(iraq.data["region"])


def test_candidate_timestamps_parse(ucdp_dir):
    inc = trends.read_ucdp_ged(ucdp_dir / "ged_candidate_22_0_2.csv")
    assert inc.data["date_start"].min() == pd.Timestamp("2022-01-01")
    assert (inc.data["date_start"].dt.normalize() == inc.data["date_start"]).all()


def test_sources_are_outlets_separated_by_semicolons(ucdp_dir):
    inc = trends.read_ucdp_ged(ucdp_dir / "ged_candidate_22_0_2.csv")
    multi = inc.data["sources"].dropna()
    assert multi.str.contains(";").any()
    assert not multi.str.contains(r"^\s|\s;|;\s|\s$", regex=True).any()


# ---------------------------------------------------------------------------- bad input

HEADER = (
    "id,date_start,date_end,date_prec,where_prec,country,adm_1,number_of_sources,source_office,best"
)
GOOD = "1,2016-01-05,2016-01-05,1,1,Iraq,Nīnawá province,2,A;B,3"


def _write(tmp_path: Path, lines: list[str], name: str = "ged.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


BAD_UCDP = {
    "missing column": ([HEADER.replace(",best", ""), GOOD[:-2]], SchemaError, None, "best"),
    "unparseable date": (
        [HEADER, GOOD, "2,2016-01-xx,2016-01-05,1,1,Iraq,A,1,A,1"],
        DateError,
        2,
        "date_start",
    ),
    "impossible date": (
        [HEADER, GOOD, "2,2016-02-30,2016-03-01,1,1,Iraq,A,1,A,1"],
        DateError,
        2,
        "date_start",
    ),
    "end before start": (
        [HEADER, GOOD, "2,2016-01-05,2016-01-04,1,1,Iraq,A,1,A,1"],
        DateError,
        2,
        "date_end",
    ),
    "duplicate id": ([HEADER, GOOD, GOOD], DuplicateIdError, 2, "id"),
    "negative fatalities": (
        [HEADER, GOOD, "2,2016-01-05,2016-01-05,1,1,Iraq,A,1,A,-4"],
        ValueRangeError,
        2,
        "best",
    ),
    "not a number": (
        [HEADER, GOOD, "2,2016-01-05,2016-01-05,1,1,Iraq,A,1,A,many"],
        ValueRangeError,
        2,
        "best",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_UCDP))
def test_bad_ucdp_input_names_file_row_and_column(tmp_path, case):
    lines, error, row, column = BAD_UCDP[case]
    path = _write(tmp_path, lines)
    with pytest.raises(error) as info:
        trends.read_ucdp_ged(path)
    exc = info.value
    assert isinstance(exc, ValueError)
    assert exc.file == str(path) and str(path) in str(exc)
    assert exc.column == column and repr(column) in str(exc)
    if row is not None:
        assert exc.row == row and f"row {row}" in str(exc)


def test_empty_files(tmp_path):
    with pytest.raises(EmptyInputError, match="empty"):
        trends.read_ucdp_ged(_write(tmp_path, [""], "empty.csv"))
    with pytest.raises(EmptyInputError, match="no data rows"):
        trends.read_ucdp_ged(_write(tmp_path, [HEADER], "header.csv"))


def test_a_file_that_is_not_ucdp(tmp_path):
    acled = _write(
        tmp_path, ["event_id_cnty,event_date,admin1,fatalities", "IRQ1,2020-01-01,Anbar,1"]
    )
    with pytest.raises(FormatError, match="not a UCDP GED file"):
        trends.read_ucdp_ged(acled)
    assert trends.readers.detect_format(acled) == "acled"
    other = _write(tmp_path, ["when,where,what", "2020-01-01,Anbar,raid"], "other.csv")
    with pytest.raises(FormatError, match="format not recognised"):
        trends.readers.detect_format(other)


def test_rows_without_a_date_go_to_the_ledger(tmp_path):
    path = _write(
        tmp_path, [HEADER, GOOD, "2,,,1,1,Iraq,A,1,A,1", "3,2016-01-07,,1,1,Iraq,A,1,A,1"]
    )
    inc = trends.read_ucdp_ged(path)
    assert dict(zip(inc.ledger["reason"], inc.ledger["rows"], strict=True)) == {
        "kept": 2,
        "date missing": 1,
    }
    assert inc.data.loc[inc.data["event_id"] == "3", "date_end"].item() == pd.Timestamp(
        "2016-01-07"
    )


# ---------------------------------------------------------------------------- generic reader


def test_read_incidents_with_a_column_map(tmp_path):
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "day": ["2020-01-01", "2020-02-03", None],
            "province": ["Anbar", "Nineveh", "Anbar"],
            "nation": ["Iraq", "Iraq", "Iraq"],
            "dead": [1, 0, 2],
        }
    )
    path = tmp_path / "mine.parquet"
    frame.to_parquet(path)
    columns = {
        "event_id": "id",
        "date_start": "day",
        "region": "province",
        "country": "nation",
        "fatalities": "dead",
    }
    for source in (frame, path):
        inc = trends.read_incidents(source, columns=columns)
        assert list(inc.data["region"]) == ["Al Anbār", "Nīnawá"]
        assert inc.ledger.set_index("reason")["rows"].to_dict() == {"kept": 2, "date missing": 1}
        assert inc.source.coverage == (pd.Timestamp("2020-01-01"), pd.Timestamp("2020-02-03"))
        assert inc.source.coverage_from == "data"
    declared = trends.read_incidents(frame, columns=columns, coverage=("2019-01-01", "2020-12-31"))
    assert declared.source.coverage_from == "declared"


def test_read_incidents_rejects_unknown_map_targets():
    with pytest.raises(ValueError, match="'when', which is not a canonical column"):
        trends.read_incidents(pd.DataFrame({"id": [1]}), columns={"when": "id"})


def test_errors_share_one_base_class():
    for error in (
        SchemaError,
        DateError,
        DuplicateIdError,
        ValueRangeError,
        EmptyInputError,
        FormatError,
    ):
        assert issubclass(error, InputError) and issubclass(error, ValueError)


# ---------------------------------------------------------------------------- hostile values in real files


@pytest.mark.shared
def test_the_null_region_of_candidate_22_0_2_is_missing(ucdp_dir):
    inc = trends.read(ucdp_dir / "ged_candidate_22_0_2.csv")
    uganda = inc.data.loc[inc.data["event_id"] == "431491"].iloc[0]
    assert uganda["region"] == "(unknown)" and pd.isna(uganda["region_raw"])
    assert uganda["adm_1"] == "NULL"  # the source column passes through untouched
    assert "NULL" not in set(inc.data["region"])
    notes = inc.notes.set_index("column")["rows"].to_dict()
    assert notes == {"adm_1": 35, "adm_2": 132}


@pytest.mark.shared
@pytest.mark.parametrize(
    "name",
    [
        "ged191_iraq.csv",
        "ged_syria_652_1601_1911.csv",
        "ged_candidate_21_01_21_12.csv",
        "ged_candidate_22_0_2.csv",
    ],
)
def test_real_files_lose_no_record_to_the_quote_check(ucdp_dir, name):
    path = ucdp_dir / name
    inc = trends.read(path)
    records = sum(1 for _ in csv.reader(io.StringIO(path.read_text("utf-8"), newline=""))) - 1
    assert inc.rows_read == records == inc.ledger["rows"].sum()
    assert SPANNING_REASON not in set(inc.ledger["reason"])
