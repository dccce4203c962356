"""Coverage model: each rule at its threshold, unknown measures, presets, gating."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from trends.coverage_model import (
    PRESETS,
    CoverageRules,
    assess_window,
    coverage,
    estimate_dispersion,
    exact_relative_width,
    resolve_rules,
    source_activity,
)
from trends.errors import CellsError, TrendsError


def cell(count, *, region="A", period="2016-01", mix=None, **extra) -> dict:
    """One cell row; ``mix`` gives source_counts, n_sources, top_source (and events)."""
    row = {"region": region, "period": period, "count": count, **extra}
    if mix is not None:
        row["source_counts"] = json.dumps(mix, sort_keys=True)
        row["n_sources"] = sum(v > 0 for v in mix.values())
        if mix:
            top = max(sorted(mix), key=lambda k: mix[k])
            row["top_source"], row["top_source_events"] = top, mix[top]
    return row


def status_of(rows, **kw) -> tuple[str, list[str]]:
    out = coverage(pd.DataFrame(rows if isinstance(rows, list) else [rows]), dispersion=1, **kw)
    return out["status"].iloc[0], out["reasons"].iloc[0]


MONTHS = [f"2016-{m:02d}" for m in range(1, 13)]
UNK = "number of distinct sources unknown"  # said of cells whose table names no sources


# --------------------------------------------------------------------- exact interval


def test_garwood_width_matches_r():
    # R: poisson.test(10)$conf.int -> 4.79538869613 18.39035604202
    assert exact_relative_width(10) == pytest.approx((18.39035604202 - 4.79538869613) / 10, 1e-9)
    # R: poisson.test(7)$conf.int -> 2.81436305152 14.42267536170
    assert exact_relative_width(7) == pytest.approx((14.42267536170 - 2.81436305152) / 7, 1e-9)
    # R: poisson.test(8)$conf.int -> 3.45383217675 15.76318922019
    assert exact_relative_width(8) == pytest.approx((15.76318922019 - 3.45383217675) / 8, 1e-9)
    assert exact_relative_width(0) == math.inf


# --------------------------------------------------------------------- count rules


def test_min_effective_events_threshold():
    assert status_of(cell(9))[0] == "insufficient"
    assert status_of(cell(9))[1][0] == "9 events, fewer than 10"
    assert status_of(cell(10))[0] == "thin"  # 10 events: thin (< 20), not insufficient


def test_effective_events_use_dispersion():
    rows = pd.DataFrame([cell(30)])
    out = coverage(rows, dispersion=4.0)  # 7.5 effective events
    assert out["status"].iloc[0] == "insufficient"
    assert out["effective_events"].iloc[0] == 7.5
    assert out["reasons"].iloc[0][0] == "7.5 effective events (dispersion 4.00), fewer than 10"
    assert coverage(rows, dispersion=1.0)["status"].iloc[0] == "adequate"


def test_relative_width_threshold():
    # 7 events: width 166% > 160%; 8 events: 154%
    off = {"min_effective_events": None, "min_events": None, "max_rse": None}
    status, reasons = status_of(cell(7), **off)
    assert status == "insufficient"
    assert reasons == ["relative width of the exact interval 166%, above 160%", UNK]
    assert status_of(cell(8), **off)[0] == "adequate"


def test_min_events_threshold():
    assert status_of(cell(19)) == ("thin", ["19 events, fewer than 20", UNK])
    assert status_of(cell(20)) == ("adequate", [UNK])


def test_rse_threshold():
    off = {"min_events": None}
    # 11 events: RSE 30.15% >= 30%; 12 events: 28.9%
    assert status_of(cell(11), **off) == (
        "thin",
        ["relative standard error 30.2%, at least 30%", UNK],
    )
    assert status_of(cell(12), **off)[0] == "adequate"
    # at exactly 30%: 100 events with dispersion 9 -> RSE 0.3 ("30% or more")
    out = coverage(pd.DataFrame([cell(100)]), dispersion=9.0, min_events=None)
    assert out["rse"].iloc[0] == pytest.approx(0.3)
    assert out["status"].iloc[0] in ("thin", "insufficient")


def test_insufficient_count_does_not_repeat_thin_count_reasons():
    status, reasons = status_of(cell(5))
    assert status == "insufficient"
    assert not any("fewer than 20" in r for r in reasons)


# --------------------------------------------------------------------- source rules


def test_single_source_is_thin_and_named():
    assert status_of(cell(50, mix={"SOHR": 50})) == ("thin", ["1 distinct source (SOHR)"])
    assert status_of(cell(50, mix={"SOHR": 45, "SANA": 5}))[0] == "adequate"


def test_single_source_from_n_sources_column_only():
    assert status_of(cell(50, n_sources=1))[0] == "thin"
    assert status_of(cell(50, n_sources=3))[0] == "adequate"


def test_empty_cell_says_no_events_once():
    assert status_of(cell(0, n_sources=0)) == ("insufficient", ["no events"])
    assert status_of(
        cell(0), rules="lenient", min_effective_events=None, max_relative_width=None
    ) == (
        "thin",
        ["no events"],
    )


@pytest.mark.parametrize("column", ["events_coarse_location", "events_coarse_date"])
def test_coarse_share_threshold(column):
    assert status_of(cell(100, events=100, **{column: 50}))[0] == "adequate"
    status, reasons = status_of(cell(100, events=100, **{column: 51}))
    assert status == "thin"
    assert reasons[0].startswith("51% of events")


def test_top_and_single_source_shares():
    row = cell(
        40, events=40, events_single_source=10, events_unknown_sources=20, mix={"X": 30, "Y": 10}
    )
    out = coverage(pd.DataFrame([row]), dispersion=1)
    assert out["top_source"].iloc[0] == "X"
    assert out["top_source_share"].iloc[0] == 0.75
    assert out["single_source_share"].iloc[0] == 0.5  # 10 of the 20 with a known number
    assert out["unknown_sources_share"].iloc[0] == 0.5


# --------------------------------------------------------------------- source mix


def mix_table(base_mix, now_mix):
    return pd.DataFrame(
        [cell(100, period="2016-01", mix=base_mix), cell(100, period="2016-02", mix=now_mix)]
    )


def test_new_sources_share_threshold():
    table = mix_table({"X": 50, "Y": 50}, {"X": 50, "Z": 50})
    out = coverage(table, baseline=("2016-01", "2016-01"), dispersion=1)
    assert out["new_source_share"].iloc[1] == 0.5
    assert out["status"].iloc[1] == "adequate"
    table = mix_table({"X": 50, "Y": 50}, {"X": 30, "Z": 70})
    out = coverage(table, baseline=("2016-01", "2016-01"), dispersion=1)
    assert out["status"].iloc[1] == "thin"
    assert out["reasons"].iloc[1] == [
        "source mix changed: 70% of events from outlets absent in the baseline"
    ]


def test_silent_sources_share_threshold():
    # 70% of the baseline's events came from an outlet that no longer files
    table = mix_table({"MAIN": 70, "A": 15, "B": 15}, {"A": 15, "B": 15})
    out = coverage(table, baseline=("2016-01", "2016-01"), dispersion=1)
    assert out["silent_source_share"].iloc[1] == pytest.approx(0.7)
    assert out["new_source_share"].iloc[1] == 0.0
    assert out["n_sources_change"].iloc[1] == -1
    assert out["status"].iloc[1] == "thin"
    assert "70% of the baseline's events came from outlets now silent" in out["reasons"].iloc[1][0]
    table = mix_table({"MAIN": 50, "A": 25, "B": 25}, {"A": 50, "B": 50})
    out = coverage(table, baseline=("2016-01", "2016-01"), dispersion=1)
    assert out["status"].iloc[1] == "adequate"


def test_baseline_as_cell_table_matches_by_region():
    now = pd.DataFrame([cell(100, region=r, period="2016-02", mix={"Z": 100}) for r in "AB"])
    base = pd.DataFrame([cell(100, region="A", period="2016-01", mix={"Z": 60, "X": 40})])
    out = coverage(now, baseline=base, dispersion=1, min_sources=None)
    assert out["silent_source_share"].tolist()[0] == pytest.approx(0.4)
    assert math.isnan(out["silent_source_share"].tolist()[1])  # no baseline for B


def test_unknown_source_names_say_so_and_do_not_worsen():
    table = pd.DataFrame([cell(100, period="2016-01"), cell(100, period="2016-02")])
    out = coverage(table, baseline=("2016-01", "2016-01"), dispersion=1)
    assert out["status"].tolist() == ["adequate", "adequate"]
    assert "source names unknown: source-mix change not assessed" in out["reasons"].iloc[1]


# --------------------------------------------------------------------- unknown measures


def test_unknown_number_of_sources_is_not_thin():
    # Iraq GED: number_of_sources -1 = unknown; the cell must not look single-source
    row = cell(60, events=60, events_unknown_sources=60, events_single_source=0, n_sources=np.nan)
    status, reasons = status_of(row)
    assert status == "adequate"
    assert reasons == ["number of sources unknown for every event"]
    out = coverage(pd.DataFrame([row]), dispersion=1)
    assert math.isnan(out["single_source_share"].iloc[0])  # 0 of 0 known: unknown, not 0
    row = cell(60, events=60, events_unknown_sources=15, events_single_source=0, n_sources=3)
    assert status_of(row) == ("adequate", ["number of sources unknown for 25% of events"])


def test_bare_cells_rest_on_counts():
    out = coverage(pd.DataFrame([cell(100)]), dispersion=1)
    assert out["status"].iloc[0] == "adequate"
    for col in ("n_sources", "top_source_share", "coarse_location_share", "new_source_share"):
        assert pd.isna(out[col].iloc[0])


# --------------------------------------------------------------------- uncovered


def test_uncovered_cells():
    rows = [cell(np.nan, period=p, covered=False) for p in MONTHS[:2]]
    rows += [cell(30, period=p, covered=True) for p in MONTHS[2:]]
    out = coverage(pd.DataFrame(rows), dispersion=1)
    assert out["status"].tolist()[:3] == ["uncovered", "uncovered", "adequate"]
    assert out["reasons"].iloc[0] == ["outside the data set's coverage (starts 2016-03)"]
    assert out["covered"].tolist()[:3] == [False, False, True]


def test_missing_covered_column_means_covered_and_missing_count_uncovered():
    out = coverage(pd.DataFrame([cell(30), cell(np.nan, period="2016-02")]), dispersion=1)
    assert out["status"].tolist() == ["adequate", "uncovered"]
    assert out["reasons"].iloc[1] == ["outside the data set's coverage (ends 2016-01)"]
    out = coverage(pd.DataFrame([cell(30, covered=pd.NA)]), dispersion=1)
    assert out["status"].iloc[0] == "adequate"


# --------------------------------------------------------------------- presets, overrides


def test_presets_and_overrides():
    row = cell(30, mix={"SOHR": 30})
    assert status_of(row)[0] == "thin"
    assert status_of(row, rules="nchs")[0] == "adequate"  # count rules only
    assert status_of(cell(30, mix={"A": 20, "B": 10}), rules="strict") == (
        "thin",
        ["30 events, fewer than 50", "relative standard error 18.3%, at least 20%"][:1]
        + ["2 distinct sources"],
    )
    assert status_of(cell(12), rules="lenient")[0] == "adequate"
    assert status_of(cell(25), min_events=30)[0] == "thin"
    assert status_of(cell(25), rules={"min_events": 30})[0] == "thin"
    assert status_of(row, min_sources=None)[0] == "adequate"
    assert set(PRESETS) == {"default", "nchs", "strict", "lenient"}
    assert resolve_rules("default") == CoverageRules()


def test_bad_rules_raise_with_valid_choices():
    with pytest.raises(TrendsError, match="'lax'.*'default', 'nchs', 'strict', 'lenient'"):
        resolve_rules("lax")
    with pytest.raises(TrendsError, match="min_event.*valid: min_effective_events"):
        coverage(pd.DataFrame([cell(3)]), min_event=3)
    with pytest.raises(TrendsError, match="max_rse=-0.1"):
        resolve_rules(max_rse=-0.1)
    with pytest.raises(TrendsError, match="dispersion='robust'"):
        coverage(pd.DataFrame([cell(3)]), dispersion="robust")
    with pytest.raises(TrendsError, match="dispersion=0"):
        coverage(pd.DataFrame([cell(3)]), dispersion=0)
    with pytest.raises(CellsError, match="count"):
        coverage(pd.DataFrame({"region": ["A"], "period": ["2016-01"]}))


# --------------------------------------------------------------------- dispersion


def test_dispersion_estimate_by_simulation():
    rng = np.random.default_rng(7)
    trend = 50 * np.exp(np.linspace(0, 1.5, 120))  # strong smooth trend
    poisson = rng.poisson(trend, size=(200, 120))
    est = np.array([estimate_dispersion(y) for y in poisson])
    assert np.median(est) == pytest.approx(1.0, abs=0.05)  # trend does not inflate it
    phi = 4.0  # negative binomial with variance = 4 x mean
    n = trend / (phi - 1)
    nb = rng.negative_binomial(n, n / (n + trend), size=(200, 120))
    est = np.array([estimate_dispersion(y) for y in nb])
    assert np.median(est) == pytest.approx(phi, rel=0.1)
    assert estimate_dispersion(np.array([3.0, 4.0, 5.0])) == 1.0  # too short


def test_auto_dispersion_is_per_region():
    rng = np.random.default_rng(3)
    rows = []
    for region, phi in (("calm", 1.0), ("bursty", 6.0)):
        mu = 100.0
        ys = rng.poisson(mu, 48) if phi == 1 else rng.negative_binomial(20, 20 / 120, 48)
        rows += [
            cell(float(y), region=region, period=f"{2016 + i // 12}-{i % 12 + 1:02d}")
            for i, y in enumerate(ys)
        ]
    assert (coverage(pd.DataFrame(rows))["dispersion"] == 1).all()  # the default
    out = coverage(pd.DataFrame(rows), dispersion="auto")
    phis = out.groupby("region")["dispersion"].first()
    assert phis["calm"] < 1.5
    assert phis["bursty"] > 3
    # year cells: change between years is mostly real, so "auto" is 1
    years = pd.DataFrame([cell(float(y), period=str(2000 + i)) for i, y in enumerate(ys)])
    assert (coverage(years, dispersion="auto")["dispersion"] == 1).all()


# --------------------------------------------------------------------- assess_window, gate


def window(counts, mixes=None, start=0):
    rows = []
    for i, c in enumerate(counts):
        mix = None if mixes is None else mixes[i]
        rows.append(cell(c, period=MONTHS[start + i], mix=mix))
    return pd.DataFrame(rows)


def test_assess_window_applies_count_rules_to_the_tested_total():
    cells = window([5, 6, 7])  # each cell thin, total 18
    assert assess_window(cells) == ("thin", ["18 events, fewer than 20", UNK])
    assert assess_window(cells, tested_count=40) == ("adequate", [UNK])
    status, reasons = assess_window(cells, tested_count=40, dispersion=5)
    assert status == "insufficient"
    assert reasons[0] == "8 effective events (dispersion 5.00), fewer than 10"


def test_assess_window_does_not_credit_underdispersion():
    cells = window([5, 6, 7])
    assert assess_window(cells, dispersion=0.5) == assess_window(cells, dispersion=1.0)


def test_assess_window_pools_sources_of_the_cells():
    # each cell has one outlet, but two different ones: two distinct sources in the window
    cells = window([30, 30], mixes=[{"X": 30}, {"Y": 30}])
    assert assess_window(cells)[0] == "adequate"
    cells = window([30, 30], mixes=[{"SOHR": 30}, {"SOHR": 30}])
    assert assess_window(cells) == ("thin", ["1 distinct source (SOHR)"])
    # without names: one source in every cell, all the same top source -> 1 distinct
    cells = window([30, 30]).assign(n_sources=1, top_source="SOHR")
    assert assess_window(cells) == ("thin", ["1 distinct source (SOHR)"])
    cells = window([30, 30]).assign(n_sources=1)  # which source? unknown
    assert assess_window(cells) == ("adequate", [UNK])


def test_assess_window_source_mix_both_ways():
    before = window([100, 100], mixes=[{"MAIN": 70, "A": 15, "B": 15}] * 2)
    after = window([30, 30], mixes=[{"A": 15, "B": 15}] * 2, start=2)
    status, reasons = assess_window(after, baseline=before)
    assert status == "thin"
    assert reasons == [
        "source mix changed: 70% of the baseline's events came from outlets now silent"
    ]
    status, reasons = assess_window(before, baseline=after)
    assert reasons == ["source mix changed: 70% of events from outlets absent in the baseline"]


def test_assess_window_uncovered():
    cells = window([np.nan, np.nan]).assign(covered=False)
    assert assess_window(cells) == ("uncovered", ["outside the data set's coverage"])
    cells = window([np.nan, 40]).assign(covered=[False, True])
    status, reasons = assess_window(cells)
    assert status == "adequate"
    assert "1 of 2 periods outside the data set's coverage" in reasons
    empty = pd.DataFrame({"region": [], "period": [], "count": []})
    assert assess_window(empty) == ("uncovered", ["no cells in the window"])


# --------------------------------------------------------------------- source_activity


def test_two_rate_test_matches_r():
    from trends.coverage_model.activity import two_rate_test as _two_rate_test

    # R: poisson.test(c(30, 60), c(2, 3))$p.value -> 0.23641928258
    ratio, p = _two_rate_test(60, 30, 3, 2, 1.0)
    assert ratio == pytest.approx(0.75)
    assert p == pytest.approx(0.23641928258, rel=1e-9)


def per_month(mix, months):
    return window([sum(mix.values())] * len(months), mixes=[mix] * len(months), start=months[0])


def test_source_activity_lost_main_source():
    before = per_month({"MAIN": 80, "A": 10, "B": 10}, range(0, 6))
    after = per_month({"A": 10, "B": 10}, range(6, 12))
    act = source_activity(before, after)
    assert act["n_sources_before"] == 3 and act["n_sources_after"] == 2
    assert act["events_per_source_before"] == pytest.approx(200)
    assert act["events_per_source_after"] == pytest.approx(60)
    assert act["n_continuing_sources"] == 2
    assert act["continuing_ratio"] == pytest.approx(
        182 / 184
    )  # same per month; 2016 is a leap year
    assert act["continuing_pvalue"] > 0.5
    assert act["reporting_change_suspected"] is True


def test_source_activity_true_halving():
    before = per_month({"A": 40, "B": 40, "C": 20}, range(0, 6))
    after = per_month({"A": 20, "B": 20, "C": 10}, range(6, 12))
    act = source_activity(before, after)
    assert act["n_sources_before"] == act["n_sources_after"] == 3
    assert act["per_source_pvalue"] < 1e-10
    assert act["reporting_change_suspected"] is False


def test_source_activity_without_names_uses_events_per_source():
    before = window([60] * 6).assign(n_sources=3)
    after = window([20] * 6, start=6).assign(n_sources=1, top_source="S")
    act = source_activity(before, after)
    assert act["per_source_ratio"] == pytest.approx(182 / 184)
    assert math.isnan(act["continuing_pvalue"])
    assert act["reporting_change_suspected"] is True
    act = source_activity(window([60] * 6), window([20] * 6, start=6))
    assert act["reporting_change_suspected"] is None


# --------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def syria(ucdp_dir):
    import trends

    inc = trends.read_ucdp_ged(ucdp_dir / "ged_syria_652_1601_1911.csv")
    return coverage(trends.count(inc, region="region", period="month"))


@pytest.fixture(scope="module")
def iraq(ucdp_dir):
    import trends

    inc = trends.read_ucdp_ged(ucdp_dir / "ged191_iraq.csv")
    return coverage(trends.count(inc, region="region", period="month"))


def test_syria_sohr_dominates_and_single_source_cells_are_marked(syria):
    with_events = syria[syria["count"] > 0]
    assert (with_events["top_source"] == "SOHR").mean() > 0.8
    assert with_events["top_source_share"].median() > 0.8
    alone = with_events[(with_events["n_sources"] == 1) & (with_events["top_source"] == "SOHR")]
    assert len(alone) > 100
    assert alone["reasons"].map(lambda r: "1 distinct source (SOHR)" in r).all()
    assert (alone["status"] != "adequate").all()
    assert set(syria["status"]) <= {"adequate", "thin", "insufficient", "uncovered"}


def test_iraq_unknown_number_of_sources_is_unknown_not_single(iraq):
    unknown = iraq[iraq["unknown_sources_share"] == 1]
    assert len(unknown) > 500  # the older events: number_of_sources = -1
    assert unknown["single_source_share"].isna().all()
    assert unknown["n_sources"].isna().all()
    assert unknown["reasons"].map(lambda r: "number of sources unknown for every event" in r).all()
    assert not unknown["reasons"].map(lambda r: any("distinct source" in x for x in r)).any()
    # the status rests on the counts alone there
    bare = iraq.loc[unknown.index, ["region", "period", "count"]]
    again = coverage(bare, dispersion=1).set_index(["region", "period"])["status"]
    as_is = coverage(
        iraq.loc[unknown.index, ["region", "period", "count"]].assign(
            events_unknown_sources=unknown["count"]
        ),
        dispersion=1,
    ).set_index(["region", "period"])["status"]
    assert (again == as_is).all()


def test_two_rate_test_holds_its_level_by_simulation():
    from trends.coverage_model.activity import two_rate_test as _two_rate_test

    rng = np.random.default_rng(11)
    y0 = rng.poisson(30 * 3, 2000)  # 3 sources x 30 events each, before
    y1 = rng.poisson(30 * 2 * 1.5, 2000)  # 2 sources, 1.5 x the exposure, same rate
    exact = np.array([_two_rate_test(a, b, 3.0, 3.0, 1.0)[1] for a, b in zip(y0, y1, strict=True)])
    assert 0.03 < (exact < 0.05).mean() <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / 2000)
    # overdispersed counts (phi = 3) with the score test scaled by phi
    n = 90 / 2.0
    z0 = rng.negative_binomial(n, n / (n + 90), 2000)
    z1 = rng.negative_binomial(n, n / (n + 90), 2000)
    score = np.array([_two_rate_test(a, b, 1.0, 1.0, 3.0)[1] for a, b in zip(z0, z1, strict=True)])
    assert abs((score < 0.05).mean() - 0.05) < 0.02


def test_worse_takes_the_worst_status():
    from trends.coverage_model import worse

    assert worse("adequate", "thin") == "thin"
    assert worse("uncovered", "insufficient", "adequate") == "uncovered"
    assert worse("adequate") == "adequate"
