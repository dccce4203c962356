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
    exact_relative_width,
    resolve_rules,
    source_activity,
)
from trends.errors import CellsError, OptionError, TrendsError


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


# --------------------------------------------------------------------- count rule


def test_min_events_is_the_only_count_rule():
    assert status_of(cell(9)) == ("insufficient", ["9 events, fewer than 10", UNK])
    assert status_of(cell(0)) == ("insufficient", ["no events, fewer than 10"])
    # 10 events: adequate reporting (the imprecision of the rate is flagged, not gated)
    assert status_of(cell(10)) == ("adequate", [UNK])
    assert status_of(cell(3), min_events=None) == ("adequate", [UNK])


def test_reliability_is_a_flag_beside_the_status():
    out = coverage(pd.DataFrame([cell(19), cell(20, period="2016-02")]))
    assert out["status"].tolist() == ["adequate", "adequate"]
    assert out["reliable"].tolist() == [False, True]
    assert out["reliability"].iloc[0] == "unreliable: 19 events, fewer than 20"
    # the relative standard error with a dispersion: 100 events, dispersion 9 -> 30%
    out = coverage(pd.DataFrame([cell(100)]), dispersion=9.0)
    assert out["rse"].iloc[0] == pytest.approx(0.3)
    assert out["status"].iloc[0] == "adequate" and not out["reliable"].iloc[0]
    assert out["reliability"].iloc[0] == "unreliable: relative standard error 30%, at least 30%"


def test_dispersion_by_region_and_never_below_one():
    table = pd.DataFrame([cell(40, region="A"), cell(40, region="B")])
    out = coverage(table, dispersion=pd.Series({"A": 4.0, "B": 0.5}))
    assert out["dispersion"].tolist() == [4.0, 1.0]
    assert out["effective_events"].tolist() == [10.0, 40.0]


# --------------------------------------------------------------------- source rules


def test_single_outlet_is_thin_and_named():
    assert status_of(cell(50, mix={"SOHR": 50})) == ("thin", ["1 distinct outlet (SOHR)"])
    assert status_of(cell(50, mix={"SOHR": 45, "SANA": 5}))[0] == "adequate"


def test_single_source_from_n_sources_column_only():
    assert status_of(cell(50, n_sources=1))[0] == "thin"
    assert status_of(cell(50, n_sources=3))[0] == "adequate"


@pytest.mark.parametrize("column", ["events_coarse_location", "events_coarse_date"])
def test_coarse_share_threshold(column):
    assert status_of(cell(100, events=100, **{column: 50}))[0] == "adequate"
    status, reasons = status_of(cell(100, events=100, **{column: 51}))
    assert status == "thin"
    assert reasons[0].startswith("51% of events")


def test_single_report_share_rule_is_off_by_default():
    row = cell(40, events=40, events_single_source=40, events_unknown_sources=0, n_sources=3)
    assert status_of(row)[0] == "adequate"
    assert status_of(row, max_single_source_share=0.9) == (
        "thin",
        ["100% of events rest on a single report"],
    )


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
        [
            cell(sum(base_mix.values()), period="2016-01", mix=base_mix),
            cell(sum(now_mix.values()), period="2016-02", mix=now_mix),
        ]
    )


def test_new_outlets_beyond_chance():
    table = mix_table({"X": 50, "Y": 50}, {"X": 30, "Z": 70})
    out = coverage(table, baseline=("2016-01", "2016-01"))
    assert out["new_source_share"].iloc[1] == 0.7
    assert out["new_sources"].iloc[1] == "Z"
    assert out["status"].iloc[1] == "thin"
    assert out["reasons"].iloc[1] == [
        "source mix changed: 70% of the reports come from outlets absent in the baseline (Z), "
        "which chance does not explain: the windows are not comparable"
    ]


def test_silent_outlets_judged_against_the_number_of_reports_now():
    # 70% of the baseline's reports came from an outlet that no longer files
    table = mix_table({"MAIN": 70, "A": 15, "B": 15}, {"A": 15, "B": 15})
    out = coverage(table, baseline=("2016-01", "2016-01"))
    assert out["silent_source_share"].iloc[1] == pytest.approx(0.7)
    assert out["silent_sources"].iloc[1] == "MAIN"
    assert out["n_sources_change"].iloc[1] == -1
    assert out["status"].iloc[1] == "thin"
    assert "70% of the baseline's reports came from outlets silent now (MAIN)" in (
        out["reasons"].iloc[1][0]
    )
    # a small outlet absent from a window of few reports: chance, not silence
    table = mix_table({"MAIN": 90, "SMALL": 10}, {"MAIN": 5})
    out = coverage(table, baseline=("2016-01", "2016-01"))
    assert out["silent_source_share"].iloc[1] == 0.0  # (0.9 ** 5 = 0.59: quite likely)
    assert out["n_sources_expected"].iloc[1] == pytest.approx((1 - 0.1**5) + (1 - 0.9**5))


