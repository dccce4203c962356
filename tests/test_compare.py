"""trends.compare: agreement with R and statsmodels, dispersion, coverage, bad input."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from trends.comparison import compare
from trends.errors import CellsError, DispersionWarning, ThinCoverageWarning, TrendsError
from trends.stats.multiplicity import benjamini_hochberg
from trends.stats.two_rates import _minlike_pvalue, two_sample_rates

MONTHS = [f"2016-{m:02d}" for m in range(1, 13)]
H1, H2 = ("2016-01", "2016-06"), ("2016-07", "2016-12")


def _quiet(*args, **kwargs) -> pd.DataFrame:
    """compare() with its warnings silenced (tests that do not test them)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThinCoverageWarning)
        warnings.simplefilter("ignore", DispersionWarning)
        return compare(*args, **kwargs)


def _cells(counts: dict[str, list[float]], months=MONTHS, **extra) -> pd.DataFrame:
    rows = []
    for region, series in counts.items():
        for month, count in zip(months, series, strict=True):
            rows.append({"region": region, "period": month, "count": count, **extra})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- R


@pytest.mark.shared
@pytest.mark.parametrize("series", ["iraq", "agona"])
def test_exact_cond_equals_r_poisson_test(reference_dir, series):
    # R 4.2.2, r_reference.R: poisson.test(c(count1, count2), c(exposure1, exposure2))
    # -> p.value, estimate, conf.int; NA where count1 + count2 == 0.
    ref = pd.read_csv(reference_dir / series / "poisson_test_2sample.csv")
    n = len(ref)
    regions = [f"r{i:03d}" for i in range(n)]
    cells = pd.DataFrame(
        {
            "region": regions * 2,
            "period": ["2016-01"] * n + ["2016-02"] * n,
            # R's first sample is our *after* window: rate_ratio = after / before
            "count": np.r_[ref["count2"], ref["count1"]],
            "exposure": np.r_[ref["exposure2"], ref["exposure1"]],
        }
    )
    res = _quiet(
        cells,
        before=("2016-01", "2016-01"),
        after=("2016-02", "2016-02"),
        method="exact-cond",
        dispersion=1,
    )
    res = res.set_index("region").loc[regions]
    for ours, theirs in [
        ("pvalue", "pvalue"),
        ("rate_ratio", "rate_ratio"),
        ("rr_low", "rr_lower"),
        ("rr_high", "rr_upper"),
    ]:
        got, want = res[ours].to_numpy(float), ref[theirs].to_numpy(float)
        assert np.array_equal(np.isnan(got), np.isnan(want)), ours
        assert np.array_equal(np.isinf(got), np.isinf(want)), ours
        ok = np.isfinite(want)
        np.testing.assert_allclose(got[ok], want[ok], rtol=1e-9, atol=1e-12, err_msg=ours)
    # R's NA rows (no events in either window) say why here
    empty = ref["count1"].add(ref["count2"]).eq(0).to_numpy()
    if empty.any():
        assert res["notes"][empty].str.contains("no events in either window").all()
        assert (res["verdict"][empty] == "not estimable").all()


# R 4.2.2 on the Iraq series, 2013 against 2014, monthly cells, exposure = days:
#   fit <- glm(count ~ after + offset(log(exposure)), family = quasipoisson, data = s,
#              control = glm.control(epsilon = 1e-14, maxit = 100))
#   summary(fit)$dispersion; anova(fit, test = "Rao")[2, "Rao"]
# (the Rao score statistic is our statistic ** 2 times the dispersion)
R_QUASIPOISSON_IRAQ_2013_2014 = {
    "Al Anbār province": (4.02018266334133, 86.563636363937),
    "Baghdād province": (3.19063850879792, 0.546925566434112),
    "Diyālá province": (4.4799726129845, 7.90322580645298),
    "Kirkūk province": (2.07127771504606, 3.5217391304348),
    "Nīnawá province": (4.87561287965423, 22.8282208595536),
    "Şalāḩ ad Dīn province": (4.83056879276641, 18.3025210084034),
}


