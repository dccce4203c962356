"""trends.alarms against R's surveillance 1.20.3 on the shared reference series.

The references were made by ``../shared/reference/r_reference.R`` (the R calls are
quoted in each test) on monthly Iraq counts (freq 12, methods from 2004-01) and R's
weekly ``salmonella.agona`` (freq 52), and by ``tests/reference/r_farrington_quarterly.R``
on the same Iraq counts summed by quarter (freq 4). Criteria: alarms identical in at
least 99.5% of monitored periods; upper bounds (and expected counts and p-values where R
gives them) within 1e-6 relative where R's computation is valid. Every exception is
named in the test with its rows and the reason.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trends
from trends.errors import ThinCoverageWarning

HERE = Path(__file__).resolve().parent
RTOL = 1e-6
SERIES = {"iraq": ("month", "2004-01"), "agona": ("week", None)}


def week_labels(n: int, first: str = "1990-W01") -> list[str]:
    """``n`` consecutive ISO week labels (R's weekly sts counts weeks by position)."""
    start = pd.Timestamp.fromisocalendar(int(first[:4]), int(first[-2:]), 1)
    days = pd.date_range(start, periods=n, freq="7D")
    iso = days.isocalendar()
    return [f"{y}-W{w:02d}" for y, w in zip(iso["year"], iso["week"], strict=True)]


@pytest.fixture(scope="module")
def series(reference_dir: Path) -> dict[str, tuple[pd.DataFrame, dict[str, str]]]:
    """Each reference series as a cell table, and R's period labels -> ours."""
    out = {}
    for name, (kind, first) in SERIES.items():
        s = pd.read_csv(reference_dir / name / "series.csv")
        label = s.columns[1]
        if first is not None:
            s = s[s[label] >= first]
        r_labels = s[label].drop_duplicates().tolist()
        ours = r_labels if kind == "month" else week_labels(len(r_labels))
        to_ours = dict(zip(r_labels, ours, strict=True))
        cells = pd.DataFrame(
            {"region": s["region"], "period": s[label].map(to_ours), "count": s["count"]}
        )
        out[name] = (cells, to_ours)
    return out


def run(cells: pd.DataFrame, method: str, **options) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThinCoverageWarning)
        return trends.alarms(cells, method=method, **options)


def joined(ours: pd.DataFrame, ref: pd.DataFrame, to_ours: dict[str, str]) -> pd.DataFrame:
    ref = ref.assign(period=ref["period"].map(to_ours))
    ours = ours.assign(region=ours["region"].astype(str), period=ours["period"].astype(str))
    x = ref.merge(ours, on=["region", "period"], suffixes=("_R", ""), how="left")
    assert x["alarm"].notna().all(), "every period R monitored has a row"
    return x


def relative(a: pd.Series, b: pd.Series) -> np.ndarray:
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.abs(a - b) / np.abs(b)
    return np.where(a == b, 0.0, r)


def check_close(x: pd.DataFrame, column: str, rows: np.ndarray) -> None:
    """``column`` within RTOL of R's on ``rows`` (R's value present there)."""
    r = relative(x[column][rows], x[f"{column}_R"][rows])
    worst = x[rows].iloc[np.argsort(-np.nan_to_num(r, nan=np.inf))[:5]]
    assert np.all(r <= RTOL), (
        f"{column}: {int(np.sum(~(r <= RTOL)))} rows beyond {RTOL:g}\n"
        + worst[["region", "period", f"{column}_R", column]].to_string()
    )


def check_alarms(x: pd.DataFrame, r_alarm: pd.Series, rows: np.ndarray | None = None) -> None:
    rows = np.ones(len(x), dtype=bool) if rows is None else rows
    same = (x["alarm"].astype(bool) == r_alarm.astype(bool))[rows]
    assert same.mean() >= 0.995, x[rows][~same.to_numpy()].head(10).to_string()
    assert same.all(), "identical on every period: " + x[rows][~same.to_numpy()].to_string()


