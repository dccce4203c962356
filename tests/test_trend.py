"""trends.trend: agreement with statsmodels and R, bad input, coverage gating."""

from __future__ import annotations

import itertools
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import trends
from trends.errors import ThinCoverageWarning, TrendsError
from trends.stats.mann_kendall import mann_kendall
from trends.stats.multiplicity import benjamini_hochberg


def monthly(counts: dict[str, list[float]], first: str = "2015-01") -> pd.DataFrame:
    """A monthly cell table, one region per key."""
    rows = []
    for region, values in counts.items():
        periods = pd.period_range(first, periods=len(values), freq="M")
        rows += [
            {"region": region, "period": str(p), "count": v}
            for p, v in zip(periods, values, strict=True)
        ]
    return pd.DataFrame(rows)


def quiet_trend(cells: pd.DataFrame, **kw) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThinCoverageWarning)
        return trends.trend(cells, **kw)


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    """Three overdispersed monthly series of 48 months, around 40 events a month."""
    rng = np.random.default_rng(20240601)
    n = 48
    out = {}
    for region, apc in (("A", 10.0), ("B", -5.0), ("C", 0.0)):
        mu = 40 * (1 + apc / 100) ** (np.arange(n) / 12)
        out[region] = rng.negative_binomial(mu / 2, 1 / 3).astype(float).tolist()  # var 3 mu
    return monthly(out)


def _statsmodels_fit(g: pd.DataFrame, family, scale=None):
    import statsmodels.api as sm

    ps = pd.PeriodIndex(g["period"], freq="M")
    t = (ps.year * 12 + ps.month).to_numpy(float)
    x = sm.add_constant(t - t.mean())
    return sm.GLM(
        g["count"].to_numpy(float), x, family=family, exposure=ps.days_in_month.to_numpy(float)
    ).fit(scale=scale, tol=1e-12)


@pytest.mark.parametrize("method", ["quasipoisson", "poisson"])
def test_apc_matches_statsmodels_glm(simulated, method):
    import statsmodels.api as sm

    res = quiet_trend(simulated, method=method).set_index("region")
    for region, g in simulated.groupby("region"):
        fit = _statsmodels_fit(
            g, sm.families.Poisson(), scale="X2" if method != "poisson" else None
        )
        row = res.loc[region]
        assert row["slope"] == pytest.approx(fit.params[1], rel=1e-9)
        assert row["apc"] == pytest.approx(100 * np.expm1(12 * fit.params[1]), rel=1e-9)
        if method == "poisson":
            assert row["slope_se"] == pytest.approx(fit.bse[1], rel=1e-7)
            low, high = fit.conf_int(alpha=0.05)[1]
            assert row["pvalue"] == pytest.approx(fit.pvalues[1], rel=1e-6)
        else:
            # the region's own dispersion is R's summary.glm one; the test uses it
            # moderated across regions, on the prior's plus the region's df
            assert row["residual_dispersion"] == pytest.approx(fit.scale, rel=1e-9)
            se = fit.bse[1] * np.sqrt(row["dispersion"] / fit.scale)
            assert row["slope_se"] == pytest.approx(se, rel=1e-7)
            df = row["df"] if np.isfinite(row["df"]) else np.inf
            crit = stats.t.ppf(0.975, df)
            low, high = fit.params[1] - crit * se, fit.params[1] + crit * se
            p = 2 * stats.t.sf(abs(fit.params[1] / se), df)
            assert row["pvalue"] == pytest.approx(p, rel=1e-6)
        assert row["apc_low"] == pytest.approx(100 * np.expm1(12 * low), rel=1e-7)
        assert row["apc_high"] == pytest.approx(100 * np.expm1(12 * high), rel=1e-7)
        assert row["method"] == method


def test_negbin_matches_statsmodels(simulated):
    import statsmodels.api as sm

    res = quiet_trend(simulated, method="negbin").set_index("region")
    for region, g in simulated.groupby("region"):
        ps = pd.PeriodIndex(g["period"], freq="M")
        t = (ps.year * 12 + ps.month).to_numpy(float)
        x = sm.add_constant(t - t.mean())
        ml = sm.NegativeBinomial(
            g["count"].to_numpy(float), x, exposure=ps.days_in_month.to_numpy(float)
        ).fit(disp=0, method="newton", maxiter=100)
        row = res.loc[region]
        assert row["nb_alpha"] == pytest.approx(ml.params[-1], rel=1e-4)
        assert row["slope"] == pytest.approx(ml.params[1], rel=1e-5, abs=1e-8)
        # glm.nb's standard error: the GLM at the ML alpha
        fixed = _statsmodels_fit(g, sm.families.NegativeBinomial(alpha=row["nb_alpha"]))
        assert row["slope_se"] == pytest.approx(fixed.bse[1], rel=1e-6)