@pytest.mark.shared
def test_default_is_r_quasipoisson_score_test_with_moderated_dispersion(reference_dir):
    """Each region's own dispersion is R's quasi-Poisson one; the test uses it moderated
    across regions (limma's squeezeVar, checked against R in
    test_dispersion_moderation.py) and refers the Rao statistic over it to F(1, d0 + 22)."""
    from scipy import stats

    from trends.stats.dispersion import moderated_dispersion

    series = pd.read_csv(reference_dir / "iraq" / "series.csv")
    cells = series.rename(columns={"month": "period"})
    res = _quiet(cells, before=("2013-01", "2013-12"), after=("2014-01", "2014-12"))
    res = res.set_index("region")
    assert set(res.index) == set(R_QUASIPOISSON_IRAQ_2013_2014)
    phis = [R_QUASIPOISSON_IRAQ_2013_2014[r][0] for r in res.index]
    mean_rate = (res["count_before"] + res["count_after"]) / 24
    mod = moderated_dispersion(np.array(phis) * 22, np.full(6, 22.0), mean_rate=mean_rate.to_numpy())
    for region, (phi, rao) in R_QUASIPOISSON_IRAQ_2013_2014.items():
        row = res.loc[region]
        assert row["residual_dispersion"] == pytest.approx(phi, rel=1e-9), region
        assert row["dispersion"] == pytest.approx(mod["dispersion"].iloc[res.index.get_loc(region)], rel=1e-9)
        assert row["statistic"] ** 2 * row["dispersion"] == pytest.approx(rao, rel=1e-9), region
        p = stats.f.sf(rao / row["dispersion"], 1, row["dispersion_df"])
        assert row["pvalue"] == pytest.approx(p, rel=1e-8), region
    assert (res["dispersion_df"] >= 22).all() and (res["exposure_after"] == 365).all()
    assert res["dispersion_source"].str.startswith("windows (moderated").all()


# --------------------------------------------------------------------------- statsmodels


@pytest.fixture(scope="module")
def random_pairs():
    rng = np.random.default_rng(20240611)
    x1 = rng.integers(0, 60, 60).astype(float)
    x2 = rng.integers(1, 60, 60).astype(float)
    e1 = rng.choice([28.0, 30.0, 31.0, 90.0, 365.0], 60)
    e2 = rng.choice([28.0, 30.0, 31.0, 90.0, 365.0], 60)
    return x1, e1, x2, e2


