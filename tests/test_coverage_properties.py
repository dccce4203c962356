"""Properties of the coverage model (hypothesis): more of the same evidence never
hurts, names and row order do not matter, presets are ordered, one cell is judged
the same way alone or in a table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from trends.coverage_model import STATUSES, assess_window, coverage

RANK = {s: i for i, s in enumerate(STATUSES)}
OUTLETS = ("SOHR", "SANA", "AFP", "Reuters")
MONTHS = [f"2017-{m:02d}" for m in range(1, 13)]
COUNT_COLUMNS = (
    "count",
    "events",
    "events_unknown_sources",
    "events_single_source",
    "events_coarse_location",
    "events_coarse_date",
    "top_source_events",
)


@st.composite
def cell_tables(draw) -> pd.DataFrame:
    """Small cell tables with every optional measure, some unknown, some uncovered."""
    n_regions = draw(st.integers(1, 3))
    n_months = draw(st.integers(1, 8))
    named = draw(st.booleans())  # does the data set name its outlets?
    rows = []
    for r in range(n_regions):
        for p in range(n_months):
            covered = draw(st.booleans()) if p == 0 else True
            row = {"region": f"R{r}", "period": MONTHS[p], "covered": covered}
            if not covered:
                row["count"] = np.nan
                rows.append(row)
                continue
            mix = {
                o: v
                for o in OUTLETS
                if (v := draw(st.integers(0, 30) if draw(st.booleans()) else st.just(0))) > 0
            }
            events = float(sum(mix.values()))
            top = max(sorted(mix), key=lambda k: mix[k]) if mix else None
            row |= {
                "count": events,
                "events": events,
                "events_unknown_sources": float(draw(st.integers(0, int(events)))),
                "events_single_source": 0.0,
                "events_coarse_location": float(draw(st.integers(0, int(events)))),
                "events_coarse_date": float(draw(st.integers(0, int(events)))),
                "n_sources": float(len(mix)),
                "top_source": top,
                "top_source_events": float(mix[top]) if top else 0.0,
                "source_counts": json.dumps(mix, sort_keys=True) if named else None,
            }
            known = events - row["events_unknown_sources"]
            row["events_single_source"] = float(draw(st.integers(0, int(known))))
            rows.append(row)
    return pd.DataFrame(rows)


def scaled(cells: pd.DataFrame, k: int) -> pd.DataFrame:
    """Every count times ``k``, each cell's source mix kept."""
    out = cells.copy()
    for col in COUNT_COLUMNS:
        if col in out.columns:
            out[col] = out[col] * k
    if "source_counts" in out.columns:
        out["source_counts"] = [
            json.dumps({s: n * k for s, n in json.loads(v).items()}) if isinstance(v, str) else None
            for v in cells["source_counts"]
        ]
    return out


def ranks(table: pd.DataFrame) -> np.ndarray:
    return table["status"].map(RANK).to_numpy()


FAST = settings(max_examples=25, deadline=None)


@FAST
@given(cell_tables(), st.integers(2, 6), st.sampled_from([1.0, 3.5]))
def test_more_of_the_same_never_worsens_a_status(cells, k, dispersion):
    """Against no baseline, k times the events from the same outlets never makes a cell's
    reporting worse. (Against a baseline it can, rightly: an outlet's silence over more
    reports is less likely to be chance.)"""
    before = coverage(cells, dispersion=dispersion)
    after = coverage(scaled(cells, k), dispersion=dispersion)
    assert (ranks(after) <= ranks(before)).all()


@FAST
@given(cell_tables(), st.integers(2, 6))
def test_more_of_the_same_makes_silence_no_less_significant(cells, k):
    base = ("2017-01", "2017-02")
    before = coverage(cells, baseline=base)["silent_source_share"].fillna(0).to_numpy()
    after = coverage(scaled(cells, k), baseline=base)["silent_source_share"].fillna(0).to_numpy()
    assert (after >= before - 1e-12).all()


@FAST
@given(cell_tables(), st.randoms(use_true_random=False))
def test_relabelling_regions_and_shuffling_rows_change_nothing(cells, rnd):
    expected = coverage(cells, baseline=("2017-01", "2017-01"))
    names = sorted(cells["region"].unique())
    new = [f"region {c}" for c in "ZYXW"[: len(names)]]
    rnd.shuffle(new)
    rename = dict(zip(names, new, strict=True))
    order = list(range(len(cells)))
    rnd.shuffle(order)
    shuffled = cells.iloc[order].assign(region=lambda d: d["region"].map(rename))
    got = coverage(shuffled, baseline=("2017-01", "2017-01"))
    got = got.assign(region=got["region"].map({v: k for k, v in rename.items()}))
    got = got.sort_values(["region", "period"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


@FAST
@given(cell_tables())
def test_presets_are_ordered(cells):
    lenient = ranks(coverage(cells, rules="lenient", dispersion=1.0))
    default = ranks(coverage(cells, dispersion=1.0))
    strict = ranks(coverage(cells, rules="strict", dispersion=1.0))
    nchs = ranks(coverage(cells, rules="nchs", dispersion=1.0))
    assert (lenient <= default).all() and (default <= strict).all() and (nchs <= default).all()


@FAST
@given(cell_tables(), st.sampled_from([1.0, 2.0]))
def test_a_cell_alone_is_judged_as_in_the_table(cells, dispersion):
    table = coverage(cells, dispersion=dispersion)
    for i in range(min(len(cells), 4)):
        one = cells.iloc[[i]]
        row = table[
            (table["region"] == one["region"].iloc[0]) & (table["period"] == one["period"].iloc[0])
        ]
        status, reasons = assess_window(one, dispersion=dispersion)
        assert status == row["status"].iloc[0]
        if status != "uncovered":  # alone, a cell cannot tell where coverage starts
            assert reasons == row["reasons"].iloc[0]


@FAST
@given(cell_tables())
def test_uncovered_exactly_outside_coverage(cells):
    out = coverage(cells)
    assert ((out["status"] == "uncovered") == ~out["covered"]).all()
    assert (
        out["reasons"]
        .map(lambda r: isinstance(r, list) and all(isinstance(x, str) for x in r))
        .all()
    )
