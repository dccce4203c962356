"""ACLED and GTD exports (small files written here in their published column layouts)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import trends
from trends.errors import DateError, FormatError, InputError
from trends.readers import detect_format

ACLED = """event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,country,admin1,admin2,geo_precision,source,fatalities
IRQ1001,2020-01-15,2020,1,Political violence,Explosions/Remote violence,Remote explosive,Islamic State (Iraq),Iraq,Ninewa,Mosul,1,Shafaq News; Rudaw,2
IRQ1002,20 January 2020,2020,2,Political violence,Battles,Armed clash,Islamic State (Iraq),Iraq,Anbar,Ramadi,3,Iraqi News Agency,0
IRQ1003,2020-02-01,2020,3,Political violence,Battles,Armed clash,Military Forces of Iraq,Iraq,Diyala,,2,Shafaq News,1
"""

GTD = """eventid,iyear,imonth,iday,extended,resolution,country_txt,provstate,city,specificity,attacktype1_txt,gname,nkill,nwound
201401010001,2014,1,5,0,,Iraq,Nineveh,Mosul,1,Bombing/Explosion,Islamic State of Iraq and the Levant (ISIL),3,10
201402000001,2014,2,0,0,,Iraq,Anbar,Fallujah,2,Armed Assault,Islamic State of Iraq and the Levant (ISIL),,4
201400000001,2014,0,0,0,,Iraq,Salah ad Din,Unknown,4,Armed Assault,Unknown,1,0
201403100001,2014,3,10,1,2014-03-20,Iraq,Kirkuk,Kirkuk,1,Hostage Taking (Kidnapping),Islamic State of Iraq and the Levant (ISIL),0,0
"""


def test_acled_export(tmp_path):
    path = tmp_path / "acled.csv"
    path.write_text(ACLED, encoding="utf-8")
    assert detect_format(path) == "acled"
    inc = trends.read(path)
    data = inc.data.set_index("event_id")
    assert data.loc["IRQ1002", "date_start"] == pd.Timestamp("2020-01-20")
    assert list(data["date_precision"]) == ["day", "week", "month"]
    assert list(data["location_precision"]) == ["exact", "region", "subregion"]
    assert list(data["region"]) == ["Nīnawá", "Al Anbār", "Diyālá"]
    assert data.loc["IRQ1001", "sources"] == "Shafaq News;Rudaw"
    assert list(data["n_sources"]) == [2, 1, 1]
    assert inc.source.dataset_id == "acled" and "Raleigh" in inc.source.citation
    cells = trends.count(inc, period="month")
    assert cells["count"].sum() == 3


def test_gtd_dates_and_precision(tmp_path):
    path = tmp_path / "gtd.csv"
    path.write_text(GTD, encoding="utf-8")
    assert detect_format(path) == "gtd"
    data = trends.read(path).data.set_index("event_id")
    assert (data.loc["201402000001", "date_start"], data.loc["201402000001", "date_end"]) == (
        pd.Timestamp("2014-02-01"),
        pd.Timestamp("2014-02-28"),
    )
    assert data.loc["201400000001", "date_end"] == pd.Timestamp("2014-12-31")
    assert data.loc["201403100001", "date_end"] == pd.Timestamp("2014-03-20")  # extended
    assert list(data["date_precision"]) == ["day", "month", "year", "day"]
    assert list(data["location_precision"]) == ["exact", "subregion", "region", "exact"]
    assert data["n_sources"].isna().all() and data["sources"].isna().all()  # unknown, not zero
    assert data.loc["201402000001", "fatalities"] != data.loc["201402000001", "fatalities"]  # NaN
    assert data.loc["201401010001", "region"] == "Nīnawá"


def test_bad_acled_and_gtd_rows_are_named(tmp_path):
    path = tmp_path / "acled.csv"
    path.write_text(ACLED.replace("2020-02-01", "first of Feb"), encoding="utf-8")
    with pytest.raises(DateError, match=r"row 3.*'event_date'"):
        trends.read_acled(path)
    path = tmp_path / "gtd.csv"
    path.write_text(GTD.replace("2014,3,10,1", "2014,3,41,1"), encoding="utf-8")
    with pytest.raises(DateError, match=r"row 4.*'iday'"):
        trends.read_gtd(path)
    with pytest.raises(FormatError, match="not an ACLED export"):
        trends.read_acled(path)


# ---------------------------------------------------------------------------- hostile cells

SAMPLES = {
    "ucdp": [
        "id,date_start,date_end,date_prec,where_prec,country,adm_1,number_of_sources,"
        "source_office,best",
        "1,2016-01-05,2016-01-05,1,1,Iraq,Nīnawá province,2,A;B,3",
        "2,2016-02-01,2016-02-03,4,6,Iraq,,1,C,0",
    ],
    "acled": [
        "event_id_cnty,event_date,year,time_precision,event_type,actor1,country,admin1,admin2,"
        "geo_precision,source,fatalities",
        "IRQ1,2020-01-15,2020,1,Battles,IS,Iraq,Ninewa,Mosul,1,Shafaq News; Rudaw,2",
        "IRQ2,20 January 2020,2020,2,Battles,IS,Iraq,Anbar,Ramadi,3,Iraqi News Agency,0",
    ],
    "gtd": [
        "eventid,iyear,imonth,iday,extended,resolution,country_txt,provstate,city,specificity,"
        "attacktype1_txt,gname,nkill",
        "201401010001,2014,1,5,0,,Iraq,Nineveh,Mosul,1,Bombing/Explosion,ISIL,3",
        "201403100001,2014,3,10,1,2014-03-20,Iraq,Kirkuk,Kirkuk,1,Hostage Taking,ISIL,0",
    ],
}
HOSTILE_CELLS = [
    "NULL",
    "nan",
    "\u200b",
    "inf",
    "1e400",
    "-1",
    "1e30",
    "2.5",
    "x" * 1_100,
    '"a\nb, c"',
    "2016-01-06T23:30:00+03:00",
    "1500-01-01",
    "=HYPERLINK(1)",
    "",
    "0",
]


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_every_hostile_cell_in_every_column_is_read_or_refused_with_a_location(tmp_path, fmt):
    lines = SAMPLES[fmt]
    width = len(lines[0].split(","))
    outcomes = set()
    pairs = [
        (c, cell) for c in range(width) for i, cell in enumerate(HOSTILE_CELLS) if (c + i) % 7 == 0
    ]  # a seventh of the grid: every column, every cell
    for column, cell in pairs:
        fields = lines[1].split(",")
        fields[column] = cell
        path = tmp_path / f"{fmt}.csv"
        path.write_text("\n".join([lines[0], ",".join(fields), *lines[2:]]) + "\n", "utf-8")
        try:
            inc = trends.read(path, format=fmt)
        except InputError as exc:
            assert exc.file == str(path), exc
            outcomes.add(type(exc).__name__)
            continue
        assert inc.rows_read == len(lines) - 1 == inc.ledger["rows"].sum()
        assert inc.ledger["rows"].iloc[0] == len(inc.data)
        numbers = inc.data[["fatalities", "fatalities_low", "fatalities_high"]]
        assert not np.isinf(numbers.to_numpy(float)).any()
        outcomes.add("read")
    assert "read" in outcomes and len(outcomes) > 2