@pytest.mark.parametrize(
    "ours, theirs",
    [("score", "score"), ("exact-cond", "exact-cond"), ("mid-p", "cond-midp"), ("etest", "etest")],
)
def test_pvalues_equal_statsmodels(random_pairs, ours, theirs):
    from statsmodels.stats.rates import test_poisson_2indep

    x1, e1, x2, e2 = random_pairs
    got = two_sample_rates(x1, e1, x2, e2, method=ours)["pvalue"]
    want = [
        test_poisson_2indep(int(a), b, int(c), d, method=theirs).pvalue
        for a, b, c, d in zip(x1, e1, x2, e2, strict=True)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_intervals_equal_statsmodels(random_pairs):
    from statsmodels.stats.rates import confint_poisson_2indep

    x1, e1, x2, e2 = random_pairs
    got = two_sample_rates(x1, e1, x2, e2, method="score")
    pos = x1 > 0  # statsmodels' score root search fails at a zero count
    ci = np.array(
        [
            confint_poisson_2indep(a, b, c, d, method="score")
            for a, b, c, d in zip(x1[pos], e1[pos], x2[pos], e2[pos], strict=True)
        ]
    )
    # statsmodels solves numerically (tolerance ~1e-7); ours is the closed form
    np.testing.assert_allclose(got["rr_low"][pos], ci[:, 0], rtol=1e-5)
    np.testing.assert_allclose(got["rr_high"][pos], ci[:, 1], rtol=1e-5)
    assert np.all(got["rr_low"][~pos] == 0) and np.all(np.isfinite(got["rr_high"][~pos]))
    low, high = confint_poisson_2indep(
        x1[pos], e1[pos], x2[pos], e2[pos], compare="diff", method="mover", method_mover="jeff"
    )
    np.testing.assert_allclose(got["rd_low"][pos], low, rtol=1e-9)
    np.testing.assert_allclose(got["rd_high"][pos], high, rtol=1e-9)


@pytest.mark.parametrize("phi", [2.0, 4.0])
def test_dispersion_in_exact_methods_is_the_effective_count_test(phi):
    from scipy import stats

    # counts divisible by phi: the effective counts x / phi are whole numbers, where
    # the continuous (incomplete beta) extension equals the binomial distribution
    x1 = np.array([8.0, 40.0, 0.0, 12.0])
    x2 = np.array([24.0, 16.0, 20.0, 12.0])
    e1, e2 = np.array([30.0, 31.0, 90.0, 28.0]), np.array([30.0, 30.0, 90.0, 365.0])
    k, m, p0 = x1 / phi, (x1 + x2) / phi, e1 / (e1 + e2)
    got = two_sample_rates(x1, e1, x2, e2, phi=phi, method="exact-cond")
    lower, upper = stats.binom.cdf(k, m, p0), stats.binom.sf(k - 1, m, p0)
    np.testing.assert_allclose(got["pvalue"], np.minimum(1, 2 * np.minimum(lower, upper)))
    p_low = np.where(k > 0, stats.beta.ppf(0.025, np.maximum(k, 1), m - k + 1), 0)
    np.testing.assert_allclose(got["rr_low"], p_low / (1 - p_low) * e2 / e1, rtol=1e-9)
    mid = stats.binom.cdf(k - 1, m, p0) + 0.5 * stats.binom.pmf(k, m, p0)
    got = two_sample_rates(x1, e1, x2, e2, phi=phi, method="mid-p")
    np.testing.assert_allclose(got["pvalue"], np.minimum(1, 2 * np.minimum(mid, 1 - mid)))
    # the mid-p limits solve their tail equations
    p_hi = got["rr_high"] / (got["rr_high"] + e2 / e1)
    tail = stats.binom.cdf(k - 1, m, p_hi) + 0.5 * stats.binom.pmf(k, m, p_hi)
    np.testing.assert_allclose(tail, 0.025, atol=1e-9)


def test_vectorised_minlike_pvalue_equals_scipy_binomtest():
    from scipy import stats

    rng = np.random.default_rng(21)
    n = np.r_[rng.integers(1, 500, 3000), 1, 1, 5, 10, 10, 2].astype(float)
    p = np.r_[rng.uniform(0.01, 0.99, 3000), 0.5, 0.3, 0.5, 0.5, 0.5, 0.5]
    x = np.r_[np.floor(rng.uniform(0, 1, 3000) * (n[:3000] + 1)), 0, 1, 0, 5, 0, 1]
    want = [stats.binomtest(int(a), int(b), c).pvalue for a, b, c in zip(x, n, p, strict=True)]
    np.testing.assert_allclose(_minlike_pvalue(x, n, p), want, rtol=1e-12, atol=1e-15)


def test_qvalue_is_benjamini_hochberg():
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(3).uniform(size=50) ** 3
    np.testing.assert_allclose(
        benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1], rtol=1e-12
    )
    with_nan = np.r_[p[:5], np.nan]
    np.testing.assert_allclose(
        benjamini_hochberg(with_nan)[:5], multipletests(p[:5], method="fdr_bh")[1]
    )
    assert np.isnan(benjamini_hochberg(with_nan)[5])


# --------------------------------------------------------------------------- dispersion


def test_window_dispersion_equals_quasipoisson_glm():
    """Each region's own dispersion is statsmodels' quasi-Poisson scale (Pearson X2 /
    df) of the one-rate-per-window GLM; with a single region there is no prior to
    moderate towards, so the test uses it on its 10 df."""
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    counts = rng.negative_binomial(5, 5 / 35, 12).astype(float)
    cells = _cells({"A": list(counts)})
    res = _quiet(cells, before=H1, after=H2)
    exposure = pd.Series(pd.PeriodIndex(MONTHS, freq="M").days_in_month.astype(float))
    design = np.c_[np.ones(12), np.r_[np.zeros(6), np.ones(6)]]
    fit = sm.GLM(
        counts, design, family=sm.families.Poisson(), offset=np.log(exposure.to_numpy())
    ).fit(scale="X2")
    assert res["residual_dispersion"].iloc[0] == pytest.approx(fit.scale, rel=1e-9)
    assert res["dispersion"].iloc[0] == pytest.approx(fit.scale, rel=1e-9)
    assert res["dispersion_df"].iloc[0] == 10
    assert res["dispersion_source"].iloc[0] == "windows (too few regions to moderate)"
    assert res["reference"].iloc[0] == "F(1, 10)"
    assert res["method"].iloc[0] == "score"
    # the score statistic scaled by the dispersion, referred to F(1, 10)
    from scipy import stats

    z = res["statistic"].iloc[0]
    assert res["pvalue"].iloc[0] == pytest.approx(stats.f.sf(z**2, 1, 10), rel=1e-12)


