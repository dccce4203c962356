"""Outlet names as integer codes on the Parquet route (trends.counting.outlets)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import trends
from trends.counting.outlets import outlet_codes


def test_codes_rank_names_in_code_point_order_once_per_list():
    lists = pa.array(["b;a", "é;Z", "a;a", None, "b;a", "Z"])
    codes = outlet_codes(lists)
    assert codes.names.tolist() == ["Z", "a", "b", "é"]  # code-point order, as sorted()
    pairs = codes.pairs.to_pandas()
    got = sorted(zip(pairs["raw"], pairs["code"], strict=True))
    assert got == [("Z", 0), ("a;a", 1), ("b;a", 1), ("b;a", 2), ("é;Z", 0), ("é;Z", 3)]
    assert codes.repeats  # "a;a" names one outlet twice


def test_no_repeats_noted():
    assert not outlet_codes(pa.array(["x;y", "y", None])).repeats
    empty = outlet_codes(pa.array([None, None], pa.string()))
    assert len(empty.names) == 0 and empty.pairs.num_rows == 0


def test_parquet_route_mix_matches_the_frame_route(tmp_path):
    frame = pd.DataFrame(
        {
            "event_id": [str(i) for i in range(6)],
            "date_start": pd.to_datetime(["2020-01-02"] * 4 + ["2020-02-03"] * 2),
            "country": ["C"] * 6,
            "region": ["R"] * 6,
            "sources": ["b;a", "é;Z", "a;a", None, "Z", "b"],
        }
    )
    path = tmp_path / "incidents.parquet"
    frame.to_parquet(path, index=False)
    by_path = trends.count(path)
    by_frame = trends.count(frame)
    pd.testing.assert_frame_equal(by_path, by_frame)
    jan = by_path.iloc[0]
    assert json.loads(jan["source_counts"]) == {"Z": 1.0, "a": 2.0, "b": 1.0, "é": 1.0}
    assert list(json.loads(jan["source_counts"])) == ["Z", "a", "b", "é"]
    assert jan["top_source"] == "a" and jan["n_sources"] == 4.0


def test_the_source_mix_in_blocks_gives_the_same_cells(monkeypatch):
    """The JSON of the mix is made block by block (whole cells at a time); a block of a
    few rows, cutting the cells at every possible place, gives what one block gives."""
    from trends.counting import assemble

    frame = trends.datasets.simulate(seed=5, months=18).data
    whole = trends.count(frame, span="split")
    for rows in (1, 2, 7):
        monkeypatch.setattr(assemble, "MIX_BLOCK_ROWS", rows)
        pd.testing.assert_frame_equal(trends.count(frame, span="split"), whole)
    assert whole["source_counts"].notna().sum() > 50


@pytest.mark.parametrize("span", ["start", "split"])
def test_outlets_grouped_by_duckdb_or_added_up_by_source_mix_agree(monkeypatch, tmp_path, span):
    """Few parts: DuckDB hands back a row per part and outlet; many: it groups them by
    cell, outlet and length first. The cells are the same bits either way, split
    weights too."""
    from trends.counting import sql

    frame = trends.datasets.simulate(seed=11, months=24).data
    days = np.random.default_rng(0).integers(0, 45, len(frame))
    frame["date_end"] = frame["date_start"] + pd.to_timedelta(days, unit="D")
    path = tmp_path / "spans.parquet"
    frame.to_parquet(path, index=False)
    for source in (frame, path):  # outlet names, and outlet codes (a Parquet file)
        ungrouped = trends.count(source, span=span)
        monkeypatch.setattr(sql, "UNGROUPED_OUTLET_PARTS", 0)
        grouped = trends.count(source, span=span)
        monkeypatch.undo()
        pd.testing.assert_frame_equal(ungrouped, grouped, check_exact=True)
    assert ungrouped["source_counts"].notna().sum() > 50