# R 4.2.2 on the Iraq reference series (GED 19.1, 2004-01 to 2018-12), t = 12*year + month
# centred, offset log(days in month):
#   q  <- glm(count ~ t + offset(log(days)), family = quasipoisson)   # slope, se, p, dispersion
#   nb <- MASS::glm.nb(count ~ t + offset(log(days)))                 # slope, se, theta
#   k  <- cor.test(t, count / days, method = "kendall", exact = FALSE, continuity = TRUE)
# region: q slope, q se, q p, dispersion, nb slope, nb se, theta, kendall z, p, tau
R_IRAQ = {
    "Al Anbār province": (0.00316720668512, 0.00173086918758, 0.0689472610015, 9.11449501023,
                          0.00292086738479, 0.00176405492811, 0.74067768252,
                          2.11298967804, 0.0346016513567, 0.10890141917),
    "Baghdād province": (-0.00220998570696, 0.00137410380586, 0.109539408056, 6.79348664394,
                         -0.00246625334365, 0.00137130396754, 1.28700110921,
                         -2.48437420559, 0.0129779351456, -0.126540226648),
    "Diyālá province": (9.68627136694e-06, 0.00163614885501, 0.995283048959, 3.69382471577,
                        2.34861476179e-06, 0.00147328541116, 1.42452646449,
                        -0.912064581298, 0.361734721927, -0.047522588358),
    "Kirkūk province": (0.0155536234372, 0.0018192716683, 5.5044220489e-15, 1.89839573466,
                        0.0181819943418, 0.00185691652089, 1.9058055319,
                        8.98160150129, 2.66853780482e-19, 0.485021845293),
    "Nīnawá province": (0.00284830535875, 0.00153844450589, 0.0657659490236, 13.9786535745,
                        0.00266214976517, 0.00155254424291, 0.919052635412,
                        -0.549721250556, 0.582510579049, -0.0279409332805),
    "Şalāḩ ad Dīn province": (0.00715123132603, 0.0017556779239, 6.97164689784e-05,
                              5.0433750749, 0.00840886972177, 0.00152403456903,
                              1.26122007317, 5.12872251248, 2.91714956698e-07,
                              0.266183454472),
}  # fmt: skip


@pytest.fixture(scope="module")
def iraq(reference_dir) -> pd.DataFrame:
    s = pd.read_csv(reference_dir / "iraq" / "series.csv")
    return s.rename(columns={"month": "period"})


def test_iraq_against_r(iraq):
    qp = quiet_trend(iraq, start="2004-01").set_index("region")
    nb = quiet_trend(iraq, method="negbin", start="2004-01").set_index("region")
    mk = quiet_trend(iraq, method="mann-kendall", start="2004-01").set_index("region")
    assert set(qp.index) == set(R_IRAQ)
    for region, ref in R_IRAQ.items():
        q_slope, q_se, q_p, disp, nb_slope, nb_se, theta, z, p, tau = ref
        # R's glm.fit stops at a relative deviance change of 1e-8; ours at 1e-10
        assert qp.loc[region, "slope"] == pytest.approx(q_slope, rel=1e-4, abs=1e-8)
        # R's own dispersion; the test scales R's standard error by the moderated one
        assert qp.loc[region, "residual_dispersion"] == pytest.approx(disp, rel=1e-3)
        moderated = qp.loc[region, "dispersion"] / qp.loc[region, "residual_dispersion"]
        assert qp.loc[region, "slope_se"] == pytest.approx(q_se * np.sqrt(moderated), rel=1e-4)
        assert qp.loc[region, "n_periods"] == 180
        assert nb.loc[region, "slope"] == pytest.approx(nb_slope, rel=1e-4, abs=1e-7)
        assert nb.loc[region, "slope_se"] == pytest.approx(nb_se, rel=1e-4)
        assert 1 / nb.loc[region, "nb_alpha"] == pytest.approx(theta, rel=1e-4)
        assert mk.loc[region, "statistic"] == pytest.approx(z, rel=1e-9)
        assert mk.loc[region, "pvalue"] == pytest.approx(p, rel=1e-8)
        assert mk.loc[region, "tau"] == pytest.approx(tau, rel=1e-9)