def test_one_cell_per_window_takes_the_series_or_the_prior_never_a_silent_one():
    years = [str(y) for y in range(2000, 2016)]
    rng = np.random.default_rng(9)
    cells = pd.DataFrame(
        {"region": "A", "period": years, "count": rng.poisson(200, len(years)).astype(float)}
    )
    res = _quiet(cells, before=("2013", "2013"), after=("2014", "2015"))
    assert res["dispersion_source"].iloc[0].startswith("series")
    # 2000-2012 in five blocks of up to 3 years, each window its own rate: 16 - 7
    assert res["residual_dispersion"].iloc[0] > 0
    # many regions with a year each per window: the prior across regions, said so
    overdispersed = [rng.negative_binomial(20, 0.1, len(years)).astype(float) for _ in range(8)]
    many = pd.concat([cells.assign(region=f"R{i}", count=y) for i, y in enumerate(overdispersed)])
    short = many[many["period"] >= "2009"]
    only_windows = cells[cells["period"].isin(["2013", "2014"])].assign(region="Z")
    short = pd.concat([short, only_windows])
    res = _quiet(short, before=("2013", "2013"), after=("2014", "2014")).set_index("region")
    assert res.drop(index="Z")["dispersion_source"].str.startswith("series (moderated").all()
    assert res.loc["Z", "dispersion_source"].startswith("prior across regions")
    assert np.isfinite(res["dispersion_df"]).all() and (res["dispersion"] > 0).all()
    # one region, nothing to estimate from: 1 is used, and said loudly
    alone = cells[cells["period"] >= "2013"]
    with pytest.warns(DispersionWarning, match="1 of 1 regions"):
        res = compare(alone, before=("2013", "2013"), after=("2014", "2014"))
    row = res.iloc[0]
    assert row["dispersion"] == 1 and row["dispersion_source"] == "none (1 used)"
    assert "dispersion could not be estimated" in row["notes"]
    assert row["reference"] == "normal" and np.isfinite(row["pvalue"])


def test_underdispersion_never_beats_poisson():
    """Counts exactly at their means (dispersion 0) are tested as Poisson counts (edgeR's
    poisson.bound), never with a dispersion below 1."""
    cells = _cells({"A": [30] * 6 + [40] * 6}, exposure=30.0)  # counts at their means
    row = _quiet(cells, before=H1, after=H2, rules="lenient").iloc[0]
    assert row["dispersion"] == 1 and row["dispersion_source"].endswith("Poisson bound")
    assert row["reference"] == "normal"
    poisson = _quiet(cells, before=H1, after=H2, dispersion=1).iloc[0]
    assert row["pvalue"] == pytest.approx(poisson["pvalue"], rel=1e-12)


def test_fixed_dispersion_scales_the_test():
    cells = _cells({"A": [30] * 6 + [40] * 6})
    one = _quiet(cells, before=H1, after=H2, dispersion=1).iloc[0]
    three = _quiet(cells, before=H1, after=H2, dispersion=3).iloc[0]
    assert three["statistic"] == pytest.approx(one["statistic"] / np.sqrt(3))
    assert three["rate_ratio"] == one["rate_ratio"]
    assert three["rr_high"] - three["rr_low"] > one["rr_high"] - one["rr_low"]
    assert one["dispersion_source"] == "fixed" and np.isinf(one["dispersion_df"])


# --------------------------------------------------------------------------- rows


def test_result_columns_and_parameters_recorded():
    rng = np.random.default_rng(1)
    cells = _cells({r: list(rng.poisson(40, 12)) for r in "ABC"})
    res = _quiet(cells, before=H1, after=H2, alpha=0.1, level=0.9)
    for col in [
        "region", "count_before", "count_after", "exposure_before", "exposure_after",
        "rate_ratio", "rr_low", "rr_high", "rate_diff", "rd_low", "rd_high", "pvalue",
        "qvalue", "method", "dispersion", "coverage", "coverage_reasons", "verdict",
        "n_sources_before", "n_sources_after", "n_sources_expected", "silent_sources",
        "new_sources", "n_continuing_sources", "continuing_ratio", "continuing_pvalue",
        "reporting_change_suspected", "reliable", "residual_dispersion", "notes",
    ]:  # fmt: skip
        assert col in res.columns, col
    assert list(res["region"]) == ["A", "B", "C"]
    assert (res["alpha"] == 0.1).all() and (res["level"] == 0.9).all()
    assert (res["before"] == "2016-01..2016-06").all()
    assert res["exposure_before"].iloc[0] == 182 and res["exposure_after"].iloc[0] == 184