def test_baseline_as_cell_table_matches_by_region():
    now = pd.DataFrame([cell(100, region=r, period="2016-02", mix={"Z": 100}) for r in "AB"])
    base = pd.DataFrame([cell(100, region="A", period="2016-01", mix={"Z": 60, "X": 40})])
    out = coverage(now, baseline=base, min_sources=None)
    assert out["silent_source_share"].tolist()[0] == pytest.approx(0.4)
    assert math.isnan(out["silent_source_share"].tolist()[1])  # no baseline for B


def test_unknown_source_names_say_so_and_do_not_worsen():
    table = pd.DataFrame([cell(100, period="2016-01"), cell(100, period="2016-02")])
    out = coverage(table, baseline=("2016-01", "2016-01"))
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
    assert out["reliable"].isna().tolist()[:3] == [True, True, False]


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
    assert status_of(row, rules="nchs")[0] == "adequate"  # the count rule only
    assert status_of(cell(30, mix={"A": 20, "B": 10}), rules="strict") == (
        "thin",
        ["2 distinct outlets"],
    )
    assert status_of(cell(15), rules="strict")[0] == "insufficient"
    assert status_of(cell(6), rules="lenient")[0] == "adequate"
    assert status_of(cell(25), min_events=30)[0] == "insufficient"
    assert status_of(cell(25), rules={"min_events": 30})[0] == "insufficient"
    assert status_of(row, min_sources=None)[0] == "adequate"
    assert set(PRESETS) == {"default", "nchs", "strict", "lenient"}
    assert resolve_rules("default") == CoverageRules()


def test_bad_rules_raise_with_valid_choices():
    with pytest.raises(OptionError, match="'lax'.*'default', 'nchs', 'strict', 'lenient'"):
        resolve_rules("lax")
    with pytest.raises(OptionError, match="min_event.*valid: min_events"):
        coverage(pd.DataFrame([cell(3)]), min_event=3)
    with pytest.raises(OptionError, match="reliable_rse=-0.1"):
        resolve_rules(reliable_rse=-0.1)
    with pytest.raises(OptionError, match="mix_alpha=2"):
        resolve_rules(mix_alpha=2)
    with pytest.raises(TrendsError, match="dispersion='robust'"):
        coverage(pd.DataFrame([cell(3)]), dispersion="robust")
    with pytest.raises(TrendsError, match="dispersion=0"):
        coverage(pd.DataFrame([cell(3)]), dispersion=0)
    with pytest.raises(CellsError, match="count"):
        coverage(pd.DataFrame({"region": ["A"], "period": ["2016-01"]}))


# --------------------------------------------------------------------- assess_window


def window(counts, mixes=None, start=0):
    rows = []
    for i, c in enumerate(counts):
        mix = None if mixes is None else mixes[i]
        rows.append(cell(c, period=MONTHS[start + i], mix=mix))
    return pd.DataFrame(rows)


def test_assess_window_applies_the_count_rule_to_the_tested_total():
    cells = window([2, 3, 3])  # total 8
    assert assess_window(cells) == ("insufficient", ["8 events, fewer than 10", UNK])
    assert assess_window(cells, tested_count=40) == ("adequate", [UNK])
    # the dispersion never withholds: precision is the test's business
    assert assess_window(cells, tested_count=40, dispersion=5) == ("adequate", [UNK])


def test_assess_window_pools_sources_of_the_cells():
    # each cell has one outlet, but two different ones: two distinct sources in the window
    cells = window([30, 30], mixes=[{"X": 30}, {"Y": 30}])
    assert assess_window(cells)[0] == "adequate"
    cells = window([30, 30], mixes=[{"SOHR": 30}, {"SOHR": 30}])
    assert assess_window(cells) == ("thin", ["1 distinct outlet (SOHR)"])
    # without names: one source in every cell, all the same top source -> 1 distinct
    cells = window([30, 30]).assign(n_sources=1, top_source="SOHR")
    assert assess_window(cells) == ("thin", ["1 distinct outlet (SOHR)"])
    cells = window([30, 30]).assign(n_sources=1)  # which source? unknown
    assert assess_window(cells) == ("adequate", [UNK])