def test_mann_kendall_against_scipy_and_brute_force():
    rng = np.random.default_rng(7)
    x = rng.poisson(np.linspace(2, 5, 40)).astype(float)  # many ties
    t = np.arange(40.0)
    t[20:] += 3  # a gap of three periods
    mk = mann_kendall(t, x)
    tau_b, _ = stats.kendalltau(t, x)
    assert mk["tau"] == pytest.approx(tau_b, rel=1e-12)
    s = sum(np.sign(x[j] - x[i]) for i, j in itertools.combinations(range(40), 2))
    assert mk["s"] == s
    # scipy's asymptotic test has no continuity correction; undo ours to compare
    z_plain = mk["s"] / np.sqrt(mk["var_s"])
    p_scipy = stats.kendalltau(t, x, method="asymptotic").pvalue
    assert 2 * stats.norm.sf(abs(z_plain)) == pytest.approx(p_scipy, rel=1e-9)
    slopes = sorted((x[j] - x[i]) / (t[j] - t[i]) for i, j in itertools.combinations(range(40), 2))
    assert mk["sen"] == pytest.approx(float(np.median(slopes)))
    # Gilbert (1987) 16.12: C = z * sqrt(var S); bounds at ranks (N - C)/2 and (N + C)/2 + 1
    c = 1.959963984540054 * np.sqrt(mk["var_s"])
    lo_rank, hi_rank = (len(slopes) - c) / 2, (len(slopes) + c) / 2 + 1
    assert slopes[int(np.floor(lo_rank)) - 1] <= mk["low"] <= slopes[int(np.ceil(lo_rank)) - 1]
    assert slopes[int(np.floor(hi_rank)) - 1] <= mk["high"] <= slopes[int(np.ceil(hi_rank)) - 1]


def test_hamed_rao_inflates_variance_on_autocorrelated_series():
    rng = np.random.default_rng(11)
    e = np.zeros(120)
    for i in range(1, 120):  # AR(1), phi = 0.8, no trend
        e[i] = 0.8 * e[i - 1] + rng.normal()
    t = np.arange(120.0)
    plain = mann_kendall(t, e)
    hr = mann_kendall(t, e, hamed_rao=True)
    assert hr["s"] == plain["s"] and hr["sen"] == plain["sen"]
    # n/n*: by hand from the significant rank autocorrelations of the detrended series
    r = stats.rankdata(e - plain["sen"] * t)
    r = r - r.mean()
    n = 120
    factor = 1.0
    for k in range(1, n - 1):
        rho = np.dot(r[:-k], r[k:]) / np.dot(r, r)
        if abs(rho) > 1.959963984540054 / np.sqrt(n):
            factor += 2 * (n - k) * (n - k - 1) * (n - k - 2) * rho / (n * (n - 1) * (n - 2))
    assert factor > 2
    assert hr["var_s"] == pytest.approx(plain["var_s"] * factor, rel=1e-12)
    assert hr["pvalue"] > plain["pvalue"]


def test_benjamini_hochberg_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.01, np.nan, 0.04, 0.03, 0.5, 0.001, 0.04])
    ok = ~np.isnan(p)
    q = benjamini_hochberg(p)
    assert np.isnan(q[1])
    np.testing.assert_allclose(q[ok], multipletests(p[ok], method="fdr_bh")[1], rtol=1e-12)


@pytest.mark.parametrize(
    ("kind", "labels", "per_year"),
    [
        ("quarter", [f"{y}Q{q}" for y in range(2010, 2016) for q in range(1, 5)], 4),
        ("year", [str(y) for y in range(2000, 2020)], 1),
        ("week", [f"2016-W{w:02d}" for w in range(1, 53)], 365.2425 / 7),
    ],
)
def test_apc_for_other_period_lengths(kind, labels, per_year):
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    y = rng.poisson(np.linspace(20, 40, len(labels))).astype(float)
    cells = pd.DataFrame({"region": "R", "period": labels, "count": y})
    row = quiet_trend(cells, method="poisson").iloc[0]
    days = trends.as_cells(cells)["exposure"].to_numpy()
    x = sm.add_constant(np.arange(len(labels), dtype=float))
    fit = sm.GLM(y, x, family=sm.families.Poisson(), exposure=days).fit(tol=1e-12)
    assert row["apc"] == pytest.approx(100 * np.expm1(per_year * fit.params[1]), rel=1e-8)


