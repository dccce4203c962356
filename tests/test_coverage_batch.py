"""assess_windows, and assess_window's fast path for cells already checked: the same
judgement (status and reasons) as checking each window's cells with as_cells and
assessing region by region, on simulated, demo and real (Syria) cells."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import trends
from trends.cells import as_cells
from trends.coverage_model import (
    STATUSES,
    assess_window,
    assess_windows,
    exact_relative_width,
    mix_rules,
)
from trends.errors import CellsError, TrendsError
from trends.testing import cells_strategy

FAST = settings(max_examples=30, deadline=None)


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    """Demo cells with every source column; some cells uncovered, counts fractional
    in one region (as span="split" makes them)."""
    cells = trends.count(trends.datasets.simulate(months=48))
    first = cells["region"] == cells["region"].iloc[0]
    cells.loc[first & (cells["period"] < "2019-07"), "count"] = np.nan
    frac = cells["region"] == cells["region"].unique()[3]
    for col in ("count", "events", "events_single_source"):
        cells.loc[frac, col] = cells.loc[frac, col] * 0.37
    return cells


def unchecked(cells: pd.DataFrame) -> pd.DataFrame:
    """The same cells in another row order with object columns and no attrs, so that
    assess_window has to check them with as_cells."""
    out = cells.sample(frac=1.0, random_state=1).astype({"region": object, "period": object})
    out.attrs = {}
    return out


def per_region(cells: pd.DataFrame, **kw) -> dict[str, tuple[str, list[str]]]:
    """assess_window of each region's cells, the way trend() used to call it."""
    baseline = kw.pop("baseline", None)
    tested = kw.pop("tested_count", None)
    phi = kw.pop("dispersion", None)
    out = {}
    for region, g in cells.groupby("region", sort=True):
        extra = dict(kw)
        if baseline is not None:
            extra["baseline"] = baseline[baseline["region"] == region]
        if tested is not None:
            extra["tested_count"] = tested[region]
        if phi is not None:
            extra["dispersion"] = phi[region]
        out[str(region)] = assess_window(unchecked(g), **extra)
    return out


def as_dict(table: pd.DataFrame) -> dict[str, tuple[str, list[str]]]:
    return {
        r: (s, list(why))
        for r, s, why in zip(table["region"], table["status"], table["reasons"], strict=True)
    }


# --------------------------------------------------------------------- same judgement


@pytest.mark.parametrize("rules", ["default", "strict", "lenient", "nchs"])
def test_assess_windows_equals_assess_window_per_region(demo, rules):
    assert as_dict(assess_windows(demo, rules=rules)) == per_region(demo, rules=rules)


def test_assess_windows_with_tested_counts_dispersion_and_baseline(demo):
    before = demo[demo["period"] < "2021-01"]
    after = demo[demo["period"] >= "2021-01"]
    regions = pd.unique(demo["region"])
    rng = np.random.default_rng(3)
    tested = pd.Series(rng.integers(0, 80, len(regions)).astype(float), index=regions)
    phi = pd.Series(rng.uniform(0.5, 6.0, len(regions)), index=regions)
    got = assess_windows(after, tested_count=tested, dispersion=phi, baseline=before)
    want = per_region(after, tested_count=tested, dispersion=phi, baseline=before)
    assert as_dict(got) == want
    assert {s for s, _ in want.values()} >= {"adequate", "thin"}


def test_windows_of_checked_cells_are_judged_as_after_a_full_check(demo):
    g = demo[demo["region"] == demo["region"].iloc[0]]
    for lo, hi in ((0, 48), (0, 6), (3, 20), (10, 48), (47, 48)):
        w, base = g.iloc[lo:hi], g.iloc[:lo]
        assert assess_window(w) == assess_window(unchecked(w))
        if lo:
            assert assess_window(w, baseline=base, dispersion=2.5) == assess_window(
                unchecked(w), baseline=unchecked(base), dispersion=2.5
            )


@FAST
@given(cells=cells_strategy(max_regions=3, max_periods=12), data=st.data())
def test_plain_frames_fast_or_checked_agree(cells, data):
    out = data.draw(st.lists(st.booleans(), min_size=len(cells), max_size=len(cells)))
    cells.loc[np.asarray(out), "count"] = np.nan
    checked = as_cells(cells)
    want = per_region(checked)
    assert as_dict(assess_windows(cells)) == want
    assert as_dict(assess_windows(checked)) == want
    for region, g in checked.groupby("region"):
        assert assess_window(g) == want[region]


def test_real_data_syria(ucdp_dir):
    inc = trends.read_ucdp_ged(ucdp_dir / "ged_syria_652_1601_1911.csv")
    cells = trends.count(inc)
    assert as_dict(assess_windows(cells)) == per_region(cells)
    after = cells[cells["period"] >= "2018-01"]
    before = cells[cells["period"] < "2018-01"]
    assert as_dict(assess_windows(after, baseline=before)) == per_region(after, baseline=before)