def test_windows_as_dates_and_years():
    rng = np.random.default_rng(2)
    months = [f"{y}-{m:02d}" for y in (2015, 2016) for m in range(1, 13)]
    cells = _cells({"A": list(rng.poisson(30, 24))}, months=months)
    by_year = _quiet(cells, before=("2015", "2015"), after=("2016", "2016"))
    by_date = _quiet(cells, before=("2015-01-01", "2015-12-31"), after=("2016-01-15", "2016-12"))
    by_label = _quiet(cells, before=("2015-01", "2015-12"), after=("2016-01", "2016-12"))
    pd.testing.assert_frame_equal(by_year, by_label)
    pd.testing.assert_frame_equal(by_date, by_label)


def test_clear_change_is_found_and_verdicts_follow_qvalue():
    rng = np.random.default_rng(4)
    series = {
        "up": list(rng.poisson(40, 6)) + list(rng.poisson(80, 6)),
        "down": list(rng.poisson(80, 6)) + list(rng.poisson(40, 6)),
        "flat": list(rng.poisson(60, 12)),
    }
    res = _quiet(_cells(series), before=H1, after=H2).set_index("region")
    assert res.loc["up", "verdict"] == "increase"
    assert res.loc["down", "verdict"] == "decrease"
    assert res.loc["flat", "verdict"] == "no significant change"
    assert (res["qvalue"] >= res["pvalue"]).all()


def test_zero_counts_give_finite_intervals_and_reasons():
    cells = _cells({"none_before": [0] * 6 + [5] * 6, "all_zero": [0] * 12, "ok": [20] * 12})
    res = _quiet(cells, before=H1, after=H2, dispersion=1).set_index("region")
    row = res.loc["none_before"]
    assert np.isinf(row["rate_ratio"]) and row["rr_low"] > 0 and np.isinf(row["rr_high"])
    assert row["pvalue"] < 0.001 and np.isfinite(row["rd_low"]) and np.isfinite(row["rd_high"])
    assert "no events before" in row["notes"]
    row = res.loc["all_zero"]
    assert np.isnan(row["rate_ratio"]) and np.isnan(row["pvalue"]) and np.isnan(row["qvalue"])
    assert row["rate_diff"] == 0 and row["rd_high"] > 0
    assert "no events in either window" in row["notes"]
    assert row["verdict"] == "not estimable"
    # score interval at a zero count is finite where statsmodels' is not
    row = _quiet(cells, before=H1, after=H2, method="score").set_index("region")
    assert np.isfinite(row.loc["none_before", "rr_low"])


def test_uncovered_and_partly_covered_windows():
    base = _cells({"full": [30] * 12, "late": [30] * 12, "half": [30] * 12, "noexp": [30] * 12})
    base["covered"] = True
    base.loc[(base["region"] == "late") & (base["period"] <= "2016-06"), "covered"] = False
    base.loc[(base["region"] == "late") & (base["period"] <= "2016-06"), "count"] = np.nan
    base.loc[(base["region"] == "half") & (base["period"] <= "2016-03"), "count"] = np.nan
    base["exposure"] = 30.0
    base.loc[base["region"] == "noexp", "exposure"] = 0.0
    base = base[~((base["region"] == "full") & (base["period"] == "2016-12"))]  # row absent
    res = _quiet(base, before=H1, after=H2).set_index("region")
    assert res.loc["late", "verdict"] == "not covered"
    assert res.loc["late", "coverage"] == "uncovered"
    assert np.isnan(res.loc["late", "rate_ratio"])
    assert "no exposure in the before window" in res.loc["late", "notes"]
    assert res.loc["half", "count_before"] == 90 and res.loc["half", "exposure_before"] == 90
    assert res.loc["half", "coverage"] == "thin"
    assert "3 of 6 periods outside" in res.loc["half", "coverage_reasons"]
    assert res.loc["full", "count_after"] == 150 and res.loc["full", "coverage"] == "thin"
    assert res.loc["noexp", "verdict"] == "not covered"
    assert "no exposure" in res.loc["noexp", "coverage_reasons"]


