"""The outlet alias table (datasets/sources.csv) and where it is applied."""

from __future__ import annotations

import pandas as pd

import trends
from trends import registry


def test_listed_spellings_become_one_name_and_others_stay():
    assert registry.source_name("Air Wars") == "Airwars"
    assert registry.source_name("AIRWARS") == "Airwars"
    assert registry.source_name("HRW") == "Human Rights Watch"
    assert registry.source_name("@MENASTREAM") == "Menastream"
    assert registry.source_name("El Heraldo de Juarez") == "El Heraldo de Juárez"
    assert registry.source_name("Some Local Paper") == "Some Local Paper"
    assert registry.source_name("The Daily Star") == "The Daily Star"  # two different papers


def test_the_table_lists_each_spelling_for_one_outlet_only():
    table = registry.source_aliases()
    assert list(table.columns) == ["source", "alias"]
    assert not table.duplicated().any()
    keys = {}
    for source, alias in table.itertuples(index=False):
        for spelling in (source, alias):
            key = registry._source_key(spelling)
            assert keys.setdefault(key, source) == source, spelling


def test_readers_merge_outlets_and_keep_the_raw_names():
    frame = pd.DataFrame(
        {
            "event_id": ["1", "2", "3"],
            "date_start": ["2016-01-01", "2016-01-02", "2016-01-03"],
            "region": ["A", "A", "B"],
            "sources": ["Airwars;Air Wars", "HRW; Reuters News", None],
        }
    )
    inc = trends.read_incidents(frame)
    assert inc.data["sources"].tolist()[:2] == ["Airwars", "Human Rights Watch;Reuters"]
    assert inc.data["sources_raw"].tolist()[:2] == ["Airwars;Air Wars", "HRW; Reuters News"]
    assert inc.data["sources"].isna().iloc[2] and inc.data["sources_raw"].isna().iloc[2]