# --------------------------------------------------------------------- trend's gate


def halves_reference(g: pd.DataFrame, status: str, reasons: list[str]) -> tuple[str, list[str]]:
    """The rule of trend()'s _halves_mix, one series at a time with assess_window."""
    covered = g[g["count"].notna()]
    if "source_counts" not in g or covered["source_counts"].isna().all() or len(covered) < 4:
        return status, reasons
    mix_only = mix_rules("default")
    half = len(covered) // 2
    st_, why = assess_window(covered.iloc[half:], baseline=covered.iloc[:half], rules=mix_only)
    if st_ == "adequate":
        return status, reasons
    worse = max(status, st_, key=STATUSES.index)
    return worse, [*reasons, *(f"second half against the first: {r}" for r in why)]


def silenced_cells() -> pd.DataFrame:
    """One series whose main outlet stops halfway, one whose outlets keep sharing."""
    rows = []
    for i in range(24):
        total = 60 - 1.5 * i
        mixes = {
            "silenced": {"Main": 0.8 * total, "Local": 0.2 * total} if i < 12 else {"Local": total},
            "real": {"Main": 0.8 * total, "Local": 0.2 * total},
        }
        for region, mix in mixes.items():
            rows.append(
                {
                    "region": region,
                    "period": f"{2016 + i // 12}-{i % 12 + 1:02d}",
                    "count": round(total),
                    "n_sources": len(mix),
                    "source_counts": json.dumps({k: round(v) for k, v in sorted(mix.items())}),
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("which", ["demo", "silenced"])
def test_trend_gate_equals_assess_window_per_series(demo, which):
    cells = demo if which == "demo" else silenced_cells()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = trends.trend(cells)
    checked = as_cells(cells)
    for _, row in res.iterrows():
        g = checked[checked["region"] == row["region"]]
        disp = row["dispersion"]
        phi = max(float(disp), 1.0) if disp > 0 else 1.0
        status, reasons = halves_reference(g, *assess_window(g, dispersion=phi))
        assert row["coverage"] == status, row["region"]
        assert row["coverage_reasons"] == "; ".join(reasons), row["region"]
    if which == "silenced":
        reasons = res.set_index("region").loc["silenced", "coverage_reasons"]
        assert "second half against the first: source mix changed" in reasons


# --------------------------------------------------------------------- pieces and errors


def test_exact_relative_width_is_garwoods_interval_from_scipy():
    for events in (0.3, 1.0, 7.0, 10.0, 19.5, 250.0, 1e5):
        for level in (0.9, 0.95, 0.99):
            a = 1 - level
            low = stats.gamma.ppf(a / 2, events)
            high = stats.gamma.ppf(1 - a / 2, events + 1)
            assert exact_relative_width(events, level) == (high - low) / events
    assert exact_relative_width(0.0) == np.inf


def test_result_columns(demo):
    out = assess_windows(demo)
    assert list(out.columns[:5]) == ["region", "status", "reasons", "n_cells", "n_uncovered"]
    assert "relative_width" in out.columns and "n_sources_change" in out.columns
    assert out["region"].tolist() == sorted(pd.unique(demo["region"]))
    first = out.iloc[0]
    assert first["n_cells"] == 48 and first["n_uncovered"] == 6


def test_checked_looking_frames_with_bad_values_still_raise(demo):
    g = demo[demo["region"] == demo["region"].iloc[1]].reset_index(drop=True)
    negative = g.copy()
    negative.loc[3, "count"] = -1.0
    with pytest.raises(CellsError, match="negative"):
        assess_window(negative)
    twice = pd.concat([g, g.iloc[[5]]]).sort_values("period", kind="stable")
    with pytest.raises(CellsError, match="twice"):
        assess_window(twice)
    no_region = g.copy()
    no_region.loc[2, "region"] = pd.NA
    with pytest.raises(CellsError, match="region"):
        assess_window(no_region)
    bad_label = g.copy()
    bad_label.attrs = {}
    bad_label.loc[2, "period"] = "2019-13"
    with pytest.raises(TrendsError, match="2019-13"):
        assess_window(bad_label)
    with pytest.raises(CellsError, match="DataFrame"):
        assess_windows([1, 2])


def test_bad_per_region_values_raise(demo):
    regions = pd.unique(demo["region"])
    with pytest.raises(TrendsError, match="no value for region"):
        assess_windows(demo, dispersion=pd.Series(1.0, index=regions[:2]))
    with pytest.raises(TrendsError, match="dispersion"):
        assess_windows(demo, dispersion=pd.Series(-1.0, index=regions))
    with pytest.raises(TrendsError, match="dispersion"):
        assess_windows(demo, dispersion=0)