def test_window_coverage_equals_assess_window():
    """compare()'s coverage is assess_window's on the same cells: each window on its own
    (precision), the after window against the before one (outlets), both together
    (events, outlets behind the whole comparison)."""
    import dataclasses

    from trends.coverage_model import assess_window, resolve_rules
    from trends.coverage_model.rules import without_mix

    rng = np.random.default_rng(11)
    series = {f"R{i}": list(rng.poisson(lam, 12)) for i, lam in enumerate([0.5, 2, 4, 8, 30])}
    series["under"] = [9, 10, 11, 10, 9, 10, 10, 11, 9, 10, 10, 11]  # dispersion < 1
    cells = _cells(series)
    cells.loc[cells.index[::7], "count"] = np.nan
    res = _quiet(cells, before=H1, after=H2).set_index("region")
    assert res.loc["under", "residual_dispersion"] < 1 and res.loc["under", "dispersion"] >= 1
    rules = resolve_rules("default")
    own = dataclasses.replace(without_mix(rules), min_events=None, min_sources=None)
    pooled = dataclasses.replace(without_mix(rules), max_coarse_share=None)
    ranks = ["adequate", "thin", "insufficient", "uncovered"]
    for region, row in res.iterrows():
        mine = cells[cells["region"] == region]
        before, after = mine[mine["period"].isin(MONTHS[:6])], mine[mine["period"].isin(MONTHS[6:])]
        parts = [
            (*assess_window(before, rules=own), "before: "),
            (*assess_window(after, baseline=before, rules=own), "after: "),
            (*assess_window(mine, tested_count=row["count_before"] + row["count_after"], rules=pooled), ""),
        ]
        worst = max((p[0] for p in parts), key=ranks.index)
        if worst == "adequate" and mine["count"].isna().any():
            worst = "thin"
        assert row["coverage"] == worst, region
        for _, reasons, prefix in parts:
            for reason in reasons:
                assert prefix + reason in row["coverage_reasons"], (region, reason)


def test_withheld_verdicts_warn():
    cells = _cells({"small": [0] * 6 + [1] * 6})
    with pytest.warns(ThinCoverageWarning, match="1 of 1 compare verdicts withheld"):
        compare(cells, before=H1, after=H2)


# --------------------------------------------------------------------------- reporting


def _source_cells(mixes: dict[str, list[dict[str, int]]]) -> pd.DataFrame:
    rows = []
    for region, cells in mixes.items():
        for month, mix in zip(MONTHS, cells, strict=True):
            total = float(sum(mix.values()))
            rows.append(
                {
                    "region": region,
                    "period": month,
                    "count": total,
                    "events": total,
                    "n_sources": sum(v > 0 for v in mix.values()),
                    "source_counts": json.dumps(
                        {k: v for k, v in sorted(mix.items()) if v > 0}, sort_keys=True
                    ),
                }
            )
    return pd.DataFrame(rows)


def test_source_going_silent_is_not_a_decrease_but_a_real_halving_is():
    rng = np.random.default_rng(12)

    def mix(a, b, c):
        return {"Agency A": int(rng.poisson(a)), "Outlet B": int(rng.poisson(b)),
                "Outlet C": int(rng.poisson(c))}  # fmt: skip

    stopped = [mix(40, 6, 6) for _ in range(6)] + [mix(0, 6, 6) for _ in range(6)]
    halved = [mix(20, 15, 15) for _ in range(6)] + [mix(10, 7.5, 7.5) for _ in range(6)]
    res = _quiet(_source_cells({"stopped": stopped, "halved": halved}), before=H1, after=H2)
    res = res.set_index("region")
    row = res.loc["stopped"]
    assert row["pvalue"] < 0.001 and row["rate_ratio"] < 0.5
    assert row["verdict"] == "inconclusive (thin coverage)"
    assert row["coverage"] == "thin"
    assert (
        "came from outlets silent now (Agency A), which chance does not explain: the "
        "windows are not comparable" in row["coverage_reasons"]
    )
    assert row["silent_sources"] == "Agency A" and pd.isna(row["new_sources"])
    assert row["n_sources_before"] == 3 and row["n_sources_after"] == 2
    assert row["n_continuing_sources"] == 2
    assert row["continuing_pvalue"] > 0.05  # the outlets that kept filing did not change
    row = res.loc["halved"]
    assert row["verdict"] == "decrease" and row["reporting_change_suspected"] is not True
    assert row["coverage"] == "adequate"
    assert row["n_sources_before"] == 3 and row["n_sources_after"] == 3
    assert pd.isna(row["silent_sources"])