# ---------------------------------------------------------------------------- Farrington


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(SERIES))
@pytest.mark.parametrize("preset", ["farrington", "noufaily"])
def test_farrington_presets(series, reference_dir, name, preset):
    """R: ``farringtonFlexible(sts, control = c(presets[[p]], list(range = (3 * freq +
    3):n)))`` with ``r_reference.R``'s presets: farrington (b = 3, w = 2 monthly / 3
    weekly, reweight, weightsThreshold = 1, trend, pThresholdTrend = 0.05, alpha = 0.05,
    noPeriods = 1, powertrans = "2/3", pastWeeksNotIncluded = w, delta, limit54 = c(5, 4))
    and noufaily (weightsThreshold = 2.58, pThresholdTrend = 1, noPeriods = 10,
    pastWeeksNotIncluded = 6 monthly / 26 weekly, nbPlugin)."""
    cells, to_ours = series[name]
    ref = pd.read_csv(reference_dir / name / "farrington.csv")
    ref = ref[ref["method"] == preset]
    x = joined(run(cells, preset), ref, to_ours)
    # R's NA p-value marks a fit that converged neither with nor without the trend;
    # the references have none, so every row is comparable
    not_converged = x["pvalue_R"].isna()
    assert not not_converged.any(), x[not_converged].to_string()
    check_alarms(x, x["alarm_R"])
    has_bound = x["upperbound_R"].notna().to_numpy()
    check_close(x, "upperbound", has_bound)
    check_close(x, "expected", x["expected_R"].notna().to_numpy())
    check_close(x, "pvalue", np.ones(len(x), dtype=bool))
    # R withholds the bound (NA) exactly where its 5-in-4 rule fails; we show the bound
    # and say why there is no alarm
    limit54 = x["notes"].str.contains("limit54").to_numpy(dtype=bool)
    assert (limit54 == ~has_bound).all()


@pytest.mark.parametrize("preset", ["farrington", "noufaily"])
def test_farrington_quarterly(preset):
    """R (``tests/reference/r_farrington_quarterly.R``): ``farringtonFlexible`` on the Iraq
    counts summed by quarter, with w = 1, pastWeeksNotIncluded = 1 (farrington) or 2 and
    noPeriods = 2 (noufaily), otherwise the shared presets; range (3 * 4 + 2):n. R's glm
    did not converge with the trend at 5 baselines per preset (early all-zero years): R
    refits without the trend, and so do we, iteration for iteration, so those rows agree
    too; they are checked by name."""
    cells = pd.read_csv(HERE / "reference" / "iraq_quarterly_series.csv")
    cells = cells.rename(columns={"quarter": "period"})
    ref = pd.read_csv(HERE / "reference" / "farrington_quarterly_iraq.csv")
    ref = ref[ref["method"] == preset]
    x = joined(run(cells, preset), ref, {p: p for p in ref["period"]})
    check_alarms(x, x["alarm_R"])
    check_close(x, "upperbound", x["upperbound_R"].notna().to_numpy())
    check_close(x, "expected", x["expected_R"].notna().to_numpy())
    check_close(x, "pvalue", np.ones(len(x), dtype=bool))
    fallback = x[x["notes"].str.contains("did not converge").to_numpy(dtype=bool)]
    assert sorted(zip(fallback["region"], fallback["period"], strict=True)) == [
        ("Al Anbār province", "1994Q2"),
        ("Al Anbār province", "1996Q1"),
        ("Al Anbār province", "1998Q3"),
        ("Baghdād province", "2003Q4"),
        ("Kirkūk province", "2007Q2"),
    ]


VARIANTS = {
    "farrington powertrans=1/2": ("farrington", {"powertrans": "1/2"}),
    "farrington powertrans=none": ("farrington", {"powertrans": "none"}),
    "farrington reweight=FALSE": ("farrington", {"reweight": False}),
    "noufaily thresholdMethod=muan": ("noufaily", {"threshold_method": "muan"}),
    "noufaily trend=FALSE": ("noufaily", {"trend": False}),
}


