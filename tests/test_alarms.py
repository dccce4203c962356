"""trends.alarms: the result table, edge cases, restarts, reporting artefacts, fdr, bad options.

Agreement with R's surveillance is in test_alarms_reference.py.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import trends
from trends.alarm import METHODS, VERDICTS
from trends.alarm.farrington import layout
from trends.errors import OptionError, ThinCoverageWarning, TrendsError
from trends.stats.multiplicity import benjamini_hochberg

COLUMNS = [
    "region",
    "period",
    "observed",
    "expected",
    "upperbound",
    "lowerbound",
    "score",
    "pvalue",
    "qvalue",
    "alarm",
    "method",
    "parameters",
    "coverage",
    "coverage_reasons",
    "verdict",
    "notes",
]
# coverage rules with the count rules off: these tests are about the alarm and the
# source rules, not about how many events a month needs
SOURCE_RULES_ONLY = {"min_events": None, "min_sources": None}


def monthly(counts, first: str = "2015-01", region: str = "A", **columns) -> pd.DataFrame:
    periods = pd.period_range(first, periods=len(counts), freq="M").astype(str)
    out = pd.DataFrame({"region": region, "period": periods, "count": np.asarray(counts, float)})
    for name, values in columns.items():
        out[name] = values
    return out


def run(cells: pd.DataFrame, **kw) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThinCoverageWarning)
        return trends.alarms(cells, **kw)


def null_series(n_regions: int = 4, n: int = 72, mean: float = 30.0, seed: int = 1):
    rng = np.random.default_rng(seed)
    frames = [
        monthly(rng.negative_binomial(10, 10 / (10 + mean), n), region=f"R{i}")
        for i in range(n_regions)
    ]
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------ the table


def test_registry_entries_are_complete():
    assert set(METHODS) == {
        "farrington",
        "noufaily",
        "ears-c1",
        "ears-c2",
        "ears-c3",
        "glr-poisson",
        "glr-nb",
        "bayes",
        "surge",
        "threat",
        "trendfinder",
    }
    for name, m in METHODS.items():
        assert m.name == name and callable(m.detect)
        assert m.description and len(m.description) < 100
        assert any(ch.isdigit() for ch in m.citation), f"{name}: a citation with a year"
        assert set(m.directions) <= {"high", "low", "both"}
        assert set(m.defaults("month")) <= set(m.options)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_returns_the_documented_table(method):
    cells = null_series(n_regions=2, n=60)
    out = run(cells, method=method)
    assert list(out.columns[: len(COLUMNS)]) == COLUMNS
    assert len(out) == len(cells)  # one row per region x period
    assert out["alarm"].dtype == bool
    assert set(out["verdict"]) <= set(VERDICTS)
    assert (out["method"] == method).all()
    assert out["parameters"].str.contains("direction=high").all()
    computed = out["verdict"].isin(
        ["unusually high", "not unusual", "inconclusive (thin coverage)"]
    )
    assert computed.any() and out.loc[computed, "expected"].notna().all()
    assert not out.loc[~computed, "alarm"].any()


def test_aliases_and_attrs():
    cells = null_series(n_regions=3, n=60)
    ears = run(cells, method="ears")
    assert (ears["method"] == "ears-c1").all()
    out = run(cells, method="farrington", alpha=0.01)
    assert out.attrs["false_alarm_level"] == 0.01
    assert out.attrs["expected_false_alarms_per_year"] == pytest.approx(3 * 12 * 0.01)
    both = run(cells, method="farrington", direction="both")
    assert both.attrs["expected_false_alarms_per_year"] == pytest.approx(3 * 12 * 0.1)
    glr = run(cells, method="glr")
    assert np.isnan(glr.attrs["expected_false_alarms_per_year"])


def test_the_package_never_shadows_the_function():
    """``trends.alarm`` is the package, ``trends.alarms`` the function, whichever is
    imported first (importing a submodule sets an attribute of its parent package)."""
    import trends.alarm as package

    cells = null_series(n_regions=1, n=50)
    assert callable(trends.alarms) and trends.alarms is package.alarms
    assert len(trends.alarms(cells, method="bayes")) == 50
    assert package.METHODS is METHODS


def test_start_end_restrict_the_rows_not_the_baseline():
    cells = null_series(n_regions=2, n=72)
    full = run(cells, method="farrington")
    part = run(cells, method="farrington", start="2019-01", end="2019-06")
    assert sorted(part["period"].unique()) == [f"2019-0{i}" for i in range(1, 7)]
    merged = part.merge(full, on=["region", "period"], suffixes=("", "_full"))
    np.testing.assert_allclose(merged["upperbound"], merged["upperbound_full"])


def test_direction_low_and_both():
    rng = np.random.default_rng(3)
    counts = 30 + rng.integers(-3, 4, 52)
    counts[48] = 2
    cells = monthly(counts)
    high = run(cells, method="ears-c1", rules=SOURCE_RULES_ONLY)
    low = run(cells, method="ears-c1", direction="low", rules=SOURCE_RULES_ONLY)
    both = run(cells, method="ears-c1", direction="both", rules=SOURCE_RULES_ONLY)
    assert not high["alarm"].iloc[48]
    assert low["alarm"].iloc[48] and low["verdict"].iloc[48] == "unusually low"
    assert both["alarm"].iloc[48]
    p_low = low["pvalue"].iloc[48]
    assert both["pvalue"].iloc[48] == pytest.approx(min(1.0, 2 * p_low))
    assert p_low == pytest.approx(
        stats.norm.cdf((counts[48] - low["expected"].iloc[48]) / np.std(counts[41:48], ddof=1))
    )


# ------------------------------------------------------------------------ edge cases


@pytest.mark.parametrize("method", sorted(METHODS))
def test_all_zero_baselines(method):
    """No crash and no alarm on zeros; a first event after years of silence is flagged by
    the model-based methods (the ACLED rules hold it back by their low-activity floor,
    EARS C3 has no bound with a zero standard deviation, as in R)."""
    out = run(monthly([0] * 48 + [6, 0, 0]), method=method)
    assert not out["alarm"].iloc[:48].any()
    assert np.isfinite(out["upperbound"].iloc[40]) or out["verdict"].iloc[40] != "not unusual"
    spike = out.iloc[48]
    if method in ("surge", "threat"):
        assert not spike["alarm"] and "floor" in spike["notes"]
    elif method == "ears-c3":
        assert spike["verdict"] == "not estimable" and "standard deviation is 0" in spike["notes"]
    else:
        assert spike["alarm"], out.iloc[45:50].to_string()
    if method in ("farrington", "noufaily"):
        assert "no events in the baseline" in spike["notes"]


@pytest.mark.parametrize(
    ("method", "needs"),
    [("farrington", 36), ("noufaily", 36), ("ears-c2", 9), ("glr-poisson", 24), ("bayes", 6)],
)
def test_too_short_series_says_why(method, needs):
    out = run(monthly([3.0] * 20), method=method)
    short = out["verdict"] == "too short to call"
    assert short.iloc[: min(needs, 20)].all()
    assert (short == (np.arange(20) < needs)).all()
    assert out.loc[short, "notes"].str.contains(str(needs)).all()
    assert not out["alarm"].any()


def test_single_period_and_empty_region_do_not_crash():
    out = run(monthly([4.0]), method="farrington")
    assert out["verdict"].tolist() == ["too short to call"]


def test_uncovered_cells_are_not_covered_and_never_baseline():
    rng = np.random.default_rng(5)
    counts = rng.poisson(20, 60).astype(float)
    cells = monthly(counts)
    huge = cells.copy()
    huge.loc[40, "count"] = 5000.0
    hidden = huge.copy()
    hidden["covered"] = True
    hidden.loc[40, "covered"] = False
    missing = cells.copy()
    missing.loc[40, "count"] = np.nan
    a = run(hidden, method="farrington")
    b = run(missing, method="farrington")
    c = run(huge, method="farrington")
    assert a["verdict"].iloc[40] == "not covered" and a["coverage"].iloc[40] == "uncovered"
    assert not a["alarm"].iloc[40]
    later = slice(50, 55)  # 2018-05 is in their baselines (k - 12 +- 2)
    np.testing.assert_allclose(a["upperbound"].iloc[later], b["upperbound"].iloc[later])
    assert not np.allclose(c["upperbound"].iloc[later], a["upperbound"].iloc[later])
    for method in ("ears-c1", "bayes", "glr-poisson"):
        out = run(hidden, method=method)
        assert out["verdict"].iloc[40] == "not covered"
        assert np.isnan(out["observed"].iloc[40])


def test_missing_cells_in_the_table_are_left_out():
    cells = monthly(np.full(60, 10.0)).drop(index=[40, 41]).reset_index(drop=True)
    out = run(cells, method="bayes")
    assert len(out) == 58
    row = out[out["period"] == "2018-07"].iloc[0]  # baseline 2018-01..06 lacks 05, 06
    assert row["expected"] == pytest.approx((40 + 0.5) / 4)


# ------------------------------------------------------------------------ restarts


def shifted(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mean = np.where(np.arange(96) < 48, 5.0, 20.0)  # a new source from 2019-01
    return monthly(rng.poisson(mean).astype(float))


def test_restart_cuts_the_baseline_at_a_declared_break():
    cells = shifted()
    plain = run(cells, method="farrington", rules="lenient")
    cut = run(cells, method="farrington", rules="lenient", restart=["2019-01"])
    after = np.arange(96) >= 48
    assert plain["alarm"][after].sum() >= 10  # the level shift reads as a run of alarms
    waiting = after & (np.arange(96) < 48 + 36)
    assert (cut["verdict"][waiting] == "too short to call").all()
    assert cut["notes"][waiting].str.startswith("restarted at 2019-01: needs 36").all()
    assert not cut["alarm"][waiting].any()
    assert cut["alarm"][after].sum() <= plain["alarm"][after].sum() / 2
    before = ~after
    pd.testing.assert_series_equal(cut["upperbound"][before], plain["upperbound"][before])
    # a date works as well as a label; EARS needs only 7 periods after the break
    ears = run(cells, method="ears-c1", restart=["2019-01-15"])
    assert (ears["verdict"].iloc[48:55] == "too short to call").all()
    assert ears["verdict"].iloc[55] != "too short to call"


def test_restart_from_joinpoints():
    cells = pd.concat([shifted(7), shifted(8).assign(region="B")], ignore_index=True)
    breaks = pd.DataFrame(
        {
            "region": ["A", "A", "B"],
            "segment": [1, 2, 1],
            "segment_start_period": ["2015-01", "2019-01", "2015-01"],
        }
    )
    out = run(cells, method="ears-c1", restart="joinpoints", breaks=breaks)
    a, b = out[out["region"] == "A"], out[out["region"] == "B"]
    assert (a["verdict"].iloc[48:55] == "too short to call").all()
    assert (b["verdict"].iloc[48:55] != "too short to call").all()


# ------------------------------------------------------------------------ source rules


def with_sources(counts, mixes) -> pd.DataFrame:
    cells = monthly(counts)
    cells["source_counts"] = [json.dumps(m, sort_keys=True) for m in mixes]
    return cells


def test_high_alarm_from_a_new_outlet_is_inconclusive():
    rng = np.random.default_rng(11)
    base = rng.poisson(20, 60)
    counts = base.copy()
    mixes = [{"Agency A": int(c) // 2, "Radio B": int(c) - int(c) // 2} for c in base]
    counts[55] = base[55] + 40
    mixes[55] = {**mixes[55], "New Outlet": 40}
    real = counts.copy()
    real_mixes = [dict(m) for m in mixes]
    real_mixes[55] = {"Agency A": int(real[55]) // 2, "Radio B": int(real[55]) - int(real[55]) // 2}
    artefact = run(with_sources(counts, mixes), method="farrington", rules=SOURCE_RULES_ONLY)
    genuine = run(with_sources(real, real_mixes), method="farrington", rules=SOURCE_RULES_ONLY)
    row, ok = artefact.iloc[55], genuine.iloc[55]
    assert row["alarm"] and ok["alarm"]
    assert row["verdict"] == "inconclusive (thin coverage)"
    assert "outlets absent from the baseline (New Outlet)" in row["coverage_reasons"]
    assert "New Outlet" in row["notes"]
    assert ok["verdict"] == "unusually high"


def test_low_alarm_when_the_main_outlet_is_silent_is_inconclusive():
    rng = np.random.default_rng(12)
    counts = rng.poisson(30, 60)
    mixes = [{"Agency A": int(c) - 3, "Radio B": 3} for c in counts]
    counts[55] = 3
    mixes[55] = {"Radio B": 3}
    out = run(
        with_sources(counts, mixes), method="ears-c1", direction="low", rules=SOURCE_RULES_ONLY
    )
    row = out.iloc[55]
    assert row["alarm"] and row["verdict"] == "inconclusive (thin coverage)"
    assert "main outlet 'Agency A'" in row["coverage_reasons"]
    # the same fall with the main outlet still filing is a low alarm
    mixes[55] = {"Agency A": 1, "Radio B": 2}
    out = run(
        with_sources(counts, mixes), method="ears-c1", direction="low", rules=SOURCE_RULES_ONLY
    )
    assert out.iloc[55]["verdict"] == "unusually low"


def test_unknown_source_mix_is_not_judged():
    counts = np.full(60, 20.0)
    counts[55] = 80
    cells = with_sources(counts, [{"A": 20}] * 60)
    cells.loc[55, "source_counts"] = None
    out = run(cells, method="ears-c1", rules=SOURCE_RULES_ONLY)
    assert out.iloc[55]["verdict"] == "unusually high"


# ------------------------------------------------------------------------ multiplicity


def test_fdr_uses_benjamini_hochberg_over_the_scan():
    cells = null_series(n_regions=10, n=72, seed=2)
    cells.loc[60, "count"] = 400  # one real surge
    plain = run(cells, method="noufaily")
    scan = run(cells, method="noufaily", fdr=0.05)
    q = benjamini_hochberg(scan["pvalue"].to_numpy())
    np.testing.assert_allclose(scan["qvalue"], q, equal_nan=True)
    with np.errstate(invalid="ignore"):
        expected = (q <= 0.05) & (scan["observed"] > scan["expected"]).to_numpy()
    eligible = ~scan["notes"].str.contains("limit54").to_numpy(dtype=bool)
    assert (scan["alarm"].to_numpy() == (expected & eligible)).all()
    assert scan["alarm"].sum() < plain["alarm"].sum()
    assert scan["alarm"].iloc[60]
    assert "fdr=0.05" in scan["parameters"].iloc[0]
    assert scan.attrs["fdr"] == 0.05


def test_fdr_needs_pvalues():
    with pytest.raises(OptionError, match="'glr-poisson' gives none.*farrington"):
        run(null_series(1, 60), method="glr-poisson", fdr=0.05)


# ------------------------------------------------------------------------ bad options


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"method": "cusum"}, r"method='cusum' is not one of 'farrington', 'noufaily'"),
        ({"method": "farrington", "bee": 3}, r"no option\(s\) 'bee'; its options are 'b', 'w'"),
        ({"method": "farrington", "alpha": 1.5}, r"alpha=1\.5 must be a finite number in \(0, 1\)"),
        ({"method": "farrington", "b": 0}, r"b=0 must be a whole number of at least 1"),
        ({"method": "noufaily", "no_periods": 20}, r"no_periods=20 is too many .* at most 12"),
        ({"method": "farrington", "powertrans": "3/4"}, r"powertrans='3/4' is not one of '2/3'"),
        ({"method": "farrington", "direction": "up"}, r"direction='up' is not one of 'high'"),
        ({"method": "surge", "direction": "low"}, r"direction='low' is not one of 'high'"),
        ({"method": "ears-c1", "alpha": "0.01"}, r"alpha='0.01' must be a finite number"),
        ({"method": "glr-nb", "ret": "cases"}, r"ret='cases' with alpha=0\.5"),
        ({"method": "farrington", "fdr": 0}, r"fdr=0 must be a finite number in \(0, 1\)"),
        ({"method": "farrington", "restart": "segments"}, r"restart='segments' must be"),
        ({"method": "farrington", "restart": "joinpoints"}, r"needs breaks="),
        ({"method": "trendfinder", "norm": "decade"}, r"norm='decade' is not one of 'month'"),
    ],
)
def test_bad_options_say_what_and_what_is_valid(kwargs, pattern):
    with pytest.raises(OptionError, match=pattern) as info:
        run(null_series(1, 60), **kwargs)
    assert isinstance(info.value, TrendsError)


def test_acled_trackers_have_no_quarterly_definition():
    cells = pd.DataFrame(
        {
            "region": "A",
            "period": [f"{y}Q{q}" for y in range(2015, 2020) for q in range(1, 5)],
            "count": 10.0,
        }
    )
    with pytest.raises(OptionError, match="defined on weeks and months, not on quarter"):
        run(cells, method="surge")
    out = run(cells, method="surge", baseline_periods=4)
    assert out["expected"].iloc[-1] == 10


# ------------------------------------------------------------------------ methods


def test_farrington_layout_reproduces_r_blocks():
    """surveillance's blocks() for monthly data with 10 groups: the 7 periods between two
    reference windows cannot hold 9 blocks, and R's descending ``a:b`` gives blocks 8
    and 9 two positions each, the second being the first period of the next window."""
    offsets, groups = layout(3, 2, 12, 10, 6)
    got = dict(zip(offsets.tolist(), groups.tolist(), strict=True))
    assert got[-38] == 10 and got[-34] == 10  # the oldest window, k - 36 +- 2
    assert [got[o] for o in range(-33, -26)] == [1, 2, 3, 4, 5, 6, 9]
    assert got[-26] == 9  # first period of the window around k - 24, taken by block 9
    assert min(offsets) == -38 and max(offsets) == -7
    offsets, groups = layout(3, 3, 52, 1, 3)
    assert len(offsets) == 21 and set(groups.tolist()) == {1}


def test_ears_c3_published_variant():
    rng = np.random.default_rng(4)
    counts = rng.poisson(10, 40).astype(float)
    r_way = run(monthly(counts), method="ears-c3", rules="lenient")
    paper = run(monthly(counts), method="ears-c3", c3="hutwagner", rules="lenient")
    t = 30
    base = counts[t - 9 : t - 2]
    mean, sd = base.mean(), base.std(ddof=1)
    z = stats.norm.ppf(1 - 0.025)

    def c2(i):
        b = counts[i - 9 : i - 2]
        return (counts[i] - b.mean()) / b.std(ddof=1)

    lags = max(0, c2(t - 1) - 1) + max(0, c2(t - 2) - 1)
    assert paper["upperbound"].iloc[t] == pytest.approx(max(0, mean + sd * (1 + z - lags)))
    assert r_way["upperbound"].iloc[t] == pytest.approx(max(0, counts[t] + sd * (z - lags)))
    assert paper["score"].iloc[t] == pytest.approx(max(0, c2(t) - 1) + lags)


def test_acled_surge_threat_and_bands_by_hand():
    weekly = pd.DataFrame(
        {
            "region": "A",
            "period": [f"2024-W{w:02d}" for w in range(1, 11)],
            "count": [4, 4, 4, 4, 8, 4, 4, 4, 4, 7],
        }
    )
    surge = run(weekly, method="surge")
    assert surge["alarm"].tolist() == [False] * 4 + [True] + [False] * 5
    assert surge["score"].iloc[4] == pytest.approx(100.0)
    assert surge["upperbound"].iloc[9] == pytest.approx(8.0)
    quiet = weekly.assign(count=[0, 1, 0, 1, 4, 0, 0, 0, 0, 0])
    assert not run(quiet, method="surge")["alarm"].any()  # floor: 0.5 a week before
    months = monthly([10] * 12 + [20, 19])
    threat = run(months, method="threat")
    assert threat["alarm"].tolist() == [False] * 12 + [True, False]
    # weekly: the mean of the 4 weeks ending with the week judged against the 52 before
    days = pd.date_range("2020-01-06", periods=60, freq="7D").isocalendar()
    labels = [f"{y}-W{w:02d}" for y, w in zip(days["year"], days["week"], strict=True)]
    weeks = pd.DataFrame({"region": "A", "period": labels, "count": [5.0] * 56 + [10.0] * 4})
    threat = run(weeks, method="threat")
    assert threat["alarm"].tolist() == [False] * 59 + [True]
    assert threat["score"].iloc[58] == pytest.approx(75.0)  # (5 + 3 x 10) / 4 on 5
    assert threat["upperbound"].iloc[59] == pytest.approx(2 * 5 * 4 - 30)
    bands = run(monthly([10] * 4 + [13, 11, 8, 7, 2, 1]), method="trendfinder", direction="both")
    assert bands["band"].tolist()[4:] == [
        "large increase",  # +30%
        "limited change",  # 11 on 13: -15%
        "large decrease",  # 8 on 11: -27%
        "limited change",  # 7 on 8: -12.5%
        "large decrease",  # 2 on 7
        "limited change",  # 1 on 2: low activity
    ]
    assert bands["verdict"].iloc[8] in ("unusually low", "inconclusive (thin coverage)")


def test_glr_poisson_restarts_after_each_alarm():
    counts = [5.0] * 24 + [5, 30, 5, 5, 30, 5]
    out = run(monthly(counts), method="glr-poisson", rules="lenient")
    assert out["alarm"].iloc[24:].tolist() == [False, True, False, False, True, False]
    # after the reset the statistic starts afresh: the period after an alarm is judged alone
    assert out["score"].iloc[26] == pytest.approx(0, abs=1e-9)


def test_farrington_weekly_runs_on_iso_weeks():
    rng = np.random.default_rng(9)
    n = 52 * 4 + 10
    start = pd.Timestamp("2015-01-05")
    days = pd.date_range(start, periods=n, freq="7D").isocalendar()
    labels = [f"{y}-W{w:02d}" for y, w in zip(days["year"], days["week"], strict=True)]
    cells = pd.DataFrame({"region": "A", "period": labels, "count": rng.poisson(8, n)})
    out = run(cells, method="noufaily")
    assert (out["verdict"].iloc[: 3 * 52] == "too short to call").all()
    assert out["expected"].iloc[-10:].between(4, 14).all()


@pytest.mark.parametrize("kind", ["quarter", "year"])
@pytest.mark.parametrize("method", sorted(METHODS))
def test_quarters_and_years(method, kind):
    """Every method runs on quarterly and yearly cells (the GLR without a harmonic for
    years), except ACLED's two trackers, which have no window there and say so."""
    labels = (
        [f"{y}Q{q}" for y in range(1990, 2020) for q in range(1, 5)]
        if kind == "quarter"
        else [str(y) for y in range(1960, 2020)]
    )
    rng = np.random.default_rng(2)
    cells = pd.DataFrame(
        {"region": "A", "period": labels, "count": rng.poisson(20, len(labels)).astype(float)}
    )
    if method in ("surge", "threat"):
        with pytest.raises(OptionError, match=f"defined on weeks and months, not on {kind}"):
            run(cells, method=method)
        return
    out = run(cells, method=method)
    judged = ~out["verdict"].isin(["too short to call", "not estimable"])
    assert judged.sum() >= len(labels) // 2
    assert out.loc[judged, "expected"].between(2, 80).all()  # mean 20: plausible


def test_the_baseline_in_words():
    """The report says what each method compares a period with, from the options used."""
    from trends.alarm import METHODS

    bayes = METHODS["bayes"]
    assert bayes.describe(bayes.defaults("year"), "year").endswith("; baseline: the 6 years before")
    assert bayes.describe({"b": 1, "w": 3}, "month") == bayes.description  # seasonal: not worded
    noufaily = METHODS["noufaily"]
    said = noufaily.describe(noufaily.defaults("month"), "month")
    assert said.endswith(
        f"; baseline: every month of the past {noufaily.defaults('month')['b']} years"
    )
    farrington = METHODS["farrington"]
    assert farrington.describe({"b": 5, "w": 3}, "week").endswith(
        "; baseline: the weeks within 3 of the same one in each of the past 5 years"
    )
    assert METHODS["ears-c1"].describe({"alpha": 0.001}, "month") == METHODS["ears-c1"].description