def test_bad_series_give_rows_that_say_why():
    cells = monthly(
        {
            "zeros": [0.0] * 24,
            "short": [3.0, 5.0],
            "end only": [0.0] * 23 + [4.0],
            "good": [30.0 + i for i in range(24)],
        }
    )
    cells = pd.concat(
        [cells, pd.DataFrame({"region": "no exposure", "period": ["2015-01", "2015-02"],
                              "count": [0.0, 0.0], "exposure": [0.0, 0.0]})],
        ignore_index=True,
    )  # fmt: skip
    cells["exposure"] = cells["exposure"].fillna(30.0)
    for method in trends.trend_tests.METHODS:
        res = quiet_trend(cells, method=method).set_index("region")
        assert res.loc["zeros", "notes"] == "no events"
        assert res.loc["short", "notes"].startswith("too few periods")
        assert res.loc["no exposure", "notes"] == "no exposure in any covered period"
        assert res.loc["no exposure", "n_no_exposure"] == 2
        for region in ("zeros", "short", "no exposure"):
            assert np.isnan(res.loc[region, "apc"]) and np.isnan(res.loc[region, "pvalue"])
            assert res.loc[region, "verdict"] == "not estimable"
        if not method.startswith("mann-kendall"):
            assert res.loc["end only", "notes"].startswith("no finite estimate")
            assert np.isnan(res.loc["end only", "apc"])
            assert res.loc["end only", "verdict"] == "not estimable"
        assert res.loc["good", "verdict"] in ("rising", "inconclusive (thin coverage)")
        assert res.loc["good", "apc"] > 0
        # q-values over the rows with a p-value only
        assert np.isfinite(res.loc["good", "qvalue"])


def test_uncovered_cells_are_left_out_and_counted(simulated):
    cells = simulated.copy()
    cells["covered"] = True
    a = cells["region"] == "A"
    cells.loc[a & (cells["period"] < "2015-07"), "covered"] = False
    cells.loc[a & (cells["period"] == "2016-01"), "count"] = np.nan
    res = quiet_trend(cells).set_index("region")
    assert res.loc["A", "n_uncovered"] == 7
    assert res.loc["A", "n_periods"] == 48 - 7
    assert res.loc["A", "first_period"] == "2015-07"
    direct = quiet_trend(cells[a & cells["covered"] & cells["count"].notna()]).iloc[0]
    assert res.loc["A", "apc"] == pytest.approx(direct["apc"], rel=1e-12)
    assert "outside" in res.loc["A", "coverage_reasons"]
    # a region with no covered cell at all
    cells.loc[cells["region"] == "C", "covered"] = False
    res = quiet_trend(cells).set_index("region")
    assert res.loc["C", "verdict"] == "not covered"
    assert res.loc["C", "coverage"] == "uncovered"
    assert np.isnan(res.loc["C", "apc"])


def test_start_end_restrict_the_range(simulated):
    res = quiet_trend(simulated, start="2016-01", end="2017").set_index("region")
    assert (res["n_periods"] == 24).all()
    assert (res["first_period"] == "2016-01").all() and (res["last_period"] == "2017-12").all()
    assert res["parameters"].str.contains("start=2016-01").all()


def test_thin_coverage_withholds_the_verdict_but_shows_numbers():
    cells = monthly(
        {
            "one outlet": list(range(50, 170, 10)),
            "few": [0, 0, 1, 0, 1, 1, 2, 1, 2, 1, 0, 0],
            "busy": list(range(50, 170, 10)),
        }
    )
    cells["n_sources"] = np.where(cells["region"] == "busy", 2, 1)
    cells["top_source"] = "Wire"
    with pytest.warns(ThinCoverageWarning, match="2 of 3"):
        res = trends.trend(cells, method="poisson").set_index("region")
    row = res.loc["one outlet"]
    assert row["verdict"] == "inconclusive (thin coverage)" and row["coverage"] == "thin"
    assert row["coverage_reasons"] == "1 distinct outlet (Wire)"
    assert np.isfinite(row["apc"]) and np.isfinite(row["pvalue"]) and row["reliable"]
    row = res.loc["few"]
    assert row["coverage"] == "insufficient"
    assert "9 events, fewer than 10" in row["coverage_reasons"]
    assert not row["reliable"] and "unreliable: 9 events, fewer than 20" in row["notes"]
    assert row["verdict"] == "not estimable"  # +81%/yr, but the interval passes 1,000%/yr
    assert "lies beyond ±1,000%/yr" in row["notes"] and np.isfinite(row["pvalue"])
    assert res.loc["busy", "verdict"] == "rising" and res.loc["busy", "reliable"]


