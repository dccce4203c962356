"""read_icews(): ICEWS event files in the published layout (files made here)."""

from __future__ import annotations

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