@pytest.mark.shared
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_farrington_option_variants(reference_dir, variant):
    """R (``tests/reference/r_farrington_variants.R``): the shared presets with one
    option changed (``modifyList(preset, list(powertrans = "1/2"))`` etc.), on the Iraq
    series of Baghdād and Nīnawá from 2004-01, range 39:n."""
    method, options = VARIANTS[variant]
    s = pd.read_csv(reference_dir / "iraq" / "series.csv").rename(columns={"month": "period"})
    s = s[(s["period"] >= "2004-01") & s["region"].isin(["Baghdād province", "Nīnawá province"])]
    ref = pd.read_csv(HERE / "reference" / "farrington_variants_iraq.csv")
    ref = ref[ref["variant"] == variant]
    x = joined(run(s, method, **options), ref, {p: p for p in ref["period"]})
    check_alarms(x, x["alarm_R"])
    check_close(x, "upperbound", x["upperbound_R"].notna().to_numpy())
    check_close(x, "expected", x["expected_R"].notna().to_numpy())
    check_close(x, "pvalue", np.ones(len(x), dtype=bool))


# ---------------------------------------------------------------------------- EARS


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(SERIES))
@pytest.mark.parametrize("file", ["ears", "ears_default"])
@pytest.mark.parametrize("variant", ["c1", "c2", "c3"])
def test_ears(series, reference_dir, name, file, variant):
    """R: ``earsC(sts, control = list(range = 12:n, method = "C1" | "C2" | "C3",
    baseline = 7, minSigma = 0, alpha = 0.001))`` (``ears.csv``) and the same without
    ``alpha`` (``ears_default.csv``: 0.001 for C1 and C2, 0.025 for C3). Where R's C3
    bound is NA (a baseline standard deviation of 0), R's alarm is NA and our row has no
    result ("not estimable")."""
    cells, to_ours = series[name]
    ref = pd.read_csv(reference_dir / name / f"{file}.csv")
    ref = ref[ref["method"] == f"ears-{variant}"]
    options = {"alpha": 0.001} if file == "ears" else {}
    x = joined(run(cells, f"ears-{variant}", **options), ref, to_ours)
    r_na = x["upperbound_R"].isna().to_numpy()
    assert (x["verdict"][r_na] == "not estimable").all()
    assert x["upperbound"][r_na].isna().all()
    check_alarms(x, x["alarm_R"].fillna(0))
    check_close(x, "upperbound", ~r_na)


# ---------------------------------------------------------------------------- Bayes


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(SERIES))
def test_bayes(series, reference_dir, name):
    """R: ``bayes(sts, control = list(range = 7:n, b = 0, w = 6, actY = TRUE, alpha =
    0.05))``: the upper bound is a whole count, identical."""
    cells, to_ours = series[name]
    ref = pd.read_csv(reference_dir / name / "bayes.csv")
    x = joined(run(cells, "bayes"), ref, to_ours)
    check_alarms(x, x["alarm_R"])
    assert (x["upperbound"] == x["upperbound_R"]).all()


# ---------------------------------------------------------------------------- GLR