def test_minor_outlet_gone_silent_is_checked_among_the_others():
    """An outlet behind about 20% of the reports stops: below the 50% where windows are
    not comparable, so the change must hold among the outlets filing in both."""
    rng = np.random.default_rng(21)

    def mix(a, b, c):
        return {"Agency A": int(rng.poisson(a)), "Outlet B": int(rng.poisson(b)),
                "Outlet C": int(rng.poisson(c))}  # fmt: skip

    real = [mix(10, 20, 20) for _ in range(6)] + [mix(0, 8, 8) for _ in range(6)]
    artefact = [mix(12, 20, 20) for _ in range(6)] + [mix(0, 20, 20) for _ in range(6)]
    res = _quiet(_source_cells({"real": real, "artefact": artefact}), before=H1, after=H2)
    res = res.set_index("region")
    row = res.loc["real"]
    assert row["verdict"] == "decrease" and row["reporting_change_suspected"] is False or (
        row["verdict"] == "decrease" and not row["reporting_change_suspected"]
    )
    assert "the change holds among the 2 outlets filing in both windows" in row["coverage_reasons"]
    row = res.loc["artefact"]
    assert row["silent_sources"] == "Agency A"
    if row["pvalue"] < 0.05:  # the total fell; the outlets that kept filing did not
        assert row["verdict"] == "inconclusive (thin coverage)"
        assert bool(row["reporting_change_suspected"])
        assert "show no significant change" in row["coverage_reasons"]


def test_fewer_outlets_with_fewer_events_is_not_a_reporting_change():
    """Only the number of outlets is known (no names): fewer events come from fewer
    outlets, so a fall in that number is no evidence of reporting; the decrease stands,
    and the notes say the reporting could not be checked."""
    rng = np.random.default_rng(13)
    counts = list(rng.poisson(60, 6)) + list(rng.poisson(30, 6))
    cells = _cells({"A": counts})
    cells["n_sources"] = [4] * 6 + [2] * 6
    res = _quiet(cells, before=H1, after=H2).iloc[0]
    assert res["n_sources_before"] == 4 and res["n_sources_after"] == 2
    assert pd.isna(res["reporting_change_suspected"])
    assert res["verdict"] == "decrease"
    assert "a reporting change could not be checked" in res["notes"]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"before": H1, "after": ("2016-06", "2016-12")}, "overlap in 2016-06..2016-06"),
        ({"before": H1, "after": ("2016-07", "2017-03")}, "reaches outside the data"),
        ({"before": ("2015-01", "2015-06"), "after": H2}, "2016-01 to 2016-12"),
        ({"before": ("2016-06", "2016-01"), "after": H2}, "ends .* before it starts"),
        ({"before": "2016-01", "after": H2}, r"\(first, last\) pair"),
        ({"before": H1, "after": H2, "method": "wald"}, "'exact-cond', 'mid-p', 'etest'"),
        ({"before": H1, "after": H2, "dispersion": 0}, "'auto', 1 or a positive number"),
        ({"before": H1, "after": H2, "dispersion": "quasi"}, "'quasi'"),
        ({"before": H1, "after": H2, "alpha": 5}, "alpha=5 must lie strictly between"),
        ({"before": H1, "after": H2, "level": 1.0}, "level=1.0"),
        ({"before": ("2016-01", "bogus"), "after": H2}, "'bogus' is neither"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    cells = _cells({"A": [5] * 12})
    with pytest.raises(TrendsError, match=match):
        compare(cells, **kwargs)


def test_bad_cells_raise():
    with pytest.raises(CellsError, match="lacks column"):
        compare(pd.DataFrame({"region": ["A"]}), before=H1, after=H2)
    with pytest.raises(CellsError, match="empty"):
        compare(_cells({"A": [1] * 12}).iloc[:0], before=H1, after=H2)
    bad = _cells({"A": [1] * 12})
    bad.loc[0, "count"] = -1
    with pytest.raises(CellsError, match="negative"):
        compare(bad, before=H1, after=H2)


def test_deterministic():
    rng = np.random.default_rng(14)
    cells = _cells({r: list(rng.poisson(20, 12)) for r in "ABCD"})
    pd.testing.assert_frame_equal(
        _quiet(cells, before=H1, after=H2), _quiet(cells.iloc[::-1], before=H1, after=H2)
    )
