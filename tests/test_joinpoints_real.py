"""joinpoints() on every shared UCDP file, by week, month, quarter and year, by region and
by country: it never crashes, every region gets a row with a verdict, an APC the data
cannot support is not estimable with the reason, and no raw numpy/LAPACK warning escapes.

To keep the battery near two minutes on a two-core machine the runs use fewer
permutations and resamples than the defaults (``n_permutations=99``,
``n_bootstrap=50``) and fewer joinpoints on the long series: none by week (the weekly
Iraq file has 19 series of 1,567 periods: with one joinpoint they take 75 s, each
joinpoint search about 8 s), one by month (three joinpoints on Iraq's 19 monthly series
took 47 s), up to three by quarter and year (capped by what the series allow). The
three-joinpoint kernels meet a lone event in the first period in
``tests/test_joinpoints.py``. The numbers are not checked here, only that every region
is handled.
"""

from __future__ import annotations

import time
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trends
from trends.errors import TrendsWarning
from trends.verdicts import WITHHELD

pytestmark = pytest.mark.shared

FILES = (
    "ged191_iraq.csv",
    "ged_candidate_21_01_21_12.csv",
    "ged_candidate_22_0_2.csv",
    "ged_syria_652_1601_1911.csv",
)
PERIODS = ("week", "month", "quarter", "year")
LEVELS = ("region", "country")
FAST = {"n_permutations": 99, "n_bootstrap": 50}
MOST_JOINPOINTS = {"week": 0, "month": 1, "quarter": 3, "year": 3}


@cache
def _incidents(path: Path) -> trends.Incidents:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrendsWarning)  # the readers' own notices
        return trends.read(path)


def _max_joinpoints(cells: pd.DataFrame, wanted: int) -> int:
    """At most ``wanted``, and no more than the longest covered series allows with the
    default spacing (2 periods at the ends and between joinpoints: 5 periods for one
    joinpoint, 3 more for each further one)."""
    longest = int(cells.dropna(subset=["count"]).groupby("region", observed=True).size().max())
    return max(0, min(wanted, (longest - 5) // 3 + 1))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("name", FILES)
def test_every_region_gets_a_row_and_nothing_escapes(ucdp_dir, name, period, level):
    inc = _incidents(ucdp_dir / name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrendsWarning)
        cells = trends.count(inc, region=level, period=period)
    k = _max_joinpoints(cells, MOST_JOINPOINTS[period])
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a raw numpy, LAPACK or statsmodels warning fails
        warnings.simplefilter("ignore", TrendsWarning)  # ours are the one-line summaries
        res = trends.joinpoints(cells, max_joinpoints=k, **FAST)
    print(f"{name} by {level} and {period}: {time.perf_counter() - start:.1f} s")

    regions = set(cells["region"].astype(str))
    assert set(res["region"].astype(str)) == regions
    assert res["verdict"].notna().all() and (res["verdict"].astype(str) != "").all()
    shown = res["apc"].notna()
    bounds = res.loc[shown, ["apc_low", "apc_high"]].to_numpy(float)
    assert np.isfinite(bounds).all()
    assert (res.loc[shown, "apc"].abs() <= 10_000).all()
    # a missing APC says why, in the verdict and the notes
    missing = res.loc[~shown]
    assert missing["verdict"].isin(WITHHELD).all()
    assert (missing["notes"].astype(str).str.len() > 0).all()


def test_a_single_period_file_gives_every_region_a_row_saying_why(ucdp_dir):
    """Candidate 22.0.2 covers one month: no trend can be fitted, and each region's row
    says so instead of the call failing."""
    inc = _incidents(ucdp_dir / "ged_candidate_22_0_2.csv")
    cells = trends.count(inc, region="country", period="month")
    assert cells["period"].nunique() == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrendsWarning)
        res = trends.joinpoints(cells, **FAST)
    assert len(res) == cells["region"].nunique()
    assert res["notes"].str.contains("1 covered period: a trend needs at least 3").all()
    assert res["apc"].isna().all()
