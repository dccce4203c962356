"""The FIPS 10-4 table (datasets/fips10_4_adm1.csv) and the script that writes it."""

from __future__ import annotations

import importlib.util
import unicodedata

import pandas as pd
import pytest

from trends.registry import data_dir

#: Iraq and Syria as FIPS 10-4 names them, checked against efele.net's fips-414.txt
#: (through datasets/fips-10-4) and MaxMind's regionName.c (maxmind/geoip-api-c);
#: GeoNames' admin1CodesASCII.txt gives the same divisions under these codes.
IRAQ = {
    "IZ01": "Al Anbar",
    "IZ02": "Al Basrah",
    "IZ03": "Al Muthanna",
    "IZ04": "Al Qadisiyah",
    "IZ05": "As Sulaymaniyah",
    "IZ06": "Babil",
    "IZ07": "Baghdad",
    "IZ08": "Dahuk",
    "IZ09": "Dhi Qar",
    "IZ10": "Diyala",
    "IZ11": "Arbil",
    "IZ12": "Karbala'",
    "IZ13": "At Ta'mim",
    "IZ14": "Maysan",
    "IZ15": "Ninawa",
    "IZ16": "Wasit",
    "IZ17": "An Najaf",
    "IZ18": "Salah ad Din",
}
SYRIA = {
    "SY01": "Al Hasakah",
    "SY02": "Al Ladhiqiyah",
    "SY03": "Al Qunaytirah",
    "SY04": "Ar Raqqah",
    "SY05": "As Suwayda'",
    "SY06": "Dar`a",  # FIPS writes the ayn as a grave accent (MaxMind's copy stops at it)
    "SY07": "Dayr az Zawr",
    "SY08": "Rif Dimashq",
    "SY09": "Halab",
    "SY10": "Hamah",
    "SY11": "Hims",
    "SY12": "Idlib",
    "SY13": "Dimashq",
    "SY14": "Tartus",
}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_csv(data_dir() / "fips10_4_adm1.csv", dtype="string", keep_default_na=False)


def _divisions(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["adm1_code"] != ""]


def test_the_table_has_one_row_per_country_and_unique_codes(table):
    assert list(table.columns) == ["country_code", "country", "adm1_code", "adm1_name"]
    countries = table[table["adm1_code"] == ""]
    assert countries["country_code"].is_unique and len(countries) == 269
    divisions = _divisions(table)
    assert divisions["adm1_code"].is_unique and len(divisions) == 3879
    assert (divisions["adm1_code"].str.len() == 4).all()
    assert (divisions["adm1_code"].str[:2] == divisions["country_code"]).all()
    assert set(divisions["country_code"]) <= set(countries["country_code"])
    # one name per country code, on its divisions' rows as on its own
    assert (table.groupby("country_code")["country"].nunique() == 1).all()


def test_names_are_clean_and_unique_within_a_country(table):
    divisions = _divisions(table)
    for name in pd.concat([divisions["adm1_name"], table["country"]]):
        assert name and name == name.strip(), repr(name)
        assert not any(unicodedata.category(ch) == "Cc" for ch in name), repr(name)
        assert name[0] not in "=+-@", repr(name)  # nothing a spreadsheet reads as a formula
    assert not divisions.duplicated(["country_code", "adm1_name"]).any()


def test_iraq_and_syria_are_the_checked_names(table):
    divisions = _divisions(table)
    got = dict(zip(divisions["adm1_code"], divisions["adm1_name"], strict=True))
    assert {c: n for c, n in got.items() if c[:2] == "IZ"} == IRAQ
    assert {c: n for c, n in got.items() if c[:2] == "SY"} == SYRIA
    names = dict(zip(table["country_code"], table["country"], strict=False))
    assert names["IZ"] == "Iraq" and names["SY"] == "Syria"


@pytest.mark.parametrize(
    ("code", "country", "name"),
    [
        ("AF13", "Afghanistan", "Kabol"),
        ("AF10", "Afghanistan", "Helmand"),
        ("AF23", "Afghanistan", "Kandahar"),
        ("SO02", "Somalia", "Banaadir"),
        ("SO08", "Somalia", "Jubbada Dhexe"),
        ("NI27", "Nigeria", "Borno"),
        ("NI05", "Nigeria", "Lagos"),
        ("YM25", "Yemen", "Ta‘izz"),
        ("YM08", "Yemen", "Al Hudaydah"),
        ("ML09", "Mali", "Gao"),
        ("ML10", "Mali", "Kidal"),
        # corrected (datasets/make_fips10_4.py)
        ("BU52", "Bulgaria", "Razgrad"),
        ("KZ02", "Kazakhstan", "Almaty (city)"),
        ("KZ01", "Kazakhstan", "Almaty"),
    ],
)
def test_spot_checks_against_the_source(table, code, country, name):
    row = table[table["adm1_code"] == code]
    assert row[["country", "adm1_name"]].values.tolist() == [[country, name]]


def test_names_the_source_mangled_are_left_out(table):
    """The source joined these names to their English names or lost their commas: the
    divisions are left out (GDELT records keep the code), the countries kept."""
    assert not table["adm1_code"].isin(["IS06", "UP12", "UKX1", "CM04"]).any()
    countries = table[table["adm1_code"] == ""].set_index("country_code")["country"]
    assert countries["BF"] == "Bahamas" and countries["KN"].startswith("Korea")


def _script():
    spec = importlib.util.spec_from_file_location("make_fips10_4", data_dir() / "make_fips10_4.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_cleans_the_source_rows():
    script = _script()
    source = "\n".join(
        [
            "region_code,region_division,region_name",
            "AF00,country,AFGHANISTAN",
            "AF09,province velayat,Ghowr  Ghor",
            "ET00,country,ETHIOPIA",
            "ET53,state kilil,\x7fTigray",
            "IV00,country,COTE D'IVOIRE",
            "KZ00,country,KAZAKHSTAN",
            "KZ01,oblast oblysy,Almaty",
            "KZ02,city qalasy,Almaty",
            "BU00,country,BULGARIA",
            "BU52,province oblast,Ruse",
            "UP00,country,UKRAINE",
            "UP12,city misto,Kyyiv Misto",
            "BF00,country,BAHAMAS THE",
            "BF05,district,Bimini",
        ]
    )
    lines = script.build(source).splitlines()
    assert lines == [
        "country_code,country,adm1_code,adm1_name",
        "AF,Afghanistan,,",
        "AF,Afghanistan,AF09,Ghowr",
        "BF,Bahamas,,",
        "BF,Bahamas,BF05,Bimini",
        "BU,Bulgaria,,",
        "BU,Bulgaria,BU52,Razgrad",
        "ET,Ethiopia,,",
        "ET,Ethiopia,ET53,Tigray",
        "IV,Cote d'Ivoire,,",
        "KZ,Kazakhstan,,",
        "KZ,Kazakhstan,KZ01,Almaty",
        "KZ,Kazakhstan,KZ02,Almaty (city)",
        "UP,Ukraine,,",
    ]
    with pytest.raises(ValueError, match="BU52"):
        script.build(source.replace("BU52,province oblast,Ruse", "BU52,province oblast,Rus"))
    with pytest.raises(ValueError, match="XX"):
        script.build(source + "\nXX01,province,Orphan")
