"""read_gdelt(): GDELT 2.0 event exports in the published layout (files made here)."""

from __future__ import annotations

import pandas as pd
import pytest

import trends
from trends.readers import FORMATS, GDELT_COLUMNS, detect_format


def gdelt_rows(n: int, *, seed: int = 0) -> pd.DataFrame:
    """``n`` events in the 61 columns of a GDELT 2.0 export (Iraq and Syria, 2016)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame("", index=range(n), columns=list(GDELT_COLUMNS), dtype=object)
    day = pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.integers(0, 366, n), unit="D")
    country = rng.choice(["IZ", "SY"], n)
    division = np.where(
        country == "IZ",
        np.char.add("IZ", np.char.zfill(rng.integers(1, 19, n).astype(str), 2)),
        np.char.add("SY", np.char.zfill(rng.integers(1, 15, n).astype(str), 2)),
    )
    kind = rng.choice([1, 4, 5], n, p=[0.1, 0.6, 0.3])
    frame["GLOBALEVENTID"] = (500_000_000 + np.arange(n)).astype(str)
    frame["SQLDATE"] = day.strftime("%Y%m%d")
    frame["MonthYear"] = day.strftime("%Y%m")
    frame["Year"] = day.strftime("%Y")
    frame["Actor1Name"] = rng.choice(["ISLAMIC STATE", "MILITARY", "POLICE"], n)
    frame["IsRootEvent"] = rng.choice(["0", "1"], n)
    frame["EventCode"] = rng.choice(["190", "193", "180", "042"], n)
    frame["EventBaseCode"] = frame["EventCode"]
    frame["EventRootCode"] = frame["EventCode"].str[:2]
    frame["QuadClass"] = rng.choice(["1", "4"], n)
    frame["NumMentions"] = rng.integers(1, 20, n).astype(str)
    frame["NumSources"] = rng.integers(1, 4, n).astype(str)
    frame["NumArticles"] = rng.integers(1, 20, n).astype(str)
    frame["ActionGeo_Type"] = kind.astype(str)
    frame["ActionGeo_CountryCode"] = country
    frame["ActionGeo_ADM1Code"] = np.where(kind == 1, country, division)
    frame["DATEADDED"] = day.strftime("%Y%m%d") + "120000"
    outlet = rng.choice(["www.aljazeera.com", "reuters.com", "rudaw.net", "sana.sy"], n)
    frame["SOURCEURL"] = "https://" + outlet + "/news/" + np.arange(n).astype(str)
    return frame


def write_gdelt(path, frame: pd.DataFrame) -> None:
    text = "\n".join("\t".join(map(str, row)) for row in frame.itertuples(index=False))
    path.write_text(text + "\n", encoding="utf-8")


def test_a_gdelt_export_reads_into_canonical_columns(tmp_path):
    frame = gdelt_rows(200)
    frame.loc[0, ["ActionGeo_Type", "ActionGeo_CountryCode", "ActionGeo_ADM1Code"]] = [
        "4",
        "IZ",
        "IZ01",
    ]
    frame.loc[1, ["ActionGeo_Type", "ActionGeo_CountryCode", "ActionGeo_ADM1Code"]] = [
        "1",
        "SY",
        "SY",
    ]
    frame.loc[2, "SOURCEURL"] = "https://www.aljazeera.com/a?b=1"
    path = tmp_path / "20160101.export.CSV"
    write_gdelt(path, frame)
    assert detect_format(path) == "gdelt" and "gdelt" in FORMATS
    inc = trends.read(path)
    data = inc.data
    assert len(data) == 200 and inc.ledger["rows"].sum() == 200
    assert data.loc[0, "region"] != "" and data.loc[0, "country"] == "Iraq"
    assert data.loc[0, "location_precision"] == "exact"
    assert data.loc[1, "location_precision"] == "country" and data.loc[1, "region"] == "(unknown)"
    assert data.loc[2, "sources"] == "aljazeera.com"
    assert data["date_start"].min() >= pd.Timestamp("2016-01-01")
    for column in ("IsRootEvent", "EventRootCode", "QuadClass", "NumArticles"):
        assert column in data.columns
    assert data["n_sources"].between(1, 3).all()
    cells = trends.count(inc, period="month")
    assert cells["count"].sum() == 200
    assert set(cells["top_source"].dropna()) <= {
        "aljazeera.com",
        "reuters.com",
        "rudaw.net",
        "sana.sy",
    }


def test_fips_names_cover_iraq_and_syria():
    from trends.readers.gdelt import fips_names

    countries, adm1 = fips_names()
    assert countries["IZ"] == "Iraq" and countries["SY"] == "Syria"
    assert sum(code.startswith("IZ") for code in adm1) == 18
    assert sum(code.startswith("SY") for code in adm1) == 14


def test_places_outside_iraq_and_syria_are_named(tmp_path):
    import duckdb

    frame = gdelt_rows(6, seed=4)
    places = [
        ("AF", "AF13", "Afghanistan", "Kabol"),
        ("SO", "SO02", "Somalia", "Banaadir"),
        ("NI", "NI27", "Nigeria", "Borno"),
        ("YM", "YM25", "Yemen", "Ta‘izz"),
        ("ML", "ML10", "Mali", "Kidal"),
        ("XX", "XX99", "XX", "XX99"),  # a code the table lacks is kept
    ]
    for row, (country, division, _, _) in enumerate(places):
        frame.loc[row, ["ActionGeo_Type", "ActionGeo_CountryCode", "ActionGeo_ADM1Code"]] = [
            "5",
            country,
            division,
        ]
    path = tmp_path / "elsewhere.export.CSV"
    write_gdelt(path, frame)
    data = trends.read_gdelt(path).data
    expected = [[country, region] for _, _, country, region in places]
    assert data[["country", "region"]].values.tolist() == expected
    rel = duckdb.read_csv(str(path), delimiter="\t", header=False, all_varchar=True, quotechar="")
    lazy = trends.read_gdelt(rel).df()
    assert lazy[["country", "region"]].values.tolist() == expected


def test_a_short_record_and_a_bad_date_are_refused(tmp_path):
    frame = gdelt_rows(5)
    path = tmp_path / "short.CSV"
    write_gdelt(path, frame)
    lines = path.read_text().splitlines()
    lines[3] = "\t".join(lines[3].split("\t")[:40])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(trends.errors.FormatError, match="row 4"):
        trends.read(path, format="gdelt")
    frame.loc[2, "SQLDATE"] = "20161345"
    write_gdelt(path, frame)
    with pytest.raises(trends.errors.DateError, match="row 3, column 'SQLDATE'"):
        trends.read(path, format="gdelt")


def test_rates_per_1000_events_of_all_kinds(tmp_path):
    frame = gdelt_rows(3000, seed=3)
    path = tmp_path / "all.export.CSV"
    write_gdelt(path, frame)
    everything = trends.read(path)
    fights = everything.data[everything.data["EventRootCode"] == "19"]
    subset = trends.Incidents(fights.reset_index(drop=True), everything.ledger, everything.source)
    cells = trends.count(subset, period="quarter", baseline=everything)
    assert (cells["events_all"] >= cells["count"]).all()
    assert cells["events_all"].sum() == 3000
    table = trends.rates(cells, per="1000 events")
    expected = cells["count"] / cells["events_all"] * 1000
    assert table["rate"].to_numpy() == pytest.approx(expected.to_numpy())
    assert (table["rate_low"] <= table["rate"]).all() and table["rate_unit"].iloc[0].startswith(
        "per 1,000 events"
    )
    with pytest.raises(trends.errors.TrendsError, match="events_all"):
        trends.rates(trends.count(subset, period="quarter"), per="1000 events")


def _same_cells(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_a_gdelt_export_counted_in_duckdb_gives_the_readers_cells(tmp_path):
    import duckdb

    frame = gdelt_rows(500, seed=7)
    frame.loc[3, "SOURCEURL"] = "HTTPS://WWW.Example.com:8080/a"
    path = tmp_path / "x.export.CSV"
    write_gdelt(path, frame)
    reference = trends.count(trends.read_gdelt(path), period="month")
    rel = duckdb.read_csv(str(path), delimiter="\t", header=False, all_varchar=True, quotechar="")
    other = trends.count(trends.read_gdelt(rel), period="month")
    _same_cells(reference, other)


@pytest.mark.spark
def test_a_gdelt_export_counted_on_spark_gives_the_readers_cells(spark, tmp_path):
    frame = gdelt_rows(500, seed=8)
    path = tmp_path / "y.export.CSV"
    write_gdelt(path, frame)
    reference = trends.count(trends.read_gdelt(path), region="region", period="quarter")
    on_spark = spark.read.csv(str(path), sep="\t", header=False)
    other = trends.count(trends.read_gdelt(on_spark), region="region", period="quarter")
    _same_cells(reference, other)