def test_result_columns_and_determinism(simulated):
    res = quiet_trend(simulated)
    for col in ("apc", "apc_low", "apc_high", "pvalue", "qvalue", "method", "coverage",
                "coverage_reasons", "verdict", "n_uncovered", "parameters"):  # fmt: skip
        assert col in res.columns
    assert list(res["region"]) == ["A", "B", "C"]
    assert (res["apc_low"] < res["apc"]).all() and (res["apc"] < res["apc_high"]).all()
    pd.testing.assert_frame_equal(res, quiet_trend(simulated.sample(frac=1, random_state=1)))


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"method": "ols"}, "'quasipoisson'"),
        ({"level": 95}, "level=95"),
        ({"alpha": 0}, "alpha=0"),
    ],
)
def test_bad_options_raise(simulated, kw, match):
    with pytest.raises(TrendsError, match=match):
        trends.trend(simulated, **kw)


def test_negbin_without_overdispersion_is_the_poisson_fit():
    rng = np.random.default_rng(5)
    values = rng.poisson(20, size=36).astype(float)
    values[:18] = 20.0  # a series far less variable than Poisson: no alpha to fit
    cells = monthly({"R": values.tolist()})
    nb = quiet_trend(cells, method="negbin").iloc[0]
    po = quiet_trend(cells, method="poisson").iloc[0]
    assert nb["nb_alpha"] == 0
    assert nb["apc"] == pytest.approx(po["apc"], rel=1e-10)
    assert nb["apc_low"] == pytest.approx(po["apc_low"], rel=1e-8)


def test_mann_kendall_verdict_follows_the_test():
    # rising with many tied zeros: Sen's interval touches 0, the test does not
    cells = pd.DataFrame(
        {"region": "R", "period": [str(y) for y in range(2000, 2020)],
         "count": [0, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 2, 1, 1, 2, 1, 2, 2]}
    )  # fmt: skip
    row = quiet_trend(cells, method="mann-kendall").iloc[0]
    assert row["pvalue"] < 0.05 and row["statistic"] > 0
    assert row["verdict"] in ("rising", "inconclusive (thin coverage)")
    raw = trends.trend_tests.fit_trends(cells, method="mann-kendall").iloc[0]
    assert raw["verdict"] == "rising"


def test_a_main_outlet_going_silent_withholds_the_trend():
    # Two regions, 24 months, both falling from 60 to about 25 reports a month. In
    # "silenced" the outlet behind 80% of the reports stops halfway; in "real" the
    # same two outlets keep sharing the reports: a real fall.
    months = [f"2016-{m:02d}" for m in range(1, 13)] + [f"2017-{m:02d}" for m in range(1, 13)]
    rows = []
    for i, month in enumerate(months):
        total = 60 - 1.5 * i
        if i < 12:
            silenced = {"Main Wire": 0.8 * total, "Local Radio": 0.2 * total}
        else:
            silenced = {"Local Radio": total}
        real = {"Main Wire": 0.8 * total, "Local Radio": 0.2 * total}
        for region, mix in (("silenced", silenced), ("real", real)):
            rows.append(
                {
                    "region": region,
                    "period": month,
                    "count": round(total),
                    "n_sources": len(mix),
                    "source_counts": json.dumps({k: round(v) for k, v in sorted(mix.items())}),
                }
            )
    with pytest.warns(ThinCoverageWarning):
        res = trends.trend(pd.DataFrame(rows)).set_index("region")
    assert res.loc["real", "verdict"] == "falling"
    assert res.loc["silenced", "verdict"] == "inconclusive (thin coverage)"
    assert "outlets silent now (Main Wire)" in res.loc["silenced", "coverage_reasons"]
    assert res.loc["silenced", "apc"] == pytest.approx(res.loc["real", "apc"])  # still shown