def r_glr_nb_statistic(x: np.ndarray, mu0: np.ndarray, alpha: float) -> np.ndarray:
    """R's ``glr_nb_window`` (surveillance/src/surveillance.c; M = -1, Mtilde = 1,
    dir = 1) step by step, without stopping at an alarm: Newton from 0.5 for the oldest
    window, each later window starting from the previous estimate, stopping when the
    step is below 1e-6, kappa below -18 or after 1000 steps, and C's ``fmax(0, NaN)``
    returning 0. Written out only to show where R's iteration overflows."""
    out = np.zeros(len(x))
    for n in range(len(x)):
        best, kappa_ml = -1e99, 0.5
        for k in range(n + 1):
            xs, ms = x[k : n + 1], mu0[k : n + 1]
            old, new, it = 0.4, kappa_ml, 0
            with np.errstate(all="ignore"):
                while new > -18 and abs(new - old) > 1e-6 and it < 1000:
                    it, old = it + 1, new
                    e = np.exp(old)
                    score = np.sum((xs - e * ms) / (1 + alpha * e * ms))
                    info = e * np.sum(ms * (alpha * xs + 1) / (1 + alpha * e * ms) ** 2)
                    new = old + score / info
                kappa_ml = 0.0 if np.isnan(new) else max(0.0, new)
                lnk = np.sum(
                    kappa_ml * xs
                    + (xs + 1 / alpha)
                    * np.log((1 + alpha * ms) / (1 + alpha * ms * np.exp(kappa_ml)))
                )
            best = max(best, lnk)
        out[n] = best
    return out


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(SERIES))
def test_glr_poisson(series, reference_dir, name):
    """R: ``glrnb(sts, control = list(range = (2 * freq + 1):n, c.ARL = 5, alpha = 0,
    Mtilde = 1, M = -1, change = "intercept", dir = "inc", ret = "cases"))``: mu0 from a
    Poisson GLM with one harmonic on the first two years; the upper bound is the number
    of cases that sounds the alarm, identical."""
    cells, to_ours = series[name]
    ref = pd.read_csv(reference_dir / name / "glrnb.csv")
    ref = ref[ref["method"] == "glr-poisson"]
    x = joined(run(cells, "glr-poisson"), ref, to_ours)
    check_alarms(x, x["alarm_R"])
    assert (x["upperbound"] == x["upperbound_R"]).all()
    # an alarm exactly when the count reaches the cases
    assert (x["alarm"] == (x["observed"] >= x["upperbound"])).all()


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(SERIES))
def test_glr_nb(series, reference_dir, name):
    """R: ``glrnb(sts, control = list(range = (2 * freq + 1):n, c.ARL = 5, alpha = 0.5,
    Mtilde = 1, M = -1, change = "intercept", dir = "inc", ret = "value"))``: the upper
    bound is the GLR statistic.

    One exception, Kirkūk province (Iraq): no event in 2004-2005, so R's in-control fit
    (which R reports as converged, after 24 iterations) gives mu0 of about 6e-12. R's
    Newton iteration for kappa then takes a step of about 1e12, exp() overflows, the
    step turns NaN and C's ``fmax(0, NaN)`` returns 0: R reports a statistic of 0 for
    all 156 months and no alarm. We compute the statistic at the maximum likelihood
    (large: the first events after two silent years) and alarm; the row's note says
    the in-control mean is about 0. The test shows R's iteration (transcribed above)
    gives 0 on these rows, and checks every other row against R."""
    cells, to_ours = series[name]
    ref = pd.read_csv(reference_dir / name / "glrnb.csv")
    ref = ref[ref["method"] == "glr-nb"]
    x = joined(run(cells, "glr-nb"), ref, to_ours)
    degenerate = (x["region"] == "Kirkūk province").to_numpy()
    assert degenerate.sum() == (156 if name == "iraq" else 0)
    if degenerate.any():
        kirkuk = x[degenerate]
        assert (kirkuk["upperbound_R"] == 0).all() and (kirkuk["alarm_R"] == 0).all()
        assert kirkuk["notes"].str.contains("in-control mean is about 0").all()
        assert kirkuk["expected"].max() < 1e-10
        first = kirkuk.iloc[:36]  # up to the first event R would have had to flag
        r_stat = r_glr_nb_statistic(
            first["observed"].to_numpy(float), first["expected"].to_numpy(float), 0.5
        )
        assert (r_stat == 0).all()
        assert kirkuk["alarm"].any() and (kirkuk["upperbound"].max() > 5)
    ok = ~degenerate
    check_alarms(x, x["alarm_R"], ok)
    check_close(x, "upperbound", ok & (x["upperbound_R"] > 0).to_numpy())
    assert (x["upperbound"][ok & (x["upperbound_R"] == 0).to_numpy()] < 1e-9).all()