def test_assess_window_source_mix_both_ways():
    before = window([100, 100], mixes=[{"MAIN": 70, "A": 15, "B": 15}] * 2)
    after = window([30, 30], mixes=[{"A": 15, "B": 15}] * 2, start=2)
    status, reasons = assess_window(after, baseline=before)
    assert status == "thin"
    assert reasons == [
        "source mix changed: 70% of the baseline's reports came from outlets silent now "
        "(MAIN), which chance does not explain: the windows are not comparable"
    ]
    status, reasons = assess_window(before, baseline=after)
    assert reasons == [
        "source mix changed: 70% of the reports come from outlets absent in the baseline "
        "(MAIN), which chance does not explain: the windows are not comparable"
    ]


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


def per_month(mix, months):
    return window([sum(mix.values())] * len(months), mixes=[mix] * len(months), start=months[0])


def test_source_activity_lost_main_source():
    before = per_month({"MAIN": 80, "A": 10, "B": 10}, range(0, 6))
    after = per_month({"A": 10, "B": 10}, range(6, 12))
    act = source_activity(before, after)
    assert act["n_sources_before"] == 3 and act["n_sources_after"] == 2
    assert act["silent_sources"] == "MAIN" and act["silent_source_share"] == pytest.approx(0.8)
    assert act["n_continuing_sources"] == 2
    assert act["continuing_ratio"] == pytest.approx(182 / 184)  # same per month; 2016 leap
    assert act["continuing_pvalue"] > 0.5


def test_source_activity_true_halving():
    before = per_month({"A": 40, "B": 40, "C": 20}, range(0, 6))
    after = per_month({"A": 20, "B": 20, "C": 10}, range(6, 12))
    act = source_activity(before, after)
    assert act["n_sources_before"] == act["n_sources_after"] == 3
    assert act["silent_sources"] == "" and act["silent_source_share"] == 0
    assert act["continuing_pvalue"] < 1e-10


def test_source_activity_without_names_cannot_check():
    before = window([60] * 6).assign(n_sources=3)
    after = window([20] * 6, start=6).assign(n_sources=1, top_source="S")
    act = source_activity(before, after)
    assert act["n_sources_before"] == 3 and act["n_sources_after"] == 1
    assert math.isnan(act["continuing_pvalue"]) and math.isnan(act["n_sources_expected"])


@pytest.mark.slow
def test_continuing_outlet_test_holds_its_level_by_simulation():
    """The re-test among the outlets filing in both windows: unchanged outlets over
    2,000 replications reject at about its level (reports per event counted in its
    dispersion)."""
    rng = np.random.default_rng(11)
    pvalues = []
    for _ in range(400):
        before = [{"A": int(rng.poisson(30)), "B": int(rng.poisson(20))} for _ in range(6)]
        after = [{"A": int(rng.poisson(30)), "B": int(rng.poisson(20))} for _ in range(6)]
        act = source_activity(
            window([sum(m.values()) for m in before], mixes=before),
            window([sum(m.values()) for m in after], mixes=after, start=6),
        )
        pvalues.append(act["continuing_pvalue"])
    rate = (np.array(pvalues) < 0.05).mean()
    assert 0.02 <= rate <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 400)


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
    assert alone["reasons"].map(lambda r: "1 distinct outlet (SOHR)" in r).all()
    assert (alone["status"] != "adequate").all()
    assert set(syria["status"]) <= {"adequate", "thin", "insufficient", "uncovered"}


def test_iraq_unknown_number_of_sources_is_unknown_not_single(iraq):
    unknown = iraq[iraq["unknown_sources_share"] == 1]
    assert len(unknown) > 500  # the older events: number_of_sources = -1
    assert unknown["single_source_share"].isna().all()
    assert unknown["n_sources"].isna().all()
    assert unknown["reasons"].map(lambda r: "number of sources unknown for every event" in r).all()
    assert not unknown["reasons"].map(lambda r: any("distinct outlet" in x for x in r)).any()
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


def test_worse_takes_the_worst_status():
    from trends.coverage_model import worse

    assert worse("adequate", "thin") == "thin"
    assert worse("uncovered", "insufficient", "adequate") == "uncovered"
    assert worse("adequate") == "adequate"
