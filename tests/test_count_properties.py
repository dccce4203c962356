"""Properties of count(), checked on random incident sets (hypothesis)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trends

REGIONS = ["Anbar", "Nineveh", "Basra", "Homs"]

incident = st.fixed_dictionaries(
    {
        "offset": st.integers(0, 729),
        "length": st.integers(0, 60),
        "region": st.sampled_from([*REGIONS, None]),
        "n_sources": st.one_of(st.none(), st.integers(1, 4)),
    }
)


def _frame(rows: list[dict]) -> pd.DataFrame:
    start = pd.Timestamp("2020-01-01") + pd.to_timedelta([r["offset"] for r in rows], unit="D")
    return pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(len(rows))],
            "date_start": start,
            "date_end": start + pd.to_timedelta([r["length"] for r in rows], unit="D"),
            "country": "Iraq",
            "region": [r["region"] for r in rows],
            "n_sources": pd.array([r["n_sources"] for r in rows], dtype="Int64"),
        }
    )


settings.register_profile(
    "count", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@settings(settings.get_profile("count"))
@given(
    rows=st.lists(incident, min_size=1, max_size=40),
    period=st.sampled_from(["week", "month", "quarter", "year"]),
)
def test_every_incident_is_counted_exactly_once(rows, period):
    inc = trends.read_incidents(_frame(rows))
    for span in ("start", "split"):
        cells = trends.count(inc, period=period, span=span)
        assert cells["count"].sum() == pytest.approx(len(rows))
        assert sum(cells.attrs["ledger"].values()) == len(rows)
        assert cells.groupby("region")["period"].count().nunique() == 1  # a full grid


@settings(settings.get_profile("count"))
@given(rows=st.lists(incident, min_size=1, max_size=40), seed=st.integers(0, 2**16))
def test_row_order_changes_nothing(rows, seed):
    frame = _frame(rows)
    shuffled = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    a = trends.count(trends.read_incidents(frame), period="month")
    b = trends.count(trends.read_incidents(shuffled), period="month")
    pd.testing.assert_frame_equal(a, b)
