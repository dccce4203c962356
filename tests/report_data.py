"""The report tests' data: a seeded synthetic cell table and the Results built from it.

Coverage, rates, trends and alarms come from the real functions; the comparison and
joinpoint tables are written out by hand (their values are inputs to the renderer, not
results under test). Shared by test_report*.py and test_plot.py; not a test module.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd

import trends
from trends.cells import as_cells
from trends.periods import period_range
from trends.reporting.analysis import Results, default_windows, top_sources

__all__ = [
    "HOSTILE_REGION",
    "HOSTILE_SOURCE",
    "REGIONS",
    "synthetic_cells",
    "hand_comparison",
    "hand_joinpoints",
    "make_results",
]

HOSTILE_REGION = "<img src=x onerror=alert(1)>"
HOSTILE_SOURCE = "<script>alert('src')</script>"
REGIONS = ["Aleppo", "Idlib", "Homs", HOSTILE_REGION, "Tartus & <b>Co</b>"]


def synthetic_cells(seed: int = 7) -> pd.DataFrame:
    """Five regions x 36 months; Homs uncovered for 6 months; sources with a hostile name;
    every fourth Idlib month from one outlet."""
    rng = np.random.default_rng(seed)
    periods = period_range("2017-01", "2019-12", "month")
    means = [60.0, 30.0, 25.0, 8.0, 2.0]
    slopes = [-0.03, 0.02, 0.0, 0.0, 0.0]
    rows = []
    for region, mean, slope in zip(REGIONS, means, slopes, strict=True):
        counts = rng.poisson(mean * np.exp(slope * np.arange(len(periods))))
        for j, (period, count) in enumerate(zip(periods, counts, strict=True)):
            covered = not (region == "Homs" and 12 <= j < 18)
            mix = {"SOHR": int(count) - int(count) // 3, HOSTILE_SOURCE: int(count) // 3}
            if region == "Idlib" and j % 4 == 0:  # some months from one outlet alone: thin
                mix = {"SOHR": int(count)}
            rows.append(
                {
                    "region": region,
                    "period": period,
                    "count": float(count) if covered else np.nan,
                    "covered": covered,
                    "events": float(count) if covered else np.nan,
                    "n_sources": float(sum(v > 0 for v in mix.values())) if covered else np.nan,
                    "source_counts": json.dumps(mix, sort_keys=True) if covered else None,
                }
            )
    return as_cells(pd.DataFrame(rows))


def hand_comparison(cells: pd.DataFrame) -> pd.DataFrame:
    """A comparison table in compare()'s columns, one row per verdict word."""
    verdicts = {
        "Aleppo": ("decrease", "adequate", ""),
        "Idlib": ("increase", "adequate", ""),
        "Homs": ("no significant change", "adequate", ""),
        HOSTILE_REGION: ("inconclusive (thin coverage)", "thin", "8 events, fewer than 20"),
        "Tartus & <b>Co</b>": ("not covered", "uncovered", "outside <coverage>"),
    }
    rows = []
    for i, (region, (verdict, status, why)) in enumerate(verdicts.items()):
        ratio = [0.62, 1.55, 1.02, 0.8, np.nan][i]
        rows.append(
            {
                "region": region,
                "count_before": [61.0, 28.0, 24.0, 9.0, np.nan][i],
                "count_after": [38.0, 43.0, 25.0, 7.0, np.nan][i],
                "rate_ratio": ratio,
                "rr_low": ratio * 0.7,
                "rr_high": ratio * 1.4,
                "pvalue": [0.02, 0.04, 0.9, 0.6, np.nan][i],
                "qvalue": [0.05, 0.05, 0.9, 0.75, np.nan][i],
                "method": "score",
                "dispersion": 1.0,
                "coverage": status,
                "coverage_reasons": why,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def hand_joinpoints() -> pd.DataFrame:
    starts = pd.to_datetime(["2017-01-01", "2018-03-01"])
    ends = pd.to_datetime(["2018-03-31", "2019-12-31"])
    return pd.DataFrame(
        {
            "region": ["Aleppo", "Aleppo"],
            "segment": [1, 2],
            "segment_start": starts,
            "segment_end": ends,
            "apc": [-40.0, -10.0],
            "apc_low": [-50.0, -20.0],
            "apc_high": [-30.0, 2.0],
            "pvalue": [0.001, 0.1],
            "aapc": [-24.0, -24.0],
            "verdict": ["falling", "stable"],
        }
    )


def make_results(seed: int = 7) -> Results:
    cells = synthetic_cells(seed)
    before, after = default_windows(cells)
    from trends.alarm import default_method

    method = default_method("month", int(cells["period"].nunique()))
    with warnings.catch_warnings():  # alarms withheld for thin coverage: part of the test
        warnings.simplefilter("ignore", trends.errors.ThinCoverageWarning)
        alarms = trends.alarms(cells, method=method)
    return Results(
        cells=cells,
        rates=trends.rates(cells),
        coverage=trends.coverage(cells),
        comparison=hand_comparison(cells),
        trend=trends.trend(cells),
        joinpoints=hand_joinpoints(),
        sources=top_sources(None, cells),
        options={
            "region": "region",
            "period": "month",
            "before": before,
            "after": after,
            "windows": "default",
            "rules": "default",
            "level": 0.95,
            "trend_method": "quasipoisson",
            "joinpoints": {"n_permutations": 99},
            "span": "start",
            "alarms": {**alarms.attrs, "chosen": "default"},
        },
        alarms=alarms,
    )
